/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/upgrade/npkginfo.c - hsmadmin npkginfo FILE (guide 4.10.1.3):
 * what a firmware package says, and whether it verifies, offline.
 *
 * The whole file is read once through the streaming reader in inspect
 * mode, so a bad signature, an unknown vendor or a tampered file is shown
 * next to the metadata instead of hiding it; the exit status says whether
 * the package is one an HSM would accept (docs/man/hsmadmin-npkginfo.1).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "upgrade.h"

static void print_text(struct hsm_ctx *ctx, const char *path, const struct hsm_npkg_manifest *m,
		       int status, const char *why)
{
	char when[32], *fp = hsm_key_fingerprint(m->signer), hex[65];

	hsm_time_iso(m->created, when);
	hsm_printf(ctx, "file: %s\n", path);
	hsm_printf(ctx, "product: %s\n", m->product);
	hsm_printf(ctx, "component: %s\n", hsm_npkg_component_name(m->component));
	hsm_printf(ctx, "version: %s\n", m->firmware_version);
	if (m->component == HSM_NPKG_BOOTLOADER)
		hsm_printf(ctx, "revokes older bootloaders: %s\n",
			   m->revokes_older ? "yes (irreversible)" : "no");
	else
		hsm_printf(ctx, "vsn: %lld\n", (long long)m->vsn);
	hsm_printf(ctx, "created: %s\n", when);
	hsm_printf(ctx, "signer: %s (%s)\n", fp ? fp : "?",
		   m->trusted ? "trusted vendor key" : "NOT a trusted vendor key");
	hsm_printf(ctx, "signature: %s\n", m->signature_ok ? "good" : "BAD");
	hsm_printf(ctx, "contents: %zu files, %llu bytes\n", m->nfiles,
		   (unsigned long long)m->payload_size);
	for (size_t i = 0; i < m->nfiles; i++) {
		for (int k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", m->files[i].sha256[k]);
		hsm_printf(ctx, "  %-32s %10llu  sha256:%.16s...  %s\n", m->files[i].name,
			   (unsigned long long)m->files[i].size, hex,
			   m->files[i].digest_ok ? "ok" : "MISMATCH");
	}
	if (status == 0)
		hsm_printf(ctx, "verified: yes\n");
	else
		hsm_printf(ctx, "verified: no (%s)\n", why);
	free(fp);
}

int upgrade_npkginfo_run(struct hsm_ctx *ctx)
{
	const char *path = hsm_opt_str(ctx, "NPKGFILE");
	struct upgrade_package p;
	const struct hsm_npkg_manifest *m;
	int rc, status;

	if ((rc = upgrade_package_read(ctx, path, HSM_NPKG_INSPECT, &p)) != 0)
		return rc;
	m = p.manifest;
	status = p.status;
	if (!m) { /* nothing to show: not even the manifest parsed */
		rc = hsm_error(ctx, upgrade_exit_of(status), "package", "%s", p.err);
		goto out;
	}
	if (hsm_json_mode(ctx)) {
		json_t *o = hsm_npkg_manifest_json(m);
		json_object_set_new(o, "file", json_string(path));
		json_object_set_new(o, "verified", json_boolean(status == 0));
		if (status != 0) {
			json_object_set_new(o, "problem",
					    json_string(hsm_npkg_status_text(status)));
			json_object_set_new(o, "reason", json_string(p.err));
		}
		json_object_update(hsm_json(ctx), o);
		json_decref(o);
	} else {
		print_text(ctx, path, m, status, hsm_npkg_status_text(status));
	}
	rc = status == 0 ? HSM_EXIT_OK
			 : hsm_error(ctx, upgrade_exit_of(status), "package", "%s", p.err);
	if (status == HSM_NPKG_UNKNOWN_SIGNER && p.nkeys == 0)
		hsm_warn(ctx, "%s/vendor.d holds no vendor keys", hsm_conf_dir(ctx));
out:
	upgrade_package_free(&p);
	return rc;
}

const struct hsm_option upgrade_npkginfo_opts[] = {
	{ .name = "NPKGFILE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the firmware package (.npkg) to inspect" },
	HSM_OPTION_END
};
