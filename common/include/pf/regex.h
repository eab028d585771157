/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tag patterns. Copa's patterns are Go RE2 expressions matched unanchored (MatchString). We
 * compile them with PCRE2, whose syntax is a superset of RE2's for everything RE2 accepts
 * (\d, classes, non-greedy, (?i), \pL); constructs RE2 refuses (backreferences, lookaround)
 * are refused here too, so a config valid for patchfleet is valid for Copa. Matching is
 * bounded by PCRE2's match limit, so a pathological pattern fails instead of spinning.
 */
#ifndef PF_REGEX_H
#define PF_REGEX_H

#include "pf/setup.h"

struct pf_regex;

/*
 * Compiles `pattern`. Returns 0 and a new regex in *ret, -EINVAL with a message in errbuf and
 * the 0-based byte offset of the problem in *ret_offset (when not NULL), or -ENOMEM.
 */
int pf_regex_compile(const char *pattern, struct pf_regex **ret, size_t *ret_offset, char *errbuf,
                     size_t errlen);
/* Returns 1 when `s` matches anywhere, 0 when not, or a negative errno (-E2BIG: match limit). */
int pf_regex_match(const struct pf_regex *re, const char *s);
struct pf_regex *pf_regex_free(struct pf_regex *re);

#endif
