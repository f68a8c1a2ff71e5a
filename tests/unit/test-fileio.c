/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for atomic writes and bounded reads (core/lib/fileio.c). */
#include <dirent.h>
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

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
