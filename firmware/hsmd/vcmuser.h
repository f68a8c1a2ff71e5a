/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmuser.h - each VCM process runs as a user of its own, so that the OS,
 * not only hsmd's code, keeps a VCM out of another VCM's state and out of
 * the platform's.
 *
 * When hsmd runs as root and hsmd.conf [vcm] uid_base is not 0, the VCM
 * with user number N runs as uid = gid = uid_base + N (N < uid_count; N
 * from the machine-wide table of vcmalloc.h, unique among every hsmd of
 * the machine),
 * no supplementary groups; its state directory is chowned to that user
 * (0700) before every start.  The process starts as root only to read the
 * platform's configuration and load the service modules, then changes to
 * its state directory and drops to its user before it opens its state or
 * serves anything (vcmproc.c).  When hsmd is not root, every VCM shares
 * hsmd's uid: the isolation is then hsmd's code alone (documented in
 * hsmd(8) and docs/formats/hsmd-state.md).
 */
#ifndef HD_VCMUSER_H
#define HD_VCMUSER_H

#include <stddef.h>
#include <sys/types.h>
#include "store.h"

/* The user the VCM `uuid` runs as: 1 with *uid set, 0 when VCMs share
 * hsmd's uid (not root, or uid_base = 0), -1 with err. */
int hd_vcmuser_of(const struct hd_store *st, const char *uuid, uid_t *uid, char *err,
		  size_t errlen);

/* Give the VCM's state directory (the whole tree, no symlink followed)
 * to uid:uid, the directory 0700. */
int hd_vcmuser_own(const char *dir, uid_t uid, char *err, size_t errlen);

/* In the VCM process: change to dir, then become uid:uid with no
 * supplementary groups, for good (checked); re-arm the parent-death
 * signal, which a credential change clears. */
int hd_vcmuser_drop(const char *dir, uid_t uid, char *err, size_t errlen);

/* "UID" of `--user` (1000 … 4294967294) into *uid; -1 when not one. */
int hd_vcmuser_parse(const char *text, uid_t *uid);

#endif
