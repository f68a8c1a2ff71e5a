/* SPDX-License-Identifier: Apache-2.0 */
/*
 * single-setup.c - `hsmadmin vcm single-setup [--esn] [--name] [--json]`
 * (guide 4.10.1.16.9): on an HSM enrolled from this host, create, start
 * and enroll one VCM end to end, the provider and the tenant being this
 * one host.
 *
 * It runs the steps a provider and a tenant would run, as this same
 * program under their tool names (the multi-call binary, argv[0]), so that
 * every step keeps its own checks, trust decisions and atomic writes and
 * there is no second copy of any of them:
 *
 *   hsmadmin vcm create --request-file TMP/autocreated.req --name NAME
 *   vcmadmin create --request TMP/autocreated.req --outdir TMP --json NAME
 *   vcmadmin start UUID
 *   hsmadmin vcm enroll --config TMP/vcm-UUID.json
 *
 * A step that fails ends the command with that step's exit status and
 * message; a VCM created by a run that then failed is stopped and deleted
 * again, so a failed single-setup leaves no half-made VCM behind.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "vcmsetup.h"

#define STEP_OUT_MAX (256u * 1024u)
#define MAX_ARGS 16

struct step {
	const char *tool;           /* argv[0]: hsmadmin or vcmadmin */
	const char *argv[MAX_ARGS]; /* after the tool name */
};

/* Run this program as step->tool; its stdout (bounded) in *out, its
 * stderr passed through.  Returns the step's exit status (127: could not
 * run, 1: killed or too much output). */
static int run_step(struct hsm_ctx *ctx, const struct step *s, char **out)
{
	char *argv[MAX_ARGS + 2], *buf = NULL;
	size_t len = 0, n = 0;
	int fds[2], status = 0, over = 0;
	pid_t pid;

	*out = NULL;
	argv[n++] = (char *)s->tool;
	for (size_t i = 0; i < MAX_ARGS && s->argv[i]; i++)
		argv[n++] = (char *)s->argv[i];
	argv[n] = NULL;
	hsm_verbosef(ctx, "single-setup: %s %s", s->tool, s->argv[0]);
	if (pipe2(fds, O_CLOEXEC) != 0)
		return 127;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return 127;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(fds[1]);
	if (!(buf = malloc(STEP_OUT_MAX + 1)))
		over = 1;
	for (;;) {
		char scratch[4096];
		ssize_t r = over ? read(fds[0], scratch, sizeof(scratch))
				 : read(fds[0], buf + len, STEP_OUT_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (!over) {
			len += (size_t)r;
			over = len == STEP_OUT_MAX;
		}
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (buf) {
		buf[len] = '\0';
		*out = buf;
	}
	if (!WIFEXITED(status))
		return 1;
	if (over && WEXITSTATUS(status) == 0)
		return 1;
	return WEXITSTATUS(status);
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Undo a create after a later step failed: stop (it may run) and delete. */
static void undo(struct hsm_ctx *ctx, const char *esn, const char *uuid)
{
	struct step stop = { "vcmadmin",
			     { "stop", uuid, "--force", esn ? "--esn" : NULL, esn, NULL } };
	struct step del = { "vcmadmin",
			    { "delete", uuid, "--force", esn ? "--esn" : NULL, esn, NULL } };
	char *out;

	run_step(ctx, &stop, &out);
	free(out);
	if (run_step(ctx, &del, &out) != 0)
		hsm_warn(ctx,
			 "VCM %s was created but could not be deleted again: delete it with "
			 "'vcmadmin delete %s'",
			 uuid, uuid);
	free(out);
}

static int step_failed(struct hsm_ctx *ctx, int rc, const char *what)
{
	if (rc == 127)
		return hsm_error(ctx, HSM_EXIT_FAILED, what,
				 "cannot run this program again (/proc/self/exe)");
	return hsm_error(ctx, rc ? rc : HSM_EXIT_FAILED, what, "failed (see the message above)");
}

int vs_cmd_single_setup(struct hsm_ctx *ctx)
{
	const char *esn = hsm_esn_count(ctx) ? hsm_esn_at(ctx, 0) : NULL;
	const char *name = hsm_opt_given(ctx, "name") ? hsm_opt_str(ctx, "name") : "autocreated";
	char tmp[PATH_MAX], req[PATH_MAX + 32], cfg[PATH_MAX + 64], timeout[16], err[256];
	char uuid[64] = "", *out = NULL;
	json_t *created = NULL, *enrolled = NULL, *rec;
	int rc;

	if (hsm_esn_count(ctx) > 1)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
				 "single-setup sets up one HSM: give one --esn");
	snprintf(timeout, sizeof(timeout), "%d", hsm_timeout(ctx));
	if (snprintf(tmp, sizeof(tmp), "%s/tenant", hsm_home(ctx)) >= (int)sizeof(tmp) ||
	    hsm_mkdir_p(tmp, 0700, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, tmp, "%s", err);
	strncat(tmp, "/.single-setup.XXXXXX", sizeof(tmp) - strlen(tmp) - 1);
	if (!mkdtemp(tmp))
		return hsm_error(ctx, HSM_EXIT_FAILED, tmp, "%s", strerror(errno));
	snprintf(req, sizeof(req), "%s/autocreated.req", tmp);

	{
		struct step s = {
			"hsmadmin", { "vcm", "create", "--request-file", req, "--name", name, NULL }
		};
		if ((rc = run_step(ctx, &s, &out)) != 0) {
			rc = step_failed(ctx, rc, "tenant request (hsmadmin vcm create)");
			goto out;
		}
		free(out);
	}
	{
		struct step s = { "vcmadmin",
				  { "create", "--request", req, "--outdir", tmp, "--json",
				    "--timeout", timeout, name, esn ? "--esn" : NULL, esn, NULL } };
		rc = run_step(ctx, &s, &out);
		created = rc == 0 && out ? json_loads(out, 0, NULL) : NULL;
		if (rc != 0) {
			rc = step_failed(ctx, rc, "create (vcmadmin create)");
			goto out;
		}
		free(out);
		out = NULL;
		rec = json_object_get(created, "uuid");
		if (!json_is_string(rec) || strlen(json_string_value(rec)) != 36 ||
		    strspn(json_string_value(rec), "0123456789abcdef-") != 36) {
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "create",
				       "vcmadmin create --json gave no UUID");
			goto out;
		}
		snprintf(uuid, sizeof(uuid), "%s", json_string_value(rec));
	}
	{
		struct step s = { "vcmadmin",
				  { "start", uuid, "--timeout", timeout, esn ? "--esn" : NULL, esn,
				    NULL } };
		if ((rc = run_step(ctx, &s, &out)) != 0) {
			rc = step_failed(ctx, rc, "start (vcmadmin start)");
			undo(ctx, esn, uuid);
			goto out;
		}
		free(out);
	}
	snprintf(cfg, sizeof(cfg), "%s/vcm-%s.json", tmp, uuid);
	{
		struct step s = { "hsmadmin",
				  { "vcm", "enroll", "--config", cfg, "--json", "--timeout",
				    timeout, NULL } };
		rc = run_step(ctx, &s, &out);
		enrolled = rc == 0 && out ? json_loads(out, 0, NULL) : NULL;
		if (rc != 0) {
			rc = step_failed(ctx, rc, "enroll (hsmadmin vcm enroll)");
			undo(ctx, esn, uuid);
			goto out;
		}
	}
	rec = json_object_get(enrolled, "enrollment");
	hsm_printf(ctx, "Created, started and enrolled VCM %s\n", uuid);
	hsm_printf(ctx, "  name       : %s\n", name);
	hsm_printf(ctx, "  HSM ESN    : %s\n",
		   json_string_value(json_object_get(rec, "esn")) ?: "?");
	hsm_printf(ctx, "  address    : %s\n",
		   json_string_value(json_object_get(rec, "address")) ?: "?");
	hsm_printf(ctx, "  module     : %lld\n",
		   (long long)json_integer_value(json_object_get(rec, "module")));
	json_object_set_new(hsm_json(ctx), "uuid", json_string(uuid));
	json_object_set_new(hsm_json(ctx), "name", json_string(name));
	if (rec)
		json_object_set(hsm_json(ctx), "enrollment", rec);
	rc = 0;
out:
	free(out);
	json_decref(created);
	json_decref(enrolled);
	/* The request and the configuration file were only the steps'
	 * hand-over: the enrollment record keeps what the tenant needs. */
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}
