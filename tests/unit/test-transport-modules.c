/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/unit/test-transport-modules.c - the modules.d reader against good
 * and hostile files.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules.h"
#include "tap.h"

static const char good[] = "# an HSM\n"
			   "[module]\n"
			   "esn = 1A23-BC45-6789\n"
			   "address = 127.0.0.2\n"
			   "[ports]\n"
			   "sshadmin = 3201\n"
			   "monitor = 3206\n";

/* Parse text; return the error text ("" on success). */
static const char *parse(const char *text, size_t len, struct hsm_module *m)
{
	static char err[256];

	err[0] = '\0';
	if (hsm_module_parse(text, len, m, err, sizeof(err)) == 0)
		return "";
	return err[0] ? err : "(failed without a reason)";
}

#define REFUSED(text, want, name)                                                                  \
	do {                                                                                       \
		struct hsm_module m_;                                                              \
		const char *e_ = parse(text, sizeof(text) - 1, &m_);                               \
		tap_ok(strstr(e_, want) != NULL && *e_, "refused: %s", name);                      \
		if (!strstr(e_, want) || !*e_)                                                     \
			printf("#   got: '%s'\n#   want: '%s'\n", e_, want);                       \
	} while (0)

static void test_good(void)
{
	struct hsm_module m;

	TAP_STR_EQ(parse(good, sizeof(good) - 1, &m), "", "good file parses");
	TAP_STR_EQ(m.esn, "1A23-BC45-6789", "esn read");
	TAP_STR_EQ(m.address, "127.0.0.2", "address read");
	TAP_INT_EQ(m.ports[HSM_SVC_SSHADMIN], 3201, "sshadmin port from [ports]");
	TAP_INT_EQ(m.ports[HSM_SVC_MONITOR], 3206, "monitor port from [ports]");
	TAP_INT_EQ(m.ports[HSM_SVC_SETUP], 2202, "setup port defaults to 2202");
	TAP_INT_EQ(m.ports[HSM_SVC_ORCHESTRATOR], 2207, "orchestrator port defaults to 2207");

	{
		static const char v6[] = "[module]\r\nesn = 9Z87-YX65-4321\r\naddress = ::1\r\n";
		TAP_STR_EQ(parse(v6, sizeof(v6) - 1, &m), "", "IPv6 address and CRLF line ends");
		TAP_STR_EQ(m.address, "::1", "IPv6 address read");
		TAP_INT_EQ(m.ports[HSM_SVC_SSHADMIN], 2201, "no [ports]: defaults");
	}
	{
		static const char noeol[] = "[module]\nesn = 1A23-BC45-6789\naddress=10.1.2.3";
		TAP_STR_EQ(parse(noeol, sizeof(noeol) - 1, &m), "", "no newline at the end");
	}
}

static void test_hostile(void)
{
	char big[600];
	struct hsm_module m;
	const char *e;

	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\nfoo = 1\n",
		"line 4: unknown key 'foo'", "unknown key, with its line");
	REFUSED("[module]\nesn = 1A23-BC45-6789\nesn = 1A23-BC45-6780\naddress = 127.0.0.2\n",
		"line 3: duplicate key 'esn'", "duplicate key");
	REFUSED(
	    "[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n[ports]\nsetup = 1\nsetup = 2\n",
	    "line 6: duplicate key 'setup'", "duplicate port");
	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n[extra]\nx = 1\n",
		"line 5: unknown section [extra]", "unknown section");
	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n\n[extra]\n",
		"line 5: unknown section [extra]", "unknown section without keys");
	REFUSED("[extra]\n[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n",
		"line 1: unknown section [extra]", "unknown section without keys, first");
	REFUSED("esn = 1A23-BC45-6789\n", "line 1: key 'esn' outside a section",
		"key before any section");
	REFUSED("[module]\nesn = 1a23-bc45-6789\naddress = 127.0.0.2\n", "line 2: esn",
		"lower-case ESN");
	REFUSED("[module]\nesn = 1A23BC456789\naddress = 127.0.0.2\n", "line 2: esn",
		"ESN without dashes");
	REFUSED("[module]\nesn = 1A23-BC45-6789-0\naddress = 127.0.0.2\n", "line 2: esn",
		"ESN too long");
	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress = 999.0.0.1\n", "line 3: address",
		"bad IPv4");
	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress = hsm.example\n", "line 3: address",
		"host name");
	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress = [::1]\n", "line 3: address",
		"bracketed IPv6");
	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress = fe80::1%eth0\n", "line 3: address",
		"IPv6 scope");
	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress =\n", "line 3: address", "empty address");
	REFUSED("[module]\nesn=1A23-BC45-6789\naddress=127.0.0.2\n[ports]\nsetup = 0\n",
		"line 5: setup", "port 0");
	REFUSED("[module]\nesn=1A23-BC45-6789\naddress=127.0.0.2\n[ports]\nsetup = 65536\n",
		"line 5", "port 65536");
	REFUSED("[module]\nesn=1A23-BC45-6789\naddress=127.0.0.2\n[ports]\nsetup = 22a\n", "line 5",
		"port with junk");
	REFUSED("[module]\nesn=1A23-BC45-6789\naddress=127.0.0.2\n[ports]\nsetup = +22\n", "line 5",
		"signed port");
	REFUSED("[module]\nesn=1A23-BC45-6789\naddress=127.0.0.2\n[ports]\nsetup = 0022\n",
		"line 5", "port with leading zero");
	REFUSED("[module]\nesn=1A23-BC45-6789\naddress=127.0.0.2\n[ports]\nsetup =\n", "line 5",
		"empty port");
	REFUSED("[module]\nesn=1A23-BC45-6789\naddress=127.0.0.2\n[ports]\nssh = 22\n",
		"line 5: unknown service 'ssh'", "unknown service");
	REFUSED("[module]\naddress = 127.0.0.2\n", "needs both", "missing esn");
	REFUSED("[module]\nesn = 1A23-BC45-6789\n", "needs both", "missing address");
	REFUSED("", "needs both", "empty file");
	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n  address = 10.0.0.1\n",
		"line 4: line starts with white space", "indented continuation line");
	REFUSED("[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\nnot a pair\n",
		"line 4: expected 'name = value'", "line without '='");
	REFUSED("[module\nesn = 1A23-BC45-6789\n", "line 1: section header without ']'",
		"open section header");
	REFUSED("[module]\nesn = 1A23-BC45-6789\x01\naddress = 127.0.0.2\n",
		"line 2: control character", "control character");
	REFUSED("\xef\xbb\xbf[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n",
		"line 1: byte order mark", "byte order mark");
	REFUSED("[module]\nfoo = 1\nbar = 2\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n",
		"line 2: unknown key 'foo'",
		"the first of two errors is reported, with its own line");

	{
		static const char nul[] =
		    "[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\0\naddress=1.1.1.1\n";
		e = parse(nul, sizeof(nul) - 1, &m);
		tap_ok(strstr(e, "line 3: NUL byte") != NULL, "NUL byte refused with its line (%s)",
		       e);
	}
	/* A value long enough for inih to split would let its tail be read as
	 * a new key: "...xxxaddress = 10.6.6.6". */
	snprintf(big, sizeof(big),
		 "[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n; %0*d%s\n", 196, 0,
		 "address = 10.6.6.6");
	e = parse(big, strlen(big), &m);
	tap_ok(strstr(e, "line 4: line longer than") != NULL, "long line refused, not split (%s)",
	       e);
	{
		char name[128];
		snprintf(name, sizeof(name),
			 "[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n%049d = 1\n", 0);
		e = parse(name, strlen(name), &m);
		tap_ok(strstr(e, "line 4: name longer than") != NULL, "49-byte name refused (%s)",
		       e);
		snprintf(name, sizeof(name), "[%049d]\nesn = 1\n", 0);
		e = parse(name, strlen(name), &m);
		tap_ok(strstr(e, "line 1: section name longer") != NULL,
		       "49-byte section refused (%s)", e);
	}
}

static void test_esn(void)
{
	char out[HSM_ESN_LEN + 1];

	tap_ok(hsm_esn_valid("9Z87-YX65-4321"), "ESN with letters valid");
	tap_ok(!hsm_esn_valid("9Z87-YX65-432"), "short ESN invalid");
	tap_ok(!hsm_esn_valid("9Z87_YX65-4321"), "ESN with '_' invalid");
	tap_ok(hsm_esn_normalize("9z87-yx65-4321", out) == 0, "lower-case ESN normalises");
	TAP_STR_EQ(out, "9Z87-YX65-4321", "normalised to upper case");
	tap_ok(hsm_esn_normalize("9z87-yx65-432!", out) < 0, "bad ESN does not normalise");
	TAP_INT_EQ(hsm_service_lookup("monitor"), HSM_SVC_MONITOR, "service lookup");
	TAP_INT_EQ(hsm_service_lookup("Monitor"), -1, "service lookup is exact");
	TAP_INT_EQ(hsm_service_default_port(HSM_SVC_NCOREAPI), 2203, "ncoreapi default port");
}

struct skips {
	int n;
	char last[512];
};

static void on_skip(void *arg, const char *file, const char *why)
{
	struct skips *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s: %s", file, why);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_load(void)
{
	char tmpl[] = "/tmp/test-modules.XXXXXX", dir[600], err[256], cmd[700];
	struct hsm_module *mods;
	struct skips skips = { 0 };
	size_t n;
	char *root = mkdtemp(tmpl);

	TAP_INT_EQ(hsm_modules_load(root, &mods, &n, on_skip, &skips, err, sizeof(err)), 0,
		   "missing modules.d is not an error");
	TAP_INT_EQ(n, 0, "missing modules.d: no HSMs");
	snprintf(dir, sizeof(dir), "%s/modules.d", root);
	mkdir(dir, 0755);
	write_file(dir, "b.conf", "[module]\nesn = 9Z87-YX65-4321\naddress = 127.0.0.3\n");
	write_file(dir, "a.conf", "[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.2\n");
	write_file(dir, "c.conf", "[module]\nesn = 1A23-BC45-6789\naddress = 127.0.0.4\n");
	write_file(dir, "d.conf",
		   "[module]\nesn = 5555-5555-5555\naddress = 127.0.0.5\nbogus = 1\n");
	write_file(dir, ".e.conf", "[module]\nesn = 6666-6666-6666\naddress = 127.0.0.6\n");
	write_file(dir, "f.conf.bak", "[module]\nesn = 7777-7777-7777\naddress = 127.0.0.7\n");
	TAP_INT_EQ(hsm_modules_load(root, &mods, &n, on_skip, &skips, err, sizeof(err)), 0, "load");
	TAP_INT_EQ(n, 2, "two usable HSMs (duplicate, bad, hidden and non-.conf files left out)");
	TAP_INT_EQ(skips.n, 2, "two files reported as skipped");
	if (n == 2) {
		TAP_STR_EQ(mods[0].esn, "1A23-BC45-6789", "sorted by ESN (first)");
		TAP_STR_EQ(mods[0].address, "127.0.0.2", "first file wins a duplicate ESN");
		TAP_STR_EQ(mods[1].esn, "9Z87-YX65-4321", "sorted by ESN (second)");
		tap_ok(strstr(mods[1].file, "/modules.d/b.conf") != NULL, "source file recorded");
	}
	tap_ok(strstr(skips.last, "d.conf: line 4: unknown key 'bogus'") != NULL,
	       "skip names file and line (%s)", skips.last);
	free(mods);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
}

int main(void)
{
	test_good();
	test_hostile();
	test_esn();
	test_load();
	return tap_done();
}
