/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmalloc.c - the machine-wide table of VCM addresses and user numbers
 * (see vcmalloc.h for why and for the layout).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/netaddr.h>
#include "hsmd.h"
#include "vcmalloc.h"
#include "vcmrules.h"

#define MAX_ENTRIES 100000
#define INDEX_MAX 1000000
/* An entry file is one short line: anything longer is refused unread. */
#define ENTRY_MAX 4096
/* Paths inside the table (PATH.d plus a few names). */
#define PLEN 4400

unsigned long hd_vcmalloc_reads, hd_vcmalloc_saves, hd_vcmalloc_bytes;

/* ---- parsers ------------------------------------------------------------- */

json_t *hd_vcmalloc_parse(const char *text, size_t len, char *err, size_t errlen)
{
	char inner[256];
	json_t *doc = hsm_json_parse(text, len, HD_VCMALLOC_MAX, inner, sizeof(inner));
	json_t *vcms, *e;
	json_int_t version;
	char jwhy[256];
	size_t i;

	if (!doc) {
		hsm_set_err(err, errlen, "%s", inner);
		return NULL;
	}
	if (hsm_json_unpack(doc, JSON_STRICT, jwhy, sizeof(jwhy), "{s:I, s:o}", "version", &version,
			    "vcms", &vcms) != 0 ||
	    version != 1 || !json_is_array(vcms) || json_array_size(vcms) > MAX_ENTRIES) {
		hsm_set_err(err, errlen, "not a version 1 table of VCMs%s%s", jwhy[0] ? ": " : "",
			    jwhy);
		json_decref(doc);
		return NULL;
	}
	json_array_foreach(vcms, i, e)
	{
		const char *state, *uuid, *address;
		json_int_t index;
		struct hsm_ipaddr ip;

		if (hsm_json_unpack(e, JSON_STRICT, jwhy, sizeof(jwhy), "{s:s, s:s, s:s, s:I}",
				    "state", &state, "uuid", &uuid, "address", &address, "index",
				    &index) != 0 ||
		    state[0] != '/' || strlen(state) >= PATH_MAX || !fw_uuid_valid(uuid) ||
		    hsm_ip_parse(address, 0, &ip, NULL, 0) != 0 || index < 1 || index > 1000000) {
			hsm_set_err(err, errlen, "entry %zu: not {state, uuid, address, index}",
				    i + 1);
			json_decref(doc);
			return NULL;
		}
	}
	return doc;
}

/* snprintf for the table's paths and lines: they fit (the configured path
 * is below 4088 bytes, a name inside the table below 100), and a cut one
 * would name nothing that exists. */
static int pf(char *out, size_t len, const char *fmt, ...) HSM_PRINTF(3, 4);
static int pf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	return n < 0 ? 0 : (size_t)n >= len ? (int)len - 1 : n;
}

/* The table's directories and files have these modes whatever the umask:
 * every hsmd of the machine reads them, and they hold no secret. */
static int mkdir_table(const char *path)
{
	if (mkdir(path, 0755) != 0)
		return -1;
	chmod(path, 0755);
	return 0;
}

static int hex_name(const char *s)
{
	return fw_hex_valid(s, HD_VCMALLOC_HSMLEN);
}

/* The canonical form of an address (the name of its entry), or -1. */
static int canonical(const char *address, char out[HSM_NETADDR_STRLEN], char *err, size_t errlen)
{
	struct hsm_ipaddr ip;
	char inner[256];

	if (hsm_ip_parse(address, 0, &ip, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "address: %s", inner);
	hsm_ip_format(&ip, out, HSM_NETADDR_STRLEN);
	return 0;
}

int hd_vcmalloc_parse_claim(const char *text, size_t len, struct hd_vcmalloc_claim *c, char *err,
			    size_t errlen)
{
	char inner[256], jwhy[256] = "";
	json_t *doc = hsm_json_parse(text, len, ENTRY_MAX, inner, sizeof(inner));
	const char *hsm, *uuid, *address;
	json_int_t index;
	int rc = -1;

	if (!doc)
		return hsm_set_err(err, errlen, "%s", inner);
	if (hsm_json_unpack(doc, JSON_STRICT, jwhy, sizeof(jwhy), "{s:s, s:s, s:s, s:I}", "hsm",
			    &hsm, "uuid", &uuid, "address", &address, "index", &index) != 0)
		hsm_set_err(err, errlen, "not a claim {hsm, uuid, address, index}%s%s",
			    jwhy[0] ? ": " : "", jwhy);
	else if (!hex_name(hsm) || !fw_uuid_valid(uuid))
		hsm_set_err(err, errlen, "hsm or uuid malformed");
	else if (index < 1 || index > INDEX_MAX)
		hsm_set_err(err, errlen, "index %lld out of range", (long long)index);
	else if (canonical(address, c->address, inner, sizeof(inner)) != 0)
		hsm_set_err(err, errlen, "%s", inner);
	else if (strcmp(c->address, address) != 0)
		hsm_set_err(err, errlen, "address not in canonical form");
	else {
		memcpy(c->hsm, hsm, sizeof(c->hsm));
		memcpy(c->uuid, uuid, sizeof(c->uuid));
		c->index = (unsigned)index;
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

int hd_vcmalloc_parse_state(const char *text, size_t len, char *state, size_t statelen, char *err,
			    size_t errlen)
{
	if (len < 2 || text[0] != '/' || text[len - 1] != '\n' || len > statelen ||
	    memchr(text, '\n', len - 1) || memchr(text, '\0', len))
		return hsm_set_err(err, errlen, "not an absolute path on one line");
	memcpy(state, text, len - 1);
	state[len - 1] = '\0';
	return 0;
}

/* ---- the table on disk ---------------------------------------------------- */

struct table {
	const struct hd_store *st;
	int lockfd;
	char path[4200];                  /* PATH: a version 1 table, the lock's name */
	char dir[4200];                   /* PATH.d: the table */
	char me[PATH_MAX];                /* this HSM's state directory, resolved */
	char hsm[HD_VCMALLOC_HSMLEN + 1]; /* and its name in the table */
};

/* The lowest user number this process knows may be free (it scans up from
 * there; what others release below it is found at its next start). */
static struct {
	char dir[4200];
	unsigned next;
} hint;

static unsigned long tmp_seq;

/* Addresses this process has found held by VCMs of other HSMs, by HSM
 * (an object HSM -> {address: true}), of the table in dir.  Conservative:
 * an HSM found gone takes its addresses with it (hd_vcmalloc_known_taken
 * looks at each HSM here, not at its VCMs), but an address another HSM's
 * VCM freed is only passed over by allocation until it is asked about
 * again (hd_vcmalloc_address_taken forgets it) or hsmd starts again; an
 * address held since is still refused by the claim's link. */
static struct {
	char dir[4200];
	json_t *hsms;
} others;

void hd_vcmalloc_forget(void)
{
	hint.dir[0] = '\0';
	others.dir[0] = '\0';
	json_decref(others.hsms);
	others.hsms = NULL;
}

static json_t *others_get(const struct table *t)
{
	if (!others.hsms || strcmp(others.dir, t->dir) != 0) {
		json_decref(others.hsms);
		others.hsms = json_object();
		pf(others.dir, sizeof(others.dir), "%s", t->dir);
	}
	return others.hsms;
}

/* Remember that a VCM of HSM hsm holds address (hsm NULL: nobody else). */
static void others_note(const struct table *t, const char *address, const char *hsm)
{
	json_t *hsms = others_get(t), *set;
	const char *h;
	void *tmp;

	json_object_foreach_safe(hsms, tmp, h, set)
	{
		if (!hsm || strcmp(h, hsm) != 0)
			json_object_del(set, address);
	}
	if (!hsm)
		return;
	if (!(set = json_object_get(hsms, hsm))) {
		set = json_object();
		json_object_set_new(hsms, hsm, set);
	}
	json_object_set_new(set, address, json_true());
}

static unsigned hint_get(const struct table *t)
{
	if (strcmp(hint.dir, t->dir) != 0) {
		pf(hint.dir, sizeof(hint.dir), "%s", t->dir);
		hint.next = 1;
	}
	return hint.next;
}

static void hint_set(const struct table *t, unsigned next)
{
	hint_get(t);
	hint.next = next;
}

static int hsm_name(const char *state, char out[HD_VCMALLOC_HSMLEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (EVP_Digest(state, strlen(state), md, &n, EVP_sha256(), NULL) != 1 || n < 16)
		return -1;
	for (int i = 0; i < HD_VCMALLOC_HSMLEN / 2; i++)
		pf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Read one entry file: 0, 1 when it does not exist, -1 with err (a
 * symbolic link, not a regular file, too large, unreadable). */
static int entry_read(const char *path, char **text, size_t *len, struct stat *sb, char *err,
		      size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);

	*text = NULL;
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 && errno == ELOOP)
		return hsm_set_err(err, errlen, "%s: refused: a symbolic link", path);
	if (fd < 0)
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	hd_vcmalloc_reads++;
	if (sb && fstat(fd, sb) != 0) {
		int e = errno;
		close(fd);
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(e));
	}
	return hsm_read_fd(fd, path, ENTRY_MAX, text, len, err, errlen);
}

/* The claim of VCM uuid of HSM hsm: 0, 1 when there is none, -1. */
static int claim_read(const struct table *t, const char *hsm, const char *uuid,
		      struct hd_vcmalloc_claim *c, struct stat *sb, char *err, size_t errlen)
{
	char path[PLEN], inner[HD_ERRLEN], *text;
	size_t len = 0;
	int rc;

	pf(path, sizeof(path), "%s/hsms/%s/%s", t->dir, hsm, uuid);
	rc = entry_read(path, &text, &len, sb, err, errlen);
	if (rc == 0 && hd_vcmalloc_parse_claim(text, len, c, inner, sizeof(inner)) != 0)
		rc = hsm_set_err(err, errlen, "VCM allocations: %s: %s", path, inner);
	else if (rc == 0 && (strcmp(c->hsm, hsm) != 0 || strcmp(c->uuid, uuid) != 0))
		rc = hsm_set_err(err, errlen, "VCM allocations: %s: names another VCM", path);
	free(text);
	return rc;
}

/* The state directory of HSM hsm: 0, 1 when its marker is missing, -1. */
static int state_read(const struct table *t, const char *hsm, char *state, size_t statelen,
		      char *err, size_t errlen)
{
	char path[PLEN], inner[HD_ERRLEN], *text;
	size_t len = 0;
	int rc;

	pf(path, sizeof(path), "%s/hsms/%s/state", t->dir, hsm);
	rc = entry_read(path, &text, &len, NULL, err, errlen);
	if (rc == 0 &&
	    hd_vcmalloc_parse_state(text, len, state, statelen, inner, sizeof(inner)) != 0)
		rc = hsm_set_err(err, errlen, "VCM allocations: %s: %s", path, inner);
	free(text);
	return rc;
}

/* Whether a VCM of this HSM is gone: neither the registry nor a state
 * directory names it. */
static int vcm_gone(const struct table *t, const char *uuid)
{
	char path[PATH_MAX + 64];

	if (json_object_get(json_object_get(t->st->device, "vcms"), uuid))
		return 0;
	pf(path, sizeof(path), "%s/vcms/%s", t->me, uuid);
	return access(path, F_OK) != 0;
}

/* Whether another HSM is gone (its lifetime.json is): 1, 0, -1.  One
 * without its marker cannot be checked and is kept. */
static int hsm_gone(const struct table *t, const char *hsm, char *err, size_t errlen)
{
	char state[PATH_MAX], path[PATH_MAX + 32];
	int rc = state_read(t, hsm, state, sizeof(state), err, errlen);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	pf(path, sizeof(path), "%s/lifetime.json", state);
	return access(path, F_OK) != 0;
}

enum { NAME_FREE, NAME_MINE, NAME_STALE, NAME_HELD };

/* Empty or zeros: a claim a power loss cut before its fsync.  Such a claim
 * was never committed (its fsync comes before the rename that commits it),
 * so a name of it is a leftover. */
static int cut_by_power_loss(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i])
			return 0;
	return 1;
}

/* Whether path is the file sb describes (a name linked to a claim). */
static int same_file(const char *path, const struct stat *sb)
{
	struct stat n;

	return lstat(path, &n) == 0 && S_ISREG(n.st_mode) && n.st_ino == sb->st_ino &&
	       n.st_dev == sb->st_dev;
}

/* Who holds index/name or address/name: nobody (FREE), the VCM uuid of
 * this HSM (MINE), a leftover nobody holds (STALE: the claim the name is a
 * copy of is no longer the claim of its VCM, or its HSM or VCM is gone),
 * another VCM (HELD, *o is its claim); -1 with err.  index: the number
 * name stands for (0 for an address). */
static int name_state(const struct table *t, const char *kind, const char *name, unsigned index,
		      const char *uuid, struct hd_vcmalloc_claim *o, char *err, size_t errlen)
{
	char path[PLEN], inner[HD_ERRLEN], *text;
	struct hd_vcmalloc_claim c;
	size_t len = 0;
	int rc;

	pf(path, sizeof(path), "%s/%s/%s", t->dir, kind, name);
	rc = entry_read(path, &text, &len, NULL, err, errlen);
	if (rc != 0)
		return rc > 0 ? NAME_FREE : -1;
	if (cut_by_power_loss(text, len)) {
		free(text);
		return NAME_STALE;
	}
	rc = hd_vcmalloc_parse_claim(text, len, o, inner, sizeof(inner));
	free(text);
	if (rc != 0)
		return hsm_set_err(err, errlen, "VCM allocations: %s: %s", path, inner);
	if (strcmp(o->hsm, t->hsm) == 0 && strcmp(o->uuid, uuid) == 0)
		return NAME_MINE;
	rc = claim_read(t, o->hsm, o->uuid, &c, NULL, err, errlen);
	if (rc != 0)
		return rc > 0 ? NAME_STALE : -1;
	if (index ? c.index != index : strcmp(c.address, name) != 0)
		return NAME_STALE;
	rc = strcmp(o->hsm, t->hsm) == 0 ? vcm_gone(t, o->uuid) : hsm_gone(t, o->hsm, err, errlen);
	if (rc < 0)
		return -1;
	return rc ? NAME_STALE : NAME_HELD;
}

/* Remove kind/name when it is a claim of the VCM hsm/uuid. */
static void unlink_if_owned(const struct table *t, const char *kind, const char *name,
			    const char *hsm, const char *uuid)
{
	char path[PLEN], *text;
	struct hd_vcmalloc_claim o;
	char inner[HD_ERRLEN];
	size_t len = 0;

	pf(path, sizeof(path), "%s/%s/%s", t->dir, kind, name);
	if (entry_read(path, &text, &len, NULL, inner, sizeof(inner)) == 0 &&
	    hd_vcmalloc_parse_claim(text, len, &o, inner, sizeof(inner)) == 0 &&
	    strcmp(o.hsm, hsm) == 0 && strcmp(o.uuid, uuid) == 0)
		unlink(path);
	free(text);
}

/* A new file in the table's tmp/ holding data (not yet fsync'ed: *fd is
 * left open for that); its path in out. */
static int tmp_create(const struct table *t, const char *data, size_t len, char out[PLEN], int *fd,
		      char *err, size_t errlen)
{
	int e;

	pf(out, PLEN, "%s/tmp/%ld.%lu", t->dir, (long)getpid(), ++tmp_seq);
	*fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*fd < 0) {
		e = errno;
		out[0] = '\0';
		return hsm_set_err(err, errlen, "VCM allocations: %s/tmp: %s", t->dir, strerror(e));
	}
	fchmod(*fd, 0644);
	if (hsm_write_all(*fd, data, len) != 0) {
		e = errno;
		close(*fd);
		*fd = -1;
		unlink(out);
		out[0] = '\0';
		return hsm_set_err(err, errlen, "VCM allocations: %s/tmp: %s", t->dir, strerror(e));
	}
	hd_vcmalloc_bytes += len;
	return 0;
}

/* fsync and close a file of tmp_create: 0, or -1 with err. */
static int tmp_sync(const struct table *t, int *fd, char *err, size_t errlen)
{
	int rc = fsync(*fd), e = errno;

	close(*fd);
	*fd = -1;
	if (rc != 0)
		return hsm_set_err(err, errlen, "VCM allocations: %s/tmp: fsync: %s", t->dir,
				   strerror(e));
	return 0;
}

/* tmp_create, fsync'ed and closed. */
static int tmp_write(const struct table *t, const char *data, size_t len, char out[PLEN], char *err,
		     size_t errlen)
{
	int fd;

	if (tmp_create(t, data, len, out, &fd, err, errlen) != 0)
		return -1;
	if (tmp_sync(t, &fd, err, errlen) != 0) {
		unlink(out);
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static int dir_sync(const struct table *t, const char *sub, char *err, size_t errlen)
{
	char path[PLEN], inner[HD_ERRLEN];

	pf(path, sizeof(path), "%s/%s", t->dir, sub);
	if (hsm_fsync_dir(path, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "VCM allocations: %s", inner);
	return 0;
}

/* This HSM's directory and marker (the first claim of an HSM). */
static int hsm_marker(const struct table *t, char *err, size_t errlen)
{
	char path[PLEN], tmp[PLEN], line[PATH_MAX + 2];
	struct stat sb;
	int n;

	pf(path, sizeof(path), "%s/hsms/%s/state", t->dir, t->hsm);
	if (lstat(path, &sb) == 0)
		return 0;
	pf(path, sizeof(path), "%s/hsms/%s", t->dir, t->hsm);
	if (mkdir_table(path) != 0 && errno != EEXIST)
		return hsm_set_err(err, errlen, "VCM allocations: %s: %s", path, strerror(errno));
	n = pf(line, sizeof(line), "%s\n", t->me);
	if (tmp_write(t, line, (size_t)n, tmp, err, errlen) != 0)
		return -1;
	pf(path, sizeof(path), "%s/hsms/%s/state", t->dir, t->hsm);
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return hsm_set_err(err, errlen, "VCM allocations: %s: %s", path, strerror(e));
	}
	pf(path, sizeof(path), "hsms/%s", t->hsm);
	return dir_sync(t, "hsms", err, errlen) != 0 || dir_sync(t, path, err, errlen) != 0 ? -1
											    : 0;
}

static int claim_line(char *out, size_t len, const char *hsm, const char *uuid, const char *address,
		      unsigned index);

/* ---- opening: the lock, and the table made or converted ------------------ */

static void table_close(struct table *t)
{
	if (t->lockfd >= 0)
		close(t->lockfd); /* releases the lock */
	t->lockfd = -1;
}

static int mkdirs(const char *top, char *err, size_t errlen)
{
	static const char *const sub[] = { "hsms", "index", "address", "tmp" };
	char path[PLEN];

	if (mkdir_table(top) != 0)
		return hsm_set_err(err, errlen, "VCM allocations: %s: %s", top, strerror(errno));
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		pf(path, sizeof(path), "%s/%s", top, sub[i]);
		if (mkdir_table(path) != 0)
			return hsm_set_err(err, errlen, "VCM allocations: %s: %s", path,
					   strerror(errno));
	}
	return 0;
}

/* Remove a tree of the table (no symbolic link is followed). */
static void rm_tree_at(int at, const char *name)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0) {
		unlinkat(at, name, 0);
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rm_tree_at(dirfd(d), de->d_name);
	closedir(d);
	unlinkat(at, name, AT_REMOVEDIR);
}

/* A plain new file of the table being built (not yet visible). */
static int put_new(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return errno == EEXIST ? 1 : -1;
	fchmod(fd, 0644);
	rc = hsm_write_all(fd, data, len);
	if (close(fd) != 0)
		rc = -1;
	hd_vcmalloc_bytes += len;
	return rc;
}

/* One entry of a version 1 table into the table built in top.  Entries
 * nobody can hold (of an HSM or a VCM that is gone) and the second holder
 * of a number or address (a table edited by hand) are left out: their HSM
 * claims them again at its next start. */
static int convert_one(const struct table *t, const char *top, const json_t *e)
{
	const char *state = json_string_value(json_object_get(e, "state"));
	const char *uuid = json_string_value(json_object_get(e, "uuid"));
	unsigned index = (unsigned)json_integer_value(json_object_get(e, "index"));
	char hsm[HD_VCMALLOC_HSMLEN + 1], address[HSM_NETADDR_STRLEN], inner[256];
	char path[PLEN], ipath[PLEN], apath[PLEN], line[PATH_MAX + 2];
	int n;

	if (canonical(json_string_value(json_object_get(e, "address")), address, inner,
		      sizeof(inner)) != 0 ||
	    hsm_name(state, hsm) != 0)
		return -1;
	if (strcmp(state, t->me) == 0) {
		if (vcm_gone(t, uuid))
			return 0;
	} else {
		pf(path, sizeof(path), "%s/lifetime.json", state);
		if (access(path, F_OK) != 0)
			return 0;
	}
	pf(path, sizeof(path), "%s/hsms/%s", top, hsm);
	if (mkdir_table(path) == 0) {
		n = pf(line, sizeof(line), "%s\n", state);
		pf(path, sizeof(path), "%s/hsms/%s/state", top, hsm);
		if (put_new(path, line, (size_t)n) != 0)
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	pf(ipath, sizeof(ipath), "%s/index/%u", top, index);
	pf(apath, sizeof(apath), "%s/address/%s", top, address);
	pf(path, sizeof(path), "%s/hsms/%s/%s", top, hsm, uuid);
	if (access(ipath, F_OK) == 0 || access(apath, F_OK) == 0 || access(path, F_OK) == 0)
		return 0;
	n = claim_line(line, sizeof(line), hsm, uuid, address, index);
	if (put_new(path, line, (size_t)n) != 0 || link(path, ipath) != 0 || link(path, apath) != 0)
		return -1;
	hd_vcmalloc_saves++;
	return 0;
}

/* Make the table: empty, or converted from the version 1 table at PATH
 * (then kept as PATH.v1).  It is built in PATH.d.tmp and renamed into
 * place whole, so a crash leaves no table (built again next time) or the
 * whole one. */
static int table_make(struct table *t, char *err, size_t errlen)
{
	char top[PLEN], parent[PLEN], old[PLEN], inner[HD_ERRLEN], *text = NULL;
	json_t *doc = NULL, *e;
	struct stat sb;
	size_t len = 0, i;
	int fd, rc = -1;

	pf(top, sizeof(top), "%s.tmp", t->dir);
	rm_tree_at(AT_FDCWD, top);
	if (lstat(t->path, &sb) == 0) {
		hd_vcmalloc_reads++;
		if (hsm_read_file_nofollow(t->path, HD_VCMALLOC_MAX, &text, &len, inner,
					   sizeof(inner)) != 0 ||
		    !(doc = hd_vcmalloc_parse(text, len, inner, sizeof(inner)))) {
			free(text);
			return hsm_set_err(err, errlen, "VCM allocations: %s: %s", t->path, inner);
		}
		free(text);
	}
	if (mkdirs(top, err, errlen) != 0)
		goto out;
	json_array_foreach(json_object_get(doc, "vcms"), i, e) if (convert_one(t, top, e) != 0)
	{
		hsm_set_err(err, errlen, "VCM allocations: converting %s into %s: %s", t->path, top,
			    strerror(errno));
		goto out;
	}
	/* Everything on disk before the table appears. */
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) != 0) {
		hsm_set_err(err, errlen, "VCM allocations: %s: sync: %s", top, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (rename(top, t->dir) != 0) {
		hsm_set_err(err, errlen, "VCM allocations: %s: %s", t->dir, strerror(errno));
		goto out;
	}
	hsm_path_dir(t->dir, parent, sizeof(parent));
	if (hsm_fsync_dir(parent, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "VCM allocations: %s", inner);
		goto out;
	}
	if (doc) {
		pf(old, sizeof(old), "%s.v1", t->path);
		if (rename(t->path, old) == 0)
			hd_log(
			    "VCM allocations: %s converted into %s (the old table is kept as %s)",
			    t->path, t->dir, old);
	}
	rc = 0;
out:
	if (rc != 0)
		rm_tree_at(AT_FDCWD, top);
	json_decref(doc);
	return rc;
}

/* Lock the table and make sure it exists. */
static int table_open(const struct hd_store *st, struct table *t, char *err, size_t errlen)
{
	char lock[4300], inner[HD_ERRLEN], real[PATH_MAX], *slash;
	struct stat sb;

	t->st = st;
	t->lockfd = -1;
	if (!realpath(st->dir, real))
		return hsm_set_err(err, errlen, "%s: %s", st->dir, strerror(errno));
	pf(t->me, sizeof(t->me), "%s", real);
	if (hsm_name(t->me, t->hsm) != 0)
		return hsm_set_err(err, errlen, "VCM allocations: cannot hash %s", t->me);
	pf(t->path, sizeof(t->path), "%s", st->cfg->vcm_allocations);
	pf(t->dir, sizeof(t->dir), "%s.d", t->path);
	pf(lock, sizeof(lock), "%s.lock", t->path);
	slash = strrchr(lock, '/');
	if (slash && slash != lock) {
		*slash = '\0';
		if (hsm_mkdir_p(lock, 0755, inner, sizeof(inner)) != 0)
			return hsm_set_err(err, errlen, "VCM allocations: %s", inner);
		*slash = '/';
	}
	t->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (t->lockfd < 0)
		return hsm_set_err(
		    err, errlen, "VCM allocations: %s: %s (set hsmd.conf [paths] vcm_allocations)",
		    lock, strerror(errno));
	while (flock(t->lockfd, LOCK_EX) != 0)
		if (errno != EINTR) {
			hsm_set_err(err, errlen, "VCM allocations: %s: lock: %s", lock,
				    strerror(errno));
			table_close(t);
			return -1;
		}
	if (lstat(t->dir, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			return 0;
		hsm_set_err(err, errlen, "VCM allocations: %s: not a directory", t->dir);
		table_close(t);
		return -1;
	}
	if (errno != ENOENT) {
		hsm_set_err(err, errlen, "VCM allocations: %s: %s", t->dir, strerror(errno));
		table_close(t);
		return -1;
	}
	if (table_make(t, err, errlen) != 0) {
		table_close(t);
		return -1;
	}
	return 0;
}

/* ---- claims --------------------------------------------------------------- */

static int claim_line(char *out, size_t len, const char *hsm, const char *uuid, const char *address,
		      unsigned index)
{
	return pf(out, len, "{\"hsm\":\"%s\",\"uuid\":\"%s\",\"address\":\"%s\",\"index\":%u}\n",
		  hsm, uuid, address, index);
}

/* A new name of a claim: the link tmp -> path (a leftover there removed
 * first); *made set.  0, or -1 with err. */
static int name_link(const char *tmp, const char *path, int state, int *made, char *err,
		     size_t errlen)
{
	if (state == NAME_STALE)
		unlink(path);
	if (link(tmp, path) != 0)
		return hsm_set_err(err, errlen, "VCM allocations: %s: %s", path, strerror(errno));
	*made = 1;
	return 0;
}

/* A name the VCM holds, made a link to its new claim tmp: atomically (a
 * second link renamed over it), so that it is never missing, and every
 * name of a claim is the claim.  0, or -1 with err. */
static int relink(const struct table *t, const char *tmp, const char *path, char *err,
		  size_t errlen)
{
	char t2[PLEN];

	pf(t2, sizeof(t2), "%s/tmp/%ld.%lu", t->dir, (long)getpid(), ++tmp_seq);
	if (link(tmp, t2) != 0)
		return hsm_set_err(err, errlen, "VCM allocations: %s: %s", t2, strerror(errno));
	if (rename(t2, path) != 0) {
		int e = errno;
		unlink(t2);
		return hsm_set_err(err, errlen, "VCM allocations: %s: %s", path, strerror(e));
	}
	return 0;
}

/* The lowest user number nobody holds, from the hint up, then (once) from
 * 1 up to the hint: a leftover of a killed claim below the hint is taken
 * over rather than the numbers running out.  Its state (NAME_FREE or
 * NAME_STALE) with the number in *x, or -1 with err. */
static int free_number(const struct table *t, const char *uuid, unsigned *x, char *err,
		       size_t errlen)
{
	const unsigned count = t->st->cfg->vcm_uid_count, start = hint_get(t);
	struct hd_vcmalloc_claim o;
	char num[16];
	unsigned n = start < count ? start : 1;

	for (unsigned tried = 1; tried < count; tried++, n = n + 1 < count ? n + 1 : 1) {
		int state;
		pf(num, sizeof(num), "%u", n);
		state = name_state(t, "index", num, n, uuid, &o, err, errlen);
		if (state < 0)
			return -1;
		if (state != NAME_HELD) {
			*x = n;
			return state;
		}
	}
	return hsm_set_err(err, errlen,
			   "no free VCM user number below uid_count %u on this machine", count);
}

/* Record (or confirm) the VCM uuid of this HSM at address: 0 with its
 * number in *index (*changed set when the table changed), or -1 with err
 * (the table then holds for this VCM what it held before). */
static int claim_one(const struct table *t, const char *uuid, const char *address_in,
		     unsigned *index, int *changed, char *err, size_t errlen)
{
	const unsigned count = t->st->cfg->vcm_uid_count;
	char address[HSM_NETADDR_STRLEN], num[16], line[256], path[PLEN], inner[HD_ERRLEN];
	char tmp[PLEN] = "", apath[PLEN], ipath[PLEN];
	struct hd_vcmalloc_claim old, o;
	struct stat oldsb;
	int have_old, a_state, i_state = -1, made_a = 0, made_i = 0, rc = -1, n, fd = -1;
	unsigned x = 0;

	if (canonical(address_in, address, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "VCM %s: %s", uuid, inner);
	have_old = claim_read(t, t->hsm, uuid, &old, &oldsb, err, errlen);
	if (have_old < 0)
		return -1;
	have_old = have_old == 0;
	pf(apath, sizeof(apath), "%s/address/%s", t->dir, address);
	/* A name linked to this VCM's claim is its own, unread (a start
	 * confirms every VCM's claim: a look at each name, not a read). */
	if (have_old && strcmp(old.address, address) == 0 && same_file(apath, &oldsb))
		a_state = NAME_MINE;
	else
		a_state = name_state(t, "address", address, 0, uuid, &o, err, errlen);
	if (a_state < 0)
		return -1;
	if (a_state == NAME_HELD) {
		char state[PATH_MAX];
		if (strcmp(o.hsm, t->hsm) != 0)
			others_note(t, address, o.hsm);
		if (state_read(t, o.hsm, state, sizeof(state), inner, sizeof(inner)) != 0)
			pf(state, sizeof(state), "table entry hsms/%s", o.hsm);
		return hsm_set_err(err, errlen,
				   "address %s is held by VCM %s of the HSM in %s (machine-wide "
				   "VCM allocations %s)",
				   address, o.uuid, state, t->dir);
	}
	/* The user number: kept unless another VCM holds it, else a free
	 * one. */
	if (have_old && old.index < count) {
		pf(num, sizeof(num), "%u", old.index);
		pf(ipath, sizeof(ipath), "%s/index/%s", t->dir, num);
		i_state = same_file(ipath, &oldsb)
			      ? NAME_MINE
			      : name_state(t, "index", num, old.index, uuid, &o, err, errlen);
		if (i_state < 0)
			return -1;
		x = old.index;
	}
	if (i_state != NAME_MINE && i_state != NAME_FREE && i_state != NAME_STALE &&
	    (i_state = free_number(t, uuid, &x, err, errlen)) < 0)
		return -1;
	*index = x;
	if (have_old && old.index == x && strcmp(old.address, address) == 0 &&
	    a_state == NAME_MINE && i_state == NAME_MINE)
		return 0; /* already so */
	if (hsm_marker(t, err, errlen) != 0)
		return -1;
	/* The claim, linked as its names (a leftover of a killed claim is
	 * replaced); all on disk before the rename that makes them held. */
	n = claim_line(line, sizeof(line), t->hsm, uuid, address, x);
	if (tmp_create(t, line, (size_t)n, tmp, &fd, err, errlen) != 0)
		return -1;
	pf(ipath, sizeof(ipath), "%s/index/%u", t->dir, x);
	if (a_state == NAME_MINE ? relink(t, tmp, apath, err, errlen) != 0
				 : name_link(tmp, apath, a_state, &made_a, err, errlen) != 0)
		goto out;
	if (i_state == NAME_MINE ? relink(t, tmp, ipath, err, errlen) != 0
				 : name_link(tmp, ipath, i_state, &made_i, err, errlen) != 0)
		goto out;
	/* One fsync of the claim after its links: a file system with a
	 * journal commits the links with it, and the directory fsyncs then
	 * find nothing left to write. */
	if (tmp_sync(t, &fd, err, errlen) != 0 || dir_sync(t, "address", err, errlen) != 0 ||
	    dir_sync(t, "index", err, errlen) != 0)
		goto out;
	/* The commit. */
	pf(path, sizeof(path), "%s/hsms/%s/%s", t->dir, t->hsm, uuid);
	if (rename(tmp, path) != 0) {
		hsm_set_err(err, errlen, "VCM allocations: %s: %s", path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	made_a = made_i = 0; /* held now */
	hd_vcmalloc_saves++;
	*changed = 1;
	pf(path, sizeof(path), "hsms/%s", t->hsm);
	rc = dir_sync(t, path, err, errlen);
	/* What the old claim named is nobody's now. */
	if (have_old && strcmp(old.address, address) != 0)
		unlink_if_owned(t, "address", old.address, t->hsm, uuid);
	if (have_old && old.index != x) {
		pf(num, sizeof(num), "%u", old.index);
		unlink_if_owned(t, "index", num, t->hsm, uuid);
	}
	if (x >= hint_get(t))
		hint_set(t, x + 1);
out:
	if (fd >= 0)
		close(fd);
	if (made_a)
		unlink(apath);
	if (made_i)
		unlink(ipath);
	if (tmp[0])
		unlink(tmp);
	return rc;
}

int hd_vcmalloc_claim(const struct hd_store *st, const char *uuid, const char *address,
		      unsigned *index, char *err, size_t errlen)
{
	struct table t;
	unsigned n = 0;
	int rc, changed = 0;

	if (table_open(st, &t, err, errlen) != 0)
		return -1;
	rc = claim_one(&t, uuid, address, &n, &changed, err, errlen);
	if (rc == 0 && index)
		*index = n;
	table_close(&t);
	return rc;
}

/* Drop the claim of VCM uuid of HSM hsm, then the names it held: 0, or -1
 * with err. */
static int drop_claim(const struct table *t, const char *hsm, const char *uuid, char *err,
		      size_t errlen)
{
	struct hd_vcmalloc_claim c;
	char path[PLEN], num[16];
	int rc = claim_read(t, hsm, uuid, &c, NULL, err, errlen);

	if (rc != 0)
		return rc > 0 ? 0 : -1;
	pf(path, sizeof(path), "%s/hsms/%s/%s", t->dir, hsm, uuid);
	if (unlink(path) != 0)
		return hsm_set_err(err, errlen, "VCM allocations: %s: %s", path, strerror(errno));
	hd_vcmalloc_saves++;
	pf(path, sizeof(path), "hsms/%s", hsm);
	rc = dir_sync(t, path, err, errlen);
	unlink_if_owned(t, "address", c.address, hsm, uuid);
	pf(num, sizeof(num), "%u", c.index);
	unlink_if_owned(t, "index", num, hsm, uuid);
	if (c.index < hint_get(t))
		hint_set(t, c.index);
	return rc;
}

int hd_vcmalloc_release(const struct hd_store *st, const char *uuid, char *err, size_t errlen)
{
	struct table t;
	int rc;

	if (!fw_uuid_valid(uuid))
		return hsm_set_err(err, errlen, "'%.40s' is not a UUID", uuid);
	if (table_open(st, &t, err, errlen) != 0)
		return -1;
	rc = drop_claim(&t, t.hsm, uuid, err, errlen);
	table_close(&t);
	return rc;
}

/* Open a directory of the table without following a symbolic link. */
static DIR *dir_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (fd >= 0 && !d)
		close(fd);
	return d;
}

/* The names in the table's directory sub that keep accepts: an array,
 * or NULL when the directory cannot be read. */
static json_t *names_in(const struct table *t, const char *sub, int (*keep)(const char *))
{
	char path[PLEN];
	DIR *d;
	struct dirent *de;
	json_t *out;

	pf(path, sizeof(path), "%s/%s", t->dir, sub);
	if (!(d = dir_open(path)))
		return NULL;
	out = json_array();
	while ((de = readdir(d)))
		if (keep(de->d_name))
			json_array_append_new(out, json_string(de->d_name));
	closedir(d);
	return out;
}

/* Every claim of HSM hsm: an array of UUIDs, or NULL when its directory
 * cannot be read. */
static json_t *claims_of(const struct table *t, const char *hsm)
{
	char sub[16 + HD_VCMALLOC_HSMLEN];

	snprintf(sub, sizeof(sub), "hsms/%s", hsm);
	return names_in(t, sub, fw_uuid_valid);
}

/* Every HSM of the table: an array of names, or NULL. */
static json_t *hsms_of(const struct table *t)
{
	return names_in(t, "hsms", hex_name);
}

/* Drop every claim nobody can hold any more (start-up: it costs one look
 * at each HSM and one at each of this HSM's claims), and the files killed
 * writers left in tmp/. */
static void sweep(const struct table *t)
{
	char path[PLEN], err[HD_ERRLEN];
	json_t *hsms = hsms_of(t), *uuids, *h, *u;
	size_t i, j;
	DIR *d;
	struct dirent *de;

	pf(path, sizeof(path), "%s/tmp", t->dir);
	if ((d = dir_open(path))) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	json_array_foreach(hsms, i, h)
	{
		const char *hsm = json_string_value(h);
		int mine = strcmp(hsm, t->hsm) == 0, gone = 0;

		if (!mine && (gone = hsm_gone(t, hsm, err, sizeof(err))) < 0) {
			hd_log("VCM allocations: %s", err);
			continue;
		}
		if (!mine && !gone) {
			/* Kept; but the directory of a drop killed after its
			 * marker went is empty, and goes (rmdir refuses any
			 * other). */
			pf(path, sizeof(path), "%s/hsms/%s", t->dir, hsm);
			rmdir(path);
			continue;
		}
		uuids = claims_of(t, hsm);
		json_array_foreach(uuids, j, u) if (mine ? vcm_gone(t, json_string_value(u)) : 1)
		{
			if (drop_claim(t, hsm, json_string_value(u), err, sizeof(err)) != 0)
				hd_log("VCM allocations: %s", err);
		}
		json_decref(uuids);
		if (gone) {
			pf(path, sizeof(path), "%s/hsms/%s/state", t->dir, hsm);
			unlink(path);
			pf(path, sizeof(path), "%s/hsms/%s", t->dir, hsm);
			rmdir(path);
		}
	}
	json_decref(hsms);
	/* A version 1 table left by a conversion killed before it was
	 * renamed is kept beside it, as a finished conversion keeps it. */
	{
		char old[PLEN];
		struct stat sb;
		if (lstat(t->path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			pf(old, sizeof(old), "%s.v1", t->path);
			rename(t->path, old);
		}
	}
}

/* The lowest user number without an entry in index/ (a look at the names,
 * none read): where this process starts looking for a free number after
 * a start, so that its first create does not read every entry below.  A
 * leftover name below it is taken over once the numbers above run out, or
 * after a release lowers the hint below it. */
static unsigned lowest_unnamed(const struct table *t)
{
	char path[PLEN];
	unsigned char *seen;
	unsigned count = t->st->cfg->vcm_uid_count, x = 1;
	DIR *d;
	struct dirent *de;

	pf(path, sizeof(path), "%s/index", t->dir);
	if (count < 2 || !(seen = calloc(count, 1)))
		return 1;
	if ((d = dir_open(path))) {
		while ((de = readdir(d))) {
			char *end;
			unsigned long n;
			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			n = strtoul(de->d_name, &end, 10);
			if (!*end && n < count)
				seen[n] = 1;
		}
		closedir(d);
	}
	while (x < count && seen[x])
		x++;
	free(seen);
	return x;
}

json_t *hd_vcmalloc_claim_all(const struct hd_store *st, char *err, size_t errlen)
{
	const json_t *registry = json_object_get(st->device, "vcms");
	struct table t;
	json_t *order, *u, *out;
	size_t i;
	int changed = 0;

	if (table_open(st, &t, err, errlen) != 0)
		return NULL;
	sweep(&t);
	/* In creation order, so that user numbers do not depend on hashing. */
	order = fw_vcms_ordered(registry);
	out = json_object();
	json_array_foreach(order, i, u)
	{
		const char *uuid = json_string_value(u);
		const char *address =
		    json_string_value(json_object_get(json_object_get(registry, uuid), "address"));
		char why[HD_ERRLEN];
		unsigned n;

		if (!address)
			continue;
		if (claim_one(&t, uuid, address, &n, &changed, why, sizeof(why)) == 0)
			json_object_set_new(out, uuid, json_integer(n));
		else
			json_object_set_new(out, uuid, json_string(why));
	}
	json_decref(order);
	hint_set(&t, lowest_unnamed(&t));
	table_close(&t);
	return out;
}

json_t *hd_vcmalloc_taken(const struct hd_store *st, char *err, size_t errlen)
{
	struct table t;
	struct hd_vcmalloc_claim c;
	json_t *hsms, *uuids, *h, *u, *out;
	size_t i, j;

	if (table_open(st, &t, err, errlen) != 0)
		return NULL;
	out = json_array();
	/* A reader does not write: claims nobody holds are skipped, not
	 * dropped. */
	hsms = hsms_of(&t);
	json_array_foreach(hsms, i, h)
	{
		const char *hsm = json_string_value(h);
		char why[HD_ERRLEN];

		if (strcmp(hsm, t.hsm) == 0 || hsm_gone(&t, hsm, why, sizeof(why)) != 0)
			continue;
		uuids = claims_of(&t, hsm);
		json_array_foreach(uuids, j, u) if (claim_read(&t, hsm, json_string_value(u), &c,
							       NULL, why, sizeof(why)) == 0)
		    json_array_append_new(out, json_string(c.address));
		json_decref(uuids);
	}
	json_decref(hsms);
	table_close(&t);
	return out;
}

int hd_vcmalloc_address_taken(const struct hd_store *st, const char *address, char *err,
			      size_t errlen)
{
	char canon[HSM_NETADDR_STRLEN], inner[HD_ERRLEN];
	struct hd_vcmalloc_claim o;
	struct table t;
	int rc;

	if (canonical(address, canon, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "%s", inner);
	if (table_open(st, &t, err, errlen) != 0)
		return -1;
	/* One look at address/A; only when it exists, its claim, the claim
	 * it is a copy of and its HSM's marker: never a walk.  No VCM has
	 * the empty UUID, so this HSM's own names come back HELD or STALE. */
	rc = name_state(&t, "address", canon, 0, "", &o, err, errlen);
	if (rc >= 0) {
		rc = rc == NAME_HELD && strcmp(o.hsm, t.hsm) != 0;
		others_note(&t, canon, rc ? o.hsm : NULL);
	}
	table_close(&t);
	return rc;
}

json_t *hd_vcmalloc_known_taken(const struct hd_store *st, char *err, size_t errlen)
{
	json_t *out, *set, *v;
	const char *hsm, *address;
	struct table t;
	void *tmp;

	if (table_open(st, &t, err, errlen) != 0)
		return NULL;
	out = json_array();
	/* One look at each HSM remembered (its marker, its lifetime.json),
	 * none at its VCMs. */
	json_object_foreach_safe(others_get(&t), tmp, hsm, set)
	{
		char why[HD_ERRLEN];
		if (hsm_gone(&t, hsm, why, sizeof(why)) == 1) {
			json_object_del(others.hsms, hsm);
			continue;
		}
		json_object_foreach(set, address, v)
		    json_array_append_new(out, json_string(address));
	}
	table_close(&t);
	return out;
}
