/* SPDX-License-Identifier: Apache-2.0 */
/*
 * monitor-params.h - the checks of the monitor's params, apart from the
 * service so that its fuzz target (tests/fuzz/fuzz-monitor-params.c) runs
 * them.  Each returns 0, or -1 with the reason the reply names.
 */
#ifndef MONITOR_PARAMS_H
#define MONITOR_PARAMS_H

#include <stddef.h>
#include <jansson.h>

/* logs_get ({"log"?}, default "system") and logs_clear ({"log"}): the
 * log is "system" or "init". */
int monitor_params_log(const json_t *params, int required, const char **log, char *err,
		       size_t errlen);
/* logs_export: {"saved"?, "segment"?, "stream"?}; a segment number goes
 * with saved. */
int monitor_params_export(const json_t *params, int *saved, json_int_t *segment, int *stream,
			  char *err, size_t errlen);
/* logs_expire: {"segment"}, a log sequence number (at least 1). */
int monitor_params_expire(const json_t *params, json_int_t *segment, char *err, size_t errlen);
/* Methods without params: {}. */
int monitor_params_none(const json_t *params, char *err, size_t errlen);

#endif
