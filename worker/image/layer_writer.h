/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writer of the one new layer a native patch produces. Entries are collected in memory
 * (content either copied or borrowed as a range of a file the caller keeps open), then
 * worker_layer_writer_finish() emits a tar.gz whose bytes depend only on the entries and the
 * fixed timestamp: entries sorted by path components, fixed mtime, no atime/ctime, empty
 * uname/gname, a fixed gzip header. Reproducible bytes let a re-run recognise a layer that is
 * "unchanged since TAG" by its digest alone. Format decisions: docs/layer-writer.md.
 */
#ifndef WORKER_IMAGE_LAYER_WRITER_H
#define WORKER_IMAGE_LAYER_WRITER_H

#include "pf/digest.h"
#include "pf/setup.h"

struct worker_layer_writer;

/* Ownership and permission of one entry. `mode` keeps the permission bits only (07777). */
struct worker_layer_attr {
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
};

/* What worker_layer_writer_finish() produced: the OCI descriptor fields of the blob. */
struct worker_layer_result {
    char digest[PF_DIGEST_BUFSZ];  /* sha256 of the compressed bytes written to out_fd */
    char diff_id[PF_DIGEST_BUFSZ]; /* sha256 of the uncompressed tar */
    uint64_t size;                 /* compressed size */
    uint64_t uncompressed_size;    /* tar size */
};

#define WORKER_LAYER_WRITER_MAX_PATH 4096u
#define WORKER_LAYER_WRITER_MAX_ENTRIES 2000000u
/* Bound on the content copied by worker_layer_writer_add_file_mem(); fd-backed content is
 * streamed and does not count. */
#define WORKER_LAYER_WRITER_MAX_MEM (256u * 1024 * 1024)
/* Default bound on the file bytes of one patch layer (uncompressed): a patch holds the
 * upgraded packages (a few of bookworm's largest, 5.4 GiB each, would fit), as large as the
 * layer bound; raised with `--max-patch-layer-size`. */
#define WORKER_LAYER_WRITER_MAX_SIZE ((uint64_t)64 << 30)
/* The largest timestamp an ustar header holds (11 octal digits). */
#define WORKER_LAYER_WRITER_MAX_MTIME 077777777777LL

/*
 * Creates an empty writer whose entries all get the modification time `mtime` (seconds since
 * the epoch, like SOURCE_DATE_EPOCH; 0 is the usual choice). Returns 0 and a new writer in
 * `ret` (free with worker_layer_writer_free()), -EINVAL for an mtime outside
 * 0..WORKER_LAYER_WRITER_MAX_MTIME, or -ENOMEM.
 */
int worker_layer_writer_new(int64_t mtime, struct worker_layer_writer **ret);

/* Sets the bound on the file bytes (memory and fd content alike) the writer accepts; 0 restores
 * WORKER_LAYER_WRITER_MAX_SIZE. An add past it gives -EFBIG and changes nothing. */
void worker_layer_writer_set_max_size(struct worker_layer_writer *w, uint64_t max);

/* Returns the bound set by worker_layer_writer_set_max_size() (for error messages). */
uint64_t worker_layer_writer_max_size(const struct worker_layer_writer *w);

/* Frees the writer and every copied content; accepts NULL and returns NULL. Borrowed fds are
 * not closed. */
struct worker_layer_writer *worker_layer_writer_free(struct worker_layer_writer *w);

/*
 * Path rules shared by every add function: relative, no leading "/", no "." or ".." or empty
 * component, no trailing "/", at most WORKER_LAYER_WRITER_MAX_PATH bytes, and no component
 * starting with ".wh." (those names mean whiteouts; use the whiteout functions). A path that
 * breaks a rule gives -EINVAL. Adding a path that is already in the writer gives -EEXIST (also
 * reported again by finish). -E2BIG when WORKER_LAYER_WRITER_MAX_ENTRIES entries are held,
 * -EFBIG when a file's bytes would pass the writer's size bound,
 * -ENOMEM on allocation failure. Nothing changes on failure.
 */

/* Adds a directory entry. Parent directories are never implied: add each one that the layer
 * must carry, with the mode and owner of the merged view. */
int worker_layer_writer_add_dir(struct worker_layer_writer *w, const char *path,
                                const struct worker_layer_attr *attr);

/* Adds a regular file whose content is copied from `data` (`len` bytes; data may be NULL when
 * len is 0). -E2BIG when the copied content would pass WORKER_LAYER_WRITER_MAX_MEM. */
int worker_layer_writer_add_file_mem(struct worker_layer_writer *w, const char *path,
                                     const struct worker_layer_attr *attr, const void *data,
                                     size_t len);

/*
 * Adds a regular file whose content is `length` bytes of `fd` from `offset`, read with pread()
 * in chunks during finish (the fd offset is not moved). The fd is borrowed: the caller keeps it
 * open and unchanged until finish returns. -EINVAL for a negative fd.
 */
int worker_layer_writer_add_file_fd(struct worker_layer_writer *w, const char *path,
                                    const struct worker_layer_attr *attr, int fd, uint64_t offset,
                                    uint64_t length);

/* Adds a symbolic link to `target`, stored as given (it is data, never resolved); the target
 * must be non-empty and at most WORKER_LAYER_WRITER_MAX_PATH bytes, else -EINVAL. */
int worker_layer_writer_add_symlink(struct worker_layer_writer *w, const char *path,
                                    const struct worker_layer_attr *attr, const char *target);

/* Adds a hard link to `target`, which must name a regular file added to this same writer;
 * checked by finish (-EINVAL). The link's header carries the target's mode and owner. */
int worker_layer_writer_add_hardlink(struct worker_layer_writer *w, const char *path,
                                     const char *target);

/* Adds the whiteout that deletes `path` of the lower layers: an empty regular file
 * "<dir>/.wh.<name>", mode 0644, owner 0:0. */
int worker_layer_writer_add_whiteout(struct worker_layer_writer *w, const char *path);

/* Adds the opaque whiteout of directory `dir` ("" for the root): "<dir>/.wh..wh..opq", which
 * hides everything the lower layers hold below `dir`. */
int worker_layer_writer_add_opaque(struct worker_layer_writer *w, const char *dir);

/*
 * Writes the layer as a gzip-compressed tar to `out_fd` (from its current position) and fills
 * `ret`. All checks (duplicate paths -EEXIST, dangling or non-file hard link targets -EINVAL)
 * run before the first byte is written. Afterwards: -EIO when a borrowed fd ends before its
 * range or compression fails, or the errno of a failed read()/write(); out_fd then holds a
 * partial blob the caller discards. `ret` is untouched on failure. A writer can be finished
 * once; a second call gives -EINVAL.
 */
int worker_layer_writer_finish(struct worker_layer_writer *w, int out_fd,
                               struct worker_layer_result *ret);

#endif
