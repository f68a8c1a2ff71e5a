/* SPDX-License-Identifier: Apache-2.0 */
/*
 * button.c - the emulated recovery-mode button (see button.h) and the
 * `hsmd button` command that presses it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "button.h"
#include "cmdline.h"
#include "hsmd.h"

#define BUTTON_FILE "button"
#define BUTTON_MAX 64
#define MAX_HOLD (24 * 3600)

static void button_path(const char *dir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, BUTTON_FILE);
}

int hd_button_parse(const char *buf, size_t len, int64_t *until, char *err, size_t errlen)
{
	int64_t v = 0;
	size_t i = 0;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len > 12)
		return hsm_set_err(err, errlen, "not one number of 1-12 digits");
	for (; i < len; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return hsm_set_err(err, errlen, "byte %zu is not a digit", i + 1);
		v = v * 10 + (buf[i] - '0');
	}
	*until = v;
	return 0;
}

int hd_button_hold(const char *dir, int64_t until, char *err, size_t errlen)
{
	char path[PATH_MAX], text[32];
	int n = snprintf(text, sizeof(text), "%lld\n", (long long)until);

	button_path(dir, path, sizeof(path));
	return hsm_write_file_atomic(path, text, (size_t)n, 0600, err, errlen);
}

int hd_button_release(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];

	button_path(dir, path, sizeof(path));
	if (unlink(path) != 0 && errno != ENOENT)
		return hsm_set_err(err, errlen, "%s: %s", path, strerror(errno));
	return hsm_fsync_dir(dir, err, errlen);
}

int hd_button_held(const char *dir, int64_t now)
{
	char path[PATH_MAX], why[256], *buf = NULL;
	size_t len = 0;
	int64_t until;
	int held = 0;

	button_path(dir, path, sizeof(path));
	if (access(path, F_OK) != 0)
		return 0;
	if (hsm_read_file(path, BUTTON_MAX, &buf, &len, why, sizeof(why)) != 0)
		hd_log("recovery button: %s (taken as released)", why);
	else if (hd_button_parse(buf, len, &until, why, sizeof(why)) != 0)
		hd_log("recovery button: %s: %s (taken as released)", path, why);
	else
		held = now < until;
	free(buf);
	return held;
}

static void button_help(void)
{
	printf("Usage: hsmd button --state DIR (--hold SECONDS | --release | --show)\n"
	       "The emulated recovery-mode button of the HSM whose state is in DIR "
	       "(guide 4.5.4.2);\n"
	       "hsmd may be running.  A boot (hsmadmin reset, settime, factorystate, "
	       "or hsmd run)\n"
	       "while the button is held boots the recovery image; a boot without it "
	       "held leaves\n"
	       "recovery mode.  Both return the HSM to factory state.\n"
	       "  --hold SECONDS   hold the button for SECONDS (1-%d) from now\n"
	       "  --release        let go of it\n"
	       "  --show           print 'held' or 'released'\n",
	       MAX_HOLD);
}

int hd_button_main(int argc, char **argv)
{
	const char *state = NULL, *hold = NULL;
	int release = 0, show = 0, rc;
	const struct hd_opt opts[] = {
		{ .name = "state", .str = &state, .required = "--state DIR" },
		{ .name = "hold", .str = &hold },
		{ .name = "release", .flag = &release },
		{ .name = "show", .flag = &show },
	};
	char err[HD_ERRLEN], path[PATH_MAX];

	if ((rc = hd_cmdline_parse("button", argc, argv, opts, HD_NOPTS(opts), button_help)) >= 0)
		return rc;
	if (!!hold + release + show != 1)
		return hd_usage("button", "give one of --hold SECONDS, --release, --show");
	snprintf(path, sizeof(path), "%s/lifetime.json", state);
	if (access(path, F_OK) != 0)
		return hd_usage("button", "--state: not a provisioned HSM state directory: '%s'",
				state);
	if (show) {
		printf("%s\n", hd_button_held(state, hd_host_time()) ? "held" : "released");
		return 0;
	}
	if (release) {
		if (hd_button_release(state, err, sizeof(err)) != 0) {
			fprintf(stderr, "hsmd: button: %s\n", err);
			return 1;
		}
		return 0;
	}
	{
		char *end;
		long secs;
		errno = 0;
		secs = strtol(hold, &end, 10);
		if (errno || end == hold || *end || secs < 1 || secs > MAX_HOLD)
			return hd_usage("button",
					"--hold: not a number of seconds from 1 to 86400: '%s'",
					hold);
		if (hd_button_hold(state, hd_host_time() + secs, err, sizeof(err)) != 0) {
			fprintf(stderr, "hsmd: button: %s\n", err);
			return 1;
		}
	}
	return 0;
}
