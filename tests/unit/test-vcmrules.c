/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-vcmrules.c - the VCM rules shared by hsmd and the orchestrator
 * (firmware/lib/vcmrules.c): limits with and without a licence and per
 * speed, feature words and speed bits (guide 3.3), registry validation
 * (addresses, the card reader, autostart vs restrict-startup, 1000 VCMs),
 * creation order, and the VCM network.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hsmadmin/features.h>
#include "vcmrules.h"
#include "tap.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF6/hqVceJmgQsl6sH+upIug9xPfJUhLKTEh4FRsAlcY"

static json_t *lifetime(const char *speed, uint32_t features)
{
	return json_pack("{s:s, s:I, s:s}", "speed", speed, "features", (json_int_t)features,
			 "address", "127.10.20.30");
}

static json_t *licence(int n, const char *upgrade, uint32_t features)
{
	return json_pack("{s:{s:i, s:o, s:I}}", "licence", "max_active_vcms", n, "speed_upgrade",
			 upgrade ? json_string(upgrade) : json_null(), "features",
			 (json_int_t)features);
}

static json_t *entry(int seq, const char *addr, const char *state)
{
	return json_pack(
	    "{s:i, s:s, s:s, s:i, s:b, s:b, s:b, s:s, s:s, s:s, s:b, s:i, s:i, s:s, s:[], s:i}",
	    "seq", seq, "name", "vcm", "address", addr, "features", 0x1a20, "autostart", 0,
	    "restrict_startup", 0, "serial_cardreader", 0, "k_tenant_req", KEY, "sshadmin_key", KEY,
	    "state", state, "disk_exceeded", 0, "created", 1, "changed", 1, "request_nonce",
	    "00112233445566778899aabbccddeeff", "nonces", "nonce_floor", 0);
}

static const char *U1 = "0b3c5f2e-0000-4000-8000-000000000001";
static const char *U2 = "0b3c5f2e-0000-4000-8000-000000000002";

int main(void)
{
	struct fw_vcm_limits lim;
	struct fw_vcm_net net;
	json_t *lt, *dev, *vcms, *order;
	char err[512], buf[64];
	uint32_t w;

	/* --- limits --- */
	lt = lifetime("high", HSM_FEAT_BUILTIN | HSM_FEAT_HSM_SPEED2 | HSM_FEAT_KISA_ALGORITHMS);
	dev = json_object();
	fw_vcm_limits(lt, dev, &lim);
	TAP_INT_EQ(lim.max_active, 1, "no licence: 1 active");
	TAP_INT_EQ(lim.max_creatable, 1, "no licence: 1 creatable");
	json_decref(dev);
	dev = licence(15, NULL, HSM_FEAT_FOREIGN_TOKEN_OPEN);
	fw_vcm_limits(lt, dev, &lim);
	TAP_INT_EQ(lim.max_active, 15, "licence for 15: 15 active");
	TAP_INT_EQ(lim.max_creatable, 1000, "... 1000 creatable on a high-speed HSM");
	tap_ok((lim.platform & HSM_FEAT_FOREIGN_TOKEN_OPEN) &&
		   (lim.platform & HSM_FEAT_KISA_ALGORITHMS),
	       "platform features: factory plus licence");
	json_decref(dev);
	json_decref(lt);
	lt = lifetime("base", HSM_FEAT_BUILTIN | HSM_FEAT_HSM_SPEED0);
	dev = licence(3, NULL, 0);
	fw_vcm_limits(lt, dev, &lim);
	TAP_INT_EQ(lim.max_creatable, 5, "base speed: 5 creatable");
	json_decref(dev);
	dev = licence(3, "mid", 0);
	fw_vcm_limits(lt, dev, &lim);
	TAP_INT_EQ(lim.max_creatable, 1000, "base speed upgraded to mid: 1000 creatable");
	TAP_STR_EQ(lim.speed, "mid", "... and the speed is mid");
	tap_ok(lim.platform & HSM_FEAT_HSM_SPEED1 && !(lim.platform & HSM_FEAT_HSM_SPEED0),
	       "... with the HSMSpeed1 bit instead of HSMSpeed0");

	/* --- features (mid-speed HSM) --- */
	tap_ok(fw_vcm_features(HSM_FEAT_HSM_SPEED1, &lim, &w, err, sizeof(err)) == 0 &&
		   (w & HSM_FEAT_SPEED_MASK) == HSM_FEAT_HSM_SPEED0,
	       "HSMSpeed1 becomes HSMSpeed0 on a mid-speed HSM");
	tap_ok(fw_vcm_features(HSM_FEAT_HSM_SPEED2, &lim, &w, err, sizeof(err)) != 0 &&
		   strstr(err, "above this HSM's rating"),
	       "HSMSpeed2 on a mid-speed HSM is refused");
	tap_ok(fw_vcm_features(HSM_FEAT_FOREIGN_TOKEN_OPEN, &lim, &w, err, sizeof(err)) != 0 &&
		   strstr(err, "ForeignTokenOpen"),
	       "a feature the platform lacks is refused, by name");
	tap_ok(fw_vcm_features(0, &lim, &w, err, sizeof(err)) == 0 && w == HSM_FEAT_BUILTIN,
	       "built-in features are always present");
	tap_ok(fw_vcm_features(0x80000000u, &lim, &w, err, sizeof(err)) != 0,
	       "an unnamed bit the platform lacks is refused");
	json_decref(dev);
	json_decref(lt);

	/* --- small values --- */
	tap_ok(fw_uuid_valid(U1), "a lower-case UUID");
	tap_ok(!fw_uuid_valid("0B3C5F2E-0000-4000-8000-000000000001"), "upper case refused");
	tap_ok(!fw_uuid_valid("0b3c5f2e-0000-4000-8000-00000000001"), "short refused");
	tap_ok(!fw_uuid_valid("0b3c5f2e00000-4000-8000-000000000001"), "dash misplaced refused");
	TAP_INT_EQ(fw_vcm_bool_parse("True"), 1, "True");
	TAP_INT_EQ(fw_vcm_bool_parse("false"), 0, "false");
	TAP_INT_EQ(fw_vcm_bool_parse("yes"), -1, "yes is not a boolean");

	/* --- the registry --- */
	vcms = json_pack("{s:o, s:o}", U1, entry(1, "127.1.0.1", "active"), U2,
			 entry(2, "127.1.0.2", "inactive"));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) == 0, "a good registry validates (%s)",
	       err);
	TAP_INT_EQ(fw_vcms_active(vcms), 1, "one active");
	order = fw_vcms_ordered(vcms);
	TAP_STR_EQ(json_string_value(json_array_get(order, 0)), U1, "creation order");
	json_decref(order);
	json_object_set_new(json_object_get(vcms, U2), "address", json_string("127.1.0.1"));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0 && strstr(err, "same address"),
	       "two VCMs with one address are refused");
	json_object_set_new(json_object_get(vcms, U2), "address", json_string("127.1.0.2"));
	json_object_set_new(json_object_get(vcms, U1), "serial_cardreader", json_true());
	json_object_set_new(json_object_get(vcms, U2), "serial_cardreader", json_true());
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0 && strstr(err, "serial card reader"),
	       "two VCMs with the card reader are refused");
	TAP_STR_EQ(fw_vcms_cardreader(vcms, U1), U2, "the card reader holder other than U1");
	json_object_set_new(json_object_get(vcms, U2), "serial_cardreader", json_false());
	json_object_set_new(json_object_get(vcms, U2), "autostart", json_true());
	json_object_set_new(json_object_get(vcms, U2), "restrict_startup", json_true());
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0 &&
		   strstr(err, "autostart and restrict_startup"),
	       "autostart with restrict-startup is refused");
	json_object_set_new(json_object_get(vcms, U2), "restrict_startup", json_false());
	json_object_set_new(json_object_get(vcms, U2), "seq", json_integer(1));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0,
	       "duplicate sequence numbers are refused");
	json_object_set_new(json_object_get(vcms, U2), "seq", json_integer(2));
	json_object_set_new(json_object_get(vcms, U2), "state", json_string("running"));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0, "an unknown state is refused");
	json_object_set_new(json_object_get(vcms, U2), "state", json_string("active"));
	json_object_set_new(json_object_get(vcms, U2), "disk_exceeded", json_true());
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0,
	       "active over the disk limit is refused");
	json_object_set_new(json_object_get(vcms, U2), "disk_exceeded", json_false());
	json_object_set_new(json_object_get(vcms, U2), "extra", json_true());
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0, "an unknown member is refused");
	json_object_del(json_object_get(vcms, U2), "extra");
	json_object_set_new(json_object_get(vcms, U2), "nonces", json_pack("[s]", "nothex"));
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0, "a malformed nonce is refused");
	json_decref(vcms);
	vcms = json_object();
	for (int i = 0; i <= 1000; i++) {
		char u[40], a[32];
		snprintf(u, sizeof(u), "0b3c5f2e-0000-4000-8000-%012d", i);
		snprintf(a, sizeof(a), "127.2.%d.%d", i / 250, i % 250 + 1);
		json_object_set_new(vcms, u, entry(i + 1, a, "inactive"));
	}
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) != 0 && strstr(err, "more than 1000"),
	       "1001 VCMs are refused");
	json_object_del(vcms, "0b3c5f2e-0000-4000-8000-000000000000");
	tap_ok(fw_vcms_validate(vcms, err, sizeof(err)) == 0, "1000 VCMs validate");
	json_decref(vcms);

	/* --- the network --- */
	lt = lifetime("high", 0);
	dev = json_object();
	tap_ok(fw_vcm_net_get(lt, dev, NULL, &net, err, sizeof(err)) == 0, "default network");
	TAP_STR_EQ(hsm_cidr_format(&net.subnet, buf, sizeof(buf)), "127.138.20.0/22",
		   "emulated default: 127.(A xor 128).(B & 252).0/22");
	tap_ok(fw_vcm_net_get(lt, dev, "127.50.0.0/24", &net, err, sizeof(err)) == 0 &&
		   !strcmp(hsm_cidr_format(&net.subnet, buf, sizeof(buf)), "127.50.0.0/24"),
	       "emulated_subnet overrides");
	json_decref(dev);
	dev = json_pack("{s:{s:{s:s, s:s, s:s}, s:n}}", "vcm_network", "current", "mode",
			"ipv4static", "address", "10.1.0.1/24", "gateway", "10.1.0.254", "pending");
	tap_ok(fw_vcm_net_get(lt, dev, "127.50.0.0/24", &net, err, sizeof(err)) == 0 &&
		   !strcmp(hsm_cidr_format(&net.subnet, buf, sizeof(buf)), "10.1.0.1/24") &&
		   net.has_gateway,
	       "a static network is used as set, with the gateway reserved");
	json_decref(dev);
	json_decref(lt);
	lt = json_pack("{s:s}", "address", "::1");
	dev = json_object();
	tap_ok(fw_vcm_net_get(lt, dev, NULL, &net, err, sizeof(err)) != 0 &&
		   strstr(err, "emulated_subnet"),
	       "no derivable default pool: the error names the setting");
	json_decref(dev);
	json_decref(lt);
	return tap_done();
}
