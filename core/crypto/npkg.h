/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/npkg.h - firmware packages (.npkg, docs/formats/npkg.md).
 *
 * A package is a header line, a vendor-signed manifest (product,
 * component, version, VSN, and the name, size and SHA-256 of every file)
 * and then the files' bytes, in manifest order.  The signature covers the
 * manifest only, and the manifest covers every payload byte through the
 * digests, so a package is verified in one pass over a stream without
 * holding it: the reader checks the signature as soon as the manifest is
 * in, then hashes each file as its bytes go by and compares the digest at
 * the file's end.  Nothing is trusted until hsm_npkg_reader_finish says so.
 *
 * Users: hsm-vendor (writes), `hsmadmin npkginfo` (inspects offline),
 * `hsmadmin upgrade` (checks before sending) and the device's updater
 * (verifies what it receives before it installs).  In-tree API of
 * libhsmadmin-crypto.
 */
#ifndef HSMADMIN_CRYPTO_NPKG_H
#define HSMADMIN_CRYPTO_NPKG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#define HSM_NPKG_MAGIC "hsmadmin-npkg"
#define HSM_NPKG_FORMAT "hsmadmin-npkg"
#define HSM_NPKG_VERSION 1
/* The product this code's packages and devices are (the emulated nShield 5s). */
#define HSM_NPKG_PRODUCT "nShield5s"
/* Bounds (docs/formats/npkg.md). */
#define HSM_NPKG_MANIFEST_MAX 1048576 /* bytes of signed manifest */
#define HSM_NPKG_FILES_MAX 256
#define HSM_NPKG_NAME_MAX 127               /* characters of a file name */
#define HSM_NPKG_FILE_SIZE_MAX (1ULL << 40) /* bytes of one file */
#define HSM_NPKG_VSN_MAX 1000000
#define HSM_NPKG_VERSION_TEXT_MAX 32 /* "13.7.1" */
/* The bootloader package's one file. */
#define HSM_NPKG_BOOT_FILE "boot.json"

enum hsm_npkg_status {
	HSM_NPKG_OK = 0,
	HSM_NPKG_MALFORMED = -1,       /* not a well-formed package */
	HSM_NPKG_UNKNOWN_VERSION = -2, /* a format version this code does not read */
	HSM_NPKG_UNKNOWN_SIGNER = -3,  /* signed by a key that is not trusted */
	HSM_NPKG_BAD_SIGNATURE = -4,   /* the manifest's signature does not hold */
	HSM_NPKG_DIGEST_MISMATCH = -5, /* a file's bytes differ from the manifest */
	HSM_NPKG_TRUNCATED = -6,       /* the stream ended early */
	HSM_NPKG_PADDED = -7,          /* bytes after the last file */
	HSM_NPKG_REFUSED = -8,         /* a sink callback said no (its reason in err) */
	HSM_NPKG_IO = -9               /* reading or writing failed */
};

enum hsm_npkg_component { HSM_NPKG_PRIMARY = 0, HSM_NPKG_RECOVERY = 1, HSM_NPKG_BOOTLOADER = 2 };

struct hsm_npkg_file {
	char name[HSM_NPKG_NAME_MAX + 1];
	uint64_t size;
	uint8_t sha256[32];
	int digest_ok; /* set once its bytes were hashed and matched */
};

struct hsm_npkg_manifest {
	int version;
	char product[33];
	enum hsm_npkg_component component;
	char firmware_version[HSM_NPKG_VERSION_TEXT_MAX + 1];
	int64_t vsn;       /* primary, recovery: 1..HSM_NPKG_VSN_MAX; bootloader: 0 */
	int revokes_older; /* bootloader: an irreversible upgrade */
	int64_t created;   /* Unix seconds */
	size_t nfiles;
	struct hsm_npkg_file *files;
	uint64_t payload_size; /* sum of the file sizes */
	/* The key the signature names, and what checking it found:
	 * signature_ok (the signature holds for that key) and trusted (the
	 * key is one of the trusted vendor keys). */
	EVP_PKEY *signer;
	int signature_ok, trusted;
	/* The manifest's bytes as in the file (canonical JSON), for storing. */
	char *text;
	size_t text_len;
};

HSM_API const char *hsm_npkg_component_name(enum hsm_npkg_component c);
HSM_API int hsm_npkg_component_parse(const char *text, enum hsm_npkg_component *out);
/* A version text "N.N[.N...]": digits and single dots, 1-32 characters. */
HSM_API int hsm_npkg_version_valid(const char *text);
/* Compare two valid version texts numerically, field by field (<0, 0, >0). */
HSM_API int hsm_npkg_version_cmp(const char *a, const char *b);
/* A status as a short word ("bad signature", "truncated", ...). */
HSM_API const char *hsm_npkg_status_text(int status);

/* --- reading ------------------------------------------------------------- */

/* What the caller does with a package while it streams by.  Every callback
 * is optional; returning non-zero (with a reason in err) stops the reader
 * with HSM_NPKG_REFUSED.  manifest() is called once the manifest parsed and
 * (unless HSM_NPKG_INSPECT) its signature verified against the trusted
 * keys; file_data() gets bytes not yet proven good: they count only after
 * file_end(), which is called once the file's digest matched. */
struct hsm_npkg_sink {
	int (*manifest)(void *ctx, const struct hsm_npkg_manifest *m, char *err, size_t errlen);
	int (*file_begin)(void *ctx, const struct hsm_npkg_file *f, char *err, size_t errlen);
	int (*file_data)(void *ctx, const void *data, size_t len, char *err, size_t errlen);
	int (*file_end)(void *ctx, const struct hsm_npkg_file *f, char *err, size_t errlen);
};

/* Reader flags.  HSM_NPKG_INSPECT: a signature that does not hold or comes
 * from an untrusted key, and a file whose digest does not match, are
 * recorded (signature_ok, trusted, digest_ok) instead of stopping the
 * reader, so that a tool can show what the package says; finish() still
 * returns the first such problem. */
#define HSM_NPKG_INSPECT 0x1u

struct hsm_npkg_reader;

/* trusted: the vendor keys (borrowed; must outlive the reader). */
HSM_API struct hsm_npkg_reader *hsm_npkg_reader_new(EVP_PKEY *const *trusted, size_t ntrusted,
						    unsigned flags,
						    const struct hsm_npkg_sink *sink, void *ctx);
/* Push the next len bytes.  Returns 0 or a negative status with a one-line
 * reason in err; after a failure every call returns that failure. */
HSM_API int hsm_npkg_reader_feed(struct hsm_npkg_reader *r, const void *data, size_t len, char *err,
				 size_t errlen);
/* The stream ended: 0 only when the whole package arrived, verified, with
 * nothing after it. */
HSM_API int hsm_npkg_reader_finish(struct hsm_npkg_reader *r, char *err, size_t errlen);
/* The manifest once parsed (NULL before), owned by the reader. */
HSM_API const struct hsm_npkg_manifest *hsm_npkg_reader_manifest(const struct hsm_npkg_reader *r);
/* Bytes consumed so far. */
HSM_API uint64_t hsm_npkg_reader_offset(const struct hsm_npkg_reader *r);
HSM_API void hsm_npkg_reader_free(struct hsm_npkg_reader *r);

/* Read a whole file through a reader (buffered, never held whole).  err
 * names the file.  Returns the reader's status; the reader stays the
 * caller's to inspect and free. */
HSM_API int hsm_npkg_read_fd(struct hsm_npkg_reader *r, int fd, const char *name, char *err,
			     size_t errlen);

/* Check a package file without reading its payload: the header, the
 * manifest and its signature (as the reader's flags say), and that the
 * file's size is exactly what the manifest's file sizes add up to (else
 * truncated or padded).  The files' digests are NOT checked: for a
 * sender whose receiver verifies every digest as the bytes arrive (hsmd),
 * so the payload is hashed once, not twice.  Returns the reader's status,
 * err naming the file. */
HSM_API int hsm_npkg_check_fd(struct hsm_npkg_reader *r, int fd, const char *name, char *err,
			      size_t errlen);

/* The manifest as JSON for npkginfo --json and the device:
 * {"product","component","version","vsn"(not bootloader),
 * "revokes_older"(bootloader),"created","files":[{"name","size","sha256"}],
 * "payload_size","signer"(fingerprint),"signature_ok","trusted"}. */
HSM_API json_t *hsm_npkg_manifest_json(const struct hsm_npkg_manifest *m);

/* The file name the guide gives a package: "<product>-<component>-
 * <version>-vsnNN.npkg" (bootloader: no -vsnNN).  Into buf. */
HSM_API int hsm_npkg_file_name(const struct hsm_npkg_manifest *m, char *buf, size_t len);

/* Parse the manifest bytes on their own (the stored copy a device keeps
 * of an installed package, and the fuzz target).  No trust decision: sets
 * signature_ok, and trusted against the keys given.  *out is new. */
HSM_API int hsm_npkg_manifest_parse(const void *data, size_t len, EVP_PKEY *const *trusted,
				    size_t ntrusted, struct hsm_npkg_manifest **out, char *err,
				    size_t errlen);
HSM_API void hsm_npkg_manifest_free(struct hsm_npkg_manifest *m);

/* --- writing (hsm-vendor) -------------------------------------------------- */

struct hsm_npkg_source {
	const char *name; /* the name in the package */
	const char *path; /* where the bytes are now */
};

/* Hash the sources, sign the manifest with key and write the package to
 * out atomically (mode 0644).  m supplies product, component,
 * firmware_version, vsn, revokes_older and created; files are sorted by
 * name.  A source that changes while being copied fails the write. */
HSM_API int hsm_npkg_write(const char *out, const struct hsm_npkg_manifest *m,
			   const struct hsm_npkg_source *src, size_t nsrc, EVP_PKEY *key, char *err,
			   size_t errlen);

#endif
