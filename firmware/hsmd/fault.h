/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault.h - an emulated hardware fault of the whole HSM (fault.c).
 */
#ifndef HSMD_FAULT_H
#define HSMD_FAULT_H

#include <stddef.h>

/* 1 with the reason when the HSM that owns this store (store_dir, or for a
 * VCM's store the HSM two levels up) has a hardware fault, else 0. */
int hsmd_fault_get(const char *store_dir, int is_vcm, char *reason, size_t len);
/* Set the fault of the HSM whose state directory is state_dir. */
int hsmd_fault_set(const char *state_dir, const char *reason, char *err, size_t errlen);
/* The methods a failed HSM still answers (they report the failure). */
int hsmd_fault_exempt(const char *service, const char *method);

#endif
