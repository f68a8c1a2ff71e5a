/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hsmd-docstore.c - the device state on disk: one registry document
 * per VCM, size limits checked when saving exactly as when loading, the
 * journal finished after a crash, temporary copies of secrets removed,
 * and the single-document layout moved to registry documents.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "docstore.h"
#include "sign.h"
#include "provision.h"
#include "store.h"
#include "vcmrules.h"
#include "hsmd-state.h"
#include "tap.h"

static char dir[256], state[300];
static struct hd_config cfg;

static void uuid_of(unsigned i, char out[37])
{
	snprintf(out, 37, "0b3c5f2e-0000-4000-8000-%012u", i);
}

/* A registry entry as the orchestrator makes it, with `nonces` nonces. */
static json_t *entry(unsigned i, unsigned nonces)
{
	char key[81], addr[32], nonce[64];
	json_t *list = json_array(), *e;

	snprintf(key, sizeof(key), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI%043u", 0);
	for (char *p = key + 37; *p; p++)
		*p = 'A' + (char)(i % 26);
	snprintf(addr, sizeof(addr), "10.%u.%u.%u", 1 + i / 65536, (i / 256) % 256, i % 256);
	for (unsigned k = 0; k < nonces; k++) {
		snprintf(nonce, sizeof(nonce), "%08x%08x%016x/name", i, k, 0);
		json_array_append_new(list, json_string(nonce));
	}
	e = json_pack(
	    "{s:I, s:s, s:s, s:i, s:b, s:b, s:b, s:s, s:s, s:s, s:b, s:i, s:i, s:s, s:o, s:i}",
	    "seq", (json_int_t)i, "name", "tenant", "address", addr, "features", 0, "autostart", 0,
	    "restrict_startup", 0, "serial_cardreader", 0, "k_tenant_req", key, "sshadmin_key", key,
	    "state", "inactive", "disk_exceeded", 0, "created", 1, "changed", 1, "request_nonce",
	    "00112233445566778899aabbccddeeff", "nonces", list, "nonce_floor", 0);
	return e;
}

/* Commit the creation of VCM i (its uuid into u) at address, another
 * VCM's: 1 when it is refused for that address (err says why). */
static int create_refused_at(struct hd_store *st, unsigned i, const char *address, char u[37],
			     char *err, size_t errlen)
{
	json_t *doc = hd_store_begin(st), *e = entry(i, 0);

	uuid_of(i, u);
	json_object_set_new(e, "address", json_string(address));
	json_object_set_new(json_object_get(doc, "vcms"), u, e);
	return hd_store_commit_changes(st, doc, "vcm_create", NULL, err, errlen) != 0 &&
	       strstr(err, "same address");
}

static int reopen(struct hd_store *st, char *err, size_t errlen)
{
	hd_store_close(st);
	return hd_store_open(st, state, &cfg, err, errlen);
}

static long file_size(const char *name)
{
	char path[600];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", state, name);
	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static ino_t inode_of(const char *name)
{
	char path[600];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", state, name);
	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

static void write_text(const char *name, const char *text)
{
	char path[600], err[256];

	snprintf(path, sizeof(path), "%s/%s", state, name);
	hsm_write_file_atomic(path, text, strlen(text), 0600, err, sizeof(err));
}

int main(void)
{
	struct hd_store st;
	char err[HD_ERRLEN], u[37], name[600];
	json_t *doc, *vcms;
	int rc;

	rc = test_hsmd_provision("hsmd-docstore", dir, sizeof(dir), state, sizeof(state));
	if (rc < 0)
		return 1;
	TAP_INT_EQ(rc, 0, "provision a test HSM");
	hd_config_defaults(&cfg);
	TAP_INT_EQ(hd_store_open(&st, state, &cfg, err, sizeof(err)), 0, "open");

	/* 300 VCMs that each acted on 256 requests: more than the 4 MiB a
	 * single device.json may hold.  The state must still open. */
	doc = json_deep_copy(st.device);
	vcms = json_object();
	for (unsigned i = 1; i <= 300; i++) {
		uuid_of(i, u);
		json_object_set_new(vcms, u, entry(i, FW_VCM_NONCES_MAX));
	}
	json_object_set_new(doc, "vcms", vcms);
	TAP_INT_EQ(hd_store_commit(&st, doc, "bulk", NULL, err, sizeof(err)), 0,
		   "commit 300 VCMs with 256 nonces each");
	tap_ok(file_size("device.json") < 64 * 1024, "device.json holds no registry (%ld bytes)",
	       file_size("device.json"));
	TAP_INT_EQ(reopen(&st, err, sizeof(err)), 0, "... and the state opens again");
	if (!st.device)
		return tap_done();
	TAP_INT_EQ((int)json_object_size(json_object_get(st.device, "vcms")), 300,
		   "... with 300 VCMs");

	/* One VCM changes: only its document is written. */
	{
		ino_t other, mine;
		uuid_of(7, u);
		snprintf(name, sizeof(name), "registry/%s.json", u);
		mine = inode_of(name);
		uuid_of(8, u);
		snprintf(name, sizeof(name), "registry/%s.json", u);
		other = inode_of(name);
		doc = json_deep_copy(st.device);
		uuid_of(7, u);
		json_object_set_new(json_object_get(json_object_get(doc, "vcms"), u), "name",
				    json_string("renamed"));
		TAP_INT_EQ(hd_store_commit(&st, doc, "rename", NULL, err, sizeof(err)), 0,
			   "change one VCM");
		tap_ok(inode_of(name) == other, "... another VCM's document is not rewritten");
		snprintf(name, sizeof(name), "registry/%s.json", u);
		tap_ok(inode_of(name) != mine, "... the changed VCM's document is");
		snprintf(name, sizeof(name), "%s/journal.json", state);
		tap_ok(access(name, F_OK) != 0, "... and no journal is left");
	}

	/* A handler's working document (service ABI 1.8) holds changed VCMs
	 * only: the commit checks and writes them alone, and every other
	 * entry stays the very object it was. */
	{
		const json_t *before;
		char u2[37];
		ino_t other;

		err[0] = '\0';
		doc = hd_store_begin(&st);
		tap_ok(json_is_object(json_object_get(doc, "vcms")) &&
			   json_object_size(json_object_get(doc, "vcms")) == 0 &&
			   !json_object_get(doc, "host_keys"),
		       "a working document has no registry entries and no secrets");
		uuid_of(8, u);
		before = json_object_get(json_object_get(st.device, "vcms"), u);
		snprintf(name, sizeof(name), "registry/%s.json", u);
		other = inode_of(name);
		uuid_of(301, u2);
		json_object_set_new(json_object_get(doc, "vcms"), u2, entry(301, 0));
		TAP_INT_EQ(hd_store_commit_changes(&st, doc, "vcm_create", NULL, err, sizeof(err)),
			   0, "a new VCM is committed as a change");
		TAP_INT_EQ((int)json_object_size(json_object_get(st.device, "vcms")), 301,
			   "... the registry has 301 VCMs");
		tap_ok(json_object_get(json_object_get(st.device, "vcms"), u) == before,
		       "... an unchanged entry is the same object");
		tap_ok(inode_of(name) == other, "... and its document is not rewritten");
		snprintf(name, sizeof(name), "registry/%s.json", u2);
		tap_ok(file_size(name) > 0, "... the new VCM's document is written");

		/* A change that breaks a rule with an unchanged VCM is refused. */
		tap_ok(create_refused_at(&st, 302, "10.1.0.8", u2, err, sizeof(err)),
		       "a new VCM with VCM 8's address is refused: %s", err);
		snprintf(name, sizeof(name), "registry/%s.json", u2);
		tap_ok(file_size(name) < 0 &&
			   json_object_size(json_object_get(st.device, "vcms")) == 301,
		       "... and nothing changed");

		/* null deletes; the address is free again at once. */
		doc = hd_store_begin(&st);
		uuid_of(301, u2);
		json_object_set_new(json_object_get(doc, "vcms"), u2, json_null());
		TAP_INT_EQ(hd_store_commit_changes(&st, doc, "vcm_delete", NULL, err, sizeof(err)),
			   0, "a VCM is deleted as a change");
		snprintf(name, sizeof(name), "registry/%s.json", u2);
		tap_ok(file_size(name) < 0 &&
			   json_object_size(json_object_get(st.device, "vcms")) == 300,
		       "... its document is gone");
		doc = hd_store_begin(&st);
		uuid_of(302, u2);
		json_object_set_new(json_object_get(doc, "vcms"), u2, entry(302, 0));
		json_object_set_new(json_object_get(json_object_get(doc, "vcms"), u2), "address",
				    json_string("10.1.1.45"));
		json_object_set_new(json_object_get(json_object_get(doc, "vcms"), u2), "seq",
				    json_integer(301));
		TAP_INT_EQ(hd_store_commit_changes(&st, doc, "vcm_create", NULL, err, sizeof(err)),
			   0, "its address and sequence number may be taken again");
		doc = hd_store_begin(&st);
		json_object_set_new(json_object_get(doc, "vcms"), u2, json_null());
		TAP_INT_EQ(hd_store_commit_changes(&st, doc, "vcm_delete", NULL, err, sizeof(err)),
			   0, "... and deleted again");
		doc = hd_store_begin(&st);
		json_object_set_new(doc, "vcms", json_string("all of them"));
		tap_ok(hd_store_commit_changes(&st, doc, "bad", NULL, err, sizeof(err)) != 0,
		       "changes that are not an object are refused: %s", err);
	}

	/* A change goes into the registry in place: a create neither copies
	 * the registry nor looks at another VCM's entry.  A save refused by a
	 * size limit puts every replaced entry back: nothing changed. */
	{
		const json_t *reg = json_object_get(st.device, "vcms"), *eight;
		json_t *snapshot, *blob;
		unsigned long visits;
		char u2[37], *s;

		uuid_of(303, u);
		doc = hd_store_begin(&st);
		json_object_set_new(json_object_get(doc, "vcms"), u, entry(303, 0));
		json_object_set_new(json_object_get(json_object_get(doc, "vcms"), u), "seq",
				    json_integer(303));
		visits = fw_vcms_visits;
		TAP_INT_EQ(hd_store_commit_changes(&st, doc, "vcm_create", NULL, err, sizeof(err)),
			   0, "a create among 300 VCMs is committed");
		TAP_INT_EQ((int)(fw_vcms_visits - visits), 0,
			   "... looking at no other VCM's entry");
		tap_ok(json_object_get(st.device, "vcms") == reg &&
			   json_object_get(st.view, "vcms") == reg,
		       "... the registry is the same object, changed in place");

		snapshot = json_deep_copy(reg);
		uuid_of(8, u);
		eight = json_object_get(reg, u);
		doc = hd_store_begin(&st);
		json_object_set_new(json_object_get(doc, "vcms"), u, json_deep_copy(eight));
		json_object_set_new(json_object_get(json_object_get(doc, "vcms"), u), "name",
				    json_string("renamed again"));
		uuid_of(9, u2);
		json_object_set_new(json_object_get(doc, "vcms"), u2, json_null());
		uuid_of(304, u2);
		json_object_set_new(json_object_get(doc, "vcms"), u2, entry(304, 0));
		json_object_set_new(json_object_get(json_object_get(doc, "vcms"), u2), "seq",
				    json_integer(304));
		s = malloc(HD_DOCSTORE_DEVICE_MAX + 1);
		memset(s, 'x', HD_DOCSTORE_DEVICE_MAX);
		s[HD_DOCSTORE_DEVICE_MAX] = '\0';
		blob = json_pack("{s:s}", "blob", s);
		free(s);
		json_object_set_new(json_object_get(doc, "services"), "setup", blob);
		tap_ok(hd_store_commit_changes(&st, doc, "too_big", NULL, err, sizeof(err)) != 0 &&
			   strstr(err, "nothing was changed"),
		       "a change, a delete and a create with a device.json over its limit are "
		       "refused: %s",
		       err);
		tap_ok(json_equal(snapshot, json_object_get(st.device, "vcms")) &&
			   json_object_get(reg, u) == eight,
		       "... the registry is as it was, the changed entry the very same object");
		snprintf(name, sizeof(name), "registry/%s.json", u2);
		tap_ok(file_size(name) < 0, "... the new VCM's document is not written");
		uuid_of(9, u2);
		snprintf(name, sizeof(name), "registry/%s.json", u2);
		tap_ok(file_size(name) > 0, "... the deleted VCM's document is still there");
		/* The index is the old registry's too: VCM 9 holds its address. */
		tap_ok(create_refused_at(&st, 305, "10.1.0.9", u2, err, sizeof(err)),
		       "... and its index: VCM 9's address is still taken: %s", err);
		tap_ok(json_equal(snapshot, json_object_get(st.device, "vcms")),
		       "... a refused check puts the registry back as well");
		json_decref(snapshot);
		/* The state on disk is the state in memory. */
		tap_ok(reopen(&st, err, sizeof(err)) == 0, "reopened: %s", err);
		TAP_INT_EQ((int)json_object_size(json_object_get(st.device, "vcms")), 301,
			   "... 301 VCMs, VCM 303 among them");
		uuid_of(303, u);
		tap_ok(json_object_get(json_object_get(st.device, "vcms"), u) != NULL,
		       "... VCM 303 is there");
	}

	/* A save the loader would refuse is refused, and nothing changes. */
	{
		size_t big = HD_DOCSTORE_DEVICE_MAX;
		char *s = malloc(big + 1);
		json_int_t seq = json_integer_value(
		    json_object_get(json_object_get(st.device, "log"), "next_seq"));
		memset(s, 'x', big);
		s[big] = '\0';
		doc = json_deep_copy(st.device);
		json_object_set_new(json_object_get(doc, "services"), "setup",
				    json_pack("{s:s}", "blob", s));
		free(s);
		TAP_INT_EQ(hd_store_commit(&st, doc, "too_big", NULL, err, sizeof(err)), -1,
			   "a device.json over the load limit is refused");
		tap_ok(strstr(err, "limit") && strstr(err, "nothing was changed"),
		       "... saying so: %s", err);
		TAP_INT_EQ((int)json_integer_value(
			       json_object_get(json_object_get(st.device, "log"), "next_seq")),
			   (int)seq, "... the state in memory is unchanged");
		/* Valid entries stay far below their limit; the store checks it
		 * all the same (docstore without the validation in front). */
		doc = json_deep_copy(st.device);
		uuid_of(9, u);
		s = malloc(HD_DOCSTORE_VCM_MAX + 1);
		memset(s, 'a', HD_DOCSTORE_VCM_MAX);
		s[HD_DOCSTORE_VCM_MAX] = 0;
		json_object_set_new(json_object_get(json_object_get(doc, "vcms"), u), "name",
				    json_string(s));
		free(s);
		TAP_INT_EQ(hd_docstore_commit(state, st.device, doc, err, sizeof(err)), -1,
			   "a VCM document over the load limit is refused");
		tap_ok(strstr(err, "limit") != NULL, "... saying so: %s", err);
		json_decref(doc);
		doc = json_deep_copy(st.device);
		{
			json_t *deep = json_object(), *p = deep;
			for (int i = 0; i < 40; i++) {
				json_t *n = json_object();
				json_object_set_new(p, "n", n);
				p = n;
			}
			json_object_set_new(json_object_get(doc, "services"), "setup", deep);
		}
		TAP_INT_EQ(hd_store_commit(&st, doc, "too_deep", NULL, err, sizeof(err)), -1,
			   "a document nested deeper than the loader accepts is refused");
		TAP_INT_EQ(reopen(&st, err, sizeof(err)), 0, "... and the state still opens");
	}

	/* Temporary files a crash left (with host keys in them) go at start. */
	write_text("device.json.tmp.Ab3xYz", "{\"host_keys\": \"secret\"}");
	uuid_of(3, u);
	snprintf(name, sizeof(name), "registry/%s.json.tmp.q1W2e3", u);
	write_text(name, "{}");
	TAP_INT_EQ(reopen(&st, err, sizeof(err)), 0, "open with leftover temporary files");
	tap_ok(file_size("device.json.tmp.Ab3xYz") < 0 && file_size(name) < 0,
	       "... they are removed");

	/* A journal left by a crash after the commit point is finished. */
	{
		json_t *dev = json_deep_copy(st.device), *changes = json_object(), *j;
		char *text;
		json_object_del(dev, "vcms");
		json_object_set_new(dev, "min_vsn", json_integer(3));
		uuid_of(4, u);
		json_object_set_new(changes, u, json_null());
		uuid_of(5, u);
		json_object_set_new(changes, u, entry(5, 0));
		j = json_pack("{s:i, s:o, s:o}", "version", 1, "device", dev, "vcms", changes);
		text = json_dumps(j, JSON_COMPACT);
		write_text("journal.json", text);
		free(text);
		json_decref(j);
	}
	TAP_INT_EQ(reopen(&st, err, sizeof(err)), 0, "open with a journal");
	TAP_INT_EQ((int)json_integer_value(json_object_get(st.device, "min_vsn")), 3,
		   "... the device part applied");
	uuid_of(4, u);
	tap_ok(!json_object_get(json_object_get(st.device, "vcms"), u),
	       "... the deleted VCM is gone");
	uuid_of(5, u);
	TAP_INT_EQ((int)json_array_size(json_object_get(
		       json_object_get(json_object_get(st.device, "vcms"), u), "nonces")),
		   0, "... the changed VCM changed");
	tap_ok(file_size("journal.json") < 0, "... and the journal is removed");

	/* device.json with its own "vcms" (the single-document layout, or
	 * written by hand) replaces the registry. */
	{
		json_t *dev = json_deep_copy(st.device), *v = json_object();
		char path[600];
		uuid_of(1, u);
		json_object_set_new(v, u, entry(1, 0));
		json_object_set_new(dev, "vcms", v);
		hd_store_close(&st);
		snprintf(path, sizeof(path), "%s/device.json", state);
		hsm_write_json_atomic(path, dev, 0600, err, sizeof(err));
		json_decref(dev);
		TAP_INT_EQ(hd_store_open(&st, state, &cfg, err, sizeof(err)), 0,
			   "open a single-document state");
		TAP_INT_EQ((int)json_object_size(json_object_get(st.device, "vcms")), 1,
			   "... its registry is in effect");
		snprintf(name, sizeof(name), "registry/%s.json", u);
		tap_ok(file_size(name) > 0, "... as a registry document");
		dev = hsm_json_load_file(path, HD_DOCSTORE_DEVICE_MAX, err, sizeof(err));
		tap_ok(dev && !json_object_get(dev, "vcms"),
		       "... and device.json holds no registry now");
		json_decref(dev);
		uuid_of(2, u);
		snprintf(name, sizeof(name), "registry/%s.json", u);
		tap_ok(file_size(name) < 0, "... the VCMs it does not name are gone");
	}
	hd_store_close(&st);
	if (test_hsmd_cleanup(dir) != 0)
		tap_ok(0, "cleanup");
	return tap_done();
}
