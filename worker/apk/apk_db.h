/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apk's stanza text, shared by APKINDEX and /lib/apk/db/installed: "X:value" lines, a blank
 * line between packages. The index gives the header letters (C P V A S I T ... D p i); the
 * installed database adds the file records (F: directory, M: its owner/mode, R: file, a: its
 * owner/mode, Z: its checksum). Header lines are kept verbatim and in order, so a package the
 * patch does not touch is rendered back byte for byte. Rules: docs/apk-engine.md.
 */
#ifndef WORKER_APK_APK_DB_H
#define WORKER_APK_APK_DB_H

#include "pf/setup.h"
#include "pf/strv.h"

/* Largest index or database text accepted, and longest line (apko met a 72 KB p: line). */
#define WORKER_APK_DB_MAX_TEXT ((size_t)256 << 20)
#define WORKER_APK_DB_MAX_LINE ((size_t)1 << 20)

/* One R: record. */
struct worker_apk_file {
    char *name;   /* basename inside its directory */
    char *csum;   /* Z: value as written ("Q1..."), or NULL */
    bool has_acl; /* an a: line was given */
    uint32_t uid, gid, mode;
};

/* One F: record with its files. */
struct worker_apk_dir {
    char *path;   /* relative, no leading or trailing '/'; "" is the root */
    bool has_acl; /* an M: line was given */
    uint32_t uid, gid, mode;
    struct worker_apk_file *files;
    size_t n_files;
};

struct worker_apk_pkg {
    char *name, *version, *arch, *identity; /* P V A C (identity may be NULL) */
    char *origin;                           /* o, or NULL */
    struct pf_strv depends;                 /* D atoms */
    struct pf_strv provides;                /* p atoms */
    struct pf_strv header;                  /* every non-file line, verbatim "X:value" */
    struct worker_apk_dir *dirs;
    size_t n_dirs;
    bool uninstallable; /* an unknown upper-case field (apk refuses such index entries) */
    size_t repo;        /* index of the repository it came from (set by the caller) */
};

struct worker_apk_db {
    struct worker_apk_pkg *v;
    size_t n;
    size_t cap;
};

/*
 * Parses stanza text (`installed` true: file records allowed, an unknown f: flag refused) and
 * appends the packages to `db` (zeroed or previously filled). Returns the number of packages
 * added, or -EBADMSG for malformed text (a line without ':', a record outside a package, a
 * stanza without P or V, a file record before F:, a bad M:/a: field, a P:, V:, A: or C: value
 * refused by the checks below, named with its value in errbuf), -E2BIG past the limits,
 * or -ENOMEM; the reason with its line number goes to errbuf. `db` may hold part of the
 * packages on failure (free it).
 */
int worker_apk_db_parse(struct worker_apk_db *db, const char *text, size_t len, bool installed,
                        char *errbuf, size_t errlen);

/*
 * The checks applied where a P:, V: or A: value is read (index and installed database alike),
 * so no name, version or architecture from a repository or an image can steer a path or a URL:
 * a package name is apk-tools' name class [A-Za-z0-9+._-] not starting with '.' or '-'; a
 * version is any printable ASCII without blanks, '/' or backslash (apk orders versions its grammar
 * calls invalid, docs/versions.md); an architecture is [A-Za-z0-9_-]+.
 */
bool worker_apk_name_valid(const char *s);
bool worker_apk_version_safe(const char *s);
bool worker_apk_arch_valid(const char *s);

/* Frees every package of `db` and zeroes it; accepts a zeroed struct. */
void worker_apk_db_release(struct worker_apk_db *db);

/* Frees the members of one package and zeroes it. */
void worker_apk_pkg_release(struct worker_apk_pkg *p);

/*
 * Renders `db` as an installed database (header lines verbatim, then F/M/R/a/Z, a blank line
 * after each package) into a new string *ret of *ret_len bytes (pf_free() it). Returns 0 or
 * -ENOMEM.
 */
int worker_apk_db_render(const struct worker_apk_db *db, char **ret, size_t *ret_len);

/* Returns the package named `name` in `db`, or NULL (borrowed). */
struct worker_apk_pkg *worker_apk_db_find(const struct worker_apk_db *db, const char *name);

/* A dependency atom "[!]name[@tag][op version]". */
struct worker_apk_atom {
    char name[256];
    char tag[64]; /* "" without @tag */
    char op[4];   /* "", "=", "<", ">", "<=", ">=", "~", ">~", "<~", "><" */
    char version[256];
    bool conflict; /* leading '!' */
};

/* Splits one atom. Returns 0, or -EINVAL for an empty or over-long part. */
int worker_apk_atom_parse(const char *s, struct worker_apk_atom *ret);

/* Adds a package (all fields copied from `p`, deep) to `db`. Returns 0 or -ENOMEM. */
int worker_apk_db_add_copy(struct worker_apk_db *db, const struct worker_apk_pkg *p);

/* Returns "Q1" + base64 of a 20-byte SHA-1 in `out` (at least 31 bytes). */
void worker_apk_q1(const unsigned char sha1[20], char out[31]);

#endif
