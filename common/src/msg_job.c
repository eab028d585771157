/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job and run message codecs (pf/msg.h): what the producer publishes on patchfleet.jobs
 * and patchfleet.runs. JSON through jansson with the field names of docs/fleet.md. Like the
 * result codec, decoding is strict about types and required fields (an error names the
 * field) and ignores unknown fields, so producers can add fields before every worker knows
 * them. The whole message is bounded by PF_MSG_MAX_BYTES, which bounds every array in it.
 */
#include "pf/setup.h"

#include <string.h>

#include "pf/json.h"

#include "msg_json.h"
#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/msg.h"

/* Indexed by enum pf_msg_verdict. */
static const char *const verdict_names[PF_MSG_VERDICT__MAX] = {
    [PF_MSG_VERDICT_PATCH] = "patch",
    [PF_MSG_VERDICT_SKIP_CLEAN] = "skip_clean",
};

static const char *const run_modes[] = {"push", "oci", "dry-run"};

/* --- encoding ---------------------------------------------------------------------------- */

static int encode_job_fields(json_t *o, const struct pf_msg_job *m)
{
    int r = pf__msg_set_int(o, "v", PF_MSG_VERSION);

    r = r < 0 ? r : pf__msg_set_str(o, "run_id", m->run_id);
    r = r < 0 ? r : pf__msg_set_str(o, "job_id", m->job_id);
    r = r < 0 ? r : pf__msg_set_str(o, "name", m->job.name);
    r = r < 0 ? r : pf__msg_set_str(o, "source", m->job.source);
    r = r < 0 ? r : pf__msg_set_str(o, "source_tag", m->job.source_tag);
    r = r < 0 ? r : pf__msg_set_str(o, "target_repo", m->job.target_repo);
    r = r < 0 ? r : pf__msg_set_str(o, "target_tag", m->job.target_tag);
    r = r < 0 ? r : pf__msg_set_strv(o, "platforms", &m->job.platforms);
    r = r < 0 ? r : pf__msg_set_bool(o, "push", m->push);
    r = r < 0 ? r : pf__msg_set_str(o, "oci_dir", m->oci_dir);
    r = r < 0 ? r : pf__msg_set_bool(o, "dry_run", m->dry_run);
    r = r < 0 ? r : pf__msg_set_int(o, "timeout_ms", m->timeout_ms);
    r = r < 0 ? r : pf__msg_set_str(o, "verdict", verdict_names[m->verdict]);
    r = r < 0 ? r : pf__msg_set_str(o, "skip_tag", m->skip_tag);
    r = r < 0 ? r : pf__msg_set_int(o, "created_ms", m->created_ms);
    return r;
}

int pf_msg_job_encode(const struct pf_msg_job *m, char **ret, size_t *ret_len)
{
    json_t *o;
    int r;

    if (!m->run_id || !m->job_id || !m->job.source || !m->job.target_repo || !m->job.target_tag)
        return -EINVAL;
    if ((unsigned)m->verdict >= PF_MSG_VERDICT__MAX || m->timeout_ms < 0 || m->created_ms < 0)
        return -EINVAL;
    o = json_object();
    if (!o)
        return -ENOMEM;
    r = encode_job_fields(o, m);
    r = r < 0 ? r : pf__msg_dump(o, ret, ret_len);
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
    r = pf__msg_set_int(o, "v", PF_MSG_VERSION);
    r = r < 0 ? r : pf__msg_set_str(o, "run_id", m->run_id);
    r = r < 0 ? r : pf__msg_set_str(o, "config_digest", m->config_digest);
    r = r < 0 ? r : pf__msg_set_str(o, "config_name", m->config_name);
    r = r < 0 ? r : pf__msg_set_int(o, "expected", (json_int_t)m->expected);
    r = r < 0 ? r : pf__msg_set_strv(o, "warnings", &m->warnings);
    r = r < 0 ? r : pf__msg_set_int(o, "created_ms", m->created_ms);
    r = r < 0 ? r : pf__msg_set_str(o, "mode", m->mode);
    r = r < 0 ? r : pf__msg_dump(o, ret, ret_len);
    json_decref(o);
    return r;
}

/* --- decoding ---------------------------------------------------------------------------- */

static int decode_verdict(json_t *root, struct pf_msg_job *m, char *errbuf, size_t errlen)
{
    char *s = NULL;
    int r = pf__msg_get_str(root, "", "verdict", false, &s, errbuf, errlen);

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
    int r;

    r = pf__msg_get_str(root, "", "run_id", true, &m->run_id, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "job_id", true, &m->job_id, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "name", false, &m->job.name, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "source", true, &m->job.source, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_str(root, "", "source_tag", false, &m->job.source_tag, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_str(root, "", "target_repo", true, &m->job.target_repo, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_str(root, "", "target_tag", true, &m->job.target_tag, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_strv(root, "platforms", &m->job.platforms, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_bool(root, "push", &m->push, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "oci_dir", false, &m->oci_dir, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_bool(root, "dry_run", &m->dry_run, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_int(root, "timeout_ms", 0, INT64_MAX, &m->timeout_ms, errbuf, errlen);
    r = r < 0 ? r : decode_verdict(root, m, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "skip_tag", false, &m->skip_tag, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_int(root, "created_ms", 0, INT64_MAX, &m->created_ms, errbuf, errlen);
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
    int r = pf__msg_load(data, len, "job", &root, errbuf, errlen);

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
    int r;

    r = pf__msg_get_str(root, "", "run_id", true, &m->run_id, errbuf, errlen);
    r = r < 0
            ? r
            : pf__msg_get_str(root, "", "config_digest", false, &m->config_digest, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_str(root, "", "config_name", false, &m->config_name, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_int(root, "expected", 0, INT64_MAX, &expected, errbuf, errlen);
    if (r == 0 && expected < 0)
        r = pf_set_error(errbuf, errlen, -EINVAL, "missing field 'expected'");
    m->expected = expected < 0 ? 0 : (size_t)expected;
    r = r < 0 ? r : pf__msg_get_strv(root, "warnings", &m->warnings, errbuf, errlen);
    r = r < 0 ? r
              : pf__msg_get_int(root, "created_ms", 0, INT64_MAX, &m->created_ms, errbuf, errlen);
    r = r < 0 ? r : pf__msg_get_str(root, "", "mode", false, &m->mode, errbuf, errlen);
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
    int r = pf__msg_load(data, len, "run", &root, errbuf, errlen);

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
