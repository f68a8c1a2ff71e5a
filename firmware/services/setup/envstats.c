/* SPDX-License-Identifier: Apache-2.0 */
/*
 * envstats.c - environmental statistics of an emulated nShield 5s.
 *
 * There are no sensors: each reading is a nominal value plus a small,
 * smooth variation derived from the time and the ESN, so two HSMs differ,
 * values move like real sensors, and every field stays in a plausible
 * range (an admin's monitoring thresholds never fire on the emulator).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "envstats.h"

static uint32_t seed_of(const char *esn)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; esn && *esn; esn++)
		h = (h ^ (uint8_t)*esn) * 16777619u;
	return h;
}

/* A value that wanders within nominal +- spread over hours. */
static double wander(double nominal, double spread, int64_t now, uint32_t seed, int k)
{
	double phase = (double)((seed >> (k % 24)) & 0xff) / 40.0;
	double t = (double)now / 3600.0;
	return nominal + spread * sin(t * (0.7 + 0.1 * k) + phase);
}

static double round_to(double v, double step)
{
	return floor(v / step + 0.5) * step;
}

/* The voltage rails: name, nominal volts and how far the reading wanders. */
static const struct {
	const char *name;
	double nominal, spread;
} rails[] = {
	{ "voltage_t1022_core", 1.000, 0.004 },     { "voltage_t1022_ifc_io", 1.800, 0.006 },
	{ "voltage_t1022_serdes", 1.000, 0.004 },   { "voltage_t1022_serdes_io", 1.350, 0.005 },
	{ "voltage_c292_serdes", 1.000, 0.004 },    { "voltage_fpga_serdes", 0.950, 0.004 },
	{ "voltage_c292_serdes_io", 1.800, 0.006 }, { "voltage_fpga_serdes_io", 1.200, 0.005 },
	{ "voltage_msp_avcc", 3.300, 0.010 },       { "voltage_ddr4_io_access", 2.500, 0.008 },
	{ "voltage_ddr4_io", 1.200, 0.004 },        { "voltage_battery", 3.020, 0.010 },
	{ "voltage_pci_bus", 3.300, 0.012 },
};

json_t *setup_envstats(int64_t uptime, int64_t now, const char *esn)
{
	uint32_t s = seed_of(esn);
	double mcp = round_to(wander(41.0, 2.5, now, s, 1), 0.25);
	double cpu = round_to(wander(52.0, 4.0, now, s, 2), 0.25);
	double cop = round_to(wander(47.0, 3.0, now, s, 3), 0.25);
	double hi = cpu + 6.5, lo = mcp - 9.0;
	json_t *o = json_pack("{s:I, s:I, s:i, s:f, s:f, s:f}", "uptime", (json_int_t)uptime,
			      "current_time", (json_int_t)now, "mem_total", 4030464, "mcp_temp",
			      mcp, "cpu_temp", cpu, "crypto_co_proc_temp", cop);
	json_t *rest = json_pack(
	    "{s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:b}",
	    "max_temp", round_to(hi, 0.25), "min_temp", round_to(lo, 0.25),
	    "ais31_preliminary_alarm_count", 0, "spl_retries", 0, "sp_i2c_total_failures", 0,
	    "sp_i2c_slave_failures", 0, "sp_temp_failures", 0, "sp_voltage_failures", 0,
	    "host_bus_exceptions", 0, "crypto_bus_exceptions", 0, "sp_sensor_cmd_failures", 0,
	    "nvm_free_space", 61440, "nvm_wear_level", 1, "nvm_worn_blocks", 0, "bios_code", "None",
	    "dfs_throttling", 0);

	if (!o || !rest) {
		json_decref(o);
		json_decref(rest);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(rails) / sizeof(rails[0]); i++)
		json_object_set_new(
		    o, rails[i].name,
		    json_real(round_to(
			wander(rails[i].nominal, rails[i].spread, now, s, (int)i + 4), 0.001)));
	json_object_update(o, rest);
	json_decref(rest);
	return o;
}
