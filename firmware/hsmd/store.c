/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c - the device state store (see store.h for the transaction rule).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <openssl/pem.h>
#include <hsmadmin/fileio.h>
#include "button.h"
#include "docstore.h"
#include "images.h"
#include "sign.h"
#include "store.h"

#define EMU_ACCEL_DEFAULT "ecc"

static int default_interlock(const struct hd_store *st)
{
	return json_is_true(
	    json_object_get(json_object_get(st->device, "emulation"), "ncoreapi_operational"));
}
int (*hd_interlock_hook)(const struct hd_store *st) = default_interlock;
void (*hd_commit_hook)(struct hd_store *st);

static void path_of(const struct hd_store *st, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", st->dir, name);
}

int hd_store_lock(const char *dir, char *err, size_t errlen)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return hsm_set_err(err, errlen, "%s is in use by another hsmd", dir);
		return hsm_set_err(err, errlen, "%s: lock: %s", path, strerror(e));
	}
	return fd;
}

/* ---- keys ------------------------------------------------------------- */

static char *pem_private(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (!bio)
		return NULL;
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0 && (out = malloc((size_t)n + 1))) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(bio);
	return out;
}

/* A new host key: the private key in OpenSSH format (loads fast into
 * libssh) and its public line. */
static int new_host_key(char **priv, char **pub)
{
	ssh_key key = NULL;
	char *b64 = NULL, *p = NULL;
	int rc = -1;

	*priv = *pub = NULL;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
		return -1;
	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &p) == SSH_OK &&
	    ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK &&
	    asprintf(pub, "ssh-ed25519 %s", b64) > 0) {
		*priv = strdup(p);
		rc = *priv ? 0 : -1;
	}
	if (p) {
		explicit_bzero(p, strlen(p));
		ssh_string_free_char(p);
	}
	ssh_string_free_char(b64);
	ssh_key_free(key);
	return rc;
}

/* The log's name in its entries: "system" for an HSM, "vcm/UUID" for a
 * VCM (its warrant names it), so that one log's segments never pass for
 * another's. */
static void log_name_of(const json_t *lifetime, char *buf, size_t len)
{
	const char *vcm = json_string_value(
	    json_object_get(json_object_get(json_object_get(lifetime, "warrant"), "body"), "vcm"));

	if (vcm)
		snprintf(buf, len, "vcm/%s", vcm);
	else
		snprintf(buf, len, "system");
}

/* A verification key record {"epoch","since","key","certificate"}, the
 * certificate signed by the identity key over
 * {"esn","log","epoch","since","key","issued"}. */
static json_t *log_key_record(const json_t *lifetime, EVP_PKEY *identity, EVP_PKEY *logkey,
			      int64_t epoch, int64_t since, int64_t now, char *err, size_t errlen)
{
	char name[64], *line = hsm_key_to_openssh(logkey);
	json_t *body, *cert, *rec = NULL;

	if (!line) {
		hsm_set_err(err, errlen, "the log key is unreadable");
		return NULL;
	}
	log_name_of(lifetime, name, sizeof(name));
	body = json_pack("{s:O, s:s, s:I, s:I, s:s, s:I}", "esn", json_object_get(lifetime, "esn"),
			 "log", name, "epoch", (json_int_t)epoch, "since", (json_int_t)since, "key",
			 line, "issued", (json_int_t)now);
	cert = body ? hsm_signed_wrap(body, identity, err, errlen) : NULL;
	json_decref(body);
	if (cert)
		rec = json_pack("{s:I, s:I, s:s, s:o}", "epoch", (json_int_t)epoch, "since",
				(json_int_t)since, "key", line, "certificate", cert);
	free(line);
	return rec;
}

/* The log signing key of a device document (a new reference). */
static EVP_PKEY *doc_log_key(const json_t *doc)
{
	const char *pem = json_string_value(json_object_get(json_object_get(doc, "log"), "key"));
	BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return key;
}

json_t *hd_device_fresh(const json_t *lifetime, EVP_PKEY *identity, const json_t *prev,
			int64_t host_now, char *err, size_t errlen)
{
	const char *esn = json_string_value(json_object_get(lifetime, "esn"));
	json_t *doc, *host_keys = json_object(), *certs = json_object();
	json_t *prev_log = json_object_get(prev, "log");
	json_t *clock, *firmware, *emulation;
	EVP_PKEY *logkey;
	char *logpem, inner[256];
	json_int_t next_seq = 1, segment = 1, min_vsn = 1, epoch = 1;
	json_t *keys = NULL;

	for (size_t i = 0; i < hd_known_service_count; i++) {
		const char *svc = hd_known_services[i].name;
		char *priv, *pub;
		json_t *body, *cert;

		if (new_host_key(&priv, &pub) != 0) {
			json_decref(host_keys);
			json_decref(certs);
			hsm_set_err(err, errlen, "cannot generate a host key for %s", svc);
			return NULL;
		}
		body = json_pack("{s:s, s:s, s:s, s:I}", "esn", esn, "service", svc, "host_key",
				 pub, "issued", (json_int_t)host_now);
		cert = hsm_signed_wrap(body, identity, inner, sizeof(inner));
		json_decref(body);
		json_object_set_new(host_keys, svc, json_string(priv));
		explicit_bzero(priv, strlen(priv));
		free(priv);
		free(pub);
		if (!cert) {
			json_decref(host_keys);
			json_decref(certs);
			hsm_set_err(err, errlen, "cannot certify the %s host key: %s", svc, inner);
			return NULL;
		}
		json_object_set_new(certs, svc, cert);
	}
	logkey = hsm_ed25519_generate(inner, sizeof(inner));
	logpem = logkey ? pem_private(logkey) : NULL;
	if (prev) {
		/* Factory state: the caller records the new key's epoch once it
		 * knows where the epoch begins (hd_store_factory_state). */
		epoch = json_integer_value(json_object_get(prev_log, "epoch"));
		epoch = (epoch ? epoch : 1) + 1;
		keys = json_deep_copy(json_object_get(prev_log, "keys"));
		if (!keys)
			keys = json_array();
	} else if (logkey) {
		json_t *rec = log_key_record(lifetime, identity, logkey, 1, 1, host_now, inner,
					     sizeof(inner));
		keys = json_array();
		if (!rec) {
			free(logpem);
			logpem = NULL;
		}
		json_array_append_new(keys, rec);
	}
	EVP_PKEY_free(logkey);
	if (!logpem) {
		json_decref(host_keys);
		json_decref(certs);
		json_decref(keys);
		hsm_set_err(err, errlen, "cannot generate the log signing key");
		return NULL;
	}
	if (prev) {
		struct hd_clock clk;
		next_seq = json_integer_value(json_object_get(prev_log, "next_seq"));
		segment = json_integer_value(json_object_get(prev_log, "segment"));
		min_vsn = json_integer_value(json_object_get(prev, "min_vsn"));
		firmware = json_deep_copy(json_object_get(prev, "firmware"));
		emulation = json_deep_copy(json_object_get(prev, "emulation"));
		/* The clock keeps running (a slew in progress stops); the
		 * saved time is erased (guide 4.2.4.1). */
		hd_clock_get(prev, &clk);
		clock = json_pack("{s:I, s:n, s:b, s:n}", "offset", (json_int_t)clk.offset,
				  "last_set", "lost", clk.lost, "slew");
	} else {
		/* The development image's versions until a package is
		 * installed (images.c); boot.c keeps this in step. */
		json_t *dev = hd_images_development();
		firmware = hd_images_firmware(dev);
		json_decref(dev);
		emulation = json_pack("{s:b}", "ncoreapi_operational", 0);
		clock =
		    json_pack("{s:i, s:n, s:b, s:n}", "offset", 0, "last_set", "lost", 0, "slew");
	}
	doc = json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:o, s:{s:s, s:n}, "
			"s:{s:I, s:I, s:s, s:b, s:n, s:I, s:I, s:o}, s:o, s:o}",
			"version", HD_DOC_VERSION, "state", "factory", "mode", "operational",
			"host_keys", host_keys, "certificates", certs, "client_keys", json_object(),
			"clock", clock, "min_vsn", min_vsn, "firmware", firmware, "acceleration",
			"selected", EMU_ACCEL_DEFAULT, "pending", "log", "next_seq", next_seq,
			"segment", segment, "key", logpem, "critical",
			prev ? json_is_true(json_object_get(prev_log, "critical")) : 0, "pending",
			"epoch", epoch, "since",
			json_integer_value(json_object_get(prev_log, "since")) > 0
			    ? json_integer_value(json_object_get(prev_log, "since"))
			    : (json_int_t)1,
			"keys", keys, "emulation", emulation, "services", json_object());
	explicit_bzero(logpem, strlen(logpem));
	free(logpem);
	if (!doc)
		hsm_set_err(err, errlen, "out of memory");
	return doc;
}

/* ---- the view --------------------------------------------------------- */

/* Forget the index of the device's registry (a commit that did not say
 * which VCMs it changed); the next commit that does builds it again, so
 * neither the start-up nor hsmd's own commits pay for it. */
static void drop_index(struct hd_store *st)
{
	if (st->vcm_index_ok)
		fw_vcms_index_free(&st->vcm_index);
	st->vcm_index_ok = 0;
}

static void index_registry(struct hd_store *st)
{
	drop_index(st);
	st->vcm_index_ok =
	    fw_vcms_index_build(&st->vcm_index, json_object_get(st->device, "vcms")) == 0;
}

/* The view shares every member but the secret ones with the device:
 * neither is ever changed in place (a commit replaces the device, and
 * services change copies), so copying the whole registry at every commit,
 * which grew with the number of VCMs, is not needed. */
static void rebuild_view(struct hd_store *st)
{
	json_t *view = json_copy(st->device);
	json_t *log = json_copy(json_object_get(st->device, "log"));

	json_object_del(view, "host_keys");
	json_object_del(log, "key");
	json_object_del(log, "pending");
	json_object_set_new(view, "log", log);
	json_decref(st->view);
	st->view = view;
}

/* ---- logs ------------------------------------------------------------- */

/* Open the signed system log.  A state written before its entry could be
 * (provisioning, a new VCM) carries it in log.pending: it is appended now
 * and the state written again without it. */
static int open_system_log(struct hd_store *st, char *err, size_t errlen)
{
	json_t *log = json_object_get(st->device, "log"),
	       *pending = json_object_get(log, "pending");
	json_t *problems = json_array();
	EVP_PKEY *key = doc_log_key(st->device);
	json_int_t committed = json_integer_value(json_object_get(log, "next_seq"));
	json_int_t epoch = json_integer_value(json_object_get(log, "epoch"));
	json_int_t since = json_integer_value(json_object_get(log, "since"));
	int64_t now = hd_store_now(st);
	char name[64];
	int rc;

	if (!key) {
		json_decref(problems);
		return hsm_set_err(err, errlen, "device.json: the log key is unreadable");
	}
	if (json_is_object(pending))
		committed = json_integer_value(json_object_get(pending, "seq"));
	log_name_of(st->lifetime, name, sizeof(name));
	rc = hd_slog_open(&st->slog, st->dir, "system",
			  json_string_value(json_object_get(st->lifetime, "esn")), name, key,
			  epoch ? epoch : 1, since ? since : 1, st->cfg->log_checkpoint_every,
			  committed, json_integer_value(json_object_get(log, "segment")), problems,
			  now < 0 ? 0 : now, err, errlen);
	EVP_PKEY_free(key);
	json_decref(problems);
	if (rc != 0)
		return -1;
	st->slog_open = 1;
	if (json_is_object(pending) &&
	    json_integer_value(json_object_get(pending, "seq")) > st->slog.found_last_seq &&
	    hd_slog_append(&st->slog, json_integer_value(json_object_get(pending, "time")),
			   json_string_value(json_object_get(pending, "event")),
			   json_deep_copy(json_object_get(pending, "detail")), err, errlen) != 0)
		return -1;
	if (json_is_object(pending) ||
	    json_integer_value(json_object_get(log, "next_seq")) != hd_slog_next_seq(&st->slog) ||
	    json_integer_value(json_object_get(log, "segment")) != st->slog.segment) {
		json_t *doc = json_deep_copy(st->device);
		json_t *dl = json_object_get(doc, "log");
		json_object_set_new(dl, "pending", json_null());
		json_object_set_new(dl, "next_seq", json_integer(hd_slog_next_seq(&st->slog)));
		json_object_set_new(dl, "segment", json_integer(st->slog.segment));
		if (hd_store_commit(st, doc, NULL, NULL, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static json_t *read_log(const char *path, size_t *bytes, int repair, char *err, size_t errlen)
{
	char *text = NULL, inner[HD_ERRLEN];
	size_t len = 0, good = 0;
	struct stat sb;
	json_t *entries;

	if (lstat(path, &sb) != 0 && errno == ENOENT) {
		*bytes = 0;
		return json_array();
	}
	if (hsm_read_file(path, 1u << 30, &text, &len, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "%s", inner);
		return NULL;
	}
	entries = hd_log_parse(text, len, &good, inner, sizeof(inner));
	free(text);
	if (!entries) {
		hsm_set_err(err, errlen, "%s: %s", path, inner);
		return NULL;
	}
	if (good != len && repair) {
		/* A write cut short by a crash: drop the partial line. */
		if (truncate(path, (off_t)good) != 0) {
			json_decref(entries);
			hsm_set_err(err, errlen, "%s: truncate: %s", path, strerror(errno));
			return NULL;
		}
		hd_log("%s: dropped %zu bytes of a partial entry", path, len - good);
	}
	*bytes = good;
	return entries;
}

/* ---- open ------------------------------------------------------------- */

int hd_store_open(struct hd_store *st, const char *dir, const struct hd_config *cfg, char *err,
		  size_t errlen)
{
	char path[4200], inner[HD_ERRLEN];
	json_t *entries;
	size_t bytes;

	memset(st, 0, sizeof(*st));
	st->lockfd = -1;
	st->cfg = cfg;
	if (strlen(dir) >= sizeof(st->dir) - 32)
		return hsm_set_err(err, errlen, "%s: path too long", dir);
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	path_of(st, "lifetime.json", path, sizeof(path));
	if (access(path, F_OK) != 0)
		return hsm_set_err(
		    err, errlen, "%s: not a provisioned HSM (no lifetime.json; run hsmd provision)",
		    dir);
	st->lockfd = hd_store_lock(dir, err, errlen);
	if (st->lockfd < 0)
		return -1;
	st->lifetime = hsm_json_load_file(path, HD_DOC_MAX, inner, sizeof(inner));
	if (!st->lifetime)
		goto fail_inner;
	if (hd_lifetime_validate(st->lifetime, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "%s: %s", path, inner);
		goto fail;
	}
	path_of(st, "identity.pem", path, sizeof(path));
	st->identity = hsm_key_load_private(path, inner, sizeof(inner));
	if (!st->identity)
		goto fail_inner;
	{
		char *pub = hsm_key_to_openssh(st->identity);
		int same = pub && strcmp(pub, json_string_value(json_object_get(
						  st->lifetime, "identity_key"))) == 0;
		free(pub);
		if (!same) {
			hsm_set_err(err, errlen, "%s: does not match identity_key in lifetime.json",
				    path);
			goto fail;
		}
	}
	/* Finish a commit a crash interrupted, drop temporary copies of
	 * secrets, then read the device and its registry documents. */
	if (hd_docstore_recover(dir, inner, sizeof(inner)) != 0)
		goto fail_inner;
	path_of(st, "device.json", path, sizeof(path));
	st->device = hd_docstore_load(dir, inner, sizeof(inner));
	if (!st->device)
		goto fail_inner;
	if (hd_device_validate(st->device, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "%s: %s", path, inner);
		goto fail;
	}
	rebuild_view(st);
	if (open_system_log(st, err, errlen) != 0)
		goto fail;
	path_of(st, "init.log", path, sizeof(path));
	entries = read_log(path, &bytes, 0, inner, sizeof(inner));
	st->init_bytes = entries ? bytes : 0;
	json_decref(entries);
	st->init_log = json_array();
	st->boot_time = hd_host_time();
	rebuild_view(st);
	return 0;
fail_inner:
	hsm_set_err(err, errlen, "%s", inner);
fail:
	hd_store_close(st);
	return -1;
}

void hd_store_close(struct hd_store *st)
{
	json_decref(st->lifetime);
	json_decref(st->device);
	json_decref(st->view);
	json_decref(st->init_log);
	drop_index(st);
	EVP_PKEY_free(st->identity);
	if (st->slog_open)
		hd_slog_close(&st->slog);
	if (st->lockfd >= 0)
		close(st->lockfd);
	memset(st, 0, sizeof(*st));
	st->lockfd = -1;
}

/* ---- transactions ----------------------------------------------------- */

int64_t hd_store_now(const struct hd_store *st)
{
	struct hd_clock clk;

	hd_clock_get(st->device, &clk);
	return hd_clock_now(&clk, hd_host_time(), st->cfg->slew_per_day);
}

/* One transaction: the entry (and, at factory state, the key change)
 * durable in the log first, then device.json; a failure of either leaves
 * the old state and cuts the entries off again. */
static int commit_logged(struct hd_store *st, json_t *doc, const char *event, json_t *detail,
			 EVP_PKEY *newkey, const json_t *changed, char *err, size_t errlen)
{
	json_t *log = json_object_get(doc, "log");
	char inner[HD_ERRLEN];
	struct hd_slog_mark mark;
	int64_t t = 0;
	int rc, stale;

	if (!json_is_object(log)) {
		json_decref(doc);
		json_decref(detail);
		return hsm_set_err(err, errlen, "internal: device document without log");
	}
	if (event) {
		struct hd_clock clk;

		if (hd_slog_ready(&st->slog, hd_store_now(st), inner, sizeof(inner)) != 0) {
			json_decref(doc);
			json_decref(detail);
			return hsm_set_err(err, errlen,
					   "cannot record the change in the system log: %s", inner);
		}
		hd_clock_get(doc, &clk);
		t = hd_clock_now(&clk, hd_host_time(), st->cfg->slew_per_day);
		json_object_set_new(log, "pending", json_null());
		json_object_set_new(log, "next_seq", json_integer(hd_slog_next_seq(&st->slog) + 1));
	}
	/* The clock's high-water mark: every commit records the highest device
	 * time seen, before and after this change (a settime back included). */
	{
		struct hd_clock was, next;
		int64_t host = hd_host_time(), seen;
		hd_clock_get(st->device, &was);
		hd_clock_get(doc, &next);
		seen = hd_clock_now(&was, host, st->cfg->slew_per_day);
		if (seen > next.high_water)
			next.high_water = seen;
		if (was.high_water > next.high_water)
			next.high_water = was.high_water;
		seen = hd_clock_now(&next, host, st->cfg->slew_per_day);
		if (seen > next.high_water)
			next.high_water = seen;
		if (json_is_object(json_object_get(doc, "clock")))
			json_object_set_new(
			    json_object_get(doc, "clock"), "high_water",
			    json_integer(next.high_water < 0 ? 0 : next.high_water));
	}
	/* A commit that names its changed VCMs checks them alone. */
	if (changed && !st->vcm_index_ok)
		index_registry(st);
	if (changed && st->vcm_index_ok)
		rc = hd_device_validate_change(doc, st->device, changed, &st->vcm_index, inner,
					       sizeof(inner));
	else
		rc = hd_device_validate_since(doc, st->device, inner, sizeof(inner));
	if (rc != 0) {
		json_decref(doc);
		json_decref(detail);
		return hsm_set_err(err, errlen, "refusing to store an invalid device state: %s",
				   inner);
	}
	hd_slog_mark(&st->slog, &mark);
	if (event) {
		if (hd_slog_append(&st->slog, t, event, detail, inner, sizeof(inner)) != 0) {
			json_decref(doc);
			return hsm_set_err(err, errlen,
					   "cannot record the change in the system log: %s", inner);
		}
		if (newkey && hd_slog_change_key(&st->slog, t, newkey, inner, sizeof(inner)) != 0) {
			hd_slog_rollback(&st->slog, &mark);
			json_decref(doc);
			return hsm_set_err(err, errlen, "cannot record the new log key: %s", inner);
		}
		json_object_set_new(log, "next_seq", json_integer(hd_slog_next_seq(&st->slog)));
		json_object_set_new(log, "segment", json_integer(st->slog.segment));
	} else {
		json_decref(detail);
	}
	rc = hd_docstore_commit_changes(st->dir, st->device, doc, changed, inner, sizeof(inner));
	if (rc < 0) {
		if (event && hd_slog_rollback(&st->slog, &mark) != 0)
			hd_log("system log: cannot cut off the entry of a failed change yet "
			       "(the next write or start does)");
		json_decref(doc);
		return hsm_set_err(err, errlen, "%s", inner);
	}
	if (rc > 0)
		/* Committed: the journal finishes it at the next commit or start. */
		hd_log("state: %s (the change stands)", inner);
	stale = !changed || !st->vcm_index_ok ||
		fw_vcms_index_update(&st->vcm_index, json_object_get(st->device, "vcms"),
				     json_object_get(doc, "vcms"), changed) != 0;
	json_decref(st->device);
	st->device = doc;
	if (stale)
		drop_index(st);
	st->generation++;
	rebuild_view(st);
	if (event && hd_slog_checkpoint_due(&st->slog, t, inner, sizeof(inner)) != 0)
		/* The change and its entry are durable; the next append
		 * retries the checkpoint. */
		hd_log("system log: checkpoint: %s", inner);
	if (hd_commit_hook)
		hd_commit_hook(st);
	return 0;
}

int hd_store_commit(struct hd_store *st, json_t *doc, const char *event, json_t *detail, char *err,
		    size_t errlen)
{
	return commit_logged(st, doc, event, detail, NULL, NULL, err, errlen);
}

/* What a service may change.  Everything else (keys, certificates, log
 * state, firmware, emulation) belongs to hsmd. */
static const char *const service_members[] = {
	"state",        "mode",     "client_keys", "clock",       "min_vsn",
	"acceleration", "services", "licence",     "vcm_network", /* setup: fet, setnetwork */
	"vcms", /* orchestrator: the VCM registry */
};

/* VCM entries a service did not change (its copy equals the device's) are
 * the device's own objects again: the commit then checks and writes only
 * the entries that changed (hd_device_validate_since, docstore.c). */
static void share_unchanged(json_t *doc, const json_t *device)
{
	json_t *nv = json_object_get(doc, "vcms"), *e;
	const json_t *pv = json_object_get(device, "vcms");
	const char *uuid;

	if (!json_is_object(nv) || nv == pv)
		return;
	json_object_foreach(nv, uuid, e)
	{
		json_t *old = json_object_get(pv, uuid);
		if (old && old != e && json_equal(e, old))
			json_object_set(nv, uuid, old);
	}
}

int hd_store_commit_view(struct hd_store *st, json_t *view_doc, const char *event, json_t *detail,
			 char *err, size_t errlen)
{
	json_t *doc;

	if (!json_is_object(view_doc)) {
		json_decref(view_doc);
		json_decref(detail);
		return hsm_set_err(err, errlen, "internal: commit without a document");
	}
	/* hsmd's members as they are (shared with the device, which is never
	 * changed in place), the service's from its copy; the members the
	 * commit changes in place are the new document's own. */
	doc = json_copy(st->device);
	for (size_t i = 0; i < sizeof(service_members) / sizeof(service_members[0]); i++) {
		json_t *v = json_object_get(view_doc, service_members[i]);
		if (v)
			json_object_set(doc, service_members[i], v);
	}
	json_decref(view_doc);
	share_unchanged(doc, st->device);
	json_object_set_new(doc, "log", json_deep_copy(json_object_get(doc, "log")));
	json_object_set_new(doc, "clock", json_deep_copy(json_object_get(doc, "clock")));
	return hd_store_commit(st, doc, event, detail, err, errlen);
}

json_t *hd_store_begin(const struct hd_store *st)
{
	json_t *top = json_copy(st->view), *doc;

	if (!top)
		return NULL;
	json_object_del(top, "vcms");
	doc = json_deep_copy(top);
	json_decref(top);
	if (doc)
		json_object_set_new(doc, "vcms", json_object());
	return doc;
}

int hd_store_commit_changes(struct hd_store *st, json_t *view_doc, const char *event,
			    json_t *detail, char *err, size_t errlen)
{
	json_t *doc, *changes, *registry = NULL, *v;
	const json_t *was = json_object_get(st->device, "vcms");
	const char *uuid;
	int rc;

	changes = json_object_get(view_doc, "vcms");
	if (!json_is_object(view_doc) || (changes && !json_is_object(changes))) {
		json_decref(view_doc);
		json_decref(detail);
		return hsm_set_err(err, errlen, "internal: commit without a document of changes");
	}
	changes = changes ? json_incref(changes) : json_object();
	/* The registry as it stands with the changes applied: its entries are
	 * the device's own objects (never changed in place) but for those. */
	if (json_object_size(changes)) {
		registry = was ? json_copy((json_t *)was) : json_object();
		json_object_foreach(changes, uuid, v)
		{
			if (json_is_null(v))
				json_object_del(registry, uuid);
			else
				json_object_set(registry, uuid, v);
		}
	}
	/* The service's other members; the registry is set after them. */
	json_object_del(view_doc, "vcms");
	doc = json_copy(st->device);
	for (size_t i = 0; i < sizeof(service_members) / sizeof(service_members[0]); i++) {
		json_t *m = json_object_get(view_doc, service_members[i]);
		if (m && strcmp(service_members[i], "vcms") != 0)
			json_object_set(doc, service_members[i], m);
	}
	json_decref(view_doc);
	if (registry) {
		if (json_object_size(registry))
			json_object_set_new(doc, "vcms", registry);
		else {
			json_object_del(doc, "vcms");
			json_decref(registry);
		}
	}
	json_object_set_new(doc, "log", json_deep_copy(json_object_get(doc, "log")));
	json_object_set_new(doc, "clock", json_deep_copy(json_object_get(doc, "clock")));
	rc = commit_logged(st, doc, event, detail, NULL, changes, err, errlen);
	json_decref(changes);
	return rc;
}

static void apply_reboot(struct hd_store *st, json_t *doc)
{
	json_t *accel = json_object_get(doc, "acceleration");
	json_t *pending = json_object_get(accel, "pending");
	json_t *log = json_object_get(doc, "log");

	if (json_is_string(pending)) {
		json_object_set(accel, "selected", pending);
		json_object_set_new(accel, "pending", json_null());
	}
	/* A VCM network set with setnetwork takes effect now (guide 4.10.1.18). */
	{
		json_t *net = json_object_get(doc, "vcm_network");
		json_t *next = json_object_get(net, "pending");
		if (json_is_object(next)) {
			json_object_set(net, "current", next);
			json_object_set_new(net, "pending", json_null());
		}
	}
	json_object_set_new(doc, "mode", json_string("operational"));
	if (json_is_true(json_object_get(log, "critical")) &&
	    hd_log_level_of(hd_store_log_used(st), st->cfg->log_capacity, st->cfg->log_safe_percent,
			    st->cfg->log_critical_percent) < HD_LOG_CRITICAL)
		json_object_set_new(log, "critical", json_false());
}

static void booted(struct hd_store *st, const char *why)
{
	st->boot_time = hd_host_time();
	hd_store_init_reset(st);
	hd_store_init_add(st, "boot",
			  json_pack("{s:s, s:s}", "reason", why, "image", hd_store_image(st)));
	hd_store_init_add(st, "boot_complete", json_object());
}

/* ---- images: primary and recovery (guide 4.5.4) ------------------------ */

const char *hd_store_image(const struct hd_store *st)
{
	const char *s = json_string_value(json_object_get(st->device, "image"));

	return s ? s : "primary";
}

/* The image the boot about to happen runs: the recovery image while the
 * recovery button is held (button.h). */
static const char *next_image(const struct hd_store *st)
{
	return hd_button_held(st->dir, hd_host_time()) ? "recovery" : "primary";
}

/* Mark a fresh document with its image.  The recovery image makes no
 * certificates for the host keys (guide 4.5.4.1): enrollment pins them
 * on the HSM's word alone and says so. */
static void set_image(json_t *doc, const char *image)
{
	if (strcmp(image, "recovery") == 0) {
		json_object_set_new(doc, "image", json_string("recovery"));
		json_object_clear(json_object_get(doc, "certificates"));
	} else {
		json_object_del(doc, "image");
	}
}

/* Factory state (guide 4.5.3), also on entering and leaving recovery
 * mode: a fresh document keeping what must survive, and a new log key.
 * The key's epoch begins at its log_key entry, right after the change's
 * entry, which names the key (guide 4.12.4.4); the old key signs the
 * transition.  One commit, logged as event (steals detail). */
static int fresh_state(struct hd_store *st, const char *image, const char *event, json_t *detail,
		       char *err, size_t errlen)
{
	json_t *doc, *log, *rec;
	EVP_PKEY *newkey;
	int64_t since, epoch;
	char *line;
	int rc;

	if (hd_slog_ready(&st->slog, hd_store_now(st), err, errlen) != 0 ||
	    !(doc = hd_device_fresh(st->lifetime, st->identity, st->device, hd_host_time(), err,
				    errlen))) {
		json_decref(detail);
		return -1;
	}
	log = json_object_get(doc, "log");
	epoch = json_integer_value(json_object_get(log, "epoch"));
	since = hd_slog_key_since(&st->slog, 1);
	newkey = doc_log_key(doc);
	rec = newkey ? log_key_record(st->lifetime, st->identity, newkey, epoch, since,
				      hd_host_time(), err, errlen)
		     : NULL;
	line = newkey ? hsm_key_to_openssh(newkey) : NULL;
	if (!rec || !line) {
		json_decref(rec);
		json_decref(detail);
		free(line);
		EVP_PKEY_free(newkey);
		json_decref(doc);
		return newkey ? -1 : hsm_set_err(err, errlen, "the new log key is unreadable");
	}
	json_array_append_new(json_object_get(log, "keys"), rec);
	json_object_set_new(log, "since", json_integer(since));
	set_image(doc, image);
	apply_reboot(st, doc);
	json_object_set_new(detail, "epoch", json_integer(epoch));
	json_object_set_new(detail, "log_key", json_string(line));
	free(line);
	rc = commit_logged(st, doc, event, detail, newkey, NULL, err, errlen);
	EVP_PKEY_free(newkey);
	return rc;
}

/* Entering and leaving recovery mode return the HSM to factory state
 * (guide 4.5.4.2, 4.5.4.3): one commit, logged, then the boot. */
static int boot_other_image(struct hd_store *st, const char *image, const char *why, char *err,
			    size_t errlen)
{
	int entering = strcmp(image, "recovery") == 0;

	if (fresh_state(st, image, entering ? "recovery_enter" : "recovery_leave",
			json_pack("{s:s, s:s, s:s}", "by", why, "image", image, "note",
				  "factory state: user data and credentials erased; new host "
				  "keys and log key"),
			err, errlen) != 0)
		return -1;
	hd_log("booted the %s image (%s): factory state", image, why);
	booted(st, why);
	return 0;
}

int hd_store_power_on(struct hd_store *st, char *err, size_t errlen)
{
	const char *image = next_image(st);

	if (strcmp(image, hd_store_image(st)) == 0)
		return 0;
	return boot_other_image(st, image, "start", err, errlen);
}

int hd_store_reboot(struct hd_store *st, const char *event, json_t *detail, char *err,
		    size_t errlen)
{
	const char *image = next_image(st);
	json_t *doc;

	if (strcmp(image, hd_store_image(st)) != 0) {
		json_decref(detail);
		return boot_other_image(st, image, event, err, errlen);
	}
	doc = json_deep_copy(st->device);
	apply_reboot(st, doc);
	if (hd_store_commit(st, doc, event, detail, err, errlen) != 0)
		return -1;
	booted(st, event);
	return 0;
}

int hd_store_factory_state(struct hd_store *st, char *err, size_t errlen)
{
	const char *image = next_image(st);

	/* Factory state reboots: the button decides the image as for any boot. */
	if (fresh_state(st, image, "factorystate",
			json_pack("{s:s, s:s}", "note",
				  "user data and credentials erased; new host keys and log key",
				  "image", image),
			err, errlen) != 0)
		return -1;
	booted(st, "factorystate");
	return 0;
}

/* ---- the init log ----------------------------------------------------- */

static int write_init_log(struct hd_store *st)
{
	char path[4200], inner[HD_ERRLEN];
	size_t total = 0, idx;
	json_t *e;
	char *buf = NULL;
	FILE *mem;
	int rc;

	mem = open_memstream(&buf, &total);
	if (!mem)
		return -1;
	json_array_foreach(st->init_log, idx, e)
	{
		char *line = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
		if (line)
			fprintf(mem, "%s\n", line);
		free(line);
	}
	fclose(mem);
	path_of(st, "init.log", path, sizeof(path));
	rc = hsm_write_file_atomic(path, buf, total, 0600, inner, sizeof(inner));
	if (rc != 0)
		hd_log("init log: %s", inner);
	else
		st->init_bytes = total;
	free(buf);
	return rc;
}

void hd_store_init_reset(struct hd_store *st)
{
	json_array_clear(st->init_log);
}

int hd_store_init_add(struct hd_store *st, const char *event, json_t *detail)
{
	json_int_t seq = (json_int_t)json_array_size(st->init_log) + 1;
	int64_t t = hd_store_now(st);

	json_array_append_new(st->init_log, json_pack("{s:I, s:I, s:s, s:o}", "seq", seq, "time",
						      (json_int_t)(t < 0 ? 0 : t), "event", event,
						      "detail", detail ? detail : json_object()));
	return write_init_log(st);
}

json_t *hd_store_log_entries(struct hd_store *st, const char *log, char *err, size_t errlen)
{
	if (strcmp(log, "init") == 0)
		return json_deep_copy(st->init_log);
	if (strcmp(log, "system") != 0) {
		hsm_set_err(err, errlen, "unknown log '%.32s' (system or init)", log);
		return NULL;
	}
	return hd_slog_entries(&st->slog, err, errlen);
}

uint64_t hd_store_log_used(const struct hd_store *st)
{
	return hd_slog_bytes(&st->slog) + st->init_bytes;
}

char *hd_store_log_public_key(const struct hd_store *st, char *err, size_t errlen)
{
	const char *pem =
	    json_string_value(json_object_get(json_object_get(st->device, "log"), "key"));
	BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	char *line = key ? hsm_key_to_openssh(key) : NULL;

	if (!line)
		hsm_set_err(err, errlen, "the log key is missing or unreadable");
	EVP_PKEY_free(key);
	BIO_free(bio);
	return line;
}

/* A saved segment exists? */
static int segment_saved(const struct hd_store *st, int64_t segment)
{
	json_t *saved = hd_slog_saved(&st->slog), *v;
	size_t i;
	int found = 0;

	json_array_foreach(saved, i, v) found |= json_integer_value(v) == segment;
	json_decref(saved);
	return found;
}

long long hd_store_log_expire(struct hd_store *st, int64_t segment, char *err, size_t errlen)
{
	uint64_t before = hd_slog_bytes(&st->slog);

	if (segment == st->slog.segment)
		return hsm_set_err(err, errlen, "segment %lld is the open log: export it first",
				   (long long)segment);
	if (!segment_saved(st, segment))
		return hsm_set_err(err, errlen, "no exported segment %lld is stored",
				   (long long)segment);
	/* Logged first: an expiry is never done without its entry. */
	if (hd_store_commit(st, json_deep_copy(st->device), "logs_expired",
			    json_pack("{s:I}", "segment", (json_int_t)segment), err, errlen) != 0 ||
	    hd_slog_expire(&st->slog, segment, err, errlen) != 0)
		return -1;
	return (long long)(before - hd_slog_bytes(&st->slog));
}

int64_t hd_store_log_close(struct hd_store *st, char *err, size_t errlen)
{
	int64_t closed = 0, now = hd_store_now(st);

	if (hd_slog_close_segment(&st->slog, now < 0 ? 0 : now, &closed, err, errlen) != 0)
		return -1;
	if (hd_store_commit(st, json_deep_copy(st->device), "logs_exported",
			    json_pack("{s:I}", "segment", (json_int_t)closed), err, errlen) != 0)
		hd_log("system log: segment %lld closed, but its export entry failed: %s",
		       (long long)closed, err);
	return closed;
}

int hd_store_log_clear(struct hd_store *st, const char *log, char *err, size_t errlen)
{
	int64_t now = hd_store_now(st);

	if (strcmp(log, "init") == 0) {
		hd_store_init_reset(st);
		if (write_init_log(st) != 0)
			return hsm_set_err(err, errlen, "cannot write the init log");
	} else if (strcmp(log, "system") == 0) {
		if (hd_slog_clear(&st->slog, now < 0 ? 0 : now, err, errlen) != 0)
			return -1;
	} else {
		return hsm_set_err(err, errlen, "unknown log '%.32s' (system or init)", log);
	}
	return hd_store_commit(st, json_deep_copy(st->device), "logs_cleared",
			       json_pack("{s:s}", "log", log), err, errlen);
}

json_t *hd_store_log_keys(const struct hd_store *st)
{
	json_t *keys = json_object_get(json_object_get(st->device, "log"), "keys");

	return keys ? json_deep_copy(keys) : json_array();
}

enum hd_log_level hd_store_log_level(struct hd_store *st)
{
	enum hd_log_level lvl =
	    hd_log_level_of(hd_store_log_used(st), st->cfg->log_capacity, st->cfg->log_safe_percent,
			    st->cfg->log_critical_percent);
	json_t *log = json_object_get(st->device, "log");

	if (json_is_true(json_object_get(log, "critical")))
		return HD_LOG_CRITICAL;
	if (lvl == HD_LOG_CRITICAL) {
		/* Latched: only a reset with logs reduced clears it (4.12.1). */
		json_t *doc = json_deep_copy(st->device);
		char e[HD_ERRLEN];
		json_object_set_new(json_object_get(doc, "log"), "critical", json_true());
		if (hd_store_commit(st, doc, NULL, NULL, e, sizeof(e)) != 0)
			hd_log("cannot record the critical log state: %s", e);
		else
			hd_log("system logs reached their critical capacity");
	}
	return lvl;
}

void hd_store_gate_facts(struct hd_store *st, struct hd_gate_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->esn = json_string_value(json_object_get(st->lifetime, "esn"));
	f->recovery = strcmp(hd_store_image(st), "recovery") == 0;
	f->factory =
	    strcmp(json_string_value(json_object_get(st->device, "state")), "factory") == 0;
	f->maintenance =
	    strcmp(json_string_value(json_object_get(st->device, "mode")), "maintenance") == 0;
	f->ncoreapi_operational = hd_interlock_hook(st);
	f->clock_lost =
	    json_is_true(json_object_get(json_object_get(st->device, "clock"), "lost")) ||
	    st->hsm_clock_lost;
	f->log_level = st->hsm_critical ? HD_LOG_CRITICAL : hd_store_log_level(st);
}
