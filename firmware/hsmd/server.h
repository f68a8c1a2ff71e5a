/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.h - the event loop: one libssh event serving every service's
 * listener of one HSM, with the method calls dispatched through the gate.
 */
#ifndef HD_SERVER_H
#define HD_SERVER_H

#include <stddef.h>
#include <jansson.h>
#include "hsmd.h"
#include "services.h"
#include "store.h"

struct hd_server;

/* Everything a method call needs; the api table is the first member so
 * that hsmadmin/service.h's accessors find it. */
struct hsmd_call {
	const struct hsmd_api *api;
	struct hd_server *srv;
	struct hd_store *st;
	const struct hd_loaded_service *svc;
	const char *method;
	json_t *params;
	json_t *result;
	char message[512];
	int status;
	int message_set;
	uint32_t flags;           /* the gate flags that applied (HSMD_METHOD_*) */
	int owns_params;          /* a streaming call: clear drops params */
	struct hd_upload *upload; /* an image being received (api.c) */
	/* A streamed reply (reply_log_segment): result is the head line,
	 * then stream_len bytes of stream_fd follow.  Whoever takes the fd
	 * clears streaming; hd_call_clear closes one left. */
	int streaming, stream_fd;
	uint64_t stream_len;
	int probed; /* answered by the probe hook: the handler did not run */
};

extern const struct hsmd_api hd_api_table;

/* Run one call: look the method up, parse nothing (params given), apply
 * the gate and run the handler.  Fills call->status/result/message.  Used
 * by the server and by the unit tests. */
void hd_call_run(struct hsmd_call *call, struct hd_server *srv, struct hd_store *st,
		 const struct hd_loaded_service *svc, const char *method, json_t *params);
void hd_call_clear(struct hsmd_call *call);

/* The running services' names (for the api and the init log). */
json_t *hd_server_service_names(const struct hd_server *srv);

/* Hooks for the VCM supervisor (vcmhost.c) and for a VCM process; any may
 * be NULL.  boot: once the listeners are open (ok 1) or could not be (ok 0,
 * why says so); tick: once per loop iteration; shutdown: before hd_serve
 * returns; reboot: see below. */
struct hd_serve_hooks {
	void (*boot)(struct hd_store *st, int ok, const char *why);
	void (*tick)(struct hd_store *st);
	void (*shutdown)(struct hd_store *st);
	/* After an emulated reboot (reset, settime, factory state). */
	void (*reboot)(struct hd_store *st, const char *why);
	/* A descriptor the loop watches beside its sockets (a VCM process:
	 * the platform pipe), and what to do once it is readable, called
	 * from the loop before the calls that arrived with it are run; it
	 * returns -1 when the descriptor is done with (EOF).  Used only when
	 * watch is set. */
	int watch_fd;
	int (*watch)(struct hd_store *st, struct hd_server *srv);
};
extern struct hd_serve_hooks hd_serve_hooks;

/* Stop serving one service at once: its listener closes (a connection
 * attempt is refused, as to a service not served) and its connections
 * are dropped; why goes to the log.  For as long as the process runs. */
void hd_server_withdraw(struct hd_server *srv, const char *service, const char *why);

/* hd_serve's result when the HSM reboots into a new firmware image:
 * main restarts the process (exec) so the new image's modules load. */
#define HD_SERVE_REEXEC 100
/* Ask for that once the replies in flight are sent. */
void hd_server_request_reexec(struct hd_server *srv);

/* Serve until SIGTERM/SIGINT.  Returns the process exit status. */
int hd_serve(struct hd_store *st, const struct hd_config *cfg, struct hd_loaded_service *svcs,
	     size_t nsvcs);

#endif
