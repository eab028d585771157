/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job and run message codecs (pf/msg.h): what the producer publishes on patchfleet.jobs
 * and patchfleet.runs. JSON through jansson with the field names of docs/fleet.md. Like the
 * result codec, decoding is strict about types and required fields (an error names the
 * field) and ignores unknown fields, so producers can add fields before every worker knows
 * them. The whole message is bounded by PF_MSG_MAX_BYTES, which bounds every array in it.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/msg.h"

/* Indexed by enum pf_msg_verdict. */
static const char *const verdict_names[PF_MSG_VERDICT__MAX] = {
    [PF_MSG_VERDICT_PATCH] = "patch",
    [PF_MSG_VERDICT_SKIP_CLEAN] = "skip_clean",
};

static const char *const run_modes[] = {"push", "oci", "dry-run"};

/* --- encoding ---------------------------------------------------------------------------- */

/* Sets `key` to a string, or to null when `s` is NULL. Returns 0, -EINVAL (invalid UTF-8,
 * which jansson refuses) or -ENOMEM. */
static int set_str(json_t *o, const char *key, const char *s)
{
    json_t *v = s ? json_string(s) : json_null();

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

static int set_bool(json_t *o, const char *key, bool b)
{
    return json_object_set_new(o, key, json_boolean(b)) < 0 ? -ENOMEM : 0;
}

static int set_strv(json_t *o, const char *key, const struct pf_strv *sv)
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

/* Serialises `o` (borrowed) compactly into a new string; -E2BIG past PF_MSG_MAX_BYTES. */
static int dump(json_t *o, char **ret, size_t *ret_len)
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

static int encode_job_fields(json_t *o, const struct pf_msg_job *m)
{
    int r = set_int(o, "v", PF_MSG_VERSION);

    r = r < 0 ? r : set_str(o, "run_id", m->run_id);
    r = r < 0 ? r : set_str(o, "job_id", m->job_id);
    r = r < 0 ? r : set_str(o, "name", m->job.name);
    r = r < 0 ? r : set_str(o, "source", m->job.source);
    r = r < 0 ? r : set_str(o, "source_tag", m->job.source_tag);
    r = r < 0 ? r : set_str(o, "target_repo", m->job.target_repo);
    r = r < 0 ? r : set_str(o, "target_tag", m->job.target_tag);
    r = r < 0 ? r : set_strv(o, "platforms", &m->job.platforms);
    r = r < 0 ? r : set_bool(o, "push", m->push);
    r = r < 0 ? r : set_str(o, "oci_dir", m->oci_dir);
    r = r < 0 ? r : set_bool(o, "dry_run", m->dry_run);
    r = r < 0 ? r : set_int(o, "timeout_ms", m->timeout_ms);
    r = r < 0 ? r : set_str(o, "verdict", verdict_names[m->verdict]);
    r = r < 0 ? r : set_str(o, "skip_tag", m->skip_tag);
    r = r < 0 ? r : set_int(o, "created_ms", m->created_ms);
    return r;
}

int pf_msg_job_encode(const struct pf_msg_job *m, char **ret, size_t *ret_len)
{
    json_t *o;
    int r;

    if (!m->run_id || !m->job_id || !m->job.source || !m->job.target_repo ||
        !m->job.target_tag)
        return -EINVAL;
    if ((unsigned)m->verdict >= PF_MSG_VERDICT__MAX || m->timeout_ms < 0 || m->created_ms < 0)
        return -EINVAL;
    o = json_object();
    if (!o)
        return -ENOMEM;
    r = encode_job_fields(o, m);
    r = r < 0 ? r : dump(o, ret, ret_len);
    json_decref(o);
    return r;
}

int pf_msg_run_encode(const struct pf_msg_run *m, char **ret, size_t *ret_len)
{
    json_t *o;
    int r;

    if (!m->run_id || m->expected > (size_t)INT64_MAX || m->created_ms < 0)
        return -EINVAL;
    o = json_object();
    if (!o)
        return -ENOMEM;
    r = set_int(o, "v", PF_MSG_VERSION);
    r = r < 0 ? r : set_str(o, "run_id", m->run_id);
    r = r < 0 ? r : set_str(o, "config_digest", m->config_digest);
    r = r < 0 ? r : set_str(o, "config_name", m->config_name);
    r = r < 0 ? r : set_int(o, "expected", (json_int_t)m->expected);
    r = r < 0 ? r : set_strv(o, "warnings", &m->warnings);
    r = r < 0 ? r : set_int(o, "created_ms", m->created_ms);
    r = r < 0 ? r : set_str(o, "mode", m->mode);
    r = r < 0 ? r : dump(o, ret, ret_len);
    json_decref(o);
    return r;
}

/* --- decoding ---------------------------------------------------------------------------- */

/* Copies the string member `key`. Absent or null leaves *ret NULL unless `required`.
 * Returns 0, -EINVAL with the field named, or -ENOMEM. */
static int get_str(json_t *o, const char *key, bool required, char **ret, char *errbuf,
                   size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v)) {
        if (required)
            return pf_set_error(errbuf, errlen, -EINVAL, "missing field '%s'", key);
        return 0;
    }
    if (!json_is_string(v))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s' is not a string", key);
    if (required && json_string_length(v) == 0)
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s' is empty", key);
    /* A NUL inside the string would silently shorten it in C: refuse it. */
    if (strlen(json_string_value(v)) != json_string_length(v))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s' contains a NUL byte", key);
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

/* Reads a boolean member; absent or null leaves *ret alone. */
static int get_bool(json_t *o, const char *key, bool *ret, char *errbuf, size_t errlen)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s' is not a boolean", key);
    *ret = json_is_true(v);
    return 0;
}

/* Appends the strings of the array member `key` to `sv`; absent or null is an empty list. */
static int get_strv(json_t *o, const char *key, struct pf_strv *sv, char *errbuf,
                    size_t errlen)
{
    json_t *arr = json_object_get(o, key), *v;
    size_t i;
    int r;

    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return pf_set_error(errbuf, errlen, -EINVAL, "field '%s' is not an array", key);
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return pf_set_error(errbuf, errlen, -EINVAL, "'%s[%zu]' is not a string", key, i);
        r = pf_strv_push(sv, json_string_value(v));
        if (r < 0)
            return r;
    }
    return 0;
}

/* Checks "v": absent, not an integer, or another major version is refused. */
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

/* Parses `data` into a JSON object (new reference in *ret). `what` names the message. */
static int load(const char *data, size_t len, const char *what, json_t **ret, char *errbuf,
                size_t errlen)
{
    json_error_t jerr;
    json_t *root;

    if (len > PF_MSG_MAX_BYTES)
        return pf_set_error(errbuf, errlen, -E2BIG, "%s message of %zu bytes is over %zu", what,
                            len, PF_MSG_MAX_BYTES);
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return pf_set_error(errbuf, errlen, -EINVAL, "%s message is not JSON: %s at %d:%d",
                            what, jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return pf_set_error(errbuf, errlen, -EINVAL, "%s message is not a JSON object", what);
    }
    *ret = root;
    return 0;
}

static int decode_verdict(json_t *root, struct pf_msg_job *m, char *errbuf, size_t errlen)
{
    char *s = NULL;
    int r = get_str(root, "verdict", false, &s, errbuf, errlen);

    size_t i;

    if (r < 0 || !s)
        return r; /* absent: PATCH, the zero value */
    for (i = 0; i < PF_MSG_VERDICT__MAX; i++)
        if (strcmp(s, verdict_names[i]) == 0)
            break;
    if (i == PF_MSG_VERDICT__MAX)
        r = pf_set_error(errbuf, errlen, -EINVAL, "field 'verdict' has unknown value '%s'", s);
    else
        m->verdict = (enum pf_msg_verdict)i;
    pf_free(s);
    return r;
}

static int decode_job_fields(json_t *root, struct pf_msg_job *m, char *errbuf, size_t errlen)
{
    int r = check_version(root, errbuf, errlen);

    r = r < 0 ? r : get_str(root, "run_id", true, &m->run_id, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "job_id", true, &m->job_id, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "name", false, &m->job.name, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "source", true, &m->job.source, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "source_tag", false, &m->job.source_tag, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "target_repo", true, &m->job.target_repo, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "target_tag", true, &m->job.target_tag, errbuf, errlen);
    r = r < 0 ? r : get_strv(root, "platforms", &m->job.platforms, errbuf, errlen);
    r = r < 0 ? r : get_bool(root, "push", &m->push, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "oci_dir", false, &m->oci_dir, errbuf, errlen);
    r = r < 0 ? r : get_bool(root, "dry_run", &m->dry_run, errbuf, errlen);
    r = r < 0 ? r : get_int(root, "timeout_ms", 0, INT64_MAX, &m->timeout_ms, errbuf, errlen);
    r = r < 0 ? r : decode_verdict(root, m, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "skip_tag", false, &m->skip_tag, errbuf, errlen);
    r = r < 0 ? r : get_int(root, "created_ms", 0, INT64_MAX, &m->created_ms, errbuf, errlen);
    if (r == 0 && m->verdict == PF_MSG_VERDICT_SKIP_CLEAN && !m->skip_tag)
        r = pf_set_error(errbuf, errlen, -EINVAL,
                         "missing field 'skip_tag' (required with verdict 'skip_clean')");
    return r;
}

int pf_msg_job_decode(const char *data, size_t len, struct pf_msg_job *ret, char *errbuf,
                      size_t errlen)
{
    struct pf_msg_job m = {0};
    json_t *root = NULL;
    int r = load(data, len, "job", &root, errbuf, errlen);

    if (r < 0)
        return r;
    r = decode_job_fields(root, &m, errbuf, errlen);
    json_decref(root);
    if (r < 0) {
        pf_msg_job_release(&m);
        return r;
    }
    *ret = m;
    return 0;
}

void pf_msg_job_release(struct pf_msg_job *m)
{
    if (!m)
        return;
    pf_free(m->run_id);
    pf_free(m->job_id);
    pf_job_release(&m->job);
    pf_free(m->oci_dir);
    pf_free(m->skip_tag);
    *m = (struct pf_msg_job){0};
}

static int decode_run_fields(json_t *root, struct pf_msg_run *m, char *errbuf, size_t errlen)
{
    int64_t expected = -1;
    int r = check_version(root, errbuf, errlen);

    r = r < 0 ? r : get_str(root, "run_id", true, &m->run_id, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "config_digest", false, &m->config_digest, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "config_name", false, &m->config_name, errbuf, errlen);
    r = r < 0 ? r : get_int(root, "expected", 0, INT64_MAX, &expected, errbuf, errlen);
    if (r == 0 && expected < 0)
        r = pf_set_error(errbuf, errlen, -EINVAL, "missing field 'expected'");
    m->expected = expected < 0 ? 0 : (size_t)expected;
    r = r < 0 ? r : get_strv(root, "warnings", &m->warnings, errbuf, errlen);
    r = r < 0 ? r : get_int(root, "created_ms", 0, INT64_MAX, &m->created_ms, errbuf, errlen);
    r = r < 0 ? r : get_str(root, "mode", false, &m->mode, errbuf, errlen);
    if (r == 0 && m->mode) {
        bool known = false;

        for (size_t i = 0; i < PF_ARRAY_SIZE(run_modes); i++)
            known = known || strcmp(m->mode, run_modes[i]) == 0;
        if (!known)
            r = pf_set_error(errbuf, errlen, -EINVAL, "field 'mode' has unknown value '%s'",
                             m->mode);
    }
    return r;
}

int pf_msg_run_decode(const char *data, size_t len, struct pf_msg_run *ret, char *errbuf,
                      size_t errlen)
{
    struct pf_msg_run m = {.warnings = PF_STRV_INIT};
    json_t *root = NULL;
    int r = load(data, len, "run", &root, errbuf, errlen);

    if (r < 0)
        return r;
    r = decode_run_fields(root, &m, errbuf, errlen);
    json_decref(root);
    if (r < 0) {
        pf_msg_run_release(&m);
        return r;
    }
    *ret = m;
    return 0;
}

void pf_msg_run_release(struct pf_msg_run *m)
{
    if (!m)
        return;
    pf_free(m->run_id);
    pf_free(m->config_digest);
    pf_free(m->config_name);
    pf_strv_clear(&m->warnings);
    pf_free(m->mode);
    *m = (struct pf_msg_run){.warnings = PF_STRV_INIT};
}
