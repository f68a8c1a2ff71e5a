/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test-netaddr.c - IP/CIDR parsing (including hostile strings), the static
 * network rules and the VCM address allocator (core/lib/netaddr.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <hsmadmin/netaddr.h>
#include "tap.h"

/* A fixture's parse must succeed, or the test bails out. */
static void fixture(int rc, const char *what, const char *text, const char *err)
{
	if (rc != 0) {
		printf("Bail out! fixture %s %s: %s\n", what, text, err);
		exit(1);
	}
}

static struct hsm_ipaddr ip(const char *text)
{
	struct hsm_ipaddr a;
	char err[256];

	fixture(hsm_ip_parse(text, 0, &a, err, sizeof(err)), "address", text, err);
	return a;
}

static struct hsm_cidr cidr(const char *text)
{
	struct hsm_cidr c;
	char err[256];

	fixture(hsm_cidr_parse(text, 0, &c, err, sizeof(err)), "prefix", text, err);
	return c;
}

static const char *fmt(const struct hsm_ipaddr *a)
{
	static char buf[4][HSM_NETADDR_STRLEN];
	static int n;

	return hsm_ip_format(a, buf[n++ % 4], HSM_NETADDR_STRLEN);
}

static void test_ip_parse(void)
{
	static const struct {
		const char *in, *canon;
		int family;
	} good[] = {
		{ "192.168.1.1", "192.168.1.1", 4 },
		{ "0.0.0.0", "0.0.0.0", 4 },
		{ "255.255.255.255", "255.255.255.255", 4 },
		{ "10.0.0.100", "10.0.0.100", 4 },
		{ "::1", "::1", 6 },
		{ "::", "::", 6 },
		{ "2001:DB8:0:0:0:0:0:A", "2001:db8::a", 6 },
		{ "2001:db8::1", "2001:db8::1", 6 },
		{ "::ffff:1.2.3.4", "::ffff:1.2.3.4", 6 },
		{ "fe80::1:2:3:4", "fe80::1:2:3:4", 6 },
	};
	static const char *const bad[] = {
		"010.1.1.1",
		"1.2.3.04",
		"1.2.3.00",
		"00.0.0.0",
		"1.2.3",
		"1.2.3.4.5",
		"256.1.1.1",
		"1.2.3.256",
		"999.1.1.1",
		"1000.1.1.1",
		"1.2.3.-1",
		" 1.2.3.4",
		"1.2.3.4 ",
		"1.2.3.4\n",
		"1..2.3",
		"1.2.3.",
		".1.2.3",
		"",
		"0x1.2.3.4",
		"1.2.3.4/",
		"+1.2.3.4",
		"1.2.3.4x",
		"a.b.c.d",
		"1,2,3,4",
		"fe80::1%eth0",
		"fe80::1%1",
		"2001:db8:::1",
		"2001:db8::1::2",
		"12345::1",
		"::ffff:01.2.3.4",
		"::ffff:1.2.3.256",
		"1:2:3:4:5:6:7:8:9",
		"1:2:3:4:5:6:7",
		":1::",
		"::1 ",
		"[::1]",
		"g::1",
		"1.2.3.4\t",
		"\xc3\xa9.1.1.1",
		"1.2.3.4\xff",
	};
	struct hsm_ipaddr a;
	char err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = hsm_ip_parse(good[i].in, 0, &a, err, sizeof(err));
		tap_ok(rc == 0 && a.family == good[i].family, "address '%s' parses as IPv%d",
		       good[i].in, good[i].family);
		if (rc == 0)
			TAP_STR_EQ(fmt(&a), good[i].canon, "canonical text");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int rc = hsm_ip_parse(bad[i], 0, &a, err, sizeof(err));
		tap_ok(rc == -1 && err[0] && !strchr(err, '\n') && !strchr(err, '\t'),
		       "hostile address #%zu refused with a one-line reason", i);
	}
	tap_ok(hsm_ip_parse("::1", 4, &a, err, sizeof(err)) == -1 && strstr(err, "not an IPv4"),
	       "an IPv6 address is refused where IPv4 is asked for: %s", err);
	tap_ok(hsm_ip_parse("1.2.3.4", 6, &a, err, sizeof(err)) == -1 && strstr(err, "not an IPv6"),
	       "an IPv4 address is refused where IPv6 is asked for");
	tap_ok(hsm_ip_parse(NULL, 0, &a, err, sizeof(err)) == -1, "NULL is refused");

	/* Hostile lengths: refused before being looked at, message bounded. */
	char *big = malloc(1 << 20);
	memset(big, '1', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	tap_ok(hsm_ip_parse(big, 0, &a, err, sizeof(err)) == -1 && strstr(err, "too long"),
	       "a 1 MiB address is refused as too long");
	memset(big, ':', 200);
	big[200] = '\0';
	tap_ok(hsm_ip_parse(big, 0, &a, err, sizeof(err)) == -1, "200 colons are refused");
	memcpy(big, "1.2.3.4", 7);
	memset(big + 7, '0', 50);
	big[57] = '\0';
	tap_ok(hsm_ip_parse(big, 0, &a, err, sizeof(err)) == -1 && strlen(err) < 120,
	       "a long bad address gives a short message");
	free(big);
}

static void test_cidr_parse(void)
{
	static const struct {
		const char *in, *canon;
	} good[] = {
		{ "10.0.0.0/8", "10.0.0.0/8" },
		{ "10.1.2.3/24", "10.1.2.3/24" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "1.2.3.4/32", "1.2.3.4/32" },
		{ "2001:db8::/64", "2001:db8::/64" },
		{ "2001:DB8::10/126", "2001:db8::10/126" },
		{ "::1/128", "::1/128" },
	};
	static const char *const bad[] = {
		"1.2.3.4/33",
		"1.2.3.4/024",
		"1.2.3.4/00",
		"1.2.3.4/-1",
		"1.2.3.4/+8",
		"1.2.3.4/ 24",
		"1.2.3.4/24 ",
		"1.2.3.4/24x",
		"1.2.3.4/",
		"1.2.3.4",
		"1.2.3.4//24",
		"/24",
		"/",
		"010.0.0.0/8",
		"2001:db8::/129",
		"2001:db8::/0128",
		"1.2.3.4/1000",
		"1.2.3.4/99999999",
		"2001:db8::/64/64",
		"1.2.3.4/24/",
		"1.2.3.4/0x18",
		"fe80::/64%eth0",
		"1.2.3.4\n/24",
		"1.2.3.4/2\n4",
		"::/1290",
	};
	struct hsm_cidr c;
	char err[256], buf[HSM_NETADDR_STRLEN];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = hsm_cidr_parse(good[i].in, 0, &c, err, sizeof(err));
		tap_ok(rc == 0, "prefix '%s' parses", good[i].in);
		if (rc == 0)
			TAP_STR_EQ(hsm_cidr_format(&c, buf, sizeof(buf)), good[i].canon,
				   "canonical prefix text");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int rc = hsm_cidr_parse(bad[i], 0, &c, err, sizeof(err));
		tap_ok(rc == -1 && err[0] && !strchr(err, '\n'),
		       "hostile prefix '%.20s' refused: %s",
		       strchr(bad[i], '\n') ? "(with newline)" : bad[i], err);
	}
	tap_ok(hsm_cidr_parse("1.2.3.4/24", 6, &c, err, sizeof(err)) == -1 &&
		   strstr(err, "not an IPv6 prefix"),
	       "family is enforced for prefixes");
}

static void test_prefix_ops(void)
{
	static const struct {
		const char *net, *first, *last;
	} r[] = {
		{ "192.168.1.77/24", "192.168.1.0", "192.168.1.255" },
		{ "192.168.1.77/31", "192.168.1.76", "192.168.1.77" },
		{ "192.168.1.77/32", "192.168.1.77", "192.168.1.77" },
		{ "192.168.1.77/0", "0.0.0.0", "255.255.255.255" },
		{ "10.1.2.3/13", "10.0.0.0", "10.7.255.255" },
		{ "2001:db8:1:2:3:4:5:6/64", "2001:db8:1:2::", "2001:db8:1:2:ffff:ffff:ffff:ffff" },
		{ "2001:db8::7/126", "2001:db8::4", "2001:db8::7" },
		{ "2001:db8::7/127", "2001:db8::6", "2001:db8::7" },
		{ "2001:db8::7/61", "2001:db8::", "2001:db8:0:7:ffff:ffff:ffff:ffff" },
	};
	struct hsm_ipaddr first, last, a;
	struct hsm_cidr c;

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		c = cidr(r[i].net);
		hsm_cidr_first(&c, &first);
		hsm_cidr_last(&c, &last);
		TAP_STR_EQ(fmt(&first), r[i].first, r[i].net);
		TAP_STR_EQ(fmt(&last), r[i].last, r[i].net);
	}
	c = cidr("192.168.1.0/24");
	a = ip("192.168.2.1");
	tap_ok(!hsm_ip_in_prefix(&a, &c), "192.168.2.1 is outside 192.168.1.0/24");
	a = ip("192.168.1.0");
	tap_ok(hsm_ip_in_prefix(&a, &c) && !hsm_ip_is_host(&a, &c),
	       "the network address is inside, not a host");
	a = ip("192.168.1.255");
	tap_ok(!hsm_ip_is_host(&a, &c), "the broadcast address is not a host");
	a = ip("::ffff:192.168.1.1");
	tap_ok(!hsm_ip_in_prefix(&a, &c), "families never mix");
	c = cidr("10.0.0.0/31");
	a = ip("10.0.0.0");
	tap_ok(hsm_ip_is_host(&a, &c), "/31: the first address is a host (RFC 3021)");
	a = ip("10.0.0.1");
	tap_ok(hsm_ip_is_host(&a, &c), "/31: the second address is a host");
	c = cidr("10.0.0.5/32");
	a = ip("10.0.0.5");
	tap_ok(hsm_ip_is_host(&a, &c), "/32: the one address is a host");
	c = cidr("2001:db8::/64");
	a = ip("2001:db8::");
	tap_ok(!hsm_ip_is_host(&a, &c), "IPv6: the Subnet-Router anycast address is not a host");
	a = ip("2001:db8::ffff:ffff:ffff:ffff");
	tap_ok(!hsm_ip_is_host(&a, &c), "IPv6: the last address is not a host");
}

static void test_netconfig(void)
{
	static const struct {
		int family;
		const char *addr, *gw, *want;
	} cases[] = {
		{ 4, "192.168.1.10/24", "192.168.1.1", NULL },
		{ 4, "127.1.2.1/24", "127.1.2.254", NULL },
		{ 4, "10.0.0.1/8", "10.255.255.254", NULL },
		{ 4, "192.168.1.1/30", "192.168.1.2", NULL },
		{ 6, "2001:db8::10/64", "2001:db8::1", NULL },
		{ 6, "2001:db8::1/126", "2001:db8::2", NULL },
		{ 6, "2001:db8::10/120", "2001:db8::fe", NULL },
		{ 4, "10.0.0.1/7", "10.0.0.2", "/8 to /30" },
		{ 4, "192.168.1.0/31", "192.168.1.1", "/8 to /30" },
		{ 4, "192.168.1.1/32", "192.168.1.1", "/8 to /30" },
		{ 4, "192.168.1.0/24", "192.168.1.1", "network address" },
		{ 4, "192.168.1.255/24", "192.168.1.1", "broadcast address" },
		{ 4, "192.168.1.10/24", "192.168.2.1", "not inside" },
		{ 4, "192.168.1.10/24", "192.168.1.10", "own address" },
		{ 4, "192.168.1.10/24", "192.168.1.255", "broadcast address" },
		{ 4, "192.168.1.10/24", "192.168.1.0", "network address" },
		{ 4, "192.168.1.3/30", "192.168.1.1", "broadcast" },
		{ 4, "224.1.1.1/24", "224.1.1.2", "multicast" },
		{ 4, "0.1.2.3/8", "0.1.2.4", "this network" },
		{ 4, "240.1.1.1/24", "240.1.1.2", "reserved" },
		{ 4, "2001:db8::10/64", "2001:db8::1", "--address" },
		{ 4, "192.168.1.10/24", "2001:db8::1", "--gateway" },
		{ 4, "192.168.1.10", "192.168.1.1", "no prefix length" },
		{ 4, "192.168.1.10/24", "192.168.1.1/24", "--gateway" },
		{ 4, "192.168.1.010/24", "192.168.1.1", "--address" },
		{ 6, "2001:db8::10/63", "2001:db8::1", "/64 to /126" },
		{ 6, "2001:db8::1/127", "2001:db8::", "/64 to /126" },
		{ 6, "2001:db8::/64", "2001:db8::1", "Subnet-Router anycast" },
		{ 6, "2001:db8::10/64", "2001:db8::ffff:ffff:ffff:ffff", "last address" },
		{ 6, "2001:db8::1/126", "2001:db8::3", "last address" },
		{ 6, "fe80::10/64", "fe80::1", "link-local" },
		{ 6, "ff02::10/64", "ff02::1", "multicast" },
		{ 6, "::ffff:10.0.0.10/120", "::ffff:10.0.0.1", "IPv4-mapped" },
		{ 6, "2001:db8::10/64", "2001:db9::1", "not inside" },
		{ 6, "2001:db8::10/64", "2001:db8::10", "own address" },
		{ 6, "192.168.1.10/24", "192.168.1.1", "--address" },
	};
	struct hsm_netconfig cfg;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		int rc = hsm_netconfig_parse(cases[i].family, cases[i].addr, cases[i].gw, &cfg, err,
					     sizeof(err));
		if (!cases[i].want)
			tap_ok(rc == 0, "ipv%dstatic %s gateway %s accepted %s", cases[i].family,
			       cases[i].addr, cases[i].gw, err);
		else
			tap_ok(rc == -1 && strstr(err, cases[i].want),
			       "ipv%dstatic %s gateway %s refused: %s", cases[i].family,
			       cases[i].addr, cases[i].gw, err);
	}
	tap_ok(hsm_netconfig_parse(5, "1.2.3.4/24", "1.2.3.1", &cfg, err, sizeof(err)) == -1,
	       "unknown family refused");
}

/* --- the allocator ------------------------------------------------------------- */

static int alloc(const char *subnet, const char *hsm, const char *gw, const char *const *used,
		 size_t nused, struct hsm_ipaddr *out)
{
	struct hsm_ipaddr h, g, u[300];
	struct hsm_addr_pool pool = { .subnet = cidr(subnet) };
	char err[256];

	if (hsm) {
		h = ip(hsm);
		pool.hsm = &h;
	}
	if (gw) {
		g = ip(gw);
		pool.gateway = &g;
	}
	for (size_t i = 0; i < nused; i++)
		u[i] = ip(used[i]);
	pool.used = u;
	pool.nused = nused;
	return hsm_addr_alloc(&pool, out, err, sizeof(err));
}

static void expect_alloc(const char *subnet, const char *hsm, const char *gw,
			 const char *const *used, size_t nused, const char *want, const char *name)
{
	struct hsm_ipaddr out;
	int rc = alloc(subnet, hsm, gw, used, nused, &out);

	if (want) {
		tap_ok(rc == HSM_ADDR_OK, "%s: allocates", name);
		if (rc == HSM_ADDR_OK)
			TAP_STR_EQ(fmt(&out), want, name);
	} else {
		TAP_INT_EQ(rc, HSM_ADDR_EXHAUSTED, name);
	}
}

static void test_alloc(void)
{
	static const char *const two[] = { "192.168.1.2", "192.168.1.3" };
	static const char *const messy[] = { "192.168.1.3", "10.9.9.9",    "192.168.1.2",
					     "192.168.1.2", "2001:db8::2", "192.168.1.255",
					     "192.168.1.0" };
	static const char *const v6used[] = { "2001:db8::3" };
	static const char *const carry[] = { "10.0.0.255" };
	static const char *used_big[256];
	static char bufs[256][20];
	char err[256];

	expect_alloc("192.168.1.0/24", "192.168.1.1", "192.168.1.254", NULL, 0, "192.168.1.2",
		     "/24: first free after the HSM");
	expect_alloc("192.168.1.0/24", "192.168.1.1", "192.168.1.254", two, 2, "192.168.1.4",
		     "/24: skips used addresses");
	expect_alloc("192.168.1.0/24", "192.168.1.1", "192.168.1.254", messy, 7, "192.168.1.4",
		     "/24: unsorted, duplicate, foreign and reserved used entries");
	expect_alloc("192.168.1.77/24", "192.168.1.10", "192.168.1.1", NULL, 0, "192.168.1.2",
		     "/24: host bits of the subnet are ignored; gateway .1 skipped");
	expect_alloc("192.168.1.0/30", "192.168.1.1", "192.168.1.2", NULL, 0, NULL,
		     "/30: HSM and gateway take both hosts");
	expect_alloc("192.168.1.0/30", "192.168.1.1", NULL, NULL, 0, "192.168.1.2",
		     "/30: without a gateway the second host is free");
	expect_alloc("192.168.1.0/30", "192.168.1.2", NULL, NULL, 0, "192.168.1.1",
		     "/30: the host below the HSM is free");
	expect_alloc("192.168.1.0/31", "192.168.1.0", NULL, NULL, 0, "192.168.1.1",
		     "/31: both addresses are hosts (RFC 3021)");
	expect_alloc("192.168.1.0/31", NULL, NULL, NULL, 0, "192.168.1.0",
		     "/31: the first address is usable");
	expect_alloc("192.168.1.0/31", "192.168.1.0", "192.168.1.1", NULL, 0, NULL, "/31: full");
	expect_alloc("192.168.1.9/32", NULL, NULL, NULL, 0, "192.168.1.9", "/32: the one address");
	expect_alloc("192.168.1.9/32", "192.168.1.9", NULL, NULL, 0, NULL, "/32: taken by the HSM");
	expect_alloc("10.0.0.0/23", "10.0.0.1", NULL, carry, 1, "10.0.0.2", "/23: below the carry");
	expect_alloc("2001:db8::/64", "2001:db8::1", "2001:db8::2", v6used, 1, "2001:db8::4",
		     "IPv6 /64: skips the anycast, HSM, gateway and used");
	expect_alloc("2001:db8::/126", "2001:db8::1", "2001:db8::2", NULL, 0, NULL,
		     "IPv6 /126: full");
	expect_alloc("2001:db8::/126", "2001:db8::1", NULL, NULL, 0, "2001:db8::2",
		     "IPv6 /126: one left");
	expect_alloc("2001:db8::/127", "2001:db8::", NULL, NULL, 0, "2001:db8::1",
		     "IPv6 /127: both usable");
	expect_alloc("2001:db8::5/128", NULL, NULL, NULL, 0, "2001:db8::5", "IPv6 /128");

	/* Carry across a byte: 10.0.0.1..10.0.0.255 taken in a /23. */
	for (int i = 2; i <= 255; i++) {
		snprintf(bufs[i - 2], sizeof(bufs[0]), "10.0.0.%d", i);
		used_big[i - 2] = bufs[i - 2];
	}
	expect_alloc("10.0.0.0/23", "10.0.0.1", "10.0.1.254", used_big, 254, "10.0.1.0",
		     "/23: carries into the next octet");
	/* A /24 with 251 used: the one left; with 252 used: exhausted. */
	for (int i = 2; i <= 253; i++) {
		snprintf(bufs[i - 2], sizeof(bufs[0]), "192.168.1.%d", i == 100 ? 253 : i);
		used_big[i - 2] = bufs[i - 2];
	}
	expect_alloc("192.168.1.0/24", "192.168.1.1", "192.168.1.254", used_big, 251,
		     "192.168.1.100", "/24: the last free address is found");
	snprintf(bufs[251], sizeof(bufs[0]), "192.168.1.100");
	expect_alloc("192.168.1.0/24", "192.168.1.1", "192.168.1.254", used_big, 252, NULL,
		     "/24: exhausted");
	/* IPv6 near the top of a /120: the walk stops at the last host. */
	{
		static char v6b[256][48];
		for (int i = 1; i <= 254; i++) {
			snprintf(v6b[i - 1], sizeof(v6b[0]), "2001:db8::%x", i);
			used_big[i - 1] = v6b[i - 1];
		}
		expect_alloc("2001:db8::/120", NULL, NULL, used_big, 254, NULL,
			     "IPv6 /120: all hosts used");
		expect_alloc("2001:db8::/120", NULL, NULL, used_big, 253, "2001:db8::fe",
			     "IPv6 /120: last host");
	}

	struct hsm_addr_pool bad = { .subnet = cidr("10.0.0.0/24") };
	struct hsm_ipaddr v6 = ip("::1"), out;
	bad.hsm = &v6;
	TAP_INT_EQ(hsm_addr_alloc(&bad, &out, err, sizeof(err)), HSM_ADDR_INVALID,
		   "family mismatch is invalid");
	TAP_INT_EQ(hsm_addr_alloc(NULL, &out, err, sizeof(err)), HSM_ADDR_INVALID,
		   "NULL pool is invalid");
}

static void test_check(void)
{
	static const struct {
		const char *subnet, *want;
		int rc;
	} cases[] = {
		{ "192.168.1.0/24", "192.168.1.50", HSM_ADDR_OK },
		{ "192.168.1.0/24", "192.168.2.50", HSM_ADDR_OUTSIDE },
		{ "192.168.1.0/24", "2001:db8::1", HSM_ADDR_OUTSIDE },
		{ "192.168.1.0/24", "192.168.1.0", HSM_ADDR_RESERVED },
		{ "192.168.1.0/24", "192.168.1.255", HSM_ADDR_RESERVED },
		{ "192.168.1.0/24", "192.168.1.1", HSM_ADDR_RESERVED },   /* the HSM */
		{ "192.168.1.0/24", "192.168.1.254", HSM_ADDR_RESERVED }, /* the gateway */
		{ "192.168.1.0/24", "192.168.1.20", HSM_ADDR_IN_USE },
		{ "192.168.1.0/31", "192.168.1.0", HSM_ADDR_OK },
		{ "192.168.1.0/30", "192.168.1.3", HSM_ADDR_RESERVED },
		{ "2001:db8::/64", "2001:db8::", HSM_ADDR_RESERVED },
		{ "2001:db8::/64", "2001:db8::20", HSM_ADDR_OK },
		{ "2001:db8::/64", "2001:db8:0:1::20", HSM_ADDR_OUTSIDE },
	};
	struct hsm_ipaddr hsm4 = ip("192.168.1.1"), gw4 = ip("192.168.1.254"),
			  used4 = ip("192.168.1.20");
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hsm_addr_pool pool = { .subnet = cidr(cases[i].subnet) };
		struct hsm_ipaddr want = ip(cases[i].want);
		if (pool.subnet.addr.family == 4 && pool.subnet.prefix == 24) {
			pool.hsm = &hsm4;
			pool.gateway = &gw4;
			pool.used = &used4;
			pool.nused = 1;
		}
		err[0] = '\0';
		int rc = hsm_addr_check(&pool, &want, err, sizeof(err));
		TAP_INT_EQ(rc, cases[i].rc, cases[i].want);
		if (rc != HSM_ADDR_OK && !err[0])
			tap_ok(0, "a refusal says why");
	}
}

/* The allocator against brute force: walk every address of small subnets
 * in order and take the first one hsm_addr_check accepts. */
static void test_alloc_matches_brute_force(void)
{
	unsigned seed = 12345;
	int mismatches = 0, rounds = 0;
	char err[256];

	for (int round = 0; round < 400; round++) {
		unsigned prefix = 24 + (unsigned)(rand_r(&seed) % 9); /* /24../32 */
		struct hsm_addr_pool pool = { 0 };
		struct hsm_ipaddr hsm, gw, used[64], got, a, first;
		size_t nused = (size_t)(rand_r(&seed) % 64);
		uint32_t size = 1u << (32 - prefix);
		int rc, want_rc = HSM_ADDR_EXHAUSTED;

		pool.subnet = cidr("10.20.30.0/24");
		pool.subnet.prefix = prefix;
		pool.subnet.addr.b[3] = (uint8_t)(rand_r(&seed) & 0xFF);
		hsm_cidr_first(&pool.subnet, &first);
		hsm = first;
		hsm.b[3] = (uint8_t)(first.b[3] + rand_r(&seed) % size);
		gw = first;
		gw.b[3] = (uint8_t)(first.b[3] + rand_r(&seed) % size);
		pool.hsm = (rand_r(&seed) % 4) ? &hsm : NULL;
		pool.gateway = (rand_r(&seed) % 4) ? &gw : NULL;
		for (size_t i = 0; i < nused; i++) {
			used[i] = first;
			used[i].b[3] = (uint8_t)(rand_r(&seed) & 0xFF); /* some outside */
		}
		pool.used = used;
		pool.nused = nused;
		rc = hsm_addr_alloc(&pool, &got, err, sizeof(err));
		for (uint32_t k = 0; k < size; k++) {
			a = first;
			a.b[3] = (uint8_t)(first.b[3] + k);
			if (hsm_addr_check(&pool, &a, err, sizeof(err)) == HSM_ADDR_OK) {
				want_rc = HSM_ADDR_OK;
				break;
			}
		}
		rounds++;
		if (rc != want_rc || (rc == HSM_ADDR_OK && !hsm_ip_equal(&got, &a))) {
			if (mismatches++ < 3)
				printf("# mismatch: /%u rc %d want %d got %s want %s\n", prefix, rc,
				       want_rc, fmt(&got), fmt(&a));
		}
	}
	tap_ok(mismatches == 0 && rounds == 400,
	       "allocator equals brute force on 400 random /24../32 pools");
}

int main(void)
{
	test_ip_parse();
	test_cidr_parse();
	test_prefix_ops();
	test_netconfig();
	test_alloc();
	test_check();
	test_alloc_matches_brute_force();
	return tap_done();
}
