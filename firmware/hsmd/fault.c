/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault.c - an emulated hardware fault of the whole HSM (`hsmd fail`,
 * docs/man/hsmd.8): the module inside the appliance has failed while the
 * appliance still answers on the network, as in the field report of a
 * failed HSM.  The fault is a control file, STATE/hardware-fault.json, so
 * that it can be set on an HSM that is running (the store's lock is held
 * by the running hsmd).  A copy goes into each VCM's state directory, the
 * only place a VCM process (which may run as a user of its own) reads.
 *
 * While it exists every method of every service, platform and VCM, fails,
 * except the two that report on the module (setup `status` and ncoreapi
 * `enquiry`), whose replies then say so: "hardware_failed": true.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <hsmadmin/fileio.h>
#include "fault.h"

#define FAULT_FILE "hardware-fault.json"

int hd_fault_get(const char *store_dir, char *reason, size_t len)
{
	char path[4300], err[256];
	struct stat st;
	json_t *doc;
	const char *r;

	snprintf(path, sizeof(path), "%s/%s", store_dir, FAULT_FILE);
	if (stat(path, &st) != 0)
		return 0;
	doc = hsm_json_load_file(path, 4096, err, sizeof(err));
	r = json_string_value(json_object_get(doc, "reason"));
	snprintf(reason, len, "%s", r ? r : "hardware fault");
	json_decref(doc);
	return 1;
}

int hd_fault_set(const char *state_dir, const char *reason, char *err, size_t errlen)
{
	char path[4600], vcms[4200];
	json_t *doc = json_pack("{s:s, s:I}", "reason", reason, "time", (json_int_t)time(NULL));
	struct dirent *e;
	DIR *d;
	int rc;

	if (!doc)
		return hsm_set_err(err, errlen, "out of memory");
	/* The VCMs first, the HSM last: once the HSM says failed, so do all. */
	snprintf(vcms, sizeof(vcms), "%s/vcms", state_dir);
	rc = 0;
	if ((d = opendir(vcms))) {
		while (rc == 0 && (e = readdir(d))) {
			struct stat st;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", vcms, e->d_name);
			if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", vcms, e->d_name, FAULT_FILE);
			rc = hsm_write_json_atomic(path, doc, 0644, err, errlen);
		}
		closedir(d);
	}
	snprintf(path, sizeof(path), "%s/%s", state_dir, FAULT_FILE);
	if (rc == 0)
		rc = hsm_write_json_atomic(path, doc, 0644, err, errlen);
	json_decref(doc);
	return rc;
}

int hd_fault_exempt(const char *service, const char *method)
{
	return (!strcmp(service, "setup") && !strcmp(method, "status")) ||
	       (!strcmp(service, "ncoreapi") && !strcmp(method, "enquiry"));
}
