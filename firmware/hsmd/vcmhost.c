/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmhost.c - the VCM supervisor (see vcmhost.h).
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "sign.h"
#include "vcmalloc.h"
#include "boot.h"
#include "docstore.h"
#include "lines.h"
#include "vcmhost.h"
#include "vcmlines.h"
#include "procstat.h"
#include "vcmrules.h"
#include "vcmuser.h"

#define STOP_GRACE_MS 3000
/* How long a change of the HSM's state waits for the running VCMs to take
 * it in (await_platform): far longer than a VCM's loop takes to answer,
 * short enough that a wedged VCM does not stall the platform for long. */
#define PLATFORM_ACK_MS 3000
/* The reads one drain takes at most: a VCM that writes without end
 * (its status lines come from tenant-facing code) never holds hsmd in
 * drain; what it wrote more is read at the next drain. */
#define DRAIN_MAX_READS 64

static const char *const vcm_services[] = FW_VCM_SERVICES;
static const int vcm_ports[] = { 2201, 2203, 2206 };

struct proc {
	char uuid[37];
	pid_t pid;
	int fd;                /* status pipe, read end */
	int pfd;               /* platform pipe, write end (see tell_platform) */
	struct hd_lines lines; /* from the status pipe */
	int operational;       /* its ncoreapi is operational */
	int up;                /* it said "ready" */
	char acked[64];        /* the last platform line it took in */
	int warned;            /* a malformed status line of it was logged */
	int64_t since;
};

static struct {
	struct hd_store *st;
	char confdir[4096];
	char exe[4096];
	struct proc *procs;
	size_t nprocs, cap;
	json_t *stats; /* the last poll */
	int64_t next_poll_ms;
	int (*base_interlock)(const struct hd_store *st);
	char platform[64]; /* the last platform line the VCMs were told, no '\n' */
	int telling;       /* tell_platform_changes runs (a commit inside it) */
} host;

/* ---- paths ------------------------------------------------------------ */

static void vcm_dir(const struct hd_store *st, const char *uuid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vcms/%s", st->dir, uuid);
}

static struct proc *find_proc(const char *uuid)
{
	for (size_t i = 0; i < host.nprocs; i++)
		if (strcmp(host.procs[i].uuid, uuid) == 0)
			return &host.procs[i];
	return NULL;
}

static void drop_proc(struct proc *p)
{
	size_t i = (size_t)(p - host.procs);

	if (p->fd >= 0)
		close(p->fd);
	if (p->pfd >= 0)
		close(p->pfd);
	host.procs[i] = host.procs[--host.nprocs];
}

/* ---- status lines from VCM processes ------------------------------------ */

/* A line hd_status_parse does not take, or one dropped by the line
 * reader, is ignored; the first one of a process is logged, the rest not
 * (a VCM must not flood the platform's log). */
static void malformed_status(struct proc *p)
{
	if (p->warned)
		return;
	p->warned = 1;
	hd_log("VCM %s: ignored a malformed status line (further ones are not logged)", p->uuid);
}

static void status_line(struct proc *p, const char *line)
{
	const char *text;

	switch (hd_status_parse(line, &text)) {
	case HD_STATUS_OPERATIONAL:
		p->operational = 1;
		break;
	case HD_STATUS_STOPPED:
		p->operational = 0;
		break;
	case HD_STATUS_PLATFORM:
		snprintf(p->acked, sizeof(p->acked), "%s", text);
		break;
	case HD_STATUS_READY: /* await_ready's */
	case HD_STATUS_ERROR:
		break;
	case HD_STATUS_MALFORMED:
		malformed_status(p);
		break;
	}
}

/* Take what a process wrote; 1 at EOF or on a broken pipe. */
static int drain(struct proc *p)
{
	for (int reads = 0; reads < DRAIN_MAX_READS; reads++) {
		char *line;
		ssize_t n;

		while ((line = hd_lines_next(&p->lines)))
			status_line(p, line);
		if (p->lines.dropped)
			malformed_status(p);
		n = hd_lines_fill(p->fd, &p->lines);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : 1;
	}
	return 0;
}

static void drain_all(void)
{
	for (size_t i = 0; i < host.nprocs; i++)
		if (host.procs[i].fd >= 0 && drain(&host.procs[i])) {
			close(host.procs[i].fd);
			host.procs[i].fd = -1;
		}
}

/* The interlock (guide 4.6.4): the emulation flag of `hsmd simulate`, or
 * any VCM whose ncoreapi is operational. */
static int vcm_interlock(const struct hd_store *st)
{
	if (host.base_interlock && host.base_interlock(st))
		return 1;
	drain_all();
	for (size_t i = 0; i < host.nprocs; i++)
		if (host.procs[i].operational)
			return 1;
	return 0;
}

/* ---- registry changes made by the device itself ------------------------ */

/* Set the state of VCMs in one commit; uuids NULL: every VCM in state
 * `from`.  Logged as event with detail.  The registry is copied only when
 * a VCM changes (a boot calls this for every VCM state it resets). */
static void set_states(struct hd_store *st, const json_t *uuids, const char *from, const char *to,
		       const char *event, json_t *detail)
{
	const json_t *vcms = json_object_get(st->device, "vcms"), *e, *u;
	json_t *changed = json_array(), *doc, *dv;
	const char *uuid;
	char err[HD_ERRLEN];
	size_t i;

	if (uuids) {
		json_array_foreach(uuids, i, u)
		{
			const char *s = json_string_value(
			    json_object_get(json_object_get(vcms, json_string_value(u)), "state"));
			if (s && strcmp(s, to) != 0)
				json_array_append_new(changed, json_string(json_string_value(u)));
		}
	} else {
		json_object_foreach((json_t *)vcms, uuid, e)
		{
			const char *s = json_string_value(json_object_get(e, "state"));
			if (s && strcmp(s, from) == 0 && strcmp(s, to) != 0)
				json_array_append_new(changed, json_string(uuid));
		}
	}
	if (json_array_size(changed) == 0) {
		json_decref(changed);
		json_decref(detail);
		return;
	}
	doc = json_deep_copy(st->device);
	dv = json_object_get(doc, "vcms");
	json_array_foreach(changed, i, u)
	{
		json_t *entry = json_object_get(dv, json_string_value(u));
		json_object_set_new(entry, "state", json_string(to));
		json_object_set_new(entry, "changed", json_integer(hd_store_now(st)));
	}
	if (!detail)
		detail = json_object();
	json_object_set_new(detail, "vcms", changed);
	if (hd_store_commit(st, doc, event, detail, err, sizeof(err)) != 0)
		hd_log("VCM registry: %s", err);
}

/* ---- what the VCMs learn of the HSM ------------------------------------ */

/* The VCMs run on the HSM's hardware: its clock is theirs (guide 4.2.2),
 * and its logs past their critical capacity put the whole HSM into the
 * monitor only state (guide 4.12.1), ncoreapi terminated.  A VCM's
 * process reads its own state only, so the supervisor tells it, on the
 * platform pipe, one line: "platform" and the words that hold of the HSM
 * ("clock_lost", "critical"); at its start and at every change. */
static void platform_line(struct hd_store *st, char *buf, size_t len)
{
	int lost = json_is_true(json_object_get(json_object_get(st->device, "clock"), "lost"));
	int critical = hd_store_log_level(st) == HD_LOG_CRITICAL;

	snprintf(buf, len, "platform%s%s", lost ? " clock_lost" : "", critical ? " critical" : "");
}

static void tell_platform(struct proc *p, const char *line)
{
	char buf[sizeof(host.platform) + 1];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	/* Non-blocking: a VCM that does not read never stalls hsmd. */
	if (p->pfd >= 0 && write(p->pfd, buf, (size_t)n) != (ssize_t)n)
		hd_log("VCM %s: cannot tell it the HSM's state: %s", p->uuid, strerror(errno));
}

/* Wait until every running VCM has taken the line in (it echoes it on its
 * status pipe, after its ncoreapi state), for at most PLATFORM_ACK_MS: when
 * the call that changed the HSM's state returns, its VCMs act on it and the
 * interlock counts their ncoreapi as they now are.  A VCM still starting
 * reads the line before it serves; one that does not answer in time takes
 * it when it does, and is logged. */
static void await_platform(void)
{
	int64_t deadline = hd_mono_ms() + PLATFORM_ACK_MS;
	struct pollfd *pfds = calloc(host.nprocs ? host.nprocs : 1, sizeof(*pfds));

	for (;;) {
		int64_t left = deadline - hd_mono_ms();
		nfds_t n = 0;

		drain_all();
		for (size_t i = 0; i < host.nprocs; i++) {
			struct proc *p = &host.procs[i];
			if (p->up && p->fd >= 0 && p->pfd >= 0 &&
			    strcmp(p->acked, host.platform) != 0) {
				if (left <= 0 || !pfds)
					hd_log("VCM %s: did not take in \"%s\" within %d ms",
					       p->uuid, host.platform, PLATFORM_ACK_MS);
				else
					pfds[n++] =
					    (struct pollfd){ .fd = p->fd, .events = POLLIN };
			}
		}
		if (n == 0 || left <= 0 || !pfds)
			break;
		if (poll(pfds, n, (int)left) < 0 && errno != EINTR)
			break;
	}
	free(pfds);
}

static void tell_platform_changes(struct hd_store *st)
{
	char line[sizeof(host.platform)];

	/* platform_line may commit (the critical level latches), which
	 * calls this again: the outer call tells. */
	if (host.telling)
		return;
	host.telling = 1;
	platform_line(st, line, sizeof(line));
	if (strcmp(line, host.platform) != 0) {
		snprintf(host.platform, sizeof(host.platform), "%s", line);
		for (size_t i = 0; i < host.nprocs; i++)
			tell_platform(&host.procs[i], line);
		await_platform();
	}
	host.telling = 0;
}

/* ---- processes -------------------------------------------------------- */

/* user: "" to run as hsmd, or the uid the VCM drops to (vcmuser.h). */
static void child_exec(const char *dir, int wfd, int rfd, pid_t parent, char *user)
{
	sigset_t none;
	char *argv[] = { "hsmd",        "vcm",    "--state",
			 (char *)dir,   "--conf", host.confdir,
			 "--status-fd", "3",      "--platform-fd",
			 "4",           NULL,     NULL,
			 NULL,          NULL,     NULL };
	int a = 10;

	if (hd_image_dir[0]) { /* the services of the image the platform booted */
		argv[a++] = "--image";
		argv[a++] = hd_image_dir;
	}
	if (user[0]) {
		argv[a++] = "--user";
		argv[a++] = user;
	}

	/* The VCM dies with hsmd: a killed hsmd must not leave a VCM
	 * holding its address. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127); /* hsmd died before the death signal was armed */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* The status pipe on 3, the platform pipe on 4 (both made with
	 * O_CLOEXEC, far above 4 in a running hsmd, moved without clash). */
	if (rfd == 3 || wfd == 4) {
		int t = fcntl(rfd, F_DUPFD_CLOEXEC, 5);
		if (t < 0)
			_exit(127);
		rfd = t;
	}
	if (dup2(wfd, 3) < 0 || dup2(rfd, 4) < 0 || fcntl(3, F_SETFD, 0) < 0 ||
	    fcntl(4, F_SETFD, 0) < 0)
		_exit(127);
	for (int fd = 5; fd < 1024; fd++)
		close(fd);
	execv(host.exe, argv);
	_exit(127);
}

/* Wait for the first status line: "ready" or "error TEXT". */
static int await_ready(struct proc *p, char *err, size_t errlen)
{
	int64_t deadline = hd_mono_ms() + (int64_t)host.st->cfg->vcm_start_timeout * 1000;

	for (;;) {
		int64_t left = deadline - hd_mono_ms();
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		const char *text;
		char *line;
		ssize_t n;

		if (left <= 0)
			return hsm_set_err(err, errlen, "the VCM process did not start within %u s",
					   host.st->cfg->vcm_start_timeout);
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return hsm_set_err(err, errlen, "poll: %s", strerror(errno));
		n = hd_lines_fill(p->fd, &p->lines);
		if (n == 0)
			return hsm_set_err(
			    err, errlen,
			    "the VCM process exited during start-up (see the hsmd log)");
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return hsm_set_err(err, errlen, "status pipe: %s", strerror(errno));
		}
		if (!(line = hd_lines_next(&p->lines))) {
			if (p->lines.dropped)
				return hsm_set_err(err, errlen,
						   "the VCM process sent a malformed status");
			continue;
		}
		switch (hd_status_parse(line, &text)) {
		case HD_STATUS_READY:
			break;
		case HD_STATUS_ERROR:
			return hsm_set_err(err, errlen, "%.300s", text);
		default:
			return hsm_set_err(err, errlen, "the VCM process sent a malformed status");
		}
		p->up = 1;
		drain(p);
		return 0;
	}
}

static void kill_and_reap(pid_t pid)
{
	int64_t deadline = hd_mono_ms() + STOP_GRACE_MS;

	kill(pid, SIGTERM);
	while (hd_mono_ms() < deadline) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return;
		usleep(5000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* A VCM process of an hsmd killed a moment ago may still hold the state
 * (its death signal is on the way): wait for its lock a little. */
static int await_unlocked(const char *dir, char *err, size_t errlen)
{
	int64_t deadline = hd_mono_ms() + 2000;
	char inner[HD_ERRLEN];

	for (;;) {
		int fd = hd_store_lock(dir, inner, sizeof(inner));
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (hd_mono_ms() >= deadline)
			return hsm_set_err(err, errlen, "%s", inner);
		usleep(20000);
	}
}

/* Fork and exec a VCM's process; finish_start awaits its readiness.  0, or
 * -1 with err set (then nothing runs). */
static int spawn_vcm(struct hd_store *st, const char *uuid, char *err, size_t errlen)
{
	char dir[4200], user[16] = "";
	struct proc *p;
	int fds[2], pfds[2];
	pid_t pid, self = getpid();
	uid_t uid;
	char line[sizeof(host.platform)];

	if (!fw_uuid_valid(uuid))
		return hsm_set_err(err, errlen, "'%.40s' is not a UUID", uuid);
	if (find_proc(uuid))
		return hsm_set_err(err, errlen, "VCM %s is already running", uuid);
	if (!host.exe[0])
		return hsm_set_err(err, errlen, "cannot find the hsmd executable to run VCMs");
	vcm_dir(st, uuid, dir, sizeof(dir));
	if (access(dir, F_OK) != 0)
		return hsm_set_err(err, errlen, "VCM %s has no state directory", uuid);
	if (await_unlocked(dir, err, errlen) != 0)
		return -1;
	/* Its own user (vcmuser.h), given its directory afresh at every
	 * start: files hsmd made as root there (the lock) become its own. */
	switch (hd_vcmuser_of(st, uuid, &uid, err, errlen)) {
	case -1:
		return -1;
	case 1:
		if (hd_vcmuser_own(dir, uid, err, errlen) != 0)
			return -1;
		snprintf(user, sizeof(user), "%u", (unsigned)uid);
		break;
	}
	if (host.nprocs == host.cap) {
		size_t cap = host.cap ? host.cap * 2 : 16;
		struct proc *n = realloc(host.procs, cap * sizeof(*n));
		if (!n)
			return hsm_set_err(err, errlen, "out of memory");
		host.procs = n;
		host.cap = cap;
	}
	if (pipe2(fds, O_CLOEXEC) != 0)
		return hsm_set_err(err, errlen, "pipe: %s", strerror(errno));
	if (pipe2(pfds, O_CLOEXEC) != 0) {
		close(fds[0]);
		close(fds[1]);
		return hsm_set_err(err, errlen, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		close(pfds[0]);
		close(pfds[1]);
		return hsm_set_err(err, errlen, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		close(pfds[1]);
		child_exec(dir, fds[1], pfds[0], self, user);
	}
	close(fds[1]);
	close(pfds[0]);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	fcntl(pfds[1], F_SETFL, fcntl(pfds[1], F_GETFL) | O_NONBLOCK);
	p = &host.procs[host.nprocs++];
	memset(p, 0, sizeof(*p));
	snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
	p->pid = pid;
	p->fd = fds[0];
	p->pfd = pfds[1];
	/* In the pipe before the VCM serves: it reads this first. */
	platform_line(st, line, sizeof(line));
	tell_platform(p, line);
	p->since = hd_store_now(st);
	return 0;
}

/* Wait until a spawned VCM's process says it is ready; one that does not
 * is stopped.  0, or -1 with err set. */
static int finish_start(const char *uuid, char *err, size_t errlen)
{
	struct proc *p = find_proc(uuid);

	if (!p)
		return hsm_set_err(err, errlen, "VCM %s: no process to wait for", uuid);
	if (await_ready(p, err, errlen) != 0) {
		kill_and_reap(p->pid);
		drop_proc(p);
		return -1;
	}
	hd_log("VCM %s: started (pid %d)", uuid, (int)p->pid);
	return 0;
}

int hd_vcmhost_start(struct hd_store *st, const char *uuid, char *err, size_t errlen)
{
	if (spawn_vcm(st, uuid, err, errlen) != 0)
		return -1;
	return finish_start(uuid, err, errlen);
}

int hd_vcmhost_stop(struct hd_store *st, const char *uuid, char *err, size_t errlen)
{
	struct proc *p = find_proc(uuid);

	(void)st;
	if (!p)
		return hsm_set_err(err, errlen, "VCM %s is not running", uuid);
	kill_and_reap(p->pid);
	hd_log("VCM %s: stopped", uuid);
	drop_proc(p);
	return 0;
}

json_t *hd_vcmhost_running(void)
{
	json_t *out = json_object();

	drain_all();
	for (size_t i = 0; i < host.nprocs; i++)
		json_object_set_new(out, host.procs[i].uuid,
				    json_pack("{s:i, s:s, s:I}", "pid", (int)host.procs[i].pid,
					      "ncoreapi",
					      host.procs[i].operational ? "operational" : "stopped",
					      "since", (json_int_t)host.procs[i].since));
	return out;
}

/* ---- reaping and the statistics poll ------------------------------------ */

static void reap(struct hd_store *st)
{
	json_t *failed = json_array(), *why = json_object();
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < host.nprocs; i++) {
			struct proc *p = &host.procs[i];
			char text[64];
			if (p->pid != pid)
				continue;
			if (WIFSIGNALED(status))
				snprintf(text, sizeof(text), "killed by signal %d",
					 WTERMSIG(status));
			else
				snprintf(text, sizeof(text), "exited with status %d",
					 WEXITSTATUS(status));
			hd_log("VCM %s: process %d %s; the VCM is failed", p->uuid, (int)pid, text);
			json_array_append_new(failed, json_string(p->uuid));
			json_object_set_new(why, p->uuid, json_string(text));
			drop_proc(p);
			break;
		}
	}
	if (json_array_size(failed))
		set_states(st, failed, NULL, "failed", "vcm_failed",
			   json_pack("{s:o}", "reason", why));
	else
		json_decref(why);
	json_decref(failed);
}

static uint64_t du_total;
static int du_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (type == FTW_F)
		du_total += (uint64_t)sb->st_size;
	return 0;
}

static uint64_t disk_use(const char *dir)
{
	du_total = 0;
	nftw(dir, du_one, 16, FTW_PHYS);
	return du_total;
}

static void poll_stats(struct hd_store *st)
{
	json_t *vcms = json_object_get(st->device, "vcms"), *e, *per = json_object();
	json_t *over = json_array();
	const char *uuid;

	json_object_foreach(vcms, uuid, e)
	{
		char dir[4200];
		struct proc *p = find_proc(uuid);
		uint64_t disk;

		vcm_dir(st, uuid, dir, sizeof(dir));
		disk = disk_use(dir);
		json_object_set_new(per, uuid,
				    json_pack("{s:I, s:I}", "memory_kb",
					      (json_int_t)(p ? fw_rss_kb(p->pid) : 0), "disk_kb",
					      (json_int_t)((disk + 1023) / 1024)));
		if (disk > st->cfg->vcm_disk_limit &&
		    !json_is_true(json_object_get(e, "disk_exceeded")))
			json_array_append_new(over, json_string(uuid));
	}
	json_decref(host.stats);
	host.stats = json_pack("{s:I, s:I, s:o}", "time", (json_int_t)hd_store_now(st), "interval",
			       (json_int_t)st->cfg->vcm_stats_interval, "vcms", per);
	if (json_array_size(over)) {
		/* Guide 3.1.3.5.1: stopped, and from now on only deleted. */
		json_t *doc = json_deep_copy(st->device), *dv = json_object_get(doc, "vcms");
		char err[HD_ERRLEN];
		size_t i;
		json_t *u;

		json_array_foreach(over, i, u)
		{
			struct proc *p = find_proc(json_string_value(u));
			json_t *entry = json_object_get(dv, json_string_value(u));
			if (p) {
				kill_and_reap(p->pid);
				drop_proc(p);
			}
			hd_log("VCM %s: disk use over %llu bytes; stopped", json_string_value(u),
			       (unsigned long long)st->cfg->vcm_disk_limit);
			if (strcmp(json_string_value(json_object_get(entry, "state")),
				   "inactive") != 0)
				json_object_set_new(entry, "state", json_string("stopped"));
			json_object_set_new(entry, "disk_exceeded", json_true());
			json_object_set_new(entry, "changed", json_integer(hd_store_now(st)));
		}
		if (hd_store_commit(st, doc, "vcm_disk_limit",
				    json_pack("{s:O, s:I}", "vcms", over, "limit",
					      (json_int_t)st->cfg->vcm_disk_limit),
				    err, sizeof(err)) != 0)
			hd_log("VCM registry: %s", err);
	}
	json_decref(over);
}

json_t *hd_vcmhost_stats(void)
{
	return host.stats ? json_deep_copy(host.stats) : json_null();
}

void hd_vcmhost_tick(struct hd_store *st)
{
	reap(st);
	drain_all();
	tell_platform_changes(st);
	if (hd_mono_ms() >= host.next_poll_ms) {
		poll_stats(st);
		host.next_poll_ms = hd_mono_ms() + (int64_t)st->cfg->vcm_stats_interval * 1000;
	}
}

/* ---- boot, reset, shutdown ------------------------------------------------ */

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int rm_tree(const char *dir)
{
	if (access(dir, F_OK) != 0)
		return 0;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* State directories the registry does not name are what a crash left of
 * a create or a delete: removed, so no address or key outlives its VCM. */
static void collect_garbage(struct hd_store *st)
{
	const json_t *vcms = json_object_get(st->device, "vcms");
	char dir[4200], path[4500];
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/vcms", st->dir);
	dp = opendir(dir);
	if (!dp)
		return;
	while ((d = readdir(dp))) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (fw_uuid_valid(d->d_name) && json_object_get(vcms, d->d_name)) {
			/* A VCM's own temporary files (its host keys) go now,
			 * not only when it next starts. */
			hd_docstore_sweep_temps(path);
			continue;
		}
		if (rm_tree(path) == 0)
			hd_log("VCM state %s: not in the registry (an interrupted create or "
			       "delete); removed",
			       d->d_name);
		else
			hd_log("VCM state %s: cannot remove: %s", d->d_name, strerror(errno));
	}
	closedir(dp);
}

static void stop_all(void)
{
	for (size_t i = 0; i < host.nprocs; i++)
		kill(host.procs[i].pid, SIGTERM);
	while (host.nprocs) {
		kill_and_reap(host.procs[0].pid);
		drop_proc(&host.procs[0]);
	}
}

/* How many autostart VCMs start at once at boot: a start is mostly waiting
 * for a new process to load and bind, so a few overlap well even on two
 * CPUs; more only add contention. */
#define AUTOSTART_PARALLEL 4

/* The autostart VCMs whose processes run but were not awaited yet, oldest
 * first, and what became of those awaited. */
struct autostart {
	json_t *pending, *started, *skipped;
	unsigned active; /* started or pending */
};

/* Await the oldest pending VCMs until at most keep are left; one that does
 * not come up is reported and frees its place under the licence limit. */
static void autostart_settle(struct autostart *a, size_t keep)
{
	while (json_array_size(a->pending) > keep) {
		json_t *u = json_array_get(a->pending, 0);
		char err[HD_ERRLEN];

		if (finish_start(json_string_value(u), err, sizeof(err)) == 0) {
			json_array_append(a->started, u);
		} else {
			json_array_append_new(
			    a->skipped,
			    json_pack("{s:s, s:s}", "uuid", json_string_value(u), "reason", err));
			a->active--;
		}
		json_array_remove(a->pending, 0);
	}
}

void hd_vcmhost_boot(struct hd_store *st, const char *why)
{
	struct fw_vcm_limits lim;
	struct autostart a = { json_array(), json_array(), json_array(), 0 };
	json_t *order, *started, *skipped, *u;
	const json_t *vcms;
	size_t i;
	int critical;

	stop_all();
	collect_garbage(st);
	/* A boot stops every VCM; only autostart VCMs come back. */
	set_states(st, NULL, "active", "stopped", "vcm_boot_stopped",
		   json_pack("{s:s}", "boot", why));
	set_states(st, NULL, "failed", "stopped", "vcm_boot_stopped",
		   json_pack("{s:s}", "boot", why));
	vcms = json_object_get(st->device, "vcms");
	fw_vcm_limits(st->lifetime, st->device, &lim);
	order = fw_vcms_ordered(vcms);
	/* Past the critical log capacity the HSM is in the monitor only
	 * state (guide 4.12.1): no VCM starts until a boot below it. */
	critical = hd_store_log_level(st) == HD_LOG_CRITICAL;
	json_array_foreach(order, i, u)
	{
		const char *uuid = json_string_value(u);
		const json_t *e = json_object_get(vcms, uuid);
		char err[HD_ERRLEN];

		if (!json_is_true(json_object_get(e, "autostart")) ||
		    json_is_true(json_object_get(e, "disk_exceeded")))
			continue;
		if (critical) {
			json_array_append_new(
			    a.skipped, json_pack("{s:s, s:s}", "uuid", uuid, "reason",
						 "system logs are past their critical capacity"));
			continue;
		}
		/* At the limit, the VCMs still starting decide: one that fails
		 * leaves its place to the next, as in creation order one by
		 * one; and the report keeps that order. */
		if (a.active >= lim.max_active)
			autostart_settle(&a, 0);
		if (a.active >= lim.max_active) {
			json_array_append_new(a.skipped,
					      json_pack("{s:s, s:s}", "uuid", uuid, "reason",
							"licence limit of active VCMs reached"));
			continue;
		}
		if (spawn_vcm(st, uuid, err, sizeof(err)) != 0) {
			autostart_settle(&a, 0);
			json_array_append_new(a.skipped,
					      json_pack("{s:s, s:s}", "uuid", uuid, "reason", err));
			continue;
		}
		json_array_append_new(a.pending, json_string(uuid));
		a.active++;
		autostart_settle(&a, AUTOSTART_PARALLEL - 1);
	}
	autostart_settle(&a, 0);
	json_decref(order);
	json_decref(a.pending);
	started = a.started;
	skipped = a.skipped;
	if (json_array_size(started))
		set_states(st, started, NULL, "active", "vcm_autostart", NULL);
	if (json_array_size(started) || json_array_size(skipped)) {
		json_t *d = json_pack("{s:O, s:O, s:i}", "started", started, "not_started", skipped,
				      "max_active_vcms", (int)lim.max_active);
		hd_store_init_add(st, "vcm_autostart", json_deep_copy(d));
		if (json_array_size(skipped)) {
			json_t *doc = json_deep_copy(st->device);
			char err[HD_ERRLEN];
			/* Reported in the system log as well: the admin must act. */
			if (hd_store_commit(st, doc, "vcm_autostart_skipped", json_deep_copy(d),
					    err, sizeof(err)) != 0)
				hd_log("system log: %s", err);
			hd_log("autostart: %zu VCM(s) not started (%s)", json_array_size(skipped),
			       critical ? "system logs past their critical capacity"
					: "licence limit of active VCMs");
		}
		json_decref(d);
	}
	json_decref(started);
	json_decref(skipped);
	host.next_poll_ms = 0;
}

void hd_vcmhost_shutdown(struct hd_store *st)
{
	(void)st;
	stop_all();
	json_decref(host.stats);
	host.stats = NULL;
	free(host.procs);
	host.procs = NULL;
	host.cap = 0;
}

/* At start-up every VCM of the registry claims its address and user in
 * the machine-wide table again (it may be new, or another machine's copy),
 * after the sweep of claims nobody holds any more. */
static void claim_all(struct hd_store *st)
{
	char err[HD_ERRLEN];
	json_t *claimed = hd_vcmalloc_claim_all(st, err, sizeof(err)), *v;
	const char *uuid;

	if (!claimed) {
		hd_log("VCM allocations: %s", err);
		return;
	}
	json_object_foreach(claimed, uuid, v) if (json_is_string(v))
	    hd_log("VCM %s: %s", uuid, json_string_value(v));
	json_decref(claimed);
}

void hd_vcmhost_init(struct hd_store *st, const char *confdir)
{
	ssize_t n;

	host.st = st;
	snprintf(host.confdir, sizeof(host.confdir), "%s", confdir);
	n = readlink("/proc/self/exe", host.exe, sizeof(host.exe) - 1);
	host.exe[n > 0 ? n : 0] = '\0';
	if (!host.base_interlock)
		host.base_interlock = hd_interlock_hook;
	hd_interlock_hook = vcm_interlock;
	/* The VCMs learn a change of the HSM's state at the commit that
	 * makes it (the tick still tells what no commit made: the init log
	 * growing past the critical level). */
	hd_commit_hook = tell_platform_changes;
	claim_all(st);
}

/* ---- state directories -------------------------------------------------- */

int hd_vcmhost_discard(struct hd_store *st, const char *uuid, char *err, size_t errlen)
{
	char dir[4200], inner[HD_ERRLEN];

	if (!fw_uuid_valid(uuid))
		return hsm_set_err(err, errlen, "'%.40s' is not a UUID", uuid);
	vcm_dir(st, uuid, dir, sizeof(dir));
	if (rm_tree(dir) != 0)
		return hsm_set_err(err, errlen, "%s: cannot remove: %s", dir, strerror(errno));
	/* A release lost here is swept at the next start of an hsmd; until
	 * then the claim of a VCM without a state directory is nobody's. */
	if (hd_vcmalloc_release(st, uuid, inner, sizeof(inner)) != 0)
		hd_log("VCM %s: %s", uuid, inner);
	return 0;
}

int hd_vcmhost_audit_open(struct hd_store *st, const char *uuid)
{
	char path[4300], err[256];
	json_t *doc;
	int open_log;

	vcm_dir(st, uuid, path, sizeof(path));
	strncat(path, "/audit.json", sizeof(path) - strlen(path) - 1);
	if (access(path, F_OK) != 0)
		return 0;
	doc = hsm_json_load_file(path, 65536, err, sizeof(err));
	/* Unreadable counts as open: deleting needs --force then. */
	open_log = !doc || !json_is_true(json_object_get(doc, "finalized"));
	json_decref(doc);
	return open_log;
}

json_t *hd_vcmhost_network(struct hd_store *st, char *err, size_t errlen)
{
	struct fw_vcm_net net;
	char a[HSM_NETADDR_STRLEN], b[HSM_NETADDR_STRLEN], c[HSM_NETADDR_STRLEN];

	json_t *taken;

	if (fw_vcm_net_get(st->lifetime, st->device, st->cfg->vcm_subnet, &net, err, errlen) != 0)
		return NULL;
	/* taken: addresses the VCMs of other HSMs of this machine hold. */
	if (!(taken = hd_vcmalloc_taken(st, err, errlen)))
		return NULL;
	return json_pack(
	    "{s:s, s:s, s:o, s:o, s:o}", "mode", net.mode, "subnet",
	    hsm_cidr_format(&net.subnet, a, sizeof(a)), "hsm",
	    net.has_hsm ? json_string(hsm_ip_format(&net.hsm, b, sizeof(b))) : json_null(),
	    "gateway",
	    net.has_gateway ? json_string(hsm_ip_format(&net.gateway, c, sizeof(c))) : json_null(),
	    "taken", taken);
}

json_t *hd_vcmhost_identity(struct hd_store *st, const char *uuid, char *err, size_t errlen)
{
	char dir[4200], path[4400], inner[HD_ERRLEN];
	json_t *lifetime = NULL, *device = NULL, *services = NULL, *result = NULL;
	const json_t *certs, *ports;

	if (!fw_uuid_valid(uuid)) {
		hsm_set_err(err, errlen, "'%.40s' is not a UUID", uuid);
		return NULL;
	}
	vcm_dir(st, uuid, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/lifetime.json", dir);
	if (!(lifetime = hsm_json_load_file(path, 1u << 20, inner, sizeof(inner)))) {
		hsm_set_err(err, errlen, "VCM %s: %s", uuid, inner);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/device.json", dir);
	if (!(device = hsm_json_load_file(path, 4u << 20, inner, sizeof(inner)))) {
		hsm_set_err(err, errlen, "VCM %s: %s", uuid, inner);
		goto out;
	}
	certs = json_object_get(device, "certificates");
	ports = json_object_get(lifetime, "ports");
	services = json_object();
	for (int i = 0; i < FW_VCM_NSERVICES; i++) {
		const char *svc = vcm_services[i];
		const json_t *cert = json_object_get(certs, svc);
		const json_t *hk = json_object_get(json_object_get(cert, "body"), "host_key");
		const json_t *port = json_object_get(ports, svc);
		if (!json_is_string(hk) || !json_is_integer(port)) {
			hsm_set_err(err, errlen, "VCM %s: no %s certificate or port in its state",
				    uuid, svc);
			goto out;
		}
		json_object_set_new(services, svc,
				    json_pack("{s:O, s:O, s:O}", "port", port, "host_key", hk,
					      "certificate", cert));
	}
	if (!json_is_object(json_object_get(lifetime, "warrant"))) {
		hsm_set_err(err, errlen, "VCM %s: no warrant in its state", uuid);
		goto out;
	}
	result = json_pack("{s:O, s:O}", "identity", json_object_get(lifetime, "warrant"),
			   "services", services);
out:
	json_decref(services);
	json_decref(lifetime);
	json_decref(device);
	return result;
}

/* A certificate for one VCM service: the device identity signs what the
 * platform certificates say plus the VCM's UUID and address, so that a
 * VCM's certificate can never pass for a platform service's. */
static json_t *vcm_certificate(struct hd_store *st, const char *uuid, const char *address,
			       const char *svc, const char *host_key, int64_t now, char *err,
			       size_t errlen)
{
	json_t *body =
	    json_pack("{s:O, s:s, s:s, s:I, s:s, s:s}", "esn", json_object_get(st->lifetime, "esn"),
		      "service", svc, "host_key", host_key, "issued", (json_int_t)now, "vcm", uuid,
		      "address", address);
	json_t *cert = body ? hsm_signed_wrap(body, st->identity, err, errlen) : NULL;

	json_decref(body);
	return cert;
}

json_t *hd_vcmhost_prepare(struct hd_store *st, const json_t *spec, char *err, size_t errlen)
{
	const char *uuid = json_string_value(json_object_get(spec, "uuid"));
	const char *address = json_string_value(json_object_get(spec, "address"));
	const char *sshkey = json_string_value(json_object_get(spec, "sshadmin_key"));
	json_int_t features = json_integer_value(json_object_get(spec, "features"));
	struct fw_vcm_limits lim;
	char base[4200], tmp[4300], final[4300], path[4400], inner[HD_ERRLEN], psn[32];
	EVP_PKEY *vid = NULL;
	char *vid_line = NULL;
	json_t *warrant = NULL, *lifetime = NULL, *device = NULL, *certs, *services = NULL, *ports;
	json_t *result = NULL;
	int64_t now = hd_host_time();

	if (!fw_uuid_valid(uuid) || !address || !sshkey) {
		hsm_set_err(err, errlen, "internal: incomplete VCM specification");
		return NULL;
	}
	fw_vcm_limits(st->lifetime, st->device, &lim);
	snprintf(base, sizeof(base), "%s/vcms", st->dir);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", base, uuid);
	snprintf(final, sizeof(final), "%s/%s", base, uuid);
	if (hsm_mkdir_p(base, 0700, err, errlen) != 0)
		return NULL;
	if (access(final, F_OK) == 0) {
		hsm_set_err(err, errlen, "VCM %s already has a state directory", uuid);
		return NULL;
	}
	rm_tree(tmp);
	if (mkdir(tmp, 0700) != 0) {
		hsm_set_err(err, errlen, "%s: %s", tmp, strerror(errno));
		return NULL;
	}
	vid = hsm_ed25519_generate(inner, sizeof(inner));
	vid_line = vid ? hsm_key_to_openssh(vid) : NULL;
	if (!vid_line) {
		hsm_set_err(err, errlen, "cannot make the VCM identity key");
		goto fail;
	}
	snprintf(psn, sizeof(psn), "VCM-%.8s", uuid);
	{
		json_t *body = json_pack(
		    "{s:O, s:s, s:s, s:I, s:s}", "esn", json_object_get(st->lifetime, "esn"), "psn",
		    psn, "identity_key", vid_line, "issued", (json_int_t)now, "vcm", uuid);
		warrant = hsm_signed_wrap(body, st->identity, inner, sizeof(inner));
		json_decref(body);
	}
	if (!warrant) {
		hsm_set_err(err, errlen, "cannot sign the VCM warrant: %s", inner);
		goto fail;
	}
	ports = json_object();
	for (int i = 0; i < FW_VCM_NSERVICES; i++)
		json_object_set_new(ports, vcm_services[i], json_integer(vcm_ports[i]));
	lifetime = json_pack("{s:i, s:O, s:s, s:I, s:s, s:I, s:s, s:O, s:s, s:o}", "version",
			     HD_DOC_VERSION, "esn", json_object_get(st->lifetime, "esn"), "psn",
			     psn, "mfgtime", (json_int_t)now, "speed", lim.speed, "features",
			     features, "identity_key", vid_line, "warrant", warrant, "address",
			     address, "ports", ports);
	if (!lifetime || hd_lifetime_validate(lifetime, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "VCM lifetime: %s", lifetime ? inner : "out of memory");
		goto fail;
	}
	device = hd_device_fresh(lifetime, vid, NULL, now, err, errlen);
	if (!device)
		goto fail;
	/* Born enrolled to its tenant: the sshadmin key from the request is
	 * the only key it accepts. */
	json_object_set_new(device, "state", json_string("enrolled"));
	json_object_set_new(device, "client_keys", json_pack("{s:s}", "sshadmin", sshkey));
	certs = json_object();
	services = json_object();
	for (int i = 0; i < FW_VCM_NSERVICES; i++) {
		const char *svc = vcm_services[i];
		const json_t *old = json_object_get(json_object_get(device, "certificates"), svc);
		const char *hk =
		    json_string_value(json_object_get(json_object_get(old, "body"), "host_key"));
		json_t *cert =
		    hk ? vcm_certificate(st, uuid, address, svc, hk, now, inner, sizeof(inner))
		       : NULL;
		if (!cert) {
			json_decref(certs);
			hsm_set_err(err, errlen, "cannot certify the VCM's %s host key", svc);
			goto fail;
		}
		json_object_set(certs, svc, cert);
		json_object_set_new(services, svc,
				    json_pack("{s:i, s:s, s:o}", "port", vcm_ports[i], "host_key",
					      hk, "certificate", cert));
	}
	json_object_set_new(device, "certificates", certs);
	json_object_set_new(json_object_get(device, "log"), "pending",
			    json_pack("{s:i, s:I, s:s, s:{s:s, s:s}}", "seq", 1, "time",
				      (json_int_t)now, "event", "vcm_created", "detail", "uuid",
				      uuid, "address", address));
	json_object_set_new(json_object_get(device, "log"), "next_seq", json_integer(2));
	snprintf(path, sizeof(path), "%s/identity.pem", tmp);
	if (hsm_key_save_private(path, vid, 1, err, errlen) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/device.json", tmp);
	if (hd_device_validate(device, inner, sizeof(inner)) != 0) {
		hsm_set_err(err, errlen, "VCM device state: %s", inner);
		goto fail;
	}
	if (hsm_write_json_atomic(path, device, 0600, err, errlen) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/lifetime.json", tmp);
	if (hsm_write_json_atomic(path, lifetime, 0600, err, errlen) != 0)
		goto fail;
	if (rename(tmp, final) != 0) {
		hsm_set_err(err, errlen, "%s: %s", final, strerror(errno));
		goto fail;
	}
	hsm_fsync_dir(base, inner, sizeof(inner));
	/* The address (and a user number) for this VCM in the machine-wide
	 * table, so that no other hsmd of this machine gives them out. */
	if (hd_vcmalloc_claim(st, uuid, address, NULL, err, errlen) != 0) {
		rm_tree(final);
		goto out;
	}
	result = json_pack("{s:O, s:O}", "identity", warrant, "services", services);
	goto out;
fail:
	rm_tree(tmp);
out:
	json_decref(services);
	json_decref(warrant);
	json_decref(lifetime);
	json_decref(device);
	free(vid_line);
	EVP_PKEY_free(vid);
	return result;
}
