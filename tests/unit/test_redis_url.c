/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf_redis_url_parse(): the defaults, user:password@ and the lone password,
 * /DB, IPv6 literals, every refusal with its reason, and that no reason ever quotes the
 * password. Also pf_redis_connect()'s failures that need no server: a bad URL and a refused
 * connection (a loopback port nobody listens on), with the password kept out of the reason.
 */
#include "pf_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pf/redis.h"
#include "pf/redis_url.h"

static void url_defaults(void **state)
{
    struct pf_redis_url u = {0};

    (void)state;
    assert_int_equal(pf_redis_url_parse("redis://localhost", &u, NULL, 0), 0);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_null(u.user);
    assert_null(u.password);
    pf_redis_url_release(&u);
    assert_null(u.host);
    assert_int_equal(pf_redis_url_parse("redis://10.0.0.1:6380/", &u, NULL, 0), 0);
    assert_string_equal(u.host, "10.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 0);
    pf_redis_url_release(&u);
}

static void url_userinfo_and_db(void **state)
{
    struct pf_redis_url u = {0};

    (void)state;
    assert_int_equal(pf_redis_url_parse("redis://alice:s3cr@t@redis:7000/3", &u, NULL, 0), 0);
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "s3cr@t"); /* the last '@' ends the userinfo */
    assert_string_equal(u.host, "redis");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 3);
    pf_redis_url_release(&u);
    assert_int_equal(pf_redis_url_parse("redis://:pw@redis/15", &u, NULL, 0), 0);
    assert_null(u.user);
    assert_string_equal(u.password, "pw");
    assert_int_equal(u.db, 15);
    pf_redis_url_release(&u);
    /* A lone userinfo is a password, as redis-cli reads it. */
    assert_int_equal(pf_redis_url_parse("redis://pw@redis", &u, NULL, 0), 0);
    assert_null(u.user);
    assert_string_equal(u.password, "pw");
    pf_redis_url_release(&u);
}

static void url_ipv6(void **state)
{
    struct pf_redis_url u = {0};

    (void)state;
    assert_int_equal(pf_redis_url_parse("redis://[::1]:6390/2", &u, NULL, 0), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6390);
    assert_int_equal(u.db, 2);
    pf_redis_url_release(&u);
    assert_int_equal(pf_redis_url_parse("redis://u:p@[fe80::1]", &u, NULL, 0), 0);
    assert_string_equal(u.host, "fe80::1");
    assert_int_equal(u.port, 6379);
    pf_redis_url_release(&u);
}

static void url_refusals(void **state)
{
    static const struct {
        const char *url, *reason;
    } cases[] = {
        {"http://:hunter2@redis", "redis URL must start with redis://"},
        {"redis://:hunter2@", "redis URL has no host"},
        {"redis://:hunter2@/0", "redis URL has no host"},
        {"redis://:hunter2@[::1:6379", "redis URL has an unclosed '['"},
        {"redis://:hunter2@redis:0", "redis URL has a bad port"},
        {"redis://:hunter2@redis:65536", "redis URL has a bad port"},
        {"redis://:hunter2@redis:-1", "redis URL has a bad port"},
        {"redis://:hunter2@redis:63x9", "redis URL has a bad port"},
        {"redis://:hunter2@redis:", "redis URL has a bad port"},
        {"redis://:hunter2@redis/x", "redis URL has a bad database number"},
        {"redis://:hunter2@redis/-1", "redis URL has a bad database number"},
        {"redis://:hunter2@redis/1000001", "redis URL has a bad database number"},
        {"redis://:hunter2@redis:6379/1/2", "redis URL has a bad database number"},
        {"redis://:hunter2@[::1]x", "redis URL has trailing characters"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct pf_redis_url u = {.port = -7};
        char err[256] = "";

        assert_int_equal(pf_redis_url_parse(cases[i].url, &u, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, cases[i].reason);
        assert_null(strstr(err, "hunter2"));
        assert_int_equal(u.port, -7); /* untouched */
        assert_null(u.host);
    }
}

/* A loopback port with nobody listening: bound then closed, so connect() is refused. */
static int closed_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    (void)close(fd);
    return ntohs(sa.sin_port);
}

static void connect_failures(void **state)
{
    struct pf_redis_options opts = {.timeout_ms = 2000, .retry_ms = 0};
    struct pf_redis *r = (struct pf_redis *)(uintptr_t)0x1;
    char url[128], err[256] = "";

    (void)state;
    assert_int_equal(pf_redis_connect("redis://:hunter2@redis:99999", &opts, &r, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "redis URL has a bad port");
    assert_ptr_equal(r, (struct pf_redis *)(uintptr_t)0x1);
    (void)snprintf(url, sizeof(url), "redis://:hunter2@127.0.0.1:%d/0", closed_port());
    assert_int_equal(pf_redis_connect(url, &opts, &r, err, sizeof(err)), -ECONNREFUSED);
    assert_non_null(strstr(err, "redis 127.0.0.1:"));
    assert_null(strstr(err, "hunter2"));
    assert_ptr_equal(r, (struct pf_redis *)(uintptr_t)0x1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_defaults),     cmocka_unit_test(url_userinfo_and_db),
        cmocka_unit_test(url_ipv6),         cmocka_unit_test(url_refusals),
        cmocka_unit_test(connect_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
