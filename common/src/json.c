/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON serialisation through pf_buf (see pf/json.h): jansson's own json_dumps() returns
 * malloc'ed memory, which would be the one allocation in patchfleet outside pf_alloc (and its
 * OOM injection).
 */
#include "pf/setup.h"

#include "pf/buf.h"
#include "pf/json.h"

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return pf_buf_append(data, buffer, size) < 0 ? -1 : 0;
}

static int dump(const json_t *root, size_t flags, bool newline, char **ret, size_t *ret_len)
{
    struct pf_buf b = PF_BUF_INIT;
    char *s;

    if (json_dump_callback(root, dump_cb, &b, flags) < 0 ||
        (newline && pf_buf_append(&b, "\n", 1) < 0)) {
        pf_buf_release(&b);
        return -ENOMEM;
    }
    s = pf_buf_steal(&b, ret_len);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

int pf_json_dump(const json_t *root, char **ret, size_t *ret_len)
{
    return dump(root, JSON_COMPACT | JSON_PRESERVE_ORDER, false, ret, ret_len);
}

int pf_json_dump_pretty(const json_t *root, char **ret, size_t *ret_len)
{
    return dump(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER, true, ret, ret_len);
}
