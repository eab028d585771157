/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the registry client's pure parsers: WWW-Authenticate, Link, Retry-After,
 * registry error bodies, loopback detection, base64 and URL helpers. */
#include "pf_test.h"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pf/http.h"
#include "../../common/src/registry_internal.h"

static void challenge_table(void **state)
{
    static const struct {
        const char *in;
        int rc;
        enum pf_auth_scheme scheme;
        const char *realm, *service, *scope;
    } t[] = {
        {"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
         "scope=\"repository:library/nginx:pull\"",
         0, PF_AUTH_BEARER, "https://auth.docker.io/token", "registry.docker.io",
         "repository:library/nginx:pull"},
        /* Case of the scheme and of parameter names does not matter; spaces around '='. */
        {"bEARER Realm = \"https://r/t\" , SERVICE=svc", 0, PF_AUTH_BEARER, "https://r/t", "svc",
         NULL},
        /* Quoted values may hold commas and escaped quotes. */
        {"Bearer realm=\"https://r/t\",scope=\"repository:a/b:pull,push repository:c:pull\","
         "error=\"x\\\"y\"",
         0, PF_AUTH_BEARER, "https://r/t", NULL, "repository:a/b:pull,push repository:c:pull"},
        {"Basic realm=\"Registry Realm\"", 0, PF_AUTH_BASIC, "Registry Realm", NULL, NULL},
        /* Two challenges: Bearer wins over Basic whatever the order. */
        {"Basic realm=\"x\", Bearer realm=\"https://tok\",service=s", 0, PF_AUTH_BEARER,
         "https://tok", "s", NULL},
        {"Bearer realm=\"https://tok\", Basic realm=\"x\"", 0, PF_AUTH_BEARER, "https://tok", NULL,
         NULL},
        /* Unknown schemes are skipped. */
        {"Negotiate, Basic realm=\"r\"", 0, PF_AUTH_BASIC, "r", NULL, NULL},
        {"Negotiate abc", -EINVAL, PF_AUTH_NONE, NULL, NULL, NULL},
        {"", -EINVAL, PF_AUTH_NONE, NULL, NULL, NULL},
        /* Bearer without a realm is useless. */
        {"Bearer service=\"x\"", -EINVAL, PF_AUTH_NONE, NULL, NULL, NULL},
        {"Bearer realm=\"unterminated", -EINVAL, PF_AUTH_NONE, NULL, NULL, NULL},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(t); i++) {
        struct pf_auth_challenge c = {PF_AUTH_NONE, NULL, NULL, NULL, NULL};
        int rc = pf__auth_challenge_parse(t[i].in, &c);

        print_message("challenge %zu: %s\n", i, t[i].in);
        assert_int_equal(rc, t[i].rc);
        if (rc < 0)
            continue;
        assert_int_equal(c.scheme, t[i].scheme);
        if (t[i].realm)
            assert_string_equal(c.realm, t[i].realm);
        if (t[i].service)
            assert_string_equal(c.service, t[i].service);
        else
            assert_null(c.service);
        if (t[i].scope)
            assert_string_equal(c.scope, t[i].scope);
        if (i == 2)
            assert_string_equal(c.error, "x\"y");
        pf__auth_challenge_release(&c);
    }
}

static void link_table(void **state)
{
    static const char base[] = "https://reg.example:5000/v2/a/b/tags/list?n=1000";
    static const struct {
        const char *in;
        int rc;
        const char *url;
    } t[] = {
        {"</v2/a/b/tags/list?n=1000&last=x>; rel=\"next\"", 1,
         "https://reg.example:5000/v2/a/b/tags/list?n=1000&last=x"},
        {"<https://other.example/v2/x?last=y>; rel=next", 1, "https://other.example/v2/x?last=y"},
        {"<//cdn.example/p?q=1>; rel=\"next\"", 1, "https://cdn.example/p?q=1"},
        {"<list?last=z>;rel=\"next\"", 1, "https://reg.example:5000/v2/a/b/tags/list?last=z"},
        {"</first>; rel=\"first\", </n2?last=a>; rel=\"prev next\"", 1,
         "https://reg.example:5000/n2?last=a"},
        {"</p>; rel=\"prev\"", 0, NULL},
        {"", 0, NULL},
        {"garbage", -EINVAL, NULL},
        {"</unterminated; rel=next", -EINVAL, NULL},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(t); i++) {
        char *u = NULL;
        int rc = pf__link_next(t[i].in, base, &u);

        print_message("link %zu: %s\n", i, t[i].in);
        assert_int_equal(rc, t[i].rc);
        if (t[i].url)
            assert_string_equal(u, t[i].url);
        pf_free(u);
    }
}

static void url_helpers(void **state)
{
    char *u = NULL, *e;

    (void)state;
    assert_true(pf__url_same_origin("https://a.example/x", "https://A.example:443/y?z"));
    assert_false(pf__url_same_origin("https://a.example/x", "http://a.example/x"));
    assert_false(pf__url_same_origin("https://a.example/x", "https://a.example:5000/x"));
    assert_false(pf__url_same_origin("https://a.example/x", "https://s3.amazonaws.com/x"));
    assert_int_equal(pf__url_resolve("http://h:1/v2/r/blobs/uploads/", "/v2/r/blobs/uploads/u1?s=1",
                                     &u),
                     0);
    assert_string_equal(u, "http://h:1/v2/r/blobs/uploads/u1?s=1");
    pf_free(u);
    e = pf__url_escape("repository:a/b:pull,push x~_.-");
    assert_string_equal(e, "repository%3Aa%2Fb%3Apull%2Cpush%20x~_.-");
    pf_free(e);
}

static void retry_after(void **state)
{
    time_t now = 0;
    long s = -1;

    (void)state;
    assert_int_equal(pf_http_date_parse("Wed, 21 Oct 2015 07:28:00 GMT", &now), 0);
    assert_int_equal(pf_http_retry_after_parse("7", now, 60, &s), 0);
    assert_int_equal(s, 7);
    assert_int_equal(pf_http_retry_after_parse(" 120 ", now, 60, &s), 0);
    assert_int_equal(s, 60); /* capped */
    assert_int_equal(pf_http_retry_after_parse("99999999999999999999999", now, 60, &s), 0);
    assert_int_equal(s, 60);
    assert_int_equal(pf_http_retry_after_parse("Wed, 21 Oct 2015 07:28:30 GMT", now, 60, &s), 0);
    assert_int_equal(s, 30);
    assert_int_equal(pf_http_retry_after_parse("Wed, 21 Oct 2015 07:00:00 GMT", now, 60, &s), 0);
    assert_int_equal(s, 0); /* in the past */
    assert_int_equal(pf_http_retry_after_parse("5x", now, 60, &s), -EINVAL);
    assert_int_equal(pf_http_retry_after_parse("soon", now, 60, &s), -EINVAL);
}

static void error_body(void **state)
{
    static const char body[] = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                               "unknown\","
                               "\"detail\":{\"Tag\":\"x\"}},{\"code\":\"OTHER\"}]}";
    static const char evil[] = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"a\\nb\\u001b[31m\"}"
                               "]}";
    char out[128];

    (void)state;
    assert_int_equal(pf__registry_error_parse(body, strlen(body), out, sizeof(out)), 1);
    assert_string_equal(out, "MANIFEST_UNKNOWN: manifest unknown");
    assert_int_equal(pf__registry_error_parse(evil, strlen(evil), out, sizeof(out)), 1);
    assert_string_equal(out, "DENIED: a b [31m");
    assert_int_equal(pf__registry_error_parse("<html>", 6, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(pf__registry_error_parse("{\"errors\":[]}", 13, out, sizeof(out)), 0);
    assert_int_equal(pf__registry_error_parse(body, strlen(body), out, 10), 1);
    assert_int_equal(strlen(out), 9); /* truncated, still terminated */
}

static void loopback(void **state)
{
    (void)state;
    assert_true(pf__host_is_loopback("localhost"));
    assert_true(pf__host_is_loopback("LOCALHOST:5000"));
    assert_true(pf__host_is_loopback("127.0.0.1:5000"));
    assert_true(pf__host_is_loopback("127.10.20.30"));
    assert_true(pf__host_is_loopback("[::1]:5000"));
    assert_true(pf__host_is_loopback("[::1]"));
    assert_false(pf__host_is_loopback("128.0.0.1"));
    assert_false(pf__host_is_loopback("localhost.evil.com"));
    assert_false(pf__host_is_loopback("127.0.0.1.evil.com"));
    assert_false(pf__host_is_loopback("[::2]:5000"));
    assert_false(pf__host_is_loopback("ghcr.io"));
}

static void base64_round_trip(void **state)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "user:p@ss:w0rd"};
    char *enc, *dec;
    size_t n;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(in); i++) {
        assert_int_equal(pf__base64_encode(in[i], strlen(in[i]), &enc), 0);
        assert_int_equal(pf__base64_decode(enc, &dec, &n), 0);
        assert_int_equal(n, strlen(in[i]));
        assert_string_equal(dec, in[i]);
        pf_free(enc);
        pf_free(dec);
    }
    assert_int_equal(pf__base64_encode("foob", 4, &enc), 0);
    assert_string_equal(enc, "Zm9vYg==");
    pf_free(enc);
    assert_int_equal(pf__base64_decode("Zm9v!", &dec, NULL), -EINVAL);
    assert_int_equal(pf__base64_decode("Z", &dec, NULL), -EINVAL);
}

/*
 * pf__append_clean() must check its bound before it reads: `max` bytes of text that end right
 * at an unreadable page (no NUL inside the bound) are copied without touching the next byte.
 * Before the fix the loop read s[max] first and this test died of SIGSEGV.
 */
static void clean_append_bound(void **state)
{
    long page = sysconf(_SC_PAGESIZE);
    char *map, *s, out[16];
    size_t pos = 0;

    (void)state;
    assert_true(page > 0);
    map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    s = map + page - 4;
    memcpy(s, "ab\nc", 4); /* four bytes, the last one just before the guard page */
    pf__append_clean(out, sizeof(out), &pos, s, 4);
    assert_string_equal(out, "ab c");
    assert_int_equal(pos, 4);
    /* The output bound holds too: one byte of room is one NUL. */
    pos = 0;
    pf__append_clean(out, 1, &pos, s, 4);
    assert_string_equal(out, "");
    assert_int_equal(munmap(map, (size_t)page * 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(challenge_table),   cmocka_unit_test(link_table),
        cmocka_unit_test(url_helpers),       cmocka_unit_test(retry_after),
        cmocka_unit_test(error_body),        cmocka_unit_test(loopback),
        cmocka_unit_test(base64_round_trip), cmocka_unit_test(clean_append_bound),
    };

    return cmocka_run_group_tests_name("registry_parse", tests, NULL, NULL);
}
