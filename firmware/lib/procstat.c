/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procstat.c - memory use of a device process, from /proc.
 */
#include "config.h"

#include <stdio.h>

#include "procstat.h"

long fw_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}
