/* SPDX-License-Identifier: Apache-2.0 */
/*
 * services.h - which services run (services.d/NAME.conf) and loading their
 * modules with the same trust checks as host plugins (docs/design.md,
 * "Rules for the two ABIs").
 */
#ifndef HD_SERVICES_H
#define HD_SERVICES_H

#include <stddef.h>
#include <stdint.h>
#include <hsmadmin/service.h>

/* The smallest method stride hsmd accepts: ABI 1.2's struct, before
 * stream and finish. */
#define HD_METHOD_MIN_SIZE offsetof(struct hsmd_method, stream)

struct hd_service_conf {
	char name[48];
	char module[128]; /* a file name in the service directory */
};

/* Parse one services.d file held in memory: section [service], keys name
 * and module (both required, each once).  file_name is the file's base name
 * and must be "<name>.conf". */
int hd_service_conf_parse(const char *text, size_t len, const char *file_name,
			  struct hd_service_conf *out, char *err, size_t errlen);

struct hd_loaded_service {
	char name[48];
	char conf_path[4608];
	const struct hsmd_service *desc;
	void *handle;
	int fd; /* kept open while loaded: dlopen knows the module by
			 * its /proc/self/fd/N name, which must stay unique */
	size_t nmethods;
};

/* The i-th method of a loaded service (the descriptor's stride). */
const struct hsmd_method *hd_service_method(const struct hd_loaded_service *s, size_t i);
const struct hsmd_method *hd_service_find(const struct hd_loaded_service *s, const char *name);
/* A method's gate_hint (ABI 1.7), or NULL when it has none or its table
 * is older than the member. */
const char *hd_service_gate_hint(const struct hd_loaded_service *s, const struct hsmd_method *m);

/* Check a descriptor before using it (ABI, sizes, names, flags). */
int hd_service_check(const struct hsmd_service *desc, const char *want_name, size_t *nmethods,
		     char *err, size_t errlen);

/* Load every service named in CONFDIR/services.d/NAME.conf from servicedir.
 * A service that fails is reported on stderr (file, module, reason, hint)
 * and left out; the others load.  With platform_only, a service that does
 * not run on the recovery image (gate.h) is not loaded at all.  Returns
 * the number loaded (malloc'ed array in *out), or -1 when the directory
 * cannot be read. */
int hd_services_load(const char *confdir, const char *servicedir, int platform_only,
		     struct hd_loaded_service **out, size_t *count, char *err, size_t errlen);
void hd_services_unload(struct hd_loaded_service *s, size_t count);

#endif
