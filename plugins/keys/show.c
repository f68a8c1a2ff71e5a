/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/keys/show.c - keys show (guide 4.7.4, 4.10.1.7.1): this host's
 * client keys (public key, file time, protection, mode and group) and, per
 * HSM, the pinned server host keys, whether it was enrolled in recovery mode
 * (its pins, docs/formats/modules.md) and the client key each service accepts.
 * Only public keys are ever printed.
 */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyprot.h"
#include "transport-report.h"

#include "keys.h"

static int is_pem(const char *path)
{
	char head[11] = { 0 };
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)sizeof(head) && memcmp(head, "-----BEGIN ", 11) == 0;
}

static json_t *client_key_info(const char *home, const char *svc)
{
	char path[PATH_MAX], why[PATH_MAX + 256], letters[HSM_KEYPROT_STRLEN], mode[8];
	json_t *o = json_object();
	struct hsm_client_key *key;
	struct stat st;
	unsigned opts;

	hsm_client_key_path(home, svc, path, sizeof(path));
	json_object_set_new(o, "file", json_string(path));
	if (lstat(path, &st) != 0) {
		json_object_set_new(o, "present", json_false());
		return o;
	}
	json_object_set_new(o, "present", json_true());
	json_object_set_new(o, "modified", json_integer((json_int_t)st.st_mtime));
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
	json_object_set_new(o, "mode", json_string(mode));
	{
		struct group *g = getgrgid(st.st_gid);
		json_object_set_new(o, "group", json_string(g ? g->gr_name : "?"));
	}
	if (is_pem(path)) {
		json_object_set_new(o, "protection", json_string(""));
		json_object_set_new(o, "legacy", json_true());
	} else if (hsm_keyprot_file_options(path, &opts, why, sizeof(why)) == 0) {
		hsm_keyprot_format(opts, letters);
		json_object_set_new(o, "protection", json_string(letters));
		json_object_set_new(o, "legacy", json_false());
	}
	if ((key = hsm_client_key_load_service(home, svc, why, sizeof(why)))) {
		char *pub = hsm_client_key_public(key), *fp = hsm_client_key_fingerprint(key);
		json_object_set_new(o, "public_key", json_string(pub ? pub : ""));
		json_object_set_new(o, "fingerprint", json_string(fp ? fp : ""));
		free(pub);
		free(fp);
		hsm_client_key_free(key);
	} else {
		json_object_set_new(o, "error", json_string(why));
	}
	return o;
}

static void print_client(struct hsm_ctx *ctx, const char *svc, const json_t *o)
{
	char when[64];
	const char *prot = json_string_value(json_object_get(o, "protection"));

	if (!json_is_true(json_object_get(o, "present"))) {
		hsm_printf(ctx, "  %-13s (none)\n", svc);
		return;
	}
	hsm_printf(ctx, "  %-13s %s\n", svc,
		   json_object_get(o, "public_key")
		       ? json_string_value(json_object_get(o, "public_key"))
		       : "(cannot open: see below)");
	hsm_format_time(json_integer_value(json_object_get(o, "modified")), when, sizeof(when));
	hsm_printf(ctx, "  %-13s installed %s, protection %s, mode %s group %s\n", "", when,
		   json_is_true(json_object_get(o, "legacy"))
		       ? "NONE (unprotected key of an earlier "
			 "version: run 'hsmadmin keys roll')"
		       : (prot ? prot : "?"),
		   json_string_value(json_object_get(o, "mode")),
		   json_string_value(json_object_get(o, "group")));
	if (json_object_get(o, "error"))
		hsm_printf(ctx, "  %-13s cannot open: %s\n", "",
			   json_string_value(json_object_get(o, "error")));
}

/* The HSM's accepted key of a service, as it relates to this host. */
static const char *whose(const json_t *clients, const char *svc, const char *key,
			 const json_t *remote)
{
	const char *mine =
	    json_string_value(json_object_get(json_object_get(clients, svc), "public_key"));
	const json_t *v;
	size_t i;

	json_array_foreach(remote, i, v) if (json_is_string(v) && strcmp(json_string_value(v),
									 svc) == 0) return "remote";
	return mine && hsm_ssh_pubkey_cmp(mine, key) == 0 ? "this host" : "another host";
}

int keys_show(struct hsm_ctx *ctx)
{
	const char *home = hsm_home(ctx);
	json_t *clients = json_object(), *mods = json_array();
	struct hsm_fleet fleet;
	struct hsm_rpc_reply *replies;
	int rc = 0;

	hsm_printf(ctx, "Client keys (%s/keys/client):\n", home);
	for (int s = 0; s < HSM_SVC_COUNT; s++) {
		json_t *o = client_key_info(home, hsm_service_name(s));
		print_client(ctx, hsm_service_name(s), o);
		if (json_object_get(o, "error"))
			rc = HSM_EXIT_FAILED;
		json_object_set_new(clients, hsm_service_name(s), o);
	}
	json_object_set_new(hsm_json(ctx), "client_keys", clients);
	json_object_set_new(hsm_json(ctx), "roll_pending", json_boolean(keys_roll_pending(home)));
	if (keys_roll_pending(home))
		hsm_printf(ctx, "A key roll is pending: run 'hsmadmin keys roll' to finish it.\n");
	json_object_set_new(hsm_json(ctx), "modules", mods);
	if (hsm_fleet_open(ctx, &fleet) != 0) /* reported: no HSM known */
		return rc;
	if (!(replies = calloc(fleet.count ? fleet.count : 1, sizeof(*replies)))) {
		hsm_fleet_close(&fleet);
		return hsm_error(ctx, HSM_EXIT_FAILED, "show", "out of memory");
	}
	hsm_rpc_fanout(ctx, &fleet, "sshadmin", "authorized_keys", NULL, replies);
	for (size_t i = 0; i < fleet.count; i++) {
		const struct hsm_module *m = &fleet.modules[i];
		json_t *mod = json_pack("{s:s}", "esn", m->esn), *pinned = json_object(), *auth;
		struct hsm_pins pins;
		char why[PATH_MAX + 128];
		int have = hsm_pins_load(home, m->esn, &pins, why, sizeof(why)), recovery = 0;

		hsm_printf(ctx, "HSM %s (%s):\n", m->esn, m->address);
		if (have == 0) {
			hsm_printf(ctx, "  server keys (pinned):\n");
			for (int s = 0; s < HSM_SVC_COUNT; s++)
				if (pins.host_keys[s]) {
					hsm_printf(ctx, "    %-13s %s\n", hsm_service_name(s),
						   pins.host_keys[s]);
					json_object_set_new(pinned, hsm_service_name(s),
							    json_string(pins.host_keys[s]));
				}
			/* What logs export, collect and getkey accept from it:
			 * an HSM enrolled on its recovery image certifies no
			 * log key. */
			hsm_printf(ctx, "  enrolled in:  %s\n",
				   pins.recovery ? "recovery mode (log keys without certificates "
						   "accepted)"
						 : "primary mode");
			json_object_set_new(mod, "identity_key", json_string(pins.identity_key));
			recovery = pins.recovery;
			hsm_pins_clear(&pins);
		} else {
			hsm_printf(ctx, "  server keys: %s\n",
				   have == 1 ? "not pinned (not enrolled from this host)" : why);
		}
		json_object_set_new(mod, "server_keys", pinned);
		json_object_set_new(mod, "recovery", json_boolean(recovery));
		if (replies[i].exit == 0) {
			const json_t *keys = json_object_get(replies[i].result, "keys");
			const json_t *remote = json_object_get(replies[i].result, "remote");
			const char *svc;
			json_t *v;

			auth = json_object();
			hsm_printf(ctx, "  client keys accepted:\n");
			for (int s = 0; s < HSM_SVC_COUNT; s++) {
				svc = hsm_service_name(s);
				if (!(v = json_object_get(keys, svc)) || !json_is_string(v))
					continue;
				hsm_printf(ctx, "    %-13s %s (%s)\n", svc, json_string_value(v),
					   whose(clients, svc, json_string_value(v), remote));
				json_object_set_new(
				    auth, svc,
				    json_pack("{s:s, s:s}", "key", json_string_value(v), "owner",
					      whose(clients, svc, json_string_value(v), remote)));
			}
			json_object_set_new(mod, "client_keys", auth);
			json_object_set_new(mod, "ok", json_true());
		} else {
			hsm_error(ctx, replies[i].exit, m->esn, "%s", replies[i].message);
			json_object_set_new(mod, "ok", json_false());
			json_object_set_new(mod, "error",
					    json_pack("{s:i, s:s, s:s}", "exit", replies[i].exit,
						      "code", replies[i].code, "message",
						      replies[i].message));
			rc = hsm_exit_worst(rc, replies[i].exit);
		}
		json_array_append_new(mods, mod);
		hsm_rpc_reply_clear(&replies[i]);
	}
	free(replies);
	rc = hsm_exit_worst(rc, fleet.config_exit);
	hsm_fleet_close(&fleet);
	return rc;
}
