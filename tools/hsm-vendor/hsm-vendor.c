/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsm-vendor - the vendor's tool: vendor signing keys and feature
 * licences (docs/man/hsm-vendor.1, docs/formats/licence.md).
 *
 *   hsm-vendor keygen --out KEY [--pub PUBFILE] [--force]
 *   hsm-vendor licence --key KEY --esn ESN --max-active-vcms N [--features F]
 *                      [--speed-upgrade mid|high] [--type multi-tenant]
 *                      [--serial N] --out FILE [--force]
 *   hsm-vendor verify-licence --pub PUB [--pub PUB...] [--esn ESN] [--json] FILE
 *
 * Errors are one line on stderr; exit codes are enum hsm_exit.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "licence.h"
#include "modules.h"
#include "sign.h"

#define PROG "hsm-vendor"

static const char *subcommand = "";

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %s%s", subcommand, subcommand[0] ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " keygen --out KEY [--pub PUBFILE] [--force]\n"
		"       " PROG " licence --key KEY --esn ESN --max-active-vcms N [--features F]\n"
		"                  [--speed-upgrade mid|high] [--type multi-tenant] [--serial N]\n"
		"                  --out FILE [--force]\n"
		"       " PROG " verify-licence --pub PUB [--pub PUB...] [--esn ESN] [--json] FILE\n"
		"See hsm-vendor(1).\n");
}

/* getopt_long's own messages are several words on stderr already; turn
 * its '?' into our one-line usage error. */
/* A command-line word inside a message: printable ASCII, at most 40. */
static const char *printable(const char *arg, char q[48])
{
	size_t i;

	for (i = 0; arg[i] && i < 40; i++)
		q[i] = (arg[i] >= 0x20 && arg[i] < 0x7f) ? arg[i] : '?';
	q[i] = '\0';
	return q;
}

static int bad_option(int c, char **argv)
{
	char q[48];

	printable(argv[optind - 1], q);
	if (c == ':')
		return fail(HSM_EXIT_USAGE, "option '%s' needs a value", q);
	return fail(HSM_EXIT_USAGE, "unknown option '%s' (see " PROG " --help)", q);
}

/* Decimal without sign, leading zeros or junk, within [min, max]. */
static int parse_uint(const char *text, long long min, long long max, long long *out)
{
	size_t n = strlen(text);
	long long v = 0;

	if (n == 0 || n > 16 || (n > 1 && text[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* --- keygen ------------------------------------------------------------------ */

static int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "pub", required_argument, NULL, 'p' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL, *pub = NULL;
	int force = 0, c, rc = HSM_EXIT_FAILED;
	char err[512], *pem = NULL, *fp = NULL;
	EVP_PKEY *key = NULL;

	while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'p': pub = optarg; break;
		case 'f': force = 1; break;
		case 'h': usage(stdout); return HSM_EXIT_OK;
		default: return bad_option(c, argv);
		}
	}
	if (optind != argc)
		return fail(HSM_EXIT_USAGE, "unexpected argument '%s'", printable(argv[optind], (char[48]){ 0 }));
	if (!out)
		return fail(HSM_EXIT_USAGE, "--out KEY is required");
	if (pub && strcmp(pub, out) == 0)
		return fail(HSM_EXIT_USAGE, "--pub and --out must be different files");
	if (!force && exists(out))
		return fail(HSM_EXIT_FAILED, "%s exists (use --force to replace it)", out);
	if (pub && !force && exists(pub))
		return fail(HSM_EXIT_FAILED, "%s exists (use --force to replace it)", pub);

	key = hsm_ed25519_generate(err, sizeof(err));
	if (!key)
		return fail(HSM_EXIT_FAILED, "%s", err);
	pem = hsm_key_public_pem(key);
	fp = hsm_key_fingerprint(key);
	if (!pem || !fp) {
		fail(HSM_EXIT_FAILED, "out of memory");
		goto out;
	}
	/* Public key first: a failure then leaves no private key without
	 * its public half. */
	if (pub && hsm_write_file_atomic(pub, pem, strlen(pem), 0644, err, sizeof(err)) != 0) {
		fail(HSM_EXIT_FAILED, "%s", err);
		goto out;
	}
	if (hsm_key_save_private(out, key, force, err, sizeof(err)) != 0) {
		fail(HSM_EXIT_FAILED, "%s", err);
		goto out;
	}
	if (pub)
		printf("vendor key %s written to %s (public key %s)\n", fp, out, pub);
	else
		fputs(pem, stdout);
	rc = HSM_EXIT_OK;
out:
	free(pem);
	free(fp);
	EVP_PKEY_free(key);
	return rc;
}

/* --- licence ------------------------------------------------------------------- */

static int random_serial(int64_t *serial)
{
	uint64_t r;

	if (hsm_random(&r, sizeof(r)) != 0)
		return -1;
	*serial = (int64_t)(r & (uint64_t)HSM_LICENCE_SERIAL_MAX);
	if (*serial == 0)
		*serial = 1;
	return 0;
}

static int cmd_licence(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "esn", required_argument, NULL, 'e' },
		{ "max-active-vcms", required_argument, NULL, 'm' },
		{ "features", required_argument, NULL, 'F' },
		{ "speed-upgrade", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "serial", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *keyfile = NULL, *esn = NULL, *vcms = NULL, *features = NULL, *speed = NULL;
	const char *type = HSM_LICENCE_TYPE_MULTI_TENANT, *serial = NULL, *out = NULL;
	struct hsm_licence lic = { 0 };
	int force = 0, c, rc = HSM_EXIT_FAILED;
	char err[512], *text = NULL;
	EVP_PKEY *key = NULL;
	long long n;
	size_t len;

	while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'e': esn = optarg; break;
		case 'm': vcms = optarg; break;
		case 'F': features = optarg; break;
		case 's': speed = optarg; break;
		case 't': type = optarg; break;
		case 'n': serial = optarg; break;
		case 'o': out = optarg; break;
		case 'f': force = 1; break;
		case 'h': usage(stdout); return HSM_EXIT_OK;
		default: return bad_option(c, argv);
		}
	}
	if (optind != argc)
		return fail(HSM_EXIT_USAGE, "unexpected argument '%s'", printable(argv[optind], (char[48]){ 0 }));
	if (!keyfile || !esn || !vcms || !out)
		return fail(HSM_EXIT_USAGE, "--key, --esn, --max-active-vcms and --out are required");
	if (strcmp(type, HSM_LICENCE_TYPE_MULTI_TENANT) != 0)
		return fail(HSM_EXIT_USAGE, "--type: unknown licence type (only '%s')",
			    HSM_LICENCE_TYPE_MULTI_TENANT);
	snprintf(lic.type, sizeof(lic.type), "%s", type);
	if (hsm_esn_normalize(esn, lic.esn) != 0)
		return fail(HSM_EXIT_USAGE, "--esn: not an ESN (like 1A23-BC45-6789)");
	if (parse_uint(vcms, HSM_LICENCE_VCMS_MIN, HSM_LICENCE_VCMS_MAX, &n) != 0)
		return fail(HSM_EXIT_USAGE, "--max-active-vcms: must be a number from %d to %d",
			    HSM_LICENCE_VCMS_MIN, HSM_LICENCE_VCMS_MAX);
	lic.max_active_vcms = (unsigned)n;
	if (features && hsm_features_parse(features, &lic.features, err, sizeof(err)) != 0)
		return fail(HSM_EXIT_USAGE, "--features: %s", err);
	if (lic.features & HSM_FEAT_SPEED_MASK)
		return fail(HSM_EXIT_USAGE, "--features: speed bits are not features; use --speed-upgrade mid|high");
	if (lic.features & ~HSM_FEAT_KNOWN)
		return fail(HSM_EXIT_USAGE, "--features: unknown feature bits 0x%08X",
			    (unsigned)(lic.features & ~HSM_FEAT_KNOWN));
	if (speed && hsm_licence_speed_parse(speed, &lic.speed_upgrade) != 0)
		return fail(HSM_EXIT_USAGE, "--speed-upgrade: must be 'mid' or 'high'");
	if (serial) {
		if (parse_uint(serial, 1, HSM_LICENCE_SERIAL_MAX, &n) != 0)
			return fail(HSM_EXIT_USAGE, "--serial: must be a number from 1 to %lld",
				    HSM_LICENCE_SERIAL_MAX);
		lic.serial = n;
	} else if (random_serial(&lic.serial) != 0) {
		return fail(HSM_EXIT_FAILED, "cannot get random bytes for the serial");
	}
	lic.issued = (int64_t)time(NULL);
	if (!force && exists(out))
		return fail(HSM_EXIT_FAILED, "%s exists (use --force to replace it)", out);

	key = hsm_key_load_private(keyfile, err, sizeof(err));
	if (!key)
		return fail(HSM_EXIT_FAILED, "--key: %s", err);
	if (hsm_licence_sign(&lic, key, &text, &len, err, sizeof(err)) != 0) {
		fail(HSM_EXIT_FAILED, "%s", err);
		goto out;
	}
	if (hsm_write_file_atomic(out, text, len, 0644, err, sizeof(err)) != 0) {
		fail(HSM_EXIT_FAILED, "%s", err);
		goto out;
	}
	printf("licence %lld for ESN %s (%u active VCMs) written to %s\n", (long long)lic.serial,
	       lic.esn, lic.max_active_vcms, out);
	rc = HSM_EXIT_OK;
out:
	free(text);
	EVP_PKEY_free(key);
	EVP_PKEY_free(lic.signer);
	json_decref(lic.envelope);
	return rc;
}

/* --- verify-licence -------------------------------------------------------------- */

static int status_exit(int status)
{
	switch (status) {
	case HSM_LICENCE_OK: return HSM_EXIT_OK;
	case HSM_LICENCE_UNKNOWN_SIGNER:
	case HSM_LICENCE_TAMPERED: return HSM_EXIT_AUTH;
	case HSM_LICENCE_WRONG_ESN: return HSM_EXIT_FAILED;
	default: return HSM_EXIT_USAGE; /* malformed, unknown version: a bad input file */
	}
}

static void print_licence(const struct hsm_licence *lic)
{
	char names[512], when[32], *fp = hsm_key_fingerprint(lic->signer);
	time_t t = (time_t)lic->issued;
	struct tm tm;

	hsm_features_format(lic->features, names, sizeof(names));
	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)lic->issued);
	printf("type: %s\n", lic->type);
	printf("esn: %s\n", lic->esn);
	printf("max-active-vcms: %u\n", lic->max_active_vcms);
	printf("features: %s (0x%08X)\n", names[0] ? names : "none", (unsigned)lic->features);
	if (lic->speed_upgrade != HSM_LICENCE_SPEED_NONE)
		printf("speed-upgrade: %s\n", hsm_licence_speed_name(lic->speed_upgrade));
	printf("issued: %s\n", when);
	printf("serial: %lld\n", (long long)lic->serial);
	printf("format-version: %d\n", lic->version);
	printf("signature: good (vendor key %s)\n", fp ? fp : "?");
	free(fp);
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pub", required_argument, NULL, 'p' },
		{ "esn", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	EVP_PKEY *trusted[HSM_VENDOR_KEYS_MAX] = { 0 };
	struct hsm_licence *lic = NULL;
	const char *esn = NULL, *file;
	size_t ntrusted = 0;
	int json = 0, c, rc, status;
	char err[512];

	while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (ntrusted == HSM_VENDOR_KEYS_MAX) {
				rc = fail(HSM_EXIT_USAGE, "--pub: at most %d keys", HSM_VENDOR_KEYS_MAX);
				goto out;
			}
			trusted[ntrusted] = hsm_key_load_public(optarg, err, sizeof(err));
			if (!trusted[ntrusted]) {
				rc = fail(HSM_EXIT_USAGE, "--pub: %s", err);
				goto out;
			}
			ntrusted++;
			break;
		case 'e': esn = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); rc = HSM_EXIT_OK; goto out;
		default: rc = bad_option(c, argv); goto out;
		}
	}
	if (optind + 1 != argc) {
		rc = fail(HSM_EXIT_USAGE, "exactly one licence FILE is required");
		goto out;
	}
	if (ntrusted == 0) {
		rc = fail(HSM_EXIT_USAGE, "--pub PUB (a trusted vendor public key) is required");
		goto out;
	}
	file = argv[optind];
	status = hsm_licence_load_file(file, &lic, err, sizeof(err));
	if (status == 0) {
		status = hsm_licence_verify(lic, trusted, ntrusted, err, sizeof(err));
		if (status == 0 && esn)
			status = hsm_licence_check_esn(lic, esn, err, sizeof(err));
		if (status != 0) { /* load names the file in err; the later steps do not */
			rc = fail(status_exit(status), "%s: %s", file, err);
			goto out;
		}
	}
	if (status != 0) {
		rc = fail(status_exit(status), "%s", err);
		goto out;
	}
	if (json) {
		json_t *o = hsm_licence_summary(lic);
		char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
		json_decref(o);
		if (!s) {
			rc = fail(HSM_EXIT_FAILED, "out of memory");
			goto out;
		}
		printf("%s\n", s);
		free(s);
	} else {
		print_licence(lic);
	}
	rc = HSM_EXIT_OK;
out:
	for (size_t i = 0; i < ntrusted; i++)
		EVP_PKEY_free(trusted[i]);
	hsm_licence_free(lic);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*run)(int, char **); } cmds[] = {
		{ "keygen", cmd_keygen },
		{ "licence", cmd_licence },
		{ "verify-licence", cmd_verify },
	};

	if (argc < 2)
		return usage(stderr), HSM_EXIT_USAGE;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return HSM_EXIT_OK;
	}
	opterr = 0; /* errors are ours, one line */
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			subcommand = cmds[i].name;
			return cmds[i].run(argc - 1, argv + 1);
		}
	}
	char q[48];
	return fail(HSM_EXIT_USAGE, "unknown command '%s' (keygen, licence, verify-licence)",
		    printable(argv[1], q));
}
