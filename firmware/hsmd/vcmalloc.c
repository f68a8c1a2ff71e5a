/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmalloc.c - the machine-wide table of VCM addresses and user numbers
 * (see vcmalloc.h for why).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/netaddr.h>
#include "hsmd.h"
#include "vcmalloc.h"
#include "vcmrules.h"

#define MAX_ENTRIES 100000

unsigned long hd_vcmalloc_reads, hd_vcmalloc_saves;

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

/* The table's path, and this HSM's state directory as the table names it. */
static int paths(const struct hd_store *st, char *state, size_t len, char *err, size_t errlen)
{
	char real[PATH_MAX];

	if (!realpath(st->dir, real))
		return hsm_set_err(err, errlen, "%s: %s", st->dir, strerror(errno));
	if (strlen(real) >= len)
		return hsm_set_err(err, errlen, "%s: path too long", real);
	snprintf(state, len, "%s", real);
	return 0;
}

struct table {
	int lockfd;
	json_t *doc;
	char path[4200];
};

/* The table as this process last read or wrote it, with a descriptor of
 * that file held open (so its inode cannot be reused).  Every writer
 * replaces the file by rename under the lock, so while the path still
 * names that file, with the same size and modification time, the table
 * has not changed and is not read and parsed again: a VCM create reads it
 * twice, which cost more than the rest of the create at 1000 VCMs. */
static struct {
	char path[4200];
	int fd;
	struct stat sb;
	json_t *doc; /* never changed: callers get a copy */
} cache = { .fd = -1 };

static void cache_drop(void)
{
	if (cache.fd >= 0)
		close(cache.fd);
	json_decref(cache.doc);
	cache.fd = -1;
	cache.doc = NULL;
}

/* Remember doc as the content of path (the caller holds the lock). */
static void cache_keep(const char *path, json_t *doc)
{
	cache_drop();
	cache.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (cache.fd < 0)
		return;
	if (fstat(cache.fd, &cache.sb) != 0) {
		cache_drop();
		return;
	}
	snprintf(cache.path, sizeof(cache.path), "%s", path);
	cache.doc = json_incref(doc);
}

static int cache_valid(const char *path, const struct stat *sb)
{
	return cache.doc && strcmp(cache.path, path) == 0 && sb->st_dev == cache.sb.st_dev &&
	       sb->st_ino == cache.sb.st_ino && sb->st_size == cache.sb.st_size &&
	       sb->st_mtim.tv_sec == cache.sb.st_mtim.tv_sec &&
	       sb->st_mtim.tv_nsec == cache.sb.st_mtim.tv_nsec;
}

void hd_vcmalloc_forget(void)
{
	cache_drop();
}

static void table_close(struct table *t)
{
	json_decref(t->doc);
	if (t->lockfd >= 0)
		close(t->lockfd); /* releases the lock */
	t->doc = NULL;
	t->lockfd = -1;
}

/* Lock and read the table (an absent one is empty).  writable: t->doc is
 * the caller's to change; else it must not be changed. */
static int table_open(const struct hd_store *st, struct table *t, int writable, char *err,
		      size_t errlen)
{
	char lock[4300], inner[HD_ERRLEN], *text = NULL, *slash;
	size_t len = 0;
	struct stat sb;
	json_t *doc;

	t->lockfd = -1;
	t->doc = NULL;
	snprintf(t->path, sizeof(t->path), "%s", st->cfg->vcm_allocations);
	snprintf(lock, sizeof(lock), "%s.lock", t->path);
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
	if (lstat(t->path, &sb) != 0 && errno == ENOENT) {
		cache_drop();
		t->doc = json_pack("{s:i, s:[]}", "version", 1, "vcms");
		return 0;
	}
	if (!cache_valid(t->path, &sb)) {
		cache_drop();
		hd_vcmalloc_reads++;
		if (hsm_read_file(t->path, HD_VCMALLOC_MAX, &text, &len, inner, sizeof(inner)) !=
			0 ||
		    !(doc = hd_vcmalloc_parse(text, len, inner, sizeof(inner)))) {
			free(text);
			hsm_set_err(err, errlen, "VCM allocations: %s: %s", t->path, inner);
			table_close(t);
			return -1;
		}
		free(text);
		cache_keep(t->path, doc);
		if (!cache.doc) { /* not kept: the parsed table serves once */
			t->doc = doc;
			return 0;
		}
		json_decref(doc);
	}
	/* A writer gets its own array of the same entries (entries are never
	 * changed in place, claim_one replaces them). */
	if (writable) {
		t->doc = json_pack("{s:i, s:[]}", "version", 1, "vcms");
		if (t->doc && json_array_extend(json_object_get(t->doc, "vcms"),
						json_object_get(cache.doc, "vcms")) != 0) {
			json_decref(t->doc);
			t->doc = NULL;
		}
	} else {
		t->doc = json_incref(cache.doc);
	}
	if (!t->doc) {
		hsm_set_err(err, errlen, "VCM allocations: out of memory");
		table_close(t);
		return -1;
	}
	return 0;
}

/* A JSON string (valid UTF-8, as every string jansson holds). */
static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The table as it is stored: one entry a line, written directly (jansson's
 * indented dump of a table of 1000 VCMs cost more than the rest of a VCM
 * create). */
static char *table_text(const json_t *doc, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	json_t *e;
	size_t i;

	if (!f)
		return NULL;
	fputs("{\n  \"version\": 1,\n  \"vcms\": [", f);
	json_array_foreach(json_object_get(doc, "vcms"), i, e)
	{
		fputs(i ? ",\n    {\"address\": " : "\n    {\"address\": ", f);
		put_string(f, json_string_value(json_object_get(e, "address")));
		fprintf(f, ", \"index\": %lld, \"state\": ",
			(long long)json_integer_value(json_object_get(e, "index")));
		put_string(f, json_string_value(json_object_get(e, "state")));
		fputs(", \"uuid\": ", f);
		put_string(f, json_string_value(json_object_get(e, "uuid")));
		fputc('}', f);
	}
	fputs(json_array_size(json_object_get(doc, "vcms")) ? "\n  ]\n}\n" : "]\n}\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int table_save(struct table *t, char *err, size_t errlen)
{
	char inner[HD_ERRLEN], *text;
	size_t len = 0;
	int rc;

	hd_vcmalloc_saves++;
	cache_drop();
	text = table_text(t->doc, &len);
	if (!text)
		return hsm_set_err(err, errlen, "VCM allocations: out of memory");
	rc = hsm_write_file_atomic(t->path, text, len, 0644, inner, sizeof(inner));
	free(text);
	if (rc != 0)
		return hsm_set_err(err, errlen, "VCM allocations: %s", inner);
	/* Still under the lock: the file is the one just written. */
	cache_keep(t->path, t->doc);
	return 0;
}

/* An entry nobody can hold any more: of an HSM whose state is gone, or a
 * VCM of this HSM that neither its registry nor a state directory names. */
static int gone(const struct hd_store *st, const char *me, const json_t *e)
{
	const json_t *registry = json_object_get(st->device, "vcms");
	const char *state = json_string_value(json_object_get(e, "state"));
	const char *uuid = json_string_value(json_object_get(e, "uuid"));
	char path[PATH_MAX + 64];

	if (strcmp(state, me) == 0) {
		snprintf(path, sizeof(path), "%s/vcms/%s", state, uuid);
		return !json_object_get(registry, uuid) && access(path, F_OK) != 0;
	}
	snprintf(path, sizeof(path), "%s/lifetime.json", state);
	return access(path, F_OK) != 0;
}

/* Drop the entries nobody can hold any more. */
static void purge(const struct hd_store *st, const char *me, json_t *vcms)
{
	for (size_t i = json_array_size(vcms); i-- > 0;)
		if (gone(st, me, json_array_get(vcms, i)))
			json_array_remove(vcms, i);
}

/* What the table's entries hold, counted once per table read so that
 * claiming many VCMs costs one pass over the table, not one per VCM. */
struct held {
	unsigned *index; /* entries holding each user index below count */
	unsigned count;
	unsigned next;     /* no index below it is free */
	json_t *addresses; /* address -> [entries holding it] */
	json_t *mine;      /* uuid -> this HSM's entry */
};

static void held_free(struct held *h)
{
	free(h->index);
	json_decref(h->addresses);
	json_decref(h->mine);
}

static void held_add_address(struct held *h, const char *address, json_t *e)
{
	json_t *list = json_object_get(h->addresses, address);

	if (!list) {
		list = json_array();
		json_object_set_new(h->addresses, address, list);
	}
	json_array_append(list, e);
}

static void held_drop_address(struct held *h, const char *address, const json_t *e)
{
	json_t *list = json_object_get(h->addresses, address);
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) if (v == e)
	{
		json_array_remove(list, i);
		break;
	}
}

static int held_count(struct held *h, const char *me, json_t *vcms, unsigned count, char *err,
		      size_t errlen)
{
	size_t i;
	json_t *e;

	memset(h, 0, sizeof(*h));
	h->count = count;
	h->next = 1;
	h->index = calloc(count ? count : 1, sizeof(*h->index));
	h->addresses = json_object();
	h->mine = json_object();
	if (!h->index || !h->addresses || !h->mine) {
		held_free(h);
		return hsm_set_err(err, errlen, "out of memory");
	}
	json_array_foreach(vcms, i, e)
	{
		json_int_t x = json_integer_value(json_object_get(e, "index"));

		if (x >= 1 && x < (json_int_t)count)
			h->index[x]++;
		held_add_address(h, json_string_value(json_object_get(e, "address")), e);
		if (strcmp(json_string_value(json_object_get(e, "state")), me) == 0)
			json_object_set(h->mine, json_string_value(json_object_get(e, "uuid")), e);
	}
	return 0;
}

/* Record (or confirm) one VCM of this HSM in the table vcms, keeping h in
 * step.  *changed is set when the table changed.  0, or -1 with err (the
 * table is then as it was for this VCM). */
static int claim_one(struct held *h, const char *me, const char *path, json_t *vcms,
		     const char *uuid, const char *address, unsigned *index, int *changed,
		     char *err, size_t errlen)
{
	json_t *mine = json_object_get(h->mine, uuid), *e;
	json_int_t old = mine ? json_integer_value(json_object_get(mine, "index")) : 0;
	int old_held = old >= 1 && old < (json_int_t)h->count;
	size_t i;
	unsigned n;

	json_array_foreach(json_object_get(h->addresses, address), i, e)
	{
		if (e == mine || (strcmp(json_string_value(json_object_get(e, "state")), me) == 0 &&
				  strcmp(json_string_value(json_object_get(e, "uuid")), uuid) == 0))
			continue; /* this VCM's own entry (or a copy of it) */
		return hsm_set_err(err, errlen,
				   "address %s is held by VCM %s of the HSM in %s (machine-wide "
				   "VCM allocations %s)",
				   address, json_string_value(json_object_get(e, "uuid")),
				   json_string_value(json_object_get(e, "state")), path);
	}
	if (old_held && h->index[old] == 1) {
		n = (unsigned)old; /* held by this VCM alone: kept */
	} else {
		while (h->next < h->count && h->index[h->next])
			h->next++;
		if (h->next >= h->count)
			return hsm_set_err(
			    err, errlen,
			    "no free VCM user number below uid_count %u on this machine", h->count);
		n = h->next;
		if (old_held)
			h->index[old]--;
		h->index[n]++;
	}
	*index = n;
	if (mine && (json_int_t)n == old &&
	    strcmp(json_string_value(json_object_get(mine, "address")), address) == 0)
		return 0; /* already so */
	/* A new entry, also for a changed one: entries are shared with the
	 * copy of the table this process keeps, and never changed in place. */
	e = json_pack("{s:s, s:s, s:s, s:I}", "state", me, "uuid", uuid, "address", address,
		      "index", (json_int_t)n);
	if (!e) {
		if (n != (unsigned)old) {
			h->index[n]--;
			if (old_held)
				h->index[old]++;
		}
		return hsm_set_err(err, errlen, "out of memory");
	}
	if (mine) {
		held_drop_address(h, json_string_value(json_object_get(mine, "address")), mine);
		for (i = 0; i < json_array_size(vcms); i++)
			if (json_array_get(vcms, i) == mine)
				break;
		json_array_set(vcms, i, e); /* i is in the table: mine came from it */
	} else {
		json_array_append(vcms, e);
	}
	json_object_set(h->mine, uuid, e);
	held_add_address(h, address, e);
	json_decref(e);
	*changed = 1;
	return 0;
}

int hd_vcmalloc_claim(const struct hd_store *st, const char *uuid, const char *address,
		      unsigned *index, char *err, size_t errlen)
{
	char me[PATH_MAX];
	struct table t;
	struct held h;
	json_t *vcms;
	unsigned n = 0;
	int rc = -1, changed = 0;

	if (paths(st, me, sizeof(me), err, errlen) != 0 || table_open(st, &t, 1, err, errlen) != 0)
		return -1;
	vcms = json_object_get(t.doc, "vcms");
	purge(st, me, vcms);
	if (held_count(&h, me, vcms, st->cfg->vcm_uid_count, err, errlen) != 0)
		goto out;
	rc = claim_one(&h, me, t.path, vcms, uuid, address, &n, &changed, err, errlen);
	held_free(&h);
	if (rc == 0 && changed)
		rc = table_save(&t, err, errlen);
out:
	if (rc == 0 && index)
		*index = n;
	table_close(&t);
	return rc;
}

json_t *hd_vcmalloc_claim_all(const struct hd_store *st, char *err, size_t errlen)
{
	const json_t *registry = json_object_get(st->device, "vcms");
	char me[PATH_MAX];
	struct table t;
	struct held h;
	json_t *vcms, *order, *u, *out = NULL;
	size_t i;
	int changed = 0;

	if (paths(st, me, sizeof(me), err, errlen) != 0 || table_open(st, &t, 1, err, errlen) != 0)
		return NULL;
	vcms = json_object_get(t.doc, "vcms");
	purge(st, me, vcms);
	if (held_count(&h, me, vcms, st->cfg->vcm_uid_count, err, errlen) != 0) {
		table_close(&t);
		return NULL;
	}
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
		if (claim_one(&h, me, t.path, vcms, uuid, address, &n, &changed, why,
			      sizeof(why)) == 0)
			json_object_set_new(out, uuid, json_integer(n));
		else
			json_object_set_new(out, uuid, json_string(why));
	}
	json_decref(order);
	held_free(&h);
	if (changed && table_save(&t, err, errlen) != 0) {
		json_decref(out);
		out = NULL;
	}
	table_close(&t);
	return out;
}

int hd_vcmalloc_release(const struct hd_store *st, const char *uuid, char *err, size_t errlen)
{
	char me[PATH_MAX];
	struct table t;
	json_t *vcms, *e;
	size_t i, before;
	int rc = 0;

	if (paths(st, me, sizeof(me), err, errlen) != 0 || table_open(st, &t, 1, err, errlen) != 0)
		return -1;
	vcms = json_object_get(t.doc, "vcms");
	before = json_array_size(vcms);
	json_array_foreach(vcms, i,
			   e) if (strcmp(json_string_value(json_object_get(e, "state")), me) == 0 &&
				  strcmp(json_string_value(json_object_get(e, "uuid")), uuid) == 0)
	{
		json_array_remove(vcms, i);
		break;
	}
	purge(st, me, vcms);
	if (json_array_size(vcms) != before)
		rc = table_save(&t, err, errlen);
	table_close(&t);
	return rc;
}

json_t *hd_vcmalloc_taken(const struct hd_store *st, char *err, size_t errlen)
{
	char me[PATH_MAX];
	struct table t;
	json_t *e, *out;
	size_t i;

	if (paths(st, me, sizeof(me), err, errlen) != 0 || table_open(st, &t, 0, err, errlen) != 0)
		return NULL;
	out = json_array();
	/* A reader does not write: entries nobody holds are skipped, not
	 * dropped. */
	json_array_foreach(json_object_get(t.doc, "vcms"), i,
			   e) if (strcmp(json_string_value(json_object_get(e, "state")), me) != 0 &&
				  !gone(st, me, e))
	    json_array_append(out, json_object_get(e, "address"));
	table_close(&t);
	return out;
}
