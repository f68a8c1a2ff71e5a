/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firmware/services/setup/network.c - the VCM network (guide 3.1.2.1,
 * 4.10.1.18): `setnetwork` stores a validated network as pending; hsmd's
 * reset makes the pending network current.  It may change only while no
 * VCM exists (delete the VCMs, change, reset, create them again).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "setup.h"

json_t *setup_vcm_network(const json_t *device)
{
	const json_t *vn = json_object_get(device, "vcm_network");

	if (json_is_object(vn))
		return json_deep_copy(vn);
	return json_pack("{s:{s:s, s:n, s:n}, s:n}", "current", "mode", "default", "address",
			 "gateway", "pending");
}

size_t setup_vcm_count(const json_t *device)
{
	const json_t *vcms = json_object_get(device, "vcms");

	return json_is_object(vcms) ? json_object_size(vcms) : 0;
}

static json_t *detail_of(const json_t *net)
{
	return json_pack("{s:O, s:O, s:O}", "mode", json_object_get(net, "mode"), "address",
			 json_object_get(net, "address"), "gateway",
			 json_object_get(net, "gateway"));
}

int setup_setnetwork(struct hsmd_call *call)
{
	json_t *net, *doc, *vn, *pending_before;
	char err[512];
	size_t nvcms;
	int changed;

	net = setup_network_params(hsmd_params(call), err, sizeof(err));
	if (!net)
		return hsmd_error(call, HSMD_BAD_REQUEST, "%s", err);
	nvcms = setup_vcm_count(hsmd_device(call));
	if (nvcms) {
		json_decref(net);
		return hsmd_error(
		    call, HSMD_REFUSED_STATE,
		    "%zu VCM%s exist%s: the VCM network can change only while no VCM "
		    "exists (delete the VCMs, change the network, reset, create them again)",
		    nvcms, nvcms == 1 ? "" : "s", nvcms == 1 ? "s" : "");
	}
	doc = hsmd_begin(call);
	vn = setup_vcm_network(doc);
	pending_before = json_incref(json_object_get(vn, "pending"));
	/* Asking for the current network again cancels a pending change. */
	if (json_equal(json_object_get(vn, "current"), net))
		json_object_set_new(vn, "pending", json_null());
	else
		json_object_set(vn, "pending", net);
	changed = !json_equal(pending_before, json_object_get(vn, "pending"));
	json_decref(pending_before);
	if (changed) {
		json_object_set(doc, "vcm_network", vn);
		if (hsmd_commit(call, doc, "setnetwork", detail_of(net)) != 0) {
			json_decref(vn);
			json_decref(net);
			return HSMD_FAILED;
		}
	} else {
		json_decref(doc);
	}
	json_decref(net);
	hsmd_reply(call, json_pack("{s:o, s:b, s:b}", "vcm_network", vn, "changed", changed,
				   "reset_needed", json_is_object(json_object_get(vn, "pending"))));
	return HSMD_OK;
}
