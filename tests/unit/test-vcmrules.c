/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-vcmrules.c - the VCM rules shared by hsmd and the orchestrator
 * (firmware/lib/vcmrules.c): limits with and without a licence and per
 * speed, feature words and speed bits (guide 3.3), registry validation
 * (addresses, the card reader, autostart vs restrict-startup, 1000 VCMs),
 * creation order, and the VCM network.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/features.h>
#include "vcmrules.h"
#include "tap.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF6/hqVceJmgQsl6sH+upIug9xPfJUhLKTEh4FRsAlcY"

static json_t *lifetime(const char *speed, uint32_t features)
{
	return json_pack("{s:s, s:I, s:s}", "speed", speed, "features", (json_int_t)features,
			 "address", "127.10.20.30");
}

static json_t *licence(int n, const char *upgrade, uint32_t features)
{
	return json_pack("{s:{s:i, s:o, s:I}}", "licence", "max_active_vcms", n, "speed_upgrade",
			 upgrade ? json_string(upgrade) : json_null(), "features",
			 (json_int_t)features);
}

static json_t *entry(int seq, const char *addr, const char *state)
{
	return json_pack(
	    "{s:i, s:s, s:s, s:i, s:b, s:b, s:b, s:s, s:s, s:s, s:b, s:i, s:i, s:s, s:[], s:i}",
	    "seq", seq, "name", "vcm", "address", addr, "features", 0x1a20, "autostart", 0,
	    "restrict_startup", 0, "serial_cardreader", 0, "k_tenant_req", KEY, "sshadmin_key", KEY,
	    "state", state, "disk_exceeded", 0, "created", 1, "changed", 1, "request_nonce",
	    "00112233445566778899aabbccddeeff", "nonces", "nonce_floor", 0);
}

static const char *U1 = "0b3c5f2e-0000-4000-8000-000000000001";
static const char *U2 = "0b3c5f2e-0000-4000-8000-000000000002";

/* A start request's nonce: 32 hex digits from n. */
static const char *tag_of(unsigned n, char buf[40])
{
	snprintf(buf, 40, "%032x", n);
	return buf;
}

static size_t nonces_of(const json_t *e)
{
	return json_array_size(json_object_get(e, "nonces"));
}

/* Replay records: kept until their request expires, never forgotten
 * while it is live, the document bounded. */
static void replay_records(void)
{
	struct fw_nonce_use u, r;
	json_t *e = entry(1, "127.0.0.2", "stopped");
	char tr[40], t[40], err[512], *dump;
	int64_t now = 1000, retry;
	int fresh = 1, recorded = 1;
	unsigned i;
	size_t n;

	r = (struct fw_nonce_use){ tag_of(0xffff, tr), now, now + 86400 };
	tap_ok(fw_vcm_nonce_check(e, &r, now, NULL) == FW_NONCE_FRESH &&
		   fw_vcm_nonce_record(e, &r, now) == 0,
	       "a request valid for a day is recorded");
	for (i = 1; i <= 1000; i++) {
		now++;
		u = (struct fw_nonce_use){ tag_of(i, t), now, now + 60 };
		fresh &= fw_vcm_nonce_check(e, &u, now, NULL) == FW_NONCE_FRESH;
		recorded &= fw_vcm_nonce_record(e, &u, now) == 0;
	}
	tap_ok(fresh && recorded, "1000 more requests valid for 60 s are each accepted");
	TAP_INT_EQ(fw_vcm_nonce_check(e, &r, now, NULL), FW_NONCE_REPLAY,
		   "after 1000 other requests (more than 256), a live request is still a replay");
	tap_ok(nonces_of(e) <= 62, "only live records are kept (%zu)", nonces_of(e));
	dump = json_dumps(e, JSON_COMPACT);
	tap_ok(dump && strlen(dump) < 16384, "the entry stays small (%zu bytes)",
	       dump ? strlen(dump) : 0);
	free(dump);
	tap_ok(fw_vcm_entry_validate(U1, e, err, sizeof(err)) == 0, "the entry validates: %s", err);
	n = nonces_of(e);
	TAP_INT_EQ(fw_vcm_nonces_prune(e, 1000 + 86400), n - 1,
		   "at the day's end only the day-long record is left");
	TAP_INT_EQ(fw_vcm_nonces_prune(e, 1000 + 86401), 1, "one second later it is pruned too");
	TAP_INT_EQ(nonces_of(e), 0, "no records left");
	json_decref(e);

	/* The cap: 256 live records of expiring requests refuse a new one
	 * rather than forget one. */
	e = entry(1, "127.0.0.2", "stopped");
	now = 5000;
	for (i = 0; i < FW_VCM_NONCES_MAX; i++) {
		u = (struct fw_nonce_use){ tag_of(i, t), now, now + 1000 + i };
		fw_vcm_nonce_record(e, &u, now);
	}
	u = (struct fw_nonce_use){ tag_of(9999, t), now, now + 1000 };
	TAP_INT_EQ(fw_vcm_nonce_check(e, &u, now, &retry), FW_NONCE_FULL,
		   "256 live expiring records: a new request is refused");
	TAP_INT_EQ(retry, now + 1001, "retry when the oldest expires");
	tap_ok(fw_vcm_nonce_record(e, &u, now) == -1 && nonces_of(e) == FW_VCM_NONCES_MAX,
	       "and recording it changes nothing");
	r = (struct fw_nonce_use){ tag_of(0, tr), now, now + 1000 };
	TAP_INT_EQ(fw_vcm_nonce_check(e, &r, now, NULL), FW_NONCE_REPLAY,
		   "every live record still refuses its replay");
	TAP_INT_EQ(fw_vcm_nonce_check(e, &u, now + 1001, NULL), FW_NONCE_FRESH,
		   "once the oldest has expired, there is room");
	tap_ok(fw_vcm_nonce_record(e, &u, now + 1001) == 0 && nonces_of(e) == FW_VCM_NONCES_MAX,
	       "recorded in the expired one's place");
	json_decref(e);

	/* Requests without expiry: the oldest is forgotten, the floor rises
	 * to its issue time, so it stays refused. */
	e = entry(1, "127.0.0.2", "stopped");
	now = 10000;
	r = (struct fw_nonce_use){ tag_of(0xffff, tr), now + 200, -1 };
	tap_ok(fw_vcm_nonce_check(e, &r, now, NULL) == FW_NONCE_FRESH &&
		   fw_vcm_nonce_record(e, &r, now) == 0,
	       "a request issued 200 s ahead (within the skew) is recorded");
	for (i = 1; i <= 300; i++) {
		u = (struct fw_nonce_use){ tag_of(i, t), now + 200 + i, -1 };
		fw_vcm_nonce_record(e, &u, now + i);
	}
	TAP_INT_EQ(nonces_of(e), FW_VCM_NONCES_MAX, "at most 256 records");
	TAP_INT_EQ(fw_vcm_nonce_check(e, &r, now + 300, NULL), FW_NONCE_FLOOR,
		   "a forgotten request issued ahead of the clock is still refused (floor)");
	u = (struct fw_nonce_use){ tag_of(300, t), now + 500, -1 };
	TAP_INT_EQ(fw_vcm_nonce_check(e, &u, now + 300, NULL), FW_NONCE_REPLAY,
		   "a remembered one is a replay");
	tap_ok(fw_vcm_entry_validate(U1, e, err, sizeof(err)) == 0, "the entry validates: %s", err);
	json_decref(e);

	/* An older hsmd's records (bare strings) still count. */
	e = entry(1, "127.0.0.2", "stopped");
	json_array_append_new(json_object_get(e, "nonces"), json_string(tag_of(7, t)));
	tap_ok(fw_vcm_entry_validate(U1, e, err, sizeof(err)) == 0,
	       "a bare-string record validates");
	u = (struct fw_nonce_use){ tag_of(7, t), 1, -1 };
	TAP_INT_EQ(fw_vcm_nonce_check(e, &u, 5, NULL), FW_NONCE_REPLAY, "and refuses its replay");
	json_array_append_new(
	    json_object_get(e, "nonces"),
	    json_pack("{s:s, s:i, s:i}", "nonce", tag_of(8, t), "issued", 10, "not_after", 5));
	tap_ok(fw_vcm_entry_validate(U1, e, err, sizeof(err)) != 0 && strstr(err, "nonces[1]"),
	       "a record expiring before it was issued is refused: %s", err);
	json_decref(e);
}

static const char *U3 = "0b3c5f2e-0000-4000-8000-000000000003";
static const char *U4 = "0b3c5f2e-0000-4000-8000-000000000004";

/* Check vcms changed in `changed` (UUID -> entry or null) against the index
 * of base, the way hsmd commits: 0 or -1 with err.  The verdict must be
 * that of validating the whole new registry. */
static int check_change(const json_t *base, const struct fw_vcms_index *idx, json_t *changed,
			char *err, size_t errlen)
{
	json_t *next = json_copy((json_t *)base), *v;
	const char *u;
	char whole[512];
	int rc, full;

	json_object_foreach(changed, u, v)
	{
		if (json_is_null(v))
			json_object_del(next, u);
		else
			json_object_set(next, u, v);
	}
	rc = fw_vcms_validate_changes(next, changed, idx, err, errlen);
	full = fw_vcms_validate(next, whole, sizeof(whole));
	if ((rc == 0) != (full == 0))
		tap_ok(0, "the change's verdict (%d: %s) is the whole registry's (%d: %s)", rc,
		       rc ? err : "", full, full ? whole : "");
	json_decref(next);
	json_decref(changed);
	return rc;
}

/* A commit checks the changed entries alone against the index of the
 * registry before it, with the verdict of checking the whole registry;
 * the index follows each change. */
static void changes_checked(void)
{
	struct fw_vcms_index idx;
	json_t *base, *e, *ch;
	char err[512] = "";

	base = json_pack("{s:o, s:o, s:o}", U1, entry(1, "127.1.0.1", "active"), U2,
			 entry(2, "fd00::2", "inactive"), U3, entry(3, "127.1.0.3", "stopped"));
	json_object_set_new(json_object_get(base, U1), "serial_cardreader", json_true());
	tap_ok(fw_vcms_index_build(&idx, base) == 0, "a registry is indexed");
	TAP_STR_EQ(idx.reader, U1, "the index names the card reader's holder");

	ch = json_pack("{s:o}", U4, entry(4, "127.1.0.4", "inactive"));
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) == 0, "a new VCM is accepted: %s",
	       err);
	ch = json_pack("{s:o}", U4, entry(4, "fd00:0:0::2", "inactive"));
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) != 0 && strstr(err, U2) &&
		   strstr(err, "same address"),
	       "another VCM's address, written differently, is refused: %s", err);
	ch = json_pack("{s:o}", U4, entry(3, "127.1.0.4", "inactive"));
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) != 0 && strstr(err, "sequence"),
	       "another VCM's sequence number is refused: %s", err);
	e = entry(4, "127.1.0.4", "inactive");
	json_object_set_new(e, "serial_cardreader", json_true());
	ch = json_pack("{s:o}", U4, e);
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) != 0 && strstr(err, U1) &&
		   strstr(err, "card reader"),
	       "a second card reader is refused: %s", err);
	e = entry(4, "127.1.0.4", "inactive");
	json_object_set_new(e, "serial_cardreader", json_true());
	ch = json_pack("{s:o, s:n}", U4, e, U1);
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) == 0,
	       "the card reader's holder deleted in the same change frees it: %s", err);
	ch = json_pack("{s:o, s:o}", U4, entry(4, "fd00::2", "inactive"), U2,
		       entry(2, "fd00::9", "inactive"));
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) == 0,
	       "an address moved to a new VCM in one change is accepted: %s", err);
	ch = json_pack("{s:o, s:o}", U4, entry(4, "fd00::2", "inactive"), U2,
		       entry(2, "fd00::2", "active"));
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) != 0 && strstr(err, "same address"),
	       "two changed VCMs with one address are refused: %s", err);
	ch = json_pack("{s:o}", U4, entry(4, "127.1.0.4", "running"));
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) != 0 && strstr(err, "state"),
	       "a changed entry is checked in full: %s", err);
	ch = json_pack("{s:o}", "0B3C5F2E-0000-4000-8000-000000000004",
		       entry(4, "127.1.0.4", "inactive"));
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) != 0 && strstr(err, "UUID"),
	       "a new entry's UUID is checked: %s", err);

	/* The index follows a change: U2's old address is free, U4 holds its
	 * new one. */
	ch = json_pack("{s:o, s:o}", U4, entry(4, "127.1.0.4", "inactive"), U2,
		       entry(2, "fd00::9", "inactive"));
	{
		json_t *next = json_copy(base), *v;
		const char *u;
		json_object_foreach(ch, u, v) json_object_set(next, u, v);
		tap_ok(fw_vcms_index_update(&idx, base, next, ch) == 0, "the index is updated");
		json_decref(base);
		base = next;
	}
	json_decref(ch);
	ch = json_pack("{s:o}", U3, entry(3, "fd00::2", "stopped"));
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) == 0,
	       "a released address may be taken: %s", err);
	ch = json_pack("{s:o}", U3, entry(3, "127.1.0.4", "stopped"));
	tap_ok(check_change(base, &idx, ch, err, sizeof(err)) != 0 && strstr(err, U4),
	       "the new holder of an address is known: %s", err);
	fw_vcms_index_free(&idx);
	json_decref(base);
}

/* VCM i of the lookups' registry: address 10.0.B.C from i, seq i, a nonce
 * of its own. */
static void lookup_uuid(unsigned i, char out[37])
{
	snprintf(out, 37, "0b3c5f2e-0000-4000-8000-%012u", i);
}
static void lookup_nonce(unsigned i, char out[33])
{
	snprintf(out, 33, "%032x", i);
}
static json_t *lookup_entry(unsigned i, const char *addr)
{
	char nonce[33];
	json_t *e = entry((int)i, addr, "inactive");

	lookup_nonce(i, nonce);
	json_object_set_new(e, "request_nonce", json_string(nonce));
	return e;
}

/* Apply changes (UUID -> entry or null) to vcms and to its index. */
static void lookup_change(struct fw_vcms_index *idx, json_t **vcms, json_t *changes)
{
	json_t *next = json_copy(*vcms), *v;
	const char *u;

	json_object_foreach(changes, u, v)
	{
		if (json_is_null(v))
			json_object_del(next, u);
		else
			json_object_set(next, u, v);
	}
	if (fw_vcms_index_update(idx, *vcms, next, changes) != 0)
		tap_ok(0, "index update");
	json_decref(*vcms);
	json_decref(changes);
	*vcms = next;
}

/* fw_vcms_index_alloc against hsm_addr_alloc given every address (the
 * index's and the pool's) as used: the same address or the same status. */
static int alloc_agrees(const struct fw_vcms_index *idx, const json_t *vcms,
			struct hsm_addr_pool pool)
{
	struct hsm_ipaddr *all = calloc(pool.nused + json_object_size(vcms) + 1, sizeof(*all));
	struct hsm_ipaddr a, b;
	char e1[160], e2[160];
	const char *u;
	json_t *v;
	size_t n = 0;
	int r1, r2;

	for (size_t i = 0; i < pool.nused; i++)
		all[n++] = pool.used[i];
	json_object_foreach((json_t *)vcms, u, v)
	    hsm_ip_parse(json_string_value(json_object_get(v, "address")), 0, &all[n++], NULL, 0);
	r1 = fw_vcms_index_alloc(idx, &pool, &a, e1, sizeof(e1));
	pool.used = all;
	pool.nused = n;
	r2 = hsm_addr_alloc(&pool, &b, e2, sizeof(e2));
	free(all);
	return r1 == r2 && (r1 != 0 ? strcmp(e1, e2) == 0 : hsm_ip_equal(&a, &b));
}

/* What a create asks of the registry (its request's nonce used before,
 * the next sequence number, a free address) is answered by the index
 * without looking at any entry, and the answers follow every change. */
static void create_lookups(void)
{
	struct fw_vcms_index idx;
	struct hsm_addr_pool pool;
	struct hsm_ipaddr ip, hsm, taken[2];
	json_t *vcms = json_object();
	char u[37], nonce[33], addr[32], err[160];
	unsigned long visits;
	int agree = 1;

	for (unsigned i = 1; i <= 200; i++) {
		lookup_uuid(i, u);
		snprintf(addr, sizeof(addr), "10.0.%u.%u", i / 256, i % 256);
		json_object_set_new(vcms, u, lookup_entry(i, addr));
	}
	visits = fw_vcms_visits;
	tap_ok(fw_vcms_index_build(&idx, vcms) == 0, "200 VCMs are indexed");
	TAP_INT_EQ((int)(fw_vcms_visits - visits), 200, "... looking at each entry once");

	visits = fw_vcms_visits;
	lookup_nonce(57, nonce);
	lookup_uuid(57, u);
	TAP_STR_EQ(fw_vcms_index_nonce(&idx, nonce), u, "a used create request's nonce is known");
	lookup_nonce(201, nonce);
	tap_ok(fw_vcms_index_nonce(&idx, nonce) == NULL, "... an unused one is not");
	TAP_INT_EQ((int)fw_vcms_index_seq_max(&idx), 200, "the highest sequence number is known");
	hsm_ip_parse("10.0.0.5", 0, &ip, NULL, 0);
	lookup_uuid(5, u);
	TAP_STR_EQ(fw_vcms_index_address(&idx, &ip), u, "the holder of an address is known");
	memset(&pool, 0, sizeof(pool));
	hsm_cidr_parse("10.0.0.0/22", 0, &pool.subnet, NULL, 0);
	hsm_ip_parse("10.0.0.201", 0, &hsm, NULL, 0);
	hsm_ip_parse("10.0.0.202", 0, &taken[0], NULL, 0);
	hsm_ip_parse("10.0.0.204", 0, &taken[1], NULL, 0);
	pool.hsm = &hsm;
	pool.used = taken;
	pool.nused = 2;
	TAP_INT_EQ(fw_vcms_index_alloc(&idx, &pool, &ip, err, sizeof(err)), 0,
		   "the lowest free address is found");
	TAP_STR_EQ(hsm_ip_format(&ip, addr, sizeof(addr)), "10.0.0.203",
		   "... past the VCMs, the HSM and other HSMs' VCMs");
	TAP_INT_EQ((int)(fw_vcms_visits - visits), 0, "... and no lookup looked at an entry");

	/* They follow changes: a hole, a deleted highest number. */
	lookup_uuid(3, u);
	lookup_change(&idx, &vcms, json_pack("{s:n}", u));
	pool.nused = 0;
	pool.hsm = NULL;
	tap_ok(fw_vcms_index_alloc(&idx, &pool, &ip, err, sizeof(err)) == 0 &&
		   !strcmp(hsm_ip_format(&ip, addr, sizeof(addr)), "10.0.0.3"),
	       "a deleted VCM's address is the lowest free one again (%s)", addr);
	lookup_nonce(3, nonce);
	tap_ok(fw_vcms_index_nonce(&idx, nonce) == NULL, "... its nonce is forgotten");
	lookup_uuid(200, u);
	lookup_change(&idx, &vcms, json_pack("{s:n}", u));
	TAP_INT_EQ((int)fw_vcms_index_seq_max(&idx), 199, "the highest number deleted: the next");
	{
		char u2[37];
		lookup_uuid(199, u);
		lookup_uuid(198, u2);
		lookup_change(&idx, &vcms, json_pack("{s:n, s:n}", u, u2));
	}
	TAP_INT_EQ((int)fw_vcms_index_seq_max(&idx), 197, "... two at once");
	for (unsigned i = 2; i <= 197; i++) {
		lookup_uuid(i, u);
		if (json_object_get(vcms, u) && i != 100)
			lookup_change(&idx, &vcms, json_pack("{s:n}", u));
	}
	lookup_uuid(100, u);
	lookup_change(&idx, &vcms, json_pack("{s:n}", u));
	TAP_INT_EQ((int)fw_vcms_index_seq_max(&idx), 1, "... far down");
	lookup_uuid(1, u);
	lookup_change(&idx, &vcms, json_pack("{s:n}", u));
	TAP_INT_EQ((int)fw_vcms_index_seq_max(&idx), 0, "... none left: 0");
	fw_vcms_index_free(&idx);
	json_decref(vcms);

	/* The allocator agrees with hsm_addr_alloc over the whole registry,
	 * in small IPv4 and IPv6 subnets, full ones included. */
	srand(7);
	for (int round = 0; round < 300; round++) {
		int v6 = round % 3 == 0, bits = 2 + rand() % 4;
		struct hsm_ipaddr other[4];
		char net[64];

		vcms = json_object();
		memset(&pool, 0, sizeof(pool));
		snprintf(net, sizeof(net), v6 ? "fd00::%x:0/%d" : "10.9.%d.0/%d", round % 250,
			 (v6 ? 128 : 32) - bits);
		hsm_cidr_parse(net, 0, &pool.subnet, NULL, 0);
		for (unsigned h = 0; h < (1u << bits); h++) {
			snprintf(addr, sizeof(addr), v6 ? "fd00::%x:%x" : "10.9.%d.%u", round % 250,
				 h);
			if (rand() % 4 == 0 && pool.nused < 4)
				hsm_ip_parse(addr, 0, &other[pool.nused++], NULL, 0);
			else if (rand() % 4 != 0) {
				lookup_uuid(h + 1, u);
				json_object_set_new(vcms, u, lookup_entry(h + 1, addr));
			}
		}
		pool.used = other;
		if (round % 2 && pool.nused)
			pool.hsm = &other[0];
		fw_vcms_index_build(&idx, vcms);
		agree &= alloc_agrees(&idx, vcms, pool);
		fw_vcms_index_free(&idx);
		json_decref(vcms);
	}
	tap_ok(agree, "the index's allocator agrees with hsm_addr_alloc in 300 random subnets");
}

int main(void)
{
	struct fw_vcm_limits lim;
	struct fw_vcm_net net;
	json_t *lt, *dev, *vcms, *order;
	char err[512], buf[64];
	uint32_t w;

	/* --- limits --- */
	lt = lifetime("high", HSM_FEAT_BUILTIN | HSM_FEAT_HSM_SPEED2 | HSM_FEAT_KISA_ALGORITHMS);
	dev = json_object();
	fw_vcm_limits(lt, dev, &lim);
	TAP_INT_EQ(lim.max_active, 1, "no licence: 1 active");
	TAP_INT_EQ(lim.max_creatable, 1, "no licence: 1 creatable");
	json_decref(dev);
	dev = licence(15, NULL, HSM_FEAT_FOREIGN_TOKEN_OPEN);
	fw_vcm_limits(lt, dev, &lim);
	TAP_INT_EQ(lim.max_active, 15, "licence for 15: 15 active");
	TAP_INT_EQ(lim.max_creatable, 1000, "... 1000 creatable on a high-speed HSM");
	tap_ok((lim.platform & HSM_FEAT_FOREIGN_TOKEN_OPEN) &&
		   (lim.platform & HSM_FEAT_KISA_ALGORITHMS),
	       "platform features: factory plus licence");
	json_decref(dev);
	json_decref(lt);
	lt = lifetime("base", HSM_FEAT_BUILTIN | HSM_FEAT_HSM_SPEED0);
	dev = licence(3, NULL, 0);
	fw_vcm_limits(lt, dev, &lim);
	TAP_INT_EQ(lim.max_creatable, 5, "base speed: 5 creatable");
	json_decref(dev);
	dev = licence(3, "mid", 0);
	fw_vcm_limits(lt, dev, &lim);
	TAP_INT_EQ(lim.max_creatable, 1000, "base speed upgraded to mid: 1000 creatable");
	TAP_STR_EQ(lim.speed, "mid", "... and the speed is mid");
	tap_ok(lim.platform & HSM_FEAT_HSM_SPEED1 && !(lim.platform & HSM_FEAT_HSM_SPEED0),
	       "... with the HSMSpeed1 bit instead of HSMSpeed0");

	/* --- features (mid-speed HSM) --- */
	tap_ok(fw_vcm_features(HSM_FEAT_HSM_SPEED1, &lim, &w, err, sizeof(err)) == 0 &&
		   (w & HSM_FEAT_SPEED_MASK) == HSM_FEAT_HSM_SPEED0,
	       "HSMSpeed1 becomes HSMSpeed0 on a mid-speed HSM");
	tap_ok(fw_vcm_features(HSM_FEAT_HSM_SPEED2, &lim, &w, err, sizeof(err)) != 0 &&
		   strstr(err, "above this HSM's rating"),
	       "HSMSpeed2 on a mid-speed HSM is refused");
	tap_ok(fw_vcm_features(HSM_FEAT_FOREIGN_TOKEN_OPEN, &lim, &w, err, sizeof(err)) != 0 &&
		   strstr(err, "ForeignTokenOpen"),
	       "a feature the platform lacks is refused, by name");
	tap_ok(fw_vcm_features(0, &lim, &w, err, sizeof(err)) == 0 && w == HSM_FEAT_BUILTIN,
	       "built-in features are always present");
	tap_ok(fw_vcm_features(0x80000000u, &lim, &w, err, sizeof(err)) != 0,
	       "an unnamed bit the platform lacks is refused");
	json_decref(dev);
	json_decref(lt);

	/* --- small values --- */
	tap_ok(fw_uuid_valid(U1), "a lower-case UUID");
	tap_ok(!fw_uuid_valid("0B3C5F2E-0000-4000-8000-000000000001"), "upper case refused");
	tap_ok(!fw_uuid_valid("0b3c5f2e-0000-4000-8000-00000000001"), "short refused");
	tap_ok(!fw_uuid_valid("0b3c5f2e00000-4000-8000-000000000001"), "dash misplaced refused");
	TAP_INT_EQ(fw_vcm_bool_parse("True"), 1, "True");
	TAP_INT_EQ(fw_vcm_bool_parse("false"), 0, "false");
	TAP_INT_EQ(fw_vcm_bool_parse("yes"), -1, "yes is not a boolean");

	/* --- the registry --- */
	vcms = json_pack("{s:o, s:o}", U1, entry(1, "127.1.0.1", "active"), U2,
			 entry(2, "127.1.0.2", "inactive"));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) == 0, "a good registry validates (%s)",
	       err);
	TAP_INT_EQ(fw_vcms_active(vcms), 1, "one active");
	order = fw_vcms_ordered(vcms);
	TAP_STR_EQ(json_string_value(json_array_get(order, 0)), U1, "creation order");
	json_decref(order);
	json_object_set_new(json_object_get(vcms, U2), "address", json_string("127.1.0.1"));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0 && strstr(err, "same address"),
	       "two VCMs with one address are refused");
	json_object_set_new(json_object_get(vcms, U2), "address", json_string("127.1.0.2"));
	json_object_set_new(json_object_get(vcms, U1), "serial_cardreader", json_true());
	json_object_set_new(json_object_get(vcms, U2), "serial_cardreader", json_true());
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0 && strstr(err, "serial card reader"),
	       "two VCMs with the card reader are refused");
	TAP_STR_EQ(fw_vcms_cardreader(vcms, U1), U2, "the card reader holder other than U1");
	json_object_set_new(json_object_get(vcms, U2), "serial_cardreader", json_false());
	json_object_set_new(json_object_get(vcms, U2), "autostart", json_true());
	json_object_set_new(json_object_get(vcms, U2), "restrict_startup", json_true());
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0 &&
		   strstr(err, "autostart and restrict_startup"),
	       "autostart with restrict-startup is refused");
	json_object_set_new(json_object_get(vcms, U2), "restrict_startup", json_false());
	json_object_set_new(json_object_get(vcms, U2), "seq", json_integer(1));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0,
	       "duplicate sequence numbers are refused");
	json_object_set_new(json_object_get(vcms, U2), "seq", json_integer(2));
	json_object_set_new(json_object_get(vcms, U2), "state", json_string("running"));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0, "an unknown state is refused");
	json_object_set_new(json_object_get(vcms, U2), "state", json_string("active"));
	json_object_set_new(json_object_get(vcms, U2), "disk_exceeded", json_true());
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0,
	       "active over the disk limit is refused");
	json_object_set_new(json_object_get(vcms, U2), "disk_exceeded", json_false());
	json_object_set_new(json_object_get(vcms, U2), "extra", json_true());
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0, "an unknown member is refused");
	json_object_del(json_object_get(vcms, U2), "extra");
	json_object_set_new(json_object_get(vcms, U2), "nonces", json_pack("[s]", "nothex"));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0, "a malformed nonce is refused");
	json_decref(vcms);
	vcms = json_object();
	for (int i = 0; i <= 1000; i++) {
		char u[40], a[32];
		snprintf(u, sizeof(u), "0b3c5f2e-0000-4000-8000-%012d", i);
		snprintf(a, sizeof(a), "127.2.%d.%d", i / 250, i % 250 + 1);
		json_object_set_new(vcms, u, entry(i + 1, a, "inactive"));
	}
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0 && strstr(err, "more than 1000"),
	       "1001 VCMs are refused");
	json_object_del(vcms, "0b3c5f2e-0000-4000-8000-000000000000");
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) == 0, "1000 VCMs validate");
	json_decref(vcms);

	/* --- the network --- */
	lt = lifetime("high", 0);
	dev = json_object();
	tap_ok(fw_vcm_net_get(lt, dev, NULL, &net, err, sizeof(err)) == 0, "default network");
	TAP_STR_EQ(hsm_cidr_format(&net.subnet, buf, sizeof(buf)), "127.138.20.0/22",
		   "emulated default: 127.(A xor 128).(B & 252).0/22");
	tap_ok(fw_vcm_net_get(lt, dev, "127.50.0.0/24", &net, err, sizeof(err)) == 0 &&
		   !strcmp(hsm_cidr_format(&net.subnet, buf, sizeof(buf)), "127.50.0.0/24"),
	       "emulated_subnet overrides");
	json_decref(dev);
	dev = json_pack("{s:{s:{s:s, s:s, s:s}, s:n}}", "vcm_network", "current", "mode",
			"ipv4static", "address", "10.1.0.1/24", "gateway", "10.1.0.254", "pending");
	tap_ok(fw_vcm_net_get(lt, dev, "127.50.0.0/24", &net, err, sizeof(err)) == 0 &&
		   !strcmp(hsm_cidr_format(&net.subnet, buf, sizeof(buf)), "10.1.0.1/24") &&
		   net.has_gateway,
	       "a static network is used as set, with the gateway reserved");
	json_decref(dev);
	json_decref(lt);
	lt = json_pack("{s:s}", "address", "::1");
	dev = json_object();
	tap_ok(fw_vcm_net_get(lt, dev, NULL, &net, err, sizeof(err)) != 0 &&
		   strstr(err, "emulated_subnet"),
	       "no derivable default pool: the error names the setting");
	json_decref(dev);
	json_decref(lt);
	replay_records();
	changes_checked();
	create_lookups();
	return tap_done();
}
