/* SPDX-License-Identifier: Apache-2.0 */
/* envstats.h - emulated environmental statistics (guide 4.10.1.13). */
#ifndef SETUP_ENVSTATS_H
#define SETUP_ENVSTATS_H
#include <stdint.h>
#include <jansson.h>
/* Every field of the guide's list, with plausible values that drift
 * slowly with time; uptime and current_time are real. */
json_t *setup_envstats(int64_t uptime, int64_t now, const char *esn);
#endif
