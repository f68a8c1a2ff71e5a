/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/platform/enroll.c - hsmadmin enroll (guide 4.10.1.6).
 *
 * Per HSM, in parallel:
 *   1. sshadmin `hostkeys` (any key logs in while in factory state; the
 *      host key is not pinned yet, so it is captured, not trusted);
 *   2. the chain: vendor key -> warrant -> identity key -> one certificate
 *      per service host key; the sshadmin host key the server presented
 *      must be the certified one; an identity pinned earlier must not change;
 *   3. sshadmin `enroll` with this host's client public keys, now pinned
 *      to the certified sshadmin host key, and the HSM's one-time
 *      enrollment secret when one was given for its ESN (a factory-state
 *      HSM refuses enrollment without it; an enrolled one ignores it);
 *   4. the certified host keys are pinned (HSMADMIN_HOME/pins/ESN.json).
 * Client keys are created once per host and are the same for every HSM.
 *
 * An HSM running its recovery image makes no host key certificates (guide
 * 4.5.4.1): then only the warrant is checked, the host keys it lists are
 * pinned as presented, and enroll warns (the guide: "a warning will
 * appear ... you can ignore this warning").  The pins then say so
 * ("recovery": true): only for such an HSM do `logs export` and `logs
 * collect` accept log keys without certificates.  Enrolling it again on
 * its primary image clears the mark.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <hsmadmin/fileio.h>

#include "sign.h"
#include "transport-report.h"

#include "chain.h"
#include "enrollsecret-file.h"
#include "platform.h"

struct enroll_job {
	const char *home;
	int timeout;
	EVP_PKEY **vendors;
	size_t nvendors;
	struct hsm_client_key *keys[HSM_SVC_COUNT];
	char *pubs[HSM_SVC_COUNT];
	const struct hsm_fleet *fleet;
	struct hsm_rpc_reply *replies;
	struct hsm_enroll_secret *secrets; /* --secret-file, --secret */
	size_t nsecrets;
};

/* Do the pins already record this enrollment: the same keys, and made in
 * the same mode (a primary-mode enrollment after a recovery-mode one must
 * clear the recovery mark, or uncertified log keys would stay accepted). */
static int same_pins(const struct hsm_pins *p, const struct hsm_chain *c, int recovery)
{
	if (p->recovery != recovery || hsm_ssh_pubkey_cmp(p->identity_key, c->identity_key) != 0)
		return 0;
	for (int i = 0; i < HSM_SVC_COUNT; i++) {
		if (!p->host_keys[i] != !c->host_keys[i])
			return 0;
		if (c->host_keys[i] && hsm_ssh_pubkey_cmp(p->host_keys[i], c->host_keys[i]) != 0)
			return 0;
	}
	return 1;
}

static json_t *enroll_params(const struct enroll_job *job, const struct hsm_chain *c,
			     const char *esn)
{
	json_t *keys = json_object(), *params;
	const char *secret = hsm_enroll_secret_for(job->secrets, job->nsecrets, esn);

	for (int i = 0; i < HSM_SVC_COUNT; i++)
		if (c->host_keys[i])
			json_object_set_new(keys, hsm_service_name(i), json_string(job->pubs[i]));
	params = json_pack("{s:o}", "client_keys", keys);
	if (secret)
		json_object_set_new(params, "enrollment_secret", json_string(secret));
	return params;
}

#define RECOVERY_WARNING                                                                           \
	"the HSM runs its recovery image, which makes no certificates for its "                    \
	"SSH host keys (guide 4.5.4.1): they were pinned as presented, vouched for by nothing; "   \
	"enroll again after leaving recovery mode"

static json_t *summary(const struct hsm_chain *c, int changed, int pins_updated, int recovery)
{
	json_t *services = json_array();
	EVP_PKEY *id = hsm_key_from_openssh(c->identity_key, NULL, 0);
	char *fp = id ? hsm_key_fingerprint(id) : NULL;
	json_t *doc;

	for (int i = 0; i < HSM_SVC_COUNT; i++)
		if (c->host_keys[i])
			json_array_append_new(services, json_string(hsm_service_name(i)));
	doc = json_pack("{s:b, s:b, s:o, s:s, s:b, s:s?}", "changed", changed, "pins_updated",
			pins_updated, "services", services, "identity_fingerprint", fp ? fp : "?",
			"recovery", recovery, "warning", recovery ? RECOVERY_WARNING : NULL);
	free(fp);
	EVP_PKEY_free(id);
	return doc;
}

/* This HSM's sshadmin service with this host's sshadmin key; no host key
 * pinned yet (the caller sets it once the chain vouches for one). */
static struct hsm_rpc_endpoint sshadmin_endpoint(const struct enroll_job *job,
						 const struct hsm_module *m)
{
	return (struct hsm_rpc_endpoint){
		.label = m->esn,
		.service = "sshadmin",
		.address = m->address,
		.port = m->ports[HSM_SVC_SSHADMIN],
		.client_key = job->keys[HSM_SVC_SSHADMIN],
	};
}

/* Steps 2-4 once the host key list is in hand.  Returns the exit code in
 * r->exit and, on success, a summary in r->result. */
static void enroll_verified(struct enroll_job *job, const struct hsm_module *m,
			    const struct hsm_pins *pins, int have_pins, const json_t *hostkeys,
			    const char *presented, struct hsm_rpc_reply *r)
{
	struct hsm_rpc_endpoint ep = sshadmin_endpoint(job, m);
	struct hsm_pins fresh;
	struct hsm_chain c;
	char why[512];
	json_t *params, *changed;
	int pins_updated, recovery = hsm_chain_is_recovery(hostkeys);

	if (recovery ? hsm_chain_verify_recovery(hostkeys, m->esn, job->vendors, job->nvendors, &c,
						 why, sizeof(why)) < 0
		     : hsm_chain_verify(hostkeys, m->esn, job->vendors, job->nvendors, &c, why,
					sizeof(why)) < 0) {
		hsm_rpc_reply_fail(r, HSM_EXIT_AUTH, "trust", "%s: %s",
				   recovery ? "recovery host key list" : "certificate chain", why);
		return;
	}
	if (hsm_ssh_pubkey_cmp(presented, c.host_keys[HSM_SVC_SSHADMIN]) != 0) {
		hsm_rpc_reply_fail(
		    r, HSM_EXIT_AUTH, "trust",
		    "the sshadmin service presented a host key its certificate does not vouch for");
		goto out;
	}
	if (have_pins && hsm_ssh_pubkey_cmp(pins->identity_key, c.identity_key) != 0) {
		hsm_rpc_reply_fail(
		    r, HSM_EXIT_AUTH, "trust",
		    "device identity key differs from the one pinned at enrollment "
		    "(%s/pins/%s.json): possible impostor; if this HSM was replaced, "
		    "remove that file and enroll again",
		    job->home, m->esn);
		goto out;
	}
	ep.host_key = c.host_keys[HSM_SVC_SSHADMIN];
	params = enroll_params(job, &c, m->esn);
	hsm_rpc_exec(&ep, "enroll", params, job->timeout, r);
	json_decref(params); /* the secret was held only by jansson's string */
	if (r->exit)
		goto out;
	changed = json_object_get(r->result, "changed");
	if (!json_is_boolean(changed)) {
		hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "protocol",
				   "sshadmin.enroll: reply has no boolean 'changed'");
		goto out;
	}
	pins_updated = !have_pins || !same_pins(pins, &c, recovery);
	if (pins_updated) {
		memset(&fresh, 0, sizeof(fresh));
		memcpy(fresh.esn, m->esn, sizeof(fresh.esn));
		fresh.identity_key = c.identity_key;
		memcpy(fresh.host_keys, c.host_keys, sizeof(fresh.host_keys));
		fresh.pinned = (long long)time(NULL);
		fresh.recovery = recovery;
		if (hsm_pins_save(job->home, &fresh, why, sizeof(why)) < 0) {
			hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local",
					   "enrolled, but pinning failed: %s", why);
			goto out;
		}
	}
	{
		int was_changed = json_is_true(changed);
		json_decref(r->result);
		r->result = summary(&c, was_changed, pins_updated, recovery);
	}
out:
	hsm_chain_clear(&c);
}

static void enroll_one(size_t i, void *arg)
{
	struct enroll_job *job = arg;
	const struct hsm_module *m = &job->fleet->modules[i];
	struct hsm_rpc_reply *r = &job->replies[i];
	/* First contact: no pinned host key; the one presented is captured
	 * and checked against the chain. */
	struct hsm_rpc_endpoint ep = sshadmin_endpoint(job, m);
	struct hsm_pins pins;
	char why[PATH_MAX + 128], presented[sizeof(r->host_key)];
	json_t *hostkeys;
	unsigned elapsed;
	int have = hsm_pins_load(job->home, m->esn, &pins, why, sizeof(why));

	if (have < 0) {
		hsm_rpc_reply_fail(r, HSM_EXIT_AUTH, "trust", "%s (remove it to enroll afresh)",
				   why);
		return;
	}
	if (hsm_rpc_exec(&ep, "hostkeys", NULL, job->timeout, r) == 0) {
		hostkeys = r->result;
		r->result = NULL;
		memcpy(presented, r->host_key, sizeof(presented));
		elapsed = r->elapsed_ms;
		enroll_verified(job, m, &pins, have == 0, hostkeys, presented, r);
		r->elapsed_ms += elapsed;
		json_decref(hostkeys);
	} else if (r->exit == HSM_EXIT_AUTH && strcmp(r->code, "auth") == 0) {
		hsm_rpc_reply_fail(
		    r, HSM_EXIT_AUTH, "auth",
		    "the sshadmin service refused this host's sshadmin key: "
		    "the HSM is enrolled with another host's keys (use --sshadmin-key FILE with a "
		    "backup of that key, or return it to factory state)");
	}
	if (have == 0)
		hsm_pins_clear(&pins);
}

static void print_enroll(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			 void *arg)
{
	int changed = json_is_true(json_object_get(res, "changed"));
	int pins = json_is_true(json_object_get(res, "pins_updated"));
	json_t *svcs = json_object_get(res, "services"), *s;
	size_t i;

	if (json_is_true(json_object_get(res, "recovery")))
		hsm_warn(ctx, "%s: %s", m->esn, RECOVERY_WARNING);
	if (!changed && !pins) {
		hsm_printf(ctx, "%s: already enrolled from this host: nothing changed\n", m->esn);
		return;
	}
	hsm_printf(ctx, "%s: %s; pinned host keys of", m->esn,
		   changed ? "enrolled" : "already enrolled with this host's keys, pins restored");
	json_array_foreach(svcs, i, s) hsm_printf(ctx, "%s %s", i ? "," : "", json_string_value(s));
	hsm_printf(ctx, " (identity %s)\n",
		   json_string_value(json_object_get(res, "identity_fingerprint")));
}

/* --sshadmin-key: a backup of the sshadmin key replaces the stored one for
 * this run, and becomes the stored one when there is none. */
static int use_sshadmin_backup(struct hsm_ctx *ctx, struct enroll_job *job)
{
	const char *file = hsm_opt_str(ctx, "sshadmin-key");
	char path[PATH_MAX], why[PATH_MAX + 128];

	if (!(job->keys[HSM_SVC_SSHADMIN] = hsm_client_key_load(file, why, sizeof(why))))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--sshadmin-key", "%s", why);
	hsm_client_key_path(job->home, "sshadmin", path, sizeof(path));
	if (access(path, F_OK) == 0)
		return 0;
	/* Stored again under this machine's sshadmin protection, not copied:
	 * a passphrase backup must not keep asking for its passphrase. */
	if (hsm_client_key_save_service(job->home, "sshadmin", job->keys[HSM_SVC_SSHADMIN], 0, why,
					sizeof(why)) < 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "--sshadmin-key", "%s", why);
	hsm_verbosef(ctx, "installed %s as %s", file, path);
	return 0;
}

static int load_client_keys(struct hsm_ctx *ctx, struct enroll_job *job)
{
	char why[PATH_MAX + 128];
	int created, rc;

	if (hsm_opt_given(ctx, "sshadmin-key") && (rc = use_sshadmin_backup(ctx, job)))
		return rc;
	if (hsm_client_keys_ensure(job->home, &created, why, sizeof(why)) < 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "client keys", "%s", why);
	if (created)
		hsm_verbosef(ctx, "created %d client key%s in %s/keys/client", created,
			     created == 1 ? "" : "s", job->home);
	for (int i = 0; i < HSM_SVC_COUNT; i++) {
		if (!job->keys[i] && !(job->keys[i] = hsm_client_key_load_service(
					   job->home, hsm_service_name(i), why, sizeof(why))))
			return hsm_error(ctx, HSM_EXIT_FAILED, "client keys", "%s", why);
		if (!(job->pubs[i] = hsm_client_key_public(job->keys[i])))
			return hsm_error(ctx, HSM_EXIT_FAILED, "client keys",
					 "cannot derive a public key");
	}
	return 0;
}

static void job_free(struct enroll_job *job)
{
	for (int i = 0; i < HSM_SVC_COUNT; i++) {
		hsm_client_key_free(job->keys[i]);
		free(job->pubs[i]);
	}
	hsm_vendor_keys_free(job->vendors, job->nvendors);
	hsm_enroll_secrets_free(job->secrets, job->nsecrets);
	if (job->replies && job->fleet)
		for (size_t i = 0; i < job->fleet->count; i++)
			hsm_rpc_reply_clear(&job->replies[i]);
	free(job->replies);
}

/* --secret-file FILE (repeatable) and --secret SECRET (one HSM). */
static int load_secrets(struct hsm_ctx *ctx, struct enroll_job *job)
{
	char why[PATH_MAX + 128];

	for (size_t i = 0; i < hsm_opt_count(ctx, "secret-file"); i++) {
		const char *file = hsm_opt_str_at(ctx, "secret-file", i);
		char *text = NULL;
		size_t len = 0;
		int rc;

		if (hsm_read_file(file, HSM_ENROLL_SECRETS_FILE_MAX, &text, &len, why,
				  sizeof(why)) != 0)
			return hsm_error(ctx, HSM_EXIT_USAGE, "--secret-file", "%s", why);
		rc = hsm_enroll_secrets_parse(text, len, &job->secrets, &job->nsecrets, why,
					      sizeof(why));
		OPENSSL_cleanse(text, len);
		free(text);
		if (rc != 0)
			return hsm_error(ctx, HSM_EXIT_USAGE, "--secret-file", "%s: %s", file, why);
	}
	if (hsm_opt_given(ctx, "secret")) {
		const char *secret = hsm_opt_str(ctx, "secret");
		struct hsm_enroll_secret *grown;

		if (job->fleet->count != 1)
			return hsm_error(
			    ctx, HSM_EXIT_USAGE, "--secret",
			    "a secret belongs to one HSM, but %zu are addressed: give one --esn, "
			    "or use --secret-file with a line \"ESN SECRET\" per HSM",
			    job->fleet->count);
		if (!hsm_enroll_secret_valid(secret))
			return hsm_error(ctx, HSM_EXIT_USAGE, "--secret",
					 "not an enrollment secret (1-64 letters, digits or '-')");
		if (hsm_enroll_secret_for(job->secrets, job->nsecrets, job->fleet->modules[0].esn))
			return hsm_error(ctx, HSM_EXIT_USAGE, "--secret",
					 "a --secret-file already holds a secret for %s",
					 job->fleet->modules[0].esn);
		if (!(grown = realloc(job->secrets, (job->nsecrets + 1) * sizeof(*grown))))
			return hsm_error(ctx, HSM_EXIT_FAILED, "enroll", "out of memory");
		job->secrets = grown;
		memset(&grown[job->nsecrets], 0, sizeof(*grown));
		memcpy(grown[job->nsecrets].esn, job->fleet->modules[0].esn, HSM_ESN_LEN);
		memcpy(grown[job->nsecrets].secret, secret, strlen(secret));
		job->nsecrets++;
	}
	return 0;
}

int platform_enroll(struct hsm_ctx *ctx)
{
	struct enroll_job job = { .home = hsm_home(ctx), .timeout = hsm_timeout(ctx) };
	struct hsm_fleet fleet;
	char why[PATH_MAX + 128];
	int rc;

	if (hsm_opt_given(ctx, "remove") + hsm_opt_given(ctx, "probe") > 1)
		return hsm_error(ctx, HSM_EXIT_USAGE, "enroll",
				 "--remove and --probe do not go together");
	if (hsm_opt_given(ctx, "force") && !hsm_opt_given(ctx, "remove"))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--force", "only with --remove");
	if (hsm_opt_given(ctx, "port") && !hsm_opt_given(ctx, "probe"))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--port", "only with --probe");
	if (hsm_opt_given(ctx, "remove"))
		return platform_enroll_remove(ctx);
	if (hsm_opt_given(ctx, "probe"))
		return platform_enroll_probe(ctx);
	if ((rc = hsm_fleet_open(ctx, &fleet)) != 0)
		return rc;
	job.fleet = &fleet;
	if (hsm_chain_load_vendors(hsm_conf_dir(ctx), &job.vendors, &job.nvendors, why,
				   sizeof(why)) < 0)
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "vendor keys", "%s", why);
	else if (job.nvendors == 0)
		rc = hsm_error(
		    ctx, HSM_EXIT_AUTH, "vendor keys",
		    "no trusted vendor public key in %s/vendor.d: install the vendor's key "
		    "(NAME.pem) there to verify HSMs",
		    hsm_conf_dir(ctx));
	else if (!(job.replies = calloc(fleet.count, sizeof(*job.replies))))
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "enroll", "out of memory");
	else if (!(rc = load_secrets(ctx, &job)))
		rc = load_client_keys(ctx, &job);
	if (rc == 0) {
		/* Each HSM reported as it is done: a silent one holds back
		 * none of the others. */
		struct hsm_report_run run = { .fleet = &fleet,
					      .replies = job.replies,
					      .text = print_enroll };

		hsm_parallel_report(ctx, fleet.count, enroll_one, &job, hsm_report_done, &run);
		rc = hsm_report_json(ctx, &fleet, job.replies);
	}
	job_free(&job);
	hsm_fleet_close(&fleet);
	return rc;
}
