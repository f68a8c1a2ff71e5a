/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firmware/lib/vcmrules.h - the VCM rules of guide chapter 3 as pure
 * functions of the device documents, shared by hsmd's VCM supervisor
 * (autostart after a reset, the registry's validation) and the
 * orchestrator service (every vcmadmin call).  Both link the firmware
 * library (firmware/lib, libhsmfw, prefix fw_), so there is one copy of
 * each rule; nothing here touches files or processes, so the fuzz target
 * and the unit tests run exactly what the device runs.
 *
 * The registry is device.json's member "vcms" (docs/formats/hsmd-state.md,
 * section "VCMs"): an object keyed by UUID.
 */
#ifndef FW_VCMRULES_H
#define FW_VCMRULES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <hsmadmin/netaddr.h>
#include <hsmadmin/plugin.h> /* HSM_API: exported from libhsmfw */

/* Guide 3.1.2.2.1 and 3.2.1.1. */
#define FW_VCM_MAX 1000u
#define FW_VCM_MAX_BASE_SPEED 5u
#define FW_VCM_UNLICENSED 1u
/* Guide 3.1.3.5.1: a VCM storing more than this is stopped. */
#define FW_VCM_DISK_LIMIT (16u * 1024u * 1024u)
/* Replay records a VCM holds at most (docs/formats/hsmd-state.md, "Replay
 * decision"): a record is kept until its request expires. */
#define FW_VCM_NONCES_MAX 256u
/* The services a VCM serves, with their ports (docs/design.md, "Services,
 * ports and the protocol"). */
#define FW_VCM_SERVICES                                                                            \
	{                                                                                          \
		"sshadmin", "ncoreapi", "monitor"                                                  \
	}
#define FW_VCM_NSERVICES 3

struct fw_vcm_limits {
	unsigned max_active;    /* the licence's active count, 1 without */
	unsigned max_creatable; /* 1 without a licence, 5 on base speed, else 1000 */
	int licensed;
	const char *speed; /* effective rating: "base", "mid" or "high" */
	uint32_t platform; /* platform features: factory | licence | speed bit */
};

/* The limits of this HSM from lifetime.json and device.json. */
HSM_API void fw_vcm_limits(const json_t *lifetime, const json_t *device, struct fw_vcm_limits *out);

/* The feature word a VCM gets for a requested word (guide 3.3): every
 * non-speed bit must be a platform feature; speed bits may not rate above
 * the HSM; HSMSpeed1 becomes HSMSpeed0 on a mid-speed HSM; built-in
 * features are always added.  0 or -1 with the reason. */
HSM_API int fw_vcm_features(uint32_t requested, const struct fw_vcm_limits *lim, uint32_t *out,
			    char *err, size_t errlen);

/* A lower-case 8-4-4-4-12 hex UUID. */
HSM_API int fw_uuid_valid(const char *s);
/* Exactly len lower-case hex digits. */
HSM_API int fw_hex_valid(const char *s, size_t len);
/* "true"/"True"/"false"/"False" (guide 3.1.3.4): 0 or 1, -1 otherwise. */
HSM_API int fw_vcm_bool_parse(const char *s);

/* ---- replay records (docs/formats/hsmd-state.md, "Replay decision") ----
 * A start request starts a VCM once; a setproperties request sets each of
 * its properties once.  The entry's "nonces" holds one record per acted-on
 * request, {"nonce": TAG, "issued": T, "not_after": T|null}, TAG being
 * "NONCE" or "NONCE/PROPERTY" (a bare TAG string is a record of an older
 * hsmd: issued unknown, no expiry).  A record of an expiring request is
 * kept until the request has expired by now (the clock's high-water mark)
 * and is never forgotten before: when FW_VCM_NONCES_MAX records of live
 * expiring requests are held, a new request is refused.  A record of a
 * request without expiry may be forgotten for room, raising "nonce_floor"
 * to its issue time: requests issued at or before the floor are refused. */
struct fw_nonce_use {
	const char *tag;
	int64_t issued;
	int64_t not_after; /* -1: the request does not expire */
};
enum fw_nonce_verdict {
	FW_NONCE_FRESH = 0, /* may be acted on */
	FW_NONCE_REPLAY,    /* already acted on */
	FW_NONCE_FLOOR,     /* issued at or before nonce_floor */
	FW_NONCE_FULL       /* no room before a record expires (*retry_at) */
};
HSM_API enum fw_nonce_verdict fw_vcm_nonce_check(const json_t *entry,
						 const struct fw_nonce_use *use, int64_t now,
						 int64_t *retry_at);
/* Drop the records of requests expired by now; the number dropped. */
HSM_API size_t fw_vcm_nonces_prune(json_t *entry, int64_t now);
/* Record use (after fw_vcm_nonce_check said FRESH): prunes, then makes
 * room by forgetting the oldest record without expiry if needed.  0, or -1
 * when there is no room (nothing changed). */
HSM_API int fw_vcm_nonce_record(json_t *entry, const struct fw_nonce_use *use, int64_t now);

/* One registry entry and the whole registry (unique addresses, at most
 * one serial-cardreader VCM, never autostart with restrict-startup, at
 * most FW_VCM_MAX entries, unique sequence numbers). */
HSM_API int fw_vcm_entry_validate(const char *uuid, const json_t *entry, char *err, size_t errlen);
HSM_API int fw_vcms_validate(const json_t *vcms, char *err, size_t errlen);
/* The same, where an entry that is the very object `checked` (a registry
 * validated before, never changed in place) holds for the UUID is not
 * checked again: a commit that changes one VCM checks one entry, and only
 * the rules between entries for the others. */
HSM_API int fw_vcms_validate_since(const json_t *vcms, const json_t *checked, char *err,
				   size_t errlen);

/* What the rules between entries need of a validated registry, kept up to
 * date commit by commit so that checking a change looks at the changed
 * entries alone: which VCM holds each address (in the canonical form of
 * hsm_ip_format) and each sequence number, and which the card reader;
 * and what a create asks of the registry (the create request's nonce, the
 * highest sequence number, the lowest free address), answered without
 * looking at every entry. */
struct fw_vcms_index {
	json_t *addresses; /* address -> UUID */
	json_t *seqs;      /* decimal seq -> UUID */
	char reader[40];   /* UUID, or "" */
	json_t *nonces;    /* request_nonce -> UUID */
	json_int_t seq_max;
	struct hsm_ipaddr *sorted; /* the keys of addresses, ascending */
	size_t nsorted, capsorted;
};
/* Index a registry that fw_vcms_validate accepted (NULL: none).  0, or -1
 * (out of memory; the index is then empty). */
HSM_API int fw_vcms_index_build(struct fw_vcms_index *idx, const json_t *vcms);
HSM_API void fw_vcms_index_free(struct fw_vcms_index *idx);
/* The rules of fw_vcms_validate for a registry `vcms` that differs from
 * the indexed one only in the entries `changed` names (UUID -> anything;
 * absent from vcms: deleted): those entries are checked, and the rules
 * between entries for them alone.  0, or -1 with err. */
HSM_API int fw_vcms_validate_changes(const json_t *vcms, const json_t *changed,
				     const struct fw_vcms_index *idx, char *err, size_t errlen);
/* Bring the index of `prev` to `vcms` (prev changed in the entries
 * `changed` names, validated by fw_vcms_validate_changes).  0, or -1 (out
 * of memory: rebuild it). */
HSM_API int fw_vcms_index_update(struct fw_vcms_index *idx, const json_t *prev, const json_t *vcms,
				 const json_t *changed);

/* The VCM created from the request with this nonce ("request_nonce"),
 * or NULL. */
HSM_API const char *fw_vcms_index_nonce(const struct fw_vcms_index *idx, const char *nonce);
/* The VCM holding this address, or NULL. */
HSM_API const char *fw_vcms_index_address(const struct fw_vcms_index *idx,
					  const struct hsm_ipaddr *addr);
/* The highest sequence number ("seq"), 0 without VCMs. */
HSM_API json_int_t fw_vcms_index_seq_max(const struct fw_vcms_index *idx);
/* hsm_addr_alloc of pool with the addresses of the indexed VCMs used as
 * well (pool->used: the others, such as other HSMs' VCMs): the lowest free
 * host address, at a cost that grows with pool->nused but not with the
 * number of VCMs.  The same statuses and errors as hsm_addr_alloc. */
HSM_API int fw_vcms_index_alloc(const struct fw_vcms_index *idx, const struct hsm_addr_pool *pool,
				struct hsm_ipaddr *out, char *err, size_t errlen);

/* Registry entries the functions here have looked at, one by one: a test
 * tells an operation that walks every VCM from one that does not. */
HSM_API extern unsigned long fw_vcms_visits;

/* How many VCMs are in state "active". */
HSM_API unsigned fw_vcms_active(const json_t *vcms);
/* The UUIDs in creation order ("seq"): the stable order of autostart and
 * of every listing.  New array. */
HSM_API json_t *fw_vcms_ordered(const json_t *vcms);
/* The UUID of the VCM holding the serial card reader, other than except. */
HSM_API const char *fw_vcms_cardreader(const json_t *vcms, const char *except);

/* The VCM subnet in effect.  Static modes use the configured prefix (the
 * HSM's own address and the gateway are reserved); the default mode of the
 * emulator uses override (hsmd.conf [vcm] emulated_subnet) or, for an
 * HSM at 127.A.B.C, 127.(A xor 128).(B & 252).0/22 (1022 hosts). */
struct fw_vcm_net {
	struct hsm_cidr subnet;
	int has_hsm, has_gateway;
	struct hsm_ipaddr hsm, gateway;
	char mode[16];
};
HSM_API int fw_vcm_net_get(const json_t *lifetime, const json_t *device, const char *override,
			   struct fw_vcm_net *out, char *err, size_t errlen);

#endif
