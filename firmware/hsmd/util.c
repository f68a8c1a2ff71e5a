/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.c - small helpers every part of hsmd uses.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hsmd.h"

const struct hd_known_service hd_known_services[] = {
	{ "sshadmin", 2201 }, { "setup", 2202 },   { "ncoreapi", 2203 },     { "updater", 2204 },
	{ "launcher", 2205 }, { "monitor", 2206 }, { "orchestrator", 2207 },
};
const size_t hd_known_service_count = sizeof(hd_known_services) / sizeof(hd_known_services[0]);

int64_t hd_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hd_host_time(void)
{
	return (int64_t)time(NULL);
}

int hd_name_valid(const char *name)
{
	size_t n = 0;

	if (!name || name[0] < 'a' || name[0] > 'z')
		return 0;
	for (const char *p = name; *p; p++, n++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
		if (n >= 47)
			return 0;
	}
	return 1;
}
