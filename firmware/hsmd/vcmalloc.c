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
		t->doc = json_pack("{s:i, s:[]}", "version", 1, "vcms");
		return 0;
	}
	if (hsm_read_file(t->path, HD_VCMALLOC_MAX, &text, &len, inner, sizeof(inner)) != 0 ||
	    !(t->doc = hd_vcmalloc_parse(text, len, inner, sizeof(inner)))) {
		free(text);
		hsm_set_err(err, errlen, "VCM allocations: %s: %s", t->path, inner);
		table_close(t);
		return -1;
	}
	free(text);
	return 0;
}

static int table_save(struct table *t, char *err, size_t errlen)
{
	char inner[HD_ERRLEN];

	if (hsm_write_json_atomic(t->path, t->doc, 0644, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "VCM allocations: %s", inner);
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

int hd_vcmalloc_claim(const struct hd_store *st, const char *uuid, const char *address,
		      unsigned *index, char *err, size_t errlen)
{
	char me[PATH_MAX];
	struct table t;
	json_t *vcms, *e, *mine = NULL;
	unsigned char *used;
	unsigned count = st->cfg->vcm_uid_count, n = 0;
	size_t i;
	int rc = -1;

	if (paths(st, me, sizeof(me), err, errlen) != 0 || table_open(st, &t, err, errlen) != 0)
		return -1;
	vcms = json_object_get(t.doc, "vcms");
	purge(st, me, vcms);
	used = calloc(count, 1);
	if (!used) {
		hsm_set_err(err, errlen, "out of memory");
		goto out;
	}
	json_array_foreach(vcms, i, e)
	{
		const char *state = json_string_value(json_object_get(e, "state"));
		const char *u = json_string_value(json_object_get(e, "uuid"));
		json_int_t x = json_integer_value(json_object_get(e, "index"));

		if (strcmp(state, me) == 0 && strcmp(u, uuid) == 0) {
			mine = e;
			continue;
		}
		if (x >= 1 && (json_int_t)count > x)
			used[x] = 1;
		if (strcmp(json_string_value(json_object_get(e, "address")), address) == 0) {
			hsm_set_err(err, errlen,
				    "address %s is held by VCM %s of the HSM in %s (machine-wide "
				    "VCM allocations %s)",
				    address, u, state, t.path);
			goto out;
		}
	}
	if (mine && json_integer_value(json_object_get(mine, "index")) < (json_int_t)count &&
	    !used[json_integer_value(json_object_get(mine, "index"))]) {
		n = (unsigned)json_integer_value(json_object_get(mine, "index"));
	} else {
		for (n = 1; n < count && used[n]; n++)
			;
		if (n >= count) {
			hsm_set_err(err, errlen,
				    "no free VCM user number below uid_count %u on this machine",
				    count);
			goto out;
		}
	}
	if (mine && n == json_integer_value(json_object_get(mine, "index")) &&
	    strcmp(json_string_value(json_object_get(mine, "address")), address) == 0) {
		rc = 0; /* already so: no write */
		goto out;
	}
	if (mine) {
		json_object_set_new(mine, "address", json_string(address));
		json_object_set_new(mine, "index", json_integer(n));
	} else {
		json_array_append_new(vcms,
				      json_pack("{s:s, s:s, s:s, s:I}", "state", me, "uuid", uuid,
						"address", address, "index", (json_int_t)n));
	}
	rc = table_save(&t, err, errlen);
out:
	if (rc == 0 && index)
		*index = n;
	free(used);
	table_close(&t);
	return rc;
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
