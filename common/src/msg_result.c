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

#include "pf/json.h"

#include "msg_json.h"
#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/msg.h"
#include "pf/status.h"

bool pf_msg_status_known(const char *s)
{
    return pf_status_from_string(s) >= 0;
}

bool pf_msg_status_is_failure(const char *s)
{
    return pf_status_is_failure(pf_status_from_string(s));
}

/* --- encoding ---------------------------------------------------------------------------- */

static int encode_upgrade(json_t *arr, const struct pf_msg_upgrade *u)
{
    json_t *o = json_object();
    int r = o ? 0 : -ENOMEM;

    r = r < 0 ? r : pf__msg_set_str(o, "name", u->name);
    r = r < 0 ? r : pf__msg_set_str(o, "arch", u->arch);
    r = r < 0 ? r : pf__msg_set_str(o, "from", u->from);
    r = r < 0 ? r : pf__msg_set_str(o, "to", u->to);
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

    r = r < 0 ? r : pf__msg_set_str(o, "platform", p->platform);
    r = r < 0 ? r : pf__msg_set_str(o, "os", p->os);
    r = r < 0 ? r : pf__msg_set_str(o, "error", p->error);
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

/* Adds every member but the platforms to `o`. */
static int encode_fields(json_t *o, const struct pf_msg_result *m)
{
    int r = pf__msg_set_int(o, "v", PF_MSG_VERSION);

    r = r < 0 ? r : pf__msg_set_str(o, "run_id", m->run_id);
    r = r < 0 ? r : pf__msg_set_str(o, "job_id", m->job_id);
    r = r < 0 ? r : pf__msg_set_str(o, "name", m->name);
    r = r < 0 ? r : pf__msg_set_str(o, "source", m->source);
    r = r < 0 ? r : pf__msg_set_str(o, "status", m->status);
    r = r < 0 ? r : pf__msg_set_str(o, "patched_tag", m->patched_tag);
    r = r < 0 ? r : pf__msg_set_str(o, "patched_ref", m->patched_ref);
    r = r < 0 ? r : pf__msg_set_str(o, "patched_digest", m->patched_digest);
    r = r < 0 ? r : pf__msg_set_str(o, "details", m->details);
    r = r < 0 ? r : pf__msg_set_str(o, "worker", m->worker);
    r = r < 0 ? r : pf__msg_set_int(o, "started_ms", m->started_ms);
    r = r < 0 ? r : pf__msg_set_int(o, "finished_ms", m->finished_ms);
    r = r < 0 ? r : pf__msg_set_int(o, "attempt", m->attempt ? m->attempt : 1);
    return r;
}

int pf_msg_result_encode(const struct pf_msg_result *m, char **ret, size_t *ret_len)
{
    json_t *o = NULL, *plats = NULL;
    int r;

    if (!m->run_id || !m->job_id || !m->source || !m->status || !pf_msg_status_known(m->status))
        return -EINVAL;
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
    if (r == 0)
        r = pf__msg_dump(o, ret, ret_len);
    json_decref(plats);
    json_decref(o);
    return r;
}

/* --- decoding ---------------------------------------------------------------------------- */

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

static int decode_upgrades(json_t *arr, const char *where, struct pf_msg_platform *p, char *errbuf,
                           size_t errlen)
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
        r = pf__msg_get_str(u, uwhere, "name", true, &up->name, errbuf, errlen);
        r = r < 0 ? r : pf__msg_get_str(u, uwhere, "arch", false, &up->arch, errbuf, errlen);
        r = r < 0 ? r : pf__msg_get_str(u, uwhere, "from", false, &up->from, errbuf, errlen);
        r = r < 0 ? r : pf__msg_get_str(u, uwhere, "to", false, &up->to, errbuf, errlen);
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
        r = pf__msg_get_str(p, where, "platform", true, &mp->platform, errbuf, errlen);
        r = r < 0 ? r : pf__msg_get_str(p, where, "os", false, &mp->os, errbuf, errlen);
        r = r < 0 ? r : pf__msg_get_str(p, where, "error", false, &mp->error, errbuf, errlen);
        ups = json_object_get(p, "upgrades");
        if (r == 0 && ups && !json_is_null(ups) && !json_is_array(ups))
            r = pf_set_error(errbuf, errlen, -EINVAL, "field '%supgrades' is not an array", where);
        if (r == 0 && json_is_array(ups))
            r = decode_upgrades(ups, where, mp, errbuf, errlen);
    }
    return r;
}

static int decode_fields(json_t *root, struct pf_msg_result *m, char *errbuf, size_t errlen)
{
    int64_t attempt = 1;
    int r;

    r = pf__msg_get_str(root, "", "run_id", true, &m->run_id, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "job_id", true, &m->job_id, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "name", false, &m->name, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "source", true, &m->source, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "status", true, &m->status, errbuf, errlen);
    if (r == 0 && !pf_msg_status_known(m->status))
        r = pf_set_error(errbuf, errlen, -EINVAL, "field 'status' has unknown value '%s'",
                         m->status);
    r = r < 0 ? r
              : pf__msg_get_str(root, "", "patched_tag", false, &m->patched_tag, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_str(root, "", "patched_ref", false, &m->patched_ref, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_str(root, "", "patched_digest", false, &m->patched_digest, errbuf,
                                errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "details", false, &m->details, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "worker", false, &m->worker, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_int(root, "started_ms", 0, INT64_MAX, &m->started_ms, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_int(root, "finished_ms", 0, INT64_MAX, &m->finished_ms, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_int(root, "attempt", 1, UINT_MAX, &attempt, errbuf, errlen);
    m->attempt = (unsigned)attempt;
    return r < 0 ? r : decode_platforms(root, m, errbuf, errlen);
}

int pf_msg_result_decode(const char *data, size_t len, struct pf_msg_result *ret, char *errbuf,
                         size_t errlen)
{
    struct pf_msg_result m = {0};
    json_t *root;
    int r = pf__msg_load(data, len, "result", &root, errbuf, errlen);

    if (r < 0)
        return r;
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
