/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmadmin/netaddr.h - IP addresses, CIDR prefixes, the VCM network
 * configuration and the VCM address allocator (guide 4.10.1.18).
 *
 * Parsing is strict, for text that comes from command lines, request
 * params and files: IPv4 only as four dotted decimal octets without
 * leading zeros ("010.1.1.1" is refused: some parsers read it as octal),
 * IPv6 as RFC 4291 text without zone ids, prefix lengths in plain decimal.
 * Text longer than HSM_NETADDR_TEXT_MAX is refused before it is looked at.
 *
 * Host numbering (the same for both families, with h = host bits):
 *   h >= 2   the first address of the prefix (IPv4 network address, IPv6
 *            Subnet-Router anycast, RFC 4291) and the last (IPv4
 *            broadcast, IPv6 reserved subnet anycast ID 0x7F, RFC 2526)
 *            are reserved; the others are hosts.
 *   h == 1   both addresses are hosts (IPv4 /31, RFC 3021; IPv6 /127,
 *            RFC 6164).
 *   h == 0   the one address is a host (/32, /128).
 *
 * Functions returning int give 0 on success and -1 (or a negative
 * enum hsm_addr_status) with a one-line reason in err.
 */
#ifndef HSMADMIN_NETADDR_H
#define HSMADMIN_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#ifdef __cplusplus
extern "C" {
#endif

/* Longest text any parser here looks at (an IPv6 address with an
 * embedded IPv4 address and a prefix is at most 49 characters). */
#define HSM_NETADDR_TEXT_MAX 64
/* Buffer size that holds any formatted address or prefix. */
#define HSM_NETADDR_STRLEN 52

/* Prefix lengths a static VCM network may have. */
#define HSM_NET4_PREFIX_MIN 8
#define HSM_NET4_PREFIX_MAX 30
#define HSM_NET6_PREFIX_MIN 64
#define HSM_NET6_PREFIX_MAX 126

struct hsm_ipaddr {
	int family;    /* 4 or 6 */
	uint8_t b[16]; /* network byte order; IPv4 uses b[0..3] */
};

struct hsm_cidr {
	struct hsm_ipaddr addr; /* as written: host bits may be set */
	unsigned prefix;        /* 0..32 or 0..128 */
};

/* family: 4 or 6 to insist on one, 0 for either. */
HSM_API int hsm_ip_parse(const char *text, int family, struct hsm_ipaddr *out, char *err,
			 size_t errlen);
/* "ADDRESS/PREFIX"; the prefix is required. */
HSM_API int hsm_cidr_parse(const char *text, int family, struct hsm_cidr *out, char *err,
			   size_t errlen);

/* Canonical text (dotted quad; RFC 5952 for IPv6) into buf of at least
 * HSM_NETADDR_STRLEN bytes.  Returns buf. */
HSM_API char *hsm_ip_format(const struct hsm_ipaddr *a, char *buf, size_t buflen);
HSM_API char *hsm_cidr_format(const struct hsm_cidr *c, char *buf, size_t buflen);

HSM_API int hsm_ip_equal(const struct hsm_ipaddr *a, const struct hsm_ipaddr *b);
/* <0, 0, >0 like memcmp; IPv4 sorts before IPv6. */
HSM_API int hsm_ip_compare(const struct hsm_ipaddr *a, const struct hsm_ipaddr *b);
/* 1 when a is inside the prefix (same family, same network bits). */
HSM_API int hsm_ip_in_prefix(const struct hsm_ipaddr *a, const struct hsm_cidr *net);
/* The first and last address of the prefix. */
HSM_API void hsm_cidr_first(const struct hsm_cidr *net, struct hsm_ipaddr *out);
HSM_API void hsm_cidr_last(const struct hsm_cidr *net, struct hsm_ipaddr *out);
/* 1 when a is inside net and is a host address by the rules above. */
HSM_API int hsm_ip_is_host(const struct hsm_ipaddr *a, const struct hsm_cidr *net);

/* --- the static VCM network (hsmadmin setnetwork ipv4static|ipv6static) --- */

struct hsm_netconfig {
	struct hsm_cidr address; /* the HSM's address and its prefix */
	struct hsm_ipaddr gateway;
};

/* Parse and validate a static network: family 4 (ipv4static) or 6
 * (ipv6static); address "A/N" with N in the family's range above, a host
 * address of its prefix and not unspecified, multicast, 0.0.0.0/8, IPv4-
 * mapped or link-local; gateway of the same family, a host address of the
 * prefix and not the HSM address.  (Loopback is allowed: the emulated HSM
 * and its tests live on 127.0.0.0/8.) */
HSM_API int hsm_netconfig_parse(int family, const char *address, const char *gateway,
				struct hsm_netconfig *out, char *err, size_t errlen);
/* The same rules for values already parsed. */
HSM_API int hsm_netconfig_check(const struct hsm_netconfig *cfg, char *err, size_t errlen);

/* --- the VCM address allocator --------------------------------------------- */

enum hsm_addr_status {
	HSM_ADDR_OK = 0,
	HSM_ADDR_INVALID = -1,  /* bad arguments (family mismatch, NULL) */
	HSM_ADDR_OUTSIDE = -2,  /* not inside the subnet */
	HSM_ADDR_RESERVED = -3, /* network/broadcast, the HSM or the gateway */
	HSM_ADDR_IN_USE = -4,   /* already given to a VCM */
	HSM_ADDR_EXHAUSTED = -5 /* no free host address left */
};

/* What the allocator must not hand out, besides the reserved addresses of
 * the prefix.  gateway may be NULL (no gateway); used may hold addresses
 * outside the subnet (they are ignored) and duplicates. */
struct hsm_addr_pool {
	struct hsm_cidr subnet;           /* host bits are ignored */
	const struct hsm_ipaddr *hsm;     /* may be NULL */
	const struct hsm_ipaddr *gateway; /* may be NULL */
	const struct hsm_ipaddr *used;
	size_t nused;
};

/* The lowest free host address of the subnet into *out.  Cost is
 * O(nused log nused) whatever the size of the subnet. */
HSM_API int hsm_addr_alloc(const struct hsm_addr_pool *pool, struct hsm_ipaddr *out, char *err,
			   size_t errlen);
/* Whether want may be given to a new VCM: inside the subnet, a host
 * address, not the HSM or gateway, not in use. */
HSM_API int hsm_addr_check(const struct hsm_addr_pool *pool, const struct hsm_ipaddr *want,
			   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
