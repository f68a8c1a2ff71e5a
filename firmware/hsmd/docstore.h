/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docstore.h - the device document on disk: device.json for the device,
 * one registry document per VCM (registry/UUID.json), and a journal that
 * makes a change of several of them one atomic step
 * (docs/formats/hsmd-state.md, "Layout and crash guarantees").
 *
 * In memory the device is one JSON object whose optional member "vcms" is
 * the registry; on disk that member is split out so a commit writes the
 * device part and only the VCM documents that changed: its cost does not
 * grow with the number of VCMs.
 *
 * A commit that changes no VCM document is one atomic rewrite of
 * device.json.  Otherwise it writes journal.json (the new device part and
 * every changed VCM document, null for a deleted one) atomically: that
 * rename is the commit point.  It then writes each document in place and
 * removes the journal.  Whoever opens the state next and finds a journal
 * finishes it (roll forward), so a crash leaves the old state or the new,
 * never a mix.
 *
 * Every size limit is checked before anything is written, with the same
 * numbers the loader uses: a document the loader would refuse is never
 * stored.
 */
#ifndef HD_DOCSTORE_H
#define HD_DOCSTORE_H

#include <stddef.h>
#include <jansson.h>

/* device.json (the device without "vcms"). */
#define HD_DOCSTORE_DEVICE_MAX (4u * 1024u * 1024u)
/* One VCM's registry document. */
#define HD_DOCSTORE_VCM_MAX (64u * 1024u)
/* journal.json: a device part and at most every VCM document. */
#define HD_DOCSTORE_JOURNAL_MAX                                                                    \
	(HD_DOCSTORE_DEVICE_MAX + 1000u * (HD_DOCSTORE_VCM_MAX + 64u) + 4096u)

/* Finish an interrupted commit (a journal left by a crash or a failed
 * write) and remove the temporary files a crash left next to the
 * documents (they may hold host keys).  0, or -1 with err. */
int hd_docstore_recover(const char *dir, char *err, size_t errlen);

/* Load device.json with the registry documents as its "vcms" member (none:
 * no member).  A device.json that still holds "vcms" itself (the layout
 * before per-VCM documents, or a document written by hand) is moved to
 * registry documents first, replacing the registry.  Not validated here.
 * Returns a new reference or NULL with err. */
json_t *hd_docstore_load(const char *dir, char *err, size_t errlen);

/* Store `next` over `prev` (prev may be NULL: everything is new).  Returns
 * 0 when stored; -1 with err when nothing changed (a size limit, a failed
 * write before the commit point); 1 with err when the change is committed
 * but not yet in place (the journal is finished by the next commit or
 * start: the change stands). */
int hd_docstore_commit(const char *dir, const json_t *prev, const json_t *next, char *err,
		       size_t errlen);

/* The same where next differs from prev in the registry only in the
 * entries `changed` names (UUID -> anything): only those are compared,
 * so the cost does not grow with the number of VCMs. */
int hd_docstore_commit_changes(const char *dir, const json_t *prev, const json_t *next,
			       const json_t *changed, char *err, size_t errlen);

/* Remove DIR/NAME.tmp.XXXXXX files (left by a crash during an atomic
 * write, hsm_remove_stale_temps) in one directory, logged; how many
 * went. */
int hd_docstore_sweep_temps(const char *dir);

#endif
