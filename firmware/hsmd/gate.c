/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gate.c - the central rules.  Pure functions of (flags, facts) so that
 * unit tests can walk every combination.
 *
 * Order matters for the message an admin sees: factory state first (only
 * enroll makes sense there, and only with the enrollment secret), then the
 * critical log level (it blocks nearly
 * everything), then the interlock (the admin must act on the VCMs), then
 * the specific rules.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hsmadmin/service.h>
#include "gate.h"

uint32_t hd_gate_flags(uint32_t flags, const char *variant_param, uint32_t variant_flags,
		       uint32_t plain_flags, const json_t *params)
{
	const json_t *v;

	if (!variant_param)
		return flags;
	v = json_is_object(params) ? json_object_get(params, variant_param) : NULL;
	if (v && !json_is_false(v) && !json_is_null(v))
		return flags | variant_flags;
	return flags | plain_flags;
}

static int refuse(char *msg, size_t msglen, const char *text)
{
	snprintf(msg, msglen, "%s", text);
	return HSMD_REFUSED_STATE;
}

int hd_gate_check(uint32_t flags, const char *hint, const struct hd_gate_facts *f, char *msg,
		  size_t msglen)
{
	if (f->factory && !(flags & HSMD_METHOD_FACTORY_OK))
		return refuse(msg, msglen, "HSM is in factory state: only enroll is accepted");
	/* In factory state an invasive method is the way out of it: only
	 * whoever holds the one-time enrollment secret may take it. */
	if (f->factory && (flags & HSMD_METHOD_INVASIVE) && !f->enroll_secret_ok) {
		snprintf(msg, msglen,
			 "HSM is in factory state: enrolling needs its one-time "
			 "enrollment secret (printed by the HSM when it entered factory state; "
			 "hsmadmin enroll --secret-file)");
		return HSMD_DENIED;
	}
	if (f->log_level == HD_LOG_CRITICAL && !(flags & HSMD_METHOD_LOG_ACCESS))
		return refuse(
		    msg, msglen,
		    "system logs are past their critical capacity: "
		    "only retrieving and clearing logs is allowed until logs are "
		    "reduced (hsmadmin logs export, hsmadmin logs expire) and the HSM is reset");
	if ((flags & HSMD_METHOD_INVASIVE) && f->ncoreapi_operational)
		return refuse(msg, msglen,
			      "interlock: an ncoreapi service is operational; "
			      "put it into maintenance mode (nopclearfail -M) first");
	if ((flags & HSMD_METHOD_LOG_GUARDED) && f->log_level >= HD_LOG_OVER_SAFE)
		return refuse(
		    msg, msglen,
		    "system logs are past their safe working capacity: "
		    "export and expire logs first (hsmadmin logs export, hsmadmin logs expire)");
	if ((flags & HSMD_METHOD_NEEDS_CLOCK) && f->clock_lost)
		return refuse(msg, msglen, "the system clock is lost: set it with settime first");
	/* A mode rule's message starts with the method's own hint (why it
	 * needs the mode) when it has one, then says how to enter the mode. */
	if ((flags & HSMD_METHOD_RECOVERY) && !f->recovery) {
		if (hint)
			snprintf(msg, msglen,
				 "%s; to enter recovery mode hold the recovery button "
				 "(hsmd button --hold 60) and reset the HSM (guide 4.5.4.2)",
				 hint);
		else
			snprintf(msg, msglen,
				 "only in recovery mode: hold the recovery button "
				 "(hsmd button --hold 60) and reset the HSM (guide 4.5.4.2)");
		return HSMD_REFUSED_STATE;
	}
	/* Maintenance mode is what keeps ncoreapi from serving (guide 4.6.4);
	 * on the recovery image none runs, so the rule is met there (the
	 * guide's upgrade and clock recovery work in recovery mode). */
	if ((flags & HSMD_METHOD_MAINTENANCE) && !f->maintenance && !f->recovery) {
		/* Name the command that gets there (guide 4.6.4). */
		const char *esn = f->esn && *f->esn ? f->esn : "ESN";
		if (hint)
			snprintf(msg, msglen,
				 "%s; enter maintenance mode with 'nopclearfail -M --esn %s -w' "
				 "first",
				 hint, esn);
		else
			snprintf(msg, msglen,
				 "the HSM is not in maintenance mode: enter it with "
				 "'nopclearfail -M --esn %s -w' first",
				 esn);
		return HSMD_REFUSED_STATE;
	}
	return 0;
}

int hd_gate_runs_in_recovery(const char *service)
{
	static const char *const platform[] = { "sshadmin", "setup", "updater", "monitor" };

	if (!service)
		return 0;

	for (size_t i = 0; i < sizeof(platform) / sizeof(platform[0]); i++)
		if (strcmp(service, platform[i]) == 0)
			return 1;
	return 0;
}

int hd_gate_runs_on_platform(const char *service)
{
	return service && strcmp(service, "ncoreapi") != 0;
}

enum hd_log_level hd_log_level_of(uint64_t used, uint64_t capacity, unsigned safe_percent,
				  unsigned critical_percent)
{
	/* Compare used*100 with capacity*percent; capacity is at most 2^40. */
	if (capacity == 0)
		return HD_LOG_CRITICAL;
	if (used >= capacity || used * 100 >= capacity * critical_percent)
		return HD_LOG_CRITICAL;
	if (used * 100 >= capacity * safe_percent)
		return HD_LOG_OVER_SAFE;
	return HD_LOG_OK;
}
