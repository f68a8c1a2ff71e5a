/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmuser.c - the user of each VCM process (see vcmuser.h).
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsmd.h"
#include "vcmalloc.h"
#include "vcmuser.h"

int hd_vcmuser_of(const struct hd_store *st, const char *uuid, uid_t *uid, char *err, size_t errlen)
{
	const json_t *e = json_object_get(json_object_get(st->device, "vcms"), uuid);
	uint64_t base = st->cfg->vcm_uid_base;
	unsigned index;

	if (geteuid() != 0 || base == 0)
		return 0;
	if (!e)
		return hsm_set_err(err, errlen, "VCM %s is not in the registry", uuid);
	/* The user number comes from the machine-wide table, so that VCM #1
	 * of two HSMs on one machine never share a uid (vcmalloc.h). */
	if (hd_vcmalloc_claim(st, uuid, json_string_value(json_object_get(e, "address")), &index,
			      err, errlen) != 0)
		return -1;
	*uid = (uid_t)(base + index);
	return 1;
}

static uid_t own_uid;
static int own_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (sb->st_uid == own_uid && sb->st_gid == own_uid && type != FTW_D)
		return 0;
	/* A second name of someone else's file, planted by a VCM in its own
	 * directory, must not make hsmd give that file away. */
	if (type != FTW_D && type != FTW_DP && sb->st_nlink > 1) {
		errno = EMLINK;
		return -1;
	}
	if (lchown(path, own_uid, own_uid) != 0)
		return -1;
	/* Group and others never get in: whatever a crash or an older hsmd
	 * left with wider modes is narrowed. */
	if (type == FTW_D || type == FTW_DP)
		return chmod(path, 0700);
	if (type == FTW_F && (sb->st_mode & 077))
		return chmod(path, sb->st_mode & 0700);
	return 0;
}

int hd_vcmuser_own(const char *dir, uid_t uid, char *err, size_t errlen)
{
	own_uid = uid;
	if (nftw(dir, own_one, 16, FTW_PHYS) != 0)
		return hsm_set_err(err, errlen, "%s: cannot give it to uid %u: %s", dir,
				   (unsigned)uid, strerror(errno));
	return 0;
}

int hd_vcmuser_drop(const char *dir, uid_t uid, char *err, size_t errlen)
{
	pid_t parent = getppid();

	/* Into the directory while still root: its ancestors (hsmd's state
	 * directory, 0700) stay closed to the VCM's user. */
	if (chdir(dir) != 0)
		return hsm_set_err(err, errlen, "%s: %s", dir, strerror(errno));
	if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return hsm_set_err(err, errlen, "cannot become uid %u: %s", (unsigned)uid,
				   strerror(errno));
	if (setuid(0) == 0 || geteuid() != uid || getegid() != (gid_t)uid)
		return hsm_set_err(err, errlen, "uid %u: the change of user did not hold",
				   (unsigned)uid);
	/* A credential change clears the parent-death signal (prctl(2)). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		return hsm_set_err(err, errlen, "hsmd went away during start-up");
	return 0;
}

int hd_vcmuser_parse(const char *text, uid_t *uid)
{
	uint64_t v;

	if (hd_config_number(text, 1000, 4294967294ULL, &v) != 0)
		return -1;
	*uid = (uid_t)v;
	return 0;
}
