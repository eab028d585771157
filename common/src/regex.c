/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCRE2 wrapper for tag patterns; see pf/regex.h for why PCRE2 and which subset.
 */
#include "pf/setup.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/regex.h"

struct pf_regex {
    pcre2_code *code;
    pcre2_match_context *mctx;
};

/* RE2 has no backreferences or lookaround; refusing them keeps configs portable to Copa. */
static int refuse_non_re2(const char *p, size_t *ret_offset, char *errbuf, size_t errlen)
{
    bool in_class = false;

    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '\\') {
            if (!in_class && p[i + 1] >= '1' && p[i + 1] <= '9') {
                snprintf(errbuf, errlen, "backreferences are not supported (Go RE2 syntax)");
                *ret_offset = i;
                return -EINVAL;
            }
            if (p[i + 1])
                i++;
            continue;
        }
        if (in_class) {
            if (p[i] == ']')
                in_class = false;
            continue;
        }
        if (p[i] == '[') {
            in_class = true;
            if (p[i + 1] == '^')
                i++;
            if (p[i + 1] == ']')
                i++;
            continue;
        }
        if (p[i] == '(' && p[i + 1] == '?' &&
            (p[i + 2] == '=' || p[i + 2] == '!' ||
             (p[i + 2] == '<' && (p[i + 3] == '=' || p[i + 3] == '!')))) {
            snprintf(errbuf, errlen, "lookaround assertions are not supported (Go RE2 syntax)");
            *ret_offset = i;
            return -EINVAL;
        }
    }
    return 0;
}

int pf_regex_compile(const char *pattern, struct pf_regex **ret, size_t *ret_offset, char *errbuf,
                     size_t errlen)
{
    struct pf_regex *re;
    PCRE2_SIZE erroff = 0;
    size_t off = 0;
    int errcode = 0;
    int r;

    if (!ret_offset)
        ret_offset = &off;
    r = refuse_non_re2(pattern, ret_offset, errbuf, errlen);
    if (r < 0)
        return r;
    re = pf_calloc(1, sizeof(*re));
    if (!re)
        return -ENOMEM;
    re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &errcode,
                             &erroff, NULL);
    if (!re->code) {
        PCRE2_UCHAR msg[256];
        (void)pcre2_get_error_message(errcode, msg, sizeof(msg));
        snprintf(errbuf, errlen, "%s", (const char *)msg);
        *ret_offset = erroff;
        pf_free(re);
        return -EINVAL;
    }
    re->mctx = pcre2_match_context_create(NULL);
    if (!re->mctx) {
        pf_regex_free(re);
        return -ENOMEM;
    }
    /* Tags are at most 128 bytes; this bound only bites on catastrophic backtracking. */
    (void)pcre2_set_match_limit(re->mctx, 100000);
    *ret = re;
    return 0;
}

int pf_regex_match(const struct pf_regex *re, const char *s)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    int rc;

    if (!md)
        return -ENOMEM;
    rc = pcre2_match(re->code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, re->mctx);
    pcre2_match_data_free(md);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT)
        return -E2BIG;
    return -EINVAL;
}

struct pf_regex *pf_regex_free(struct pf_regex *re)
{
    if (!re)
        return NULL;
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    return pf_free(re);
}
