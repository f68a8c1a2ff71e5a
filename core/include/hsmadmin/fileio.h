/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsmadmin/fileio.h - files written atomically, read with a bound, and JSON
 * parsed strictly.  Shared by the core, plugins and hsmd services so that
 * every piece of state on disk is crash-safe the same way.
 *
 * Every function returns 0 on success and -1 on failure with a one-line
 * reason in err (never NULL-terminated garbage: err is always a string).
 */
#ifndef HSMADMIN_FILEIO_H
#define HSMADMIN_FILEIO_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include <hsmadmin/plugin.h> /* HSM_API */

#ifdef __cplusplus
extern "C" {
#endif

/* Largest JSON document any hsmadmin parser accepts by default. */
#define HSM_JSON_MAX_BYTES (1024u * 1024u)
/* Deepest nesting any hsmadmin JSON parser accepts. */
#define HSM_JSON_MAX_DEPTH 32

/* --- atomic writes (atomic-file.c) --------------------------------------- */

/* Flags of hsm_write_file_ex. */
/* Never replace path: fail with errno EEXIST when it exists (a new key, a
 * world file: an existing one is never touched, and of two writers racing
 * one wins). */
#define HSM_WRITE_NOREPLACE 0x1u
/* Leave the fsync of the directory to the caller (several files written
 * into one directory, then one hsm_fsync_dir). */
#define HSM_WRITE_NODIRSYNC 0x2u

/* The one atomic write every piece of state goes through.  data goes to
 * a temporary file PATH.tmp.XXXXXX in path's directory, created with
 * O_EXCL and mode 0600, given the group gid (unless (gid_t)-1) and mode
 * before a byte is written (a secret is never readable by more than its
 * final mode allows, and never chmod'ed after it is written); then
 * write(2), fsync(2), rename(2) over path (with HSM_WRITE_NOREPLACE: only
 * where path does not exist), and an fsync of the directory.  A crash at
 * any point leaves the old content or the new one, never a mix.  The
 * temporary file is removed on every failure and held locked (flock) while
 * it exists, so that hsm_remove_stale_temps leaves a live writer's alone.
 * Returns 0 when done; -1 when path is unchanged, with the reason in err
 * and the cause in errno (EEXIST: HSM_WRITE_NOREPLACE and path exists);
 * 1 when path holds the new content but the directory fsync failed (err
 * says so: a power loss may still undo the change, a crash of the process
 * alone cannot). */
HSM_API int hsm_write_file_ex(const char *path, const void *data, size_t len, mode_t mode,
			      gid_t gid, unsigned flags, char *err, size_t errlen);

/* hsm_write_file_ex without group or flags, -1 also when the directory
 * fsync failed.  mode is applied to the new file (0600 for secrets). */
HSM_API int hsm_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
				  char *err, size_t errlen);

/* Serialise a JSON value (sorted keys, indented) and write it atomically. */
HSM_API int hsm_write_json_atomic(const char *path, const json_t *doc, mode_t mode, char *err,
				  size_t errlen);

/* The same write a piece at a time, for a file too large to hold in
 * memory or made as it is read (a package, a log segment as it arrives):
 *   f = hsm_atomic_file_open(path, 0644, (gid_t)-1, 0, err, n);
 *   hsm_atomic_file_write(f, piece, len, err, n);   ... as often as needed
 *   rc = hsm_atomic_file_commit(f, NULL, err, n);   (or hsm_atomic_file_abort)
 * hsm_write_file_ex is open, one write and commit.  open makes the locked
 * temporary file PATH.tmp.XXXXXX with its group and mode (before any byte,
 * as above); NULL with the reason and errno.  Until commit or abort, a
 * killed process leaves only that temporary file, which
 * hsm_remove_stale_temps removes once nobody holds it. */
struct hsm_atomic_file;
HSM_API struct hsm_atomic_file *hsm_atomic_file_open(const char *path, mode_t mode, gid_t gid,
						     unsigned flags, char *err, size_t errlen);
/* Append len bytes (all of them: a short write continues, EINTR is
 * retried).  0, or -1 with the reason: the file can then only be
 * aborted (a commit refuses it). */
HSM_API int hsm_atomic_file_write(struct hsm_atomic_file *f, const void *data, size_t len,
				  char *err, size_t errlen);
/* The temporary file's path, to read back what was written before the
 * commit. */
HSM_API const char *hsm_atomic_file_temp(const struct hsm_atomic_file *f);
/* fsync, rename to the path given to open (or, when path is not NULL, to
 * path: the name may be known only once the content is, and must be in
 * the same directory, spelt the same), fsync of the directory; the flags
 * of open apply.  Frees f.  Returns as hsm_write_file_ex: 0; -1 with the
 * target unchanged and the temporary file removed (EEXIST: never-replace
 * and the target exists); 1 when only the directory fsync failed. */
HSM_API int hsm_atomic_file_commit(struct hsm_atomic_file *f, const char *path, char *err,
				   size_t errlen);
/* Remove the temporary file and free f (NULL is fine): nothing is
 * written. */
HSM_API void hsm_atomic_file_abort(struct hsm_atomic_file *f);

/* Remove the temporary files (NAME.tmp.XXXXXX, regular files) that a
 * writer killed mid-write left in dir: those of the target name, or of
 * any name when name is NULL.  One a live writer still holds is kept, so
 * this is safe while other processes write.  Every writer calls it when
 * it starts (the files may hold secrets).  Returns how many went. */
HSM_API int hsm_remove_stale_temps(const char *dir, const char *name);
/* The same for the temporary files of one target path. */
HSM_API int hsm_remove_stale_temps_of(const char *path);

/* --- reads and the pieces of a write (fileio.c) ---------------------------- */

/* Read a whole regular file of at most max bytes into a NUL-terminated
 * malloc'ed buffer (*len excludes the NUL).  Larger files, directories and
 * devices are refused. */
HSM_API int hsm_read_file(const char *path, size_t max, char **data, size_t *len, char *err,
			  size_t errlen);
/* The same, refusing a symbolic link (an input file whose rule is "the
 * file itself", e.g. a tenant request). */
HSM_API int hsm_read_file_nofollow(const char *path, size_t max, char **data, size_t *len,
				   char *err, size_t errlen);
/* The same from an open descriptor (closed in all cases); path names it
 * in messages. */
HSM_API int hsm_read_fd(int fd, const char *path, size_t max, char **data, size_t *len, char *err,
			size_t errlen);

/* Parse untrusted JSON: at most max bytes (0: HSM_JSON_MAX_BYTES), valid
 * UTF-8, no duplicate keys, nesting at most HSM_JSON_MAX_DEPTH, nothing
 * after the document.  Returns a new reference or NULL with a reason. */
HSM_API json_t *hsm_json_parse(const char *buf, size_t len, size_t max, char *err, size_t errlen);

/* hsm_read_file + hsm_json_parse. */
HSM_API json_t *hsm_json_load_file(const char *path, size_t max, char *err, size_t errlen);

/* Create a directory and its missing parents with mode for the ones it
 * creates.  An existing directory is fine. */
HSM_API int hsm_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);

/* The directory part of path into dir: "." when path has no '/', "/" for
 * a file in the root.  -1 when it does not fit in len. */
HSM_API int hsm_path_dir(const char *path, char *dir, size_t len);

/* write(2) all len bytes of data to fd, again after EINTR.  0, or -1 with
 * errno set (EIO when the system wrote nothing). */
HSM_API int hsm_write_all(int fd, const void *data, size_t len);

/* fsync a directory so that a rename or unlink in it is durable. */
HSM_API int hsm_fsync_dir(const char *dir, char *err, size_t errlen);

/* --- time (time-format.c) ------------------------------------------------ */

/* Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (the number itself when out of
 * range); returns buf. */
#define HSM_TIME_ISO_LEN 32
HSM_API const char *hsm_time_iso(int64_t t, char buf[HSM_TIME_ISO_LEN]);

/* --- hex digits (hex-digit.c) ------------------------------------------ */

/* The value of the hex digit c (0-9, a-f, A-F), or -1 for any other
 * character. */
HSM_API int hsm_hex_digit(char c);

/* --- checking untrusted JSON objects (json-fields.c) ------------------ */

/* snprintf into err (when err is not NULL) and return -1. */
HSM_API int hsm_set_err(char *err, size_t errlen, const char *fmt, ...) HSM_PRINTF(3, 4);

/* A printable, bounded copy of untrusted text for messages: control and
 * non-ASCII bytes become '?', more than 40 characters end in "...". */
#define HSM_PRINTABLE_LEN 48
HSM_API const char *hsm_printable(const char *s, char buf[HSM_PRINTABLE_LEN]);
/* The same for text shown whole (a device's answer): control and
 * non-ASCII bytes become '?', at most len - 1 bytes, NULL gives "". */
HSM_API const char *hsm_printable_copy(const char *s, char *buf, size_t len);

/* json_unpack_ex of doc with flags, fmt and its arguments, but on failure
 * err gets a reason that names the field instead of jansson's own text:
 * "missing field 'esn'", "field 'clock.offset': expected integer, got
 * string", "unknown field 'bogus'".  0 or -1. */
HSM_API int hsm_json_unpack(const json_t *doc, size_t flags, char *err, size_t errlen,
			    const char *fmt, ...);
/* The same with a va_list, for wrappers of their own. */
HSM_API int hsm_json_vunpack(const json_t *doc, size_t flags, char *err, size_t errlen,
			     const char *fmt, va_list ap);

/* "an object", "a string", ... ("nothing" for NULL). */
HSM_API const char *hsm_json_type_name(const json_t *v);

/* The member key of obj when it has the given type (JSON_TRUE means any
 * boolean).  NULL when absent and not required, or, with *bad set and a
 * reason naming where+key, when required and absent or of another type.
 * Once *bad is set further calls return NULL at once, so a parser can
 * fetch all members and check *bad once. */
HSM_API json_t *hsm_json_member(const json_t *obj, const char *where, const char *key,
				json_type type, int required, int *bad, char *err, size_t errlen);

/* -1 with "unknown field 'where+key'" when obj has a key not in allowed
 * (a NULL-terminated list). */
HSM_API int hsm_json_only_keys(const json_t *obj, const char *where, const char *const *allowed,
			       char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
