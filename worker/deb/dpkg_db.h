/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dpkg package database of an image, read from text: either the classic
 * `var/lib/dpkg/status` (one file, a Status line per stanza) or distroless
 * `var/lib/dpkg/status.d/<file>` (one control stanza per file, no Status line, the file name
 * not derivable from the package name, so it is remembered). Packages are kept sorted by name
 * then architecture, as dpkg writes them, so iteration is stable whatever order files came in.
 * Each package keeps its raw stanza so an unchanged package can be written back byte for byte.
 */
#ifndef WORKER_DEB_DPKG_DB_H
#define WORKER_DEB_DPKG_DB_H

#include "pf/setup.h"
#include "deb/deb822.h"

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
    char *source_name;    /* defaults to the package name */
    char *source_version; /* defaults to the package version */
    bool has_status;      /* false for distroless status.d stanzas */
    enum worker_dpkg_want want;
    enum worker_dpkg_eflag eflag;
    enum worker_dpkg_state state;
    bool installed; /* eflag ok and state installed (want install or hold); status.d: true */
    bool held;      /* want == hold */
    struct worker_dpkg_conffile *conffiles;
    size_t n_conffiles;
    char *statusd_file;             /* status.d file name this stanza came from; NULL for status */
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
const struct worker_dpkg_pkg *worker_dpkg_db_find(const struct worker_dpkg_db *db, const char *name,
                                                  const char *arch);

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

/* Writing the database back (dpkg_db_write.c). */

/*
 * Renders every stanza of `db` as a `var/lib/dpkg/status` text: stanzas in the database's
 * order (name, then architecture, as dpkg sorts), each one's raw text byte for byte, each
 * followed by a blank line. Returns 0 with a new NUL-terminated string in *ret (the caller
 * frees it with pf_free()) and its length in *ret_len, or -ENOMEM; outputs untouched on failure.
 */
int worker_dpkg_db_render_status(const struct worker_dpkg_db *db, char **ret, size_t *ret_len);

/*
 * Renders one status stanza from a package's `control` paragraph in dpkg's field order
 * (lib/dpkg/parse.c fieldinfos[], unknown fields after in their original order), with
 * `status` (e.g. "install ok installed"; NULL for none) as the Status field and the
 * `n_conffiles` entries of `conffiles` as the Conffiles field (none when 0). Status, Conffiles
 * and Config-Version fields of the control paragraph itself are dropped. Returns 0 with a new
 * string (ending in one '\n', no blank line) in *ret and its length in *ret_len, or -ENOMEM.
 */
int worker_dpkg_render_stanza(const struct worker_deb822_para *control, const char *status,
                              const struct worker_dpkg_conffile *conffiles, size_t n_conffiles,
                              char **ret, size_t *ret_len);

/*
 * Puts the package described by one stanza (`len` bytes) into `db`, replacing the package of
 * the same name and architecture (whose pointers become invalid) or inserting it in sort
 * order. A status database needs a Status field; a status.d database takes `statusd_file`, the
 * file name the stanza is written to. Returns 1 when a package was replaced, 0 when inserted,
 * or -EINVAL (not exactly one valid stanza; message in errbuf) or -ENOMEM; on failure `db` is
 * unchanged. On success *ret_pkg (when not NULL) is the new package, borrowed from `db`.
 */
int worker_dpkg_db_put(struct worker_dpkg_db *db, const char *stanza, size_t len,
                       const char *statusd_file, const struct worker_dpkg_pkg **ret_pkg,
                       char *errbuf, size_t errlen);

/*
 * The grammars every name, version and architecture read from an index, a database or a package
 * header is held to where it is read, so none can steer a path (docs/security.md): a Package is
 * dpkg's [a-z0-9][a-z0-9+.-]*, an Architecture [a-z0-9-]+, a Version what dpkg parses without
 * error and within its alphabet [0-9A-Za-z.+~:-] (dpkg only warns about other bytes).
 * worker_dpkg_version_check() returns 0, -EINVAL with the reason in errbuf, or -ENOMEM.
 */
bool worker_dpkg_name_valid(const char *s);
bool worker_dpkg_arch_valid(const char *s);
int worker_dpkg_version_check(const char *s, char *errbuf, size_t errlen);

#endif
