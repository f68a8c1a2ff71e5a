/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmproc.c - `hsmd vcm`: one VCM's process.  Started by the supervisor
 * (vcmhost.c), never by hand in normal use: it serves the VCM's end-user
 * services (sshadmin, ncoreapi, monitor) on the VCM's own address from
 * the VCM's own state directory, and reports on the status fd.
 *
 * The state directory has the shape of an HSM's (lifetime.json,
 * identity.pem, device.json, logs), so the store, the gate and the server
 * are the ones the platform uses: a VCM is an HSM to its tenant.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "lines.h"
#include "server.h"
#include "services.h"
#include "vcmhost.h"
#include "vcmlines.h"
#include "vcmrules.h"
#include "vcmuser.h"

static int status_fd = -1;
static int platform_fd = -1;
static struct hd_lines platform_lines;
static int reported_operational = -1;
static uint64_t seen_generation = (uint64_t)-1;
static int ncoreapi_withdrawn;

/* One status line, WORD or "WORD TEXT", into buf: its length with the
 * '\n', or 0 when it does not fit. */
static size_t status_text(char *buf, size_t len, const char *word, const char *text)
{
	int n = snprintf(buf, len, "%s%s%s\n", word, text ? " " : "", text ? text : "");

	if (n <= 0 || (size_t)n >= len)
		return 0;
	/* One printable line (vcmlines.h): a newline inside a reason would
	 * split it, another control character make it malformed. */
	for (int i = 0; i < n - 1; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = ' ';
	return (size_t)n;
}

static void send_status(const char *buf, size_t n)
{
	if (status_fd >= 0 && n && write(status_fd, buf, n) != (ssize_t)n)
		hd_log("status fd: %s", strerror(errno));
}

static void report(const char *word, const char *text)
{
	char line[600];

	send_status(line, status_text(line, sizeof(line), word, text));
}

/* The test hook of the status pipe (hsmd(8), DESCRIPTION): with
 * HSMD_VCM_STATUS_ONE_WRITE=1 a VCM process writes its first two status
 * lines, "ready" and its ncoreapi state, with one write(), so that the
 * supervisor reads them in one read, as it often does anyway. */
static int one_write_requested(void)
{
	const char *on = secure_getenv("HSMD_VCM_STATUS_ONE_WRITE");

	return on && strcmp(on, "1") == 0;
}

/* The other test hook of the status pipe (hsmd(8), DESCRIPTION): with
 * HSMD_VCM_STATUS_NOISE=before or after a VCM process writes hostile
 * lines ("ready" and a NUL byte, unknown ones, one with a control
 * character, an over-long one ending in "ready") before its first status
 * line or after its
 * first two, as a VCM whose tenant-facing code went wrong could: the
 * supervisor must refuse the start, or ignore them and log one line. */
static void status_noise(const char *when)
{
	static const char lines[] = "ready\0junk\nplatformX\nerror\nerror \n"
				    "ncoreapi operational\r\nfrobnicate a b c\n";
	const char *on = secure_getenv("HSMD_VCM_STATUS_NOISE");
	char big[4096 + 6];

	if (!on || strcmp(on, when) != 0)
		return;
	memset(big, 'x', 4096);
	memcpy(big + 4096, "ready\n", 6);
	send_status(lines, sizeof(lines) - 1);
	send_status(big, sizeof(big));
}

/* ncoreapi is operational when a tenant can use it: a client key is
 * installed (the tenant enrolled) and the module is in operational mode. */
static int ncoreapi_operational(const struct hd_store *st)
{
	const char *mode = json_string_value(json_object_get(st->device, "mode"));

	/* In the HSM's monitor only state ncoreapi is terminated
	 * (guide 4.12.1): it serves nothing and holds no interlock. */
	if (st->hsm_critical)
		return 0;
	return json_object_get(json_object_get(st->device, "client_keys"), "ncoreapi") && mode &&
	       strcmp(mode, "operational") == 0;
}

/* Tell the supervisor when ncoreapi's state changed. */
static void report_operational(const struct hd_store *st)
{
	int op = ncoreapi_operational(st);

	seen_generation = st->generation;
	if (op == reported_operational)
		return;
	reported_operational = op;
	report("ncoreapi", op ? "operational" : "stopped");
}

/* One line from the supervisor: "platform" and the words that hold of
 * the HSM (vcmhost.c, tell_platform); the last one counts.  said keeps
 * the line as it came, to be echoed. */
static void platform_said(struct hd_store *st, const char *line, char *said, size_t saidlen)
{
	struct hd_platform pf;

	if (!hd_platform_parse(line, &pf))
		return;
	snprintf(said, saidlen, "%s", line);
	st->hsm_clock_lost = pf.clock_lost;
	st->hsm_critical = pf.critical;
}

/* Take what the supervisor wrote on the platform pipe (non-blocking):
 * said is the last line taken ("" for none); eof set when the supervisor
 * closed the pipe. */
static void read_platform(struct hd_store *st, char *said, size_t saidlen, int *eof)
{
	char *line;
	ssize_t n;

	said[0] = '\0';
	*eof = platform_fd < 0;
	if (platform_fd < 0)
		return;
	do {
		while ((line = hd_lines_next(&platform_lines)))
			platform_said(st, line, said, saidlen);
	} while ((n = hd_lines_fill(platform_fd, &platform_lines)) > 0);
	*eof = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* What the monitor only state (guide 4.12.1, 4.17.1: "ncoreapi service
 * terminated") does to ncoreapi: it no longer listens, like a service
 * the HSM does not run, and its sessions end.  Until the process ends:
 * only the HSM's boot ends that state, and it restarts every VCM. */
#define NCOREAPI_TERMINATED "ncoreapi terminated: the HSM's logs are past their critical capacity"

/* The platform pipe is readable (the server's watch hook): the HSM's state
 * applies at once; then ncoreapi's state and the line taken are echoed on
 * the status pipe, which the supervisor awaits before the call that
 * changed the HSM's state returns (hsmd(8), VCMs). */
static int on_platform(struct hd_store *st, struct hd_server *srv)
{
	char said[128];
	int eof;

	read_platform(st, said, sizeof(said), &eof);
	if (said[0]) {
		if (st->hsm_critical && !ncoreapi_withdrawn) {
			hd_server_withdraw(srv, "ncoreapi", NCOREAPI_TERMINATED);
			ncoreapi_withdrawn = 1;
		}
		report_operational(st);
		report(said, NULL);
	}
	if (eof)
		hd_log("platform pipe: closed by hsmd");
	return eof ? -1 : 0;
}

static void on_boot(struct hd_store *st, int ok, const char *why)
{
	char buf[64];
	size_t n, m;

	status_noise("before");
	if (!ok) {
		report("error", why && *why ? why : "no service could be started");
		return;
	}
	seen_generation = st->generation;
	reported_operational = ncoreapi_operational(st);
	n = status_text(buf, sizeof(buf), "ready", NULL);
	m = status_text(buf + n, sizeof(buf) - n, "ncoreapi",
			reported_operational ? "operational" : "stopped");
	if (one_write_requested()) {
		send_status(buf, n + m);
	} else {
		send_status(buf, n);
		send_status(buf + n, m);
	}
	status_noise("after");
}

/* The VCM's own state changed (a commit): ncoreapi's state may have. */
static void on_tick(struct hd_store *st)
{
	if (st->generation != seen_generation)
		report_operational(st);
}

/* Keep the VCM's services at the front of the array; serve only those.
 * In the HSM's monitor only state ncoreapi is not among them. */
static size_t select_services(struct hd_loaded_service *svcs, size_t n, const json_t *ports,
			      int critical)
{
	size_t keep = 0;

	for (size_t i = 0; i < n; i++)
		if (json_object_get(ports, svcs[i].name) &&
		    !(critical && strcmp(svcs[i].name, "ncoreapi") == 0)) {
			struct hd_loaded_service t = svcs[keep];
			svcs[keep] = svcs[i];
			svcs[i] = t;
			keep++;
		}
	return keep;
}

/* Starting a VCM boots its module.  Maintenance mode, which the interlock
 * demanded so that the VCM could be stopped, ends with the boot: the
 * module comes back in the mode it served in before (operational), like an
 * HSM after a reset.  Initialization mode and a failure are kept. */
static int resume_mode(struct hd_store *st, char *err, size_t errlen)
{
	const char *mode = json_string_value(json_object_get(st->device, "mode"));
	json_t *doc;

	if (!mode || strcmp(mode, "maintenance") != 0)
		return 0;
	doc = json_deep_copy(st->device);
	if (!doc)
		return hsm_set_err(err, errlen, "out of memory");
	json_object_set_new(doc, "mode", json_string("operational"));
	return hd_store_commit(st, doc, "set_mode",
			       json_pack("{s:s, s:s, s:s}", "mode", "operational", "previous",
					 "maintenance", "by", "start"),
			       err, errlen);
}

/* The critical log level latches until the module boots with its logs
 * below it (guide 4.12.1: "reboot the HSM to clear the error state"); the
 * platform's boot is its reset, a VCM's is its start.  Without this a VCM
 * that saw the critical level kept refusing everything but its logs, its
 * ncoreapi among them: its tenant could not put it into maintenance mode,
 * and while it held the interlock the HSM could not be reset. */
static int clear_critical(struct hd_store *st, char *err, size_t errlen)
{
	json_t *doc;

	if (!json_is_true(json_object_get(json_object_get(st->device, "log"), "critical")) ||
	    hd_log_level_of(hd_store_log_used(st), st->cfg->log_capacity, st->cfg->log_safe_percent,
			    st->cfg->log_critical_percent) == HD_LOG_CRITICAL)
		return 0;
	doc = json_deep_copy(st->device);
	if (!doc)
		return hsm_set_err(err, errlen, "out of memory");
	json_object_set_new(json_object_get(doc, "log"), "critical", json_false());
	return hd_store_commit(st, doc, NULL, NULL, err, errlen);
}

static void vcm_help(void)
{
	printf("Usage: hsmd vcm --state DIR [--conf DIR] [--image DIR] "
	       "[--status-fd N] [--platform-fd N] [--user UID]\n"
	       "Serve one VCM (started by hsmd's VCM supervisor, see hsmd(8)).\n");
}

/* The pipes the supervisor hands a VCM process, by option. */
struct fd_option {
	const char *name;
	int *fd;
};
static struct fd_option status_fd_option = { "--status-fd", &status_fd };
static struct fd_option platform_fd_option = { "--platform-fd", &platform_fd };

static int take_fd(const char *cmd, const char *arg, void *data)
{
	const struct fd_option *o = data;
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 3 || v > 1023)
		return hd_usage(cmd, "%s: '%s' is not a descriptor 3-1023", o->name, arg);
	*o->fd = (int)v;
	return 0;
}

static int take_user(const char *cmd, const char *arg, void *data)
{
	if (hd_vcmuser_parse(arg, data) != 0)
		return hd_usage(cmd, "--user: '%s' is not a uid 1000-4294967294", arg);
	return 0;
}

int hd_vcm_main(int argc, char **argv)
{
	const char *state = NULL, *confdir = HSMADMIN_SYSCONFDIR, *image = NULL;
	uid_t uid = 0;
	const struct hd_opt opts[] = {
		{ .name = "state", .str = &state, .required = "--state DIR" },
		{ .name = "conf", .str = &confdir },
		{ .name = "status-fd", .take = take_fd, .data = &status_fd_option },
		{ .name = "platform-fd", .take = take_fd, .data = &platform_fd_option },
		{ .name = "user", .take = take_user, .data = &uid },
		{ .name = "image", .str = &image },
	};
	struct hd_config cfg;
	struct hd_store st;
	struct hd_loaded_service *svcs = NULL;
	size_t nsvcs = 0, nserve;
	char mods[4400];
	char err[HD_ERRLEN];
	int rc, drop;

	if ((rc = hd_cmdline_parse("vcm", argc, argv, opts, HD_NOPTS(opts), vcm_help)) >= 0)
		return rc;
	drop = uid != 0;
	{
		const char *base = strrchr(state, '/');
		snprintf(hd_log_name, sizeof(hd_log_name), "hsmd vcm %.36s",
			 base ? base + 1 : state);
		hd_log_configure_from_env();
		/* Only the platform process speaks to the service manager. */
		unsetenv("NOTIFY_SOCKET");
	}
	/* The platform's configuration and the service modules are read
	 * before the change of user (vcmuser.h); the state is opened after,
	 * from inside its directory. */
	/* --image: the platform booted a package image (boot.c), whose
	 * modules and services.d the VCM runs too. */
	hd_config_defaults(&cfg);
	snprintf(mods, sizeof(mods), "%s/modules", image ? image : "");
	if (hd_config_load(&cfg, confdir, err, sizeof(err)) != 0 ||
	    hd_services_load(image ? image : confdir, image ? mods : cfg.servicedir, 0, &svcs,
			     &nsvcs, err, sizeof(err)) < 0 ||
	    (drop && hd_vcmuser_drop(state, uid, err, sizeof(err)) != 0) ||
	    hd_store_open(&st, drop ? "." : state, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: vcm: %s\n", err);
		report("error", err);
		hd_services_unload(svcs, nsvcs);
		return 1;
	}
	if (resume_mode(&st, err, sizeof(err)) != 0 || clear_critical(&st, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: vcm: %s\n", err);
		report("error", err);
		hd_store_close(&st);
		hd_services_unload(svcs, nsvcs);
		return 1;
	}
	/* What the supervisor wrote before the start: the HSM's state
	 * holds from the first call on. */
	if (platform_fd >= 0) {
		char said[128];
		int eof;

		fcntl(platform_fd, F_SETFL, fcntl(platform_fd, F_GETFL) | O_NONBLOCK);
		read_platform(&st, said, sizeof(said), &eof);
		/* What comes later is taken as soon as it comes. */
		if (!eof) {
			hd_serve_hooks.watch_fd = platform_fd;
			hd_serve_hooks.watch = on_platform;
		}
	}
	ncoreapi_withdrawn = st.hsm_critical;
	nserve =
	    select_services(svcs, nsvcs, json_object_get(st.lifetime, "ports"), st.hsm_critical);
	hd_serve_hooks.boot = on_boot;
	hd_serve_hooks.tick = on_tick;
	rc = hd_serve(&st, &cfg, svcs, nserve);
	hd_services_unload(svcs, nsvcs);
	hd_store_close(&st);
	return rc;
}
