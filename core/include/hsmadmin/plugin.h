/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmadmin/plugin.h - the host plugin ABI (version 1.2).
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `hsmadmin_plugin`, a const struct hsm_plugin.  The core reads the ABI
 * version and the struct sizes before it touches anything else:
 *
 *   - abi_major differs from the core's   -> the plugin is refused
 *   - size (or a table stride) is smaller than the core needs -> refused
 *   - abi_minor newer than the core's     -> only known fields are used
 *
 * Rules for changing this file: add fields only at the end of a struct and
 * bump HSMADMIN_PLUGIN_ABI_MINOR; removing or changing a field bumps the
 * major.  Tables are plain data; the only callbacks are run/init/fini.
 *
 * ABI 1.1 adds no field: it adds the call API of <hsmadmin/call.h>
 * (libhsmadmin-call, `pkg-config hsmadmin-call`), with which a command
 * calls a device method on the HSMs selected by --esn, and the output
 * helpers hsm_quiet, hsm_progress and hsm_progress_done below (the common
 * -q/--quiet and the progress line).  ABI 1.2 adds hsm_call_each to the
 * call API (each HSM's result as it arrives).  A plugin built for 1.0 or
 * 1.1 loads unchanged.
 *
 * A minimal plugin (see docs/plugin-guide.md for the whole story):
 *
 *   static int hello_run(struct hsm_ctx *ctx) {
 *       const char *who = hsm_opt_str(ctx, "name");
 *       hsm_printf(ctx, "hello %s\n", who ? who : "world");
 *       json_object_set_new(hsm_json(ctx), "greeted", json_string(who ? who : "world"));
 *       return HSM_EXIT_OK;
 *   }
 *   static const struct hsm_option hello_opts[] = {
 *       { .name = "name", .type = HSM_OPT_STRING, .metavar = "NAME", .help = "whom to greet" },
 *       HSM_OPTION_END
 *   };
 *   static const struct hsm_command hello_cmds[] = {
 *       { .path = "hello", .tool = "hsmadmin", .summary = "Say hello",
 *         .options = hello_opts, .run = hello_run },
 *       HSM_COMMAND_END
 *   };
 *   HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
 *       HSMADMIN_PLUGIN_HEADER,
 *       .name = "hello", .version = "1.0", .commands = hello_cmds,
 *   };
 */
#ifndef HSMADMIN_PLUGIN_H
#define HSMADMIN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one source of the plugin ABI version: configure reads these two
 * lines for hsmadmin-plugin.pc (tests/cli/versions.sh checks). */
#define HSMADMIN_PLUGIN_ABI_MAJOR 1
#define HSMADMIN_PLUGIN_ABI_MINOR 2

/* The one symbol the core looks up with dlsym(). */
#define HSMADMIN_PLUGIN_SYMBOL "hsmadmin_plugin"

/* Functions the core exports to plugins. */
#if defined(__GNUC__)
#define HSM_API __attribute__((visibility("default")))
#define HSMADMIN_PLUGIN_EXPORT __attribute__((visibility("default")))
#define HSM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HSM_API
#define HSMADMIN_PLUGIN_EXPORT
#define HSM_PRINTF(a, b)
#endif

/* Exit codes, the same for every command of every tool (docs/exit-codes.md). */
enum hsm_exit {
	HSM_EXIT_OK = 0,          /* success */
	HSM_EXIT_FAILED = 1,      /* the operation failed */
	HSM_EXIT_USAGE = 2,       /* bad command line or bad input file */
	HSM_EXIT_STATE = 3,       /* refused by device state (interlock, mode, limits) */
	HSM_EXIT_AUTH = 4,        /* authentication or trust failure (signature, host key) */
	HSM_EXIT_UNREACHABLE = 5, /* timeout or device unreachable */
	HSM_EXIT_UNAVAILABLE = 6  /* the command's plugin could not be loaded */
};

enum hsm_opt_type {
	HSM_OPT_FLAG = 1,   /* --name, no value */
	HSM_OPT_STRING = 2, /* --name VALUE or --name=VALUE */
	HSM_OPT_INT = 3     /* like STRING, decimal, checked against [min, max] */
};

/* hsm_option.flags */
#define HSM_OPTF_REQUIRED 0x1u   /* must be given */
#define HSM_OPTF_REPEATABLE 0x2u /* may be given more than once */
#define HSM_OPTF_POSITIONAL 0x4u /* an operand, in declaration order; .name is its metavar */

struct hsm_option {
	const char *name;    /* long name without "--" ("request-file"); NULL ends a table */
	char short_name;     /* single-letter alias, or 0 */
	uint8_t type;        /* enum hsm_opt_type; positionals are STRING or INT */
	uint16_t flags;      /* HSM_OPTF_* */
	int32_t group;       /* options sharing a non-zero group are mutually exclusive */
	int64_t min, max;    /* HSM_OPT_INT range, inclusive */
	const char *defval;  /* default value as text, or NULL */
	const char *metavar; /* shown in help ("FILE"); NULL: derived from name */
	const char *help;    /* one line */
};
#define HSM_OPTION_END                                                                             \
	{                                                                                          \
		.name = NULL                                                                       \
	}

/* hsm_command.flags */
#define HSM_CMDF_DEVICE 0x1u     /* talks to HSMs: accepts the common --esn and --timeout */
#define HSM_CMDF_NEEDS_ROOT 0x2u /* documented as needing root on real hardware (informational) */
#define HSM_CMDF_INVASIVE 0x4u   /* changes device state (shown in help) */
/* With HSM_CMDF_DEVICE: the command always acts on every known HSM, so it
 * accepts --timeout but not --esn (keys restore).  A core that predates
 * this bit ignores it and offers --esn, which the command then refuses. */
#define HSM_CMDF_EVERY_HSM 0x8u
/* Another spelling of the command just before it in the same table (the
 * guide's "settime adjust" for "settime --adjust"): it runs like any
 * command, and help lists it as a form of that command instead of as a
 * command of its own.  A core that predates this bit lists it apart. */
#define HSM_CMDF_ALIAS 0x10u

struct hsm_ctx; /* opaque: everything a running command may ask the core */

struct hsm_command {
	const char *path;        /* words separated by one space: "vcm create"; NULL ends a table */
	const char *tool;        /* "hsmadmin", "vcmadmin", ...; NULL means "hsmadmin" */
	const char *summary;     /* one line for help listings */
	const char *description; /* optional paragraph for `--help` */
	const struct hsm_option *options; /* may be NULL */
	uint32_t flags;                   /* HSM_CMDF_* */
	int (*run)(struct hsm_ctx *ctx);  /* returns an enum hsm_exit value */
};
#define HSM_COMMAND_END                                                                            \
	{                                                                                          \
		.path = NULL                                                                       \
	}

struct hsm_plugin {
	uint16_t abi_major; /* HSMADMIN_PLUGIN_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor;
	uint32_t size;         /* sizeof(struct hsm_plugin) as built */
	uint32_t command_size; /* sizeof(struct hsm_command): stride of .commands */
	uint32_t option_size;  /* sizeof(struct hsm_option): stride of option tables */
	const char *name;      /* must match the name in plugins.d/<name>.conf */
	const char *version;
	const struct hsm_command *commands;
	/* Optional.  Called once after the checks, before the command runs.
	 * Return 0, or non-zero with a reason in err (shown to the user). */
	int (*init)(char *err, size_t errlen);
	void (*fini)(void);
};

#define HSMADMIN_PLUGIN_HEADER                                                                     \
	.abi_major = HSMADMIN_PLUGIN_ABI_MAJOR, .abi_minor = HSMADMIN_PLUGIN_ABI_MINOR,            \
	.size = sizeof(struct hsm_plugin), .command_size = sizeof(struct hsm_command),             \
	.option_size = sizeof(struct hsm_option)

/* ---------------------------------------------------------------------
 * What a command may ask the core.  All strings returned stay valid until
 * the command returns.
 * ------------------------------------------------------------------- */

/* Parsed options, looked up by long name (or a positional's name). */
HSM_API int hsm_opt_given(const struct hsm_ctx *ctx, const char *name);
HSM_API const char *hsm_opt_str(const struct hsm_ctx *ctx, const char *name);
HSM_API int64_t hsm_opt_int(const struct hsm_ctx *ctx, const char *name);
HSM_API size_t hsm_opt_count(const struct hsm_ctx *ctx, const char *name);
HSM_API const char *hsm_opt_str_at(const struct hsm_ctx *ctx, const char *name, size_t i);

/* VCM UUIDs: 8-4-4-4-12 hex digits, either case; out gets the lower-case
 * form.  hsm_uuid_normalize returns 0 or -1.  hsm_opt_uuid reads option (or
 * operand) name: HSM_EXIT_OK with out set ("" when not given), or
 * HSM_EXIT_USAGE after one error line naming the option and the value. */
#define HSM_UUID_LEN 36
HSM_API int hsm_uuid_normalize(const char *s, char out[HSM_UUID_LEN + 1]);
HSM_API int hsm_opt_uuid(struct hsm_ctx *ctx, const char *name, char out[HSM_UUID_LEN + 1]);

/* Common options. */
HSM_API int hsm_json_mode(const struct hsm_ctx *ctx);
HSM_API int hsm_verbose(const struct hsm_ctx *ctx);
HSM_API int hsm_quiet(const struct hsm_ctx *ctx);   /* -q/--quiet: print only errors */
HSM_API int hsm_timeout(const struct hsm_ctx *ctx); /* seconds, 3..120 */
HSM_API size_t hsm_esn_count(const struct hsm_ctx *ctx);
HSM_API const char *hsm_esn_at(const struct hsm_ctx *ctx, size_t i);

/* Where things live: HSMADMIN_HOME (keys, pins, enrollments) and
 * HSMADMIN_CONF (configuration).  HOME may not exist yet: a command that
 * stores something creates what it needs (hsm_mkdir_p, mode 0700). */
HSM_API const char *hsm_home(const struct hsm_ctx *ctx);
HSM_API const char *hsm_conf_dir(const struct hsm_ctx *ctx);
HSM_API const char *hsm_tool(const struct hsm_ctx *ctx);         /* "hsmadmin" */
HSM_API const char *hsm_command_path(const struct hsm_ctx *ctx); /* "vcm create" */

/* Output.  Text goes to stdout and is suppressed under --json and --quiet
 * (which keeps only hsm_error's lines); the JSON
 * document (an object) is printed by the core after run() returns, and only
 * under --json.  A command fills both. */
HSM_API void hsm_printf(struct hsm_ctx *ctx, const char *fmt, ...) HSM_PRINTF(2, 3);
HSM_API json_t *hsm_json(struct hsm_ctx *ctx);
/* Verbose diagnostics on stderr, only with --verbose. */
HSM_API void hsm_verbosef(struct hsm_ctx *ctx, const char *fmt, ...) HSM_PRINTF(2, 3);
/* One error line on stderr: "<tool>: <command>: <what>: <why>".  Returns
 * code so a command can `return hsm_error(ctx, HSM_EXIT_FAILED, ...)`. */
HSM_API int hsm_error(struct hsm_ctx *ctx, int code, const char *what, const char *fmt, ...)
    HSM_PRINTF(4, 5);
/* A warning line on stderr: "<tool>: <command>: warning: <text>". */
HSM_API void hsm_warn(struct hsm_ctx *ctx, const char *fmt, ...) HSM_PRINTF(2, 3);
/* A one-line progress indicator on stderr for a long wait: call it every
 * few hundred ms while waiting; the first call starts the clock and the
 * line appears once the wait passes a second, as
 * "<tool>: <command>: <text> (<seconds> s)".  Shown only on a terminal,
 * never under --json or --quiet; any other output erases it first, and
 * hsm_progress_done erases it for good.  Main thread only. */
HSM_API void hsm_progress(struct hsm_ctx *ctx, const char *fmt, ...) HSM_PRINTF(2, 3);
HSM_API void hsm_progress_done(struct hsm_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* HSMADMIN_PLUGIN_H */
