/* SPDX-License-Identifier: Apache-2.0 */
/*
 * orchestrator - the VCM service of the platform (guide chapter 3): the
 * registry (device member "vcms") and every rule of creating, starting,
 * stopping, changing and deleting VCMs.  The processes and state
 * directories are hsmd's (vcm_* in hsmadmin/service.h); the rules are
 * here and in firmware/lib/vcmrules.c, which hsmd shares for autostart.
 *
 * Every method that changes the registry is one commit and one system log
 * entry.  A VCM that is started is committed as active only once its
 * process serves; a created VCM's state directory exists before the
 * registry names it, and hsmd removes directories the registry does not
 * name at start-up: a kill -9 at any point leaves no half VCM.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/features.h>
#include <hsmadmin/netaddr.h>
#include <hsmadmin/service.h>
#include <hsmadmin/fileio.h>
#include "sign.h"
#include "vcmrules.h"
#include "orchestrator.h"

/* ---- helpers ---------------------------------------------------------- */

static const json_t *registry(struct hsmd_call *call)
{
	return json_object_get(hsmd_device(call), "vcms");
}

/* Params of the methods that name one VCM: exactly these members. */
static int check_params(struct hsmd_call *call, const char *fmt_members)
{
	const json_t *p = hsmd_params(call), *v;
	const char *k;

	json_object_foreach((json_t *)p, k, v)
	{
		char want[32];
		snprintf(want, sizeof(want), " %s ", k);
		if (!strstr(fmt_members, want))
			return hsmd_error(call, HSMD_BAD_REQUEST, "params: unknown member '%.32s'",
					  k);
		if ((!strcmp(k, "force") || !strcmp(k, "active")) && !json_is_boolean(v))
			return hsmd_error(call, HSMD_BAD_REQUEST,
					  "params: %s must be true or false", k);
		if (!strcmp(k, "uuid") && !json_is_string(v))
			return hsmd_error(call, HSMD_BAD_REQUEST, "params: uuid must be a string");
	}
	return HSMD_OK;
}

static int param_uuid(struct hsmd_call *call, const char **uuid, const json_t **entry)
{
	*uuid = json_string_value(json_object_get(hsmd_params(call), "uuid"));
	if (!*uuid)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: uuid: a VCM UUID is required");
	if (!fw_uuid_valid(*uuid))
		return hsmd_error(call, HSMD_BAD_REQUEST,
				  "uuid: '%.40s' is not a lower-case UUID "
				  "like 4f9d05b8-95f4-41ab-8b0a-0c9c7ce14209",
				  *uuid);
	*entry = json_object_get(registry(call), *uuid);
	if (!*entry)
		return hsmd_error(call, HSMD_FAILED, "no VCM %s on this HSM", *uuid);
	return HSMD_OK;
}

static const char *state_of(const json_t *entry)
{
	const char *s = json_string_value(json_object_get(entry, "state"));

	return s ? s : "inactive";
}

/* The result view of one VCM; running (may be NULL) says what runs. */
static json_t *view(const char *uuid, const json_t *e, const json_t *running, int full)
{
	const json_t *r = json_object_get(running, uuid);
	uint32_t w = (uint32_t)json_integer_value(json_object_get(e, "features"));
	char names[512];
	json_t *v;

	hsm_features_format(w, names, sizeof(names));
	v = json_pack("{s:s, s:O, s:s, s:O, s:I, s:s, s:O, s:O, s:O, s:O, s:o}", "uuid", uuid,
		      "name", json_object_get(e, "name"), "state", state_of(e), "address",
		      json_object_get(e, "address"), "features", (json_int_t)w, "features_names",
		      names, "autostart", json_object_get(e, "autostart"), "restrict_startup",
		      json_object_get(e, "restrict_startup"), "serial_cardreader",
		      json_object_get(e, "serial_cardreader"), "disk_exceeded",
		      json_object_get(e, "disk_exceeded"), "ncoreapi",
		      r ? json_incref(json_object_get(r, "ncoreapi")) : json_null());
	if (full && v) {
		json_object_set(v, "k_tenant_req", json_object_get(e, "k_tenant_req"));
		json_object_set(v, "sshadmin_key", json_object_get(e, "sshadmin_key"));
		json_object_set(v, "created", json_object_get(e, "created"));
		json_object_set(v, "changed", json_object_get(e, "changed"));
		json_object_set_new(v, "pid",
				    r ? json_incref(json_object_get(r, "pid")) : json_null());
	}
	return v;
}

/* The time requests expire by: the highest device time the HSM has seen
 * (clock.high_water, kept by hsmd), so setting the clock back revives no
 * expired request. */
static int64_t expiry_now(struct hsmd_call *call)
{
	int64_t now = hsmd_now(call);
	json_int_t hw = json_integer_value(
	    json_object_get(json_object_get(hsmd_device(call), "clock"), "high_water"));

	return hw > now ? hw : now;
}

/* Commit a registry with one VCM replaced (entry, stolen; NULL: removed).
 * hsmd_vcm_put puts only that entry in the working document: the other
 * entries stay hsmd's, so the commit costs the same at any number of VCMs. */
static int commit_entry(struct hsmd_call *call, const char *uuid, json_t *entry, const char *event,
			json_t *detail)
{
	json_t *doc = hsmd_begin(call);

	/* Records of expired requests go with any change of the VCM. */
	if (entry)
		fw_vcm_nonces_prune(entry, expiry_now(call));
	if (!doc)
		json_decref(entry);
	if (!doc || hsmd_vcm_put(call, doc, uuid, entry) != 0) {
		json_decref(doc);
		json_decref(detail);
		return HSMD_FAILED;
	}
	if (json_is_object(detail))
		json_object_set_new(detail, "uuid", json_string(uuid));
	return hsmd_commit(call, doc, event, detail) == 0 ? HSMD_OK : HSMD_FAILED;
}

static int not_supported(struct hsmd_call *call)
{
	if (!hsmd_has_vcm_api(call))
		return hsmd_error(call, HSMD_FAILED,
				  "this hsmd has no VCM supervisor (service ABI 1.1 needed)");
	return HSMD_OK;
}

/* ---- create ----------------------------------------------------------- */

struct create_args {
	const json_t *request;
	const char *name, *ip;
	json_int_t features;
	int has_features, autostart, cardreader;
};

static int create_params(struct hsmd_call *call, struct create_args *a)
{
	char why[160];
	json_t *features = NULL;

	memset(a, 0, sizeof(*a));
	if (hsm_json_unpack(hsmd_params(call), JSON_STRICT, why, sizeof(why),
			    "{s:o, s?s, s?s, s?o, s?b, s?b}", "request", &a->request, "name",
			    &a->name, "ip_address", &a->ip, "features", &features, "autostart",
			    &a->autostart, "serial_cardreader", &a->cardreader) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", why);
	if (features && !json_is_null(features)) {
		if (!json_is_integer(features) || json_integer_value(features) < 0 ||
		    json_integer_value(features) > 0xffffffffLL)
			return hsmd_error(call, HSMD_BAD_REQUEST, "features: not a 32-bit word");
		a->features = json_integer_value(features);
		a->has_features = 1;
	}
	return HSMD_OK;
}

static int random_uuid(char out[37])
{
	unsigned char b[16];

	if (hsm_random(b, sizeof(b)) != 0)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

/* The index of the registry (vcmrules.h): hsmd's, kept commit by commit
 * (ABI 1.9), valid until the next commit; from an older hsmd, own, built
 * for this call (*built: free it).  NULL with an error set. */
static const struct fw_vcms_index *registry_index(struct hsmd_call *call, struct fw_vcms_index *own,
						  int *built)
{
	*built = 0;
	if (hsmd_has_vcm_index(call))
		return hsmd_vcm_index(call);
	*built = 1;
	if (fw_vcms_index_build(own, registry(call)) != 0) {
		hsmd_error(call, HSMD_FAILED, "out of memory");
		return NULL;
	}
	return own;
}

/* Whether a VCM of another HSM of this machine holds addr (hsmd ABI
 * 1.10: one look at that address): HSMD_OK when not, HSMD_REFUSED_STATE
 * when it does (*held set), or HSMD_FAILED with the error set. */
static int held_elsewhere(struct hsmd_call *call, const struct hsm_ipaddr *addr, int *held)
{
	char a[HSM_NETADDR_STRLEN];
	int rc = hsmd_vcm_address_taken(call, hsm_ip_format(addr, a, sizeof(a)));

	*held = rc == 1;
	return rc < 0 ? HSMD_FAILED : rc ? HSMD_REFUSED_STATE : HSMD_OK;
}

/* The lowest free address of the VCM subnet for a new VCM: the lowest that
 * neither this HSM's VCMs (the index) nor the addresses in pool->used hold,
 * asked of hsmd (ABI 1.10) against other HSMs' VCMs; one found held joins
 * pool->used (*used, *cap: its array) and the next is tried.  pool->used
 * starts as what hsmd knows other HSMs hold, so that a run of their
 * addresses is passed over in memory, not looked at again create by
 * create.  HSMD_OK, or a status with the error set. */
static int alloc_address(struct hsmd_call *call, const struct fw_vcms_index *idx,
			 struct hsm_addr_pool *pool, struct hsm_ipaddr **used, size_t *cap,
			 const char *subnet, struct hsm_ipaddr *got)
{
	char inner[256];
	int held = 0, rc;

	for (;;) {
		if (fw_vcms_index_alloc(idx, pool, got, inner, sizeof(inner)) != 0)
			return hsmd_error(call, HSMD_REFUSED_STATE,
					  "no free address in the VCM subnet %s: %s", subnet,
					  inner);
		if (!hsmd_has_vcm_address_taken(call))
			return HSMD_OK; /* an older hsmd: pool->used lists them all */
		if ((rc = held_elsewhere(call, got, &held)) != HSMD_REFUSED_STATE)
			return rc;
		if (pool->nused == *cap) {
			struct hsm_ipaddr *more = realloc(*used, (*cap * 2 + 16) * sizeof(*more));
			if (!more)
				return hsmd_error(call, HSMD_FAILED, "out of memory");
			*used = more;
			*cap = *cap * 2 + 16;
			pool->used = more;
		}
		(*used)[pool->nused++] = *got;
	}
}

/* The address for a new VCM: the one asked for, checked, or the lowest
 * free one of the VCM subnet.  This HSM's VCMs' addresses are the index's,
 * other HSMs' are hsmd's to tell one by one (ABI 1.10): neither is a walk
 * over every VCM. */
static int pick_address(struct hsmd_call *call, const struct fw_vcms_index *idx, const char *want,
			char out[HSM_NETADDR_STRLEN])
{
	json_t *net = hsmd_vcm_network(call), *t;
	const char *subnet;
	struct hsm_addr_pool pool;
	struct hsm_ipaddr hsm, gw, got, *used;
	size_t n = 0, cap, i;
	char inner[256];
	int rc, held = 0;

	if (!net)
		return HSMD_FAILED;
	subnet = json_string_value(json_object_get(net, "subnet"));
	memset(&pool, 0, sizeof(pool));
	if (hsm_cidr_parse(subnet, 0, &pool.subnet, inner, sizeof(inner)) != 0) {
		json_decref(net);
		return hsmd_error(call, HSMD_FAILED, "VCM subnet: %s", inner);
	}
	if (json_is_string(json_object_get(net, "hsm")) &&
	    hsm_ip_parse(json_string_value(json_object_get(net, "hsm")), 0, &hsm, NULL, 0) == 0)
		pool.hsm = &hsm;
	if (json_is_string(json_object_get(net, "gateway")) &&
	    hsm_ip_parse(json_string_value(json_object_get(net, "gateway")), 0, &gw, NULL, 0) == 0)
		pool.gateway = &gw;
	/* taken: addresses of other HSMs' VCMs on this machine (hsmd's
	 * machine-wide allocations): from an hsmd of ABI 1.10 those it knows
	 * of already, from an older one all of them, from the oldest none. */
	cap = json_array_size(json_object_get(net, "taken")) + 1;
	used = calloc(cap, sizeof(*used));
	if (!used) {
		json_decref(net);
		return hsmd_error(call, HSMD_FAILED, "out of memory");
	}
	json_array_foreach(json_object_get(net, "taken"), i, t)
	{
		if (hsm_ip_parse(json_string_value(t), 0, &used[n], NULL, 0) == 0)
			n++;
	}
	pool.used = used;
	/* An address asked for is checked against hsmd's answer now, never
	 * against what it knew before (that VCM may be gone). */
	pool.nused = want && hsmd_has_vcm_address_taken(call) ? 0 : n;
	if (want) {
		if (hsm_ip_parse(want, 0, &got, inner, sizeof(inner)) != 0) {
			rc = hsmd_error(call, HSMD_BAD_REQUEST, "ip_address: %s", inner);
		} else {
			char a[HSM_NETADDR_STRLEN];
			rc = hsm_addr_check(&pool, &got, inner, sizeof(inner)) != 0
				 ? HSMD_REFUSED_STATE
				 : HSMD_OK;
			if (rc == HSMD_OK && fw_vcms_index_address(idx, &got)) {
				snprintf(inner, sizeof(inner), "%s is already used by another VCM",
					 hsm_ip_format(&got, a, sizeof(a)));
				rc = HSMD_REFUSED_STATE;
			}
			if (rc == HSMD_OK && hsmd_has_vcm_address_taken(call)) {
				rc = held_elsewhere(call, &got, &held);
				if (held)
					snprintf(
					    inner, sizeof(inner),
					    "%s is already used by a VCM of another HSM on this "
					    "machine",
					    hsm_ip_format(&got, a, sizeof(a)));
			}
			if (rc == HSMD_REFUSED_STATE)
				rc = hsmd_error(call, rc, "ip_address: %s (VCM subnet %s)", inner,
						subnet);
		}
	} else {
		rc = alloc_address(call, idx, &pool, &used, &cap, subnet, &got);
	}
	if (rc == HSMD_OK)
		hsm_ip_format(&got, out, HSM_NETADDR_STRLEN);
	free(used);
	json_decref(net);
	return rc;
}

/* The tenant's configuration file (docs/formats/vcm-config.md). */
static json_t *tenant_config(struct hsmd_call *call, const char *uuid, const char *name,
			     const char *address, json_t *prepared, int64_t now)
{
	const json_t *lt = hsmd_lifetime(call);
	json_t *ports = json_object(), *svc;
	const char *s;

	json_object_foreach(json_object_get(prepared, "services"), s, svc)
	    json_object_set(ports, s, json_object_get(svc, "port"));
	return json_pack("{s:s, s:i, s:s, s:s, s:O, s:s, s:o, s:O, s:O, s:O, s:I}", "format",
			 "hsmadmin-vcm-config", "version", 1, "uuid", uuid, "name", name, "esn",
			 json_object_get(lt, "esn"), "address", address, "ports", ports,
			 "hsm_identity", json_object_get(lt, "warrant"), "vcm_identity",
			 json_object_get(prepared, "identity"), "services",
			 json_object_get(prepared, "services"), "created", (json_int_t)now);
}

static int m_create(struct hsmd_call *call)
{
	struct create_args a;
	struct fw_vcm_limits lim;
	struct hsm_request *req = NULL;
	const json_t *vcms = registry(call);
	const struct fw_vcms_index *idx = NULL;
	struct fw_vcms_index own;
	char msg[512], uuid[37], address[HSM_NETADDR_STRLEN], *ktr = NULL, *ssh = NULL;
	const char *name, *u;
	uint32_t features;
	json_t *spec, *prepared = NULL, *entry;
	int64_t now = hsmd_now(call);
	json_int_t seq;
	int rc, restrict_startup, own_built = 0;

	if ((rc = not_supported(call)) || (rc = create_params(call, &a)))
		return rc;
	rc = orch_check_request(a.request, HSM_REQUEST_CREATE, NULL, NULL, expiry_now(call), &req,
				msg, sizeof(msg));
	if (rc != HSMD_OK)
		return hsmd_error(call, rc, "%s", msg);
	fw_vcm_limits(hsmd_lifetime(call), hsmd_device(call), &lim);
	/* What the registry holds, from its index (valid until the commit):
	 * a create looks at no other VCM's entry. */
	if (!(idx = registry_index(call, &own, &own_built))) {
		rc = HSMD_FAILED;
		goto out;
	}
	if ((u = fw_vcms_index_nonce(idx, req->nonce))) {
		rc = hsmd_error(call, HSMD_DENIED,
				"request: already used to create VCM %s (replay)", u);
		goto out;
	}
	seq = fw_vcms_index_seq_max(idx);
	if (json_object_size(vcms) >= lim.max_creatable) {
		rc = hsmd_error(call, HSMD_REFUSED_STATE,
				"this HSM can hold at most %u VCM%s (%s); "
				"delete one first",
				lim.max_creatable, lim.max_creatable == 1 ? "" : "s",
				!lim.licensed ? "no multi-tenant licence"
				: lim.max_creatable == FW_VCM_MAX_BASE_SPEED ? "base speed HSM"
									     : "limit");
		goto out;
	}
	/* The provider chooses (guide 3.1.2.2), within what the tenant asked:
	 * autostart and the card reader only when requested; restrict-startup
	 * is the tenant's protection and always kept. */
	restrict_startup = req->props.restrict_startup;
	if (a.autostart && !req->props.autostart) {
		rc = hsmd_error(call, HSMD_DENIED,
				"autostart: the tenant's request does not ask for it");
		goto out;
	}
	if (a.cardreader && !req->props.serial_cardreader) {
		rc = hsmd_error(call, HSMD_DENIED,
				"serial-cardreader: the tenant's request does not ask for it");
		goto out;
	}
	if (a.autostart && restrict_startup) {
		rc = hsmd_error(call, HSMD_BAD_REQUEST,
				"autostart and restrict-startup are mutually "
				"exclusive (the request asks for restrict_startup)");
		goto out;
	}
	if (a.cardreader && idx->reader[0]) {
		rc = hsmd_error(call, HSMD_REFUSED_STATE,
				"only one VCM may have the serial card reader; "
				"VCM %s has it",
				idx->reader);
		goto out;
	}
	if (fw_vcm_features(a.has_features ? (uint32_t)a.features : lim.platform, &lim, &features,
			    msg, sizeof(msg)) != 0) {
		rc = hsmd_error(call, HSMD_REFUSED_STATE, "%s", msg);
		goto out;
	}
	name = a.name ? a.name : req->props.present & HSM_REQP_NAME ? req->props.name : NULL;
	if (!name) {
		rc = hsmd_error(call, HSMD_BAD_REQUEST, "name: a VCM name is required");
		goto out;
	}
	if (hsm_request_check_name(name, msg, sizeof(msg)) != 0 || !*name) {
		rc = hsmd_error(call, HSMD_BAD_REQUEST, "name: %s", msg);
		goto out;
	}
	if ((rc = pick_address(call, idx, a.ip, address)) != HSMD_OK)
		goto out;
	if (random_uuid(uuid) != 0 || json_object_get(vcms, uuid)) {
		rc = hsmd_error(call, HSMD_FAILED, "cannot make a UUID");
		goto out;
	}
	ktr = hsm_key_to_openssh(req->request_key);
	ssh = hsm_key_to_openssh(req->sshadmin_key);
	if (!ktr || !ssh) {
		rc = hsmd_error(call, HSMD_FAILED, "out of memory");
		goto out;
	}
	spec = json_pack("{s:s, s:s, s:I, s:s, s:s}", "uuid", uuid, "address", address, "features",
			 (json_int_t)features, "sshadmin_key", ssh, "name", name);
	prepared = hsmd_vcm_prepare(call, spec);
	json_decref(spec);
	if (!prepared) {
		rc = HSMD_FAILED;
		goto out;
	}
	entry = json_pack(
	    "{s:I, s:s, s:s, s:I, s:b, s:b, s:b, s:s, s:s, s:s, s:b, s:I, s:I, s:s, s:[], s:i}",
	    "seq", seq + 1, "name", name, "address", address, "features", (json_int_t)features,
	    "autostart", a.autostart, "restrict_startup", restrict_startup, "serial_cardreader",
	    a.cardreader, "k_tenant_req", ktr, "sshadmin_key", ssh, "state", "inactive",
	    "disk_exceeded", 0, "created", (json_int_t)now, "changed", (json_int_t)now,
	    "request_nonce", req->nonce, "nonces", "nonce_floor", 0);
	idx = NULL; /* the commit changes the index */
	rc = commit_entry(call, uuid, entry, "vcm_create",
			  json_pack("{s:s, s:s, s:I}", "name", name, "address", address, "features",
				    (json_int_t)features));
	if (rc != HSMD_OK) {
		hsmd_vcm_discard(call, uuid);
		goto out;
	}
	{
		json_t *res = view(uuid, json_object_get(registry(call), uuid), NULL, 1);
		json_object_set_new(res, "config",
				    tenant_config(call, uuid, name, address, prepared, now));
		hsmd_reply(call, res);
	}
	rc = HSMD_OK;
out:
	if (own_built)
		fw_vcms_index_free(&own);
	free(ktr);
	free(ssh);
	json_decref(prepared);
	hsm_request_free(req);
	return rc;
}

/* ---- start and stop --------------------------------------------------- */

static int m_start(struct hsmd_call *call)
{
	const char *uuid;
	const json_t *e, *env;
	struct fw_vcm_limits lim;
	struct hsm_request *req = NULL;
	const char *state;
	unsigned active;
	char msg[512];
	json_t *entry;
	int rc;

	if ((rc = not_supported(call)) || (rc = check_params(call, " uuid request ")) ||
	    (rc = param_uuid(call, &uuid, &e)))
		return rc;
	state = state_of(e);
	if (strcmp(state, "active") == 0)
		return hsmd_error(call, HSMD_REFUSED_STATE, "VCM %s is already active", uuid);
	if (json_is_true(json_object_get(e, "disk_exceeded")))
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "VCM %s was stopped because its disk use "
				  "passed the limit; it can only be deleted",
				  uuid);
	env = json_object_get(hsmd_params(call), "request");
	if (json_is_true(json_object_get(e, "restrict_startup")) && !env)
		return hsmd_error(call, HSMD_DENIED,
				  "VCM %s has restrict-startup: a start request "
				  "signed by its tenant is needed (--request)",
				  uuid);
	if (env && !json_is_null(env)) {
		rc = orch_check_request(env, HSM_REQUEST_START, uuid,
					json_string_value(json_object_get(e, "k_tenant_req")),
					expiry_now(call), &req, msg, sizeof(msg));
		if (rc != HSMD_OK)
			return hsmd_error(call, rc, "%s", msg);
		if ((rc = orch_nonce_used(e, req, req->nonce, expiry_now(call), msg,
					  sizeof(msg))) != 0) {
			hsm_request_free(req);
			return hsmd_error(call, rc, "%s", msg);
		}
	}
	fw_vcm_limits(hsmd_lifetime(call), hsmd_device(call), &lim);
	active = fw_vcms_active(registry(call));
	if (active >= lim.max_active) {
		hsm_request_free(req);
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "%u VCM%s active: the %s allows %u; stop "
				  "another VCM first",
				  active, active == 1 ? " is" : "s are",
				  lim.licensed ? "licence" : "HSM without a multi-tenant licence",
				  lim.max_active);
	}
	if (hsmd_vcm_start(call, uuid) != 0) {
		hsm_request_free(req);
		return HSMD_FAILED;
	}
	entry = json_deep_copy(e);
	json_object_set_new(entry, "state", json_string("active"));
	json_object_set_new(entry, "changed", json_integer(hsmd_now(call)));
	if (req && orch_nonce_add(entry, req, req->nonce, expiry_now(call)) != 0) {
		json_decref(entry);
		hsm_request_free(req);
		hsmd_vcm_stop(call, uuid);
		return hsmd_error(call, HSMD_FAILED, "internal: no room for the request's nonce");
	}
	rc = commit_entry(call, uuid, entry, "vcm_start",
			  json_pack("{s:s, s:b}", "from", state, "request", req != NULL));
	hsm_request_free(req);
	if (rc != HSMD_OK) {
		hsmd_vcm_stop(call, uuid);
		return rc;
	}
	{
		json_t *running = hsmd_vcm_running(call);
		hsmd_reply(call, view(uuid, json_object_get(registry(call), uuid), running, 1));
		json_decref(running);
	}
	return HSMD_OK;
}

static int m_stop(struct hsmd_call *call)
{
	const char *uuid, *state;
	const json_t *e;
	json_t *running, *entry;
	int force = json_is_true(json_object_get(hsmd_params(call), "force")), rc, op;

	if ((rc = not_supported(call)) || (rc = check_params(call, " uuid force ")) ||
	    (rc = param_uuid(call, &uuid, &e)))
		return rc;
	state = state_of(e);
	if (strcmp(state, "active") != 0 && strcmp(state, "failed") != 0)
		return hsmd_error(call, HSMD_REFUSED_STATE, "VCM %s is not active (%s)", uuid,
				  state);
	running = hsmd_vcm_running(call);
	op = json_object_get(running, uuid) &&
	     strcmp(json_string_value(json_object_get(json_object_get(running, uuid), "ncoreapi")),
		    "operational") == 0;
	if (op && !force) {
		json_decref(running);
		return hsmd_error(
		    call, HSMD_REFUSED_STATE,
		    "VCM %s has an ncoreapi service running "
		    "(operational): ask its tenant to put the module in maintenance mode "
		    "(nopclearfail -M), or use --force",
		    uuid);
	}
	if (json_object_get(running, uuid) && hsmd_vcm_stop(call, uuid) != 0) {
		json_decref(running);
		return HSMD_FAILED;
	}
	json_decref(running);
	entry = json_deep_copy(e);
	json_object_set_new(entry, "state", json_string("stopped"));
	json_object_set_new(entry, "changed", json_integer(hsmd_now(call)));
	rc = commit_entry(call, uuid, entry, "vcm_stop",
			  json_pack("{s:s, s:b, s:b}", "from", state, "force", force,
				    "ncoreapi_operational", op));
	if (rc != HSMD_OK)
		return rc;
	hsmd_reply(call, view(uuid, json_object_get(registry(call), uuid), NULL, 1));
	return HSMD_OK;
}

/* ---- delete ----------------------------------------------------------- */

static int m_delete(struct hsmd_call *call)
{
	const char *uuid;
	const json_t *e;
	int force = json_is_true(json_object_get(hsmd_params(call), "force")), rc;
	json_t *gone;

	if ((rc = not_supported(call)) || (rc = check_params(call, " uuid force ")) ||
	    (rc = param_uuid(call, &uuid, &e)))
		return rc;
	if (strcmp(state_of(e), "active") == 0)
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "VCM %s is active: stop it first "
				  "(--force does not delete a running VCM)",
				  uuid);
	if (hsmd_vcm_audit_open(call, uuid) && !force)
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "VCM %s has an unfinalized audit log: ask its "
				  "tenant to finalize it, or use --force",
				  uuid);
	gone = view(uuid, e, NULL, 0);
	rc = commit_entry(call, uuid, NULL, "vcm_delete",
			  json_pack("{s:O, s:O, s:b}", "name", json_object_get(e, "name"),
				    "address", json_object_get(e, "address"), "force", force));
	if (rc != HSMD_OK) {
		json_decref(gone);
		return rc;
	}
	/* The registry no longer names it: its secrets go now (or, after a
	 * crash here, at the next start). */
	hsmd_vcm_discard(call, uuid);
	json_object_set_new(gone, "deleted", json_true());
	hsmd_reply(call, gone);
	return HSMD_OK;
}

/* ---- list, show, stats ------------------------------------------------ */

static int m_list(struct hsmd_call *call)
{
	char why[160];
	int only_active = 0, rc;
	const json_t *vcms = registry(call);
	json_t *order, *out = json_array(), *running, *u;
	size_t i;

	if ((rc = not_supported(call))) {
		json_decref(out);
		return rc;
	}
	if (hsm_json_unpack(hsmd_params(call), JSON_STRICT, why, sizeof(why), "{s?b}", "active",
			    &only_active) != 0) {
		json_decref(out);
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", why);
	}
	running = hsmd_vcm_running(call);
	order = fw_vcms_ordered(vcms);
	json_array_foreach(order, i, u)
	{
		const json_t *e = json_object_get(vcms, json_string_value(u));
		if (only_active && strcmp(state_of(e), "active") != 0)
			continue;
		json_array_append_new(out, view(json_string_value(u), e, running, 0));
	}
	json_decref(order);
	json_decref(running);
	{
		struct fw_vcm_limits lim;
		fw_vcm_limits(hsmd_lifetime(call), hsmd_device(call), &lim);
		hsmd_reply(call, json_pack("{s:o, s:i, s:i, s:i}", "vcms", out, "active",
					   (int)fw_vcms_active(vcms), "max_active_vcms",
					   (int)lim.max_active, "max_creatable_vcms",
					   (int)lim.max_creatable));
	}
	return HSMD_OK;
}

static int m_show(struct hsmd_call *call)
{
	const char *uuid;
	const json_t *e, *want = json_object_get(hsmd_params(call), "config");
	json_t *running, *res, *identity;
	int rc;

	if ((rc = not_supported(call)) || (rc = check_params(call, " uuid config ")) ||
	    (rc = param_uuid(call, &uuid, &e)))
		return rc;
	if (want && !json_is_boolean(want))
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: config must be true or false");
	running = hsmd_vcm_running(call);
	res = view(uuid, e, running, 1);
	json_decref(running);
	/* The tenant configuration file again, as create issued it: what a
	 * lost file or a failed write at create needs (the create request
	 * cannot be used twice). */
	if (json_is_true(want)) {
		if (!(identity = hsmd_vcm_identity(call, uuid))) {
			json_decref(res);
			return HSMD_FAILED;
		}
		json_object_set_new(
		    res, "config",
		    tenant_config(call, uuid, json_string_value(json_object_get(e, "name")),
				  json_string_value(json_object_get(e, "address")), identity,
				  json_integer_value(json_object_get(e, "created"))));
		json_decref(identity);
	}
	hsmd_reply(call, res);
	return HSMD_OK;
}

static int m_stats(struct hsmd_call *call)
{
	const char *want = json_string_value(json_object_get(hsmd_params(call), "uuid"));
	const json_t *vcms = registry(call);
	json_t *stats, *per, *out = json_array(), *order, *u, *res;
	size_t i;
	int rc;

	if ((rc = not_supported(call)) || (rc = check_params(call, " uuid "))) {
		json_decref(out);
		return rc;
	}
	if (want && !json_object_get(vcms, want)) {
		json_decref(out);
		return hsmd_error(call, HSMD_FAILED, "no VCM %.40s on this HSM", want);
	}
	stats = hsmd_vcm_stats(call);
	per = json_object_get(stats, "vcms");
	order = fw_vcms_ordered(vcms);
	json_array_foreach(order, i, u)
	{
		const char *uuid = json_string_value(u);
		const json_t *e = json_object_get(vcms, uuid), *s = json_object_get(per, uuid);
		if (want && strcmp(want, uuid) != 0)
			continue;
		json_array_append_new(
		    out, json_pack("{s:s, s:O, s:s, s:o, s:o}", "uuid", uuid, "name",
				   json_object_get(e, "name"), "state", state_of(e), "memory_kb",
				   s ? json_incref(json_object_get(s, "memory_kb")) : json_null(),
				   "disk_kb",
				   s ? json_incref(json_object_get(s, "disk_kb")) : json_null()));
	}
	json_decref(order);
	if (json_is_object(stats)) {
		json_int_t t = json_integer_value(json_object_get(stats, "time"));
		res = json_pack("{s:I, s:I, s:O, s:o}", "polled", t, "age",
				(json_int_t)(hsmd_now(call) - t), "interval",
				json_object_get(stats, "interval"), "vcms", out);
	} else {
		res = json_pack("{s:n, s:n, s:n, s:o}", "polled", "age", "interval", "vcms", out);
	}
	json_decref(stats);
	hsmd_reply(call, res);
	return HSMD_OK;
}

/* ---- setproperties ---------------------------------------------------- */

static int m_setproperties(struct hsmd_call *call)
{
	char why[160];
	const char *uuid, *property, *text, *holder;
	const json_t *e, *env;
	struct hsm_request *req = NULL;
	json_t *value = NULL, *entry = NULL;
	char msg[512], tag[128];
	int rc;

	if ((rc = not_supported(call)))
		return rc;
	if (hsm_json_unpack(hsmd_params(call), JSON_STRICT, why, sizeof(why),
			    "{s:s, s:s, s:s, s:o}", "uuid", &uuid, "property", &property, "value",
			    &text, "request", &env) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "params: %s", why);
	if ((rc = param_uuid(call, &uuid, &e)))
		return rc;
	if ((rc = orch_property_value(property, text, &value, msg, sizeof(msg))) != HSMD_OK)
		return hsmd_error(call, rc, "%s", msg);
	if (json_is_true(json_object_get(e, "disk_exceeded"))) {
		rc = hsmd_error(call, HSMD_REFUSED_STATE,
				"VCM %s passed its disk limit; it can only be deleted", uuid);
		goto out;
	}
	if (strcmp(state_of(e), "active") == 0) {
		rc = hsmd_error(call, HSMD_REFUSED_STATE,
				"VCM %s is active: stop it before changing its "
				"properties",
				uuid);
		goto out;
	}
	/* Any property, k_tenant_req included, changes only by a request
	 * signed with the VCM's current k_tenant_req (guide 3.1.2.3.7). */
	rc = orch_check_request(env, HSM_REQUEST_SETPROPERTIES, uuid,
				json_string_value(json_object_get(e, "k_tenant_req")),
				expiry_now(call), &req, msg, sizeof(msg));
	if (rc != HSMD_OK) {
		hsmd_error(call, rc, "%s", msg);
		goto out;
	}
	if ((rc = orch_property_matches(req, property, value, msg, sizeof(msg))) != HSMD_OK) {
		hsmd_error(call, rc, "%s", msg);
		goto out;
	}
	snprintf(tag, sizeof(tag), "%s/%s", req->nonce, property);
	if ((rc = orch_nonce_used(e, req, tag, expiry_now(call), msg, sizeof(msg))) != 0) {
		hsmd_error(call, rc, "%s", msg);
		goto out;
	}
	entry = json_deep_copy(e);
	if (!strcmp(property, "features")) {
		struct fw_vcm_limits lim;
		uint32_t w;
		fw_vcm_limits(hsmd_lifetime(call), hsmd_device(call), &lim);
		if (fw_vcm_features((uint32_t)json_integer_value(value), &lim, &w, msg,
				    sizeof(msg)) != 0) {
			rc = hsmd_error(call, HSMD_REFUSED_STATE, "%s", msg);
			goto out;
		}
		json_object_set_new(entry, "features", json_integer(w));
	} else {
		json_object_set(entry, property, value);
	}
	if (json_is_true(json_object_get(entry, "autostart")) &&
	    json_is_true(json_object_get(entry, "restrict_startup"))) {
		rc = hsmd_error(call, HSMD_REFUSED_STATE,
				"Invalid property value: autostart and "
				"restrict_startup are mutually exclusive; clear %s first",
				!strcmp(property, "autostart") ? "restrict_startup" : "autostart");
		goto out;
	}
	if (!strcmp(property, "serial_cardreader") && json_is_true(value) &&
	    (holder = fw_vcms_cardreader(registry(call), uuid))) {
		rc = hsmd_error(call, HSMD_REFUSED_STATE,
				"only one VCM may have the serial card reader; "
				"VCM %s has it",
				holder);
		goto out;
	}
	json_object_set_new(entry, "changed", json_integer(hsmd_now(call)));
	if (orch_nonce_add(entry, req, tag, expiry_now(call)) != 0) {
		rc = hsmd_error(call, HSMD_FAILED, "internal: no room for the request's nonce");
		goto out;
	}
	rc = commit_entry(call, uuid, entry, "vcm_setproperties",
			  json_pack("{s:s, s:O}", "property", property, "value",
				    json_object_get(entry, property)));
	entry = NULL;
	if (rc == HSMD_OK)
		hsmd_reply(call, view(uuid, json_object_get(registry(call), uuid), NULL, 1));
out:
	json_decref(entry);
	json_decref(value);
	hsm_request_free(req);
	return rc;
}

/* The properties `properties set` takes; also answered by the host
 * plugin without a device (guide 3.4.1.8.2). */
static int m_properties(struct hsmd_call *call)
{
	json_t *a = json_array();

	for (size_t i = 0; orch_properties[i]; i++)
		json_array_append_new(a, json_string(orch_properties[i]));
	hsmd_reply(call, json_pack("{s:o}", "properties", a));
	return HSMD_OK;
}

/* Changes of VCMs are invasive only for the VCM concerned: the platform
 * interlock (an operational ncoreapi) does not stop the provider from
 * managing other VCMs, so these methods carry no INVASIVE flag; stop's
 * own rule covers the VCM whose ncoreapi is operational. */
static const struct hsmd_method methods[] = {
	{ .name = "create",
	  .flags = HSMD_METHOD_LOG_GUARDED,
	  .handler = m_create,
	  .summary = "create a VCM from a tenant request" },
	{ .name = "start", .handler = m_start, .summary = "start a VCM" },
	{ .name = "stop", .handler = m_stop, .summary = "stop a VCM" },
	{ .name = "delete",
	  .handler = m_delete,
	  .summary = "delete a stopped VCM and its secrets" },
	{ .name = "list", .handler = m_list, .summary = "the VCMs of this HSM" },
	{ .name = "show", .handler = m_show, .summary = "one VCM's properties" },
	{ .name = "stats", .handler = m_stats, .summary = "memory and disk use of the last poll" },
	{ .name = "setproperties",
	  .handler = m_setproperties,
	  .summary = "change one property to the value of a tenant request" },
	{ .name = "properties",
	  .handler = m_properties,
	  .summary = "the properties setproperties takes" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,  .name = "orchestrator", .version = PACKAGE_VERSION,
	.default_port = 2207, .methods = methods,
};
