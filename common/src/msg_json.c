/* SPDX-License-Identifier: Apache-2.0 */
/* JSON helpers shared by the message codecs (see msg_json.h). */
#include "pf/setup.h"

#include <string.h>

#include "pf/json.h"

#include "msg_json.h"
#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/msg.h"
#include "pf/strv.h"

int pf__msg_set_str(json_t *o, const char *key, const char *s)
{
    json_t *v = s ? json_string(s) : json_null();

    if (!v)
        return s ? -EINVAL : -ENOMEM;
    return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

int pf__msg_set_int(json_t *o, const char *key, json_int_t n)
{
    json_t *v = json_integer(n);

    if (!v)
        return -ENOMEM;
    return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

int pf__msg_set_bool(json_t *o, const char *key, bool b)
{
    return json_object_set_new(o, key, json_boolean(b)) < 0 ? -ENOMEM : 0;
}

int pf__msg_set_strv(json_t *o, const char *key, const struct pf_strv *sv)
{
    json_t *arr = json_array();
    int r = arr ? 0 : -ENOMEM;

    for (size_t i = 0; r == 0 && i < sv->n; i++) {
        json_t *s = json_string(sv->v[i]);

        if (!s)
            r = -EINVAL;
        else if (json_array_append_new(arr, s) < 0)
            r = -ENOMEM;
    }
    if (r < 0) {
        json_decref(arr);
        return r;
    }
    return json_object_set_new(o, key, arr) < 0 ? -ENOMEM : 0;
}

struct dump_state {
    struct pf_buf b;
    int err; /* the first append error: -E2BIG past the bound, or -ENOMEM */
};

static int dump_cb(const char *buffer, size_t size, void *data)
{
    struct dump_state *st = data;
    int r = pf_buf_append(&st->b, buffer, size);

    if (r < 0 && st->err == 0)
        st->err = r;
    return r < 0 ? -1 : 0;
}

int pf__msg_dump(json_t *o, char **ret, size_t *ret_len)
{
    struct dump_state st = {.b = PF_BUF_INIT};
    size_t len;
    char *s;
    int r = 0;

    pf_buf_init(&st.b, PF_MSG_MAX_BYTES);
    if (json_dump_callback(o, dump_cb, &st, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0)
        r = st.err < 0 ? st.err : -ENOMEM;
    if (r < 0)
        goto out;
    s = pf_buf_steal(&st.b, &len);
    if (!s) {
        r = -ENOMEM;
        goto out;
    }
    *ret = s;
    if (ret_len)
        *ret_len = len;
out:
    pf_buf_release(&st.b);
    return r;
}

int pf__msg_get_str(json_t *o, const char *where, const char *key, bool required, char **ret,
                    char *errbuf, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v)) {
        if (required)
            return pf_set_error(errbuf, errlen, -EINVAL, "missing field '%s%s'", where, key);
        return 0;
    }
    if (!json_is_string(v))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s%s' is not a string", where, key);
    if (required && json_string_length(v) == 0)
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s%s' is empty", where, key);
    /* A NUL inside the string would silently shorten it in C: refuse it. */
    if (strlen(json_string_value(v)) != json_string_length(v))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s%s' contains a NUL byte", where,
                            key);
    *ret = pf_strdup(json_string_value(v));
    return *ret ? 0 : -ENOMEM;
}

int pf__msg_get_int(json_t *o, const char *key, json_int_t min, json_int_t max, int64_t *ret,
                    char *errbuf, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s' is not an integer", key);
    if (json_integer_value(v) < min || json_integer_value(v) > max)
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s' is out of range", key);
    *ret = (int64_t)json_integer_value(v);
    return 0;
}

int pf__msg_get_bool(json_t *o, const char *key, bool *ret, char *errbuf, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s' is not a boolean", key);
    *ret = json_is_true(v);
    return 0;
}

int pf__msg_get_strv(json_t *o, const char *key, struct pf_strv *sv, char *errbuf, size_t errlen)
{
    json_t *arr = json_object_get(o, key), *v;
    size_t i;
    int r;

    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s' is not an array", key);
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return pf_set_error(errbuf, errlen, -EINVAL, "'%s[%zu]' is not a string", key, i);
        r = pf_strv_push(sv, json_string_value(v));
        if (r < 0)
            return r;
    }
    return 0;
}

static int check_version(json_t *root, char *errbuf, size_t errlen)
{
    json_t *v = json_object_get(root, "v");

    if (!v)
        return pf_set_error(errbuf, errlen, -EINVAL, "missing field 'v'");
    if (!json_is_integer(v))
        return pf_set_error(errbuf, errlen, -EINVAL, "field 'v' is not an integer");
    if (json_integer_value(v) != PF_MSG_VERSION)
        return pf_set_error(errbuf, errlen, -EPROTONOSUPPORT,
                            "field 'v' is %" JSON_INTEGER_FORMAT ", this reader knows %d",
                            json_integer_value(v), PF_MSG_VERSION);
    return 0;
}

int pf__msg_load(const char *data, size_t len, const char *what, json_t **ret, char *errbuf,
                 size_t errlen)
{
    json_error_t jerr;
    json_t *root;
    int r;

    if (len > PF_MSG_MAX_BYTES)
        return pf_set_error(errbuf, errlen, -E2BIG, "%s message of %zu bytes is over %zu", what,
                            len, PF_MSG_MAX_BYTES);
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pf_set_error(errbuf, errlen, -EINVAL, "%s message is not JSON: %s at %d:%d", what,
                            jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return pf_set_error(errbuf, errlen, -EINVAL, "%s message is not a JSON object", what);
    }
    r = check_version(root, errbuf, errlen);
    if (r < 0) {
        json_decref(root);
        return r;
    }
    *ret = root;
    return 0;
}
