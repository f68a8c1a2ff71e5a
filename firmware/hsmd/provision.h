/* SPDX-License-Identifier: Apache-2.0 */
/* provision.h - `hsmd provision` (see provision.c). */
#ifndef HSMD_PROVISION_H
#define HSMD_PROVISION_H
int hsmd_provision_main(int argc, char **argv);
#endif
