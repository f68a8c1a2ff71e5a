/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dispatch.h - the entry point of the multi-call binary: core/cli/main.c
 * is only main() calling this (core/lib/dispatch.c does the rest).
 * Exported for that binary alone; not an installed header.
 */
#ifndef HSMADMIN_DISPATCH_H
#define HSMADMIN_DISPATCH_H

#include <hsmadmin/plugin.h> /* HSM_API */

/* argv[0]'s basename picks the tool; returns the exit code. */
HSM_API int hsm_main(int argc, char **argv);

#endif
