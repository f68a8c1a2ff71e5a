/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugins/platform/platform.c - the platform plugin's descriptor: the
 * hsmadmin commands of guide 4.10.1 that administer the HSM itself.
 */
#include "config.h"

#include <hsmadmin/plugin.h>

#include "platform.h"

#define ROOT HSM_CMDF_NEEDS_ROOT
#define DEVICE HSM_CMDF_DEVICE
#define INVASIVE HSM_CMDF_INVASIVE

static const struct hsm_option enroll_opts[] = {
	{ .name = "sshadmin-key",
	  .type = HSM_OPT_STRING,
	  .metavar = "FILE",
	  .help = "sshadmin client key to use instead of the one in HSMADMIN_HOME (a backup)" },
	{ .name = "secret-file",
	  .type = HSM_OPT_STRING,
	  .flags = HSM_OPTF_REPEATABLE,
	  .metavar = "FILE",
	  .help = "one-time enrollment secrets of factory-state HSMs: lines \"ESN SECRET\" "
		  "(as hsmd writes STATE/enrollment-secret)" },
	{ .name = "secret",
	  .type = HSM_OPT_STRING,
	  .metavar = "SECRET",
	  .help = "the one-time enrollment secret of the one HSM addressed (visible to other "
		  "users of this machine: prefer --secret-file)" },
	{ .name = "remove",
	  .type = HSM_OPT_FLAG,
	  .help = "forget the HSM named by --esn on this host: its modules.d entry and pinned host "
		  "keys" },
	{ .name = "force",
	  .type = HSM_OPT_FLAG,
	  .help = "with --remove: do not ask the HSM first (it is offline or failed)" },
	{ .name = "probe",
	  .type = HSM_OPT_STRING,
	  .metavar = "ADDRESS",
	  .help =
	      "show the ESN and key fingerprints of the HSM at ADDRESS; change and trust nothing" },
	{ .name = "port",
	  .type = HSM_OPT_INT,
	  .min = 1,
	  .max = 65535,
	  .metavar = "PORT",
	  .help = "with --probe: the HSM's sshadmin port (default 2201)" },
	HSM_OPTION_END
};

static const struct hsm_option settime_opts[] = {
	{ .name = "adjust",
	  .type = HSM_OPT_FLAG,
	  .group = 1,
	  .help = "slew the HSM clock towards the host clock instead of setting it (no reset)" },
	{ .name = "no-reset",
	  .type = HSM_OPT_FLAG,
	  .group = 1,
	  .help = "set the clock but do not reset the HSM (reboot the host later)" },
	HSM_OPTION_END
};

static const struct hsm_option cs5_stats_opts[] = {
	{ .name = "uuid",
	  .short_name = 'u',
	  .type = HSM_OPT_STRING,
	  .metavar = "UUID",
	  .help = "the SEE machine (default: every running one)" },
	HSM_OPTION_END
};

static const struct hsm_option setminvsn_opts[] = {
	{ .name = "VSN",
	  .type = HSM_OPT_INT,
	  .flags = HSM_OPTF_POSITIONAL | HSM_OPTF_REQUIRED,
	  .min = 0,
	  .max = 2147483647,
	  .help = "the lowest firmware VSN the HSM will accept from now on" },
	HSM_OPTION_END
};

static const struct hsm_option factorystate_opts[] = {
	{ .name = "all",
	  .type = HSM_OPT_FLAG,
	  .help = "return every known HSM to factory state without asking" },
	HSM_OPTION_END
};

static const struct hsm_option acceleration_opts[] = {
	{ .name = "show",
	  .type = HSM_OPT_FLAG,
	  .group = 1,
	  .help = "show the available accelerators and the selected one (the default)" },
	{ .name = "set",
	  .type = HSM_OPT_STRING,
	  .group = 1,
	  .metavar = "ID",
	  .help = "select accelerator ID; takes effect at the next reset" },
	HSM_OPTION_END
};

static const struct hsm_command commands[] = {
	{ .path = "enroll",
	  .summary = "Install this host's SSH keys on HSMs and pin their host keys",
	  .description =
	      "Creates this host's per-service client keys on first use, verifies each "
	      "HSM's certificate chain against the vendor keys in HSMADMIN_CONF/vendor.d, "
	      "installs the client keys and pins every service host key.  An HSM in "
	      "factory state is enrolled only with the one-time enrollment secret it "
	      "printed when it entered factory state (--secret-file, --secret).  On an HSM "
	      "already enrolled from this host it changes nothing.",
	  .options = enroll_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = platform_enroll },
	{ .path = "status",
	  .summary = "Show ESN, state, mode, image and firmware versions",
	  .flags = DEVICE,
	  .run = platform_status },
	{ .path = "info",
	  .summary = "Show the HSM's manufacturing data (ESN, PSN, speed, limits)",
	  .flags = DEVICE | ROOT,
	  .run = platform_info },
	{ .path = "gettime",
	  .summary = "Show the HSM system time",
	  .flags = DEVICE | ROOT,
	  .run = platform_gettime },
	{ .path = "settime",
	  .summary = "Set the HSM clock from the host clock (UTC)",
	  .description =
	      "Without --adjust the HSM must be in maintenance mode and is reset; a time "
	      "earlier than the last one set, or than the manufacturing time, is refused.",
	  .options = settime_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = platform_settime },
	{ .path = "settime adjust",
	  .summary = "Slew the HSM clock towards the host clock (no reset)",
	  .description =
	      "The guide's other spelling of settime --adjust (guide 4.2.4): answers "
	      "\"HSM system time calibration in progress\"; allowed in operational mode.",
	  .flags = DEVICE | ROOT | INVASIVE | HSM_CMDF_ALIAS,
	  .run = platform_settime },
	{ .path = "setminvsn",
	  .summary = "Set the minimum firmware VSN the HSM accepts",
	  .description = "The new minimum may not be lower than the current minimum nor higher "
			 "than the VSN of the installed firmware.",
	  .options = setminvsn_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = platform_setminvsn },
	{ .path = "getenvstats",
	  .summary = "Show environmental statistics (temperatures, voltages, ...)",
	  .flags = DEVICE,
	  .run = platform_getenvstats },
	{ .path = "reset",
	  .summary = "Reset HSMs",
	  .flags = DEVICE | INVASIVE,
	  .run = platform_reset },
	{ .path = "factorystate",
	  .summary = "Return HSMs to factory state (erases user data and keys)",
	  .description =
	      "Without --esn this addresses every known HSM and asks for confirmation on a "
	      "terminal unless --all is given; it refuses when stdin is not a terminal.",
	  .options = factorystate_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = platform_factorystate },
	{ .path = "select acceleration",
	  .summary = "Show or select the algorithm accelerator",
	  .options = acceleration_opts,
	  .flags = DEVICE | ROOT | INVASIVE,
	  .run = platform_select_acceleration },
	{ .path = "cs5 stats",
	  .summary = "Statistics of CodeSafe 5 SEE machines (not on multi-tenant HSMs)",
	  .description = "CodeSafe 5 is not supported in multi-tenant systems (guide 4.10.1.14): "
			 "the command answers so and exits 3.",
	  .options = cs5_stats_opts,
	  .flags = DEVICE,
	  .run = platform_cs5_stats },
	HSM_COMMAND_END
};

HSMADMIN_PLUGIN_EXPORT const struct hsm_plugin hsmadmin_plugin = {
	HSMADMIN_PLUGIN_HEADER,
	.name = "platform",
	.version = PACKAGE_VERSION,
	.commands = commands,
};
