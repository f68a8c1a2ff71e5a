/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-pins.c - a host-key pins file ($HSMADMIN_HOME/pins/<ESN>.json,
 * core/net/hostkeys.c) as `hsmadmin` reads it: the input is written as
 * the pins of one ESN in a private temporary home and loaded.
 *
 * Invariants: a refusal (-1) names its reason on one line; loaded pins
 * hold the ESN asked for, only well-formed keys and a recovery flag of 0
 * or 1, and saving them and loading them again gives the same pins (the
 * recovery flag included: it decides whether uncertified log keys are
 * accepted).
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostkeys.h"

#define ESN "1A23-BC45-6789"

static char home[64], again[96], path[128];

static void cleanup(void)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/pins/" ESN ".json", again);
	unlink(p);
	snprintf(p, sizeof(p), "%s/pins", again);
	rmdir(p);
	rmdir(again);
	unlink(path);
	snprintf(p, sizeof(p), "%s/pins", home);
	rmdir(p);
	rmdir(home);
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsm_pins pins, back;
	char err[768];
	int fd, rc;

	if (!home[0]) {
		char dir[160];
		snprintf(home, sizeof(home), "/tmp/fuzz-pins.XXXXXX");
		if (!mkdtemp(home))
			abort();
		snprintf(dir, sizeof(dir), "%s/pins", home);
		snprintf(again, sizeof(again), "%s/again", home);
		snprintf(path, sizeof(path), "%s/" ESN ".json", dir);
		if (mkdir(dir, 0700) != 0 || mkdir(again, 0700) != 0)
			abort();
		atexit(cleanup);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
		abort();

	err[0] = '\0';
	rc = hsm_pins_load(home, ESN, &pins, err, sizeof(err));
	if (rc == 1)
		__builtin_trap(); /* the file is there */
	if (rc != 0) {
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap();
		return 0;
	}
	if (strcmp(pins.esn, ESN) != 0 || !hsm_ssh_pubkey_valid(pins.identity_key) ||
	    (pins.recovery != 0 && pins.recovery != 1))
		__builtin_trap();
	for (int i = 0; i < HSM_SVC_COUNT; i++)
		if (pins.host_keys[i] && !hsm_ssh_pubkey_valid(pins.host_keys[i]))
			__builtin_trap();
	if (hsm_pins_save(again, &pins, err, sizeof(err)) != 0 ||
	    hsm_pins_load(again, ESN, &back, err, sizeof(err)) != 0)
		__builtin_trap();
	if (strcmp(back.esn, pins.esn) != 0 || !same(back.identity_key, pins.identity_key) ||
	    back.pinned != pins.pinned || back.recovery != pins.recovery)
		__builtin_trap();
	for (int i = 0; i < HSM_SVC_COUNT; i++)
		if (!same(back.host_keys[i], pins.host_keys[i]))
			__builtin_trap();
	hsm_pins_clear(&back);
	hsm_pins_clear(&pins);
	return 0;
}
