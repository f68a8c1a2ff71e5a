/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/keys/roll.c - replacing client keys on every HSM without ever
 * leaving an HSM that this host cannot log in to (guide 4.7.5).
 *
 * Each HSM has one authorized key per service, changed atomically by
 * sshadmin `set_key`.  A roll therefore keeps both generations on the host
 * until it is over:
 *
 *   HSMADMIN_HOME/keys/client/<svc>   the keys in use
 *   HSMADMIN_HOME/keys/roll/<svc>     the new keys, while a roll is pending
 *   HSMADMIN_HOME/keys/roll.tmp/      new keys being made (no HSM has seen
 *                                     them; a leftover is simply removed)
 *   HSMADMIN_HOME/keys/roll.lock      flock: one roll at a time
 *
 *   1. make the new keys in roll.tmp/, then rename it to roll/ (atomic);
 *   2. per HSM: log in to sshadmin with whichever sshadmin key it accepts
 *      (current or new), set the new key of every other service, then the
 *      new sshadmin key, then log in with the new key and check them all;
 *   3. only when every HSM has them, rename each roll/<svc> over
 *      client/<svc> (sshadmin last) and remove roll/.
 *
 * At every instant each HSM accepts an sshadmin key the host holds (in
 * client/ or roll/), so a crash, a dropped connection or a dead HSM at any
 * point is recovered by running the roll again: it finds roll/ and
 * finishes the job with those keys.  When an HSM fails while the host is
 * still running, the HSMs already changed are put back to the current keys
 * and the new ones are discarded, so other commands keep working; only if
 * that also fails does the roll stay pending.
 *
 * Test hook: HSMADMIN_KEYS_TEST_CRASH_AFTER=N (secure_getenv) kills this
 * process with SIGKILL right after the N-th set_key an HSM accepted, so
 * tests can interrupt a roll at any step (tests/integration/keys-roll.sh).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "keyprot.h"
#include "transport-report.h"

#include "keys.h"

struct roll {
	const char *home;
	int timeout;
	const struct hsm_fleet *fleet;
	unsigned pending;                           /* services with a key in roll/ */
	struct hsm_client_key *cur[HSM_SVC_COUNT];  /* client/, NULL if none usable */
	struct hsm_client_key *next[HSM_SVC_COUNT]; /* roll/ */
	char *curpub[HSM_SVC_COUNT], *nextpub[HSM_SVC_COUNT];
	int back;     /* restore cur instead of installing next */
	int *touched; /* per HSM: a set_key was sent */
	struct hsm_rpc_reply *replies;
	long crash_after; /* test hook, 0: off */
};

static atomic_long set_key_calls;

static int dir_path(const char *home, const char *sub, const char *svc, char *buf, size_t len)
{
	int n = svc ? snprintf(buf, len, "%s/keys/%s/%s", home, sub, svc)
		    : snprintf(buf, len, "%s/keys/%s", home, sub);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int keys_roll_pending(const char *home)
{
	char path[PATH_MAX];
	struct stat st;

	return dir_path(home, "roll", NULL, path, sizeof(path)) == 0 && lstat(path, &st) == 0;
}

/* Remove a directory of ours and the plain files in it. */
static int remove_dir(const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return errno == ENOENT ? 0
				       : hsm_set_err(err, errlen, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	if (rmdir(dir) != 0)
		return hsm_set_err(err, errlen, "%s: %s", dir, strerror(errno));
	return 0;
}

static int in_array(const json_t *arr, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) if (json_is_string(v) &&
					  strcmp(json_string_value(v), s) == 0) return 1;
	return 0;
}

/* authorized_keys with the first sshadmin key the HSM accepts; *used
 * gets it.  Returns the reply's exit. */
static int login(struct roll *rl, const struct hsm_module *m,
		 const struct hsm_client_key *const *keys, size_t n,
		 const struct hsm_client_key **used, struct hsm_rpc_reply *r)
{
	for (size_t k = 0; k < n; k++) {
		if (!keys[k])
			continue;
		hsm_rpc_reply_clear(r);
		hsm_rpc_call_module(rl->home, rl->timeout, m, "sshadmin", keys[k],
				    "authorized_keys", NULL, r);
		*used = keys[k];
		if (!(r->exit == HSM_EXIT_AUTH && strcmp(r->code, "auth") == 0))
			return r->exit;
	}
	return r->exit ? r->exit : HSM_EXIT_AUTH;
}

static int set_key(struct roll *rl, size_t i, const struct hsm_client_key *admin, const char *svc,
		   const char *key, struct hsm_rpc_reply *r)
{
	json_t *params = json_pack("{s:s, s:s}", "service", svc, "key", key);
	struct hsm_rpc_reply sr;
	int rc;

	memset(&sr, 0, sizeof(sr));
	rl->touched[i] = 1;
	rc = hsm_rpc_call_module(rl->home, rl->timeout, &rl->fleet->modules[i], "sshadmin", admin,
				 "set_key", params, &sr);
	json_decref(params);
	if (rc) {
		hsm_rpc_reply_fail(r, sr.exit, sr.code, "set_key %s: %s", svc, sr.message);
		hsm_rpc_reply_clear(&sr);
		return rc;
	}
	hsm_rpc_reply_clear(&sr);
	/* Test hook: the host dies right after the HSM took a key. */
	if (rl->crash_after && atomic_fetch_add(&set_key_calls, 1) + 1 == rl->crash_after)
		raise(SIGKILL);
	return 0;
}

static void roll_one(size_t i, void *arg)
{
	struct roll *rl = arg;
	const struct hsm_module *m = &rl->fleet->modules[i];
	struct hsm_rpc_reply *r = &rl->replies[i];
	char *const *want = rl->back ? rl->curpub : rl->nextpub;
	const struct hsm_client_key *try[2] = { rl->cur[HSM_SVC_SSHADMIN],
						rl->next[HSM_SVC_SSHADMIN] };
	const struct hsm_client_key *admin = NULL, *final;
	json_t *keys, *remote, *changed = json_array(), *kept = json_array();
	const char *have;

	if (rl->back) { /* the key the HSM most likely has first */
		try[0] = rl->next[HSM_SVC_SSHADMIN];
		try[1] = rl->cur[HSM_SVC_SSHADMIN];
	}
	if (login(rl, m, try, 2, &admin, r) != 0) {
		if (strcmp(r->code, "not_enrolled") == 0) {
			hsm_rpc_reply_clear(r);
			r->result =
			    json_pack("{s:b, s:[], s:[]}", "skipped", 1, "changed", "kept_remote");
		} else if (strcmp(r->code, "auth") == 0) {
			hsm_rpc_reply_fail(r, HSM_EXIT_AUTH, "auth",
					   "the sshadmin service accepts neither this host's "
					   "current nor its new sshadmin key: %s",
					   r->message);
		}
		goto out;
	}
	keys = json_incref(json_object_get(r->result, "keys"));
	remote = json_incref(json_object_get(r->result, "remote"));
	hsm_rpc_reply_clear(r);
	/* Every other service first, sshadmin last: until its own key changes,
	 * the login above keeps working whatever else happens. */
	for (int s = HSM_SVC_COUNT - 1; s >= 0; s--) {
		const char *svc = hsm_service_name(s);

		if (!(rl->pending & (1u << s)) || !want[s] ||
		    !(have = json_string_value(json_object_get(keys, svc))))
			continue;
		if (in_array(remote, svc)) {
			json_array_append_new(kept, json_string(svc));
			continue;
		}
		if (hsm_ssh_pubkey_cmp(have, want[s]) == 0)
			continue;
		if (set_key(rl, i, admin, svc, want[s], r) != 0)
			break;
		json_array_append_new(changed, json_string(svc));
	}
	json_decref(keys);
	if (r->exit) {
		json_decref(remote);
		goto out;
	}
	/* Check from the key this host will use that every key is in place. */
	final = (rl->pending & (1u << HSM_SVC_SSHADMIN))
		    ? (rl->back ? rl->cur[HSM_SVC_SSHADMIN] : rl->next[HSM_SVC_SSHADMIN])
		    : admin;
	if (!final)
		final = admin;
	if (login(rl, m, &final, 1, &admin, r) != 0) {
		json_decref(remote);
		hsm_rpc_reply_fail(r, r->exit, r->code, "after the change: %s", r->message);
		goto out;
	}
	keys = json_object_get(r->result, "keys");
	for (int s = 0; s < HSM_SVC_COUNT; s++) {
		const char *svc = hsm_service_name(s);

		have = json_string_value(json_object_get(keys, svc));
		if ((rl->pending & (1u << s)) && want[s] && have && !in_array(remote, svc) &&
		    hsm_ssh_pubkey_cmp(have, want[s]) != 0) {
			hsm_rpc_reply_fail(r, HSM_EXIT_FAILED, "failed",
					   "after the change the %s key is not the new one", svc);
			break;
		}
	}
	json_decref(remote);
	if (!r->exit) {
		hsm_rpc_reply_clear(r);
		r->result = json_pack("{s:b, s:O, s:O}", "skipped", 0, "changed", changed,
				      "kept_remote", kept);
	}
out:
	json_decref(changed);
	json_decref(kept);
}

/* Step 1, or the keys of a pending roll. */
static int make_new_keys(struct hsm_ctx *ctx, const char *home, unsigned mask)
{
	char tmp[PATH_MAX], dst[PATH_MAX], path[PATH_MAX], keysdir[PATH_MAX], why[PATH_MAX + 256];

	if (dir_path(home, "roll.tmp", NULL, tmp, sizeof(tmp)) < 0 ||
	    dir_path(home, "roll", NULL, dst, sizeof(dst)) < 0 ||
	    (size_t)snprintf(keysdir, sizeof(keysdir), "%s/keys", home) >= sizeof(keysdir))
		return hsm_error(ctx, HSM_EXIT_FAILED, "new keys", "HSMADMIN_HOME path too long");
	if (remove_dir(tmp, why, sizeof(why)) != 0 || hsm_mkdir_p(tmp, 0700, why, sizeof(why)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "new keys", "%s", why);
	for (int s = 0; s < HSM_SVC_COUNT; s++) {
		struct hsm_client_key *k;
		int rc;

		if (!(mask & (1u << s)))
			continue;
		dir_path(home, "roll.tmp", hsm_service_name(s), path, sizeof(path));
		if (!(k = hsm_client_key_generate(why, sizeof(why))))
			return hsm_error(ctx, HSM_EXIT_FAILED, "new keys", "%s", why);
		rc = hsm_client_key_save(k, home, path, hsm_service_name(s), 0, why, sizeof(why));
		hsm_client_key_free(k);
		if (rc != 0) {
			remove_dir(tmp, NULL, 0);
			return hsm_error(ctx, HSM_EXIT_FAILED, "new keys", "%s", why);
		}
	}
	/* Each key file is on disk (hsm_client_key_save); the directory
	 * takes the name roll/ whole, then that name is on disk. */
	if (hsm_fsync_dir(tmp, why, sizeof(why)) != 0 ||
	    (rename(tmp, dst) != 0 &&
	     hsm_set_err(why, sizeof(why), "%s: %s", dst, strerror(errno))) ||
	    hsm_fsync_dir(keysdir, why, sizeof(why)) != 0) {
		remove_dir(tmp, NULL, 0);
		return hsm_error(ctx, HSM_EXIT_FAILED, "new keys", "%s", why);
	}
	return 0;
}

static int load_keys(struct hsm_ctx *ctx, struct roll *rl)
{
	char path[PATH_MAX], why[PATH_MAX + 256];

	for (int s = 0; s < HSM_SVC_COUNT; s++) {
		const char *svc = hsm_service_name(s);

		dir_path(rl->home, "roll", svc, path, sizeof(path));
		if (access(path, F_OK) == 0) {
			rl->pending |= 1u << s;
			if (!(rl->next[s] =
				  hsm_client_key_load_as(rl->home, path, svc, why, sizeof(why))) ||
			    !(rl->nextpub[s] = hsm_client_key_public(rl->next[s])))
				return hsm_error(ctx, HSM_EXIT_FAILED, "new keys", "%s", why);
		}
		hsm_client_key_path(rl->home, svc, path, sizeof(path));
		if (access(path, F_OK) != 0)
			continue;
		/* The current key is only needed to log in (sshadmin) or to put
		 * an HSM back; one that does not open is reported, not fatal. */
		if (!(rl->cur[s] = hsm_client_key_load_service(rl->home, svc, why, sizeof(why))) ||
		    !(rl->curpub[s] = hsm_client_key_public(rl->cur[s])))
			hsm_warn(ctx, "current %s key not usable: %s", svc, why);
	}
	return 0;
}

/* Step 3: the new keys become the keys in use, sshadmin last. */
static int switch_host(struct hsm_ctx *ctx, struct roll *rl)
{
	char from[PATH_MAX], to[PATH_MAX], dir[PATH_MAX], why[PATH_MAX + 256];

	snprintf(dir, sizeof(dir), "%s/keys/client", rl->home);
	if (hsm_mkdir_p(dir, 0700, why, sizeof(why)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "switch", "%s", why);
	for (int s = HSM_SVC_COUNT - 1; s >= 0; s--) {
		if (!(rl->pending & (1u << s)))
			continue;
		dir_path(rl->home, "roll", hsm_service_name(s), from, sizeof(from));
		hsm_client_key_path(rl->home, hsm_service_name(s), to, sizeof(to));
		if (rename(from, to) != 0)
			return hsm_error(ctx, HSM_EXIT_FAILED, "switch",
					 "%s: %s (run 'hsmadmin keys roll' again)", to,
					 strerror(errno));
	}
	if (hsm_fsync_dir(dir, why, sizeof(why)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "switch", "%s", why);
	dir_path(rl->home, "roll", NULL, dir, sizeof(dir));
	if (remove_dir(dir, why, sizeof(why)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "switch", "%s", why);
	return 0;
}

static void print_rolled(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *res,
			 void *arg)
{
	json_t *changed = json_object_get(res, "changed"),
	       *kept = json_object_get(res, "kept_remote"), *v;
	size_t i;

	if (json_is_true(json_object_get(res, "skipped"))) {
		hsm_printf(ctx, "%s: not enrolled from this host: skipped\n", m->esn);
		return;
	}
	if (!json_array_size(changed))
		hsm_printf(ctx, "%s: already has the new keys", m->esn);
	else
		hsm_printf(ctx, "%s: new client keys for", m->esn);
	json_array_foreach(changed, i, v)
	    hsm_printf(ctx, "%s %s", i ? "," : "", json_string_value(v));
	json_array_foreach(kept, i, v)
	    hsm_printf(ctx, "%s%s", i ? ", " : "; kept the remote key of ", json_string_value(v));
	hsm_printf(ctx, "\n");
}

static void roll_free(struct roll *rl)
{
	for (int s = 0; s < HSM_SVC_COUNT; s++) {
		hsm_client_key_free(rl->cur[s]);
		hsm_client_key_free(rl->next[s]);
		free(rl->curpub[s]);
		free(rl->nextpub[s]);
	}
	if (rl->replies)
		for (size_t i = 0; i < rl->fleet->count; i++)
			hsm_rpc_reply_clear(&rl->replies[i]);
	free(rl->replies);
	free(rl->touched);
}

/* After a failure: put the changed HSMs back on the current keys and
 * forget the new ones.  0 when that worked everywhere. */
static int roll_back(struct hsm_ctx *ctx, struct roll *rl)
{
	struct hsm_rpc_reply *back;
	size_t n = rl->fleet->count;
	char dir[PATH_MAX], why[PATH_MAX + 256];
	int ok = 1;

	for (int s = 0; s < HSM_SVC_COUNT; s++)
		if ((rl->pending & (1u << s)) && !rl->curpub[s])
			return -1; /* nothing to go back to (restore) */
	if (!(back = calloc(n, sizeof(*back))))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!rl->touched[i])
			continue;
		rl->back = 1;
		{
			struct hsm_rpc_reply *fwd = rl->replies;
			rl->replies = back;
			roll_one(i, rl);
			rl->replies = fwd;
		}
		if (back[i].exit) {
			hsm_warn(ctx, "%s: cannot put the current keys back: %s",
				 rl->fleet->modules[i].esn, back[i].message);
			ok = 0;
		}
		hsm_rpc_reply_clear(&back[i]);
	}
	free(back);
	rl->back = 0;
	if (!ok)
		return -1;
	dir_path(rl->home, "roll", NULL, dir, sizeof(dir));
	if (remove_dir(dir, why, sizeof(why)) != 0) {
		hsm_warn(ctx, "%s", why);
		return -1;
	}
	return 0;
}

/* One roll (or restore) at a time per home: the lock dies with us. */
static int roll_lock(struct hsm_ctx *ctx, const char *home)
{
	char dir[PATH_MAX], path[PATH_MAX], why[PATH_MAX + 128];
	int fd;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/keys", home) >= sizeof(dir) ||
	    (size_t)snprintf(path, sizeof(path), "%s/roll.lock", dir) >= sizeof(path))
		return hsm_error(ctx, HSM_EXIT_FAILED, "roll", "HSMADMIN_HOME path too long");
	if (hsm_mkdir_p(dir, 0700, why, sizeof(why)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "roll", "%s", why);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "roll", "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return hsm_error(ctx, HSM_EXIT_FAILED, "roll",
				 "another keys roll or restore is running "
				 "for %s",
				 home);
	}
	return 0; /* fd stays open (and locked) until the process ends */
}

int keys_roll_services(struct hsm_ctx *ctx, struct hsm_fleet *fleet, unsigned mask)
{
	struct roll rl = { .home = hsm_home(ctx), .timeout = hsm_timeout(ctx), .fleet = fleet };
	const char *hook = secure_getenv("HSMADMIN_KEYS_TEST_CRASH_AFTER");
	int resumed, rc, failed = 0;

	if ((rc = roll_lock(ctx, rl.home)))
		return rc;
	resumed = keys_roll_pending(rl.home);
	if (hook && *hook)
		rl.crash_after = strtol(hook, NULL, 10);
	if (resumed)
		hsm_warn(ctx, "finishing an interrupted roll (%s/keys/roll) with its keys",
			 rl.home);
	else if ((rc = make_new_keys(ctx, rl.home, mask)))
		return rc;
	if ((rc = load_keys(ctx, &rl)) ||
	    !(rl.replies = calloc(fleet->count ? fleet->count : 1, sizeof(*rl.replies))) ||
	    !(rl.touched = calloc(fleet->count ? fleet->count : 1, sizeof(*rl.touched)))) {
		roll_free(&rl);
		return rc ? rc : hsm_error(ctx, HSM_EXIT_FAILED, "roll", "out of memory");
	}
	/* Each HSM reported as it is done: a silent one holds back none of
	 * the others. */
	hsm_parallel_report(ctx, fleet->count, roll_one, &rl, hsm_report_done,
			    &(struct hsm_report_run){
				.fleet = fleet, .replies = rl.replies, .text = print_rolled });
	for (size_t i = 0; i < fleet->count; i++)
		failed |= rl.replies[i].exit != 0;
	rc = hsm_report_json(ctx, fleet, rl.replies);
	json_object_set_new(hsm_json(ctx), "resumed", json_boolean(resumed));
	if (!failed) {
		int src = switch_host(ctx, &rl);
		json_object_set_new(hsm_json(ctx), "switched", json_boolean(src == 0));
		rc = hsm_exit_worst(rc, src);
		if (!src)
			hsm_printf(ctx, "This host now uses the new client keys.\n");
	} else {
		json_object_set_new(hsm_json(ctx), "switched", json_false());
		if (roll_back(ctx, &rl) == 0) {
			json_object_set_new(hsm_json(ctx), "pending", json_false());
			hsm_error(ctx, rc, "roll",
				  "not done: every HSM keeps this host's current keys");
		} else {
			json_object_set_new(hsm_json(ctx), "pending", json_true());
			hsm_error(ctx, rc, "roll",
				  "interrupted: the new keys are kept in %s/keys/roll and every "
				  "HSM accepts the current or the new sshadmin key; run 'hsmadmin "
				  "keys roll' "
				  "again to finish",
				  rl.home);
		}
	}
	roll_free(&rl);
	return rc;
}

int keys_roll(struct hsm_ctx *ctx)
{
	struct hsm_fleet fleet;
	int rc;

	/* Every HSM of a host shares its client keys (guide 4.7.9): rolling
	 * some would lock this host out of the others. */
	if (hsm_esn_count(ctx))
		return hsm_error(
		    ctx, HSM_EXIT_USAGE, "--esn",
		    "keys roll changes the keys of every HSM this host knows; it takes no --esn");
	if ((rc = hsm_fleet_open(ctx, &fleet)))
		return rc;
	rc = keys_roll_services(ctx, &fleet, KEYS_ALL_SERVICES);
	hsm_fleet_close(&fleet);
	return rc;
}
