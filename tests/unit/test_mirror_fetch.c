/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the package-mirror fetcher (pf/mirror_fetch.h) and, through it, the libcurl
 * wrapper (pf/http.h): file: URLs, the size cap, 404, the retries for 503 and for a reply that
 * is not HTTP, no retry for a sink that cannot start over, redirects, and the FROM=TO rewrite;
 * Retry-After (an HTTP-date) on 503 and a cancelled wait on 429.
 * A thread plays a scripted HTTP server on a loopback port: one canned reply per connection,
 * each connection closed after its reply, so every attempt is a new connection.
 */
#include "pf_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pf/http.h"
#include "pf/mirror_fetch.h"
#include "pf/strv.h"

#define MAX_REPLIES 4

struct server {
    int fd;
    int port;
    const char *replies[MAX_REPLIES]; /* one per connection, in order; NULL ends */
    int served;
    char last_request[2048];
    pthread_t tid;
};

static void *server_main(void *arg)
{
    struct server *s = arg;

    for (int i = 0; i < MAX_REPLIES && s->replies[i]; i++) {
        int c = accept(s->fd, NULL, NULL);
        ssize_t n;

        if (c < 0)
            break;
        /* Every request here is a GET without a body: read until the blank line. */
        n = 0;
        for (;;) {
            ssize_t got = read(c, s->last_request + n, sizeof(s->last_request) - 1 - (size_t)n);
            if (got <= 0)
                break;
            n += got;
            s->last_request[n] = '\0';
            if (strstr(s->last_request, "\r\n\r\n") || (size_t)n >= sizeof(s->last_request) - 1)
                break;
        }
        (void)write(c, s->replies[i], strlen(s->replies[i]));
        (void)shutdown(c, SHUT_WR);
        (void)close(c);
        s->served++;
    }
    return NULL;
}

static void server_start(struct server *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 8), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->tid, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
    assert_int_equal(pthread_join(s->tid, NULL), 0);
    (void)close(s->fd);
}

static const struct pf_mirror_fetch_options fast = {.retry_delay_ms = 10};

static int fetch_url(struct server *s, const char *path, size_t max, struct pf_buf *out, char *err,
                     size_t errlen)
{
    char url[128];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
    pf_buf_init(out, 0);
    return pf_mirror_fetch_buf(&fast, url, max, out, err, errlen);
}

#define OK_HELLO "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"

static void http_ok_with_user_agent(void **state)
{
    struct server s = {.replies = {OK_HELLO}};
    struct pf_buf b;
    char err[256] = "";

    (void)state;
    server_start(&s);
    assert_int_equal(fetch_url(&s, "/x", 100, &b, err, sizeof(err)), 0);
    server_stop(&s);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.p, "hello", 5);
    assert_non_null(strstr(s.last_request, "User-Agent: patchfleet/"));
    pf_buf_release(&b);
}

static void http_retries_503(void **state)
{
    struct server s = {.replies = {"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\nConnection: close"
                                   "\r\n\r\nbusy",
                                   OK_HELLO}};
    struct pf_buf b;
    char err[256] = "";

    (void)state;
    server_start(&s);
    assert_int_equal(fetch_url(&s, "/x", 100, &b, err, sizeof(err)), 0);
    server_stop(&s);
    assert_int_equal(s.served, 2);
    /* The 503's body never reached the buffer. */
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.p, "hello", 5);
    pf_buf_release(&b);
}

static long now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A 503 whose Retry-After is an HTTP-date 3 s ahead: the retry waits until then (at least 2 s
 * given the date's one-second grain), not the 10 ms back-off. */
static void http_retry_after_date(void **state)
{
    char busy[256], date[64];
    time_t t = time(NULL) + 3;
    struct tm tm;
    struct server s = {0};
    struct pf_buf b;
    char err[256] = "";
    long start;

    (void)state;
    assert_non_null(gmtime_r(&t, &tm));
    assert_true(strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
    snprintf(busy, sizeof(busy),
             "HTTP/1.1 503 Busy\r\nRetry-After: %s\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n",
             date);
    s.replies[0] = busy;
    s.replies[1] = OK_HELLO;
    server_start(&s);
    start = now_ms();
    assert_int_equal(fetch_url(&s, "/x", 100, &b, err, sizeof(err)), 0);
    server_stop(&s);
    assert_int_equal(s.served, 2);
    assert_true(now_ms() - start >= 1900);
    pf_buf_release(&b);
}

static bool always_cancelled(void *userdata)
{
    ++*(int *)userdata;
    return true;
}

/* A 429 asking for 30 s: a cancelled caller is not kept waiting. */
static void http_retry_after_cancelled(void **state)
{
    struct server s = {.replies = {"HTTP/1.1 429 Slow down\r\nRetry-After: 30\r\n"
                                   "Content-Length: 0\r\nConnection: close\r\n\r\n"}};
    int polls = 0;
    struct pf_mirror_fetch_options o = {.cancelled = always_cancelled,
                                        .cancelled_userdata = &polls};
    struct pf_buf b;
    char url[128], err[256] = "";
    long start;

    (void)state;
    server_start(&s);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", s.port);
    pf_buf_init(&b, 0);
    start = now_ms();
    assert_int_equal(pf_mirror_fetch_buf(&o, url, 100, &b, err, sizeof(err)), -ECANCELED);
    assert_true(now_ms() - start < 5000);
    assert_true(polls > 0);
    assert_non_null(strstr(err, "cancelled"));
    server_stop(&s);
    assert_int_equal(s.served, 1);
    pf_buf_release(&b);
}

static void http_retries_not_http(void **state)
{
    struct server s = {.replies = {"garbage that is not HTTP\r\n\r\n", OK_HELLO}};
    struct pf_buf b;
    char err[256] = "";

    (void)state;
    server_start(&s);
    assert_int_equal(fetch_url(&s, "/x", 100, &b, err, sizeof(err)), 0);
    server_stop(&s);
    assert_int_equal(s.served, 2);
    assert_memory_equal(b.p, "hello", 5);
    pf_buf_release(&b);
}

static void http_gives_up(void **state)
{
    static const char busy[] = "HTTP/1.1 500 No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    struct server s = {.replies = {busy, busy, busy}};
    struct pf_buf b;
    char err[256] = "";

    (void)state;
    server_start(&s);
    assert_int_equal(fetch_url(&s, "/x", 100, &b, err, sizeof(err)), -EIO);
    server_stop(&s);
    assert_int_equal(s.served, PF_MIRROR_FETCH_ATTEMPTS);
    assert_non_null(strstr(err, "HTTP status 500"));
    pf_buf_release(&b);
}

static void http_404_and_cap(void **state)
{
    struct server s = {.replies = {"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n"
                                   "Connection: close\r\n\r\nno!",
                                   OK_HELLO}};
    struct pf_buf b;
    char err[256] = "";

    (void)state;
    server_start(&s);
    assert_int_equal(fetch_url(&s, "/missing", 100, &b, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/missing"));
    pf_buf_release(&b);
    assert_int_equal(fetch_url(&s, "/x", 4, &b, err, sizeof(err)), -E2BIG);
    assert_non_null(strstr(err, "larger than allowed"));
    server_stop(&s);
    pf_buf_release(&b);
}

static void http_redirect(void **state)
{
    struct server s = {0};
    char reply[256];
    struct pf_buf b;
    char err[256] = "";

    (void)state;
    s.replies[0] = reply;
    s.replies[1] = OK_HELLO;
    server_start(&s);
    snprintf(reply, sizeof(reply),
             "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/y\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n",
             s.port);
    assert_int_equal(fetch_url(&s, "/x", 100, &b, err, sizeof(err)), 0);
    server_stop(&s);
    assert_non_null(strstr(s.last_request, "GET /y "));
    assert_memory_equal(b.p, "hello", 5);
    pf_buf_release(&b);
}

static int count_write(const void *data, size_t len, void *userdata)
{
    (void)data;
    *(size_t *)userdata += len;
    return 0;
}

/* A sink without reset is not retried once it has bytes: a body cut short stays an error. */
static void no_reset_no_retry(void **state)
{
    struct server s = {.replies = {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close"
                                   "\r\n\r\nhalf",
                                   OK_HELLO}};
    size_t got = 0;
    struct pf_mirror_sink sink = {count_write, NULL, &got};
    char url[128], err[256] = "";

    (void)state;
    server_start(&s);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", s.port);
    assert_int_equal(pf_mirror_fetch(&fast, url, 100, &sink, err, sizeof(err)), -EIO);
    assert_int_equal(got, 4);
    /* Let the server thread finish: take its second reply with a fetch of our own. */
    got = 0;
    assert_int_equal(pf_mirror_fetch(&fast, url, 100, &sink, err, sizeof(err)), 0);
    server_stop(&s);
    assert_int_equal(got, 5);
}

static void file_urls(void **state)
{
    char path[] = "/tmp/pf-mirror-XXXXXX", url[128], err[256] = "";
    struct pf_buf b = PF_BUF_INIT;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abcdef", 6), 6);
    (void)close(fd);
    snprintf(url, sizeof(url), "file://%s", path);
    assert_int_equal(pf_mirror_fetch_buf(NULL, url, 6, &b, err, sizeof(err)), 0);
    assert_int_equal(b.len, 6);
    pf_buf_reset(&b);
    snprintf(url, sizeof(url), "file:%s", path);
    assert_int_equal(pf_mirror_fetch_buf(NULL, url, 5, &b, err, sizeof(err)), -E2BIG);
    pf_buf_release(&b);
    (void)unlink(path);
    assert_int_equal(pf_mirror_fetch_buf(NULL, url, 5, &b, err, sizeof(err)), -ENOENT);
    pf_buf_release(&b);
    assert_int_equal(pf_mirror_fetch_buf(NULL, "ftp://x/y", 5, &b, err, sizeof(err)),
                     -EPROTONOSUPPORT);
    pf_buf_release(&b);
    assert_string_equal(pf_mirror_file_path("file://localhost/a/b"), "/a/b");
    assert_string_equal(pf_mirror_file_path("file:///a"), "/a");
    assert_null(pf_mirror_file_path("file://host/a"));
    assert_null(pf_mirror_file_path("http://a/b"));
}

static void rewrite(void **state)
{
    struct pf_strv m = PF_STRV_INIT, bad = PF_STRV_INIT;
    char *out = NULL;

    (void)state;
    assert_int_equal(pf_strv_push(&m, "http://a=http://short"), 0);
    assert_int_equal(pf_strv_push(&m, "http://a/deb=file:///m"), 0);
    assert_int_equal(pf_mirror_rewrite(&m, "http://a/deb/x", &out), 0);
    assert_string_equal(out, "file:///m/x"); /* the longest FROM wins */
    pf_free(out);
    assert_int_equal(pf_mirror_rewrite(&m, "http://b/x", &out), 0);
    assert_string_equal(out, "http://b/x");
    pf_free(out);
    assert_int_equal(pf_strv_push(&bad, "=x"), 0);
    assert_int_equal(pf_mirror_rewrite(&bad, "http://b/x", &out), -EINVAL);
    pf_strv_clear(&m);
    pf_strv_clear(&bad);
}

static void url_helpers(void **state)
{
    struct pf_http_url u;
    char *s = NULL;
    time_t t = 0;

    (void)state;
    assert_int_equal(pf_http_url_parse("https://Reg.example:5000/v2/", false, &u), 0);
    assert_string_equal(u.scheme, "https");
    assert_string_equal(u.port, "5000");
    pf_http_url_release(&u);
    assert_int_equal(pf_http_url_parse("https://reg.example/v2/", false, &u), 0);
    assert_null(u.port);
    pf_http_url_release(&u);
    assert_int_equal(pf_http_url_parse("https://reg.example/v2/", true, &u), 0);
    assert_string_equal(u.port, "443");
    pf_http_url_release(&u);
    assert_int_equal(pf_http_url_parse("not a url", false, &u), -EINVAL);
    assert_int_equal(pf_http_url_resolve("https://h/a/b?c", "../d", &s), 0);
    assert_string_equal(s, "https://h/d");
    pf_free(s);
    assert_int_equal(pf_http_date_parse("Thu, 01 Jan 1970 00:01:40 GMT", &t), 0);
    assert_int_equal(t, 100);
    assert_int_equal(pf_http_date_parse("yesterday-ish", &t), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_ok_with_user_agent),
        cmocka_unit_test(http_retries_503),
        cmocka_unit_test(http_retries_not_http),
        cmocka_unit_test(http_retry_after_date),
        cmocka_unit_test(http_retry_after_cancelled),
        cmocka_unit_test(http_gives_up),
        cmocka_unit_test(http_404_and_cap),
        cmocka_unit_test(http_redirect),
        cmocka_unit_test(no_reset_no_retry),
        cmocka_unit_test(file_urls),
        cmocka_unit_test(rewrite),
        cmocka_unit_test(url_helpers),
    };

    return cmocka_run_group_tests_name("mirror_fetch", tests, NULL, NULL);
}
