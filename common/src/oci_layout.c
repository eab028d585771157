/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI image-layout writer. Several worker processes may write patched images into one
 * layout directory, so every file appears atomically (temp file in the same directory, fsync,
 * rename), blobs are verified before they get their content-addressed name, and index.json is
 * read-modified-written under an flock held on a separate lock file (the index itself is
 * replaced by rename, so locking it would lock the wrong inode).
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/json.h"

#include "pf/alloc.h"
#include "pf/io.h"
#include "pf/buf.h"
#include "pf/oci.h"
#include "oci_internal.h"

#define OCI_LAYOUT_CONTENT "{\"imageLayoutVersion\":\"1.0.0\"}"

PF_PRINTF(4, 5)
static int layout_err(char *errbuf, size_t errlen, int r, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (errbuf && errlen) {
        va_start(ap, fmt);
        (void)vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
        n = strlen(errbuf);
        if (n + 2 < errlen)
            (void)snprintf(errbuf + n, errlen - n, ": %s", strerror(-r));
    }
    return r;
}

static int mkdir_p1(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Writes `data` to `<path>` via a temp file beside it: fsync, rename. */
static int write_atomic(const char *path, const void *data, size_t len)
{
    char *tmp = pf_asprintf("%s.tmp.XXXXXX", path);
    int fd, r;

    if (!tmp)
        return -ENOMEM;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        pf_free(tmp);
        return r;
    }
    r = pf_write_all(fd, data, len);
    if (r == 0 && fchmod(fd, 0644) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(tmp);
    pf_free(tmp);
    return r;
}

int pf_oci_layout_init(const char *dir, char *errbuf, size_t errlen)
{
    char *p = NULL;
    int r;

    r = mkdir_p1(dir);
    if (r < 0)
        return layout_err(errbuf, errlen, r, "cannot create layout directory '%s'", dir);
    p = pf_asprintf("%s/blobs", dir);
    if (!p)
        return -ENOMEM;
    r = mkdir_p1(p);
    pf_free(p);
    p = pf_asprintf("%s/blobs/sha256", dir);
    if (!p)
        return -ENOMEM;
    if (r == 0)
        r = mkdir_p1(p);
    pf_free(p);
    if (r < 0)
        return layout_err(errbuf, errlen, r, "cannot create '%s/blobs/sha256'", dir);
    p = pf_asprintf("%s/oci-layout", dir);
    if (!p)
        return -ENOMEM;
    if (access(p, F_OK) < 0)
        r = write_atomic(p, OCI_LAYOUT_CONTENT, strlen(OCI_LAYOUT_CONTENT));
    pf_free(p);
    if (r < 0)
        return layout_err(errbuf, errlen, r, "cannot write '%s/oci-layout'", dir);
    return 0;
}

/* Either `data` (len bytes) or `fd` is the source. */
static int put_blob(const char *dir, const char *digest, const void *data, size_t len, int src_fd,
                    char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen)
{
    char computed[PF_DIGEST_BUFSZ], chunk[65536];
    char *tmp = NULL, *final = NULL;
    struct pf_sha256 h = {NULL};
    uint64_t off = 0;
    int fd = -1, r;

    if (digest && !pf_digest_sha256_hex(digest))
        return layout_err(errbuf, errlen, -EINVAL, "invalid digest '%.80s'", digest);
    tmp = pf_asprintf("%s/blobs/sha256/.tmp.XXXXXX", dir);
    r = tmp ? pf_sha256_init(&h) : -ENOMEM;
    if (r < 0)
        goto out;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = layout_err(errbuf, errlen, -errno, "cannot create a blob in '%s'", dir);
        goto out;
    }
    if (data) {
        r = pf_sha256_update(&h, data, len);
        if (r == 0)
            r = pf_write_all(fd, data, len);
    }
    while (!data && r == 0) {
        ssize_t n = pread(src_fd, chunk, sizeof(chunk), (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : 0;
            break;
        }
        off += (uint64_t)n;
        r = pf_sha256_update(&h, chunk, (size_t)n);
        if (r == 0)
            r = pf_write_all(fd, chunk, (size_t)n);
    }
    if (r == 0)
        r = pf_sha256_final(&h, computed);
    if (r == 0 && fchmod(fd, 0644) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r < 0) {
        layout_err(errbuf, errlen, r, "cannot write a blob in '%s'", dir);
        goto out;
    }
    if (digest && strcmp(digest, computed) != 0) {
        r = layout_err(errbuf, errlen, -EBADMSG, "blob digest mismatch: expected %s, got %s",
                       digest, computed);
        goto out;
    }
    final = pf_asprintf("%s/blobs/sha256/%s", dir, computed + 7);
    if (!final) {
        r = -ENOMEM;
        goto out;
    }
    if (rename(tmp, final) < 0) {
        r = layout_err(errbuf, errlen, -errno, "cannot store blob %s", computed);
        goto out;
    }
    tmp = pf_free(tmp);
    if (ret_digest)
        memcpy(ret_digest, computed, PF_DIGEST_BUFSZ);
out:
    if (fd >= 0)
        (void)close(fd);
    if (tmp && fd >= 0)
        (void)unlink(tmp);
    pf_free(tmp);
    pf_free(final);
    pf_sha256_release(&h);
    return r;
}

int pf_oci_layout_put_blob(const char *dir, const char *digest, const void *data, size_t len,
                           char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen)
{
    return put_blob(dir, digest, data ? data : "", len, -1, ret_digest, errbuf, errlen);
}

int pf_oci_layout_put_blob_fd(const char *dir, const char *digest, int fd,
                              char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen)
{
    return put_blob(dir, digest, NULL, 0, fd, ret_digest, errbuf, errlen);
}

/* Loads index.json, or a fresh empty index when it does not exist yet. New reference. */
static json_t *load_index(const char *path, int *ret_r)
{
    struct pf_buf b;
    json_t *root;
    int r;

    pf_buf_init(&b, PF_MANIFEST_MAX * 4);
    r = pf_buf_read_file(&b, path);
    if (r == -ENOENT) {
        pf_buf_release(&b);
        root = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", PF_MT_OCI_INDEX,
                         "manifests");
        *ret_r = root ? 0 : -ENOMEM;
        return root;
    }
    if (r < 0) {
        pf_buf_release(&b);
        *ret_r = r;
        return NULL;
    }
    root = json_loadb(b.p, b.len, 0, NULL);
    pf_buf_release(&b);
    if (!json_is_object(root) || !json_is_array(json_object_get(root, "manifests"))) {
        json_decref(root);
        *ret_r = -EINVAL;
        return NULL;
    }
    *ret_r = 0;
    return root;
}

static int index_replace(json_t *root, const struct pf_descriptor *desc, const char *ref_name)
{
    json_t *arr = json_object_get(root, "manifests");
    struct pf_descriptor d;
    json_t *entry;
    size_t i = 0;
    int r;

    while (i < json_array_size(arr)) {
        json_t *ann = json_object_get(json_array_get(arr, i), "annotations");
        const char *name = json_string_value(json_object_get(ann, PF_ANNOTATION_REF_NAME));
        if (name && strcmp(name, ref_name) == 0)
            (void)json_array_remove(arr, i);
        else
            i++;
    }
    r = pf_descriptor_copy(desc, &d);
    if (r < 0)
        return r;
    r = pf_descriptor_set_annotation(&d, PF_ANNOTATION_REF_NAME, ref_name);
    entry = r == 0 ? pf__descriptor_to_json(&d) : NULL;
    pf_descriptor_release(&d);
    if (!entry || json_array_append_new(arr, entry) < 0)
        return -ENOMEM;
    return 0;
}

int pf_oci_layout_add_ref(const char *dir, const struct pf_descriptor *desc, const char *ref_name,
                          char *errbuf, size_t errlen)
{
    char *lock_path = NULL, *index_path = NULL, *text = NULL;
    json_t *root = NULL;
    size_t len;
    int lock_fd = -1, r;

    if (!ref_name || !*ref_name || !desc->media_type || !pf_digest_sha256_hex(desc->digest))
        return layout_err(errbuf, errlen, -EINVAL, "invalid descriptor or ref name");
    lock_path = pf_asprintf("%s/.index.lock", dir);
    index_path = pf_asprintf("%s/index.json", dir);
    if (!lock_path || !index_path) {
        r = -ENOMEM;
        goto out;
    }
    lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) {
        r = layout_err(errbuf, errlen, -errno, "cannot open '%s'", lock_path);
        goto out;
    }
    do
        r = flock(lock_fd, LOCK_EX);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        r = layout_err(errbuf, errlen, -errno, "cannot lock '%s'", lock_path);
        goto out;
    }
    root = load_index(index_path, &r);
    if (!root) {
        layout_err(errbuf, errlen, r, "cannot read '%s'", index_path);
        goto out;
    }
    r = index_replace(root, desc, ref_name);
    if (r == 0)
        r = pf_json_dump(root, &text, &len);
    if (r == 0)
        r = write_atomic(index_path, text, len);
    if (r < 0)
        layout_err(errbuf, errlen, r, "cannot update '%s'", index_path);
out:
    if (lock_fd >= 0)
        (void)close(lock_fd); /* releases the flock */
    json_decref(root);
    pf_free(text);
    pf_free(lock_path);
    pf_free(index_path);
    return r;
}
