/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-hsmd-services.c - hsmd's check of a service's method table
 * (firmware/hsmd/services.c): the gate_hint of ABI 1.7 is read only from a
 * table whose stride reaches it, and a hint that is not one short
 * printable line, or that explains no mode rule, refuses the service.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include <hsmadmin/service.h>
#include "services.h"
#include "tap.h"

static int handler(struct hsmd_call *call)
{
	(void)call;
	return HSMD_OK;
}

/* A method table entry as ABI 1.6 built it: everything up to finish. */
struct method_16 {
	const char *name;
	uint32_t flags;
	const char *variant_param;
	uint32_t variant_flags;
	uint32_t plain_flags;
	int (*handler)(struct hsmd_call *call);
	const char *summary;
	int (*stream)(struct hsmd_call *call, const void *data, size_t len);
	int (*finish)(struct hsmd_call *call);
};

/* The 1.6 table, followed in memory by what a 1.7 hsmd would take for a
 * gate_hint if it read past the stride. */
static const struct {
	struct method_16 m[2];
	const char *beyond;
} old_table = {
	{ { .name = "clear", .flags = HSMD_METHOD_RECOVERY, .handler = handler },
	  { .name = NULL } },
	"not a hint",
};

static struct hsmd_service service(const void *methods, uint32_t stride)
{
	struct hsmd_service d = { HSMD_SERVICE_HEADER, .name = "echo", .methods = methods };

	d.method_size = stride;
	return d;
}

/* hd_service_check of a one-method table: 0 or -1, the error in err. */
static int check_one(struct hsmd_method m, char *err, size_t errlen)
{
	struct hsmd_method t[2] = { m, HSMD_METHOD_END };
	struct hsmd_service d = service(t, sizeof(struct hsmd_method));
	size_t n = 0;

	err[0] = '\0';
	return hd_service_check(&d, "echo", &n, err, errlen);
}

int main(void)
{
	char err[256], longhint[300];
	size_t n = 0;

	{
		struct hsmd_method t[] = {
			{ .name = "clear",
			  .flags = HSMD_METHOD_RECOVERY,
			  .handler = handler,
			  .gate_hint = "cleared only in recovery mode" },
			{ .name = "get", .handler = handler },
			HSMD_METHOD_END,
		};
		struct hsmd_service d = service(t, sizeof(struct hsmd_method));
		struct hd_loaded_service s = { .desc = &d };

		TAP_INT_EQ(hd_service_check(&d, "echo", &n, err, sizeof(err)), 0,
			   "a table of this ABI with a hint is accepted");
		s.nmethods = n;
		TAP_STR_EQ(hd_service_gate_hint(&s, hd_service_find(&s, "clear")),
			   "cleared only in recovery mode", "... and its hint is read");
		tap_ok(hd_service_gate_hint(&s, hd_service_find(&s, "get")) == NULL,
		       "... a method without one has none");
	}
	{
		struct hsmd_service d = service(&old_table, sizeof(struct method_16));
		struct hd_loaded_service s = { .desc = &d };

		TAP_INT_EQ(hd_service_check(&d, "echo", &n, err, sizeof(err)), 0,
			   "a table of ABI 1.6 (no gate_hint) is accepted");
		s.nmethods = n;
		TAP_INT_EQ((int)n, 1, "... with its one method");
		tap_ok(hd_service_gate_hint(&s, hd_service_find(&s, "clear")) == NULL,
		       "... and no hint is read past its stride");
	}

	tap_ok(check_one((struct hsmd_method){ .name = "m",
					       .flags = HSMD_METHOD_RECOVERY,
					       .handler = handler,
					       .gate_hint = "" },
			 err, sizeof(err)) != 0 &&
		   strstr(err, "gate_hint is not 1..240 characters"),
	       "an empty hint is refused (%s)", err);
	memset(longhint, 'x', 241);
	longhint[241] = '\0';
	tap_ok(check_one((struct hsmd_method){ .name = "m",
					       .flags = HSMD_METHOD_RECOVERY,
					       .handler = handler,
					       .gate_hint = longhint },
			 err, sizeof(err)) != 0 &&
		   strstr(err, "not 1..240"),
	       "a hint over 240 characters is refused");
	tap_ok(check_one((struct hsmd_method){ .name = "m",
					       .flags = HSMD_METHOD_MAINTENANCE,
					       .handler = handler,
					       .gate_hint = "two\nlines" },
			 err, sizeof(err)) != 0 &&
		   strstr(err, "control character"),
	       "a hint with a newline is refused (%s)", err);
	tap_ok(check_one((struct hsmd_method){ .name = "m",
					       .flags = HSMD_METHOD_INVASIVE,
					       .handler = handler,
					       .gate_hint = "why" },
			 err, sizeof(err)) != 0 &&
		   strstr(err, "without a recovery or maintenance rule"),
	       "a hint on a method without a mode rule is refused (%s)", err);
	TAP_INT_EQ(check_one((struct hsmd_method){ .name = "m",
						   .variant_param = "set",
						   .variant_flags = HSMD_METHOD_MAINTENANCE,
						   .handler = handler,
						   .gate_hint = "why" },
			     err, sizeof(err)),
		   0, "a hint for a variant's maintenance rule is accepted");
	return tap_done();
}
