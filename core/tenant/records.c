/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/tenant/records.c - the tenant's enrollment records (docs/formats/vcm-enrollment.md):
 * $HSMADMIN_HOME/tenant/vcms/<UUID>/enrollment.json, written atomically
 * and last, so a directory without it is an enrollment that never
 * finished and is ignored (and replaced by the next enroll).
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
#include "hostkeys.h"
#include "transport.h"

#include "tenant.h"

#define RECORD_MAX (64u * 1024u)

int hsm_tenant_record_dir(const char *home, const char *uuid, char *buf, size_t len)
{
	int n = uuid ? snprintf(buf, len, "%s/tenant/vcms/%s", home, uuid)
		     : snprintf(buf, len, "%s/tenant/vcms", home);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int text(char *dst, size_t len, const char *src)
{
	if (!src || !*src || strlen(src) >= len)
		return -1;
	for (const char *c = src; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int hsm_tenant_record_parse(const json_t *doc, struct hsm_tenant_vcm *out, char *err, size_t errlen)
{
	const char *uuid, *esn, *name = NULL, *address, *identity;
	json_t *ports, *keys;
	json_int_t module, enrolled;
	char jwhy[256];

	memset(out, 0, sizeof(*out));
	if (hsm_json_unpack((json_t *)doc, JSON_STRICT, jwhy, sizeof(jwhy),
			    "{s:s, s:s, s?s, s:s, s:o, s:o, s:s, s:I, s:I}", "uuid", &uuid, "esn",
			    &esn, "name", &name, "address", &address, "ports", &ports, "host_keys",
			    &keys, "identity_key", &identity, "module", &module, "enrolled",
			    &enrolled) < 0)
		return hsm_set_err(err, errlen, "%s", jwhy);
	if (!hsm_tenant_uuid_valid(uuid))
		return hsm_set_err(err, errlen, "uuid: not a lower-case UUID");
	memcpy(out->uuid, uuid, HSM_TENANT_UUID_LEN + 1);
	if (text(out->esn, sizeof(out->esn), esn) ||
	    text(out->address, sizeof(out->address), address) ||
	    (name && text(out->name, sizeof(out->name), name)))
		return hsm_set_err(err, errlen,
				   "esn, address or name: empty, too long or not printable");
	if (module < 1 || module > HSM_TENANT_MAX_MODULES)
		return hsm_set_err(err, errlen, "module: not 1-%d", HSM_TENANT_MAX_MODULES);
	out->module = (int)module;
	out->enrolled = enrolled;
	if (!json_is_object(ports) || json_object_size(ports) != HSM_TENANT_NSVC ||
	    !json_is_object(keys) || json_object_size(keys) != HSM_TENANT_NSVC)
		return hsm_set_err(err, errlen, "ports and host_keys: one member per VCM service");
	if (!hsm_ssh_pubkey_valid(identity) || !(out->identity_key = strdup(identity))) {
		hsm_tenant_vcm_clear(out);
		return hsm_set_err(err, errlen, "identity_key: not an ssh-ed25519 key");
	}
	for (int s = 0; s < HSM_TENANT_NSVC; s++) {
		json_t *p = json_object_get(ports, hsm_tenant_services[s]);
		const char *k = json_string_value(json_object_get(keys, hsm_tenant_services[s]));

		if (!json_is_integer(p) || json_integer_value(p) < 1 ||
		    json_integer_value(p) > 65535) {
			hsm_tenant_vcm_clear(out);
			return hsm_set_err(err, errlen, "ports.%s: not a port",
					   hsm_tenant_services[s]);
		}
		out->ports[s] = (unsigned)json_integer_value(p);
		if (!k || !hsm_ssh_pubkey_valid(k) || !(out->host_keys[s] = strdup(k))) {
			hsm_tenant_vcm_clear(out);
			return hsm_set_err(err, errlen, "host_keys.%s: not an ssh-ed25519 key",
					   hsm_tenant_services[s]);
		}
	}
	return 0;
}

json_t *hsm_tenant_record_json(const struct hsm_tenant_vcm *v)
{
	json_t *ports = json_object(), *keys = json_object(), *doc;

	for (int s = 0; s < HSM_TENANT_NSVC; s++) {
		json_object_set_new(ports, hsm_tenant_services[s], json_integer(v->ports[s]));
		json_object_set_new(keys, hsm_tenant_services[s], json_string(v->host_keys[s]));
	}
	doc = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:i, s:I}", "uuid", v->uuid, "esn", v->esn,
			"address", v->address, "ports", ports, "host_keys", keys, "identity_key",
			v->identity_key, "module", v->module, "enrolled", (json_int_t)v->enrolled);
	if (doc && v->name[0])
		json_object_set_new(doc, "name", json_string(v->name));
	return doc;
}

int hsm_tenant_record_load(const char *home, const char *uuid, struct hsm_tenant_vcm *out,
			   char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], why[256];
	json_t *doc;
	int rc;

	memset(out, 0, sizeof(*out));
	if (hsm_tenant_record_dir(home, uuid, dir, sizeof(dir)) != 0)
		return hsm_set_err(err, errlen, "HSMADMIN_HOME path too long");
	snprintf(path, sizeof(path), "%s/enrollment.json", dir);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 1;
	if (!(doc = hsm_json_load_file(path, RECORD_MAX, why, sizeof(why))))
		return hsm_set_err(err, errlen, "%s: %s", path, why);
	rc = hsm_tenant_record_parse(doc, out, why, sizeof(why));
	json_decref(doc);
	if (rc == 0 && strcmp(out->uuid, uuid) != 0) {
		hsm_tenant_vcm_clear(out);
		snprintf(why, sizeof(why), "names another UUID than its directory");
		rc = -1;
	}
	return rc == 0 ? 0 : hsm_set_err(err, errlen, "%s: %s", path, why);
}

int hsm_tenant_record_save(const char *home, const struct hsm_tenant_vcm *v, char *err,
			   size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	json_t *doc = hsm_tenant_record_json(v);
	int rc;

	if (!doc || hsm_tenant_record_dir(home, v->uuid, dir, sizeof(dir)) != 0) {
		json_decref(doc);
		return hsm_set_err(err, errlen, "cannot build the enrollment record");
	}
	snprintf(path, sizeof(path), "%s/enrollment.json", dir);
	rc = hsm_write_json_atomic(path, doc, 0600, err, errlen);
	json_decref(doc);
	return rc;
}

void hsm_tenant_records_free(struct hsm_tenant_vcm *v, size_t count)
{
	for (size_t i = 0; i < count; i++)
		hsm_tenant_vcm_clear(&v[i]);
	free(v);
}

static int by_module(const void *a, const void *b)
{
	return ((const struct hsm_tenant_vcm *)a)->module -
	       ((const struct hsm_tenant_vcm *)b)->module;
}

int hsm_tenant_records_list(struct hsm_ctx *ctx, struct hsm_tenant_vcm **out, size_t *count)
{
	char dir[PATH_MAX], err[512];
	struct dirent **names = NULL;
	struct hsm_tenant_vcm *v;
	size_t k = 0;
	int n;

	*out = NULL;
	*count = 0;
	if (hsm_tenant_record_dir(hsm_home(ctx), NULL, dir, sizeof(dir)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "HSMADMIN_HOME", "path too long");
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT
			   ? 0
			   : hsm_error(ctx, HSM_EXIT_FAILED, dir, "%s", strerror(errno));
	v = calloc((size_t)n + 1, sizeof(*v));
	for (int i = 0; i < n; i++) {
		if (v && hsm_tenant_uuid_valid(names[i]->d_name)) {
			int rc = hsm_tenant_record_load(hsm_home(ctx), names[i]->d_name, &v[k], err,
							sizeof(err));
			if (rc == 0)
				k++;
			else if (rc < 0)
				hsm_warn(ctx, "skipped %s", err);
		}
		free(names[i]);
	}
	free(names);
	if (!v)
		return hsm_error(ctx, HSM_EXIT_FAILED, "records", "out of memory");
	qsort(v, k, sizeof(*v), by_module);
	*out = v;
	*count = k;
	return 0;
}

int hsm_tenant_lowest_free_module(const struct hsm_tenant_vcm *v, size_t count)
{
	for (int m = 1; m <= HSM_TENANT_MAX_MODULES; m++) {
		size_t i;
		for (i = 0; i < count && v[i].module != m; i++)
			;
		if (i == count)
			return m;
	}
	return -1;
}

int hsm_tenant_record_open(struct hsm_ctx *ctx, struct hsm_tenant_vcm *out)
{
	char uuid[HSM_UUID_LEN + 1], err[256];
	int rc = hsm_opt_uuid(ctx, "uuid", uuid);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	if (!uuid[0])
		return hsm_error(ctx, HSM_EXIT_USAGE, "--uuid", "a VCM UUID is required");
	switch (hsm_tenant_record_load(hsm_home(ctx), uuid, out, err, sizeof(err))) {
	case 0:
		return 0;
	case 1:
		return hsm_error(ctx, HSM_EXIT_USAGE, uuid,
				 "no enrolled VCM with this UUID (hsmadmin vcm enroll)");
	default:
		return hsm_error(ctx, HSM_EXIT_FAILED, uuid, "enrollment record: %s", err);
	}
}

int hsm_tenant_records_select(struct hsm_ctx *ctx, struct hsm_tenant_vcm **out, size_t *count)
{
	char canon[HSM_UUID_LEN + 1];
	const char *uuid = hsm_opt_given(ctx, "uuid") ? canon : NULL;
	int rc = hsm_opt_uuid(ctx, "uuid", canon);
	size_t k = 0;

	if (rc)
		return rc;
	if ((rc = hsm_tenant_records_list(ctx, out, count)))
		return rc;
	/* --esn: only the VCMs those HSMs host. */
	if (hsm_esn_count(ctx) > 0) {
		size_t keep = 0;
		for (size_t i = 0; i < *count; i++) {
			int want = 0;
			for (size_t e = 0; e < hsm_esn_count(ctx); e++)
				want |= strcmp((*out)[i].esn, hsm_esn_at(ctx, e)) == 0;
			if (want) {
				struct hsm_tenant_vcm t = (*out)[keep];
				(*out)[keep++] = (*out)[i];
				(*out)[i] = t;
			}
		}
		for (size_t i = keep; i < *count; i++)
			hsm_tenant_vcm_clear(&(*out)[i]);
		*count = keep;
	}
	if (uuid) {
		for (size_t i = 0; i < *count; i++) {
			if (strcmp((*out)[i].uuid, uuid) == 0) {
				struct hsm_tenant_vcm t = (*out)[k];
				(*out)[k++] = (*out)[i];
				(*out)[i] = t;
			}
		}
		for (size_t i = k; i < *count; i++)
			hsm_tenant_vcm_clear(&(*out)[i]);
		*count = k;
	}
	if (!*count) {
		free(*out);
		*out = NULL;
		return uuid ? hsm_error(ctx, HSM_EXIT_USAGE, uuid, "no enrolled VCM with this UUID")
			    : hsm_error(ctx, HSM_EXIT_FAILED, "vcm",
					"no enrolled VCM (hsmadmin vcm enroll)");
	}
	return 0;
}

static int call_vcm(const char *home, int timeout, const struct hsm_tenant_vcm *v, int svc,
		    const char *method, const json_t *params, hsm_rpc_sink sink, void *sink_arg,
		    struct hsm_rpc_reply *reply);

int hsm_tenant_call_home(const char *home, int timeout, const struct hsm_tenant_vcm *v, int svc,
			 const char *method, const json_t *params, struct hsm_rpc_reply *reply)
{
	return call_vcm(home, timeout, v, svc, method, params, NULL, NULL, reply);
}

int hsm_tenant_call_sink(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, int svc,
			 const char *method, const json_t *params, hsm_rpc_sink sink,
			 void *sink_arg, struct hsm_rpc_reply *reply)
{
	return call_vcm(hsm_home(ctx), hsm_timeout(ctx), v, svc, method, params, sink, sink_arg,
			reply);
}

static int call_vcm(const char *home, int timeout, const struct hsm_tenant_vcm *v, int svc,
		    const char *method, const json_t *params, hsm_rpc_sink sink, void *sink_arg,
		    struct hsm_rpc_reply *reply)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], why[256];
	struct hsm_client_key *key;
	struct hsm_rpc_endpoint ep = {
		.label = v->uuid,
		.service = hsm_tenant_services[svc],
		.address = v->address,
		.port = v->ports[svc],
		.host_key = v->host_keys[svc],
		.sink = sink,
		.sink_arg = sink_arg,
	};
	int rc;

	memset(reply, 0, sizeof(*reply));
	if (hsm_tenant_record_dir(home, v->uuid, dir, sizeof(dir)) != 0)
		return reply->exit = HSM_EXIT_FAILED;
	snprintf(path, sizeof(path), "%s/%s.key", dir, hsm_tenant_services[svc]);
	if (!(key =
		  hsm_client_key_load_as(home, path, hsm_tenant_services[svc], why, sizeof(why)))) {
		return hsm_rpc_reply_fail(reply, HSM_EXIT_FAILED, "local", "%s key: %s",
					  hsm_tenant_services[svc], why);
	}
	ep.client_key = key;
	rc = hsm_rpc_exec(&ep, method, params, timeout, reply);
	hsm_client_key_free(key);
	return rc;
}

int hsm_tenant_call(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, int svc,
		    const char *method, const json_t *params, struct hsm_rpc_reply *reply)
{
	return hsm_tenant_call_home(hsm_home(ctx), hsm_timeout(ctx), v, svc, method, params, reply);
}

/* The host's view of a module's boot (docs/formats/vcm-enrollment.md,
 * session.json): the boot id this host last acknowledged. */
int hsm_tenant_session_load(const char *home, const char *uuid, char *boot_id, size_t len)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	const char *b;
	json_t *doc;

	boot_id[0] = '\0';
	if (hsm_tenant_record_dir(home, uuid, dir, sizeof(dir)) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/session.json", dir);
	if (!(doc = hsm_json_load_file(path, 4096, NULL, 0)))
		return -1;
	b = json_string_value(json_object_get(doc, "boot_id"));
	if (!b || strlen(b) >= len || json_object_size(doc) != 2 ||
	    !json_is_integer(json_object_get(doc, "acknowledged"))) {
		json_decref(doc);
		return -1;
	}
	memcpy(boot_id, b, strlen(b) + 1);
	json_decref(doc);
	return 0;
}

int hsm_tenant_session_save(const char *home, const char *uuid, const char *boot_id, char *err,
			    size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	json_t *doc;
	int rc;

	if (hsm_tenant_record_dir(home, uuid, dir, sizeof(dir)) != 0)
		return hsm_set_err(err, errlen, "HSMADMIN_HOME path too long");
	snprintf(path, sizeof(path), "%s/session.json", dir);
	doc = json_pack("{s:s, s:I}", "boot_id", boot_id, "acknowledged", (json_int_t)time(NULL));
	rc = doc ? hsm_write_json_atomic(path, doc, 0600, err, errlen)
		 : hsm_set_err(err, errlen, "out of memory");
	json_decref(doc);
	return rc;
}
