/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/logs/uncertified.c - when log keys without certificates are
 * accepted.
 *
 * The recovery image certifies nothing (guide 4.5.4.1), so an HSM in
 * recovery mode gives its log keys without certificates, and export,
 * collect and getkey can only take them as given, with a warning.  Taking
 * them whenever certificates are missing would let any HSM that stops
 * sending them (an impostor holding its host keys, a tampered image)
 * downgrade the check to nothing.  So they are taken only from an HSM
 * this host enrolled while it ran its recovery image, which its pins
 * record ("recovery": true, docs/formats/modules.md); an HSM enrolled on
 * its primary image must keep sending certified keys.
 */
#include "config.h"

#include <hsmadmin/plugin.h>
#include "hostkeys.h"
#include "logs.h"

int logs_refuse_uncertified(struct hsm_ctx *ctx, const char *esn, const char *not_done)
{
	return hsm_error(
	    ctx, HSM_EXIT_AUTH, esn,
	    "the HSM gave its log keys without certificates, but this host "
	    "enrolled it in primary mode (%s/pins/%s.json): refused, %s; if it really "
	    "runs its recovery image, enroll it again (hsmadmin enroll) while it is in "
	    "recovery mode",
	    hsm_home(ctx), esn, not_done);
}

int logs_uncertified_permitted(struct hsm_ctx *ctx, const char *esn, const char *not_done)
{
	struct hsm_pins pins;
	int rc, recovery;

	if ((rc = logs_load_pins(ctx, esn, &pins, "")))
		return rc;
	recovery = pins.recovery;
	hsm_pins_clear(&pins);
	return recovery ? 0 : logs_refuse_uncertified(ctx, esn, not_done);
}
