/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output.c - what commands print.  Text is for people and is suppressed
 * under --json, where the core prints one JSON document (sorted keys) after
 * the command returns; --quiet keeps only the error lines.  Errors are one
 * line on stderr:
 *   <tool>: <command>: <what>: <why>
 * A long wait may show a progress line on stderr, on a terminal only; any
 * other output erases it first, so it never ends up mixed into a line.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

HSM_API void hsm_printf(struct hsm_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->json || ctx->quiet)
		return;
	hsm_progress_clear(ctx);
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
	hsm_progress_clear(ctx);
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
	hsm_progress_clear(ctx);
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

	if (ctx->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	one_line(text);
	hsm_progress_clear(ctx);
	fprintf(stderr, "%s: %s: warning: %s\n", ctx->tool, ctx->path, text);
}

/* --- the progress line ------------------------------------------------- */

#define PROGRESS_DELAY_MS 1000

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Only for a person watching: a terminal on stderr, and neither --json
 * (output for programs) nor --quiet. */
static int progress_wanted(const struct hsm_ctx *ctx)
{
	return !ctx->json && !ctx->quiet && isatty(STDERR_FILENO);
}

HSM_API void hsm_progress(struct hsm_ctx *ctx, const char *fmt, ...)
{
	char text[256], line[512];
	struct winsize ws;
	size_t width = 80;
	long long now;
	va_list ap;

	if (!progress_wanted(ctx))
		return;
	now = mono_ms();
	if (!ctx->progress_since) {
		ctx->progress_since = now;
		return;
	}
	if (now - ctx->progress_since < PROGRESS_DELAY_MS)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	one_line(text);
	snprintf(line, sizeof(line), "%s: %s: %s (%lld s)", ctx->tool, ctx->path, text,
		 (now - ctx->progress_since) / 1000);
	/* One line that never wraps: a wrapped line cannot be erased. */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	if (strlen(line) > width - 1)
		line[width - 1] = '\0';
	fflush(stdout);
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	ctx->progress_shown = 1;
}

void hsm_progress_clear(struct hsm_ctx *ctx)
{
	if (!ctx->progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	ctx->progress_shown = 0;
}

HSM_API void hsm_progress_done(struct hsm_ctx *ctx)
{
	hsm_progress_clear(ctx);
	ctx->progress_since = 0;
}

int hsm_finish_output(struct hsm_ctx *ctx, int rc)
{
	hsm_progress_done(ctx);
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
HSM_API int hsm_quiet(const struct hsm_ctx *ctx)
{
	return ctx->quiet;
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
