/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - the device state store: one HSM's state directory, loaded,
 * validated and changed one atomic transaction at a time.
 *
 * A transaction is one atomic commit of the device documents (device.json
 * and the VCM registry documents, docstore.h).  The system log
 * entry it causes is appended (and made durable) first; only then is
 * device.json written, with log.next_seq past the entry.  If the entry
 * cannot be written the call fails and nothing changed; if the state
 * cannot be written the entry is cut off again; if hsmd dies in between,
 * the next start finds a change entry at or past next_seq and cuts it
 * off.  So kill -9 at any moment leaves either the old state or the new
 * one with its entry, and a change is never stored without its entry.
 */
#ifndef HD_STORE_H
#define HD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "devdoc.h"
#include "gate.h"
#include "hsmd.h"
#include "logstore.h"
#include "vcmrules.h"

/* device and view are never changed in place: a commit replaces the
 * device with a new document, and the view, the next device and unchanged
 * VCM entries share members with it (store.c: rebuild_view,
 * hd_store_commit_view).  Change a json_deep_copy of them. */
struct hd_store {
	char dir[4096];
	int lockfd;
	const struct hd_config *cfg;
	json_t *lifetime;    /* validated, read-only */
	json_t *device;      /* validated, with secrets */
	json_t *view;        /* device without secrets, for services */
	EVP_PKEY *identity;  /* the device identity key */
	uint64_t generation; /* bumped by every commit, in memory */
	int64_t boot_time;   /* host time of the last emulated boot */
	json_t *init_log;    /* entries of the current boot */
	uint64_t init_bytes; /* size of init.log */
	struct hd_slog slog; /* the signed system log */
	int slog_open;
	/* A VCM's process: what its HSM's supervisor says of the HSM, whose
	 * clock the VCM shares and whose monitor only state it is in. */
	int hsm_clock_lost;
	int hsm_critical;
	/* The index of the device's registry (vcmrules.h): a commit that
	 * names its changed VCMs checks them alone against it. */
	struct fw_vcms_index vcm_index;
	int vcm_index_ok;
};

/* Take the state directory's lock (DIR/lock, flock): one process at a time
 * may open a state.  Returns the fd or -1. */
int hd_store_lock(const char *dir, char *err, size_t errlen);

/* Open an HSM's state (provisioned) and recover an interrupted
 * transaction.  The caller holds no lock; open takes it. */
int hd_store_open(struct hd_store *st, const char *dir, const struct hd_config *cfg, char *err,
		  size_t errlen);
void hd_store_close(struct hd_store *st);

/* A fresh device document for a lifetime: factory state, a new host key
 * and certificate for every known service, a new log key.  prev (may be
 * NULL) carries over what survives factory state: the log sequence
 * numbers, min VSN, firmware, clock offset and the emulation flags. */
json_t *hd_device_fresh(const json_t *lifetime, EVP_PKEY *identity, const json_t *prev,
			int64_t host_now, char *err, size_t errlen);

/* Device time now. */
int64_t hd_store_now(const struct hd_store *st);

/* Commit a new full device document (steals doc and detail).  With event
 * NULL nothing is logged. */
int hd_store_commit(struct hd_store *st, json_t *doc, const char *event, json_t *detail, char *err,
		    size_t errlen);

/* Commit the members a service may change, taken from an edited copy of
 * the view (steals view_doc and detail). */
int hd_store_commit_view(struct hd_store *st, json_t *view_doc, const char *event, json_t *detail,
			 char *err, size_t errlen);

/* A working document for a service of ABI 1.8 or newer (service.h,
 * vcm_put): a deep copy of the view without the registry's entries, whose
 * "vcms" is an empty object to collect changed entries in (UUID -> entry,
 * null: deleted).  Its cost does not grow with the number of VCMs. */
json_t *hd_store_begin(const struct hd_store *st);

/* Commit such a document: as hd_store_commit_view, but view_doc's "vcms"
 * holds only the changed entries, applied to the registry as it stands;
 * only they are checked and written (steals view_doc and detail). */
int hd_store_commit_changes(struct hd_store *st, json_t *view_doc, const char *event,
			    json_t *detail, char *err, size_t errlen);

/* Factory state (guide 4.5.3): a fresh device document keeping what must
 * survive, committed with one log entry, then a reboot. */
int hd_store_factory_state(struct hd_store *st, char *err, size_t errlen);

/* Emulated reboot: pending settings take effect, mode returns to
 * operational (or, when the recovery button decides another image, that
 * image boots in factory state), a latched critical log state clears if logs are below the
 * critical level, uptime restarts and the init log is rewritten.  One
 * commit logged as `event`. */
int hd_store_reboot(struct hd_store *st, const char *event, json_t *detail, char *err,
		    size_t errlen);

/* The init log of this boot: start afresh, add an entry (written through). */
void hd_store_init_reset(struct hd_store *st);
int hd_store_init_add(struct hd_store *st, const char *event, json_t *detail);

/* The image the HSM runs: "primary" or "recovery" (device member image;
 * absent means primary). */
const char *hd_store_image(const struct hd_store *st);
/* Power-on boot (hsmd run): when the recovery button is held and the HSM
 * runs the primary image, or the other way round, boot the other image,
 * which returns the HSM to factory state.  Reboots (hd_store_reboot,
 * hd_store_factory_state) decide the same way. */
int hd_store_power_on(struct hd_store *st, char *err, size_t errlen);

/* Entries of "system" or "init", new reference, or NULL with err. */
json_t *hd_store_log_entries(struct hd_store *st, const char *log, char *err, size_t errlen);

/* Log bytes used (system + init) and the level; reaching the critical
 * level latches it in the device document. */
uint64_t hd_store_log_used(const struct hd_store *st);
/* The log key's public half (OpenSSH line, a new string) or NULL. */
char *hd_store_log_public_key(const struct hd_store *st, char *err, size_t errlen);
/* Remove the saved segment `segment` (logged).  Bytes freed, or -1. */
long long hd_store_log_expire(struct hd_store *st, int64_t segment, char *err, size_t errlen);
/* Close the open segment (logged as logs_exported).  Its number, or -1. */
int64_t hd_store_log_close(struct hd_store *st, char *err, size_t errlen);
/* Clear "system" (every segment) or "init" (logged). */
int hd_store_log_clear(struct hd_store *st, const char *log, char *err, size_t errlen);
/* The verification keys of every epoch (new reference). */
json_t *hd_store_log_keys(const struct hd_store *st);
enum hd_log_level hd_store_log_level(struct hd_store *st);

/* The facts the gate needs (latches the critical log level). */
void hd_store_gate_facts(struct hd_store *st, struct hd_gate_facts *facts);

/* The interlock hook: is any ncoreapi service operational?  Without VCMs
 * the answer comes from the emulation flag in device.json
 * (`hsmd simulate --ncoreapi operational`); the VCM supervisor replaces
 * this by setting hd_interlock_hook. */
extern int (*hd_interlock_hook)(const struct hd_store *st);

/* Called after every commit (NULL: nothing): the VCM supervisor tells
 * the VCMs of a change of the HSM's state that concerns them at once. */
extern void (*hd_commit_hook)(struct hd_store *st);

#endif
