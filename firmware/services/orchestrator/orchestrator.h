/* SPDX-License-Identifier: Apache-2.0 */
/*
 * orchestrator.h - the pure parts of the orchestrator service: checking a
 * tenant request against a VCM and the rules of its properties.  No hsmd
 * calls here, so tests/fuzz/fuzz-orchestrator.c runs exactly this code.
 */
#ifndef ORCHESTRATOR_H
#define ORCHESTRATOR_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "request.h"

/* The properties `vcmadmin properties set` knows (guide 3.1.2.3). */
extern const char *const orch_properties[];

/* Check a tenant request carried in params (an envelope object) for an
 * operation: parse it, check its type, its signature (key_line NULL: the
 * embedded key, create only; else the VCM's k_tenant_req), its validity
 * at device time now, and that it names this VCM (uuid NULL: create).
 * Returns HSMD_OK with *out set, or an hsmd_status with a one-line reason
 * in msg. */
int orch_check_request(const json_t *envelope, enum hsm_request_type type, const char *uuid,
		       const char *key_line, int64_t now, struct hsm_request **out, char *msg,
		       size_t msglen);

/* Replays (docs/formats/hsmd-state.md, "Replay decision"; the rules are
 * fw_vcm_nonce_*): tag is "NONCE" or "NONCE/PROPERTY" of req; now is the
 * time requests expire by.  0 when req may be acted on, else an
 * hsmd_status with the reason in msg. */
int orch_nonce_used(const json_t *entry, const struct hsm_request *req, const char *tag,
		    int64_t now, char *msg, size_t msglen);
/* Record tag in the entry (expired records pruned).  0, or -1 when there
 * is no room (orch_nonce_used said so first). */
int orch_nonce_add(json_t *entry, const struct hsm_request *req, const char *tag, int64_t now);

/* The value a property is set to, from the command line's text: booleans
 * as true/false/True/False, features as a hex word or names, name as
 * given.  Stores the JSON value in *out.  HSMD_OK or HSMD_BAD_REQUEST. */
int orch_property_value(const char *property, const char *text, json_t **out, char *msg,
			size_t msglen);
/* Whether the request carries property with exactly value: HSMD_OK, or
 * HSMD_DENIED with "Invalid property value: P mismatch" (or "... not in
 * the request"). */
int orch_property_matches(const struct hsm_request *req, const char *property, const json_t *value,
			  char *msg, size_t msglen);

#endif
