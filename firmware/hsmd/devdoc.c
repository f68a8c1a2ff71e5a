/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devdoc.c - validation of the state documents and the device clock.
 *
 * Everything here is a pure function of its inputs (no files), so the fuzz
 * targets drive exactly what hsmd runs at start-up.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include <hsmadmin/netaddr.h>
#include "licence.h"
#include "sign.h"
#include "modules.h"
#include "devdoc.h"
#include "vcmrules.h"
#include "hsmd.h"

#define MAX_TIME (INT64_C(1) << 40)
#define MAX_LOG_LINE 65536

static int known_service(const char *name)
{
	for (size_t i = 0; i < hd_known_service_count; i++)
		if (strcmp(hd_known_services[i].name, name) == 0)
			return 1;
	return 0;
}

static int printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static int openssh_key_valid(const char *line)
{
	char e[128];
	EVP_PKEY *k;

	if (strlen(line) > 200)
		return 0;
	k = hsm_key_from_openssh(line, e, sizeof(e));
	if (!k)
		return 0;
	EVP_PKEY_free(k);
	return 1;
}

static int address_valid(const char *a)
{
	struct hsm_ipaddr ip;
	char why[128];

	return hsm_ip_parse(a, 0, &ip, why, sizeof(why)) == 0;
}

static int check_ports(const json_t *ports, char *err, size_t errlen)
{
	const char *name;
	json_t *v;
	uint32_t seen[65536 / 32] = { 0 };

	if (!json_is_object(ports) || json_object_size(ports) == 0)
		return hsm_set_err(err, errlen, "ports: not an object of service ports");
	json_object_foreach((json_t *)ports, name, v)
	{
		json_int_t p;
		if (!hd_name_valid(name))
			return hsm_set_err(err, errlen, "ports: bad service name");
		if (!json_is_integer(v) || (p = json_integer_value(v)) < 1 || p > 65535)
			return hsm_set_err(err, errlen, "ports: %s: not a port number 1-65535",
					   name);
		if (seen[p / 32] & (1u << (p % 32)))
			return hsm_set_err(err, errlen, "ports: %s: port %d used twice", name,
					   (int)p);
		seen[p / 32] |= 1u << (p % 32);
	}
	return 0;
}

int hd_lifetime_validate(const json_t *doc, char *err, size_t errlen)
{
	char jwhy[256];
	json_int_t version, mfgtime, features;
	const char *esn, *psn, *speed, *idkey, *address, *dbid = NULL;
	json_t *warrant, *ports;
	const json_t *body;
	char inner[256];

	if (hsm_json_unpack((json_t *)doc, JSON_STRICT, jwhy, sizeof(jwhy),
			    "{s:I, s:s, s:s, s:I, s:s, s:I, s:s, s:o, s:s, s:o, s?:s}", "version",
			    &version, "esn", &esn, "psn", &psn, "mfgtime", &mfgtime, "speed",
			    &speed, "features", &features, "identity_key", &idkey, "warrant",
			    &warrant, "address", &address, "ports", &ports, "dbid", &dbid) != 0)
		return hsm_set_err(err, errlen, "%s", jwhy);
	if (dbid && !printable(dbid, 32))
		return hsm_set_err(err, errlen, "dbid: not 1-32 printable characters");
	if (version != HD_DOC_VERSION)
		return hsm_set_err(err, errlen, "version %lld is not %d", (long long)version,
				   HD_DOC_VERSION);
	if (!hsm_esn_valid(esn))
		return hsm_set_err(err, errlen, "esn: not an ESN like 1A23-BC45-6789");
	if (!printable(psn, 32))
		return hsm_set_err(err, errlen, "psn: not 1-32 printable characters");
	if (mfgtime < 0 || mfgtime > MAX_TIME)
		return hsm_set_err(err, errlen, "mfgtime: out of range");
	if (strcmp(speed, "base") && strcmp(speed, "mid") && strcmp(speed, "high"))
		return hsm_set_err(err, errlen, "speed: not base, mid or high");
	if (features < 0 || features > 0xffffffffLL)
		return hsm_set_err(err, errlen, "features: not a 32-bit word");
	if (!openssh_key_valid(idkey))
		return hsm_set_err(err, errlen, "identity_key: not an ssh-ed25519 public key");
	if (!address_valid(address))
		return hsm_set_err(err, errlen, "address: not an IPv4 or IPv6 address");
	if (check_ports(ports, err, errlen) != 0)
		return -1;
	/* The warrant must be a valid signature over this device's own
	 * identity; whether its signer is a trusted vendor is the host's
	 * question (docs/protocol.md). */
	if (hsm_signed_verify(warrant, NULL, &body, NULL, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "warrant: %s", inner);
	if (!json_is_string(json_object_get(body, "esn")) ||
	    strcmp(json_string_value(json_object_get(body, "esn")), esn) != 0 ||
	    !json_is_string(json_object_get(body, "identity_key")) ||
	    strcmp(json_string_value(json_object_get(body, "identity_key")), idkey) != 0)
		return hsm_set_err(err, errlen, "warrant: does not name this ESN and identity key");
	return 0;
}

static int check_clock(const json_t *clock, char *err, size_t errlen)
{
	char jwhy[256];
	json_int_t offset, start, delta;
	json_int_t high_water = 0;
	json_t *last_set, *slew;
	int lost;

	if (hsm_json_unpack((json_t *)clock, JSON_STRICT, jwhy, sizeof(jwhy),
			    "{s:I, s:o, s:b, s:o, s?I}", "offset", &offset, "last_set", &last_set,
			    "lost", &lost, "slew", &slew, "high_water", &high_water) != 0)
		return hsm_set_err(err, errlen, "clock: %s", jwhy);
	if (high_water < 0 || high_water > MAX_TIME)
		return hsm_set_err(err, errlen, "clock: high_water out of range");
	if (offset < -MAX_TIME || offset > MAX_TIME)
		return hsm_set_err(err, errlen, "clock: offset out of range");
	if (!json_is_null(last_set) &&
	    (!json_is_integer(last_set) || json_integer_value(last_set) < 0 ||
	     json_integer_value(last_set) > MAX_TIME))
		return hsm_set_err(err, errlen, "clock: last_set is not a time or null");
	if (json_is_null(slew))
		return 0;
	if (hsm_json_unpack(slew, JSON_STRICT, jwhy, sizeof(jwhy), "{s:I, s:I}", "start", &start,
			    "delta", &delta) != 0)
		return hsm_set_err(err, errlen, "clock: slew: %s", jwhy);
	if (start < 0 || start > MAX_TIME || delta < -MAX_TIME || delta > MAX_TIME)
		return hsm_set_err(err, errlen, "clock: slew out of range");
	return 0;
}

static int check_string_map(const json_t *obj, const char *what, int known_only, size_t maxlen,
			    char *err, size_t errlen)
{
	const char *name;
	json_t *v;

	if (!json_is_object(obj))
		return hsm_set_err(err, errlen, "%s: not an object", what);
	json_object_foreach((json_t *)obj, name, v)
	{
		if (!hd_name_valid(name) || (known_only && !known_service(name)))
			return hsm_set_err(err, errlen, "%s: unknown service '%.48s'", what, name);
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > maxlen)
			return hsm_set_err(err, errlen, "%s: %s: not a string", what, name);
	}
	return 0;
}

int hd_log_entry_validate(const json_t *entry, char *err, size_t errlen)
{
	char jwhy[256];
	json_int_t seq, time;
	const char *event;
	json_t *detail;

	if (hsm_json_unpack((json_t *)entry, JSON_STRICT, jwhy, sizeof(jwhy),
			    "{s:I, s:I, s:s, s:o}", "seq", &seq, "time", &time, "event", &event,
			    "detail", &detail) != 0)
		return hsm_set_err(err, errlen, "%s", jwhy);
	if (seq < 1 || seq > MAX_TIME * 1024)
		return hsm_set_err(err, errlen, "seq out of range");
	if (time < 0 || time > MAX_TIME)
		return hsm_set_err(err, errlen, "time out of range");
	if (!hd_name_valid(event))
		return hsm_set_err(err, errlen, "event is not a name");
	if (!json_is_object(detail))
		return hsm_set_err(err, errlen, "detail is not an object");
	return 0;
}

static int check_log(const json_t *log, char *err, size_t errlen)
{
	char jwhy[256];
	json_int_t next_seq, segment, epoch = 1, since = 1;
	const char *key;
	int critical;
	json_t *pending, *keys = NULL, *k;
	char inner[256];
	size_t i;

	if (hsm_json_unpack((json_t *)log, JSON_STRICT, jwhy, sizeof(jwhy),
			    "{s:I, s:I, s:s, s:b, s:o, s?I, s?I, s?o}", "next_seq", &next_seq,
			    "segment", &segment, "key", &key, "critical", &critical, "pending",
			    &pending, "epoch", &epoch, "since", &since, "keys", &keys) != 0)
		return hsm_set_err(err, errlen, "log: %s", jwhy);
	if (next_seq < 1 || next_seq > MAX_TIME * 1024 || segment < 1 || segment > MAX_TIME)
		return hsm_set_err(err, errlen, "log: sequence numbers out of range");
	if (epoch < 1 || epoch > 1000000 || since < 1 || since > MAX_TIME * 1024)
		return hsm_set_err(err, errlen, "log: epoch or since out of range");
	/* The verification keys of every epoch, each certified by the
	 * identity key (logs_getkey hands them out). */
	if (keys && (!json_is_array(keys) || json_array_size(keys) > 4096))
		return hsm_set_err(err, errlen, "log: keys is not an array of at most 4096");
	json_array_foreach(keys, i, k)
	{
		json_int_t ke, ks;
		const char *kl;
		json_t *cert;
		if (hsm_json_unpack(k, JSON_STRICT, jwhy, sizeof(jwhy), "{s:I, s:I, s:s, s:o}",
				    "epoch", &ke, "since", &ks, "key", &kl, "certificate",
				    &cert) != 0)
			return hsm_set_err(err, errlen, "log: keys[%zu]: %s", i, jwhy);
		if (!openssh_key_valid(kl) || !json_is_object(cert))
			return hsm_set_err(err, errlen, "log: keys[%zu]: bad key or certificate",
					   i);
	}
	if (strncmp(key, "-----BEGIN PRIVATE KEY-----", 27) != 0 || strlen(key) > 4096)
		return hsm_set_err(err, errlen, "log: key is not a PEM private key");
	if (!json_is_null(pending)) {
		if (hd_log_entry_validate(pending, inner, sizeof(inner)) != 0)
			return hsm_set_err(err, errlen, "log: pending: %s", inner);
		if (json_integer_value(json_object_get(pending, "seq")) >= next_seq)
			return hsm_set_err(err, errlen,
					   "log: pending entry is not before next_seq");
	}
	return 0;
}

/* ---- members of the setup service (fet, setnetwork) and of the orchestrator
 * All optional: absent means no licence, the default VCM network, no VCM. */

/* "licence": null or the licence as applied; its text must parse (the
 * signature was verified when fet applied it) and the copied fields must
 * be the text's, so that readers may trust them. */
static int check_licence(const json_t *lic, char *err, size_t errlen)
{
	char jwhy[256];
	json_int_t max, features, serial, issued;
	const char *text;
	json_t *speed;
	struct hsm_licence *parsed;
	char inner[384];
	int same;

	if (json_is_null(lic))
		return 0;
	if (hsm_json_unpack((json_t *)lic, JSON_STRICT, jwhy, sizeof(jwhy),
			    "{s:s, s:I, s:I, s:o, s:I, s:I}", "text", &text, "max_active_vcms",
			    &max, "features", &features, "speed_upgrade", &speed, "serial", &serial,
			    "issued", &issued) != 0)
		return hsm_set_err(err, errlen, "licence: %s", jwhy);
	if (hsm_licence_parse(text, json_string_length(json_object_get(lic, "text")), &parsed,
			      inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "licence: text: %s", inner);
	same = max == (json_int_t)parsed->max_active_vcms &&
	       features == (json_int_t)parsed->features && serial == parsed->serial &&
	       issued == parsed->issued &&
	       (parsed->speed_upgrade == HSM_LICENCE_SPEED_NONE
		    ? json_is_null(speed)
		    : json_is_string(speed) &&
			  strcmp(json_string_value(speed),
				 hsm_licence_speed_name(parsed->speed_upgrade)) == 0);
	hsm_licence_free(parsed);
	if (!same)
		return hsm_set_err(err, errlen, "licence: fields do not match the licence text");
	return 0;
}

/* Is lic the licence of prev, a document already validated (loaded or
 * committed), member for member and its text byte for byte?  Then the
 * licence was checked when prev was: every commit (a VCM create, a key
 * roll) need not parse it again.  Any other licence, or none before, is
 * checked in full. */
static int same_licence(const json_t *lic, const json_t *prev)
{
	const json_t *old = json_object_get(prev, "licence");

	return old && json_is_object(lic) && json_equal((json_t *)lic, (json_t *)old);
}

/* One VCM network: {"mode":"default","address":null,"gateway":null} or a
 * static network that passes the rules of hsm_netconfig_parse. */
static int check_network(const json_t *net, const char *what, char *err, size_t errlen)
{
	char jwhy[256];
	const char *mode;
	json_t *address, *gateway;
	struct hsm_netconfig cfg;
	char inner[256];
	int family;

	if (hsm_json_unpack((json_t *)net, JSON_STRICT, jwhy, sizeof(jwhy), "{s:s, s:o, s:o}",
			    "mode", &mode, "address", &address, "gateway", &gateway) != 0)
		return hsm_set_err(err, errlen, "vcm_network: %s: %s", what, jwhy);
	if (strcmp(mode, "default") == 0) {
		if (!json_is_null(address) || !json_is_null(gateway))
			return hsm_set_err(err, errlen,
					   "vcm_network: %s: default has no address or gateway",
					   what);
		return 0;
	}
	if (strcmp(mode, "ipv4static") == 0)
		family = 4;
	else if (strcmp(mode, "ipv6static") == 0)
		family = 6;
	else
		return hsm_set_err(err, errlen,
				   "vcm_network: %s: mode is not default, ipv4static or ipv6static",
				   what);
	if (!json_is_string(address) || !json_is_string(gateway))
		return hsm_set_err(err, errlen,
				   "vcm_network: %s: address and gateway must be strings", what);
	if (hsm_netconfig_parse(family, json_string_value(address), json_string_value(gateway),
				&cfg, inner, sizeof(inner)) != 0)
		return hsm_set_err(err, errlen, "vcm_network: %s: %s", what, inner);
	return 0;
}

static int check_vcm_network(const json_t *vn, char *err, size_t errlen)
{
	char jwhy[256];
	json_t *current, *pending;

	if (hsm_json_unpack((json_t *)vn, JSON_STRICT, jwhy, sizeof(jwhy), "{s:o, s:o}", "current",
			    &current, "pending", &pending) != 0)
		return hsm_set_err(err, errlen, "vcm_network: %s", jwhy);
	if (check_network(current, "current", err, errlen) != 0)
		return -1;
	if (!json_is_null(pending) && check_network(pending, "pending", err, errlen) != 0)
		return -1;
	return 0;
}

static int validate(const json_t *doc, const json_t *prev, const json_t *changed,
		    const struct fw_vcms_index *idx, char *err, size_t errlen);

int hd_device_validate(const json_t *doc, char *err, size_t errlen)
{
	return validate(doc, NULL, NULL, NULL, err, errlen);
}

int hd_device_validate_since(const json_t *doc, const json_t *prev, char *err, size_t errlen)
{
	return validate(doc, prev, NULL, NULL, err, errlen);
}

int hd_device_validate_change(const json_t *doc, const json_t *prev, const json_t *changed,
			      const struct fw_vcms_index *idx, char *err, size_t errlen)
{
	return validate(doc, prev, changed, idx, err, errlen);
}

/* The registry: every entry and the rules between them, or (changed and
 * idx given) the changed entries alone against the index of prev's. */
static int validate(const json_t *doc, const json_t *prev, const json_t *changed,
		    const struct fw_vcms_index *idx, char *err, size_t errlen)
{
	char jwhy[256];
	json_int_t version, min_vsn, vsn;
	const char *state, *mode, *primary, *recovery, *uboot, *selected;
	json_t *host_keys, *certs, *client_keys, *clock, *firmware, *accel, *log, *emul, *services;
	json_t *pending, *v;
	json_t *licence = NULL, *vcm_network = NULL, *vcms = NULL; /* optional */
	const char *image = NULL;                                  /* optional: primary */
	int ncoreapi;
	const char *name;

	if (hsm_json_unpack(
		(json_t *)doc, JSON_STRICT, jwhy, sizeof(jwhy),
		"{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s?o, "
		"s?o, s?o, s?s}",
		"version", &version, "state", &state, "mode", &mode, "host_keys", &host_keys,
		"certificates", &certs, "client_keys", &client_keys, "clock", &clock, "min_vsn",
		&min_vsn, "firmware", &firmware, "acceleration", &accel, "log", &log, "emulation",
		&emul, "services", &services, "licence", &licence, "vcm_network", &vcm_network,
		"vcms", &vcms, "image", &image) != 0)
		return hsm_set_err(err, errlen, "%s", jwhy);
	/* Written only for the recovery image (absent: primary). */
	if (image && strcmp(image, "recovery") != 0)
		return hsm_set_err(
		    err, errlen, "image: not recovery (the primary image is written as no member)");
	if (licence && !same_licence(licence, prev) && check_licence(licence, err, errlen) != 0)
		return -1;
	if (vcm_network && check_vcm_network(vcm_network, err, errlen) != 0)
		return -1;
	/* "vcms": every rule of firmware/lib/vcmrules.c.  Changes without an
	 * index: prev's registry may be doc's, changed in place, so every
	 * entry is checked. */
	if (vcms && changed && idx) {
		if (fw_vcms_validate_changes(vcms, changed, idx, err, errlen) != 0)
			return -1;
	} else if (vcms &&
		   fw_vcms_validate_since(vcms, changed ? NULL : json_object_get(prev, "vcms"), err,
					  errlen) != 0) {
		return -1;
	}
	if (version != HD_DOC_VERSION)
		return hsm_set_err(err, errlen, "version %lld is not %d", (long long)version,
				   HD_DOC_VERSION);
	if (strcmp(state, "factory") && strcmp(state, "enrolled"))
		return hsm_set_err(err, errlen, "state: not factory or enrolled");
	if (strcmp(mode, "operational") && strcmp(mode, "maintenance") &&
	    strcmp(mode, "initialization"))
		return hsm_set_err(err, errlen,
				   "mode: not operational, maintenance or initialization");
	if (check_string_map(host_keys, "host_keys", 1, 4096, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < hd_known_service_count; i++)
		if (!json_object_get(host_keys, hd_known_services[i].name))
			return hsm_set_err(err, errlen, "host_keys: no key for %s",
					   hd_known_services[i].name);
	if (!json_is_object(certs))
		return hsm_set_err(err, errlen, "certificates: not an object");
	json_object_foreach(
	    certs, name,
	    v) if (!known_service(name) ||
		   !json_is_object(v)) return hsm_set_err(err, errlen,
							  "certificates: bad entry '%.48s'", name);
	if (check_string_map(client_keys, "client_keys", 0, 200, err, errlen) != 0)
		return -1;
	json_object_foreach(client_keys, name, v) if (
	    !openssh_key_valid(json_string_value(
		v))) return hsm_set_err(err, errlen,
					"client_keys: %s: not an ssh-ed25519 public key", name);
	if (!strcmp(state, "factory") && json_object_size(client_keys) != 0)
		return hsm_set_err(err, errlen, "client_keys: must be empty in factory state");
	if (!strcmp(state, "enrolled") && !json_object_get(client_keys, "sshadmin"))
		return hsm_set_err(err, errlen, "client_keys: enrolled without an sshadmin key");
	if (check_clock(clock, err, errlen) != 0)
		return -1;
	if (hsm_json_unpack(firmware, JSON_STRICT, jwhy, sizeof(jwhy), "{s:s, s:s, s:s, s:I}",
			    "primary", &primary, "recovery", &recovery, "uboot", &uboot, "vsn",
			    &vsn) != 0)
		return hsm_set_err(err, errlen, "firmware: %s", jwhy);
	if (!printable(primary, 32) || !printable(recovery, 32) || !printable(uboot, 32))
		return hsm_set_err(err, errlen,
				   "firmware: versions must be 1-32 printable characters");
	if (vsn < 1 || vsn > 1000000 || min_vsn < 1 || min_vsn > vsn)
		return hsm_set_err(err, errlen, "min_vsn: must be from 1 to the installed VSN");
	if (hsm_json_unpack(accel, JSON_STRICT, jwhy, sizeof(jwhy), "{s:s, s:o}", "selected",
			    &selected, "pending", &pending) != 0)
		return hsm_set_err(err, errlen, "acceleration: %s", jwhy);
	if (!hd_name_valid(selected) ||
	    (!json_is_null(pending) &&
	     (!json_is_string(pending) || !hd_name_valid(json_string_value(pending)))))
		return hsm_set_err(err, errlen, "acceleration: not an accelerator name");
	if (check_log(log, err, errlen) != 0)
		return -1;
	if (hsm_json_unpack(emul, JSON_STRICT, jwhy, sizeof(jwhy), "{s:b}", "ncoreapi_operational",
			    &ncoreapi) != 0)
		return hsm_set_err(err, errlen, "emulation: %s", jwhy);
	if (!json_is_object(services))
		return hsm_set_err(err, errlen, "services: not an object");
	json_object_foreach(
	    services, name,
	    v) if (!hd_name_valid(name) ||
		   !json_is_object(v)) return hsm_set_err(err, errlen,
							  "services: bad entry '%.48s'", name);
	return 0;
}

/* ---- the clock -------------------------------------------------------- */

void hd_clock_get(const json_t *device, struct hd_clock *clk)
{
	const json_t *c = json_object_get(device, "clock");
	const json_t *ls = json_object_get(c, "last_set"), *slew = json_object_get(c, "slew");

	memset(clk, 0, sizeof(*clk));
	clk->offset = json_integer_value(json_object_get(c, "offset"));
	clk->have_last_set = json_is_integer(ls);
	clk->last_set = json_integer_value(ls);
	clk->lost = json_is_true(json_object_get(c, "lost"));
	clk->slewing = json_is_object(slew);
	clk->slew_start = json_integer_value(json_object_get(slew, "start"));
	clk->slew_delta = json_integer_value(json_object_get(slew, "delta"));
	clk->high_water = json_integer_value(json_object_get(c, "high_water"));
}

void hd_clock_put(json_t *device, const struct hd_clock *clk)
{
	json_object_set_new(
	    device, "clock",
	    json_pack("{s:I, s:o, s:b, s:o}", "offset", (json_int_t)clk->offset, "last_set",
		      clk->have_last_set ? json_integer(clk->last_set) : json_null(), "lost",
		      clk->lost, "slew",
		      clk->slewing ? json_pack("{s:I, s:I}", "start", (json_int_t)clk->slew_start,
					       "delta", (json_int_t)clk->slew_delta)
				   : json_null()));
	if (clk->high_water > 0)
		json_object_set_new(json_object_get(device, "clock"), "high_water",
				    json_integer(clk->high_water));
}

int64_t hd_clock_slewed(const struct hd_clock *clk, int64_t host_now, unsigned per_day)
{
	int64_t elapsed, moved, mag;

	if (!clk->slewing || host_now <= clk->slew_start)
		return 0;
	elapsed = host_now - clk->slew_start;
	if (elapsed > MAX_TIME)
		elapsed = MAX_TIME;
	moved = elapsed * (int64_t)per_day / 86400;
	mag = clk->slew_delta < 0 ? -clk->slew_delta : clk->slew_delta;
	if (moved > mag)
		moved = mag;
	return clk->slew_delta < 0 ? -moved : moved;
}

int64_t hd_clock_now(const struct hd_clock *clk, int64_t host_now, unsigned per_day)
{
	return host_now + clk->offset + hd_clock_slewed(clk, host_now, per_day);
}

void hd_clock_adjust(struct hd_clock *clk, int64_t host_now, unsigned per_day, int64_t delta)
{
	clk->offset += hd_clock_slewed(clk, host_now, per_day);
	clk->slewing = delta != 0;
	clk->slew_start = host_now;
	clk->slew_delta = delta;
}

/* ---- logs ------------------------------------------------------------- */

json_t *hd_log_parse(const char *text, size_t len, size_t *good_len, char *err, size_t errlen)
{
	json_t *entries = json_array();
	size_t pos = 0, lineno = 0;
	json_int_t last = 0;
	char inner[256];

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n;
		json_t *e;

		if (!nl)
			break; /* torn tail: dropped */
		n = (size_t)(nl - (text + pos));
		lineno++;
		if (n == 0 || n > MAX_LOG_LINE) {
			json_decref(entries);
			hsm_set_err(err, errlen, "line %zu: %s", lineno, n ? "too long" : "empty");
			return NULL;
		}
		e = hsm_json_parse(text + pos, n, MAX_LOG_LINE, inner, sizeof(inner));
		if (!e || hd_log_entry_validate(e, inner, sizeof(inner)) != 0) {
			json_decref(e);
			json_decref(entries);
			hsm_set_err(err, errlen, "line %zu: %s", lineno, inner);
			return NULL;
		}
		if (json_integer_value(json_object_get(e, "seq")) <= last) {
			json_decref(e);
			json_decref(entries);
			hsm_set_err(err, errlen, "line %zu: sequence number does not increase",
				    lineno);
			return NULL;
		}
		last = json_integer_value(json_object_get(e, "seq"));
		json_array_append_new(entries, e);
		pos += n + 1;
	}
	*good_len = pos;
	return entries;
}
