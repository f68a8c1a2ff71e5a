/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - hsmd.conf: limits of the SSH server, the log capacity rules
 * (guide 4.12.1) and the clock slew rate.  Parsed with the hardened inih
 * wrapper; unknown sections and keys, duplicates and out-of-range numbers
 * are errors naming the line, and nothing is applied unless the whole file
 * parses.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hsmadmin/fileio.h>
#include <hsmadmin/netaddr.h>
#include <hsmadmin/ini-strict.h>
#include <hsmadmin/trust.h>
#include "licence.h"
#include "hsmd.h"

void hd_config_defaults(struct hd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->servicedir, sizeof(cfg->servicedir), "%s", HSMADMIN_SERVICEDIR);
	cfg->login_timeout = 10;
	cfg->idle_timeout = 300;
	cfg->max_auth_attempts = 6;
	cfg->max_connections = 1024;
	cfg->max_unauthenticated = 256;
	cfg->max_unauthenticated_per_source = 16;
	cfg->max_sessions_per_key = 32;
	cfg->refusal_log_interval = 60;
	cfg->max_channels = 8;
	cfg->log_capacity = 64u * 1024u * 1024u;
	cfg->log_safe_percent = 80;
	cfg->log_critical_percent = 95;
	cfg->log_checkpoint_every = 1024;
	cfg->slew_per_day = 5;
	cfg->vcm_stats_interval = 30;
	cfg->vcm_start_timeout = 10;
	cfg->vcm_disk_limit = 16u * 1024u * 1024u;
	cfg->vcm_uid_base = 200000;
	cfg->vcm_uid_count = 65536;
	snprintf(cfg->vendordir, sizeof(cfg->vendordir), "%s/vendor.d", HSMADMIN_SYSCONFDIR);
	snprintf(cfg->vcm_allocations, sizeof(cfg->vcm_allocations), "%s/vcm-allocations.json",
		 HSMADMIN_DEFAULT_HOME);
}

struct key_spec {
	const char *section, *name;
	size_t offset; /* into struct hd_config */
	int is64;      /* uint64_t rather than unsigned */
	uint64_t min, max;
};

#define U(sec, key, field, lo, hi)                                                                 \
	{                                                                                          \
		sec, key, offsetof(struct hd_config, field), 0, lo, hi                             \
	}
#define U64(sec, key, field, lo, hi)                                                               \
	{                                                                                          \
		sec, key, offsetof(struct hd_config, field), 1, lo, hi                             \
	}
static const struct key_spec keys[] = {
	U("server", "login_timeout", login_timeout, 1, 600),
	U("server", "idle_timeout", idle_timeout, 1, 86400),
	U("server", "max_auth_attempts", max_auth_attempts, 1, 100),
	U("server", "max_connections", max_connections, 1, 100000),
	U("server", "max_channels", max_channels, 1, 64),
	U("server", "max_unauthenticated", max_unauthenticated, 1, 100000),
	U("server", "max_unauthenticated_per_source", max_unauthenticated_per_source, 1, 100000),
	U("server", "max_sessions_per_key", max_sessions_per_key, 1, 100000),
	U("server", "refusal_log_interval", refusal_log_interval, 1, 86400),
	U64("logs", "capacity", log_capacity, 1024, UINT64_C(1) << 40),
	U("vcm", "stats_interval", vcm_stats_interval, 1, 3600),
	U("vcm", "start_timeout", vcm_start_timeout, 1, 120),
	U64("vcm", "disk_limit", vcm_disk_limit, 4096, UINT64_C(1) << 40),
	U("vcm", "uid_base", vcm_uid_base, 0, 4000000000u),
	U("vcm", "uid_count", vcm_uid_count, 2, 1000000),
	U("logs", "safe_percent", log_safe_percent, 1, 100),
	U("logs", "critical_percent", log_critical_percent, 1, 100),
	U("logs", "checkpoint_every", log_checkpoint_every, 1, 100000),
	U("clock", "slew_per_day", slew_per_day, 1, 86400),
};

struct parse_state {
	struct hd_config cfg;
	uint32_t seen; /* bit per keys[] entry, plus bit 31 for servicedir */
};

int hd_config_number(const char *value, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (value[0] < '0' || value[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int on_key(void *user, const char *section, const char *name, const char *value, char *err,
		  size_t errlen)
{
	struct parse_state *ps = user;

	if (strcmp(section, "paths") == 0 && strcmp(name, "servicedir") == 0) {
		if (ps->seen & (1u << 31))
			return hsm_set_err(err, errlen, "duplicate key 'servicedir'");
		ps->seen |= 1u << 31;
		if (value[0] != '/' || strlen(value) >= sizeof(ps->cfg.servicedir))
			return hsm_set_err(err, errlen, "servicedir must be an absolute path");
		snprintf(ps->cfg.servicedir, sizeof(ps->cfg.servicedir), "%s", value);
		return 0;
	}
	if (strcmp(section, "paths") == 0 && strcmp(name, "vcm_allocations") == 0) {
		if (ps->seen & (1u << 29))
			return hsm_set_err(err, errlen, "duplicate key 'vcm_allocations'");
		ps->seen |= 1u << 29;
		if (value[0] != '/' || strlen(value) >= sizeof(ps->cfg.vcm_allocations) - 8)
			return hsm_set_err(err, errlen, "vcm_allocations must be an absolute path");
		snprintf(ps->cfg.vcm_allocations, sizeof(ps->cfg.vcm_allocations), "%s", value);
		return 0;
	}
	if (strcmp(section, "vcm") == 0 && strcmp(name, "emulated_subnet") == 0) {
		struct hsm_cidr net;
		char inner[128];
		if (ps->seen & (1u << 30))
			return hsm_set_err(err, errlen, "duplicate key 'emulated_subnet'");
		ps->seen |= 1u << 30;
		if (hsm_cidr_parse(value, 0, &net, inner, sizeof(inner)) != 0)
			return hsm_set_err(err, errlen, "emulated_subnet: %s", inner);
		snprintf(ps->cfg.vcm_subnet, sizeof(ps->cfg.vcm_subnet), "%s", value);
		return 0;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint64_t v;
		if (strcmp(section, keys[i].section) || strcmp(name, keys[i].name))
			continue;
		if (ps->seen & (1u << i))
			return hsm_set_err(err, errlen, "duplicate key '%s'", name);
		ps->seen |= 1u << i;
		if (hd_config_number(value, keys[i].min, keys[i].max, &v) != 0)
			return hsm_set_err(err, errlen,
					   "%s: '%s' is not a number from %" PRIu64 " to %" PRIu64,
					   name, value, keys[i].min, keys[i].max);
		if (keys[i].is64)
			*(uint64_t *)(void *)((char *)&ps->cfg + keys[i].offset) = v;
		else
			*(unsigned *)(void *)((char *)&ps->cfg + keys[i].offset) = (unsigned)v;
		return 0;
	}
	return hsm_set_err(err, errlen, "unknown key '%s' in section [%s]", name, section);
}

/* A section is known when a key of it is: [paths] and the table's.  An
 * unknown one is refused even when it has no keys. */
static int on_section(void *user, const char *section, char *err, size_t errlen)
{
	(void)user;
	if (strcmp(section, "paths") == 0)
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(section, keys[i].section) == 0)
			return 0;
	return hsm_set_err(err, errlen, "unknown section [%s]", section);
}

int hd_config_parse(struct hd_config *cfg, const char *text, size_t len, char *err, size_t errlen)
{
	struct parse_state ps = { .cfg = *cfg };

	if (hsm_ini_parse_sections(text, len, on_section, on_key, &ps, err, errlen) != 0)
		return -1;
	if (ps.cfg.log_safe_percent >= ps.cfg.log_critical_percent)
		return hsm_set_err(err, errlen,
				   "safe_percent (%u) must be below critical_percent (%u)",
				   ps.cfg.log_safe_percent, ps.cfg.log_critical_percent);
	if (ps.cfg.vcm_uid_base != 0 && ps.cfg.vcm_uid_base < 1000)
		return hsm_set_err(err, errlen,
				   "uid_base (%u) must be 0 (VCMs run as hsmd) or at least 1000",
				   ps.cfg.vcm_uid_base);
	if (ps.cfg.vcm_uid_base > 4294967294u - ps.cfg.vcm_uid_count)
		return hsm_set_err(err, errlen, "uid_base + uid_count passes the largest uid");
	*cfg = ps.cfg;
	return 0;
}

/* ---- vendor.d ----------------------------------------------------------
 * The vendor keys that sign feature licences.  `fet` reads them again at
 * each call; loading them here makes a broken key file a start-up error
 * rather than a surprise when a licence arrives. */
static int vendor_dir_load(struct hd_config *cfg, const char *confdir, char *err, size_t errlen)
{
	char inner[HD_ERRLEN];
	EVP_PKEY **vkeys = NULL;
	size_t n = 0;

	if (strlen(confdir) + sizeof("/vendor.d") > sizeof(cfg->vendordir))
		return hsm_set_err(err, errlen, "%s: configuration path too long", confdir);
	snprintf(cfg->vendordir, sizeof(cfg->vendordir), "%s/vendor.d", confdir);
	if (hsm_vendor_keys_load(cfg->vendordir, &vkeys, &n, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "vendor keys: %s", inner);
	hsm_vendor_keys_free(vkeys, n);
	return 0;
}

int hd_config_load(struct hd_config *cfg, const char *confdir, char *err, size_t errlen)
{
	char path[4200], *text, inner[HD_ERRLEN];
	size_t len;
	int rc;

	/* The configuration directory, hsmd.conf and vendor.d configure a
	 * process running as root: the trust rules (hsmadmin/trust.h). */
	if ((rc = hsm_trust_dir(confdir, inner, sizeof(inner))) == -1)
		return hsm_set_err(err, errlen, "configuration directory %s", inner);
	if (vendor_dir_load(cfg, confdir, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/hsmd.conf", confdir);
	rc = hsm_trust_read_file(path, 65536, &text, &len, inner, sizeof(inner));
	if (rc == HSM_TRUST_ABSENT)
		return 0;
	if (rc != 0)
		return hsm_set_err(err, errlen, "%s", inner);
	rc = hd_config_parse(cfg, text, len, inner, sizeof(inner));
	free(text);
	if (rc != 0)
		return hsm_set_err(err, errlen, "%s: %s", path, inner);
	return 0;
}
