/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test-transport-keys.c - the client key store and host key
 * pins (core/net/hostkeys.c): permissions, no replacement, strict pins.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include <libssh/libssh.h>
#include "hostkeys.h"
#include "keyprot.h"
#include "sign.h"
#include "tap.h"

static char root[64];

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (st.st_mode & 07777) : (mode_t)-1;
}

static void test_client_keys(void)
{
	char path[256], other[256], err[512], home[128];
	struct hsm_client_key *k, *l;
	char *pub, *pub2, *fp;

	snprintf(home, sizeof(home), "%s/home", root);
	k = hsm_client_key_generate(err, sizeof(err));
	tap_ok(k != NULL, "generate an Ed25519 client key");
	pub = hsm_client_key_public(k);
	tap_ok(pub && strncmp(pub, "ssh-ed25519 AAAA", 16) == 0 && !strchr(pub + 12, ' '),
	       "public key is one OpenSSH line without comment");
	tap_ok(hsm_ssh_pubkey_valid(pub), "its public line is valid");
	fp = hsm_client_key_fingerprint(k);
	tap_ok(fp && strncmp(fp, "SHA256:", 7) == 0, "fingerprint like ssh-keygen -l");

	snprintf(path, sizeof(path), "%s/key", root);
	TAP_INT_EQ(hsm_client_key_save(k, home, path, "setup", 0, err, sizeof(err)), 0,
		   "save a new key");
	TAP_INT_EQ(mode_of(path), 0600, "saved with mode 0600");
	tap_ok(hsm_client_key_save(k, home, path, "setup", 0, err, sizeof(err)) < 0 &&
		   strstr(err, "exists"),
	       "an existing key is never replaced (%s)", err);
	l = hsm_client_key_load(path, err, sizeof(err));
	tap_ok(l != NULL, "load it back");
	pub2 = l ? hsm_client_key_public(l) : NULL;
	TAP_STR_EQ(pub2, pub, "same public key after the round trip");
	tap_ok(l && !hsm_client_key_is_legacy(l), "... a protected key, not a legacy one");
	TAP_INT_EQ(l ? hsm_client_key_options(l) : 0,
		   HSM_KEYPROT_K | HSM_KEYPROT_F | HSM_KEYPROT_S | HSM_KEYPROT_G,
		   "... saved under the setup default KFSG");
	free(pub2);
	hsm_client_key_free(l);
	{
		/* the file holds no trace of the key in the clear */
		FILE *f = fopen(path, "rb");
		char buf[512];
		size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
		if (f)
			fclose(f);
		tap_ok(n == 128 && memcmp(buf, "HSMKEY", 6) == 0,
		       "the key file is a 128-byte protected key file");
	}

	chmod(path, 0640);
	l = hsm_client_key_load(path, err, sizeof(err));
	tap_ok(!l && strstr(err, "lets group"), "group-readable key refused (%s)", err);
	hsm_client_key_free(l);
	chmod(path, 0604);
	l = hsm_client_key_load(path, err, sizeof(err));
	tap_ok(!l && strstr(err, "lets others"), "world-readable key refused (%s)", err);
	hsm_client_key_free(l);
	chmod(path, 0600);

	snprintf(other, sizeof(other), "%s/link", root);
	if (symlink(path, other) != 0)
		printf("# symlink: %s\n", strerror(errno));
	l = hsm_client_key_load(other, err, sizeof(err));
	tap_ok(!l, "a symlink to a key is not followed (%s)", err);
	hsm_client_key_free(l);

	l = hsm_client_key_load(root, err, sizeof(err));
	tap_ok(!l, "a directory is not a key (%s)", err);
	hsm_client_key_free(l);

	snprintf(other, sizeof(other), "%s/garbage", root);
	write_text(other,
		   "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
		   0600);
	l = hsm_client_key_load(other, err, sizeof(err));
	tap_ok(!l && strstr(err, "unencrypted Ed25519"), "garbage key refused (%s)", err);
	hsm_client_key_free(l);

	/* A PKCS#8 key as core/crypto/sign.c writes it also works (vendor and
	 * backup tools write that format). */
	{
		EVP_PKEY *pk = hsm_ed25519_generate(err, sizeof(err));
		snprintf(other, sizeof(other), "%s/pkcs8", root);
		if (pk && hsm_key_save_private(other, pk, 0, err, sizeof(err)) == 0) {
			l = hsm_client_key_load(other, err, sizeof(err));
			tap_ok(l != NULL, "PKCS#8 PEM Ed25519 key loads (%s)", l ? "ok" : err);
			tap_ok(l && hsm_client_key_is_legacy(l),
			       "... flagged as an unprotected legacy key");
			snprintf(path, sizeof(path), "%s/pkcs8.protected", root);
			TAP_INT_EQ(
			    l ? hsm_client_key_save(l, home, path, "monitor", 0, err, sizeof(err))
			      : -1,
			    0, "... and can be stored protected");
			hsm_client_key_free(l);
			chmod(other, 0640);
			l = hsm_client_key_load(other, err, sizeof(err));
			tap_ok(!l && strstr(err, "unprotected key: refused"),
			       "a group-readable legacy key is refused (%s)", err);
			hsm_client_key_free(l);
			/* A broken header before a good PKCS#8 block: libssh finds
			 * the block and imports a key it cannot use (a fuzz find). */
			{
				char *body = NULL;
				size_t blen = 0;
				char *two = NULL;
				if (hsm_read_file(other, 4096, &body, &blen, err, sizeof(err)) ==
					0 &&
				    asprintf(&two, "-----BEGIN PRIVATE KEY-\nMC4C\n%s", body) > 0) {
					write_text(other, two, 0600);
					l = hsm_client_key_load(other, err, sizeof(err));
					tap_ok(!l && strstr(err, "unencrypted Ed25519"),
					       "a broken PEM header before a key is refused (%s)",
					       l ? "loaded" : err);
					hsm_client_key_free(l);
				} else {
					tap_ok(0, "read the PKCS#8 key back (%s)", err);
				}
				free(two);
				free(body);
			}
		} else {
			tap_ok(0, "PKCS#8 key written by sign.c (%s)", err);
		}
		EVP_PKEY_free(pk);
	}
	/* A legacy OpenSSH-format key (what earlier versions wrote): usable,
	 * but it cannot be stored protected. */
	{
		ssh_key sk = NULL;
		char *b64 = NULL;
		snprintf(other, sizeof(other), "%s/openssh", root);
		if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &sk) == SSH_OK &&
		    ssh_pki_export_privkey_base64(sk, NULL, NULL, NULL, &b64) == SSH_OK) {
			write_text(other, b64, 0600);
			l = hsm_client_key_load(other, err, sizeof(err));
			tap_ok(l && hsm_client_key_is_legacy(l), "a legacy OpenSSH key loads (%s)",
			       l ? "ok" : err);
			snprintf(path, sizeof(path), "%s/openssh.protected", root);
			tap_ok(l &&
				   hsm_client_key_save(l, home, path, "monitor", 0, err,
						       sizeof(err)) < 0 &&
				   strstr(err, "keys roll"),
			       "... cannot be stored again: says to roll (%s)", err);
			hsm_client_key_free(l);
		}
		ssh_string_free_char(b64);
		ssh_key_free(sk);
	}
	/* A tampered or truncated protected file is refused. */
	{
		FILE *f;
		char buf[256];
		size_t n;
		snprintf(path, sizeof(path), "%s/key", root);
		f = fopen(path, "rb");
		n = f ? fread(buf, 1, sizeof(buf), f) : 0;
		if (f)
			fclose(f);
		snprintf(other, sizeof(other), "%s/tampered", root);
		buf[100] ^= 1;
		f = fopen(other, "wb");
		fwrite(buf, 1, n, f);
		fclose(f);
		chmod(other, 0600);
		l = hsm_client_key_load_as(home, other, "setup", err, sizeof(err));
		tap_ok(!l && strstr(err, "cannot decrypt"), "a tampered key file is refused (%s)",
		       err);
		hsm_client_key_free(l);
		buf[100] ^= 1;
		f = fopen(other, "wb");
		fwrite(buf, 1, n - 5, f);
		fclose(f);
		l = hsm_client_key_load_as(home, other, "setup", err, sizeof(err));
		tap_ok(!l && strstr(err, "truncated"), "a truncated key file is refused (%s)", err);
		hsm_client_key_free(l);
	}
	free(pub);
	free(fp);
	hsm_client_key_free(k);
}

static void test_ensure(void)
{
	char home[128], path[256], err[512];
	struct hsm_client_key *k;
	int created = -1;

	snprintf(home, sizeof(home), "%s/home", root);
	TAP_INT_EQ(hsm_client_keys_ensure(home, &created, err, sizeof(err)), 0,
		   "ensure client keys");
	TAP_INT_EQ(created, HSM_SVC_COUNT, "one key per platform service created");
	snprintf(path, sizeof(path), "%s/keys/client", home);
	TAP_INT_EQ(mode_of(path), 0700, "keys/client is 0700");
	snprintf(path, sizeof(path), "%s/keys/client/monitor", home);
	TAP_INT_EQ(mode_of(path), 0600, "keys/client/monitor is 0600");
	TAP_INT_EQ(hsm_client_keys_ensure(home, &created, err, sizeof(err)), 0, "ensure again");
	TAP_INT_EQ(created, 0, "existing keys are kept");
	k = hsm_client_key_load_service(home, "setup", err, sizeof(err));
	tap_ok(k != NULL, "load the setup key by service name");
	hsm_client_key_free(k);
	k = hsm_client_key_load_service(root, "setup", err, sizeof(err));
	tap_ok(!k && strstr(err, "run 'hsmadmin enroll'"), "a missing key says to enroll (%s)",
	       err);
	hsm_client_key_free(k);
	k = hsm_client_key_load_service(home, "../x", err, sizeof(err));
	tap_ok(!k, "an unknown service has no key path");
}

/* The pins of ESN 9Z87-YX65-4321 in home, stored as text, are refused. */
static void pins_refused(const char *home, const char *text, const char *name)
{
	char path[256], err[512];
	struct hsm_pins q;

	snprintf(path, sizeof(path), "%s/pins/9Z87-YX65-4321.json", home);
	write_text(path, text, 0644);
	tap_ok(hsm_pins_load(home, "9Z87-YX65-4321", &q, err, sizeof(err)) < 0, "%s (%s)", name,
	       err);
}

/* Does the file at path hold text? */
static int file_has(const char *path, const char *text)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/* The pins of ESN 9Z87-YX65-4321 with identity key id and members extra
 * (",\"recovery\":..." or "") load with this recovery flag. */
static void pins_recovery_is(const char *home, const char *id, const char *extra, int want,
			     const char *name)
{
	char path[256], text[1024], err[512];
	struct hsm_pins q;

	snprintf(path, sizeof(path), "%s/pins/9Z87-YX65-4321.json", home);
	snprintf(text, sizeof(text),
		 "{\"esn\":\"9Z87-YX65-4321\",\"identity_key\":\"%s\",\"host_keys\":{},"
		 "\"pinned\":1%s}",
		 id, extra);
	write_text(path, text, 0644);
	if (hsm_pins_load(home, "9Z87-YX65-4321", &q, err, sizeof(err)) != 0) {
		tap_ok(0, "%s (%s)", name, err);
		return;
	}
	TAP_INT_EQ(q.recovery, want, name);
	hsm_pins_clear(&q);
}

static void test_pins(void)
{
	char home[128], text[1024], err[512];
	struct hsm_client_key *a = hsm_client_key_generate(err, sizeof(err));
	struct hsm_client_key *b = hsm_client_key_generate(err, sizeof(err));
	struct hsm_pins p = { .esn = "1A23-BC45-6789", .pinned = 1700000000 }, q;
	char *pa = hsm_client_key_public(a), *pb = hsm_client_key_public(b);

	snprintf(home, sizeof(home), "%s/home", root);
	TAP_INT_EQ(hsm_pins_load(home, "1A23-BC45-6789", &q, err, sizeof(err)), 1, "no pins yet");
	p.identity_key = pa;
	p.host_keys[HSM_SVC_SETUP] = pb;
	TAP_INT_EQ(hsm_pins_save(home, &p, err, sizeof(err)), 0, "save pins");
	TAP_INT_EQ(hsm_pins_load(home, "1A23-BC45-6789", &q, err, sizeof(err)), 0, "load pins");
	TAP_STR_EQ(q.identity_key, pa, "identity key round trip");
	TAP_STR_EQ(q.host_keys[HSM_SVC_SETUP], pb, "setup host key round trip");
	tap_ok(q.host_keys[HSM_SVC_MONITOR] == NULL, "no pin for a service not enrolled");
	TAP_INT_EQ(q.pinned, 1700000000, "pin time round trip");
	TAP_INT_EQ(q.recovery, 0, "pins of a primary-mode enrollment: recovery 0");
	hsm_pins_clear(&q);
	snprintf(text, sizeof(text), "%s/pins/1A23-BC45-6789.json", home);
	tap_ok(!file_has(text, "recovery"), "... and no recovery member written (earlier "
					    "versions read these pins)");
	p.recovery = 1;
	TAP_INT_EQ(hsm_pins_save(home, &p, err, sizeof(err)), 0,
		   "save pins of a recovery enrollment");
	tap_ok(file_has(text, "\"recovery\""), "... a recovery member written");
	TAP_INT_EQ(hsm_pins_load(home, "1A23-BC45-6789", &q, err, sizeof(err)), 0, "... loaded");
	TAP_INT_EQ(q.recovery, 1, "... recovery round trip");
	hsm_pins_clear(&q);
	p.recovery = 0;
	pins_recovery_is(home, pa, "", 0, "pins without recovery (earlier versions): primary mode");
	pins_recovery_is(home, pa, ",\"recovery\":false", 0, "recovery false: primary mode");
	pins_recovery_is(home, pa, ",\"recovery\":true", 1, "recovery true: recovery mode");
	snprintf(text, sizeof(text),
		 "{\"esn\":\"9Z87-YX65-4321\",\"identity_key\":\"%s\",\"host_keys\":{},"
		 "\"pinned\":1,\"recovery\":1}",
		 pa);
	pins_refused(home, text, "recovery not a boolean refused");
	snprintf(text, sizeof(text),
		 "{\"esn\":\"9Z87-YX65-4321\",\"identity_key\":\"%s\",\"host_keys\":{},"
		 "\"pinned\":1,\"recovery\":\"true\"}",
		 pa);
	pins_refused(home, text, "recovery as a string refused");
	TAP_INT_EQ(hsm_ssh_pubkey_cmp(pa, pa), 0, "same key compares equal");
	tap_ok(hsm_ssh_pubkey_cmp(pa, pb) != 0, "different keys differ");

	pins_refused(
	    home,
	    "{\"esn\":\"1A23-BC45-6789\",\"identity_key\":\"x\",\"host_keys\":{},\"pinned\":1}",
	    "pins of another ESN refused");
	pins_refused(home, "{\"esn\":\"9Z87-YX65-4321\",\"esn\":\"9Z87-YX65-4321\"}",
		     "duplicate keys refused");
	snprintf(
	    text, sizeof(text),
	    "{\"esn\":\"9Z87-YX65-4321\",\"identity_key\":\"%s\",\"host_keys\":{\"ssh\":\"%s\"},"
	    "\"pinned\":1}",
	    pa, pb);
	pins_refused(home, text, "unknown service in pins refused");
	snprintf(text, sizeof(text),
		 "{\"esn\":\"9Z87-YX65-4321\",\"identity_key\":\"%s\",\"host_keys\":{},"
		 "\"pinned\":1,\"x\":1}",
		 pa);
	pins_refused(home, text, "unknown member in pins refused");
	snprintf(text, sizeof(text),
		 "{\"esn\":\"9Z87-YX65-4321\",\"identity_key\":\"%s comment\",\"host_keys\":{},"
		 "\"pinned\":1}",
		 pa);
	pins_refused(home, text, "key line with a comment refused");
	tap_ok(hsm_pins_load(home, "../../etc/x", &q, err, sizeof(err)) < 0,
	       "a path is not an ESN");

	TAP_INT_EQ(hsm_pins_remove(home, "1A23-BC45-6789", err, sizeof(err)), 0, "remove pins");
	TAP_INT_EQ(hsm_pins_load(home, "1A23-BC45-6789", &q, err, sizeof(err)), 1,
		   "gone after remove");
	TAP_INT_EQ(hsm_pins_remove(home, "1A23-BC45-6789", err, sizeof(err)), 0,
		   "removing twice is fine");

	tap_ok(!hsm_ssh_pubkey_valid("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ"),
	       "RSA line is not valid");
	tap_ok(!hsm_ssh_pubkey_valid("ssh-ed25519 !!!"), "bad base64 is not valid");
	tap_ok(!hsm_ssh_pubkey_valid("ssh-ed25519"), "no key is not valid");
	free(pa);
	free(pb);
	hsm_client_key_free(a);
	hsm_client_key_free(b);
}

int main(void)
{
	char cmd[128];

	snprintf(root, sizeof(root), "/tmp/test-keys.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	umask(022);
	/* Key protection's machine inputs (a container may have no DMI), and
	 * no group: keys are owner-only whoever runs the test. */
	snprintf(cmd, sizeof(cmd), "%s/system-uuid", root);
	write_text(cmd, "4c4c4544-0042-3510-8051-c7c04f325a31\n", 0600);
	setenv("HSMADMIN_SYSTEM_UUID_FILE", cmd, 1);
	for (int i = 0; i < HSM_SVC_COUNT; i++) {
		char var[64];
		snprintf(var, sizeof(var), "NFAST_%s_GROUP", hsm_service_name(i));
		for (char *c = var; *c; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char)(*c - 'a' + 'A');
		setenv(var, "", 1);
	}
	unsetenv("NFAST_KEYPROT");
	snprintf(cmd, sizeof(cmd), "%s/home", root);
	setenv("HSMADMIN_HOME", cmd, 1);
	test_client_keys();
	test_ensure();
	test_pins();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	return tap_done();
}
