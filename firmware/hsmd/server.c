/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.c - one event loop for every listener of the HSM.
 *
 * The rules of docs/pitfalls.md shape this file:
 *   - we own the listening sockets (backlog 512) and add them to the
 *     ssh_event with ssh_event_add_fd; accepted sockets are CLOEXEC,
 *     non-blocking and TCP_NODELAY, handed over with ssh_bind_accept_fd;
 *   - key exchange is started once, non-blocking, then the session joins
 *     the shared event; SSH_ERROR from ssh_event_dopoll is not fatal, each
 *     session is judged by ssh_get_status;
 *   - callbacks only record state; replies, closes and frees happen in the
 *     loop; callback structs live in our connection and channel objects;
 *   - our own login deadline, idle timeout (also for sessions with open
 *     channels: a call whose input never ends is idle) and auth attempt
 *     limit;
 *   - a flood from one client leaves the others served: unauthenticated
 *     connections are limited per source address and in total, sessions
 *     per client key; refused connections are logged once per source
 *     and reason per interval (hsmd(8), [server]);
 *   - public-key auth compares the offered key with the one authorized key
 *     every time, and succeeds on a signature only when libssh says VALID.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <syslog.h>

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <libssh/callbacks.h>
#include <hsmadmin/netaddr.h>

#include "images.h" /* hd_crash_point */
#include "rpc.h"
#include "server.h"

#define POLL_MS 200
#define ACCEPT_BURST 64
#define OUT_CHUNK 32768u
#define REFUSAL_SLOTS 64

struct listener {
	struct hd_server *srv;
	const struct hd_loaded_service *svc;
	int fd;
	int ready;
	int handed; /* to the process of a reboot: not closed (hand_over) */
	uint16_t port;
	ssh_bind bind;
	char *host_key_pem; /* what bind was made from, to notice a change */
};

struct chan;

struct conn {
	struct hd_server *srv;
	struct listener *lis;
	ssh_session session;
	struct ssh_server_callbacks_struct cb;
	int in_event;
	int authenticated;
	char *key_line;  /* the client key that authenticated */
	char key_fp[64]; /* its SHA256 fingerprint, for the log */
	char peer[64];   /* the client's address, for the log */
	unsigned auth_failures;
	int64_t accepted_ms, active_ms;
	char source[INET6_ADDRSTRLEN]; /* source address alone, for the limits */
	int dead;
	const char *why; /* why it was dropped, for the log */
	struct chan *chans;
	unsigned nchans;
	struct conn *next;
};

struct chan {
	struct conn *conn;
	ssh_channel channel;
	struct ssh_channel_callbacks_struct cb;
	char method[HD_COMMAND_MAX];
	int have_exec, bad_exec, eof, closed_by_peer, overflow, dispatched, finished;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	int status;
	/* A streamed reply: after out (the head line), src_left bytes of
	 * src_fd, read a chunk at a time as the window opens. */
	int src_fd, src_chunked;
	uint64_t src_left;
	/* A streaming method (HSMD_METHOD_STREAMS): its call lives from the
	 * params line to the end of the data. */
	const struct hsmd_method *smethod;
	struct hsmd_call *call;
	struct chan *next;
};

/* Refused connections from one source for one reason (a string constant):
 * the first is logged at once, the rest are counted and summed up once the
 * interval has passed. */
struct refusal {
	char peer[INET6_ADDRSTRLEN];
	const char *service, *why;
	int64_t since_ms;
	unsigned suppressed;
};

struct hd_server {
	struct hd_store *st;
	const struct hd_config *cfg;
	struct hd_loaded_service *svcs;
	size_t nsvcs;
	ssh_event event;
	struct listener *lis;
	size_t nlis;
	struct conn *conns;
	unsigned nconns;
	int sigfd;
	int stop;
	int reexec;      /* restart the process into a new image once replies are out */
	int watch_ready; /* hd_serve_hooks.watch_fd is readable */
	uint64_t keys_generation;
	ssh_bind *old_binds; /* replaced after factory state; freed at exit */
	size_t nold;
	struct refusal refusals[REFUSAL_SLOTS];
};

struct hd_serve_hooks hd_serve_hooks;

/* ---- keys and binds --------------------------------------------------- */

static const char *KEX = "curve25519-sha256,curve25519-sha256@libssh.org";
static const char *CIPHERS = "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com";
static const char *MACS = "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com";

static ssh_bind make_bind(const char *pem, char *err, size_t errlen)
{
	ssh_bind b = ssh_bind_new();
	ssh_key key = NULL;
	bool no = false;

	if (!b) {
		hsm_set_err(err, errlen, "out of memory");
		return NULL;
	}
	if (ssh_pki_import_privkey_base64(pem, NULL, NULL, NULL, &key) != SSH_OK) {
		ssh_bind_free(b);
		hsm_set_err(err, errlen, "host key does not load");
		return NULL;
	}
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, "ssh-ed25519") != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, "ssh-ed25519") !=
		SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE, KEX) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S, CIPHERS) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C, CIPHERS) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S, MACS) != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C, MACS) != SSH_OK) {
		hsm_set_err(err, errlen, "libssh refused an option: %s", ssh_get_error(b));
		ssh_bind_free(b);
		return NULL;
	}
	return b;
}

/* After any commit the host keys (factory state) or the authorized keys
 * may have changed: new binds for changed host keys.  Authorized keys are
 * read from the state at each check. */
static int refresh_keys(struct hd_server *srv)
{
	const json_t *hks = json_object_get(srv->st->device, "host_keys");

	if (srv->keys_generation == srv->st->generation && srv->lis[0].bind)
		return 0;
	for (size_t i = 0; i < srv->nlis; i++) {
		struct listener *l = &srv->lis[i];
		const char *pem = json_string_value(json_object_get(hks, l->svc->name));
		char err[HD_ERRLEN];
		ssh_bind b;

		if (!pem)
			return -1; /* validated documents always have one */
		if (l->host_key_pem && strcmp(l->host_key_pem, pem) == 0)
			continue;
		b = make_bind(pem, err, sizeof(err));
		if (!b) {
			hd_log("%s: %s", l->svc->name, err);
			return -1;
		}
		if (l->bind) {
			ssh_bind *o = realloc(srv->old_binds, (srv->nold + 1) * sizeof(*o));
			if (o) {
				srv->old_binds = o;
				o[srv->nold++] = l->bind;
			} else {
				ssh_bind_free(l->bind);
			}
		}
		l->bind = b;
		free(l->host_key_pem);
		l->host_key_pem = strdup(pem);
	}
	srv->keys_generation = srv->st->generation;
	return 0;
}

/* Is this client key allowed on this listener in the current state?
 * Factory state: sshadmin takes any Ed25519 key, every other service none.
 * Enrolled: exactly the one key installed for the service. */
static int key_authorized(const struct conn *c, const char *line)
{
	const json_t *dev = c->srv->st->device;
	const char *svc = c->lis->svc->name;
	const char *want;

	if (!line)
		return 0;
	if (strcmp(json_string_value(json_object_get(dev, "state")), "factory") == 0)
		return strcmp(svc, "sshadmin") == 0;
	want = json_string_value(json_object_get(json_object_get(dev, "client_keys"), svc));
	return want && strcmp(want, line) == 0;
}

static char *key_line(ssh_key key)
{
	char *b64 = NULL, *line = NULL;

	if (ssh_key_type(key) != SSH_KEYTYPE_ED25519)
		return NULL;
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return NULL;
	if (asprintf(&line, "ssh-ed25519 %s", b64) < 0)
		line = NULL;
	ssh_string_free_char(b64);
	return line;
}

/* ---- limits and the refusal log ---------------------------------------- */

static void refusal_summary(struct refusal *r, int64_t now)
{
	if (r->suppressed)
		hd_log("refused %u more connection%s from %s in the last %lld s (%s)",
		       r->suppressed, r->suppressed == 1 ? "" : "s", r->peer,
		       (long long)((now - r->since_ms) / 1000), r->why);
	r->suppressed = 0;
	r->since_ms = now;
}

/* Log a refused connection once per source and reason per interval. */
static void note_refusal(struct hd_server *srv, const char *peer, const char *service,
			 const char *why)
{
	int64_t now = hd_mono_ms(), interval = (int64_t)srv->cfg->refusal_log_interval * 1000;
	struct refusal *r = NULL, *oldest = &srv->refusals[0];

	for (size_t i = 0; i < REFUSAL_SLOTS; i++) {
		struct refusal *x = &srv->refusals[i];
		if (x->peer[0] && strcmp(x->peer, peer) == 0 && x->why == why) {
			r = x;
			break;
		}
		if (!x->peer[0] || (oldest->peer[0] && x->since_ms < oldest->since_ms))
			oldest = x;
	}
	if (r && now - r->since_ms < interval) {
		r->suppressed++;
		return;
	}
	if (r) {
		refusal_summary(r, now);
	} else {
		r = oldest;
		if (r->peer[0])
			refusal_summary(r, now);
		snprintf(r->peer, sizeof(r->peer), "%s", peer);
		r->since_ms = now;
		r->suppressed = 0;
	}
	r->service = service;
	r->why = why;
	hd_log("%s: refused a connection from %s: %s (further refusals from %s are summed up "
	       "every %u s)",
	       service, peer, why, peer, srv->cfg->refusal_log_interval);
}

/* Summaries of intervals that ended without a new refusal. */
static void flush_refusals(struct hd_server *srv)
{
	int64_t now = hd_mono_ms(), interval = (int64_t)srv->cfg->refusal_log_interval * 1000;

	for (size_t i = 0; i < REFUSAL_SLOTS; i++) {
		struct refusal *r = &srv->refusals[i];
		if (r->peer[0] && now - r->since_ms >= interval) {
			refusal_summary(r, now);
			r->peer[0] = '\0';
		}
	}
}

static unsigned count_unauthenticated(const struct hd_server *srv, const char *peer)
{
	unsigned n = 0;

	for (const struct conn *c = srv->conns; c; c = c->next)
		if (!c->authenticated && !c->dead && (!peer || strcmp(c->source, peer) == 0))
			n++;
	return n;
}

static unsigned count_key_sessions(const struct hd_server *srv, const char *line)
{
	unsigned n = 0;

	for (const struct conn *c = srv->conns; c; c = c->next)
		if (c->authenticated && !c->dead && c->key_line && strcmp(c->key_line, line) == 0)
			n++;
	return n;
}

/* "SHA256:..." of a public key, as ssh-keygen -l prints it. */
static void key_fingerprint(ssh_key key, char *out, size_t outlen)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	snprintf(out, outlen, "(no key)");
	if (!key || ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		return;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (fp)
		snprintf(out, outlen, "%s", fp);
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
}

/* One line per accepted login and per refused key offer: who (address and
 * key fingerprint) asked which service, for the journal (not the device's
 * signed system log, which records what changed). */
static void log_auth(struct conn *c, ssh_key key, int accepted)
{
	char fp[64];

	key_fingerprint(key, fp, sizeof(fp));
	if (accepted)
		snprintf(c->key_fp, sizeof(c->key_fp), "%s", fp);
	hd_log_at(accepted ? LOG_NOTICE : LOG_WARNING,
		  "%s: authentication %s for %s key %s from %s", c->lis->svc->name,
		  accepted ? "accepted" : "refused",
		  ssh_key_type_to_char(ssh_key_type(key)) ? ssh_key_type_to_char(ssh_key_type(key))
							  : "unknown",
		  fp, c->peer);
}

/* ---- libssh callbacks: record only ------------------------------------ */

static int on_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *pubkey,
			  char state, void *ud)
{
	struct conn *c = ud;
	char *line;

	(void)s;
	(void)user; /* the user name is ignored (docs/protocol.md) */
	c->active_ms = hd_mono_ms();
	if (c->authenticated || c->dead)
		return SSH_AUTH_DENIED;
	line = key_line(pubkey);
	if (!key_authorized(c, line)) {
		free(line);
		c->auth_failures++;
		log_auth(c, pubkey, 0);
		return SSH_AUTH_DENIED;
	}
	if (state == SSH_PUBLICKEY_STATE_NONE) {
		free(line); /* a probe for an acceptable key: PK_OK */
		return SSH_AUTH_SUCCESS;
	}
	if (state != SSH_PUBLICKEY_STATE_VALID) {
		free(line);
		c->auth_failures++;
		return SSH_AUTH_DENIED;
	}
	/* One key (one client) holds at most max_sessions_per_key sessions,
	 * so it cannot crowd out the other services and clients. */
	if (count_key_sessions(c->srv, line) >= c->srv->cfg->max_sessions_per_key) {
		free(line);
		note_refusal(c->srv, c->source, c->lis->svc->name,
			     "this client key has too many sessions");
		c->dead = 1;
		c->why = "too many sessions for its key";
		return SSH_AUTH_DENIED;
	}
	c->authenticated = 1;
	c->key_line = line;
	log_auth(c, pubkey, 1);
	return SSH_AUTH_SUCCESS;
}

static void set_reply(struct chan *k, int status, const json_t *result, const char *msg);

/* The call of a streaming method ended early: its error is the reply. */
static void stream_fail(struct chan *k)
{
	set_reply(k, k->call->status ? k->call->status : HSMD_FAILED, NULL,
		  k->call->message[0] ? k->call->message : "the call failed");
	hd_call_clear(k->call);
}

/* The params line is in: check the rules and start the method. */
static void stream_start(struct chan *k)
{
	struct conn *c = k->conn;
	char err[HD_ERRLEN];
	json_t *params;

	if (!key_authorized(c, c->key_line)) {
		set_reply(k, HSMD_DENIED, NULL, "the key of this session is no longer authorized");
		return;
	}
	params = hd_rpc_params(k->in ? k->in : "", k->in_len, err, sizeof(err));
	if (!params) {
		set_reply(k, HSMD_BAD_REQUEST, NULL, err);
		return;
	}
	k->call = calloc(1, sizeof(*k->call));
	if (!k->call) {
		json_decref(params);
		set_reply(k, HSMD_FAILED, NULL, "out of memory");
		return;
	}
	hd_call_run(k->call, c->srv, c->srv->st, c->lis->svc, k->method, params);
	k->call->owns_params = 1;
	if (k->call->status != HSMD_OK) {
		stream_fail(k);
	} else if (k->call->probed) { /* the data that follows is discarded */
		set_reply(k, HSMD_OK, k->call->result, NULL);
		hd_call_clear(k->call);
	}
}

/* Bytes of a streaming method: the params line, then the data, handed to
 * the method as they arrive (never held). */
static int stream_data(struct chan *k, const char *data, uint32_t len)
{
	uint32_t used = 0;

	if (!k->call) {
		int done;
		long take = hd_rpc_head_feed(&k->in, &k->in_len, data, len, &done);

		if (take < 0) {
			k->overflow = 1;
			return (int)len;
		}
		used = (uint32_t)take;
		if (!done)
			return (int)len;
		stream_start(k);
	}
	if (!k->dispatched && used < len &&
	    k->smethod->stream(k->call, data + used, len - used) != HSMD_OK)
		stream_fail(k);
	return (int)len;
}

static int on_data(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *ud)
{
	struct chan *k = ud;

	(void)s;
	(void)ch;
	k->conn->active_ms = hd_mono_ms();
	if (is_stderr || k->overflow || k->dispatched)
		return (int)len; /* discarded */
	if (k->smethod)
		return stream_data(k, data, len);
	if (k->in_len + len > HD_PARAMS_MAX) {
		k->overflow = 1;
		free(k->in);
		k->in = NULL;
		k->in_len = 0;
		return (int)len;
	}
	{
		char *n = realloc(k->in, k->in_len + len + 1);
		if (!n) {
			k->overflow = 1;
			return (int)len;
		}
		memcpy(n + k->in_len, data, len);
		k->in = n;
		k->in_len += len;
	}
	return (int)len;
}

static void on_eof(ssh_session s, ssh_channel ch, void *ud)
{
	struct chan *k = ud;

	(void)s;
	(void)ch;
	k->eof = 1;
	k->conn->active_ms = hd_mono_ms();
}

static void on_close(ssh_session s, ssh_channel ch, void *ud)
{
	struct chan *k = ud;

	(void)s;
	(void)ch;
	k->closed_by_peer = 1;
}

static int on_exec(ssh_session s, ssh_channel ch, const char *command, void *ud)
{
	struct chan *k = ud;
	char err[128];

	(void)s;
	(void)ch;
	k->conn->active_ms = hd_mono_ms();
	if (k->have_exec)
		return -1; /* one request per channel */
	k->have_exec = 1;
	if (hd_rpc_method(command, k->method, sizeof(k->method), err, sizeof(err)) != 0) {
		k->bad_exec = 1; /* accepted, answered with bad_request */
	} else {
		const struct hsmd_method *m = hd_service_find(k->conn->lis->svc, k->method);
		if (m && (m->flags & HSMD_METHOD_STREAMS))
			k->smethod = m; /* services.c checked stream and finish */
	}
	return 0;
}

static ssh_channel on_channel_open(ssh_session s, void *ud)
{
	struct conn *c = ud;
	struct chan *k;

	c->active_ms = hd_mono_ms();
	if (!c->authenticated || c->dead || c->nchans >= c->srv->cfg->max_channels)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->channel = ssh_channel_new(s);
	if (!k->channel) {
		free(k);
		return NULL;
	}
	k->conn = c;
	k->src_fd = -1;
	k->cb.userdata = k;
	k->cb.channel_data_function = on_data;
	k->cb.channel_eof_function = on_eof;
	k->cb.channel_close_function = on_close;
	k->cb.channel_exec_request_function = on_exec;
	ssh_callbacks_init(&k->cb);
	ssh_set_channel_callbacks(k->channel, &k->cb);
	k->next = c->chans;
	c->chans = k;
	c->nchans++;
	return k->channel;
}

/* ---- channels and calls ----------------------------------------------- */

json_t *hd_server_service_names(const struct hd_server *srv)
{
	json_t *a = json_array();

	for (size_t i = 0; srv && i < srv->nlis; i++)
		json_array_append_new(a, json_string(srv->lis[i].svc->name));
	return a;
}

static void set_reply(struct chan *k, int status, const json_t *result, const char *msg)
{
	k->status = status;
	k->out = hd_rpc_reply(status, result, msg, &k->out_len);
	k->out_off = 0;
	k->dispatched = 1;
}

/* State-changing calls are logged with their result at notice, others
 * at debug; refusals of either at warning. */
static void log_call(const struct conn *c, const struct hsmd_call *call)
{
	int pri = call->status != HSMD_OK                ? LOG_WARNING
		  : (call->flags & HSMD_METHOD_INVASIVE) ? LOG_NOTICE
							 : LOG_DEBUG;

	if (call->status == HSMD_OK)
		hd_log_at(pri, "%s.%s by %s from %s: ok", c->lis->svc->name, call->method,
			  c->key_fp, c->peer);
	else
		hd_log_at(pri, "%s.%s by %s from %s: status %d: %s", c->lis->svc->name,
			  call->method, c->key_fp, c->peer, call->status, call->message);
}

static void dispatch(struct hd_server *srv, struct chan *k)
{
	struct conn *c = k->conn;
	struct hsmd_call call;
	char err[HD_ERRLEN];
	json_t *params;

	if (k->bad_exec) {
		set_reply(k, HSMD_BAD_REQUEST, NULL,
			  "the exec command must be a method name and nothing else");
		return;
	}
	/* The state may have changed since login (factory state, key change). */
	if (!key_authorized(c, c->key_line)) {
		set_reply(k, HSMD_DENIED, NULL, "the key of this session is no longer authorized");
		return;
	}
	if (k->overflow) {
		set_reply(k, HSMD_BAD_REQUEST, NULL, "params larger than 65536 bytes");
		return;
	}
	if (k->smethod) { /* EOF of a streaming method */
		int rc;
		if (!k->call) /* no newline: the params and no data */
			stream_start(k);
		if (k->dispatched)
			return;
		rc = k->smethod->finish(k->call);
		if (rc < HSMD_OK || rc > HSMD_DENIED)
			rc = HSMD_FAILED;
		if (rc != HSMD_OK) {
			k->call->status = rc;
			if (!k->call->message[0])
				snprintf(k->call->message, sizeof(k->call->message), "%s failed",
					 k->method);
			stream_fail(k);
			return;
		}
		set_reply(k, HSMD_OK, k->call->result, NULL);
		hd_call_clear(k->call);
		return;
	}
	params = hd_rpc_params(k->in ? k->in : "", k->in_len, err, sizeof(err));
	if (!params) {
		set_reply(k, HSMD_BAD_REQUEST, NULL, err);
		return;
	}
	hd_call_run(&call, srv, srv->st, c->lis->svc, k->method, params);
	log_call(c, &call);
	set_reply(k, call.status, call.result, call.message);
	if (call.status == HSMD_OK && call.streaming) {
		k->src_fd = call.stream_fd;
		k->src_left = call.stream_len;
		call.streaming = 0;
	}
	hd_call_clear(&call);
	json_decref(params);
	c->active_ms = hd_mono_ms(); /* the call's own time is not the client's idleness */
}

/* The next chunk of a streamed reply into out, once out is sent.  A file
 * that ends early or fails to read ends the call with status failed: the
 * client sees fewer bytes than the head announced. */
static void refill_from_source(struct chan *k)
{
	size_t n = k->src_left < OUT_CHUNK ? (size_t)k->src_left : OUT_CHUNK;
	ssize_t r;

	if (k->out_off < k->out_len || k->src_fd < 0)
		return;
	if (!k->src_chunked) /* the head is out, the segment's bytes not yet */
		hd_crash_point("log-stream");
	if (!k->src_chunked) { /* the head's buffer: make it a chunk */
		char *b = realloc(k->out, OUT_CHUNK);
		if (!b) {
			r = -1;
			goto end;
		}
		k->out = b;
		k->src_chunked = 1;
	}
	do
		r = read(k->src_fd, k->out, n);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		k->out_len = (size_t)r;
		k->out_off = 0;
		k->src_left -= (uint64_t)r;
		if (k->src_left)
			return;
	}
end:
	if (r <= 0) {
		hd_log("%s: streamed reply cut short: %s", k->method,
		       r < 0 ? strerror(errno) : "the file ended early");
		k->status = HSMD_FAILED;
	}
	close(k->src_fd);
	k->src_fd = -1;
	k->src_left = 0;
}

/* Send what the window allows; then exit-status, EOF, close. */
static void flush_chan(struct chan *k)
{
	for (refill_from_source(k); k->out && k->out_off < k->out_len; refill_from_source(k)) {
		uint32_t win = ssh_channel_window_size(k->channel);
		size_t n = k->out_len - k->out_off;
		int w;

		if (win == 0)
			return; /* the peer will grow the window */
		if (n > win)
			n = win;
		if (n > OUT_CHUNK)
			n = OUT_CHUNK;
		w = ssh_channel_write(k->channel, k->out + k->out_off, (uint32_t)n);
		if (w <= 0) {
			if (w < 0)
				k->finished = 1;
			return;
		}
		k->out_off += (size_t)w;
		k->conn->active_ms = hd_mono_ms(); /* the client reads */
	}
	if (!k->finished) {
		ssh_channel_request_send_exit_status(k->channel, k->status);
		ssh_channel_send_eof(k->channel);
		ssh_channel_close(k->channel);
		k->finished = 1;
	}
}

static void free_chan(struct conn *c, struct chan *k, int free_channel)
{
	struct chan **pp;

	for (pp = &c->chans; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	c->nchans--;
	if (free_channel) {
		ssh_remove_channel_callbacks(k->channel, &k->cb);
		ssh_channel_free(k->channel);
	}
	if (k->call) { /* releases what a streaming call held */
		hd_call_clear(k->call);
		free(k->call);
	}
	if (k->src_fd >= 0)
		close(k->src_fd);
	free(k->in);
	free(k->out);
	free(k);
}

/* Does a channel of c have a reply, an EOF or a close to send now? */
static int chans_to_send(const struct conn *c)
{
	for (const struct chan *k = c->chans; k; k = k->next)
		if (k->dispatched || k->finished || k->closed_by_peer ||
		    (k->have_exec && (k->eof || k->overflow || k->bad_exec)))
			return 1;
	return 0;
}

/* ssh_channel_write, _send_eof and _close end with a blocking flush that
 * polls the poll context the session is in.  In the shared event that
 * runs every other session's callbacks too, and when one of those
 * connections has just ended (its socket callback returns -2), libssh
 * marks the session being flushed as failed (SSH_CLOSED_ERROR, no error
 * text): a healthy client then lost its connection after its reply's
 * data, without the exit status.  So a session sends out of the shared
 * event, in its own poll context, and joins it again afterwards. */
static void service_channels(struct hd_server *srv, struct conn *c)
{
	struct chan *k = c->chans, *next;
	int detached = 0;

	if (c->in_event && chans_to_send(c) &&
	    ssh_event_remove_session(srv->event, c->session) == SSH_OK)
		detached = 1;
	for (; k; k = next) {
		next = k->next;
		if (!k->dispatched && k->have_exec && (k->eof || k->overflow || k->bad_exec))
			dispatch(srv, k);
		if (k->dispatched && !k->finished && !k->closed_by_peer)
			flush_chan(k);
		if (k->finished || k->closed_by_peer) {
			if (!k->finished)
				ssh_channel_close(k->channel);
			free_chan(c, k, 1);
		}
	}
	if (detached && ssh_event_add_session(srv->event, c->session) != SSH_OK) {
		c->in_event = 0;
		c->dead = 1;
		c->why = "cannot add the session to the event loop";
	}
}

/* Has every call that was answered sent its whole reply?  (A reboot into
 * a new image waits for that, bounded by the idle timeout.) */
static int replies_sent(struct hd_server *srv)
{
	static int64_t since;
	int64_t now = hd_mono_ms();

	if (!since)
		since = now;
	if (now - since > 5000)
		return 1;
	for (struct conn *c = srv->conns; c; c = c->next)
		for (struct chan *k = c->chans; k; k = k->next)
			if (k->dispatched && !k->finished && !k->closed_by_peer)
				return 0;
	return 1;
}

void hd_server_request_reexec(struct hd_server *srv)
{
	if (srv)
		srv->reexec = 1;
}

/* ---- connections ------------------------------------------------------ */

static void drop_conn(struct hd_server *srv, struct conn *c)
{
	struct conn **pp;

	for (pp = &srv->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	srv->nconns--;
	while (c->chans)
		free_chan(c, c->chans, 0); /* ssh_free frees libssh's channels */
	if (c->in_event)
		ssh_event_remove_session(srv->event, c->session);
	ssh_disconnect(c->session);
	ssh_free(c->session);
	free(c->key_line);
	free(c);
}

static void source_name(const struct sockaddr_storage *ss, char *out, size_t len)
{
	const void *a = ss->ss_family == AF_INET6
			    ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
			    : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (!inet_ntop(ss->ss_family, a, out, (socklen_t)len))
		snprintf(out, len, "?");
}

/* "ADDRESS port PORT" of the other end, for the log. */
static void peer_name(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			port = ntohs(a->sin6_port);
		}
	}
	snprintf(out, outlen, "%s port %u", host, port);
}

static void accept_on(struct hd_server *srv, struct listener *l)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int one = 1, fd, rc;
		struct conn *c;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char source[INET6_ADDRSTRLEN];
		const char *refuse = NULL;

		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				hd_log("%s: accept: %s", l->svc->name, strerror(errno));
			l->ready = 0;
			return;
		}
		source_name(&ss, source, sizeof(source));
		if (srv->nconns >= srv->cfg->max_connections)
			refuse = "max_connections reached";
		else if (count_unauthenticated(srv, NULL) >= srv->cfg->max_unauthenticated)
			refuse = "max_unauthenticated reached";
		else if (count_unauthenticated(srv, source) >=
			 srv->cfg->max_unauthenticated_per_source)
			refuse = "too many unauthenticated connections from this address";
		if (refuse) {
			note_refusal(srv, source, l->svc->name, refuse);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c || !(c->session = ssh_new())) {
			free(c);
			close(fd);
			continue;
		}
		if (ssh_bind_accept_fd(l->bind, c->session, fd) != SSH_OK) {
			ssh_free(c->session);
			free(c);
			close(fd);
			continue;
		}
		c->srv = srv;
		c->lis = l;
		snprintf(c->source, sizeof(c->source), "%s", source);
		peer_name(fd, c->peer, sizeof(c->peer));
		c->accepted_ms = c->active_ms = hd_mono_ms();
		c->cb.userdata = c;
		c->cb.auth_pubkey_function = on_auth_pubkey;
		c->cb.channel_open_request_session_function = on_channel_open;
		ssh_callbacks_init(&c->cb);
		ssh_set_server_callbacks(c->session, &c->cb);
		ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PUBLICKEY);
		ssh_set_blocking(c->session, 0);
		c->next = srv->conns;
		srv->conns = c;
		srv->nconns++;
		rc = ssh_handle_key_exchange(c->session);
		if (rc == SSH_ERROR) {
			c->dead = 1;
			c->why = "key exchange failed to start";
			continue;
		}
		if (ssh_event_add_session(srv->event, c->session) != SSH_OK) {
			c->dead = 1;
			c->why = "cannot add the session to the event loop";
			continue;
		}
		c->in_event = 1;
	}
}

static void judge_conns(struct hd_server *srv)
{
	int64_t now = hd_mono_ms();
	const struct hd_config *cfg = srv->cfg;
	struct conn *c, *next;

	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (!c->dead) {
			int status = ssh_get_status(c->session);
			if (status & (SSH_CLOSED | SSH_CLOSED_ERROR))
				c->dead = 1;
			else if (!c->authenticated &&
				 now - c->accepted_ms > (int64_t)cfg->login_timeout * 1000)
				c->dead = 1, c->why = "login deadline passed";
			else if (now - c->active_ms > (int64_t)cfg->idle_timeout * 1000) {
				c->dead = 1, c->why = "idle timeout";
				if (c->chans) /* a call left hanging: worth the admin's eye */
					hd_log("%s: closed the session of %s: idle for %u s with "
					       "a call open",
					       c->lis->svc->name, c->peer, cfg->idle_timeout);
			} else if (c->auth_failures >= cfg->max_auth_attempts)
				c->dead = 1, c->why = "too many authentication attempts";
		}
		if (!c->dead)
			service_channels(srv, c);
		if (c->dead)
			drop_conn(srv, c);
	}
}

/* ---- listeners and signals -------------------------------------------- */

static int on_listener(socket_t fd, int revents, void *ud)
{
	struct listener *l = ud;

	(void)fd;
	if (revents & POLLIN)
		l->ready = 1;
	return 0;
}

/* Only noted here: the hook runs in the loop, where it may close
 * listeners and drop connections (libssh is iterating its poll set now). */
static int on_watch(socket_t fd, int revents, void *ud)
{
	struct hd_server *srv = ud;

	(void)fd;
	if (revents & (POLLIN | POLLHUP | POLLERR))
		srv->watch_ready = 1;
	return 0;
}

static void run_watch(struct hd_server *srv)
{
	if (!srv->watch_ready)
		return;
	srv->watch_ready = 0;
	if (hd_serve_hooks.watch(srv->st, srv) < 0)
		ssh_event_remove_fd(srv->event, hd_serve_hooks.watch_fd);
}

void hd_server_withdraw(struct hd_server *srv, const char *service, const char *why)
{
	for (size_t i = 0; i < srv->nlis; i++) {
		struct listener *l = &srv->lis[i];
		if (strcmp(l->svc->name, service) != 0 || l->fd < 0)
			continue;
		ssh_event_remove_fd(srv->event, l->fd);
		close(l->fd);
		l->fd = -1;
		l->ready = 0;
		for (struct conn *c = srv->conns; c; c = c->next)
			if (c->lis == l && !c->dead)
				c->dead = 1, c->why = why;
		hd_log("%s: no longer served: %s", service, why);
	}
}

static int on_signal(socket_t fd, int revents, void *ud)
{
	struct hd_server *srv = ud;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			hd_log("SIGHUP: nothing to reload (configuration is read at start)");
		else
			srv->stop = (int)si.ssi_signo;
	}
	return 0;
}

/* ---- listening sockets kept across a reboot ------------------------------
 *
 * The emulated reboot (a new firmware image, or the recovery image) is a
 * re-exec of hsmd.  The listening sockets are handed to the new process
 * in HSMD_LISTEN_FDS ("PORT:FD,..."), so a client that connects meanwhile
 * waits in the backlog and is served by the new image instead of being
 * refused.  A socket is adopted only if it is a listening TCP socket on
 * this HSM's address and the service's port; the rest are closed once the
 * services listen. */
#define LISTEN_FDS_ENV "HSMD_LISTEN_FDS"

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_port ==
			   ((const struct sockaddr_in *)b)->sin_port &&
		       ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
			   ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return ((const struct sockaddr_in6 *)a)->sin6_port ==
		   ((const struct sockaddr_in6 *)b)->sin6_port &&
	       memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* The inherited socket for port, checked against the address it must be
 * bound to, or -1.  An adopted socket is taken out of the list. */
static int adopt_listener(const struct sockaddr_storage *want, uint16_t port)
{
	const char *env = getenv(LISTEN_FDS_ENV);
	char rest[1024], *p, *save = NULL;
	size_t used = 0;
	int found = -1;

	if (!env || strlen(env) >= sizeof(rest))
		return -1;
	rest[0] = '\0';
	{
		char copy[1024];
		snprintf(copy, sizeof(copy), "%s", env);
		for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
			unsigned long port_n, fd_n;
			char *end;
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			int listening = 0;
			socklen_t ol = sizeof(listening);

			port_n = strtoul(p, &end, 10);
			if (*end != ':' || port_n != port || found >= 0) {
				used += (size_t)snprintf(rest + used, sizeof(rest) - used, "%s%s",
							 used ? "," : "", p);
				continue;
			}
			fd_n = strtoul(end + 1, &end, 10);
			if (*end || fd_n < 3 || fd_n > 65535)
				continue;
			memset(&ss, 0, sizeof(ss));
			if (getsockname((int)fd_n, (struct sockaddr *)&ss, &sl) != 0 ||
			    getsockopt((int)fd_n, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) !=
				0 ||
			    !listening || !same_address(&ss, want)) {
				used += (size_t)snprintf(rest + used, sizeof(rest) - used, "%s%s",
							 used ? "," : "", p);
				continue;
			}
			found = (int)fd_n;
		}
	}
	if (found < 0)
		return -1;
	if (fcntl(found, F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(found, F_SETFL, fcntl(found, F_GETFL) | O_NONBLOCK) != 0)
		return -1;
	if (used)
		setenv(LISTEN_FDS_ENV, rest, 1);
	else
		unsetenv(LISTEN_FDS_ENV);
	return found;
}

/* Close the inherited sockets no service adopted. */
static void close_unadopted(void)
{
	const char *env = getenv(LISTEN_FDS_ENV);
	char copy[1024], *p, *save = NULL;

	if (!env)
		return;
	snprintf(copy, sizeof(copy), "%s", env);
	for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		const char *colon = strchr(p, ':');
		long fd = colon ? strtol(colon + 1, NULL, 10) : -1;
		int listening = 0;
		socklen_t ol = sizeof(listening);
		if (fd >= 3 && fd <= 65535 &&
		    getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) == 0 &&
		    listening)
			close((int)fd);
	}
	unsetenv(LISTEN_FDS_ENV);
}

/* Hand the listening sockets to the process the re-exec starts. */
static void hand_over(struct hd_server *srv)
{
	char list[1024];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; i < srv->nlis; i++) {
		int n;
		if (srv->lis[i].fd < 0 || fcntl(srv->lis[i].fd, F_SETFD, 0) != 0)
			continue;
		n = snprintf(list + used, sizeof(list) - used, "%s%u:%d", used ? "," : "",
			     srv->lis[i].port, srv->lis[i].fd);
		if (n < 0 || (size_t)n >= sizeof(list) - used) {
			fcntl(srv->lis[i].fd, F_SETFD, FD_CLOEXEC); /* closed below */
			list[used] = '\0';
			continue;
		}
		used += (size_t)n;
		srv->lis[i].handed = 1;
	}
	if (used)
		setenv(LISTEN_FDS_ENV, list, 1);
}

static int open_listener(const char *address, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct hsm_ipaddr ip;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (hsm_ip_parse(address, 0, &ip, err, errlen) != 0) {
		return hsm_set_err(err, errlen, "'%s' is not an IP address", address);
	} else if (ip.family == 4) {
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, ip.b, 4);
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else {
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, ip.b, 16);
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	}
	if ((fd = adopt_listener(&ss, port)) >= 0)
		return fd;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hsm_set_err(err, errlen, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 512) != 0) {
		int e = errno;
		close(fd);
		return hsm_set_err(err, errlen, "%s port %u: %s", address, port, strerror(e));
	}
	return fd;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int setup_signals(struct hd_server *srv)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	srv->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return srv->sigfd < 0 ? -1 : 0;
}

int hd_serve(struct hd_store *st, const struct hd_config *cfg, struct hd_loaded_service *svcs,
	     size_t nsvcs)
{
	struct hd_server srv;
	const json_t *ports = json_object_get(st->lifetime, "ports");
	const char *address = json_string_value(json_object_get(st->lifetime, "address"));
	char err[HD_ERRLEN];
	int rc = 1;

	memset(&srv, 0, sizeof(srv));
	err[0] = '\0';
	srv.st = st;
	srv.cfg = cfg;
	srv.svcs = svcs;
	srv.nsvcs = nsvcs;
	srv.sigfd = -1;
	raise_nofile();
	if (setup_signals(&srv) != 0) {
		hd_log("signals: %s", strerror(errno));
		return 1;
	}
	srv.event = ssh_event_new();
	srv.lis = calloc(nsvcs ? nsvcs : 1, sizeof(*srv.lis));
	if (!srv.event || !srv.lis)
		goto out;
	ssh_event_add_fd(srv.event, srv.sigfd, POLLIN, on_signal, &srv);
	hd_store_init_reset(st);
	hd_store_init_add(st, "boot",
			  json_pack("{s:s, s:s}", "reason", "start", "image", hd_store_image(st)));
	for (size_t i = 0; i < nsvcs; i++) {
		struct listener *l = &srv.lis[srv.nlis];
		const json_t *p = json_object_get(ports, svcs[i].name);
		uint16_t port = p ? (uint16_t)json_integer_value(p) : svcs[i].desc->default_port;
		int fd;

		if (!json_object_get(json_object_get(st->device, "host_keys"), svcs[i].name)) {
			hd_log("service %s: this HSM has no host key for it; not served",
			       svcs[i].name);
			hd_store_init_add(st, "service_failed",
					  json_pack("{s:s, s:s}", "service", svcs[i].name, "reason",
						    "no host key"));
			continue;
		}
		fd = open_listener(address, port, err, sizeof(err));
		if (fd < 0) {
			hd_log("service %s: %s; not served", svcs[i].name, err);
			hd_store_init_add(
			    st, "service_failed",
			    json_pack("{s:s, s:s}", "service", svcs[i].name, "reason", err));
			continue;
		}
		l->srv = &srv;
		l->svc = &svcs[i];
		l->fd = fd;
		l->port = port;
		srv.nlis++;
		hd_store_init_add(st, "service_started",
				  json_pack("{s:s, s:s, s:i}", "service", svcs[i].name, "address",
					    address, "port", port));
	}
	close_unadopted(); /* a service the rebooted image does not run */
	if (srv.nlis == 0) {
		hd_log("no service could be started");
		if (hd_serve_hooks.boot)
			hd_serve_hooks.boot(st, 0, nsvcs ? err : "no service to serve");
		goto out;
	}
	if (refresh_keys(&srv) != 0) {
		if (hd_serve_hooks.boot)
			hd_serve_hooks.boot(st, 0, "host keys do not load");
		goto out;
	}
	for (size_t i = 0; i < srv.nlis; i++)
		ssh_event_add_fd(srv.event, srv.lis[i].fd, POLLIN, on_listener, &srv.lis[i]);
	if (hd_serve_hooks.watch)
		ssh_event_add_fd(srv.event, hd_serve_hooks.watch_fd, POLLIN, on_watch, &srv);
	hd_store_init_add(st, "boot_complete",
			  json_pack("{s:o}", "services", hd_server_service_names(&srv)));
	if (hd_serve_hooks.boot)
		hd_serve_hooks.boot(st, 1, NULL);
	/* Logged once the boot hook has stopped or started the VCMs and
	 * committed that: whoever waits for this line (an admin, the tests)
	 * then reads the state the device serves, not one being written. */
	hd_log("serving %s on %s (%zu service%s)",
	       json_string_value(json_object_get(st->lifetime, "esn")), address, srv.nlis,
	       srv.nlis == 1 ? "" : "s");
	while (!srv.stop) {
		ssh_event_dopoll(srv.event, POLL_MS); /* SSH_ERROR: judged per session */
		run_watch(&srv);
		for (size_t i = 0; i < srv.nlis && !srv.stop; i++)
			if (srv.lis[i].ready)
				accept_on(&srv, &srv.lis[i]);
		judge_conns(&srv);
		flush_refusals(&srv);
		if (hd_serve_hooks.tick)
			hd_serve_hooks.tick(st);
		if (refresh_keys(&srv) != 0) {
			hd_log("cannot load new host keys; stopping");
			goto out;
		}
		if (srv.reexec && replies_sent(&srv))
			break;
	}
	if (srv.reexec) {
		hd_log("rebooting into the new firmware image");
		rc = HD_SERVE_REEXEC;
		hand_over(&srv);
		goto out;
	}
	hd_log("signal %d: stopping", srv.stop);
	rc = 0;
out:
	if (hd_serve_hooks.shutdown)
		hd_serve_hooks.shutdown(st);
	while (srv.conns)
		drop_conn(&srv, srv.conns);
	for (size_t i = 0; i < srv.nlis; i++) {
		if (srv.lis[i].fd >= 0) { /* -1: withdrawn */
			ssh_event_remove_fd(srv.event, srv.lis[i].fd);
			if (!srv.lis[i].handed)
				close(srv.lis[i].fd);
		}
		if (srv.lis[i].bind)
			ssh_bind_free(srv.lis[i].bind);
		free(srv.lis[i].host_key_pem);
	}
	for (size_t i = 0; i < srv.nold; i++)
		ssh_bind_free(srv.old_binds[i]);
	free(srv.old_binds);
	free(srv.lis);
	if (srv.event) {
		ssh_event_remove_fd(srv.event, srv.sigfd);
		if (hd_serve_hooks.watch) /* gone already at EOF: then a no-op */
			ssh_event_remove_fd(srv.event, hd_serve_hooks.watch_fd);
		ssh_event_free(srv.event);
	}
	close(srv.sigfd);
	return rc;
}
