/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmhost.h - hsmd's VCM supervisor: the state directories of VCMs and
 * the processes of the active ones (each a separate child process,
 * docs/design.md).
 *
 * Each active VCM is `hsmd vcm --state DIR/vcms/UUID`, exec'ed (not only
 * forked: it holds none of the platform's secrets), with its own state
 * directory (0700), its own host keys and its own address.  It reports on
 * a pipe (fd 3): "ready", "error TEXT", "ncoreapi operational|stopped",
 * and echoes each line of the platform pipe (fd 4, "platform [WORDS]") once
 * it acted on it.
 * The child dies with hsmd (PR_SET_PDEATHSIG), so a killed hsmd never
 * leaves a VCM holding its address.  A VCM process that exits on its own
 * is marked "failed" in the registry and nothing restarts it.
 *
 * The orchestrator service decides (vcmrules.h); the supervisor only does
 * what it is asked, plus what the device does by itself: autostart after
 * a boot or reset, the statistics poll and the disk limit.
 */
#ifndef HD_VCMHOST_H
#define HD_VCMHOST_H

#include <stddef.h>
#include <jansson.h>
#include "store.h"

/* Once at `hsmd run`, before serving: where the configuration is (a VCM
 * process reads the same services.d and hsmd.conf). */
void hd_vcmhost_init(struct hd_store *st, const char *confdir);

/* A new VCM's state directory from spec {"uuid","address","features",
 * "sshadmin_key","name"}: host keys certified by the device identity key.
 * Returns {"identity":<VCM warrant>,"services":{svc:{port,host_key,
 * certificate}}} or NULL with err.  The directory appears whole (built
 * under a temporary name and renamed) or not at all. */
json_t *hd_vcmhost_prepare(struct hd_store *st, const json_t *spec, char *err, size_t errlen);
/* An existing VCM's {"identity","services"} as prepare returned them,
 * from its lifetime.json and device.json. */
json_t *hd_vcmhost_identity(struct hd_store *st, const char *uuid, char *err, size_t errlen);
/* Remove a VCM's state directory. */
int hd_vcmhost_discard(struct hd_store *st, const char *uuid, char *err, size_t errlen);
/* Run the VCM's process; returns once it serves (or failed to). */
int hd_vcmhost_start(struct hd_store *st, const char *uuid, char *err, size_t errlen);
/* Stop it: SIGTERM, SIGKILL after a grace period; waits for it. */
int hd_vcmhost_stop(struct hd_store *st, const char *uuid, char *err, size_t errlen);
/* {"UUID":{"pid","ncoreapi":"operational"|"stopped","since"}} of the
 * processes that run, and the last statistics poll. */
json_t *hd_vcmhost_running(void);
json_t *hd_vcmhost_stats(void);
/* The VCM network in effect, as JSON for the orchestrator.  "taken": with
 * every_taken, every address a VCM of another HSM of this machine holds
 * (a read of each of their claims: services older than ABI 1.10); else
 * those this hsmd has found so, from memory (hd_vcmalloc_known_taken). */
json_t *hd_vcmhost_network(struct hd_store *st, int every_taken, char *err, size_t errlen);
/* 1 when the VCM has an audit log that is not finalized (DIR/audit.json
 * {"finalized": false}, written by the VCM's audit logging). */
int hd_vcmhost_audit_open(struct hd_store *st, const char *uuid);

/* The server's hooks (server.h): boot (after start-up, and after every
 * emulated reboot: stop everything, start autostart VCMs), tick (reap,
 * read status, poll statistics), shutdown (stop every VCM). */
void hd_vcmhost_boot(struct hd_store *st, const char *why);
void hd_vcmhost_tick(struct hd_store *st);
void hd_vcmhost_shutdown(struct hd_store *st);

/* --- the VCM process side ------------------------------------------------ */

/* `hsmd vcm --state DIR --conf DIR [--status-fd N]`. */
int hd_vcm_main(int argc, char **argv);

#endif
