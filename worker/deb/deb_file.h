/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Debian binary package read from a file: an ar archive ("!<arch>\n") holding debian-binary
 * ("2.x\n"), control.tar[.gz|.xz|.zst] and data.tar[.gz|.xz|.zst|.bz2|.lzma], in that order
 * (members named "_*" between them are skipped, members after data.tar ignored). Every size
 * and name is bounds-checked against the file; the tars go through libarchive with in-process
 * decompressors only. The control part is held in memory, data.tar is streamed on demand so a
 * large package never sits in memory. Nothing from the package is ever executed.
 */
#ifndef WORKER_DEB_DEB_FILE_H
#define WORKER_DEB_DEB_FILE_H

#include <sys/types.h>

#include "pf/setup.h"
#include "image/layer_view.h"

struct worker_deb822_para;
struct worker_deb_file;

/* Limits on what the control part may hold. */
#define WORKER_DEB_MAX_CONTROL_TAR (64u * 1024 * 1024)   /* control.tar member, compressed */
#define WORKER_DEB_MAX_CONTROL_FILE (4u * 1024 * 1024)   /* control, md5sums, conffiles each */
#define WORKER_DEB_MAX_CONTROL_MEMBERS 256u              /* other control members kept */
#define WORKER_DEB_MAX_CONTROL_TOTAL (32u * 1024 * 1024) /* their bytes together */
#define WORKER_DEB_MAX_DATA_ENTRIES 1000000u
#define WORKER_DEB_MAX_PATH 4096u

/*
 * A control member other than control, md5sums and conffiles (maintainer scripts, shlibs,
 * symbols, triggers, templates, config, ...), which dpkg copies to info/<pkg>.<name>. Only
 * the names dpkg installs are kept: a regular file at the top of control.tar whose name does
 * not start with '.', holds no '.' and is not "list" (dpkg skips those). Borrowed.
 */
struct worker_deb_control_member {
    char *name;
    char *data; /* may hold NUL bytes; NUL-terminated for convenience */
    size_t len;
    uint32_t mode; /* permission bits (07777) as in the archive */
};

/* One member of data.tar. Pointers are borrowed for the duration of the callback. */
struct worker_deb_data_entry {
    const char *path; /* normalised, "./" stripped, "" = root */
    enum worker_layer_type type;
    uint32_t mode, uid, gid; /* permission bits only (07777) and numeric owner */
    uint64_t size;           /* regular files */
    const char *link;        /* symlink target as stored, or normalised hard link target */
};

/*
 * Called for every data.tar entry in archive order. For a regular file the callback may pull
 * the content with worker_deb_data_read(ctx, ...) (unread content is skipped). Returning a
 * negative errno stops the walk and is returned by worker_deb_file_each_data().
 */
typedef int (*worker_deb_data_cb)(const struct worker_deb_data_entry *e, void *ctx, void *userdata);

/*
 * Opens and checks the .deb at `path`: ar structure, debian-binary, and the whole control.tar
 * (control must be one deb822 paragraph with Package, Version and Architecture; a member in a
 * subdirectory is refused, as dpkg refuses it). data.tar is only located here. Returns 0 and a
 * new object in *ret (free with worker_deb_file_free()), or -EINVAL (malformed package, message
 * in errbuf), -EBADMSG (corrupt compressed data), -EFBIG (a control file over its limit, or
 * more than WORKER_DEB_MAX_CONTROL_MEMBERS members or WORKER_DEB_MAX_CONTROL_TOTAL bytes of
 * them), -ENOMEM, or the errno of open()/read().
 */
int worker_deb_file_open(const char *path, struct worker_deb_file **ret, char *errbuf,
                         size_t errlen);

/* Frees the object and closes its file; accepts NULL and returns NULL. */
struct worker_deb_file *worker_deb_file_free(struct worker_deb_file *d);

/* The control paragraph (Package, Version, ...); borrowed, valid until free. */
const struct worker_deb822_para *worker_deb_file_control(const struct worker_deb_file *d);

/* The exact text of the control file (NUL-terminated); borrowed, valid until free. */
const char *worker_deb_file_control_text(const struct worker_deb_file *d);

/* The md5sums text ("<32 hex>  <path>" lines) or NULL when the package has none; borrowed. */
const char *worker_deb_file_md5sums(const struct worker_deb_file *d);

/* The conffiles text (one absolute path per line, maybe with a flag) or NULL; borrowed. */
const char *worker_deb_file_conffiles(const struct worker_deb_file *d);

/*
 * The other control members in archive order (a repeated name keeps its last copy), with
 * their count in *ret_n; borrowed, valid until free. NULL with *ret_n = 0 when there are none.
 */
const struct worker_deb_control_member *worker_deb_file_members(const struct worker_deb_file *d,
                                                                size_t *ret_n);

/*
 * Streams data.tar from the start, calling `cb` for each entry (it may be called again for a
 * second pass). Hostile entries (names refused by pf_archive_entry_name_normalise: absolute,
 * "..", control characters, over WORKER_DEB_MAX_PATH bytes or PF_ARCHIVE_NAME_MAX_DEPTH
 * components; empty or too long link targets, hard links to the root, device nodes and
 * fifos, more than WORKER_DEB_MAX_DATA_ENTRIES entries) give -EINVAL naming the entry; a corrupt archive gives -EBADMSG; a callback's own
 * negative return is passed through. Returns 0 when every entry was seen.
 */
int worker_deb_file_each_data(struct worker_deb_file *d, worker_deb_data_cb cb, void *userdata,
                              char *errbuf, size_t errlen);

/* Reads up to `cap` bytes of the current regular file inside a worker_deb_data_cb. Returns the
 * count, 0 at the end of the file, or -EBADMSG for corrupt data. */
ssize_t worker_deb_data_read(void *ctx, void *buf, size_t cap);

#endif
