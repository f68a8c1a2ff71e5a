/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firmware/services/setup/setup.h - what the files of the setup service
 * share: the feature licence (fet) and the VCM network (setnetwork).
 */
#ifndef SETUP_H
#define SETUP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <hsmadmin/service.h>

/* --- params.c: the params of fet and setnetwork (pure; fuzzed) --------- */

/* {"licence": "<file text>"}: *text points into params (len bytes, may
 * hold NUL bytes, which the licence parser refuses). */
int setup_fet_params(const json_t *params, const char **text, size_t *len, char *err,
		     size_t errlen);

/* {"mode":"default"} (address and gateway absent or null), or
 * {"mode":"ipv4static"|"ipv6static","address":CIDR,"gateway":IP}: a new
 * network object as stored in device.json ({"mode","address","gateway"},
 * canonical text, null for default), or NULL with a one-line reason. */
json_t *setup_network_params(const json_t *params, char *err, size_t errlen);

/* --- device-licence.c --------------------------------------------------- */

/* What the lifetime data and the licence (device.json "licence") allow
 * together: the VCM limits, the speed and the feature word. */
struct setup_limits {
	unsigned max_active_vcms;
	unsigned max_creatable_vcms;
	const char *speed;         /* "base", "mid" or "high" */
	uint32_t factory_features; /* lifetime.json */
	uint32_t licensed_features;
	uint32_t features; /* in effect: fw_vcm_limits' platform word */
};
void setup_limits(const json_t *lifetime, const json_t *device, struct setup_limits *out);
/* The summary of the applied licence (hsm_licence_summary) or JSON null. */
json_t *setup_licence_summary(const json_t *device);
int setup_fet(struct hsmd_call *call);

/* --- network.c ------------------------------------------------------------ */

/* {"current": {...}, "pending": {...}|null} of a device document (the
 * default network when it has none).  New reference. */
json_t *setup_vcm_network(const json_t *device);
/* Members of "vcms" (VCMs that exist). */
size_t setup_vcm_count(const json_t *device);
int setup_setnetwork(struct hsmd_call *call);

#endif
