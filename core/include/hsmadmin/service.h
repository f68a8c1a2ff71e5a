/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmadmin/service.h - the hsmd service ABI (version 1.10).
 *
 * A service module is a shared object that exports exactly one symbol,
 * `hsmd_service`, a const struct hsmd_service.  hsmd reads the ABI version
 * and the struct sizes before it touches anything else:
 *
 *   - abi_major differs from hsmd's        -> the service is refused
 *   - size (or a table stride) is smaller than hsmd needs -> refused
 *   - abi_minor newer than hsmd's          -> only known fields are used
 *
 * Rules for changing this file: add fields only at the end of a struct and
 * bump HSMD_SERVICE_ABI_MINOR; removing or changing a field bumps the major.
 * Method tables are plain data.  A handler never sees SSH: it gets a
 * struct hsmd_call and talks to hsmd only through the accessors below.
 *
 * The device's central rules (factory state, the interlock, log capacity,
 * lost clock, maintenance mode) are applied by hsmd before a handler runs,
 * from the method's flags; services never re-implement them.
 *
 * A minimal service:
 *
 *   static int echo_ping(struct hsmd_call *call) {
 *       hsmd_reply(call, json_pack("{s:b}", "pong", 1));
 *       return HSMD_OK;
 *   }
 *   static const struct hsmd_method echo_methods[] = {
 *       { .name = "ping", .handler = echo_ping, .summary = "answer pong" },
 *       HSMD_METHOD_END
 *   };
 *   HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
 *       HSMD_SERVICE_HEADER,
 *       .name = "echo", .version = "1.0", .default_port = 2299,
 *       .methods = echo_methods,
 *   };
 */
#ifndef HSMADMIN_SERVICE_H
#define HSMADMIN_SERVICE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one source of the service ABI version: configure reads these two
 * lines for hsmadmin-service.pc (tests/cli/versions.sh checks). */
#define HSMD_SERVICE_ABI_MAJOR 1
#define HSMD_SERVICE_ABI_MINOR 10

/* The one symbol hsmd looks up with dlsym(). */
#define HSMD_SERVICE_SYMBOL "hsmd_service"

#if defined(__GNUC__)
#define HSMD_SERVICE_EXPORT __attribute__((visibility("default")))
#define HSMD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HSMD_SERVICE_EXPORT
#define HSMD_PRINTF(a, b)
#endif

/* What a handler returns; equal to the exit status on the wire
 * (docs/protocol.md). */
enum hsmd_status {
	HSMD_OK = 0,
	HSMD_FAILED = 1,        /* "failed" */
	HSMD_BAD_REQUEST = 2,   /* "bad_request" */
	HSMD_REFUSED_STATE = 3, /* "refused_state" */
	HSMD_DENIED = 4         /* "denied" */
};

/* hsmd_method.flags: which central rules apply (guide 4.2.2, 4.6.4, 4.12.1). */
#define HSMD_METHOD_INVASIVE 0x01u /* changes device state: refused by the interlock */
#define HSMD_METHOD_STREAMS                                                                        \
	0x02u /* stdin is a params line, then bulk data (ABI 1.3: stream, finish) */
#define HSMD_METHOD_FACTORY_OK 0x04u  /* also allowed in factory state */
#define HSMD_METHOD_NEEDS_CLOCK 0x08u /* refused while the system clock is lost */
#define HSMD_METHOD_LOG_GUARDED 0x10u /* refused past the safe log level */
#define HSMD_METHOD_LOG_ACCESS 0x20u /* retrieves or clears logs: allowed past the critical level */
#define HSMD_METHOD_MAINTENANCE 0x40u /* needs the HSM in maintenance mode */
#define HSMD_METHOD_RECOVERY 0x80u    /* needs the HSM in recovery mode (guide 4.5.4: logs clear) */

struct hsmd_call;     /* opaque: one method call */
struct fw_vcms_index; /* opaque here: see vcm_index (ABI 1.9) */

struct hsmd_method {
	const char *name; /* [a-z0-9_]{1,47}; NULL ends a table */
	uint32_t flags;   /* HSMD_METHOD_* that always apply */
	/* Optional: a params member that changes the rules.  When params has
	 * it with a value other than false or null, variant_flags are added;
	 * otherwise plain_flags are.  (settime: "adjust"; select: "set".) */
	const char *variant_param;
	uint32_t variant_flags;
	uint32_t plain_flags;
	int (*handler)(struct hsmd_call *call); /* returns enum hsmd_status */
	const char *summary;                    /* one line, for hsmd's own listing */
	/* --- ABI 1.3: a method with HSMD_METHOD_STREAMS.  Its stdin is one
	 * line of JSON params ending in '\n', then bulk data until EOF, never
	 * held whole.  handler runs when the params line is in (after the
	 * central rules): HSMD_OK to receive the data, or an error that ends
	 * the call.  stream gets each piece of the data as it arrives (non-zero
	 * with an error set ends the call; the rest is discarded).  finish runs
	 * at EOF and replies.  hsmd releases what the call holds (an image
	 * being received) whatever happens, also when the client goes away. */
	int (*stream)(struct hsmd_call *call, const void *data, size_t len);
	int (*finish)(struct hsmd_call *call);
	/* --- ABI 1.7: optional, one line in the admin's words saying why the
	 * method's mode rule (HSMD_METHOD_RECOVERY or HSMD_METHOD_MAINTENANCE)
	 * applies to it.  When hsmd refuses the call by that rule, the
	 * message is this hint followed by how to enter the mode; the other
	 * rules keep their own messages.  hsmd reads it only from a table
	 * whose stride reaches it (a service of ABI 1.6 or older has none). */
	const char *gate_hint;
};
#define HSMD_METHOD_END                                                                            \
	{                                                                                          \
		.name = NULL                                                                       \
	}

struct hsmd_service {
	uint16_t abi_major; /* HSMD_SERVICE_ABI_MAJOR the service was built with */
	uint16_t abi_minor;
	uint32_t size;        /* sizeof(struct hsmd_service) as built */
	uint32_t method_size; /* sizeof(struct hsmd_method): stride of .methods */
	uint32_t reserved;
	const char *name; /* must match services.d/<name>.conf */
	const char *version;
	uint16_t default_port; /* used when the HSM's state names no port */
	const struct hsmd_method *methods;
	/* Optional: once after loading, before serving.  Non-zero with a
	 * reason in err disables just this service. */
	int (*init)(char *err, size_t errlen);
	void (*fini)(void);
};

#define HSMD_SERVICE_HEADER                                                                        \
	.abi_major = HSMD_SERVICE_ABI_MAJOR, .abi_minor = HSMD_SERVICE_ABI_MINOR,                  \
	.size = sizeof(struct hsmd_service), .method_size = sizeof(struct hsmd_method)

/* ---------------------------------------------------------------------
 * What a handler may ask hsmd.  hsmd hands every call a pointer to this
 * table (its first member); the inline accessors below go through it so
 * that a module links against nothing of hsmd's.  Fields are added only at
 * the end; `size` tells how many a running hsmd has.
 * ------------------------------------------------------------------- */
struct hsmd_api {
	uint32_t size; /* sizeof(struct hsmd_api) of the running hsmd */

	/* The request.  params is always an object (empty stdin is {}). */
	const json_t *(*params)(struct hsmd_call *call);
	const char *(*service)(struct hsmd_call *call);
	const char *(*method)(struct hsmd_call *call);

	/* Lifetime data (esn, psn, mfgtime, speed, features, identity_key,
	 * warrant, address, ports): never changes after provisioning. */
	const json_t *(*lifetime)(struct hsmd_call *call);

	/* The device document without secrets (state, mode, client_keys,
	 * clock, min_vsn, firmware, acceleration, services ...), read-only.
	 * See docs/formats/hsmd-state.md. */
	const json_t *(*device)(struct hsmd_call *call);

	/* Change the device atomically: edit a copy of device() and commit
	 * it.  Only the members a service may change are taken from doc
	 * (state, mode, client_keys, clock, min_vsn, acceleration, services);
	 * the result is validated, written, and one entry (event, detail) is
	 * appended to the system log in the same transaction.  Steals doc
	 * and detail.  Returns 0, or -1 with the reason set as a "failed"
	 * error on the call. */
	json_t *(*begin)(struct hsmd_call *call);
	int (*commit)(struct hsmd_call *call, json_t *doc, const char *event, json_t *detail);

	/* The device clock (host clock plus the persisted offset, slewed),
	 * and the host clock, in Unix seconds. */
	int64_t (*now)(struct hsmd_call *call);
	int64_t (*host_now)(struct hsmd_call *call);
	/* Seconds since the emulated HSM last booted. */
	int64_t (*uptime)(struct hsmd_call *call);

	/* The reply.  reply steals result (an object).  error sets the error
	 * envelope and returns status, so `return hsmd_error(call, ...)`. */
	void (*reply)(struct hsmd_call *call, json_t *result);
	int (*verror)(struct hsmd_call *call, int status, const char *fmt, va_list ap);

	/* Platform operations only hsmd can do (they hold the identity key
	 * or the event loop).  Each is one transaction and one log entry. */
	json_t *(*hostkeys)(struct hsmd_call *call);  /* the sshadmin hostkeys result */
	int (*factory_state)(struct hsmd_call *call); /* erase, new host keys and log key, reboot */
	int (*reboot)(struct hsmd_call *call,
		      const char *why); /* apply pending settings, restart */

	/* Logs: entries of "system" or "init" as a new array, or NULL with
	 * an error set on the call. */
	json_t *(*log_entries)(struct hsmd_call *call, const char *log);
	/* Log usage for status displays: bytes used and the capacity. */
	void (*log_usage)(struct hsmd_call *call, uint64_t *used, uint64_t *capacity);

	/* The services that run, as a new array of names. */
	json_t *(*running_services)(struct hsmd_call *call);

	/* --- ABI 1.1 --- */
	/* The directory of the vendor public keys this hsmd trusts
	 * (the *.pem files of CONF/vendor.d), for services that verify vendor-signed
	 * objects such as feature licences. */
	const char *(*vendor_dir)(struct hsmd_call *call);

	/* --- ABI 1.1: VCMs, for the orchestrator ----------------------------
	 * hsmd owns the VCM processes and state directories; the orchestrator
	 * owns the rules and the registry (the device member "vcms", changed
	 * with begin/commit like any other).  Functions returning int give 0,
	 * or -1 with a "failed" error set on the call; those returning json_t
	 * give a new reference or NULL with the error set. */
	/* The VCM network in effect: {"mode","subnet","hsm","gateway"}, and
	 * (since hsmd 0.1 with machine-wide allocations) "taken": addresses
	 * VCMs of other HSMs on this machine hold, never to be given to a new
	 * VCM.  To a service built with ABI 1.9 or older, every such address
	 * (hsmd reads every claim of every other HSM for it: a cost that
	 * grows with their VCMs).  To one built with ABI 1.10 or newer, only
	 * those hsmd already knows of, without a read (some may have been
	 * freed since): a hint to pass over; such a service asks
	 * vcm_address_taken about the address it picks. */
	json_t *(*vcm_network)(struct hsmd_call *call);
	/* Make a new VCM's state directory from {"uuid","address","features",
	 * "sshadmin_key","name"}; returns {"identity","services":{svc:{"port",
	 * "host_key","certificate"}}} (the certificates signed by the device
	 * identity key).  The registry does not name it yet. */
	json_t *(*vcm_prepare)(struct hsmd_call *call, const json_t *spec);
	/* Remove a VCM's state directory. */
	int (*vcm_discard)(struct hsmd_call *call, const char *uuid);
	/* Run a VCM's process (returns once it serves) or stop it. */
	int (*vcm_start)(struct hsmd_call *call, const char *uuid);
	int (*vcm_stop)(struct hsmd_call *call, const char *uuid);
	/* {"UUID":{"pid","ncoreapi":"operational"|"stopped","since"}} */
	json_t *(*vcm_running)(struct hsmd_call *call);
	/* The last statistics poll {"time","interval","vcms":{UUID:{"memory_kb",
	 * "disk_kb"}}}, or JSON null before the first. */
	json_t *(*vcm_stats)(struct hsmd_call *call);
	/* 1 when the VCM has an audit log that is not finalized. */
	int (*vcm_audit_open)(struct hsmd_call *call, const char *uuid);

	/* ABI 1.2: the log key and expiry (the monitor's logs_getkey and
	 * logs_expire).  log_public_key: the device's (or VCM's) log public
	 * key as an OpenSSH line, a new string, or NULL with an error set.
	 * log_expire (since ABI 1.3): remove the saved (exported) segment
	 * with this number; the bytes freed, or -1 with an error set. */
	char *(*log_public_key)(struct hsmd_call *call);
	long long (*log_expire)(struct hsmd_call *call, int64_t segment);

	/* --- ABI 1.3: firmware images (the updater; docs/formats/npkg.md).
	 * A streaming call receives one package into a new image directory:
	 * image_open starts it, image_write takes the next bytes (the package
	 * is verified as it arrives against CONF/vendor.d: the signature once
	 * the manifest is in, each file's digest at its end), image_close says
	 * the stream ended and gives the verified manifest ({"product",
	 * "component","version","vsn",...} as npkginfo --json shows it).
	 * image_write and image_close return HSMD_OK, or the status to answer
	 * with an error set: HSMD_DENIED for signature, vendor or digest,
	 * HSMD_BAD_REQUEST for a malformed, truncated or padded package.
	 * Nothing is installed until
	 * image_install names the image for its component in images.json (a
	 * primary: the old one is kept to roll back to and the new one is on
	 * trial); with reset it also reboots the HSM into it once the reply is
	 * sent.  A new primary image returns the HSM to factory state the
	 * first time it boots.  image_discard drops an image not installed.
	 * images: the images document {"primary","recovery","bootloader",
	 * "previous","trial"} (docs/formats/hsmd-state.md). */
	int (*image_open)(struct hsmd_call *call);
	int (*image_write)(struct hsmd_call *call, const void *data, size_t len);
	int (*image_close)(struct hsmd_call *call, json_t **manifest);
	int (*image_install)(struct hsmd_call *call, int reset);
	void (*image_discard)(struct hsmd_call *call);
	json_t *(*images)(struct hsmd_call *call);
	/* --- ABI 1.4: signed log segments (docs/formats/signed-log.md) ---
	 * log_saved: the saved segment numbers, ascending, and the open one:
	 * {"saved":[N...],"open":N}.  log_close: close the open segment (its
	 * closing checkpoint) and keep it as saved; its number, or -1.
	 * log_segment: the bytes of a saved segment as a JSON string.
	 * log_keys: the verification keys of every epoch,
	 * [{"epoch","since","key","certificate"}], certificates signed by the
	 * identity key.  log_clear: "system" (every segment goes, numbering
	 * continues) or "init". */
	json_t *(*log_saved)(struct hsmd_call *call);
	int64_t (*log_close)(struct hsmd_call *call);
	json_t *(*log_segment)(struct hsmd_call *call, int64_t segment);
	json_t *(*log_keys)(struct hsmd_call *call);
	int (*log_clear)(struct hsmd_call *call, const char *log);
	/* --- ABI 1.5: a streamed reply (docs/protocol.md).  The reply is
	 * head (an object, stolen) as one line, then the bytes of saved
	 * segment `segment`, which hsmd reads from disk as the client takes
	 * them (never whole in memory, whatever the segment's size); head
	 * gains "bytes", the length that follows.  0, or -1 with an error
	 * set (the segment is not stored). */
	int (*reply_log_segment)(struct hsmd_call *call, json_t *head, int64_t segment);
	/* --- ABI 1.6: an existing VCM's identity, as vcm_prepare gave it
	 * ({"identity","services"}), read from its state: what a tenant
	 * configuration file issued again is made of. */
	json_t *(*vcm_identity)(struct hsmd_call *call, const char *uuid);
	/* --- ABI 1.8: the VCM registry in a working document.  For a service
	 * built with ABI 1.8 or newer, begin() leaves the registry's entries
	 * out: the document's "vcms" is an object of changes only (UUID -> the
	 * new entry, or null: deleted), empty at first, and commit applies
	 * them to the registry as it then stands.  So a handler never holds a
	 * committed entry as its own to change by accident (device() shows
	 * them, read-only; change a json_deep_copy), and a commit costs the
	 * same whatever the number of VCMs.  vcm_put records one change in
	 * doc: entry (stolen) replaces the VCM's entry, NULL deletes it.  0,
	 * or -1 with an error set (not a UUID, or not a begin() document). */
	int (*vcm_put)(struct hsmd_call *call, json_t *doc, const char *uuid, json_t *entry);
	/* --- ABI 1.9: the index hsmd keeps of the registry, brought up to
	 * date by every commit (struct fw_vcms_index of the firmware library,
	 * firmware/lib/vcmrules.h, read with its fw_vcms_index_* functions):
	 * which VCM holds an address, a sequence number or a create request's
	 * nonce, and the lowest free address, without walking every entry, so
	 * that a create costs the same whatever the number of VCMs.  Valid
	 * until the next commit; NULL with an error set (out of memory). */
	const struct fw_vcms_index *(*vcm_index)(struct hsmd_call *call);
	/* --- ABI 1.10: whether a VCM of ANOTHER HSM of this machine holds
	 * address (hsmd's machine-wide VCM allocations): 1, or 0 when it is
	 * free (or a leftover, or held by a VCM of this HSM: the registry and
	 * vcm_index tell those), or -1 with an error set (not an address, an
	 * unreadable table).  It looks at that one address, whatever the
	 * number of VCMs on the machine, and hsmd remembers a 1 in
	 * vcm_network's "taken".  Still only a check: vcm_prepare's claim
	 * refuses an address another hsmd took in between. */
	int (*vcm_address_taken)(struct hsmd_call *call, const char *address);
};

/* Every call starts with the table pointer. */
struct hsmd_call_head {
	const struct hsmd_api *api;
};

#define HSMD_API(call) (((const struct hsmd_call_head *)(const void *)(call))->api)

static inline const json_t *hsmd_params(struct hsmd_call *c)
{
	return HSMD_API(c)->params(c);
}
static inline const char *hsmd_service_name(struct hsmd_call *c)
{
	return HSMD_API(c)->service(c);
}
static inline const char *hsmd_method_name(struct hsmd_call *c)
{
	return HSMD_API(c)->method(c);
}
static inline const json_t *hsmd_lifetime(struct hsmd_call *c)
{
	return HSMD_API(c)->lifetime(c);
}
static inline const json_t *hsmd_device(struct hsmd_call *c)
{
	return HSMD_API(c)->device(c);
}
static inline json_t *hsmd_begin(struct hsmd_call *c)
{
	return HSMD_API(c)->begin(c);
}
static inline int hsmd_commit(struct hsmd_call *c, json_t *doc, const char *event, json_t *detail)
{
	return HSMD_API(c)->commit(c, doc, event, detail);
}
static inline int64_t hsmd_now(struct hsmd_call *c)
{
	return HSMD_API(c)->now(c);
}
static inline int64_t hsmd_host_now(struct hsmd_call *c)
{
	return HSMD_API(c)->host_now(c);
}
static inline int64_t hsmd_uptime(struct hsmd_call *c)
{
	return HSMD_API(c)->uptime(c);
}
static inline void hsmd_reply(struct hsmd_call *c, json_t *result)
{
	HSMD_API(c)->reply(c, result);
}
static inline int hsmd_error(struct hsmd_call *c, int status, const char *fmt, ...)
    HSMD_PRINTF(3, 4);
static inline int hsmd_error(struct hsmd_call *c, int status, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = HSMD_API(c)->verror(c, status, fmt, ap);
	va_end(ap);
	return r;
}
static inline json_t *hsmd_hostkeys(struct hsmd_call *c)
{
	return HSMD_API(c)->hostkeys(c);
}
static inline int hsmd_factory_state(struct hsmd_call *c)
{
	return HSMD_API(c)->factory_state(c);
}
static inline int hsmd_reboot(struct hsmd_call *c, const char *why)
{
	return HSMD_API(c)->reboot(c, why);
}
static inline json_t *hsmd_log_entries(struct hsmd_call *c, const char *log)
{
	return HSMD_API(c)->log_entries(c, log);
}
static inline void hsmd_log_usage(struct hsmd_call *c, uint64_t *used, uint64_t *cap)
{
	HSMD_API(c)->log_usage(c, used, cap);
}
static inline json_t *hsmd_running_services(struct hsmd_call *c)
{
	return HSMD_API(c)->running_services(c);
}
/* Members added after ABI 1.0 may be missing from the table of an older
 * hsmd.  HSMD_API_HAS says whether the running hsmd's table reaches one;
 * every accessor of such a member checks it itself and, when it is
 * missing, sets a "failed" error on the call naming the member and the
 * ABI that brought it, and fails (NULL or -1), as tss2's accessors
 * return an ABI-mismatch error: a service never calls past the table. */
#define HSMD_API_HAS(call, member)                                                                 \
	(HSMD_API(call)->size >= offsetof(struct hsmd_api, member) + sizeof(HSMD_API(call)->member))
static inline int hsmd_api_missing(struct hsmd_call *c, const char *member, const char *abi)
{
	hsmd_error(c, HSMD_FAILED, "this hsmd has no %s (service ABI %s): upgrade hsmd", member,
		   abi);
	return -1;
}
#define HSMD_API_CALL(call, member, abi, fail, ...)                                                \
	(HSMD_API_HAS(call, member) ? HSMD_API(call)->member(__VA_ARGS__)                          \
				    : (hsmd_api_missing(call, #member, abi), (fail)))

/* NULL (and no error) from an hsmd older than ABI 1.1. */
static inline const char *hsmd_vendor_dir(struct hsmd_call *c)
{
	return HSMD_API_HAS(c, vendor_dir) ? HSMD_API(c)->vendor_dir(c) : NULL;
}
/* The log key and expiry: has the running hsmd got them (ABI 1.2)? */
static inline int hsmd_has_log_api(struct hsmd_call *c)
{
	return HSMD_API_HAS(c, log_expire);
}
static inline char *hsmd_log_public_key(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, log_public_key, "1.2", (char *)NULL, c);
}
/* ABI 1.4 changed what the number means: a segment, not an entry. */
static inline long long hsmd_log_expire(struct hsmd_call *c, int64_t segment)
{
	return HSMD_API_CALL(c, log_expire, "1.2", -1LL, c, segment);
}
/* Signed log segments: has the running hsmd got them (ABI 1.4)? */
static inline int hsmd_has_segment_api(struct hsmd_call *c)
{
	return HSMD_API_HAS(c, log_clear);
}
static inline json_t *hsmd_log_saved(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, log_saved, "1.4", (json_t *)NULL, c);
}
static inline int64_t hsmd_log_close(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, log_close, "1.4", (int64_t)-1, c);
}
static inline json_t *hsmd_log_segment(struct hsmd_call *c, int64_t seg)
{
	return HSMD_API_CALL(c, log_segment, "1.4", (json_t *)NULL, c, seg);
}
static inline json_t *hsmd_log_keys(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, log_keys, "1.4", (json_t *)NULL, c);
}
static inline int hsmd_log_clear(struct hsmd_call *c, const char *log)
{
	return HSMD_API_CALL(c, log_clear, "1.4", -1, c, log);
}
/* A streamed reply of a saved log segment: has the running hsmd got it
 * (ABI 1.5)? */
static inline int hsmd_has_stream_reply(struct hsmd_call *c)
{
	return HSMD_API_HAS(c, reply_log_segment);
}
static inline int hsmd_reply_log_segment(struct hsmd_call *c, json_t *head, int64_t segment)
{
	return HSMD_API_CALL(c, reply_log_segment, "1.5", -1, c, head, segment);
}
/* Firmware images: has the running hsmd got them (ABI 1.3)? */
static inline int hsmd_has_image_api(struct hsmd_call *c)
{
	return HSMD_API_HAS(c, images);
}
static inline int hsmd_image_open(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, image_open, "1.3", -1, c);
}
static inline int hsmd_image_write(struct hsmd_call *c, const void *d, size_t n)
{
	return HSMD_API_CALL(c, image_write, "1.3", -1, c, d, n);
}
static inline int hsmd_image_close(struct hsmd_call *c, json_t **manifest)
{
	return HSMD_API_CALL(c, image_close, "1.3", -1, c, manifest);
}
static inline int hsmd_image_install(struct hsmd_call *c, int reset)
{
	return HSMD_API_CALL(c, image_install, "1.3", -1, c, reset);
}
static inline void hsmd_image_discard(struct hsmd_call *c)
{
	if (HSMD_API_HAS(c, image_discard))
		HSMD_API(c)->image_discard(c);
	else
		hsmd_api_missing(c, "image_discard", "1.3");
}
static inline json_t *hsmd_images(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, images, "1.3", (json_t *)NULL, c);
}
/* The VCM functions: has the running hsmd got them (ABI 1.1)? */
static inline int hsmd_has_vcm_api(struct hsmd_call *c)
{
	return HSMD_API_HAS(c, vcm_audit_open);
}
static inline json_t *hsmd_vcm_network(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, vcm_network, "1.1", (json_t *)NULL, c);
}
static inline json_t *hsmd_vcm_prepare(struct hsmd_call *c, const json_t *spec)
{
	return HSMD_API_CALL(c, vcm_prepare, "1.1", (json_t *)NULL, c, spec);
}
/* Replace (entry, stolen) or delete (NULL) one VCM's registry entry in a
 * document from hsmd_begin.  An hsmd older than ABI 1.8 gave the whole
 * registry in the document: the entry is changed there. */
static inline int hsmd_vcm_put(struct hsmd_call *c, json_t *doc, const char *uuid, json_t *entry)
{
	json_t *vcms;

	if (HSMD_API_HAS(c, vcm_put))
		return HSMD_API(c)->vcm_put(c, doc, uuid, entry);
	vcms = json_object_get(doc, "vcms");
	if (!vcms) {
		vcms = json_object();
		json_object_set_new(doc, "vcms", vcms);
	}
	if (entry)
		return json_object_set_new(vcms, uuid, entry);
	json_object_del(vcms, uuid);
	return 0;
}
/* The registry's index: has the running hsmd got it (ABI 1.9)?  Without
 * it, a service indexes device()'s "vcms" itself (fw_vcms_index_build). */
static inline int hsmd_has_vcm_index(struct hsmd_call *c)
{
	return HSMD_API_HAS(c, vcm_index);
}
static inline const struct fw_vcms_index *hsmd_vcm_index(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, vcm_index, "1.9", (const struct fw_vcms_index *)NULL, c);
}
/* The check of one address against other HSMs' VCMs: has the running
 * hsmd got it (ABI 1.10)?  Without it, vcm_network's "taken" lists every
 * such address. */
static inline int hsmd_has_vcm_address_taken(struct hsmd_call *c)
{
	return HSMD_API_HAS(c, vcm_address_taken);
}
static inline int hsmd_vcm_address_taken(struct hsmd_call *c, const char *address)
{
	return HSMD_API_CALL(c, vcm_address_taken, "1.10", -1, c, address);
}
static inline json_t *hsmd_vcm_identity(struct hsmd_call *c, const char *uuid)
{
	return HSMD_API_CALL(c, vcm_identity, "1.6", (json_t *)NULL, c, uuid);
}
static inline int hsmd_vcm_discard(struct hsmd_call *c, const char *uuid)
{
	return HSMD_API_CALL(c, vcm_discard, "1.1", -1, c, uuid);
}
static inline int hsmd_vcm_start(struct hsmd_call *c, const char *uuid)
{
	return HSMD_API_CALL(c, vcm_start, "1.1", -1, c, uuid);
}
static inline int hsmd_vcm_stop(struct hsmd_call *c, const char *uuid)
{
	return HSMD_API_CALL(c, vcm_stop, "1.1", -1, c, uuid);
}
static inline json_t *hsmd_vcm_running(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, vcm_running, "1.1", (json_t *)NULL, c);
}
static inline json_t *hsmd_vcm_stats(struct hsmd_call *c)
{
	return HSMD_API_CALL(c, vcm_stats, "1.1", (json_t *)NULL, c);
}
static inline int hsmd_vcm_audit_open(struct hsmd_call *c, const char *uuid)
{
	return HSMD_API_CALL(c, vcm_audit_open, "1.1", -1, c, uuid);
}

#ifdef __cplusplus
}
#endif
#endif /* HSMADMIN_SERVICE_H */
