/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apk's v2 container files: a signed APKINDEX.tar.gz and a .apk package, both concatenated gzip
 * members whose hashes and signatures are over the COMPRESSED bytes of each member. This module
 * finds the member boundaries (through libarchive, which is the only inflater the worker
 * links), verifies the RSA signatures (SHA-1 "RSA", "RSA256", "RSA512") with OpenSSL against a
 * set of trusted PEM public keys, and checks a package against its index identity (C: =
 * SHA-1 of the control member) and .PKGINFO datahash (SHA-256 of the data member).
 */
#ifndef WORKER_APK_APK_FILE_H
#define WORKER_APK_APK_FILE_H

#include <time.h>

#include "pf/setup.h"
#include "pf/strv.h"

/* Largest .apk or index handled (both are held in memory). */
#define WORKER_APK_FILE_MAX ((size_t)512 << 20)
/* Largest decompressed control segment or index text. */
#define WORKER_APK_FILE_MAX_TEXT ((size_t)256 << 20)

/* The trusted keys: `names` are key file names (the keyid of .SIGN.<alg>.<keyid>), `pems` the
 * PEM text of each, same index. */
struct worker_apk_keys {
    struct pf_strv names;
    struct pf_strv pems;
};

/* Frees the keys. */
void worker_apk_keys_clear(struct worker_apk_keys *k);

/*
 * Verifies a signed APKINDEX.tar.gz (`data`, `len`) with `keys` and returns the APKINDEX text
 * as a new string *ret of *ret_len bytes. Returns 0; -EBADMSG when no signature verifies with
 * a trusted key or the archive is malformed (reason in errbuf); -ENOKEY when no signature names
 * a trusted key; -ENOMEM. *ret untouched on failure.
 */
int worker_apk_index_open(const void *data, size_t len, const struct worker_apk_keys *keys,
                          char **ret, size_t *ret_len, char *errbuf, size_t errlen);

/*
 * worker_apk_index_open() that also returns, in *ret_mtime (when not NULL; set on success
 * only), the mtime of the APKINDEX member: its tar header is inside the signed gzip member, so
 * the date is as trusted as the index (apk-tools' `apk index` stamps it with the build time or
 * SOURCE_DATE_EPOCH). 0 when the member carries none. The index's only signed date: used to
 * refuse a replayed older index (engine/index_freshness.h).
 */
int worker_apk_index_open_dated(const void *data, size_t len, const struct worker_apk_keys *keys,
                                char **ret, size_t *ret_len, time_t *ret_mtime, char *errbuf,
                                size_t errlen);

/* One entry of a package's data segment, passed to a worker_apk_data_cb. */
struct worker_apk_entry {
    const char *path; /* as in the tar, validated: relative, no "." / ".." components */
    char type;        /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
    uint32_t mode, uid, gid;
    const char *link; /* symlink or hard link target */
    const void *data; /* file content (borrowed for the call) */
    size_t size;
    unsigned char sha1[20]; /* SHA-1 of the content, of the symlink target, or (hard link) of
                               the target file, as apk's APK-TOOLS.checksum.SHA1 */
};

typedef int (*worker_apk_data_cb)(const struct worker_apk_entry *e, void *userdata);

/* An opened, verified package. */
struct worker_apk_pkgfile {
    char *pkginfo;               /* .PKGINFO text */
    struct pf_strv script_names; /* control scripts (".post-install", ...) */
    struct pf_strv script_data;  /* their content, same index */
    const unsigned char *data;   /* the data member (compressed), borrowed from the caller */
    size_t data_len;
    /* Bound on the regular file bytes of the data member (uncompressed), checked on the tar
     * headers before content is inflated; 0 (as opened) means WORKER_APK_MAX_PACKAGE_SIZE. */
    uint64_t max_size;
};

/* The default package bound, the Debian one (16 GiB, three times bookworm's largest package):
 * Alpine's packages are smaller, and each file is held in memory anyway, bounded by
 * WORKER_APK_FILE_MAX_TEXT. */
#define WORKER_APK_MAX_PACKAGE_SIZE ((uint64_t)16 << 30)

/*
 * Opens package bytes `data` (borrowed; must outlive *ret) and checks it: the control member's
 * SHA-1 must equal `identity` (the index C: "Q1..." value), and the data member's SHA-256 must
 * equal .PKGINFO datahash; a package without datahash must carry a signature over control+data
 * that verifies with `keys`. Returns 0 and *ret (release with worker_apk_file_release()), or
 * -EBADMSG (tampered or malformed, reason in errbuf) or -ENOMEM.
 */
int worker_apk_file_open(const void *data, size_t len, const char *identity,
                         const struct worker_apk_keys *keys, struct worker_apk_pkgfile *ret,
                         char *errbuf, size_t errlen);

/* Frees what worker_apk_file_open() made and zeroes *f. */
void worker_apk_file_release(struct worker_apk_pkgfile *f);

/* Returns the value of `key` in .PKGINFO text ("key = value"), the n-th occurrence (0-based),
 * as a new string, or NULL (absent, or -ENOMEM: check errno). */
char *worker_apk_pkginfo_get(const char *pkginfo, const char *key, size_t nth);

/*
 * Calls `cb` for every entry of the data segment in archive order. Paths that apk refuses
 * (absolute, "..", control characters) give -EBADMSG. Returns 0, the first negative value cb
 * returns, -EBADMSG for a corrupt segment, -EFBIG for a file over WORKER_APK_FILE_MAX_TEXT or
 * files over f->max_size together (the limit named in errbuf), or -ENOMEM.
 */
int worker_apk_file_each(const struct worker_apk_pkgfile *f, worker_apk_data_cb cb, void *userdata,
                         char *errbuf, size_t errlen);

#endif
