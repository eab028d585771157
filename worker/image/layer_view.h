/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The merged view of an image's layers, read straight from the layer tarballs: an in-memory
 * tree of path entries (type, mode, owner, size, link target, source layer) plus the content of
 * the few files a caller asks to keep (os-release, the dpkg database, apt configuration).
 * Layers are applied bottom to top with OCI whiteout semantics; every hostile layer (absolute
 * or ".." names, escaping hard links, tar bombs) is refused whole, before the view changes.
 * Nothing is ever written to the filesystem and symlinks are data, resolved only inside the
 * view with the image root as "/". Rules and limits: docs/layers.md.
 */
#ifndef WORKER_IMAGE_LAYER_VIEW_H
#define WORKER_IMAGE_LAYER_VIEW_H

#include <sys/types.h>

#include "pf/setup.h"

struct pf_strv;
struct worker_layer_view;

enum worker_layer_type {
    WORKER_LAYER_REG,
    WORKER_LAYER_DIR,
    WORKER_LAYER_SYMLINK,
    WORKER_LAYER_HARDLINK,
    WORKER_LAYER_TYPE__MAX,
};

/* One path of the merged view. Every pointer is borrowed from the view and stays valid until
 * the next worker_layer_view_apply*() or worker_layer_view_free(). */
struct worker_layer_entry {
    const char *path; /* normalised, relative to the image root ("" is the root itself) */
    enum worker_layer_type type;
    uint32_t mode; /* permission bits only (07777) */
    uint32_t uid;
    uint32_t gid;
    uint64_t size;    /* size recorded in the tar header (regular files) */
    const char *link; /* symlink target as stored, or normalised hard link target; else NULL */
    unsigned layer;   /* 0-based index of the layer that last wrote this entry */
    bool has_content; /* the content was kept (see worker_layer_view_read()) */
};

/* Decides whether the content of the regular file at `path` (normalised, as named in the layer
 * tar) is kept in memory. */
typedef bool (*worker_layer_keep_cb)(const char *path, void *userdata);

/* Limits; a zero field takes the default named beside it. */
struct worker_layer_view_options {
    size_t max_entries_per_layer; /* WORKER_LAYER_MAX_ENTRIES */
    size_t max_file_content;      /* WORKER_LAYER_MAX_FILE_CONTENT */
    size_t max_total_content;     /* WORKER_LAYER_MAX_TOTAL_CONTENT */
    uint64_t max_layer_size;      /* uncompressed file bytes of one layer, WORKER_LAYER_MAX_SIZE */
    worker_layer_keep_cb keep;    /* NULL keeps no content at all */
    void *keep_userdata;
};

#define WORKER_LAYER_MAX_ENTRIES 2000000u
#define WORKER_LAYER_MAX_FILE_CONTENT (64u * 1024 * 1024)
#define WORKER_LAYER_MAX_TOTAL_CONTENT (256u * 1024 * 1024)
/* The sum of the regular files' sizes in one layer, as the tar declares them (read before the
 * content, so a layer of zeros is refused without inflating it). Large CUDA and ML base layers
 * are 5-15 GiB uncompressed; 64 GiB leaves a wide margin; `--max-layer-size` raises it. */
#define WORKER_LAYER_MAX_SIZE ((uint64_t)64 << 30)
#define WORKER_LAYER_MAX_PATH 4096u
#define WORKER_LAYER_MAX_DEPTH 256u
#define WORKER_LAYER_MAX_SYMLINKS 40u

struct worker_layer_view_stats {
    unsigned layers;        /* layers applied successfully */
    size_t entries;         /* live entries, the root excluded */
    size_t skipped_special; /* device nodes, fifos and sockets skipped so far */
    size_t content_bytes;   /* bytes of kept content currently held */
};

/* Reads up to `cap` bytes into `buf`; returns the count, 0 at end of stream, or a negative
 * errno. */
typedef ssize_t (*worker_layer_read_cb)(void *userdata, void *buf, size_t cap);

/* Creates an empty view (just the root directory). `opts` may be NULL and is copied.
 * Returns 0 and a new view in *ret, or -ENOMEM. */
int worker_layer_view_new(const struct worker_layer_view_options *opts,
                          struct worker_layer_view **ret);

/* Frees the view and all it holds; accepts NULL; returns NULL. */
struct worker_layer_view *worker_layer_view_free(struct worker_layer_view *v);

/* Applies one layer tar (uncompressed, gzip or zstd, detected from the data) on top of the
 * view. The whole layer is read and checked before anything changes, so a layer refused while
 * reading leaves the view as it was. Returns 0 on success, or a negative errno with the reason
 * (naming the offending entry) in errbuf: -EINVAL for a hostile or malformed name or hard link,
 * -ENAMETOOLONG for a name over the length or depth limit, -E2BIG for too many entries, -EFBIG
 * when kept content exceeds its limits, -EBADMSG for a corrupt archive, -ENOMEM, or the
 * reader's own error. Errors found while merging a fully read layer (-ENOTDIR when an entry
 * needs a non-directory as its parent, -ELOOP for a symlink loop in a parent, -ENOMEM) leave
 * the view half-updated: every later apply then fails with -ESTALE and the caller should drop
 * the view. The three variants differ only in where the bytes come from; none takes
 * ownership of fd, data or userdata. */
int worker_layer_view_apply_fd(struct worker_layer_view *v, int fd, char *errbuf, size_t errlen);
int worker_layer_view_apply_memory(struct worker_layer_view *v, const void *data, size_t len,
                                   char *errbuf, size_t errlen);
int worker_layer_view_apply_reader(struct worker_layer_view *v, worker_layer_read_cb cb,
                                   void *userdata, char *errbuf, size_t errlen);

/* Resolves `path` (absolute or relative to the image root) through the view's symlinks as the
 * kernel would inside a chroot: absolute targets start again at the image root, ".." never
 * goes above it, at most WORKER_LAYER_MAX_SYMLINKS links are followed. Components that do not
 * exist are kept literally, so the result also names where a new file would land. The final
 * component is followed too unless `nofollow` is true (what a writer replacing it wants).
 * Returns 0 and a new normalised string ("" for the root) in *ret_resolved; -ELOOP, -ENOTDIR
 * (a non-directory used as a directory), -ENAMETOOLONG or -ENOMEM with the reason in errbuf. */
int worker_layer_view_resolve(const struct worker_layer_view *v, const char *path, bool nofollow,
                              char **ret_resolved, char *errbuf, size_t errlen);

/* Looks up `path` after resolving its parents (the final component is not followed).
 * Returns a borrowed entry, or NULL when the path does not exist or cannot be resolved. */
const struct worker_layer_entry *worker_layer_view_get(const struct worker_layer_view *v,
                                                       const char *path);

/* Gives the kept content of `path` (parents resolved; a final symlink or hard link is followed).
 * On success *ret_data is borrowed (NUL-terminated for convenience, valid like an entry) and
 * *ret_len is its length. Returns 0, -ENOENT, -EISDIR, -ENODATA when the content was not
 * kept, or -ELOOP. */
int worker_layer_view_read(const struct worker_layer_view *v, const char *path,
                           const char **ret_data, size_t *ret_len);

/* Appends the names of the children of directory `path` (resolved, final component followed)
 * to `ret` in bytewise order. Returns the count added, -ENOENT, -ENOTDIR, -ELOOP or -ENOMEM
 * (ret may then hold some of the names). */
int worker_layer_view_list(const struct worker_layer_view *v, const char *path,
                           struct pf_strv *ret);

/* Fills *ret with counters about the view. */
void worker_layer_view_get_stats(const struct worker_layer_view *v,
                                 struct worker_layer_view_stats *ret);

#endif
