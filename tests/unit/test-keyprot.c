/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-keyprot.c - client key protection (core/crypto/keyprot.c): option
 * strings and their environment overrides, round trips for every option
 * set, "another machine" failures, tampered and truncated files, file
 * permissions and groups, backups under a passphrase, and that no error
 * text ever carries key material or a passphrase.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keyprot.h"
#include "tap.h"

static char dir[64];
static char s1[128], s2[128], b1[128], b2[128], bdummy[128], home1[128], home2[128];
static char err[1024];
/* Every error text the API produced, checked for secrets at the end. */
static char *errlog;
static size_t errlog_len;

#define PASS1 "correct horse battery staple"
#define PASS2 "backup passphrase 42"

static void log_err(void)
{
	size_t n = strlen(err);

	errlog = realloc(errlog, errlog_len + n + 2);
	memcpy(errlog + errlog_len, err, n);
	errlog_len += n;
	errlog[errlog_len++] = '\n';
	errlog[errlog_len] = '\0';
}

static int one_line(const char *s)
{
	return s[0] && !strchr(s, '\n');
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
	chmod(path, mode);
}

static size_t slurp(const char *path, uint8_t *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	if (!k)
		exit(99);
	return k;
}

/* The protection inputs of one machine (no passphrase prompt). */
static struct hsm_keyprot_ctx machine(const char *home, const char *system_uuid,
				      const char *board_uuid)
{
	struct hsm_keyprot_ctx c = {
		.home = home,
		.system_uuid_file = system_uuid,
		.board_uuid_file = board_uuid,
		.no_prompt = 1,
	};
	return c;
}
static struct hsm_keyprot_ctx machine1(void)
{
	return machine(home1, s1, b1);
}
/* The same installation moved to other hardware, or another host. */
static struct hsm_keyprot_ctx machine2(void)
{
	return machine(home2, s2, b2);
}

static void unset_env(void)
{
	static const char *const svc[] = { "SSHADMIN", "NCOREAPI", "SETUP",        "UPDATER",
					   "MONITOR",  "LAUNCHER", "ORCHESTRATOR", "TENANTREQ" };
	char v[64];

	for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++) {
		snprintf(v, sizeof(v), "NFAST_%s_KEYPROT", svc[i]);
		unsetenv(v);
		snprintf(v, sizeof(v), "NFAST_%s_GROUP", svc[i]);
		unsetenv(v);
	}
	unsetenv("NFAST_KEYPROT");
	unsetenv("NFAST_KEYPROT_PASS");
	unsetenv("HSMADMIN_SYSTEM_UUID_FILE");
	unsetenv("HSMADMIN_BOARD_UUID_FILE");
	unsetenv("HSMADMIN_GLOBAL_NONCE_FILE");
	unsetenv("HSMADMIN_HOME");
}

static void test_parse(void)
{
	unsigned o = 0;
	char buf[HSM_KEYPROT_STRLEN];

	tap_ok(hsm_keyprot_parse("KFSG", &o, err, sizeof(err)) == 0 &&
		   o == (HSM_KEYPROT_K | HSM_KEYPROT_F | HSM_KEYPROT_S | HSM_KEYPROT_G),
	       "parse KFSG");
	tap_ok(hsm_keyprot_parse("GSFK", &o, err, sizeof(err)) == 0, "parse accepts any order");
	hsm_keyprot_format(o, buf);
	TAP_STR_EQ(buf, "KFSG", "format gives the canonical order");
	tap_ok(hsm_keyprot_parse("PBGSFK", &o, err, sizeof(err)) == 0 && o == HSM_KEYPROT_ALL,
	       "parse all six");
	hsm_keyprot_format(o, buf);
	TAP_STR_EQ(buf, "KFSBGP", "format all six");
	hsm_keyprot_format(0, buf);
	TAP_STR_EQ(buf, "", "format none");

	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "empty" },     { "KK", "twice" },       { "KX", "'X'" },
		{ "k", "'k'" },      { "KFSBGPK", "twice" },  { "K F", "' '" },
		{ "K\x01", "0x01" }, { "K\xc3\xa9", "0xc3" }, { "X\nK", "'X'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = 12345;
		err[0] = '\0';
		int rc = hsm_keyprot_parse(bad[i].in, &o, err, sizeof(err));
		log_err();
		tap_ok(rc == -1 && o == 12345 && strstr(err, bad[i].why) && one_line(err),
		       "parse refuses bad string %zu saying %s", i, bad[i].why);
	}
	tap_ok(hsm_keyprot_parse(NULL, &o, err, sizeof(err)) == -1, "parse refuses NULL");
}

/* The protection of a service's key as the environment sets it, formatted
 * ("" when refused). */
static const char *prot_of(const char *svc)
{
	static char buf[HSM_KEYPROT_STRLEN];
	unsigned o = 0;

	if (hsm_keyprot_for_service(svc, &o, err, sizeof(err)) != 0)
		return "";
	hsm_keyprot_format(o, buf);
	return buf;
}

static void test_service_env(void)
{
	static const struct {
		const char *svc, *want;
	} def[] = {
		{ "sshadmin", "KFSG" },  { "ncoreapi", "KFSG" },   { "setup", "KFSG" },
		{ "tenantreq", "KFSG" }, { "updater", "KF" },      { "monitor", "KF" },
		{ "launcher", "KF" },    { "orchestrator", "KF" },
	};
	unsigned o;

	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++)
		TAP_STR_EQ(prot_of(def[i].svc), def[i].want, def[i].svc);
	tap_ok(hsm_keyprot_for_service("bogus", &o, err, sizeof(err)) == -1 && strstr(err, "bogus"),
	       "unknown service refused: %s", err);
	log_err();

	setenv("NFAST_KEYPROT", "KP", 1);
	TAP_STR_EQ(prot_of("sshadmin"), "KP", "NFAST_KEYPROT overrides sshadmin");
	TAP_STR_EQ(prot_of("updater"), "KP", "NFAST_KEYPROT overrides updater");
	setenv("NFAST_UPDATER_KEYPROT", "GFK", 1);
	TAP_STR_EQ(prot_of("updater"), "KFG", "NFAST_UPDATER_KEYPROT wins over NFAST_KEYPROT");
	TAP_STR_EQ(prot_of("monitor"), "KP", "... and touches no other service");
	setenv("NFAST_UPDATER_KEYPROT", "", 1);
	TAP_STR_EQ(prot_of("updater"), "KP", "an empty per-service variable counts as unset");
	setenv("NFAST_ORCHESTRATOR_KEYPROT", "KZ", 1);
	tap_ok(hsm_keyprot_for_service("orchestrator", &o, err, sizeof(err)) == -1 &&
		   strstr(err, "NFAST_ORCHESTRATOR_KEYPROT") && strstr(err, "'Z'"),
	       "invalid per-service variable named: %s", err);
	log_err();
	unset_env();
	setenv("NFAST_KEYPROT", "KK", 1);
	tap_ok(hsm_keyprot_for_service("setup", &o, err, sizeof(err)) == -1 &&
		   strstr(err, "NFAST_KEYPROT:"),
	       "invalid NFAST_KEYPROT named: %s", err);
	log_err();
	unset_env();
}

static void test_service_group(void)
{
	char g[64], want[64];
	struct group *gr = getgrgid(getegid());

	setenv("NFAST_MONITOR_GROUP", "", 1);
	tap_ok(hsm_keyprot_group_for_service("monitor", g, sizeof(g), err, sizeof(err)) == 0 && !*g,
	       "NFAST_MONITOR_GROUP empty: no group");
	/* A group that does not exist is created as root (guide 4.8.4; the
	 * integration test keys.sh does that), unless no group could have
	 * that name. */
	setenv("NFAST_MONITOR_GROUP", "No Such Group!", 1);
	tap_ok(hsm_keyprot_group_for_service("monitor", g, sizeof(g), err, sizeof(err)) == -1 &&
		   strstr(err, "No Such Group!") && strstr(err, "NFAST_MONITOR_GROUP"),
	       "a group that does not exist and cannot be created is refused: %s", err);
	log_err();
	if (gr) {
		setenv("NFAST_MONITOR_GROUP", gr->gr_name, 1);
		tap_ok(hsm_keyprot_group_for_service("monitor", g, sizeof(g), err, sizeof(err)) ==
			       0 &&
			   strcmp(g, gr->gr_name) == 0,
		       "NFAST_MONITOR_GROUP=%s is used", gr->gr_name);
	} else {
		tap_ok(1, "# SKIP no name for our group");
	}
	unsetenv("NFAST_MONITOR_GROUP");
	/* Defaults: the guide's groups for root when they exist, else none. */
	snprintf(want, sizeof(want), "%s", geteuid() == 0 && getgrnam("root") ? "root" : "");
	hsm_keyprot_group_for_service("sshadmin", g, sizeof(g), err, sizeof(err));
	TAP_STR_EQ(g, want, "sshadmin default group");
	snprintf(want, sizeof(want), "%s",
		 geteuid() == 0 && getgrnam("nfastadmin") ? "nfastadmin" : "");
	hsm_keyprot_group_for_service("updater", g, sizeof(g), err, sizeof(err));
	TAP_STR_EQ(g, want, "updater default group");
	tap_ok(hsm_keyprot_group_for_service("updater", g, sizeof(g), err, sizeof(err)) == 1,
	       "the variable unset: 1 (the default group)");
	tap_ok(hsm_keyprot_group_for_service("nope", g, sizeof(g), err, sizeof(err)) == -1,
	       "group of an unknown service refused");
}

/* Round trip one option set; 1 when the loaded key equals the saved one. */
static int round_trip(unsigned opts, const struct hsm_keyprot_ctx *save_ctx,
		      const struct hsm_keyprot_ctx *load_ctx, const char *name)
{
	char path[256];
	EVP_PKEY *k = new_key(), *back;
	unsigned got = 0;
	struct stat st;
	uint8_t file[8192], raw[32];
	size_t n, rawlen = sizeof(raw);
	int ok;

	path_of(path, sizeof(path), name);
	unlink(path);
	if (hsm_keyprot_save(path, k, opts, save_ctx, 0, err, sizeof(err)) != 0) {
		log_err();
		printf("# save: %s\n", err);
		EVP_PKEY_free(k);
		return 0;
	}
	back = hsm_keyprot_load(path, load_ctx, &got, err, sizeof(err));
	if (!back) {
		log_err();
		printf("# load: %s\n", err);
	}
	ok = back && EVP_PKEY_eq(k, back) == 1 && got == opts && stat(path, &st) == 0 &&
	     (st.st_mode & 07777) == 0600;
	/* The plaintext seed must not be in the file. */
	n = slurp(path, file, sizeof(file));
	EVP_PKEY_get_raw_private_key(k, raw, &rawlen);
	ok = ok && n > 64 && !memmem(file, n, raw, rawlen);
	EVP_PKEY_free(back);
	EVP_PKEY_free(k);
	return ok;
}

static void test_round_trips(void)
{
	struct hsm_keyprot_ctx c = machine1();
	char name[32], letters[HSM_KEYPROT_STRLEN];
	unsigned all_ok = 1, n = 0;

	/* Every set of the fast options: 31 of them. */
	for (unsigned o = 1; o < HSM_KEYPROT_P; o++) {
		hsm_keyprot_format(o, letters);
		snprintf(name, sizeof(name), "rt-%s", letters);
		if (!round_trip(o, &c, &c, name)) {
			all_ok = 0;
			printf("# round trip %s failed\n", letters);
		}
		n++;
	}
	tap_ok(all_ok && n == 31, "round trip for all %u sets of K F S B G", n);
	for (unsigned i = 0; i < 5; i++) {
		unsigned o = 1u << i;
		hsm_keyprot_format(o, letters);
		snprintf(name, sizeof(name), "single-%s", letters);
		tap_ok(round_trip(o, &c, &c, name), "round trip %s alone", letters);
	}

	/* P: scrypt costs ~100 ms each way, so a representative few. */
	c.passphrase = PASS1;
	static const char *const with_p[] = { "P", "KP", "FP", "SP", "BP", "GP", "KFSBGP" };
	for (size_t i = 0; i < sizeof(with_p) / sizeof(with_p[0]); i++) {
		unsigned o;
		hsm_keyprot_parse(with_p[i], &o, err, sizeof(err));
		snprintf(name, sizeof(name), "rt-%s", with_p[i]);
		tap_ok(round_trip(o, &c, &c, name), "round trip %s", with_p[i]);
	}
	/* The passphrase from NFAST_KEYPROT_PASS when the caller gives none. */
	{
		struct hsm_keyprot_ctx e = machine1();
		setenv("NFAST_KEYPROT_PASS", PASS1, 1);
		tap_ok(round_trip(HSM_KEYPROT_K | HSM_KEYPROT_P, &e, &c, "rt-env-KP"),
		       "NFAST_KEYPROT_PASS supplies P on save (loaded with the same passphrase "
		       "given directly)");
		unsetenv("NFAST_KEYPROT_PASS");
	}
}

static void test_passphrase(void)
{
	struct hsm_keyprot_ctx c = machine1();
	char path[256];
	EVP_PKEY *k = new_key(), *back;

	path_of(path, sizeof(path), "rt-KFSBGP");
	c.passphrase = "wrong horse battery staple";
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "wrong passphrase") && strstr(err, path) && one_line(err),
	       "wrong passphrase refused: %s", err);
	EVP_PKEY_free(back);

	c.passphrase = NULL;
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "P (user passphrase)") && strstr(err, "NFAST_KEYPROT_PASS"),
	       "no passphrase and no prompt: says how to give one: %s", err);
	EVP_PKEY_free(back);

	setenv("NFAST_KEYPROT_PASS", "", 1);
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "empty"), "empty NFAST_KEYPROT_PASS refused: %s", err);
	EVP_PKEY_free(back);
	unsetenv("NFAST_KEYPROT_PASS");

	c.passphrase = "";
	path_of(path, sizeof(path), "empty-pass");
	tap_ok(hsm_keyprot_save(path, k, HSM_KEYPROT_P, &c, 0, err, sizeof(err)) == -1 &&
		   strstr(err, "empty") && access(path, F_OK) != 0,
	       "an empty passphrase is refused on save, nothing written: %s", err);
	log_err();
	EVP_PKEY_free(k);
}

static void test_availability(void)
{
	struct hsm_keyprot_ctx c = machine1();
	char missing[256], path[256];
	EVP_PKEY *k = new_key();

	path_of(missing, sizeof(missing), "no-such-uuid");
	c.system_uuid_file = missing;
	path_of(path, sizeof(path), "avail-S");
	tap_ok(hsm_keyprot_save(path, k, HSM_KEYPROT_K | HSM_KEYPROT_S, &c, 0, err, sizeof(err)) ==
		       -1 &&
		   strstr(err, "S (system UUID)") && strstr(err, "not available") &&
		   access(path, F_OK) != 0,
	       "S without a system UUID fails naming S: %s", err);
	log_err();
	tap_ok(hsm_keyprot_check(HSM_KEYPROT_S, &c, err, sizeof(err)) == -1 &&
		   strstr(err, "S (system UUID)"),
	       "check names S too");
	tap_ok(hsm_keyprot_check(HSM_KEYPROT_K | HSM_KEYPROT_F, &c, err, sizeof(err)) == 0,
	       "check passes KF without any machine input");

	c = machine1();
	c.board_uuid_file = bdummy;
	path_of(path, sizeof(path), "avail-B");
	tap_ok(hsm_keyprot_save(path, k, HSM_KEYPROT_B, &c, 0, err, sizeof(err)) == -1 &&
		   strstr(err, "B (baseboard serial)") && strstr(err, "not available"),
	       "B with a placeholder serial (To be filled by O.E.M.) fails naming B: %s", err);
	log_err();

	/* S readable only by root, as on Linux: an unprivileged process fails
	 * naming S and root. */
	{
		char rootonly[256];
		pid_t pid;
		int st = -1;

		path_of(rootonly, sizeof(rootonly), "uuid-rootonly");
		put(rootonly, "5a0b6c1e-1111-2222-3333-444455556666\n", 0400);
		if (geteuid() != 0)
			chmod(rootonly, 0);
		pid = fork();
		if (pid == 0) {
			struct hsm_keyprot_ctx u = machine1();
			u.system_uuid_file = rootonly;
			if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
				_exit(3);
			if (hsm_keyprot_check(HSM_KEYPROT_K | HSM_KEYPROT_S, &u, err,
					      sizeof(err)) == -1 &&
			    strstr(err, "S (system UUID) needs root"))
				_exit(0);
			printf("# child: %s\n", err);
			_exit(1);
		}
		waitpid(pid, &st, 0);
		tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		       "S unreadable without root: fails saying S needs root");
	}

	/* The environment hooks stand in for the machine when ctx says nothing. */
	{
		struct hsm_keyprot_ctx e = { .home = home1, .no_prompt = 1 };
		char p2[256];
		EVP_PKEY *back;

		path_of(p2, sizeof(p2), "env-hooks");
		setenv("HSMADMIN_SYSTEM_UUID_FILE", s1, 1);
		setenv("HSMADMIN_BOARD_UUID_FILE", b1, 1);
		tap_ok(hsm_keyprot_save(p2, k, HSM_KEYPROT_K | HSM_KEYPROT_S | HSM_KEYPROT_B, &e, 0,
					err, sizeof(err)) == 0,
		       "save with HSMADMIN_*_UUID_FILE hooks");
		c = machine1();
		back = hsm_keyprot_load(p2, &c, NULL, err, sizeof(err));
		tap_ok(back && EVP_PKEY_eq(back, k) == 1,
		       "... the hooks read the same files as ctx paths");
		EVP_PKEY_free(back);
		setenv("HSMADMIN_SYSTEM_UUID_FILE", s2, 1);
		back = hsm_keyprot_load(p2, &e, NULL, err, sizeof(err));
		log_err();
		tap_ok(!back, "... another HSMADMIN_SYSTEM_UUID_FILE is another machine");
		EVP_PKEY_free(back);
		back = hsm_keyprot_load(p2, &c, NULL, err, sizeof(err));
		tap_ok(back != NULL, "... and a ctx path wins over the hook");
		EVP_PKEY_free(back);
		unset_env();
	}
	EVP_PKEY_free(k);
}

static void test_other_machine(void)
{
	struct hsm_keyprot_ctx m1 = machine1(), m2 = machine2(), c;
	char path[256], gpath[256];
	EVP_PKEY *back;

	path_of(path, sizeof(path), "rt-KFSG");
	c = m1;
	c.system_uuid_file = s2;
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "another machine") && strstr(err, "SG") && one_line(err),
	       "KFSG key with another system UUID: %s", err);
	EVP_PKEY_free(back);

	snprintf(gpath, sizeof(gpath), "%s/keys/global.nonce", home2);
	c = m1;
	c.home = home2;
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "G (global nonce)") && strstr(err, "does not exist") &&
		   access(gpath, F_OK) != 0,
	       "KFSG key where there is no global nonce: refused, and none created: %s", err);
	EVP_PKEY_free(back);

	/* A second installation has its own global nonce. */
	tap_ok(round_trip(HSM_KEYPROT_G, &m2, &m2, "m2-G") && access(gpath, F_OK) == 0,
	       "a G key on machine 2 creates its global nonce");
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "cannot decrypt"), "KFSG key under another global nonce: %s",
	       err);
	EVP_PKEY_free(back);

	path_of(path, sizeof(path), "rt-B");
	c = m1;
	c.board_uuid_file = b2;
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "(its B inputs differ"), "B key on another baseboard: %s", err);
	EVP_PKEY_free(back);

	path_of(path, sizeof(path), "rt-KF");
	back = hsm_keyprot_load(path, &m2, NULL, err, sizeof(err));
	tap_ok(back != NULL, "a KF key opens anywhere (it names no machine input)");
	EVP_PKEY_free(back);
}

static void test_global_nonce(void)
{
	struct hsm_keyprot_ctx c = machine1();
	char gpath[256], path[256];
	uint8_t g1[64], g2[64];
	size_t n1, n2;
	struct stat st;
	EVP_PKEY *k = new_key(), *back;

	snprintf(gpath, sizeof(gpath), "%s/keys/global.nonce", home1);
	n1 = slurp(gpath, g1, sizeof(g1));
	tap_ok(n1 == 32 && stat(gpath, &st) == 0 && (st.st_mode & 07777) == 0600,
	       "global nonce: 32 bytes, mode 0600");
	path_of(path, sizeof(path), "g-again");
	hsm_keyprot_save(path, k, HSM_KEYPROT_G, &c, 0, err, sizeof(err));
	n2 = slurp(gpath, g2, sizeof(g2));
	tap_ok(n2 == 32 && memcmp(g1, g2, 32) == 0, "a second G key reuses the global nonce");

	chmod(gpath, 0644);
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "G (global nonce)") && strstr(err, "chmod 600"),
	       "a global nonce others can read is refused: %s", err);
	EVP_PKEY_free(back);
	chmod(gpath, 0600);
	if (truncate(gpath, 31) != 0)
		perror(gpath);
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "not 32 bytes"), "a short global nonce is refused: %s", err);
	EVP_PKEY_free(back);
	{
		FILE *f = fopen(gpath, "wb");
		fwrite(g1, 1, 32, f);
		fclose(f);
	}
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	tap_ok(back != NULL, "restored global nonce opens the key again");
	EVP_PKEY_free(back);

	/* HSMADMIN_GLOBAL_NONCE_FILE moves it (a test and diagnostic hook). */
	{
		char alt[256];
		path_of(alt, sizeof(alt), "alt.nonce");
		setenv("HSMADMIN_GLOBAL_NONCE_FILE", alt, 1);
		back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
		log_err();
		tap_ok(!back && strstr(err, alt),
		       "HSMADMIN_GLOBAL_NONCE_FILE is where G is looked up: %s", err);
		EVP_PKEY_free(back);
		unsetenv("HSMADMIN_GLOBAL_NONCE_FILE");
	}
	EVP_PKEY_free(k);
}

/* Every byte flipped, every length cut, and the named broken headers. */
static void test_tamper(void)
{
	struct hsm_keyprot_ctx c = machine1();
	char path[256];
	uint8_t file[1024], bad[1100];
	size_t n, refused = 0, one = 0;
	unsigned o;
	EVP_PKEY *back;

	path_of(path, sizeof(path), "rt-KFSG");
	n = slurp(path, file, sizeof(file));
	tap_ok(n == 64 + 48 + 16, "an Ed25519 key file is 128 bytes (got %zu)", n);
	if (n != 64 + 48 + 16)
		return;
	tap_ok(hsm_keyprot_inspect(file, n, &o, err, sizeof(err)) == 0 &&
		   o == (HSM_KEYPROT_K | HSM_KEYPROT_F | HSM_KEYPROT_S | HSM_KEYPROT_G),
	       "inspect reads the options");
	back = hsm_keyprot_open(file, n, &c, NULL, err, sizeof(err));
	tap_ok(back != NULL, "the untouched image opens");
	EVP_PKEY_free(back);

	for (size_t i = 0; i < n; i++) {
		for (unsigned bit = 0; bit < 8; bit += 7) {
			memcpy(bad, file, n);
			bad[i] ^= (uint8_t)(1u << bit);
			err[0] = '\0';
			back = hsm_keyprot_open(bad, n, &c, NULL, err, sizeof(err));
			refused += !back;
			one += one_line(err);
			log_err();
			EVP_PKEY_free(back);
		}
	}
	tap_ok(refused == 2 * n && one == 2 * n,
	       "each of %zu single-bit changes (header, IV, ciphertext, tag) refused with a reason",
	       2 * n);

	refused = one = 0;
	for (size_t len = 0; len < n; len++) {
		err[0] = '\0';
		back = hsm_keyprot_open(file, len, &c, NULL, err, sizeof(err));
		refused += !back;
		one += one_line(err);
		log_err();
		EVP_PKEY_free(back);
	}
	tap_ok(refused == n && one == n, "every truncation (0..%zu bytes) refused with a reason",
	       n - 1);
	back = hsm_keyprot_open(file, n - 15, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "truncated") && strstr(err, "16-byte tag"),
	       "a 1-byte tag is refused: %s", err);
	EVP_PKEY_free(back);
	/* A shortened tag with the length field adjusted to match: the file is
	 * framed consistently, but GCM must still insist on 16 tag bytes. */
	memcpy(bad, file, n);
	bad[63] = (uint8_t)(bad[63] - 15);
	back = hsm_keyprot_open(bad, n - 15 - 15, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back, "ciphertext length lowered to fake a short tag: refused (%s)", err);
	EVP_PKEY_free(back);

	memcpy(bad, file, n);
	bad[n] = 0;
	back = hsm_keyprot_open(bad, n + 1, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "trailing"), "trailing byte refused: %s", err);
	EVP_PKEY_free(back);

	memcpy(bad, file, n);
	bad[0] = 'X';
	back = hsm_keyprot_open(bad, n, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "magic"), "wrong magic: %s", err);
	EVP_PKEY_free(back);
	memcpy(bad, file, n);
	bad[6] = 2;
	back = hsm_keyprot_open(bad, n, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "version 2"), "wrong version: %s", err);
	EVP_PKEY_free(back);
	memcpy(bad, file, n);
	bad[8] = 'F';
	bad[9] = 'K';
	back = hsm_keyprot_open(bad, n, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "options field"), "options out of order: %s", err);
	EVP_PKEY_free(back);
	memcpy(bad, file, n);
	bad[14] = 1;
	back = hsm_keyprot_open(bad, n, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "KDF"), "scrypt KDF claimed without P: %s", err);
	EVP_PKEY_free(back);
	back = hsm_keyprot_open((const uint8_t *)"-----BEGIN PRIVATE KEY-----\n", 28, &c, NULL, err,
				sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "unprotected PEM"), "a PEM key is named as such: %s", err);
	EVP_PKEY_free(back);

	/* P keys: a hostile header must not buy unbounded scrypt. */
	path_of(path, sizeof(path), "rt-KP");
	n = slurp(path, file, sizeof(file));
	if (n < 80)
		return;
	memcpy(bad, file, n);
	bad[15] = 30;
	c.passphrase = PASS1;
	back = hsm_keyprot_open(bad, n, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "out of bounds"), "scrypt N=2^30 refused before any work: %s",
	       err);
	EVP_PKEY_free(back);
	memcpy(bad, file, n);
	bad[n - 1] ^= 0x80;
	back = hsm_keyprot_open(bad, n, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "wrong passphrase"), "tampered tag of a P key: %s", err);
	EVP_PKEY_free(back);
}

static void test_permissions(void)
{
	struct hsm_keyprot_ctx c = machine1();
	char path[256], link_path[256];
	EVP_PKEY *k = new_key(), *back;
	struct stat st;
	struct group *other = NULL, *mine = getgrgid(getegid());

	path_of(path, sizeof(path), "perm");
	tap_ok(hsm_keyprot_save(path, k, HSM_KEYPROT_K | HSM_KEYPROT_F, &c, 0, err, sizeof(err)) ==
		       0 &&
		   stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	       "saved 0600 without a group");

	static const struct {
		mode_t mode;
		const char *why;
	} bad[] = {
		{ 0644, "others" },      { 0604, "others" },
		{ 0601, "others" },      { 0620, "group write" },
		{ 0660, "group write" }, { 0640, "no group is configured" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		chmod(path, bad[i].mode);
		back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
		log_err();
		tap_ok(!back && strstr(err, bad[i].why) && strstr(err, path),
		       "mode %04o refused at load: %s", (unsigned)bad[i].mode, err);
		EVP_PKEY_free(back);
	}
	chmod(path, 0400);
	back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	tap_ok(back != NULL, "mode 0400 is fine");
	EVP_PKEY_free(back);

	if (mine) {
		chmod(path, 0640);
		c.group = mine->gr_name;
		back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
		tap_ok(back != NULL, "0640 of the configured group %s loads", mine->gr_name);
		EVP_PKEY_free(back);
	}
	setgrent();
	for (struct group *g; (g = getgrent());)
		if (g->gr_gid != getegid()) {
			static struct group copy;
			static char name[64];
			snprintf(name, sizeof(name), "%s", g->gr_name);
			copy.gr_name = name;
			copy.gr_gid = g->gr_gid;
			other = &copy;
			break;
		}
	endgrent();
	if (other) {
		c.group = other->gr_name;
		back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
		log_err();
		tap_ok(!back && strstr(err, "not by the configured group"),
		       "0640 of a group other than the configured one refused: %s", err);
		EVP_PKEY_free(back);
	} else {
		tap_ok(1, "# SKIP only one group on this system");
	}
	c.group = NULL;
	chmod(path, 0600);

	path_of(link_path, sizeof(link_path), "perm-link");
	if (symlink(path, link_path) != 0)
		perror(link_path);
	back = hsm_keyprot_load(link_path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "symbolic link"), "a symbolic link is refused: %s", err);
	EVP_PKEY_free(back);
	back = hsm_keyprot_load(dir, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "not a regular file"), "a directory is refused: %s", err);
	EVP_PKEY_free(back);

	if (geteuid() == 0) {
		if (chown(path, 65534, 65534) != 0)
			perror(path);
		back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
		log_err();
		tap_ok(!back && strstr(err, "owned by uid 65534"),
		       "a key owned by someone else is refused: %s", err);
		EVP_PKEY_free(back);
		if (chown(path, 0, 0) != 0)
			perror(path);
	} else {
		tap_ok(1, "# SKIP not root: cannot give a file away");
	}

	/* Saving with a group: 0640 and that group, set before the name. */
	if (mine) {
		char gp[256];
		path_of(gp, sizeof(gp), "perm-group");
		c.group = mine->gr_name;
		tap_ok(hsm_keyprot_save(gp, k, HSM_KEYPROT_K, &c, 0, err, sizeof(err)) == 0 &&
			   stat(gp, &st) == 0 && (st.st_mode & 07777) == 0640 &&
			   st.st_gid == mine->gr_gid,
		       "saved 0640 with group %s", mine->gr_name);
		back = hsm_keyprot_load(gp, &c, NULL, err, sizeof(err));
		tap_ok(back != NULL, "... and loads with that group configured");
		EVP_PKEY_free(back);
		c.group = NULL;
	}
	c.group = "no-such-group-kp";
	{
		char gp[256];
		path_of(gp, sizeof(gp), "perm-nogroup");
		tap_ok(hsm_keyprot_save(gp, k, HSM_KEYPROT_K, &c, 0, err, sizeof(err)) == -1 &&
			   strstr(err, "no-such-group-kp") && access(gp, F_OK) != 0,
		       "save with a group that does not exist: nothing written: %s", err);
		log_err();
	}
	c.group = NULL;

	/* Never replace a key unless asked to. */
	{
		uint8_t before[512], after[512];
		size_t nb = slurp(path, before, sizeof(before)), na;
		EVP_PKEY *k2 = new_key();

		tap_ok(hsm_keyprot_save(path, k2, HSM_KEYPROT_K, &c, 0, err, sizeof(err)) == -1 &&
			   strstr(err, "exists already"),
		       "save refuses to replace a key: %s", err);
		log_err();
		na = slurp(path, after, sizeof(after));
		tap_ok(na == nb && memcmp(before, after, na) == 0, "... and leaves it as it was");
		tap_ok(hsm_keyprot_save(path, k2, HSM_KEYPROT_K, &c, HSM_KEYPROT_OVERWRITE, err,
					sizeof(err)) == 0,
		       "HSM_KEYPROT_OVERWRITE replaces it");
		back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
		tap_ok(back && EVP_PKEY_eq(back, k2) == 1, "... with the new key");
		EVP_PKEY_free(back);
		EVP_PKEY_free(k2);
	}
	{
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "ls %s | grep -q '\\.tmp\\.'", dir);
		tap_ok(system(cmd) != 0, "no temporary files left behind");
	}
	/* A save killed mid-write left a copy of the key: its next load or
	 * save removes it. */
	{
		char tmp[300];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp.Ab3xYz", path);
		f = fopen(tmp, "w");
		tap_ok(f && fputs("a half-written key", f) >= 0 && fclose(f) == 0,
		       "a leftover temporary file of the key");
		back = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
		tap_ok(back && access(tmp, F_OK) != 0, "... is removed when the key is loaded");
		EVP_PKEY_free(back);
		f = fopen(tmp, "w");
		tap_ok(f && fclose(f) == 0 &&
			   hsm_keyprot_save(path, k, HSM_KEYPROT_K, &c, HSM_KEYPROT_OVERWRITE, err,
					    sizeof(err)) == 0 &&
			   access(tmp, F_OK) != 0,
		       "... and when it is saved");
	}
	EVP_PKEY_free(k);
}

static void test_pem(void)
{
	struct hsm_keyprot_ctx c = machine1();
	char path[256];
	char *pem;
	EVP_PKEY *want, *got = NULL;
	unsigned o = 0;
	ssh_key sk = NULL;

	path_of(path, sizeof(path), "rt-KFSG");
	want = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	pem = hsm_keyprot_load_pem(path, &c, &o, err, sizeof(err));
	tap_ok(pem && strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0 &&
		   o == (HSM_KEYPROT_K | HSM_KEYPROT_F | HSM_KEYPROT_S | HSM_KEYPROT_G),
	       "load_pem gives PKCS#8 PEM");
	if (pem) {
		BIO *b = BIO_new_mem_buf(pem, -1);
		got = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	tap_ok(got && want && EVP_PKEY_eq(got, want) == 1,
	       "... which OpenSSL reads back as the same key");
	tap_ok(pem && ssh_pki_import_privkey_base64(pem, NULL, NULL, NULL, &sk) == SSH_OK &&
		   ssh_key_type(sk) == SSH_KEYTYPE_ED25519 && ssh_key_is_private(sk),
	       "... and libssh imports as an Ed25519 private key");
	ssh_key_free(sk);
	{
		char *mem = want ? hsm_keyprot_key_pem(want) : NULL;
		/* No TAP_STR_EQ: it would print the key on failure. */
		tap_ok(mem && pem && strcmp(mem, pem) == 0,
		       "key_pem of the loaded key is the same text");
		hsm_keyprot_pem_free(mem);
		tap_ok(hsm_keyprot_key_pem(NULL) == NULL, "key_pem of no key is NULL");
	}
	hsm_keyprot_pem_free(pem);
	EVP_PKEY_free(got);
	EVP_PKEY_free(want);

	c.system_uuid_file = s2;
	pem = hsm_keyprot_load_pem(path, &c, NULL, err, sizeof(err));
	log_err();
	tap_ok(!pem && strstr(err, "cannot decrypt"), "load_pem on another machine fails: %s", err);
}

/* keys backup --passphrase, restore on another machine, and back. */
static void test_rewrap(void)
{
	struct hsm_keyprot_ctx m1 = machine1(), m2 = machine2(), bk1 = machine1(), bk2 = machine2();
	char src[256], backup[256], restored[256];
	EVP_PKEY *orig, *back;
	unsigned o = 0;
	struct stat st;

	path_of(src, sizeof(src), "rt-KFSG");
	path_of(backup, sizeof(backup), "backup");
	path_of(restored, sizeof(restored), "restored");
	orig = hsm_keyprot_load(src, &m1, NULL, err, sizeof(err));
	bk1.passphrase = PASS2;
	bk2.passphrase = PASS2;
	tap_ok(hsm_keyprot_rewrap(src, &m1, backup, HSM_KEYPROT_K | HSM_KEYPROT_P, &bk1, 0, err,
				  sizeof(err)) == 0,
	       "rewrap KFSG -> KP backup");
	tap_ok(hsm_keyprot_file_options(backup, &o, err, sizeof(err)) == 0 &&
		   o == (HSM_KEYPROT_K | HSM_KEYPROT_P) && stat(backup, &st) == 0 &&
		   (st.st_mode & 07777) == 0600,
	       "backup is KP and owner-only");
	back = hsm_keyprot_load(backup, &bk2, NULL, err, sizeof(err));
	tap_ok(back && orig && EVP_PKEY_eq(back, orig) == 1,
	       "the backup opens on another machine with its passphrase");
	EVP_PKEY_free(back);
	bk2.passphrase = PASS1;
	back = hsm_keyprot_load(backup, &bk2, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back && strstr(err, "wrong passphrase"), "... and not with another passphrase");
	EVP_PKEY_free(back);
	bk2.passphrase = PASS2;
	tap_ok(hsm_keyprot_rewrap(backup, &bk2, restored,
				  HSM_KEYPROT_K | HSM_KEYPROT_F | HSM_KEYPROT_S | HSM_KEYPROT_G,
				  &m2, 0, err, sizeof(err)) == 0,
	       "restore: rewrap the backup as KFSG on machine 2");
	back = hsm_keyprot_load(restored, &m2, NULL, err, sizeof(err));
	tap_ok(back && orig && EVP_PKEY_eq(back, orig) == 1, "the restored key is the original");
	EVP_PKEY_free(back);
	back = hsm_keyprot_load(restored, &m1, NULL, err, sizeof(err));
	log_err();
	tap_ok(!back, "... and is bound to machine 2");
	EVP_PKEY_free(back);
	tap_ok(hsm_keyprot_rewrap(src, &m2, restored, HSM_KEYPROT_K, &m2, HSM_KEYPROT_OVERWRITE,
				  err, sizeof(err)) == -1 &&
		   strstr(err, src),
	       "rewrap of a key this machine cannot open fails naming it: %s", err);
	log_err();
	EVP_PKEY_free(orig);
}

static void test_salts(void)
{
	struct hsm_keyprot_ctx c = machine1();
	EVP_PKEY *k = new_key();
	uint8_t *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	static const uint8_t zero[32];

	hsm_keyprot_seal(k, HSM_KEYPROT_K | HSM_KEYPROT_F, &c, &a, &al, err, sizeof(err));
	hsm_keyprot_seal(k, HSM_KEYPROT_K | HSM_KEYPROT_F, &c, &b, &bl, err, sizeof(err));
	tap_ok(a && b && al == bl && memcmp(a + 18, b + 18, 32) != 0 &&
		   memcmp(a + 50, b + 50, 12) != 0,
	       "K: two seals of one key differ in nonce and IV");
	free(a);
	free(b);
	a = b = NULL;
	hsm_keyprot_seal(k, HSM_KEYPROT_F | HSM_KEYPROT_S, &c, &a, &al, err, sizeof(err));
	hsm_keyprot_seal(k, HSM_KEYPROT_F | HSM_KEYPROT_S, &c, &b, &bl, err, sizeof(err));
	tap_ok(a && b && memcmp(a + 18, zero, 32) == 0 && memcmp(a + 50, b + 50, 12) != 0 &&
		   memcmp(a + 64, b + 64, al - 64) != 0,
	       "without K or P: no nonce stored, yet a fresh IV each time");
	free(a);
	free(b);
	tap_ok(hsm_keyprot_seal(k, 0, &c, &a, &al, err, sizeof(err)) == -1 && !a,
	       "seal refuses an empty option set");
	tap_ok(hsm_keyprot_seal(k, 1u << 6, &c, &a, &al, err, sizeof(err)) == -1,
	       "seal refuses unknown option bits");
	{
		EVP_PKEY *pub = NULL;
		uint8_t raw[32];
		size_t rl = sizeof(raw);
		EVP_PKEY_get_raw_public_key(k, raw, &rl);
		pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, rl);
		tap_ok(hsm_keyprot_seal(pub, HSM_KEYPROT_K, &c, &a, &al, err, sizeof(err)) == -1 &&
			   strstr(err, "not a private key"),
		       "seal refuses a public key: %s", err);
		EVP_PKEY_free(pub);
	}
	EVP_PKEY_free(k);

	/* Other key types take the generic PKCS#8 path. */
	{
		EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *back = NULL;
		tap_ok(ec &&
			   hsm_keyprot_seal(ec, HSM_KEYPROT_K | HSM_KEYPROT_S, &c, &a, &al, err,
					    sizeof(err)) == 0 &&
			   (back = hsm_keyprot_open(a, al, &c, NULL, err, sizeof(err))) &&
			   EVP_PKEY_eq(back, ec) == 1,
		       "an EC P-256 key round-trips too");
		free(a);
		EVP_PKEY_free(ec);
		if (back)
			EVP_PKEY_free(back);
	}
}

static void test_speed(void)
{
	struct hsm_keyprot_ctx c = machine1();
	char path[256];
	double best = 1e9;

	path_of(path, sizeof(path), "rt-KFSG");
	for (int i = 0; i < 20; i++) {
		struct timespec a, b;
		EVP_PKEY *k;
		clock_gettime(CLOCK_MONOTONIC, &a);
		k = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
		clock_gettime(CLOCK_MONOTONIC, &b);
		EVP_PKEY_free(k);
		double ms =
		    (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		if (k && ms < best)
			best = ms;
	}
	tap_ok(best < 5.0, "a KFSG key loads in under 5 ms (best of 20: %.3f ms)", best);
}

/* Keys and passphrases never reach an error text. */
static void test_no_secrets(void)
{
	struct hsm_keyprot_ctx c = machine1();
	char path[256], hex[65], *pem, *line;
	uint8_t raw[32], g[32];
	size_t rl = sizeof(raw), found = 0;
	EVP_PKEY *k;

	path_of(path, sizeof(path), "rt-KFSG");
	k = hsm_keyprot_load(path, &c, NULL, err, sizeof(err));
	pem = hsm_keyprot_load_pem(path, &c, NULL, err, sizeof(err));
	EVP_PKEY_get_raw_private_key(k, raw, &rl);
	for (size_t i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", raw[i]);
	found += !!memmem(errlog, errlog_len, raw, rl);
	found += !!strcasestr(errlog, hex);
	line = pem ? strchr(pem, '\n') : NULL; /* the base64 body */
	if (line) {
		char body[80];
		snprintf(body, sizeof(body), "%.40s", line + 1);
		found += !!strstr(errlog, body);
	}
	found += !!strstr(errlog, PASS1) + !!strstr(errlog, PASS2);
	{
		char gpath[256];
		snprintf(gpath, sizeof(gpath), "%s/keys/global.nonce", home1);
		if (slurp(gpath, g, sizeof(g)) == 32)
			found += !!memmem(errlog, errlog_len, g, 8);
	}
	tap_ok(errlog_len > 2000 && found == 0,
	       "none of %zu bytes of error text holds the key, its PEM, the global nonce or a "
	       "passphrase",
	       errlog_len);
	hsm_keyprot_pem_free(pem);
	EVP_PKEY_free(k);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-keyprot.XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	unset_env();
	umask(022);
	snprintf(s1, sizeof(s1), "%s/uuid1", dir);
	snprintf(s2, sizeof(s2), "%s/uuid2", dir);
	snprintf(b1, sizeof(b1), "%s/board1", dir);
	snprintf(b2, sizeof(b2), "%s/board2", dir);
	snprintf(bdummy, sizeof(bdummy), "%s/board-dummy", dir);
	snprintf(home1, sizeof(home1), "%s/home1", dir);
	snprintf(home2, sizeof(home2), "%s/home2", dir);
	put(s1, "4c4c4544-0042-3510-8052-b4c04f4e3232\n", 0400);
	put(s2, "4c4c4544-0042-3510-8052-b4c04f4e3233\n", 0400);
	put(b1, "  PF2ABCDE\n", 0400);
	put(b2, "PF2ABCDF\n", 0400);
	put(bdummy, "To be filled by O.E.M.\n", 0400);

	test_parse();
	test_service_env();
	test_service_group();
	test_round_trips();
	test_passphrase();
	test_availability();
	test_other_machine();
	test_global_nonce();
	test_tamper();
	test_permissions();
	test_pem();
	test_rewrap();
	test_salts();
	test_speed();
	test_no_secrets();

	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(errlog);
	return tap_done();
}
