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
		hd_err(err, errlen, "%s", inner);
		return NULL;
	}
	if (hsm_json_unpack(doc, JSON_STRICT, jwhy, sizeof(jwhy), "{s:I, s:o}", "version", &version,
			    "vcms", &vcms) != 0 ||
	    version != 1 || !json_is_array(vcms) || json_array_size(vcms) > MAX_ENTRIES) {
		hd_err(err, errlen, "not a version 1 table of VCMs%s%s", jwhy[0] ? ": " : "", jwhy);
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
			hd_err(err, errlen, "entry %zu: not {state, uuid, address, index}", i + 1);
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
		return hd_err(err, errlen, "%s: %s", st->dir, strerror(errno));
	if (strlen(real) >= len)
		return hd_err(err, errlen, "%s: path too long", real);
	snprintf(state, len, "%s", real);
	return 0;
}

struct table {
	int lockfd;
	json_t *doc;
	char path[4200];
};

static void table_close(struct table *t)
{
	json_decref(t->doc);
	if (t->lockfd >= 0)
		close(t->lockfd); /* releases the lock */
	t->doc = NULL;
	t->lockfd = -1;
}

/* Lock and read the table (an absent one is empty). */
static int table_open(const struct hd_store *st, struct table *t, char *err, size_t errlen)
{
	char lock[4300], inner[HD_ERRLEN], *text = NULL, *slash;
	size_t len = 0;
	struct stat sb;

	t->lockfd = -1;
	t->doc = NULL;
	snprintf(t->path, sizeof(t->path), "%s", st->cfg->vcm_allocations);
	snprintf(lock, sizeof(lock), "%s.lock", t->path);
	slash = strrchr(lock, '/');
	if (slash && slash != lock) {
		*slash = '\0';
		if (hsm_mkdir_p(lock, 0755, inner, sizeof(inner)) != 0)
			return hd_err(err, errlen, "VCM allocations: %s", inner);
		*slash = '/';
	}
	t->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (t->lockfd < 0)
		return hd_err(err, errlen,
			      "VCM allocations: %s: %s (set hsmd.conf [paths] vcm_allocations)",
			      lock, strerror(errno));
	while (flock(t->lockfd, LOCK_EX) != 0)
		if (errno != EINTR) {
			hd_err(err, errlen, "VCM allocations: %s: lock: %s", lock, strerror(errno));
			table_close(t);
			return -1;
		}
	if (lstat(t->path, &sb) != 0 && errno == ENOENT) {
		t->doc = json_pack("{s:i, s:[]}", "version", 1, "vcms");
		return 0;
	}
	hd_vcmalloc_reads++;
	if (hsm_read_file(t->path, HD_VCMALLOC_MAX, &text, &len, inner, sizeof(inner)) != 0 ||
	    !(t->doc = hd_vcmalloc_parse(text, len, inner, sizeof(inner)))) {
		free(text);
		hd_err(err, errlen, "VCM allocations: %s: %s", t->path, inner);
		table_close(t);
		return -1;
	}
	free(text);
	return 0;
}

static int table_save(struct table *t, char *err, size_t errlen)
{
	char inner[HD_ERRLEN];

	hd_vcmalloc_saves++;
	if (hsm_write_json_atomic(t->path, t->doc, 0644, inner, sizeof(inner)) != 0)
		return hd_err(err, errlen, "VCM allocations: %s", inner);
	return 0;
}

/* Drop entries nobody can hold any more: HSMs whose state is gone, and
 * VCMs of this HSM that neither its registry nor a state directory names. */
static void purge(const struct hd_store *st, const char *me, json_t *vcms)
{
	const json_t *registry = json_object_get(st->device, "vcms");

	for (size_t i = json_array_size(vcms); i-- > 0;) {
		json_t *e = json_array_get(vcms, i);
		const char *state = json_string_value(json_object_get(e, "state"));
		const char *uuid = json_string_value(json_object_get(e, "uuid"));
		char path[PATH_MAX + 64];
		int gone;

		if (strcmp(state, me) == 0) {
			snprintf(path, sizeof(path), "%s/vcms/%s", state, uuid);
			gone = !json_object_get(registry, uuid) && access(path, F_OK) != 0;
		} else {
			snprintf(path, sizeof(path), "%s/lifetime.json", state);
			gone = access(path, F_OK) != 0;
		}
		if (gone)
			json_array_remove(vcms, i);
	}
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
		return hd_err(err, errlen, "out of memory");
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
		return hd_err(err, errlen,
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
			return hd_err(err, errlen,
				      "no free VCM user number below uid_count %u on this machine",
				      h->count);
		n = h->next;
		if (old_held)
			h->index[old]--;
		h->index[n]++;
	}
	*index = n;
	if (mine && (json_int_t)n == old &&
	    strcmp(json_string_value(json_object_get(mine, "address")), address) == 0)
		return 0; /* already so */
	if (mine) {
		held_drop_address(h, json_string_value(json_object_get(mine, "address")), mine);
		json_object_set_new(mine, "address", json_string(address));
		json_object_set_new(mine, "index", json_integer(n));
	} else {
		mine = json_pack("{s:s, s:s, s:s, s:I}", "state", me, "uuid", uuid, "address",
				 address, "index", (json_int_t)n);
		if (!mine) {
			h->index[n]--;
			return hd_err(err, errlen, "out of memory");
		}
		json_array_append_new(vcms, mine);
		json_object_set(h->mine, uuid, mine);
	}
	held_add_address(h, address, mine);
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

	if (paths(st, me, sizeof(me), err, errlen) != 0 || table_open(st, &t, err, errlen) != 0)
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

	if (paths(st, me, sizeof(me), err, errlen) != 0 || table_open(st, &t, err, errlen) != 0)
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

	if (paths(st, me, sizeof(me), err, errlen) != 0 || table_open(st, &t, err, errlen) != 0)
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
	json_t *vcms, *e, *out;
	size_t i;

	if (paths(st, me, sizeof(me), err, errlen) != 0 || table_open(st, &t, err, errlen) != 0)
		return NULL;
	vcms = json_object_get(t.doc, "vcms");
	purge(st, me, vcms); /* in memory only: a reader does not write */
	out = json_array();
	json_array_foreach(vcms, i,
			   e) if (strcmp(json_string_value(json_object_get(e, "state")), me) != 0)
	    json_array_append(out, json_object_get(e, "address"));
	table_close(&t);
	return out;
}
