/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The result message codec (pf/msg.h): what a worker publishes on patchfleet.results and what
 * the aggregator applies to Redis. JSON through jansson, field names as in docs/fleet.md.
 * Decoding is strict about types and required fields (a wrong type is an error naming the
 * field, never a silent default) and lenient about unknown fields, so a newer worker can add
 * fields without breaking an older aggregator. Every size is bounded: the whole message by
 * PF_MSG_MAX_BYTES, which also bounds the platform and upgrade arrays.
 */
#include "pf/setup.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/msg.h"

const char *const pf_msg_statuses[PF_MSG_N_STATUSES] = {
    "Patched", "UpToDate", "Skipped", "Planned", "Failed", "Cancelled", "Error",
};

bool pf_msg_status_known(const char *s)
{
    for (size_t i = 0; s && i < PF_MSG_N_STATUSES; i++)
        if (strcmp(s, pf_msg_statuses[i]) == 0)
            return true;
    return false;
}

bool pf_msg_status_is_failure(const char *s)
{
    return s && (strcmp(s, "Failed") == 0 || strcmp(s, "Cancelled") == 0 ||
                 strcmp(s, "Error") == 0);
}

/* --- encoding ---------------------------------------------------------------------------- */

/* Sets `key` to a string, or to null when `s` is NULL. Returns 0 or -ENOMEM. */
static int set_str(json_t *o, const char *key, const char *s)
{
    json_t *v = s ? json_string(s) : json_null();

    /* json_string() refuses invalid UTF-8 with NULL, which we report as -EINVAL. */
    if (!v)
        return s ? -EINVAL : -ENOMEM;
    return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static int set_int(json_t *o, const char *key, json_int_t n)
{
    json_t *v = json_integer(n);

    if (!v)
        return -ENOMEM;
    return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static int encode_upgrade(json_t *arr, const struct pf_msg_upgrade *u)
{
    json_t *o = json_object();
    int r = o ? 0 : -ENOMEM;

    r = r < 0 ? r : set_str(o, "name", u->name);
    r = r < 0 ? r : set_str(o, "arch", u->arch);
    r = r < 0 ? r : set_str(o, "from", u->from);
    r = r < 0 ? r : set_str(o, "to", u->to);
    if (r < 0) {
        json_decref(o);
        return r;
    }
    return json_array_append_new(arr, o) < 0 ? -ENOMEM : 0;
}

static int encode_platform(json_t *arr, const struct pf_msg_platform *p)
{
    json_t *o = json_object();
    json_t *ups = json_array();
    int r = o && ups ? 0 : -ENOMEM;

    r = r < 0 ? r : set_str(o, "platform", p->platform);
    r = r < 0 ? r : set_str(o, "os", p->os);
    r = r < 0 ? r : set_str(o, "error", p->error);
    for (size_t i = 0; r == 0 && i < p->n_upgrades; i++)
        r = encode_upgrade(ups, &p->upgrades[i]);
    if (r == 0) {
        r = json_object_set_new(o, "upgrades", ups) < 0 ? -ENOMEM : 0;
        ups = NULL;
    }
    if (r < 0) {
        json_decref(ups);
        json_decref(o);
        return r;
    }
    return json_array_append_new(arr, o) < 0 ? -ENOMEM : 0;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return pf_buf_append(data, buffer, size) < 0 ? -1 : 0;
}

/* Adds every member but the platforms to `o`. */
static int encode_fields(json_t *o, const struct pf_msg_result *m)
{
    int r = set_int(o, "v", PF_MSG_VERSION);

    r = r < 0 ? r : set_str(o, "run_id", m->run_id);
    r = r < 0 ? r : set_str(o, "job_id", m->job_id);
    r = r < 0 ? r : set_str(o, "name", m->name);
    r = r < 0 ? r : set_str(o, "source", m->source);
    r = r < 0 ? r : set_str(o, "status", m->status);
    r = r < 0 ? r : set_str(o, "patched_tag", m->patched_tag);
    r = r < 0 ? r : set_str(o, "patched_ref", m->patched_ref);
    r = r < 0 ? r : set_str(o, "patched_digest", m->patched_digest);
    r = r < 0 ? r : set_str(o, "details", m->details);
    r = r < 0 ? r : set_str(o, "worker", m->worker);
    r = r < 0 ? r : set_int(o, "started_ms", m->started_ms);
    r = r < 0 ? r : set_int(o, "finished_ms", m->finished_ms);
    r = r < 0 ? r : set_int(o, "attempt", m->attempt ? m->attempt : 1);
    return r;
}

int pf_msg_result_encode(const struct pf_msg_result *m, char **ret, size_t *ret_len)
{
    struct pf_buf b = PF_BUF_INIT;
    json_t *o = NULL, *plats = NULL;
    size_t len;
    char *s;
    int r;

    if (!m->run_id || !m->job_id || !m->source || !m->status || !pf_msg_status_known(m->status))
        return -EINVAL;
    pf_buf_init(&b, PF_MSG_MAX_BYTES);
    o = json_object();
    plats = json_array();
    r = o && plats ? 0 : -ENOMEM;
    r = r < 0 ? r : encode_fields(o, m);
    for (size_t i = 0; r == 0 && i < m->n_platforms; i++)
        r = encode_platform(plats, &m->platforms[i]);
    if (r == 0) {
        r = json_object_set_new(o, "platforms", plats) < 0 ? -ENOMEM : 0;
        plats = NULL;
    }
    if (r == 0 && json_dump_callback(o, dump_cb, &b, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0)
        r = b.len >= PF_MSG_MAX_BYTES ? -E2BIG : -ENOMEM;
    if (r < 0)
        goto out;
    s = pf_buf_steal(&b, &len);
    if (!s) {
        r = -ENOMEM;
        goto out;
    }
    *ret = s;
    if (ret_len)
        *ret_len = len;
out:
    pf_buf_release(&b);
    json_decref(plats);
    json_decref(o);
    return r;
}

/* --- decoding ---------------------------------------------------------------------------- */

/* Copies the string member `key` (a "where" prefix names the enclosing array element). Absent
 * or null leaves *ret NULL, unless `required`. Returns 0, -EINVAL with the field named, or
 * -ENOMEM. */
static int get_str(json_t *o, const char *where, const char *key, bool required, char **ret,
                   char *errbuf, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v)) {
        if (required)
            return pf_set_error(errbuf, errlen, -EINVAL, "missing field '%s%s'", where, key);
        return 0;
    }
    if (!json_is_string(v))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s%s' is not a string", where,
                            key);
    if (required && json_string_length(v) == 0)
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s%s' is empty", where, key);
    *ret = pf_strdup(json_string_value(v));
    return *ret ? 0 : -ENOMEM;
}

/* Reads an integer member in [min, max]; absent or null leaves *ret alone. */
static int get_int(json_t *o, const char *key, json_int_t min, json_int_t max, int64_t *ret,
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

static void upgrade_release(struct pf_msg_upgrade *u)
{
    u->name = pf_free(u->name);
    u->arch = pf_free(u->arch);
    u->from = pf_free(u->from);
    u->to = pf_free(u->to);
}

static void platform_release(struct pf_msg_platform *p)
{
    for (size_t i = 0; i < p->n_upgrades; i++)
        upgrade_release(&p->upgrades[i]);
    p->upgrades = pf_free(p->upgrades);
    p->n_upgrades = 0;
    p->platform = pf_free(p->platform);
    p->os = pf_free(p->os);
    p->error = pf_free(p->error);
}

static int decode_upgrades(json_t *arr, const char *where, struct pf_msg_platform *p,
                           char *errbuf, size_t errlen)
{
    size_t n = json_array_size(arr);
    int r = 0;

    if (n == 0)
        return 0;
    p->upgrades = pf_calloc(n, sizeof(*p->upgrades));
    if (!p->upgrades)
        return -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++) {
        json_t *u = json_array_get(arr, i);
        struct pf_msg_upgrade *up = &p->upgrades[i];
        char uwhere[80];

        p->n_upgrades = i + 1;
        (void)snprintf(uwhere, sizeof(uwhere), "%supgrades[%zu].", where, i);
        if (!json_is_object(u))
            return pf_set_error(errbuf, errlen, -EINVAL, "'%supgrades[%zu]' is not an object",
                                where, i);
        r = get_str(u, uwhere, "name", true, &up->name, errbuf, errlen);
        r = r < 0 ? r : get_str(u, uwhere, "arch", false, &up->arch, errbuf, errlen);
        r = r < 0 ? r : get_str(u, uwhere, "from", false, &up->from, errbuf, errlen);
        r = r < 0 ? r : get_str(u, uwhere, "to", false, &up->to, errbuf, errlen);
    }
    return r;
}

static int decode_platforms(json_t *root, struct pf_msg_result *m, char *errbuf, size_t errlen)
{
    json_t *arr = json_object_get(root, "platforms");
    size_t n;
    int r = 0;

    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return pf_set_error(errbuf, errlen, -EINVAL, "field 'platforms' is not an array");
    n = json_array_size(arr);
    if (n == 0)
        return 0;
    m->platforms = pf_calloc(n, sizeof(*m->platforms));
    if (!m->platforms)
        return -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++) {
        json_t *p = json_array_get(arr, i), *ups;
        struct pf_msg_platform *mp = &m->platforms[i];
        char where[48];

        m->n_platforms = i + 1;
        (void)snprintf(where, sizeof(where), "platforms[%zu].", i);
        if (!json_is_object(p))
            return pf_set_error(errbuf, errlen, -EINVAL, "'platforms[%zu]' is not an object", i);
        r = get_str(p, where, "platform", true, &mp->platform, errbuf, errlen);
        r = r < 0 ? r : get_str(p, where, "os", false, &mp->os, errbuf, errlen);
        r = r < 0 ? r : get_str(p, where, "error", false, &mp->error, errbuf, errlen);
        ups = json_object_get(p, "upgrades");
        if (r == 0 && ups && !json_is_null(ups) && !json_is_array(ups))
            r = pf_set_error(errbuf, errlen, -EINVAL, "field '%supgrades' is not an array",
                             where);
        if (r == 0 && json_is_array(ups))
            r = decode_upgrades(ups, where, mp, errbuf, errlen);
    }
    return r;
}

/* Checks "v": absent or another major version is refused. */
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

static int decode_fields(json_t *root, struct pf_msg_result *m, char *errbuf, size_t errlen)
{
    int64_t attempt = 1;
    int r = check_version(root, errbuf, errlen);

    r = r < 0 ? r : get_str(root, "", "run_id", true, &m->run_id, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "", "job_id", true, &m->job_id, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "", "name", false, &m->name, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "", "source", true, &m->source, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "", "status", true, &m->status, errbuf, errlen);
    if (r == 0 && !pf_msg_status_known(m->status))
        r = pf_set_error(errbuf, errlen, -EINVAL, "field 'status' has unknown value '%s'",
                         m->status);
    r = r < 0 ? r : get_str(root, "", "patched_tag", false, &m->patched_tag, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "", "patched_ref", false, &m->patched_ref, errbuf, errlen);
    r = r < 0 ? r
              : get_str(root, "", "patched_digest", false, &m->patched_digest, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "", "details", false, &m->details, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "", "worker", false, &m->worker, errbuf, errlen);
    r = r < 0 ? r : get_int(root, "started_ms", 0, INT64_MAX, &m->started_ms, errbuf, errlen);
    r = r < 0 ? r : get_int(root, "finished_ms", 0, INT64_MAX, &m->finished_ms, errbuf, errlen);
    r = r < 0 ? r : get_int(root, "attempt", 1, UINT_MAX, &attempt, errbuf, errlen);
    m->attempt = (unsigned)attempt;
    return r < 0 ? r : decode_platforms(root, m, errbuf, errlen);
}

int pf_msg_result_decode(const char *data, size_t len, struct pf_msg_result *ret, char *errbuf,
                         size_t errlen)
{
    struct pf_msg_result m = {0};
    json_error_t jerr;
    json_t *root;
    int r;

    if (len > PF_MSG_MAX_BYTES)
        return pf_set_error(errbuf, errlen, -E2BIG, "result message of %zu bytes is over %zu",
                            len, PF_MSG_MAX_BYTES);
    /* Without JSON_ALLOW_NUL jansson refuses "\u0000", which would silently cut a C string. */
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pf_set_error(errbuf, errlen, -EINVAL, "result message is not JSON: %s at %d:%d",
                            jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return pf_set_error(errbuf, errlen, -EINVAL, "result message is not a JSON object");
    }
    r = decode_fields(root, &m, errbuf, errlen);
    json_decref(root);
    if (r < 0) {
        pf_msg_result_release(&m);
        return r;
    }
    *ret = m;
    return 0;
}

void pf_msg_result_release(struct pf_msg_result *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_platforms; i++)
        platform_release(&m->platforms[i]);
    pf_free(m->platforms);
    pf_free(m->run_id);
    pf_free(m->job_id);
    pf_free(m->name);
    pf_free(m->source);
    pf_free(m->status);
    pf_free(m->patched_tag);
    pf_free(m->patched_ref);
    pf_free(m->patched_digest);
    pf_free(m->details);
    pf_free(m->worker);
    *m = (struct pf_msg_result){0};
}
