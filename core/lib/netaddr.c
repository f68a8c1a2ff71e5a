/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netaddr.c - strict IP/CIDR parsing, the static VCM network rules and the
 * VCM address allocator.  The rules are in hsmadmin/netaddr.h; this file
 * keeps all address arithmetic in one place (big-endian byte arrays, so
 * IPv4 and IPv6 share every routine).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hsmadmin/netaddr.h>

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)
#define ERRC(code, ...) (snprintf(err, errlen, __VA_ARGS__), (code))

static unsigned addr_bytes(int family)
{
	return family == 4 ? 4 : 16;
}

static unsigned addr_bits(int family)
{
	return family == 4 ? 32 : 128;
}

/* Untrusted text inside a message: printable ASCII only, at most 40
 * characters, so a hostile string cannot forge lines or escapes. */
static const char *safe(const char *s, char buf[48])
{
	size_t o = 0, i;

	for (i = 0; s[i] && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static const char *family_name(int family)
{
	return family == 4 ? "IPv4" : family == 6 ? "IPv6" : "IP";
}

/* --- parsing --------------------------------------------------------------- */

/* Four dotted decimal octets, 0..255, no leading zeros, nothing else. */
static int parse_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (digits == 1 && v == 0)
				return -1; /* leading zero */
			v = v * 10 + (unsigned)(s[i] - '0');
			if (++digits > 3 || v > 255)
				return -1;
			i++;
		}
		if (digits == 0)
			return -1;
		out[part] = (uint8_t)v;
	}
	return i == n ? 0 : -1;
}

/* RFC 4291 text.  Only hex digits, ':' and '.' may appear (no zone id, no
 * white space); inet_pton then checks the grammar, including the dotted
 * tail, where glibc refuses leading zeros as parse_v4 does. */
static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
	char buf[HSM_NETADDR_TEXT_MAX + 1];

	if (n == 0 || n >= sizeof(buf) || n > 45)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == ':' || c == '.'))
			return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

static int parse_addr(const char *s, size_t n, int family, struct hsm_ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	/* An IPv6 address always holds a ':', an IPv4 one never does. */
	out->family = memchr(s, ':', n) ? 6 : 4;
	if (family && out->family != family)
		return -2;
	return out->family == 4 ? parse_v4(s, n, out->b) : parse_v6(s, n, out->b);
}

static int text_ok(const char *text, const char *what, char *err, size_t errlen)
{
	if (!text)
		return ERR("no %s given", what);
	if (strnlen(text, HSM_NETADDR_TEXT_MAX + 1) > HSM_NETADDR_TEXT_MAX)
		return ERR("%s is too long (more than %d characters)", what, HSM_NETADDR_TEXT_MAX);
	if (!text[0])
		return ERR("%s is empty", what);
	return 0;
}

HSM_API int hsm_ip_parse(const char *text, int family, struct hsm_ipaddr *out, char *err,
			 size_t errlen)
{
	char q[48];
	int rc;

	if (text_ok(text, "address", err, errlen) != 0)
		return -1;
	rc = parse_addr(text, strlen(text), family, out);
	if (rc == -2)
		return ERR("'%s' is not an %s address", safe(text, q), family_name(family));
	if (rc != 0)
		return ERR("'%s' is not a valid %s address", safe(text, q), family_name(family));
	return 0;
}

HSM_API int hsm_cidr_parse(const char *text, int family, struct hsm_cidr *out, char *err,
			   size_t errlen)
{
	const char *slash, *p;
	unsigned prefix = 0;
	size_t digits;
	char q[48];
	int rc;

	if (text_ok(text, "prefix", err, errlen) != 0)
		return -1;
	slash = strchr(text, '/');
	if (!slash)
		return ERR("'%s' has no prefix length (write ADDRESS/LENGTH)", safe(text, q));
	rc = parse_addr(text, (size_t)(slash - text), family, &out->addr);
	if (rc == -2)
		return ERR("'%s' is not an %s prefix", safe(text, q), family_name(family));
	if (rc != 0)
		return ERR("'%s': the address is not a valid %s address", safe(text, q),
			   family_name(family ? family : out->addr.family));
	for (p = slash + 1, digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits == 1 && prefix == 0)
			return ERR("'%s': the prefix length has a leading zero", safe(text, q));
		if (digits == 3)
			return ERR("'%s': the prefix length is too long", safe(text, q));
		prefix = prefix * 10 + (unsigned)(*p - '0');
	}
	if (digits == 0 || *p)
		return ERR("'%s': the prefix length must be a decimal number", safe(text, q));
	if (prefix > addr_bits(out->addr.family))
		return ERR("'%s': an %s prefix length is 0 to %u", safe(text, q),
			   family_name(out->addr.family), addr_bits(out->addr.family));
	out->prefix = prefix;
	return 0;
}

/* --- formatting and arithmetic -------------------------------------------- */

HSM_API char *hsm_ip_format(const struct hsm_ipaddr *a, char *buf, size_t buflen)
{
	if (buflen == 0)
		return buf;
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, buf, (socklen_t)buflen))
		snprintf(buf, buflen, "?");
	return buf;
}

HSM_API char *hsm_cidr_format(const struct hsm_cidr *c, char *buf, size_t buflen)
{
	char a[HSM_NETADDR_STRLEN];

	snprintf(buf, buflen, "%s/%u", hsm_ip_format(&c->addr, a, sizeof(a)), c->prefix);
	return buf;
}

HSM_API int hsm_ip_compare(const struct hsm_ipaddr *a, const struct hsm_ipaddr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, addr_bytes(a->family));
}

HSM_API int hsm_ip_equal(const struct hsm_ipaddr *a, const struct hsm_ipaddr *b)
{
	return hsm_ip_compare(a, b) == 0;
}

/* Keep the first prefix bits of a; the rest become 0 (fill 0) or 1 (fill 1). */
static void mask_fill(const struct hsm_ipaddr *a, unsigned prefix, int fill, struct hsm_ipaddr *out)
{
	unsigned nb = addr_bytes(a->family);

	*out = *a;
	for (unsigned i = 0; i < nb; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		uint8_t mask = (uint8_t)(keep ? 0xFFu << (8 - keep) : 0);
		out->b[i] = (uint8_t)((a->b[i] & mask) | (fill ? ~mask & 0xFF : 0));
	}
}

HSM_API void hsm_cidr_first(const struct hsm_cidr *net, struct hsm_ipaddr *out)
{
	mask_fill(&net->addr, net->prefix, 0, out);
}

HSM_API void hsm_cidr_last(const struct hsm_cidr *net, struct hsm_ipaddr *out)
{
	mask_fill(&net->addr, net->prefix, 1, out);
}

HSM_API int hsm_ip_in_prefix(const struct hsm_ipaddr *a, const struct hsm_cidr *net)
{
	struct hsm_ipaddr x, y;

	if (a->family != net->addr.family || net->prefix > addr_bits(a->family))
		return 0;
	mask_fill(a, net->prefix, 0, &x);
	mask_fill(&net->addr, net->prefix, 0, &y);
	return hsm_ip_equal(&x, &y);
}

static unsigned host_bits(const struct hsm_cidr *net)
{
	return addr_bits(net->addr.family) - net->prefix;
}

/* The range of host addresses of net (see the header). */
static void host_range(const struct hsm_cidr *net, struct hsm_ipaddr *lo, struct hsm_ipaddr *hi);

HSM_API int hsm_ip_is_host(const struct hsm_ipaddr *a, const struct hsm_cidr *net)
{
	struct hsm_ipaddr lo, hi;

	if (!hsm_ip_in_prefix(a, net))
		return 0;
	host_range(net, &lo, &hi);
	return hsm_ip_compare(a, &lo) >= 0 && hsm_ip_compare(a, &hi) <= 0;
}

static void ip_add(struct hsm_ipaddr *a, int delta)
{
	for (int i = (int)addr_bytes(a->family) - 1; i >= 0; i--) {
		int v = a->b[i] + delta;
		a->b[i] = (uint8_t)v;
		if (v >= 0 && v <= 255)
			break; /* no carry or borrow */
	}
}

static void host_range(const struct hsm_cidr *net, struct hsm_ipaddr *lo, struct hsm_ipaddr *hi)
{
	hsm_cidr_first(net, lo);
	hsm_cidr_last(net, hi);
	if (host_bits(net) >= 2) {
		ip_add(lo, 1);
		ip_add(hi, -1);
	}
}

/* --- the static network ----------------------------------------------------- */

static int in_block(const struct hsm_ipaddr *a, int family, const char *block_text)
{
	struct hsm_cidr block;
	char e[8];

	return hsm_cidr_parse(block_text, family, &block, e, sizeof(e)) == 0 &&
	       hsm_ip_in_prefix(a, &block);
}

/* Addresses no VCM network may use, whatever the prefix. */
static const char *special_kind(const struct hsm_ipaddr *a)
{
	static const struct {
		int family;
		const char *block, *kind;
	} specials[] = {
		{ 4, "0.0.0.0/8", "a \"this network\" address (0.0.0.0/8)" },
		{ 4, "224.0.0.0/4", "a multicast address" },
		{ 4, "240.0.0.0/4", "a reserved address (240.0.0.0/4)" },
		{ 6, "::/128", "the unspecified address" },
		{ 6, "::1/128", "the IPv6 loopback address" },
		{ 6, "::ffff:0:0/96", "an IPv4-mapped address" },
		{ 6, "fe80::/10", "a link-local address (use setnetwork default for link-local)" },
		{ 6, "ff00::/8", "a multicast address" },
	};

	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (specials[i].family == a->family && in_block(a, a->family, specials[i].block))
			return specials[i].kind;
	return NULL;
}

/* Why a is not a host of net, for messages.  NULL when it is one. */
static const char *not_host_reason(const struct hsm_ipaddr *a, const struct hsm_cidr *net)
{
	struct hsm_ipaddr first;

	if (!hsm_ip_in_prefix(a, net))
		return "is not inside";
	if (hsm_ip_is_host(a, net))
		return NULL;
	hsm_cidr_first(net, &first);
	if (hsm_ip_equal(a, &first))
		return a->family == 4 ? "is the network address of"
				      : "is the Subnet-Router anycast address of";
	return a->family == 4 ? "is the broadcast address of"
			      : "is the last address (reserved subnet anycast) of";
}

HSM_API int hsm_netconfig_check(const struct hsm_netconfig *cfg, char *err, size_t errlen)
{
	const struct hsm_cidr *c = &cfg->address;
	int fam = c->addr.family;
	unsigned min = fam == 4 ? HSM_NET4_PREFIX_MIN : HSM_NET6_PREFIX_MIN;
	unsigned max = fam == 4 ? HSM_NET4_PREFIX_MAX : HSM_NET6_PREFIX_MAX;
	char a[HSM_NETADDR_STRLEN], g[HSM_NETADDR_STRLEN], net[HSM_NETADDR_STRLEN];
	struct hsm_cidr network;
	const char *why;

	if (fam != 4 && fam != 6)
		return ERR("unknown address family");
	if (c->prefix < min || c->prefix > max)
		return ERR("prefix length /%u is not allowed: an %s VCM network is /%u to /%u",
			   c->prefix, family_name(fam), min, max);
	hsm_ip_format(&c->addr, a, sizeof(a));
	network = *c;
	hsm_cidr_first(c, &network.addr);
	hsm_cidr_format(&network, net, sizeof(net));
	why = special_kind(&c->addr);
	if (why)
		return ERR("address %s is %s", a, why);
	why = not_host_reason(&c->addr, c);
	if (why)
		return ERR("address %s %s %s", a, why, net);
	if (cfg->gateway.family != fam)
		return ERR("the gateway must be an %s address like the HSM address",
			   family_name(fam));
	hsm_ip_format(&cfg->gateway, g, sizeof(g));
	why = not_host_reason(&cfg->gateway, c);
	if (why)
		return ERR("gateway %s %s %s", g, why, net);
	if (hsm_ip_equal(&cfg->gateway, &c->addr))
		return ERR("gateway %s is the HSM's own address", g);
	return 0;
}

HSM_API int hsm_netconfig_parse(int family, const char *address, const char *gateway,
				struct hsm_netconfig *out, char *err, size_t errlen)
{
	char inner[160];

	if (family != 4 && family != 6)
		return ERR("unknown address family %d", family);
	memset(out, 0, sizeof(*out));
	if (hsm_cidr_parse(address, family, &out->address, inner, sizeof(inner)) != 0)
		return ERR("--address: %s", inner);
	if (hsm_ip_parse(gateway, family, &out->gateway, inner, sizeof(inner)) != 0)
		return ERR("--gateway: %s", inner);
	return hsm_netconfig_check(out, err, errlen);
}

/* --- the allocator ----------------------------------------------------------- */

static int cmp_ip(const void *a, const void *b)
{
	return hsm_ip_compare(a, b);
}

static int pool_ok(const struct hsm_addr_pool *pool, char *err, size_t errlen)
{
	int fam = pool ? pool->subnet.addr.family : 0;

	if (!pool || (fam != 4 && fam != 6) || pool->subnet.prefix > addr_bits(fam) ||
	    (pool->nused && !pool->used))
		return ERR("invalid address pool");
	if ((pool->hsm && pool->hsm->family != fam) ||
	    (pool->gateway && pool->gateway->family != fam))
		return ERR("the HSM and gateway addresses must be of the subnet's family");
	return 0;
}

HSM_API int hsm_addr_check(const struct hsm_addr_pool *pool, const struct hsm_ipaddr *want,
			   char *err, size_t errlen)
{
	char w[HSM_NETADDR_STRLEN], net[HSM_NETADDR_STRLEN];
	struct hsm_cidr network;
	const char *why;

	if (pool_ok(pool, err, errlen) != 0 || !want)
		return want ? HSM_ADDR_INVALID : ERRC(HSM_ADDR_INVALID, "no address given");
	if (want->family != pool->subnet.addr.family)
		return ERRC(HSM_ADDR_OUTSIDE, "an %s address was asked for on an %s network",
			    family_name(want->family), family_name(pool->subnet.addr.family));
	hsm_ip_format(want, w, sizeof(w));
	network = pool->subnet;
	hsm_cidr_first(&pool->subnet, &network.addr);
	hsm_cidr_format(&network, net, sizeof(net));
	why = not_host_reason(want, &pool->subnet);
	if (why)
		return ERRC(hsm_ip_in_prefix(want, &pool->subnet) ? HSM_ADDR_RESERVED
								  : HSM_ADDR_OUTSIDE,
			    "%s %s %s", w, why, net);
	if (pool->hsm && hsm_ip_equal(want, pool->hsm))
		return ERRC(HSM_ADDR_RESERVED, "%s is the HSM's address", w);
	if (pool->gateway && hsm_ip_equal(want, pool->gateway))
		return ERRC(HSM_ADDR_RESERVED, "%s is the gateway's address", w);
	for (size_t i = 0; i < pool->nused; i++)
		if (hsm_ip_equal(want, &pool->used[i]))
			return ERRC(HSM_ADDR_IN_USE, "%s is already used by another VCM", w);
	return HSM_ADDR_OK;
}

HSM_API int hsm_addr_alloc(const struct hsm_addr_pool *pool, struct hsm_ipaddr *out, char *err,
			   size_t errlen)
{
	struct hsm_ipaddr lo, hi, *taken;
	char net[HSM_NETADDR_STRLEN];
	struct hsm_cidr network;
	size_t n = 0;

	if (pool_ok(pool, err, errlen) != 0 || !out)
		return out ? HSM_ADDR_INVALID : ERRC(HSM_ADDR_INVALID, "no output given");
	if (pool->nused > (SIZE_MAX / sizeof(*taken)) - 2)
		return ERRC(HSM_ADDR_INVALID, "too many used addresses");
	taken = malloc((pool->nused + 2) * sizeof(*taken));
	if (!taken)
		return ERRC(HSM_ADDR_INVALID, "out of memory");
	host_range(&pool->subnet, &lo, &hi);
	/* Everything taken inside the host range, sorted: the first free
	 * address is then one walk away, whatever the size of the subnet. */
	if (pool->hsm)
		taken[n++] = *pool->hsm;
	if (pool->gateway)
		taken[n++] = *pool->gateway;
	for (size_t i = 0; i < pool->nused; i++)
		if (pool->used[i].family == lo.family)
			taken[n++] = pool->used[i];
	qsort(taken, n, sizeof(*taken), cmp_ip);

	*out = lo;
	for (size_t i = 0; i < n; i++) {
		int c = hsm_ip_compare(&taken[i], out);
		if (c < 0)
			continue; /* below the range, or a duplicate */
		if (c > 0 || hsm_ip_compare(out, &hi) > 0)
			break;
		if (hsm_ip_equal(out, &hi)) { /* the last host is taken */
			free(taken);
			goto exhausted;
		}
		ip_add(out, 1);
	}
	free(taken);
	if (hsm_ip_compare(out, &hi) <= 0)
		return HSM_ADDR_OK;
exhausted:
	network = pool->subnet;
	hsm_cidr_first(&pool->subnet, &network.addr);
	return ERRC(HSM_ADDR_EXHAUSTED, "no free address left in %s",
		    hsm_cidr_format(&network, net, sizeof(net)));
}
