/* SPDX-License-Identifier: Apache-2.0 */
/*
 * services.c - services.d parsing and module loading.
 *
 * Trust is checked on file descriptors, not paths: the directory is opened
 * O_DIRECTORY|O_NOFOLLOW, the module openat'ed O_NOFOLLOW and both fstat'ed
 * (owned by root or us, not writable by group or others), and dlopen gets
 * /proc/self/fd/N, so nothing can be swapped between check and load.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/ini-strict.h>
#include <hsmadmin/trust.h>
#include "gate.h"
#include "hsmd.h"
#include "services.h"

#define KNOWN_FLAGS                                                                                \
	(HSMD_METHOD_INVASIVE | HSMD_METHOD_STREAMS | HSMD_METHOD_FACTORY_OK |                     \
	 HSMD_METHOD_NEEDS_CLOCK | HSMD_METHOD_LOG_GUARDED | HSMD_METHOD_LOG_ACCESS |              \
	 HSMD_METHOD_MAINTENANCE | HSMD_METHOD_RECOVERY)
#define MAX_METHODS 256
#define HD_GATE_HINT_MAX 240

struct conf_parse {
	struct hd_service_conf conf;
	int have_name, have_module;
};

static int on_conf_key(void *user, const char *section, const char *name, const char *value,
		       char *err, size_t errlen)
{
	struct conf_parse *cp = user;

	if (strcmp(section, "service") != 0)
		return hsm_set_err(err, errlen, "unknown section [%s] (only [service])", section);
	if (strcmp(name, "name") == 0) {
		if (cp->have_name++)
			return hsm_set_err(err, errlen, "duplicate key 'name'");
		if (!hd_name_valid(value))
			return hsm_set_err(err, errlen,
					   "name: '%s' is not a service name ([a-z][a-z0-9_]*)",
					   value);
		snprintf(cp->conf.name, sizeof(cp->conf.name), "%s", value);
		return 0;
	}
	if (strcmp(name, "module") == 0) {
		size_t n = strlen(value);
		if (cp->have_module++)
			return hsm_set_err(err, errlen, "duplicate key 'module'");
		if (n < 4 || n >= sizeof(cp->conf.module) || strchr(value, '/') ||
		    value[0] == '.' || strcmp(value + n - 3, ".so") != 0)
			return hsm_set_err(err, errlen,
					   "module: '%s' is not a file name ending in .so", value);
		snprintf(cp->conf.module, sizeof(cp->conf.module), "%s", value);
		return 0;
	}
	return hsm_set_err(err, errlen, "unknown key '%s' (name, module)", name);
}

/* An unknown section is refused even when it has no keys. */
static int on_conf_section(void *user, const char *section, char *err, size_t errlen)
{
	(void)user;
	if (strcmp(section, "service") != 0)
		return hsm_set_err(err, errlen, "unknown section [%s] (only [service])", section);
	return 0;
}

int hd_service_conf_parse(const char *text, size_t len, const char *file_name,
			  struct hd_service_conf *out, char *err, size_t errlen)
{
	struct conf_parse cp;
	char want[64];

	memset(&cp, 0, sizeof(cp));
	if (hsm_ini_parse_sections(text, len, on_conf_section, on_conf_key, &cp, err, errlen) != 0)
		return -1;
	if (!cp.have_name || !cp.have_module)
		return hsm_set_err(err, errlen, "missing key '%s' in [service]",
				   cp.have_name ? "module" : "name");
	snprintf(want, sizeof(want), "%s.conf", cp.conf.name);
	if (file_name && strcmp(file_name, want) != 0)
		return hsm_set_err(err, errlen, "names service '%s' but is not called %s",
				   cp.conf.name, want);
	*out = cp.conf;
	return 0;
}

const struct hsmd_method *hd_service_method(const struct hd_loaded_service *s, size_t i)
{
	return (const struct hsmd_method *)(const void *)((const char *)s->desc->methods +
							  i * s->desc->method_size);
}

const struct hsmd_method *hd_service_find(const struct hd_loaded_service *s, const char *name)
{
	for (size_t i = 0; i < s->nmethods; i++) {
		const struct hsmd_method *m = hd_service_method(s, i);
		if (strcmp(m->name, name) == 0)
			return m;
	}
	return NULL;
}

/* gate_hint of a table whose stride reaches it (ABI 1.7), else NULL. */
static const char *method_hint(const struct hsmd_service *d, const struct hsmd_method *m)
{
	if (d->method_size < offsetof(struct hsmd_method, gate_hint) + sizeof(m->gate_hint))
		return NULL;
	return m->gate_hint;
}

const char *hd_service_gate_hint(const struct hd_loaded_service *s, const struct hsmd_method *m)
{
	return method_hint(s->desc, m);
}

/* A hint is one short printable line (it goes into a one-line message)
 * and explains a mode rule the method has. */
static int hint_check(const struct hsmd_method *m, const char *hint, char *err, size_t errlen)
{
	size_t n = strlen(hint);

	if (n == 0 || n > HD_GATE_HINT_MAX)
		return hsm_set_err(err, errlen, "method %s: gate_hint is not 1..%d characters",
				   m->name, HD_GATE_HINT_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)hint[i] < 0x20 || hint[i] == 0x7f)
			return hsm_set_err(err, errlen,
					   "method %s: gate_hint has a control character", m->name);
	if (!((m->flags | m->variant_flags | m->plain_flags) &
	      (HSMD_METHOD_RECOVERY | HSMD_METHOD_MAINTENANCE)))
		return hsm_set_err(err, errlen,
				   "method %s: gate_hint without a recovery or maintenance rule",
				   m->name);
	return 0;
}

int hd_service_check(const struct hsmd_service *d, const char *want_name, size_t *nmethods,
		     char *err, size_t errlen)
{
	size_t n;

	if (d->abi_major != HSMD_SERVICE_ABI_MAJOR)
		return hsm_set_err(
		    err, errlen, "built for service ABI %u.%u, hsmd has %u.%u: rebuild the module",
		    d->abi_major, d->abi_minor, HSMD_SERVICE_ABI_MAJOR, HSMD_SERVICE_ABI_MINOR);
	/* A method table of ABI 1.2 (no stream, finish) is still good. */
	if (d->size < sizeof(struct hsmd_service) || d->method_size < HD_METHOD_MIN_SIZE)
		return hsm_set_err(
		    err, errlen,
		    "descriptor smaller than ABI %u.%u needs (struct %u/%zu, method %u/%zu)",
		    HSMD_SERVICE_ABI_MAJOR, HSMD_SERVICE_ABI_MINOR, d->size,
		    sizeof(struct hsmd_service), d->method_size, (size_t)HD_METHOD_MIN_SIZE);
	if (d->method_size > 4096)
		return hsm_set_err(err, errlen, "method table stride %u is implausible",
				   d->method_size);
	if (!d->name || strcmp(d->name, want_name) != 0)
		return hsm_set_err(err, errlen, "module is service '%s', configuration says '%s'",
				   d->name ? d->name : "(null)", want_name);
	if (!d->methods)
		return hsm_set_err(err, errlen, "no method table");
	for (n = 0;; n++) {
		const struct hsmd_method *m =
		    (const void *)((const char *)d->methods + n * d->method_size);
		if (!m->name)
			break;
		if (n >= MAX_METHODS)
			return hsm_set_err(err, errlen, "more than %d methods", MAX_METHODS);
		if (!hd_name_valid(m->name))
			return hsm_set_err(err, errlen, "method %zu: bad name", n);
		if (!m->handler)
			return hsm_set_err(err, errlen, "method %s: no handler", m->name);
		if ((m->flags | m->variant_flags | m->plain_flags) & ~KNOWN_FLAGS)
			return hsm_set_err(err, errlen, "method %s: unknown flags", m->name);
		if ((m->variant_flags | m->plain_flags) & HSMD_METHOD_STREAMS)
			return hsm_set_err(
			    err, errlen,
			    "method %s: streaming is a flag of the method, not of a variant",
			    m->name);
		if ((m->flags & HSMD_METHOD_STREAMS) &&
		    (d->method_size < sizeof(struct hsmd_method) || !m->stream || !m->finish))
			return hsm_set_err(
			    err, errlen,
			    "method %s: a streaming method needs stream and finish (ABI 1.3)",
			    m->name);
		if (method_hint(d, m) && hint_check(m, method_hint(d, m), err, errlen) != 0)
			return -1;
		for (size_t j = 0; j < n; j++) {
			const struct hsmd_method *o =
			    (const void *)((const char *)d->methods + j * d->method_size);
			if (strcmp(o->name, m->name) == 0)
				return hsm_set_err(err, errlen, "method %s declared twice",
						   m->name);
		}
	}
	*nmethods = n;
	return 0;
}

static int trusted(const struct stat *sb)
{
	char why[128];

	return hsm_trust_stat(sb, why, sizeof(why)) == 0;
}

static int load_one(int dirfd, const char *servicedir, const struct hd_service_conf *conf,
		    struct hd_loaded_service *out, char *err, size_t errlen)
{
	char procpath[64], inner[HD_ERRLEN];
	struct stat sb;
	const struct hsmd_service *desc;
	void *handle;
	int fd;

	fd = openat(dirfd, conf->module, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return hsm_set_err(err, errlen, "%s/%s: %s", servicedir, conf->module,
				   strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return hsm_set_err(err, errlen, "%s/%s: not a regular file", servicedir,
				   conf->module);
	}
	if (!trusted(&sb)) {
		close(fd);
		return hsm_set_err(err, errlen,
				   "%s/%s: owned by another user or writable by group/others; "
				   "fix with chown root and chmod go-w",
				   servicedir, conf->module);
	}
	snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d", fd);
	handle = dlopen(procpath, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		close(fd);
		return hsm_set_err(err, errlen, "%s/%s: %s", servicedir, conf->module, dlerror());
	}
	desc = dlsym(handle, HSMD_SERVICE_SYMBOL);
	if (!desc) {
		dlclose(handle);
		close(fd);
		return hsm_set_err(err, errlen, "%s/%s: no '%s' symbol: not an hsmd service module",
				   servicedir, conf->module, HSMD_SERVICE_SYMBOL);
	}
	if (hd_service_check(desc, conf->name, &out->nmethods, inner, sizeof(inner)) != 0) {
		dlclose(handle);
		close(fd);
		return hsm_set_err(err, errlen, "%s/%s: %s", servicedir, conf->module, inner);
	}
	if (desc->init && desc->init(inner, sizeof(inner)) != 0) {
		dlclose(handle);
		close(fd);
		return hsm_set_err(err, errlen, "%s/%s: init: %s", servicedir, conf->module, inner);
	}
	snprintf(out->name, sizeof(out->name), "%s", conf->name);
	out->desc = desc;
	out->handle = handle;
	out->fd = fd;
	return 0;
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

int hd_services_load(const char *confdir, const char *servicedir, int platform_only,
		     struct hd_loaded_service **out, size_t *count, char *err, size_t errlen)
{
	char dpath[4200], inner0[HD_ERRLEN];
	struct dirent **names = NULL;
	struct hd_loaded_service *svcs;
	struct stat sb;
	int n, dirfd;
	size_t loaded = 0;

	*out = NULL;
	*count = 0;
	snprintf(dpath, sizeof(dpath), "%s/services.d", confdir);
	if (hsm_trust_dir(dpath, inner0, sizeof(inner0)) == -1)
		return hsm_set_err(err, errlen, "%s", inner0);
	n = scandir(dpath, &names, conf_filter, alphasort);
	if (n < 0)
		return hsm_set_err(err, errlen, "%s: %s", dpath, strerror(errno));
	svcs = calloc((size_t)n + 1, sizeof(*svcs));
	dirfd = open(servicedir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		hd_log("service directory %s: %s", servicedir, strerror(errno));
	else if (fstat(dirfd, &sb) != 0 || !trusted(&sb)) {
		hd_log("service directory %s: owned by another user or writable by group/others; "
		       "no service loaded",
		       servicedir);
		close(dirfd);
		dirfd = -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4500], *text = NULL, inner[HD_ERRLEN], why[HD_ERRLEN];
		struct hd_service_conf conf;
		size_t len;
		int dup = 0;

		snprintf(path, sizeof(path), "%s/%s", dpath, names[i]->d_name);
		if (hsm_trust_read_file(path, 65536, &text, &len, inner, sizeof(inner)) != 0) {
			hd_log("%s: %s; service skipped", path, inner);
			continue;
		}
		if (hd_service_conf_parse(text, len, names[i]->d_name, &conf, inner,
					  sizeof(inner)) != 0) {
			free(text);
			hd_log("%s: %s; service skipped", path, inner);
			continue;
		}
		free(text);
		if (platform_only && !hd_gate_runs_in_recovery(conf.name)) {
			hd_log("%s: service '%s' does not run on the recovery image; not loaded",
			       path, conf.name);
			continue;
		}
		for (size_t j = 0; j < loaded; j++)
			dup |= strcmp(svcs[j].name, conf.name) == 0;
		if (dup || dirfd < 0 || !svcs) {
			if (dup)
				hd_log("%s: service '%s' configured twice; skipped", path,
				       conf.name);
			continue;
		}
		if (load_one(dirfd, servicedir, &conf, &svcs[loaded], why, sizeof(why)) != 0) {
			hd_log("%s: service '%s' not loaded: %s", path, conf.name, why);
			continue;
		}
		snprintf(svcs[loaded].conf_path, sizeof(svcs[loaded].conf_path), "%s", path);
		loaded++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (dirfd >= 0)
		close(dirfd);
	if (!svcs)
		return hsm_set_err(err, errlen, "out of memory");
	*out = svcs;
	*count = loaded;
	return (int)loaded;
}

void hd_services_unload(struct hd_loaded_service *s, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (s[i].desc && s[i].desc->fini)
			s[i].desc->fini();
			/* Under the sanitizers keep modules mapped so leak reports can
		 * still name their code. */
#ifndef HD_KEEP_MODULES
		if (s[i].handle)
			dlclose(s[i].handle);
#endif
		if (s[i].fd > 0)
			close(s[i].fd);
	}
	free(s);
}
