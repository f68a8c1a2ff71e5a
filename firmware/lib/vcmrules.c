/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmrules.c - the VCM rules of guide chapter 3 (see vcmrules.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include "vcmrules.h"

/* ---- limits and features ---------------------------------------------- */

static int speed_rank(const char *s)
{
	if (s && strcmp(s, "high") == 0)
		return 3;
	if (s && strcmp(s, "mid") == 0)
		return 2;
	return 1;
}

static const char *const speed_names[] = { "base", "base", "mid", "high" };
static const uint32_t speed_bits[] = { HSM_FEAT_HSM_SPEED0, HSM_FEAT_HSM_SPEED0,
				       HSM_FEAT_HSM_SPEED1, HSM_FEAT_HSM_SPEED2 };

void fw_vcm_limits(const json_t *lifetime, const json_t *device, struct fw_vcm_limits *out)
{
	const json_t *lic = json_object_get(device, "licence");
	int rank = speed_rank(json_string_value(json_object_get(lifetime, "speed")));
	uint32_t features = (uint32_t)json_integer_value(json_object_get(lifetime, "features"));

	memset(out, 0, sizeof(*out));
	out->licensed = json_is_object(lic);
	if (out->licensed) {
		json_int_t max = json_integer_value(json_object_get(lic, "max_active_vcms"));
		int up = speed_rank(json_string_value(json_object_get(lic, "speed_upgrade")));
		if (json_is_string(json_object_get(lic, "speed_upgrade")) && up > rank)
			rank = up;
		out->max_active = max < 1 ? 1 : max > FW_VCM_MAX ? FW_VCM_MAX : (unsigned)max;
		features |= (uint32_t)json_integer_value(json_object_get(lic, "features"));
		out->max_creatable = rank == 1 ? FW_VCM_MAX_BASE_SPEED : FW_VCM_MAX;
	} else {
		out->max_active = FW_VCM_UNLICENSED;
		out->max_creatable = FW_VCM_UNLICENSED;
	}
	out->speed = speed_names[rank];
	out->platform = (features & ~HSM_FEAT_SPEED_MASK) | speed_bits[rank] | HSM_FEAT_BUILTIN;
}

static int word_speed_rank(uint32_t w)
{
	if (w & HSM_FEAT_HSM_SPEED2)
		return 3;
	if (w & HSM_FEAT_HSM_SPEED1)
		return 2;
	if (w & HSM_FEAT_HSM_SPEED0)
		return 1;
	return 0;
}

int fw_vcm_features(uint32_t requested, const struct fw_vcm_limits *lim, uint32_t *out, char *err,
		    size_t errlen)
{
	uint32_t plain = requested & ~HSM_FEAT_SPEED_MASK & ~HSM_FEAT_BUILTIN;
	uint32_t missing = plain & ~lim->platform;
	int hsm_rank = speed_rank(lim->speed), want = word_speed_rank(requested);
	uint32_t speed = requested & HSM_FEAT_SPEED_MASK;

	if (missing) {
		char names[256];
		hsm_features_format(missing, names, sizeof(names));
		return hsm_set_err(
		    err, errlen,
		    "features %s are not enabled on this HSM (a VCM's features "
		    "must be a subset of the platform's; apply a licence with hsmadmin fet)",
		    names);
	}
	/* Guide 3.3.4: HSMSpeed1 is converted to HSMSpeed0 on a mid-speed HSM. */
	if (hsm_rank == 2 && (speed & HSM_FEAT_HSM_SPEED1)) {
		speed = (speed & ~HSM_FEAT_HSM_SPEED1) | HSM_FEAT_HSM_SPEED0;
		want = word_speed_rank(speed);
	}
	if (want > hsm_rank)
		return hsm_set_err(err, errlen, "speed %s is above this HSM's rating (%s speed)",
				   want == 3 ? "HSMSpeed2" : "HSMSpeed1", lim->speed);
	*out = plain | speed | HSM_FEAT_BUILTIN;
	return 0;
}

/* ---- small values ----------------------------------------------------- */

int fw_uuid_valid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };

	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		int is_dash = i == dash[0] || i == dash[1] || i == dash[2] || i == dash[3];
		char c = s[i];
		if (is_dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

int fw_vcm_bool_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0)
		return 1;
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)
		return 0;
	return -1;
}

static int name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-' || *s == ' '))
			return 0;
	return 1;
}

/* The text form only: "ssh-ed25519 " and the 68 base64 characters of a
 * 51-byte key blob.  Keys were verified when the request was; this keeps
 * a damaged file from passing without paying a key parse per VCM on
 * every commit. */
static int key_line_valid(const char *s)
{
	if (strncmp(s, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 37) != 0 || strlen(s) != 80)
		return 0;
	for (s += 12; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '+' || *s == '/' || *s == '='))
			return 0;
	return 1;
}

int fw_hex_valid(const char *s, size_t len)
{
	if (strlen(s) != len)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* ---- replay records --------------------------------------------------- */

/* A record's fields; a bare string (an older hsmd's record) has no issue
 * time (-1) and no expiry. */
static const char *record_get(const json_t *r, int64_t *issued, int64_t *not_after)
{
	const json_t *x;

	*issued = -1;
	*not_after = -1;
	if (json_is_string(r))
		return json_string_value(r);
	*issued = json_integer_value(json_object_get(r, "issued"));
	x = json_object_get(r, "not_after");
	if (json_is_integer(x))
		*not_after = json_integer_value(x);
	return json_string_value(json_object_get(r, "nonce"));
}

/* Expired by now, the way a request is (hsm_request_check_time). */
static int record_expired(int64_t not_after, int64_t now)
{
	return not_after >= 0 && now > not_after;
}

/* The record to forget for room: the request without expiry issued
 * first (the floor rises least); -1 when every live record expires. */
static ssize_t record_evictable(const json_t *nonces)
{
	ssize_t best = -1;
	int64_t best_issued = 0, issued, not_after;
	size_t i;
	const json_t *r;

	json_array_foreach(nonces, i, r)
	{
		record_get(r, &issued, &not_after);
		if (not_after < 0 && (best < 0 || issued < best_issued)) {
			best = (ssize_t)i;
			best_issued = issued;
		}
	}
	return best;
}

enum fw_nonce_verdict fw_vcm_nonce_check(const json_t *entry, const struct fw_nonce_use *use,
					 int64_t now, int64_t *retry_at)
{
	const json_t *nonces = json_object_get(entry, "nonces"), *r;
	int64_t issued, not_after, soonest = -1;
	size_t i, live = 0;
	int evictable = 0;
	const char *tag;

	if (retry_at)
		*retry_at = 0;
	if (use->issued <= json_integer_value(json_object_get(entry, "nonce_floor")))
		return FW_NONCE_FLOOR;
	json_array_foreach(nonces, i, r)
	{
		tag = record_get(r, &issued, &not_after);
		/* An expired record still refuses its own request: harmless,
		 * the request has expired too. */
		if (tag && strcmp(tag, use->tag) == 0)
			return FW_NONCE_REPLAY;
		if (record_expired(not_after, now))
			continue;
		live++;
		if (not_after < 0)
			evictable = 1;
		else if (soonest < 0 || not_after < soonest)
			soonest = not_after;
	}
	if (live >= FW_VCM_NONCES_MAX && !evictable) {
		if (retry_at)
			*retry_at = soonest + 1;
		return FW_NONCE_FULL;
	}
	return FW_NONCE_FRESH;
}

size_t fw_vcm_nonces_prune(json_t *entry, int64_t now)
{
	json_t *nonces = json_object_get(entry, "nonces");
	int64_t issued, not_after;
	size_t i = 0, dropped = 0;

	while (i < json_array_size(nonces)) {
		record_get(json_array_get(nonces, i), &issued, &not_after);
		if (record_expired(not_after, now)) {
			json_array_remove(nonces, i);
			dropped++;
		} else {
			i++;
		}
	}
	return dropped;
}

int fw_vcm_nonce_record(json_t *entry, const struct fw_nonce_use *use, int64_t now)
{
	json_t *nonces = json_object_get(entry, "nonces");
	int64_t floor = json_integer_value(json_object_get(entry, "nonce_floor"));
	int64_t issued, not_after;
	ssize_t victim;

	if (!json_is_array(nonces))
		return -1;
	fw_vcm_nonces_prune(entry, now);
	while (json_array_size(nonces) >= FW_VCM_NONCES_MAX) {
		if ((victim = record_evictable(nonces)) < 0)
			return -1;
		record_get(json_array_get(nonces, (size_t)victim), &issued, &not_after);
		/* An older hsmd's record has no issue time: no request issued
		 * before now is known not to be it. */
		if (issued < 0)
			issued = now;
		if (issued > floor)
			floor = issued;
		json_array_remove(nonces, (size_t)victim);
	}
	json_object_set_new(entry, "nonce_floor", json_integer(floor));
	json_array_append_new(
	    nonces, json_pack("{s:s, s:I, s:o}", "nonce", use->tag, "issued",
			      (json_int_t)use->issued, "not_after",
			      use->not_after < 0 ? json_null() : json_integer(use->not_after)));
	return 0;
}

/* ---- the registry ----------------------------------------------------- */

#define MAX_TIME (INT64_C(1) << 40)

int fw_vcm_entry_validate(const char *uuid, const json_t *e, char *err, size_t errlen)
{
	char jwhy[256];
	json_int_t seq, features, created, changed, floor;
	const char *name, *address, *ktr, *ssh, *state, *nonce;
	int autostart, restrict_startup, cardreader, disk;
	json_t *nonces, *v;
	struct hsm_ipaddr ip;
	size_t i;

	if (!fw_uuid_valid(uuid))
		return hsm_set_err(err, errlen, "vcms: '%.40s' is not a lower-case UUID", uuid);
	if (hsm_json_unpack(
		(json_t *)e, JSON_STRICT, jwhy, sizeof(jwhy),
		"{s:I, s:s, s:s, s:I, s:b, s:b, s:b, s:s, s:s, s:s, s:b, s:I, s:I, s:s, s:o, s:I}",
		"seq", &seq, "name", &name, "address", &address, "features", &features, "autostart",
		&autostart, "restrict_startup", &restrict_startup, "serial_cardreader", &cardreader,
		"k_tenant_req", &ktr, "sshadmin_key", &ssh, "state", &state, "disk_exceeded", &disk,
		"created", &created, "changed", &changed, "request_nonce", &nonce, "nonces",
		&nonces, "nonce_floor", &floor) != 0)
		return hsm_set_err(err, errlen, "vcms: %s: %s", uuid, jwhy);
	if (seq < 1 || seq > MAX_TIME)
		return hsm_set_err(err, errlen, "vcms: %s: seq out of range", uuid);
	if (!name_valid(name))
		return hsm_set_err(
		    err, errlen, "vcms: %s: name is not 1-64 of A-Z a-z 0-9 _ . - and inner spaces",
		    uuid);
	if (hsm_ip_parse(address, 0, &ip, NULL, 0) != 0)
		return hsm_set_err(err, errlen, "vcms: %s: address is not an IP address", uuid);
	if (features < 0 || features > 0xffffffffLL)
		return hsm_set_err(err, errlen, "vcms: %s: features is not a 32-bit word", uuid);
	if (autostart && restrict_startup)
		return hsm_set_err(err, errlen,
				   "vcms: %s: autostart and restrict_startup are both set", uuid);
	if (!key_line_valid(ktr) || !key_line_valid(ssh))
		return hsm_set_err(
		    err, errlen, "vcms: %s: k_tenant_req and sshadmin_key must be ssh-ed25519 keys",
		    uuid);
	if (strcmp(state, "inactive") && strcmp(state, "active") && strcmp(state, "stopped") &&
	    strcmp(state, "failed"))
		return hsm_set_err(err, errlen,
				   "vcms: %s: state is not inactive, active, stopped or failed",
				   uuid);
	if (disk && strcmp(state, "active") == 0)
		return hsm_set_err(err, errlen, "vcms: %s: active although over its disk limit",
				   uuid);
	if (created < 0 || created > MAX_TIME || changed < 0 || changed > MAX_TIME || floor < 0 ||
	    floor > MAX_TIME)
		return hsm_set_err(err, errlen, "vcms: %s: times out of range", uuid);
	if (!fw_hex_valid(nonce, 32))
		return hsm_set_err(err, errlen, "vcms: %s: request_nonce is not 32 hex digits",
				   uuid);
	if (!json_is_array(nonces) || json_array_size(nonces) > FW_VCM_NONCES_MAX)
		return hsm_set_err(err, errlen, "vcms: %s: nonces is not an array of at most %u",
				   uuid, FW_VCM_NONCES_MAX);
	json_array_foreach(nonces, i, v)
	{
		int64_t issued, not_after;
		const char *s = record_get(v, &issued, &not_after);
		if (json_is_object(v) &&
		    (json_object_size(v) != 3 || !json_is_integer(json_object_get(v, "issued")) ||
		     (!json_is_integer(json_object_get(v, "not_after")) &&
		      !json_is_null(json_object_get(v, "not_after"))) ||
		     issued < 0 || issued > MAX_TIME || not_after > MAX_TIME ||
		     (json_is_integer(json_object_get(v, "not_after")) && not_after < issued)))
			return hsm_set_err(
			    err, errlen, "vcms: %s: nonces[%zu] is not {nonce, issued, not_after}",
			    uuid, i);
		if (!s || strlen(s) < 32 || strlen(s) > 64)
			return hsm_set_err(err, errlen, "vcms: %s: nonces[%zu] is not a nonce",
					   uuid, i);
		for (size_t k = 0; k < 32; k++)
			if (!((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f')))
				return hsm_set_err(err, errlen,
						   "vcms: %s: nonces[%zu] is not a nonce", uuid, i);
		if (s[32] && (s[32] != '/' || !name_valid(s + 33)))
			return hsm_set_err(err, errlen,
					   "vcms: %s: nonces[%zu] is not NONCE or NONCE/PROPERTY",
					   uuid, i);
	}
	return 0;
}

struct addr_ref {
	struct hsm_ipaddr ip;
	const char *uuid;
};

static int addr_cmp(const void *a, const void *b)
{
	return hsm_ip_compare(&((const struct addr_ref *)a)->ip, &((const struct addr_ref *)b)->ip);
}

static int seq_cmp(const void *a, const void *b)
{
	json_int_t x = ((const json_int_t *)a)[0], y = ((const json_int_t *)b)[0];

	return x < y ? -1 : x > y;
}

int fw_vcms_validate(const json_t *vcms, char *err, size_t errlen)
{
	return fw_vcms_validate_since(vcms, NULL, err, errlen);
}

int fw_vcms_validate_since(const json_t *vcms, const json_t *checked, char *err, size_t errlen)
{
	size_t n = json_object_size(vcms), i = 0;
	struct addr_ref *addrs;
	json_int_t *seqs;
	const char *uuid, *reader = NULL;
	json_t *e;
	int rc = 0;

	if (!json_is_object(vcms))
		return hsm_set_err(err, errlen, "vcms: not an object");
	if (n > FW_VCM_MAX)
		return hsm_set_err(err, errlen, "vcms: more than %u VCMs", FW_VCM_MAX);
	if (n == 0)
		return 0;
	addrs = calloc(n, sizeof(*addrs));
	seqs = calloc(n, sizeof(*seqs));
	if (!addrs || !seqs) {
		free(addrs);
		free(seqs);
		return hsm_set_err(err, errlen, "out of memory");
	}
	json_object_foreach((json_t *)vcms, uuid, e)
	{
		fw_vcms_visits++;
		if (e != json_object_get(checked, uuid) &&
		    fw_vcm_entry_validate(uuid, e, err, errlen) != 0) {
			rc = -1;
			goto out;
		}
		if (json_is_true(json_object_get(e, "serial_cardreader"))) {
			if (reader) {
				rc = hsm_set_err(err, errlen,
						 "vcms: %s and %s both have the serial card reader",
						 reader, uuid);
				goto out;
			}
			reader = uuid;
		}
		hsm_ip_parse(json_string_value(json_object_get(e, "address")), 0, &addrs[i].ip,
			     NULL, 0);
		addrs[i].uuid = uuid;
		seqs[i] = json_integer_value(json_object_get(e, "seq"));
		i++;
	}
	qsort(addrs, n, sizeof(*addrs), addr_cmp);
	qsort(seqs, n, sizeof(*seqs), seq_cmp);
	for (i = 1; i < n; i++) {
		if (hsm_ip_equal(&addrs[i].ip, &addrs[i - 1].ip)) {
			rc = hsm_set_err(err, errlen, "vcms: %s and %s have the same address",
					 addrs[i - 1].uuid, addrs[i].uuid);
			goto out;
		}
		if (seqs[i] == seqs[i - 1]) {
			rc = hsm_set_err(err, errlen, "vcms: two VCMs have sequence number %lld",
					 (long long)seqs[i]);
			goto out;
		}
	}
out:
	free(addrs);
	free(seqs);
	return rc;
}

unsigned long fw_vcms_visits;

/* ---- the index of a validated registry -------------------------------- */

/* An entry's address in the canonical form (the index's key). */
static int canonical_address(const json_t *e, char out[HSM_NETADDR_STRLEN])
{
	const char *a = json_string_value(json_object_get(e, "address"));
	struct hsm_ipaddr ip;

	if (!a || hsm_ip_parse(a, 0, &ip, NULL, 0) != 0)
		return -1;
	hsm_ip_format(&ip, out, HSM_NETADDR_STRLEN);
	return 0;
}

static void seq_key(const json_t *e, char out[32])
{
	snprintf(out, 32, "%lld", (long long)json_integer_value(json_object_get(e, "seq")));
}

/* ---- the index's sorted addresses ---- */

/* Where addr is, or would go, in the sorted addresses. */
static size_t sorted_find(const struct fw_vcms_index *idx, const struct hsm_ipaddr *addr)
{
	size_t lo = 0, hi = idx->nsorted;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (hsm_ip_compare(&idx->sorted[mid], addr) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int sorted_insert(struct fw_vcms_index *idx, const struct hsm_ipaddr *addr)
{
	size_t at = sorted_find(idx, addr);

	if (at < idx->nsorted && hsm_ip_equal(&idx->sorted[at], addr))
		return 0;
	if (idx->nsorted == idx->capsorted) {
		size_t cap = idx->capsorted ? 2 * idx->capsorted : 64;
		struct hsm_ipaddr *n = realloc(idx->sorted, cap * sizeof(*n));
		if (!n)
			return -1;
		idx->sorted = n;
		idx->capsorted = cap;
	}
	memmove(&idx->sorted[at + 1], &idx->sorted[at], (idx->nsorted - at) * sizeof(*addr));
	idx->sorted[at] = *addr;
	idx->nsorted++;
	return 0;
}

static void sorted_remove(struct fw_vcms_index *idx, const struct hsm_ipaddr *addr)
{
	size_t at = sorted_find(idx, addr);

	if (at == idx->nsorted || !hsm_ip_equal(&idx->sorted[at], addr))
		return;
	memmove(&idx->sorted[at], &idx->sorted[at + 1], (idx->nsorted - at - 1) * sizeof(*addr));
	idx->nsorted--;
}

static int index_add(struct fw_vcms_index *idx, const char *uuid, const json_t *e)
{
	char addr[HSM_NETADDR_STRLEN], seq[32];
	const char *nonce = json_string_value(json_object_get(e, "request_nonce"));
	json_int_t n = json_integer_value(json_object_get(e, "seq"));
	struct hsm_ipaddr ip;

	seq_key(e, seq);
	if (canonical_address(e, addr) == 0) {
		hsm_ip_parse(addr, 0, &ip, NULL, 0);
		if (json_object_set_new(idx->addresses, addr, json_string(uuid)) != 0 ||
		    sorted_insert(idx, &ip) != 0)
			return -1;
	}
	if (json_object_set_new(idx->seqs, seq, json_string(uuid)) != 0 ||
	    (nonce && json_object_set_new(idx->nonces, nonce, json_string(uuid)) != 0))
		return -1;
	if (n > idx->seq_max)
		idx->seq_max = n;
	if (json_is_true(json_object_get(e, "serial_cardreader")))
		snprintf(idx->reader, sizeof(idx->reader), "%s", uuid);
	return 0;
}

static int holds(const json_t *map, const char *key, const char *uuid)
{
	const char *holder = json_string_value(json_object_get(map, key));

	return holder && strcmp(holder, uuid) == 0;
}

/* The highest sequence number went: the next one down that a VCM holds.
 * Numbers are given in turn, so it is a few steps down; past those (VCMs
 * deleted in between), the numbers held are read. */
static void seq_max_lower(struct fw_vcms_index *idx)
{
	const char *k;
	json_t *v;
	char key[32];

	for (int step = 0; step < 64 && idx->seq_max > 0; step++) {
		snprintf(key, sizeof(key), "%lld", (long long)--idx->seq_max);
		if (json_object_get(idx->seqs, key))
			return;
	}
	idx->seq_max = 0;
	json_object_foreach(idx->seqs, k, v)
	{
		json_int_t n = strtoll(k, NULL, 10);
		if (n > idx->seq_max)
			idx->seq_max = n;
	}
}

/* Forget what entry e of uuid holds (only where the index names uuid). */
static void index_drop(struct fw_vcms_index *idx, const char *uuid, const json_t *e)
{
	char addr[HSM_NETADDR_STRLEN], seq[32];
	const char *nonce = json_string_value(json_object_get(e, "request_nonce"));
	struct hsm_ipaddr ip;

	seq_key(e, seq);
	if (canonical_address(e, addr) == 0 && holds(idx->addresses, addr, uuid)) {
		json_object_del(idx->addresses, addr);
		hsm_ip_parse(addr, 0, &ip, NULL, 0);
		sorted_remove(idx, &ip);
	}
	if (holds(idx->seqs, seq, uuid)) {
		json_object_del(idx->seqs, seq);
		if (json_integer_value(json_object_get(e, "seq")) == idx->seq_max)
			seq_max_lower(idx);
	}
	if (nonce && holds(idx->nonces, nonce, uuid))
		json_object_del(idx->nonces, nonce);
	if (strcmp(idx->reader, uuid) == 0)
		idx->reader[0] = '\0';
}

void fw_vcms_index_free(struct fw_vcms_index *idx)
{
	json_decref(idx->addresses);
	json_decref(idx->seqs);
	json_decref(idx->nonces);
	free(idx->sorted);
	memset(idx, 0, sizeof(*idx));
}

static int index_empty(struct fw_vcms_index *idx)
{
	memset(idx, 0, sizeof(*idx));
	idx->addresses = json_object();
	idx->seqs = json_object();
	idx->nonces = json_object();
	return idx->addresses && idx->seqs && idx->nonces ? 0 : -1;
}

int fw_vcms_index_build(struct fw_vcms_index *idx, const json_t *vcms)
{
	const char *uuid;
	json_t *e;

	if (index_empty(idx) != 0)
		goto fail;
	json_object_foreach((json_t *)vcms, uuid, e)
	{
		fw_vcms_visits++;
		if (index_add(idx, uuid, e) != 0)
			goto fail;
	}
	return 0;
fail:
	fw_vcms_index_free(idx);
	index_empty(idx);
	return -1;
}

int fw_vcms_index_update(struct fw_vcms_index *idx, const json_t *prev, const json_t *vcms,
			 const json_t *changed)
{
	const char *uuid;
	const json_t *e;
	json_t *x;

	/* Every old holding goes first: two VCMs may swap an address. */
	json_object_foreach((json_t *)changed, uuid, x) if ((e = json_object_get(prev, uuid)))
	    index_drop(idx, uuid, e);
	json_object_foreach((json_t *)changed, uuid, x) if ((e = json_object_get(vcms, uuid)) &&
							    index_add(idx, uuid, e) != 0) return -1;
	return 0;
}

const char *fw_vcms_index_nonce(const struct fw_vcms_index *idx, const char *nonce)
{
	return nonce ? json_string_value(json_object_get(idx->nonces, nonce)) : NULL;
}

const char *fw_vcms_index_address(const struct fw_vcms_index *idx, const struct hsm_ipaddr *addr)
{
	char a[HSM_NETADDR_STRLEN];

	return json_string_value(
	    json_object_get(idx->addresses, hsm_ip_format(addr, a, sizeof(a))));
}

json_int_t fw_vcms_index_seq_max(const struct fw_vcms_index *idx)
{
	return idx->seq_max;
}

/* a + n within the family's bytes; -1 when that passes its last address. */
static int addr_plus(const struct hsm_ipaddr *a, uint64_t n, struct hsm_ipaddr *out)
{
	*out = *a;
	for (size_t i = a->family == 4 ? 4 : 16; i-- > 0 && n;) {
		uint64_t v = (uint64_t)out->b[i] + (n & 0xffu);
		out->b[i] = (uint8_t)v;
		n = (n >> 8) + (v >> 8);
	}
	return n ? -1 : 0;
}

static void addr_minus_one(struct hsm_ipaddr *a)
{
	for (size_t i = a->family == 4 ? 4 : 16; i-- > 0;)
		if (a->b[i]-- != 0)
			break;
}

/* The lowest address from `from` to `to` that no indexed VCM holds: 0, or
 * -1 when they hold every one.  The held addresses from `from` on are
 * from, from + 1, ... up to the first gap, so the sorted addresses find it
 * by bisection: sorted[j + k] == from + k holds below the gap only. */
static int index_unheld(const struct fw_vcms_index *idx, const struct hsm_ipaddr *from,
			const struct hsm_ipaddr *to, struct hsm_ipaddr *out)
{
	size_t j = sorted_find(idx, from), lo = 0, hi = idx->nsorted - j;
	struct hsm_ipaddr x;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr_plus(from, mid, &x) == 0 && hsm_ip_equal(&idx->sorted[j + mid], &x))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (addr_plus(from, lo, out) != 0 || hsm_ip_compare(out, to) > 0)
		return -1;
	return 0;
}

static int ip_cmp(const void *a, const void *b)
{
	return hsm_ip_compare(a, b);
}

int fw_vcms_index_alloc(const struct fw_vcms_index *idx, const struct hsm_addr_pool *pool,
			struct hsm_ipaddr *out, char *err, size_t errlen)
{
	struct hsm_ipaddr cand, hi, *other;
	struct hsm_cidr network;
	char net[HSM_NETADDR_STRLEN];
	size_t n = 0;
	int rc;

	/* The lowest address free of the pool's own: below it every host
	 * address is taken already (and the pool's errors are its). */
	if ((rc = hsm_addr_alloc(pool, &cand, err, errlen)) != HSM_ADDR_OK)
		return rc;
	hsm_cidr_last(&pool->subnet, &hi);
	if (!hsm_ip_is_host(&hi, &pool->subnet))
		addr_minus_one(&hi);
	other = malloc((pool->nused + 2) * sizeof(*other));
	if (!other) {
		hsm_set_err(err, errlen, "out of memory");
		return HSM_ADDR_INVALID;
	}
	for (size_t i = 0; i < pool->nused; i++)
		other[n++] = pool->used[i];
	if (pool->hsm)
		other[n++] = *pool->hsm;
	if (pool->gateway)
		other[n++] = *pool->gateway;
	qsort(other, n, sizeof(*other), ip_cmp);
	/* Each turn passes one address of the pool's: at most n + 1 turns. */
	while (index_unheld(idx, &cand, &hi, &cand) == 0) {
		if (!bsearch(&cand, other, n, sizeof(*other), ip_cmp)) {
			free(other);
			*out = cand;
			return HSM_ADDR_OK;
		}
		if (hsm_ip_equal(&cand, &hi))
			break;
		addr_plus(&cand, 1, &cand);
	}
	free(other);
	network = pool->subnet;
	hsm_cidr_first(&pool->subnet, &network.addr);
	hsm_set_err(err, errlen, "no free address left in %s",
		    hsm_cidr_format(&network, net, sizeof(net)));
	return HSM_ADDR_EXHAUSTED;
}

/* Does the indexed VCM `holder` (may be NULL) stand in the way of uuid?
 * Not when it is uuid, nor when it is changed too: its old entry is gone
 * and its new one is compared with uuid's directly. */
static int blocks(const char *holder, const char *uuid, const json_t *changed)
{
	return holder && *holder && strcmp(holder, uuid) != 0 && !json_object_get(changed, holder);
}

/* The rules between two changed entries. */
static int check_pair(const char *u1, const json_t *e1, const char *u2, const json_t *e2, char *err,
		      size_t errlen)
{
	char a1[HSM_NETADDR_STRLEN], a2[HSM_NETADDR_STRLEN];

	if (canonical_address(e1, a1) == 0 && canonical_address(e2, a2) == 0 && strcmp(a1, a2) == 0)
		return hsm_set_err(err, errlen, "vcms: %s and %s have the same address", u1, u2);
	if (json_integer_value(json_object_get(e1, "seq")) ==
	    json_integer_value(json_object_get(e2, "seq")))
		return hsm_set_err(err, errlen, "vcms: two VCMs have sequence number %lld",
				   (long long)json_integer_value(json_object_get(e1, "seq")));
	if (json_is_true(json_object_get(e1, "serial_cardreader")) &&
	    json_is_true(json_object_get(e2, "serial_cardreader")))
		return hsm_set_err(err, errlen, "vcms: %s and %s both have the serial card reader",
				   u1, u2);
	return 0;
}

int fw_vcms_validate_changes(const json_t *vcms, const json_t *changed,
			     const struct fw_vcms_index *idx, char *err, size_t errlen)
{
	const char *uuid, *other;
	json_t *x, *y;

	if (!json_is_object(vcms))
		return hsm_set_err(err, errlen, "vcms: not an object");
	if (json_object_size(vcms) > FW_VCM_MAX)
		return hsm_set_err(err, errlen, "vcms: more than %u VCMs", FW_VCM_MAX);
	json_object_foreach((json_t *)changed, uuid, x)
	{
		const json_t *e = json_object_get(vcms, uuid), *o;
		char addr[HSM_NETADDR_STRLEN], seq[32];
		const char *holder;

		if (!e)
			continue; /* deleted */
		if (fw_vcm_entry_validate(uuid, e, err, errlen) != 0)
			return -1;
		canonical_address(e, addr); /* a valid entry's address parses */
		seq_key(e, seq);
		holder = json_string_value(json_object_get(idx->addresses, addr));
		if (blocks(holder, uuid, changed))
			return hsm_set_err(err, errlen, "vcms: %s and %s have the same address",
					   holder, uuid);
		if (blocks(json_string_value(json_object_get(idx->seqs, seq)), uuid, changed))
			return hsm_set_err(err, errlen, "vcms: two VCMs have sequence number %s",
					   seq);
		if (json_is_true(json_object_get(e, "serial_cardreader")) &&
		    blocks(idx->reader, uuid, changed))
			return hsm_set_err(err, errlen,
					   "vcms: %s and %s both have the serial card reader",
					   idx->reader, uuid);
		json_object_foreach((json_t *)changed, other, y)
		{
			if (strcmp(other, uuid) >= 0 || !(o = json_object_get(vcms, other)))
				continue;
			if (check_pair(other, o, uuid, e, err, errlen) != 0)
				return -1;
		}
	}
	return 0;
}

unsigned fw_vcms_active(const json_t *vcms)
{
	const char *uuid;
	json_t *e;
	unsigned n = 0;

	json_object_foreach((json_t *)vcms, uuid, e)
	{
		const char *s = json_string_value(json_object_get(e, "state"));
		fw_vcms_visits++;
		n += s && strcmp(s, "active") == 0;
	}
	return n;
}

struct seq_ref {
	json_int_t seq;
	const char *uuid;
};

static int seqref_cmp(const void *a, const void *b)
{
	return seq_cmp(&((const struct seq_ref *)a)->seq, &((const struct seq_ref *)b)->seq);
}

json_t *fw_vcms_ordered(const json_t *vcms)
{
	size_t n = json_object_size(vcms), i = 0;
	struct seq_ref *refs = calloc(n ? n : 1, sizeof(*refs));
	json_t *out = json_array(), *e;
	const char *uuid;

	if (!refs)
		return out;
	json_object_foreach((json_t *)vcms, uuid, e)
	{
		fw_vcms_visits++;
		refs[i].seq = json_integer_value(json_object_get(e, "seq"));
		refs[i].uuid = uuid;
		i++;
	}
	qsort(refs, n, sizeof(*refs), seqref_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(out, json_string(refs[i].uuid));
	free(refs);
	return out;
}

const char *fw_vcms_cardreader(const json_t *vcms, const char *except)
{
	const char *uuid;
	json_t *e;

	json_object_foreach((json_t *)vcms, uuid, e)
	{
		fw_vcms_visits++;
		if (json_is_true(json_object_get(e, "serial_cardreader")) &&
		    (!except || strcmp(uuid, except) != 0))
			return uuid;
	}
	return NULL;
}

/* ---- the network ------------------------------------------------------ */

int fw_vcm_net_get(const json_t *lifetime, const json_t *device, const char *override,
		   struct fw_vcm_net *out, char *err, size_t errlen)
{
	const json_t *cur = json_object_get(json_object_get(device, "vcm_network"), "current");
	const char *mode = json_string_value(json_object_get(cur, "mode"));
	const char *hsm_addr = json_string_value(json_object_get(lifetime, "address"));
	char inner[256];

	memset(out, 0, sizeof(*out));
	if (mode && strcmp(mode, "default") != 0) {
		struct hsm_netconfig nc;
		int family = strcmp(mode, "ipv6static") == 0 ? 6 : 4;
		if (hsm_netconfig_parse(family, json_string_value(json_object_get(cur, "address")),
					json_string_value(json_object_get(cur, "gateway")), &nc,
					inner, sizeof(inner)) != 0)
			return hsm_set_err(err, errlen, "VCM network: %s", inner);
		out->subnet = nc.address;
		out->hsm = nc.address.addr;
		out->has_hsm = 1;
		out->gateway = nc.gateway;
		out->has_gateway = 1;
		snprintf(out->mode, sizeof(out->mode), "%s", mode);
		return 0;
	}
	snprintf(out->mode, sizeof(out->mode), "default");
	if (hsm_ip_parse(hsm_addr ? hsm_addr : "", 0, &out->hsm, NULL, 0) == 0)
		out->has_hsm = 1;
	if (override && *override) {
		if (hsm_cidr_parse(override, 0, &out->subnet, inner, sizeof(inner)) != 0)
			return hsm_set_err(err, errlen, "[vcm] emulated_subnet: %s", inner);
		return 0;
	}
	if (!out->has_hsm || out->hsm.family != 4 || out->hsm.b[0] != 127)
		return hsm_set_err(err, errlen,
				   "the default VCM network of the emulator needs an HSM address "
				   "in 127.0.0.0/8 or [vcm] emulated_subnet in hsmd.conf");
	out->subnet.addr.family = 4;
	out->subnet.addr.b[0] = 127;
	out->subnet.addr.b[1] = out->hsm.b[1] ^ 0x80;
	out->subnet.addr.b[2] = out->hsm.b[2] & 0xfc;
	out->subnet.prefix = 22;
	return 0;
}
