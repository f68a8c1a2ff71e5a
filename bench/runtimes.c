/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtimes.c - run a command N times (fork+exec, output to /dev/null) and
 * print the median wall time in microseconds.  Used by the bench scripts so
 * every command is measured the same way, in the same process.
 *
 *   runtimes N command [args...]      median wall time
 *   runtimes -c N command [args...]   median wall time and median CPU time
 *                                     (user + system of the command and its
 *                                     children), separated by a space
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	int cpu = argc > 1 && !strcmp(argv[1], "-c");
	int n;
	double *t, *c;

	if (cpu) {
		argc--;
		argv++;
	}
	n = argc > 2 ? atoi(argv[1]) : 0;
	if (n < 1) {
		fprintf(stderr, "usage: runtimes [-c] N command [args...]\n");
		return 2;
	}
	t = calloc((size_t)n, sizeof(*t));
	c = calloc((size_t)n, sizeof(*c));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < n; i++) {
		struct timespec a, b;
		pid_t pid;
		int st;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (posix_spawn(&pid, argv[2], &fa, NULL, argv + 2, environ) != 0) {
			perror(argv[2]);
			return 1;
		}
		struct rusage ru;
		wait4(pid, &st, 0, &ru);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "%s exited with %d\n", argv[2], WEXITSTATUS(st));
			return 1;
		}
		t[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
		c[i] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	qsort(c, (size_t)n, sizeof(*c), cmp);
	if (cpu)
		printf("%.1f %.1f\n", t[n / 2], c[n / 2]);
	else
		printf("%.1f\n", t[n / 2]);
	return 0;
}
