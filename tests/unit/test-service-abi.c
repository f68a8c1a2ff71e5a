/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test-service-abi.c - the service-ABI accessors of
 * core/include/hsmadmin/service.h against the table of an older hsmd: a
 * member past the table's size is never called; the accessor fails
 * (NULL or -1) with a "failed" error naming the member and its ABI.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hsmadmin/service.h>
#include "tap.h"

struct hsmd_call {
	const struct hsmd_api *api; /* the head every call starts with */
	int status;
	char error[256];
	int called;
};

static int fake_verror(struct hsmd_call *c, int status, const char *fmt, va_list ap)
{
	c->status = status;
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	return status;
}

static int fake_vcm_start(struct hsmd_call *c, const char *uuid)
{
	(void)uuid;
	c->called++;
	return 0;
}

static json_t *fake_vcm_network(struct hsmd_call *c)
{
	c->called++;
	return json_object();
}

static int fake_vcm_address_taken(struct hsmd_call *c, const char *address)
{
	c->called++;
	return strcmp(address, "127.128.0.1") == 0;
}

static long long fake_log_expire(struct hsmd_call *c, int64_t upto)
{
	(void)upto;
	c->called++;
	return 7;
}

int main(void)
{
	struct hsmd_api api;
	struct hsmd_call call;
	json_t *j;

	memset(&api, 0, sizeof(api));
	api.verror = fake_verror;
	api.vcm_start = fake_vcm_start;
	api.vcm_network = fake_vcm_network;
	api.log_expire = fake_log_expire;
	api.vcm_address_taken = fake_vcm_address_taken;

	/* An ABI 1.0 hsmd: its table ends before vendor_dir. */
	api.size = (uint32_t)offsetof(struct hsmd_api, vendor_dir);
	memset(&call, 0, sizeof(call));
	call.api = &api;
	TAP_INT_EQ(hsmd_has_vcm_api(&call), 0, "1.0 table: no VCM functions");
	TAP_INT_EQ(hsmd_has_log_api(&call), 0, "1.0 table: no log key functions");
	tap_ok(hsmd_vendor_dir(&call) == NULL, "1.0 table: vendor_dir is NULL");
	TAP_INT_EQ(hsmd_vcm_start(&call, "u"), -1, "1.0 table: hsmd_vcm_start fails");
	TAP_INT_EQ(call.called, 0, "... without calling past the table");
	TAP_INT_EQ(call.status, HSMD_FAILED, "... with a failed error on the call");
	tap_ok(strstr(call.error, "vcm_start") && strstr(call.error, "1.1"),
	       "... naming the member and the ABI (%s)", call.error);
	j = hsmd_vcm_network(&call);
	tap_ok(j == NULL && call.called == 0, "1.0 table: hsmd_vcm_network is NULL, not called");

	/* An ABI 1.1 hsmd: VCM functions, no log expiry. */
	api.size = (uint32_t)offsetof(struct hsmd_api, log_public_key);
	memset(&call, 0, sizeof(call));
	call.api = &api;
	TAP_INT_EQ(hsmd_has_vcm_api(&call), 1, "1.1 table: VCM functions");
	TAP_INT_EQ(hsmd_vcm_start(&call, "u"), 0, "1.1 table: hsmd_vcm_start is called");
	TAP_INT_EQ(call.called, 1, "... once");
	TAP_INT_EQ(hsmd_log_expire(&call, 5), -1, "1.1 table: hsmd_log_expire fails");
	tap_ok(strstr(call.error, "log_expire") && strstr(call.error, "1.2"),
	       "... naming log_expire and 1.2");
	TAP_INT_EQ(call.called, 1, "... without calling it");

	/* An ABI 1.9 hsmd: the registry's index, no check of one address
	 * against other HSMs' VCMs (its vcm_network lists them all). */
	api.size = (uint32_t)offsetof(struct hsmd_api, vcm_address_taken);
	memset(&call, 0, sizeof(call));
	call.api = &api;
	TAP_INT_EQ(hsmd_has_vcm_index(&call), 1, "1.9 table: the registry's index");
	TAP_INT_EQ(hsmd_has_vcm_address_taken(&call), 0, "1.9 table: no vcm_address_taken");
	TAP_INT_EQ(hsmd_vcm_address_taken(&call, "127.128.0.1"), -1,
		   "1.9 table: hsmd_vcm_address_taken fails");
	tap_ok(call.called == 0 && strstr(call.error, "vcm_address_taken") &&
		   strstr(call.error, "1.10"),
	       "... without calling it, naming it and 1.10 (%s)", call.error);

	/* This hsmd's own table: everything. */
	api.size = sizeof(api);
	memset(&call, 0, sizeof(call));
	call.api = &api;
	TAP_INT_EQ(hsmd_log_expire(&call, 5), 7, "full table: hsmd_log_expire is called");
	j = hsmd_vcm_network(&call);
	tap_ok(j != NULL, "full table: hsmd_vcm_network answers");
	json_decref(j);
	TAP_INT_EQ(hsmd_has_vcm_address_taken(&call), 1, "full table: vcm_address_taken");
	TAP_INT_EQ(hsmd_vcm_address_taken(&call, "127.128.0.1"), 1,
		   "full table: hsmd_vcm_address_taken is called");
	return tap_done();
}
