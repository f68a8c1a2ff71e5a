/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcm-enroll.c - hsmadmin vcm enroll / unenroll (guide 4.10.1.16.3-4).
 *
 * Enroll: check the configuration file's signatures, reach the VCM's
 * sshadmin with the tenant's key (the VCM is born enrolled to it) and the
 * certified host key pinned before authenticating, check that every host
 * key the VCM presents is the certified one, install a fresh ncoreapi and
 * monitor client key with set_key, and write the record last.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "hostkeys.h"
#include "transport.h"
#include "chain.h"

#include "vcmtenant.h"

#define CONFIG_MAX (256u * 1024u)

static int verify_config(struct hsm_ctx *ctx, const char *file, struct hsm_tenant_vcm *v)
{
	char err[512];
	EVP_PKEY **vendors = NULL;
	size_t nvendors = 0;
	json_t *cfg;
	int rc;

	if (!(cfg = hsm_json_load_file(file, CONFIG_MAX, err, sizeof(err))))
		return hsm_error(ctx, HSM_EXIT_USAGE, file, "%s", err);
	if (hsm_chain_load_vendors(hsm_conf_dir(ctx), &vendors, &nvendors, err, sizeof(err)) != 0) {
		json_decref(cfg);
		return hsm_error(ctx, HSM_EXIT_FAILED, "vendor keys", "%s", err);
	}
	rc = hsm_tenant_config_verify(cfg, vendors, nvendors, v, err, sizeof(err));
	hsm_vendor_keys_free(vendors, nvendors);
	json_decref(cfg);
	if (rc != 0)
		return hsm_error(ctx,
				 strstr(err, "signed") || strstr(err, "differs") ? HSM_EXIT_AUTH
										 : HSM_EXIT_USAGE,
				 file, "%s", err);
	return 0;
}

static int reply_error(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, const char *what,
		       const struct hsm_rpc_reply *r)
{
	return hsm_error(ctx, r->exit ? r->exit : HSM_EXIT_FAILED, v->uuid, "%s: %s", what,
			 r->message);
}

/* Every host key the VCM presents must be the certified one. */
static int check_hostkeys(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, const json_t *result)
{
	const json_t *services = json_object_get(result, "services");

	for (int s = 0; s < HSM_TENANT_NSVC; s++) {
		const char *k = json_string_value(
		    json_object_get(json_object_get(services, hsm_tenant_services[s]), "host_key"));
		if (!k || hsm_ssh_pubkey_cmp(k, v->host_keys[s]) != 0)
			return hsm_error(ctx, HSM_EXIT_AUTH, v->uuid,
					 "the VCM's %s host key is not the "
					 "one its certificate names",
					 hsm_tenant_services[s]);
	}
	return 0;
}

static int remove_dir(const char *dir)
{
	char path[PATH_MAX + 32];
	static const char *const files[] = { "enrollment.json", "session.json", "ncoreapi.key",
					     "monitor.key", NULL };

	for (int i = 0; files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			return -1;
	}
	return rmdir(dir) != 0 && errno != ENOENT ? -1 : 0;
}

/* Generate, save and install the client key of one service. */
static int install_key(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, const char *dir,
		       int svc, const struct hsm_rpc_endpoint *ep)
{
	char path[PATH_MAX + 32], err[256];
	struct hsm_client_key *key = hsm_client_key_generate(err, sizeof(err));
	struct hsm_rpc_reply r;
	char *pub;
	json_t *params;
	int rc;

	if (!key)
		return hsm_error(ctx, HSM_EXIT_FAILED, hsm_tenant_services[svc], "key: %s", err);
	snprintf(path, sizeof(path), "%s/%s.key", dir, hsm_tenant_services[svc]);
	if (hsm_client_key_save(key, hsm_home(ctx), path, hsm_tenant_services[svc],
				HSM_CLIENT_KEY_REPLACE, err, sizeof(err)) != 0) {
		hsm_client_key_free(key);
		return hsm_error(ctx, HSM_EXIT_FAILED, path, "%s", err);
	}
	pub = hsm_client_key_public(key);
	hsm_client_key_free(key);
	params =
	    json_pack("{s:s, s:s}", "service", hsm_tenant_services[svc], "key", pub ? pub : "");
	free(pub);
	memset(&r, 0, sizeof(r));
	rc = hsm_rpc_exec(ep, "set_key", params, hsm_timeout(ctx), &r);
	json_decref(params);
	if (rc != 0)
		rc = reply_error(ctx, v, "set_key", &r);
	else
		hsm_verbosef(ctx, "installed the %s client key", hsm_tenant_services[svc]);
	hsm_rpc_reply_clear(&r);
	return rc;
}

int vt_cmd_enroll(struct hsm_ctx *ctx)
{
	char dir[PATH_MAX], keypath[PATH_MAX], err[512];
	struct hsm_tenant_vcm v, *have = NULL;
	size_t nhave = 0;
	struct hsm_client_key *sshkey = NULL;
	struct hsm_rpc_reply r;
	struct hsm_rpc_endpoint ep;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = verify_config(ctx, hsm_opt_str(ctx, "config"), &v)) != 0)
		return rc;
	for (size_t e = 0; e < hsm_esn_count(ctx); e++)
		if (strcmp(hsm_esn_at(ctx, e), v.esn) != 0) {
			rc = hsm_error(ctx, HSM_EXIT_USAGE, hsm_opt_str(ctx, "config"),
				       "the VCM is on HSM %s, "
				       "not %s (--esn)",
				       v.esn, hsm_esn_at(ctx, e));
			goto out;
		}
	if ((rc = hsm_tenant_records_list(ctx, &have, &nhave)) != 0)
		goto out;
	for (size_t i = 0; i < nhave; i++) {
		if (strcmp(have[i].uuid, v.uuid) == 0) {
			rc = hsm_error(ctx, HSM_EXIT_STATE, v.uuid,
				       "already enrolled as module %d; "
				       "unenroll it first (hsmadmin vcm unenroll %s)",
				       have[i].module, v.uuid);
			goto out;
		}
		if (strcmp(have[i].esn, v.esn) == 0) {
			rc = hsm_error(ctx, HSM_EXIT_STATE, v.uuid,
				       "VCM %s on the same HSM %s is already "
				       "enrolled (module %d): one VCM per HSM; unenroll it first",
				       have[i].uuid, v.esn, have[i].module);
			goto out;
		}
	}
	if ((v.module = hsm_tenant_lowest_free_module(have, nhave)) < 0) {
		rc = hsm_error(ctx, HSM_EXIT_STATE, v.uuid, "no free module number");
		goto out;
	}
	snprintf(keypath, sizeof(keypath), "%s/tenant/vcm-sshadmin.key", hsm_home(ctx));
	if (!(sshkey =
		  hsm_client_key_load_as(hsm_home(ctx), keypath, "sshadmin", err, sizeof(err)))) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "tenant sshadmin key",
			       "%s (made by hsmadmin vcm "
			       "create)",
			       err);
		goto out;
	}
	ep = (struct hsm_rpc_endpoint){ .label = v.uuid,
					.service = "sshadmin",
					.address = v.address,
					.port = v.ports[HSM_TENANT_SSHADMIN],
					.client_key = sshkey,
					.host_key = v.host_keys[HSM_TENANT_SSHADMIN] };
	if (hsm_rpc_exec(&ep, "hostkeys", NULL, hsm_timeout(ctx), &r) != 0) {
		rc = reply_error(ctx, &v, "sshadmin", &r);
		goto out;
	}
	if ((rc = check_hostkeys(ctx, &v, r.result)) != 0)
		goto out;
	if (hsm_tenant_record_dir(hsm_home(ctx), v.uuid, dir, sizeof(dir)) != 0 ||
	    hsm_mkdir_p(dir, 0700, err, sizeof(err)) != 0) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, dir, "%s", err);
		goto out;
	}
	if ((rc = install_key(ctx, &v, dir, HSM_TENANT_NCOREAPI, &ep)) != 0 ||
	    (rc = install_key(ctx, &v, dir, HSM_TENANT_MONITOR, &ep)) != 0) {
		remove_dir(dir);
		goto out;
	}
	v.enrolled = (long long)time(NULL);
	if (hsm_tenant_record_save(hsm_home(ctx), &v, err, sizeof(err)) != 0) {
		remove_dir(dir);
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "enrollment record", "%s", err);
		goto out;
	}
	/* The boot this enrollment saw: enquiry compares later ones with it. */
	hsm_rpc_reply_clear(&r);
	if (hsm_tenant_call(ctx, &v, HSM_TENANT_NCOREAPI, "enquiry", NULL, &r) != 0) {
		hsm_warn(ctx, "ncoreapi of the new VCM does not answer yet: %s", r.message);
	} else if (hsm_tenant_session_save(hsm_home(ctx), v.uuid,
					   json_string_value(json_object_get(r.result, "boot_id"))
					       ?: "",
					   err, sizeof(err)) != 0) {
		hsm_warn(ctx, "%s", err);
	}
	if (hsm_opt_given(ctx, "no-service-restart"))
		hsm_verbosef(ctx, "--no-service-restart: no host service to restart");
	hsm_printf(ctx, "Enrolled VCM %s as module %d\n", v.uuid, v.module);
	hsm_printf(ctx, "  HSM ESN    : %s\n  address    : %s\n", v.esn, v.address);
	if (v.name[0])
		hsm_printf(ctx, "  name       : %s\n", v.name);
	json_object_set_new(hsm_json(ctx), "enrollment", hsm_tenant_record_json(&v));
out:
	hsm_rpc_reply_clear(&r);
	hsm_client_key_free(sshkey);
	hsm_tenant_records_free(have, nhave);
	hsm_tenant_vcm_clear(&v);
	return rc;
}

int vt_cmd_unenroll(struct hsm_ctx *ctx)
{
	char uuid[HSM_UUID_LEN + 1];
	char dir[PATH_MAX], err[512];
	struct hsm_tenant_vcm v;
	int rc;

	if ((rc = hsm_opt_uuid(ctx, "uuid", uuid)))
		return rc;
	rc = hsm_tenant_record_load(hsm_home(ctx), uuid, &v, err, sizeof(err));
	if (rc == 1)
		return hsm_error(ctx, HSM_EXIT_USAGE, uuid, "no enrolled VCM with this UUID");
	if (hsm_tenant_record_dir(hsm_home(ctx), uuid, dir, sizeof(dir)) != 0 ||
	    remove_dir(dir) != 0) {
		if (rc == 0)
			hsm_tenant_vcm_clear(&v);
		return hsm_error(ctx, HSM_EXIT_FAILED, dir, "%s", strerror(errno));
	}
	hsm_printf(ctx, "Unenrolled VCM %s%s\n", uuid, rc == 0 ? "" : " (its record was damaged)");
	json_object_set_new(hsm_json(ctx), "unenrolled", json_string(uuid));
	if (rc == 0) {
		json_object_set_new(hsm_json(ctx), "module", json_integer(v.module));
		hsm_tenant_vcm_clear(&v);
	}
	return 0;
}
