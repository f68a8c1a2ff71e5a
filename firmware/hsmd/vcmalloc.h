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
 * machine (hsmd.conf [paths] vcm_allocations), changed only under an
 * exclusive lock (PATH.lock) and written atomically:
 *
 *   {"version":1,"vcms":[{"state":"/abs/hsm/state","uuid":"...",
 *                          "address":"127.128.0.1","index":1}, ...]}
 *
 * A VCM runs as uid_base + index (index >= 1, < uid_count): the lowest
 * index no VCM of any HSM holds.  An address held by a VCM of another HSM
 * is never given out.  Entries of HSMs whose state directory is gone, and
 * of this HSM's VCMs that have neither a registry entry nor a state
 * directory, are dropped whenever the table is changed.
 */
#ifndef HD_VCMALLOC_H
#define HD_VCMALLOC_H

#include <stddef.h>
#include <jansson.h>
#include "store.h"

#define HD_VCMALLOC_MAX (16u * 1024u * 1024u)

/* Record (or confirm) the VCM uuid of this HSM at address; its user
 * index in *index (may be NULL).  Refused when another HSM's VCM holds
 * the address, or no index is free.  0, or -1 with err. */
int hd_vcmalloc_claim(const struct hd_store *st, const char *uuid, const char *address,
		      unsigned *index, char *err, size_t errlen);

/* Claim every VCM of this HSM's registry (start-up: it may be new, or
 * another machine's copy) with one read of the table and at most one
 * write: an object uuid -> its user index, or the reason (a string) it
 * could not be claimed.  NULL with err when the table is unusable. */
json_t *hd_vcmalloc_claim_all(const struct hd_store *st, char *err, size_t errlen);

/* Forget the VCM uuid of this HSM.  0, or -1 with err. */
int hd_vcmalloc_release(const struct hd_store *st, const char *uuid, char *err, size_t errlen);

/* The addresses held by VCMs of other HSMs on this machine: a new array of
 * strings, or NULL with err. */
json_t *hd_vcmalloc_taken(const struct hd_store *st, char *err, size_t errlen);

/* Forget the copy of the table this process keeps (it is read again at
 * the next use; tests). */
void hd_vcmalloc_forget(void);

/* How often this process read and wrote the table (tests count them:
 * start-up reads it once, however many VCMs there are). */
extern unsigned long hd_vcmalloc_reads, hd_vcmalloc_saves;

/* Parse and check a table (the fuzz target's entry point): a new
 * reference, or NULL with err naming what is wrong. */
json_t *hd_vcmalloc_parse(const char *text, size_t len, char *err, size_t errlen);

#endif
