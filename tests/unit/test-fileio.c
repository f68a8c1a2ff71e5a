/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for atomic writes (core/lib/atomic-file.c) and bounded reads
 * (core/lib/fileio.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hsmadmin/fileio.h>
#include "tap.h"

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
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

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
