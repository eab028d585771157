/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpkg's diversions (`var/lib/dpkg/diversions`, written by dpkg-divert): "when a package other
 * than P unpacks FROM, write it to TO instead". A local diversion (made by the administrator,
 * `dpkg-divert --local`) applies to every package. The file holds three lines per diversion:
 * FROM, TO, and the diverting package or ":" for a local one.
 */
#ifndef WORKER_DEB_DPKG_DIVERSIONS_H
#define WORKER_DEB_DPKG_DIVERSIONS_H

#include "pf/setup.h"

struct worker_layer_view;

#define WORKER_DPKG_DIVERSIONS_FILE "var/lib/dpkg/diversions"

struct worker_dpkg_diversion {
    char *from, *to; /* absolute */
    char *package;   /* the diverting package; NULL for a local diversion */
};

struct worker_dpkg_diversions {
    struct worker_dpkg_diversion *v; /* sorted by `from` */
    size_t n;
};

/* Parses the file's text. Returns 0 with *ret filled, -EINVAL with "diversions line N: ..."
 * in errbuf, or -ENOMEM. */
int worker_dpkg_diversions_parse(const char *text, size_t len, struct worker_dpkg_diversions *ret,
                                 char *errbuf, size_t errlen);

/* Reads the file from the merged view (none there: no diversions); errors name the file. */
int worker_dpkg_diversions_load(const struct worker_layer_view *view,
                                struct worker_dpkg_diversions *ret, char *errbuf, size_t errlen);

/* Where `package` unpacking absolute path `path` puts it: the diversion's TO when the path is
 * diverted by another package or locally, else `path` itself. Borrowed. */
const char *worker_dpkg_diversions_target(const struct worker_dpkg_diversions *d, const char *path,
                                          const char *package);

void worker_dpkg_diversions_release(struct worker_dpkg_diversions *d);

#endif
