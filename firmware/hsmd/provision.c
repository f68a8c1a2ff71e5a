/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provision.c - `hsmd provision`: make a new emulated HSM as a factory
 * would: lifetime data, the identity key and its vendor warrant, then the
 * factory state (host keys, certificates, log key).
 *
 * Files are written so that an interrupted provisioning is never mistaken
 * for a finished one: lifetime.json, whose presence means "provisioned",
 * is written last.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <hsmadmin/features.h>
#include <hsmadmin/fileio.h>
#include <hsmadmin/netaddr.h>
#include "sign.h"
#include "cmdline.h"
#include "enrollsecret.h"
#include "modules.h"
#include "images.h"
#include "provision.h"
#include "store.h"

/* The manufacturing database record of every emulated HSM (guide 4.9.6
 * shows a real one as "dbid : PLEXUS-01"). */
#define HD_DBID "HSMD-EMU-01"

struct prov_opts {
	const char *state, *esn, *psn, *speed, *address, *vendor_key, *module_conf, *features;
	uint16_t ports[16];
	const char *firmware[3]; /* packages to install (primary, recovery, bootloader) */
	size_t nfirmware;
};

static void provision_help(void)
{
	printf("Usage: hsmd provision --state DIR --esn ESN --vendor-key FILE [options]\n"
	       "Create a new emulated HSM in factory state.\n\n"
	       "  --state DIR          state directory to create (must not hold an HSM)\n"
	       "  --esn ESN            electronic serial number, e.g. 1A23-BC45-6789\n"
	       "  --vendor-key FILE    vendor Ed25519 private key (PEM, mode 0600) that signs the "
	       "warrant\n"
	       "  --psn PSN            product serial number [EMU-<ESN>]\n"
	       "  --speed base|mid|high  speed rating [high]\n"
	       "  --features WORD      extra factory features (hex word or A|B names)\n"
	       "  --address ADDR       IP address the services listen on [127.0.0.1]\n"
	       "  --port SERVICE=PORT  port of one service (repeatable) [sshadmin=2201 ... "
	       "orchestrator=2207]\n"
	       "  --module-conf FILE   also write the host's modules.d entry for this HSM\n"
	       "  --firmware PKG       install a firmware package signed with the vendor key "
	       "(repeatable:\n"
	       "                       one per component); without a primary package the HSM runs "
	       "the\n"
	       "                       development image: hsmd.conf's servicedir and "
	       "CONF/services.d\n");
}

static int parse_port(struct prov_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[48], *end;
	long port;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return -1;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	errno = 0;
	port = strtol(eq + 1, &end, 10);
	if (errno || *end || eq[1] < '0' || eq[1] > '9' || port < 1 || port > 65535)
		return -1;
	for (size_t i = 0; i < hd_known_service_count; i++)
		if (strcmp(hd_known_services[i].name, name) == 0) {
			o->ports[i] = (uint16_t)port;
			return 0;
		}
	return -1;
}

static int write_module_conf(const char *path, const json_t *lifetime, char *err, size_t errlen)
{
	const json_t *ports = json_object_get(lifetime, "ports");
	char buf[1024];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "[module]\nesn = %s\naddress = %s\n[ports]\n",
			     json_string_value(json_object_get(lifetime, "esn")),
			     json_string_value(json_object_get(lifetime, "address")));
	for (size_t i = 0; i < hd_known_service_count && n < sizeof(buf); i++) {
		const json_t *p = json_object_get(ports, hd_known_services[i].name);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s = %lld\n",
				      hd_known_services[i].name, (long long)json_integer_value(p));
	}
	if (n >= sizeof(buf))
		return hsm_set_err(err, errlen, "module configuration too long");
	return hsm_write_file_atomic(path, buf, n, 0644, err, errlen);
}

static int provision(const struct prov_opts *o)
{
	char err[HD_ERRLEN], path[4200], esn[HSM_ESN_LEN + 1], psn[64];
	char secret[HD_ENROLL_SECRET_LEN + 1];
	uint32_t features = HSM_FEAT_BUILTIN, extra = 0;
	EVP_PKEY *vendor = NULL, *identity = NULL;
	json_t *lifetime = NULL, *device = NULL, *warrant = NULL, *body, *ports;
	char *idline = NULL;
	int64_t now = hd_host_time();
	int lockfd = -1, rc = 1;

	if (hsm_esn_normalize(o->esn, esn) != 0)
		return hd_usage("provision", "--esn: '%s' is not an ESN like 1A23-BC45-6789",
				o->esn);
	if (o->psn)
		snprintf(psn, sizeof(psn), "%s", o->psn);
	else
		snprintf(psn, sizeof(psn), "EMU-%.4s%.4s%.4s", esn, esn + 5, esn + 10);
	if (strlen(psn) > 32)
		return hd_usage("provision", "--psn: '%s' is longer than 32 characters", o->psn);
	for (const char *p = psn; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return hd_usage("provision", "--psn: '%s' must be printable without spaces",
					psn);
	if (strcmp(o->speed, "base") == 0)
		features |= HSM_FEAT_HSM_SPEED0;
	else if (strcmp(o->speed, "mid") == 0)
		features |= HSM_FEAT_HSM_SPEED1;
	else if (strcmp(o->speed, "high") == 0)
		features |= HSM_FEAT_HSM_SPEED2;
	else
		return hd_usage("provision", "--speed: '%s' is not base, mid or high", o->speed);
	if (o->features) {
		if (hsm_features_parse(o->features, &extra, err, sizeof(err)) != 0)
			return hd_usage("provision", "--features: %s", err);
		if (extra & HSM_FEAT_SPEED_MASK)
			return hd_usage("provision",
					"--features: '%s': give the speed with --speed",
					o->features);
		features |= extra;
	}
	{
		struct hsm_ipaddr a;
		if (hsm_ip_parse(o->address, 0, &a, err, sizeof(err)) != 0)
			return hd_usage("provision",
					"--address: '%s' is not an IPv4 or IPv6 address",
					o->address);
	}
	ports = json_object();
	for (size_t i = 0; i < hd_known_service_count; i++)
		json_object_set_new(
		    ports, hd_known_services[i].name,
		    json_integer(o->ports[i] ? o->ports[i] : hd_known_services[i].port));
	vendor = hsm_key_load_private(o->vendor_key, err, sizeof(err));
	if (!vendor) {
		json_decref(ports);
		fprintf(stderr, "hsmd: provision: vendor key: %s\n", err);
		return 1;
	}
	if (hsm_mkdir_p(o->state, 0700, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: provision: %s\n", err);
		goto out_ports;
	}
	lockfd = hd_store_lock(o->state, err, sizeof(err));
	if (lockfd < 0) {
		fprintf(stderr, "hsmd: provision: %s\n", err);
		goto out_ports;
	}
	snprintf(path, sizeof(path), "%s/lifetime.json", o->state);
	if (access(path, F_OK) == 0) {
		fprintf(stderr,
			"hsmd: provision: %s already holds a provisioned HSM; "
			"use another directory\n",
			o->state);
		goto out_ports;
	}
	identity = hsm_ed25519_generate(err, sizeof(err));
	idline = identity ? hsm_key_to_openssh(identity) : NULL;
	if (!idline) {
		fprintf(stderr, "hsmd: provision: cannot make the identity key\n");
		goto out_ports;
	}
	body = json_pack("{s:s, s:s, s:s, s:I}", "esn", esn, "psn", psn, "identity_key", idline,
			 "issued", (json_int_t)now);
	warrant = hsm_signed_wrap(body, vendor, err, sizeof(err));
	json_decref(body);
	if (!warrant) {
		fprintf(stderr, "hsmd: provision: cannot sign the warrant: %s\n", err);
		goto out_ports;
	}
	lifetime = json_pack("{s:i, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:o, s:s, s:o}", "version",
			     HD_DOC_VERSION, "esn", esn, "psn", psn, "dbid", HD_DBID, "mfgtime",
			     (json_int_t)now, "speed", o->speed, "features", (json_int_t)features,
			     "identity_key", idline, "warrant", warrant, "address", o->address,
			     "ports", ports);
	warrant = NULL;
	ports = NULL;
	if (!lifetime || hd_lifetime_validate(lifetime, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: provision: %s\n", lifetime ? err : "out of memory");
		goto out;
	}
	device = hd_device_fresh(lifetime, identity, NULL, now, err, sizeof(err));
	if (!device) {
		fprintf(stderr, "hsmd: provision: %s\n", err);
		goto out;
	}
	/* The first system log entry, appended by the first start. */
	json_object_set_new(json_object_get(device, "log"), "pending",
			    json_pack("{s:i, s:I, s:s, s:{s:s, s:s, s:s}}", "seq", 1, "time",
				      (json_int_t)now, "event", "provision", "detail", "esn", esn,
				      "psn", psn, "speed", o->speed));
	json_object_set_new(json_object_get(device, "log"), "next_seq", json_integer(2));
	snprintf(path, sizeof(path), "%s/identity.pem", o->state);
	if (hsm_key_save_private(path, identity, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: provision: %s\n", err);
		goto out;
	}
	/* Firmware packages, verified with the vendor's public key while
	 * they are written; hsmd checks them again at every boot against
	 * the vendor keys it trusts (CONF/vendor.d). */
	for (size_t i = 0; i < o->nfirmware; i++) {
		EVP_PKEY *trusted[1] = { vendor };
		if (hd_images_install_file(o->state, o->firmware[i], trusted, 1, now, err,
					   sizeof(err)) != 0) {
			fprintf(stderr, "hsmd: provision: --firmware: %s\n", err);
			goto out;
		}
	}
	if (o->nfirmware) {
		json_t *images = hd_images_load(o->state, err, sizeof(err));
		if (!images) {
			fprintf(stderr, "hsmd: provision: %s\n", err);
			goto out;
		}
		json_object_set_new(device, "firmware", hd_images_firmware(images));
		json_decref(images);
	}
	snprintf(path, sizeof(path), "%s/device.json", o->state);
	if (hd_device_validate(device, err, sizeof(err)) != 0 ||
	    hsm_write_json_atomic(path, device, 0600, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: provision: %s\n", err);
		goto out;
	}
	if (hd_enroll_secret_new(o->state, esn, secret, sizeof(secret), err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: provision: enrollment secret: %s\n", err);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/lifetime.json", o->state);
	if (hsm_write_json_atomic(path, lifetime, 0644, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: provision: %s\n", err);
		goto out;
	}
	if (o->module_conf && write_module_conf(o->module_conf, lifetime, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: provision: --module-conf: %s\n", err);
		goto out;
	}
	printf("provisioned %s (PSN %s, %s speed) in %s, factory state, listening address %s\n"
	       "one-time enrollment secret: %s\n"
	       "  (kept in %s/%s until the HSM is enrolled: hsmadmin enroll --secret-file FILE)\n",
	       esn, psn, o->speed, o->state, o->address, secret, o->state, HD_ENROLL_SECRET_FILE);
	OPENSSL_cleanse(secret, sizeof(secret));
	rc = 0;
	goto out;
out_ports:
	json_decref(ports);
out:
	json_decref(warrant);
	json_decref(lifetime);
	json_decref(device);
	free(idline);
	EVP_PKEY_free(identity);
	EVP_PKEY_free(vendor);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

static int take_firmware(const char *cmd, const char *arg, void *data)
{
	struct prov_opts *o = data;

	if (o->nfirmware == 3)
		return hd_usage(cmd, "%s",
				"--firmware: at most three packages "
				"(primary, recovery, bootloader)");
	o->firmware[o->nfirmware++] = arg;
	return 0;
}

static int take_port(const char *cmd, const char *arg, void *data)
{
	if (parse_port(data, arg) != 0)
		return hd_usage(cmd,
				"--port: '%s' is not SERVICE=PORT with a known platform "
				"service and a port 1-65535",
				arg);
	return 0;
}

int hd_provision_main(int argc, char **argv)
{
	struct prov_opts o = { .speed = "high", .address = "127.0.0.1" };
	const struct hd_opt opts[] = {
		{ .name = "state", .str = &o.state, .required = "--state DIR" },
		{ .name = "esn", .str = &o.esn, .required = "--esn ESN" },
		{ .name = "psn", .str = &o.psn },
		{ .name = "speed", .str = &o.speed },
		{ .name = "features", .str = &o.features },
		{ .name = "address", .str = &o.address },
		{ .name = "port", .take = take_port, .data = &o },
		{ .name = "vendor-key", .str = &o.vendor_key, .required = "--vendor-key FILE" },
		{ .name = "module-conf", .str = &o.module_conf },
		{ .name = "firmware", .take = take_firmware, .data = &o },
	};
	int rc;

	if ((rc = hd_cmdline_parse("provision", argc, argv, opts, HD_NOPTS(opts),
				   provision_help)) >= 0)
		return rc;
	for (size_t i = 0; i < hd_known_service_count; i++)
		for (size_t j = 0; j < i; j++) {
			uint16_t pi = o.ports[i] ? o.ports[i] : hd_known_services[i].port;
			uint16_t pj = o.ports[j] ? o.ports[j] : hd_known_services[j].port;
			if (pi == pj) {
				fprintf(stderr,
					"hsmd: provision: --port: %s and %s would share port %u\n",
					hd_known_services[j].name, hd_known_services[i].name, pi);
				return 2;
			}
		}
	return provision(&o);
}
