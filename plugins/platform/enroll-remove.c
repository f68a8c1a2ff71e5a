/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/platform/enroll-remove.c - the two enroll modes for replacing an
 * HSM (field report of a failed HSM; nethsmenroll -r, anonkneti):
 *
 *   hsmadmin enroll --remove --esn ESN [--force]
 *       forgets an HSM on this host: its modules.d entry (renamed to
 *       NAME.conf.removed, kept for reference and ignored by every reader)
 *       and its pinned host keys.  Without --force the HSM must answer
 *       first, so that a mistyped ESN of a healthy HSM is noticed; --force
 *       is for an HSM that is offline.  The client keys are this host's, the
 *       same for every HSM, and stay.
 *   hsmadmin enroll --probe ADDRESS [--port N]
 *       asks an unknown HSM for its ESN, identity and host keys with a
 *       throw-away key, prints them with their fingerprints and changes and
 *       trusts nothing: the admin compares them with the HSM's label or
 *       front panel before enrolling it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/netaddr.h>

#include "chain.h"
#include "sign.h"
#include "transport-report.h"
#include "platform.h"

/* The modules.d file that names esn: 0 with its path, 1 when none. */
static int module_file(const char *confdir, const char *esn, char *path, size_t len)
{
	char dir[PATH_MAX], file[PATH_MAX + 300], err[256];
	struct hsm_module m;
	struct dirent *e;
	DIR *d;
	int found = 1;

	snprintf(dir, sizeof(dir), "%s/modules.d", confdir);
	if (!(d = opendir(dir)))
		return 1;
	while (found && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *text = NULL;
		size_t tlen = 0;

		if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".conf") != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
		if (hsm_read_file(file, 64 * 1024, &text, &tlen, err, sizeof(err)) != 0)
			continue;
		if (hsm_module_parse(text, tlen, &m, err, sizeof(err)) == 0 &&
		    strcmp(m.esn, esn) == 0) {
			snprintf(path, len, "%s", file);
			found = 0;
		}
		free(text);
	}
	closedir(d);
	return found;
}

int platform_enroll_remove(struct hsm_ctx *ctx)
{
	char esn[HSM_ESN_LEN + 1], path[PATH_MAX + 300], moved[PATH_MAX + 340], why[PATH_MAX + 128];
	int force = hsm_opt_given(ctx, "force"), have_pins, rc;
	struct hsm_pins pins;

	if (hsm_esn_count(ctx) != 1 || hsm_esn_normalize(hsm_esn_at(ctx, 0), esn) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--remove",
				 "name exactly one HSM with --esn ESN");
	if (module_file(hsm_conf_dir(ctx), esn, path, sizeof(path)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, esn, "no HSM with this ESN in %s/modules.d",
				 hsm_conf_dir(ctx));
	if (!force) {
		struct hsm_fleet fleet;
		struct hsm_rpc_reply r;

		if ((rc = hsm_fleet_open(ctx, &fleet)) != 0)
			return rc;
		hsm_rpc_call(ctx, &fleet.modules[0], "setup", "status", NULL, &r);
		rc = r.exit;
		if (rc != 0 && rc != HSM_EXIT_AUTH)
			hsm_error(ctx, rc, esn,
				  "%s: the HSM does not answer; if it is offline for good, "
				  "remove it with --force",
				  r.message);
		hsm_rpc_reply_clear(&r);
		hsm_fleet_close(&fleet);
		if (rc != 0 && rc != HSM_EXIT_AUTH)
			return rc;
	}
	have_pins = hsm_pins_load(hsm_home(ctx), esn, &pins, why, sizeof(why)) == 0;
	if (have_pins)
		hsm_pins_clear(&pins);
	snprintf(moved, sizeof(moved), "%s.removed", path);
	if (rename(path, moved) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, path, "cannot rename it: %s",
				 strerror(errno));
	if (hsm_pins_remove(hsm_home(ctx), esn, why, sizeof(why)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, esn,
				 "modules.d entry removed, but not the pins: %s", why);
	hsm_printf(ctx, "%s: removed from this host (%s -> %s%s)\n", esn, path, moved,
		   have_pins ? "; pinned host keys forgotten" : "");
	json_object_set_new(hsm_json(ctx), "esn", json_string(esn));
	json_object_set_new(hsm_json(ctx), "removed", json_true());
	json_object_set_new(hsm_json(ctx), "module_file", json_string(moved));
	json_object_set_new(hsm_json(ctx), "pins_removed", json_boolean(have_pins));
	json_object_set_new(hsm_json(ctx), "forced", json_boolean(force));
	return 0;
}

static char *fingerprint_of(const char *line)
{
	EVP_PKEY *k = line ? hsm_key_from_openssh(line, NULL, 0) : NULL;
	char *fp = k ? hsm_key_fingerprint(k) : NULL;

	EVP_PKEY_free(k);
	return fp;
}

int platform_enroll_probe(struct hsm_ctx *ctx)
{
	const char *addr = hsm_opt_str(ctx, "probe");
	unsigned port = hsm_opt_given(ctx, "port") ? (unsigned)hsm_opt_int(ctx, "port") : 2201;
	char why[512], *host_fp = NULL, *id_fp = NULL;
	struct hsm_ipaddr ip;
	struct hsm_client_key *throwaway;
	struct hsm_rpc_reply r;
	const char *esn;
	EVP_PKEY **vendors = NULL;
	size_t nvendors = 0;
	struct hsm_chain chain;
	int verified = 0;

	if (hsm_ip_parse(addr, 0, &ip, why, sizeof(why)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--probe",
				 "'%.60s' is not an IPv4 or IPv6 address", addr);
	/* A key made for this call only: the probe installs and proves nothing. */
	if (!(throwaway = hsm_client_key_generate(why, sizeof(why))))
		return hsm_error(ctx, HSM_EXIT_FAILED, "--probe", "%s", why);
	struct hsm_rpc_endpoint ep = { .label = addr,
				       .service = "sshadmin",
				       .address = addr,
				       .port = port,
				       .client_key = throwaway,
				       .host_key = NULL };
	hsm_rpc_exec(&ep, "hostkeys", NULL, hsm_timeout(ctx), &r);
	hsm_client_key_free(throwaway);
	host_fp = r.host_key[0] ? fingerprint_of(r.host_key) : NULL;
	if (r.exit != 0 && !host_fp) {
		int rc = hsm_error(ctx, r.exit, addr, "%s", r.message);
		hsm_rpc_reply_clear(&r);
		return rc;
	}
	esn = json_string_value(json_object_get(r.result, "esn"));
	if (esn && !hsm_esn_valid(esn))
		esn = NULL;
	id_fp = fingerprint_of(json_string_value(json_object_get(
	    json_object_get(json_object_get(r.result, "identity"), "body"), "identity_key")));
	if (esn &&
	    hsm_chain_load_vendors(hsm_conf_dir(ctx), &vendors, &nvendors, why, sizeof(why)) == 0 &&
	    nvendors > 0 &&
	    hsm_chain_verify(r.result, esn, vendors, nvendors, &chain, why, sizeof(why)) == 0) {
		verified = hsm_ssh_pubkey_cmp(r.host_key, chain.host_keys[HSM_SVC_SSHADMIN]) == 0;
		hsm_chain_clear(&chain);
	}
	hsm_vendor_keys_free(vendors, nvendors);
	hsm_printf(ctx,
		   "%s port %u (nothing was changed or trusted; compare with the HSM's label):\n",
		   addr, port);
	hsm_printf(ctx, "  ESN                  %s\n",
		   esn           ? esn
		   : r.exit == 0 ? "not given"
				 : "not given to an unenrolled host (the HSM is enrolled)");
	hsm_printf(ctx, "  sshadmin host key    %s\n", host_fp ? host_fp : "?");
	hsm_printf(ctx, "  identity key         %s\n", id_fp ? id_fp : "?");
	hsm_printf(ctx, "  vendor chain         %s\n",
		   verified ? "verifies against HSMADMIN_CONF/vendor.d"
		   : esn    ? "does not verify (or no vendor keys here)"
			    : "not offered");
	json_object_set_new(hsm_json(ctx), "address", json_string(addr));
	json_object_set_new(hsm_json(ctx), "port", json_integer(port));
	json_object_set_new(hsm_json(ctx), "esn", esn ? json_string(esn) : json_null());
	json_object_set_new(hsm_json(ctx), "host_key", json_string(r.host_key));
	json_object_set_new(hsm_json(ctx), "host_key_fingerprint",
			    host_fp ? json_string(host_fp) : json_null());
	json_object_set_new(hsm_json(ctx), "identity_fingerprint",
			    id_fp ? json_string(id_fp) : json_null());
	json_object_set_new(hsm_json(ctx), "chain_verified", json_boolean(verified));
	json_object_set_new(hsm_json(ctx), "trusted", json_false());
	free(host_fp);
	free(id_fp);
	hsm_rpc_reply_clear(&r);
	return 0;
}
