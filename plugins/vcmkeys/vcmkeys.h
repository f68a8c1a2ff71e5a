/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/vcmkeys/vcmkeys.h - the tenant's Security World and keys:
 * the key-management directory (kmdata.c), `vcm world` (vcm-world.c) and
 * `vcm key` (vcmkeys.c).
 */
#ifndef HSM_PLUGIN_VCMKEYS_H
#define HSM_PLUGIN_VCMKEYS_H

#include <stddef.h>
#include <jansson.h>
#include <hsmadmin/plugin.h>
#include "transport.h"
#include "tenant.h"
#include "world.h"

/* Largest kmdata or card file read. */
#define KM_FILE_MAX (64u * 1024u)

/* The key-management directory: $NFAST_KMDATA when set, else
 * $HSMADMIN_HOME/kmdata.  create: make it (0700) when missing. */
int km_dir(struct hsm_ctx *ctx, char *buf, size_t len, int create);
/* kmdata/<file>. */
int km_path(struct hsm_ctx *ctx, const char *file, char *buf, size_t len, int create);
/* Write a new file: never replaces an existing one (no-replace rename),
 * durable (fsync file and directory) before returning 0. */
int km_write_new(const char *path, const json_t *doc, mode_t mode, char *err, size_t errlen);
/* The world file, parsed as JSON (its signature is checked by the
 * caller that needs it).  0, 1 when there is none, or -1 (reported). */
int km_world_load(struct hsm_ctx *ctx, json_t **doc);

/* One ncoreapi call on VCM v; 0, or the exit status (reported). */
int vk_ncore(struct hsm_ctx *ctx, const struct hsm_tenant_vcm *v, const char *method,
	     json_t *params, struct hsm_rpc_reply *r);

/* A passphrase for one card: line i of --passphrase-file (one file per
 * card, first line), else asked on /dev/tty (twice when confirm). */
int vk_passphrase(struct hsm_ctx *ctx, size_t i, const char *prompt, int confirm, char **out);

/* The names of the key blobs in kmdata (of world, or all when NULL),
 * sorted; unreadable files are warned about and skipped. */
int vk_blob_names(struct hsm_ctx *ctx, const char *world, json_t **names);

/* The VCM a command acts on: the one --uuid names, or for the guide's
 * tools (tools.c) the enrolled VCM whose module number (enquiry's) -m
 * MODULE or new-world's -S MODULE gives, by default module 1.  Reports
 * its own errors. */
int vk_vcm_open(struct hsm_ctx *ctx, struct hsm_tenant_vcm *v);
/* Is the running command one of the guide's tools (tools.c)? */
int vk_is_tool(struct hsm_ctx *ctx);

/* vcm key generate: a key of this name and type as a blob in kmdata. */
int vk_generate(struct hsm_ctx *ctx, const char *name, const char *type);
int vk_cmd_list(struct hsm_ctx *ctx);

/* vcm world create with this quorum ("K/N"; errors name quorum_opt). */
int vw_create(struct hsm_ctx *ctx, const char *quorum, const char *quorum_opt);
int vw_cmd_create(struct hsm_ctx *ctx);
int vw_cmd_load(struct hsm_ctx *ctx);
int vw_cmd_info(struct hsm_ctx *ctx);

/* The guide's tool names (tools.c): new-world, generatekey, nfkminfo. */
extern const struct hsm_option nw_opts[], gk_opts[], nfk_opts[];
int nw_cmd(struct hsm_ctx *ctx);
int gk_cmd(struct hsm_ctx *ctx);
int nfk_cmd(struct hsm_ctx *ctx);

#endif
