/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the job and run message codecs (common/src/msg_job.c): round trips, every
 * refusal names its field, the version rule, and the size bound. */
#include "pf_test.h"

#include "pf/msg.h"

static void fill_job(struct pf_msg_job *m)
{
    *m = (struct pf_msg_job){0};
    m->run_id = pf_strdup("run-1");
    m->job_id = pf_strdup("abc123");
    m->job.name = pf_strdup("web");
    m->job.source = pf_strdup("127.0.0.1:5000/app:1.0");
    m->job.source_tag = pf_strdup("1.0");
    m->job.target_repo = pf_strdup("127.0.0.1:5000/app");
    m->job.target_tag = pf_strdup("1.0-patched");
    assert_int_equal(pf_strv_push(&m->job.platforms, "linux/amd64"), 0);
    assert_int_equal(pf_strv_push(&m->job.platforms, "linux/arm/v7"), 0);
    m->push = true;
    m->dry_run = false;
    m->timeout_ms = 600000;
    m->verdict = PF_MSG_VERDICT_SKIP_CLEAN;
    m->skip_tag = pf_strdup("1.0-patched-2");
    m->created_ms = 1790000000123;
}

static void job_round_trip(void **state)
{
    struct pf_msg_job in, out;
    char *s = NULL, err[256] = "";
    size_t len = 0;

    (void)state;
    fill_job(&in);
    assert_int_equal(pf_msg_job_encode(&in, &s, &len), 0);
    assert_int_equal(strlen(s), len);
    assert_non_null(strstr(s, "\"v\":1"));
    assert_int_equal(pf_msg_job_decode(s, len, &out, err, sizeof(err)), 0);
    assert_string_equal(out.run_id, "run-1");
    assert_string_equal(out.job_id, "abc123");
    assert_string_equal(out.job.name, "web");
    assert_string_equal(out.job.source, "127.0.0.1:5000/app:1.0");
    assert_string_equal(out.job.source_tag, "1.0");
    assert_string_equal(out.job.target_repo, "127.0.0.1:5000/app");
    assert_string_equal(out.job.target_tag, "1.0-patched");
    assert_int_equal(out.job.platforms.n, 2);
    assert_string_equal(out.job.platforms.v[1], "linux/arm/v7");
    assert_true(out.push);
    assert_false(out.dry_run);
    assert_null(out.oci_dir);
    assert_int_equal(out.timeout_ms, 600000);
    assert_int_equal(out.verdict, PF_MSG_VERDICT_SKIP_CLEAN);
    assert_string_equal(out.skip_tag, "1.0-patched-2");
    assert_int_equal(out.created_ms, 1790000000123);
    pf_msg_job_release(&out);
    assert_null(out.run_id);
    pf_free(s);
    pf_msg_job_release(&in);
}

/* The minimal job: optional fields absent decode to their zero values. */
static void job_minimal_defaults(void **state)
{
    static const char msg[] = "{\"v\":1,\"run_id\":\"r\",\"job_id\":\"j\",\"source\":\"a/b:1\","
                              "\"target_repo\":\"a/b\",\"target_tag\":\"1-p\",\"future\":[1]}";
    struct pf_msg_job out;
    char err[256] = "";

    (void)state;
    assert_int_equal(pf_msg_job_decode(msg, strlen(msg), &out, err, sizeof(err)), 0);
    assert_null(out.job.name);
    assert_int_equal(out.job.platforms.n, 0);
    assert_false(out.push);
    assert_int_equal(out.verdict, PF_MSG_VERDICT_PATCH);
    assert_int_equal(out.timeout_ms, 0);
    pf_msg_job_release(&out);
}

static void job_encode_refuses_missing_required(void **state)
{
    struct pf_msg_job m;
    char *s = NULL;
    char **fields[] = {&m.run_id, &m.job_id, &m.job.source, &m.job.target_repo, &m.job.target_tag};

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(fields); i++) {
        fill_job(&m);
        *fields[i] = pf_free(*fields[i]);
        assert_int_equal(pf_msg_job_encode(&m, &s, NULL), -EINVAL);
        assert_null(s);
        pf_msg_job_release(&m);
    }
    fill_job(&m);
    m.verdict = PF_MSG_VERDICT__MAX;
    assert_int_equal(pf_msg_job_encode(&m, &s, NULL), -EINVAL);
    m.verdict = PF_MSG_VERDICT_PATCH;
    pf_free(m.job.name);
    m.job.name = pf_strdup("bad \xff utf8");
    assert_int_equal(pf_msg_job_encode(&m, &s, NULL), -EINVAL);
    assert_null(s);
    pf_msg_job_release(&m);
}

struct refusal {
    const char *json;
    int want;
    const char *field; /* must appear in the error message */
};

#define JOB_HEAD "\"v\":1,\"run_id\":\"r\",\"job_id\":\"j\","
#define JOB_TARGET "\"target_repo\":\"a/b\",\"target_tag\":\"t\""

static const struct refusal job_refusals[] = {
    {"{\"run_id\":\"r\",\"job_id\":\"j\",\"source\":\"s\"," JOB_TARGET "}", -EINVAL, "'v'"},
    {"{\"v\":\"1\",\"run_id\":\"r\"}", -EINVAL, "'v'"},
    {"{\"v\":2,\"run_id\":\"r\",\"job_id\":\"j\",\"source\":\"s\"," JOB_TARGET "}",
     -EPROTONOSUPPORT, "'v' is 2"},
    {"{\"v\":1,\"job_id\":\"j\",\"source\":\"s\"," JOB_TARGET "}", -EINVAL, "'run_id'"},
    {"{\"v\":1,\"run_id\":\"\",\"job_id\":\"j\",\"source\":\"s\"," JOB_TARGET "}", -EINVAL,
     "'run_id' is empty"},
    {"{\"v\":1,\"run_id\":\"r\",\"source\":\"s\"," JOB_TARGET "}", -EINVAL, "'job_id'"},
    {"{" JOB_HEAD JOB_TARGET "}", -EINVAL, "'source'"},
    {"{" JOB_HEAD "\"source\":7," JOB_TARGET "}", -EINVAL, "'source' is not a string"},
    {"{" JOB_HEAD "\"source\":\"s\",\"target_tag\":\"t\"}", -EINVAL, "'target_repo'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"target_repo\":\"a\"}", -EINVAL, "'target_tag'"},
    {"{" JOB_HEAD "\"source\":\"s\\u0000x\"," JOB_TARGET "}", -EINVAL, "u0000"},
    {"{" JOB_HEAD "\"source\":\"s\",\"name\":[]," JOB_TARGET "}", -EINVAL, "'name'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"platforms\":\"linux/amd64\"," JOB_TARGET "}", -EINVAL,
     "'platforms'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"platforms\":[\"a\",3]," JOB_TARGET "}", -EINVAL,
     "'platforms[1]'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"push\":1," JOB_TARGET "}", -EINVAL, "'push'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"dry_run\":\"yes\"," JOB_TARGET "}", -EINVAL, "'dry_run'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"timeout_ms\":-1," JOB_TARGET "}", -EINVAL, "'timeout_ms'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"timeout_ms\":1.5," JOB_TARGET "}", -EINVAL, "'timeout_ms'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"verdict\":\"maybe\"," JOB_TARGET "}", -EINVAL, "'verdict'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"verdict\":\"skip_clean\"," JOB_TARGET "}", -EINVAL,
     "'skip_tag'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"created_ms\":true," JOB_TARGET "}", -EINVAL, "'created_ms'"},
    {"{" JOB_HEAD "\"source\":\"s\",\"source\":\"t\"," JOB_TARGET "}", -EINVAL, "duplicate"},
    {"[1,2]", -EINVAL, "not a JSON object"},
    {"{\"v\":1,", -EINVAL, "not JSON"},
};

static void job_decode_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(job_refusals); i++) {
        const struct refusal *t = &job_refusals[i];
        struct pf_msg_job out = {.timeout_ms = 42};
        char err[256] = "";
        int r = pf_msg_job_decode(t->json, strlen(t->json), &out, err, sizeof(err));

        if (r != t->want || !strstr(err, t->field))
            fail_msg("case %zu (%s): r=%d err='%s', want %d and '%s'", i, t->json, r, err, t->want,
                     t->field);
        /* *ret untouched on failure */
        assert_int_equal(out.timeout_ms, 42);
        assert_null(out.run_id);
    }
}

static void job_decode_too_big(void **state)
{
    size_t len = PF_MSG_MAX_BYTES + 1;
    char *big = pf_malloc(len);
    struct pf_msg_job out;
    char err[256] = "";

    (void)state;
    assert_non_null(big);
    memset(big, ' ', len);
    assert_int_equal(pf_msg_job_decode(big, len, &out, err, sizeof(err)), -E2BIG);
    assert_non_null(strstr(err, "over"));
    pf_free(big);
}

static void job_encode_too_big(void **state)
{
    struct pf_msg_job m;
    char *s = NULL;
    char *huge = pf_malloc(PF_MSG_MAX_BYTES);

    (void)state;
    assert_non_null(huge);
    memset(huge, 'x', PF_MSG_MAX_BYTES - 1);
    huge[PF_MSG_MAX_BYTES - 1] = '\0';
    fill_job(&m);
    pf_free(m.job.name);
    m.job.name = huge;
    assert_int_equal(pf_msg_job_encode(&m, &s, NULL), -E2BIG);
    assert_null(s);
    pf_msg_job_release(&m);
}

static void run_round_trip(void **state)
{
    struct pf_msg_run in = {.warnings = PF_STRV_INIT}, out;
    char *s = NULL, err[256] = "";
    size_t len = 0;

    (void)state;
    in.run_id = pf_strdup("20261126-abcdef");
    in.config_digest = pf_strdup("sha256:0011");
    in.config_name = pf_strdup("bulk.yaml");
    in.expected = 12;
    assert_int_equal(pf_strv_push(&in.warnings, "tag 'x' not found"), 0);
    in.created_ms = 17;
    in.mode = pf_strdup("dry-run");
    assert_int_equal(pf_msg_run_encode(&in, &s, &len), 0);
    assert_int_equal(pf_msg_run_decode(s, len, &out, err, sizeof(err)), 0);
    assert_string_equal(out.run_id, "20261126-abcdef");
    assert_string_equal(out.config_digest, "sha256:0011");
    assert_string_equal(out.config_name, "bulk.yaml");
    assert_int_equal(out.expected, 12);
    assert_int_equal(out.warnings.n, 1);
    assert_string_equal(out.warnings.v[0], "tag 'x' not found");
    assert_int_equal(out.created_ms, 17);
    assert_string_equal(out.mode, "dry-run");
    pf_msg_run_release(&out);
    pf_free(s);
    in.run_id = pf_free(in.run_id);
    assert_int_equal(pf_msg_run_encode(&in, &s, &len), -EINVAL);
    pf_msg_run_release(&in);
}

static const struct refusal run_refusals[] = {
    {"{\"run_id\":\"r\",\"expected\":1}", -EINVAL, "'v'"},
    {"{\"v\":3,\"run_id\":\"r\",\"expected\":1}", -EPROTONOSUPPORT, "'v' is 3"},
    {"{\"v\":1,\"expected\":1}", -EINVAL, "'run_id'"},
    {"{\"v\":1,\"run_id\":\"r\"}", -EINVAL, "'expected'"},
    {"{\"v\":1,\"run_id\":\"r\",\"expected\":-2}", -EINVAL, "'expected'"},
    {"{\"v\":1,\"run_id\":\"r\",\"expected\":1,\"warnings\":{}}", -EINVAL, "'warnings'"},
    {"{\"v\":1,\"run_id\":\"r\",\"expected\":1,\"mode\":\"fast\"}", -EINVAL, "'mode'"},
    {"{\"v\":1,\"run_id\":\"r\",\"expected\":1,\"config_digest\":1}", -EINVAL, "'config_digest'"},
};

static void run_decode_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(run_refusals); i++) {
        const struct refusal *t = &run_refusals[i];
        struct pf_msg_run out = {.expected = 99};
        char err[256] = "";
        int r = pf_msg_run_decode(t->json, strlen(t->json), &out, err, sizeof(err));

        if (r != t->want || !strstr(err, t->field))
            fail_msg("case %zu (%s): r=%d err='%s', want %d and '%s'", i, t->json, r, err, t->want,
                     t->field);
        assert_int_equal(out.expected, 99);
    }
}

/* Every allocation failure surfaces as -ENOMEM and leaks nothing (checked under ASan). */
static void job_codec_oom(void **state)
{
    struct pf_msg_job in, out;
    char *s = NULL, err[256];
    size_t len;
    int r;

    (void)state;
    fill_job(&in);
    assert_int_equal(pf_msg_job_encode(&in, &s, &len), 0);
    for (unsigned long n = 1; n < 200; n++) {
        pf_alloc_fail_at(n, true);
        r = pf_msg_job_decode(s, len, &out, err, sizeof(err));
        pf_alloc_fail_at(0, false);
        if (r == 0) {
            pf_msg_job_release(&out);
            break;
        }
        assert_int_equal(r, -ENOMEM);
    }
    pf_free(s);
    pf_msg_job_release(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(job_round_trip),
        cmocka_unit_test(job_minimal_defaults),
        cmocka_unit_test(job_encode_refuses_missing_required),
        cmocka_unit_test(job_decode_refusals),
        cmocka_unit_test(job_decode_too_big),
        cmocka_unit_test(job_encode_too_big),
        cmocka_unit_test(run_round_trip),
        cmocka_unit_test(run_decode_refusals),
        cmocka_unit_test(job_codec_oom),
    };

    return cmocka_run_group_tests_name("msg_job", tests, NULL, NULL);
}
