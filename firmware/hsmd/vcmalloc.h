/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmalloc.h - the machine-wide allocation of VCM addresses and VCM users.
 *
 * Several hsmd instances on one machine (the README's set-up: one
 * configuration, HSMs side by side on loopback) each number their VCMs
 * from 1 and derive the same default VCM subnet from neighbouring
 * addresses; without a shared allocator VCM #1 of every HSM ran as the same
 * uid (and could signal another HSM's VCM) and their addresses collided.
 * So every VCM's address and user number are recorded in one table per
 * machine (hsmd.conf [paths] vcm_allocations = PATH), changed only under an
 * exclusive lock (PATH.lock).
 *
 * The table is the directory PATH.d, one small file per fact, so that a
 * claim writes the same few files however many VCMs the machine has (it
 * used to be one file, PATH, rewritten whole on every claim):
 *
 *   hsms/HSM/state   the HSM's state directory (HSM: 32 hex digits of the
 *                    SHA-256 of that path), for the sweep of gone HSMs
 *   hsms/HSM/UUID    the claim of VCM UUID: {"hsm":HSM,"uuid":UUID,
 *                    "address":"127.128.0.1","index":1}
 *   index/N          a hard link to the claim holding user number N
 *   address/ADDRESS  a hard link to the claim holding the address
 *                    (canonical form)
 *
 * A claim is written to tmp/, linked as index/N and address/A (link(2):
 * exclusive), then renamed to hsms/HSM/UUID: the commit.  A name is held
 * only while it is (a copy of) the claim of its VCM, and its HSM (or VCM)
 * is not gone; any other name is a leftover (of a killed claim) that the
 * next claim of that number or address removes.  A VCM runs as uid_base +
 * index (index >= 1, < uid_count): the lowest index free at or above the
 * lowest this process knows may be free (after a start: the lowest
 * without an index/ entry).  docs/formats/hsmd-state.md has
 * the proof that a crash leaves every number and address with one holder.
 * A version 1 table found at PATH is converted once and kept as PATH.v1.
 */
#ifndef HD_VCMALLOC_H
#define HD_VCMALLOC_H

#include <stddef.h>
#include <jansson.h>
#include <hsmadmin/netaddr.h>
#include "store.h"

/* The largest version 1 table read (for its conversion). */
#define HD_VCMALLOC_MAX (16u * 1024u * 1024u)
/* An HSM's name in the table: hex digits of the SHA-256 of its path. */
#define HD_VCMALLOC_HSMLEN 32

/* Record (or confirm) the VCM uuid of this HSM at address; its user
 * index in *index (may be NULL).  Refused when another VCM holds the
 * address, or no index is free.  0, or -1 with err. */
int hd_vcmalloc_claim(const struct hd_store *st, const char *uuid, const char *address,
		      unsigned *index, char *err, size_t errlen);

/* Claim every VCM of this HSM's registry (start-up: it may be new, or
 * another machine's copy), after a sweep of the entries of HSMs whose
 * state is gone and of this HSM's VCMs that are gone: an object uuid -> its
 * user index, or the reason (a string) it could not be claimed.  NULL with
 * err when the table is unusable. */
json_t *hd_vcmalloc_claim_all(const struct hd_store *st, char *err, size_t errlen);

/* Forget the VCM uuid of this HSM.  0, or -1 with err. */
int hd_vcmalloc_release(const struct hd_store *st, const char *uuid, char *err, size_t errlen);

/* The addresses held by VCMs of other HSMs on this machine: a new array of
 * strings, or NULL with err.  It reads every claim of every other HSM:
 * only for services older than ABI 1.10 (vcm_network's "taken"). */
json_t *hd_vcmalloc_taken(const struct hd_store *st, char *err, size_t errlen);

/* Whether a VCM of ANOTHER HSM of this machine holds address (the
 * question a create asks of the address it is about to give): 1 when
 * address/A is the current claim of such a VCM and that HSM is not gone,
 * 0 when it is free, a leftover or held by a VCM of this HSM (the
 * registry's business); -1 with err (not an address; a hostile or
 * unreadable entry; the table unusable).  One look at the name, and at
 * most three entries read when it exists, whatever the number of VCMs.
 * The answer is remembered for hd_vcmalloc_known_taken. */
int hd_vcmalloc_address_taken(const struct hd_store *st, const char *address, char *err,
			      size_t errlen);

/* The addresses this process has found held by VCMs of other HSMs (by
 * hd_vcmalloc_address_taken, or a claim refused for one) whose HSM is not
 * gone: a new array, from memory and one look at each such HSM, none at
 * its VCMs; or NULL with err (the table unusable).  An address one of
 * their VCMs freed since stays in it until it is asked about again or
 * hsmd starts again: allocation then only passes it over. */
json_t *hd_vcmalloc_known_taken(const struct hd_store *st, char *err, size_t errlen);

/* Forget what this process remembers of the table (the lowest number it
 * knows to be free, the addresses it found other HSMs hold: as a new
 * process; tests). */
void hd_vcmalloc_forget(void);

/* What this process did to the table (tests count them: a claim writes
 * the same whatever the number of entries): entry files read, claims
 * written or removed, bytes written. */
extern unsigned long hd_vcmalloc_reads, hd_vcmalloc_saves, hd_vcmalloc_bytes;

/* Parse and check a version 1 table (read once, to convert it): a new
 * reference, or NULL with err naming what is wrong. */
json_t *hd_vcmalloc_parse(const char *text, size_t len, char *err, size_t errlen);

/* The entry files of the table (outside input: the fuzz target's entry
 * points).  Each returns 0, or -1 with a one-line err. */
struct hd_vcmalloc_claim {
	char hsm[HD_VCMALLOC_HSMLEN + 1];
	char uuid[37];
	char address[HSM_NETADDR_STRLEN]; /* canonical */
	unsigned index;
};
/* hsms/HSM/UUID and its links index/N, address/A:
 * {"hsm","uuid","address","index"}. */
int hd_vcmalloc_parse_claim(const char *text, size_t len, struct hd_vcmalloc_claim *c, char *err,
			    size_t errlen);
/* hsms/HSM/state: an absolute path and a newline, into state (statelen
 * bytes). */
int hd_vcmalloc_parse_state(const char *text, size_t len, char *state, size_t statelen, char *err,
			    size_t errlen);

#endif
