/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmadmin/ini-strict.h - inih with the traps closed (see docs/pitfalls.md):
 * Debian's inih r55 splits lines of 200 bytes or more, cuts names at 49
 * characters and treats indented lines as continuations.  We read the file
 * ourselves, refuse all of those, and only then hand it to inih.
 *
 * Part of libhsmadmin's installed interface: the core's registry, hsmd
 * and any plugin that reads an INI file use the same strict reader.
 */
#ifndef HSMADMIN_INI_STRICT_H
#define HSMADMIN_INI_STRICT_H

#include <stddef.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#ifdef __cplusplus
extern "C" {
#endif

#define HSM_INI_MAX_LINE 198 /* bytes, without the newline */
#define HSM_INI_MAX_NAME 48  /* section and key names */
#define HSM_INI_MAX_FILE 65536

/* Called for each name=value.  Return 0 to accept, or -1 with a reason in
 * err (e.g. "unknown key 'x'"); parsing stops at the first refusal. */
typedef int (*hsm_ini_handler)(void *user, const char *section, const char *name, const char *value,
			       char *err, size_t errlen);

/* Parse text.  On failure err reads "line N: reason". */
HSM_API int hsm_ini_parse_text(const char *text, size_t len, hsm_ini_handler handler, void *user,
			       char *err, size_t errlen);

/* Called for every section header, with its name, once the keys were
 * accepted: return 0 to accept it, or -1 with a reason in err.  A section
 * without keys reaches no hsm_ini_handler, so a parser that refuses
 * unknown sections needs this to refuse an empty one too. */
typedef int (*hsm_ini_section_handler)(void *user, const char *section, char *err, size_t errlen);

/* hsm_ini_parse_text, and then each section header to on_section (when
 * not NULL).  On failure err reads "line N: reason". */
HSM_API int hsm_ini_parse_sections(const char *text, size_t len, hsm_ini_section_handler on_section,
				   hsm_ini_handler handler, void *user, char *err, size_t errlen);

/* Read (at most HSM_INI_MAX_FILE bytes) and parse a file.  On failure err
 * reads "PATH:N: reason" or "PATH: reason". */
HSM_API int hsm_ini_parse_file(const char *path, hsm_ini_handler handler, void *user, char *err,
			       size_t errlen);
/* The same with on_section as for hsm_ini_parse_sections. */
HSM_API int hsm_ini_parse_file_sections(const char *path, hsm_ini_section_handler on_section,
					hsm_ini_handler handler, void *user, char *err,
					size_t errlen);

/* Helpers for handlers. */
HSM_API int hsm_ini_bool(const char *value, int *out); /* yes/no/true/false/1/0 */

#ifdef __cplusplus
}
#endif

#endif
