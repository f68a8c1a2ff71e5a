/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for atomic writes, whole or a piece at a time
 * (core/lib/atomic-file.c), and bounded reads (core/lib/fileio.c). */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <hsmadmin/fileio.h>
#include "tap.h"

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* hsm_write_file_ex: no replacement, the group, every failure leaves no
 * temporary file. */
static void test_write_ex(const char *top)
{
	char dir[256], path[300], err[256], *data;
	size_t len;
	struct stat st;
	int rc;

	snprintf(dir, sizeof(dir), "%s/ex", top);
	tap_ok(hsm_mkdir_p(dir, 0700, err, sizeof(err)) == 0, "ex: directory");
	snprintf(path, sizeof(path), "%s/new.key", dir);
	tap_ok(hsm_write_file_ex(path, "k1", 2, 0640, getegid(), HSM_WRITE_NOREPLACE, err,
				 sizeof(err)) == 0,
	       "a new file with HSM_WRITE_NOREPLACE and a group: %s", err);
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640 && st.st_gid == getegid(),
	       "... has the mode and group asked for");
	errno = 0;
	rc = hsm_write_file_ex(path, "k2", 2, 0600, (gid_t)-1, HSM_WRITE_NOREPLACE, err,
			       sizeof(err));
	tap_ok(rc == -1 && errno == EEXIST && strstr(err, "exists already"),
	       "HSM_WRITE_NOREPLACE refuses an existing file (EEXIST): %s", err);
	tap_ok(hsm_read_file(path, 100, &data, &len, err, sizeof(err)) == 0 && len == 2 &&
		   !memcmp(data, "k1", 2),
	       "... and leaves it as it was");
	free(data);
	tap_ok(hsm_write_file_ex(path, "k3", 2, 0600, (gid_t)-1, HSM_WRITE_NODIRSYNC, err,
				 sizeof(err)) == 0 &&
		   stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	       "without the flag it is replaced, with the new mode");
	/* A directory in the target's place: the rename fails. */
	snprintf(path, sizeof(path), "%s/sub", dir);
	tap_ok(hsm_mkdir_p(path, 0700, err, sizeof(err)) == 0, "ex: a directory as target");
	rc = hsm_write_file_ex(path, "x", 1, 0600, (gid_t)-1, 0, err, sizeof(err));
	tap_ok(rc == -1 && strstr(err, "rename failed"), "a failed rename is reported: %s", err);
	snprintf(path, sizeof(path), "%s/sub/deeper/x", dir);
	rc = hsm_write_file_ex(path, "x", 1, 0600, (gid_t)-1, 0, err, sizeof(err));
	tap_ok(rc == -1 && errno == ENOENT && strstr(err, "temporary file"),
	       "no directory: no temporary file can be made: %s", err);
	TAP_INT_EQ(count_entries(dir), 2, "no temporary file left after any failure");
}

/* hsm_remove_stale_temps: only NAME.tmp.XXXXXX regular files nobody
 * holds, of one name or of any. */
static void test_stale_temps(const char *top)
{
	char dir[256], path[300], target[300], err[256];
	int held;

	snprintf(dir, sizeof(dir), "%s/stale", top);
	tap_ok(hsm_mkdir_p(dir, 0700, err, sizeof(err)) == 0, "stale: directory");
	write_text(dir, "a.json", "{}");
	write_text(dir, "a.json.tmp.Ab3xYz", "secret");
	write_text(dir, "b.key.tmp.q1W2e3", "secret");
	write_text(dir, "c.tmp.12345", "not ours: five characters");
	write_text(dir, "d.tmp.12-456", "not ours: a dash");
	write_text(dir, "live.key.tmp.Zz9Zz9", "a live writer's");
	snprintf(target, sizeof(target), "%s/a.json", dir);
	snprintf(path, sizeof(path), "%s/e.tmp.AAAAAA", dir);
	tap_ok(symlink(target, path) == 0, "stale: a symbolic link with a temporary name");
	snprintf(path, sizeof(path), "%s/live.key.tmp.Zz9Zz9", dir);
	held = open(path, O_RDONLY | O_CLOEXEC);
	tap_ok(held >= 0 && flock(held, LOCK_EX) == 0, "stale: a writer holds one");

	snprintf(path, sizeof(path), "%s/b.key", dir);
	TAP_INT_EQ(hsm_remove_stale_temps_of(path), 1, "the temporary file of one target goes");
	tap_ok(!exists(dir, "b.key.tmp.q1W2e3") && exists(dir, "a.json.tmp.Ab3xYz"),
	       "... and only that one");
	TAP_INT_EQ(hsm_remove_stale_temps(dir, NULL), 1, "then those of any name");
	tap_ok(!exists(dir, "a.json.tmp.Ab3xYz") && exists(dir, "a.json"),
	       "... the stale one went, its target stays");
	tap_ok(exists(dir, "live.key.tmp.Zz9Zz9"), "a file a live writer holds stays");
	tap_ok(exists(dir, "c.tmp.12345") && exists(dir, "d.tmp.12-456"),
	       "names that are not NAME.tmp.XXXXXX stay");
	tap_ok(exists(dir, "e.tmp.AAAAAA") && exists(dir, "a.json"),
	       "a symbolic link stays (and so does what it points to)");
	close(held);
	TAP_INT_EQ(hsm_remove_stale_temps(dir, NULL), 1, "once its writer is gone, it goes");
	TAP_INT_EQ(hsm_remove_stale_temps("/nonexistent-hsm-dir", NULL), 0,
		   "a missing directory: nothing to do");
}

/* ---- the library's write(2) and fsync(2), as the tests want them -------- */

/* This program's write and fsync come before libc's for libhsmadmin too,
 * so a test can make a write short or interrupted, fail one, or fail an
 * fsync, and look at a file as its first byte is written.  Only
 * descriptors above 2 are touched, and only while a test asks.  (The
 * tree builds with -fvisibility=hidden: these two must be seen.) */
#define INTERPOSED __attribute__((visibility("default")))
static struct {
	int pieces;        /* at most 3 bytes a call, the first call EINTR */
	int fail_write;    /* the next write fails with ENOSPC */
	int fail_fsync;    /* the next fsync fails with EIO */
	int watch;         /* record the first write's file */
	int calls;         /* writes seen while pieces was set */
	struct stat first; /* the file as its first byte was written */
	int seen;
} io;

INTERPOSED ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (fd > 2 && io.watch && !io.seen && fstat(fd, &io.first) == 0)
		io.seen = 1;
	if (fd > 2 && io.fail_write) {
		io.fail_write = 0;
		errno = ENOSPC;
		return -1;
	}
	if (fd > 2 && io.pieces) {
		if (io.calls++ == 0) {
			errno = EINTR;
			return -1;
		}
		if (len > 3)
			len = 3;
	}
	return real(fd, buf, len);
}

INTERPOSED int fsync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (io.fail_fsync) {
		io.fail_fsync = 0;
		errno = EIO;
		return -1;
	}
	return real(fd);
}

/* The content of dir/name is text. */
static int holds(const char *dir, const char *name, const char *text)
{
	char path[512], err[256], *data;
	size_t len;
	int same;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (hsm_read_file(path, 4096, &data, &len, err, sizeof(err)) != 0)
		return 0;
	same = len == strlen(text) && memcmp(data, text, len) == 0;
	free(data);
	return same;
}

/* hsm_atomic_file_*: pieces, short and interrupted writes, the mode before
 * the first byte, another name at commit. */
static void test_stream(const char *top)
{
	char dir[256], path[300], err[256] = "";
	struct hsm_atomic_file *f;
	struct stat st;
	int rc;

	snprintf(dir, sizeof(dir), "%s/stream", top);
	tap_ok(hsm_mkdir_p(dir, 0700, err, sizeof(err)) == 0, "stream: directory");
	snprintf(path, sizeof(path), "%s/pkg", dir);
	memset(&io, 0, sizeof(io));
	io.watch = 1;
	f = hsm_atomic_file_open(path, 0640, getegid(), 0, err, sizeof(err));
	tap_ok(f != NULL, "open: %s", err);
	if (!f)
		return;
	tap_ok(stat(hsm_atomic_file_temp(f), &st) == 0 && (st.st_mode & 07777) == 0640 &&
		   !strncmp(hsm_atomic_file_temp(f), path, strlen(path)) &&
		   !strncmp(hsm_atomic_file_temp(f) + strlen(path), ".tmp.", 5),
	       "the temporary file PATH.tmp.XXXXXX has its mode at once: %s",
	       hsm_atomic_file_temp(f));
	tap_ok(!exists(dir, "pkg"), "... and the target does not exist yet");
	io.pieces = 1;
	rc = hsm_atomic_file_write(f, "hello, ", 7, err, sizeof(err));
	rc |= hsm_atomic_file_write(f, "world", 5, err, sizeof(err));
	io.pieces = 0;
	tap_ok(rc == 0, "writes cut to 3 bytes, the first interrupted (EINTR): %s", err);
	tap_ok(io.calls >= 6, "... took several calls (%d)", io.calls);
	tap_ok(io.seen && (io.first.st_mode & 07777) == 0640 && io.first.st_gid == getegid() &&
		   io.first.st_size == 0,
	       "mode and group were set before the first byte was written");
	io.watch = 0;
	tap_ok(hsm_atomic_file_commit(f, NULL, err, sizeof(err)) == 0, "commit: %s", err);
	tap_ok(holds(dir, "pkg", "hello, world"), "every piece is in the file, in order");
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640, "... with its mode");
	TAP_INT_EQ(count_entries(dir), 1, "no temporary file left");

	/* The name known only at the end, in the same directory. */
	snprintf(path, sizeof(path), "%s/.incoming", dir);
	f = hsm_atomic_file_open(path, 0600, (gid_t)-1, HSM_WRITE_NOREPLACE, err, sizeof(err));
	rc = f ? hsm_atomic_file_write(f, "seg", 3, err, sizeof(err)) : -1;
	snprintf(path, sizeof(path), "%s/segment-7.log", dir);
	tap_ok(rc == 0 && hsm_atomic_file_commit(f, path, err, sizeof(err)) == 0 &&
		   holds(dir, "segment-7.log", "seg"),
	       "commit to a name given at the end: %s", err);
	f = hsm_atomic_file_open(path, 0600, (gid_t)-1, 0, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/elsewhere", top);
	errno = 0;
	rc = f ? hsm_atomic_file_commit(f, path, err, sizeof(err)) : 0;
	tap_ok(rc == -1 && errno == EXDEV && !exists(top, "elsewhere"),
	       "... but not in another directory: %s", err);
	TAP_INT_EQ(count_entries(dir), 2, "no temporary file left");
}

/* Abort, and every failure before or at commit: the old file stays as it
 * was and no temporary file is left. */
static void test_stream_failures(const char *top)
{
	char dir[256], path[300], err[256] = "";
	struct hsm_atomic_file *f;
	int rc;

	snprintf(dir, sizeof(dir), "%s/stream-fail", top);
	tap_ok(hsm_mkdir_p(dir, 0700, err, sizeof(err)) == 0, "stream failures: directory");
	write_text(dir, "state", "old");
	snprintf(path, sizeof(path), "%s/state", dir);
	memset(&io, 0, sizeof(io));

	f = hsm_atomic_file_open(path, 0600, (gid_t)-1, 0, err, sizeof(err));
	rc = f ? hsm_atomic_file_write(f, "new", 3, err, sizeof(err)) : -1;
	hsm_atomic_file_abort(f);
	tap_ok(rc == 0 && holds(dir, "state", "old") && count_entries(dir) == 1,
	       "abort: the old file stays, the temporary file is gone");
	hsm_atomic_file_abort(NULL);

	f = hsm_atomic_file_open(path, 0600, (gid_t)-1, 0, err, sizeof(err));
	io.fail_write = 1;
	rc = f ? hsm_atomic_file_write(f, "new", 3, err, sizeof(err)) : 0;
	tap_ok(rc == -1 && strstr(err, "No space"), "a failed write is reported: %s", err);
	rc = f ? hsm_atomic_file_write(f, "more", 4, err, sizeof(err)) : 0;
	tap_ok(rc == -1, "... no write after it: %s", err);
	rc = f ? hsm_atomic_file_commit(f, NULL, err, sizeof(err)) : 0;
	tap_ok(rc == -1 && holds(dir, "state", "old") && count_entries(dir) == 1,
	       "... and a commit refuses it: old file kept, no temporary file: %s", err);

	f = hsm_atomic_file_open(path, 0600, (gid_t)-1, 0, err, sizeof(err));
	rc = f ? hsm_atomic_file_write(f, "new", 3, err, sizeof(err)) : -1;
	io.fail_fsync = 1;
	rc = rc == 0 && f ? hsm_atomic_file_commit(f, NULL, err, sizeof(err)) : 0;
	io.fail_fsync = 0;
	tap_ok(rc == -1 && errno == EIO && holds(dir, "state", "old") && count_entries(dir) == 1,
	       "the fsync at commit fails: old file kept, no temporary file: %s", err);

	f = hsm_atomic_file_open(path, 0600, (gid_t)-1, HSM_WRITE_NOREPLACE, err, sizeof(err));
	rc = f ? hsm_atomic_file_write(f, "new", 3, err, sizeof(err)) : -1;
	errno = 0;
	rc = rc == 0 && f ? hsm_atomic_file_commit(f, NULL, err, sizeof(err)) : 0;
	tap_ok(rc == -1 && errno == EEXIST && strstr(err, "exists already") &&
		   holds(dir, "state", "old") && count_entries(dir) == 1,
	       "never-replace: the existing file is kept, no temporary file: %s", err);

	snprintf(path, sizeof(path), "%s/nowhere/state", dir);
	errno = 0;
	f = hsm_atomic_file_open(path, 0600, (gid_t)-1, 0, err, sizeof(err));
	tap_ok(!f && errno == ENOENT && strstr(err, "temporary file"),
	       "open in a missing directory fails: %s", err);
}

/* A stream's temporary file is swept only once its writer is gone. */
static void test_stream_sweep(const char *top)
{
	char dir[256], path[300], err[256] = "";
	struct hsm_atomic_file *f;
	pid_t pid;
	int status = -1;

	snprintf(dir, sizeof(dir), "%s/stream-sweep", top);
	tap_ok(hsm_mkdir_p(dir, 0700, err, sizeof(err)) == 0, "stream sweep: directory");
	snprintf(path, sizeof(path), "%s/seg", dir);
	f = hsm_atomic_file_open(path, 0600, (gid_t)-1, 0, err, sizeof(err));
	if (f)
		hsm_atomic_file_write(f, "live", 4, err, sizeof(err));
	/* A writer killed half-way: its file stays, nobody holds it. */
	pid = fork();
	if (pid == 0) {
		struct hsm_atomic_file *g = hsm_atomic_file_open(path, 0600, (gid_t)-1, 0, NULL, 0);
		_exit(g && hsm_atomic_file_write(g, "dead", 4, NULL, 0) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	tap_ok(f && WIFEXITED(status) && WEXITSTATUS(status) == 0 && count_entries(dir) == 2,
	       "a live stream and one of a killed writer");
	TAP_INT_EQ(hsm_remove_stale_temps_of(path), 1, "the sweep removes one");
	tap_ok(f && access(hsm_atomic_file_temp(f), F_OK) == 0, "... not the live stream's");
	tap_ok(f && hsm_atomic_file_commit(f, NULL, err, sizeof(err)) == 0 &&
		   holds(dir, "seg", "live") && count_entries(dir) == 1,
	       "which commits as usual: %s", err);
}

int main(void)
{
	char tmpl[] = "/tmp/hsm-fileio-XXXXXX", path[256], err[256], *data;
	char *dir = mkdtemp(tmpl);
	size_t len;
	struct stat st;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	tap_ok(hsm_write_file_atomic(path, "one", 3, 0600, err, sizeof(err)) == 0, "first write");
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600 as asked");
	tap_ok(hsm_write_file_atomic(path, "second", 6, 0644, err, sizeof(err)) == 0, "replace");
	tap_ok(hsm_read_file(path, 100, &data, &len, err, sizeof(err)) == 0 && len == 6 &&
		   !strcmp(data, "second"),
	       "new content read back");
	free(data);
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "mode 0644 as asked");
	TAP_INT_EQ(count_entries(dir), 1, "no temporary files left behind");

	tap_ok(hsm_read_file(path, 5, &data, &len, err, sizeof(err)) != 0,
	       "file over the bound refused");
	tap_ok(strstr(err, "too large") != NULL, "reason says too large");
	tap_ok(hsm_read_file(dir, 5, &data, &len, err, sizeof(err)) != 0, "directory refused");

	json_t *doc = json_pack("{s:i, s:s}", "b", 2, "a", "x");
	snprintf(path, sizeof(path), "%s/doc.json", dir);
	tap_ok(hsm_write_json_atomic(path, doc, 0600, err, sizeof(err)) == 0, "JSON written");
	json_t *back = hsm_json_load_file(path, 0, err, sizeof(err));
	tap_ok(back && json_equal(doc, back), "JSON round trip");
	json_decref(doc);
	json_decref(back);

	char deep[256];
	snprintf(deep, sizeof(deep), "%s/a/b/c", dir);
	tap_ok(hsm_mkdir_p(deep, 0700, err, sizeof(err)) == 0, "mkdir -p");
	tap_ok(stat(deep, &st) == 0 && (st.st_mode & 0777) == 0700, "created with 0700");
	tap_ok(hsm_mkdir_p(deep, 0700, err, sizeof(err)) == 0, "existing directory is fine");
	snprintf(deep, sizeof(deep), "%s/a/b/c/x/y", dir);
	snprintf(path, sizeof(path), "%s/doc.json/sub", dir);
	tap_ok(hsm_mkdir_p(path, 0700, err, sizeof(err)) != 0, "mkdir through a file refused");
	snprintf(path, sizeof(path), "%s/missing/x", dir);
	tap_ok(hsm_write_file_atomic(path, "x", 1, 0600, err, sizeof(err)) != 0,
	       "write into a missing directory fails");

	test_write_ex(dir);
	test_stale_temps(dir);
	test_stream(dir);
	test_stream_failures(dir);
	test_stream_sweep(dir);

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
