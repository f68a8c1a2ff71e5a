/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firmware/lib/procstat.h - what the device reports of its own processes:
 * hsmd's VCM supervisor (per-VCM statistics) and the setup service (its
 * memory use) read them the same way.
 */
#ifndef FW_PROCSTAT_H
#define FW_PROCSTAT_H

#include <sys/types.h>
#include <hsmadmin/plugin.h> /* HSM_API: exported from libhsmfw */

/* Resident memory of a process in kilobytes (VmRSS of /proc/PID/status);
 * 0 when the process is gone or the kernel does not say. */
HSM_API long fw_rss_kb(pid_t pid);

#endif
