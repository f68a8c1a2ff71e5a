/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcmlines.h - the lines between hsmd and its VCM processes (vcmhost.c,
 * vcmproc.c; hsmd(8), VCMs): one status line (VCM -> supervisor) and one
 * platform line (supervisor -> VCM), each already cut by lines.h.  A VCM
 * runs tenant-facing services, so its status lines come from a peer the
 * supervisor does not trust: anything but the lines below is malformed.
 */
#ifndef HSMD_VCMLINES_H
#define HSMD_VCMLINES_H

enum hd_status {
	HD_STATUS_MALFORMED = 0, /* none of the below */
	HD_STATUS_READY,         /* "ready": the VCM serves */
	HD_STATUS_ERROR,         /* "error TEXT": it could not start; TEXT not empty */
	HD_STATUS_OPERATIONAL,   /* "ncoreapi operational" */
	HD_STATUS_STOPPED,       /* "ncoreapi stopped" */
	HD_STATUS_PLATFORM,      /* a platform line taken in, echoed back */
};

/* What one status line says.  *text (when text is not NULL) is set to
 * TEXT of "error TEXT" or to the whole echoed platform line, else NULL.
 * A status line is printable: one holding a control character is
 * malformed. */
enum hd_status hd_status_parse(const char *line, const char **text);

/* What a platform line says of the HSM: "platform" and the words that
 * hold of it, separated by spaces; words it does not know are ignored (a
 * newer supervisor may say more). */
struct hd_platform {
	int clock_lost; /* "clock_lost": its clock is lost (guide 4.2.2) */
	int critical;   /* "critical": its logs are past their critical capacity */
};

/* 1 and *pf set when line is a platform line, 0 (pf untouched) for any
 * other line, which the VCM ignores. */
int hd_platform_parse(const char *line, struct hd_platform *pf);

#endif
