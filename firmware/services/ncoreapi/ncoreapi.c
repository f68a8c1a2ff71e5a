/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ncoreapi - the VCM's cryptographic service (docs/protocol.md, ncoreapi):
 * enquiry, info and getenvstats, the module mode, fail/clear, and a
 * minimal key store so that a tenant can use the VCM and tests can show
 * that no one else can.
 *
 * Its state lives in the VCM's device.json under services.ncoreapi
 * (written atomically with one system log entry by hsmd_commit):
 *   {"failed": null | {"reason", "time"},
 *    "keys": {NAME: {"type", "public", "private" (PKCS#8 PEM), "created"}}}
 * The VCM's state directory is 0700 and device.json 0600, so the private
 * keys are readable by the VCM's process only; they never leave it (no
 * method returns them, no log entry names them).
 *
 * The Security World (docs/formats/world.md) a tenant loads into its VCM
 * is kept there too, under services.ncoreapi.world:
 *   {"id", "k", "n", "module_key" (base64), "loaded" (time)}
 * so it survives the VCM's stop and start and goes with its state
 * directory when the VCM is deleted.  Key blobs are never stored here:
 * blob_generate returns the blob and blob_sign is given it back.  The
 * "keys" store is the store of keys made before worlds existed; they keep
 * working by name.
 *
 * The mode and client key together are what the supervisor reports as
 * "operational" (vcmproc.c); this service only changes the mode.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <hsmadmin/features.h>
#include <hsmadmin/service.h>

#include "ncoreapi-params.h"
#include "sign.h"
#include "world.h"

#define NCORE_MAX_KEYS 64
#define NCORE_MAX_SIGN_DATA 16384

/* Changes every time the VCM's process starts: a host that sees another
 * boot id than the one it last acknowledged knows the module restarted
 * under it (docs/protocol.md, "fail, clear, retry"). */
static char boot_id[33];

static int ncore_init(char *err, size_t errlen)
{
	unsigned char raw[16];

	if (hsm_random(raw, sizeof(raw)) != 0) {
		snprintf(err, errlen, "no random bytes for the boot id");
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(boot_id + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static const json_t *state_of(struct hsmd_call *call)
{
	return json_object_get(json_object_get(hsmd_device(call), "services"), "ncoreapi");
}

static const char *vcm_uuid(struct hsmd_call *call)
{
	const char *u = json_string_value(json_object_get(
	    json_object_get(json_object_get(hsmd_lifetime(call), "warrant"), "body"), "vcm"));
	return u ? u : "";
}

static const char *mode_of(struct hsmd_call *call)
{
	const char *m = json_string_value(json_object_get(hsmd_device(call), "mode"));
	return m ? m : "initialization";
}

static int is_failed(struct hsmd_call *call)
{
	return json_is_object(json_object_get(state_of(call), "failed"));
}

/* A copy of the device document and of its ncoreapi state to edit. */
static json_t *begin_state(struct hsmd_call *call, json_t **doc)
{
	json_t *services, *st;

	*doc = hsmd_begin(call);
	if (!*doc)
		return NULL;
	services = json_object_get(*doc, "services");
	if (!json_is_object(services)) {
		services = json_object();
		json_object_set_new(*doc, "services", services);
	}
	st = json_object_get(services, "ncoreapi");
	if (!json_is_object(st)) {
		st = json_pack("{s:n, s:{}}", "failed", "keys");
		json_object_set_new(services, "ncoreapi", st);
	}
	if (!json_is_object(json_object_get(st, "keys")))
		json_object_set_new(st, "keys", json_object());
	if (!json_object_get(st, "failed"))
		json_object_set_new(st, "failed", json_null());
	return st;
}

/* The serial a host shows for this module: derived from the HSM's ESN and
 * the VCM's UUID so that two VCMs of one HSM never share one. */
static void vcm_serial(struct hsmd_call *call, char *buf, size_t len)
{
	const char *esn = json_string_value(json_object_get(hsmd_lifetime(call), "esn"));
	const char *u = vcm_uuid(call);

	snprintf(buf, len, "%s-V%.4s", esn ? esn : "unknown", u);
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
}

/* The speed index enquiry shows for a speed rating (guide 4.9.5). */
static int speed_index(const json_t *lt)
{
	const char *speed = json_string_value(json_object_get(lt, "speed"));

	if (speed && !strcmp(speed, "base"))
		return 1500;
	if (speed && !strcmp(speed, "mid"))
		return 3000;
	return 4512;
}

/* The fields of the nShield enquiry layout (guide 4.3.1.1) that describe
 * the emulated hardware rather than a state: the same for every VCM. */
static json_t *enquiry_hardware(const json_t *lt)
{
	return json_pack("{s:i, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:i, s:i,"
			 " s:s, s:s, s:O, s:s, s:i}",
			 "speed_index", speed_index(lt), "rec_queue", "19..152", "module_type_code",
			 14, "product_name", "hsmd VCM", "level_one_flags", "Hardware HasTokens",
			 "level_two_flags", "none", "level_three_flags", "KeyStorage",
			 "level_four_flags", "none", "max_write_size", 8192, "enquiry_six_version",
			 6, "impath_kx_groups", "DHPrime3072", "feature_ctrl_flags", "LongTerm",
			 "version_serial", 0, "rec_longjobs_queue", 18, "see_machine_type", "None",
			 "supported_kml_types", "DSAp1024s160 DSAp3072s256", "physical_serial",
			 json_object_get(lt, "psn"), "hardware_part_no", "HSMD-EMU revision 01",
			 "max_exported_modules", 3);
}

static int m_enquiry(struct hsmd_call *call)
{
	const json_t *lt = hsmd_lifetime(call), *dev = hsmd_device(call);
	const json_t *failed = json_object_get(state_of(call), "failed");
	char names[512], serial[64], device_name[80];
	uint32_t features = (uint32_t)json_integer_value(json_object_get(lt, "features"));
	json_t *reply, *hw;

	hsm_features_format(features, names, sizeof(names));
	vcm_serial(call, serial, sizeof(serial));
	snprintf(device_name, sizeof(device_name), "VCM %s", vcm_uuid(call));
	reply = json_pack(
	    "{s:s, s:s, s:O, s:O, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:b, s:O,"
	    " s:I, s:i}",
	    "serial", serial, "uuid", vcm_uuid(call), "esn", json_object_get(lt, "esn"), "psn",
	    json_object_get(lt, "psn"), "mode", mode_of(call), "version", PACKAGE_VERSION,
	    "firmware",
	    json_string_value(json_object_get(json_object_get(dev, "firmware"), "primary"))
		?: "unknown",
	    "device_name", device_name, "features", json_object_get(lt, "features"),
	    "features_names", names, "boot_id", boot_id, "failed", json_is_object(failed),
	    "fail_reason", json_is_object(failed) ? json_object_get(failed, "reason") : json_null(),
	    "uptime", (json_int_t)hsmd_uptime(call), "keys",
	    (int)json_object_size(json_object_get(state_of(call), "keys")));
	hw = enquiry_hardware(lt);
	json_object_update(reply, hw);
	json_decref(hw);
	hsmd_reply(call, reply);
	return HSMD_OK;
}

/* The HSM that hosts this VCM (hsmadmin vcm info). */
static int m_info(struct hsmd_call *call)
{
	const json_t *lt = hsmd_lifetime(call), *dev = hsmd_device(call);
	char names[512];

	hsm_features_format((uint32_t)json_integer_value(json_object_get(lt, "features")), names,
			    sizeof(names));
	hsmd_reply(call,
		   json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:s, s:s}", "uuid",
			     vcm_uuid(call), "esn", json_object_get(lt, "esn"), "psn",
			     json_object_get(lt, "psn"), "address", json_object_get(lt, "address"),
			     "firmware", json_object_get(dev, "firmware"), "features",
			     json_object_get(lt, "features"), "speed",
			     json_object_get(lt, "speed") ?: json_null(), "features_names", names,
			     "version", PACKAGE_VERSION));
	return HSMD_OK;
}

/* Times in Unix seconds (guide 4.10.1.16.8). */
static int m_getenvstats(struct hsmd_call *call)
{
	int64_t now = hsmd_now(call), up = hsmd_uptime(call);

	hsmd_reply(call,
		   json_pack("{s:s, s:I, s:I, s:I, s:s, s:i}", "uuid", vcm_uuid(call),
			     "current_time", (json_int_t)now, "uptime", (json_int_t)up, "boot_time",
			     (json_int_t)(now - up), "mode", mode_of(call), "keys",
			     (int)json_object_size(json_object_get(state_of(call), "keys"))));
	return HSMD_OK;
}

static int commit_mode(struct hsmd_call *call, const char *mode, int clear_failure,
		       const char *event)
{
	const char *cur = mode_of(call);
	json_t *doc, *st = begin_state(call, &doc);

	if (!st)
		return HSMD_FAILED;
	json_object_set_new(doc, "mode", json_string(mode));
	if (clear_failure)
		json_object_set_new(st, "failed", json_null());
	if (hsmd_commit(call, doc, event, json_pack("{s:s, s:s}", "mode", mode, "previous", cur)) !=
	    0)
		return HSMD_FAILED;
	return HSMD_OK;
}

static int m_set_mode(struct hsmd_call *call)
{
	char why[160];
	const char *mode;

	if (ncore_params_mode(hsmd_params(call), &mode, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", why);
	/* A failed module leaves the failed state only by clear (from
	 * maintenance) or by retry; it may always be put into maintenance. */
	if (is_failed(call) && strcmp(mode, "maintenance") != 0)
		return hsmd_error(
		    call, HSMD_REFUSED_STATE,
		    "the module has failed: put it into "
		    "maintenance mode (nopclearfail -M) and clear it (-c), or retry (-r)");
	if (strcmp(mode_of(call), mode) != 0 && commit_mode(call, mode, 0, "set_mode") != HSMD_OK)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:s, s:b}", "mode", mode, "failed", is_failed(call)));
	return HSMD_OK;
}

static int m_fail(struct hsmd_call *call)
{
	char why[160];
	const char *reason;
	json_t *doc, *st;

	if (ncore_params_reason(hsmd_params(call), &reason, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", why);
	if (!is_failed(call)) {
		if (!(st = begin_state(call, &doc)))
			return HSMD_FAILED;
		json_object_set_new(
		    st, "failed",
		    json_pack("{s:s, s:I}", "reason", reason, "time", (json_int_t)hsmd_now(call)));
		if (hsmd_commit(call, doc, "ncoreapi_fail", json_pack("{s:s}", "reason", reason)) !=
		    0)
			return HSMD_FAILED;
	}
	hsmd_reply(call, json_pack("{s:s, s:b}", "mode", mode_of(call), "failed", 1));
	return HSMD_OK;
}

/* Clear: only from maintenance mode (so a tenant never clears a module
 * that is serving by accident); the module comes back operational with
 * no failure and its keys intact. */
static int m_clear(struct hsmd_call *call)
{
	if (ncore_params_empty(hsmd_params(call), NULL, 0) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "clear takes no parameters");
	if (strcmp(mode_of(call), "maintenance") != 0)
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "clear needs the module in maintenance mode "
				  "(nopclearfail -M) first");
	if (commit_mode(call, "operational", 1, "ncoreapi_clear") != HSMD_OK)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:s, s:b, s:s}", "mode", "operational", "failed", 0, "boot_id",
				   boot_id));
	return HSMD_OK;
}

/* Retry: the module answers, so a host that lost it may use it again.  A
 * failure recorded on the device (-F) is not undone by retry: that needs
 * clear. */
static int m_retry(struct hsmd_call *call)
{
	if (ncore_params_empty(hsmd_params(call), NULL, 0) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "retry takes no parameters");
	if (is_failed(call))
		return hsmd_error(
		    call, HSMD_REFUSED_STATE,
		    "the module has failed on the device: "
		    "put it into maintenance mode (nopclearfail -M) and clear it (-c)");
	hsmd_reply(call, json_pack("{s:s, s:b, s:s}", "mode", mode_of(call), "failed", 0, "boot_id",
				   boot_id));
	return HSMD_OK;
}

/* ---- the key store --------------------------------------------------- */

static int usable(struct hsmd_call *call)
{
	if (is_failed(call))
		return hsmd_error(call, HSMD_REFUSED_STATE, "the module has failed");
	if (strcmp(mode_of(call), "operational") != 0)
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "the module is in %s mode, not operational", mode_of(call));
	return HSMD_OK;
}

static EVP_PKEY *generate(const char *type)
{
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *kc;

	if (strcmp(type, "ed25519") == 0)
		kc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	else
		kc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	if (!kc)
		return NULL;
	if (EVP_PKEY_keygen_init(kc) <= 0 ||
	    (strcmp(type, "p256") == 0 &&
	     EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc, NID_X9_62_prime256v1) <= 0) ||
	    EVP_PKEY_keygen(kc, &key) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(kc);
	return key;
}

static char *pem_of(EVP_PKEY *key, int private)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (!b)
		return NULL;
	if ((private ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_bio_PUBKEY(b, key)) == 1 &&
	    (n = BIO_get_mem_data(b, &data)) > 0)
		out = strndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

static json_t *key_view(const char *name, const json_t *k)
{
	return json_pack("{s:s, s:O, s:O, s:O}", "name", name, "type", json_object_get(k, "type"),
			 "public", json_object_get(k, "public"), "created",
			 json_object_get(k, "created"));
}

static int m_key_generate(struct hsmd_call *call)
{
	char why[160];
	const char *name, *type;
	char *priv = NULL, *pub = NULL;
	EVP_PKEY *key;
	json_t *doc, *st, *keys, *entry;
	int rc;

	if (ncore_params_generate(hsmd_params(call), &name, &type, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", why);
	if ((rc = usable(call)) != HSMD_OK)
		return rc;
	keys = json_object_get(state_of(call), "keys");
	if (json_object_get(keys, name))
		return hsmd_error(call, HSMD_REFUSED_STATE, "a key named '%s' exists", name);
	if (json_object_size(keys) >= NCORE_MAX_KEYS)
		return hsmd_error(call, HSMD_REFUSED_STATE, "the key store is full (%d keys)",
				  NCORE_MAX_KEYS);
	if (!(key = generate(type)) || !(priv = pem_of(key, 1)) || !(pub = pem_of(key, 0))) {
		EVP_PKEY_free(key);
		free(priv);
		free(pub);
		return hsmd_error(call, HSMD_FAILED, "cannot generate the %s key", type);
	}
	EVP_PKEY_free(key);
	if (!(st = begin_state(call, &doc))) {
		OPENSSL_clear_free(priv, strlen(priv));
		free(pub);
		return HSMD_FAILED;
	}
	entry = json_pack("{s:s, s:s, s:s, s:I}", "type", type, "public", pub, "private", priv,
			  "created", (json_int_t)hsmd_now(call));
	OPENSSL_clear_free(priv, strlen(priv));
	json_object_set_new(json_object_get(st, "keys"), name, entry);
	if (hsmd_commit(call, doc, "key_generate",
			json_pack("{s:s, s:s}", "name", name, "type", type)) != 0) {
		free(pub);
		return HSMD_FAILED;
	}
	hsmd_reply(call, json_pack("{s:s, s:s, s:s}", "name", name, "type", type, "public", pub));
	free(pub);
	return HSMD_OK;
}

static int m_key_list(struct hsmd_call *call)
{
	const char *name;
	json_t *k, *out;
	int rc;

	if (ncore_params_empty(hsmd_params(call), NULL, 0) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "key_list takes no parameters");
	if ((rc = usable(call)) != HSMD_OK)
		return rc;
	out = json_array();
	json_object_foreach(json_object_get(state_of(call), "keys"), name, k)
	    json_array_append_new(out, key_view(name, k));
	hsmd_reply(call, json_pack("{s:o}", "keys", out));
	return HSMD_OK;
}

/* The signature of one base64 input with key (NULL: a key that would not
 * load) as a new string, or NULL, with *bad set when the input is not
 * base64 of at most NCORE_MAX_SIGN_DATA bytes. */
static char *sign_one(EVP_PKEY *key, const char *data64, int *bad)
{
	unsigned char *data = NULL, *sig = NULL;
	size_t dlen = 0, slen = 0;
	EVP_MD_CTX *mc = NULL;
	char *sig64 = NULL;

	*bad = 0;
	if (!(data = malloc(NCORE_MAX_SIGN_DATA)) ||
	    hsm_base64_decode(data64, data, NCORE_MAX_SIGN_DATA, &dlen) != 0) {
		*bad = data != NULL;
		free(data);
		return NULL;
	}
	if (key && (mc = EVP_MD_CTX_new()) &&
	    EVP_DigestSignInit(mc, NULL,
			       EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256(), NULL,
			       key) == 1 &&
	    EVP_DigestSign(mc, NULL, &slen, data, dlen) == 1 && (sig = malloc(slen)) &&
	    EVP_DigestSign(mc, sig, &slen, data, dlen) == 1)
		sig64 = hsm_base64_encode(sig, slen);
	EVP_MD_CTX_free(mc);
	free(sig);
	free(data);
	return sig64;
}

/* Sign data64, or each item of list (one call, many signatures: the key
 * is opened once), and reply. */
static int sign_with(struct hsmd_call *call, EVP_PKEY *key, const char *name, const char *type,
		     const char *data64, const json_t *list)
{
	json_t *sigs = list ? json_array() : NULL, *v;
	char *sig64 = NULL;
	size_t i, n = list ? json_array_size(list) : 1;
	int bad = 0;

	for (i = 0; i < n; i++) {
		v = list ? json_array_get(list, i) : NULL;
		sig64 = sign_one(key, list ? json_string_value(v) : data64, &bad);
		if (!sig64)
			break;
		if (sigs) {
			json_array_append_new(sigs, json_string(sig64));
			free(sig64);
			sig64 = NULL;
		}
	}
	if (i < n) {
		json_decref(sigs);
		if (bad)
			return list ? hsmd_error(call, HSMD_BAD_REQUEST,
						 "data_list: item %zu is not base64 of at most %d "
						 "bytes",
						 i, NCORE_MAX_SIGN_DATA)
				    : hsmd_error(call, HSMD_BAD_REQUEST,
						 "data: not base64 of at most %d bytes",
						 NCORE_MAX_SIGN_DATA);
		return hsmd_error(call, HSMD_FAILED, "cannot sign with '%s'", name);
	}
	if (sigs)
		hsmd_reply(call, json_pack("{s:s, s:s, s:o}", "name", name, "type", type,
					   "signatures", sigs));
	else
		hsmd_reply(call, json_pack("{s:s, s:s, s:s}", "name", name, "type", type,
					   "signature", sig64));
	free(sig64);
	return HSMD_OK;
}

static int m_key_sign(struct hsmd_call *call)
{
	char why[160];
	const char *name, *data64, *pem;
	const json_t *k;
	EVP_PKEY *key = NULL;
	BIO *b;
	int rc;

	if (ncore_params_sign(hsmd_params(call), &name, &data64, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", why);
	if ((rc = usable(call)) != HSMD_OK)
		return rc;
	k = json_object_get(json_object_get(state_of(call), "keys"), name);
	if (!k)
		return hsmd_error(call, HSMD_FAILED, "no key named '%s'", name);
	pem = json_string_value(json_object_get(k, "private"));
	if (pem && (b = BIO_new_mem_buf(pem, -1))) {
		key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	rc =
	    sign_with(call, key, name, json_string_value(json_object_get(k, "type")), data64, NULL);
	EVP_PKEY_free(key);
	return rc;
}

static int m_key_delete(struct hsmd_call *call)
{
	char why[160];
	const char *name;
	json_t *doc, *st;
	int rc;

	if (ncore_params_name(hsmd_params(call), &name, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", why);
	if ((rc = usable(call)) != HSMD_OK)
		return rc;
	if (!json_object_get(json_object_get(state_of(call), "keys"), name))
		return hsmd_error(call, HSMD_FAILED, "no key named '%s'", name);
	if (!(st = begin_state(call, &doc)))
		return HSMD_FAILED;
	json_object_del(json_object_get(st, "keys"), name);
	if (hsmd_commit(call, doc, "key_delete", json_pack("{s:s}", "name", name)) != 0)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:s, s:b}", "name", name, "deleted", 1));
	return HSMD_OK;
}

/* ---- the Security World --------------------------------------------- */

/* A world exists only in a VCM: the platform's own ncoreapi (reached with
 * the service provider's key) holds none and loads none. */
static int world_usable(struct hsmd_call *call)
{
	if (!vcm_uuid(call)[0])
		return hsmd_error(call, HSMD_DENIED,
				  "a Security World lives in a tenant's VCM, "
				  "not in the HSM's platform services");
	return usable(call);
}

static const json_t *loaded_world(struct hsmd_call *call)
{
	const json_t *w = json_object_get(state_of(call), "world");

	return json_is_object(w) ? w : NULL;
}

/* The loaded world's module key; 0, or -1 when the state is damaged. */
static int module_key(const json_t *w, uint8_t mk[HSM_WORLD_KEY_LEN])
{
	const char *b64 = json_string_value(json_object_get(w, "module_key"));
	size_t n = 0;

	if (!b64 || hsm_base64_decode(b64, mk, HSM_WORLD_KEY_LEN, &n) != 0 ||
	    n != HSM_WORLD_KEY_LEN) {
		OPENSSL_cleanse(mk, HSM_WORLD_KEY_LEN);
		return -1;
	}
	return 0;
}

/* Make a world and its cards; nothing is kept in the VCM until the host
 * has written the files and loads it with its cards (world_load), so a
 * crash at any point leaves either no world or a complete one. */
static int m_world_generate(struct hsmd_call *call)
{
	char why[256];
	unsigned k, n;
	const json_t *pass;
	const char *pw[NCORE_WORLD_MAX_CARDS];
	const char *esn = json_string_value(json_object_get(hsmd_lifetime(call), "esn"));
	json_t *world, *cards;
	int rc;

	if (ncore_params_world_generate(hsmd_params(call), &k, &n, &pass, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", why);
	if ((rc = world_usable(call)) != HSMD_OK)
		return rc;
	if (loaded_world(call))
		return hsmd_error(call, HSMD_REFUSED_STATE, "this VCM already has world %s loaded",
				  json_string_value(json_object_get(loaded_world(call), "id")));
	for (unsigned i = 0; i < n; i++)
		pw[i] = json_string_value(json_array_get(pass, i));
	if (hsm_world_generate(k, n, pw, vcm_uuid(call), esn ? esn : "unknown",
			       (long long)hsmd_now(call), &world, &cards, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_FAILED, "%s", why);
	hsmd_reply(call, json_pack("{s:o, s:o}", "world", world, "cards", cards));
	return HSMD_OK;
}

/* A load of the world already loaded: the cards must open the very
 * module key the VCM holds (a world file of the same ID made otherwise
 * is not this world).  Nothing changes either way. */
static int same_module_key(struct hsmd_call *call, const json_t *cur,
			   const uint8_t mk[HSM_WORLD_KEY_LEN])
{
	uint8_t held[HSM_WORLD_KEY_LEN];
	int rc = HSMD_OK;

	if (module_key(cur, held) != 0)
		rc = hsmd_error(call, HSMD_FAILED, "the loaded world's module key is damaged");
	else if (CRYPTO_memcmp(held, mk, HSM_WORLD_KEY_LEN) != 0)
		rc = hsmd_error(call, HSMD_DENIED,
				"the cards open another module key than that of the world "
				"loaded in this VCM");
	OPENSSL_cleanse(held, sizeof(held));
	return rc;
}

/* Open the cards, combine the shares and unwrap the module key; only a
 * world that fully checks out is committed (one atomic write), so a
 * refusal or a crash leaves nothing of it loaded. */
static int m_world_load(struct hsmd_call *call)
{
	char why[256];
	const json_t *wdoc, *cards, *cur, *entry;
	struct hsm_world w;
	uint8_t xs[NCORE_WORLD_MAX_CARDS], (*shares)[HSM_WORLD_KEY_LEN] = NULL,
					   mk[HSM_WORLD_KEY_LEN];
	unsigned count = 0;
	size_t i;
	json_t *doc, *st;
	char *mk64;
	int rc;

	if (ncore_params_world_load(hsmd_params(call), &wdoc, &cards, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", why);
	if ((rc = world_usable(call)) != HSMD_OK)
		return rc;
	if (hsm_world_parse(wdoc, &w, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_DENIED, "world file: %s", why);
	/* Loading the world this VCM already has is no shortcut: the cards
	 * are checked in full below all the same, so a load never succeeds
	 * without a quorum of cards that open this world. */
	cur = loaded_world(call);
	if (cur && strcmp(json_string_value(json_object_get(cur, "id")) ?: "", w.id) != 0) {
		rc = hsmd_error(call, HSMD_REFUSED_STATE,
				"this VCM already has another world loaded (%s)",
				json_string_value(json_object_get(cur, "id")));
		hsm_world_clear(&w);
		return rc;
	}
	shares = OPENSSL_secure_malloc(NCORE_WORLD_MAX_CARDS * HSM_WORLD_KEY_LEN);
	if (!shares) {
		hsm_world_clear(&w);
		return hsmd_error(call, HSMD_FAILED, "out of memory");
	}
	rc = HSMD_OK;
	/* Check every card against the world before opening any (scrypt is
	 * the slow part; a card of another world is refused at once). */
	json_array_foreach(cards, i, entry)
	{
		struct hsm_world_card c;

		if (hsm_world_card_parse(json_object_get(entry, "card"), &c, why, sizeof(why)) !=
		    0) {
			rc = hsmd_error(call, HSMD_BAD_REQUEST, "card file %zu: %s", i + 1, why);
			break;
		}
		if (strcmp(c.world, w.id) != 0) {
			rc = hsmd_error(call, HSMD_DENIED,
					"card %u belongs to world %s, not to world %s", c.index,
					c.world, w.id);
			break;
		}
		if (c.k != w.k || c.n != w.n) {
			rc = hsmd_error(call, HSMD_DENIED,
					"card %u says quorum %u/%u, the world %u/%u", c.index, c.k,
					c.n, w.k, w.n);
			break;
		}
		for (unsigned j = 0; j < count; j++)
			if (xs[j] == c.index)
				rc = hsmd_error(call, HSMD_BAD_REQUEST, "card %u was given twice",
						c.index);
		if (rc != HSMD_OK)
			break;
		xs[count++] = (uint8_t)c.index;
	}
	if (rc == HSMD_OK && count < w.k)
		rc = hsmd_error(call, HSMD_DENIED, "the quorum is %u of %u cards: %u given", w.k,
				w.n, count);
	/* Open only as many as the quorum needs. */
	for (i = 0; rc == HSMD_OK && i < w.k; i++) {
		struct hsm_world_card c;
		const json_t *e = json_array_get(cards, i);

		hsm_world_card_parse(json_object_get(e, "card"), &c, why, sizeof(why));
		if (hsm_world_card_open(&c, json_string_value(json_object_get(e, "passphrase")),
					shares[i], why, sizeof(why)) != 0)
			rc = hsmd_error(call, HSMD_DENIED, "%s", why);
	}
	if (rc == HSMD_OK && hsm_world_unlock(&w, xs, (const uint8_t(*)[HSM_WORLD_KEY_LEN])shares,
					      w.k, mk, why, sizeof(why)) != 0)
		rc = hsmd_error(call, HSMD_DENIED, "%s", why);
	OPENSSL_secure_clear_free(shares, NCORE_WORLD_MAX_CARDS * HSM_WORLD_KEY_LEN);
	if (rc == HSMD_OK && cur)
		rc = same_module_key(call, cur, mk);
	if (rc != HSMD_OK || cur) {
		OPENSSL_cleanse(mk, sizeof(mk));
		if (rc == HSMD_OK)
			hsmd_reply(call, json_pack("{s:s, s:i, s:i, s:b}", "world", w.id, "k",
						   (int)w.k, "n", (int)w.n, "already_loaded", 1));
		hsm_world_clear(&w);
		return rc;
	}
	mk64 = hsm_base64_encode(mk, sizeof(mk));
	OPENSSL_cleanse(mk, sizeof(mk));
	if (!mk64 || !(st = begin_state(call, &doc))) {
		if (mk64)
			OPENSSL_clear_free(mk64, strlen(mk64));
		hsm_world_clear(&w);
		return HSMD_FAILED;
	}
	json_object_set_new(st, "world",
			    json_pack("{s:s, s:i, s:i, s:s, s:I}", "id", w.id, "k", (int)w.k, "n",
				      (int)w.n, "module_key", mk64, "loaded",
				      (json_int_t)hsmd_now(call)));
	OPENSSL_clear_free(mk64, strlen(mk64));
	if (hsmd_commit(
		call, doc, "world_load",
		json_pack("{s:s, s:i, s:i}", "world", w.id, "k", (int)w.k, "n", (int)w.n)) != 0) {
		hsm_world_clear(&w);
		return HSMD_FAILED;
	}
	hsmd_reply(call, json_pack("{s:s, s:i, s:i, s:b}", "world", w.id, "k", (int)w.k, "n",
				   (int)w.n, "already_loaded", 0));
	hsm_world_clear(&w);
	return HSMD_OK;
}

static int m_world_info(struct hsmd_call *call)
{
	const json_t *w;
	int rc;

	if (ncore_params_empty(hsmd_params(call), NULL, 0) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "world_info takes no parameters");
	if ((rc = world_usable(call)) != HSMD_OK)
		return rc;
	if (!(w = loaded_world(call))) {
		hsmd_reply(call, json_pack("{s:b, s:s}", "loaded", 0, "uuid", vcm_uuid(call)));
		return HSMD_OK;
	}
	hsmd_reply(call,
		   json_pack("{s:b, s:s, s:O, s:O, s:O, s:O}", "loaded", 1, "uuid", vcm_uuid(call),
			     "world", json_object_get(w, "id"), "k", json_object_get(w, "k"), "n",
			     json_object_get(w, "n"), "loaded_at", json_object_get(w, "loaded")));
	return HSMD_OK;
}

/* A new key wrapped by the loaded world's module key; the VCM keeps
 * nothing of it. */
static int m_blob_generate(struct hsmd_call *call)
{
	char why[256];
	const char *name, *type;
	const json_t *w;
	uint8_t mk[HSM_WORLD_KEY_LEN];
	EVP_PKEY *key;
	json_t *blob;
	int rc;

	if (ncore_params_generate(hsmd_params(call), &name, &type, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", why);
	if ((rc = world_usable(call)) != HSMD_OK)
		return rc;
	if (!(w = loaded_world(call)))
		return hsmd_error(call, HSMD_REFUSED_STATE,
				  "no Security World is loaded in this VCM "
				  "(hsmadmin vcm world create or load)");
	if (module_key(w, mk) != 0)
		return hsmd_error(call, HSMD_FAILED, "the loaded world's module key is damaged");
	if (!(key = generate(type))) {
		OPENSSL_cleanse(mk, sizeof(mk));
		return hsmd_error(call, HSMD_FAILED, "cannot generate the %s key", type);
	}
	blob =
	    hsm_key_blob_wrap(mk, json_string_value(json_object_get(w, "id")), name, type,
			      HSM_KEY_PERM_SIGN, key, (long long)hsmd_now(call), why, sizeof(why));
	OPENSSL_cleanse(mk, sizeof(mk));
	EVP_PKEY_free(key);
	if (!blob)
		return hsmd_error(call, HSMD_FAILED, "%s", why);
	hsmd_reply(call, json_pack("{s:s, s:s, s:O, s:o}", "name", name, "type", type, "public",
				   json_object_get(blob, "public"), "blob", blob));
	return HSMD_OK;
}

/* Sign with a blob: it opens only with the module key of its own world,
 * and only when its bound permissions include signing. */
static int m_blob_sign(struct hsmd_call *call)
{
	char why[256];
	const json_t *bdoc, *w;
	const char *data64;
	const json_t *list;
	struct hsm_key_blob b;
	uint8_t mk[HSM_WORLD_KEY_LEN];
	EVP_PKEY *key;
	int rc;

	if (ncore_params_blob_sign(hsmd_params(call), &bdoc, &data64, &list, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", why);
	if ((rc = world_usable(call)) != HSMD_OK)
		return rc;
	if (hsm_key_blob_parse(bdoc, &b, why, sizeof(why)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "key blob: %s", why);
	if (!(w = loaded_world(call)))
		rc = hsmd_error(call, HSMD_REFUSED_STATE,
				"key '%s' belongs to world %s; no Security World is "
				"loaded in this VCM",
				b.name, b.world);
	else if (strcmp(json_string_value(json_object_get(w, "id")) ?: "", b.world) != 0)
		rc = hsmd_error(call, HSMD_DENIED,
				"key '%s' belongs to world %s, not to this VCM's world %s", b.name,
				b.world, json_string_value(json_object_get(w, "id")));
	else if (!(b.perms & HSM_KEY_PERM_SIGN))
		rc = hsmd_error(call, HSMD_DENIED, "key '%s' is not permitted to sign", b.name);
	else if (module_key(w, mk) != 0)
		rc = hsmd_error(call, HSMD_FAILED, "the loaded world's module key is damaged");
	if (rc != HSMD_OK) {
		hsm_key_blob_clear(&b);
		return rc;
	}
	key = hsm_key_blob_unwrap(mk, &b, why, sizeof(why));
	OPENSSL_cleanse(mk, sizeof(mk));
	rc = key ? sign_with(call, key, b.name, b.type, data64, list)
		 : hsmd_error(call, HSMD_DENIED, "%s", why);
	EVP_PKEY_free(key);
	hsm_key_blob_clear(&b);
	return rc;
}

static const struct hsmd_method methods[] = {
	{ .name = "enquiry",
	  .handler = m_enquiry,
	  .summary = "module identity, mode, boot id, failure" },
	{ .name = "info", .handler = m_info, .summary = "the HSM that hosts this VCM" },
	{ .name = "getenvstats",
	  .handler = m_getenvstats,
	  .summary = "times (Unix seconds) and uptime" },
	{ .name = "set_mode",
	  .handler = m_set_mode,
	  .summary = "operational, maintenance or initialization mode (nopclearfail)" },
	{ .name = "fail",
	  .handler = m_fail,
	  .summary = "mark the module failed (nopclearfail -F)" },
	{ .name = "clear",
	  .handler = m_clear,
	  .summary = "clear from maintenance mode (nopclearfail -c)" },
	{ .name = "retry",
	  .handler = m_retry,
	  .summary = "re-establish a lost module (nopclearfail -r)" },
	{ .name = "key_generate", .handler = m_key_generate, .summary = "new ed25519 or p256 key" },
	{ .name = "key_list",
	  .handler = m_key_list,
	  .summary = "the keys of the store (public parts)" },
	{ .name = "key_sign", .handler = m_key_sign, .summary = "sign data with a stored key" },
	{ .name = "key_delete", .handler = m_key_delete, .summary = "delete a stored key" },
	{ .name = "world_generate",
	  .handler = m_world_generate,
	  .summary = "make a Security World: the world file and its sealed cards" },
	{ .name = "world_load",
	  .handler = m_world_load,
	  .summary = "load a world with a quorum of its cards" },
	{ .name = "world_info",
	  .handler = m_world_info,
	  .summary = "the world loaded in this VCM" },
	{ .name = "blob_generate",
	  .handler = m_blob_generate,
	  .summary = "new key, returned as a blob wrapped by the world's module key" },
	{ .name = "blob_sign",
	  .handler = m_blob_sign,
	  .summary = "sign data with a key blob of the loaded world" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,  .name = "ncoreapi", .version = PACKAGE_VERSION,
	.default_port = 2203, .methods = methods, .init = ncore_init,
};
