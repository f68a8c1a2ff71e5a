/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hsmd-gate.c - the central rules (firmware/hsmd/gate.c): every rule,
 * its order, the params variants, and the log levels.
 */
#include "config.h"

#include <string.h>

#include <hsmadmin/service.h>
#include "gate.h"
#include "tap.h"

static int check(uint32_t flags, struct hd_gate_facts f, const char *want)
{
	char msg[256] = "";
	int rc = hd_gate_check(flags, NULL, &f, msg, sizeof(msg));

	if (!want)
		return rc == 0;
	return rc == HSMD_REFUSED_STATE && strstr(msg, want) != NULL;
}

int main(void)
{
	const struct hd_gate_facts clean = { 0 };
	struct hd_gate_facts f;
	json_t *p;

	tap_ok(check(0, clean, NULL), "read-only call on a clean device passes");
	tap_ok(check(HSMD_METHOD_INVASIVE | HSMD_METHOD_LOG_GUARDED | HSMD_METHOD_NEEDS_CLOCK,
		     clean, NULL),
	       "invasive call on a clean device passes");

	f = clean;
	f.factory = 1;
	tap_ok(check(0, f, "factory state"), "factory: read-only method refused");
	tap_ok(check(HSMD_METHOD_FACTORY_OK, f, NULL), "factory: FACTORY_OK method passes");
	{
		char msg[256] = "";
		int rc = hd_gate_check(HSMD_METHOD_FACTORY_OK | HSMD_METHOD_INVASIVE, NULL, &f, msg,
				       sizeof(msg));
		TAP_INT_EQ(rc, HSMD_DENIED,
			   "factory: the way out (enroll) without the enrollment secret is denied");
		tap_ok(strstr(msg, "enrollment secret") != NULL, "... naming the secret (%s)", msg);
		f.enroll_secret_ok = 1;
		tap_ok(check(HSMD_METHOD_FACTORY_OK | HSMD_METHOD_INVASIVE, f, NULL),
		       "... and passes with it");
		f.factory = 0;
		f.enroll_secret_ok = 0;
		tap_ok(check(HSMD_METHOD_FACTORY_OK | HSMD_METHOD_INVASIVE, f, NULL),
		       "enrolled: enroll needs no secret");
	}

	f = clean;
	f.ncoreapi_operational = 1;
	tap_ok(check(HSMD_METHOD_INVASIVE, f, "interlock"), "interlock refuses invasive");
	tap_ok(check(0, f, NULL), "interlock allows read-only");
	tap_ok(check(HSMD_METHOD_LOG_ACCESS, f, NULL), "interlock allows log retrieval");

	f = clean;
	f.log_level = HD_LOG_OVER_SAFE;
	tap_ok(check(HSMD_METHOD_LOG_GUARDED, f, "safe working capacity"),
	       "past safe: guarded refused");
	tap_ok(check(HSMD_METHOD_INVASIVE, f, NULL),
	       "past safe: unguarded invasive (reset) passes");
	tap_ok(check(0, f, NULL), "past safe: read-only passes");

	f = clean;
	f.log_level = HD_LOG_CRITICAL;
	tap_ok(check(0, f, "critical capacity"), "critical: even read-only refused");
	tap_ok(check(HSMD_METHOD_INVASIVE, f, "critical capacity"),
	       "critical: invasive methods refused");
	tap_ok(check(HSMD_METHOD_LOG_ACCESS, f, NULL), "critical: log retrieval passes");

	f = clean;
	f.clock_lost = 1;
	tap_ok(check(HSMD_METHOD_NEEDS_CLOCK, f, "clock is lost"),
	       "lost clock: NEEDS_CLOCK refused");
	tap_ok(check(HSMD_METHOD_INVASIVE | HSMD_METHOD_MAINTENANCE,
		     (struct hd_gate_facts){ .clock_lost = 1, .maintenance = 1 }, NULL),
	       "lost clock: settime (maintenance) passes");

	tap_ok(check(HSMD_METHOD_MAINTENANCE, clean, "maintenance mode"),
	       "maintenance needed, not in it: refused");
	f = clean;
	f.esn = "1A23-BC45-6789";
	tap_ok(check(HSMD_METHOD_MAINTENANCE, f,
		     "enter it with 'nopclearfail -M --esn 1A23-BC45-6789 -w'"),
	       "... naming the command that enters it, for this HSM");
	f = clean;
	f.maintenance = 1;
	tap_ok(check(HSMD_METHOD_MAINTENANCE, f, NULL), "maintenance needed and in it: passes");

	/* Recovery mode (guide 4.5.4). */
	tap_ok(check(HSMD_METHOD_RECOVERY, clean, "only in recovery mode"),
	       "recovery needed, not in it: refused");
	{
		/* A method's hint leads the message of its mode rule, and of
		 * that rule only. */
		char msg[512] = "";
		int rc = hd_gate_check(HSMD_METHOD_RECOVERY, "logs are cleared only there", &clean,
				       msg, sizeof(msg));
		TAP_INT_EQ(rc, HSMD_REFUSED_STATE, "recovery needed, with a hint: refused");
		TAP_STR_EQ(msg,
			   "logs are cleared only there; to enter recovery mode hold the recovery "
			   "button (hsmd button --hold 60) and reset the HSM (guide 4.5.4.2)",
			   "... the hint, then how to enter recovery mode");
		f = clean;
		f.esn = "1A23-BC45-6789";
		rc = hd_gate_check(HSMD_METHOD_MAINTENANCE, "keys change only there", &f, msg,
				   sizeof(msg));
		TAP_STR_EQ(msg,
			   "keys change only there; enter maintenance mode with 'nopclearfail -M "
			   "--esn 1A23-BC45-6789 -w' first",
			   "maintenance needed, with a hint: the hint, then the command");
		f = clean;
		f.clock_lost = 1;
		rc = hd_gate_check(HSMD_METHOD_RECOVERY | HSMD_METHOD_NEEDS_CLOCK, "a hint", &f,
				   msg, sizeof(msg));
		tap_ok(rc == HSMD_REFUSED_STATE && strstr(msg, "clock is lost") &&
			   !strstr(msg, "a hint"),
		       "another rule keeps its own message (%s)", msg);
	}
	f = clean;
	f.recovery = 1;
	tap_ok(check(HSMD_METHOD_RECOVERY | HSMD_METHOD_INVASIVE, f, NULL),
	       "recovery needed and in it: passes");
	f.maintenance = 1;
	f.maintenance = 0;
	tap_ok(check(HSMD_METHOD_MAINTENANCE, f, NULL),
	       "maintenance needed on the recovery image: met (no ncoreapi runs there)");
	tap_ok(hd_gate_runs_in_recovery("sshadmin") && hd_gate_runs_in_recovery("setup") &&
		   hd_gate_runs_in_recovery("monitor") && hd_gate_runs_in_recovery("updater"),
	       "the platform services run on the recovery image");
	tap_ok(!hd_gate_runs_in_recovery("ncoreapi") && !hd_gate_runs_in_recovery("launcher") &&
		   !hd_gate_runs_in_recovery("orchestrator") && !hd_gate_runs_in_recovery(NULL),
	       "ncoreapi, launcher and the orchestrator do not");

	/* Order: factory before critical before interlock before the rest. */
	f = (struct hd_gate_facts){ .factory = 1,
				    .log_level = HD_LOG_CRITICAL,
				    .ncoreapi_operational = 1 };
	tap_ok(check(0, f, "factory state"), "factory state is reported first");
	f.factory = 0;
	tap_ok(check(HSMD_METHOD_INVASIVE, f, "critical"), "then the critical log level");
	f.log_level = HD_LOG_OVER_SAFE;
	tap_ok(check(HSMD_METHOD_INVASIVE | HSMD_METHOD_LOG_GUARDED, f, "interlock"),
	       "then the interlock");

	/* Variants chosen by params. */
	p = json_pack("{s:b}", "adjust", 1);
	TAP_INT_EQ(hd_gate_flags(1, "adjust", 8, 64, p), 1 | 8,
		   "variant param true adds variant flags");
	json_decref(p);
	p = json_pack("{s:b}", "adjust", 0);
	TAP_INT_EQ(hd_gate_flags(1, "adjust", 8, 64, p), 1 | 64,
		   "variant param false adds plain flags");
	json_decref(p);
	p = json_pack("{s:n}", "set");
	TAP_INT_EQ(hd_gate_flags(0, "set", 1, 0, p), 0, "variant param null counts as absent");
	json_decref(p);
	p = json_pack("{s:s}", "set", "rsa");
	TAP_INT_EQ(hd_gate_flags(0, "set", 1, 0, p), 1, "variant param string adds variant flags");
	json_decref(p);
	p = json_object();
	TAP_INT_EQ(hd_gate_flags(2, NULL, 1, 4, p), 2, "no variant: base flags only");
	json_decref(p);

	TAP_INT_EQ(hd_log_level_of(0, 1000, 80, 95), HD_LOG_OK, "log level: empty is ok");
	TAP_INT_EQ(hd_log_level_of(799, 1000, 80, 95), HD_LOG_OK, "log level: just below safe");
	TAP_INT_EQ(hd_log_level_of(800, 1000, 80, 95), HD_LOG_OVER_SAFE, "log level: at safe");
	TAP_INT_EQ(hd_log_level_of(950, 1000, 80, 95), HD_LOG_CRITICAL, "log level: at critical");
	TAP_INT_EQ(hd_log_level_of(UINT64_MAX, 1000, 80, 95), HD_LOG_CRITICAL,
		   "log level: huge usage, no overflow");
	TAP_INT_EQ(hd_log_level_of(10, 0, 80, 95), HD_LOG_CRITICAL,
		   "log level: zero capacity is critical");
	return tap_done();
}
