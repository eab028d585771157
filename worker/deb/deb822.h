/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC822-style control stanzas as Debian writes them (dpkg status, control files, apt .sources).
 * A document is a list of paragraphs separated by blank lines; a paragraph is an ordered list of
 * fields. Continuation lines (starting with a space or tab) are kept verbatim, joined with '\n',
 * so multi-line fields (Description, Conffiles, inline Signed-By keys) survive for the callers
 * that know their meaning. Everything read from an image is hostile: input size, paragraph size,
 * field count and paragraph count are all bounded, and NUL bytes are refused.
 */
#ifndef WORKER_DEB_DEB822_H
#define WORKER_DEB_DEB822_H

#include "pf/setup.h"

struct worker_deb822_field {
    char *name;  /* as written; compare with strcasecmp() */
    char *value; /* first line trimmed; continuation lines appended as "\n<line>" (right-trimmed) */
    size_t line; /* 1-based line of the field name */
};

struct worker_deb822_para {
    struct worker_deb822_field *fields;
    size_t n_fields;
    size_t cap;
    size_t line; /* 1-based line of the first field */
    char *raw;   /* the paragraph's exact text (comment lines included), ending in '\n' */
    size_t raw_len;
};

struct worker_deb822_doc {
    struct worker_deb822_para *paras;
    size_t n;
    size_t cap;
};

/* Limits; a zero member takes the default shown. */
struct worker_deb822_opts {
    bool allow_comments;   /* '#' lines are comments (apt .sources); dpkg status refuses them */
    size_t max_input;      /* WORKER_DEB822_DEFAULT_MAX_INPUT */
    size_t max_paras;      /* WORKER_DEB822_DEFAULT_MAX_PARAS */
    size_t max_fields;     /* per paragraph, WORKER_DEB822_DEFAULT_MAX_FIELDS */
    size_t max_para_bytes; /* WORKER_DEB822_DEFAULT_MAX_PARA_BYTES */
};

#define WORKER_DEB822_DEFAULT_MAX_INPUT ((size_t)64 << 20)
#define WORKER_DEB822_DEFAULT_MAX_PARAS ((size_t)100000)
#define WORKER_DEB822_DEFAULT_MAX_FIELDS ((size_t)256)
#define WORKER_DEB822_DEFAULT_MAX_PARA_BYTES ((size_t)1 << 20)

#define WORKER_DEB822_DOC_INIT                                                                     \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/*
 * Parses `len` bytes of `text` (need not be NUL-terminated) into `ret`, which must be empty
 * (WORKER_DEB822_DOC_INIT). `opts` may be NULL for dpkg rules and default limits.
 * Returns 0, -EINVAL on malformed input (NUL byte, continuation line with no field, bad or
 * duplicate field name, comment where not allowed), -E2BIG past a limit, or -ENOMEM. On failure
 * `ret` is untouched and, when `errbuf` is not NULL, a message "line N: ..." is written to it.
 */
int worker_deb822_parse(const char *text, size_t len, const struct worker_deb822_opts *opts,
                        struct worker_deb822_doc *ret, char *errbuf, size_t errlen);

/* Frees every paragraph; leaves an empty document. Accepts NULL. */
void worker_deb822_doc_clear(struct worker_deb822_doc *doc);

/* Frees the content of one paragraph (for paragraphs moved out of a document). Accepts NULL. */
void worker_deb822_para_clear(struct worker_deb822_para *para);

/* Returns the field named `name` (case-insensitive) or NULL; a borrowed reference. */
const struct worker_deb822_field *worker_deb822_para_field(const struct worker_deb822_para *para,
                                                           const char *name);

/* Returns the value of field `name` (case-insensitive) or NULL; a borrowed reference. */
const char *worker_deb822_para_get(const struct worker_deb822_para *para, const char *name);

#endif
