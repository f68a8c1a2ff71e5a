/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hsmd-vcmalloc.c - the machine-wide table of VCM addresses and user
 * numbers (firmware/hsmd/vcmalloc.c): a version 1 table is converted once
 * (entries of gone HSMs and second holders left out, the old file kept as
 * PATH.v1); start-up claims every VCM of a large registry reading a few
 * entries per VCM and writing only the new claims; unique user numbers,
 * addresses of another HSM's VCMs refused for that VCM alone; a claim
 * reads and writes the same with 1 and with 1000 entries in the table (it
 * used to rewrite the whole table: create #1000 cost twice create #10); a
 * name a killed claim left is taken over; hostile entries (a symbolic
 * link, a huge file, a bad line) are refused with a one-line error; an
 * empty one (a claim cut by a power loss) is a leftover.  A create's
 * check of an address against other HSMs' VCMs reads as many entries
 * with 1000 of their claims as with 1 (it used to read them all), says
 * taken only for a live other HSM's current claim, and refuses hostile
 * names and entries in one line.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "hsmd.h"
#include "store.h"
#include "vcmalloc.h"
#include "tap.h"

#define NVCMS 300

static char top[256], me[300], other[300], gone_hsm[300], table[300], tdir[420];

static void uuid_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "%08x-0000-4000-8000-%012x", (unsigned)i, (unsigned)i);
}

static void touch(const char *dir, const char *name)
{
	char path[400];
	FILE *f;

	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f)
		fclose(f);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The table's directory of the HSM in state dir (found by its marker). */
static int hsm_dir(const char *state, char *out, size_t len)
{
	char real[4096], path[1200], line[4200];
	DIR *d;
	struct dirent *de;
	int found = 0;

	if (!realpath(state, real))
		return 0;
	snprintf(path, sizeof(path), "%s/hsms", tdir);
	if (!(d = opendir(path)))
		return 0;
	while (!found && (de = readdir(d))) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/hsms/%.100s/state", tdir, de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (strcmp(line, real) == 0) {
				snprintf(out, len, "%s/hsms/%.100s", tdir, de->d_name);
				found = 1;
			}
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* The table's claims of the HSM in state: uuid -> index. */
static json_t *claims(const char *state)
{
	json_t *out = json_object();
	char dir[1200], path[1300], err[256];
	DIR *d;
	struct dirent *de;

	if (!hsm_dir(state, dir, sizeof(dir)) || !(d = opendir(dir)))
		return out;
	while ((de = readdir(d))) {
		json_t *c;
		if (strlen(de->d_name) != 36)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		c = hsm_json_load_file(path, 4096, err, sizeof(err));
		json_object_set(out, de->d_name, json_object_get(c, "index"));
		json_decref(c);
	}
	closedir(d);
	return out;
}

/* Every value of an object of user numbers is an integer >= 1, none twice,
 * none of the numbers in taken. */
static int unique_indexes(const json_t *claimed, const int *taken, size_t ntaken)
{
	char *seen = calloc(70000, 1);
	const char *uuid;
	json_t *v;
	int ok = seen != NULL;

	json_object_foreach((json_t *)claimed, uuid, v)
	{
		json_int_t x = json_integer_value(v);
		if (!json_is_integer(v) || x < 1 || x >= 70000 || seen[x]) {
			ok = 0;
			break;
		}
		seen[x] = 1;
		for (size_t i = 0; i < ntaken; i++)
			ok &= x != taken[i];
	}
	free(seen);
	return ok;
}

/* A version 1 table at path: the HSM in state holds the numbers of
 * indexes (n of them) at addresses 127.9.I/250.I%250+1. */
static void write_v1(const char *path, const char *state, const int *indexes, int n)
{
	json_t *vcms = json_array(), *doc;
	char uuid[40], addr[32], err[256];

	for (int i = 0; i < n; i++) {
		snprintf(uuid, sizeof(uuid), "ffffffff-0000-4000-8000-%012x", (unsigned)i + 1);
		snprintf(addr, sizeof(addr), "127.9.%d.%d", i / 250, i % 250 + 1);
		json_array_append_new(vcms,
				      json_pack("{s:s, s:s, s:s, s:i}", "state", state, "uuid",
						uuid, "address", addr, "index", indexes[i]));
	}
	doc = json_pack("{s:i, s:o}", "version", 1, "vcms", vcms);
	if (hsm_write_json_atomic(path, doc, 0644, err, sizeof(err)) != 0)
		fprintf(stderr, "# %s\n", err);
	json_decref(doc);
}

struct cost {
	unsigned long reads, saves, bytes;
	unsigned index;
	int rc;
};

/* One new VCM claimed in the table at path (a first claim of this
 * process: no hint), and what it cost. */
static struct cost claim_cost(struct hd_config *cfg, struct hd_store *st, const char *path)
{
	struct cost c;
	char err[HD_ERRLEN], uuid[40];

	snprintf(cfg->vcm_allocations, sizeof(cfg->vcm_allocations), "%s", path);
	hd_vcmalloc_forget();
	uuid_of(1, uuid, sizeof(uuid));
	c.reads = hd_vcmalloc_reads;
	c.saves = hd_vcmalloc_saves;
	c.bytes = hd_vcmalloc_bytes;
	c.rc = hd_vcmalloc_claim(st, uuid, "127.10.0.2", &c.index, err, sizeof(err));
	if (c.rc != 0)
		fprintf(stderr, "# %s\n", err);
	c.reads = hd_vcmalloc_reads - c.reads;
	c.saves = hd_vcmalloc_saves - c.saves;
	c.bytes = hd_vcmalloc_bytes - c.bytes;
	return c;
}

/* The check of one address against other HSMs' VCMs in the table at
 * path, and what it cost (rc: its answer). */
static struct cost taken_cost(struct hd_config *cfg, struct hd_store *st, const char *path,
			      const char *address)
{
	struct cost c;
	char err[HD_ERRLEN];

	snprintf(cfg->vcm_allocations, sizeof(cfg->vcm_allocations), "%s", path);
	c.reads = hd_vcmalloc_reads;
	c.saves = hd_vcmalloc_saves;
	c.rc = hd_vcmalloc_address_taken(st, address, err, sizeof(err));
	if (c.rc < 0)
		fprintf(stderr, "# %s\n", err);
	c.reads = hd_vcmalloc_reads - c.reads;
	c.saves = hd_vcmalloc_saves - c.saves;
	c.bytes = 0;
	c.index = 0;
	return c;
}

int main(void)
{
	struct hd_config cfg;
	struct hd_store st, st_other;
	char err[HD_ERRLEN], uuid[40], addr[32], real_other[4096], real_gone[4096], path[1400];
	json_t *claimed, *registry;
	const int taken[] = { 1, 3 };
	unsigned long reads, saves;
	unsigned index;
	struct stat sb;

	snprintf(top, sizeof(top), "%s/test-hsmd-vcmalloc.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(me, sizeof(me), "%s/hsm", top);
	snprintf(other, sizeof(other), "%s/other", top);
	snprintf(gone_hsm, sizeof(gone_hsm), "%s/gone", top);
	snprintf(table, sizeof(table), "%s/vcm-allocations.json", top);
	snprintf(tdir, sizeof(tdir), "%s.d", table);
	touch(me, "lifetime.json");
	touch(other, "lifetime.json");
	touch(gone_hsm, "lifetime.json");
	if (!realpath(other, real_other) || !realpath(gone_hsm, real_gone))
		return 1;

	/* A version 1 table: another HSM of this machine holds user numbers
	 * 1 and 3 and two addresses; an HSM since removed holds 2; a hand
	 * edit gave 3 twice. */
	{
		json_t *doc = json_pack(
		    "{s:i, s:[{s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:i},"
		    " {s:s, s:s, s:s, s:i}]}",
		    "version", 1, "vcms", "state", real_other, "uuid",
		    "ffffffff-0000-4000-8000-000000000001", "address", "127.9.0.1", "index", 1,
		    "state", real_other, "uuid", "ffffffff-0000-4000-8000-000000000002", "address",
		    "127.9.0.2", "index", 3, "state", real_gone, "uuid",
		    "eeeeeeee-0000-4000-8000-000000000001", "address", "127.9.0.7", "index", 2,
		    "state", real_other, "uuid", "ffffffff-0000-4000-8000-000000000009", "address",
		    "127.9.0.9", "index", 3);
		TAP_INT_EQ(hsm_write_json_atomic(table, doc, 0644, err, sizeof(err)), 0,
			   "a version 1 table with another HSM's VCMs");
		json_decref(doc);
	}
	snprintf(path, sizeof(path), "%s/lifetime.json", gone_hsm);
	unlink(path);

	hd_config_defaults(&cfg);
	snprintf(cfg.vcm_allocations, sizeof(cfg.vcm_allocations), "%s", table);
	memset(&st, 0, sizeof(st));
	snprintf(st.dir, sizeof(st.dir), "%s", me);
	st.cfg = &cfg;
	registry = json_object();
	for (int i = 1; i <= NVCMS; i++) {
		uuid_of(i, uuid, sizeof(uuid));
		snprintf(addr, sizeof(addr), "127.10.%d.%d", i / 200, i % 200 + 1);
		/* created in the opposite order of their UUIDs */
		json_object_set_new(registry, uuid,
				    json_pack("{s:s, s:i}", "address", addr, "seq", NVCMS + 1 - i));
	}
	st.device = json_pack("{s:o}", "vcms", registry);
	memset(&st_other, 0, sizeof(st_other));
	snprintf(st_other.dir, sizeof(st_other.dir), "%s", other);
	st_other.cfg = &cfg;
	st_other.device = json_pack("{s:{}}", "vcms");

	/* Start-up: the table converted, every VCM claimed. */
	reads = hd_vcmalloc_reads;
	saves = hd_vcmalloc_saves;
	claimed = hd_vcmalloc_claim_all(&st, err, sizeof(err));
	tap_ok(claimed != NULL, "claim %d VCMs (%s)", NVCMS, claimed ? "" : err);
	TAP_INT_EQ((int)json_object_size(claimed), NVCMS, "... each has an answer");
	tap_ok(hd_vcmalloc_reads - reads <= 3 * NVCMS + 20, "... a few entries read per VCM (%lu)",
	       hd_vcmalloc_reads - reads);
	TAP_INT_EQ((int)(hd_vcmalloc_saves - saves), NVCMS + 2,
		   "... one claim written per VCM (and two converted)");
	tap_ok(stat(tdir, &sb) == 0 && S_ISDIR(sb.st_mode), "... the table is now %s", tdir);
	snprintf(path, sizeof(path), "%s.v1", table);
	tap_ok(access(table, F_OK) != 0 && access(path, F_OK) == 0,
	       "... and the version 1 table is kept as PATH.v1");
	tap_ok(unique_indexes(claimed, taken, 2),
	       "... every user number differs, none is the other HSM's");
	uuid_of(NVCMS, uuid, sizeof(uuid));
	TAP_INT_EQ((int)json_integer_value(json_object_get(claimed, uuid)), 2,
		   "... the first created VCM has the lowest free number (the gone HSM's)");
	{
		json_t *t = claims(me), *o = claims(other);
		tap_ok(json_equal(t, claimed), "... and the table holds what was claimed");
		TAP_INT_EQ((int)json_object_size(o), 2,
			   "... the other HSM's two VCMs converted, its second number 3 not");
		tap_ok(!hsm_dir(gone_hsm, path, sizeof(path)), "... the gone HSM's left out");
		json_decref(t);
		json_decref(o);
	}

	/* The next start (a new process): nothing to write. */
	hd_vcmalloc_forget();
	reads = hd_vcmalloc_reads;
	saves = hd_vcmalloc_saves;
	{
		json_t *again = hd_vcmalloc_claim_all(&st, err, sizeof(err));
		tap_ok(json_equal(again, claimed), "a second start claims the same numbers");
		tap_ok(hd_vcmalloc_reads - reads <= NVCMS + 2,
		       "... reading one entry a VCM, one per other HSM (%lu)",
		       hd_vcmalloc_reads - reads);
		TAP_INT_EQ((int)(hd_vcmalloc_saves - saves), 0, "... no write");
		json_decref(again);
	}

	/* The other HSM's addresses, also one it claims now. */
	{
		json_t *addrs = hd_vcmalloc_taken(&st, err, sizeof(err));
		TAP_INT_EQ((int)json_array_size(addrs), 2, "the other HSM holds two addresses");
		json_decref(addrs);
	}
	json_object_set_new(json_object_get(st_other.device, "vcms"),
			    "ffffffff-0000-4000-8000-000000000003",
			    json_pack("{s:s, s:i}", "address", "127.9.0.3", "seq", 1));
	TAP_INT_EQ(hd_vcmalloc_claim(&st_other, "ffffffff-0000-4000-8000-000000000003", "127.9.0.3",
				     &index, err, sizeof(err)),
		   0, "the other HSM claims a VCM");
	{
		json_t *addrs = hd_vcmalloc_taken(&st, err, sizeof(err));
		TAP_INT_EQ((int)json_array_size(addrs), 3, "... it is seen (three addresses)");
		json_decref(addrs);
	}

	/* One VCM (a copy from elsewhere) has an address another HSM's VCM
	 * holds: refused for it alone. */
	uuid_of(NVCMS + 1, uuid, sizeof(uuid));
	json_object_set_new(registry, uuid,
			    json_pack("{s:s, s:i}", "address", "127.9.0.2", "seq", NVCMS + 1));
	json_decref(claimed);
	claimed = hd_vcmalloc_claim_all(&st, err, sizeof(err));
	TAP_HAS(json_string_value(json_object_get(claimed, uuid)),
		"address 127.9.0.2 is held by VCM ffffffff-0000-4000-8000-000000000002",
		"an address of another HSM's VCM is refused");
	json_object_del(claimed, uuid);
	tap_ok(unique_indexes(claimed, taken, 2), "... the other VCMs keep their numbers");
	{
		json_t *t = claims(me);
		tap_ok(!json_object_get(t, uuid), "... and the refused VCM is not in the table");
		json_decref(t);
	}
	json_object_del(registry, uuid);

	/* One VCM alone (a start) keeps its number, without a write. */
	uuid_of(7, uuid, sizeof(uuid));
	saves = hd_vcmalloc_saves;
	TAP_INT_EQ(hd_vcmalloc_claim(&st, uuid,
				     json_string_value(json_object_get(
					 json_object_get(registry, uuid), "address")),
				     &index, err, sizeof(err)),
		   0, "claim one VCM again");
	TAP_INT_EQ((int)index, (int)json_integer_value(json_object_get(claimed, uuid)),
		   "... it keeps its number");
	TAP_INT_EQ((int)(hd_vcmalloc_saves - saves), 0, "... and nothing is written");
	tap_ok(hd_vcmalloc_claim(&st, uuid, "127.9.0.1", &index, err, sizeof(err)) != 0,
	       "a VCM cannot claim an address another HSM's VCM holds");
	TAP_HAS(err, "is held by VCM", "... the error says so");

	/* A VCM given another address keeps its number; both its entries are
	 * its new claim, the old address's entry is gone. */
	{
		char hsm[1200], cpath[1400], ipath[1400], apath[1400], oldaddr[40];
		unsigned keep;
		struct stat c, i1, a1;

		uuid_of(8, uuid, sizeof(uuid));
		keep = (unsigned)json_integer_value(json_object_get(claimed, uuid));
		snprintf(
		    oldaddr, sizeof(oldaddr), "%s",
		    json_string_value(json_object_get(json_object_get(registry, uuid), "address")));
		TAP_INT_EQ(hd_vcmalloc_claim(&st, uuid, "127.12.0.1", &index, err, sizeof(err)), 0,
			   "a VCM moves to another address");
		TAP_INT_EQ((int)index, (int)keep, "... it keeps its number");
		hsm_dir(me, hsm, sizeof(hsm));
		snprintf(cpath, sizeof(cpath), "%s/%s", hsm, uuid);
		snprintf(ipath, sizeof(ipath), "%s/index/%u", tdir, keep);
		snprintf(apath, sizeof(apath), "%s/address/127.12.0.1", tdir);
		tap_ok(stat(cpath, &c) == 0 && stat(ipath, &i1) == 0 && stat(apath, &a1) == 0 &&
			   c.st_ino == i1.st_ino && c.st_ino == a1.st_ino,
		       "... its number's and its new address's entries are its new claim");
		snprintf(apath, sizeof(apath), "%s/address/%s", tdir, oldaddr);
		tap_ok(access(apath, F_OK) != 0, "... the old address's entry is gone");
		json_object_set_new(json_object_get(registry, uuid), "address",
				    json_string("127.12.0.1"));
	}

	/* Released, its number goes to the next new VCM, also when a killed
	 * claim left a name for it (a name whose claim does not name it back
	 * is nobody's). */
	{
		unsigned freed = (unsigned)json_integer_value(json_object_get(claimed, uuid));
		char line[300], hsm[1200];
		json_t *t;

		TAP_INT_EQ(hd_vcmalloc_release(&st, uuid, err, sizeof(err)), 0, "release a VCM");
		json_object_del(registry, uuid);
		t = claims(me);
		tap_ok(!json_object_get(t, uuid), "... its claim is gone");
		json_decref(t);
		snprintf(path, sizeof(path), "%s/index/%u", tdir, freed);
		tap_ok(access(path, F_OK) != 0, "... and its number's name");
		hsm_dir(me, hsm, sizeof(hsm));
		snprintf(line, sizeof(line),
			 "{\"hsm\":\"%s\",\"uuid\":\"aaaaaaaa-0000-4000-8000-000000000000\","
			 "\"address\":\"127.99.0.1\",\"index\":%u}\n",
			 strrchr(hsm, '/') + 1, freed);
		put(path, line);
		uuid_of(NVCMS + 2, uuid, sizeof(uuid));
		json_object_set_new(registry, uuid,
				    json_pack("{s:s, s:i}", "address", "127.11.0.1", "seq", 999));
		TAP_INT_EQ(hd_vcmalloc_claim(&st, uuid, "127.11.0.1", &index, err, sizeof(err)), 0,
			   "a new VCM");
		TAP_INT_EQ((int)index, (int)freed,
			   "... gets the freed number despite the leftover");
	}

	/* A claim costs the same with 1 and with 1000 entries in the table. */
	{
		int idx[1000];
		char small[400], big[400];
		struct cost c1, c1000;
		json_t *reg1 = json_pack("{s:{s:s}}", "00000001-0000-4000-8000-000000000001",
					 "address", "127.10.0.2");
		struct hd_store s2 = st;

		s2.device = json_pack("{s:o}", "vcms", reg1);
		idx[0] = 1;
		for (int i = 1; i < 1000; i++)
			idx[i] = i + 2; /* 1, 3..1001: the free number is 2 in both */
		snprintf(small, sizeof(small), "%s/small.json", top);
		snprintf(big, sizeof(big), "%s/big.json", top);
		write_v1(small, real_other, idx, 1);
		write_v1(big, real_other, idx, 1000);
		/* converted first (not measured) */
		snprintf(cfg.vcm_allocations, sizeof(cfg.vcm_allocations), "%s", small);
		json_decref(hd_vcmalloc_taken(&s2, err, sizeof(err)));
		snprintf(cfg.vcm_allocations, sizeof(cfg.vcm_allocations), "%s", big);
		json_decref(hd_vcmalloc_taken(&s2, err, sizeof(err)));
		c1 = claim_cost(&cfg, &s2, small);
		c1000 = claim_cost(&cfg, &s2, big);
		tap_ok(c1.rc == 0 && c1000.rc == 0 && c1.index == 2 && c1000.index == 2,
		       "a claim in tables of 1 and 1000 entries (numbers %u, %u)", c1.index,
		       c1000.index);
		tap_ok(c1.bytes > 0 && c1.bytes == c1000.bytes,
		       "... writes as many bytes (%lu, %lu)", c1.bytes, c1000.bytes);
		tap_ok(c1.saves == 1 && c1000.saves == 1, "... one claim (%lu, %lu)", c1.saves,
		       c1000.saves);
		tap_ok(c1.reads == c1000.reads, "... reads as many entries (%lu, %lu)", c1.reads,
		       c1000.reads);

		/* A create's check of the address it picks against other HSMs'
		 * VCMs: one name looked at, whatever their number (it used to
		 * read every claim of every other HSM). */
		{
			struct cost f1 = taken_cost(&cfg, &s2, small, "127.9.200.1");
			struct cost t1 = taken_cost(&cfg, &s2, small, "127.9.0.1");
			struct cost f1000 = taken_cost(&cfg, &s2, big, "127.9.200.1");
			struct cost t1000 = taken_cost(&cfg, &s2, big, "127.9.0.1");
			struct cost k1000;
			json_t *known;

			tap_ok(t1.rc == 1 && t1000.rc == 1,
			       "an address another HSM's VCM holds is taken (1 and 1000 claims)");
			tap_ok(t1.reads == t1000.reads && t1000.reads <= 3,
			       "... its check reads as many entries with 1 and 1000 claims (%lu, "
			       "%lu)",
			       t1.reads, t1000.reads);
			tap_ok(f1.rc == 0 && f1000.rc == 0 && f1.reads == 0 && f1000.reads == 0,
			       "a free address is not, and reads no entry (%lu, %lu)", f1.reads,
			       f1000.reads);
			k1000 = taken_cost(&cfg, &s2, big, "127.9.3.250");
			tap_ok(k1000.rc == 1 && k1000.reads <= 3,
			       "the other HSM's last address is taken (%lu entries read)",
			       k1000.reads);
			reads = hd_vcmalloc_reads;
			known = hd_vcmalloc_known_taken(&s2, err, sizeof(err));
			tap_ok(json_array_size(known) == 2 && hd_vcmalloc_reads - reads <= 1,
			       "... both are remembered, given with one read (the HSM's marker: "
			       "%zu, %lu)",
			       json_array_size(known), hd_vcmalloc_reads - reads);
			json_decref(known);
			TAP_INT_EQ(hd_vcmalloc_address_taken(&s2, "127.10.0.2", err, sizeof(err)),
				   0, "this HSM's own VCM's address is not (the registry's)");

			/* The other HSM gone: its addresses are free again. */
			snprintf(path, sizeof(path), "%s/lifetime.json", other);
			unlink(path);
			known = hd_vcmalloc_known_taken(&s2, err, sizeof(err));
			TAP_INT_EQ((int)json_array_size(known), 0,
				   "a gone HSM's addresses are no longer remembered");
			json_decref(known);
			TAP_INT_EQ(hd_vcmalloc_address_taken(&s2, "127.9.0.1", err, sizeof(err)), 0,
				   "... nor taken");
			touch(other, "lifetime.json");
			TAP_INT_EQ(hd_vcmalloc_address_taken(&s2, "127.9.0.1", err, sizeof(err)), 1,
				   "... until it is back");

			/* A leftover (a name whose claim does not name it back) and
			 * a claim cut by a power loss are nobody's. */
			snprintf(path, sizeof(path), "%s.d/address/127.9.200.2", big);
			put(path, "{\"hsm\":\"00000000000000000000000000000000\","
				  "\"uuid\":\"aaaaaaaa-0000-4000-8000-000000000000\","
				  "\"address\":\"127.9.200.2\",\"index\":5}\n");
			TAP_INT_EQ(hd_vcmalloc_address_taken(&s2, "127.9.200.2", err, sizeof(err)),
				   0, "a leftover's address is not taken");
			put(path, "");
			TAP_INT_EQ(hd_vcmalloc_address_taken(&s2, "127.9.200.2", err, sizeof(err)),
				   0, "... nor an empty entry's");

			/* Hostile names and entries: refused in one line, nothing
			 * followed or created. */
			{
				static const char *const bad[] = {
					"../../etc/passwd",
					"127.9.0.1/../../x",
					"",
					"127.9.0.1\n",
					"-1",
					"127.9.0.1 ",
					"::ffff:127.9.0.1x",
				};
				char longname[600];
				memset(longname, '1', sizeof(longname) - 1);
				longname[sizeof(longname) - 1] = '\0';
				for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
					tap_ok(hd_vcmalloc_address_taken(&s2, bad[i], err,
									 sizeof(err)) == -1 &&
						   !strchr(err, '\n'),
					       "the address '%s' is refused in one line (%s)",
					       i == 3 ? "127.9.0.1\\n" : bad[i], err);
				tap_ok(hd_vcmalloc_address_taken(&s2, longname, err, sizeof(err)) ==
					   -1,
				       "a 599-character address is refused");
			}
			if (symlink("/etc/passwd", path) != 0 && unlink(path) == 0 &&
			    symlink("/etc/passwd", path) != 0)
				perror("symlink");
			tap_ok(hd_vcmalloc_address_taken(&s2, "127.9.200.2", err, sizeof(err)) ==
				       -1 &&
				   !strchr(err, '\n'),
			       "a symbolic link as an address entry is refused in one line");
			TAP_HAS(err, "symbolic link", "... the error says so");
			unlink(path);
			mkdir(path, 0700);
			tap_ok(hd_vcmalloc_address_taken(&s2, "127.9.200.2", err, sizeof(err)) ==
				       -1 &&
				   !strchr(err, '\n'),
			       "a directory as an address entry is refused in one line (%s)", err);
			rmdir(path);

			/* A claim refused because another HSM's VCM holds the
			 * address (another hsmd took it after it was checked)
			 * says so, and the address is remembered. */
			hd_vcmalloc_forget();
			tap_ok(hd_vcmalloc_claim(&s2, "00000001-0000-4000-8000-000000000001",
						 "127.9.1.1", &index, err, sizeof(err)) != 0,
			       "a claim of an address another HSM's VCM holds is refused");
			TAP_HAS(err, "address 127.9.1.1 is held by VCM", "... saying by whom");
			known = hd_vcmalloc_known_taken(&s2, err, sizeof(err));
			tap_ok(json_array_size(known) == 1 &&
				   strcmp(json_string_value(json_array_get(known, 0)),
					  "127.9.1.1") == 0,
			       "... and the address is remembered as taken");
			json_decref(known);
		}

		/* Hostile entries: refused with one line, never followed. */
		snprintf(cfg.vcm_allocations, sizeof(cfg.vcm_allocations), "%s", small);
		snprintf(path, sizeof(path), "%s.d/address/127.10.0.9", small);
		if (symlink("/etc/passwd", path) != 0)
			perror("symlink");
		tap_ok(hd_vcmalloc_claim(&s2, "00000001-0000-4000-8000-000000000001", "127.10.0.9",
					 &index, err, sizeof(err)) != 0,
		       "a symbolic link in the table is refused");
		TAP_HAS(err, "symbolic link", "... the error says so");
		tap_ok(!strchr(err, '\n'), "... in one line");
		unlink(path);
		{
			char *huge = malloc(100000);
			memset(huge, 'x', 99999);
			huge[99999] = '\0';
			put(path, huge);
			free(huge);
		}
		tap_ok(hd_vcmalloc_claim(&s2, "00000001-0000-4000-8000-000000000001", "127.10.0.9",
					 &index, err, sizeof(err)) != 0 &&
			   !strchr(err, '\n'),
		       "a huge entry is refused in one line (%s)", err);
		put(path, "../../etc/passwd\n");
		tap_ok(hd_vcmalloc_claim(&s2, "00000001-0000-4000-8000-000000000001", "127.10.0.9",
					 &index, err, sizeof(err)) != 0 &&
			   !strchr(err, '\n'),
		       "a bad entry is refused in one line (%s)", err);
		TAP_HAS(err, "address/127.10.0.9", "... naming it");
		put(path, "");
		TAP_INT_EQ(hd_vcmalloc_claim(&s2, "00000001-0000-4000-8000-000000000001",
					     "127.10.0.9", &index, err, sizeof(err)),
			   0, "an empty entry (a claim cut by a power loss) is taken over");
		{
			struct stat a, c;
			char cpath[1400], hsm[1200];
			snprintf(tdir, sizeof(tdir), "%s.d", small);
			hsm_dir(me, hsm, sizeof(hsm));
			snprintf(cpath, sizeof(cpath), "%s/00000001-0000-4000-8000-000000000001",
				 hsm);
			tap_ok(stat(path, &a) == 0 && stat(cpath, &c) == 0 && a.st_ino == c.st_ino,
			       "... the address entry is the new claim");
		}
		json_decref(s2.device);
	}

	/* A number a killed claim left named below where the search starts is
	 * taken over once the numbers above it are gone, not reported as
	 * none left: user numbers 1-3, a leftover name for 1. */
	{
		char few[400], line[300], hsm[1200];
		struct hd_store s3 = st;
		json_t *reg3 = json_object(), *got;
		unsigned n[3] = { 0, 0, 0 }, saved_count = cfg.vcm_uid_count;
		int rc[3];

		snprintf(few, sizeof(few), "%s/few.json", top);
		snprintf(cfg.vcm_allocations, sizeof(cfg.vcm_allocations), "%s", few);
		cfg.vcm_uid_count = 4;
		s3.device = json_pack("{s:o}", "vcms", reg3);
		hd_vcmalloc_forget();
		got = hd_vcmalloc_claim_all(&s3, err, sizeof(err)); /* makes the table */
		tap_ok(got && json_object_size(got) == 0, "a table with user numbers 1-3 (%s)",
		       got ? "" : err);
		json_decref(got);
		hsm_dir(me, hsm, sizeof(hsm));
		snprintf(path, sizeof(path), "%s.d/index/1", few);
		snprintf(line, sizeof(line),
			 "{\"hsm\":\"%s\",\"uuid\":\"aaaaaaaa-0000-4000-8000-000000000000\","
			 "\"address\":\"127.99.0.1\",\"index\":1}\n",
			 strrchr(hsm, '/') + 1);
		put(path, line);
		hd_vcmalloc_forget(); /* as after a restart: the search starts at 2 */
		got = hd_vcmalloc_claim_all(&s3, err, sizeof(err));
		json_decref(got);
		for (int i = 0; i < 3; i++) {
			char a[32];
			uuid_of(5000 + i, uuid, sizeof(uuid));
			snprintf(a, sizeof(a), "127.13.0.%d", i + 1);
			json_object_set_new(reg3, uuid,
					    json_pack("{s:s, s:i}", "address", a, "seq", i));
			rc[i] = hd_vcmalloc_claim(&s3, uuid, a, &n[i], err, sizeof(err));
		}
		tap_ok(rc[0] == 0 && rc[1] == 0 && n[0] == 2 && n[1] == 3,
		       "two new VCMs get the numbers above the leftover (%u, %u)", n[0], n[1]);
		tap_ok(rc[2] == 0 && n[2] == 1,
		       "a third takes over the leftover's number (rc %d, number %u: %s)", rc[2],
		       n[2], rc[2] ? err : "");
		uuid_of(5003, uuid, sizeof(uuid));
		json_object_set_new(reg3, uuid,
				    json_pack("{s:s, s:i}", "address", "127.13.0.4", "seq", 3));
		tap_ok(hd_vcmalloc_claim(&s3, uuid, "127.13.0.4", &index, err, sizeof(err)) != 0,
		       "a fourth finds no number");
		TAP_HAS(err, "no free VCM user number below uid_count 4", "... and says so");
		json_decref(s3.device);
		cfg.vcm_uid_count = saved_count;
	}

	json_decref(claimed);
	json_decref(st.device);
	json_decref(st_other.device);
	{
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			fprintf(stderr, "# cannot remove %s\n", top);
	}
	return tap_done();
}
