/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PatchConfig: the bulk-patching file of Copa (apiVersion copa.sh/v1alpha1, kind PatchConfig),
 * read with libyaml into plain structs. Unlike Copa the reader is strict: unknown keys, wrong
 * types, missing fields, bad regexes, bad templates and duplicate names are all reported, each
 * with its line and column, and all of them in one pass (see docs/config.md).
 */
#ifndef PF_CONFIG_H
#define PF_CONFIG_H

#include "pf/diag.h"
#include "pf/strv.h"

#define PF_CONFIG_API_VERSION "copa.sh/v1alpha1"
#define PF_CONFIG_KIND "PatchConfig"
#define PF_DEFAULT_TAG_TEMPLATE "{{ .SourceTag }}-patched"
/* A config larger than this is refused: no sane PatchConfig comes near it. */
#define PF_CONFIG_MAX_BYTES ((size_t)16 << 20)

enum pf_tag_strategy {
    PF_STRATEGY_LIST,
    PF_STRATEGY_PATTERN,
    PF_STRATEGY_LATEST,
    PF_STRATEGY__MAX,
    PF_STRATEGY_INVALID = -EINVAL,
};

/* Where patched images go. NULL fields are unset; an empty string in the file counts as unset. */
struct pf_target {
    char *registry;   /* prefix: the source's last path element is appended (Copa's rule) */
    char *tag;        /* tag template, only {{ .SourceTag }} may appear */
    char *repository; /* patchfleet extension: the full target repository, used as is */
};

struct pf_tag_spec {
    enum pf_tag_strategy strategy;
    struct pf_strv list;    /* strategy list */
    char *pattern;          /* strategy pattern: PCRE2 with Go RE2-compatible syntax */
    long max_tags;          /* strategy pattern: keep the highest N; 0 = no cap */
    struct pf_strv exclude; /* exact tags to drop */
};

struct pf_image_spec {
    char *name;
    char *image; /* a repository, without tag or digest */
    struct pf_tag_spec tags;
    struct pf_strv platforms; /* normalised "os/arch[/variant]"; empty = every platform */
    struct pf_target target;  /* per-image override, field by field */
    unsigned line;            /* where the entry starts in the file, for later diagnostics */
};

struct pf_config {
    char *api_version;
    char *kind;
    struct pf_target target; /* global default */
    struct pf_image_spec *images;
    size_t n_images;
};

/*
 * Parses a PatchConfig held in memory; `len` bytes at `buf`. Every problem found is added to
 * `diags` (initialised by the caller with the file name). Returns 0 and a new config in *ret
 * when there is no error (warnings are possible), -EINVAL when `diags` holds at least one
 * error (*ret untouched), or -ENOMEM.
 */
int pf_config_parse(const char *buf, size_t len, struct pf_diags *diags, struct pf_config **ret);

/* Reads `path` and parses it like pf_config_parse(); an unreadable file is one diagnostic. */
int pf_config_load(const char *path, struct pf_diags *diags, struct pf_config **ret);

/* Frees a config (NULL allowed); returns NULL. */
struct pf_config *pf_config_free(struct pf_config *c);

/*
 * The effective target of one image: its own fields where set, else the global ones, else the
 * default tag template. The strings are borrowed from `c` (or static); `ret` holds no memory.
 */
void pf_config_effective_target(const struct pf_config *c, const struct pf_image_spec *img,
                                struct pf_target *ret);

/* "list", "pattern", "latest"; and the reverse (PF_STRATEGY_INVALID for anything else). */
const char *pf_tag_strategy_to_string(enum pf_tag_strategy s);
enum pf_tag_strategy pf_tag_strategy_from_string(const char *s);

#endif
