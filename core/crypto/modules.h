/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/modules.h - the HSMs this host knows: $HSMADMIN_CONF/modules.d.
 *
 * One INI file per HSM (docs/formats/modules.md):
 *
 *   [module]
 *   esn = 1A23-BC45-6789
 *   address = 127.0.0.2
 *   [ports]            ; optional, every key optional
 *   setup = 2202
 *
 * In-tree API of libhsmadmin-net (exported for the in-tree plugins; not
 * installed).  Functions return 0 on success, -1 with a one-line reason in
 * err.
 */
#ifndef HSMADMIN_NET_MODULES_H
#define HSMADMIN_NET_MODULES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <hsmadmin/plugin.h> /* HSM_API */

/* The platform services, in port order (guide 4.6). */
enum hsm_service {
	HSM_SVC_SSHADMIN = 0, /* 2201 */
	HSM_SVC_SETUP,        /* 2202 */
	HSM_SVC_NCOREAPI,     /* 2203 */
	HSM_SVC_UPDATER,      /* 2204 */
	HSM_SVC_LAUNCHER,     /* 2205 */
	HSM_SVC_MONITOR,      /* 2206 */
	HSM_SVC_ORCHESTRATOR, /* 2207 */
	HSM_SVC_COUNT
};

/* "sshadmin", ... or NULL for an out-of-range value. */
HSM_API const char *hsm_service_name(int svc);
/* enum hsm_service of a name, or -1. */
HSM_API int hsm_service_lookup(const char *name);
HSM_API unsigned hsm_service_default_port(int svc);

/* An ESN is three groups of four upper-case letters or digits joined by
 * '-' ("1A23-BC45-6789"). */
#define HSM_ESN_LEN 14
HSM_API int hsm_esn_valid(const char *esn);
/* Copy esn to out in upper case when it is valid in any case (for command
 * line input); returns -1 otherwise. */
HSM_API int hsm_esn_normalize(const char *esn, char out[HSM_ESN_LEN + 1]);

struct hsm_module {
	char esn[HSM_ESN_LEN + 1];
	char address[INET6_ADDRSTRLEN]; /* IPv4 or IPv6 literal, as written */
	uint16_t ports[HSM_SVC_COUNT];
	char file[PATH_MAX]; /* where it was read from, for messages */
};

/* Parse one modules.d file held in memory.  Rejects (err names the line):
 * NUL and control bytes, lines of 198 bytes or more, leading white space,
 * names of 49 bytes or more, unknown sections and keys, duplicate keys,
 * a missing esn or address, a malformed ESN, address or port. */
HSM_API int hsm_module_parse(const char *buf, size_t len, struct hsm_module *out, char *err,
			     size_t errlen);

/* Called once for every file that was skipped: the file's path and why. */
typedef void (*hsm_module_skip_fn)(void *arg, const char *file, const char *why);

/* Read every DIR/modules.d/NAME.conf (hidden files ignored) into a malloc'ed
 * array sorted by ESN.  A file that does not parse, or repeats an ESN seen
 * in an earlier file, is reported through skip and left out; the others are
 * returned.  A missing modules.d is an empty list.  -1 only when the
 * directory cannot be read at all or memory runs out. */
HSM_API int hsm_modules_load(const char *confdir, struct hsm_module **mods, size_t *count,
			     hsm_module_skip_fn skip, void *arg, char *err, size_t errlen);

#endif
