/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/tenant/tenant.h - the tenant's enrolled VCMs, shared by every
 * tenant command (vcmtenant, vcmkeys, vcmlogs, enquiry, nopclearfail):
 * checking a configuration file (vcm-config.c), the enrollment records and
 * the call to a VCM's service (records.c), and a module's state as the
 * host sees it (module-state.c).  Part of libhsmadmin-net, because a call
 * goes over SSH; plugins/vcm, which must never load libssh, does not use it.
 */
#ifndef HSM_TENANT_H
#define HSM_TENANT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <jansson.h>
#include <hsmadmin/plugin.h>
#include "transport.h"

/* The three end-user services of a VCM, in the record's order. */
enum { HSM_TENANT_SSHADMIN, HSM_TENANT_NCOREAPI, HSM_TENANT_MONITOR, HSM_TENANT_NSVC };
HSM_API extern const char *const hsm_tenant_services[HSM_TENANT_NSVC];

#define HSM_TENANT_UUID_LEN 36
#define HSM_TENANT_MAX_MODULES 1000

/* What a verified configuration file (docs/formats/vcm-config.md) or an
 * enrollment record (docs/formats/vcm-enrollment.md) says. */
struct hsm_tenant_vcm {
	char uuid[HSM_TENANT_UUID_LEN + 1];
	char esn[32];
	char name[72]; /* "" when none */
	char address[64];
	unsigned ports[HSM_TENANT_NSVC];
	char *host_keys[HSM_TENANT_NSVC]; /* OpenSSH lines */
	char *identity_key;               /* the HSM identity key that signed the certificates */
	int module;                       /* records only */
	long long enrolled;               /* records only */
};
HSM_API void hsm_tenant_vcm_clear(struct hsm_tenant_vcm *v);

HSM_API int hsm_tenant_uuid_valid(const char *s);

/* Check a parsed configuration file: the HSM warrant against the vendor
 * keys, every service certificate against the HSM identity key, the
 * fields each certificate names (esn, service, vcm, address, host_key).
 * 0, or -1 with a reason. */
HSM_API int hsm_tenant_config_verify(const json_t *cfg, EVP_PKEY *const *vendors, size_t nvendors,
				     struct hsm_tenant_vcm *out, char *err, size_t errlen);

/* Enrollment records, $HSMADMIN_HOME/tenant/vcms/<UUID>/. */
HSM_API int hsm_tenant_record_dir(const char *home, const char *uuid, char *buf, size_t len);
/* Parse a record's JSON strictly (exposed for the fuzz target). */
HSM_API int hsm_tenant_record_parse(const json_t *doc, struct hsm_tenant_vcm *out, char *err,
				    size_t errlen);
HSM_API json_t *hsm_tenant_record_json(const struct hsm_tenant_vcm *v);
/* 0 loaded, 1 not enrolled, -1 unreadable or malformed. */
HSM_API int hsm_tenant_record_load(const char *home, const char *uuid, struct hsm_tenant_vcm *out,
				   char *err, size_t errlen);
HSM_API int hsm_tenant_record_save(const char *home, const struct hsm_tenant_vcm *v, char *err,
				   size_t errlen);
/* Every record, sorted by module number; malformed ones are reported
 * through ctx (warning) and skipped. */
HSM_API int hsm_tenant_records_list(struct hsm_ctx *ctx, struct hsm_tenant_vcm **out,
				    size_t *count);
HSM_API void hsm_tenant_records_free(struct hsm_tenant_vcm *v, size_t count);
/* The lowest module number no record holds. */
HSM_API int hsm_tenant_lowest_free_module(const struct hsm_tenant_vcm *v, size_t count);

/* The record of the one VCM --uuid names; reports its own errors (a
 * malformed or unknown UUID is HSM_EXIT_USAGE, an unreadable record
 * HSM_EXIT_FAILED). */
HSM_API int hsm_tenant_record_open(struct hsm_ctx *ctx, struct hsm_tenant_vcm *out);
/* Records addressed by --uuid (or all); reports its own errors. */
HSM_API int hsm_tenant_records_select(struct hsm_ctx *ctx, struct hsm_tenant_vcm **out,
				      size_t *count);

/* Call a service of an enrolled VCM with this tenant's key for it. */
struct hsm_rpc_reply;
HSM_API int hsm_tenant_call(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, int svc,
			    const char *method, const json_t *params, struct hsm_rpc_reply *reply);
/* Same, for a method whose reply streams (struct hsm_rpc_endpoint.sink). */
HSM_API int hsm_tenant_call_sink(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, int svc,
				 const char *method, const json_t *params, hsm_rpc_sink sink,
				 void *sink_arg, struct hsm_rpc_reply *reply);
/* The log verification keys of an enrolled VCM (logs_getkey), checked:
 * the VCM's warrant from the HSM identity key of the record names this VCM
 * and its identity key, which certifies every key.  0 with *keys and *vid
 * (the VCM identity key; new references) and log ("vcm/UUID"), or an exit
 * status with err (log-keys.c). */
HSM_API int hsm_tenant_log_keys(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, json_t **keys,
				EVP_PKEY **vid, char *log, size_t loglen, char *err, size_t errlen);
/* Same, thread-safe (no ctx): home and timeout given. */
HSM_API int hsm_tenant_call_home(const char *home, int timeout, const struct hsm_tenant_vcm *v,
				 int svc, const char *method, const json_t *params,
				 struct hsm_rpc_reply *reply);

/* The boot id of the module this host last acknowledged (enroll, retry,
 * clear): a module that answers with another one restarted under the
 * host and shows as failed until `nopclearfail -r`.  0 or -1 (none). */
HSM_API int hsm_tenant_session_load(const char *home, const char *uuid, char *boot_id, size_t len);
HSM_API int hsm_tenant_session_save(const char *home, const char *uuid, const char *boot_id,
				    char *err, size_t errlen);

/* An enrolled VCM as the host sees it (module-state.c). */
struct hsm_tenant_module {
	const struct hsm_tenant_vcm *vcm;
	int reachable;       /* ncoreapi answered enquiry */
	int failed;          /* unreachable, failed on the device, or restarted */
	int restarted;       /* answered with a boot id not acknowledged */
	char connection[24]; /* OK, Unreachable, AuthFailed, Error */
	char reason[600];
	struct hsm_rpc_reply reply; /* the enquiry (result when reachable) */
};
HSM_API int hsm_tenant_module_query(const char *home, int timeout, const struct hsm_tenant_vcm *v,
				    struct hsm_tenant_module *m);
HSM_API void hsm_tenant_module_clear(struct hsm_tenant_module *m);

#endif
