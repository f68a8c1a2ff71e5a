/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/vcmadmin - the service provider's VCM commands (guide 3.4.1):
 * `vcmadmin create|start|stop|list|show|delete|stats|properties set|
 * properties list`.  Every rule is the device's (the orchestrator service);
 * these commands read files, send one call and print the answer.
 *
 * Commands that name a VCM by UUID go to every HSM addressed (--esn, or
 * all known): UUIDs are unique, so only the HSM that holds the VCM acts and
 * the others answer "no VCM".  create needs exactly one HSM.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include <hsmadmin/netaddr.h>
#include "request.h"
#include "sign.h"
#include "transport-report.h"

#define DEVICE HSM_CMDF_DEVICE
#define ROOT HSM_CMDF_NEEDS_ROOT
#define INVASIVE HSM_CMDF_INVASIVE

static const char *const properties[] = {
	"autostart", "restrict_startup", "serial_cardreader", "features", "name", "k_tenant_req",
	NULL
};
static const char *const property_help[] = {
	"start automatically after a reboot of the HSM (true/false; not with restrict_startup)",
	"start only with a start request signed by the tenant (true/false; not with autostart)",
	"access to the HSM's serial card reader (true/false; one VCM at a time)",
	"VCM features: a hex word or names joined by '|' (a subset of the platform's)",
	"friendly name shown in listings",
	("the tenant's request-signing key: an \"ssh-ed25519 AAAA...\" line or a public key file "
	 "(needs a request signed with the current key)"),
};

/* ---- reading a request file ------------------------------------------- */

/* The envelope of a request file, checked for form (not trust: that is
 * the device's job) so that a broken file is a usage error here. */
static int request_envelope(struct hsm_ctx *ctx, const char *path, json_t **out)
{
	struct hsm_request *req = NULL;
	char err[512];

	if (hsm_request_load_file(path, &req, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, "--request", "%s", err);
	*out = json_incref(req->envelope);
	hsm_request_free(req);
	return 0;
}

/* ---- calls ------------------------------------------------------------ */

/* One call on every HSM addressed; the replies of HSMs that do not hold
 * the VCM are dropped.  Returns the exit code; *res the holder's result. */
static int call_vcm(struct hsm_ctx *ctx, const char *method, json_t *params, const char *what,
		    json_t **res, const char **esn)
{
	struct hsm_fleet fleet;
	struct hsm_rpc_reply *r;
	const char *uuid = json_string_value(json_object_get(params, "uuid"));
	int rc, found = -1, unreachable = -1;
	size_t i;

	*res = NULL;
	rc = hsm_fleet_open(ctx, &fleet);
	if (rc)
		return rc;
	r = calloc(fleet.count, sizeof(*r));
	if (!r) {
		hsm_fleet_close(&fleet);
		return hsm_error(ctx, HSM_EXIT_FAILED, what, "out of memory");
	}
	hsm_rpc_fanout(ctx, &fleet, "orchestrator", method, params, r);
	/* The holder answers (success or its refusal); the others say "no
	 * VCM".  With no holder, an HSM that did not answer may be it. */
	for (i = 0; i < fleet.count; i++) {
		int absent =
		    r[i].exit == HSM_EXIT_FAILED && strncmp(r[i].message, "no VCM ", 7) == 0;
		if (!absent && r[i].exit != HSM_EXIT_UNREACHABLE && found < 0)
			found = (int)i;
		if (r[i].exit == HSM_EXIT_UNREACHABLE)
			unreachable = (int)i;
	}
	if (found < 0 && unreachable >= 0)
		found = unreachable;
	if (found < 0) {
		rc = hsm_error(ctx, HSM_EXIT_FAILED, what, "orchestrator %s: no VCM %s on %s",
			       method, uuid ? uuid : "",
			       fleet.count == 1 ? fleet.modules[0].esn : "any HSM addressed");
	} else if (r[found].exit != 0) {
		rc = hsm_error(ctx, r[found].exit, what, "orchestrator %s: %s", method,
			       r[found].message);
	} else {
		*res = json_incref(r[found].result);
		if (esn)
			*esn = strdup(fleet.modules[found].esn);
		rc = fleet.config_exit;
	}
	for (i = 0; i < fleet.count; i++)
		hsm_rpc_reply_clear(&r[i]);
	free(r);
	hsm_fleet_close(&fleet);
	return rc;
}

static const char *yesno(const json_t *v)
{
	return json_is_true(v) ? "true" : "false";
}

static void print_show(struct hsm_ctx *ctx, const char *esn, const json_t *v)
{
	const char *ktr = json_string_value(json_object_get(v, "k_tenant_req"));
	char *fp = NULL, tbuf[64];
	EVP_PKEY *k = ktr ? hsm_key_from_openssh(ktr, NULL, 0) : NULL;

	if (k)
		fp = hsm_key_fingerprint(k);
	EVP_PKEY_free(k);
	hsm_printf(ctx, "UUID              : %s\n", json_string_value(json_object_get(v, "uuid")));
	if (esn)
		hsm_printf(ctx, "ESN               : %s\n", esn);
	hsm_printf(ctx, "NAME              : %s\n", json_string_value(json_object_get(v, "name")));
	hsm_printf(
	    ctx, "STATE             : %s%s\n", json_string_value(json_object_get(v, "state")),
	    json_is_true(json_object_get(v, "disk_exceeded")) ? " (disk limit passed: delete only)"
							      : "");
	hsm_printf(ctx, "IP ADDRESS        : %s\n",
		   json_string_value(json_object_get(v, "address")));
	hsm_printf(ctx, "FEATURES          : %s\n",
		   json_string_value(json_object_get(v, "features_names")));
	hsm_printf(ctx, "AUTOSTART         : %s\n", yesno(json_object_get(v, "autostart")));
	hsm_printf(ctx, "RESTRICT_STARTUP  : %s\n", yesno(json_object_get(v, "restrict_startup")));
	hsm_printf(ctx, "SERIAL_CARDREADER : %s\n", yesno(json_object_get(v, "serial_cardreader")));
	if (json_is_string(json_object_get(v, "ncoreapi")))
		hsm_printf(ctx, "NCOREAPI          : %s\n",
			   json_string_value(json_object_get(v, "ncoreapi")));
	if (fp)
		hsm_printf(ctx, "K_TENANT_REQ      : %s\n", fp);
	if (json_is_integer(json_object_get(v, "created")))
		hsm_printf(ctx, "CREATED           : %s\n",
			   hsm_format_time(json_integer_value(json_object_get(v, "created")), tbuf,
					   sizeof(tbuf)));
	free(fp);
}

static void json_result(struct hsm_ctx *ctx, const json_t *res, const char *esn)
{
	json_t *doc = hsm_json(ctx);

	json_object_update(doc, (json_t *)res);
	if (esn)
		json_object_set_new(doc, "esn", json_string(esn));
}

/* ---- create ----------------------------------------------------------- */

static int write_config(struct hsm_ctx *ctx, const json_t *config, const char *uuid,
			const char *dir, char *path, size_t pathlen)
{
	char err[512];

	snprintf(path, pathlen, "%s/vcm-%s.json", dir ? dir : ".", uuid);
	if (dir && hsm_mkdir_p(dir, 0755, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "--outdir", "%s", err);
	if (hsm_write_json_atomic(path, config, 0644, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_FAILED, "configuration file", "%s", err);
	return 0;
}

/* The directory for a configuration file is checked (and made) before the
 * device is asked: a VCM whose configuration file cannot be written would
 * be created for nothing, and its create request cannot be used again.
 * what: the option; outcome: what did not happen. */
static int check_outdir(struct hsm_ctx *ctx, const char *what, const char *outcome)
{
	const char *dir = hsm_opt_str(ctx, what + 2);
	char err[512];
	struct stat sb;

	if (!dir)
		dir = ".";
	if (stat(dir, &sb) != 0 && errno == ENOENT && hsm_mkdir_p(dir, 0755, err, sizeof(err)) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, what, "%s; %s", err, outcome);
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return hsm_error(ctx, HSM_EXIT_USAGE, what, "%s is not a directory; %s", dir,
				 outcome);
	if (access(dir, W_OK | X_OK) != 0)
		return hsm_error(ctx, HSM_EXIT_USAGE, what, "%s is not writable (%s); %s", dir,
				 strerror(errno), outcome);
	return 0;
}

static int cmd_create(struct hsm_ctx *ctx)
{
	json_t *env = NULL, *params, *res = NULL;
	struct hsm_fleet fleet;
	struct hsm_rpc_reply r;
	const char *feat = hsm_opt_str(ctx, "features");
	char err[256], path[4200];
	uint32_t word;
	int rc;

	if ((rc = request_envelope(ctx, hsm_opt_str(ctx, "request"), &env)))
		return rc;
	if ((rc = check_outdir(ctx, "--outdir", "no VCM was created"))) {
		json_decref(env);
		return rc;
	}
	params = json_pack("{s:o, s:s, s:b, s:b}", "request", env, "name", hsm_opt_str(ctx, "NAME"),
			   "autostart", hsm_opt_given(ctx, "autostart"), "serial_cardreader",
			   hsm_opt_given(ctx, "serial-cardreader"));
	if (hsm_opt_given(ctx, "ip-address")) {
		struct hsm_ipaddr ip;
		if (hsm_ip_parse(hsm_opt_str(ctx, "ip-address"), 0, &ip, err, sizeof(err)) != 0) {
			json_decref(params);
			return hsm_error(ctx, HSM_EXIT_USAGE, "--ip-address", "%s", err);
		}
		json_object_set_new(params, "ip_address",
				    json_string(hsm_opt_str(ctx, "ip-address")));
	}
	if (feat) {
		if (hsm_features_parse(feat, &word, err, sizeof(err)) != 0) {
			json_decref(params);
			return hsm_error(ctx, HSM_EXIT_USAGE, "--features", "%s", err);
		}
		json_object_set_new(params, "features", json_integer(word));
	}
	rc = hsm_fleet_open(ctx, &fleet);
	if (rc) {
		json_decref(params);
		return rc;
	}
	if (fleet.count != 1) {
		size_t n = fleet.count;
		hsm_fleet_close(&fleet);
		json_decref(params);
		if (hsm_esn_count(ctx))
			return hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
					 "names %zu HSMs: a VCM is created "
					 "on exactly one",
					 n);
		return hsm_error(ctx, HSM_EXIT_USAGE, "--esn",
				 "needed: this host knows %zu HSMs; "
				 "name the one to create the VCM on",
				 n);
	}
	memset(&r, 0, sizeof(r));
	rc = hsm_rpc_call(ctx, &fleet.modules[0], "orchestrator", "create", params, &r);
	json_decref(params);
	if (rc != 0) {
		rc = hsm_error(ctx, r.exit, "Failed to create VCM", "orchestrator create: %s",
			       r.message);
		goto out;
	}
	res = json_incref(r.result);
	{
		const char *uuid = json_string_value(json_object_get(res, "uuid"));
		json_t *config = json_object_get(res, "config");
		if (!uuid || !json_is_object(config)) {
			rc = hsm_error(ctx, HSM_EXIT_FAILED, "create",
				       "malformed reply from the HSM");
			goto out;
		}
		if ((rc = write_config(ctx, config, uuid, hsm_opt_str(ctx, "outdir"), path,
				       sizeof(path))))
			goto out;
		hsm_printf(ctx, "Created VCM %s\n", uuid);
		hsm_printf(ctx, "IP ADDRESS        : %s\n",
			   json_string_value(json_object_get(res, "address")));
		print_show(ctx, fleet.modules[0].esn, res);
		hsm_printf(ctx, "Configuration file for the tenant: %s\n", path);
		json_object_del(res, "config");
		json_result(ctx, res, fleet.modules[0].esn);
		json_object_set_new(hsm_json(ctx), "config_file", json_string(path));
	}
out:
	json_decref(res);
	hsm_rpc_reply_clear(&r);
	hsm_fleet_close(&fleet);
	return rc;
}

/* ---- start, stop, delete, show ---------------------------------------- */

static int simple(struct hsm_ctx *ctx, const char *method, json_t *params, const char *what,
		  const char *done)
{
	json_t *res = NULL;
	const char *esn = NULL;
	int rc = call_vcm(ctx, method, params, what, &res, &esn);

	json_decref(params);
	if (rc == 0 && res) {
		if (done)
			hsm_printf(ctx, "VCM %s %s\n",
				   json_string_value(json_object_get(res, "uuid")), done);
		else
			print_show(ctx, esn, res);
		json_result(ctx, res, esn);
	}
	json_decref(res);
	free((char *)esn);
	return rc;
}

/* {"uuid": the UUID operand in lower case}, or NULL after a usage error. */
static json_t *uuid_params(struct hsm_ctx *ctx, int *rc)
{
	char uuid[HSM_UUID_LEN + 1];

	if ((*rc = hsm_opt_uuid(ctx, "UUID", uuid)))
		return NULL;
	return json_pack("{s:s}", "uuid", uuid);
}

static int cmd_start(struct hsm_ctx *ctx)
{
	json_t *params, *env;
	int rc;

	if (!(params = uuid_params(ctx, &rc)))
		return rc;

	if (hsm_opt_given(ctx, "request")) {
		if ((rc = request_envelope(ctx, hsm_opt_str(ctx, "request"), &env))) {
			json_decref(params);
			return rc;
		}
		json_object_set_new(params, "request", env);
	}
	return simple(ctx, "start", params, "Failed to start VCM", "started");
}

static int cmd_stop(struct hsm_ctx *ctx)
{
	int rc;
	json_t *params = uuid_params(ctx, &rc);

	if (!params)
		return rc;
	json_object_set_new(params, "force", json_boolean(hsm_opt_given(ctx, "force")));
	return simple(ctx, "stop", params, "Failed to stop VCM", "stopped");
}

static int cmd_delete(struct hsm_ctx *ctx)
{
	int rc;
	json_t *params = uuid_params(ctx, &rc);

	if (!params)
		return rc;
	json_object_set_new(params, "force", json_boolean(hsm_opt_given(ctx, "force")));
	return simple(ctx, "delete", params, "Failed to delete VCM", "deleted");
}

static int cmd_show(struct hsm_ctx *ctx)
{
	int rc;
	json_t *params = uuid_params(ctx, &rc), *res = NULL, *config;
	const char *esn = NULL, *dir = hsm_opt_str(ctx, "config");
	char path[4200];

	if (!params)
		return rc;
	if (!hsm_opt_given(ctx, "config"))
		return simple(ctx, "show", params, "Failed to show VCM", NULL);
	/* --config DIR: the tenant configuration file issued again. */
	if ((rc = check_outdir(ctx, "--config", "no file was written"))) {
		json_decref(params);
		return rc;
	}
	json_object_set_new(params, "config", json_true());
	rc = call_vcm(ctx, "show", params, "Failed to show VCM", &res, &esn);
	json_decref(params);
	if (rc == 0 && !json_is_object(config = json_object_get(res, "config")))
		rc = hsm_error(ctx, HSM_EXIT_FAILED, "show",
			       "the HSM sent no configuration file (is its hsmd older than "
			       "service ABI 1.6?)");
	if (rc == 0 &&
	    !(rc = write_config(ctx, config, json_string_value(json_object_get(res, "uuid")), dir,
				path, sizeof(path)))) {
		json_object_del(res, "config");
		print_show(ctx, esn, res);
		hsm_printf(ctx, "Configuration file for the tenant: %s\n", path);
		json_result(ctx, res, esn);
		json_object_set_new(hsm_json(ctx), "config_file", json_string(path));
	}
	json_decref(res);
	free((char *)esn);
	return rc;
}

/* ---- list and stats: every HSM ----------------------------------------- */

typedef void (*fan_text_fn)(struct hsm_ctx *, const char *, const json_t *);

static void fan_text(struct hsm_ctx *ctx, const struct hsm_module *m, const json_t *result,
		     void *arg)
{
	fan_text_fn text = *(fan_text_fn *)arg;

	text(ctx, m->esn, result);
}

static int fan(struct hsm_ctx *ctx, const char *method, json_t *params, const char *what,
	       fan_text_fn text, const char *member)
{
	struct hsm_fleet fleet;
	struct hsm_rpc_reply *r;
	struct hsm_report_run run;
	json_t *all = json_array(), *errors = json_array();
	int rc, worst = 0;
	size_t i;

	rc = hsm_fleet_open(ctx, &fleet);
	if (rc) {
		json_decref(all);
		json_decref(errors);
		return rc;
	}
	r = calloc(fleet.count ? fleet.count : 1, sizeof(*r));
	if (!r) {
		hsm_fleet_close(&fleet);
		json_decref(all);
		json_decref(errors);
		return hsm_error(ctx, HSM_EXIT_FAILED, what, "out of memory");
	}
	/* Each HSM's table or error as soon as it answers, by the core's
	 * printer of per-HSM results (the one of hsmadmin status). */
	run = (struct hsm_report_run){
		.fleet = &fleet, .replies = r, .text = fan_text, .arg = &text
	};
	hsm_rpc_fanout_each(ctx, &fleet, "orchestrator", method, params, r, hsm_report_done, &run);
	/* The JSON document lists the HSMs in ESN order, whatever the order
	 * of their answers. */
	for (i = 0; i < fleet.count; i++) {
		const char *esn = fleet.modules[i].esn;
		json_t *v;
		size_t k;
		if (r[i].exit != 0) {
			worst = hsm_exit_worst(worst, r[i].exit);
			json_array_append_new(
			    errors, json_pack("{s:s, s:i, s:s, s:s}", "esn", esn, "exit", r[i].exit,
					      "code", r[i].code, "message", r[i].message));
			continue;
		}
		json_array_foreach(json_object_get(r[i].result, member), k, v)
		{
			json_t *c = json_copy(v);
			json_object_set_new(c, "esn", json_string(esn));
			json_array_append_new(all, c);
		}
		if (!strcmp(method, "stats")) {
			json_t *h = json_object_get(hsm_json(ctx), "hsms");
			json_t *meta = json_copy(r[i].result);
			if (!h) {
				h = json_array();
				json_object_set_new(hsm_json(ctx), "hsms", h);
			}
			json_object_del(meta, "vcms");
			json_object_set_new(meta, "esn", json_string(esn));
			json_array_append_new(h, meta);
		}
	}
	json_object_set_new(hsm_json(ctx), member, all);
	if (json_array_size(errors))
		json_object_set_new(hsm_json(ctx), "errors", errors);
	else
		json_decref(errors);
	for (i = 0; i < fleet.count; i++)
		hsm_rpc_reply_clear(&r[i]);
	free(r);
	rc = hsm_exit_worst(worst, fleet.config_exit);
	hsm_fleet_close(&fleet);
	return rc;
}

static void list_text(struct hsm_ctx *ctx, const char *esn, const json_t *res)
{
	const json_t *vcms = json_object_get(res, "vcms"), *v;
	size_t i;

	hsm_printf(
	    ctx,
	    "HSM %s: %zu VCM%s listed, %lld active; the HSM allows %lld active and %lld created\n",
	    esn, json_array_size(vcms), json_array_size(vcms) == 1 ? "" : "s",
	    (long long)json_integer_value(json_object_get(res, "active")),
	    (long long)json_integer_value(json_object_get(res, "max_active_vcms")),
	    (long long)json_integer_value(json_object_get(res, "max_creatable_vcms")));
	if (!json_array_size(vcms))
		return;
	hsm_printf(ctx, "%-36s  %-8s  %-15s  %-11s  %s\n", "UUID", "STATE", "IP ADDRESS",
		   "NCOREAPI", "NAME");
	json_array_foreach(vcms, i, v) hsm_printf(
	    ctx, "%-36s  %-8s  %-15s  %-11s  %s\n", json_string_value(json_object_get(v, "uuid")),
	    json_string_value(json_object_get(v, "state")),
	    json_string_value(json_object_get(v, "address")),
	    json_is_string(json_object_get(v, "ncoreapi"))
		? json_string_value(json_object_get(v, "ncoreapi"))
		: "-",
	    json_string_value(json_object_get(v, "name")));
}

/* Remember the UUIDs just listed in $HSMADMIN_HOME/cache/vcms, one a line,
 * for shell completion (`hsmadmin completion values uuid`).  A cache: a
 * failure to write it changes nothing else. */
static void remember_uuids(struct hsm_ctx *ctx)
{
	const json_t *vcms = json_object_get(hsm_json(ctx), "vcms"), *v;
	char *dir = NULL, *path = NULL, err[256];
	size_t i, len = 0;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	json_array_foreach(vcms, i, v) if (json_is_string(json_object_get(v, "uuid")))
	    fprintf(f, "%s\n", json_string_value(json_object_get(v, "uuid")));
	fclose(f);
	if (asprintf(&dir, "%s/cache", hsm_home(ctx)) > 0 && asprintf(&path, "%s/vcms", dir) > 0 &&
	    hsm_mkdir_p(dir, 0700, err, sizeof(err)) == 0)
		hsm_write_file_atomic(path, text, len, 0600, err, sizeof(err));
	free(text);
	free(path);
	free(dir);
}

static int cmd_list(struct hsm_ctx *ctx)
{
	json_t *params = json_pack("{s:b}", "active", hsm_opt_given(ctx, "active"));
	int rc = fan(ctx, "list", params, "list", list_text, "vcms");

	json_decref(params);
	remember_uuids(ctx);
	return rc;
}

static void stats_text(struct hsm_ctx *ctx, const char *esn, const json_t *res)
{
	const json_t *vcms = json_object_get(res, "vcms"), *v;
	char tbuf[64];
	size_t i;

	if (json_is_integer(json_object_get(res, "polled")))
		hsm_printf(ctx, "HSM %s: polled %s (%lld s ago, every %lld s)\n", esn,
			   hsm_format_time(json_integer_value(json_object_get(res, "polled")), tbuf,
					   sizeof(tbuf)),
			   (long long)json_integer_value(json_object_get(res, "age")),
			   (long long)json_integer_value(json_object_get(res, "interval")));
	else
		hsm_printf(ctx, "HSM %s: not polled yet\n", esn);
	if (!json_array_size(vcms))
		return;
	hsm_printf(ctx, "%-36s  %-8s  %12s  %12s  %s\n", "UUID", "STATE", "Memory use", "Disk use",
		   "NAME");
	json_array_foreach(vcms, i, v)
	{
		char mem[32] = "-", disk[32] = "-";
		if (json_is_integer(json_object_get(v, "memory_kb")))
			snprintf(mem, sizeof(mem), "%lld kB",
				 (long long)json_integer_value(json_object_get(v, "memory_kb")));
		if (json_is_integer(json_object_get(v, "disk_kb")))
			snprintf(disk, sizeof(disk), "%lld kB",
				 (long long)json_integer_value(json_object_get(v, "disk_kb")));
		hsm_printf(ctx, "%-36s  %-8s  %12s  %12s  %s\n",
			   json_string_value(json_object_get(v, "uuid")),
			   json_string_value(json_object_get(v, "state")), mem, disk,
			   json_string_value(json_object_get(v, "name")));
	}
}

static int cmd_stats(struct hsm_ctx *ctx)
{
	json_t *params;
	char uuid[HSM_UUID_LEN + 1];
	int rc;

	if ((rc = hsm_opt_uuid(ctx, "uuid", uuid)))
		return rc;
	params = json_object();
	if (uuid[0])
		json_object_set_new(params, "uuid", json_string(uuid));
	rc = fan(ctx, "stats", params, "stats", stats_text, "vcms");
	json_decref(params);
	return rc;
}

/* ---- properties --------------------------------------------------------- */

/* k_tenant_req's VALUE may name a public key file (PEM or OpenSSH line)
 * instead of being the line itself: the device is sent the line.  *line
 * is NULL when VALUE is used as given. */
static int key_value_from_file(struct hsm_ctx *ctx, const char *property, const char *value,
			       char **line)
{
	char err[512];
	EVP_PKEY *k;

	*line = NULL;
	if (strcmp(property, "k_tenant_req") != 0 || strncmp(value, "ssh-", 4) == 0)
		return HSM_EXIT_OK;
	k = hsm_key_load_public(value, err, sizeof(err));
	if (!k)
		return hsm_error(ctx, HSM_EXIT_USAGE, "VALUE",
				 "k_tenant_req: neither an "
				 "\"ssh-ed25519 AAAA...\" line nor a public key file: %s",
				 err);
	*line = hsm_key_to_openssh(k);
	EVP_PKEY_free(k);
	if (!*line)
		return hsm_error(ctx, HSM_EXIT_USAGE, "VALUE",
				 "k_tenant_req: %s is not an Ed25519 key", value);
	return HSM_EXIT_OK;
}

static int cmd_properties_set(struct hsm_ctx *ctx)
{
	const char *property = hsm_opt_str(ctx, "PROPERTY");
	json_t *env, *params;
	char *line, uuid[HSM_UUID_LEN + 1];
	int rc;

	if ((rc = hsm_opt_uuid(ctx, "UUID", uuid)))
		return rc;
	if ((rc = key_value_from_file(ctx, property, hsm_opt_str(ctx, "VALUE"), &line)))
		return rc;
	if ((rc = request_envelope(ctx, hsm_opt_str(ctx, "request"), &env))) {
		free(line);
		return rc;
	}
	params = json_pack("{s:s, s:s, s:s, s:o}", "uuid", uuid, "property", property, "value",
			   line ? line : hsm_opt_str(ctx, "VALUE"), "request", env);
	free(line);
	return simple(ctx, "setproperties", params, "Failed to set VCM properties", NULL);
}

static int cmd_properties_list(struct hsm_ctx *ctx)
{
	json_t *a = json_array();

	for (size_t i = 0; properties[i]; i++) {
		hsm_printf(ctx, "%-18s %s\n", properties[i], property_help[i]);
		json_array_append_new(
		    a, json_pack("{s:s, s:s}", "name", properties[i], "help", property_help[i]));
	}
	json_object_set_new(hsm_json(ctx), "properties", a);
	return HSM_EXIT_OK;
}

/* ---- the command table ------------------------------------------------ */

#define UUID_ARG                                                                                   \
	{                                                                                          \
		.name = "UUID", .type = HSM_OPT_STRING,                                            \
		.flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED, .help = "the VCM's identifier"   \
	}

static const struct hsm_option create_opts[] = {
	{ .name = "request",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "FILE",
	  .help = "the tenant's signed create request" },
	{ .name = "ip-address",
	  .type = HSM_OPT_STRING,
	  .metavar = "IP",
	  .help = "the VCM's address (default: the lowest free one of the VCM subnet)" },
	{ .name = "features",
	  .type = HSM_OPT_STRING,
	  .metavar = "FEATURES",
	  .help = "VCM features, hex word or names joined by '|' (default: the platform's)" },
	{ .name = "autostart",
	  .type = HSM_OPT_FLAG,
	  .help = "start after every reboot of the HSM (the request must ask for it)" },
	{ .name = "serial-cardreader",
	  .type = HSM_OPT_FLAG,
	  .help = "give the VCM the serial card reader (the request must ask for it)" },
	{ .name = "outdir",
	  .type = HSM_OPT_STRING,
	  .metavar = "DIR",
	  .help = "where to write the tenant's configuration file [.]" },
	{ .name = "NAME",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the VCM's friendly name" },
	HSM_OPTION_END
};
static const struct hsm_option start_opts[] = {
	{ .name = "request",
	  .type = HSM_OPT_STRING,
	  .metavar = "FILE",
	  .help = "the tenant's signed start request (needed with restrict-startup)" },
	UUID_ARG,
	HSM_OPTION_END
};
static const struct hsm_option stop_opts[] = {
	{ .name = "force",
	  .type = HSM_OPT_FLAG,
	  .help = "stop even while the VCM's ncoreapi is operational" },
	UUID_ARG,
	HSM_OPTION_END
};
static const struct hsm_option delete_opts[] = {
	{ .name = "force",
	  .type = HSM_OPT_FLAG,
	  .help = "delete even with an unfinalized audit log (never a running VCM)" },
	UUID_ARG,
	HSM_OPTION_END
};
static const struct hsm_option show_opts[] = {
	UUID_ARG,
	{ .name = "config",
	  .type = HSM_OPT_STRING,
	  .metavar = "DIR",
	  .help = "write the tenant's configuration file (vcm-UUID.json) to DIR again" },
	HSM_OPTION_END
};
static const struct hsm_option list_opts[] = {
	{ .name = "active", .type = HSM_OPT_FLAG, .help = "only the VCMs that run" }, HSM_OPTION_END
};
static const struct hsm_option stats_opts[] = {
	{ .name = "uuid", .type = HSM_OPT_STRING, .metavar = "UUID", .help = "only this VCM" },
	HSM_OPTION_END
};
static const struct hsm_option propset_opts[] = {
	{ .name = "request",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REQUIRED,
	  .metavar = "FILE",
	  .help = "the tenant's signed setproperties request" },
	UUID_ARG,
	{ .name = "PROPERTY",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "the property (see vcmadmin properties list)" },
	{ .name = "VALUE",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .help = "its new value, exactly as in the request (k_tenant_req: the key line or a "
		  "public key file)" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "create",
	  .tool = "vcmadmin",
	  .summary = "Create a VCM from a tenant's request",
	  .description = "The HSM verifies the request's signature and validity, allocates the "
			 "address (or checks --ip-address), and returns the UUID; the tenant's "
			 "configuration file is written to --outdir as vcm-UUID.json.",
	  .options = create_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = cmd_create },
	{ .path = "start",
	  .tool = "vcmadmin",
	  .summary = "Start a VCM",
	  .options = start_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = cmd_start },
	{ .path = "stop",
	  .tool = "vcmadmin",
	  .summary = "Stop a VCM (its data is kept)",
	  .options = stop_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = cmd_stop },
	{ .path = "list",
	  .tool = "vcmadmin",
	  .summary = "List the VCMs of the HSMs",
	  .options = list_opts,
	  .flags = DEVICE,
	  .run = cmd_list },
	{ .path = "show",
	  .tool = "vcmadmin",
	  .summary = "Show the properties of a VCM",
	  .options = show_opts,
	  .flags = DEVICE,
	  .run = cmd_show },
	{ .path = "show uuid",
	  .tool = "vcmadmin",
	  .summary = "Show the properties of a VCM (show uuid UUID)",
	  .description = "The guide's other spelling of 'vcmadmin show UUID' (guide 3.4.1.5).",
	  .options = show_opts,
	  .flags = DEVICE | HSM_CMDF_ALIAS,
	  .run = cmd_show },
	{ .path = "delete",
	  .tool = "vcmadmin",
	  .summary = "Delete a stopped VCM and all its secrets",
	  .options = delete_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = cmd_delete },
	{ .path = "stats",
	  .tool = "vcmadmin",
	  .summary = "Show the memory and disk use of VCMs",
	  .options = stats_opts,
	  .flags = DEVICE,
	  .run = cmd_stats },
	{ .path = "properties set",
	  .tool = "vcmadmin",
	  .summary = "Set one property of a stopped VCM to the value of a tenant request",
	  .options = propset_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = cmd_properties_set },
	{ .path = "properties list",
	  .tool = "vcmadmin",
	  .summary = "List the properties that can be set",
	  .run = cmd_properties_list },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "vcmadmin",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
