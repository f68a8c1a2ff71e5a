/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/keys/backup.c - keys backup and keys restore (guide 4.7.6,
 * 4.7.7, 4.10.1.7.4-5).
 *
 * A verbatim backup is the key file itself: it opens only where its S, B
 * and G inputs are the same (this machine and installation).  A passphrase
 * backup is the key re-encrypted under KP: nothing of the machine goes in,
 * so it restores anywhere with the passphrase.  Both are written 0600 and
 * never over an existing file.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <hsmadmin/fileio.h>
#include "keyprot.h"
#include "transport-report.h"

#include "keys.h"

#define KEY_FILE_MAX 16384

/* What a verbatim copy depends on, for the warning. */
static void warn_verbatim(struct hsm_ctx *ctx, const struct hsm_client_key *key)
{
	unsigned o = hsm_client_key_options(key);
	char letters[HSM_KEYPROT_STRLEN];

	if (hsm_client_key_is_legacy(key)) {
		hsm_warn(ctx,
			 "the sshadmin key is an unprotected key of an earlier version: the backup "
			 "is readable by whoever can read the file (run 'hsmadmin keys roll' to "
			 "protect it)");
		return;
	}
	hsm_keyprot_format(o, letters);
	if (o & (HSM_KEYPROT_S | HSM_KEYPROT_B | HSM_KEYPROT_G))
		hsm_warn(ctx,
			 "the backup keeps the key's protection %s and is tied to this machine: it "
			 "restores only here, on this OS installation (use --passphrase for a "
			 "backup that "
			 "restores anywhere, or --local to say this is intended)",
			 letters);
	else if (!(o & HSM_KEYPROT_P))
		hsm_warn(ctx,
			 "the backup keeps the key's protection %s, which anyone with hsmadmin can "
			 "undo: keep it safe (or use --passphrase)",
			 letters);
}

/* Guide 4.10.1.7.4: as root, the backup gets the owner and group of the
 * directory it is written to (e.g. an admin's USB stick); mode stays 0600. */
static void give_to_dir_owner(struct hsm_ctx *ctx, const char *file)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(file, '/');
	struct stat st;

	if (geteuid() != 0)
		return;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == file ? 1 : slash - file), file);
	if (stat(dir, &st) != 0 || (st.st_uid == 0 && st.st_gid == 0))
		return;
	if (lchown(file, st.st_uid, st.st_gid) != 0)
		hsm_warn(ctx, "%s: cannot give it to the owner of %s: %s", file, dir,
			 strerror(errno));
}

int keys_backup(struct hsm_ctx *ctx)
{
	const char *home = hsm_home(ctx), *file = hsm_opt_str(ctx, "FILE");
	char src[PATH_MAX], why[PATH_MAX + 256];
	struct hsm_client_key *key;
	unsigned opts;
	int rc = 0;

	hsm_client_key_path(home, "sshadmin", src, sizeof(src));
	if (access(file, F_OK) == 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, file, "exists already: not replaced");
	/* Open it first in every case: a backup that does not open here is
	 * worth nothing, and the caller should know now. */
	if (!(key = hsm_client_key_load_service(home, "sshadmin", why, sizeof(why))))
		return hsm_error(ctx, HSM_EXIT_FAILED, "sshadmin key", "%s", why);
	if (hsm_opt_given(ctx, "passphrase")) {
		struct hsm_keyprot_ctx to = { .home = home, .what = "the backup" };

		opts = HSM_KEYPROT_K | HSM_KEYPROT_P;
		if (!hsm_client_key_pkey(key))
			rc = hsm_error(
			    ctx, HSM_EXIT_FAILED, "sshadmin key",
			    "an unprotected OpenSSH-format "
			    "key of an earlier version cannot be re-encrypted: run 'hsmadmin keys "
			    "roll' first");
		else if (hsm_keyprot_save(file, hsm_client_key_pkey(key), opts, &to, 0, why,
					  sizeof(why)) != 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "backup", "%s", why);
	} else {
		char *data = NULL;
		size_t len = 0;

		opts = hsm_client_key_options(key);
		if (hsm_read_file(src, KEY_FILE_MAX, &data, &len, why, sizeof(why)) != 0 ||
		    hsm_write_file_atomic(file, data, len, 0600, why, sizeof(why)) != 0)
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "backup", "%s", why);
		if (data) {
			OPENSSL_cleanse(data, len);
			free(data);
		}
		if (!rc && !hsm_opt_given(ctx, "local"))
			warn_verbatim(ctx, key);
	}
	if (!rc)
		give_to_dir_owner(ctx, file);
	if (!rc) {
		char letters[HSM_KEYPROT_STRLEN], *fp = hsm_client_key_fingerprint(key);

		hsm_keyprot_format(opts, letters);
		hsm_printf(ctx, "sshadmin key %s backed up to %s (%s, %s)\n", fp ? fp : "?", file,
			   hsm_client_key_is_legacy(key) ? "unprotected" : letters,
			   hsm_opt_given(ctx, "passphrase")
			       ? "restores anywhere with its passphrase"
			       : "verbatim copy");
		json_object_set_new(hsm_json(ctx), "file", json_string(file));
		json_object_set_new(hsm_json(ctx), "fingerprint", json_string(fp ? fp : ""));
		json_object_set_new(hsm_json(ctx), "protection",
				    json_string(hsm_client_key_is_legacy(key) ? "" : letters));
		json_object_set_new(
		    hsm_json(ctx), "tied_to_machine",
		    json_boolean(!!(opts & (HSM_KEYPROT_S | HSM_KEYPROT_B | HSM_KEYPROT_G))));
		free(fp);
	}
	hsm_client_key_free(key);
	return rc;
}

/* Put the backup's key in place as this host's sshadmin key; an existing
 * different key is never overwritten. */
static int install_sshadmin(struct hsm_ctx *ctx, const struct hsm_client_key *key)
{
	const char *home = hsm_home(ctx);
	char path[PATH_MAX], why[PATH_MAX + 256];
	struct hsm_client_key *have;
	char *a, *b;
	int same;

	hsm_client_key_path(home, "sshadmin", path, sizeof(path));
	if (access(path, F_OK) != 0) {
		if (hsm_client_key_save_service(home, "sshadmin", key, 0, why, sizeof(why)) != 0)
			return hsm_error(ctx, HSM_EXIT_FAILED, "restore", "%s", why);
		hsm_verbosef(ctx, "installed the sshadmin key as %s", path);
		return 0;
	}
	if (!(have = hsm_client_key_load_service(home, "sshadmin", why, sizeof(why))))
		return hsm_error(ctx, HSM_EXIT_FAILED, "restore",
				 "an sshadmin key is already installed "
				 "but does not open (%s): move %s away to restore the backup",
				 why, path);
	a = hsm_client_key_public(have);
	b = hsm_client_key_public(key);
	same = a && b && strcmp(a, b) == 0;
	free(a);
	free(b);
	hsm_client_key_free(have);
	if (!same)
		return hsm_error(ctx, HSM_EXIT_FAILED, "restore",
				 "another sshadmin key is installed "
				 "(%s): move it away to restore the backup",
				 path);
	return 0;
}

int keys_restore(struct hsm_ctx *ctx)
{
	const char *file = hsm_opt_str(ctx, "FILE");
	char why[PATH_MAX + 256];
	struct hsm_client_key *key;
	struct hsm_fleet fleet;
	int rc;

	if (hsm_esn_count(ctx))
		return hsm_error(
		    ctx, HSM_EXIT_USAGE, "--esn",
		    "keys restore makes new keys for every HSM this host knows; it takes no --esn");
	if (keys_roll_pending(hsm_home(ctx)))
		return hsm_error(ctx, HSM_EXIT_FAILED, "restore",
				 "a key roll is pending: finish it with "
				 "'hsmadmin keys roll' first");
	if (!(key = hsm_client_key_load(file, why, sizeof(why))))
		return hsm_error(ctx, HSM_EXIT_USAGE, file, "%s", why);
	if ((rc = install_sshadmin(ctx, key))) {
		hsm_client_key_free(key);
		return rc;
	}
	if ((rc = hsm_fleet_open(ctx, &fleet))) {
		hsm_client_key_free(key);
		return rc;
	}
	rc = keys_pin_missing(ctx, &fleet, key);
	hsm_client_key_free(key);
	if (!rc)
		rc = keys_roll_services(ctx, &fleet, KEYS_ALL_SERVICES & ~(1u << HSM_SVC_SSHADMIN));
	hsm_fleet_close(&fleet);
	return rc;
}
