/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hsmd-vcmalloc.c - the machine-wide table of VCM addresses and user
 * numbers (firmware/hsmd/vcmalloc.c): start-up claims every VCM of a
 * large registry with one read and at most one write of the table (hsmd
 * used to read and rewrite it once per VCM, which made start-up with 1000
 * VCMs take minutes), unique user numbers, addresses of another HSM's VCMs
 * refused for that VCM alone, and a shared user number repaired.
 */
#include "config.h"

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

static char top[256], me[300], other[300], table[300];

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

static json_t *read_table(void)
{
	char err[256];

	return hsm_json_load_file(table, HD_VCMALLOC_MAX, err, sizeof(err));
}

/* The table's entries of this HSM: uuid -> index. */
static json_t *mine(void)
{
	json_t *doc = read_table(), *out = json_object(), *e;
	char real[4096];
	size_t i;

	if (!realpath(me, real))
		real[0] = '\0';
	json_array_foreach(json_object_get(doc, "vcms"), i,
			   e) if (strcmp(json_string_value(json_object_get(e, "state")), real) == 0)
	    json_object_set(out, json_string_value(json_object_get(e, "uuid")),
			    json_object_get(e, "index"));
	json_decref(doc);
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

int main(void)
{
	struct hd_config cfg;
	struct hd_store st;
	char err[HD_ERRLEN], uuid[40], addr[32], real_other[4096];
	json_t *claimed, *doc, *registry;
	const int taken[] = { 1, 3 };
	unsigned long reads, saves;
	unsigned index;

	snprintf(top, sizeof(top), "%s/test-hsmd-vcmalloc.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(me, sizeof(me), "%s/hsm", top);
	snprintf(other, sizeof(other), "%s/other", top);
	snprintf(table, sizeof(table), "%s/vcm-allocations.json", top);
	touch(me, "lifetime.json");
	touch(other, "lifetime.json");
	if (!realpath(other, real_other))
		return 1;

	/* Another HSM of this machine holds user numbers 1 and 3 and one
	 * address. */
	doc = json_pack("{s:i, s:[{s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:i}]}", "version", 1,
			"vcms", "state", real_other, "uuid", "ffffffff-0000-4000-8000-000000000001",
			"address", "127.9.0.1", "index", 1, "state", real_other, "uuid",
			"ffffffff-0000-4000-8000-000000000002", "address", "127.9.0.2", "index", 3);
	TAP_INT_EQ(hsm_write_json_atomic(table, doc, 0644, err, sizeof(err)), 0,
		   "a table with another HSM's VCMs");
	json_decref(doc);

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

	/* Start-up: every VCM claimed in one pass. */
	reads = hd_vcmalloc_reads;
	saves = hd_vcmalloc_saves;
	claimed = hd_vcmalloc_claim_all(&st, err, sizeof(err));
	tap_ok(claimed != NULL, "claim %d VCMs", NVCMS);
	TAP_INT_EQ((int)json_object_size(claimed), NVCMS, "... each has an answer");
	TAP_INT_EQ((int)(hd_vcmalloc_reads - reads), 1, "... the table was read once");
	TAP_INT_EQ((int)(hd_vcmalloc_saves - saves), 1, "... and written once");
	tap_ok(unique_indexes(claimed, taken, 2),
	       "... every user number differs, none is the other HSM's");
	uuid_of(NVCMS, uuid, sizeof(uuid));
	TAP_INT_EQ((int)json_integer_value(json_object_get(claimed, uuid)), 2,
		   "... the first created VCM has the lowest free number");
	{
		json_t *t = mine();
		tap_ok(json_equal(t, claimed), "... and the table holds what was claimed");
		json_decref(t);
	}

	/* The next start (a new process): nothing to write. */
	hd_vcmalloc_forget();
	reads = hd_vcmalloc_reads;
	saves = hd_vcmalloc_saves;
	{
		json_t *again = hd_vcmalloc_claim_all(&st, err, sizeof(err));
		tap_ok(json_equal(again, claimed), "a second start claims the same numbers");
		TAP_INT_EQ((int)(hd_vcmalloc_reads - reads), 1, "... one read");
		TAP_INT_EQ((int)(hd_vcmalloc_saves - saves), 0, "... no write");
		json_decref(again);
	}

	/* In one process, an unchanged table is not read again; one another
	 * process replaced is. */
	reads = hd_vcmalloc_reads;
	{
		json_t *addrs = hd_vcmalloc_taken(&st, err, sizeof(err));
		TAP_INT_EQ((int)json_array_size(addrs), 2, "the other HSM holds two addresses");
		json_decref(addrs);
	}
	TAP_INT_EQ((int)(hd_vcmalloc_reads - reads), 0,
		   "... the unchanged table is not read again");
	doc = read_table();
	json_array_append_new(json_object_get(doc, "vcms"),
			      json_pack("{s:s, s:s, s:s, s:i}", "state", real_other, "uuid",
					"ffffffff-0000-4000-8000-000000000003", "address",
					"127.9.0.3", "index", 60000));
	hsm_write_json_atomic(table, doc, 0644, err, sizeof(err));
	json_decref(doc);
	{
		json_t *addrs = hd_vcmalloc_taken(&st, err, sizeof(err));
		TAP_INT_EQ((int)json_array_size(addrs), 3,
			   "another process's change is seen (three addresses)");
		json_decref(addrs);
	}
	TAP_INT_EQ((int)(hd_vcmalloc_reads - reads), 1, "... the table was read again");

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
		json_t *t = mine();
		tap_ok(!json_object_get(t, uuid), "... and the refused VCM is not in the table");
		json_decref(t);
	}
	json_object_del(registry, uuid);

	/* Two VCMs of this HSM share a number (a table edited by hand): one
	 * gets another number. */
	doc = read_table();
	{
		json_t *e;
		size_t i, n = 0;
		json_array_foreach(json_object_get(doc, "vcms"), i,
				   e) if (json_integer_value(json_object_get(e, "index")) == 5 ||
					  json_integer_value(json_object_get(e, "index")) == 6)
		{
			json_object_set_new(e, "index", json_integer(5));
			n++;
		}
		TAP_INT_EQ((int)n, 2, "make two VCMs share user number 5");
	}
	hsm_write_json_atomic(table, doc, 0644, err, sizeof(err));
	json_decref(doc);
	json_decref(claimed);
	claimed = hd_vcmalloc_claim_all(&st, err, sizeof(err));
	tap_ok(unique_indexes(claimed, taken, 2), "... after a start every number differs again");
	{
		json_t *t = mine();
		tap_ok(json_equal(t, claimed), "... in the table too");
		json_decref(t);
	}

	/* One VCM alone (a create) keeps its number, without a write. */
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

	json_decref(claimed);
	json_decref(st.device);
	{
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			fprintf(stderr, "# cannot remove %s\n", top);
	}
	return tap_done();
}
