/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/platform/change.c - the commands that change an HSM: settime,
 * setminvsn, reset, factorystate, select acceleration.  The device enforces
 * the rules (interlock, log capacity, lost clock, monotonic time, VSN
 * range); these commands send the request and report its answer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transport-report.h"

#include "platform.h"

static void print_settime(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			  void *arg)
{
	json_t *t = json_object_get(res, "time");
	char buf[64];

	if (json_is_true(json_object_get(res, "adjusting"))) {
		hsm_printf(ctx, "%s: HSM system time calibration in progress\n", m->esn);
		return;
	}
	hsm_printf(ctx, "%s: HSM system time set to %s%s\n", m->esn,
		   json_is_integer(t) ? hsm_format_time(json_integer_value(t), buf, sizeof(buf))
				      : "?",
		   json_is_true(json_object_get(res, "reset"))
		       ? "; the HSM was reset"
		       : "; not reset (--no-reset): reboot the host to reset the HSM");
}

/* `settime --adjust` and the guide's other spelling `settime adjust`
 * (guide 4.2.4) are the same command. */
int platform_settime(struct hsm_ctx *ctx)
{
	int adjust =
	    hsm_opt_given(ctx, "adjust") || !strcmp(hsm_command_path(ctx), "settime adjust");
	json_t *params = json_pack("{s:I, s:b}", "time", (json_int_t)time(NULL), "adjust", adjust);

	if (hsm_opt_given(ctx, "no-reset"))
		json_object_set_new(params, "no_reset", json_true());
	int rc = hsm_report_call(ctx, "setup", "settime", params, print_settime, NULL);

	json_decref(params);
	return rc;
}

static void print_minvsn(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			 void *arg)
{
	hsm_printf(ctx, "%s: minimum VSN is now %" JSON_INTEGER_FORMAT "\n", m->esn,
		   json_integer_value(json_object_get(res, "min_vsn")));
}

int platform_setminvsn(struct hsm_ctx *ctx)
{
	json_t *params = json_pack("{s:I}", "vsn", (json_int_t)hsm_opt_int(ctx, "VSN"));
	int rc = hsm_report_call(ctx, "setup", "setminvsn", params, print_minvsn, NULL);

	json_decref(params);
	return rc;
}

/* A reset with the recovery button held boots the recovery image; one in
 * recovery mode without it boots the primary image; both in factory state
 * (guide 4.5.4.2, 4.5.4.3). */
static void print_reset(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			void *arg)
{
	const char *image = json_string_value(json_object_get(res, "image"));
	const json_t *started = json_object_get(res, "autostart_started");
	const json_t *skipped = json_object_get(res, "autostart_not_started"), *v;
	size_t i;

	if (json_is_true(json_object_get(res, "factory_state"))) {
		hsm_printf(ctx,
			   "%s: reset; %s in factory state: enroll it again with "
			   "'hsmadmin enroll --esn %s'\n",
			   m->esn,
			   image && strcmp(image, "recovery") == 0
			       ? "the recovery image booted (recovery mode)"
			       : "left recovery mode: the primary image booted",
			   m->esn);
		return;
	}
	hsm_printf(ctx, "%s: reset\n", m->esn);
	if (json_is_object(json_object_get(res, "new_firmware"))) {
		/* An upgrade installed with --no-reset boots now, into factory
		 * state with new host keys: forget the pins, as factorystate does. */
		char why[512];
		if (hsm_pins_remove(hsm_home(ctx), m->esn, why, sizeof(why)) < 0)
			hsm_warn(ctx, "%s: %s", m->esn, why);
		hsm_printf(
		    ctx,
		    "%s: firmware %s installed by upgrade boots now, in factory state; enroll it "
		    "again with 'hsmadmin enroll --esn %s'\n",
		    m->esn,
		    json_string_value(
			json_object_get(json_object_get(res, "new_firmware"), "primary"))
			?: "?",
		    m->esn);
	}
	json_array_foreach(started, i, v)
	    hsm_printf(ctx, "%s: autostart VCM %s started\n", m->esn, json_string_value(v) ?: "?");
	json_array_foreach(skipped, i, v)
	    hsm_printf(ctx, "%s: autostart VCM %s not started: %s\n", m->esn,
		       json_string_value(json_object_get(v, "uuid")) ?: "?",
		       json_string_value(json_object_get(v, "reason")) ?: "?");
}

/* An HSM that changed image is in factory state with new host keys: its
 * pins are stale, as after factorystate. */
static void reset_forget(struct hsm_ctx *ctx, const struct hsm_module *m, struct hsm_rpc_reply *r,
			 void *arg)
{
	char why[512];

	(void)arg;
	if (r->exit == 0 && json_is_true(json_object_get(r->result, "factory_state")) &&
	    hsm_pins_remove(hsm_home(ctx), m->esn, why, sizeof(why)) < 0)
		hsm_warn(ctx, "%s: %s", m->esn, why);
}

int platform_reset(struct hsm_ctx *ctx)
{
	return hsm_report_call_judged(ctx, "setup", "reset", NULL, print_reset, reset_forget, NULL);
}

/* --- factorystate ------------------------------------------------------ */

/* Without --esn every known HSM is wiped: make sure a person meant it. */
static int confirm_all(struct hsm_ctx *ctx, const struct hsm_fleet *fleet)
{
	char answer[16];

	if (!isatty(STDIN_FILENO))
		return hsm_error(
		    ctx, HSM_EXIT_USAGE, "confirmation",
		    "this would return all %zu known HSMs to factory state; give --esn "
		    "or --all (stdin is not a terminal, so I cannot ask)",
		    fleet->count);
	fprintf(stderr,
		"This returns %zu HSM%s to factory state, erasing all user data and "
		"credentials:\n",
		fleet->count, fleet->count == 1 ? "" : "s");
	for (size_t i = 0; i < fleet->count; i++)
		fprintf(stderr, "  %s (%s)\n", fleet->modules[i].esn, fleet->modules[i].address);
	fprintf(stderr, "Continue? [y/N] ");
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin) ||
	    (strcmp(answer, "y\n") != 0 && strcmp(answer, "yes\n") != 0 &&
	     strcmp(answer, "Y\n") != 0))
		return hsm_error(ctx, HSM_EXIT_FAILED, "confirmation",
				 "not confirmed: nothing changed");
	return 0;
}

static void print_factorystate(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			       void *arg)
{
	hsm_printf(ctx,
		   "%s: returned to factory state; enroll it again with "
		   "'hsmadmin enroll --esn %s'\n",
		   m->esn, m->esn);
}

/* The device now has new host keys and no client keys: the pins are
 * stale, and keeping them would turn the next enroll into a trust error. */
static void factorystate_forget(struct hsm_ctx *ctx, const struct hsm_module *m,
				struct hsm_rpc_reply *r, void *arg)
{
	char why[512];

	(void)arg;
	if (r->exit == 0 && hsm_pins_remove(hsm_home(ctx), m->esn, why, sizeof(why)) < 0)
		hsm_warn(ctx, "%s: %s", m->esn, why);
}

int platform_factorystate(struct hsm_ctx *ctx)
{
	struct hsm_fleet fleet;
	int rc = hsm_fleet_open(ctx, &fleet);

	if (rc)
		return rc;
	if (hsm_esn_count(ctx) == 0 && !hsm_opt_given(ctx, "all"))
		rc = confirm_all(ctx, &fleet);
	if (rc == 0)
		rc = hsm_report_fleet_call(ctx, &fleet, "setup", "factorystate", NULL,
					   print_factorystate, factorystate_forget, NULL);
	hsm_fleet_close(&fleet);
	return rc;
}

/* --- select acceleration ------------------------------------------------ */

static void print_acceleration(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			       void *arg)
{
	static const char *const order[] = { "available", "selected", "pending", NULL };

	hsm_printf(ctx, "HSM %s (%s)\n", m->esn, m->address);
	hsm_print_fields(ctx, res, order);
	if (json_is_string(json_object_get(res, "pending")))
		hsm_printf(ctx, "  (the pending accelerator takes effect at the next reset)\n");
}

int platform_select_acceleration(struct hsm_ctx *ctx)
{
	const char *id = hsm_opt_str(ctx, "set");
	json_t *params;
	int rc;

	if (hsm_opt_given(ctx, "set")) {
		if (!*id || strlen(id) > 64)
			return hsm_error(ctx, HSM_EXIT_USAGE, "--set",
					 "'%s' is not an accelerator ID", id);
		params = json_pack("{s:s}", "set", id);
	} else {
		params = json_object();
	}
	rc = hsm_report_call(ctx, "setup", "select_acceleration", params, print_acceleration, NULL);
	json_decref(params);
	return rc;
}

/* --- cs5 stats ------------------------------------------------------------ */

/* CodeSafe 5 is not supported in multi-tenant systems (guide 4.10.1.14):
 * every HSM this tool administers is one, so the answer is the guide's. */
int platform_cs5_stats(struct hsm_ctx *ctx)
{
	static const char msg[] = "CodeSafe 5 is not supported in multi-tenant systems";

	json_object_set_new(hsm_json(ctx), "supported", json_false());
	json_object_set_new(hsm_json(ctx), "message", json_string(msg));
	return hsm_error(ctx, HSM_EXIT_STATE, "unsupported", "%s", msg);
}
