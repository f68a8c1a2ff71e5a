/* SPDX-License-Identifier: Apache-2.0 */
/*
 * time-format.c - Unix seconds as the ISO 8601 UTC text every command
 * prints (licences, requests, firmware packages).
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include <hsmadmin/fileio.h>

HSM_API const char *hsm_time_iso(int64_t t, char buf[HSM_TIME_ISO_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, HSM_TIME_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, HSM_TIME_ISO_LEN, "%lld", (long long)t);
	return buf;
}
