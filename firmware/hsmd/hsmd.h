/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmd.h - what the pieces of hsmd share: configuration, diagnostics and
 * small helpers.  Nothing here is seen by service modules (they get
 * hsmadmin/service.h only).
 */
#ifndef HD_HSMD_H
#define HD_HSMD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <hsmadmin/fileio.h> /* hsm_set_err: errors are reported through it */
#include <hsmadmin/plugin.h> /* HSM_PRINTF */

#define HD_ERRLEN 512

/* The platform services this HSM knows, with their default ports (guide
 * 4.6, docs/design.md "Services, ports and the protocol").  Every one gets a host key at
 * provisioning, whether or not its module runs. */
struct hd_known_service {
	const char *name;
	uint16_t port;
};
extern const struct hd_known_service hd_known_services[];
extern const size_t hd_known_service_count;

/* hsmd.conf (docs/man/hsmd.8). */
struct hd_config {
	char servicedir[4096];  /* where service modules live */
	unsigned login_timeout; /* seconds from accept to authenticated */
	unsigned idle_timeout;  /* seconds without traffic before a session is dropped */
	unsigned max_auth_attempts;
	unsigned max_connections;     /* open sessions over all services */
	unsigned max_unauthenticated; /* connections not yet authenticated, all sources */
	unsigned max_unauthenticated_per_source; /* ... from one source address */
	unsigned max_sessions_per_key;           /* authenticated sessions of one client key */
	unsigned refusal_log_interval; /* seconds: refusals logged once per source per interval */
	unsigned max_channels;         /* concurrent calls per session */
	uint64_t log_capacity;         /* bytes shared by the system and init logs */
	unsigned log_safe_percent;
	unsigned log_critical_percent;
	unsigned log_checkpoint_every; /* entries between signed checkpoints */
	unsigned slew_per_day;         /* seconds per day that settime --adjust moves the clock */
	/* CONF/vendor.d: the vendor public keys trusted for feature licences
	 * (checked at start-up, read again by each `fet`). */
	char vendordir[4200];
	/* [vcm]: the VCM supervisor. */
	unsigned vcm_stats_interval; /* seconds between statistics polls */
	unsigned vcm_start_timeout;  /* seconds a VCM process may take to serve */
	uint64_t vcm_disk_limit;     /* bytes of state a VCM may hold */
	unsigned vcm_uid_base;       /* VCM N runs as uid_base + N when hsmd is root; 0: as hsmd */
	unsigned vcm_uid_count;      /* how many such uids there are */
	char vcm_subnet[64];         /* emulated_subnet: VCM addresses in default mode */
	/* [paths] vcm_allocations: the machine-wide table of VCM addresses
	 * and users shared by every hsmd of this machine (vcmalloc.h). */
	char vcm_allocations[4096];
};

void hd_config_defaults(struct hd_config *cfg);
/* Read DIR/hsmd.conf when it exists (a missing file keeps the defaults),
 * and check the vendor keys in DIR/vendor.d (a missing directory is no keys). */
int hd_config_load(struct hd_config *cfg, const char *confdir, char *err, size_t errlen);
/* Parse hsmd.conf text (the fuzz target's entry point). */
int hd_config_parse(struct hd_config *cfg, const char *text, size_t len, char *err, size_t errlen);
/* A number as hsmd.conf writes them: decimal digits only (no sign, no
 * blanks), in [min, max], into *out; -1 when it is not one. */
int hd_config_number(const char *value, uint64_t min, uint64_t max, uint64_t *out);

/* Diagnostics (log.c), one line each: "hsmd: ...".  hd_log is
 * LOG_INFO; hd_log_at takes a syslog(3) priority (LOG_ERR ...
 * LOG_DEBUG).  Lines above the threshold are dropped. */
enum hd_log_sink { HD_LOG_AUTO, HD_LOG_STDERR, HD_LOG_JOURNAL, HD_LOG_SYSLOG };
void hd_log_setup(enum hd_log_sink sink, int threshold);
/* hsmd run --log-target/--log-level: "auto|stderr|journal|syslog" and a
 * level name; -1 if either is unknown.  Exported to VCM processes in
 * HSMD_LOG_TARGET/HSMD_LOG_LEVEL, which they read with _from_env. */
int hd_log_configure(const char *target, const char *level);
void hd_log_configure_from_env(void);
/* "err", "warning", "notice", "info", "debug" -> a priority; -1 if none. */
int hd_log_level_parse(const char *name, int *priority);
void hd_log(const char *fmt, ...) HSM_PRINTF(1, 2);
void hd_log_at(int priority, const char *fmt, ...) HSM_PRINTF(2, 3);
void hd_vlog_at(int priority, const char *fmt, va_list ap) HSM_PRINTF(2, 0);
/* Tell the service manager (sd_notify protocol, NOTIFY_SOCKET) a state
 * such as "READY=1" or "STOPPING=1"; 0 when there is none to tell. */
int hd_notify(const char *state);
/* The name diagnostics start with: "hsmd", or "hsmd vcm UUID" in a VCM's
 * process (its lines go to the same log as the platform's). */
extern char hd_log_name[64];

/* Monotonic milliseconds, and the host's wall clock in seconds. */
int64_t hd_mono_ms(void);
int64_t hd_host_time(void);

/* A method or service name: [a-z0-9_]{1,47}, starting with a letter. */
int hd_name_valid(const char *name);

#endif
