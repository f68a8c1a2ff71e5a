/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - hsmd: the emulated HSM.
 *
 *   hsmd provision --state DIR --esn ESN --vendor-key FILE [...]
 *   hsmd run --state DIR [--conf DIR]
 *   hsmd simulate --state DIR [--clock-lost yes|no] [--ncoreapi operational|stopped]
 *   hsmd button --state DIR (--hold SECONDS | --release | --show)
 *
 * Exit status: 0 success, 1 failure, 2 usage (docs/man/hsmd.8).
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <hsmadmin/completion.h>
#include <hsmadmin/trust.h>

#include "enrollsecret.h"
#include "boot.h"
#include "button.h"
#include "cmdline.h"
#include "fault.h"
#include "gate.h"
#include "methods.h"
#include "hsmd.h"
#include "provision.h"
#include "server.h"
#include "services.h"
#include "store.h"
#include "vcmhost.h"

static void help(void)
{
	printf("Usage: hsmd COMMAND [options]\n"
	       "The emulated HSM: serves the platform services of one HSM over SSH.\n\n"
	       "Commands:\n"
	       "  provision   create a new HSM state directory (factory state)\n"
	       "  run         serve an HSM in the foreground until SIGTERM\n"
	       "  simulate    set emulated hardware conditions of a stopped HSM\n"
	       "  fail        make the HSM's module fail (it stays reachable)\n"
	       "  button      hold or release the emulated recovery-mode button\n"
	       "  vcm         serve one VCM (run by hsmd's VCM supervisor)\n"
	       "  methods     list every method of the configured services and its rules\n"
	       "  completion  print the bash, zsh or fish completion script\n\n"
	       "  hsmd COMMAND --help   options of one command\n"
	       "  hsmd --version\n");
}

/* At start-up the emulated HSM boots: autostart VCMs start. */
static void run_boot(struct hd_store *st, int ok, const char *why)
{
	static int told;

	if (ok)
		hd_vcmhost_boot(st, "start");
	/* Ready once every listener is up and the VCMs have been started;
	 * a boot that serves nothing is a failure the manager should see. */
	if (!told) {
		if (ok)
			hd_notify("READY=1\nSTATUS=serving");
		else
			hd_log_at(LOG_ERR, "boot failed: %s", why ? why : "unknown reason");
		told = 1;
	}
}

static void run_help(void)
{
	printf("Usage: hsmd run --state DIR [--conf DIR] [--log-level LEVEL] "
	       "[--log-target TARGET]\n"
	       "Serve the HSM whose state is in DIR until SIGTERM or SIGINT.\n"
	       "  --conf DIR            configuration: DIR/hsmd.conf and "
	       "DIR/services.d/*.conf [%s]\n"
	       "  --log-level LEVEL     err, warning, notice, info or debug [info]\n"
	       "  --log-target TARGET   stderr, journal, syslog or auto [auto: "
	       "journal when\n"
	       "                        systemd connected stderr to it, else "
	       "stderr]\n",
	       HSMADMIN_SYSCONFDIR);
}

static int run_main(int argc, char **argv)
{
	char **args = argv;
	const char *state = NULL, *confdir = HSMADMIN_SYSCONFDIR;
	const char *log_level = "info", *log_target = "auto";
	const struct hd_opt opts[] = {
		{ .name = "state", .str = &state, .required = "--state DIR" },
		{ .name = "conf", .str = &confdir },
		{ .name = "log-level", .str = &log_level },
		{ .name = "log-target", .str = &log_target },
	};
	struct hd_config cfg;
	struct hd_store st;
	struct hd_loaded_service *svcs = NULL;
	size_t nsvcs = 0;
	char err[HD_ERRLEN];
	int rc;

	if ((rc = hd_cmdline_parse("run", argc, argv, opts, HD_NOPTS(opts), run_help)) >= 0)
		return rc;
	if (hd_log_configure(log_target, log_level) != 0)
		return hd_usage(
		    "run",
		    "--log-target '%s' or --log-level '%s' is not one of the documented values",
		    log_target, log_level);
	hd_config_defaults(&cfg);
	if (hd_config_load(&cfg, confdir, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: run: %s\n", err);
		return 1;
	}
	/* The state holds the device's keys and decides what it trusts. */
	if (hsm_trust_dir(state, err, sizeof(err)) == -1) {
		fprintf(stderr, "hsmd: run: state directory %s\n", err);
		return 1;
	}
	if (hd_store_open(&st, state, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: run: %s\n", err);
		return 1;
	}
	/* Power on: the recovery button decides the image (guide 4.5.4.2). */
	if (hd_store_power_on(&st, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: run: %s\n", err);
		hd_store_close(&st);
		return 1;
	}
	if (hd_boot_image(&st, &cfg, confdir, &svcs, &nsvcs, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: run: %s\n", err);
		hd_store_close(&st);
		return 1;
	}
	if (nsvcs == 0) {
		if (hd_image_dir[0])
			fprintf(stderr, "hsmd: run: no service loaded from the firmware image %s\n",
				hd_image_dir);
		else
			fprintf(stderr,
				"hsmd: run: no service loaded (configuration %s/services.d, "
				"modules %s)\n",
				confdir, cfg.servicedir);
		hd_services_unload(svcs, nsvcs);
		hd_store_close(&st);
		return 1;
	}
	/* A factory-state HSM shows its enrollment secret on its console; one
	 * that has none (a crash right after factory state, or the factory
	 * state of a new image's first boot just now) gets a new one. */
	if (hd_enroll_secret_sync(
		state, json_string_value(json_object_get(st.lifetime, "esn")),
		strcmp(json_string_value(json_object_get(st.device, "state")), "factory") == 0, err,
		sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: run: enrollment secret: %s\n", err);
		hd_services_unload(svcs, nsvcs);
		hd_store_close(&st);
		return 1;
	}
	/* VCMs: the supervisor runs them; ncoreapi is a VCM's
	 * service, never the platform's (overview 5.1). */
	{
		size_t serve = nsvcs;
		for (size_t i = 0; i < serve; i++)
			if (!hd_gate_runs_on_platform(svcs[i].name)) {
				struct hd_loaded_service t = svcs[i];
				svcs[i] = svcs[serve - 1];
				svcs[serve - 1] = t;
				serve--;
				i--;
			}
		hd_vcmhost_init(&st, confdir);
		hd_serve_hooks.boot = run_boot;
		hd_serve_hooks.tick = hd_vcmhost_tick;
		hd_serve_hooks.shutdown = hd_vcmhost_shutdown;
		hd_serve_hooks.reboot = hd_vcmhost_boot;
		rc = hd_serve(&st, &cfg, svcs, serve);
		hd_notify("STOPPING=1");
	}
	hd_services_unload(svcs, nsvcs);
	hd_store_close(&st);
	if (rc == HD_SERVE_REEXEC) {
		/* The emulated reboot into a new firmware image: the same
		 * process starts again, so the new image's modules load. */
		char *again[64] = { "hsmd" };
		int n = 1;
		for (int i = 0; i < argc && n < 63; i++)
			again[n++] = args[i];
		again[n] = NULL;
		execv("/proc/self/exe", again);
		hd_log("cannot restart: %s", strerror(errno));
		return 1;
	}
	return rc;
}

static void simulate_help(void)
{
	printf("Usage: hsmd simulate --state DIR [--clock-lost yes|no] [--ncoreapi "
	       "operational|stopped]\n"
	       "                     [--log-fill N [--log-fill-bytes B] [--conf DIR]]\n"
	       "Set emulated hardware conditions of an HSM that is not running "
	       "(for tests):\n"
	       "  --clock-lost yes|no              the real-time clock lost its "
	       "time (guide 4.2.2)\n"
	       "  --ncoreapi operational|stopped   an ncoreapi service is "
	       "operational (interlock, 4.6.4)\n"
	       "  --log-fill N                     append N simulate_fill entries "
	       "to the system log\n"
	       "  --log-fill-bytes B               each with B bytes of padding "
	       "(default 16)\n"
	       "  --conf DIR                       read DIR/hsmd.conf as hsmd run does "
	       "(the fill's\n"
	       "                                   checkpoint_every; default: hsmd's "
	       "defaults)\n");
}

/* A decimal number in [min, max] into *out; -1 if it is not one. */
static int take_range(const char *arg, long long min, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(arg, &end, 10);
	return errno || *end || *out < min || *out > max ? -1 : 0;
}

static int take_log_fill(const char *cmd, const char *arg, void *data)
{
	if (take_range(arg, 1, 100000000, data) != 0)
		return hd_usage(cmd, "--log-fill: '%s' is not 1..100000000", arg);
	return 0;
}

static int take_log_fill_bytes(const char *cmd, const char *arg, void *data)
{
	if (take_range(arg, 0, HSM_SLOG_MAX_ENTRY - 512, data) != 0)
		return hd_usage(cmd, "--log-fill-bytes: '%s' is not 0..%d", arg,
				HSM_SLOG_MAX_ENTRY - 512);
	return 0;
}

static int simulate_main(int argc, char **argv)
{
	const char *state = NULL, *clock_lost = NULL, *ncoreapi = NULL, *confdir = NULL;
	long long fill = 0, fill_bytes = 16;
	const struct hd_opt opts[] = {
		{ .name = "state", .str = &state, .required = "--state DIR" },
		{ .name = "conf", .str = &confdir },
		{ .name = "clock-lost", .str = &clock_lost },
		{ .name = "ncoreapi", .str = &ncoreapi },
		{ .name = "log-fill", .take = take_log_fill, .data = &fill },
		{ .name = "log-fill-bytes", .take = take_log_fill_bytes, .data = &fill_bytes },
	};
	struct hd_config cfg;
	struct hd_store st;
	char err[HD_ERRLEN];
	json_t *doc, *detail;
	int rc;

	if ((rc = hd_cmdline_parse("simulate", argc, argv, opts, HD_NOPTS(opts), simulate_help)) >=
	    0)
		return rc;
	if (clock_lost && strcmp(clock_lost, "yes") && strcmp(clock_lost, "no"))
		return hd_usage("simulate", "--clock-lost: '%s' is not yes or no", clock_lost);
	if (ncoreapi && strcmp(ncoreapi, "operational") && strcmp(ncoreapi, "stopped"))
		return hd_usage("simulate", "--ncoreapi: '%s' is not operational or stopped",
				ncoreapi);
	hd_config_defaults(&cfg);
	/* The checkpoints of a fill as the running device would place them. */
	if (confdir && hd_config_load(&cfg, confdir, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: simulate: %s\n", err);
		return 1;
	}
	if (hd_store_open(&st, state, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: simulate: %s\n", err);
		return 1;
	}
	/* A large log quickly (tests, benches): whole entries with their
	 * checkpoints, then the commit below records them as committed. */
	if (fill) {
		json_t *d = json_object();
		char *pad = malloc((size_t)fill_bytes + 1);
		rc = -1;
		if (pad) {
			memset(pad, 'x', (size_t)fill_bytes);
			pad[fill_bytes] = '\0';
			json_object_set_new(d, "pad", json_string(pad));
			rc = hd_slog_fill(&st.slog, hd_store_now(&st), "simulate_fill", d, fill,
					  err, sizeof(err));
		}
		if (!pad)
			snprintf(err, sizeof(err), "out of memory");
		free(pad);
		json_decref(d);
		if (rc != 0) {
			fprintf(stderr, "hsmd: simulate: %s\n", err);
			hd_store_close(&st);
			return 1;
		}
	}
	doc = json_deep_copy(st.device);
	detail = json_object();
	if (fill)
		json_object_set_new(detail, "log_fill", json_integer(fill));
	if (clock_lost) {
		json_object_set_new(json_object_get(doc, "clock"), "lost",
				    json_boolean(!strcmp(clock_lost, "yes")));
		json_object_set_new(detail, "clock_lost", json_boolean(!strcmp(clock_lost, "yes")));
	}
	if (ncoreapi) {
		json_object_set_new(json_object_get(doc, "emulation"), "ncoreapi_operational",
				    json_boolean(!strcmp(ncoreapi, "operational")));
		json_object_set_new(detail, "ncoreapi", json_string(ncoreapi));
	}
	if (hd_store_commit(&st, doc, "simulate", detail, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: simulate: %s\n", err);
		hd_store_close(&st);
		return 1;
	}
	hd_store_close(&st);
	return 0;
}

/* hsmd fail: the emulated module fails while the appliance keeps
 * answering (fault.c); works on a running HSM. */
static void fail_help(void)
{
	printf("Usage: hsmd fail --state DIR [--reason TEXT]\n"
	       "Make the emulated HSM's module fail (for tests and drills): the "
	       "HSM, running or\n"
	       "not, keeps answering on the network, but every call fails except "
	       "setup status and\n"
	       "ncoreapi enquiry, which report it failed.  There is no way back: "
	       "replace the HSM.\n");
}

static int fail_main(int argc, char **argv)
{
	const char *state = NULL, *reason = "HSM Failed";
	const struct hd_opt opts[] = {
		{ .name = "state", .str = &state, .required = "--state DIR" },
		{ .name = "reason", .str = &reason },
	};
	char err[HD_ERRLEN], path[4200];
	struct stat st;
	int rc;

	if ((rc = hd_cmdline_parse("fail", argc, argv, opts, HD_NOPTS(opts), fail_help)) >= 0)
		return rc;
	if (!*reason || strlen(reason) > 128)
		return hd_usage("fail", "%s", "--reason: 1-128 characters");
	snprintf(path, sizeof(path), "%s/lifetime.json", state);
	if (stat(path, &st) != 0) {
		fprintf(stderr, "hsmd: fail: %s is not an HSM state directory (no lifetime.json)\n",
			state);
		return 1;
	}
	if (hd_fault_set(state, reason, err, sizeof(err)) != 0) {
		fprintf(stderr, "hsmd: fail: %s\n", err);
		return 1;
	}
	return 0;
}

/* Shell completion, made from the option tables of the commands above
 * (hd_cmdline_sink): their option names and whether each takes a value.  This table only
 * says what a value is (as a plugin's metavar does, docs/plugin-guide.md);
 * naming an option no command has is an error, so the two cannot drift. */
static const struct {
	const char *command, *option, *kind;
} value_kinds[] = {
	{ "provision", "state", "DIR" },
	{ "provision", "speed", "base|mid|high" },
	{ "provision", "vendor-key", "FILE" },
	{ "provision", "module-conf", "FILE" },
	{ "provision", "firmware", "FILE" },
	{ "run", "state", "DIR" },
	{ "run", "conf", "DIR" },
	{ "run", "log-level", "err|warning|notice|info|debug" },
	{ "run", "log-target", "stderr|journal|syslog|auto" },
	{ "simulate", "state", "DIR" },
	{ "simulate", "clock-lost", "yes|no" },
	{ "simulate", "ncoreapi", "operational|stopped" },
	{ "fail", "state", "DIR" },
	{ "button", "state", "DIR" },
	{ "vcm", "state", "DIR" },
	{ "vcm", "conf", "DIR" },
	{ "vcm", "image", "DIR" },
	{ "methods", "conf", "DIR" },
};

static int completion_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "provision", hd_provision_main }, { "run", run_main },
		{ "simulate", simulate_main },      { "fail", fail_main },
		{ "button", hd_button_main },       { "vcm", hd_vcm_main },
		{ "methods", hd_methods_main },
	};
	enum { N = sizeof(commands) / sizeof(commands[0]) };
	static struct hsm_tool_option opts[N][HD_CMDLINE_OPTS_MAX + 1];
	static const struct hsm_tool_option none[] = { { NULL, 0, NULL } };
	struct hsm_tool_command cmds[N + 2];
	size_t used = 0;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: hsmd completion bash|zsh|fish\n"
		       "Print the shell completion script of hsmd (the installed loaders run "
		       "it).\n");
		return 0;
	}
	if (argc != 2)
		return hd_usage("completion", "give one shell: bash, zsh or fish");
	for (size_t i = 0; i < N; i++) {
		struct hd_cmdline_sink sink = { .n = 0 };
		char *args[] = { (char *)commands[i].name, NULL };

		hd_cmdline_sink = &sink;
		commands[i].run(1, args);
		hd_cmdline_sink = NULL;
		for (size_t j = 0; j < sink.n; j++)
			opts[i][j] =
			    (struct hsm_tool_option){ sink.names[j], sink.takes_value[j], NULL };
		opts[i][sink.n] = none[0];
		for (size_t k = 0; k < sizeof(value_kinds) / sizeof(value_kinds[0]); k++) {
			size_t j = 0;

			if (strcmp(value_kinds[k].command, commands[i].name))
				continue;
			while (j < sink.n && strcmp(opts[i][j].name, value_kinds[k].option))
				j++;
			if (j == sink.n) {
				fprintf(stderr, "hsmd: completion: %s has no option --%s\n",
					commands[i].name, value_kinds[k].option);
				return 1;
			}
			opts[i][j].kind = value_kinds[k].kind;
			used++;
		}
		cmds[i] = (struct hsm_tool_command){ commands[i].name, opts[i], NULL };
	}
	if (used != sizeof(value_kinds) / sizeof(value_kinds[0])) {
		fprintf(stderr, "hsmd: completion: a value kind names an unknown command\n");
		return 1;
	}
	cmds[N] = (struct hsm_tool_command){ "completion", none, "bash|zsh|fish" };
	cmds[N + 1] = (struct hsm_tool_command){ NULL, NULL, NULL };
	if (hsm_tool_completion(stdout, argv[1], "hsmd", cmds) != 0)
		return hd_usage("completion", "'%s' is not bash, zsh or fish", argv[1]);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help();
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		help();
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v")) {
		printf("hsmd %s (service ABI %d.%d)\n", PACKAGE_VERSION, HSMD_SERVICE_ABI_MAJOR,
		       HSMD_SERVICE_ABI_MINOR);
		return 0;
	}
	if (!strcmp(argv[1], "provision"))
		return hd_provision_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return run_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "simulate"))
		return simulate_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "vcm"))
		return hd_vcm_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fail"))
		return fail_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "button"))
		return hd_button_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "completion"))
		return completion_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "methods"))
		return hd_methods_main(argc - 1, argv + 1);
	fprintf(stderr,
		"hsmd: unknown command '%s' (provision, run, simulate, fail, button, methods, "
		"completion; "
		"see hsmd "
		"--help)\n",
		argv[1]);
	return 2;
}
