/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the result message codec: a full result survives encode + decode, the exact
 * wire text of a minimal one, what decoding refuses (and the field it names), that unknown
 * fields are ignored, and that encoding refuses a result missing what the aggregator needs.
 */
#include "pf_test.h"

#include "pf/msg.h"

static void round_trip(void **state)
{
    struct pf_msg_upgrade ups[] = {
        {.name = "libc6", .arch = "amd64", .from = "2.36-9", .to = "2.36-9+deb12u4"},
        {.name = "newdep", .arch = "all", .from = NULL, .to = "1.0"},
    };
    struct pf_msg_platform plats[] = {
        {.platform = "linux/amd64", .os = "debian 12", .upgrades = ups, .n_upgrades = 2},
        {.platform = "linux/arm64", .error = "no such blob \"x\"\n"},
    };
    struct pf_msg_result in = {
        .run_id = "r1",
        .job_id = "j1",
        .name = "nginx",
        .source = "reg/nginx:1.25",
        .status = "Patched",
        .patched_tag = "1.25-patched",
        .patched_ref = "reg/nginx:1.25-patched",
        .patched_digest = "sha256:ab",
        .details = "2 upgraded \xc3\xa9",
        .worker = "h:1",
        .started_ms = 1700000000000,
        .finished_ms = 1700000001234,
        .attempt = 3,
        .platforms = plats,
        .n_platforms = 2,
    };
    struct pf_msg_result out = {0};
    char err[256] = "", *s = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(pf_msg_result_encode(&in, &s, &len), 0);
    assert_int_equal(strlen(s), len);
    assert_int_equal(pf_msg_result_decode(s, len, &out, err, sizeof(err)), 0);
    assert_string_equal(out.run_id, "r1");
    assert_string_equal(out.job_id, "j1");
    assert_string_equal(out.name, "nginx");
    assert_string_equal(out.source, "reg/nginx:1.25");
    assert_string_equal(out.status, "Patched");
    assert_string_equal(out.patched_tag, "1.25-patched");
    assert_string_equal(out.patched_ref, "reg/nginx:1.25-patched");
    assert_string_equal(out.patched_digest, "sha256:ab");
    assert_string_equal(out.details, "2 upgraded \xc3\xa9");
    assert_string_equal(out.worker, "h:1");
    assert_true(out.started_ms == 1700000000000);
    assert_true(out.finished_ms == 1700000001234);
    assert_int_equal(out.attempt, 3);
    assert_int_equal(out.n_platforms, 2);
    assert_string_equal(out.platforms[0].platform, "linux/amd64");
    assert_string_equal(out.platforms[0].os, "debian 12");
    assert_null(out.platforms[0].error);
    assert_int_equal(out.platforms[0].n_upgrades, 2);
    assert_string_equal(out.platforms[0].upgrades[0].to, "2.36-9+deb12u4");
    assert_null(out.platforms[0].upgrades[1].from);
    assert_string_equal(out.platforms[0].upgrades[1].arch, "all");
    assert_string_equal(out.platforms[1].error, "no such blob \"x\"\n");
    assert_int_equal(out.platforms[1].n_upgrades, 0);
    pf_msg_result_release(&out);
    assert_null(out.run_id);
    pf_free(s);
}

static void minimal_wire_text(void **state)
{
    struct pf_msg_result in = {.run_id = "r", .job_id = "j", .source = "a/b:1", .status = "Failed"};
    char *s = NULL;

    (void)state;
    assert_int_equal(pf_msg_result_encode(&in, &s, NULL), 0);
    /* attempt 0 means "first delivery" and is written as 1. */
    assert_string_equal(s, "{\"v\":1,\"run_id\":\"r\",\"job_id\":\"j\",\"name\":null,"
                           "\"source\":\"a/b:1\",\"status\":\"Failed\",\"patched_tag\":null,"
                           "\"patched_ref\":null,\"patched_digest\":null,\"details\":null,"
                           "\"worker\":null,\"started_ms\":0,\"finished_ms\":0,\"attempt\":1,"
                           "\"platforms\":[]}");
    pf_free(s);
}

static void encode_refuses(void **state)
{
    static const struct pf_msg_result cases[] = {
        {.job_id = "j", .source = "s", .status = "Failed"},
        {.run_id = "r", .source = "s", .status = "Failed"},
        {.run_id = "r", .job_id = "j", .status = "Failed"},
        {.run_id = "r", .job_id = "j", .source = "s"},
        {.run_id = "r", .job_id = "j", .source = "s", .status = "Exploded"},
        {.run_id = "r", .job_id = "j", .source = "s", .status = "Failed", .details = "\xff"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        char *s = NULL;

        assert_int_equal(pf_msg_result_encode(&cases[i], &s, NULL), -EINVAL);
        assert_null(s);
    }
}

#define OK_HEAD "{\"v\":1,\"run_id\":\"r\",\"job_id\":\"j\",\"source\":\"s\",\"status\":\"Failed\""

static void decode_refuses(void **state)
{
    static const struct {
        const char *json;
        int r;
        const char *msg;
    } cases[] = {
        {"[1]", -EINVAL, "result message is not a JSON object"},
        {"{", -EINVAL, NULL},
        {"{\"run_id\":\"r\"}", -EINVAL, "missing field 'v'"},
        {"{\"v\":\"1\"}", -EINVAL, "field 'v' is not an integer"},
        {"{\"v\":2,\"run_id\":\"r\"}", -EPROTONOSUPPORT, "field 'v' is 2, this reader knows 1"},
        {"{\"v\":1,\"job_id\":\"j\",\"source\":\"s\",\"status\":\"Failed\"}", -EINVAL,
         "missing field 'run_id'"},
        {"{\"v\":1,\"run_id\":\"\",\"job_id\":\"j\"}", -EINVAL, "field 'run_id' is empty"},
        {"{\"v\":1,\"run_id\":5}", -EINVAL, "field 'run_id' is not a string"},
        {"{\"v\":1,\"run_id\":\"a\\u0000b\"}", -EINVAL, NULL},
        {"{\"v\":1,\"run_id\":\"r\",\"job_id\":\"j\",\"source\":\"s\",\"status\":\"Great\"}",
         -EINVAL, "field 'status' has unknown value 'Great'"},
        {OK_HEAD ",\"attempt\":0}", -EINVAL, "field 'attempt' is out of range"},
        {OK_HEAD ",\"attempt\":1.5}", -EINVAL, "field 'attempt' is not an integer"},
        {OK_HEAD ",\"started_ms\":-1}", -EINVAL, "field 'started_ms' is out of range"},
        {OK_HEAD ",\"details\":[]}", -EINVAL, "field 'details' is not a string"},
        {OK_HEAD ",\"platforms\":{}}", -EINVAL, "field 'platforms' is not an array"},
        {OK_HEAD ",\"platforms\":[1]}", -EINVAL, "'platforms[0]' is not an object"},
        {OK_HEAD ",\"platforms\":[{}]}", -EINVAL, "missing field 'platforms[0].platform'"},
        {OK_HEAD ",\"platforms\":[{\"platform\":\"p\",\"upgrades\":[{\"to\":\"1\"}]}]}", -EINVAL,
         "missing field 'platforms[0].upgrades[0].name'"},
        {OK_HEAD ",\"platforms\":[{\"platform\":\"p\",\"upgrades\":7}]}", -EINVAL,
         "field 'platforms[0].upgrades' is not an array"},
        {OK_HEAD ",\"status\":\"Patched\"}", -EINVAL, NULL}, /* duplicate key */
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct pf_msg_result out = {.run_id = (char *)(uintptr_t)1};
        char err[256] = "";

        assert_int_equal(pf_msg_result_decode(cases[i].json, strlen(cases[i].json), &out, err,
                                              sizeof(err)),
                         cases[i].r);
        if (cases[i].msg)
            assert_string_equal(err, cases[i].msg);
        else
            assert_true(err[0] != '\0');
        /* *ret is untouched on failure. */
        assert_true(out.run_id == (char *)(uintptr_t)1);
    }
}

static void decode_lenient(void **state)
{
    static const char json[] = OK_HEAD ",\"future\":{\"x\":[1,2]},\"name\":null,\"attempt\":2,"
                                       "\"platforms\":[{\"platform\":\"p\",\"extra\":1}]}";
    struct pf_msg_result out = {0};
    char err[256] = "";

    (void)state;
    assert_int_equal(pf_msg_result_decode(json, strlen(json), &out, err, sizeof(err)), 0);
    assert_null(out.name);
    assert_int_equal(out.attempt, 2);
    assert_int_equal(out.n_platforms, 1);
    pf_msg_result_release(&out);
    /* Attempt defaults to 1 when absent. */
    assert_int_equal(pf_msg_result_decode(OK_HEAD "}", strlen(OK_HEAD "}"), &out, err, sizeof(err)),
                     0);
    assert_int_equal(out.attempt, 1);
    pf_msg_result_release(&out);
    pf_msg_result_release(NULL);
}

static void size_limit(void **state)
{
    size_t n = PF_MSG_MAX_BYTES + 1;
    char *big = pf_malloc(n);
    struct pf_msg_result out = {0};
    char err[256] = "";

    (void)state;
    assert_non_null(big);
    memset(big, ' ', n);
    assert_int_equal(pf_msg_result_decode(big, n, &out, err, sizeof(err)), -E2BIG);
    pf_free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),     cmocka_unit_test(minimal_wire_text),
        cmocka_unit_test(encode_refuses), cmocka_unit_test(decode_refuses),
        cmocka_unit_test(decode_lenient), cmocka_unit_test(size_limit),
    };

    return cmocka_run_group_tests_name("msg_result", tests, NULL, NULL);
}
