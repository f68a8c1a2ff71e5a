/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hsmd-store.c - the device state store: transactions, the log
 * write-ahead, crash recovery, factory state, the clock, and a call run
 * through the central gate with a service table.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hsmadmin/fileio.h>
#include "licence.h"
#include "sign.h"
#include "provision.h"
#include "server.h"
#include "store.h"
#include "hsmd-state.h"
#include "tap.h"

static char dir[256], state[300];
static int handler_ran;

static int m_touch(struct hsmd_call *call)
{
	json_t *doc = hsmd_begin(call);
	handler_ran = 1;
	json_object_set_new(doc, "min_vsn", json_integer(2));
	if (hsmd_commit(call, doc, "touch", NULL) != 0)
		return HSMD_FAILED;
	hsmd_reply(call, json_pack("{s:b}", "touched", 1));
	return HSMD_OK;
}
static const struct hsmd_method methods[] = {
	{ .name = "touch", .flags = HSMD_METHOD_INVASIVE, .handler = m_touch }, HSMD_METHOD_END
};
static const struct hsmd_service desc = {
	HSMD_SERVICE_HEADER, .name = "setup", .version = "t", .default_port = 1, .methods = methods,
};

static size_t log_lines(void)
{
	char path[400], *buf;
	size_t len, n = 0;
	char err[256];

	snprintf(path, sizeof(path), "%s/system.log", state);
	if (hsm_read_file(path, 1 << 20, &buf, &len, err, sizeof(err)) != 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	free(buf);
	return n;
}

/* A commit with the device's own licence skips the licence check (it was
 * checked when the device took it); any other licence text or fields must
 * still be checked, even right after the device's licence was accepted. */
static void test_licence_commits(struct hd_store *st)
{
	struct hsm_licence lic = { .max_active_vcms = 1000, .serial = 7, .issued = 1700000000 };
	char err[HD_ERRLEN] = "no key", *text = NULL, *at;
	EVP_PKEY *vendor = hsm_ed25519_generate(err, sizeof(err));
	size_t len = 0;
	json_t *good, *doc;

	snprintf(lic.esn, sizeof(lic.esn), "%s",
		 json_string_value(json_object_get(st->lifetime, "esn")));
	if (!vendor || hsm_licence_sign(&lic, vendor, &text, &len, err, sizeof(err)) != 0) {
		tap_ok(0, "issue a test licence: %s", err);
		EVP_PKEY_free(vendor);
		return;
	}
	good = json_pack("{s:s%, s:i, s:i, s:n, s:I, s:I}", "text", text, len, "max_active_vcms",
			 1000, "features", 0, "speed_upgrade", "serial", (json_int_t)7, "issued",
			 (json_int_t)1700000000);
	doc = json_deep_copy(st->device);
	json_object_set(doc, "licence", good);
	TAP_INT_EQ(hd_store_commit(st, doc, "fet", NULL, err, sizeof(err)), 0,
		   "licence: the device takes a valid licence");

	doc = json_deep_copy(st->device);
	json_object_set_new(doc, "min_vsn", json_integer(3));
	TAP_INT_EQ(hd_device_validate_since(doc, st->device, err, sizeof(err)), 0,
		   "licence: a commit with the same licence is valid");
	json_decref(doc);

	/* The header says 1001 VCMs, the signed body 1000: same length, one
	 * byte apart from the licence the device holds. */
	doc = json_deep_copy(st->device);
	at = strstr(text, "# max-active-vcms: 1000\n");
	if (at)
		at[sizeof("# max-active-vcms: 100") - 1] = '1';
	json_object_set_new(json_object_get(doc, "licence"), "text", json_stringn(text, len));
	tap_ok(at && hd_device_validate_since(doc, st->device, err, sizeof(err)) != 0,
	       "licence: a text altered in one byte is refused after the original was accepted");
	TAP_HAS(err, "altered", "... as altered");
	json_decref(doc);

	doc = json_deep_copy(st->device);
	json_object_set_new(json_object_get(doc, "licence"), "max_active_vcms", json_integer(1001));
	tap_ok(hd_device_validate_since(doc, st->device, err, sizeof(err)) != 0,
	       "licence: the same text with other fields is refused");
	TAP_HAS(err, "do not match", "... as not matching its text");
	json_decref(doc);

	json_decref(good);
	free(text);
	EVP_PKEY_free(lic.signer);
	json_decref(lic.envelope);
	EVP_PKEY_free(vendor);
}

int main(void)
{
	struct hd_config cfg;
	struct hd_store st;
	char err[HD_ERRLEN], path[400];
	int rc;
	json_t *doc, *entries;
	char *logkey;
	struct hd_clock clk;

	rc = test_hsmd_provision("hsmd-store", dir, sizeof(dir), state, sizeof(state));
	if (rc < 0)
		return 1;
	TAP_INT_EQ(rc, 0, "provision a test HSM");
	hd_config_defaults(&cfg);
	TAP_INT_EQ(hd_store_open(&st, state, &cfg, err, sizeof(err)), 0, "open the state");
	TAP_INT_EQ(st.slog.last_seq, 3,
		   "the first open writes log_open, log_previous and the provision entry");
	TAP_INT_EQ(log_lines(), 3, "system.log has three entries");
	TAP_INT_EQ(
	    json_integer_value(json_object_get(json_object_get(st.device, "log"), "next_seq")), 4,
	    "... and the state's next_seq is past them");
	tap_ok(json_is_null(json_object_get(json_object_get(st.device, "log"), "pending")),
	       "... with no pending entry left");
	tap_ok(json_object_get(st.view, "host_keys") == NULL, "the view has no host keys");
	tap_ok(json_object_get(json_object_get(st.view, "log"), "key") == NULL,
	       "the view has no log key");

	doc = json_deep_copy(st.view);
	json_object_set_new(doc, "mode", json_string("maintenance"));
	json_object_set_new(doc, "host_keys", json_object()); /* not a service's to change */
	TAP_INT_EQ(hd_store_commit_view(&st, doc, "set_mode", NULL, err, sizeof(err)), 0,
		   "commit a change");
	TAP_STR_EQ(json_string_value(json_object_get(st.device, "mode")), "maintenance",
		   "the change is applied");
	TAP_INT_EQ(json_object_size(json_object_get(st.device, "host_keys")), 7,
		   "hsmd's members are not taken from a service");
	TAP_INT_EQ(log_lines(), 4, "the change is logged");

	doc = json_deep_copy(st.view);
	json_object_set_new(doc, "state", json_string("bogus"));
	tap_ok(hd_store_commit_view(&st, doc, "bad", NULL, err, sizeof(err)) != 0,
	       "an invalid state is not committed");
	tap_ok(strstr(err, "state") != NULL, "... the reason names the member");
	TAP_STR_EQ(json_string_value(json_object_get(st.device, "state")), "factory",
		   "... and nothing changed");
	TAP_INT_EQ(log_lines(), 4, "... and nothing was logged");

	/* A crash between the log append and the state write: the entry of
	 * a change that never happened is cut off at the next start. */
	snprintf(path, sizeof(path), "%s/device.json", state);
	{
		char *old;
		size_t oldlen;
		hsm_read_file(path, 1 << 22, &old, &oldlen, err, sizeof(err));
		doc = json_deep_copy(st.view);
		json_object_set_new(doc, "mode", json_string("operational"));
		hd_store_commit_view(&st, doc, "set_mode", NULL, err, sizeof(err));
		TAP_INT_EQ(log_lines(), 5, "a second change is logged");
		hd_store_close(&st);
		hsm_write_file_atomic(path, old, oldlen, 0600, err,
				      sizeof(err)); /* its state write "never happened" */
		free(old);
	}
	TAP_INT_EQ(hd_store_open(&st, state, &cfg, err, sizeof(err)), 0, "reopen");
	TAP_INT_EQ(log_lines(), 4, "the entry of the change that was not stored is cut off");
	TAP_STR_EQ(json_string_value(json_object_get(st.device, "mode")), "maintenance",
		   "... the state is the old one");
	TAP_INT_EQ(st.slog.last_seq, 4, "... and numbering continues after the last stored change");
	hd_store_close(&st);

	/* A torn last entry. */
	snprintf(path, sizeof(path), "%s/system.log", state);
	{
		FILE *f = fopen(path, "a");
		fputs("57 0badcafe {\"detail\":{},\"ev", f);
		fclose(f);
	}
	TAP_INT_EQ(hd_store_open(&st, state, &cfg, err, sizeof(err)), 0, "open over a torn entry");
	TAP_INT_EQ(log_lines(), 5, "the torn bytes are cut and the cut is logged (log_damaged)");
	entries = hd_store_log_entries(&st, "system", err, sizeof(err));
	TAP_INT_EQ(json_array_size(entries), 5, "the log reads back");
	TAP_STR_EQ(json_string_value(json_object_get(json_array_get(entries, 4), "event")),
		   "log_damaged", "... the last entry reports the torn tail");
	TAP_HAS(json_string_value(json_object_get(
		    json_object_get(json_array_get(entries, 4), "detail"), "found")),
		"torn tail after seq 4", "... with the sequence number before it");
	json_decref(entries);

	/* A second open of the same state is refused. */
	{
		struct hd_store st2;
		tap_ok(hd_store_open(&st2, state, &cfg, err, sizeof(err)) != 0,
		       "a second open is refused");
		tap_ok(strstr(err, "in use") != NULL, "... because it is in use");
	}

	/* The gate runs before a handler. */
	{
		struct hd_loaded_service svc = { .name = "setup", .desc = &desc, .nmethods = 1 };
		struct hsmd_call call;
		json_t *params = json_object();

		doc = json_deep_copy(st.device);
		json_object_set_new(doc, "state", json_string("enrolled"));
		json_object_set_new(
		    json_object_get(doc, "client_keys"), "sshadmin",
		    json_string(
			"ssh-ed25519 "
			"AAAAC3NzaC1lZDI1NTE5AAAAIOGZaxjOge46gpuLF3qAvU4x8e/1lGUDnJPg58at8o7n"));
		json_object_set_new(json_object_get(doc, "emulation"), "ncoreapi_operational",
				    json_true());
		hd_store_commit(&st, doc, NULL, NULL, err, sizeof(err));
		hd_call_run(&call, NULL, &st, &svc, "touch", params);
		TAP_INT_EQ(call.status, HSMD_REFUSED_STATE,
			   "interlock: an invasive call is refused");
		tap_ok(!handler_ran, "... before its handler runs");
		hd_call_clear(&call);
		doc = json_deep_copy(st.device);
		json_object_set_new(json_object_get(doc, "emulation"), "ncoreapi_operational",
				    json_false());
		hd_store_commit(&st, doc, NULL, NULL, err, sizeof(err));
		hd_call_run(&call, NULL, &st, &svc, "touch", params);
		TAP_INT_EQ(call.status, HSMD_OK, "without the interlock it runs");
		TAP_INT_EQ(json_integer_value(json_object_get(st.device, "min_vsn")), 2,
			   "... and commits");
		hd_call_clear(&call);
		hd_call_run(&call, NULL, &st, &svc, "nosuch", params);
		TAP_INT_EQ(call.status, HSMD_BAD_REQUEST, "an unknown method is bad_request");
		hd_call_clear(&call);
		json_decref(params);
	}

	test_licence_commits(&st);

	/* Factory state. */
	logkey =
	    strdup(json_string_value(json_object_get(json_object_get(st.device, "log"), "key")));
	{
		json_int_t next = json_integer_value(
		    json_object_get(json_object_get(st.device, "log"), "next_seq"));
		char *hk = strdup(json_string_value(
		    json_object_get(json_object_get(st.device, "host_keys"), "setup")));
		TAP_INT_EQ(hd_store_factory_state(&st, err, sizeof(err)), 0, "factory state");
		TAP_STR_EQ(json_string_value(json_object_get(st.device, "state")), "factory",
			   "... state is factory");
		TAP_INT_EQ(json_object_size(json_object_get(st.device, "client_keys")), 0,
			   "... client keys erased");
		TAP_INT_EQ(json_integer_value(
			       json_object_get(json_object_get(st.device, "log"), "next_seq")),
			   next + 3,
			   "... the log sequence continues (factorystate, log_key, checkpoint)");
		TAP_INT_EQ(
		    json_integer_value(json_object_get(json_object_get(st.device, "log"), "epoch")),
		    2, "... the log key's epoch is the next one");
		TAP_INT_EQ(
		    json_integer_value(json_object_get(json_object_get(st.device, "log"), "since")),
		    next + 1, "... beginning at the log_key entry");
		TAP_INT_EQ(
		    json_array_size(json_object_get(json_object_get(st.device, "log"), "keys")), 2,
		    "... both epochs' verification keys are kept");
		tap_ok(strcmp(logkey, json_string_value(json_object_get(
					  json_object_get(st.device, "log"), "key"))) != 0,
		       "... the log key changed");
		tap_ok(strcmp(hk, json_string_value(json_object_get(
				      json_object_get(st.device, "host_keys"), "setup"))) != 0,
		       "... the host keys changed");
		TAP_INT_EQ(json_integer_value(json_object_get(st.device, "min_vsn")), 2,
			   "... the min VSN is kept");
		free(hk);
	}
	free(logkey);
	hd_store_close(&st);

	/* The clock. */
	memset(&clk, 0, sizeof(clk));
	clk.offset = 10;
	TAP_INT_EQ(hd_clock_now(&clk, 1000, 5), 1010, "clock: host + offset");
	hd_clock_adjust(&clk, 1000, 86400, 30); /* 1 s per s for the test */
	TAP_INT_EQ(hd_clock_now(&clk, 1010, 86400), 1030, "clock: slews gradually");
	TAP_INT_EQ(hd_clock_now(&clk, 5000, 86400), 5040, "clock: the slew stops at its delta");
	hd_clock_adjust(&clk, 1000, 5, -100);
	TAP_INT_EQ(hd_clock_now(&clk, 1000 + 86400, 5), 1000 + 86400 + 10 - 5,
		   "clock: 5 s per day backwards");

	if (test_hsmd_cleanup(dir) != 0)
		return 1;
	return tap_done();
}
