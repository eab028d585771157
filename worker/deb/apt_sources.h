/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apt source lists of an image: the one-line format (etc/apt/sources.list, *.list) and the
 * deb822 format (*.sources). Both are flattened into one entry per (URI, suite) of type "deb";
 * deb-src lines and disabled stanzas are dropped, since the patch engine only fetches binaries.
 * A flat repository (suite ending in '/', no components) is kept as such: its index lives at
 * <uri>/<suite>Packages rather than under dists/.
 */
#ifndef WORKER_DEB_APT_SOURCES_H
#define WORKER_DEB_APT_SOURCES_H

#include "pf/setup.h"
#include "pf/strv.h"

struct worker_apt_source {
    char *uri;
    char *suite;
    struct pf_strv components; /* empty for a flat repository */
    struct pf_strv archs;      /* arch= / Architectures:, empty when not restricted */
    char *signed_by;       /* keyring path(s) or fingerprints, or an inline key; NULL if unset */
    bool signed_by_inline; /* signed_by holds an ASCII-armored key block */
    bool trusted;          /* trusted=yes / Trusted: yes */
    bool flat;
    char *file; /* the list file it came from, as given by the caller */
    size_t line;
};

struct worker_apt_sources {
    struct worker_apt_source *v;
    size_t n;
    size_t cap;
};

#define WORKER_APT_SOURCES_INIT                                                                    \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }
#define WORKER_APT_SOURCES_MAX_INPUT ((size_t)1 << 20)
#define WORKER_APT_SOURCES_MAX_ENTRIES ((size_t)4096)

/*
 * Appends the "deb" entries of a one-line sources.list text (file name `file`, kept for
 * messages and provenance). Returns the number of entries added, -EINVAL on a malformed line
 * (message "FILE:LINE: ..." in errbuf when not NULL), -E2BIG past a limit or -ENOMEM; `s` is
 * unchanged on failure.
 */
int worker_apt_sources_parse_list(struct worker_apt_sources *s, const char *file, const char *text,
                                  size_t len, char *errbuf, size_t errlen);

/*
 * Same for a deb822 .sources text: Types, URIs, Suites, Components, Architectures, Signed-By,
 * Trusted, Enabled. Each stanza yields URIs x Suites entries when Types has "deb".
 */
int worker_apt_sources_parse_deb822(struct worker_apt_sources *s, const char *file,
                                    const char *text, size_t len, char *errbuf, size_t errlen);

/* Frees the members of one entry (not the entry itself) and zeroes it. */
void worker_apt_source_release(struct worker_apt_source *e);

/* Frees every entry; leaves an empty, reusable list. Accepts NULL. */
void worker_apt_sources_clear(struct worker_apt_sources *s);

#endif
