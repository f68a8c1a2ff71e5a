/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test-transport.c - hsm_rpc_exec against an in-process libssh
 * server on 127.0.0.1 that can misbehave on purpose: wrong host key, key
 * refused, error envelopes, garbage, oversized and missing replies,
 * silence, a peer that never speaks SSH.  hsmd's well-behaved answers are
 * covered by tests/integration/platform-*.sh; this covers the hostile ones.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "hostkeys.h"
#include "transport.h"
#include "tap.h"

/* The message API is the shortest way to write a test server; hsmd uses
 * the callback API. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

enum mode {
	MODE_OK,
	MODE_STATE,
	MODE_BADREQ,
	MODE_DENIED,
	MODE_GARBAGE,
	MODE_ARRAY,
	MODE_DUP,
	MODE_BADERR,
	MODE_CTRL,
	MODE_BIG,
	MODE_SILENT,
	MODE_NOSTATUS,
	MODE_STDERR
};

static struct server {
	int lfd;
	unsigned port;
	ssh_bind bind;
	char host_key[160];
	char authorized[160];
	atomic_int mode;
	atomic_int auth_attempts;
	atomic_int active;
	atomic_int stop;
	pthread_t thread;
} srv;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int listen_loopback(unsigned *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static ssh_key import_line(const char *line)
{
	ssh_key k = NULL;

	if (strncmp(line, "ssh-ed25519 ", 12) != 0 ||
	    ssh_pki_import_pubkey_base64(line + 12, SSH_KEYTYPE_ED25519, &k) != SSH_OK)
		return NULL;
	return k;
}

static void key_line(ssh_key k, char *buf, size_t len)
{
	char *b64 = NULL;

	ssh_pki_export_pubkey_base64(k, &b64);
	snprintf(buf, len, "ssh-ed25519 %s", b64 ? b64 : "");
	ssh_string_free_char(b64);
}

static void reply_default(ssh_message m)
{
	ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
	ssh_message_reply_default(m);
}

static int authenticate(ssh_session s)
{
	ssh_message m;

	while ((m = ssh_message_get(s))) {
		int done = 0;
		if (ssh_message_type(m) == SSH_REQUEST_AUTH &&
		    ssh_message_subtype(m) == SSH_AUTH_METHOD_PUBLICKEY) {
			ssh_key want = import_line(srv.authorized);
			int match = want && ssh_key_cmp(ssh_message_auth_pubkey(m), want,
							SSH_KEY_CMP_PUBLIC) == 0;
			enum ssh_publickey_state_e st = ssh_message_auth_publickey_state(m);

			atomic_fetch_add(&srv.auth_attempts, 1);
			ssh_key_free(want);
			if (match && st == SSH_PUBLICKEY_STATE_NONE)
				ssh_message_auth_reply_pk_ok_simple(m);
			else if (match && st == SSH_PUBLICKEY_STATE_VALID)
				done = ssh_message_auth_reply_success(m, 0) == SSH_OK;
			else
				reply_default(m);
		} else {
			reply_default(m);
		}
		ssh_message_free(m);
		if (done)
			return 0;
	}
	return -1;
}

static ssh_channel open_exec(ssh_session s, char *cmd, size_t len)
{
	ssh_channel ch = NULL;
	ssh_message m;

	while (!ch && (m = ssh_message_get(s))) {
		if (ssh_message_type(m) == SSH_REQUEST_CHANNEL_OPEN &&
		    ssh_message_subtype(m) == SSH_CHANNEL_SESSION)
			ch = ssh_message_channel_request_open_reply_accept(m);
		else
			ssh_message_reply_default(m);
		ssh_message_free(m);
	}
	while (ch && (m = ssh_message_get(s))) {
		if (ssh_message_type(m) == SSH_REQUEST_CHANNEL &&
		    ssh_message_subtype(m) == SSH_CHANNEL_REQUEST_EXEC) {
			snprintf(cmd, len, "%s", ssh_message_channel_request_command(m));
			ssh_message_channel_request_reply_success(m);
			ssh_message_free(m);
			return ch;
		}
		ssh_message_reply_default(m);
		ssh_message_free(m);
	}
	return NULL;
}

static void send_reply(ssh_channel ch, const char *out, int status)
{
	ssh_channel_write(ch, out, (uint32_t)strlen(out));
	if (status >= 0)
		ssh_channel_request_send_exit_status(ch, status);
	ssh_channel_send_eof(ch);
}

static void send_big(ssh_channel ch)
{
	static char spaces[65536];
	size_t sent = 0;

	memset(spaces, ' ', sizeof(spaces));
	while (sent <= HSM_RPC_MAX_REPLY && ssh_channel_write(ch, spaces, sizeof(spaces)) > 0)
		sent += sizeof(spaces);
	send_reply(ch, "{}", 0);
}

static void respond(ssh_channel ch, const char *cmd, const char *params)
{
	static char out[70000];
	const char *text = out;
	int status = 0;

	switch (atomic_load(&srv.mode)) {
	case MODE_OK:
		snprintf(out, sizeof(out), "{\"method\":\"%s\",\"params\":%s}", cmd,
			 *params ? params : "{}");
		break;
	case MODE_STATE:
		text = "{\"error\":{\"code\":\"refused_state\",\"message\":\"HSM is in factory "
		       "state: only enroll is accepted\"}}";
		status = 3;
		break;
	case MODE_BADREQ:
		text = "{\"error\":{\"code\":\"bad_request\",\"message\":\"unknown method\"}}";
		status = 2;
		break;
	case MODE_DENIED:
		text = "{\"error\":{\"code\":\"denied\",\"message\":\"not for you\"}}";
		status = 4;
		break;
	case MODE_GARBAGE:
		text = "this is not JSON";
		break;
	case MODE_ARRAY:
		text = "[1,2]";
		break;
	case MODE_DUP:
		text = "{\"op\":\"read\",\"op\":\"erase\"}";
		break;
	case MODE_BADERR:
		text = "{\"oops\":1}";
		status = 3;
		break;
	case MODE_CTRL:
		text = "{\"error\":{\"code\":\"failed\",\"message\":\"\\u001b[31mred\\nsecond "
		       "line\"}}";
		status = 1;
		break;
	case MODE_BIG:
		send_big(ch);
		return;
	case MODE_NOSTATUS:
		text = "{}";
		status = -1;
		break;
	case MODE_STDERR: {
		/* More noise on stderr than a client should ever hold. */
		static char noise[65536];
		memset(noise, 'e', sizeof(noise));
		for (int i = 0; i < 64; i++)
			ssh_channel_write_stderr(ch, noise, sizeof(noise));
		text = "{\"quiet\":false}";
		break;
	}
	case MODE_SILENT: {
		char buf[64];
		long long until = now_ms() + 8000;
		/* Say nothing until the client gives up. */
		while (!atomic_load(&srv.stop) && now_ms() < until &&
		       ssh_channel_read_timeout(ch, buf, sizeof(buf), 0, 100) >= 0 &&
		       !ssh_channel_is_closed(ch) && ssh_is_connected(ssh_channel_get_session(ch)))
			usleep(1000);
		return;
	}
	}
	send_reply(ch, text, status);
}

static void *serve(void *arg)
{
	ssh_session s = arg;
	ssh_channel ch = NULL;
	char cmd[128], params[65536 + 1];
	size_t len = 0;

	if (ssh_handle_key_exchange(s) != SSH_OK || authenticate(s) < 0 ||
	    !(ch = open_exec(s, cmd, sizeof(cmd))))
		goto out;
	for (;;) {
		int n = ssh_channel_read_timeout(ch, params + len,
						 (uint32_t)(sizeof(params) - 1 - len), 0, 5000);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(params) - 1)
			break;
	}
	params[len] = '\0';
	respond(ch, cmd, params);
	/* Let the client read everything and hang up first: closing with its
	 * window adjustments unread would reset the connection under it.  The
	 * session ends here, so its bytes are simply drained. */
	if (atomic_load(&srv.mode) != MODE_NOSTATUS && atomic_load(&srv.mode) != MODE_SILENT) {
		long long until = now_ms() + 5000;
		struct pollfd p = { .fd = ssh_get_fd(s), .events = POLLIN };
		char buf[4096];

		while (now_ms() < until && poll(&p, 1, 100) >= 0)
			if ((p.revents & (POLLIN | POLLHUP | POLLERR)) &&
			    recv(p.fd, buf, sizeof(buf), 0) <= 0)
				break;
	}
	ssh_channel_close(ch);
out:
	if (ch)
		ssh_channel_free(ch);
	ssh_disconnect(s);
	ssh_free(s);
	atomic_fetch_sub(&srv.active, 1);
	return NULL;
}

static void *accept_loop(void *arg)
{
	while (!atomic_load(&srv.stop)) {
		struct pollfd p = { .fd = srv.lfd, .events = POLLIN };
		pthread_t t;
		ssh_session s;
		int fd;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		s = ssh_new();
		if (ssh_bind_accept_fd(srv.bind, s, fd) != SSH_OK) {
			ssh_free(s);
			close(fd);
			continue;
		}
		atomic_fetch_add(&srv.active, 1);
		if (pthread_create(&t, NULL, serve, s) != 0) {
			atomic_fetch_sub(&srv.active, 1);
			ssh_free(s);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

static int server_start(const struct hsm_client_key *client)
{
	ssh_key hk = NULL;
	bool no = false;
	char *pub = hsm_client_key_public(client);

	snprintf(srv.authorized, sizeof(srv.authorized), "%s", pub);
	free(pub);
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &hk) != SSH_OK)
		return -1;
	{
		ssh_key pubk = NULL;
		ssh_pki_export_privkey_to_pubkey(hk, &pubk);
		key_line(pubk, srv.host_key, sizeof(srv.host_key));
		ssh_key_free(pubk);
	}
	srv.bind = ssh_bind_new();
	if (ssh_bind_options_set(srv.bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
	    ssh_bind_options_set(srv.bind, SSH_BIND_OPTIONS_IMPORT_KEY, hk) != SSH_OK)
		return -1;
	if ((srv.lfd = listen_loopback(&srv.port)) < 0)
		return -1;
	return pthread_create(&srv.thread, NULL, accept_loop, NULL);
}

static void server_stop(void)
{
	long long until = now_ms() + 10000;

	atomic_store(&srv.stop, 1);
	pthread_join(srv.thread, NULL);
	while (atomic_load(&srv.active) > 0 && now_ms() < until)
		usleep(10000);
	close(srv.lfd);
	ssh_bind_free(srv.bind);
}

static struct hsm_client_key *client;

static int call(enum mode mode, const char *pin, const struct hsm_client_key *key,
		const json_t *params, int timeout, struct hsm_rpc_reply *r)
{
	struct hsm_rpc_endpoint ep = {
		.label = "1A23-BC45-6789",
		.service = "setup",
		.address = "127.0.0.1",
		.port = srv.port,
		.client_key = key,
		.host_key = pin,
	};

	atomic_store(&srv.mode, mode);
	return hsm_rpc_exec(&ep, "status", params, timeout, r);
}

static void test_success(void)
{
	struct hsm_rpc_reply r;
	json_t *params = json_pack("{s:s, s:i}", "log", "system", "n", 7);

	TAP_INT_EQ(call(MODE_OK, srv.host_key, client, params, 10, &r), 0, "pinned call succeeds");
	TAP_STR_EQ(json_string_value(json_object_get(r.result, "method")), "status",
		   "the exec command is the method name");
	tap_ok(json_equal(json_object_get(r.result, "params"), params),
	       "params arrive as JSON on stdin");
	TAP_STR_EQ(r.host_key, srv.host_key, "the presented host key is reported");
	hsm_rpc_reply_clear(&r);
	json_decref(params);

	TAP_INT_EQ(call(MODE_OK, srv.host_key, client, NULL, 10, &r), 0, "call without params");
	tap_ok(json_is_object(json_object_get(r.result, "params")) &&
		   json_object_size(json_object_get(r.result, "params")) == 0,
	       "no params: empty stdin");
	hsm_rpc_reply_clear(&r);

	TAP_INT_EQ(call(MODE_OK, NULL, client, NULL, 10, &r), 0, "unpinned first contact succeeds");
	TAP_STR_EQ(r.host_key, srv.host_key, "unpinned: the host key is captured for checking");
	hsm_rpc_reply_clear(&r);
}

static void test_trust(void)
{
	struct hsm_rpc_reply r;
	struct hsm_client_key *other = hsm_client_key_generate(NULL, 0);
	char *wrong = hsm_client_key_public(other);
	int before = atomic_load(&srv.auth_attempts);

	TAP_INT_EQ(call(MODE_OK, wrong, client, NULL, 10, &r), HSM_EXIT_AUTH,
		   "wrong host key: exit 4");
	TAP_STR_EQ(r.code, "trust", "wrong host key: code trust");
	tap_ok(strstr(r.message, "setup host key does not match the key pinned") != NULL,
	       "wrong host key: message names the service (%s)", r.message);
	TAP_INT_EQ(atomic_load(&srv.auth_attempts), before,
		   "wrong host key: our key is never offered to the impostor");
	tap_ok(r.result == NULL, "wrong host key: no result");
	hsm_rpc_reply_clear(&r);

	TAP_INT_EQ(call(MODE_OK, "ssh-ed25519 !!", client, NULL, 10, &r), HSM_EXIT_AUTH,
		   "malformed pin: exit 4");
	hsm_rpc_reply_clear(&r);

	TAP_INT_EQ(call(MODE_OK, srv.host_key, other, NULL, 10, &r), HSM_EXIT_AUTH,
		   "client key refused: exit 4");
	TAP_STR_EQ(r.code, "auth", "client key refused: code auth");
	tap_ok(strstr(r.message, "refused this host's setup client key") != NULL,
	       "client key refused: says so (%s)", r.message);
	hsm_rpc_reply_clear(&r);
	free(wrong);
	hsm_client_key_free(other);
}

/* Checks of a reply beyond its exit status and the words of its message. */
static void message_is_factory(const struct hsm_rpc_reply *r)
{
	TAP_STR_EQ(r->message, "HSM is in factory state: only enroll is accepted",
		   "refused_state: message");
}
static void message_is_clean(const struct hsm_rpc_reply *r)
{
	tap_ok(!strchr(r->message, '\033') && !strchr(r->message, '\n'),
	       "device message cleaned to one printable line (%s)", r->message);
}
static void result_kept(const struct hsm_rpc_reply *r)
{
	tap_ok(json_is_false(json_object_get(r->result, "quiet")), "... with the stdout result");
}

/* Each way a device can answer badly: what the call returns (exit status),
 * the error code kept (code), the words its message must hold (has), and
 * any further check. */
static const struct device_error {
	enum mode mode;
	int timeout, exit;
	const char *exit_name, *code, *code_name, *has, *has_name;
	void (*check)(const struct hsm_rpc_reply *r);
} device_errors[] = {
	{ MODE_STATE, 10, HSM_EXIT_STATE, "refused_state: exit 3", "refused_state",
	  "refused_state: device code kept", NULL, NULL, message_is_factory },
	{ MODE_BADREQ, 10, HSM_EXIT_FAILED, "bad_request: exit 1", NULL, NULL, NULL, NULL, NULL },
	{ MODE_DENIED, 10, HSM_EXIT_AUTH, "denied: exit 4", NULL, NULL, NULL, NULL, NULL },
	{ MODE_CTRL, 10, HSM_EXIT_FAILED, "failed: exit 1", NULL, NULL, NULL, NULL,
	  message_is_clean },
	{ MODE_GARBAGE, 10, HSM_EXIT_FAILED, "not JSON: exit 1", "protocol",
	  "not JSON: protocol error", NULL, NULL, NULL },
	{ MODE_ARRAY, 10, HSM_EXIT_FAILED, "array result refused", NULL, NULL, NULL, NULL, NULL },
	{ MODE_DUP, 10, HSM_EXIT_FAILED, "duplicate keys refused", NULL, NULL, "duplicate",
	  "duplicate keys: says so", NULL },
	{ MODE_BADERR, 10, HSM_EXIT_FAILED, "non-zero exit without an error envelope: exit 1",
	  "protocol", "malformed envelope: protocol error", NULL, NULL, NULL },
	{ MODE_NOSTATUS, 10, HSM_EXIT_FAILED, "no exit status: exit 1", NULL, NULL,
	  "no exit status", "no exit status: says so", NULL },
	{ MODE_STDERR, 20, 0, "4 MiB on stderr: ignored, call succeeds", NULL, NULL, NULL, NULL,
	  result_kept },
	{ MODE_BIG, 20, HSM_EXIT_FAILED, "oversized reply: exit 1", NULL, NULL, "larger than",
	  "oversized reply: stops reading", NULL },
};

static void test_errors(void)
{
	struct hsm_rpc_reply r;

	for (size_t i = 0; i < sizeof(device_errors) / sizeof(device_errors[0]); i++) {
		const struct device_error *e = &device_errors[i];

		TAP_INT_EQ(call(e->mode, srv.host_key, client, NULL, e->timeout, &r), e->exit,
			   e->exit_name);
		if (e->code)
			TAP_STR_EQ(r.code, e->code, e->code_name);
		if (e->has)
			tap_ok(strstr(r.message, e->has) != NULL, "%s (%s)", e->has_name,
			       r.message);
		if (e->check)
			e->check(&r);
		hsm_rpc_reply_clear(&r);
	}
	{
		json_t *big = json_pack("{s:s%}", "x", "", (size_t)0);
		char *s = malloc(HSM_RPC_MAX_PARAMS + 1);
		memset(s, 'a', HSM_RPC_MAX_PARAMS);
		s[HSM_RPC_MAX_PARAMS] = '\0';
		json_object_set_new(big, "x", json_string(s));
		TAP_INT_EQ(call(MODE_OK, srv.host_key, client, big, 10, &r), HSM_EXIT_FAILED,
			   "params over 64 KiB are not sent");
		hsm_rpc_reply_clear(&r);
		json_decref(big);
		free(s);
	}
}

static void test_unreachable(void)
{
	struct hsm_rpc_reply r;
	struct hsm_rpc_endpoint ep = {
		.label = "1A23-BC45-6789",
		.service = "monitor",
		.address = "127.0.0.1",
		.client_key = client,
		.host_key = srv.host_key,
	};
	unsigned port;
	long long t0;
	int fd;

	t0 = now_ms();
	TAP_INT_EQ(call(MODE_SILENT, srv.host_key, client, NULL, 1, &r), HSM_EXIT_UNREACHABLE,
		   "silent service: exit 5");
	tap_ok(now_ms() - t0 < 2500, "silent service: gives up within the timeout (%lld ms)",
	       now_ms() - t0);
	tap_ok(strstr(r.message, "timeout") != NULL, "silent service: says timeout (%s)",
	       r.message);
	hsm_rpc_reply_clear(&r);

	/* Nothing listening: refused at once. */
	fd = listen_loopback(&port);
	close(fd);
	ep.port = port;
	t0 = now_ms();
	TAP_INT_EQ(hsm_rpc_exec(&ep, "logs_get", NULL, 5, &r), HSM_EXIT_UNREACHABLE,
		   "closed port: exit 5");
	TAP_STR_EQ(r.code, "unreachable", "closed port: code unreachable");
	tap_ok(strstr(r.message, "monitor service at 127.0.0.1 port") != NULL,
	       "closed port: names service, address and port (%s)", r.message);
	hsm_rpc_reply_clear(&r);

	/* A listener that accepts TCP but never speaks SSH. */
	fd = listen_loopback(&port);
	ep.port = port;
	t0 = now_ms();
	TAP_INT_EQ(hsm_rpc_exec(&ep, "logs_get", NULL, 1, &r), HSM_EXIT_UNREACHABLE,
		   "mute peer: exit 5");
	tap_ok(now_ms() - t0 < 2500, "mute peer: gives up within the timeout (%lld ms)",
	       now_ms() - t0);
	hsm_rpc_reply_clear(&r);
	close(fd);
}

struct par_arg {
	struct hsm_rpc_reply r[12];
};

static void par_one(size_t i, void *arg)
{
	struct par_arg *p = arg;
	json_t *params = json_pack("{s:I}", "i", (json_int_t)i);
	struct hsm_rpc_endpoint ep = {
		.label = "1A23-BC45-6789",
		.service = "setup",
		.address = "127.0.0.1",
		.port = srv.port,
		.client_key = client,
		.host_key = srv.host_key,
	};

	hsm_rpc_exec(&ep, "info", params, 10, &p->r[i]);
	json_decref(params);
}

static void test_parallel(void)
{
	struct par_arg p;
	int ok = 1;

	atomic_store(&srv.mode, MODE_OK);
	memset(&p, 0, sizeof(p));
	hsm_parallel(12, par_one, &p);
	for (int i = 0; i < 12; i++) {
		json_t *got = json_object_get(json_object_get(p.r[i].result, "params"), "i");
		if (p.r[i].exit != 0 || json_integer_value(got) != i)
			ok = 0;
		hsm_rpc_reply_clear(&p.r[i]);
	}
	tap_ok(ok, "12 calls in parallel each get their own answer");
	TAP_INT_EQ(hsm_exit_worst(HSM_EXIT_STATE, HSM_EXIT_UNREACHABLE), HSM_EXIT_UNREACHABLE,
		   "worst exit code");
	TAP_INT_EQ(hsm_exit_worst(0, HSM_EXIT_FAILED), HSM_EXIT_FAILED,
		   "worst exit code with success");
}

/* A malformed error envelope is named in our words (the field), never
 * with the JSON library's text. */
static void test_malformed_error(void)
{
	static const struct {
		const char *out, *want;
	} cases[] = {
		{ "{\"error\":{\"code\":\"x\"}}",
		  "malformed error: missing field 'error.message'" },
		{ "{\"error\":{\"code\":\"x\",\"message\":5}}",
		  "malformed error: field 'error.message': expected string, got integer" },
		{ "{\"error\":{\"code\":\"x\",\"message\":\"m\"},\"more\":1}",
		  "malformed error: unknown field 'more'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hsm_rpc_reply r;
		memset(&r, 0, sizeof(r));
		int rc = hsm_rpc_parse_reply(cases[i].out, strlen(cases[i].out), 3, "setup",
					     "settime", &r);
		tap_ok(rc == HSM_EXIT_FAILED, "malformed error envelope %zu: exit 1 (%d)", i, rc);
		tap_ok(strstr(r.message, cases[i].want) != NULL &&
			   !strstr(r.message, "Object item") && !strstr(r.message, "Expected"),
		       "... names the field: %s", r.message);
		hsm_rpc_reply_clear(&r);
	}
}

int main(void)
{
	char err[256];

	ssh_init();
	if (!(client = hsm_client_key_generate(err, sizeof(err))) || server_start(client) != 0) {
		printf("Bail out! cannot start the test SSH server\n");
		return 1;
	}
	test_malformed_error();
	test_success();
	test_trust();
	test_errors();
	test_unreachable();
	test_parallel();
	server_stop();
	hsm_client_key_free(client);
	ssh_finalize();
	return tap_done();
}
