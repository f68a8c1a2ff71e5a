/* SPDX-License-Identifier: Apache-2.0 */
/*
 * npkg.c - firmware packages: write, parse the manifest, verify a stream.
 *
 * Layout (docs/formats/npkg.md is normative; keep the two in step):
 *
 *   "hsmadmin-npkg 1 <N>\n"     header line, N = manifest bytes
 *   <N bytes>                   canonical JSON {"body":{...},"signature":{...}}
 *   "\n"
 *   <file 1 bytes><file 2 bytes>...   exactly the sizes the manifest gives
 *
 * The reader is a push state machine so the same code serves a file on a
 * host and an SSH channel on the device: it owns at most the manifest and
 * one small header buffer, whatever the package size.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <hsmadmin/fileio.h>
#include "npkg.h"
#include "sign.h"

#define ERRS(code, ...) (snprintf(err, errlen, __VA_ARGS__), (code))
#define MALFORMED(...) ERRS(HSM_NPKG_MALFORMED, __VA_ARGS__)

#define HEADER_MAX 64
#define SIG_B64_LEN 88
/* Latest "created" we accept: 9999-12-31T23:59:59Z. */
#define CREATED_MAX 253402300799LL
#define IO_CHUNK (256 * 1024)

static EVP_MD *sha256_md(void)
{
	/* Fetched once: implicit fetches are slow in OpenSSL 3.0. */
	static EVP_MD *md;

	if (!md)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return md;
}

HSM_API const char *hsm_npkg_component_name(enum hsm_npkg_component c)
{
	switch (c) {
	case HSM_NPKG_PRIMARY:
		return "primary";
	case HSM_NPKG_RECOVERY:
		return "recovery";
	case HSM_NPKG_BOOTLOADER:
		return "bootloader";
	}
	return "?";
}

HSM_API int hsm_npkg_component_parse(const char *text, enum hsm_npkg_component *out)
{
	for (int c = HSM_NPKG_PRIMARY; c <= HSM_NPKG_BOOTLOADER; c++) {
		if (strcmp(text, hsm_npkg_component_name((enum hsm_npkg_component)c)) == 0) {
			*out = (enum hsm_npkg_component)c;
			return 0;
		}
	}
	return -1;
}

HSM_API int hsm_npkg_version_valid(const char *text)
{
	size_t n = strlen(text), digits = 0, dots = 0;

	if (n == 0 || n > HSM_NPKG_VERSION_TEXT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (text[i] >= '0' && text[i] <= '9') {
			if (++digits > 9)
				return 0;
		} else if (text[i] == '.' && digits > 0) {
			digits = 0;
			dots++;
		} else {
			return 0;
		}
	}
	return digits > 0 && dots >= 1;
}

HSM_API int hsm_npkg_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return 0;
}

HSM_API const char *hsm_npkg_status_text(int status)
{
	switch (status) {
	case HSM_NPKG_OK:
		return "ok";
	case HSM_NPKG_MALFORMED:
		return "malformed";
	case HSM_NPKG_UNKNOWN_VERSION:
		return "unknown format version";
	case HSM_NPKG_UNKNOWN_SIGNER:
		return "unknown signer";
	case HSM_NPKG_BAD_SIGNATURE:
		return "bad signature";
	case HSM_NPKG_DIGEST_MISMATCH:
		return "digest mismatch";
	case HSM_NPKG_TRUNCATED:
		return "truncated";
	case HSM_NPKG_PADDED:
		return "padded";
	case HSM_NPKG_REFUSED:
		return "refused";
	default:
		return "i/o error";
	}
}

/* --- the manifest -------------------------------------------------------- */

/* A name in the package: components of [A-Za-z0-9._-], none empty or
 * starting with '.', no leading '/', at most HSM_NPKG_NAME_MAX. */
static int name_valid(const char *s)
{
	size_t n = strlen(s);
	int start = 1;

	if (n == 0 || n > HSM_NPKG_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '/') {
			if (start)
				return 0;
			start = 1;
			continue;
		}
		if (start && c == '.')
			return 0;
		start = 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return !start;
}

/* "modules/<service>.so" or "services.d/<service>.conf" with a service
 * name [a-z][a-z0-9_]{0,46}. */
static int image_name_valid(const char *s)
{
	const char *stem, *ext;
	size_t n;

	if (strncmp(s, "modules/", 8) == 0) {
		stem = s + 8;
		ext = ".so";
	} else if (strncmp(s, "services.d/", 11) == 0) {
		stem = s + 11;
		ext = ".conf";
	} else {
		return 0;
	}
	n = strlen(stem);
	if (n <= strlen(ext) || strcmp(stem + n - strlen(ext), ext) != 0)
		return 0;
	n -= strlen(ext);
	if (n > 47 || stem[0] < 'a' || stem[0] > 'z')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = stem[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

static int hex_decode32(const char *hex, uint8_t out[32])
{
	if (strlen(hex) != 64)
		return -1;
	for (int i = 0; i < 64; i++) {
		char c = hex[i];
		int v = (c >= '0' && c <= '9')   ? c - '0'
			: (c >= 'a' && c <= 'f') ? c - 'a' + 10
						 : -1;
		if (v < 0)
			return -1; /* lower case only: one spelling per digest */
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return 0;
}

static void hex_encode32(const uint8_t in[32], char out[65])
{
	static const char d[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[64] = '\0';
}

static int parse_files(const json_t *files, struct hsm_npkg_manifest *m, char *err, size_t errlen)
{
	static const char *const allowed[] = { "name", "size", "sha256", NULL };
	char q[HSM_PRINTABLE_LEN], where[48];
	size_t n = json_array_size(files);

	if (n == 0 || n > HSM_NPKG_FILES_MAX)
		return MALFORMED("files: must list 1 to %d files", HSM_NPKG_FILES_MAX);
	m->files = calloc(n, sizeof(*m->files));
	if (!m->files)
		return MALFORMED("out of memory");
	m->nfiles = n;
	for (size_t i = 0; i < n; i++) {
		const json_t *f = json_array_get(files, i);
		struct hsm_npkg_file *e = &m->files[i];
		json_t *name, *size, *sha;
		int bad = 0;

		snprintf(where, sizeof(where), "files[%zu].", i);
		if (!json_is_object(f))
			return MALFORMED("files[%zu]: must be an object", i);
		if (hsm_json_only_keys(f, where, allowed, err, errlen) != 0)
			return HSM_NPKG_MALFORMED;
		name = hsm_json_member(f, where, "name", JSON_STRING, 1, &bad, err, errlen);
		size = hsm_json_member(f, where, "size", JSON_INTEGER, 1, &bad, err, errlen);
		sha = hsm_json_member(f, where, "sha256", JSON_STRING, 1, &bad, err, errlen);
		if (bad)
			return HSM_NPKG_MALFORMED;
		if (!name_valid(json_string_value(name)))
			return MALFORMED("files[%zu].name: '%s' is not a package file name", i,
					 hsm_printable(json_string_value(name), q));
		snprintf(e->name, sizeof(e->name), "%s", json_string_value(name));
		/* Strictly increasing: one order, and no name twice. */
		if (i > 0 && strcmp(m->files[i - 1].name, e->name) >= 0)
			return MALFORMED("files[%zu].name: '%s' is out of order or repeated", i,
					 hsm_printable(e->name, q));
		if (json_integer_value(size) < 0 ||
		    (uint64_t)json_integer_value(size) > HSM_NPKG_FILE_SIZE_MAX)
			return MALFORMED("files[%zu].size: must be from 0 to %llu", i,
					 (unsigned long long)HSM_NPKG_FILE_SIZE_MAX);
		e->size = (uint64_t)json_integer_value(size);
		if (hex_decode32(json_string_value(sha), e->sha256) != 0)
			return MALFORMED("files[%zu].sha256: must be 64 lower-case hex digits", i);
		m->payload_size += e->size;
	}
	return 0;
}

/* The body's fields and the rules between them. */
static int parse_body(const json_t *b, struct hsm_npkg_manifest *m, char *err, size_t errlen)
{
	static const char *const allowed[] = {
		"format", "version",       "product", "component", "firmware_version",
		"vsn",    "revokes_older", "created", "files",     NULL
	};
	json_t *format, *version, *product, *component, *fwv, *vsn, *rev, *created, *files;
	char q[HSM_PRINTABLE_LEN];
	int bad = 0;

	if (!json_is_object(b))
		return MALFORMED("body: must be an object");
	if (hsm_json_only_keys(b, "body.", allowed, err, errlen) != 0)
		return HSM_NPKG_MALFORMED;
	format = hsm_json_member(b, "body.", "format", JSON_STRING, 1, &bad, err, errlen);
	version = hsm_json_member(b, "body.", "version", JSON_INTEGER, 1, &bad, err, errlen);
	if (bad)
		return HSM_NPKG_MALFORMED;
	if (strcmp(json_string_value(format), HSM_NPKG_FORMAT) != 0)
		return MALFORMED("body.format: '%s' is not %s",
				 hsm_printable(json_string_value(format), q), HSM_NPKG_FORMAT);
	if (json_integer_value(version) != HSM_NPKG_VERSION)
		return ERRS(HSM_NPKG_UNKNOWN_VERSION,
			    "manifest version %lld is not one this tool reads (%d)",
			    (long long)json_integer_value(version), HSM_NPKG_VERSION);
	m->version = HSM_NPKG_VERSION;
	product = hsm_json_member(b, "body.", "product", JSON_STRING, 1, &bad, err, errlen);
	component = hsm_json_member(b, "body.", "component", JSON_STRING, 1, &bad, err, errlen);
	fwv = hsm_json_member(b, "body.", "firmware_version", JSON_STRING, 1, &bad, err, errlen);
	vsn = hsm_json_member(b, "body.", "vsn", JSON_INTEGER, 0, &bad, err, errlen);
	rev = hsm_json_member(b, "body.", "revokes_older", JSON_TRUE, 0, &bad, err, errlen);
	created = hsm_json_member(b, "body.", "created", JSON_INTEGER, 1, &bad, err, errlen);
	files = hsm_json_member(b, "body.", "files", JSON_ARRAY, 1, &bad, err, errlen);
	if (bad)
		return HSM_NPKG_MALFORMED;
	if (json_string_length(product) < 1 || json_string_length(product) > 32 ||
	    !name_valid(json_string_value(product)) || strchr(json_string_value(product), '/'))
		return MALFORMED("body.product: '%s' is not a product name",
				 hsm_printable(json_string_value(product), q));
	snprintf(m->product, sizeof(m->product), "%s", json_string_value(product));
	if (hsm_npkg_component_parse(json_string_value(component), &m->component) != 0)
		return MALFORMED("body.component: '%s' is not primary, recovery or bootloader",
				 hsm_printable(json_string_value(component), q));
	if (!hsm_npkg_version_valid(json_string_value(fwv)))
		return MALFORMED("body.firmware_version: '%s' is not a version like 13.7.1",
				 hsm_printable(json_string_value(fwv), q));
	snprintf(m->firmware_version, sizeof(m->firmware_version), "%s", json_string_value(fwv));
	if (m->component == HSM_NPKG_BOOTLOADER) {
		if (vsn)
			return MALFORMED("body.vsn: a bootloader has no VSN");
		if (!rev)
			return MALFORMED("body.revokes_older: required for a bootloader");
		m->revokes_older = json_is_true(rev);
	} else {
		if (rev)
			return MALFORMED("body.revokes_older: only a bootloader has it");
		if (!vsn)
			return MALFORMED("body.vsn: required for a %s image",
					 hsm_npkg_component_name(m->component));
		if (json_integer_value(vsn) < 1 || json_integer_value(vsn) > HSM_NPKG_VSN_MAX)
			return MALFORMED("body.vsn: must be from 1 to %d", HSM_NPKG_VSN_MAX);
		m->vsn = json_integer_value(vsn);
	}
	if (json_integer_value(created) < 0 || json_integer_value(created) > CREATED_MAX)
		return MALFORMED("body.created: not a time");
	m->created = json_integer_value(created);
	if (parse_files(files, m, err, errlen) != 0)
		return HSM_NPKG_MALFORMED;
	for (size_t i = 0; i < m->nfiles; i++) {
		const char *nm = m->files[i].name;
		if (m->component == HSM_NPKG_BOOTLOADER ? strcmp(nm, HSM_NPKG_BOOT_FILE) != 0
							: !image_name_valid(nm))
			return MALFORMED(
			    "files[%zu].name: '%s' does not belong in a %s package (%s)", i,
			    hsm_printable(nm, q), hsm_npkg_component_name(m->component),
			    m->component == HSM_NPKG_BOOTLOADER
				? "only " HSM_NPKG_BOOT_FILE
				: "modules/NAME.so and services.d/NAME.conf");
	}
	return 0;
}

HSM_API void hsm_npkg_manifest_free(struct hsm_npkg_manifest *m)
{
	if (!m)
		return;
	free(m->files);
	EVP_PKEY_free(m->signer);
	free(m->text);
	free(m);
}

HSM_API int hsm_npkg_manifest_parse(const void *data, size_t len, EVP_PKEY *const *trusted,
				    size_t ntrusted, struct hsm_npkg_manifest **out, char *err,
				    size_t errlen)
{
	static const char *const allowed[] = { "body", "signature", NULL };
	struct hsm_npkg_manifest *m;
	json_t *env, *body, *sig;
	uint8_t rawsig[HSM_ED25519_SIG_LEN + 3];
	char inner[384], *canon = NULL;
	size_t clen, siglen;
	int rc, bad = 0;

	*out = NULL;
	if (len == 0 || len > HSM_NPKG_MANIFEST_MAX)
		return MALFORMED("manifest: must be 1 to %d bytes", HSM_NPKG_MANIFEST_MAX);
	env = hsm_json_parse(data, len, HSM_NPKG_MANIFEST_MAX, inner, sizeof(inner));
	if (!env)
		return MALFORMED("manifest: %s", inner);
	m = calloc(1, sizeof(*m));
	if (!m) {
		json_decref(env);
		return MALFORMED("out of memory");
	}
	/* Exactly the canonical bytes: every byte is covered by the parser. */
	canon = hsm_json_canonical(env, &clen);
	if (!json_is_object(env) || !canon || clen != len || memcmp(canon, data, len) != 0) {
		rc = MALFORMED("manifest: not a canonical signed manifest");
		goto out;
	}
	free(canon);
	canon = NULL;
	if (hsm_json_only_keys(env, "", allowed, err, errlen) != 0) {
		rc = HSM_NPKG_MALFORMED;
		goto out;
	}
	body = hsm_json_member(env, "", "body", JSON_OBJECT, 1, &bad, err, errlen);
	sig = hsm_json_member(env, "", "signature", JSON_OBJECT, 1, &bad, err, errlen);
	if (bad) {
		rc = HSM_NPKG_MALFORMED;
		goto out;
	}
	if (hsm_signature_block_parse(sig, &m->signer, inner, sizeof(inner)) != 0) {
		rc = MALFORMED("manifest: %s", inner);
		goto out;
	}
	if ((rc = parse_body(body, m, err, errlen)) != 0)
		goto out;
	/* The signature covers the canonical body, as for every signed
	 * object in hsmadmin. */
	canon = hsm_json_canonical(body, &clen);
	if (!canon || hsm_base64_decode(json_string_value(json_object_get(sig, "sig")), rawsig,
					sizeof(rawsig), &siglen) != 0) {
		rc = MALFORMED("manifest: cannot read the signature");
		goto out;
	}
	m->signature_ok = hsm_ed25519_verify(m->signer, canon, clen, rawsig, siglen) == 0;
	for (size_t i = 0; i < ntrusted; i++)
		m->trusted |= trusted[i] && hsm_key_equal(trusted[i], m->signer);
	m->text = malloc(len + 1);
	if (!m->text) {
		rc = MALFORMED("out of memory");
		goto out;
	}
	memcpy(m->text, data, len);
	m->text[len] = '\0';
	m->text_len = len;
	rc = 0;
out:
	free(canon);
	json_decref(env);
	if (rc != 0)
		hsm_npkg_manifest_free(m);
	else
		*out = m;
	return rc;
}

HSM_API json_t *hsm_npkg_manifest_json(const struct hsm_npkg_manifest *m)
{
	json_t *o, *files = json_array();
	char hex[65], *fp = hsm_key_fingerprint(m->signer);

	for (size_t i = 0; files && i < m->nfiles; i++) {
		hex_encode32(m->files[i].sha256, hex);
		json_array_append_new(files,
				      json_pack("{s:s, s:I, s:s}", "name", m->files[i].name, "size",
						(json_int_t)m->files[i].size, "sha256", hex));
	}
	o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:I, s:s?, s:b, s:b}", "product", m->product,
		      "component", hsm_npkg_component_name(m->component), "version",
		      m->firmware_version, "created", (json_int_t)m->created, "files", files,
		      "payload_size", (json_int_t)m->payload_size, "signer", fp, "signature_ok",
		      m->signature_ok, "trusted", m->trusted);
	free(fp);
	if (!o)
		return NULL;
	if (m->component == HSM_NPKG_BOOTLOADER)
		json_object_set_new(o, "revokes_older", json_boolean(m->revokes_older));
	else
		json_object_set_new(o, "vsn", json_integer(m->vsn));
	return o;
}

HSM_API int hsm_npkg_file_name(const struct hsm_npkg_manifest *m, char *buf, size_t len)
{
	int n;

	if (m->component == HSM_NPKG_BOOTLOADER)
		n = snprintf(buf, len, "%s-bootloader-%s.npkg", m->product, m->firmware_version);
	else
		n = snprintf(buf, len, "%s-%s-%s-vsn%lld.npkg", m->product,
			     hsm_npkg_component_name(m->component), m->firmware_version,
			     (long long)m->vsn);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* --- the streaming reader --------------------------------------------------- */

enum rstate { R_HEADER, R_MANIFEST, R_SEPARATOR, R_FILES, R_DONE, R_FAILED };

struct hsm_npkg_reader {
	enum rstate state;
	unsigned flags;
	EVP_PKEY *const *trusted;
	size_t ntrusted;
	const struct hsm_npkg_sink *sink;
	void *ctx;
	char header[HEADER_MAX];
	size_t header_len;
	char *mbuf; /* the manifest while it arrives */
	size_t mlen, mhave;
	struct hsm_npkg_manifest *m;
	size_t file;   /* index of the file being read */
	uint64_t left; /* its bytes still to come */
	EVP_MD_CTX *md;
	uint64_t offset;
	int status;   /* the failure once R_FAILED */
	int deferred; /* INSPECT: the first recorded problem */
	char deferred_err[512];
	char failed_err[512];
};

HSM_API struct hsm_npkg_reader *hsm_npkg_reader_new(EVP_PKEY *const *trusted, size_t ntrusted,
						    unsigned flags,
						    const struct hsm_npkg_sink *sink, void *ctx)
{
	static const struct hsm_npkg_sink none;
	struct hsm_npkg_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->md = EVP_MD_CTX_new();
	if (!r->md || !sha256_md()) {
		EVP_MD_CTX_free(r->md);
		free(r);
		return NULL;
	}
	r->trusted = trusted;
	r->ntrusted = ntrusted;
	r->flags = flags;
	r->sink = sink ? sink : &none;
	r->ctx = ctx;
	return r;
}

HSM_API void hsm_npkg_reader_free(struct hsm_npkg_reader *r)
{
	if (!r)
		return;
	free(r->mbuf);
	hsm_npkg_manifest_free(r->m);
	EVP_MD_CTX_free(r->md);
	free(r);
}

HSM_API const struct hsm_npkg_manifest *hsm_npkg_reader_manifest(const struct hsm_npkg_reader *r)
{
	return r->m;
}

HSM_API uint64_t hsm_npkg_reader_offset(const struct hsm_npkg_reader *r)
{
	return r->offset;
}

static int fail(struct hsm_npkg_reader *r, int status, const char *msg)
{
	r->state = R_FAILED;
	r->status = status;
	snprintf(r->failed_err, sizeof(r->failed_err), "%s", msg);
	return status;
}

/* A problem INSPECT records and carries on past; otherwise a failure. */
static int problem(struct hsm_npkg_reader *r, int status, const char *msg)
{
	if (!(r->flags & HSM_NPKG_INSPECT))
		return fail(r, status, msg);
	if (!r->deferred) {
		r->deferred = status;
		snprintf(r->deferred_err, sizeof(r->deferred_err), "%s", msg);
	}
	return 0;
}

static int parse_header(struct hsm_npkg_reader *r, char *err, size_t errlen)
{
	const char *p = r->header + strlen(HSM_NPKG_MAGIC " ");
	unsigned long long version = 0, len = 0;
	size_t digits = 0;

	/* "<magic> <version> <length>\n", decimals without leading zeros. */
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		version = version * 10 + (unsigned)(*p - '0');
	if (digits == 0 || digits > 6 || *p != ' ' || (digits > 1 && p[-(long)digits] == '0'))
		return MALFORMED("header: bad format version field");
	if (version != HSM_NPKG_VERSION)
		return ERRS(HSM_NPKG_UNKNOWN_VERSION,
			    "package format version %llu is not one this tool reads (%d)", version,
			    HSM_NPKG_VERSION);
	for (p++, digits = 0; *p >= '0' && *p <= '9'; p++, digits++)
		len = len * 10 + (unsigned)(*p - '0');
	if (digits == 0 || digits > 8 || *p != '\n' || (digits > 1 && p[-(long)digits] == '0'))
		return MALFORMED("header: bad manifest length field");
	if (len == 0 || len > HSM_NPKG_MANIFEST_MAX)
		return MALFORMED("header: manifest length %llu is not from 1 to %d", len,
				 HSM_NPKG_MANIFEST_MAX);
	r->mlen = (size_t)len;
	r->mbuf = malloc(r->mlen);
	if (!r->mbuf)
		return ERRS(HSM_NPKG_IO, "out of memory");
	return 0;
}

/* The manifest is in: parse, check the signature, tell the sink. */
static int manifest_done(struct hsm_npkg_reader *r, char *err, size_t errlen)
{
	char inner[512];
	int rc;

	rc = hsm_npkg_manifest_parse(r->mbuf, r->mlen, r->trusted, r->ntrusted, &r->m, inner,
				     sizeof(inner));
	free(r->mbuf);
	r->mbuf = NULL;
	if (rc != 0)
		return fail(r, rc, inner);
	if (!r->m->signature_ok &&
	    problem(r, HSM_NPKG_BAD_SIGNATURE,
		    "the manifest's signature does not verify (tampered)") != 0)
		return r->status;
	if (r->m->signature_ok && !r->m->trusted &&
	    problem(r, HSM_NPKG_UNKNOWN_SIGNER,
		    "signed by a key that is not a trusted vendor key (vendor.d)") != 0)
		return r->status;
	if (r->sink->manifest && r->sink->manifest(r->ctx, r->m, inner, sizeof(inner)) != 0)
		return fail(r, HSM_NPKG_REFUSED, inner);
	(void)err;
	(void)errlen;
	return 0;
}

static int file_start(struct hsm_npkg_reader *r)
{
	char inner[512];

	if (r->file >= r->m->nfiles) {
		r->state = R_DONE;
		return 0;
	}
	r->left = r->m->files[r->file].size;
	if (EVP_DigestInit_ex2(r->md, sha256_md(), NULL) != 1)
		return fail(r, HSM_NPKG_IO, "cannot start SHA-256");
	if (r->sink->file_begin &&
	    r->sink->file_begin(r->ctx, &r->m->files[r->file], inner, sizeof(inner)) != 0)
		return fail(r, HSM_NPKG_REFUSED, inner);
	return 0;
}

static int file_finish(struct hsm_npkg_reader *r)
{
	struct hsm_npkg_file *f = &r->m->files[r->file];
	uint8_t got[32];
	unsigned int n = 0;
	char inner[512], q[HSM_PRINTABLE_LEN];

	if (EVP_DigestFinal_ex(r->md, got, &n) != 1 || n != 32)
		return fail(r, HSM_NPKG_IO, "cannot finish SHA-256");
	if (CRYPTO_memcmp(got, f->sha256, 32) != 0) {
		snprintf(inner, sizeof(inner),
			 "file '%s': SHA-256 does not match the manifest (tampered)",
			 hsm_printable(f->name, q));
		if (problem(r, HSM_NPKG_DIGEST_MISMATCH, inner) != 0)
			return r->status;
	} else {
		f->digest_ok = 1;
		if (r->sink->file_end && r->sink->file_end(r->ctx, f, inner, sizeof(inner)) != 0)
			return fail(r, HSM_NPKG_REFUSED, inner);
	}
	r->file++;
	return file_start(r);
}

HSM_API int hsm_npkg_reader_feed(struct hsm_npkg_reader *r, const void *data, size_t len, char *err,
				 size_t errlen)
{
	const uint8_t *p = data;
	char inner[512];
	int rc;

	while (len > 0 || (r->state == R_FILES && r->left == 0)) {
		switch (r->state) {
		case R_HEADER: {
			char c = (char)*p;
			size_t magic = strlen(HSM_NPKG_MAGIC " ");
			if (r->header_len < magic && c != (HSM_NPKG_MAGIC " ")[r->header_len])
				rc = fail(r, HSM_NPKG_MALFORMED,
					  "not an npkg firmware package (bad magic)");
			else if (r->header_len + 1 >= HEADER_MAX)
				rc = fail(r, HSM_NPKG_MALFORMED, "header: line too long");
			else
				rc = 0;
			if (rc != 0)
				goto failed;
			r->header[r->header_len++] = c;
			r->header[r->header_len] = '\0';
			p++, len--, r->offset++;
			if (c == '\n') {
				if ((rc = parse_header(r, inner, sizeof(inner))) != 0) {
					fail(r, rc, inner);
					goto failed;
				}
				r->state = R_MANIFEST;
			}
			break;
		}
		case R_MANIFEST: {
			size_t n = r->mlen - r->mhave < len ? r->mlen - r->mhave : len;
			memcpy(r->mbuf + r->mhave, p, n);
			r->mhave += n;
			p += n, len -= n, r->offset += n;
			if (r->mhave == r->mlen) {
				if (manifest_done(r, inner, sizeof(inner)) != 0)
					goto failed;
				r->state = R_SEPARATOR;
			}
			break;
		}
		case R_SEPARATOR:
			if (*p != '\n') {
				fail(r, HSM_NPKG_MALFORMED, "no newline after the manifest");
				goto failed;
			}
			p++, len--, r->offset++;
			r->state = R_FILES;
			r->file = 0;
			if (file_start(r) != 0)
				goto failed;
			break;
		case R_FILES:
			if (r->left == 0) {
				if (file_finish(r) != 0)
					goto failed;
				break;
			} else {
				size_t n = (uint64_t)len < r->left ? len : (size_t)r->left;
				if (EVP_DigestUpdate(r->md, p, n) != 1) {
					fail(r, HSM_NPKG_IO, "SHA-256 failed");
					goto failed;
				}
				if (r->sink->file_data &&
				    r->sink->file_data(r->ctx, p, n, inner, sizeof(inner)) != 0) {
					fail(r, HSM_NPKG_REFUSED, inner);
					goto failed;
				}
				p += n, len -= n, r->offset += n, r->left -= n;
			}
			break;
		case R_DONE:
			fail(r, HSM_NPKG_PADDED, "bytes after the last file (padded)");
			goto failed;
		case R_FAILED:
			goto failed;
		}
	}
	return 0;
failed:
	snprintf(err, errlen, "%s", r->failed_err);
	return r->status;
}

HSM_API int hsm_npkg_reader_finish(struct hsm_npkg_reader *r, char *err, size_t errlen)
{
	char msg[160];

	if (r->state == R_FAILED)
		return ERRS(r->status, "%s", r->failed_err);
	if (r->state == R_FILES && r->left == 0 &&
	    hsm_npkg_reader_feed(r, NULL, 0, err, errlen) != 0)
		return r->status;
	if (r->state != R_DONE) {
		if (r->state == R_FILES && r->m)
			snprintf(msg, sizeof(msg), "the package ends %llu bytes early (truncated)",
				 (unsigned long long)(r->m->payload_size -
						      (r->offset - r->mlen - r->header_len - 1)));
		else
			snprintf(msg, sizeof(msg), "the package ends inside its %s (truncated)",
				 r->state == R_HEADER ? "header" : "manifest");
		if (r->state == R_HEADER && r->offset == 0)
			snprintf(msg, sizeof(msg), "empty file (truncated)");
		return ERRS(fail(r, HSM_NPKG_TRUNCATED, msg), "%s", msg);
	}
	if (r->deferred)
		return ERRS(r->deferred, "%s", r->deferred_err);
	return 0;
}

HSM_API int hsm_npkg_read_fd(struct hsm_npkg_reader *r, int fd, const char *name, char *err,
			     size_t errlen)
{
	uint8_t *buf = malloc(IO_CHUNK);
	char inner[512];
	int rc = 0;

	if (!buf)
		return ERRS(HSM_NPKG_IO, "%s: out of memory", name);
	for (;;) {
		ssize_t n = read(fd, buf, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ERRS(HSM_NPKG_IO, "%s: %s", name, strerror(errno));
			break;
		}
		if (n == 0) {
			if ((rc = hsm_npkg_reader_finish(r, inner, sizeof(inner))) != 0)
				snprintf(err, errlen, "%s: %s", name, inner);
			break;
		}
		if ((rc = hsm_npkg_reader_feed(r, buf, (size_t)n, inner, sizeof(inner))) != 0) {
			snprintf(err, errlen, "%s: %s", name, inner);
			break;
		}
	}
	free(buf);
	return rc;
}

HSM_API int hsm_npkg_check_fd(struct hsm_npkg_reader *r, int fd, const char *name, char *err,
			      size_t errlen)
{
	uint8_t buf[16384];
	struct stat st;
	uint64_t want;
	char inner[512];
	int rc;

	/* The header and the manifest: a few KiB, read in small pieces. */
	while (!r->m) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ERRS(HSM_NPKG_IO, "%s: %s", name, strerror(errno));
		if (n == 0)
			rc = hsm_npkg_reader_finish(r, inner, sizeof(inner));
		else
			rc = hsm_npkg_reader_feed(r, buf, (size_t)n, inner, sizeof(inner));
		if (rc != 0)
			return ERRS(rc, "%s: %s", name, inner);
		if (n == 0)
			break;
	}
	if (!r->m) /* the stream ended inside the manifest: finish() said so */
		return ERRS(HSM_NPKG_TRUNCATED, "%s: the package ends inside its manifest", name);
	if (fstat(fd, &st) != 0)
		return ERRS(HSM_NPKG_IO, "%s: %s", name, strerror(errno));
	want = (uint64_t)r->header_len + r->mlen + 1 + r->m->payload_size;
	if ((uint64_t)st.st_size < want)
		return ERRS(fail(r, HSM_NPKG_TRUNCATED, "truncated"),
			    "%s: the package ends %llu bytes early (truncated)", name,
			    (unsigned long long)(want - (uint64_t)st.st_size));
	if ((uint64_t)st.st_size > want)
		return ERRS(fail(r, HSM_NPKG_PADDED, "padded"),
			    "%s: bytes after the last file (padded)", name);
	if (r->deferred)
		return ERRS(r->deferred, "%s: %s", name, r->deferred_err);
	return 0;
}

/* --- writing ------------------------------------------------------------------ */

static int cmp_source(const void *a, const void *b)
{
	return strcmp(((const struct hsm_npkg_source *)a)->name,
		      ((const struct hsm_npkg_source *)b)->name);
}

/* SHA-256 and size of a file, streaming; with out also copy it there. */
static int hash_file(const char *path, struct hsm_atomic_file *out, uint64_t *size, uint8_t sha[32],
		     char *err, size_t errlen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *buf = malloc(IO_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	unsigned int n32;

	*size = 0;
	if (!md || !buf || fd < 0 || EVP_DigestInit_ex2(md, sha256_md(), NULL) != 1) {
		snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) : "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		*size += (uint64_t)n;
		if (out && hsm_atomic_file_write(out, buf, (size_t)n, err, errlen) != 0)
			goto out;
	}
	if (EVP_DigestFinal_ex(md, sha, &n32) != 1)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	EVP_MD_CTX_free(md);
	return rc;
}

HSM_API int hsm_npkg_write(const char *out, const struct hsm_npkg_manifest *m,
			   const struct hsm_npkg_source *src, size_t nsrc, EVP_PKEY *key, char *err,
			   size_t errlen)
{
	struct hsm_npkg_source *sorted = NULL;
	struct hsm_npkg_manifest *check = NULL;
	json_t *body = NULL, *files = NULL, *env = NULL;
	struct hsm_atomic_file *pkg = NULL;
	char *text = NULL, head[HEADER_MAX], hex[65], inner[512];
	size_t tlen;
	int rc = -1;

	if (nsrc == 0 || nsrc > HSM_NPKG_FILES_MAX)
		return hsm_set_err(err, errlen, "a package holds 1 to %d files",
				   HSM_NPKG_FILES_MAX);
	sorted = calloc(nsrc, sizeof(*sorted));
	files = json_array();
	if (!sorted || !files) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(sorted, src, nsrc * sizeof(*sorted));
	qsort(sorted, nsrc, sizeof(*sorted), cmp_source);
	for (size_t i = 0; i < nsrc; i++) {
		uint64_t size;
		uint8_t sha[32];
		if (hash_file(sorted[i].path, NULL, &size, sha, err, errlen) != 0)
			goto out;
		hex_encode32(sha, hex);
		json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "name", sorted[i].name,
						       "size", (json_int_t)size, "sha256", hex));
	}
	body = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:O}", "format", HSM_NPKG_FORMAT,
			 "version", HSM_NPKG_VERSION, "product", m->product, "component",
			 hsm_npkg_component_name(m->component), "firmware_version",
			 m->firmware_version, "created", (json_int_t)m->created, "files", files);
	if (!body) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (m->component == HSM_NPKG_BOOTLOADER)
		json_object_set_new(body, "revokes_older", json_boolean(m->revokes_older));
	else
		json_object_set_new(body, "vsn", json_integer(m->vsn));
	env = hsm_signed_wrap(body, key, err, errlen);
	text = env ? hsm_json_canonical(env, &tlen) : NULL;
	if (!text)
		goto out;
	/* What we write must be what a reader accepts: the same rules
	 * (names, ranges, order) checked by the one parser. */
	if (hsm_npkg_manifest_parse(text, tlen, NULL, 0, &check, inner, sizeof(inner)) != 0) {
		snprintf(err, errlen, "%s", inner);
		goto out;
	}
	/* Published whole or not at all: a writer killed half-way leaves
	 * only its temporary file, removed by the next write. */
	hsm_remove_stale_temps_of(out);
	if (!(pkg = hsm_atomic_file_open(out, 0644, (gid_t)-1, 0, err, errlen)))
		goto out;
	snprintf(head, sizeof(head), HSM_NPKG_MAGIC " %d %zu\n", HSM_NPKG_VERSION, tlen);
	if (hsm_atomic_file_write(pkg, head, strlen(head), err, errlen) != 0 ||
	    hsm_atomic_file_write(pkg, text, tlen, err, errlen) != 0 ||
	    hsm_atomic_file_write(pkg, "\n", 1, err, errlen) != 0)
		goto out;
	for (size_t i = 0; i < nsrc; i++) {
		uint64_t size;
		uint8_t sha[32];
		if (hash_file(sorted[i].path, pkg, &size, sha, err, errlen) != 0)
			goto out;
		if (size != check->files[i].size ||
		    CRYPTO_memcmp(sha, check->files[i].sha256, 32) != 0) {
			snprintf(err, errlen, "%s changed while the package was written; try again",
				 sorted[i].path);
			goto out;
		}
	}
	rc = hsm_atomic_file_commit(pkg, NULL, err, errlen) == 0 ? 0 : -1;
	pkg = NULL;
out:
	hsm_atomic_file_abort(pkg);
	hsm_npkg_manifest_free(check);
	free(text);
	json_decref(env);
	json_decref(body);
	json_decref(files);
	free(sorted);
	return rc;
}
