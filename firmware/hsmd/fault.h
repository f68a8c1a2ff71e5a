/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault.h - an emulated hardware fault of the whole HSM (fault.c).
 */
#ifndef HD_FAULT_H
#define HD_FAULT_H

#include <stddef.h>

/* 1 with the reason when the HSM of this store (an HSM's or a VCM's state
 * directory) has a hardware fault, else 0. */
int hd_fault_get(const char *store_dir, char *reason, size_t len);
/* Set the fault of the HSM whose state directory is state_dir, and of
 * each of its VCMs. */
int hd_fault_set(const char *state_dir, const char *reason, char *err, size_t errlen);
/* The methods a failed HSM still answers (they report the failure). */
int hd_fault_exempt(const char *service, const char *method);

#endif
