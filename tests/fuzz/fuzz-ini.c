/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the hardened INI reader. */
#include <stdint.h>
#include <string.h>
#include <hsmadmin/ini-strict.h>

static int handler(void *user, const char *section, const char *name, const char *value, char *err,
		   size_t errlen)
{
	size_t *n = user;
	/* What reaches a handler must respect the limits the reader promises. */
	if (strlen(name) > HSM_INI_MAX_NAME || strlen(section) > HSM_INI_MAX_NAME ||
	    strlen(value) > HSM_INI_MAX_LINE)
		__builtin_trap();
	(*n)++;
	return 0;
}

/* Section names reach on_section within the same limit; refuse one so
 * the refusal path runs too. */
static int on_section(void *user, const char *section, char *err, size_t errlen)
{
	(void)user;
	if (strlen(section) > HSM_INI_MAX_NAME)
		__builtin_trap();
	if (strcmp(section, "bogus") == 0) {
		strncpy(err, "unknown section", errlen - 1);
		err[errlen - 1] = '\0';
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t n = 0;

	hsm_ini_parse_text((const char *)data, size, handler, &n, err, sizeof(err));
	hsm_ini_parse_sections((const char *)data, size, on_section, handler, &n, err, sizeof(err));
	return 0;
}
