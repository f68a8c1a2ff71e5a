/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/keys/keys.h - the commands of the keys plugin (guide 4.7,
 * 4.10.1.7) and what they share.
 */
#ifndef HSMADMIN_PLUGIN_KEYS_H
#define HSMADMIN_PLUGIN_KEYS_H

#include <hsmadmin/plugin.h>

#include "transport.h"

/* show.c */
int keys_show(struct hsm_ctx *ctx);
/* backup.c */
int keys_backup(struct hsm_ctx *ctx);
int keys_restore(struct hsm_ctx *ctx);
/* roll.c */
int keys_roll(struct hsm_ctx *ctx);
/* remote.c */
int keys_migrate(struct hsm_ctx *ctx);
int keys_remote_set(struct hsm_ctx *ctx);
int keys_remote_remove(struct hsm_ctx *ctx);

/* roll.c: install new client keys for the services in mask (bits
 * 1 << enum hsm_service) on every HSM of the fleet, the sshadmin key last,
 * and switch this host to them only when every HSM has them (see roll.c).
 * An interrupted earlier roll is finished first, whatever mask says.
 * Reports per HSM; returns the exit code. */
int keys_roll_services(struct hsm_ctx *ctx, struct hsm_fleet *fleet, unsigned mask);
/* Is a roll pending (HSMADMIN_HOME/keys/roll exists)? */
int keys_roll_pending(const char *home);

/* pin.c: pin the host keys of HSMs this host has no pins for, verifying
 * their certificate chain as enroll does, logging in with key.  Errors
 * are reported per HSM; returns the worst exit code. */
int keys_pin_missing(struct hsm_ctx *ctx, const struct hsm_fleet *fleet,
		     const struct hsm_client_key *key);

/* A one-line reason from a key file failure: P keys name the variable. */
#define KEYS_ALL_SERVICES ((1u << HSM_SVC_COUNT) - 1)

#endif
