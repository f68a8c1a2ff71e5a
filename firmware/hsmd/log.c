/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - hsmd's own diagnostics (not the device's system log): priorities,
 * a threshold, and where the lines go.
 *
 * Three sinks, chosen by hd_log_setup():
 *   stderr   plain "NAME: text" lines (a terminal, the tests);
 *   journal  stderr with a "<N>" priority prefix, chosen automatically when
 *            systemd connected stderr to the journal (JOURNAL_STREAM names
 *            our stderr), so journald records each line's priority;
 *   syslog   syslog(3) with LOG_DAEMON, for machines without journald.
 * Readiness and stopping are told to a service manager with the
 * sd_notify datagram protocol (NOTIFY_SOCKET), written here so hsmd needs
 * no libsystemd.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "hsmd.h"

char hd_log_name[64] = "hsmd";

static enum hd_log_sink log_sink = HD_LOG_STDERR;
static int log_threshold = LOG_INFO;

static const struct {
	const char *name;
	int priority;
} level_names[] = {
	{ "err", LOG_ERR },   { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

int hd_log_level_parse(const char *name, int *priority)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i].name) == 0) {
			*priority = level_names[i].priority;
			return 0;
		}
	return -1;
}

/* Is our stderr the stream systemd told us about in JOURNAL_STREAM
 * ("DEV:INODE")?  Only then do "<N>" prefixes mean something. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &sb) != 0)
		return 0;
	return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

void hd_log_setup(enum hd_log_sink sink, int threshold)
{
	if (sink == HD_LOG_AUTO)
		sink = stderr_is_journal() ? HD_LOG_JOURNAL : HD_LOG_STDERR;
	if (log_sink == HD_LOG_SYSLOG && sink != HD_LOG_SYSLOG)
		closelog();
	log_sink = sink;
	log_threshold = threshold;
	if (sink == HD_LOG_SYSLOG)
		openlog(hd_log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int hd_log_configure(const char *target, const char *level)
{
	static const char *const targets[] = { "auto", "stderr", "journal", "syslog" };
	int priority;

	if (hd_log_level_parse(level, &priority) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (strcmp(target, targets[i]) == 0) {
			hd_log_setup((enum hd_log_sink)i, priority);
			/* The VCM processes this one starts inherit the choice. */
			setenv("HSMD_LOG_TARGET", target, 1);
			setenv("HSMD_LOG_LEVEL", level, 1);
			return 0;
		}
	return -1;
}

void hd_log_configure_from_env(void)
{
	const char *t = getenv("HSMD_LOG_TARGET"), *l = getenv("HSMD_LOG_LEVEL");

	if (hd_log_configure(t ? t : "auto", l ? l : "info") != 0)
		hd_log_configure("auto", "info");
}

void hd_vlog_at(int priority, const char *fmt, va_list ap)
{
	char line[1024];

	if (priority > log_threshold)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	switch (log_sink) {
	case HD_LOG_SYSLOG:
		syslog(priority, "%s", line);
		break;
	case HD_LOG_JOURNAL:
		fprintf(stderr, "<%d>%s: %s\n", priority, hd_log_name, line);
		break;
	default:
		/* One write per line so lines of concurrent processes never mix. */
		fprintf(stderr, "%s: %s\n", hd_log_name, line);
		break;
	}
}

void hd_log_at(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hd_vlog_at(priority, fmt, ap);
	va_end(ap);
}

void hd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hd_vlog_at(LOG_INFO, fmt, ap);
	va_end(ap);
}

int hd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t plen;
	ssize_t n;
	int fd;

	if (!path || !*path)
		return 0; /* not started by a service manager that listens */
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	close(fd);
	return n == (ssize_t)strlen(state) ? 0 : -1;
}
