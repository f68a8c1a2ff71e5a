/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devdoc.h - the documents under an HSM's state directory and their
 * validation (docs/formats/hsmd-state.md).  Every document hsmd reads is
 * checked here before anything uses it, so a damaged or hostile file is an
 * error naming the file and the member, never a crash.
 *
 *   lifetime.json  written once by `hsmd provision`, never again
 *   identity.pem   the device identity private key (0600), lifetime
 *   device.json    everything that changes (0600: holds host keys and the
 *                  log key); one atomic write per transaction
 *   system.log     the system log, one JSON entry per line, append-only
 *   init.log       the init log of the current boot, rewritten at start-up
 */
#ifndef HD_DEVDOC_H
#define HD_DEVDOC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define HD_DOC_VERSION 1
#define HD_DOC_MAX (4u * 1024u * 1024u)

/* The device clock (guide 4.2): host clock + offset, plus a slew in
 * progress that moves by at most `rate` seconds per second. */
struct hd_clock {
	int64_t offset;
	int have_last_set;
	int64_t last_set; /* the last time set without --adjust */
	int lost;
	int slewing;
	int64_t slew_start; /* host time the slew began */
	int64_t slew_delta; /* seconds still to apply at slew_start */
	/* The highest device time the device has seen (0: none yet): expiry
	 * is judged by it, so setting the clock back revives nothing. */
	int64_t high_water;
};

int hd_lifetime_validate(const json_t *doc, char *err, size_t errlen);
int hd_device_validate(const json_t *doc, char *err, size_t errlen);
/* The same for a document that replaces `prev` (validated before): VCM
 * entries that are prev's very objects are not checked again
 * (fw_vcms_validate_since), nor a licence equal to prev's in every byte. */
int hd_device_validate_since(const json_t *doc, const json_t *prev, char *err, size_t errlen);
/* The same where doc's registry differs from prev's only in the entries
 * `changed` names (UUID -> anything) and idx indexes prev's registry: the
 * changed entries are checked, the rules between entries for them alone
 * (fw_vcms_validate_changes), so the cost does not grow with the number
 * of VCMs.  prev's registry may be doc's, changed in place; without idx
 * (it could not be built) every entry is checked. */
struct fw_vcms_index;
int hd_device_validate_change(const json_t *doc, const json_t *prev, const json_t *changed,
			      const struct fw_vcms_index *idx, char *err, size_t errlen);

/* Read the clock out of a validated device document. */
void hd_clock_get(const json_t *device, struct hd_clock *clk);
/* Store a clock into a device document (replaces "clock"). */
void hd_clock_put(json_t *device, const struct hd_clock *clk);
/* Seconds of the slew applied by host time `now` (same sign as delta). */
int64_t hd_clock_slewed(const struct hd_clock *clk, int64_t host_now, unsigned per_day);
/* The device time at host time host_now. */
int64_t hd_clock_now(const struct hd_clock *clk, int64_t host_now, unsigned per_day);
/* Fold the applied part of a slew into the offset and start a new slew of
 * delta seconds at host_now. */
void hd_clock_adjust(struct hd_clock *clk, int64_t host_now, unsigned per_day, int64_t delta);

/* One system or init log entry: {"seq","time","event","detail"}. */
int hd_log_entry_validate(const json_t *entry, char *err, size_t errlen);

/* Parse log text (one entry per line).  A last line without its newline
 * (a write cut short by a crash) is dropped and *good_len tells how many
 * bytes are intact; any other damage is an error naming the line.
 * Sequence numbers must increase.  Returns a new array or NULL. */
json_t *hd_log_parse(const char *text, size_t len, size_t *good_len, char *err, size_t errlen);

#endif
