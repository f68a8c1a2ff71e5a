/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/platform/query.c - the read-only commands: status, info,
 * gettime, getenvstats.  Each is one setup call fanned out to the HSMs
 * addressed, printed one block per HSM.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <hsmadmin/features.h>
#include "transport-report.h"

#include "platform.h"

static void header(struct hsm_ctx *ctx, const struct hsm_module *m)
{
	hsm_printf(ctx, "HSM %s (%s)\n", m->esn, m->address);
}

static void print_status(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			 void *arg)
{
	static const char *const order[] = { "esn",      "state",     "mode", "image",
					     "firmware", "clock_set", NULL };

	header(ctx, m);
	hsm_print_fields(ctx, res, order);
}

/* A failed module (hsmd fail) still answers status, saying so: for the
 * admin that is a failed HSM, reported like any other failure. */
static void judge_status(struct hsm_ctx *ctx, const struct hsm_module *m, struct hsm_rpc_reply *r,
			 void *arg)
{
	(void)ctx, (void)m, (void)arg;
	if (r->exit != 0 || !json_is_true(json_object_get(r->result, "hardware_failed")))
		return;
	hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "failed", "the HSM has failed (%s): replace it",
			   json_string_value(json_object_get(r->result, "hardware_fault"))
			       ?: "unknown");
}

int platform_status(struct hsm_ctx *ctx)
{
	return hsm_report_call_judged(ctx, "setup", "status", NULL, print_status, judge_status,
				      NULL);
}

/* Manufacturing time and features read better as text than as numbers. */
static void print_info(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
		       void *arg)
{
	static const char *const order[] = { "esn",
					     "dbid",
					     "mode",
					     "psn",
					     "mfgtime",
					     "speed",
					     "features",
					     "features_names",
					     "vsn",
					     "min_vsn",
					     "max_active_vcms",
					     "max_creatable_vcms",
					     NULL };
	json_t *copy = json_deep_copy(res);
	json_t *mfg = json_object_get(res, "mfgtime"), *feat = json_object_get(res, "features");
	char buf[64];

	header(ctx, m);
	if (!copy)
		return;
	if (json_is_integer(mfg))
		json_object_set_new(
		    copy, "mfgtime",
		    json_string(hsm_format_time(json_integer_value(mfg), buf, sizeof(buf))));
	if (json_is_integer(feat)) {
		snprintf(buf, sizeof(buf), "0x%08llX",
			 (unsigned long long)json_integer_value(feat) & 0xffffffffull);
		json_object_set_new(copy, "features", json_string(buf));
	}
	hsm_print_fields(ctx, copy, order);
	json_decref(copy);
}

int platform_info(struct hsm_ctx *ctx)
{
	return hsm_report_call(ctx, "setup", "info", NULL, print_info, NULL);
}

static void print_time(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
		       void *arg)
{
	json_t *t = json_object_get(res, "time");
	char buf[64];

	if (!json_is_integer(t)) {
		hsm_printf(ctx, "%s: (no time in the reply)\n", m->esn);
		return;
	}
	hsm_printf(ctx, "%s: %s\n", m->esn,
		   hsm_format_time(json_integer_value(t), buf, sizeof(buf)));
}

int platform_gettime(struct hsm_ctx *ctx)
{
	return hsm_report_call(ctx, "setup", "gettime", NULL, print_time, NULL);
}

static void print_envstats(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			   void *arg)
{
	/* The guide's order (4.10.1.13). */
	static const char *const order[] = { "uptime",
					     "current_time",
					     "mem_total",
					     "mem_used",
					     "mcp_temp",
					     "cpu_temp",
					     "crypto_co_proc_temp",
					     "voltage_t1022_core",
					     "voltage_t1022_ifc_io",
					     "voltage_t1022_serdes",
					     "voltage_t1022_serdes_io",
					     "voltage_c292_serdes",
					     "voltage_fpga_serdes",
					     "voltage_c292_serdes_io",
					     "voltage_fpga_serdes_io",
					     "voltage_msp_avcc",
					     "voltage_ddr4_io_access",
					     "voltage_ddr4_io",
					     "voltage_battery",
					     "voltage_pci_bus",
					     "max_temp",
					     "min_temp",
					     "ais31_preliminary_alarm_count",
					     "spl_retries",
					     "sp_i2c_total_failures",
					     "sp_i2c_slave_failures",
					     "sp_temp_failures",
					     "sp_voltage_failures",
					     "host_bus_exceptions",
					     "crypto_bus_exceptions",
					     "sp_sensor_cmd_failures",
					     "nvm_free_space",
					     "nvm_wear_level",
					     "nvm_worn_blocks",
					     "bios_code",
					     "dfs_throttling",
					     NULL };

	header(ctx, m);
	hsm_print_fields(ctx, res, order);
}

int platform_getenvstats(struct hsm_ctx *ctx)
{
	return hsm_report_call(ctx, "setup", "getenvstats", NULL, print_envstats, NULL);
}
