/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "apply" half of the native Debian engine: turns a set of package installs into entries
 * of the one new image layer, as `dpkg --unpack` + `--configure --force-confold` would leave
 * the filesystem, minus the maintainer scripts, which are never run. Paths are routed through
 * the image's directory symlinks (merged /usr), files the new versions no longer ship become
 * whiteouts, edited conffiles are kept, and the dpkg database (status + info/, or distroless
 * status.d) is rewritten. Rules and what is not reproduced: docs/deb-apply.md.
 */
#ifndef WORKER_DEB_DEB_APPLY_H
#define WORKER_DEB_DEB_APPLY_H

#include "pf/setup.h"
#include "deb/dpkg_diversions.h"
#include "deb/dpkg_statoverride.h"

struct worker_dpkg_db;
struct worker_dpkg_pkg;
struct worker_layer_view;
struct worker_layer_writer;

struct worker_deb_apply_item {
    const char *deb_path;              /* verified .deb */
    const struct worker_dpkg_pkg *old; /* the installed package this replaces (borrowed from the
                                          db given to worker_deb_apply()), or NULL when newly
                                          installed */
};

struct worker_deb_apply_options {
    const char *spool_dir;   /* private dir for spooled file contents; NULL copies every file
                              into the writer's memory (bounded by the writer's limit) */
    int *ret_spool_fd;       /* required with spool_dir, else may be NULL: receives the fd of
                              the (already unlinked) spool file the writer borrows, which the
                              caller closes after worker_layer_writer_finish(); -1 without
                              spool_dir or on failure (the fd is then closed already) */
    const char *native_arch; /* "amd64": the only architecture besides "all" a new package may
                                have */
    /* The image's stat overrides (worker/dpkg_statoverride.h), applied to the files and
     * directories packages unpack, as dpkg does; NULL: none. */
    const struct worker_dpkg_statoverrides *statoverrides;
    /* The image's diversions (worker/dpkg_diversions.h): a diverted path is unpacked, and
     * whited out when dropped, at its diverted name, as dpkg does; NULL: none. */
    const struct worker_dpkg_diversions *diversions;
    /* Bound on the regular file bytes of one package's data.tar (uncompressed); 0 means
     * WORKER_DEB_MAX_PACKAGE_SIZE. Past it the apply fails naming the package (-EFBIG). */
    uint64_t max_package_size;
};

/* The default package bound. Measured on bookworm main amd64 (63,314 packages, Installed-Size):
 * 18 above 1 GiB, 6 above 4 GiB, the largest 5.4 GiB (linux-image-*-rt-amd64-dbg, then
 * unidic-mecab at 4.8 GiB); 16 GiB leaves three times that. */
#define WORKER_DEB_MAX_PACKAGE_SIZE ((uint64_t)16 << 30)

/*
 * Adds to `w` everything the installs in `items` change (see docs/deb-apply.md): the data.tar
 * entries at the paths they land on in `view`, needed parent directories with the view's
 * attributes, whiteouts for files an old version listed that nothing ships or claims any more,
 * conffiles per dpkg's --force-confold rules, and the dpkg database files. Updates `db` in
 * memory to the new state: the `old` package pointers of `items` are invalid afterwards.
 * Returns 0, or -EINVAL with a message in errbuf (a malformed or hostile .deb, a .deb whose
 * Package/Architecture does not match its item, two items writing the same path), -ENOTDIR /
 * -ELOOP (a path that cannot be routed through the view), -ENOMEM, or the errno of a failed
 * spool write. On failure `w` and `db` may hold part of the changes: discard both.
 */
int worker_deb_apply(struct worker_layer_view *view, struct worker_dpkg_db *db,
                     const struct worker_deb_apply_item *items, size_t n,
                     const struct worker_deb_apply_options *o, struct worker_layer_writer *w,
                     char *errbuf, size_t errlen);

#endif
