/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/signed-log-files.c - signed log segments as files
 * (docs/formats/signed-log.md): an export received as it streams in,
 * verified on the way and written to a temporary file (hsm_atomic_file)
 * that takes its name only once the whole segment verified; segment files verified
 * offline a piece at a time; and the `logs verify` / `vcm logs verify`
 * command both plugins run.  Memory stays the same whatever the size of a
 * segment.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "signed-log.h"
#include "signed-log-files.h"

#define READ_CHUNK (1024 * 1024)
/* The name an export has until it verified (as EXPORT_TEMP.tmp.XXXXXX in
 * the output directory: hidden, and no segment's name). */
#define EXPORT_TEMP ".hsmadmin-export"

/* ---- an export as it streams in ------------------------------------------ */

struct hsm_slog_receiver {
	struct hsm_slog_verifier *v;
	struct hsm_atomic_file *file; /* or NULL: in memory */
	char *mem;
	size_t mlen, mcap, mmax;
	uint64_t bytes;
	int failed, finished;
	int fail_exit; /* HSM_EXIT_AUTH: it does not verify; HSM_EXIT_FAILED: local */
	char esn[64], log[80];
	char err[768];
};

struct hsm_slog_receiver *hsm_slog_receiver_new(const json_t *keys, EVP_PKEY *signer,
						const char *esn, const char *log, const char *dir,
						size_t mem_max, char *err, size_t errlen)
{
	struct hsm_slog_receiver *r = calloc(1, sizeof(*r));

	if (!r) {
		hsm_set_err(err, errlen, "out of memory");
		return NULL;
	}
	r->mmax = mem_max;
	snprintf(r->esn, sizeof(r->esn), "%s", esn);
	snprintf(r->log, sizeof(r->log), "%s", log);
	if (!(r->v = hsm_slog_export_begin(keys, signer, esn, log, "the export", err, errlen))) {
		free(r);
		return NULL;
	}
	if (dir) {
		char path[PATH_MAX];

		if ((size_t)snprintf(path, sizeof(path), "%s/" EXPORT_TEMP, dir) >= sizeof(path)) {
			hsm_set_err(err, errlen, "%s: path too long", dir);
			hsm_slog_receiver_free(r);
			return NULL;
		}
		/* What an export killed half-way left: never a verified copy. */
		hsm_remove_stale_temps(dir, EXPORT_TEMP);
		if (!(r->file = hsm_atomic_file_open(path, 0600, (gid_t)-1, 0, err, errlen))) {
			hsm_slog_receiver_free(r);
			return NULL;
		}
	}
	return r;
}

static int rfail(struct hsm_slog_receiver *r, int exit, const char *what)
{
	snprintf(r->err, sizeof(r->err), "%s", what);
	r->fail_exit = exit;
	r->failed = 1;
	return -1;
}

int hsm_slog_receiver_push(void *arg, const void *data, size_t len)
{
	struct hsm_slog_receiver *r = arg;
	char why[768];

	if (r->failed || r->finished)
		return -1;
	if (hsm_slog_verifier_push(r->v, data, len, why, sizeof(why)) != 0)
		return rfail(r, HSM_EXIT_AUTH, why);
	r->bytes += len;
	if (r->file) {
		if (hsm_atomic_file_write(r->file, data, len, why, sizeof(why)) != 0)
			return rfail(r, HSM_EXIT_FAILED, why);
		return 0;
	}
	if (r->mlen + len > r->mmax)
		return rfail(r, HSM_EXIT_FAILED,
			     "the segment is too large to be held in memory: "
			     "export it to a directory (--outdir)");
	if (r->mlen + len + 1 > r->mcap) {
		size_t cap = r->mcap ? r->mcap : 65536;
		char *m;
		while (cap < r->mlen + len + 1)
			cap *= 2;
		if (!(m = realloc(r->mem, cap)))
			return rfail(r, HSM_EXIT_FAILED, "out of memory");
		r->mem = m;
		r->mcap = cap;
	}
	memcpy(r->mem + r->mlen, data, len);
	r->mlen += len;
	r->mem[r->mlen] = '\0';
	return 0;
}

json_t *hsm_slog_receiver_finish(struct hsm_slog_receiver *r, const json_t *head, char *err,
				 size_t errlen)
{
	json_t *seg = json_object_get(head, "segment"), *bytes = json_object_get(head, "bytes");
	json_t *sum;

	if (r->failed) {
		hsm_set_err(err, errlen, "%s", r->err);
		return NULL;
	}
	if (r->finished) {
		hsm_set_err(err, errlen, "the export was already finished");
		return NULL;
	}
	r->finished = 1;
	if (!json_is_integer(seg) || json_integer_value(seg) < 1 || !json_is_integer(bytes) ||
	    json_integer_value(bytes) < 0) {
		hsm_set_err(err, errlen, "malformed reply: no segment and bytes");
		return NULL;
	}
	if ((uint64_t)json_integer_value(bytes) != r->bytes) {
		hsm_set_err(err, errlen,
			    "the export was cut short: %" PRIu64 " of %" JSON_INTEGER_FORMAT
			    " bytes arrived",
			    r->bytes, json_integer_value(bytes));
		return NULL;
	}
	sum = hsm_slog_export_finish(r->v, r->esn, r->log, json_integer_value(seg), err, errlen);
	return sum;
}

int hsm_slog_receiver_commit(struct hsm_slog_receiver *r, const char *path, char *err,
			     size_t errlen)
{
	struct hsm_atomic_file *f = r->file;

	if (!r->finished || r->failed || !f)
		return hsm_set_err(err, errlen, "nothing verified to write");
	r->file = NULL;
	return hsm_atomic_file_commit(f, path, err, errlen) == 0 ? 0 : -1;
}

const char *hsm_slog_receiver_error(const struct hsm_slog_receiver *r, int *exit)
{
	if (exit)
		*exit = r->fail_exit;
	return r->failed ? r->err : NULL;
}

json_t *hsm_slog_receiver_end(struct hsm_slog_receiver *r, int call_exit, const json_t *head,
			      int *exit, char *err, size_t errlen)
{
	json_t *sum;

	if (err && errlen)
		err[0] = '\0';
	if (call_exit != 0 && r->failed) {
		*exit = r->fail_exit;
		hsm_set_err(err, errlen, "%s, nothing written: %s",
			    r->fail_exit == HSM_EXIT_AUTH ? "the exported segment does not verify"
							  : "the export was not received",
			    r->err);
		return NULL;
	}
	if (call_exit != 0) {
		*exit = call_exit; /* the call's own failure: the caller reports it */
		return NULL;
	}
	if (!(sum = hsm_slog_receiver_finish(r, head, err, errlen))) {
		char why[640];

		snprintf(why, sizeof(why), "%s", err ? err : "");
		*exit = HSM_EXIT_AUTH;
		hsm_set_err(err, errlen,
			    "the exported segment does not verify, nothing written: %s", why);
	}
	return sum;
}

json_t *hsm_slog_export_report(const json_t *sum, json_int_t segment, int saved)
{
	json_t *s0 = json_array_get(json_object_get(sum, "segments"), 0);

	return json_pack("{s:I, s:O, s:O, s:O, s:b, s:b}", "segment", segment, "first_seq",
			 json_object_get(s0, "first_seq"), "last_seq",
			 json_object_get(s0, "last_seq"), "entries", json_object_get(s0, "entries"),
			 "verified", 1, "saved", saved);
}

int hsm_slog_export_check(struct hsm_ctx *ctx)
{
	const char *outdir = hsm_opt_str(ctx, "outdir");
	struct stat sb;

	if (outdir && hsm_json_mode(ctx))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--outdir",
				 "give either --json or --outdir, not both");
	if (outdir && (stat(outdir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--outdir", "%s is not an existing directory",
				 outdir);
	if (hsm_opt_given(ctx, "seq") && !hsm_opt_given(ctx, "saved"))
		return hsm_error(ctx, HSM_EXIT_USAGE, "--seq",
				 "--seq picks a saved segment: give --saved too");
	return 0;
}

json_t *hsm_slog_export_params(struct hsm_ctx *ctx, const char *expire_cmd)
{
	json_t *params = json_pack("{s:b, s:b}", "saved", hsm_opt_given(ctx, "saved"), "stream", 1);

	if (hsm_opt_given(ctx, "expire"))
		hsm_warn(ctx,
			 "--expire is not recommended: if anything fails between export and "
			 "expiry the segment is lost; export, keep the file, then run %s",
			 expire_cmd);
	if (params && hsm_opt_given(ctx, "seq"))
		json_object_set_new(params, "segment", json_integer(hsm_opt_int(ctx, "seq")));
	return params;
}

int hsm_slog_key_file_write(const json_t *doc, const char *path, char *err, size_t errlen)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return hsm_set_err(err, errlen, "out of memory");
	rc = hsm_write_file_atomic(path, text, strlen(text), 0644, err, errlen);
	free(text);
	return rc;
}

const char *hsm_slog_receiver_path(const struct hsm_slog_receiver *r)
{
	return r->file ? hsm_atomic_file_temp(r->file) : NULL;
}

const char *hsm_slog_receiver_text(const struct hsm_slog_receiver *r, size_t *len)
{
	*len = r->mlen;
	return r->mem ? r->mem : "";
}

void hsm_slog_receiver_free(struct hsm_slog_receiver *r)
{
	if (!r)
		return;
	hsm_atomic_file_abort(r->file); /* never leave an unverified copy behind */
	hsm_slog_verifier_free(r->v);
	free(r->mem);
	free(r);
}

/* ---- segment files ------------------------------------------------------- */

int hsm_slog_verifier_feed_file(struct hsm_slog_verifier *v, const char *path, char *err,
				size_t errlen)
{
	char *buf = malloc(READ_CHUNK);
	int fd, rc = 0;

	if (!buf)
		return hsm_set_err(err, errlen, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (hsm_slog_verifier_begin(v, path, err, errlen) != 0)
		rc = -1;
	while (rc == 0) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0) {
			rc = hsm_slog_verifier_end(v, err, errlen);
			break;
		}
		rc = hsm_slog_verifier_push(v, buf, (size_t)n, err, errlen);
	}
	close(fd);
	free(buf);
	return rc;
}

int64_t hsm_slog_file_segment(const char *path)
{
	char *buf = malloc(HSM_SLOG_MAX_FRAME);
	size_t len = 0, pos = 0, jlen;
	const char *json;
	int64_t seg = 0;
	char err[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	json_t *e;

	while (fd >= 0 && buf && len < HSM_SLOG_MAX_FRAME) {
		ssize_t n = read(fd, buf + len, HSM_SLOG_MAX_FRAME - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	if (buf && hsm_slog_next_frame(buf, len, &pos, &json, &jlen) == 1 &&
	    (e = hsm_slog_entry_parse(json, jlen, err, sizeof(err)))) {
		seg = json_integer_value(json_object_get(e, "seg"));
		json_decref(e);
	}
	free(buf);
	return seg;
}

/* ---- the verify command ---------------------------------------------------- */

struct vfile {
	const char *name;
	int64_t seg;
};

static int cmp_vfile(const void *a, const void *b)
{
	const struct vfile *x = a, *y = b;
	return x->seg < y->seg ? -1 : x->seg > y->seg;
}

static void print_summary(struct hsm_ctx *ctx, const json_t *sum, size_t n, int anchored)
{
	size_t i;
	json_t *s;

	json_array_foreach(json_object_get(sum, "segments"), i, s)
	    hsm_printf(ctx,
		       "segment %" JSON_INTEGER_FORMAT ": entries %" JSON_INTEGER_FORMAT
		       "-%" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT " checkpoints: OK\n",
		       json_integer_value(json_object_get(s, "segment")),
		       json_integer_value(json_object_get(s, "first_seq")),
		       json_integer_value(json_object_get(s, "last_seq")),
		       json_integer_value(json_object_get(s, "checkpoints")));
	hsm_printf(ctx, "%s %s: %zu segment(s) verified%s\n",
		   json_string_value(json_object_get(sum, "esn")),
		   json_string_value(json_object_get(sum, "log")), n,
		   anchored ? " against the given keys" : " (NOT anchored to a given key)");
}

int hsm_slog_verify_command(struct hsm_ctx *ctx, const char *getkey)
{
	size_t n = hsm_opt_count(ctx, "FILE");
	const char *keyfile = hsm_opt_str(ctx, "key");
	struct vfile *files = calloc(n ? n : 1, sizeof(*files));
	struct hsm_slog_verifier *v = hsm_slog_verifier_new();
	char err[1024];
	json_t *sum;
	int rc = 0;

	if (!files || !v) {
		free(files);
		hsm_slog_verifier_free(v);
		return hsm_error(ctx, HSM_EXIT_FAILED, "verify", "out of memory");
	}
	if (keyfile) {
		char *buf;
		size_t len;
		if (hsm_read_file(keyfile, 1 << 20, &buf, &len, err, sizeof(err)) != 0) {
			rc = hsm_error(ctx, HSM_EXIT_USAGE, "--key", "%s", err);
			goto out;
		}
		if (hsm_slog_verifier_pin_file(v, buf, len, err, sizeof(err)) != 0) {
			free(buf);
			rc = hsm_error(ctx, HSM_EXIT_USAGE, keyfile, "%s", err);
			goto out;
		}
		free(buf);
	}
	for (size_t i = 0; i < n; i++) {
		files[i].name = hsm_opt_str_at(ctx, "FILE", i);
		if (access(files[i].name, R_OK) != 0) {
			rc = hsm_error(ctx, HSM_EXIT_USAGE, files[i].name, "%s", strerror(errno));
			goto out;
		}
		files[i].seg = hsm_slog_file_segment(files[i].name);
	}
	qsort(files, n, sizeof(*files), cmp_vfile);
	for (size_t i = 0; i < n; i++)
		if (hsm_slog_verifier_feed_file(v, files[i].name, err, sizeof(err)) != 0) {
			if (hsm_json_mode(ctx))
				json_object_update_new(
				    hsm_json(ctx),
				    json_pack("{s:b, s:s}", "verified", 0, "error", err));
			rc = hsm_error(ctx, HSM_EXIT_AUTH, "verification failed", "%s", err);
			goto out;
		}
	sum = hsm_slog_verifier_summary(v);
	json_object_set_new(sum, "verified", json_true());
	if (!hsm_slog_verifier_anchored(v) && keyfile)
		hsm_warn(ctx, "a checkpoint is signed by a key the key file does not give: the "
			      "segments are consistent but not proven to come from the device");
	else if (!hsm_slog_verifier_anchored(v))
		hsm_warn(ctx,
			 "no --key given: the segments are consistent with the keys they announce, "
			 "which proves nothing about who wrote them (give --key from %s)",
			 getkey);
	if (hsm_json_mode(ctx))
		json_object_update(hsm_json(ctx), sum);
	else
		print_summary(ctx, sum, n, hsm_slog_verifier_anchored(v));
	json_decref(sum);
out:
	free(files);
	hsm_slog_verifier_free(v);
	return rc;
}
