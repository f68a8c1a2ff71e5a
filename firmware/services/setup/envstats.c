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

json_t *setup_envstats(int64_t uptime, int64_t now, const char *esn)
{
	uint32_t s = seed_of(esn);
	double mcp = round_to(wander(41.0, 2.5, now, s, 1), 0.25);
	double cpu = round_to(wander(52.0, 4.0, now, s, 2), 0.25);
	double cop = round_to(wander(47.0, 3.0, now, s, 3), 0.25);
	double hi = cpu + 6.5, lo = mcp - 9.0;

	return json_pack(
	    "{s:I, s:I, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
	    "s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
	    "s:i, s:i, s:i, s:i, s:s, s:b}",
	    "uptime", (json_int_t)uptime, "current_time", (json_int_t)now, "mem_total", 4030464,
	    "mcp_temp", mcp, "cpu_temp", cpu, "crypto_co_proc_temp", cop, "voltage_t1022_core",
	    round_to(wander(1.000, 0.004, now, s, 4), 0.001), "voltage_t1022_ifc_io",
	    round_to(wander(1.800, 0.006, now, s, 5), 0.001), "voltage_t1022_serdes",
	    round_to(wander(1.000, 0.004, now, s, 6), 0.001), "voltage_t1022_serdes_io",
	    round_to(wander(1.350, 0.005, now, s, 7), 0.001), "voltage_c292_serdes",
	    round_to(wander(1.000, 0.004, now, s, 8), 0.001), "voltage_fpga_serdes",
	    round_to(wander(0.950, 0.004, now, s, 9), 0.001), "voltage_c292_serdes_io",
	    round_to(wander(1.800, 0.006, now, s, 10), 0.001), "voltage_fpga_serdes_io",
	    round_to(wander(1.200, 0.005, now, s, 11), 0.001), "voltage_msp_avcc",
	    round_to(wander(3.300, 0.010, now, s, 12), 0.001), "voltage_ddr4_io_access",
	    round_to(wander(2.500, 0.008, now, s, 13), 0.001), "voltage_ddr4_io",
	    round_to(wander(1.200, 0.004, now, s, 14), 0.001), "voltage_battery",
	    round_to(wander(3.020, 0.010, now, s, 15), 0.001), "voltage_pci_bus",
	    round_to(wander(3.300, 0.012, now, s, 16), 0.001), "max_temp", round_to(hi, 0.25),
	    "min_temp", round_to(lo, 0.25), "ais31_preliminary_alarm_count", 0, "spl_retries", 0,
	    "sp_i2c_total_failures", 0, "sp_i2c_slave_failures", 0, "sp_temp_failures", 0,
	    "sp_voltage_failures", 0, "host_bus_exceptions", 0, "crypto_bus_exceptions", 0,
	    "sp_sensor_cmd_failures", 0, "nvm_free_space", 61440, "nvm_wear_level", 1,
	    "nvm_worn_blocks", 0, "bios_code", "None", "dfs_throttling", 0);
}
