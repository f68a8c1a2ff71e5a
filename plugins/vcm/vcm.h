/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/vcm/vcm.h - what the files of the vcm plugin share.
 */
#ifndef HSM_PLUGIN_VCM_H
#define HSM_PLUGIN_VCM_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h>

struct hsm_request;

/* The tenant's keys live under $HSMADMIN_HOME/tenant/ (0700):
 *   request.key / request.pub             signs the tenant's requests
 *   vcm-sshadmin.key / vcm-sshadmin.pub   the client key for the VCM's sshadmin
 * Private keys are protected key files (docs/formats/keys.md) under the
 * protection of "tenantreq" (request.key) and "sshadmin" (vcm-sshadmin.key),
 * with NFAST_<SERVICE>_KEYPROT and NFAST_<SERVICE>_GROUP honoured; keys
 * written as PKCS#8 PEM by earlier versions are still read.  Public keys
 * are one OpenSSH line. */
#define VCM_TENANT_DIR "tenant"
#define VCM_REQUEST_KEY "request"
#define VCM_SSHADMIN_KEY "vcm-sshadmin"

struct vcm_key {
	EVP_PKEY *key;
	char *path;    /* private key file */
	int generated; /* made by this run */
};

/* Load the named tenant key, or (create != 0) generate and store it when
 * there is none.  Returns an exit code; errors are reported through ctx. */
int vcm_tenant_key(struct hsm_ctx *ctx, const char *name, int create, struct vcm_key *out);
void vcm_key_release(struct vcm_key *k);
/* Path of a tenant file ($HSMADMIN_HOME/tenant/<name><suffix>), malloc'ed. */
char *vcm_tenant_path(struct hsm_ctx *ctx, const char *name, const char *suffix);

/* Write data to a new file atomically; refuses (EEXIST) to replace one. */
int vcm_write_new_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
		       size_t errlen);

/* The stable JSON description of a request (inspect-request --json and
 * the result of the request-writing commands). */
json_t *vcm_request_describe(const struct hsm_request *req, int64_t now);
/* The same for people, through hsm_printf. */
void vcm_request_print(struct hsm_ctx *ctx, const struct hsm_request *req, int64_t now);

/* Commands. */
int vcm_cmd_create(struct hsm_ctx *ctx);
int vcm_cmd_start(struct hsm_ctx *ctx);
int vcm_cmd_setproperties(struct hsm_ctx *ctx);
int vcm_cmd_inspect_request(struct hsm_ctx *ctx);

#endif
