/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/modules.c - reader of $HSMADMIN_CONF/modules.d/NAME.conf.
 *
 * inih as Debian ships it splits long lines, cuts long names and joins
 * indented lines to the previous key (docs/pitfalls.md), so every
 * line is checked here first and inih only sees text it parses exactly.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/netaddr.h>
#include <hsmadmin/trust.h>

#include "modules.h"

/* Longest line (without its newline) inih reads whole, minus a margin for
 * "\r\n\0"; longest name inih keeps uncut. */
#define LINE_MAX_BYTES 197
#define NAME_MAX_BYTES 48
/* A modules.d file is a few lines; anything bigger is not one. */
#define MODULE_FILE_MAX (16u * 1024u)

static const struct {
	const char *name;
	unsigned port;
} services[HSM_SVC_COUNT] = {
	[HSM_SVC_SSHADMIN] = { "sshadmin", 2201 },         [HSM_SVC_SETUP] = { "setup", 2202 },
	[HSM_SVC_NCOREAPI] = { "ncoreapi", 2203 },         [HSM_SVC_UPDATER] = { "updater", 2204 },
	[HSM_SVC_LAUNCHER] = { "launcher", 2205 },         [HSM_SVC_MONITOR] = { "monitor", 2206 },
	[HSM_SVC_ORCHESTRATOR] = { "orchestrator", 2207 },
};

const char *hsm_service_name(int svc)
{
	return svc >= 0 && svc < HSM_SVC_COUNT ? services[svc].name : NULL;
}

int hsm_service_lookup(const char *name)
{
	for (int i = 0; name && i < HSM_SVC_COUNT; i++)
		if (strcmp(services[i].name, name) == 0)
			return i;
	return -1;
}

unsigned hsm_service_default_port(int svc)
{
	return svc >= 0 && svc < HSM_SVC_COUNT ? services[svc].port : 0;
}

static int esn_check(const char *esn, int any_case)
{
	if (!esn || strlen(esn) != HSM_ESN_LEN)
		return 0;
	for (int i = 0; i < HSM_ESN_LEN; i++) {
		unsigned char c = (unsigned char)esn[i];
		if (i == 4 || i == 9) {
			if (c != '-')
				return 0;
		} else if (!(isdigit(c) || (c >= 'A' && c <= 'Z') ||
			     (any_case && c >= 'a' && c <= 'z'))) {
			return 0;
		}
	}
	return 1;
}

int hsm_esn_valid(const char *esn)
{
	return esn_check(esn, 0);
}

int hsm_esn_normalize(const char *esn, char out[HSM_ESN_LEN + 1])
{
	if (!esn_check(esn, 1))
		return -1;
	for (int i = 0; i <= HSM_ESN_LEN; i++)
		out[i] = (char)toupper((unsigned char)esn[i]);
	return 0;
}

/* Every line must be something inih reads exactly as written: blank, a
 * comment, "[section]" or "name = value" with a short name. */
static int precheck_line(const char *line, size_t len, char *why, size_t whylen)
{
	const char *sep;
	size_t name_len;

	if (len > LINE_MAX_BYTES) {
		snprintf(why, whylen, "line longer than %d bytes", LINE_MAX_BYTES);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\0') {
			snprintf(why, whylen, "NUL byte");
			return -1;
		}
		if ((c < 0x20 && c != '\t' && !(c == '\r' && i == len - 1)) || c == 0x7f) {
			snprintf(why, whylen, "control character 0x%02x", c);
			return -1;
		}
	}
	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	if (line[0] == ' ' || line[0] == '\t') {
		snprintf(why, whylen, "line starts with white space");
		return -1;
	}
	if (line[0] == ';' || line[0] == '#')
		return 0;
	if (line[0] == '[') {
		const char *close = memchr(line, ']', len);
		if (!close) {
			snprintf(why, whylen, "section header without ']'");
			return -1;
		}
		if ((size_t)(close - line - 1) > NAME_MAX_BYTES) {
			snprintf(why, whylen, "section name longer than %d bytes", NAME_MAX_BYTES);
			return -1;
		}
		return 0;
	}
	sep = NULL;
	for (size_t i = 0; i < len; i++)
		if (line[i] == '=' || line[i] == ':') {
			sep = line + i;
			break;
		}
	if (!sep) {
		snprintf(why, whylen, "expected 'name = value'");
		return -1;
	}
	name_len = (size_t)(sep - line);
	while (name_len && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
		name_len--;
	if (name_len == 0) {
		snprintf(why, whylen, "empty name");
		return -1;
	}
	if (name_len > NAME_MAX_BYTES) {
		snprintf(why, whylen, "name longer than %d bytes", NAME_MAX_BYTES);
		return -1;
	}
	return 0;
}

static int precheck(const char *buf, size_t len, char *err, size_t errlen)
{
	size_t start = 0, lineno = 1;
	char why[96];

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		hsm_set_err(err, errlen, "line 1: byte order mark");
		return -1;
	}
	while (start < len) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - buf) : len;

		if (precheck_line(buf + start, end - start, why, sizeof(why)) < 0) {
			hsm_set_err(err, errlen, "line %zu: %s", lineno, why);
			return -1;
		}
		start = end + 1;
		lineno++;
	}
	return 0;
}

/* Parse state: filled while inih runs, applied only when it returns 0. */
struct parse {
	struct hsm_module mod;
	int have_esn, have_address;
	int have_port[HSM_SVC_COUNT];
	int key_no;     /* handler calls so far */
	int failed_key; /* 1-based index of the first rejected key */
	char why[160];
};

static int reject(struct parse *p, const char *fmt, ...) HSM_PRINTF(2, 3);
static int reject(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed_key)
		return 0;
	p->failed_key = p->key_no;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return 0;
}

static int parse_port(const char *v, uint16_t *port)
{
	unsigned long n = 0;

	if (!*v || *v == '0' || strlen(v) > 5)
		return -1;
	for (const char *c = v; *c; c++) {
		if (*c < '0' || *c > '9')
			return -1;
		n = n * 10 + (unsigned long)(*c - '0');
	}
	if (n < 1 || n > 65535)
		return -1;
	*port = (uint16_t)n;
	return 0;
}

static int address_valid(const char *v)
{
	struct hsm_ipaddr a;
	char why[128];

	return hsm_ip_parse(v, 0, &a, why, sizeof(why)) == 0;
}

static int handle_module_key(struct parse *p, const char *name, const char *value)
{
	if (strcmp(name, "esn") == 0) {
		if (p->have_esn)
			return reject(p, "duplicate key 'esn'");
		if (!hsm_esn_valid(value))
			return reject(p, "esn: '%.20s' is not an ESN like 1A23-BC45-6789", value);
		memcpy(p->mod.esn, value, HSM_ESN_LEN + 1);
		p->have_esn = 1;
		return 1;
	}
	if (strcmp(name, "address") == 0) {
		if (p->have_address)
			return reject(p, "duplicate key 'address'");
		if (!address_valid(value))
			return reject(p, "address: '%.50s' is not an IPv4 or IPv6 address", value);
		snprintf(p->mod.address, sizeof(p->mod.address), "%s", value);
		p->have_address = 1;
		return 1;
	}
	return reject(p, "unknown key '%s' in [module]", name);
}

static int handle_port_key(struct parse *p, const char *name, const char *value)
{
	int svc = hsm_service_lookup(name);

	if (svc < 0)
		return reject(p, "unknown service '%s' in [ports]", name);
	if (p->have_port[svc])
		return reject(p, "duplicate key '%s'", name);
	if (parse_port(value, &p->mod.ports[svc]) < 0)
		return reject(p, "%s: '%.20s' is not a port number 1-65535", name, value);
	p->have_port[svc] = 1;
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;

	p->key_no++;
	if (strcmp(section, "module") == 0)
		return handle_module_key(p, name, value);
	if (strcmp(section, "ports") == 0)
		return handle_port_key(p, name, value);
	if (!*section)
		return reject(p, "key '%s' outside a section", name);
	return reject(p, "unknown section [%s]", section);
}

/* inih reports the line of the first error but not which key; count the
 * key lines to find it. */
static size_t line_of_key(const char *buf, size_t len, int key_no)
{
	size_t start = 0, lineno = 1;
	int seen = 0;

	while (start < len) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - buf) : len;
		char c = start < end ? buf[start] : '\n';

		if (c != '\n' && c != '\r' && c != ';' && c != '#' && c != '[' && ++seen == key_no)
			return lineno;
		start = end + 1;
		lineno++;
	}
	return lineno;
}

/* inih calls the handler for keys only, so a section without keys would
 * pass unseen: refuse an unknown one like one with keys. */
static int check_sections(const char *buf, size_t len, char *err, size_t errlen)
{
	size_t lineno = 1;

	for (size_t pos = 0; pos < len; lineno++) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *close = n && line[0] == '[' ? memchr(line, ']', n) : NULL;

		if (close) {
			size_t k = (size_t)(close - line - 1);
			if (!(k == 6 && !memcmp(line + 1, "module", 6)) &&
			    !(k == 5 && !memcmp(line + 1, "ports", 5)))
				return hsm_set_err(err, errlen, "line %zu: unknown section [%.*s]",
						   lineno, (int)k, line + 1);
		}
		pos += n + 1;
	}
	return 0;
}

int hsm_module_parse(const char *buf, size_t len, struct hsm_module *out, char *err, size_t errlen)
{
	struct parse p;
	char *text;
	int rc;

	if (precheck(buf, len, err, errlen) < 0)
		return -1;
	text = strndup(buf, len);
	if (!text) {
		hsm_set_err(err, errlen, "out of memory");
		return -1;
	}
	memset(&p, 0, sizeof(p));
	rc = ini_parse_string(text, handler, &p);
	free(text);
	if (p.failed_key) {
		hsm_set_err(err, errlen, "line %zu: %s", line_of_key(buf, len, p.failed_key),
			    p.why);
		return -1;
	}
	if (rc != 0) {
		hsm_set_err(err, errlen, "line %d: syntax error", rc);
		return -1;
	}
	if (check_sections(buf, len, err, errlen) != 0)
		return -1;
	if (!p.have_esn || !p.have_address) {
		hsm_set_err(err, errlen, "[module] needs both 'esn' and 'address'");
		return -1;
	}
	for (int i = 0; i < HSM_SVC_COUNT; i++)
		if (!p.have_port[i])
			p.mod.ports[i] = (uint16_t)services[i].port;
	*out = p.mod;
	return 0;
}

static int conf_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int by_esn(const void *a, const void *b)
{
	return strcmp(((const struct hsm_module *)a)->esn, ((const struct hsm_module *)b)->esn);
}

/* The .conf names in dir, sorted so that "first file wins" is stable. */
static int list_conf_files(const char *dir, char ***names, size_t *count, char *err, size_t errlen)
{
	/* modules.d says which hosts and keys are the HSMs: the trust rules
	 * apply to the directory (and to each file, when read). */
	int fd = hsm_trust_open(dir, 1, err, errlen);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;

	*names = NULL;
	*count = 0;
	if (fd == HSM_TRUST_ABSENT)
		return 0;
	if (fd < 0)
		return -1;
	if (!d) {
		hsm_set_err(err, errlen, "%s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	while ((e = readdir(d))) {
		if (!conf_name(e->d_name))
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name)))
			goto oom;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), by_name);
	*names = v;
	*count = n;
	return 0;
oom:
	closedir(d);
	while (n)
		free(v[--n]);
	free(v);
	hsm_set_err(err, errlen, "out of memory");
	return -1;
}

static const struct hsm_module *find_esn(const struct hsm_module *mods, size_t n, const char *esn)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(mods[i].esn, esn) == 0)
			return &mods[i];
	return NULL;
}

int hsm_modules_load(const char *confdir, struct hsm_module **mods, size_t *count,
		     hsm_module_skip_fn skip, void *arg, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX], why[PATH_MAX + 200];
	struct hsm_module *v = NULL;
	char **names;
	size_t n_names, n = 0;
	int rc = 0;

	*mods = NULL;
	*count = 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/modules.d", confdir) >= sizeof(dir)) {
		hsm_set_err(err, errlen, "%s: path too long", confdir);
		return -1;
	}
	if (list_conf_files(dir, &names, &n_names, err, errlen) < 0)
		return -1;
	if (n_names && !(v = calloc(n_names, sizeof(*v)))) {
		hsm_set_err(err, errlen, "out of memory");
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < n_names; i++) {
		const struct hsm_module *dup;
		char *data = NULL;
		size_t len;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path))
			continue;
		if (hsm_trust_read_file(path, MODULE_FILE_MAX, &data, &len, why, sizeof(why)) < 0 ||
		    hsm_module_parse(data, len, &v[n], why, sizeof(why)) < 0) {
			if (skip)
				skip(arg, path, why);
			free(data);
			continue;
		}
		free(data);
		if ((dup = find_esn(v, n, v[n].esn))) {
			snprintf(why, sizeof(why), "ESN %s is already defined in %s", v[n].esn,
				 dup->file);
			if (skip)
				skip(arg, path, why);
			continue;
		}
		snprintf(v[n].file, sizeof(v[n].file), "%s", path);
		n++;
	}
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	if (rc < 0) {
		free(v);
		return -1;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_esn);
	else {
		free(v);
		v = NULL;
	}
	*mods = v;
	*count = n;
	return 0;
}
