/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/keys/remote.c - changing one service's authorized key on the
 * HSMs: keys remote-set / remote-remove (guide 4.10.1.7.6-7) and keys
 * migrate (4.7.9), each one sshadmin `set_key` per HSM.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport-report.h"

#include "keys.h"

struct set_job {
	const char *service;
	const char *key;
	int remote;
};

static void print_set(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res, void *arg)
{
	const struct set_job *job = arg;

	if (strcmp(job->service, "sshadmin") == 0)
		hsm_printf(
		    ctx,
		    "%s: sshadmin now accepts only the key of the destination host; this host "
		    "can no longer administer it\n",
		    m->esn);
	else
		hsm_printf(ctx, "%s: %s now accepts %s\n", m->esn, job->service,
			   job->remote ? "the remote key" : "this host's key");
}

/* set_key on every addressed HSM, in parallel, reported per HSM. */
static int set_everywhere(struct hsm_ctx *ctx, struct set_job *job)
{
	json_t *params = json_pack("{s:s, s:s, s:b}", "service", job->service, "key", job->key,
				   "remote", job->remote);
	int rc = hsm_report_call(ctx, "sshadmin", "set_key", params, print_set, job);

	json_decref(params);
	return rc;
}

/* A platform service other than sshadmin, named on the command line. */
static int service_arg(struct hsm_ctx *ctx, const char *svc)
{
	if (hsm_service_lookup(svc) < 0)
		return hsm_error(
		    ctx, HSM_EXIT_USAGE, "SERVICE",
		    "'%.48s' is not an HSM service "
		    "(sshadmin, setup, ncoreapi, updater, launcher, monitor, orchestrator)",
		    svc);
	if (strcmp(svc, "sshadmin") == 0)
		return hsm_error(
		    ctx, HSM_EXIT_USAGE, "SERVICE",
		    "the sshadmin key cannot be set for remote "
		    "access: this host would lose control of the HSM (to hand an HSM to another "
		    "host, use 'hsmadmin keys migrate')");
	return 0;
}

int keys_remote_set(struct hsm_ctx *ctx)
{
	const char *svc = hsm_opt_str(ctx, "SERVICE"), *type = hsm_opt_str(ctx, "KEYTYPE");
	const char *data = hsm_opt_str(ctx, "KEYDATA");
	struct set_job job = { .service = svc, .remote = 1 };
	char line[512];
	int rc;

	if ((rc = service_arg(ctx, svc)))
		return rc;
	if (strcmp(type, "ssh-ed25519") != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "KEYTYPE",
				 "'%.32s' is not supported: the HSM "
				 "accepts ssh-ed25519 keys only",
				 type);
	if ((size_t)snprintf(line, sizeof(line), "%s %s", type, data) >= sizeof(line) ||
	    !hsm_ssh_pubkey_valid(line))
		return hsm_error(ctx, HSM_EXIT_USAGE, "KEYDATA",
				 "not the base64 of an ssh-ed25519 public key");
	job.key = line;
	return set_everywhere(ctx, &job);
}

int keys_remote_remove(struct hsm_ctx *ctx)
{
	const char *svc = hsm_opt_str(ctx, "SERVICE");
	struct set_job job = { .service = svc, .remote = 0 };
	struct hsm_client_key *key;
	char why[PATH_MAX + 256], *pub;
	int rc;

	if ((rc = service_arg(ctx, svc)))
		return rc;
	if (!(key = hsm_client_key_load_service(hsm_home(ctx), svc, why, sizeof(why))))
		return hsm_error(ctx, HSM_EXIT_FAILED, "client key", "%s", why);
	pub = hsm_client_key_public(key);
	hsm_client_key_free(key);
	if (!pub)
		return hsm_error(ctx, HSM_EXIT_FAILED, "client key",
				 "cannot derive the %s public key", svc);
	job.key = pub;
	rc = set_everywhere(ctx, &job);
	free(pub);
	return rc;
}

int keys_migrate(struct hsm_ctx *ctx)
{
	const char *file = hsm_opt_str(ctx, "privkeyfile");
	struct set_job job = { .service = "sshadmin", .remote = 0 };
	struct hsm_client_key *dest, *mine;
	char why[PATH_MAX + 256], *pub, *minepub = NULL;
	int rc;

	if (!(dest = hsm_client_key_load(file, why, sizeof(why))))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--privkeyfile", "%s", why);
	pub = hsm_client_key_public(dest);
	hsm_client_key_free(dest);
	if (!pub)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--privkeyfile", "%s: not an Ed25519 key",
				 file);
	if ((mine = hsm_client_key_load_service(hsm_home(ctx), "sshadmin", why, sizeof(why))))
		minepub = hsm_client_key_public(mine);
	hsm_client_key_free(mine);
	if (minepub && strcmp(minepub, pub) == 0) {
		free(minepub);
		free(pub);
		return hsm_error(ctx, HSM_EXIT_USAGE, "--privkeyfile",
				 "%s holds this host's own sshadmin "
				 "key: nothing to migrate",
				 file);
	}
	free(minepub);
	job.key = pub;
	rc = set_everywhere(ctx, &job);
	free(pub);
	if (rc == 0)
		hsm_printf(ctx,
			   "Move the HSMs to the destination host and run 'hsmadmin enroll' there "
			   "(and here, to refresh this host's list).\n");
	return rc;
}
