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
 *   hsm-vendor npkg --key KEY --component primary|recovery --version V --vsn N
 *                   --modules DIR [--services DIR] [--product P] --out FILE|DIR [--force]
 *   hsm-vendor npkg --key KEY --component bootloader --version V [--revokes-older]
 *                   [--product P] --out FILE|DIR [--force]
 *
 * Errors are one line on stderr; exit codes are enum hsm_exit.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hsmadmin/completion.h>
#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include <hsmadmin/plugin.h>
#include "licence.h"
#include "modules.h"
#include "npkg.h"
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
	fprintf(
	    f,
	    "Usage: " PROG " keygen --out KEY [--pub PUBFILE] [--force]\n"
	    "       " PROG " licence --key KEY --esn ESN --max-active-vcms N [--features F]\n"
	    "                  [--speed-upgrade mid|high] [--type multi-tenant] [--serial N]\n"
	    "                  [--issued UNIX-TIME] --out FILE [--force]\n"
	    "       " PROG " verify-licence --pub PUB [--pub PUB...] [--esn ESN] [--json] FILE\n"
	    "       " PROG " npkg --key KEY --component primary|recovery --version V --vsn N\n"
	    "                  --modules DIR [--services DIR] [--product P] --out FILE|DIR "
	    "[--force]\n"
	    "       " PROG " npkg --key KEY --component bootloader --version V [--revokes-older]\n"
	    "                  [--product P] --out FILE|DIR [--force]\n"
	    "       " PROG " completion bash|zsh|fish\n"
	    "       " PROG " --version | --help\n"
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

/* One option of a subcommand and where it goes: a string, a flag set to
 * 1, or a function that takes each value (0, or an exit code).  kind says
 * what the value is, for shell completion ("FILE", "DIR", "a|b"; see
 * <hsmadmin/completion.h>). */
struct vopt {
	const char *name;
	const char **str;
	int *flag;
	int (*take)(const char *arg, void *data);
	void *data;
	const char *kind;
};

#define VOPTS_MAX 16

/* `hsm-vendor completion SHELL` runs each subcommand with this set:
 * parse_options then hands over the subcommand's table instead of
 * parsing, and the subcommand returns at once.  So completion is made
 * from the very tables the subcommands parse with. */
static struct completion_sink {
	struct hsm_tool_command *cmd;
	struct hsm_tool_option *opts; /* VOPTS_MAX + 1 */
} * completion_sink;

static int completion_record(const struct vopt *opts, size_t n, const char *operand_what)
{
	for (size_t i = 0; i < n; i++)
		completion_sink->opts[i] =
		    (struct hsm_tool_option){ opts[i].name, !opts[i].flag, opts[i].kind };
	completion_sink->opts[n] = (struct hsm_tool_option){ NULL, 0, NULL };
	completion_sink->cmd->options = completion_sink->opts;
	completion_sink->cmd->operand = operand_what;
	return HSM_EXIT_OK;
}

/* Parse a subcommand's options (argv[0] is the subcommand) against opts,
 * n of them, and --help.  operand NULL: no operands; else exactly one,
 * stored there, and a missing one is "exactly one WHAT is required".
 * Returns -1 to go on, or the exit code to return (0 after --help). */
static int parse_options(int argc, char **argv, const struct vopt *opts, size_t n,
			 const char **operand, const char *what)
{
	struct option lo[VOPTS_MAX + 2];
	int c, rc;

	if (n > VOPTS_MAX)
		return fail(HSM_EXIT_FAILED, "internal error: too many options");
	if (completion_sink)
		return completion_record(opts, n, operand ? what : NULL);
	for (size_t i = 0; i < n; i++)
		lo[i] =
		    (struct option){ opts[i].name, opts[i].flag ? no_argument : required_argument,
				     NULL, (int)i + 1 };
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
	while ((c = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return HSM_EXIT_OK;
		}
		if (c < 1 || c > (int)n)
			return bad_option(c, argv);
		if (opts[c - 1].flag)
			*opts[c - 1].flag = 1;
		else if (opts[c - 1].str)
			*opts[c - 1].str = optarg;
		else if ((rc = opts[c - 1].take(optarg, opts[c - 1].data)) != 0)
			return rc;
	}
	if (operand) {
		if (optind + 1 != argc)
			return fail(HSM_EXIT_USAGE, "exactly one %s is required", what);
		*operand = argv[optind];
	} else if (optind != argc) {
		return fail(HSM_EXIT_USAGE, "unexpected argument '%s'",
			    printable(argv[optind], (char[48]){ 0 }));
	}
	return -1;
}

#define NOPTS(a) (sizeof(a) / sizeof((a)[0]))

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
	const char *out = NULL, *pub = NULL;
	int force = 0, rc = HSM_EXIT_FAILED;
	const struct vopt opts[] = {
		{ .name = "out", .str = &out, .kind = "FILE" },
		{ .name = "pub", .str = &pub, .kind = "FILE" },
		{ .name = "force", .flag = &force },
	};
	char err[512], *pem = NULL, *fp = NULL;
	EVP_PKEY *key = NULL;

	if ((rc = parse_options(argc, argv, opts, NOPTS(opts), NULL, NULL)) >= 0)
		return rc;
	rc = HSM_EXIT_FAILED;
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
	const char *keyfile = NULL, *esn = NULL, *vcms = NULL, *features = NULL, *speed = NULL;
	const char *type = HSM_LICENCE_TYPE_MULTI_TENANT, *serial = NULL, *out = NULL,
		   *issued = NULL;
	int force = 0, rc = HSM_EXIT_FAILED;
	const struct vopt opts[] = {
		{ .name = "key", .str = &keyfile, .kind = "FILE" },
		{ .name = "esn", .str = &esn },
		{ .name = "max-active-vcms", .str = &vcms },
		{ .name = "features", .str = &features },
		{ .name = "speed-upgrade", .str = &speed, .kind = "mid|high" },
		{ .name = "type", .str = &type },
		{ .name = "serial", .str = &serial },
		{ .name = "issued", .str = &issued },
		{ .name = "out", .str = &out, .kind = "FILE" },
		{ .name = "force", .flag = &force },
	};
	struct hsm_licence lic = { 0 };
	char err[512], *text = NULL;
	EVP_PKEY *key = NULL;
	long long n;
	size_t len;

	if ((rc = parse_options(argc, argv, opts, NOPTS(opts), NULL, NULL)) >= 0)
		return rc;
	rc = HSM_EXIT_FAILED;
	if (!keyfile || !esn || !vcms || !out)
		return fail(HSM_EXIT_USAGE,
			    "--key, --esn, --max-active-vcms and --out are required");
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
		return fail(
		    HSM_EXIT_USAGE,
		    "--features: speed bits are not features; use --speed-upgrade mid|high");
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
	/* The issue time orders licences: a device refuses one issued before
	 * the licence it has applied. */
	lic.issued = (int64_t)time(NULL);
	if (issued) {
		if (parse_uint(issued, 1, 253402300799LL, &n) != 0)
			return fail(HSM_EXIT_USAGE,
				    "--issued: must be Unix seconds from 1 to 253402300799");
		lic.issued = n;
	}
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

/* The trusted keys of verify-licence, one --pub each. */
struct trusted_keys {
	EVP_PKEY *v[HSM_VENDOR_KEYS_MAX];
	size_t n;
};

static int take_pub(const char *arg, void *data)
{
	struct trusted_keys *t = data;
	char err[512];

	if (t->n == HSM_VENDOR_KEYS_MAX)
		return fail(HSM_EXIT_USAGE, "--pub: at most %d keys", HSM_VENDOR_KEYS_MAX);
	if (!(t->v[t->n] = hsm_key_load_public(arg, err, sizeof(err))))
		return fail(HSM_EXIT_USAGE, "--pub: %s", err);
	t->n++;
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct trusted_keys keys = { { 0 }, 0 };
	EVP_PKEY **trusted = keys.v;
	struct hsm_licence *lic = NULL;
	const char *esn = NULL, *file = NULL;
	int json = 0, rc, status;
	const struct vopt opts[] = {
		{ .name = "pub", .take = take_pub, .data = &keys, .kind = "FILE" },
		{ .name = "esn", .str = &esn },
		{ .name = "json", .flag = &json },
	};
	char err[512];

	if ((rc = parse_options(argc, argv, opts, NOPTS(opts), &file, "licence FILE")) >= 0)
		goto out;
	if (keys.n == 0) {
		rc = fail(HSM_EXIT_USAGE, "--pub PUB (a trusted vendor public key) is required");
		goto out;
	}
	status = hsm_licence_load_file(file, &lic, err, sizeof(err));
	if (status == 0) {
		status = hsm_licence_verify(lic, trusted, keys.n, err, sizeof(err));
		if (status == 0 && esn)
			status = hsm_licence_check_esn(lic, esn, err, sizeof(err));
		if (status != 0) { /* load names the file in err; the later steps do not */
			rc = fail(hsm_licence_exit(status), "%s: %s", file, err);
			goto out;
		}
	}
	if (status != 0) {
		rc = fail(hsm_licence_exit(status), "%s", err);
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
	for (size_t i = 0; i < keys.n; i++)
		EVP_PKEY_free(trusted[i]);
	hsm_licence_free(lic);
	return rc;
}

/* --- npkg ---------------------------------------------------------------------- */

struct sources {
	struct hsm_npkg_source *v;
	char (*names)[HSM_NPKG_NAME_MAX + 1];
	char (*paths)[4200];
	size_t n;
};

/* Every regular DIR/<stem><ext> with a service-name stem, as
 * <prefix><stem><ext>. */
static int add_dir(struct sources *s, const char *dir, const char *prefix, const char *ext)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort), rc = 0;
	size_t el = strlen(ext);

	if (n < 0)
		return fail(HSM_EXIT_USAGE, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		size_t len = strlen(nm);
		char path[4200];
		struct stat st;

		if (rc == 0 && len > el && strcmp(nm + len - el, ext) == 0 && nm[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (s->n == HSM_NPKG_FILES_MAX)
					rc = fail(HSM_EXIT_USAGE, "more than %d files",
						  HSM_NPKG_FILES_MAX);
				else {
					snprintf(s->names[s->n], sizeof(s->names[0]), "%s%s",
						 prefix, nm);
					snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
					s->v[s->n].name = s->names[s->n];
					s->v[s->n].path = s->paths[s->n];
					s->n++;
				}
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmd_npkg(int argc, char **argv)
{
	const char *keyfile = NULL, *component = NULL, *version = NULL, *vsn = NULL,
		   *modules = NULL;
	const char *services = NULL, *product = HSM_NPKG_PRODUCT, *out = NULL;
	int force = 0, revokes = 0, rc = HSM_EXIT_FAILED;
	const struct vopt opts[] = {
		{ .name = "key", .str = &keyfile, .kind = "FILE" },
		{ .name = "component", .str = &component, .kind = "primary|recovery|bootloader" },
		{ .name = "version", .str = &version },
		{ .name = "vsn", .str = &vsn },
		{ .name = "revokes-older", .flag = &revokes },
		{ .name = "modules", .str = &modules, .kind = "DIR" },
		{ .name = "services", .str = &services, .kind = "DIR" },
		{ .name = "product", .str = &product },
		{ .name = "out", .str = &out, .kind = "FILE" },
		{ .name = "force", .flag = &force },
	};
	struct hsm_npkg_manifest m = { 0 };
	struct sources src = { 0 };
	char err[512], path[4400], name[256], bootpath[64] = "", svcdefault[4200];
	EVP_PKEY *key = NULL;
	long long n;

	if ((rc = parse_options(argc, argv, opts, NOPTS(opts), NULL, NULL)) >= 0)
		return rc;
	rc = HSM_EXIT_FAILED;
	if (!keyfile || !component || !version || !out)
		return fail(HSM_EXIT_USAGE, "--key, --component, --version and --out are required");
	if (hsm_npkg_component_parse(component, &m.component) != 0)
		return fail(HSM_EXIT_USAGE, "--component: must be primary, recovery or bootloader");
	if (!hsm_npkg_version_valid(version))
		return fail(HSM_EXIT_USAGE, "--version: must be a version like 13.7.1");
	snprintf(m.firmware_version, sizeof(m.firmware_version), "%s", version);
	if (strlen(product) < 1 || strlen(product) > 32)
		return fail(HSM_EXIT_USAGE, "--product: 1 to 32 characters");
	snprintf(m.product, sizeof(m.product), "%s", product);
	if (m.component == HSM_NPKG_BOOTLOADER) {
		if (vsn || modules || services)
			return fail(HSM_EXIT_USAGE,
				    "a bootloader package has no --vsn, --modules or --services");
		m.revokes_older = revokes;
	} else {
		if (revokes)
			return fail(HSM_EXIT_USAGE, "--revokes-older is for bootloader packages");
		if (!vsn || !modules)
			return fail(HSM_EXIT_USAGE, "a %s package needs --vsn and --modules",
				    component);
		if (parse_uint(vsn, 1, HSM_NPKG_VSN_MAX, &n) != 0)
			return fail(HSM_EXIT_USAGE, "--vsn: must be a number from 1 to %d",
				    HSM_NPKG_VSN_MAX);
		m.vsn = n;
	}
	m.created = (int64_t)time(NULL);
	if (is_dir(out)) {
		if (hsm_npkg_file_name(&m, name, sizeof(name)) != 0)
			return fail(HSM_EXIT_USAGE, "--out: name too long");
		snprintf(path, sizeof(path), "%s/%s", out, name);
		out = path;
	}
	if (!force && exists(out))
		return fail(HSM_EXIT_FAILED, "%s exists (use --force to replace it)", out);

	src.v = calloc(HSM_NPKG_FILES_MAX, sizeof(*src.v));
	src.names = calloc(HSM_NPKG_FILES_MAX, sizeof(*src.names));
	src.paths = calloc(HSM_NPKG_FILES_MAX, sizeof(*src.paths));
	if (!src.v || !src.names || !src.paths) {
		fail(HSM_EXIT_FAILED, "out of memory");
		goto out;
	}
	if (m.component == HSM_NPKG_BOOTLOADER) {
		/* The boot manifest: what the bootloader is, for the device. */
		char text[160];
		int fd;
		snprintf(bootpath, sizeof(bootpath), "/tmp/hsm-vendor-boot.XXXXXX");
		fd = mkstemp(bootpath);
		snprintf(text, sizeof(text), "{\"bootloader\":\"%s\",\"revokes_older\":%s}\n",
			 version, revokes ? "true" : "false");
		/* A scratch input of hsm_npkg_write (which publishes the
		 * package atomically), removed below: no rename needed. */
		if (fd < 0 || hsm_write_all(fd, text, strlen(text)) != 0) {
			if (fd >= 0)
				close(fd);
			fail(HSM_EXIT_FAILED, "cannot write a temporary file: %s", strerror(errno));
			goto out;
		}
		close(fd);
		src.v[0].name = HSM_NPKG_BOOT_FILE;
		src.v[0].path = bootpath;
		src.n = 1;
	} else {
		if ((rc = add_dir(&src, modules, "modules/", ".so")) != 0)
			goto out;
		rc = HSM_EXIT_FAILED;
		if (src.n == 0) {
			rc = fail(HSM_EXIT_USAGE, "--modules: %s holds no service modules (*.so)",
				  modules);
			goto out;
		}
		snprintf(svcdefault, sizeof(svcdefault), "%s/services.d", modules);
		if (!services && is_dir(svcdefault))
			services = svcdefault;
		if (!services) {
			rc = fail(HSM_EXIT_USAGE,
				  "--services DIR (the services.d configuration) is required "
				  "when %s has no services.d",
				  modules);
			goto out;
		}
		size_t before = src.n;
		if ((rc = add_dir(&src, services, "services.d/", ".conf")) != 0)
			goto out;
		rc = HSM_EXIT_FAILED;
		if (src.n == before) {
			rc = fail(HSM_EXIT_USAGE,
				  "--services: %s holds no service configuration (*.conf)",
				  services);
			goto out;
		}
	}
	key = hsm_key_load_private(keyfile, err, sizeof(err));
	if (!key) {
		fail(HSM_EXIT_FAILED, "--key: %s", err);
		goto out;
	}
	if (hsm_npkg_write(out, &m, src.v, src.n, key, err, sizeof(err)) != 0) {
		fail(HSM_EXIT_FAILED, "%s", err);
		goto out;
	}
	if (m.component == HSM_NPKG_BOOTLOADER)
		printf("%s bootloader %s%s (%zu file) written to %s\n", m.product, version,
		       revokes ? ", revokes older bootloaders" : "", src.n, out);
	else
		printf("%s %s image %s VSN %lld (%zu files) written to %s\n", m.product, component,
		       version, (long long)m.vsn, src.n, out);
	rc = HSM_EXIT_OK;
out:
	if (bootpath[0])
		unlink(bootpath);
	free(src.v);
	free(src.names);
	free(src.paths);
	EVP_PKEY_free(key);
	return rc;
}

struct subcommand {
	const char *name;
	int (*run)(int, char **);
};

/* hsm-vendor completion bash|zsh|fish */
static int completion_main(int argc, char **argv, const struct subcommand *cmds, size_t n)
{
	static struct hsm_tool_option opts[8][VOPTS_MAX + 1];
	static const struct hsm_tool_option none[] = { { NULL, 0, NULL } };
	struct hsm_tool_command table[8 + 2];
	struct completion_sink sink;

	subcommand = "completion";
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: " PROG " completion bash|zsh|fish\n"
		       "Print the shell completion script of " PROG ".\n");
		return HSM_EXIT_OK;
	}
	if (argc != 2)
		return fail(HSM_EXIT_USAGE, "give one shell: bash, zsh or fish");
	if (n > 8)
		return fail(HSM_EXIT_FAILED, "internal error: too many commands");
	for (size_t i = 0; i < n; i++) {
		char *args[] = { (char *)cmds[i].name, NULL };

		table[i] = (struct hsm_tool_command){ cmds[i].name, none, NULL };
		sink = (struct completion_sink){ &table[i], opts[i] };
		completion_sink = &sink;
		cmds[i].run(1, args);
		completion_sink = NULL;
	}
	table[n] = (struct hsm_tool_command){ "completion", none, "bash|zsh|fish" };
	table[n + 1] = (struct hsm_tool_command){ NULL, NULL, NULL };
	if (hsm_tool_completion(stdout, argv[1], PROG, table) != 0)
		return fail(HSM_EXIT_USAGE, "'%s' is not bash, zsh or fish",
			    printable(argv[1], (char[48]){ 0 }));
	return fflush(stdout) == 0 ? HSM_EXIT_OK : HSM_EXIT_FAILED;
}

int main(int argc, char **argv)
{
	static const struct subcommand cmds[] = {
		{ "keygen", cmd_keygen },
		{ "licence", cmd_licence },
		{ "verify-licence", cmd_verify },
		{ "npkg", cmd_npkg },
	};

	if (argc < 2)
		return usage(stderr), HSM_EXIT_USAGE;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return HSM_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0) {
		printf(PROG " %s\n", PACKAGE_VERSION);
		return HSM_EXIT_OK;
	}
	opterr = 0; /* errors are ours, one line */
	if (strcmp(argv[1], "completion") == 0)
		return completion_main(argc - 1, argv + 1, cmds, sizeof(cmds) / sizeof(cmds[0]));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			subcommand = cmds[i].name;
			return cmds[i].run(argc - 1, argv + 1);
		}
	}
	char q[48];
	return fail(HSM_EXIT_USAGE,
		    "unknown command '%s' (keygen, licence, verify-licence, npkg, completion)",
		    printable(argv[1], q));
}
