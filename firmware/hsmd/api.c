/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.c - what service handlers may ask hsmd (struct hsmd_api), and one
 * call run through the gate.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <hsmadmin/service.h>
#include "enrollsecret.h"
#include "boot.h"
#include "fault.h"
#include "gate.h"
#include "images.h"
#include "licence.h" /* hsm_vendor_keys_load */
#include "server.h"
#include "vcmalloc.h"
#include "vcmhost.h"

static const json_t *api_params(struct hsmd_call *c)
{
	return c->params;
}
static const char *api_service(struct hsmd_call *c)
{
	return c->svc->name;
}
static const char *api_method(struct hsmd_call *c)
{
	return c->method;
}
static const json_t *api_lifetime(struct hsmd_call *c)
{
	return c->st->lifetime;
}
static const json_t *api_device(struct hsmd_call *c)
{
	return c->st->view;
}
/* A service of ABI 1.8 or newer changes the registry through vcm_put
 * (service.h): its working document holds changed entries only. */
static int registry_by_changes(const struct hsmd_call *c)
{
	const struct hsmd_service *d = c->svc ? c->svc->desc : NULL;

	return d && (d->abi_major > 1 || d->abi_minor >= 8);
}

static json_t *api_begin(struct hsmd_call *c)
{
	return registry_by_changes(c) ? hd_store_begin(c->st) : json_deep_copy(c->st->view);
}
static int64_t api_now(struct hsmd_call *c)
{
	return hd_store_now(c->st);
}
static int64_t api_host_now(struct hsmd_call *c)
{
	(void)c;
	return hd_host_time();
}
static int64_t api_uptime(struct hsmd_call *c)
{
	return hd_host_time() - c->st->boot_time;
}

static int api_verror(struct hsmd_call *c, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static int api_verror(struct hsmd_call *c, int status, const char *fmt, va_list ap)
{
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	/* One line: a newline in a message would break the host's display. */
	for (char *p = c->message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	c->message_set = 1;
	return status;
}

static int fail(struct hsmd_call *c, const char *what, const char *why)
{
	snprintf(c->message, sizeof(c->message), "%s: %.400s", what, why);
	c->message_set = 1;
	return -1;
}

/* The enrollment secret follows the state: gone once enrolled, a new one
 * in a new factory state.  Done before the reply so that the caller finds
 * it.  A failure here is the next start's to repair, not the call's. */
static void sync_enroll_secret(struct hd_store *st, int renew)
{
	char err[HD_ERRLEN];
	const char *state = json_string_value(json_object_get(st->device, "state"));
	const char *esn = json_string_value(json_object_get(st->lifetime, "esn"));

	if ((renew && hd_enroll_secret_sync(st->dir, esn, 0, err, sizeof(err)) != 0) ||
	    hd_enroll_secret_sync(st->dir, esn, state && strcmp(state, "factory") == 0, err,
				  sizeof(err)) != 0)
		hd_log("enrollment secret: %s", err);
}

static int api_commit(struct hsmd_call *c, json_t *doc, const char *event, json_t *detail)
{
	char err[HD_ERRLEN];

	if (event && !hd_name_valid(event)) {
		json_decref(doc);
		json_decref(detail);
		return fail(c, "commit", "event is not a name");
	}
	if ((registry_by_changes(c)
		 ? hd_store_commit_changes(c->st, doc, event, detail, err, sizeof(err))
		 : hd_store_commit_view(c->st, doc, event, detail, err, sizeof(err))) != 0)
		return fail(c, "cannot store the device state", err);
	sync_enroll_secret(c->st, 0);
	return 0;
}

static int api_vcm_put(struct hsmd_call *c, json_t *doc, const char *uuid, json_t *entry)
{
	json_t *vcms = json_object_get(doc, "vcms");

	if (!uuid || !fw_uuid_valid(uuid)) {
		json_decref(entry);
		return fail(c, "vcm_put", "not a VCM UUID");
	}
	if (!registry_by_changes(c) || !json_is_object(doc) || (vcms && !json_is_object(vcms))) {
		json_decref(entry);
		return fail(c, "vcm_put", "not a document of hsmd_begin");
	}
	if (!vcms) {
		vcms = json_object();
		json_object_set_new(doc, "vcms", vcms);
	}
	if (json_object_set_new(vcms, uuid, entry ? entry : json_null()) != 0)
		return fail(c, "vcm_put", "out of memory");
	return 0;
}

static const struct fw_vcms_index *api_vcm_index(struct hsmd_call *c)
{
	const struct fw_vcms_index *idx = hd_store_vcm_index(c->st);

	if (!idx)
		fail(c, "the index of the VCM registry", "out of memory");
	return idx;
}

static void api_reply(struct hsmd_call *c, json_t *result)
{
	json_decref(c->result);
	c->result = result;
}

/* The public line of a stored host key (OpenSSH private key text). */
static json_t *host_key_public(const char *priv)
{
	ssh_key key = NULL;
	char *b64 = NULL;
	json_t *line = NULL;

	if (priv && ssh_pki_import_privkey_base64(priv, NULL, NULL, NULL, &key) == SSH_OK &&
	    ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK)
		line = json_sprintf("ssh-ed25519 %s", b64);
	ssh_string_free_char(b64);
	ssh_key_free(key);
	return line;
}

/* Is a service one this hsmd serves (the booted image's)? */
static int served(const json_t *names, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v) if (strcmp(json_string_value(v), name) == 0) return 1;
	return 0;
}

/* The recovery image makes no certificates (guide 4.5.4.1): it lists the
 * host keys of the services it runs, uncertified, and says which image it
 * runs, so that enrollment can warn instead of failing. */
static json_t *hostkeys_uncertified(struct hsmd_call *c)
{
	const json_t *lt = c->st->lifetime, *ports = json_object_get(lt, "ports");
	const json_t *keys = json_object_get(c->st->device, "host_keys");
	json_t *services = json_object(), *priv, *running = hd_server_service_names(c->srv);
	const char *name;

	json_object_foreach((json_t *)keys, name, priv)
	{
		const json_t *port = json_object_get(ports, name);
		json_t *pub;
		if (!port || !hd_gate_runs_in_recovery(name) || !served(running, name) ||
		    !(pub = host_key_public(json_string_value(priv))))
			continue;
		json_object_set_new(services, name,
				    json_pack("{s:O, s:o}", "port", port, "host_key", pub));
	}
	json_decref(running);
	return json_pack("{s:O, s:O, s:o, s:s}", "esn", json_object_get(lt, "esn"), "identity",
			 json_object_get(lt, "warrant"), "services", services, "image", "recovery");
}

static json_t *api_hostkeys(struct hsmd_call *c)
{
	const json_t *lt = c->st->lifetime, *ports = json_object_get(lt, "ports");
	const json_t *certs = json_object_get(c->st->device, "certificates");
	json_t *services;
	const char *name;
	json_t *cert;

	if (strcmp(hd_store_image(c->st), "recovery") == 0)
		return hostkeys_uncertified(c);
	services = json_object();
	json_object_foreach((json_t *)certs, name, cert)
	{
		const json_t *port = json_object_get(ports, name);
		const json_t *hk = json_object_get(json_object_get(cert, "body"), "host_key");
		if (!port)
			continue;
		json_object_set_new(services, name,
				    json_pack("{s:O, s:O, s:O}", "port", port, "host_key", hk,
					      "certificate", cert));
	}
	return json_pack("{s:O, s:O, s:o}", "esn", json_object_get(lt, "esn"), "identity",
			 json_object_get(lt, "warrant"), "services", services);
}

static int api_factory_state(struct hsmd_call *c)
{
	char err[HD_ERRLEN];

	if (hd_store_factory_state(c->st, err, sizeof(err)) != 0)
		return fail(c, "factory state failed", err);
	sync_enroll_secret(c->st, 1);     /* a new factory state, a new secret */
	if (hd_boot_image_changed(c->st)) /* the recovery button decided */
		hd_server_request_reexec(c->srv);
	if (hd_serve_hooks.reboot) /* VCMs: erased with the registry */
		hd_serve_hooks.reboot(c->st, "factorystate");
	return 0;
}

static int api_reboot(struct hsmd_call *c, const char *why)
{
	char err[HD_ERRLEN];
	int was_factory =
	    strcmp(json_string_value(json_object_get(c->st->device, "state")), "factory") == 0;

	if (!hd_name_valid(why))
		return fail(c, "reboot", "reason is not a name");
	if (hd_store_reboot(c->st, why, json_pack("{s:s}", "by", c->method), err, sizeof(err)) != 0)
		return fail(c, "reset failed", err);
	/* Entering or leaving recovery mode is a new factory state. */
	{
		int factory = strcmp(json_string_value(json_object_get(c->st->device, "state")),
				     "factory") == 0;
		sync_enroll_secret(c->st, factory && !was_factory);
	}
	/* The image to run is not the one booted (an upgrade with
	 * --no-reset, or the recovery button): its modules load at the
	 * re-exec. */
	if (hd_boot_image_changed(c->st))
		hd_server_request_reexec(c->srv);
	if (hd_serve_hooks.reboot) /* VCMs stop; autostart VCMs start again */
		hd_serve_hooks.reboot(c->st, why);
	return 0;
}

static json_t *api_log_entries(struct hsmd_call *c, const char *log)
{
	char err[HD_ERRLEN];
	json_t *e = hd_store_log_entries(c->st, log, err, sizeof(err));

	if (!e)
		fail(c, "cannot read the log", err);
	return e;
}

static char *api_log_public_key(struct hsmd_call *c)
{
	char err[HD_ERRLEN];
	char *line = hd_store_log_public_key(c->st, err, sizeof(err));

	if (!line)
		fail(c, "cannot read the log key", err);
	return line;
}

static long long api_log_expire(struct hsmd_call *c, int64_t segment)
{
	char err[HD_ERRLEN];
	long long gone = hd_store_log_expire(c->st, segment, err, sizeof(err));

	if (gone < 0)
		fail(c, "cannot expire the log", err);
	else
		hd_crash_point("log-expired");
	return gone;
}

static json_t *api_log_saved(struct hsmd_call *c)
{
	return json_pack("{s:o, s:I}", "saved", hd_slog_saved(&c->st->slog), "open",
			 (json_int_t)c->st->slog.segment);
}

static int64_t api_log_close(struct hsmd_call *c)
{
	char err[HD_ERRLEN];
	int64_t seg = hd_store_log_close(c->st, err, sizeof(err));

	if (seg < 0)
		fail(c, "cannot close the log segment", err);
	else
		hd_crash_point("log-closed");
	return seg;
}

/* The segment goes out from disk as the client reads it (server.c
 * flush_chan): hsmd's memory does not grow with the segment. */
static int api_reply_log_segment(struct hsmd_call *c, json_t *head, int64_t segment)
{
	char err[HD_ERRLEN];
	uint64_t size;
	int fd;

	if (!json_is_object(head)) {
		json_decref(head);
		return fail(c, "cannot stream the log segment", "the head is not an object"), -1;
	}
	if (hd_slog_open_saved(&c->st->slog, segment, &fd, &size, err, sizeof(err)) != 0) {
		json_decref(head);
		return fail(c, "cannot read the log segment", err), -1;
	}
	if (c->streaming)
		close(c->stream_fd);
	json_object_set_new(head, "bytes", json_integer((json_int_t)size));
	api_reply(c, head);
	c->streaming = 1;
	c->stream_fd = fd;
	c->stream_len = size;
	return 0;
}

static json_t *api_log_segment(struct hsmd_call *c, int64_t segment)
{
	char err[HD_ERRLEN], *buf = NULL;
	size_t len = 0;
	json_t *text;

	if (hd_slog_read_saved(&c->st->slog, segment, &buf, &len, err, sizeof(err)) != 0) {
		fail(c, "cannot read the log segment", err);
		return NULL;
	}
	text = json_stringn(buf, len);
	free(buf);
	if (!text)
		fail(c, "cannot read the log segment", "not valid UTF-8");
	return text;
}

static json_t *api_log_keys(struct hsmd_call *c)
{
	return hd_store_log_keys(c->st);
}

static int api_log_clear(struct hsmd_call *c, const char *log)
{
	char err[HD_ERRLEN];

	if (hd_store_log_clear(c->st, log, err, sizeof(err)) != 0)
		return fail(c, "cannot clear the log", err);
	return 0;
}

static void api_log_usage(struct hsmd_call *c, uint64_t *used, uint64_t *capacity)
{
	*used = hd_store_log_used(c->st);
	*capacity = c->st->cfg->log_capacity;
}

/* On the recovery image only the platform services run (guide 4.5.4.1). */
static json_t *api_running_services(struct hsmd_call *c)
{
	json_t *all = hd_server_service_names(c->srv), *v;
	size_t i;

	if (!all || strcmp(hd_store_image(c->st), "recovery") != 0)
		return all;
	for (i = json_array_size(all); i-- > 0;)
		if (!(v = json_array_get(all, i)) ||
		    !hd_gate_runs_in_recovery(json_string_value(v)))
			json_array_remove(all, i);
	return all;
}

static const char *api_vendor_dir(struct hsmd_call *c)
{
	return c->st->cfg->vendordir;
}

/* ---- VCMs (vcmhost.c does the work) ---------------------------------- */

/* A service of ABI 1.10 or newer asks vcm_address_taken about the address
 * it picks: vcm_network need not read every other HSM's claims for it. */
static int asks_address_taken(const struct hsmd_call *c)
{
	const struct hsmd_service *d = c->svc ? c->svc->desc : NULL;

	return d && (d->abi_major > 1 || d->abi_minor >= 10);
}

static json_t *api_vcm_network(struct hsmd_call *c)
{
	char err[HD_ERRLEN];
	json_t *n = hd_vcmhost_network(c->st, !asks_address_taken(c), err, sizeof(err));

	if (!n)
		fail(c, "VCM network", err);
	return n;
}

static int api_vcm_address_taken(struct hsmd_call *c, const char *address)
{
	char err[HD_ERRLEN];
	int rc = hd_vcmalloc_address_taken(c->st, address ? address : "", err, sizeof(err));

	if (rc < 0)
		fail(c, "machine-wide VCM allocations", err);
	return rc;
}

static json_t *api_vcm_prepare(struct hsmd_call *c, const json_t *spec)
{
	char err[HD_ERRLEN];
	json_t *r = hd_vcmhost_prepare(c->st, spec, err, sizeof(err));

	if (!r)
		fail(c, "cannot make the VCM's state", err);
	return r;
}

static json_t *api_vcm_identity(struct hsmd_call *c, const char *uuid)
{
	char err[HD_ERRLEN];
	json_t *r = hd_vcmhost_identity(c->st, uuid, err, sizeof(err));

	if (!r)
		fail(c, "cannot read the VCM's identity", err);
	return r;
}

static int api_vcm_discard(struct hsmd_call *c, const char *uuid)
{
	char err[HD_ERRLEN];

	if (hd_vcmhost_discard(c->st, uuid, err, sizeof(err)) != 0)
		return fail(c, "cannot remove the VCM's state", err);
	return 0;
}

static int api_vcm_start(struct hsmd_call *c, const char *uuid)
{
	char err[HD_ERRLEN];

	if (hd_vcmhost_start(c->st, uuid, err, sizeof(err)) != 0)
		return fail(c, "cannot start the VCM", err);
	return 0;
}

static int api_vcm_stop(struct hsmd_call *c, const char *uuid)
{
	char err[HD_ERRLEN];

	if (hd_vcmhost_stop(c->st, uuid, err, sizeof(err)) != 0)
		return fail(c, "cannot stop the VCM", err);
	return 0;
}

static json_t *api_vcm_running(struct hsmd_call *c)
{
	(void)c;
	return hd_vcmhost_running();
}
static json_t *api_vcm_stats(struct hsmd_call *c)
{
	(void)c;
	return hd_vcmhost_stats();
}
static int api_vcm_audit_open(struct hsmd_call *c, const char *uuid)
{
	return hd_vcmhost_audit_open(c->st, uuid);
}

/* ---- firmware images (ABI 1.3) ------------------------------------------ */

/* A package being received by one streaming call. */
struct hd_upload {
	struct hd_image_writer w;
	struct hsm_npkg_reader *r;
	EVP_PKEY **keys;
	size_t nkeys;
	int closed; /* verified whole */
};

static int status_of(int npkg)
{
	switch (npkg) {
	case HSM_NPKG_UNKNOWN_SIGNER:
	case HSM_NPKG_BAD_SIGNATURE:
	case HSM_NPKG_DIGEST_MISMATCH:
		return HSMD_DENIED;
	case HSM_NPKG_MALFORMED:
	case HSM_NPKG_UNKNOWN_VERSION:
	case HSM_NPKG_TRUNCATED:
	case HSM_NPKG_PADDED:
		return HSMD_BAD_REQUEST;
	default:
		return HSMD_FAILED;
	}
}

static int upload_fail(struct hsmd_call *c, int status, const char *what, const char *why)
{
	fail(c, what, why);
	c->status = status;
	return status;
}

static void api_image_discard(struct hsmd_call *c)
{
	struct hd_upload *u = c->upload;

	if (!u)
		return;
	hd_image_writer_abort(&u->w);
	hsm_npkg_reader_free(u->r);
	hsm_vendor_keys_free(u->keys, u->nkeys);
	free(u);
	c->upload = NULL;
}

static int check_product(void *ctx, const struct hsm_npkg_manifest *m, char *err, size_t errlen)
{
	(void)ctx;
	if (strcmp(m->product, HSM_NPKG_PRODUCT) != 0) {
		snprintf(err, errlen, "the package is for product %.32s; this HSM is %s",
			 m->product, HSM_NPKG_PRODUCT);
		return -1;
	}
	return 0;
}

static int api_image_open(struct hsmd_call *c)
{
	static struct hsm_npkg_sink sink;
	struct hd_upload *u;
	char err[HD_ERRLEN];

	if (c->upload)
		return upload_fail(c, HSMD_FAILED, "image", "a package is already being received");
	sink = hd_image_sink;
	sink.manifest = check_product;
	u = calloc(1, sizeof(*u));
	if (!u)
		return upload_fail(c, HSMD_FAILED, "image", "out of memory");
	c->upload = u;
	u->w.fd = -1;
	if (hsm_vendor_keys_load(c->st->cfg->vendordir, &u->keys, &u->nkeys, err, sizeof(err)) !=
		0 ||
	    hd_image_writer_open(&u->w, c->st->dir, err, sizeof(err)) != 0) {
		api_image_discard(c);
		return upload_fail(c, HSMD_FAILED, "image", err);
	}
	u->r = hsm_npkg_reader_new(u->keys, u->nkeys, 0, &sink, &u->w);
	if (!u->r) {
		api_image_discard(c);
		return upload_fail(c, HSMD_FAILED, "image", "out of memory");
	}
	return HSMD_OK;
}

static int api_image_write(struct hsmd_call *c, const void *data, size_t len)
{
	char err[HD_ERRLEN];
	int rc;

	if (!c->upload || c->upload->closed)
		return upload_fail(c, HSMD_FAILED, "image", "no package is being received");
	rc = hsm_npkg_reader_feed(c->upload->r, data, len, err, sizeof(err));
	if (rc != 0) {
		api_image_discard(c);
		return upload_fail(c, status_of(rc), "package refused", err);
	}
	return HSMD_OK;
}

static int api_image_close(struct hsmd_call *c, json_t **manifest)
{
	char err[HD_ERRLEN];
	int rc;

	*manifest = NULL;
	if (!c->upload || c->upload->closed)
		return upload_fail(c, HSMD_FAILED, "image", "no package is being received");
	rc = hsm_npkg_reader_finish(c->upload->r, err, sizeof(err));
	if (rc != 0) {
		api_image_discard(c);
		return upload_fail(c, status_of(rc), "package refused", err);
	}
	c->upload->closed = 1;
	*manifest = hsm_npkg_manifest_json(hsm_npkg_reader_manifest(c->upload->r));
	return *manifest ? HSMD_OK : upload_fail(c, HSMD_FAILED, "image", "out of memory");
}

static int api_image_install(struct hsmd_call *c, int reset)
{
	struct hd_upload *u = c->upload;
	const struct hsm_npkg_manifest *m;
	json_t *images, *rec, *detail;
	const char *slot;
	char err[HD_ERRLEN];

	if (!u || !u->closed)
		return upload_fail(c, HSMD_FAILED, "image", "no verified package to install");
	m = hsm_npkg_reader_manifest(u->r);
	images = hd_images_load(c->st->dir, err, sizeof(err));
	if (!images)
		return upload_fail(c, HSMD_FAILED, "images", err);
	rec = hd_image_writer_commit(&u->w, m, hd_host_time(), err, sizeof(err));
	if (!rec) {
		json_decref(images);
		return upload_fail(c, HSMD_FAILED, "writing the image", err);
	}
	slot = hsm_npkg_component_name(m->component);
	detail = json_pack("{s:s, s:O, s:O}", "component", slot, "from",
			   json_object_get(hd_images_slot(images, slot), "version"), "to",
			   json_object_get(rec, "version"));
	if (m->component == HSM_NPKG_PRIMARY) {
		/* The running image stays to roll back to; the new one is on
		 * trial until it has booted with all its services. */
		json_object_set(images, "previous", json_object_get(images, "primary"));
		json_object_set_new(images, "trial", json_true());
	}
	json_object_set_new(images, slot, rec);
	if (hd_images_save(c->st->dir, images, err, sizeof(err)) != 0) {
		json_decref(images);
		json_decref(detail);
		return upload_fail(c, HSMD_FAILED, "images", err);
	}
	hd_crash_point("image-installed");
	hd_images_gc(c->st->dir, images);
	json_decref(images);
	api_image_discard(c); /* the image is installed: nothing to drop */
	if (hd_store_commit(c->st, json_deep_copy(c->st->device), "firmware_install", detail, err,
			    sizeof(err)) != 0)
		hd_log("firmware_install not logged: %s", err);
	if (reset)
		hd_server_request_reexec(c->srv);
	return HSMD_OK;
}

static json_t *api_images(struct hsmd_call *c)
{
	char err[HD_ERRLEN];
	json_t *doc = hd_images_load(c->st->dir, err, sizeof(err));

	if (!doc)
		fail(c, "images", err);
	return doc;
}

const struct hsmd_api hd_api_table = {
	.size = sizeof(struct hsmd_api),
	.params = api_params,
	.service = api_service,
	.method = api_method,
	.lifetime = api_lifetime,
	.device = api_device,
	.begin = api_begin,
	.commit = api_commit,
	.now = api_now,
	.host_now = api_host_now,
	.uptime = api_uptime,
	.reply = api_reply,
	.verror = api_verror,
	.hostkeys = api_hostkeys,
	.factory_state = api_factory_state,
	.reboot = api_reboot,
	.log_entries = api_log_entries,
	.log_usage = api_log_usage,
	.running_services = api_running_services,
	.vendor_dir = api_vendor_dir,
	.vcm_network = api_vcm_network,
	.vcm_prepare = api_vcm_prepare,
	.vcm_discard = api_vcm_discard,
	.vcm_start = api_vcm_start,
	.vcm_stop = api_vcm_stop,
	.vcm_running = api_vcm_running,
	.vcm_stats = api_vcm_stats,
	.vcm_audit_open = api_vcm_audit_open,
	.log_public_key = api_log_public_key,
	.log_expire = api_log_expire,
	.image_open = api_image_open,
	.image_write = api_image_write,
	.image_close = api_image_close,
	.image_install = api_image_install,
	.image_discard = api_image_discard,
	.images = api_images,
	.log_saved = api_log_saved,
	.log_close = api_log_close,
	.log_segment = api_log_segment,
	.log_keys = api_log_keys,
	.log_clear = api_log_clear,
	.reply_log_segment = api_reply_log_segment,
	.vcm_identity = api_vcm_identity,
	.vcm_put = api_vcm_put,
	.vcm_index = api_vcm_index,
	.vcm_address_taken = api_vcm_address_taken,
};

/* The test hook of the access matrix (hsmd(8), DESCRIPTION): with
 * HSMD_PROBE=1 in hsmd's environment, a call whose params have
 * "hsmd_probe": true is answered once every rule has let it through, and
 * its handler never runs, so that every method can be tried in every mode
 * without changing anything. */
static int probe_requested(const json_t *params)
{
	const char *on = secure_getenv("HSMD_PROBE");

	return on && strcmp(on, "1") == 0 && json_is_true(json_object_get(params, "hsmd_probe"));
}

void hd_call_run(struct hsmd_call *call, struct hd_server *srv, struct hd_store *st,
		 const struct hd_loaded_service *svc, const char *method, json_t *params)
{
	const struct hsmd_method *m;
	struct hd_gate_facts facts;
	char fault[256];
	uint32_t flags;
	int rc, faulted;

	memset(call, 0, sizeof(*call));
	call->api = &hd_api_table;
	call->srv = srv;
	call->st = st;
	call->svc = svc;
	call->method = method;
	call->params = params;
	m = hd_service_find(svc, method);
	if (!m) {
		call->status = HSMD_BAD_REQUEST;
		snprintf(call->message, sizeof(call->message), "unknown method '%s' of service %s",
			 method, svc->name);
		return;
	}
	/* A failed module answers only the calls that report on it. */
	faulted = hd_fault_get(st->dir, fault, sizeof(fault));
	if (faulted && !hd_fault_exempt(svc->name, method)) {
		call->status = HSMD_FAILED;
		snprintf(call->message, sizeof(call->message),
			 "the HSM has failed (%s): it must be replaced", fault);
		return;
	}
	flags = hd_gate_flags(m->flags, m->variant_param, m->variant_flags, m->plain_flags, params);
	call->flags = flags;
	hd_store_gate_facts(st, &facts);
	if (facts.recovery && !hd_gate_runs_in_recovery(svc->name)) {
		call->status = HSMD_REFUSED_STATE;
		snprintf(
		    call->message, sizeof(call->message),
		    "the HSM runs its recovery image, where "
		    "the %s service does not run (guide 4.5.4.1); reset it without the recovery "
		    "button held to leave recovery mode",
		    svc->name);
		return;
	}
	if (facts.factory && (flags & HSMD_METHOD_INVASIVE))
		facts.enroll_secret_ok = hd_enroll_secret_check(
		    st->dir, json_string_value(json_object_get(params, "enrollment_secret")));
	rc = hd_gate_check(flags, hd_service_gate_hint(svc, m), &facts, call->message,
			   sizeof(call->message));
	if (rc != 0) {
		call->status = rc;
		return;
	}
	if (probe_requested(params)) {
		call->result = json_pack("{s:s, s:s, s:s}", "probe", "admitted", "service",
					 svc->name, "method", method);
		call->probed = 1;
		call->status = HSMD_OK;
		return;
	}
	rc = m->handler(call);
	if (rc < HSMD_OK || rc > HSMD_DENIED)
		rc = HSMD_FAILED;
	if (faulted && rc == HSMD_OK && json_is_object(call->result)) {
		json_object_set_new(call->result, "hardware_failed", json_true());
		json_object_set_new(call->result, "hardware_fault", json_string(fault));
	}
	call->status = rc;
	if (rc != HSMD_OK && !call->message_set)
		snprintf(call->message, sizeof(call->message), "%s failed", method);
}

void hd_call_clear(struct hsmd_call *call)
{
	json_decref(call->result);
	call->result = NULL;
	if (call->streaming) {
		close(call->stream_fd);
		call->streaming = 0;
	}
	api_image_discard(call);
	if (call->owns_params) {
		json_decref(call->params);
		call->params = NULL;
		call->owns_params = 0;
	}
}
