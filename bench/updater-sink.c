/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/updater-sink.c - the reference of bench/upgrade.sh (b): a
 * bench-only "updater" service whose streaming `upgrade` method receives
 * the package over the same exec channel as the real updater, through the
 * same hsmd event loop, and drops the bytes: no verification, no image.
 * It never installs anything and is never built into the tree; its reply
 * is shaped like a dry run's so that `hsmadmin upgrade --dry-run` can
 * drive both HSMs the same way, and says "bench_sink" so nobody takes it
 * for a real one.
 */
#include <stdint.h>
#include <hsmadmin/service.h>

static uint64_t received;

static int sink_start(struct hsmd_call *call)
{
	(void)call;
	received = 0; /* hsmd runs one call at a time */
	return HSMD_OK;
}

static int sink_stream(struct hsmd_call *call, const void *data, size_t len)
{
	(void)call;
	(void)data;
	received += len;
	return HSMD_OK;
}

static int sink_finish(struct hsmd_call *call)
{
	hsmd_reply(call, json_pack("{s:{}, s:{}, s:b, s:s, s:b, s:I}", "current", "package",
				   "dry_run", 1, "component", "primary", "bench_sink", 1, "bytes",
				   (json_int_t)received));
	return HSMD_OK;
}

static const struct hsmd_method sink_methods[] = {
	{ .name = "upgrade",
	  .flags = HSMD_METHOD_STREAMS,
	  .handler = sink_start,
	  .stream = sink_stream,
	  .finish = sink_finish,
	  .summary = "bench only: receive a package and drop it" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,  .name = "updater",       .version = "bench",
	.default_port = 2204, .methods = sink_methods,
};
