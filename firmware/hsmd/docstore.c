/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docstore.c - the device document on disk (see docstore.h for the
 * layout and the commit protocol).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "docstore.h"
#include "hsmd.h"
#include "vcmrules.h"

/* Nesting a stored document may have.  The journal wraps a VCM document
 * two levels deeper than its own file, and the JSON parser accepts
 * HSM_JSON_MAX_DEPTH, so every document is held to this at save and at
 * load alike. */
#define DOC_DEPTH_MAX (HSM_JSON_MAX_DEPTH - 2)

/* Files and directories under the state directory. */
#define DEVICE_FILE "device.json"
#define JOURNAL_FILE "journal.json"
#define REGISTRY_DIR "registry"

static int depth_of(const json_t *v)
{
	int d = 0, sub;
	const char *k;
	const json_t *m;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, m) if ((sub = depth_of(m)) > d) d = sub;
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, m) if ((sub = depth_of(m)) > d) d = sub;
		return d + 1;
	}
	return 0;
}

/* The bytes of one document as it is stored (sorted keys, indented, a
 * final newline), refused when the loader would refuse them. */
static char *dump_doc(const json_t *doc, size_t max, const char *what, size_t *len, char *err,
		      size_t errlen)
{
	char *text;
	size_t n;

	if (depth_of(doc) > DOC_DEPTH_MAX) {
		hsm_set_err(err, errlen, "%s would nest deeper than %d levels; nothing was changed",
			    what, DOC_DEPTH_MAX);
		return NULL;
	}
	text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text) {
		hsm_set_err(err, errlen, "%s: out of memory", what);
		return NULL;
	}
	n = strlen(text);
	if (n + 1 > max) {
		free(text);
		hsm_set_err(
		    err, errlen,
		    "%s would be %zu bytes, more than its limit of %zu; nothing was changed", what,
		    n + 1, (size_t)max);
		return NULL;
	}
	/* json_dumps allocates exactly n + 1 bytes: make room for the newline. */
	{
		char *t = realloc(text, n + 2);
		if (!t) {
			free(text);
			hsm_set_err(err, errlen, "%s: out of memory", what);
			return NULL;
		}
		text = t;
	}
	text[n] = '\n';
	text[n + 1] = '\0';
	*len = n + 1;
	return text;
}

static json_t *load_doc(const char *path, size_t max, char *err, size_t errlen)
{
	char inner[HD_ERRLEN];
	json_t *doc = hsm_json_load_file(path, max, inner, sizeof(inner));

	if (!doc) {
		hsm_set_err(err, errlen, "%s", inner);
		return NULL;
	}
	if (depth_of(doc) > DOC_DEPTH_MAX) {
		json_decref(doc);
		hsm_set_err(err, errlen, "%s: nested deeper than %d levels", path, DOC_DEPTH_MAX);
		return NULL;
	}
	return doc;
}

/* Write path atomically (0600): hsm_write_file_ex, whose -1 (nothing
 * changed), 1 (in place, the directory fsync failed: it may not survive a
 * power loss, a crash of hsmd alone keeps it) and 0 are the commit
 * protocol's.  sync_dir 0 leaves the directory fsync to the caller
 * (several files in one directory). */
static int write_atomic(const char *path, const char *data, size_t len, int sync_dir, char *err,
			size_t errlen)
{
	return hsm_write_file_ex(path, data, len, 0600, (gid_t)-1,
				 sync_dir ? 0 : HSM_WRITE_NODIRSYNC, err, errlen);
}

/* ---- temporary files --------------------------------------------------- */

int hd_docstore_sweep_temps(const char *dir)
{
	int gone = hsm_remove_stale_temps(dir, NULL);

	if (gone)
		hd_log("%s: removed %d temporary file%s left by an interrupted write", dir, gone,
		       gone == 1 ? "" : "s");
	return gone;
}

/* ---- applying a change ------------------------------------------------ */

struct change {
	const char *uuid;
	char *text; /* NULL: the VCM is deleted */
	size_t len;
};

static void free_changes(struct change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].text);
	free(c);
}

/* Put every document of a committed change in place, then drop the
 * journal.  Idempotent: a crash part-way is finished by running it again. */
static int apply(const char *dir, const char *device_text, size_t device_len,
		 const struct change *c, size_t n, char *err, size_t errlen)
{
	char path[4400], regdir[4300];
	int rc;

	snprintf(regdir, sizeof(regdir), "%s/" REGISTRY_DIR, dir);
	if (n && mkdir(regdir, 0700) != 0 && errno != EEXIST)
		return hsm_set_err(err, errlen, "%s: %s", regdir, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.json", regdir, c[i].uuid);
		if (c[i].text) {
			if (write_atomic(path, c[i].text, c[i].len, 0, err, errlen) < 0)
				return -1;
		} else if (unlink(path) != 0 && errno != ENOENT) {
			return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
		}
	}
	if (n && hsm_fsync_dir(regdir, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/" DEVICE_FILE, dir);
	rc = write_atomic(path, device_text, device_len, 1, err, errlen);
	if (rc != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, dir);
	if (unlink(path) != 0 && errno != ENOENT)
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	return hsm_fsync_dir(dir, err, errlen);
}

/* Finish the commit a journal holds, if there is one. */
static int finish_journal(const char *dir, char *err, size_t errlen)
{
	char path[4400];
	json_t *journal, *device, *vcms, *v;
	struct change *c = NULL;
	char *device_text = NULL;
	size_t n = 0, device_len = 0;
	const char *uuid;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, dir);
	if (access(path, F_OK) != 0)
		return 0;
	journal = load_doc(path, HD_DOCSTORE_JOURNAL_MAX, err, errlen);
	if (!journal)
		return -1;
	device = json_object_get(journal, "device");
	vcms = json_object_get(journal, "vcms");
	if (json_integer_value(json_object_get(journal, "version")) != 1 ||
	    json_object_size(journal) != 3 || !json_is_object(device) ||
	    json_object_get(device, "vcms") || !json_is_object(vcms)) {
		hsm_set_err(err, errlen,
			    "%s: not a journal of version 1 ({\"version\",\"device\",\"vcms\"})",
			    path);
		goto out;
	}
	c = calloc(json_object_size(vcms) + 1, sizeof(*c));
	if (!c) {
		hsm_set_err(err, errlen, "out of memory");
		goto out;
	}
	device_text = dump_doc(device, HD_DOCSTORE_DEVICE_MAX, path, &device_len, err, errlen);
	if (!device_text)
		goto out;
	json_object_foreach(vcms, uuid, v)
	{
		if (!fw_uuid_valid(uuid) || !(json_is_object(v) || json_is_null(v))) {
			hsm_set_err(err, errlen,
				    "%s: vcms: '%.40s' is not a UUID with a document or null", path,
				    uuid);
			goto out;
		}
		c[n].uuid = uuid;
		if (json_is_object(v) &&
		    !(c[n].text = dump_doc(v, HD_DOCSTORE_VCM_MAX, path, &c[n].len, err, errlen)))
			goto out;
		n++;
	}
	if (apply(dir, device_text, device_len, c, n, err, errlen) != 0)
		goto out;
	hd_log("%s: finished an interrupted commit (%zu VCM document%s)", path, n,
	       n == 1 ? "" : "s");
	rc = 0;
out:
	free(device_text);
	if (c)
		free_changes(c, json_object_size(vcms));
	json_decref(journal);
	return rc;
}

int hd_docstore_recover(const char *dir, char *err, size_t errlen)
{
	char regdir[4300];

	snprintf(regdir, sizeof(regdir), "%s/" REGISTRY_DIR, dir);
	hd_docstore_sweep_temps(dir);
	hd_docstore_sweep_temps(regdir);
	return finish_journal(dir, err, errlen);
}

/* ---- commit ------------------------------------------------------------ */

int hd_docstore_commit(const char *dir, const json_t *prev, const json_t *next, char *err,
		       size_t errlen)
{
	return hd_docstore_commit_changes(dir, prev, next, NULL, err, errlen);
}

int hd_docstore_commit_changes(const char *dir, const json_t *prev, const json_t *next,
			       const json_t *changed, char *err, size_t errlen)
{
	const json_t *pv = json_object_get(prev, "vcms"), *nv = json_object_get(next, "vcms");
	json_t *devpart = json_copy((json_t *)next), *changes = json_object(), *v;
	char path[4400], *device_text = NULL, *journal_text = NULL;
	struct change *c = NULL;
	size_t n = 0, device_len = 0, journal_len = 0;
	const char *uuid;
	int rc = -1, w;

	if (!devpart || !changes) {
		hsm_set_err(err, errlen, "out of memory");
		goto out;
	}
	/* A commit whose documents are not all in place yet (its apply
	 * failed) is finished first: prev is its state. */
	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, dir);
	if (access(path, F_OK) == 0 && finish_journal(dir, err, errlen) != 0)
		goto out;
	json_object_del(devpart, "vcms");
	/* Which VCM documents change: those the caller names, or else every
	 * entry compared in memory; only those are written. */
	if (changed) {
		json_object_foreach((json_t *)changed, uuid, v)
		{
			json_t *now = json_object_get(nv, uuid), *was = json_object_get(pv, uuid);
			if (now && !json_equal(now, was))
				json_object_set(changes, uuid, now);
			else if (!now && was)
				json_object_set_new(changes, uuid, json_null());
		}
	} else {
		json_object_foreach((json_t *)nv, uuid,
				    v) if (!json_equal(v, json_object_get(pv, uuid)))
		    json_object_set(changes, uuid, v);
		json_object_foreach((json_t *)pv, uuid, v) if (!json_object_get(nv, uuid))
		    json_object_set_new(changes, uuid, json_null());
	}
	device_text = dump_doc(devpart, HD_DOCSTORE_DEVICE_MAX, "the device state (device.json)",
			       &device_len, err, errlen);
	if (!device_text)
		goto out;
	c = calloc(json_object_size(changes) + 1, sizeof(*c));
	if (!c) {
		hsm_set_err(err, errlen, "out of memory");
		goto out;
	}
	json_object_foreach(changes, uuid, v)
	{
		char what[128];
		c[n].uuid = uuid;
		snprintf(what, sizeof(what), "the registry document of VCM %.40s", uuid);
		if (json_is_object(v) &&
		    !(c[n].text = dump_doc(v, HD_DOCSTORE_VCM_MAX, what, &c[n].len, err, errlen)))
			goto out;
		n++;
	}
	if (n == 0) {
		snprintf(path, sizeof(path), "%s/" DEVICE_FILE, dir);
		w = write_atomic(path, device_text, device_len, 1, err, errlen);
		rc = w;
		goto out;
	}
	/* Several documents: the journal is the commit point. */
	{
		json_t *journal =
		    json_pack("{s:i, s:O, s:O}", "version", 1, "device", devpart, "vcms", changes);
		journal_text = journal ? json_dumps(journal, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(journal);
		if (!journal_text) {
			hsm_set_err(err, errlen, "out of memory");
			goto out;
		}
		journal_len = strlen(journal_text);
		if (journal_len > HD_DOCSTORE_JOURNAL_MAX) {
			hsm_set_err(err, errlen,
				    "the change would be %zu bytes, more than the journal's limit "
				    "of %zu; nothing was changed",
				    journal_len, (size_t)HD_DOCSTORE_JOURNAL_MAX);
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE, dir);
	w = write_atomic(path, journal_text, journal_len, 1, err, errlen);
	if (w < 0)
		goto out;
	/* Committed (w == 1: the directory fsync failed, but the journal is
	 * in place and stands).  Putting the documents in place may fail;
	 * the journal then finishes it later. */
	if (apply(dir, device_text, device_len, c, n, err, errlen) != 0) {
		rc = 1;
		goto out;
	}
	rc = w;
out:
	free(journal_text);
	free(device_text);
	if (c)
		free_changes(c, json_object_size(changes));
	json_decref(changes);
	json_decref(devpart);
	return rc;
}

/* ---- load --------------------------------------------------------------- */

/* The registry documents, as an object keyed by UUID (empty: none). */
static json_t *load_registry(const char *dir, char *err, size_t errlen)
{
	char regdir[4300], path[4600];
	json_t *vcms = json_object();
	struct dirent *d;
	DIR *dp;

	snprintf(regdir, sizeof(regdir), "%s/" REGISTRY_DIR, dir);
	dp = opendir(regdir);
	if (!dp) {
		if (errno == ENOENT)
			return vcms;
		hsm_set_err(err, errlen, "%s: %s", regdir, strerror(errno));
		json_decref(vcms);
		return NULL;
	}
	while ((d = readdir(dp))) {
		char uuid[64];
		size_t len = strlen(d->d_name);
		json_t *e;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", regdir, d->d_name);
		if (len != 36 + 5 || strcmp(d->d_name + 36, ".json") != 0) {
			hsm_set_err(err, errlen, "%s: not a VCM document (UUID.json)", path);
			goto fail;
		}
		memcpy(uuid, d->d_name, 36);
		uuid[36] = '\0';
		if (!fw_uuid_valid(uuid)) {
			hsm_set_err(err, errlen, "%s: not a VCM document (UUID.json)", path);
			goto fail;
		}
		if (json_object_size(vcms) >= FW_VCM_MAX) {
			hsm_set_err(err, errlen, "%s: more than %u VCM documents", regdir,
				    FW_VCM_MAX);
			goto fail;
		}
		e = load_doc(path, HD_DOCSTORE_VCM_MAX, err, errlen);
		if (!e)
			goto fail;
		json_object_set_new(vcms, uuid, e);
	}
	closedir(dp);
	return vcms;
fail:
	closedir(dp);
	json_decref(vcms);
	return NULL;
}

json_t *hd_docstore_load(const char *dir, char *err, size_t errlen)
{
	char path[4400];
	json_t *device, *registry;

	snprintf(path, sizeof(path), "%s/" DEVICE_FILE, dir);
	device = load_doc(path, HD_DOCSTORE_DEVICE_MAX, err, errlen);
	if (!device)
		return NULL;
	if (!json_is_object(device)) {
		hsm_set_err(err, errlen, "%s: not a JSON object", path);
		json_decref(device);
		return NULL;
	}
	registry = load_registry(dir, err, errlen);
	if (!registry) {
		json_decref(device);
		return NULL;
	}
	if (json_object_get(device, "vcms")) {
		/* The registry inside device.json: move it to its documents. */
		json_t *prev = json_copy(device);
		char inner[HD_ERRLEN];
		int rc;

		if (!prev) {
			json_decref(registry);
			json_decref(device);
			hsm_set_err(err, errlen, "out of memory");
			return NULL;
		}
		json_object_set(prev, "vcms", registry);
		rc = json_is_object(json_object_get(device, "vcms"))
			 ? hd_docstore_commit(dir, prev, device, inner, sizeof(inner))
			 : -1;
		json_decref(prev);
		json_decref(registry);
		if (rc < 0) {
			hsm_set_err(
			    err, errlen, "%s: cannot move \"vcms\" to registry documents: %s", path,
			    json_is_object(json_object_get(device, "vcms")) ? inner
									    : "not an object");
			json_decref(device);
			return NULL;
		}
		hd_log("%s: the VCM registry moved to %s/" REGISTRY_DIR, path, dir);
		return device;
	}
	if (json_object_size(registry))
		json_object_set(device, "vcms", registry);
	json_decref(registry);
	return device;
}
