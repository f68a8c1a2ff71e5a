/* SPDX-License-Identifier: Apache-2.0 */
/* provision.h - `hsmd provision` (see provision.c). */
#ifndef HD_PROVISION_H
#define HD_PROVISION_H
int hd_provision_main(int argc, char **argv);
#endif
