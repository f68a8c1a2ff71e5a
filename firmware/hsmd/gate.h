/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gate.h - the device's central rules, applied to every method call before
 * its handler runs (docs/design.md, "Behaviour"; guide 4.2.2, 4.5.3, 4.6.4,
 * 4.12.1).  Services declare which rules apply through their method flags;
 * this is the only place the rules are written.
 */
#ifndef HD_GATE_H
#define HD_GATE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum hd_log_level {
	HD_LOG_OK = 0,    /* below the safe level */
	HD_LOG_OVER_SAFE, /* past the safe working capacity */
	HD_LOG_CRITICAL   /* past the critical capacity (latched until reset) */
};

/* What the gate needs to know about the device at the moment of a call. */
struct hd_gate_facts {
	const char *esn;          /* for messages (may be NULL) */
	int factory;              /* in factory state */
	int enroll_secret_ok;     /* params carry the HSM's one-time enrollment secret */
	int maintenance;          /* mode is "maintenance" */
	int recovery;             /* runs the recovery image (guide 4.5.4) */
	int ncoreapi_operational; /* the interlock hook's answer */
	int clock_lost;
	enum hd_log_level log_level;
};

/* The flags that apply to one call: the method's flags plus its variant
 * or plain flags, chosen by params (see struct hsmd_method). */
uint32_t hd_gate_flags(uint32_t flags, const char *variant_param, uint32_t variant_flags,
		       uint32_t plain_flags, const json_t *params);

/* 0: the call may run.  Otherwise HSMD_REFUSED_STATE (HSMD_DENIED for a
 * way out of factory state without the enrollment secret) with a one-line
 * message naming the rule.  hint (NULL for none) is the method's own
 * reason for its mode rule (struct hsmd_method gate_hint): a refusal by
 * the recovery or maintenance rule starts with it. */
int hd_gate_check(uint32_t flags, const char *hint, const struct hd_gate_facts *facts, char *msg,
		  size_t msglen);

/* Does this service run on the recovery image?  Only the platform
 * services do: sshadmin, setup, updater, monitor; not ncoreapi, launcher
 * or the VCM orchestrator (guide 4.5.4.1). */
int hd_gate_runs_in_recovery(const char *service);

/* Does the platform serve this service?  Every one but ncoreapi, which is
 * a VCM's service, never the platform's (overview 5.1). */
int hd_gate_runs_on_platform(const char *service);

/* The log level for a usage, given the capacity and the two percentages. */
enum hd_log_level hd_log_level_of(uint64_t used, uint64_t capacity, unsigned safe_percent,
				  unsigned critical_percent);

#endif
