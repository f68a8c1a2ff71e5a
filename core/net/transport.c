/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/net/transport.c - the libssh client side of docs/protocol.md.
 *
 * Rules from docs/pitfalls.md: never read ~/.ssh/config, offer and
 * accept only Ed25519 and the modern algorithms hsmd speaks, TCP_NODELAY
 * (Nagle against delayed ACK costs ~100 ms a round trip), and check the
 * host key against the pin before our key is offered.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <hsmadmin/fileio.h>

#include "hostkeys-ssh.h"
#include "transport.h"

#define STREAM_CHUNK (64 * 1024)
#define KEX_ALGOS "curve25519-sha256,curve25519-sha256@libssh.org"
/* AES-GCM first: libssh 0.10 initialises its OpenSSL cipher again for
 * every chacha20-poly1305 packet (34 times for one status call), an AES-GCM
 * context once per key (bench/fanout.sh, PROFILE=1). */
#define CIPHERS "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"
#define MAX_THREADS 32
#define READ_SLICE_MS 50

static pthread_once_t ssh_once = PTHREAD_ONCE_INIT;

static void ssh_init_once(void)
{
	ssh_init();
}

int hsm_exit_worst(int a, int b)
{
	return a > b ? a : b;
}

void hsm_rpc_reply_clear(struct hsm_rpc_reply *reply)
{
	json_decref(reply->result);
	memset(reply, 0, sizeof(*reply));
}

/* Device text ends up on a terminal: keep one line of printable ASCII. */
static void sanitize(char *s)
{
	size_t n;

	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	n = strlen(s);
	while (n && (s[n - 1] == '.' || s[n - 1] == ' '))
		s[--n] = '\0';
}

HSM_API int hsm_rpc_reply_fail(struct hsm_rpc_reply *r, int exit, const char *code, const char *fmt,
			       ...)
{
	char code_buf[sizeof(r->code)], message[sizeof(r->message)];
	va_list ap;

	/* code and the arguments may point into r itself ("after: %s",
	 * r->message): format into copies first. */
	snprintf(code_buf, sizeof(code_buf), "%s", code);
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	json_decref(r->result);
	r->result = NULL;
	r->exit = exit;
	memcpy(r->code, code_buf, sizeof(r->code));
	memcpy(r->message, message, sizeof(r->message));
	sanitize(r->message);
	if (!*r->message)
		snprintf(r->message, sizeof(r->message), "(no reason given)");
	return exit;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libssh's blocking calls each wait up to SSH_OPTIONS_TIMEOUT: give each
 * step only what is left of the call's budget. */
static long remaining_ms(long long deadline)
{
	long long left = deadline - now_ms();
	return left > 0 ? (long)left : 0;
}

static void set_step_timeout(ssh_session s, long long deadline)
{
	long ms = remaining_ms(deadline);
	long sec = ms / 1000, usec = (ms % 1000) * 1000;

	if (sec == 0 && usec == 0)
		usec = 1000;
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &sec);
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
}

static int session_options(ssh_session s, const struct hsm_rpc_endpoint *ep, int timeout)
{
	bool no = false;
	int yes = 1;
	unsigned int port = ep->port;
	long sec = timeout;

	return ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) ||
		       ssh_options_set(s, SSH_OPTIONS_HOST, ep->address) ||
		       ssh_options_set(s, SSH_OPTIONS_PORT, &port) ||
		       ssh_options_set(s, SSH_OPTIONS_USER, "hsm") ||
		       ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, "ssh-ed25519") ||
		       ssh_options_set(s, SSH_OPTIONS_PUBLICKEY_ACCEPTED_TYPES, "ssh-ed25519") ||
		       ssh_options_set(s, SSH_OPTIONS_KEY_EXCHANGE, KEX_ALGOS) ||
		       ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, CIPHERS) ||
		       ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, CIPHERS) ||
		       ssh_options_set(s, SSH_OPTIONS_COMPRESSION, "no") ||
		       /* Named, or libssh looks up the user's home directory
			* (getpwuid: nsswitch.conf, /etc/passwd) for every
			* session; nothing is read from it (no config, no
			* identity files, known hosts named below). */
		       ssh_options_set(s, SSH_OPTIONS_SSH_DIR, "/nonexistent") ||
		       ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") ||
		       ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") ||
		       ssh_options_set(s, SSH_OPTIONS_NODELAY, &yes) ||
		       ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &sec)
		   ? -1
		   : 0;
}

/* The server's host key into reply->host_key; with a pin, insist on it. */
static int check_host_key(ssh_session s, const struct hsm_rpc_endpoint *ep, struct hsm_rpc_reply *r)
{
	ssh_key srv = NULL, pin;
	int same;

	if (ssh_get_server_publickey(s, &srv) != SSH_OK ||
	    hsm_ssh_pubkey_line(srv, r->host_key, sizeof(r->host_key)) < 0) {
		ssh_key_free(srv);
		return hsm_rpc_reply_fail(r, HSM_EXIT_AUTH, "trust",
					  "%s service presented no Ed25519 host key", ep->service);
	}
	/* A pin is written as the exported line of the key it pins, so the
	 * same key gives the same text: no second import per connection. */
	if (!ep->host_key || strcmp(r->host_key, ep->host_key) == 0) {
		ssh_key_free(srv);
		return 0;
	}
	if (!(pin = hsm_ssh_pubkey_import(ep->host_key))) {
		ssh_key_free(srv);
		return hsm_rpc_reply_fail(r, HSM_EXIT_AUTH, "trust",
					  "pinned %s host key is malformed: re-enroll",
					  ep->service);
	}
	same = ssh_key_cmp(srv, pin, SSH_KEY_CMP_PUBLIC) == 0;
	ssh_key_free(pin);
	ssh_key_free(srv);
	if (!same)
		return hsm_rpc_reply_fail(
		    r, HSM_EXIT_AUTH, "trust",
		    "%s host key does not match the key pinned at enrollment: "
		    "refusing to talk to a possible impostor (if this HSM was returned to "
		    "factory state elsewhere, entered or left recovery mode, or was replaced, "
		    "enroll it again; a replaced HSM needs its pins removed first)",
		    ep->service);
	return 0;
}

static int authenticate(ssh_session s, const struct hsm_rpc_endpoint *ep, struct hsm_rpc_reply *r)
{
	ssh_key key = hsm_client_key_ssh_shared(ep->client_key);
	int rc;

	if (!key)
		return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local", "%s client key is unusable",
					  ep->service);
	rc = ssh_userauth_publickey(s, NULL, key);
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR)
		return hsm_rpc_reply_fail(r, HSM_EXIT_UNREACHABLE, "unreachable",
					  "%s service: authentication: %s", ep->service,
					  ssh_get_error(s));
	return hsm_rpc_reply_fail(
	    r, HSM_EXIT_AUTH, "auth",
	    "%s service refused this host's %s client key (not enrolled with it, or in "
	    "factory state)",
	    ep->service, ep->service);
}

/* The protocol puts nothing on stderr; whatever a service writes there is
 * discarded as it arrives so that it cannot pile up in libssh's buffers. */
static void drain_stderr(ssh_channel ch)
{
	char junk[4096];

	while (ssh_channel_read_nonblocking(ch, junk, sizeof(junk), 1) > 0)
		;
}

/* Wait for the next bytes of stdout until deadline, in short slices:
 * stderr arriving while we wait on stdout must be drained, or the channel
 * window fills and stdout never comes.  The count read (> 0), 0 at EOF, or
 * -1 with r set: the connection was lost, or nothing came by the deadline
 * (late says what was late). */
static int read_some(ssh_channel ch, char *buf, size_t size, long long deadline, const char *late,
		     const struct hsm_rpc_endpoint *ep, struct hsm_rpc_reply *r)
{
	for (;;) {
		long slice = remaining_ms(deadline);
		int n =
		    ssh_channel_read_timeout(ch, buf, (uint32_t)size, 0,
					     (int)(slice < READ_SLICE_MS ? slice : READ_SLICE_MS));

		drain_stderr(ch);
		if (n == SSH_ERROR) {
			hsm_rpc_reply_fail(r, HSM_EXIT_UNREACHABLE, "unreachable",
					   "%s service: connection lost: %s", ep->service,
					   ssh_get_error(ssh_channel_get_session(ch)));
			return -1;
		}
		if (n > 0)
			return n;
		if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch))
			return 0;
		if (remaining_ms(deadline) == 0) {
			hsm_rpc_reply_fail(r, HSM_EXIT_UNREACHABLE, "unreachable", "%s service: %s",
					   ep->service, late);
			return -1;
		}
	}
}

/* Append n bytes to the NUL-terminated *buf of *len bytes (*cap
 * allocated).  0, or -1 with r set. */
static int append(char **buf, size_t *len, size_t *cap, const char *data, size_t n,
		  struct hsm_rpc_reply *r)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		char *nb;

		while (ncap < *len + n + 1)
			ncap *= 2;
		if (!(nb = realloc(*buf, ncap))) {
			hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local", "out of memory");
			return -1;
		}
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Bounded read of stdout until EOF.  Returns 0, or -1 with r set. */
static int read_stdout(ssh_channel ch, char **buf, size_t *len, size_t max, long long deadline,
		       const struct hsm_rpc_endpoint *ep, struct hsm_rpc_reply *r)
{
	size_t cap = 0;
	char chunk[16384];
	int n;

	*buf = NULL;
	*len = 0;
	while ((n = read_some(ch, chunk, sizeof(chunk), deadline,
			      "no complete reply within the timeout", ep, r)) > 0) {
		if (*len + (size_t)n > max) {
			hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "protocol",
					   "%s service: reply larger than %zu bytes", ep->service,
					   max);
			return -1;
		}
		if (append(buf, len, &cap, chunk, (size_t)n, r) != 0)
			return -1;
	}
	return n;
}

/* A streamed reply: the first line into *head (bounded), every byte after
 * it to ep->sink as it arrives; *streamed counts those.  Each wait for
 * data is bounded by idle_ms, so a long transfer that keeps moving is not
 * cut off.  Returns 0, or -1 with r set. */
static int read_streamed(ssh_channel ch, char **head, size_t *hlen, uint64_t *streamed,
			 long idle_ms, const struct hsm_rpc_endpoint *ep, struct hsm_rpc_reply *r)
{
	size_t hcap = 0;
	int in_head = 1, n;
	char *chunk = malloc(STREAM_CHUNK), late[64];

	*head = NULL;
	*hlen = 0;
	*streamed = 0;
	if (!chunk)
		return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local", "out of memory");
	snprintf(late, sizeof(late), "no data for %ld s", idle_ms / 1000);
	while ((n = read_some(ch, chunk, STREAM_CHUNK, now_ms() + idle_ms, late, ep, r)) > 0) {
		const char *data = chunk;
		size_t len = (size_t)n;

		if (in_head) {
			const char *nl = memchr(data, '\n', len);
			size_t take = nl ? (size_t)(nl - data) + 1 : len;

			if (*hlen + take > HSM_RPC_MAX_HEAD) {
				hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "protocol",
						   "%s service: reply head larger than %u bytes",
						   ep->service, HSM_RPC_MAX_HEAD);
				n = -1;
				break;
			}
			if (append(head, hlen, &hcap, data, take, r) != 0) {
				n = -1;
				break;
			}
			data += take;
			len -= take;
			in_head = !nl;
		}
		if (len) {
			*streamed += len;
			if (ep->sink(ep->sink_arg, data, len) != 0) {
				hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local",
						   "%s service: the streamed reply was refused by "
						   "its receiver",
						   ep->service);
				n = -1;
				break;
			}
		}
	}
	free(chunk);
	return n;
}

/* exit 0 and an object, or a non-zero exit and the error envelope. */
int hsm_rpc_parse_reply(const char *out, size_t len, int status, const char *service,
			const char *method, struct hsm_rpc_reply *r)
{
	char why[256];
	json_t *doc = hsm_json_parse(out ? out : "", len, HSM_RPC_MAX_REPLY, why, sizeof(why));
	const char *code, *message;

	if (!doc)
		return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "protocol",
					  "%s.%s: malformed reply: %s", service, method, why);
	if (status == 0) {
		if (!json_is_object(doc)) {
			json_decref(doc);
			return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "protocol",
						  "%s.%s: reply is not a JSON object", service,
						  method);
		}
		r->result = doc;
		r->exit = 0;
		return 0;
	}
	if (hsm_json_unpack(doc, JSON_STRICT, why, sizeof(why), "{s:{s:s, s:s}}", "error", "code",
			    &code, "message", &message) < 0) {
		json_decref(doc);
		return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "protocol",
					  "%s.%s: exit status %d with a malformed error: %s",
					  service, method, status, why);
	}
	if (!*code)
		code = "unknown";
	switch (status) {
	case 3:
		hsm_rpc_reply_fail(r, HSM_EXIT_STATE, code, "%s", message);
		break;
	case 4:
		hsm_rpc_reply_fail(r, HSM_EXIT_AUTH, code, "%s", message);
		break;
	default: /* 1 failed, 2 bad_request, anything else */
		hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, code, "%s", message);
		break;
	}
	sanitize(r->code);
	json_decref(doc);
	return r->exit;
}

/* stdin of a streaming method: the params line, then the file's bytes,
 * a chunk at a time (ssh_channel_write waits for the peer's window).  A
 * write that fails means the service ended the call early: its reply
 * says why, so the caller reads it either way. */
static int send_stream(ssh_channel ch, const char *params, size_t plen, const char *path,
		       long long deadline, const struct hsm_rpc_endpoint *ep,
		       struct hsm_rpc_reply *r)
{
	char *buf;
	int fd, rc = 0;

	if ((plen && ssh_channel_write(ch, params, (uint32_t)plen) != (int)plen) ||
	    ssh_channel_write(ch, "\n", 1) != 1)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local", "%s: %s", path,
					  strerror(errno));
	buf = malloc(STREAM_CHUNK);
	if (!buf) {
		close(fd);
		return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local", "out of memory");
	}
	for (;;) {
		ssize_t n = read(fd, buf, STREAM_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local", "%s: %s", path,
						strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (now_ms() > deadline) {
			rc = hsm_rpc_reply_fail(r, HSM_EXIT_UNREACHABLE, "timeout",
						"%s service: sending the data took "
						"longer than the timeout",
						ep->service);
			break;
		}
		if (ssh_channel_write(ch, buf, (uint32_t)n) != (int)n)
			break; /* the service answered early */
		if (ep->sent)  /* read by the main thread for its progress line */
			__atomic_add_fetch(ep->sent, (uint64_t)n, __ATOMIC_RELAXED);
	}
	free(buf);
	close(fd);
	return rc;
}

static int run_channel(ssh_session s, const struct hsm_rpc_endpoint *ep, const char *method,
		       const char *params, size_t plen, const char *path, long long deadline,
		       int timeout, struct hsm_rpc_reply *r)
{
	ssh_channel ch = ssh_channel_new(s);
	char *out = NULL;
	size_t out_len = 0;
	uint64_t streamed = 0;
	int status, rc = -1;

	if (!ch)
		return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local", "out of memory");
	set_step_timeout(s, deadline);
	if (ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, method) != SSH_OK) {
		hsm_rpc_reply_fail(r, HSM_EXIT_UNREACHABLE, "unreachable",
				   "%s service: cannot start '%s': %s", ep->service, method,
				   ssh_get_error(s));
		goto out;
	}
	if (path) {
		if (send_stream(ch, params, plen, path, deadline, ep, r) != 0)
			goto out;
		ssh_channel_send_eof(ch); /* may fail after an early answer */
	} else if ((plen && ssh_channel_write(ch, params, (uint32_t)plen) != (int)plen) ||
		   ssh_channel_send_eof(ch) != SSH_OK) {
		hsm_rpc_reply_fail(r, HSM_EXIT_UNREACHABLE, "unreachable",
				   "%s service: sending params: %s", ep->service, ssh_get_error(s));
		goto out;
	}
	if (ep->sink) {
		if (read_streamed(ch, &out, &out_len, &streamed, (long)timeout * 1000, ep, r) < 0)
			goto out;
		deadline = now_ms() + (long long)timeout * 1000;
	} else if (read_stdout(ch, &out, &out_len, HSM_RPC_MAX_REPLY, deadline, ep, r) < 0) {
		goto out;
	}
	set_step_timeout(s, deadline);
	status = ssh_channel_get_exit_status(ch);
	if (status < 0) {
		hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "protocol",
				   "%s.%s: the service sent no exit status", ep->service, method);
		goto out;
	}
	if (status != 0 && streamed) {
		hsm_rpc_reply_fail(
		    r, HSM_EXIT_FAILED, "failed",
		    "%s.%s: the device cut the streamed reply short (exit status %d)", ep->service,
		    method, status);
		goto out;
	}
	rc = hsm_rpc_parse_reply(out, out_len, status, ep->service, method, r);
out:
	free(out);
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	return rc;
}

static int exec_call(const struct hsm_rpc_endpoint *ep, const char *method, const json_t *params,
		     const char *path, int timeout, struct hsm_rpc_reply *r);

int hsm_rpc_exec(const struct hsm_rpc_endpoint *ep, const char *method, const json_t *params,
		 int timeout, struct hsm_rpc_reply *r)
{
	return exec_call(ep, method, params, NULL, timeout, r);
}

int hsm_rpc_exec_stream(const struct hsm_rpc_endpoint *ep, const char *method, const json_t *params,
			const char *path, int timeout, struct hsm_rpc_reply *r)
{
	return exec_call(ep, method, params, path, timeout, r);
}

static int exec_call(const struct hsm_rpc_endpoint *ep, const char *method, const json_t *params,
		     const char *path, int timeout, struct hsm_rpc_reply *r)
{
	long long start, deadline;
	char *text = NULL;
	size_t plen = 0;
	ssh_session s;

	memset(r, 0, sizeof(*r));
	pthread_once(&ssh_once, ssh_init_once);
	if (timeout < 1) /* libssh reads 0 as "its default" */
		timeout = 1;
	start = now_ms();
	deadline = start + (long long)timeout * 1000;
	if (params) {
		text = json_dumps(params, JSON_COMPACT);
		if (!text)
			return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local",
						  "cannot serialise params");
		plen = strlen(text);
		if (plen > HSM_RPC_MAX_PARAMS) {
			free(text);
			return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local",
						  "params larger than %u bytes",
						  HSM_RPC_MAX_PARAMS);
		}
	}
	if (!(s = ssh_new())) {
		free(text);
		return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local", "out of memory");
	}
	if (session_options(s, ep, timeout) < 0) {
		hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local",
				   "%s service: bad address or port '%s' %u: %s", ep->service,
				   ep->address, ep->port, ssh_get_error(s));
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		hsm_rpc_reply_fail(r, HSM_EXIT_UNREACHABLE, "unreachable",
				   "%s service at %s port %u: %s", ep->service, ep->address,
				   ep->port, ssh_get_error(s));
		goto out;
	}
	if (check_host_key(s, ep, r) || (set_step_timeout(s, deadline), authenticate(s, ep, r)))
		goto out;
	run_channel(s, ep, method, text, plen, path, deadline, timeout, r);
out:
	free(text);
	ssh_disconnect(s);
	ssh_free(s);
	r->elapsed_ms = (unsigned)(now_ms() - start);
	return r->exit;
}

/* --- HSMs known to this host ---------------------------------------------- */

struct skip_ctx {
	struct hsm_ctx *ctx;
	struct hsm_fleet *fleet;
};

static void report_skip(void *arg, const char *file, const char *why)
{
	struct skip_ctx *sc = arg;

	hsm_error(sc->ctx, HSM_EXIT_USAGE, file, "%s (this HSM is skipped)", why);
	sc->fleet->config_exit = HSM_EXIT_USAGE;
	json_array_append_new(sc->fleet->config_errors,
			      json_pack("{s:s, s:s}", "file", file, "error", why));
}

const struct hsm_module *hsm_fleet_find(const struct hsm_fleet *fleet, const char *esn)
{
	for (size_t i = 0; i < fleet->count; i++)
		if (strcmp(fleet->modules[i].esn, esn) == 0)
			return &fleet->modules[i];
	return NULL;
}

void hsm_fleet_close(struct hsm_fleet *fleet)
{
	free(fleet->modules);
	json_decref(fleet->config_errors);
	memset(fleet, 0, sizeof(*fleet));
}

/* Keep only the modules named by --esn, in ESN order, each once. */
static int select_esns(struct hsm_ctx *ctx, struct hsm_fleet *fleet)
{
	size_t n = hsm_esn_count(ctx), kept = 0;
	char *want = calloc(fleet->count ? fleet->count : 1, 1);
	char esn[HSM_ESN_LEN + 1];

	if (!want)
		return hsm_error(ctx, HSM_EXIT_FAILED, "--esn", "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *arg = hsm_esn_at(ctx, i);
		const struct hsm_module *m;

		if (hsm_esn_normalize(arg, esn) < 0) {
			free(want);
			return hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
					 "'%s' is not an ESN like 1A23-BC45-6789", arg);
		}
		if (!(m = hsm_fleet_find(fleet, esn))) {
			free(want);
			return hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
					 "%s is not a known HSM (no file for it in %s/modules.d)",
					 esn, hsm_conf_dir(ctx));
		}
		want[m - fleet->modules] = 1;
	}
	for (size_t i = 0; i < fleet->count; i++)
		if (want[i])
			fleet->modules[kept++] = fleet->modules[i];
	fleet->count = kept;
	free(want);
	return 0;
}

int hsm_fleet_open(struct hsm_ctx *ctx, struct hsm_fleet *fleet)
{
	struct skip_ctx sc = { ctx, fleet };
	char why[PATH_MAX + 64];
	int rc;

	memset(fleet, 0, sizeof(*fleet));
	fleet->config_errors = json_array();
	if (hsm_modules_load(hsm_conf_dir(ctx), &fleet->modules, &fleet->count, report_skip, &sc,
			     why, sizeof(why)) < 0) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "modules.d", "%s", why);
		hsm_fleet_close(fleet);
		return rc;
	}
	if (hsm_esn_count(ctx) == 0 && fleet->count == 0) {
		rc = hsm_error(ctx, fleet->config_exit ? fleet->config_exit : HSM_EXIT_FAILED,
			       "no HSMs",
			       "%s/modules.d has no usable HSM file: add one per HSM "
			       "(hsmadmin-enroll(1), FILES)",
			       hsm_conf_dir(ctx));
		hsm_fleet_close(fleet);
		return rc;
	}
	if (hsm_esn_count(ctx) && (rc = select_esns(ctx, fleet)) != 0) {
		hsm_fleet_close(fleet);
		return rc;
	}
	return 0;
}

/* --- calls to known HSMs ---------------------------------------------------- */

int hsm_rpc_call_module(const char *home, int timeout, const struct hsm_module *m,
			const char *service, const struct hsm_client_key *key, const char *method,
			const json_t *params, struct hsm_rpc_reply *r)
{
	return hsm_rpc_call_module_stream(home, timeout, m, service, key, method, params, NULL, r);
}

/* What a call sends besides its params and where the rest of a streamed
 * reply goes (all optional): the file to stream, the counter of its bytes
 * sent, the sink of a streamed reply. */
struct call_io {
	const char *path;
	uint64_t *sent;
	hsm_rpc_sink sink;
	void *sink_arg;
};

static int call_module(const char *home, int timeout, const struct hsm_module *m,
		       const char *service, const struct hsm_client_key *key, const char *method,
		       const json_t *params, const struct call_io *io, struct hsm_rpc_reply *r);

int hsm_rpc_call_module_stream(const char *home, int timeout, const struct hsm_module *m,
			       const char *service, const struct hsm_client_key *key,
			       const char *method, const json_t *params, const char *path,
			       struct hsm_rpc_reply *r)
{
	struct call_io io = { .path = path };

	return call_module(home, timeout, m, service, key, method, params, &io, r);
}

int hsm_rpc_call_module_upload(const char *home, int timeout, const struct hsm_module *m,
			       const char *service, const struct hsm_client_key *key,
			       const char *method, const json_t *params, const char *path,
			       uint64_t *sent, struct hsm_rpc_reply *r)
{
	struct call_io io = { .path = path, .sent = sent };

	return call_module(home, timeout, m, service, key, method, params, &io, r);
}

static int call_module(const char *home, int timeout, const struct hsm_module *m,
		       const char *service, const struct hsm_client_key *key, const char *method,
		       const json_t *params, const struct call_io *io, struct hsm_rpc_reply *r)
{
	struct hsm_pins pins;
	char why[PATH_MAX + 128];
	int svc = hsm_service_lookup(service), rc;

	memset(r, 0, sizeof(*r));
	if (svc < 0)
		return hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "local", "unknown service '%s'",
					  service);
	rc = hsm_pins_load(home, m->esn, &pins, why, sizeof(why));
	if (rc < 0)
		return hsm_rpc_reply_fail(r, HSM_EXIT_AUTH, "trust", "%s", why);
	if (rc == 1)
		return hsm_rpc_reply_fail(
		    r, HSM_EXIT_STATE, "not_enrolled",
		    "not enrolled from this host: run 'hsmadmin enroll --esn %s'", m->esn);
	if (!pins.host_keys[svc]) {
		hsm_pins_clear(&pins);
		return hsm_rpc_reply_fail(
		    r, HSM_EXIT_STATE, "not_enrolled",
		    "the %s service was not enrolled: run 'hsmadmin enroll --esn %s'", service,
		    m->esn);
	}
	{
		struct hsm_rpc_endpoint ep = {
			.label = m->esn,
			.service = service,
			.address = m->address,
			.port = m->ports[svc],
			.client_key = key,
			.host_key = pins.host_keys[svc],
			.sink = io->sink,
			.sink_arg = io->sink_arg,
			.sent = io->sent,
		};
		exec_call(&ep, method, params, io->path, timeout, r);
	}
	hsm_pins_clear(&pins);
	return r->exit;
}

/* A missing key means this host never enrolled (state, 3); a key that is
 * there but unusable (permissions, garbage) is a credential failure (4). */
struct hsm_client_key *hsm_rpc_client_key(const char *home, const char *service,
					  struct hsm_rpc_reply *r)
{
	char why[PATH_MAX + 128], path[PATH_MAX];
	struct hsm_client_key *key = hsm_client_key_load_service(home, service, why, sizeof(why));

	if (key)
		return key;
	memset(r, 0, sizeof(*r));
	if (hsm_client_key_path(home, service, path, sizeof(path)) == 0 && access(path, F_OK) < 0 &&
	    errno == ENOENT)
		hsm_rpc_reply_fail(r, HSM_EXIT_STATE, "not_enrolled", "%s", why);
	else
		hsm_rpc_reply_fail(r, HSM_EXIT_AUTH, "auth", "%s client key: %s", service, why);
	return NULL;
}

int hsm_rpc_call(struct hsm_ctx *ctx, const struct hsm_module *m, const char *service,
		 const char *method, const json_t *params, struct hsm_rpc_reply *r)
{
	struct hsm_client_key *key = hsm_rpc_client_key(hsm_home(ctx), service, r);

	if (!key)
		return r->exit;
	hsm_rpc_call_module(hsm_home(ctx), hsm_timeout(ctx), m, service, key, method, params, r);
	hsm_client_key_free(key);
	return r->exit;
}

int hsm_rpc_call_sink(struct hsm_ctx *ctx, const struct hsm_module *m, const char *service,
		      const char *method, const json_t *params, hsm_rpc_sink sink, void *sink_arg,
		      struct hsm_rpc_reply *r)
{
	struct hsm_client_key *key = hsm_rpc_client_key(hsm_home(ctx), service, r);

	if (!key)
		return r->exit;
	call_module(hsm_home(ctx), hsm_timeout(ctx), m, service, key, method, params,
		    &(struct call_io){ .sink = sink, .sink_arg = sink_arg }, r);
	hsm_client_key_free(key);
	return r->exit;
}

struct fanout {
	const char *home;
	int timeout;
	const struct hsm_fleet *fleet;
	const char *service, *method;
	const json_t *params;
	const struct hsm_client_key *key;
	struct hsm_rpc_reply *replies;
};

static void fanout_one(size_t i, void *arg)
{
	struct fanout *f = arg;

	hsm_rpc_call_module(f->home, f->timeout, &f->fleet->modules[i], f->service, f->key,
			    f->method, f->params, &f->replies[i]);
}

void hsm_rpc_fanout(struct hsm_ctx *ctx, const struct hsm_fleet *fleet, const char *service,
		    const char *method, const json_t *params, struct hsm_rpc_reply *replies)
{
	hsm_rpc_fanout_each(ctx, fleet, service, method, params, replies, NULL, NULL);
}

void hsm_rpc_fanout_each(struct hsm_ctx *ctx, const struct hsm_fleet *fleet, const char *service,
			 const char *method, const json_t *params, struct hsm_rpc_reply *replies,
			 hsm_done_fn done, void *arg)
{
	struct hsm_rpc_reply first;
	struct hsm_client_key *key = hsm_rpc_client_key(hsm_home(ctx), service, &first);
	struct fanout f = {
		.home = hsm_home(ctx),
		.timeout = hsm_timeout(ctx),
		.fleet = fleet,
		.service = service,
		.method = method,
		.params = params,
		.key = key,
		.replies = replies,
	};

	if (!key) {
		for (size_t i = 0; i < fleet->count; i++) {
			replies[i] = first;
			if (done)
				done(ctx, i, arg);
		}
		return;
	}
	hsm_parallel_report(ctx, fleet->count, fanout_one, &f, done, arg);
	hsm_client_key_free(key);
}

/* --- parallel-for ------------------------------------------------------------ */

struct par {
	pthread_mutex_t lock;
	pthread_cond_t ended; /* signalled when an item is done (with ends) */
	size_t next, n;
	void (*fn)(size_t, void *);
	void *arg;
	size_t *ends; /* the items done, in the order they ended, or NULL */
	size_t nends;
};

static void *par_worker(void *p_)
{
	struct par *p = p_;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		p->fn(i, p->arg);
		if (p->ends) {
			pthread_mutex_lock(&p->lock);
			p->ends[p->nends++] = i;
			pthread_cond_signal(&p->ended);
			pthread_mutex_unlock(&p->lock);
		}
	}
}

void hsm_parallel(size_t n, void (*fn)(size_t i, void *arg), void *arg)
{
	struct par p = { .next = 0, .n = n, .fn = fn, .arg = arg };
	pthread_t tid[MAX_THREADS];
	size_t started = 0, want = n < MAX_THREADS ? n : MAX_THREADS;

	pthread_once(&ssh_once, ssh_init_once);
	if (n == 1) {
		fn(0, arg);
		return;
	}
	pthread_mutex_init(&p.lock, NULL);
	while (started < want && pthread_create(&tid[started], NULL, par_worker, &p) == 0)
		started++;
	/* Threads that could not start leave their share to this one. */
	par_worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&p.lock);
}

/* How often the waiting main thread wakes to redraw the progress line. */
#define PROGRESS_TICK_MS 200

static void wait_tick(struct par *p)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += PROGRESS_TICK_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->ended, &p->lock, &ts);
}

void hsm_waiting_count(struct hsm_ctx *ctx, size_t left, size_t n, void *arg)
{
	static const struct hsm_waiting_items hsms = { "HSM", "HSMs" };
	const struct hsm_waiting_items *w = arg ? arg : &hsms;

	if (n == 1)
		hsm_progress(ctx, "waiting for the %s", w->one);
	else
		hsm_progress(ctx, "waiting for %zu of %zu %s", left, n, w->many);
}

void hsm_parallel_report(struct hsm_ctx *ctx, size_t n, void (*fn)(size_t i, void *arg), void *arg,
			 hsm_done_fn done, void *done_arg)
{
	hsm_parallel_report_with(ctx, n, fn, arg, done, done_arg, NULL, NULL);
}

void hsm_parallel_report_with(struct hsm_ctx *ctx, size_t n, void (*fn)(size_t i, void *arg),
			      void *arg, hsm_done_fn done, void *done_arg, hsm_waiting_fn waiting,
			      void *waiting_arg)
{
	struct par p = { .next = 0, .n = n, .fn = fn, .arg = arg };
	pthread_condattr_t ca;
	pthread_t tid[MAX_THREADS];
	size_t started = 0, reported = 0, want = n < MAX_THREADS ? n : MAX_THREADS;
	/* Under --json nothing is printed as it comes, and the first error of
	 * the document must not depend on timing: index order, at the end. */
	int in_order_of_ending = !hsm_json_mode(ctx);

	pthread_once(&ssh_once, ssh_init_once);
	if (n == 0)
		return;
	if (!(p.ends = calloc(n, sizeof(*p.ends)))) {
		/* No room to track the order: the plain form, then report all. */
		hsm_parallel(n, fn, arg);
		for (size_t i = 0; done && i < n; i++)
			done(ctx, i, done_arg);
		return;
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p.ended, &ca);
	pthread_condattr_destroy(&ca);
	while (started < want && pthread_create(&tid[started], NULL, par_worker, &p) == 0)
		started++;
	if (!waiting)
		waiting = hsm_waiting_count;
	if (started == 0) /* no thread at all: do the work here, then report */
		par_worker(&p);
	waiting(ctx, n, n, waiting_arg); /* starts the clock */
	pthread_mutex_lock(&p.lock);
	while (reported < n) {
		size_t i;
		if (reported == p.nends) {
			wait_tick(&p);
			if (reported == p.nends) {
				pthread_mutex_unlock(&p.lock);
				waiting(ctx, n - reported, n, waiting_arg);
				pthread_mutex_lock(&p.lock);
			}
			continue;
		}
		i = p.ends[reported++];
		pthread_mutex_unlock(&p.lock);
		if (done && in_order_of_ending)
			done(ctx, i, done_arg);
		pthread_mutex_lock(&p.lock);
	}
	pthread_mutex_unlock(&p.lock);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	hsm_progress_done(ctx);
	for (size_t i = 0; done && !in_order_of_ending && i < n; i++)
		done(ctx, i, done_arg);
	pthread_cond_destroy(&p.ended);
	pthread_mutex_destroy(&p.lock);
	free(p.ends);
}
