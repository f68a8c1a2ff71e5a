/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/tty-prompt.c - a hidden prompt on the terminal (see
 * tty-prompt.h).  While echo is off, the handler of every signal that
 * would end the process restores the saved settings and lets the signal
 * do what it would have done; tcsetattr, sigaction and raise are
 * async-signal-safe.  A signal the process ignores stays ignored.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tty-prompt.h"

static const int signals_[] = {
	SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2
};
#define NSIG_ (sizeof(signals_) / sizeof(signals_[0]))
static volatile sig_atomic_t saved_fd = -1;
static struct termios saved;
static struct sigaction old_actions[NSIG_];
static int guarded[NSIG_];

static void restore_and_reraise(int sig)
{
	int e = errno;

	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSAFLUSH, &saved);
	for (size_t i = 0; i < NSIG_; i++)
		if (signals_[i] == sig)
			sigaction(sig, &old_actions[i], NULL);
	raise(sig); /* delivered with the old action once the handler returns */
	errno = e;
}

static void guard(int fd, const struct termios *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_and_reraise;
	sigfillset(&sa.sa_mask);
	saved = *old;
	saved_fd = fd;
	for (size_t i = 0; i < NSIG_; i++)
		guarded[i] = sigaction(signals_[i], NULL, &old_actions[i]) == 0 &&
			     old_actions[i].sa_handler != SIG_IGN &&
			     sigaction(signals_[i], &sa, NULL) == 0;
}

static void unguard(void)
{
	for (size_t i = 0; i < NSIG_; i++)
		if (guarded[i])
			sigaction(signals_[i], &old_actions[i], NULL);
	saved_fd = -1;
}

int hsm_tty_prompt_hidden(int fd, const char *prompt, char *buf, size_t max)
{
	struct termios old, quiet;
	size_t n = 0;
	int rc = 0, restore = tcgetattr(fd, &old) == 0;

	if (max == 0)
		return -1;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		guard(fd, &old);
		if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
			unguard();
			return -1;
		}
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		rc = -1;
	while (rc == 0) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 >= max) {
			rc = -1;
			break;
		}
		buf[n++] = c;
	}
	if (rc != 0)
		memset(buf, 0, n);
	buf[rc == 0 ? n : 0] = '\0';
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &old);
		unguard();
	}
	if (write(fd, "\n", 1) < 0) {
		/* nothing useful to do: the line was read */
	}
	return rc == 0 ? (int)n : -1;
}
