/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output.c - what commands print.  Text is for people and is suppressed
 * under --json, where the core prints one JSON document (sorted keys) after
 * the command returns.  Errors are one line on stderr:
 *   <tool>: <command>: <what>: <why>
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

HSM_API void hsm_printf(struct hsm_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

HSM_API json_t *hsm_json(struct hsm_ctx *ctx)
{
	if (!ctx->doc)
		ctx->doc = json_object();
	return ctx->doc;
}

HSM_API void hsm_verbosef(struct hsm_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->verbose)
		return;
	fprintf(stderr, "%s: %s: ", ctx->tool, ctx->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (!*fmt || fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

/* Keep one line: control characters in a reason (a hostile file name or
 * peer message) are shown as '?'. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

HSM_API int hsm_error(struct hsm_ctx *ctx, int code, const char *what, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	one_line(why);
	fprintf(stderr, "%s: %s: %s: %s\n", ctx->tool, ctx->path, what, why);
	ctx->errored = 1;
	if (ctx->json && !json_object_get(hsm_json(ctx), "error"))
		json_object_set_new(
		    hsm_json(ctx), "error",
		    json_pack("{s:i, s:s, s:s}", "exit", code, "what", what, "message", why));
	return code;
}

HSM_API void hsm_warn(struct hsm_ctx *ctx, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	one_line(text);
	fprintf(stderr, "%s: %s: warning: %s\n", ctx->tool, ctx->path, text);
}

int hsm_finish_output(struct hsm_ctx *ctx, int rc)
{
	if (ctx->json && ctx->doc) {
		if (json_dumpf(ctx->doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
			rc = rc ? rc : HSM_EXIT_FAILED;
		fputc('\n', stdout);
	}
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "%s: %s: output: cannot write to stdout\n", ctx->tool, ctx->path);
		rc = HSM_EXIT_FAILED;
	}
	return rc;
}

/* --- option and context accessors (plugin.h) ----------------------------- */

static const struct hsm_optval *opt(const struct hsm_ctx *ctx, const char *name)
{
	return hsm_opts_find(&ctx->parsed, name);
}

HSM_API int hsm_opt_given(const struct hsm_ctx *ctx, const char *name)
{
	const struct hsm_optval *v = opt(ctx, name);

	return v && v->count > 0;
}

HSM_API const char *hsm_opt_str(const struct hsm_ctx *ctx, const char *name)
{
	const struct hsm_optval *v = opt(ctx, name);

	if (!v)
		return NULL;
	return v->count ? v->vals[v->count - 1] : v->opt->defval;
}

HSM_API int64_t hsm_opt_int(const struct hsm_ctx *ctx, const char *name)
{
	const char *s = hsm_opt_str(ctx, name);
	int64_t n = 0;

	if (s)
		hsm_parse_int64(s, &n); /* validated by the parser */
	return n;
}

HSM_API size_t hsm_opt_count(const struct hsm_ctx *ctx, const char *name)
{
	const struct hsm_optval *v = opt(ctx, name);

	return v ? v->count : 0;
}

HSM_API const char *hsm_opt_str_at(const struct hsm_ctx *ctx, const char *name, size_t i)
{
	const struct hsm_optval *v = opt(ctx, name);

	return v && i < v->count ? v->vals[i] : NULL;
}

HSM_API int hsm_json_mode(const struct hsm_ctx *ctx)
{
	return ctx->json;
}
HSM_API int hsm_verbose(const struct hsm_ctx *ctx)
{
	return ctx->verbose;
}
HSM_API int hsm_timeout(const struct hsm_ctx *ctx)
{
	return ctx->timeout;
}
HSM_API size_t hsm_esn_count(const struct hsm_ctx *ctx)
{
	return hsm_opt_count(ctx, "esn");
}
HSM_API const char *hsm_esn_at(const struct hsm_ctx *ctx, size_t i)
{
	return hsm_opt_str_at(ctx, "esn", i);
}
HSM_API const char *hsm_home(const struct hsm_ctx *ctx)
{
	return ctx->home;
}
HSM_API const char *hsm_conf_dir(const struct hsm_ctx *ctx)
{
	return ctx->conf;
}
HSM_API const char *hsm_tool(const struct hsm_ctx *ctx)
{
	return ctx->tool;
}
HSM_API const char *hsm_command_path(const struct hsm_ctx *ctx)
{
	return ctx->path;
}
