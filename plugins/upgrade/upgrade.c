/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/upgrade/upgrade.c - hsmadmin upgrade --esn ESN... FILE (guide
 * 4.1.4, 4.10.1.4): stream a firmware package to each HSM's updater
 * service, in parallel.
 *
 * The host checks the package's header and manifest first: well formed,
 * exactly as long as its files and, when HSMADMIN_CONF/vendor.d holds
 * vendor keys, signed by one of them.  It does not hash the payload: each
 * HSM receives the file as a stream and verifies the signature with its
 * own vendor keys and every file's digest as the bytes arrive, before it
 * installs anything, so a second pass over the payload on this host would
 * only double the time before the transfer starts.  The HSM's verdict and
 * its rules (minimum VSN, active VCMs, the interlock, log capacity, the
 * clock, maintenance mode) are the ones that count.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hsmadmin/plugin.h>
#include "hostkeys.h"
#include "transport-report.h"
#include "upgrade.h"

/* Check the package on this host first; *size is its size, for the
 * progress line. */
static int precheck(struct hsm_ctx *ctx, const char *path, uint64_t *size)
{
	struct upgrade_package p;
	const struct hsm_npkg_manifest *m;
	struct stat st;
	int rc, status;

	if ((rc = upgrade_package_read(ctx, path, UPGRADE_READ_MANIFEST, &p)) != 0)
		return rc;
	*size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	m = p.manifest;
	status = p.status;
	if (status == HSM_NPKG_UNKNOWN_SIGNER && !p.nkeys && m && m->signature_ok) {
		hsm_verbosef(ctx,
			     "%s/vendor.d holds no vendor keys: only the HSM checks the signer",
			     hsm_conf_dir(ctx));
		status = 0;
	}
	if (status != 0)
		rc = hsm_error(ctx, upgrade_exit_of(status), "package", "%s", p.err);
	else
		hsm_verbosef(ctx,
			     "%s: %s %s (%llu bytes of files): manifest checked; each HSM "
			     "verifies the files",
			     path, hsm_npkg_component_name(m->component), m->firmware_version,
			     (unsigned long long)m->payload_size);
	upgrade_package_free(&p);
	return rc;
}

struct job {
	const char *home, *path;
	int timeout;
	const struct hsm_fleet *fleet;
	const struct hsm_client_key *key;
	const json_t *params;
	struct hsm_rpc_reply *replies;
	uint64_t *sent; /* bytes of the package sent to HSM i so far */
	uint64_t size;  /* of the package */
};

static void upgrade_one(size_t i, void *arg)
{
	struct job *j = arg;

	hsm_rpc_call_module_upload(j->home, j->timeout, &j->fleet->modules[i], "updater", j->key,
				   "upgrade", j->params, j->path, &j->sent[i], &j->replies[i]);
}

/* "12.5 MiB": a size as people read it. */
static const char *human_size(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

/* The progress line of the transfer: the bytes sent to every HSM of the
 * total, then what is left once the package is out (the HSMs verify and
 * install it before they answer). */
static void upgrade_waiting(struct hsm_ctx *ctx, size_t left, size_t n, void *arg)
{
	const struct job *j = arg;
	uint64_t sent = 0, total = j->size * n;
	char a[32], b[32];
	unsigned pct;

	for (size_t i = 0; i < n; i++)
		sent += __atomic_load_n(&j->sent[i], __ATOMIC_RELAXED);
	if (sent > total) /* the file grew while it was sent: the HSM refuses it */
		sent = total;
	pct = total ? (unsigned)(sent * 100 / total) : 100;
	human_size(sent, a, sizeof(a));
	human_size(total, b, sizeof(b));
	if (sent < total)
		hsm_progress(ctx, "sent %s of %s (%u%%)%s", a, b, pct, n > 1 ? " to the HSMs" : "");
	else if (n == 1)
		hsm_progress(ctx, "sent %s (100%%); waiting for the HSM", b);
	else
		hsm_progress(ctx, "sent %s (100%%); waiting for %zu of %zu HSMs", b, left, n);
}

static void print_upgrade(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			  void *arg)
{
	const json_t *pkg = json_object_get(res, "package"), *cur = json_object_get(res, "current");
	const char *comp = json_string_value(json_object_get(res, "component"));
	const json_t *changed = json_object_get(res, "changed");
	const char *want = json_string_value(json_object_get(pkg, "version"));
	const json_t *vsn = json_object_get(pkg, "vsn");

	(void)arg;
	hsm_printf(ctx, "%s: current %s firmware %s; package %s %s", m->esn, comp ? comp : "?",
		   json_string_value(json_object_get(cur, comp ? comp : "primary")),
		   comp ? comp : "?", want ? want : "?");
	if (json_is_integer(vsn))
		hsm_printf(ctx, " (VSN %" JSON_INTEGER_FORMAT ")", json_integer_value(vsn));
	hsm_printf(ctx, "\n");
	if (json_is_true(json_object_get(res, "dry_run"))) {
		hsm_printf(ctx,
			   "%s: dry run: the package verified and every check passed; nothing was "
			   "written\n",
			   m->esn);
		return;
	}
	hsm_printf(ctx, "%s: components changed: %s\n", m->esn,
		   json_string_value(json_array_get(changed, 0))
		       ? json_string_value(json_array_get(changed, 0))
		       : "none");
	if (json_is_true(json_object_get(res, "reset")))
		hsm_printf(ctx, "%s: rebooting into the new firmware\n", m->esn);
	else
		hsm_printf(ctx, "%s: the new firmware runs after the next reset (hsmadmin reset)\n",
			   m->esn);
	if (json_is_true(json_object_get(res, "factory_state")))
		hsm_printf(ctx,
			   "%s: the HSM returns to factory state on that boot: run "
			   "'hsmadmin enroll --esn %s' afterwards\n",
			   m->esn, m->esn);
}

/* A new primary image boots into factory state with new host keys:
 * forget the pins, as factorystate does, so that `hsmadmin enroll` can
 * enroll the HSM again. */
static void upgrade_forget(struct hsm_ctx *ctx, const struct hsm_module *m, struct hsm_rpc_reply *r,
			   void *arg)
{
	char why[512];

	(void)arg;
	if (r->exit == 0 && json_is_true(json_object_get(r->result, "factory_state")) &&
	    json_is_true(json_object_get(r->result, "reset")) &&
	    hsm_pins_remove(hsm_home(ctx), m->esn, why, sizeof(why)) < 0)
		hsm_warn(ctx, "%s: %s", m->esn, why);
}

int upgrade_run(struct hsm_ctx *ctx)
{
	const char *path = hsm_opt_str(ctx, "NPKGFILE");
	struct hsm_fleet fleet;
	struct hsm_rpc_reply *replies;
	struct hsm_client_key *key;
	uint64_t *sent, size;
	json_t *params;
	char why[1024];
	int rc;

	if (hsm_esn_count(ctx) == 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
				 "name the HSMs to upgrade (--esn ESN, repeatable)");
	if ((rc = precheck(ctx, path, &size)) != 0)
		return rc;
	if ((rc = hsm_fleet_open(ctx, &fleet)) != 0)
		return rc;
	key = hsm_client_key_load_service(hsm_home(ctx), "updater", why, sizeof(why));
	if (!key) {
		hsm_fleet_close(&fleet);
		return hsm_error(ctx, HSM_EXIT_STATE, "updater key", "%s (run 'hsmadmin enroll')",
				 why);
	}
	params = json_pack("{s:b, s:b, s:b}", "dry_run", hsm_opt_given(ctx, "dry-run"), "force",
			   hsm_opt_given(ctx, "force"), "no_reset", hsm_opt_given(ctx, "no-reset"));
	replies = calloc(fleet.count ? fleet.count : 1, sizeof(*replies));
	sent = calloc(fleet.count ? fleet.count : 1, sizeof(*sent));
	if (!params || !replies || !sent) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "upgrade", "out of memory");
	} else {
		struct job j = { .home = hsm_home(ctx),
				 .path = path,
				 .timeout = hsm_timeout(ctx),
				 .fleet = &fleet,
				 .key = key,
				 .params = params,
				 .replies = replies,
				 .sent = sent,
				 .size = size };
		struct hsm_report_run run = { .fleet = &fleet,
					      .replies = replies,
					      .text = print_upgrade,
					      .judge = upgrade_forget };

		hsm_parallel_report_with(ctx, fleet.count, upgrade_one, &j, hsm_report_done, &run,
					 upgrade_waiting, &j);
		rc = hsm_report_json(ctx, &fleet, replies);
		for (size_t i = 0; i < fleet.count; i++)
			hsm_rpc_reply_clear(&replies[i]);
	}
	free(replies);
	free(sent);
	json_decref(params);
	hsm_client_key_free(key);
	hsm_fleet_close(&fleet);
	return rc;
}

const struct hsm_option upgrade_opts[] = {
	{ .name = "dry-run",
	  .type = HSM_OPT_FLAG,
	  .help = "verify the package and check every rule on the HSM; write nothing" },
	{ .name = "force",
	  .type = HSM_OPT_FLAG,
	  .help = "do not require maintenance mode (never overrides an active VCM)" },
	{ .name = "no-reset",
	  .type = HSM_OPT_FLAG,
	  .help = "install, but run the new firmware only after the next reset" },
	{ .name = "NPKGFILE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the firmware package (.npkg) to install" },
	HSM_OPTION_END
};
