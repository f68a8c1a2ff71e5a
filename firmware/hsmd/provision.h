/* SPDX-License-Identifier: Apache-2.0 */
/* provision.h - `hsmd provision` (see provision.c). */
#ifndef HD_PROVISION_H
#define HD_PROVISION_H

#include <getopt.h>
int hd_provision_main(int argc, char **argv);
/* Its options (getopt_long), also the source of hsmd's shell completion. */
extern const struct option hd_provision_options[];
#endif
