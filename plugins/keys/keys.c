/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/keys/keys.c - the keys plugin's descriptor: hsmadmin keys show,
 * roll, backup, restore, migrate, remote-set, remote-remove (guide
 * 4.10.1.7).  Client keys are protected as docs/formats/keys.md says.
 */
#include "config.h"

#include <hsmadmin/plugin.h>

#include "keys.h"

#define ROOT HSM_CMDF_NEEDS_ROOT
#define DEVICE HSM_CMDF_DEVICE
#define INVASIVE HSM_CMDF_INVASIVE

static const struct hsm_option backup_opts[] = {
	{ .name = "passphrase",
	  .short_name = 'p',
	  .type = HSM_OPT_FLAG,
	  .group = 1,
	  .help = "re-encrypt under a passphrase (asked twice, or NFAST_KEYPROT_PASS) so that it "
		  "restores anywhere" },
	{ .name = "local",
	  .type = HSM_OPT_FLAG,
	  .group = 1,
	  .help = "a verbatim copy tied to this machine is intended: no warning" },
	{ .name = "FILE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "where to write the backup (must not exist)" },
	HSM_OPTION_END
};

static const struct hsm_option restore_opts[] = {
	{ .name = "FILE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "a backup written by 'hsmadmin keys backup'" },
	HSM_OPTION_END
};

static const struct hsm_option migrate_opts[] = {
	{ .name = "privkeyfile",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "FILE",
	  .help = "the destination host's sshadmin key (its 'keys backup --passphrase')" },
	HSM_OPTION_END
};

static const struct hsm_option remote_set_opts[] = {
	{ .name = "SERVICE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the HSM service to open to a remote client" },
	{ .name = "KEYTYPE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the SSH public key type (ssh-ed25519)" },
	{ .name = "KEYDATA",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the SSH public key (base64)" },
	HSM_OPTION_END
};

static const struct hsm_option remote_remove_opts[] = {
	{ .name = "SERVICE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the HSM service to give back to this host's key" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "keys show",
	  .summary = "Show this host's client keys and each HSM's SSH keys",
	  .description =
	      "Client keys: public key, file time and protection options.  Per HSM: the "
	      "pinned server host keys and the client key each service accepts.  Private "
	      "keys are never shown.",
	  .flags = DEVICE | ROOT,
	  .run = keys_show },
	{ .path = "keys roll",
	  .summary = "Replace the client keys of every service on every HSM",
	  .description =
	      "New keys are protected as NFAST_KEYPROT / NFAST_<SERVICE>_KEYPROT say.  Each "
	      "HSM gets them through sshadmin, its sshadmin key last; this host switches to "
	      "them only when every HSM has them.  An interrupted roll is finished by running "
	      "it again.  Keys set with remote-set are kept.",
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = keys_roll },
	{ .path = "keys backup",
	  .summary = "Back up the sshadmin client key",
	  .description =
	      "Without --passphrase the key file is copied verbatim and opens only on this "
	      "machine; with it, the key is re-encrypted under a passphrase and restores "
	      "anywhere.  The backup is readable by its owner only.",
	  .options = backup_opts,
	  .flags = ROOT,
	  .run = keys_backup },
	{ .path = "keys restore",
	  .summary = "Restore the sshadmin client key and make the others anew",
	  .description =
	      "Installs the sshadmin key from a backup, pins the HSMs this host has no "
	      "pins for (verifying their certificates), then installs new keys for the other "
	      "services through sshadmin.",
	  .options = restore_opts,
	  .flags = DEVICE | HSM_CMDF_EVERY_HSM | ROOT | INVASIVE,
	  .run = keys_restore },
	{ .path = "keys migrate",
	  .summary = "Hand HSMs over to the host whose sshadmin key is given",
	  .description =
	      "Sets the sshadmin client key of every addressed HSM to the public half of "
	      "FILE (guide 4.7.9).  Afterwards this host can no longer administer them; run "
	      "'hsmadmin enroll' on the destination host.",
	  .options = migrate_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = keys_migrate },
	{ .path = "keys remote-set",
	  .summary = "Authorize a remote client's public key for one service",
	  .options = remote_set_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = keys_remote_set },
	{ .path = "keys remote-remove",
	  .summary = "Remove a remote key and authorize this host's key again",
	  .options = remote_remove_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = keys_remote_remove },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "keys",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
