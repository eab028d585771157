/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tag templates. Copa renders target.tag with Go's text/template and one field, .SourceTag.
 * We accept exactly that subset: literal text plus {{ .SourceTag }} with any spacing (and the
 * trim markers {{- -}}), and refuse anything else at config load with the column where it
 * goes wrong, instead of failing inside a job the way Copa does.
 */
#ifndef PF_TEMPLATE_H
#define PF_TEMPLATE_H

#include "pf/setup.h"

/*
 * Checks `tmpl`. Returns 0, or -EINVAL with a reason in errbuf and the 0-based byte offset of
 * the problem in *ret_offset (when not NULL).
 */
int pf_template_check(const char *tmpl, size_t *ret_offset, char *errbuf, size_t errlen);

/*
 * Renders `tmpl` for `source_tag`. Returns 0 and a new string in *ret, -EINVAL (errbuf says
 * why) when the template is invalid or the result is not a valid tag, or -ENOMEM.
 */
int pf_template_render(const char *tmpl, const char *source_tag, char **ret, char *errbuf,
                       size_t errlen);

#endif
