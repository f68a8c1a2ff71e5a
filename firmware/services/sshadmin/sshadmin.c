/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sshadmin - the keys of the platform services (guide 4.7): the host keys
 * and their certificates (hostkeys), enrollment from factory state, and
 * the one authorized client key of each service.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <hsmadmin/service.h>
#include "sshadmin-params.h"

/* --- keys set for remote access (hsmadmin keys remote-set) ----------------
 * The device member services.sshadmin.remote lists the services whose key
 * was installed for a remote client rather than by the enrolled host, so
 * that re-enrolling (and the host's keys roll) leave them alone. */

static const json_t *remote_list(const json_t *dev)
{
	const json_t *r = json_object_get(
	    json_object_get(json_object_get(dev, "services"), "sshadmin"), "remote");

	return json_is_array(r) ? r : NULL;
}

static int is_remote(const json_t *dev, const char *service)
{
	const json_t *v;
	size_t i;

	json_array_foreach(remote_list(dev), i,
			   v) if (json_is_string(v) &&
				  strcmp(json_string_value(v), service) == 0) return 1;
	return 0;
}

/* Mark (or unmark) service in doc, a copy of the device being changed. */
static void set_remote(json_t *doc, const char *service, int remote)
{
	json_t *svcs = json_object_get(doc, "services"), *mine, *list, *v;
	size_t i;

	mine = json_object_get(svcs, "sshadmin");
	if (!json_is_object(mine)) {
		mine = json_object();
		json_object_set_new(svcs, "sshadmin", mine);
	}
	list = json_array();
	json_array_foreach(remote_list(doc), i,
			   v) if (json_is_string(v) && strcmp(json_string_value(v), service) != 0)
	    json_array_append(list, v);
	if (remote)
		json_array_append_new(list, json_string(service));
	json_object_set_new(mine, "remote", list);
}

static int m_hostkeys(struct hsmd_call *call)
{
	hsmd_reply(call, hsmd_hostkeys(call));
	return HSMD_OK;
}

/* The checked, canonical client_keys of an enroll request. */
static int enroll_keys(struct hsmd_call *call, json_t **out)
{
	char err[256];
	json_t *keys, *v, *running;
	const json_t *ports = json_object_get(hsmd_lifetime(call), "ports");
	size_t i;

	if (sshadmin_params_enroll(hsmd_params(call), ports, &keys, err, sizeof(err)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	running = hsmd_running_services(call);
	json_array_foreach(running, i, v)
	{
		if (!json_object_get(keys, json_string_value(v))) {
			hsmd_error(call, HSMD_BAD_REQUEST, "client_keys: no key for service %s",
				   json_string_value(v));
			json_decref(running);
			json_decref(keys);
			return HSMD_BAD_REQUEST;
		}
	}
	json_decref(running);
	if (!json_object_get(keys, "sshadmin")) {
		json_decref(keys);
		return hsmd_error(call, HSMD_BAD_REQUEST,
				  "client_keys: no key for service sshadmin");
	}
	*out = keys;
	return HSMD_OK;
}

/* Enroll on an enrolled HSM by the holder of its sshadmin key: the given
 * keys of the other services replace the installed ones where they differ
 * (a host that took the HSM over with `keys migrate` installs its own),
 * except keys set for remote access.  Steals keys. */
static int enroll_again(struct hsmd_call *call, json_t *keys)
{
	const json_t *dev = hsmd_device(call);
	json_t *doc = NULL, *installed, *detail = json_object(), *result, *v;
	const char *name;

	json_object_foreach(keys, name, v)
	{
		const char *have =
		    json_string_value(json_object_get(json_object_get(dev, "client_keys"), name));

		if ((have && strcmp(have, json_string_value(v)) == 0) || is_remote(dev, name))
			continue;
		if (!doc)
			doc = hsmd_begin(call);
		installed = json_object_get(doc, "client_keys");
		json_object_set(installed, name, v);
		json_object_set(detail, name, v);
	}
	if (doc) {
		/* a given key may be another (remote) service's installed key */
		json_object_foreach(json_object_get(doc, "client_keys"), name, v)
		{
			if (sshadmin_key_used_by(json_object_get(doc, "client_keys"),
						 json_string_value(v), name)) {
				hsmd_error(
				    call, HSMD_BAD_REQUEST,
				    "client_keys: %s would share its key with another service",
				    name);
				json_decref(doc);
				json_decref(detail);
				json_decref(keys);
				return HSMD_BAD_REQUEST;
			}
		}
	}
	json_decref(keys);
	if (doc && hsmd_commit(call, doc, "enroll", json_pack("{s:o}", "client_keys", detail)) != 0)
		return HSMD_FAILED;
	if (!doc)
		json_decref(detail);
	result = hsmd_hostkeys(call);
	json_object_set_new(result, "enrolled", json_true());
	json_object_set_new(result, "changed", json_boolean(doc != NULL));
	hsmd_reply(call, result);
	return HSMD_OK;
}

static int m_enroll(struct hsmd_call *call)
{
	const json_t *dev = hsmd_device(call);
	json_t *keys = NULL, *doc, *result, *detail, *v;
	const char *name;
	int rc = enroll_keys(call, &keys);

	if (rc != HSMD_OK)
		return rc;
	if (strcmp(json_string_value(json_object_get(dev, "state")), "enrolled") == 0) {
		const char *installed = json_string_value(
		    json_object_get(json_object_get(dev, "client_keys"), "sshadmin"));
		int same =
		    installed &&
		    strcmp(installed, json_string_value(json_object_get(keys, "sshadmin"))) == 0;
		if (!same) {
			json_decref(keys);
			return hsmd_error(call, HSMD_REFUSED_STATE,
					  "HSM is already enrolled with another sshadmin key; "
					  "return it to factory state to enroll again");
		}
		return enroll_again(call, keys);
	}
	doc = hsmd_begin(call);
	json_object_set_new(doc, "state", json_string("enrolled"));
	json_object_set(doc, "client_keys", keys);
	detail = json_object();
	json_object_foreach(keys, name, v)
	    json_object_set_new(detail, name, json_string(json_string_value(v)));
	json_decref(keys);
	if (hsmd_commit(call, doc, "enroll", json_pack("{s:o}", "client_keys", detail)) != 0)
		return HSMD_FAILED;
	result = hsmd_hostkeys(call);
	json_object_set_new(result, "enrolled", json_true());
	json_object_set_new(result, "changed", json_true());
	hsmd_reply(call, result);
	return HSMD_OK;
}

static int m_authorized_keys(struct hsmd_call *call)
{
	const json_t *remote = remote_list(hsmd_device(call));

	hsmd_reply(call, json_pack("{s:O, s:o}", "keys",
				   json_object_get(hsmd_device(call), "client_keys"), "remote",
				   remote ? json_deep_copy(remote) : json_array()));
	return HSMD_OK;
}

static int m_set_key(struct hsmd_call *call)
{
	char err[256];
	const char *service, *other;
	const json_t *ports = json_object_get(hsmd_lifetime(call), "ports");
	json_t *doc, *keys;
	char *line;
	int remote = 0;

	if (sshadmin_params_set_key(hsmd_params(call), ports, &service, &line, &remote, err,
				    sizeof(err)) != 0)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	doc = hsmd_begin(call);
	keys = json_object_get(doc, "client_keys");
	other = sshadmin_key_used_by(keys, line, service);
	if (other) {
		hsmd_error(call, HSMD_BAD_REQUEST, "key: already the key of service %s", other);
		free(line);
		json_decref(doc); /* owns the string `other` points to */
		return HSMD_BAD_REQUEST;
	}
	json_object_set_new(keys, service, json_string(line));
	set_remote(doc, service, remote);
	if (hsmd_commit(call, doc, "set_key",
			json_pack("{s:s, s:s, s:b}", "service", service, "key", line, "remote",
				  remote)) != 0) {
		free(line);
		return HSMD_FAILED;
	}
	hsmd_reply(call,
		   json_pack("{s:s, s:s, s:b}", "service", service, "key", line, "remote", remote));
	free(line);
	return HSMD_OK;
}

static const struct hsmd_method methods[] = {
	{ .name = "hostkeys",
	  .flags = HSMD_METHOD_FACTORY_OK,
	  .handler = m_hostkeys,
	  .summary = "host keys, certificates and warrant" },
	/* Enrollment is the way out of factory state, so neither the lost
	 * clock nor the log level may block it (that would leave no way in). */
	{ .name = "enroll",
	  .flags = HSMD_METHOD_FACTORY_OK | HSMD_METHOD_INVASIVE,
	  .handler = m_enroll,
	  .summary = "install the client keys of every service" },
	{ .name = "authorized_keys",
	  .handler = m_authorized_keys,
	  .summary = "the authorized client key of each service, and which are remote" },
	{ .name = "set_key",
	  .flags = HSMD_METHOD_INVASIVE | HSMD_METHOD_LOG_GUARDED | HSMD_METHOD_NEEDS_CLOCK,
	  .handler = m_set_key,
	  .summary = "change the client key of one service (atomically)" },
	HSMD_METHOD_END
};

HSMD_SERVICE_EXPORT const struct hsmd_service hsmd_service = {
	HSMD_SERVICE_HEADER,  .name = "sshadmin", .version = PACKAGE_VERSION,
	.default_port = 2201, .methods = methods,
};
