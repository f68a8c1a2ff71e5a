/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/crypto/keyprot.c - client private keys encrypted at rest under a key
 * derived from the protection options K F S B G P (guide 4.8).
 *
 * The inputs are high-entropy machine and installation secrets, so one
 * HKDF-SHA256 over them is enough and costs microseconds; scrypt runs only
 * when a person's passphrase (P) is among them (docs/pitfalls.md).
 * The file format is docs/formats/keys.md; keep the two in step.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <hsmadmin/fileio.h>
#include "keyprot.h"
#include "tty-prompt.h"

/* --- the format (docs/formats/keys.md) --------------------------------- */
#define KP_MAGIC "HSMKEY"
#define KP_MAGIC_LEN 6
#define KP_VERSION 1
#define KP_HDR_LEN 64
#define KP_OPTS_OFF 8
#define KP_OPTS_LEN 6
#define KP_KDF_OFF 14
#define KP_SALT_OFF 18
#define KP_SALT_LEN 32
#define KP_IV_OFF 50
#define KP_IV_LEN 12
#define KP_CTLEN_OFF 62
#define KP_TAG_LEN 16
#define KP_CT_MAX 4096
#define KP_FILE_MAX (KP_HDR_LEN + KP_CT_MAX + KP_TAG_LEN)

#define KDF_HKDF 0
#define KDF_SCRYPT_HKDF 1
/* What this version writes, and the bounds it reads: scrypt uses
 * 128 * r * N bytes, kept under SCRYPT_MAXMEM so a hostile header cannot
 * make a load eat memory before its tag is checked. */
#define SCRYPT_LOG2N 15
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_LOG2N_MIN 14
#define SCRYPT_LOG2N_MAX 20
#define SCRYPT_P_MAX 4
#define SCRYPT_MAXMEM (65u * 1024u * 1024u)

#define KP_KEY_LEN 32
#define INPUT_MAX 256 /* longest machine ID we use */
#define PASS_MAX 1024
#define GNONCE_LEN 32

static const char ikm_label[] = "hsmadmin-keyprot-v1";
static const char hkdf_info[] = "hsmadmin keyprot v1 AES-256-GCM key";

/* F: the fixed nonce every copy of this software shares.  It only makes a
 * key file useless to tools that do not know it; the other options carry
 * the secrecy.  Changing it makes every F-protected key unreadable. */
static const uint8_t fixed_nonce[32] = {
	0xa7, 0x90, 0x6b, 0x73, 0x36, 0x1f, 0x16, 0xc1, 0x4c, 0xbd, 0x88,
	0xd3, 0xe2, 0x0b, 0xaa, 0x3e, 0x61, 0xd7, 0x0d, 0x67, 0xf6, 0x5a,
	0xc4, 0xe2, 0xf9, 0xf5, 0xd0, 0x88, 0x79, 0x70, 0x37, 0x1c,
};

static const char *const opt_names[6] = {
	"K (per-key nonce)",    "F (fixed nonce)",  "S (system UUID)",
	"B (baseboard serial)", "G (global nonce)", "P (user passphrase)",
};

struct kp_header {
	unsigned opts;
	uint8_t kdf, log2n, r, p;
	uint8_t salt[KP_SALT_LEN];
	uint8_t iv[KP_IV_LEN];
	size_t ctlen;
};

static const struct hsm_keyprot_ctx no_ctx;

/* Outside text (environment values) in an error: one line or nothing. */
static const char *shown(const char *s)
{
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return "(unprintable)";
	return s;
}

/* --- algorithms, fetched once (implicit fetches are slow in 3.0) -------- */
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *alg_gcm;
static EVP_KDF *alg_scrypt, *alg_hkdf;

static void algs_fetch(void)
{
	alg_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	alg_scrypt = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_SCRYPT, NULL);
	alg_hkdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
}

static int algs(char *err, size_t errlen)
{
	pthread_once(&algs_once, algs_fetch);
	if (!alg_gcm || !alg_scrypt || !alg_hkdf)
		return hsm_set_err(err, errlen, "OpenSSL lacks %s",
				   !alg_gcm      ? "AES-256-GCM"
				   : !alg_scrypt ? "scrypt"
						 : "HKDF");
	return 0;
}

/* --- option strings ------------------------------------------------------ */
HSM_API int hsm_keyprot_parse(const char *text, unsigned *opts, char *err, size_t errlen)
{
	unsigned set = 0;

	if (!text || !*text)
		return hsm_set_err(err, errlen, "empty protection options (use letters from %s)",
				   HSM_KEYPROT_LETTERS);
	for (const char *c = text; *c; c++) {
		const char *at = strchr(HSM_KEYPROT_LETTERS, *c);
		unsigned bit;

		if (!at) {
			if ((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f)
				return hsm_set_err(err, errlen,
						   "unknown protection option '%c' (use upper-case "
						   "letters from %s)",
						   *c, HSM_KEYPROT_LETTERS);
			return hsm_set_err(err, errlen,
					   "unknown protection option byte 0x%02x (use upper-case "
					   "letters from %s)",
					   (unsigned char)*c, HSM_KEYPROT_LETTERS);
		}
		bit = 1u << (at - HSM_KEYPROT_LETTERS);
		if (set & bit)
			return hsm_set_err(err, errlen, "protection option '%c' given twice", *c);
		set |= bit;
	}
	*opts = set;
	return 0;
}

HSM_API void hsm_keyprot_format(unsigned opts, char buf[HSM_KEYPROT_STRLEN])
{
	size_t n = 0;

	for (unsigned i = 0; i < 6; i++)
		if (opts & (1u << i))
			buf[n++] = HSM_KEYPROT_LETTERS[i];
	buf[n] = '\0';
}

/* --- per-service defaults (guide 4.8.3, 4.8.4) --------------------------- */
static const struct {
	const char *name;
	unsigned opts;
	const char *group;
} services[] = {
	{ "sshadmin", HSM_KEYPROT_K | HSM_KEYPROT_F | HSM_KEYPROT_S | HSM_KEYPROT_G, "root" },
	{ "ncoreapi", HSM_KEYPROT_K | HSM_KEYPROT_F | HSM_KEYPROT_S | HSM_KEYPROT_G, "root" },
	{ "setup", HSM_KEYPROT_K | HSM_KEYPROT_F | HSM_KEYPROT_S | HSM_KEYPROT_G, "root" },
	{ "updater", HSM_KEYPROT_K | HSM_KEYPROT_F, "nfastadmin" },
	{ "monitor", HSM_KEYPROT_K | HSM_KEYPROT_F, "nfastadmin" },
	{ "launcher", HSM_KEYPROT_K | HSM_KEYPROT_F, "nfastadmin" },
	{ "orchestrator", HSM_KEYPROT_K | HSM_KEYPROT_F, "nfastadmin" },
	{ "tenantreq", HSM_KEYPROT_K | HSM_KEYPROT_F | HSM_KEYPROT_S | HSM_KEYPROT_G, "root" },
};

static int service_index(const char *service, char *err, size_t errlen)
{
	for (size_t i = 0; service && i < sizeof(services) / sizeof(services[0]); i++)
		if (strcmp(service, services[i].name) == 0)
			return (int)i;
	for (const char *c = service; c && *c; c++)
		if (*c < 'a' || *c > 'z')
			return hsm_set_err(err, errlen, "unknown service (not a lower-case name)");
	return hsm_set_err(err, errlen, "unknown service \"%.32s\" (no key protection defaults)",
			   service ? service : "");
}

/* NFAST_<SERVICE>_<what>, from a name of the table (lower-case ASCII). */
static void service_var(char *buf, size_t len, const char *service, const char *what)
{
	size_t n = (size_t)snprintf(buf, len, "NFAST_");

	for (const char *c = service; *c && n + 1 < len; c++)
		buf[n++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
	buf[n] = '\0';
	snprintf(buf + n, len - n, "_%s", what);
}

HSM_API int hsm_keyprot_for_service(const char *service, unsigned *opts, char *err, size_t errlen)
{
	char var[64], why[160];
	const char *v;
	int i = service_index(service, err, errlen);

	if (i < 0)
		return -1;
	service_var(var, sizeof(var), service, "KEYPROT");
	v = secure_getenv(var);
	if (!v || !*v) {
		snprintf(var, sizeof(var), "NFAST_KEYPROT");
		v = secure_getenv(var);
	}
	if (!v || !*v) {
		*opts = services[i].opts;
		return 0;
	}
	if (hsm_keyprot_parse(v, opts, why, sizeof(why)) != 0)
		return hsm_set_err(err, errlen, "%s: %s", var, why);
	return 0;
}

/* A group by name or number: 0 and *gid, or -1 when it does not exist. */
static int group_lookup(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[4096];
	char *end;
	unsigned long n;

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) == 0 && res) {
		*gid = res->gr_gid;
		return 0;
	}
	errno = 0;
	n = strtoul(name, &end, 10);
	if (*name >= '0' && *name <= '9' && !*end && !errno && n < (unsigned long)(gid_t)-1) {
		*gid = (gid_t)n;
		return 0;
	}
	return -1;
}

/* A name groupadd would take: [a-z_][a-z0-9_-]{0,31}. */
static int group_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 32 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return 0;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '-'))
			return 0;
	return 1;
}

/* Create a system group the way the vendor's installer does when
 * NFAST_<SERVICE>_GROUP names one that does not exist (guide 4.8.4): with
 * groupadd, found at its fixed path, never through PATH. */
static int group_create(const char *name, char *err, size_t errlen)
{
	static const char *const tools[] = { "/usr/sbin/groupadd", "/sbin/groupadd", NULL };
	const char *tool = NULL;
	gid_t gid;
	pid_t pid;
	int status;

	if (!group_name_valid(name))
		return hsm_set_err(err, errlen,
				   "group \"%.64s\" does not exist, and it is not a name a "
				   "group can be created with ([a-z_][a-z0-9_-], at most 32)",
				   shown(name));
	if (geteuid() != 0)
		return hsm_set_err(err, errlen,
				   "group \"%.64s\" does not exist, and only root can create it",
				   shown(name));
	for (size_t i = 0; tools[i] && !tool; i++)
		if (access(tools[i], X_OK) == 0)
			tool = tools[i];
	if (!tool)
		return hsm_set_err(err, errlen,
				   "group \"%.64s\" does not exist and groupadd was not found",
				   shown(name));
	pid = fork();
	if (pid < 0)
		return hsm_set_err(err, errlen, "cannot create group %.64s: %s", shown(name),
				   strerror(errno));
	if (pid == 0) {
		char *const argv[] = { (char *)"groupadd", (char *)"--system", (char *)"--",
				       (char *)name, NULL };
		char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		execve(tool, argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hsm_set_err(err, errlen, "cannot create group %.64s: %s",
					   shown(name), strerror(errno));
	if (group_lookup(name, &gid) != 0)
		return hsm_set_err(
		    err, errlen, "cannot create group %.64s: groupadd exited with %d", shown(name),
		    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

HSM_API int hsm_keyprot_group_for_service(const char *service, char *buf, size_t len, char *err,
					  size_t errlen)
{
	char var[64], why[200];
	const char *v, *group;
	gid_t gid;
	int i = service_index(service, err, errlen), from_default = 0;

	if (i < 0)
		return -1;
	service_var(var, sizeof(var), service, "GROUP");
	v = secure_getenv(var);
	if (v) {
		/* The installer creates a group that does not exist (guide 4.8.4). */
		if (*v && group_lookup(v, &gid) != 0 && group_create(v, why, sizeof(why)) != 0)
			return hsm_set_err(err, errlen, "%s: %s", var, why);
		group = v;
	} else if (geteuid() == 0 && group_lookup(services[i].group, &gid) == 0) {
		/* The guide's defaults describe an installed system run by
		 * root; an unprivileged user's own home gets owner-only files. */
		group = services[i].group;
	} else {
		group = "";
	}
	from_default = !v;
	if (strlen(group) >= len)
		return hsm_set_err(err, errlen, "%s: group name too long", var);
	memcpy(buf, group, strlen(group) + 1);
	return from_default;
}

/* --- the inputs ---------------------------------------------------------- */
struct inputs {
	size_t len[6];
	uint8_t val[6][INPUT_MAX];
};

static void inputs_wipe(struct inputs *in)
{
	OPENSSL_cleanse(in, sizeof(*in));
}

static const char *env_or(const char *given, const char *var, const char *fallback)
{
	const char *v;

	if (given && *given)
		return given;
	v = secure_getenv(var);
	return v && *v ? v : fallback;
}

/* Read a small file through fd checks; -1 with errno set, or -2 when it
 * is larger than max. */
static int read_small(const char *path, int nofollow, uint8_t *buf, size_t max, size_t *len,
		      struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
	size_t got = 0;

	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		uint8_t extra;
		ssize_t n = got < max ? read(fd, buf + got, max - got) : read(fd, &extra, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		if (got >= max) {
			close(fd);
			return -2;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return 0;
}

/* Values firmware ships when nobody set the field: not an identity. */
static int placeholder(const char *v)
{
	static const char *const known[] = {
		"none",
		"not specified",
		"not applicable",
		"default string",
		"to be filled by o.e.m.",
		"system serial number",
		"base board serial number",
		"0123456789",
		"n/a",
		"unknown",
	};
	const char *c;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(v, known[i]) == 0)
			return 1;
	for (c = v; *c == '0' || *c == '-' || *c == ' '; c++)
		;
	if (!*c)
		return 1;
	for (c = v; *c == 'f' || *c == 'F' || *c == '-'; c++)
		;
	return !*c;
}

/* S and B: an identifier the firmware exposes, trimmed of white space. */
static int machine_id(int bit, const char *path, uint8_t *out, size_t *outlen, char *err,
		      size_t errlen)
{
	char text[INPUT_MAX + 1];
	size_t len = 0, start = 0;
	struct stat st;
	int rc = read_small(path, 0, (uint8_t *)text, INPUT_MAX, &len, &st);

	if (rc == -2)
		return hsm_set_err(err, errlen, "protection option %s: %s is longer than %d bytes",
				   opt_names[bit], path, INPUT_MAX);
	if (rc < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return hsm_set_err(err, errlen,
					   "protection option %s is not available on this machine "
					   "(%s does not exist)",
					   opt_names[bit], path);
		if (errno == EACCES || errno == EPERM)
			return hsm_set_err(err, errlen, "protection option %s needs root: %s: %s",
					   opt_names[bit], path, strerror(errno));
		return hsm_set_err(err, errlen, "protection option %s: %s: %s", opt_names[bit],
				   path, errno == EINVAL ? "not a regular file" : strerror(errno));
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\t' ||
			   text[len - 1] == '\r'))
		len--;
	while (start < len && (text[start] == ' ' || text[start] == '\t'))
		start++;
	text[len] = '\0';
	for (size_t i = start; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] > 0x7e)
			return hsm_set_err(err, errlen,
					   "protection option %s: %s holds non-printable bytes",
					   opt_names[bit], path);
	if (start == len || placeholder(text + start))
		return hsm_set_err(err, errlen,
				   "protection option %s is not available on this machine (%s "
				   "holds no identifier)",
				   opt_names[bit], path);
	*outlen = len - start;
	memcpy(out, text + start, *outlen);
	OPENSSL_cleanse(text, sizeof(text));
	return 0;
}

static int gnonce_path(const struct hsm_keyprot_ctx *ctx, char *buf, size_t len)
{
	const char *p = env_or(ctx->global_nonce_file, "HSMADMIN_GLOBAL_NONCE_FILE", NULL);
	const char *home;

	if (p)
		return snprintf(buf, len, "%s", p) >= (int)len ? -1 : 0;
	home = env_or(ctx->home, "HSMADMIN_HOME", HSMADMIN_DEFAULT_HOME);
	return snprintf(buf, len, "%s%skeys/global.nonce", home,
			*home && home[strlen(home) - 1] == '/' ? "" : "/") >= (int)len
		   ? -1
		   : 0;
}

/* A new global nonce, published as a new file (never replacing one) so
 * that two processes racing to create it agree on one and nobody ever
 * reads a half-written file. */
static int gnonce_create(const char *path, char *err, size_t errlen)
{
	char dir[4096], why[256];
	uint8_t nonce[GNONCE_LEN];
	int rc;

	if (hsm_path_dir(path, dir, sizeof(dir)) != 0)
		return hsm_set_err(err, errlen, "protection option %s: %s: path too long",
				   opt_names[4], path);
	if (hsm_mkdir_p(dir, 0700, why, sizeof(why)) != 0)
		return hsm_set_err(err, errlen, "protection option %s: %s", opt_names[4], why);
	if (RAND_priv_bytes(nonce, sizeof(nonce)) != 1)
		return hsm_set_err(err, errlen, "protection option %s: no random bytes",
				   opt_names[4]);
	hsm_remove_stale_temps_of(path);
	rc = hsm_write_file_ex(path, nonce, sizeof(nonce), 0600, (gid_t)-1, HSM_WRITE_NOREPLACE,
			       why, sizeof(why));
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (rc < 0 && errno == EEXIST) /* another won: its nonce stands */
		return 0;
	if (rc != 0)
		return hsm_set_err(err, errlen, "protection option %s: %s", opt_names[4], why);
	return 0;
}

/* G: mode is 'l' (load: must exist), 's' (save: create if missing) or
 * 'c' (check: missing is fine, it will be created). */
static int gnonce(const struct hsm_keyprot_ctx *ctx, int mode, uint8_t *out, size_t *outlen,
		  char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	size_t len = 0;
	int rc;

	if (gnonce_path(ctx, path, sizeof(path)) != 0)
		return hsm_set_err(err, errlen, "protection option %s: path too long",
				   opt_names[4]);
	rc = read_small(path, 1, out, GNONCE_LEN, &len, &st);
	if (rc == -1 && errno == ENOENT && mode != 'l') {
		if (mode == 'c')
			return 0;
		if (gnonce_create(path, err, errlen) != 0)
			return -1;
		rc = read_small(path, 1, out, GNONCE_LEN, &len, &st);
	}
	if (rc == -1 && errno == ENOENT)
		return hsm_set_err(err, errlen,
				   "protection option %s: %s does not exist (was the key protected "
				   "under another installation?)",
				   opt_names[4], path);
	if (rc == -1 && (errno == EACCES || errno == EPERM))
		return hsm_set_err(err, errlen,
				   "protection option %s needs its owner (root): %s: %s",
				   opt_names[4], path, strerror(errno));
	if (rc == -1)
		return hsm_set_err(err, errlen, "protection option %s: %s: %s", opt_names[4], path,
				   errno == EINVAL  ? "not a regular file"
				   : errno == ELOOP ? "a symbolic link"
						    : strerror(errno));
	if (rc == -2 || len != GNONCE_LEN)
		return hsm_set_err(err, errlen, "protection option %s: %s is not %d bytes long",
				   opt_names[4], path, GNONCE_LEN);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return hsm_set_err(
		    err, errlen,
		    "protection option %s: %s is owned by uid %u, not by this user or root",
		    opt_names[4], path, (unsigned)st.st_uid);
	if (st.st_mode & 077)
		return hsm_set_err(err, errlen,
				   "protection option %s: %s has mode %04o: group and others must "
				   "have no access (chmod 600)",
				   opt_names[4], path, (unsigned)(st.st_mode & 07777));
	*outlen = len;
	return 0;
}

/* P: one line from the terminal without echo (hsm_tty_prompt_hidden
 * restores the terminal when a signal ends the command at the prompt). */
static int prompt_line(int fd, const char *prompt, char *buf, size_t max, char *err, size_t errlen)
{
	if (hsm_tty_prompt_hidden(fd, prompt, buf, max) < 0)
		return hsm_set_err(err, errlen,
				   "protection option %s: cannot read a passphrase of at most %zu "
				   "bytes from the terminal",
				   opt_names[5], max - 1);
	return 0;
}

static int passphrase(const struct hsm_keyprot_ctx *ctx, int confirm, char *buf, size_t max,
		      char *err, size_t errlen)
{
	const char *v = ctx->passphrase;
	const char *what = ctx->what && *ctx->what ? ctx->what : "key";
	char prompt[256], again[PASS_MAX];
	int fd, rc;

	if (!v)
		v = secure_getenv("NFAST_KEYPROT_PASS");
	if (v) {
		if (!*v)
			return hsm_set_err(
			    err, errlen, "protection option %s: the passphrase is empty%s",
			    opt_names[5], ctx->passphrase ? "" : " (NFAST_KEYPROT_PASS)");
		if (strlen(v) >= max)
			return hsm_set_err(err, errlen,
					   "protection option %s: passphrase longer than %d bytes",
					   opt_names[5], PASS_MAX - 1);
		memcpy(buf, v, strlen(v) + 1);
		return 0;
	}
	if (ctx->no_prompt)
		return hsm_set_err(err, errlen,
				   "protection option %s: no passphrase: set NFAST_KEYPROT_PASS "
				   "(prompting is disabled here)",
				   opt_names[5]);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return hsm_set_err(err, errlen,
				   "protection option %s: no passphrase: set NFAST_KEYPROT_PASS or "
				   "run on a terminal",
				   opt_names[5]);
	snprintf(prompt, sizeof(prompt), "Passphrase for %.200s: ", what);
	rc = prompt_line(fd, prompt, buf, max, err, errlen);
	if (rc == 0 && !*buf)
		rc = hsm_set_err(err, errlen, "protection option %s: the passphrase is empty",
				 opt_names[5]);
	if (rc == 0 && confirm) {
		snprintf(prompt, sizeof(prompt), "Passphrase for %.200s (again): ", what);
		rc = prompt_line(fd, prompt, again, sizeof(again), err, errlen);
		if (rc == 0 && strcmp(buf, again) != 0)
			rc = hsm_set_err(err, errlen,
					 "protection option %s: the passphrases do not match",
					 opt_names[5]);
		OPENSSL_cleanse(again, sizeof(again));
	}
	close(fd);
	if (rc != 0)
		OPENSSL_cleanse(buf, max);
	return rc;
}

static int scrypt(const char *pass, const struct kp_header *h, uint8_t out[KP_KEY_LEN], char *err,
		  size_t errlen)
{
	uint64_t n = (uint64_t)1 << h->log2n, maxmem = SCRYPT_MAXMEM;
	uint32_t r = h->r, p = h->p;
	OSSL_PARAM params[] = {
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_PASSWORD, (char *)pass, strlen(pass)),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SALT, (void *)h->salt, KP_SALT_LEN),
		OSSL_PARAM_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
		OSSL_PARAM_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
		OSSL_PARAM_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
		OSSL_PARAM_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
		OSSL_PARAM_END,
	};
	EVP_KDF_CTX *k = EVP_KDF_CTX_new(alg_scrypt);
	int ok = k && EVP_KDF_derive(k, out, KP_KEY_LEN, params) == 1;

	EVP_KDF_CTX_free(k);
	return ok ? 0
		  : hsm_set_err(err, errlen, "protection option %s: scrypt failed", opt_names[5]);
}

/* Collect the value of every option in h->opts.  mode: 'l' load, 's' save,
 * 'c' check (no passphrase).  Machine inputs come first, so nobody is
 * asked for a passphrase on a machine that cannot open the key anyway. */
static int gather(const struct kp_header *h, const struct hsm_keyprot_ctx *ctx, int mode,
		  struct inputs *in, char *err, size_t errlen)
{
	char pass[PASS_MAX];
	int rc;

	memset(in, 0, sizeof(*in));
	if (h->opts & HSM_KEYPROT_K) {
		memcpy(in->val[0], h->salt, KP_SALT_LEN);
		in->len[0] = KP_SALT_LEN;
	}
	if (h->opts & HSM_KEYPROT_F) {
		memcpy(in->val[1], fixed_nonce, sizeof(fixed_nonce));
		in->len[1] = sizeof(fixed_nonce);
	}
	if ((h->opts & HSM_KEYPROT_S) &&
	    machine_id(2,
		       env_or(ctx->system_uuid_file, "HSMADMIN_SYSTEM_UUID_FILE",
			      "/sys/class/dmi/id/product_uuid"),
		       in->val[2], &in->len[2], err, errlen) != 0)
		goto fail;
	if ((h->opts & HSM_KEYPROT_B) &&
	    machine_id(3,
		       env_or(ctx->board_uuid_file, "HSMADMIN_BOARD_UUID_FILE",
			      "/sys/class/dmi/id/board_serial"),
		       in->val[3], &in->len[3], err, errlen) != 0)
		goto fail;
	if ((h->opts & HSM_KEYPROT_G) &&
	    gnonce(ctx, mode, in->val[4], &in->len[4], err, errlen) != 0)
		goto fail;
	if ((h->opts & HSM_KEYPROT_P) && mode != 'c') {
		if (passphrase(ctx, mode == 's', pass, sizeof(pass), err, errlen) != 0)
			goto fail;
		rc = scrypt(pass, h, in->val[5], err, errlen);
		OPENSSL_cleanse(pass, sizeof(pass));
		if (rc != 0)
			goto fail;
		in->len[5] = KP_KEY_LEN;
	}
	return 0;
fail:
	inputs_wipe(in);
	return -1;
}

/* HKDF-SHA256 over label || for each option: letter, u16 length, value. */
static int derive(unsigned opts, const struct inputs *in, uint8_t key[KP_KEY_LEN], char *err,
		  size_t errlen)
{
	uint8_t ikm[sizeof(ikm_label) + 6 * (3 + INPUT_MAX)];
	size_t n = sizeof(ikm_label) - 1;
	EVP_KDF_CTX *k;
	int ok;

	memcpy(ikm, ikm_label, n);
	for (unsigned i = 0; i < 6; i++) {
		if (!(opts & (1u << i)))
			continue;
		ikm[n++] = (uint8_t)HSM_KEYPROT_LETTERS[i];
		ikm[n++] = (uint8_t)(in->len[i] >> 8);
		ikm[n++] = (uint8_t)in->len[i];
		memcpy(ikm + n, in->val[i], in->len[i]);
		n += in->len[i];
	}
	{
		OSSL_PARAM params[] = {
			OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
			OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, ikm, n),
			OSSL_PARAM_octet_string(OSSL_KDF_PARAM_INFO, (char *)hkdf_info,
						sizeof(hkdf_info) - 1),
			OSSL_PARAM_END,
		};
		k = EVP_KDF_CTX_new(alg_hkdf);
		ok = k && EVP_KDF_derive(k, key, KP_KEY_LEN, params) == 1;
	}
	EVP_KDF_CTX_free(k);
	OPENSSL_cleanse(ikm, sizeof(ikm));
	return ok ? 0 : hsm_set_err(err, errlen, "HKDF failed");
}

/* --- header -------------------------------------------------------------- */
static int all_zero(const uint8_t *b, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

static int header_parse(const uint8_t *buf, size_t len, struct kp_header *h, char *err,
			size_t errlen)
{
	const uint8_t *o = buf + KP_OPTS_OFF;
	int last = -1, ended = 0;
	size_t want;

	memset(h, 0, sizeof(*h));
	if (len >= 10 && memcmp(buf, "-----BEGIN", 10) == 0)
		return hsm_set_err(err, errlen, "an unprotected PEM key, not a protected key file");
	if (len < KP_MAGIC_LEN || memcmp(buf, KP_MAGIC, KP_MAGIC_LEN) != 0)
		return hsm_set_err(err, errlen,
				   len < KP_MAGIC_LEN && memcmp(buf, KP_MAGIC, len) == 0
				       ? "truncated: %zu bytes, the header alone is 64"
				       : "not a protected key file (no HSMKEY magic; %zu bytes)",
				   len);
	if (len < KP_MAGIC_LEN + 1)
		return hsm_set_err(err, errlen, "truncated: %zu bytes, the header alone is %d", len,
				   KP_HDR_LEN);
	if (buf[6] != KP_VERSION)
		return hsm_set_err(
		    err, errlen,
		    "key file format version %u is not supported (this software reads version %d)",
		    buf[6], KP_VERSION);
	if (len < KP_HDR_LEN)
		return hsm_set_err(err, errlen, "truncated: %zu bytes, the header alone is %d", len,
				   KP_HDR_LEN);
	if (buf[7] != 0)
		return hsm_set_err(err, errlen, "reserved header byte 7 is 0x%02x, not 0", buf[7]);
	for (int i = 0; i < KP_OPTS_LEN; i++) {
		const char *at;

		if (o[i] == 0) {
			ended = 1;
			continue;
		}
		at = strchr(HSM_KEYPROT_LETTERS, o[i]);
		if (ended || !at || (int)(at - HSM_KEYPROT_LETTERS) <= last)
			return hsm_set_err(err, errlen,
					   "bad protection options field in the header (letters "
					   "from %s in that order, then NUL bytes)",
					   HSM_KEYPROT_LETTERS);
		last = (int)(at - HSM_KEYPROT_LETTERS);
		h->opts |= 1u << last;
	}
	if (!h->opts)
		return hsm_set_err(err, errlen, "the header names no protection option");
	h->kdf = buf[KP_KDF_OFF];
	h->log2n = buf[KP_KDF_OFF + 1];
	h->r = buf[KP_KDF_OFF + 2];
	h->p = buf[KP_KDF_OFF + 3];
	if (h->opts & HSM_KEYPROT_P) {
		if (h->kdf != KDF_SCRYPT_HKDF)
			return hsm_set_err(
			    err, errlen, "KDF id %u in the header, but option P needs %d (scrypt)",
			    h->kdf, KDF_SCRYPT_HKDF);
		if (h->log2n < SCRYPT_LOG2N_MIN || h->log2n > SCRYPT_LOG2N_MAX || h->r == 0 ||
		    h->p == 0 || h->p > SCRYPT_P_MAX ||
		    ((uint64_t)128 * h->r << h->log2n) + (uint64_t)128 * h->r * h->p >
			SCRYPT_MAXMEM)
			return hsm_set_err(err, errlen,
					   "scrypt parameters N=2^%u r=%u p=%u are out of bounds",
					   h->log2n, h->r, h->p);
	} else if (h->kdf != KDF_HKDF || h->log2n || h->r || h->p) {
		return hsm_set_err(err, errlen,
				   "KDF id %u with parameters %u/%u/%u in the header, but without "
				   "option P they are all 0",
				   h->kdf, h->log2n, h->r, h->p);
	}
	memcpy(h->salt, buf + KP_SALT_OFF, KP_SALT_LEN);
	if (!!(h->opts & (HSM_KEYPROT_K | HSM_KEYPROT_P)) == all_zero(h->salt, KP_SALT_LEN))
		return hsm_set_err(
		    err, errlen,
		    (h->opts & (HSM_KEYPROT_K | HSM_KEYPROT_P))
			? "the per-key salt in the header is all zero"
			: "a per-key salt in the header, but neither K nor P is set");
	memcpy(h->iv, buf + KP_IV_OFF, KP_IV_LEN);
	h->ctlen = (size_t)buf[KP_CTLEN_OFF] << 8 | buf[KP_CTLEN_OFF + 1];
	if (h->ctlen == 0 || h->ctlen > KP_CT_MAX)
		return hsm_set_err(err, errlen,
				   "ciphertext length %zu in the header is out of bounds (1..%d)",
				   h->ctlen, KP_CT_MAX);
	want = KP_HDR_LEN + h->ctlen + KP_TAG_LEN;
	if (len < want)
		return hsm_set_err(
		    err, errlen,
		    "truncated: %zu bytes, the header announces %zu (ciphertext and a %d-byte tag)",
		    len, want, KP_TAG_LEN);
	if (len > want)
		return hsm_set_err(err, errlen, "%zu bytes of trailing data after the tag",
				   len - want);
	return 0;
}

static void header_write(const struct kp_header *h, uint8_t *buf)
{
	size_t n = 0;

	memset(buf, 0, KP_HDR_LEN);
	memcpy(buf, KP_MAGIC, KP_MAGIC_LEN);
	buf[6] = KP_VERSION;
	for (unsigned i = 0; i < 6; i++)
		if (h->opts & (1u << i))
			buf[KP_OPTS_OFF + n++] = (uint8_t)HSM_KEYPROT_LETTERS[i];
	buf[KP_KDF_OFF] = h->kdf;
	buf[KP_KDF_OFF + 1] = h->log2n;
	buf[KP_KDF_OFF + 2] = h->r;
	buf[KP_KDF_OFF + 3] = h->p;
	memcpy(buf + KP_SALT_OFF, h->salt, KP_SALT_LEN);
	memcpy(buf + KP_IV_OFF, h->iv, KP_IV_LEN);
	buf[KP_CTLEN_OFF] = (uint8_t)(h->ctlen >> 8);
	buf[KP_CTLEN_OFF + 1] = (uint8_t)h->ctlen;
}

HSM_API int hsm_keyprot_inspect(const uint8_t *buf, size_t len, unsigned *opts, char *err,
				size_t errlen)
{
	struct kp_header h;

	if (!buf)
		return hsm_set_err(err, errlen, "no data");
	if (header_parse(buf, len, &h, err, errlen) != 0)
		return -1;
	if (opts)
		*opts = h.opts;
	return 0;
}

/* --- seal and open ------------------------------------------------------- */
static int opts_valid(unsigned opts, char *err, size_t errlen)
{
	if (!opts || (opts & ~(unsigned)HSM_KEYPROT_ALL))
		return hsm_set_err(err, errlen,
				   "invalid protection options 0x%x (at least one of %s)", opts,
				   HSM_KEYPROT_LETTERS);
	return 0;
}

HSM_API int hsm_keyprot_check(unsigned opts, const struct hsm_keyprot_ctx *ctx, char *err,
			      size_t errlen)
{
	struct kp_header h = { .opts = opts };
	struct inputs in;

	if (opts_valid(opts, err, errlen) != 0)
		return -1;
	if (gather(&h, ctx ? ctx : &no_ctx, 'c', &in, err, errlen) != 0)
		return -1;
	inputs_wipe(&in);
	return 0;
}

/* PKCS#8 DER of a private key, malloc'ed (wipe it). */
static int key_der(EVP_PKEY *key, uint8_t **der, size_t *len, char *err, size_t errlen)
{
	PKCS8_PRIV_KEY_INFO *p8 = key ? EVP_PKEY2PKCS8(key) : NULL;
	unsigned char *out = NULL;
	int n;

	if (!p8)
		return hsm_set_err(err, errlen, "not a private key");
	n = i2d_PKCS8_PRIV_KEY_INFO(p8, &out);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (n <= 0 || !out)
		return hsm_set_err(err, errlen, "cannot encode the private key");
	if (n > KP_CT_MAX) {
		OPENSSL_clear_free(out, (size_t)n);
		return hsm_set_err(err, errlen,
				   "private key too large (%d bytes of PKCS#8, limit %d)", n,
				   KP_CT_MAX);
	}
	*der = out;
	*len = (size_t)n;
	return 0;
}

HSM_API int hsm_keyprot_seal(EVP_PKEY *key, unsigned opts, const struct hsm_keyprot_ctx *ctx,
			     uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	struct kp_header h = { .opts = opts };
	struct inputs in;
	uint8_t k[KP_KEY_LEN], *der = NULL, *file = NULL;
	size_t derlen = 0;
	EVP_CIPHER_CTX *c = NULL;
	int n, rc = -1;

	*out = NULL;
	*outlen = 0;
	if (!ctx)
		ctx = &no_ctx;
	if (opts_valid(opts, err, errlen) != 0 || algs(err, errlen) != 0)
		return -1;
	if (opts & HSM_KEYPROT_P) {
		h.kdf = KDF_SCRYPT_HKDF;
		h.log2n = SCRYPT_LOG2N;
		h.r = SCRYPT_R;
		h.p = SCRYPT_P;
	}
	if (((opts & (HSM_KEYPROT_K | HSM_KEYPROT_P)) && RAND_bytes(h.salt, KP_SALT_LEN) != 1) ||
	    RAND_bytes(h.iv, KP_IV_LEN) != 1)
		return hsm_set_err(err, errlen, "no random bytes");
	if (key_der(key, &der, &derlen, err, errlen) != 0)
		return -1;
	h.ctlen = derlen;
	if (gather(&h, ctx, 's', &in, err, errlen) != 0)
		goto out;
	rc = derive(opts, &in, k, err, errlen);
	inputs_wipe(&in);
	if (rc != 0)
		goto out;
	rc = -1;
	if (!(file = malloc(KP_HDR_LEN + derlen + KP_TAG_LEN))) {
		hsm_set_err(err, errlen, "out of memory");
		goto out;
	}
	header_write(&h, file);
	if (!(c = EVP_CIPHER_CTX_new()) || EVP_EncryptInit_ex2(c, alg_gcm, k, h.iv, NULL) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &n, file, KP_HDR_LEN) != 1 ||
	    EVP_EncryptUpdate(c, file + KP_HDR_LEN, &n, der, (int)derlen) != 1 ||
	    (size_t)n != derlen || EVP_EncryptFinal_ex(c, file + KP_HDR_LEN + n, &n) != 1 ||
	    n != 0 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, KP_TAG_LEN, file + KP_HDR_LEN + derlen) !=
		1) {
		hsm_set_err(err, errlen, "AES-256-GCM encryption failed");
		free(file);
		goto out;
	}
	*out = file;
	*outlen = KP_HDR_LEN + derlen + KP_TAG_LEN;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_clear_free(der, derlen);
	return rc;
}

/* Why a tag did not verify, in terms of what the user chose. */
static int open_failed(unsigned opts, char *err, size_t errlen)
{
	char machine[8] = "";
	size_t n = 0;

	for (unsigned i = 2; i <= 4; i++)
		if (opts & (1u << i))
			machine[n++] = HSM_KEYPROT_LETTERS[i];
	machine[n] = '\0';
	return hsm_set_err(err, errlen, "cannot decrypt the key: %s%s%s%sor the file was modified",
			   (opts & HSM_KEYPROT_P) ? "wrong passphrase, " : "",
			   n ? "made on another machine or installation (its " : "",
			   n ? machine : "", n ? " inputs differ here), " : "");
}

/* PKCS#8 DER -> key.  Ed25519, the only type in use, has one fixed
 * encoding: taking its seed directly skips OpenSSL 3.0's generic decoder,
 * which costs ~300 us and would dominate every load. */
static EVP_PKEY *der_to_key(const uint8_t *der, size_t len)
{
	static const uint8_t ed25519_p8[16] = {
		0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
		0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
	};
	const unsigned char *p = der;
	EVP_PKEY *key;

	if (len == sizeof(ed25519_p8) + 32 && memcmp(der, ed25519_p8, sizeof(ed25519_p8)) == 0)
		return EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL,
						       der + sizeof(ed25519_p8), 32);
	key = d2i_AutoPrivateKey_ex(NULL, &p, (long)len, NULL, NULL);
	if (key && p != der + len) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

/* Decrypt to PKCS#8 DER (malloc'ed; wipe it) and check that it is a key. */
static int open_der(const uint8_t *buf, size_t len, const struct hsm_keyprot_ctx *ctx,
		    unsigned *opts, uint8_t **der, size_t *derlen, EVP_PKEY **key, char *err,
		    size_t errlen)
{
	struct kp_header h;
	struct inputs in;
	uint8_t k[KP_KEY_LEN], *pt = NULL;
	EVP_CIPHER_CTX *c = NULL;
	EVP_PKEY *pk = NULL;
	int n, rc = -1;

	if (!ctx)
		ctx = &no_ctx;
	if (!buf)
		return hsm_set_err(err, errlen, "no data");
	if (algs(err, errlen) != 0 || header_parse(buf, len, &h, err, errlen) != 0)
		return -1;
	if (gather(&h, ctx, 'l', &in, err, errlen) != 0)
		return -1;
	rc = derive(h.opts, &in, k, err, errlen);
	inputs_wipe(&in);
	if (rc != 0)
		goto out;
	rc = -1;
	if (!(pt = malloc(h.ctlen))) {
		hsm_set_err(err, errlen, "out of memory");
		goto out;
	}
	/* The tag length is fixed by the format: exactly 16 bytes are passed,
	 * never a shorter tag the API would also accept. */
	if (!(c = EVP_CIPHER_CTX_new()) || EVP_DecryptInit_ex2(c, alg_gcm, k, h.iv, NULL) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &n, buf, KP_HDR_LEN) != 1 ||
	    EVP_DecryptUpdate(c, pt, &n, buf + KP_HDR_LEN, (int)h.ctlen) != 1 ||
	    (size_t)n != h.ctlen ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, KP_TAG_LEN,
				(void *)(buf + KP_HDR_LEN + h.ctlen)) != 1) {
		hsm_set_err(err, errlen, "AES-256-GCM decryption failed");
		goto out;
	}
	if (EVP_DecryptFinal_ex(c, pt + n, &n) != 1) {
		open_failed(h.opts, err, errlen);
		goto out;
	}
	pk = der_to_key(pt, h.ctlen);
	if (!pk) {
		hsm_set_err(err, errlen, "the decrypted data is not a PKCS#8 private key");
		goto out;
	}
	if (opts)
		*opts = h.opts;
	if (key) {
		*key = pk;
		pk = NULL;
	}
	if (der) {
		*der = pt;
		*derlen = h.ctlen;
		pt = NULL;
	}
	rc = 0;
out:
	EVP_PKEY_free(pk);
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_clear_free(pt, h.ctlen);
	return rc;
}

HSM_API EVP_PKEY *hsm_keyprot_open(const uint8_t *buf, size_t len,
				   const struct hsm_keyprot_ctx *ctx, unsigned *opts, char *err,
				   size_t errlen)
{
	EVP_PKEY *key = NULL;

	if (open_der(buf, len, ctx, opts, NULL, NULL, &key, err, errlen) != 0)
		return NULL;
	return key;
}

/* --- files --------------------------------------------------------------- */
/* Judge the opened file, not the path, so that a swap cannot slip by. */
static int check_perms(const char *path, const struct stat *st, const char *group, char *err,
		       size_t errlen)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);
	gid_t gid;

	if (st->st_uid != geteuid() && st->st_uid != 0)
		return hsm_set_err(err, errlen,
				   "%s: owned by uid %u, not by this user or root: refused", path,
				   (unsigned)st->st_uid);
	if (mode & 007)
		return hsm_set_err(err, errlen,
				   "%s: mode %04o lets others access the key: refused (chmod 600)",
				   path, mode);
	if (mode & 020)
		return hsm_set_err(
		    err, errlen, "%s: mode %04o lets the group write the key: refused (chmod 600)",
		    path, mode);
	if (!(mode & 050))
		return 0;
	/* NFAST_<SERVICE>_GROUP is read when a key is saved, like the
	 * installer reads it (guide 4.8.4): with the variable unset later, the
	 * group the key was given stays what it was. */
	if (!group)
		return 0;
	if (!*group)
		return hsm_set_err(
		    err, errlen,
		    "%s: mode %04o lets group %u read the key, but no group is "
		    "configured for it: refused (chmod 600, or set NFAST_<SERVICE>_GROUP)",
		    path, mode, (unsigned)st->st_gid);
	if (group_lookup(group, &gid) != 0)
		return hsm_set_err(err, errlen, "%s: the configured group \"%.64s\" does not exist",
				   path, shown(group));
	if (st->st_gid != gid)
		return hsm_set_err(
		    err, errlen,
		    "%s: readable by group %u, not by the configured group %.64s: refused", path,
		    (unsigned)st->st_gid, shown(group));
	return 0;
}

static int read_key_file(const char *path, const char *group, int check, uint8_t **data,
			 size_t *len, char *err, size_t errlen)
{
	uint8_t *buf;
	struct stat st;
	int rc;

	*data = NULL;
	if (!path)
		return hsm_set_err(err, errlen, "no key file given");
	if (!(buf = malloc(KP_FILE_MAX)))
		return hsm_set_err(err, errlen, "out of memory");
	rc = read_small(path, 1, buf, KP_FILE_MAX, len, &st);
	if (rc == -2)
		hsm_set_err(err, errlen, "%s: larger than %d bytes: not a key file", path,
			    KP_FILE_MAX);
	else if (rc < 0)
		hsm_set_err(err, errlen, "%s: %s", path,
			    errno == EINVAL  ? "not a regular file"
			    : errno == ELOOP ? "a symbolic link: refused"
					     : strerror(errno));
	else if (check)
		rc = check_perms(path, &st, group, err, errlen);
	if (rc != 0) {
		free(buf);
		return -1;
	}
	*data = buf;
	return 0;
}

/* hsm_write_file_ex with the key's group (mode 0640) or none (0600), set
 * before the key is written.  Without overwrite an existing key is never
 * replaced. */
static int write_key_file(const char *path, const uint8_t *data, size_t len, const char *group,
			  int overwrite, char *err, size_t errlen)
{
	gid_t gid = (gid_t)-1;
	int rc;

	if (group && *group && group_lookup(group, &gid) != 0)
		return hsm_set_err(err, errlen, "%s: group \"%.64s\" does not exist", path,
				   shown(group));
	if (!overwrite && access(path, F_OK) == 0)
		return hsm_set_err(err, errlen, "%s: exists already: not replaced", path);
	hsm_remove_stale_temps_of(path);
	rc = hsm_write_file_ex(path, data, len, gid != (gid_t)-1 ? 0640 : 0600, gid,
			       overwrite ? 0 : HSM_WRITE_NOREPLACE, err, errlen);
	return rc == 0 ? 0 : -1;
}

HSM_API int hsm_keyprot_save(const char *path, EVP_PKEY *key, unsigned opts,
			     const struct hsm_keyprot_ctx *ctx, unsigned flags, char *err,
			     size_t errlen)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char why[512];
	int rc;

	if (!ctx)
		ctx = &no_ctx;
	if (!path)
		return hsm_set_err(err, errlen, "no key file given");
	if (hsm_keyprot_seal(key, opts, ctx, &data, &len, why, sizeof(why)) != 0)
		return hsm_set_err(err, errlen, "%s: %s", path, why);
	rc = write_key_file(path, data, len, ctx->group, !!(flags & HSM_KEYPROT_OVERWRITE), err,
			    errlen);
	free(data);
	return rc;
}

/* The group a key file may be readable by when loading with ctx: NULL
 * (the one it was saved with) while NFAST_<SERVICE>_GROUP is unset, ""
 * for none. */
static const char *load_group(const struct hsm_keyprot_ctx *ctx)
{
	return ctx->group_unset ? NULL : ctx->group ? ctx->group : "";
}

HSM_API EVP_PKEY *hsm_keyprot_load(const char *path, const struct hsm_keyprot_ctx *ctx,
				   unsigned *opts, char *err, size_t errlen)
{
	uint8_t *data;
	size_t len;
	char why[512];
	EVP_PKEY *key;

	if (!ctx)
		ctx = &no_ctx;
	/* A copy of this key a save killed mid-write left goes at its next
	 * use, not only at its next save (which may never come). */
	if (path)
		hsm_remove_stale_temps_of(path);
	if (read_key_file(path, load_group(ctx), 1, &data, &len, err, errlen) != 0)
		return NULL;
	key = hsm_keyprot_open(data, len, ctx, opts, why, sizeof(why));
	free(data);
	if (!key)
		hsm_set_err(err, errlen, "%s: %s", path, why);
	return key;
}

/* PEM from DER by hand, into one buffer we wipe: a BIO would leave copies. */
static char *der_to_pem(const uint8_t *der, size_t len)
{
	static const char head[] = "-----BEGIN PRIVATE KEY-----\n";
	static const char tail[] = "-----END PRIVATE KEY-----\n";
	size_t lines = (len + 47) / 48, cap = sizeof(head) + sizeof(tail) + lines * 66 + 1;
	char *pem = malloc(cap), *w;

	if (!pem)
		return NULL;
	w = pem + sprintf(pem, "%s", head);
	for (size_t off = 0; off < len; off += 48) {
		size_t n = len - off < 48 ? len - off : 48;

		w += EVP_EncodeBlock((unsigned char *)w, der + off, (int)n);
		*w++ = '\n';
	}
	sprintf(w, "%s", tail);
	return pem;
}

HSM_API char *hsm_keyprot_load_pem(const char *path, const struct hsm_keyprot_ctx *ctx,
				   unsigned *opts, char *err, size_t errlen)
{
	uint8_t *data, *der = NULL;
	size_t len, derlen = 0;
	char why[512], *pem = NULL;
	int rc;

	if (!ctx)
		ctx = &no_ctx;
	if (read_key_file(path, load_group(ctx), 1, &data, &len, err, errlen) != 0)
		return NULL;
	rc = open_der(data, len, ctx, opts, &der, &derlen, NULL, why, sizeof(why));
	free(data);
	if (rc != 0) {
		hsm_set_err(err, errlen, "%s: %s", path, why);
		return NULL;
	}
	if (!(pem = der_to_pem(der, derlen)))
		hsm_set_err(err, errlen, "%s: out of memory", path);
	OPENSSL_clear_free(der, derlen);
	return pem;
}

HSM_API char *hsm_keyprot_key_pem(EVP_PKEY *key)
{
	uint8_t *der;
	size_t len;
	char *pem;

	if (key_der(key, &der, &len, NULL, 0) != 0)
		return NULL;
	pem = der_to_pem(der, len);
	OPENSSL_clear_free(der, len);
	return pem;
}

HSM_API void hsm_keyprot_pem_free(char *pem)
{
	if (pem)
		OPENSSL_clear_free(pem, strlen(pem));
}

HSM_API int hsm_keyprot_file_options(const char *path, unsigned *opts, char *err, size_t errlen)
{
	uint8_t *data;
	size_t len;
	char why[256];
	int rc;

	if (read_key_file(path, NULL, 0, &data, &len, err, errlen) != 0)
		return -1;
	rc = hsm_keyprot_inspect(data, len, opts, why, sizeof(why));
	free(data);
	return rc == 0 ? 0 : hsm_set_err(err, errlen, "%s: %s", path, why);
}

HSM_API int hsm_keyprot_rewrap(const char *src, const struct hsm_keyprot_ctx *from, const char *dst,
			       unsigned opts, const struct hsm_keyprot_ctx *to, unsigned flags,
			       char *err, size_t errlen)
{
	EVP_PKEY *key = hsm_keyprot_load(src, from, NULL, err, errlen);
	int rc;

	if (!key)
		return -1;
	rc = hsm_keyprot_save(dst, key, opts, to, flags, err, errlen);
	EVP_PKEY_free(key);
	return rc;
}
