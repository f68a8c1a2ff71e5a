/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/vcmtenant/vcmtenant.h - the tenant's enrolled VCMs: checking a
 * configuration file, the enrollment records, and the commands that use
 * them (enroll, unenroll, info, getenvstats).  Kept apart from
 * plugins/vcm so that the request tools never load libssh.
 */
#ifndef HSM_PLUGIN_VCMTENANT_H
#define HSM_PLUGIN_VCMTENANT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <jansson.h>
#include <hsmadmin/plugin.h>

/* The three end-user services of a VCM, in the record's order. */
enum { VT_SSHADMIN, VT_NCOREAPI, VT_MONITOR, VT_NSVC };
extern const char *const vt_services[VT_NSVC];

#define VT_UUID_LEN 36
#define VT_MAX_MODULES 1000

/* What a verified configuration file (docs/formats/vcm-config.md) or an
 * enrollment record (docs/formats/vcm-enrollment.md) says. */
struct vt_vcm {
	char uuid[VT_UUID_LEN + 1];
	char esn[32];
	char name[72];                 /* "" when none */
	char address[64];
	unsigned ports[VT_NSVC];
	char *host_keys[VT_NSVC];      /* OpenSSH lines */
	char *identity_key;            /* the HSM identity key that signed the certificates */
	int module;                    /* records only */
	long long enrolled;            /* records only */
};
void vt_vcm_clear(struct vt_vcm *v);

int vt_uuid_valid(const char *s);
/* A VCM's answer is outside input: a printable copy for the terminal
 * (control and non-ASCII bytes become '?', at most len - 1 bytes). */
const char *vt_safe(const char *s, char *buf, size_t len);

/* Check a parsed configuration file: the HSM warrant against the vendor
 * keys, every service certificate against the HSM identity key, the
 * fields each certificate names (esn, service, vcm, address, host_key).
 * 0, or -1 with a reason. */
int vt_config_verify(const json_t *cfg, EVP_PKEY *const *vendors, size_t nvendors,
		     struct vt_vcm *out, char *err, size_t errlen);

/* Enrollment records, $HSMADMIN_HOME/tenant/vcms/<UUID>/. */
int vt_record_dir(const char *home, const char *uuid, char *buf, size_t len);
/* Parse a record's JSON strictly (exposed for the fuzz target). */
int vt_record_parse(const json_t *doc, struct vt_vcm *out, char *err, size_t errlen);
json_t *vt_record_json(const struct vt_vcm *v);
/* 0 loaded, 1 not enrolled, -1 unreadable or malformed. */
int vt_record_load(const char *home, const char *uuid, struct vt_vcm *out, char *err, size_t errlen);
int vt_record_save(const char *home, const struct vt_vcm *v, char *err, size_t errlen);
/* Every record, sorted by module number; malformed ones are reported
 * through ctx (warning) and skipped. */
int vt_records_list(struct hsm_ctx *ctx, struct vt_vcm **out, size_t *count);
void vt_records_free(struct vt_vcm *v, size_t count);
/* The lowest module number no record holds. */
int vt_module_free(const struct vt_vcm *v, size_t count);

/* Records addressed by --uuid (or all); reports its own errors. */
int vt_records_select(struct hsm_ctx *ctx, struct vt_vcm **out, size_t *count);

/* Call a service of an enrolled VCM with this tenant's key for it. */
struct hsm_rpc_reply;
int vt_call(struct hsm_ctx *ctx, const struct vt_vcm *v, int svc, const char *method,
	    const json_t *params, struct hsm_rpc_reply *reply);
/* Same, thread-safe (no ctx): home and timeout given. */
int vt_call_home(const char *home, int timeout, const struct vt_vcm *v, int svc, const char *method,
		 const json_t *params, struct hsm_rpc_reply *reply);

/* The boot id of the module this host last acknowledged (enroll, retry,
 * clear): a module that answers with another one restarted under the
 * host and shows as failed until `nopclearfail -r`.  0 or -1 (none). */
int vt_session_load(const char *home, const char *uuid, char *boot_id, size_t len);
int vt_session_save(const char *home, const char *uuid, const char *boot_id, char *err, size_t errlen);

/* An enrolled VCM as the host sees it (module.c). */
#include "transport.h"
struct vt_module {
	const struct vt_vcm *vcm;
	int reachable;                 /* ncoreapi answered enquiry */
	int failed;                    /* unreachable, failed on the device, or restarted */
	int restarted;                 /* answered with a boot id not acknowledged */
	char connection[24];           /* OK, Unreachable, AuthFailed, Error */
	char reason[600];
	struct hsm_rpc_reply reply;    /* the enquiry (result when reachable) */
};
int vt_module_query(const char *home, int timeout, const struct vt_vcm *v, struct vt_module *m);
void vt_module_clear(struct vt_module *m);

int vt_cmd_enroll(struct hsm_ctx *ctx);
int vt_cmd_unenroll(struct hsm_ctx *ctx);
int vt_cmd_info(struct hsm_ctx *ctx);
int vt_cmd_getenvstats(struct hsm_ctx *ctx);

#endif
