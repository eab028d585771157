/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The "apply" half of the Alpine engine: turns verified .apk packages into entries of the one
 * new layer, as `apk upgrade` would leave the filesystem without running any package script.
 * Paths are routed through the image's symlinks, files an old version shipped and the new one
 * does not become whiteouts, modified files under protected paths (etc/, not etc/apk/) are
 * kept with the new content beside them as ".apk-new", and lib/apk/db/installed, scripts.tar
 * and triggers are rewritten. Rules: docs/apk-engine.md.
 */
#ifndef WORKER_APK_APK_APPLY_H
#define WORKER_APK_APK_APPLY_H

#include "pf/setup.h"

struct worker_apk_db;
struct worker_apk_pkg;
struct worker_apk_pkgfile;
struct worker_layer_view;
struct worker_layer_writer;

struct worker_apk_apply_item {
    const struct worker_apk_pkg *candidate; /* index entry: its header becomes the new stanza */
    const struct worker_apk_pkgfile *file;  /* the opened, verified package */
};

/*
 * Adds to `w` what installing `items` changes and updates `db` (the installed database read
 * from the image) to the new state. `db_dir` is where the image keeps the database, resolved
 * through the view ("lib/apk/db" or "usr/lib/apk/db"). Returns 0, or a negative errno with a
 * message in errbuf: -EINVAL (two packages writing one path, a path that is a file and a
 * parent), -ENOTDIR/-ELOOP (unroutable path), -EBADMSG (corrupt package), -ENOMEM. On failure
 * `w` and `db` may hold part of the changes: discard both.
 */
int worker_apk_apply(const struct worker_layer_view *view, struct worker_apk_db *db,
                     const char *db_dir, const struct worker_apk_apply_item *items, size_t n,
                     struct worker_layer_writer *w, char *errbuf, size_t errlen);

#endif
