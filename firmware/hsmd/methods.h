/* SPDX-License-Identifier: Apache-2.0 */
/*
 * methods.h - `hsmd methods`: every method of the services an hsmd
 * configuration loads, with the rules that apply to it, read from the same
 * method tables the daemon dispatches with (docs/protocol.md, "Who may
 * call what").
 */
#ifndef HD_METHODS_H
#define HD_METHODS_H

#include <jansson.h>

#include "services.h"

/* The method listing of loaded services as a new JSON array, one object
 * per method: service, method, flags, variant_param, variant_flags,
 * plain_flags, runs_on, in_recovery, fault_exempt, summary. */
json_t *hd_methods_json(const struct hd_loaded_service *svcs, size_t n);

/* The names of HSMD_METHOD_* bits as a new JSON array of strings. */
json_t *hd_method_flag_names(uint32_t flags);

int hd_methods_main(int argc, char **argv);

#endif
