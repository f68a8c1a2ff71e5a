/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/signed-log.c - framing, entry checks and the verifier of the
 * signed log format (docs/formats/signed-log.md).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <hsmadmin/fileio.h>
#include "sign.h"
#include "signed-log.h"
#include "signed-log-sigq.h"

/* ---- framing ---------------------------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c_table(uint32_t c, const unsigned char *p, size_t len)
{
	if (crc_table[1] == 0)
		crc_init(); /* idempotent: every caller computes the same table */
	while (len--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* SSE4.2 has CRC-32C as an instruction: a frame's checksum then costs a
 * fraction of its hash (the table loop took as long as SHA-256). */
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t c, const unsigned char *p,
							       size_t len)
{
	uint64_t c64 = c;

	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c64 = __builtin_ia32_crc32di(c64, w);
		p += 8;
		len -= 8;
	}
	c = (uint32_t)c64;
	while (len--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}

static int have_sse42(void)
{
	static int known = -1;

	if (known < 0)
		known = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	return known;
}
#endif

uint32_t hsm_crc32c(const void *data, size_t len)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (have_sse42())
		return crc32c_sse42(0xFFFFFFFFu, data, len) ^ 0xFFFFFFFFu;
#endif
	return crc32c_table(0xFFFFFFFFu, data, len) ^ 0xFFFFFFFFu;
}

void hsm_slog_hex(const uint8_t hash[HSM_SLOG_HASH_LEN], char out[2 * HSM_SLOG_HASH_LEN + 1])
{
	size_t i = 0;
#if defined(__SSE2__)
	/* 16 bytes at a time (the verifier spells every entry's hash): each
	 * nibble + '0', + 39 more from 10 on ('a' - '0' - 10). */
	const __m128i low = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9);
	const __m128i zero = _mm_set1_epi8('0'), af = _mm_set1_epi8('a' - '0' - 10);

	for (; i + 16 <= HSM_SLOG_HASH_LEN; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(hash + i));
		__m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), low), lo = _mm_and_si128(x, low);
		__m128i a = _mm_unpacklo_epi8(hi, lo), b = _mm_unpackhi_epi8(hi, lo);

		a = _mm_add_epi8(_mm_add_epi8(a, zero), _mm_and_si128(_mm_cmpgt_epi8(a, nine), af));
		b = _mm_add_epi8(_mm_add_epi8(b, zero), _mm_and_si128(_mm_cmpgt_epi8(b, nine), af));
		_mm_storeu_si128((__m128i *)(void *)(out + 2 * i), a);
		_mm_storeu_si128((__m128i *)(void *)(out + 2 * i + 16), b);
	}
#endif
	for (; i < HSM_SLOG_HASH_LEN; i++) {
		static const char hex[] = "0123456789abcdef";
		out[2 * i] = hex[hash[i] >> 4];
		out[2 * i + 1] = hex[hash[i] & 15];
	}
	out[2 * HSM_SLOG_HASH_LEN] = '\0';
}

static void sha256(const void *data, size_t len, uint8_t out[HSM_SLOG_HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != HSM_SLOG_HASH_LEN)
		memset(out, 0, HSM_SLOG_HASH_LEN); /* never matches a real chain */
}

void hsm_slog_hash_json(const char *json, size_t jlen, uint8_t out[HSM_SLOG_HASH_LEN])
{
	sha256(json, jlen, out);
}

char *hsm_slog_frame(const json_t *entry, size_t *framelen, uint8_t hash[HSM_SLOG_HASH_LEN])
{
	size_t jlen;
	char *json = hsm_json_canonical(entry, &jlen), *frame = NULL;
	int n;

	if (!json)
		return NULL;
	if (jlen == 0 || jlen > HSM_SLOG_MAX_ENTRY || memchr(json, '\n', jlen)) {
		free(json);
		return NULL;
	}
	n = asprintf(&frame, "%zu %08" PRIx32 " %s\n", jlen, hsm_crc32c(json, jlen), json);
	if (n < 0)
		frame = NULL;
	else
		*framelen = (size_t)n;
	if (frame && hash)
		sha256(json, jlen, hash);
	free(json);
	return frame;
}

int hsm_slog_next_frame(const char *buf, size_t len, size_t *pos, const char **json, size_t *jlen)
{
	size_t p = *pos, n = 0, digits = 0;
	uint32_t crc = 0;

	/* length: 1-5 decimal digits, no leading zero */
	while (p < len && buf[p] >= '0' && buf[p] <= '9' && digits < 6) {
		n = n * 10 + (size_t)(buf[p] - '0');
		p++;
		digits++;
	}
	if (p == len)
		return 0;
	if (digits == 0 || digits > 5 || (buf[*pos] == '0') || buf[p] != ' ' ||
	    n > HSM_SLOG_MAX_ENTRY)
		return -1;
	p++;
	for (int i = 0; i < 8; i++, p++) {
		char c = p < len ? buf[p] : 0;
		if (p == len)
			return 0;
		if (c >= '0' && c <= '9')
			crc = crc << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			crc = crc << 4 | (uint32_t)(c - 'a' + 10);
		else
			return -1;
	}
	if (p == len)
		return 0;
	if (buf[p] != ' ')
		return -1;
	p++;
	if (len - p < n + 1) {
		/* Not enough bytes: torn only if no newline cuts it short. */
		return memchr(buf + p, '\n', len - p) ? -1 : 0;
	}
	if (buf[p + n] != '\n' || memchr(buf + p, '\n', n) || hsm_crc32c(buf + p, n) != crc)
		return -1;
	*json = buf + p;
	*jlen = n;
	*pos = p + n + 1;
	return 1;
}

size_t hsm_slog_resync(const char *buf, size_t len, size_t pos)
{
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t p, jl;
		const char *j;

		if (!nl)
			return len;
		p = (size_t)(nl - buf) + 1;
		pos = p;
		if (hsm_slog_next_frame(buf, len, &p, &j, &jl) != -1)
			return pos;
	}
	return len;
}

/* ---- entries ---------------------------------------------------------- */

static int is_hex64(const char *s)
{
	if (strlen(s) != 2 * HSM_SLOG_HASH_LEN)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int is_event_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 47)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

json_t *hsm_slog_entry_parse(const char *json, size_t jlen, char *err, size_t errlen)
{
	static const char *const keys[] = { "seq", "time", "event", "detail", "prev", "seg", NULL };
	json_t *e = hsm_json_parse(json, jlen, HSM_SLOG_MAX_ENTRY, err, errlen);
	json_t *seq, *time, *event, *detail, *prev, *seg;
	int bad = 0;

	if (!e)
		return NULL;
	if (!json_is_object(e)) {
		hsm_set_err(err, errlen, "entry is %s, not an object", hsm_json_type_name(e));
		goto fail;
	}
	seq = hsm_json_member(e, "", "seq", JSON_INTEGER, 1, &bad, err, errlen);
	time = hsm_json_member(e, "", "time", JSON_INTEGER, 1, &bad, err, errlen);
	event = hsm_json_member(e, "", "event", JSON_STRING, 1, &bad, err, errlen);
	detail = hsm_json_member(e, "", "detail", JSON_OBJECT, 1, &bad, err, errlen);
	prev = hsm_json_member(e, "", "prev", JSON_STRING, 1, &bad, err, errlen);
	seg = hsm_json_member(e, "", "seg", JSON_INTEGER, 1, &bad, err, errlen);
	if (bad || hsm_json_only_keys(e, "", keys, err, errlen) != 0)
		goto fail;
	(void)detail;
	if (json_integer_value(seq) < 1 || json_integer_value(seq) > HSM_SLOG_MAX_SEQ) {
		hsm_set_err(err, errlen, "seq out of range");
		goto fail;
	}
	if (json_integer_value(seg) < 1 || json_integer_value(seg) > HSM_SLOG_MAX_SEQ) {
		hsm_set_err(err, errlen, "seg out of range");
		goto fail;
	}
	if (json_integer_value(time) < 0 || json_integer_value(time) > INT64_C(253402300799)) {
		hsm_set_err(err, errlen, "time out of range");
		goto fail;
	}
	if (!is_event_name(json_string_value(event))) {
		hsm_set_err(err, errlen, "event is not a name ([a-z0-9_]{1,47})");
		goto fail;
	}
	if (!is_hex64(json_string_value(prev))) {
		hsm_set_err(err, errlen, "prev is not 64 lower-case hex digits");
		goto fail;
	}
	return e;
fail:
	json_decref(e);
	return NULL;
}

char *hsm_slog_checkpoint_message(const char *esn, const char *log, int64_t seg, int64_t seq,
				  int64_t epoch, const char *prev_hex, size_t *len)
{
	json_t *m = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "ctx",
			      "hsmadmin-signed-log-checkpoint-v1", "esn", esn, "log", log, "seg",
			      (json_int_t)seg, "seq", (json_int_t)seq, "epoch", (json_int_t)epoch,
			      "prev", prev_hex);
	char *out = m ? hsm_json_canonical(m, len) : NULL;

	json_decref(m);
	return out;
}

/* ---- the verifier ----------------------------------------------------- */

#define MAX_EPOCHS 4096

struct epoch_key {
	int64_t epoch, since;
	EVP_PKEY *key;
	int pinned;   /* given by the caller */
	int anchored; /* pinned, or introduced under an anchored key */
};

struct seg_summary {
	int64_t segment, first, last, entries, checkpoints;
};

struct hsm_slog_verifier {
	struct epoch_key *keys;
	size_t nkeys;
	EVP_PKEY **loose; /* pinned without an epoch */
	size_t nloose;
	int64_t last_seq, covered, cur_epoch, last_seg;
	/* The last entry's hash as the next entry's prev spells it: both
	 * readings of an entry check prev is lower-case hex, so comparing
	 * the digits compares the hashes, without decoding each prev. */
	char last_hex[2 * HSM_SLOG_HASH_LEN + 1];
	int have_last;
	/* a key transition waiting for the old key's checkpoint */
	int64_t next_epoch, next_since;
	EVP_PKEY *next_key;
	char esn[64], log[64];
	int all_anchored, any_checkpoint;
	int uncertified; /* keys pinned without certificates (recovery mode) */
	struct seg_summary *segs;
	size_t nsegs;
	/* SHA-256 fetched once and one context for every entry: the
	 * implicit fetch of EVP_Digest per entry costs more than hashing a
	 * short entry. */
	EVP_MD *md;
	EVP_MD_CTX *mdctx;
	int fast; /* ordinary entries read with hsm_slog_entry_scan */
	/* Fast: checkpoint signatures checked on a second thread, settled
	 * before anything is reported (NULL until the first checkpoint). */
	struct slog_sigq *sigq;
	/* The file being fed (begin, push..., end). */
	struct {
		char *name;
		int open, failed;
		size_t index; /* entries so far */
		uint64_t at;  /* file offset of the entry being checked */
		uint64_t pos; /* file offset of the next byte not yet checked */
		int64_t seg, first;
		struct seg_summary sum;
		char *carry; /* a frame cut by a push boundary (at most one frame) */
		size_t clen;
	} f;
};

struct hsm_slog_verifier *hsm_slog_verifier_new(void)
{
	struct hsm_slog_verifier *v = calloc(1, sizeof(*v));

	if (v) {
		v->all_anchored = 1;
		v->fast = 1;
	}
	return v;
}

void hsm_slog_verifier_fast(struct hsm_slog_verifier *v, int on)
{
	v->fast = on;
}

void hsm_slog_verifier_free(struct hsm_slog_verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nkeys; i++)
		EVP_PKEY_free(v->keys[i].key);
	for (size_t i = 0; i < v->nloose; i++)
		EVP_PKEY_free(v->loose[i]);
	EVP_PKEY_free(v->next_key);
	free(v->keys);
	free(v->loose);
	free(v->segs);
	free(v->f.name);
	free(v->f.carry);
	slog_sigq_free(v->sigq);
	EVP_MD_CTX_free(v->mdctx);
	EVP_MD_free(v->md);
	free(v);
}

static struct epoch_key *find_epoch(struct hsm_slog_verifier *v, int64_t epoch)
{
	for (size_t i = 0; i < v->nkeys; i++)
		if (v->keys[i].epoch == epoch)
			return &v->keys[i];
	return NULL;
}

static struct epoch_key *add_epoch(struct hsm_slog_verifier *v, int64_t epoch, int64_t since,
				   EVP_PKEY *key, int pinned, int anchored)
{
	struct epoch_key *k;

	if (v->nkeys >= MAX_EPOCHS)
		return NULL;
	k = realloc(v->keys, (v->nkeys + 1) * sizeof(*k));
	if (!k)
		return NULL;
	v->keys = k;
	k = &v->keys[v->nkeys++];
	EVP_PKEY_up_ref(key);
	*k = (struct epoch_key){
		.epoch = epoch, .since = since, .key = key, .pinned = pinned, .anchored = anchored
	};
	return k;
}

int hsm_slog_verifier_pin(struct hsm_slog_verifier *v, int64_t epoch, int64_t since, EVP_PKEY *key,
			  char *err, size_t errlen)
{
	if (epoch == 0) {
		EVP_PKEY **l = realloc(v->loose, (v->nloose + 1) * sizeof(*l));
		if (!l)
			return hsm_set_err(err, errlen, "out of memory");
		v->loose = l;
		EVP_PKEY_up_ref(key);
		v->loose[v->nloose++] = key;
		return 0;
	}
	if (epoch < 0 || since < 1)
		return hsm_set_err(err, errlen,
				   "key epoch %" PRId64 " / since %" PRId64 " out of range", epoch,
				   since);
	if (find_epoch(v, epoch))
		return hsm_set_err(err, errlen, "two keys for epoch %" PRId64, epoch);
	return add_epoch(v, epoch, since, key, 1, 1) ? 0
						     : hsm_set_err(err, errlen, "too many keys");
}

int hsm_slog_verifier_pin_file(struct hsm_slog_verifier *v, const char *text, size_t len, char *err,
			       size_t errlen)
{
	char inner[256];
	json_t *doc, *keys, *k;
	size_t i;

	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		len--;
	if (len > 3 && strncmp(text, "ssh-ed25519 ", 12) == 0) {
		char line[512];
		EVP_PKEY *key;
		int rc;

		if (len >= sizeof(line) || memchr(text, '\n', len))
			return hsm_set_err(err, errlen,
					   "key file: expected one OpenSSH ed25519 line");
		memcpy(line, text, len);
		line[len] = '\0';
		if (!(key = hsm_key_from_openssh(line, inner, sizeof(inner))))
			return hsm_set_err(err, errlen, "key file: %s", inner);
		rc = hsm_slog_verifier_pin(v, 0, 1, key, err, errlen);
		EVP_PKEY_free(key);
		return rc;
	}
	doc = hsm_json_parse(text, len, 1 << 20, inner, sizeof(inner));
	if (!doc)
		return hsm_set_err(err, errlen, "key file: %s", inner);
	keys = json_object_get(doc, "keys");
	if (!json_is_array(keys) || json_array_size(keys) == 0) {
		json_decref(doc);
		return hsm_set_err(
		    err, errlen, "key file: no \"keys\" array (write it with logs getkey --json)");
	}
	json_array_foreach(keys, i, k)
	{
		json_t *ep = json_object_get(k, "epoch"), *since = json_object_get(k, "since");
		const char *line = json_string_value(json_object_get(k, "key"));
		EVP_PKEY *key;
		int rc;

		if (!json_is_integer(ep) || !json_is_integer(since) || !line) {
			json_decref(doc);
			return hsm_set_err(err, errlen,
					   "key file: keys[%zu] needs epoch, since and key", i);
		}
		if (!(key = hsm_key_from_openssh_strict("key", line, inner, sizeof(inner)))) {
			json_decref(doc);
			return hsm_set_err(err, errlen, "key file: keys[%zu]: %s", i, inner);
		}
		rc = hsm_slog_verifier_pin(v, json_integer_value(ep), json_integer_value(since),
					   key, err, errlen);
		EVP_PKEY_free(key);
		if (rc) {
			json_decref(doc);
			return -1;
		}
	}
	json_decref(doc);
	return 0;
}

/* Accept the key a log announces for epoch: it must match a pinned key
 * for that epoch; a loose pinned key that matches pins it. */
static int announce_key(struct hsm_slog_verifier *v, int64_t epoch, int64_t since, const char *line,
			int anchored, char *why, size_t whylen)
{
	char inner[256];
	EVP_PKEY *key = hsm_key_from_openssh_strict("key", line, inner, sizeof(inner));
	struct epoch_key *k;

	if (!key)
		return hsm_set_err(why, whylen, "%s", inner);
	k = find_epoch(v, epoch);
	if (k) {
		int same = hsm_key_equal(k->key, key);
		EVP_PKEY_free(key);
		if (!same)
			return hsm_set_err(why, whylen,
					   "the log's key for epoch %" PRId64
					   " is not the key given for that epoch",
					   epoch);
		return 0;
	}
	for (size_t i = 0; i < v->nloose; i++)
		if (hsm_key_equal(v->loose[i], key))
			anchored = 1;
	k = add_epoch(v, epoch, since, key, 0, anchored);
	EVP_PKEY_free(key);
	return k ? 0 : hsm_set_err(why, whylen, "too many key epochs");
}

static int bad_signature(char *why, size_t whylen, int64_t epoch)
{
	return hsm_set_err(why, whylen,
			   "checkpoint signature does not verify with the key of epoch %" PRId64,
			   epoch);
}

static int check_checkpoint(struct hsm_slog_verifier *v, const json_t *e, int64_t seq, int64_t seg,
			    char *why, size_t whylen)
{
	const json_t *d = json_object_get(e, "detail");
	json_int_t epoch = json_integer_value(json_object_get(d, "epoch"));
	const char *sig64 = json_string_value(json_object_get(d, "sig"));
	uint8_t sig[HSM_ED25519_SIG_LEN + 4];
	size_t siglen = 0, mlen;
	struct epoch_key *k;
	char *msg;
	int ok;

	if (!json_is_integer(json_object_get(d, "epoch")) || !sig64)
		return hsm_set_err(why, whylen, "checkpoint without epoch and sig");
	if (epoch != v->cur_epoch)
		return hsm_set_err(why, whylen,
				   "checkpoint of epoch %" PRId64 " where epoch %" PRId64
				   " is in force",
				   (int64_t)epoch, v->cur_epoch);
	k = find_epoch(v, epoch);
	if (!k)
		return hsm_set_err(why, whylen, "no key for epoch %" PRId64, (int64_t)epoch);
	if (v->covered + 1 < k->since)
		return hsm_set_err(why, whylen,
				   "the key of epoch %" PRId64 " signs entries from seq %" PRId64
				   ", before its epoch began (seq %" PRId64 ")",
				   (int64_t)epoch, v->covered + 1, k->since);
	if (hsm_base64_decode(sig64, sig, sizeof(sig), &siglen) != 0 ||
	    siglen != HSM_ED25519_SIG_LEN)
		return hsm_set_err(why, whylen, "checkpoint sig is not a 64-byte base64 signature");
	msg = hsm_slog_checkpoint_message(v->esn, v->log, seg, seq, epoch,
					  json_string_value(json_object_get(e, "prev")), &mlen);
	if (v->fast && (v->sigq || (v->sigq = slog_sigq_new()))) {
		/* Checked beside the verifier: it goes on as if the signature
		 * were good, and settles the queue before it reports anything. */
		struct slog_sig_at at = { .seq = seq, .epoch = epoch, .byte = v->f.at };
		slog_sigq_add(v->sigq, k->key, msg, mlen, sig, &at);
	} else {
		ok = msg && hsm_ed25519_verify(k->key, msg, mlen, sig, siglen) == 0;
		free(msg);
		if (!ok)
			return bad_signature(why, whylen, epoch);
	}
	if (!k->anchored)
		v->all_anchored = 0;
	v->any_checkpoint = 1;
	v->covered = seq;
	if (v->next_key) {
		/* The old key has signed the transition: the new key is in force. */
		struct epoch_key *n = find_epoch(v, v->next_epoch);
		if (n && !hsm_key_equal(n->key, v->next_key))
			return hsm_set_err(why, whylen,
					   "the log's key for epoch %" PRId64
					   " is not the key given for that epoch",
					   v->next_epoch);
		if (!n && !add_epoch(v, v->next_epoch, v->next_since, v->next_key, 0, k->anchored))
			return hsm_set_err(why, whylen, "too many key epochs");
		v->cur_epoch = v->next_epoch;
		EVP_PKEY_free(v->next_key);
		v->next_key = NULL;
	}
	return 0;
}

static int check_log_open(struct hsm_slog_verifier *v, const json_t *e, int64_t seq, int64_t seg,
			  char *why, size_t whylen)
{
	const json_t *d = json_object_get(e, "detail");
	const char *esn = json_string_value(json_object_get(d, "esn"));
	const char *log = json_string_value(json_object_get(d, "log"));
	const char *key = json_string_value(json_object_get(d, "key"));
	json_t *ep = json_object_get(d, "epoch"), *since = json_object_get(d, "since");

	if (json_integer_value(json_object_get(d, "segment")) != seg)
		return hsm_set_err(why, whylen,
				   "log_open names segment %" JSON_INTEGER_FORMAT
				   ", not its own (%" PRId64 ")",
				   json_integer_value(json_object_get(d, "segment")), seg);
	if (!esn || !log || !key || !json_is_integer(ep) || !json_is_integer(since) ||
	    strlen(esn) >= sizeof(v->esn) || strlen(log) >= sizeof(v->log) ||
	    json_integer_value(ep) < 1 || json_integer_value(since) < 1 ||
	    json_integer_value(since) > seq)
		return hsm_set_err(why, whylen, "log_open needs esn, log, epoch, since and key");
	if (v->esn[0] && (strcmp(v->esn, esn) != 0 || strcmp(v->log, log) != 0))
		return hsm_set_err(why, whylen, "segment of another log (%s %s after %s %s)", esn,
				   log, v->esn, v->log);
	snprintf(v->esn, sizeof(v->esn), "%s", esn);
	snprintf(v->log, sizeof(v->log), "%s", log);
	if (v->next_key)
		return hsm_set_err(why, whylen, "the previous segment ended inside a key change");
	if (v->cur_epoch && json_integer_value(ep) != v->cur_epoch)
		return hsm_set_err(why, whylen,
				   "segment opens in epoch %" JSON_INTEGER_FORMAT
				   " after epoch %" PRId64,
				   json_integer_value(ep), v->cur_epoch);
	v->cur_epoch = json_integer_value(ep);
	return announce_key(v, v->cur_epoch, json_integer_value(since), key, 0, why, whylen);
}

static int check_log_key(struct hsm_slog_verifier *v, const json_t *e, int64_t seq, char *why,
			 size_t whylen)
{
	const json_t *d = json_object_get(e, "detail");
	const char *key = json_string_value(json_object_get(d, "key"));
	char inner[256];

	if (!key || json_integer_value(json_object_get(d, "epoch")) != v->cur_epoch + 1)
		return hsm_set_err(why, whylen,
				   "log_key must introduce epoch %" PRId64 " with a key",
				   v->cur_epoch + 1);
	if (v->next_key)
		return hsm_set_err(why, whylen,
				   "two key changes without a checkpoint between them");
	if (!(v->next_key = hsm_key_from_openssh_strict("key", key, inner, sizeof(inner))))
		return hsm_set_err(why, whylen, "%s", inner);
	v->next_epoch = v->cur_epoch + 1;
	v->next_since = seq;
	return 0;
}

/* An entry's hash with the verifier's own digest context. */
static void entry_hash(struct hsm_slog_verifier *v, const char *json, size_t jlen,
		       uint8_t out[HSM_SLOG_HASH_LEN])
{
	unsigned int n = 0;

	if (!v->md)
		v->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!v->mdctx)
		v->mdctx = EVP_MD_CTX_new();
	if (!v->md || !v->mdctx || EVP_DigestInit_ex(v->mdctx, v->md, NULL) != 1 ||
	    EVP_DigestUpdate(v->mdctx, json, jlen) != 1 ||
	    EVP_DigestFinal_ex(v->mdctx, out, &n) != 1 || n != HSM_SLOG_HASH_LEN)
		memset(out, 0, HSM_SLOG_HASH_LEN); /* never matches a real chain */
}

/* Entries the verifier checks beyond the chain: always parsed in full. */
static int special_event(const char *event, size_t len)
{
#define IS(name) (len == sizeof(name) - 1 && memcmp(event, name, len) == 0)
	return IS("log_open") || IS("log_previous") || IS("checkpoint") || IS("log_key");
#undef IS
}

/* One entry's json bytes at file offset at: every rule of the format.
 * Ordinary entries (most of a log) are read with hsm_slog_entry_scan;
 * the first two of a file, the entries with rules of their own, and
 * whatever the scanner cannot vouch for are parsed with jansson.
 * 0, or -1 with the first problem in err. */
static int check_entry(struct hsm_slog_verifier *v, const char *json, size_t jlen, uint64_t at,
		       char *err, size_t errlen)
{
	const char *name = v->f.name;
	int64_t seq, seg = v->f.seg;
	uint8_t hash[HSM_SLOG_HASH_LEN];
	struct hsm_slog_fields fl;
	char why[512], event[48];
	json_t *e = NULL;

	v->f.at = at;
	if (!(v->fast && v->f.index >= 2 && hsm_slog_entry_scan(json, jlen, &fl) &&
	      !special_event(fl.event, fl.event_len))) {
		e = hsm_slog_entry_parse(json, jlen, why, sizeof(why));
		if (!e)
			return hsm_set_err(err, errlen,
					   "%s: byte %" PRIu64 ": entry after seq %" PRId64 ": %s",
					   name, at, v->last_seq, why);
		fl.seq = json_integer_value(json_object_get(e, "seq"));
		fl.seg = json_integer_value(json_object_get(e, "seg"));
		fl.event = json_string_value(json_object_get(e, "event"));
		fl.event_len = strlen(fl.event);
		fl.prev = json_string_value(json_object_get(e, "prev"));
	}
	/* Both readings checked event is [a-z0-9_]{1,47}. */
	memcpy(event, fl.event, fl.event_len);
	event[fl.event_len] = '\0';
	seq = fl.seq;
	if (v->f.index == 0) {
		seg = v->f.seg = fl.seg;
		v->f.first = seq;
		if (strcmp(event, "log_open") != 0) {
			hsm_set_err(why, sizeof(why), "a segment must begin with log_open, not %s",
				    event);
			goto bad;
		}
		if (v->last_seg && seg <= v->last_seg) {
			hsm_set_err(why, sizeof(why),
				    "segment %" PRId64 " after segment %" PRId64
				    ": given twice or out of order",
				    seg, v->last_seg);
			goto bad;
		}
		if (v->last_seg && seg != v->last_seg + 1) {
			hsm_set_err(why, sizeof(why),
				    "segment %" PRId64 " follows segment %" PRId64
				    ": segments %" PRId64 "..%" PRId64 " are missing",
				    seg, v->last_seg, v->last_seg + 1, seg - 1);
			goto bad;
		}
	} else if (fl.seg != seg) {
		hsm_set_err(why, sizeof(why), "entry of segment %" PRId64 " in segment %" PRId64,
			    fl.seg, seg);
		goto bad;
	}
	if (v->have_last && seq != v->last_seq + 1) {
		if (seq <= v->last_seq)
			hsm_set_err(why, sizeof(why), "sequence goes back from %" PRId64,
				    v->last_seq);
		else
			hsm_set_err(why, sizeof(why),
				    "entries %" PRId64 "..%" PRId64 " are missing", v->last_seq + 1,
				    seq - 1);
		goto bad;
	}
	if (v->have_last && memcmp(fl.prev, v->last_hex, 2 * HSM_SLOG_HASH_LEN) != 0) {
		hsm_set_err(why, sizeof(why),
			    "prev is not the hash of entry %" PRId64
			    " (an entry before it was changed)",
			    v->last_seq);
		goto bad;
	}
	if (!v->have_last) {
		static const char zero[] =
		    "0000000000000000000000000000000000000000000000000000000000000000";
		if (seq == 1 && memcmp(fl.prev, zero, 2 * HSM_SLOG_HASH_LEN) != 0) {
			hsm_set_err(why, sizeof(why), "the first entry's prev is not zero");
			goto bad;
		}
		v->covered = seq - 1;
	}
	if (v->f.index == 1) {
		const json_t *d = json_object_get(e, "detail");
		if (strcmp(event, "log_previous") != 0 ||
		    json_integer_value(json_object_get(d, "segment")) != seg - 1 ||
		    json_integer_value(json_object_get(d, "last_seq")) != v->f.first - 1) {
			hsm_set_err(why, sizeof(why),
				    "the second entry must be log_previous naming "
				    "segment %" PRId64 " ending at seq %" PRId64,
				    seg - 1, v->f.first - 1);
			goto bad;
		}
	}
	/* e is set here for every entry these look into (see above). */
	if (v->f.index == 0 ? check_log_open(v, e, seq, seg, why, sizeof(why)) != 0
	    : strcmp(event, "log_open") == 0
		? hsm_set_err(why, sizeof(why), "log_open inside a segment") != 0
	    : strcmp(event, "checkpoint") == 0
		? check_checkpoint(v, e, seq, seg, why, sizeof(why)) != 0
	    : strcmp(event, "log_key") == 0 ? check_log_key(v, e, seq, why, sizeof(why)) != 0
					    : 0)
		goto bad;
	if (strcmp(event, "checkpoint") == 0)
		v->f.sum.checkpoints++;
	entry_hash(v, json, jlen, hash);
	hsm_slog_hex(hash, v->last_hex);
	v->last_seq = seq;
	v->have_last = 1;
	json_decref(e);
	v->f.index++;
	return 0;
bad:
	json_decref(e);
	return hsm_set_err(err, errlen, "%s: entry seq %" PRId64 " (byte %" PRIu64 "): %s", name,
			   seq, at, why);
}

/* The error of a bad checkpoint signature found by the queue. */
static int sig_error(struct hsm_slog_verifier *v, const struct slog_sig_at *bad, char *err,
		     size_t errlen)
{
	char why[128];

	v->f.failed = 1;
	bad_signature(why, sizeof(why), bad->epoch);
	return hsm_set_err(err, errlen, "%s: entry seq %" PRId64 " (byte %" PRIu64 "): %s",
			   v->f.name, bad->seq, bad->byte, why);
}

/* Wait for the queued checkpoint signatures: 0 when all verified, or -1
 * with the first bad one in err (which it replaces: whatever problem was
 * found after that checkpoint comes second). */
static int settle_sigs(struct hsm_slog_verifier *v, char *err, size_t errlen)
{
	struct slog_sig_at bad;

	if (!v->sigq || slog_sigq_settle(v->sigq, &bad) == 0)
		return 0;
	return sig_error(v, &bad, err, errlen);
}

/* The whole frames of buf (which starts at file offset v->f.pos): how many
 * bytes they take (a cut frame at the end is left), or -1 with err (the
 * signature queue settled). */
static long long check_frames(struct hsm_slog_verifier *v, const char *buf, size_t len, char *err,
			      size_t errlen)
{
	size_t pos = 0;

	while (pos < len) {
		const char *json;
		size_t jlen, at = pos;
		int r = hsm_slog_next_frame(buf, len, &pos, &json, &jlen);

		if (r == 0)
			break;
		if (r < 0) {
			size_t next = hsm_slog_resync(buf, len, at);
			hsm_set_err(err, errlen,
				    "%s: byte %" PRIu64 ": damaged entry after seq %" PRId64
				    " (%zu bytes up to the next valid frame)",
				    v->f.name, v->f.pos + at, v->last_seq, next - at);
			settle_sigs(v, err, errlen);
			return -1;
		}
		if (check_entry(v, json, jlen, v->f.pos + at, err, errlen) != 0) {
			settle_sigs(v, err, errlen);
			return -1;
		}
		if (v->sigq) {
			struct slog_sig_at bad;
			if (slog_sigq_poll(v->sigq, &bad))
				return sig_error(v, &bad, err, errlen);
		}
	}
	return (long long)pos;
}

int hsm_slog_verifier_begin(struct hsm_slog_verifier *v, const char *name, char *err, size_t errlen)
{
	free(v->f.name);
	free(v->f.carry);
	memset(&v->f, 0, sizeof(v->f));
	v->f.name = strdup(name ? name : "segment");
	v->f.carry = malloc(HSM_SLOG_MAX_FRAME);
	if (!v->f.name || !v->f.carry)
		return v->f.failed = 1, hsm_set_err(err, errlen, "out of memory");
	v->f.open = 1;
	return 0;
}

int hsm_slog_verifier_push(struct hsm_slog_verifier *v, const void *data, size_t len, char *err,
			   size_t errlen)
{
	const char *p = data;

	if (!v->f.open || v->f.failed)
		return hsm_set_err(err, errlen, "%s: verification already ended",
				   v->f.name ? v->f.name : "segment");
	while (len) {
		long long used;

		if (v->f.clen == 0) {
			/* Whole frames straight from the caller's buffer; a cut
			 * frame at its end waits in carry for the next push. */
			if ((used = check_frames(v, p, len, err, errlen)) < 0)
				return v->f.failed = 1, -1;
			v->f.pos += (uint64_t)used;
			memcpy(v->f.carry, p + used, len - (size_t)used);
			v->f.clen = len - (size_t)used;
			return 0;
		}
		/* Complete the carried frame: append what may belong to it,
		 * check, and give back to p what followed the frames. */
		{
			size_t orig = v->f.clen, take = HSM_SLOG_MAX_FRAME - orig;
			if (take > len)
				take = len;
			memcpy(v->f.carry + orig, p, take);
			v->f.clen += take;
			if ((used = check_frames(v, v->f.carry, v->f.clen, err, errlen)) < 0)
				return v->f.failed = 1, -1;
			if (used == 0) {
				if (v->f.clen == HSM_SLOG_MAX_FRAME) { /* next_frame would say -1 */
					hsm_set_err(err, errlen,
						    "%s: byte %" PRIu64 ": frame too long",
						    v->f.name, v->f.pos);
					settle_sigs(v, err, errlen);
					return v->f.failed = 1, -1;
				}
				p += take;
				len -= take;
				continue;
			}
			v->f.pos += (uint64_t)used;
			p += (size_t)used - orig;
			len -= (size_t)used - orig;
			v->f.clen = 0;
		}
	}
	return 0;
}

int hsm_slog_verifier_end(struct hsm_slog_verifier *v, char *err, size_t errlen)
{
	struct seg_summary *s;

	if (!v->f.open || v->f.failed)
		return hsm_set_err(err, errlen, "%s: verification already ended",
				   v->f.name ? v->f.name : "segment");
	v->f.open = 0;
	/* Every signature of the file checked before anything after it. */
	if (settle_sigs(v, err, errlen) != 0)
		return -1;
	if (v->f.clen) {
		size_t pos = 0, jlen;
		const char *json;
		if (hsm_slog_next_frame(v->f.carry, v->f.clen, &pos, &json, &jlen) < 0)
			return hsm_set_err(err, errlen,
					   "%s: byte %" PRIu64 ": damaged entry after seq %" PRId64,
					   v->f.name, v->f.pos, v->last_seq);
		return hsm_set_err(err, errlen,
				   "%s: byte %" PRIu64 ": torn tail after seq %" PRId64
				   " (%zu bytes of an incomplete entry)",
				   v->f.name, v->f.pos, v->last_seq, v->f.clen);
	}
	if (v->f.index == 0)
		return hsm_set_err(err, errlen, "%s: no entries", v->f.name);
	if (v->covered != v->last_seq)
		return hsm_set_err(err, errlen,
				   "%s: entries %" PRId64 "..%" PRId64 " are not covered by "
				   "a checkpoint signature (a segment must end with one)",
				   v->f.name, v->covered + 1, v->last_seq);
	v->last_seg = v->f.seg;
	v->f.sum.segment = v->f.seg;
	v->f.sum.first = v->f.first;
	v->f.sum.last = v->last_seq;
	v->f.sum.entries = (int64_t)v->f.index;
	s = realloc(v->segs, (v->nsegs + 1) * sizeof(*s));
	if (!s)
		return hsm_set_err(err, errlen, "out of memory");
	v->segs = s;
	v->segs[v->nsegs++] = v->f.sum;
	return 0;
}

int hsm_slog_verifier_feed(struct hsm_slog_verifier *v, const char *name, const char *buf,
			   size_t len, char *err, size_t errlen)
{
	if (hsm_slog_verifier_begin(v, name, err, errlen) != 0 ||
	    hsm_slog_verifier_push(v, buf, len, err, errlen) != 0)
		return -1;
	return hsm_slog_verifier_end(v, err, errlen);
}

int64_t hsm_slog_verifier_last_segment(const struct hsm_slog_verifier *v)
{
	return v->last_seg;
}

const char *hsm_slog_verifier_esn(const struct hsm_slog_verifier *v)
{
	return v->esn;
}

const char *hsm_slog_verifier_log(const struct hsm_slog_verifier *v)
{
	return v->log;
}

int hsm_slog_verifier_anchored(const struct hsm_slog_verifier *v)
{
	return v->any_checkpoint && v->all_anchored;
}

json_t *hsm_slog_verifier_summary(const struct hsm_slog_verifier *v)
{
	json_t *segs = json_array(), *epochs = json_array();

	for (size_t i = 0; i < v->nsegs; i++)
		json_array_append_new(segs, json_pack("{s:I, s:I, s:I, s:I, s:I}", "segment",
						      (json_int_t)v->segs[i].segment, "first_seq",
						      (json_int_t)v->segs[i].first, "last_seq",
						      (json_int_t)v->segs[i].last, "entries",
						      (json_int_t)v->segs[i].entries, "checkpoints",
						      (json_int_t)v->segs[i].checkpoints));
	for (size_t i = 0; i < v->nkeys; i++) {
		char *line = hsm_key_to_openssh(v->keys[i].key);
		json_array_append_new(epochs, json_pack("{s:I, s:I, s:s?, s:b, s:b}", "epoch",
							(json_int_t)v->keys[i].epoch, "since",
							(json_int_t)v->keys[i].since, "key", line,
							"pinned", v->keys[i].pinned, "anchored",
							v->keys[i].anchored));
		free(line);
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:b}", "esn", v->esn, "log", v->log, "segments",
			 segs, "epochs", epochs, "anchored", hsm_slog_verifier_anchored(v));
}

/* keys[i]'s certificate (k's) is signer's and names this very key, epoch,
 * since, ESN and log. */
static int check_key_certificate(const json_t *k, size_t i, EVP_PKEY *signer, const char *esn,
				 const char *log, char *err, size_t errlen)
{
	const json_t *body = NULL;
	const char *line = json_string_value(json_object_get(k, "key"));
	json_t *ep = json_object_get(k, "epoch"), *since = json_object_get(k, "since");
	char inner[256];

	if (hsm_signed_verify(json_object_get(k, "certificate"), signer, &body, NULL, inner,
			      sizeof(inner)) != 0)
		return hsm_set_err(err, errlen,
				   "keys[%zu] (epoch %" JSON_INTEGER_FORMAT "): certificate: %s", i,
				   json_integer_value(ep), inner);
	if (!json_equal(json_object_get(body, "epoch"), ep) ||
	    !json_equal(json_object_get(body, "since"), since) ||
	    !json_is_string(json_object_get(body, "key")) ||
	    strcmp(json_string_value(json_object_get(body, "key")), line) != 0 ||
	    !json_is_string(json_object_get(body, "esn")) ||
	    strcmp(json_string_value(json_object_get(body, "esn")), esn) != 0 ||
	    !json_is_string(json_object_get(body, "log")) ||
	    strcmp(json_string_value(json_object_get(body, "log")), log) != 0)
		return hsm_set_err(
		    err, errlen, "keys[%zu]: the certificate is for another key, epoch or log", i);
	return 0;
}

/* Pin every key of keys ({epoch, since, key, certificate?} each); with a
 * signer, only keys whose certificate check_key_certificate accepts.  none
 * is the message for no keys at all. */
static int pin_keys(struct hsm_slog_verifier *v, const json_t *keys, EVP_PKEY *signer,
		    const char *esn, const char *log, const char *none, char *err, size_t errlen)
{
	size_t i;
	json_t *k;
	char inner[256];

	if (!json_is_array(keys) || json_array_size(keys) == 0)
		return hsm_set_err(err, errlen, "%s", none);
	json_array_foreach(keys, i, k)
	{
		const char *line = json_string_value(json_object_get(k, "key"));
		json_t *ep = json_object_get(k, "epoch"), *since = json_object_get(k, "since");
		EVP_PKEY *key;
		int rc;

		if (!line || !json_is_integer(ep) || !json_is_integer(since))
			return hsm_set_err(err, errlen, "keys[%zu]: needs epoch, since and key", i);
		if (signer && check_key_certificate(k, i, signer, esn, log, err, errlen) != 0)
			return -1;
		if (!(key = hsm_key_from_openssh_strict("key", line, inner, sizeof(inner))))
			return hsm_set_err(err, errlen, "keys[%zu]: %s", i, inner);
		rc = hsm_slog_verifier_pin(v, json_integer_value(ep), json_integer_value(since),
					   key, err, errlen);
		EVP_PKEY_free(key);
		if (rc)
			return -1;
	}
	return 0;
}

int hsm_slog_verifier_pin_certified(struct hsm_slog_verifier *v, const json_t *keys,
				    EVP_PKEY *signer, const char *esn, const char *log, char *err,
				    size_t errlen)
{
	/* pin_keys skips the certificates without a signer: never here. */
	if (!signer)
		return hsm_set_err(err, errlen, "no key to check the log key certificates with");
	return pin_keys(v, keys, signer, esn, log, "no certified log keys", err, errlen);
}

int hsm_slog_keys_certified(const json_t *keys)
{
	size_t i;
	json_t *k;

	if (!json_array_size(keys))
		return 0;
	json_array_foreach(keys, i, k) if (!json_object_get(k, "certificate")) return 0;
	return 1;
}

int hsm_slog_verifier_pin_uncertified(struct hsm_slog_verifier *v, const json_t *keys, char *err,
				      size_t errlen)
{
	if (pin_keys(v, keys, NULL, NULL, NULL, "no log keys", err, errlen) != 0)
		return -1;
	v->uncertified = 1;
	return 0;
}

struct hsm_slog_verifier *hsm_slog_export_begin(const json_t *keys, EVP_PKEY *signer,
						const char *esn, const char *log, const char *name,
						char *err, size_t errlen)
{
	struct hsm_slog_verifier *v = hsm_slog_verifier_new();

	if (!v) {
		hsm_set_err(err, errlen, "out of memory");
		return NULL;
	}
	/* Without a signer only the certificates go unchecked: the chain,
	 * the sequence and every checkpoint signature are checked the same. */
	if ((signer ? hsm_slog_verifier_pin_certified(v, keys, signer, esn, log, err, errlen)
		    : hsm_slog_verifier_pin_uncertified(v, keys, err, errlen)) != 0 ||
	    hsm_slog_verifier_begin(v, name, err, errlen) != 0) {
		hsm_slog_verifier_free(v);
		return NULL;
	}
	return v;
}

json_t *hsm_slog_export_finish(struct hsm_slog_verifier *v, const char *esn, const char *log,
			       int64_t segment, char *err, size_t errlen)
{
	if (hsm_slog_verifier_end(v, err, errlen) != 0)
		return NULL;
	if (strcmp(v->esn, esn) != 0 || strcmp(v->log, log) != 0) {
		hsm_set_err(err, errlen, "the segment is of %s %s, not %s %s", v->esn, v->log, esn,
			    log);
		return NULL;
	}
	if (v->last_seg != segment) {
		hsm_set_err(err, errlen, "asked for segment %" PRId64 ", got %" PRId64, segment,
			    v->last_seg);
		return NULL;
	}
	if (!hsm_slog_verifier_anchored(v)) {
		hsm_set_err(err, errlen, "%s",
			    v->uncertified
				? "a checkpoint is signed by a key the device did not give"
				: "a checkpoint is signed by a key without a certificate");
		return NULL;
	}
	return hsm_slog_verifier_summary(v);
}

json_t *hsm_slog_verify_export(const char *text, size_t len, const json_t *keys, EVP_PKEY *signer,
			       const char *esn, const char *log, int64_t segment, char *err,
			       size_t errlen)
{
	struct hsm_slog_verifier *v;
	json_t *sum = NULL;
	char name[64];

	snprintf(name, sizeof(name), "segment %" PRId64, segment);
	v = hsm_slog_export_begin(keys, signer, esn, log, name, err, errlen);
	if (v && hsm_slog_verifier_push(v, text, len, err, errlen) == 0)
		sum = hsm_slog_export_finish(v, esn, log, segment, err, errlen);
	hsm_slog_verifier_free(v);
	return sum;
}
