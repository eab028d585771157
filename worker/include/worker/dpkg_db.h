/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dpkg package database of an image, read from text: either the classic
 * `var/lib/dpkg/status` (one file, a Status line per stanza) or distroless
 * `var/lib/dpkg/status.d/<file>` (one control stanza per file, no Status line, the file name
 * not derivable from the package name, so it is remembered). Packages are kept sorted by name
 * then architecture, as dpkg writes them, so iteration is stable whatever order files came in.
 * Each package keeps its raw stanza so an unchanged package can be written back byte for byte.
 */
#ifndef WORKER_DPKG_DB_H
#define WORKER_DPKG_DB_H

#include "pf/setup.h"
#include "worker/deb822.h"

enum worker_dpkg_want {
    WORKER_DPKG_WANT_UNKNOWN,
    WORKER_DPKG_WANT_INSTALL,
    WORKER_DPKG_WANT_HOLD,
    WORKER_DPKG_WANT_DEINSTALL,
    WORKER_DPKG_WANT_PURGE,
    WORKER_DPKG_WANT__MAX,
    WORKER_DPKG_WANT_INVALID = -EINVAL,
};

enum worker_dpkg_eflag {
    WORKER_DPKG_EFLAG_OK,
    WORKER_DPKG_EFLAG_REINSTREQ,
    WORKER_DPKG_EFLAG__MAX,
    WORKER_DPKG_EFLAG_INVALID = -EINVAL,
};

enum worker_dpkg_state {
    WORKER_DPKG_STATE_NOT_INSTALLED,
    WORKER_DPKG_STATE_CONFIG_FILES,
    WORKER_DPKG_STATE_HALF_INSTALLED,
    WORKER_DPKG_STATE_UNPACKED,
    WORKER_DPKG_STATE_HALF_CONFIGURED,
    WORKER_DPKG_STATE_TRIGGERS_AWAITED,
    WORKER_DPKG_STATE_TRIGGERS_PENDING,
    WORKER_DPKG_STATE_INSTALLED,
    WORKER_DPKG_STATE__MAX,
    WORKER_DPKG_STATE_INVALID = -EINVAL,
};

enum worker_dpkg_db_kind {
    WORKER_DPKG_DB_STATUS,  /* var/lib/dpkg/status */
    WORKER_DPKG_DB_STATUSD, /* distroless var/lib/dpkg/status.d/ */
    WORKER_DPKG_DB_KIND__MAX,
};

struct worker_dpkg_conffile {
    char *path;
    char *md5; /* usually 32 hex digits; dpkg also writes "newconffile" */
    bool obsolete;
    bool remove_on_upgrade;
};

/*
 * One package. The string members are borrowed from `para` (NULL when the field is absent),
 * except source_name/source_version, which are owned (Source: "name (version)" is split).
 */
struct worker_dpkg_pkg {
    const char *name;
    const char *version;
    const char *arch;       /* "" when the stanza has no Architecture */
    const char *multi_arch; /* NULL, "same", "foreign", "allowed", "no" */
    const char *depends;    /* raw field value, may span lines */
    const char *pre_depends;
    char *source_name;      /* defaults to the package name */
    char *source_version;   /* defaults to the package version */
    bool has_status;        /* false for distroless status.d stanzas */
    enum worker_dpkg_want want;
    enum worker_dpkg_eflag eflag;
    enum worker_dpkg_state state;
    bool installed;         /* eflag ok and state installed (want install or hold); status.d: true */
    bool held;              /* want == hold */
    struct worker_dpkg_conffile *conffiles;
    size_t n_conffiles;
    char *statusd_file;     /* status.d file name this stanza came from; NULL for status */
    struct worker_deb822_para para; /* owned; para.raw is the original stanza */
};

struct worker_dpkg_db {
    enum worker_dpkg_db_kind kind;
    struct worker_dpkg_pkg **pkgs; /* sorted by name, then arch */
    size_t n;
    size_t cap;
};

/*
 * Parses a whole `var/lib/dpkg/status` text into a new database (*ret, freed with
 * worker_dpkg_db_free()). Every stanza needs Package, Version and a valid Status; duplicate
 * name+arch pairs are refused. Returns 0, -EINVAL (malformed; message in errbuf if not NULL),
 * -E2BIG (past a limit) or -ENOMEM; *ret is untouched on failure.
 */
int worker_dpkg_db_parse_status(const char *text, size_t len, struct worker_dpkg_db **ret,
                                char *errbuf, size_t errlen);

/* Returns a new, empty status.d database, or NULL on OOM. */
struct worker_dpkg_db *worker_dpkg_db_new_statusd(void);

/*
 * Adds the stanzas of one distroless status.d file named `file_name` (a base name, no '/').
 * Files whose name ends in ".md5sums" are skipped and 0 is returned. A Status line, when
 * present (Copa writes one), is honoured. Returns the number of packages added (>= 0),
 * -EINVAL (bad name, malformed stanza, duplicate name+arch), -E2BIG or -ENOMEM; on failure
 * the database is unchanged.
 */
int worker_dpkg_db_add_statusd_file(struct worker_dpkg_db *db, const char *file_name,
                                    const char *text, size_t len, char *errbuf, size_t errlen);

/* Frees the database and its packages; accepts NULL and returns NULL. */
struct worker_dpkg_db *worker_dpkg_db_free(struct worker_dpkg_db *db);

/*
 * Finds a package by name and architecture; a NULL `arch` matches the first package of that
 * name in sort order. Returns a borrowed pointer or NULL.
 */
const struct worker_dpkg_pkg *worker_dpkg_db_find(const struct worker_dpkg_db *db,
                                                  const char *name, const char *arch);

/* Parses a status word; the string tables are indexed by the enums. */
enum worker_dpkg_want worker_dpkg_want_from_string(const char *s);
enum worker_dpkg_eflag worker_dpkg_eflag_from_string(const char *s);
enum worker_dpkg_state worker_dpkg_state_from_string(const char *s);
/* Returns the status word, or NULL when out of range. */
const char *worker_dpkg_want_to_string(enum worker_dpkg_want w);
const char *worker_dpkg_state_to_string(enum worker_dpkg_state s);

/*
 * Parses a Conffiles value (lines " /path md5 [obsolete] [remove-on-upgrade]") into a new
 * array (*ret, count in *ret_n); free with worker_dpkg_conffiles_free(). Returns 0, -EINVAL
 * or -ENOMEM; outputs untouched on failure.
 */
int worker_dpkg_conffiles_parse(const char *value, struct worker_dpkg_conffile **ret,
                                size_t *ret_n);
/* Frees an array from worker_dpkg_conffiles_parse(); accepts NULL. */
void worker_dpkg_conffiles_free(struct worker_dpkg_conffile *c, size_t n);

#endif
