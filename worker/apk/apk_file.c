/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading apk's v2 files. Both the index and a package are concatenated gzip members, and
 * every hash apk checks is over the compressed bytes of one member, so the first job is to
 * find the member boundaries. The worker does not link zlib, and libarchive inflates
 * concatenated members as one stream, so a boundary is found by trial: a member ends where the
 * next gzip magic (1f 8b 08) starts AND the bytes before it inflate completely (libarchive
 * refuses a truncated member). Magic bytes inside compressed data are rare and fail that test.
 * Signatures are RSA PKCS#1 v1.5, checked through pf_signature.
 */
#include "pf/setup.h"

#include <inttypes.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/archive.h"
#include "pf/buf.h"
#include "pf/digest.h"
#include "pf/err.h"
#include "pf/signature.h"
#include "apk/apk_db.h"
#include "apk/apk_file.h"

/* Candidate boundaries tried per member before giving up. */
#define MAX_TRIES 256
#define MAX_SIGNATURES 16
#define MAX_SIG_SIZE 4096

void worker_apk_keys_clear(struct worker_apk_keys *k)
{
    pf_strv_clear(&k->names);
    pf_strv_clear(&k->pems);
}

/* Opens a libarchive reader on a gzip'd tar (or raw) stream in memory. */
static struct archive *open_gz(const void *data, size_t len, bool tar)
{
    struct archive *a = NULL;

    if (pf_archive_read_new(PF_ARCHIVE_FILTER_GZIP,
                            tar ? PF_ARCHIVE_FORMAT_TAR : PF_ARCHIVE_FORMAT_RAW, &a) < 0)
        return NULL;
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* True when data[0..len) is whole gzip member(s) that inflate without error. */
static bool inflates(const unsigned char *data, size_t len)
{
    struct archive *a = open_gz(data, len, false);
    struct archive_entry *e;
    char chunk[16384];
    la_ssize_t k;
    bool ok = false;

    if (!a)
        return false;
    if (archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP ||
        archive_read_next_header(a, &e) != ARCHIVE_OK)
        goto out;
    while ((k = archive_read_data(a, chunk, sizeof(chunk))) > 0)
        ;
    ok = k == 0;
out:
    archive_read_free(a);
    return ok;
}

/* Finds the end of the gzip member starting at `start`: the first later magic such that the
 * bytes before it inflate. Returns 0 and *ret_end, or -EBADMSG when there is no next member. */
static int member_end(const unsigned char *d, size_t len, size_t start, size_t *ret_end)
{
    int tries = 0;

    if (len - start < 18 || d[start] != 0x1f || d[start + 1] != 0x8b)
        return -EBADMSG;
    for (size_t p = start + 18; p + 3 <= len && tries < MAX_TRIES; p++) {
        if (d[p] != 0x1f || d[p + 1] != 0x8b || d[p + 2] != 0x08)
            continue;
        tries++;
        if (inflates(d + start, p - start)) {
            *ret_end = p;
            return 0;
        }
    }
    return -EBADMSG;
}

struct sig {
    char alg[16];
    char keyid[256];
    unsigned char *bytes;
    size_t len;
};

static void sigs_release(struct sig *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pf_free(s[i].bytes);
}

/* Reads a tar segment's entries. For a signature segment fills `sigs`; else collects the
 * named entries' content (".PKGINFO", scripts, "APKINDEX") into names/bufs, and the mtime of
 * the "APKINDEX" entry into *ret_index_mtime when not NULL (left alone without one). */
static int read_segment(const unsigned char *d, size_t len, struct sig *sigs, size_t *n_sigs,
                        struct pf_strv *names, struct pf_strv *bufs, bool *ret_is_sig,
                        time_t *ret_index_mtime)
{
    struct archive *a = open_gz(d, len, true);
    struct archive_entry *e;
    int r = 0, ar;
    bool first = true;

    if (!a)
        return -ENOMEM;
    while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        struct pf_buf b;
        char chunk[16384];
        la_ssize_t k;
        bool is_sig = name && strncmp(name, ".SIGN.", 6) == 0;

        if (!name) {
            r = -EBADMSG;
            break;
        }
        if (first && ret_is_sig)
            *ret_is_sig = is_sig;
        if (ret_index_mtime && strcmp(name, "APKINDEX") == 0)
            *ret_index_mtime = archive_entry_mtime_is_set(e) ? archive_entry_mtime(e) : 0;
        first = false;
        pf_buf_init(&b, is_sig ? MAX_SIG_SIZE : WORKER_APK_FILE_MAX_TEXT);
        while (r >= 0 && (k = archive_read_data(a, chunk, sizeof(chunk))) != 0)
            r = k < 0 ? -EBADMSG : pf_buf_append(&b, chunk, (size_t)k);
        if (r >= 0 && is_sig && sigs) {
            const char *alg = name + 6, *dot = strchr(alg, '.');

            if (*n_sigs < MAX_SIGNATURES && dot && (size_t)(dot - alg) < sizeof(sigs->alg) &&
                strlen(dot + 1) < sizeof(sigs->keyid) && b.len > 0) {
                struct sig *s = &sigs[(*n_sigs)++];

                memcpy(s->alg, alg, (size_t)(dot - alg));
                s->alg[dot - alg] = '\0';
                (void)snprintf(s->keyid, sizeof(s->keyid), "%s", dot + 1);
                s->len = b.len;
                s->bytes = (unsigned char *)pf_buf_steal(&b, NULL);
            }
        } else if (r >= 0 && !is_sig && names) {
            if (b.len == 0)
                r = pf_buf_append(&b, "", 0);
            if (r >= 0)
                r = pf_strv_push(names, name);
            if (r >= 0)
                r = pf_strv_push_take(bufs, pf_buf_steal(&b, NULL));
        }
        pf_buf_release(&b);
        if (r < 0)
            break;
    }
    if (r >= 0 && ar != ARCHIVE_EOF)
        r = -EBADMSG;
    archive_read_free(a);
    return r;
}

/* The algorithm a ".SIGN.<alg>." name stands for, or -1 when apk has no such algorithm. */
static int sig_alg(const char *alg)
{
    if (strcmp(alg, "RSA") == 0)
        return PF_SIGNATURE_RSA_PKCS1_SHA1;
    if (strcmp(alg, "RSA256") == 0)
        return PF_SIGNATURE_RSA_PKCS1_SHA256;
    if (strcmp(alg, "RSA512") == 0)
        return PF_SIGNATURE_RSA_PKCS1_SHA512;
    return -1;
}

/* Verifies one signature over the concatenation of two ranges. Returns 1 verified, 0 not. */
static int verify_one(const struct sig *s, const char *pem, const void *d1, size_t l1,
                      const void *d2, size_t l2)
{
    const struct pf_signature_part parts[] = {{d1, l1}, {d2, l2}};
    struct pf_signature_key *key = NULL;
    int alg = sig_alg(s->alg), ok;

    if (alg < 0 || pf_signature_key_load_pem(pem, strlen(pem), &key, NULL, 0) < 0)
        return 0;
    ok = pf_signature_verify(key, (enum pf_signature_alg)alg, parts, PF_ARRAY_SIZE(parts), s->bytes,
                             s->len) == 0;
    pf_signature_key_free(key);
    return ok;
}

/* Returns 0 when one signature verifies with a trusted key, -ENOKEY when none names a trusted
 * key, -EBADMSG when a trusted key's signature fails. */
static int verify_sigs(const struct sig *sigs, size_t n, const struct worker_apk_keys *keys,
                       const void *d1, size_t l1, const void *d2, size_t l2, char *errbuf,
                       size_t errlen)
{
    bool known = false;

    for (size_t i = 0; i < n; i++) {
        long k = pf_strv_find(&keys->names, sigs[i].keyid);

        if (k < 0)
            continue;
        known = true;
        if (verify_one(&sigs[i], keys->pems.v[k], d1, l1, d2, l2))
            return 0;
    }
    if (!known)
        return pf_set_error(errbuf, errlen, -ENOKEY,
                            "no signature by a trusted key (%zu signature%s%s%s)", n,
                            n == 1 ? "" : "s", n ? ", first by " : "", n ? sigs[0].keyid : "");
    return pf_set_error(errbuf, errlen, -EBADMSG, "BAD signature by '%s'", sigs[0].keyid);
}

int worker_apk_index_open(const void *data, size_t len, const struct worker_apk_keys *keys,
                          char **ret, size_t *ret_len, char *errbuf, size_t errlen)
{
    return worker_apk_index_open_dated(data, len, keys, ret, ret_len, NULL, errbuf, errlen);
}

int worker_apk_index_open_dated(const void *data, size_t len, const struct worker_apk_keys *keys,
                                char **ret, size_t *ret_len, time_t *ret_mtime, char *errbuf,
                                size_t errlen)
{
    const unsigned char *d = data;
    time_t mtime = 0;
    struct sig sigs[MAX_SIGNATURES];

    memset(sigs, 0, sizeof(sigs));
    struct pf_strv names = PF_STRV_INIT, bufs = PF_STRV_INIT;
    size_t n_sigs = 0, end = 0;
    bool is_sig = false;
    long idx;
    int r;

    if (len > WORKER_APK_FILE_MAX)
        return pf_set_error(errbuf, errlen, -E2BIG, "index over %zu bytes", WORKER_APK_FILE_MAX);
    r = member_end(d, len, 0, &end);
    if (r >= 0)
        r = read_segment(d, end, sigs, &n_sigs, NULL, NULL, &is_sig, NULL);
    if (r < 0 || !is_sig) {
        r = pf_set_error(errbuf, errlen, r == -ENOMEM ? r : -EBADMSG,
                         "not a signed APKINDEX.tar.gz (no signature segment)");
        goto out;
    }
    r = verify_sigs(sigs, n_sigs, keys, d + end, len - end, NULL, 0, errbuf, errlen);
    if (r < 0)
        goto out;
    r = read_segment(d + end, len - end, NULL, NULL, &names, &bufs, NULL, &mtime);
    if (r < 0) {
        r = pf_set_error(errbuf, errlen, r, "corrupt index archive");
        goto out;
    }
    idx = pf_strv_find(&names, "APKINDEX");
    if (idx < 0) {
        r = pf_set_error(errbuf, errlen, -EBADMSG, "no APKINDEX in the index archive");
        goto out;
    }
    *ret_len = strlen(bufs.v[idx]);
    *ret = bufs.v[idx];
    if (ret_mtime)
        *ret_mtime = mtime;
    bufs.v[idx] = pf_strdup("");
    r = 0;
out:
    sigs_release(sigs, n_sigs);
    pf_strv_clear(&names);
    pf_strv_clear(&bufs);
    return r;
}

void worker_apk_file_release(struct worker_apk_pkgfile *f)
{
    pf_free(f->pkginfo);
    pf_strv_clear(&f->script_names);
    pf_strv_clear(&f->script_data);
    *f = (struct worker_apk_pkgfile){0};
}

char *worker_apk_pkginfo_get(const char *pkginfo, const char *key, size_t nth)
{
    size_t klen = strlen(key);

    for (const char *l = pkginfo; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        size_t n = strcspn(l, "\n");

        if (n > klen + 3 && strncmp(l, key, klen) == 0 && strncmp(l + klen, " = ", 3) == 0) {
            if (nth-- == 0)
                return pf_strndup(l + klen + 3, n - klen - 3);
        }
    }
    errno = 0;
    return NULL;
}

/* `alg`'s digest of d[0..len) into `out`; all zeros (matching nothing) if hashing fails. */
static void sha_bytes(enum pf_digest_alg alg, const void *d, size_t len, unsigned char *out)
{
    if (pf_digest_buf(alg, d, len, out) < 0)
        memset(out, 0, pf_digest_size(alg));
}

/* Checks the members against the index identity, datahash or the package signature. */
static int check_package(const unsigned char *ctrl, size_t ctrl_len, const unsigned char *dat,
                         size_t dat_len, const char *identity, const char *pkginfo,
                         const struct sig *sigs, size_t n_sigs, const struct worker_apk_keys *keys,
                         char *errbuf, size_t errlen)
{
    unsigned char h[64];
    char q1[31], hex[65];
    char *datahash;
    int r = 0;

    sha_bytes(PF_DIGEST_SHA1, ctrl, ctrl_len, h);
    worker_apk_q1(h, q1);
    if (!identity || strcmp(q1, identity) != 0)
        return pf_set_error(errbuf, errlen, -EBADMSG,
                            "control segment checksum %s does not match the index (%s)", q1,
                            identity ? identity : "none");
    datahash = worker_apk_pkginfo_get(pkginfo, "datahash", 0);
    if (!datahash && errno == ENOMEM)
        return -ENOMEM;
    if (datahash) {
        sha_bytes(PF_DIGEST_SHA256, dat, dat_len, h);
        pf_digest_to_hex(h, 32, hex);
        if (strcmp(hex, datahash) != 0)
            r = pf_set_error(errbuf, errlen, -EBADMSG,
                             "data segment sha256 %s does not match datahash %s", hex, datahash);
        pf_free(datahash);
        return r;
    }
    /* No datahash: only the package signature vouches for the data. */
    return verify_sigs(sigs, n_sigs, keys, ctrl, ctrl_len, dat, dat_len, errbuf, errlen) < 0
               ? pf_set_error(errbuf, errlen, -EBADMSG,
                              "package without datahash and without a valid signature")
               : 0;
}

int worker_apk_file_open(const void *data, size_t len, const char *identity,
                         const struct worker_apk_keys *keys, struct worker_apk_pkgfile *ret,
                         char *errbuf, size_t errlen)
{
    const unsigned char *d = data;
    struct sig sigs[MAX_SIGNATURES];

    memset(sigs, 0, sizeof(sigs));
    struct worker_apk_pkgfile f = {0};
    struct pf_strv names = PF_STRV_INIT, bufs = PF_STRV_INIT;
    size_t n_sigs = 0, e1 = 0, ctrl = 0, ctrl_end = 0;
    bool is_sig = false;
    long pi;
    int r;

    if (len > WORKER_APK_FILE_MAX)
        return pf_set_error(errbuf, errlen, -E2BIG, "package over %zu bytes", WORKER_APK_FILE_MAX);
    r = member_end(d, len, 0, &e1);
    if (r >= 0)
        r = read_segment(d, e1, sigs, &n_sigs, NULL, NULL, &is_sig, NULL);
    if (r >= 0 && is_sig) {
        ctrl = e1;
        r = member_end(d, len, ctrl, &ctrl_end);
    } else {
        ctrl_end = e1;
    }
    if (r >= 0)
        r = read_segment(d + ctrl, ctrl_end - ctrl, NULL, NULL, &names, &bufs, NULL, NULL);
    if (r < 0) {
        r = pf_set_error(errbuf, errlen, r == -ENOMEM ? r : -EBADMSG, "not an apk v2 package");
        goto out;
    }
    pi = pf_strv_find(&names, ".PKGINFO");
    if (pi < 0 || (size_t)pi >= bufs.n) { /* bufs holds one buffer per name */
        r = pf_set_error(errbuf, errlen, -EBADMSG, "no .PKGINFO in the control segment");
        goto out;
    }
    r = check_package(d + ctrl, ctrl_end - ctrl, d + ctrl_end, len - ctrl_end, identity, bufs.v[pi],
                      sigs, n_sigs, keys, errbuf, errlen);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < names.n && r >= 0; i++) {
        if ((long)i == pi) {
            f.pkginfo = bufs.v[i];
            bufs.v[i] = NULL;
            continue;
        }
        if (names.v[i][0] != '.' || strchr(names.v[i], '/'))
            continue; /* apk ignores other control entries too */
        r = pf_strv_push(&f.script_names, names.v[i]);
        if (r >= 0)
            r = pf_strv_push(&f.script_data, bufs.v[i]);
    }
    if (r < 0)
        goto out;
    f.data = d + ctrl_end;
    f.data_len = len - ctrl_end;
    *ret = f;
    f = (struct worker_apk_pkgfile){0};
out:
    for (size_t i = 0; i < bufs.n; i++)
        if (!bufs.v[i])
            bufs.v[i] = pf_strdup("");
    worker_apk_file_release(&f);
    sigs_release(sigs, n_sigs);
    pf_strv_clear(&names);
    pf_strv_clear(&bufs);
    return r;
}

struct hashed {
    struct pf_strv paths;
    unsigned char (*sha1)[20];
};

static int remember(struct hashed *h, const char *path, const unsigned char *sha1)
{
    unsigned char(*v)[20] = pf_realloc(h->sha1, (h->paths.n + 1) * sizeof(*v));
    int r;

    if (!v)
        return -ENOMEM;
    h->sha1 = v;
    r = pf_strv_push(&h->paths, path);
    if (r >= 0)
        memcpy(h->sha1[h->paths.n - 1], sha1, 20);
    return r;
}

static int each_entry(struct archive *a, struct archive_entry *ae, struct hashed *h,
                      worker_apk_data_cb cb, void *userdata, char *errbuf, size_t errlen)
{
    struct worker_apk_entry e = {0};
    struct pf_buf b;
    const char *raw = archive_entry_pathname(ae);
    char *path = pf_malloc(PF_ARCHIVE_NAME_MAX + 1);
    char *link = NULL, why[128];
    mode_t ft = archive_entry_filetype(ae);
    int r = 0;

    pf_buf_init(&b, WORKER_APK_FILE_MAX_TEXT);
    if (!path)
        return -ENOMEM;
    /* apk's "ignoring malicious file" rules: canonical names only, nothing normalised away. */
    if (pf_archive_entry_name_normalise(raw, PF_ARCHIVE_NAME_CANONICAL, path, NULL, 0) < 0) {
        r = pf_set_error(errbuf, errlen, -EBADMSG, "refusing malicious file name '%s'",
                         raw ? raw : "");
        goto out;
    }
    e.path = path;
    e.mode = (uint32_t)archive_entry_perm(ae);
    e.uid = (uint32_t)archive_entry_uid(ae);
    e.gid = (uint32_t)archive_entry_gid(ae);
    if (archive_entry_hardlink(ae)) {
        long k;

        link = pf_malloc(PF_ARCHIVE_NAME_MAX + 1);
        if (!link) {
            r = -ENOMEM;
            goto out;
        }
        k = pf_archive_entry_name_normalise(archive_entry_hardlink(ae), PF_ARCHIVE_NAME_CANONICAL,
                                            link, NULL, 0) < 0
                ? -1
                : pf_strv_find(&h->paths, link);
        if (k < 0 || !h->sha1) { /* (sha1 grows with paths: a found k has its row) */
            r = pf_set_error(errbuf, errlen, -EBADMSG, "hard link '%s' to an unknown file", path);
            goto out;
        }
        e.type = 'h';
        e.link = link;
        memcpy(e.sha1, h->sha1[k], 20);
    } else if (ft == AE_IFDIR) {
        e.type = 'd';
    } else if (ft == AE_IFLNK) {
        e.type = 'l';
        e.link = archive_entry_symlink(ae);
        if (pf_archive_entry_name_check_symlink(e.link, why, sizeof(why)) < 0) {
            r = pf_set_error(errbuf, errlen, -EBADMSG, "symlink '%s': %s", path, why);
            goto out;
        }
        sha_bytes(PF_DIGEST_SHA1, e.link, strlen(e.link), e.sha1);
    } else if (ft == AE_IFREG) {
        char chunk[65536];
        la_ssize_t k;

        e.type = 'f';
        while (r >= 0 && (k = archive_read_data(a, chunk, sizeof(chunk))) != 0)
            r = k < 0 ? -EBADMSG : pf_buf_append(&b, chunk, (size_t)k);
        if (r < 0) {
            r = pf_set_error(errbuf, errlen,
                             r == -ENOMEM  ? r
                             : r == -E2BIG ? -EFBIG
                                           : r,
                             "cannot read '%s' from the package", path);
            goto out;
        }
        e.data = b.p ? b.p : "";
        e.size = b.len;
        sha_bytes(PF_DIGEST_SHA1, e.data, e.size, e.sha1);
        r = remember(h, path, e.sha1);
    } else {
        r = pf_set_error(errbuf, errlen, -EBADMSG, "unsupported file type of '%s'", path);
        goto out;
    }
    if (r >= 0)
        r = cb(&e, userdata);
out:
    pf_buf_release(&b);
    pf_free(link);
    pf_free(path);
    return r;
}

int worker_apk_file_each(const struct worker_apk_pkgfile *f, worker_apk_data_cb cb, void *userdata,
                         char *errbuf, size_t errlen)
{
    struct archive *a = NULL;
    struct archive_entry *ae;
    struct hashed h = {PF_STRV_INIT, NULL};
    uint64_t bytes = 0, max = f->max_size ? f->max_size : WORKER_APK_MAX_PACKAGE_SIZE;
    int r = 0, ar;

    if (pf_archive_read_new(PF_ARCHIVE_FILTER_GZIP, PF_ARCHIVE_FORMAT_TAR, &a) < 0)
        return -ENOMEM;
    /* libarchive reads the first header on open: a segment that is no tar fails here, and is
     * corrupt data, not a lack of memory. */
    if (archive_read_open_memory(a, f->data, f->data_len) != ARCHIVE_OK) {
        r = pf_set_error(errbuf, errlen, -EBADMSG, "corrupt data segment: %s", pf_archive_error(a));
        archive_read_free(a);
        return r;
    }
    while ((ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        if (archive_entry_filetype(ae) == AE_IFREG && !archive_entry_hardlink(ae) &&
            archive_entry_size(ae) > 0)
            bytes += (uint64_t)archive_entry_size(ae);
        if (bytes > max) {
            r = pf_set_error(errbuf, errlen, -EFBIG,
                             "the data segment holds more than %" PRIu64
                             " bytes uncompressed, the package size limit (--max-package-size)",
                             max);
            break;
        }
        r = each_entry(a, ae, &h, cb, userdata, errbuf, errlen);
        if (r < 0)
            break;
    }
    if (r >= 0 && ar != ARCHIVE_EOF)
        r = pf_set_error(errbuf, errlen, -EBADMSG, "corrupt data segment: %s", pf_archive_error(a));
    archive_read_free(a);
    pf_strv_clear(&h.paths);
    pf_free(h.sha1);
    return r;
}
