/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One bounded fetcher for package mirrors, on top of pf/http.h. Each engine used to set up its
 * own easy handle, and only apt's had the low-speed timeout, the redirect cap and the user
 * agent; now the bounds are written once. The size cap is counted here, before the sink sees a
 * byte, so no sink can be made to grow past it. Only a 200 response's body reaches the sink:
 * an error page never ends up in a cached file. Retries start the sink over (reset) or, for a
 * sink that cannot restart, happen only while nothing was delivered. A 429 or 503 with
 * Retry-After waits as long as the mirror asks (capped), polling the caller's cancellation.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/http.h"
#include "pf/io.h"
#include "pf/log.h"
#include "pf/mirror_fetch.h"
#include "pf/strv.h"

#undef PF_LOG_COMPONENT
#define PF_LOG_COMPONENT "mirror"

/* One fetch's view of its sink: the cap is enforced here. */
struct fetch {
    const struct pf_mirror_sink *sink;
    uint64_t max, got;
    int cb_error; /* what the sink (or the cap) returned, so it is told from transport errors */
    char retry_after[64]; /* the last response's Retry-After, "" when none (longer is dropped) */
};

static int fetch_put(struct fetch *f, const void *data, size_t len)
{
    if (len > f->max - f->got)
        return -E2BIG;
    f->got += len;
    return f->sink->write(data, len, f->sink->userdata);
}

const char *pf_mirror_file_path(const char *url)
{
    const char *p;

    if (strncmp(url, "file://", 7) == 0) {
        p = url + 7;
        if (strncmp(p, "localhost/", 10) == 0)
            p += 9;
    } else if (strncmp(url, "file:", 5) == 0) {
        p = url + 5;
    } else {
        return NULL;
    }
    return p[0] == '/' ? p : NULL;
}

static int file_fetch(struct fetch *f, const char *path, const char *url, char *errbuf,
                      size_t errlen)
{
    char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

    if (fd < 0) {
        r = -errno;
        return pf_set_error(errbuf, errlen, r, "cannot read '%s': %s", url, strerror(-r));
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n < 0 ? -errno : 0;
            break;
        }
        r = fetch_put(f, chunk, (size_t)n);
        if (r < 0)
            break;
    }
    (void)close(fd);
    if (r < 0)
        (void)pf_set_error(errbuf, errlen, r, "cannot read '%s': %s", url,
                           r == -E2BIG ? "larger than allowed" : strerror(-r));
    return r;
}

static int on_write(long status, const void *data, size_t len, void *userdata)
{
    struct fetch *f = userdata;
    int r;

    if (status != 200)
        return 0; /* an error page: the status decides, the body is not kept */
    r = fetch_put(f, data, len);
    if (r < 0)
        f->cb_error = r;
    return r;
}

/* Keeps the Retry-After of the last response; a status line starts a new response. */
static int on_header(const char *line, size_t len, void *userdata)
{
    static const char name[] = "retry-after:";
    struct fetch *f = userdata;
    size_t n = len;

    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        f->retry_after[0] = '\0';
        return 0;
    }
    if (len < sizeof(name) - 1 || strncasecmp(line, name, sizeof(name) - 1) != 0)
        return 0;
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    n -= sizeof(name) - 1;
    if (n >= sizeof(f->retry_after))
        return 0; /* no valid value is that long */
    memcpy(f->retry_after, line + sizeof(name) - 1, n);
    f->retry_after[n] = '\0';
    return 0;
}

static bool status_transient(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Waits `ms` in slices of at most 200 ms so a cancelled job does not sit out a long
 * Retry-After. Returns 0, or -ECANCELED. */
static int wait_ms(const struct pf_mirror_fetch_options *o, long ms)
{
    while (ms > 0) {
        long slice = ms < 200 ? ms : 200;

        if (o && o->cancelled && o->cancelled(o->cancelled_userdata))
            return -ECANCELED;
        sleep_ms(slice);
        ms -= slice;
    }
    return 0;
}

/* The wait before the next attempt: the back-off, or the mirror's Retry-After on 429 and 503
 * when longer (capped). */
static long next_delay_ms(const struct fetch *f, long status, long backoff)
{
    long secs;

    if ((status != 429 && status != 503) || !f->retry_after[0])
        return backoff;
    if (pf_http_retry_after_parse(f->retry_after, time(NULL), PF_MIRROR_FETCH_RETRY_AFTER_CAP,
                                  &secs) < 0)
        return backoff;
    return secs * 1000 > backoff ? secs * 1000 : backoff;
}

/* One exchange. Returns 0, or a negative errno with errbuf set; *transient says whether
 * another attempt may succeed; *ret_res has the status (which decides whether Retry-After
 * counts) and not_http (whether the next attempt should use a fresh connection). */
static int http_once(struct pf_http *h, const struct pf_http_request *q, struct fetch *f,
                     bool *transient, struct pf_http_response *ret_res, char *errbuf, size_t errlen)
{
    struct pf_http_response res;
    char herr[512] = "";
    int r;

    f->cb_error = 0;
    f->retry_after[0] = '\0';
    r = pf_http_perform(h, q, &res, herr, sizeof(herr));
    *ret_res = res;
    *transient = false;
    /* cppcheck-suppress knownConditionTrueFalse ; false positive: the body callback sets it */
    if (r < 0 && f->cb_error) {
        r = f->cb_error;
        return pf_set_error(errbuf, errlen, r, "cannot fetch '%s': %s", q->url,
                            r == -E2BIG ? "larger than allowed" : strerror(-r));
    }
    if (r < 0) {
        *transient = r == -ECONNRESET || res.not_http;
        r = r == -ENOMEM ? -ENOMEM : -EIO;
        return pf_set_error(errbuf, errlen, r, "cannot fetch '%s': %s", q->url, herr);
    }
    if (res.status != 200) {
        *transient = status_transient(res.status);
        r = res.status == 404 || res.status == 410 ? -ENOENT : -EIO;
        return pf_set_error(errbuf, errlen, r, "cannot fetch '%s': HTTP status %ld", q->url,
                            res.status);
    }
    return 0;
}

static int http_fetch(const struct pf_mirror_fetch_options *o, struct fetch *f, const char *url,
                      char *errbuf, size_t errlen)
{
    struct pf_http_request q = {
        .url = url,
        .protocols = "http,https",
        .user_agent = o && o->user_agent ? o->user_agent : "patchfleet/" PF_VERSION,
        .ca_file = o ? o->ca_file : NULL,
        .connect_timeout_ms = PF_MIRROR_FETCH_CONNECT_TIMEOUT_MS,
        .low_speed_limit = PF_MIRROR_FETCH_LOW_SPEED_LIMIT,
        .low_speed_time = PF_MIRROR_FETCH_LOW_SPEED_TIME,
        .max_redirects = PF_MIRROR_FETCH_MAX_REDIRECTS,
        .write = on_write,
        .header = on_header,
        .userdata = f,
    };
    long delay = o && o->retry_delay_ms > 0 ? o->retry_delay_ms : 500;
    struct pf_http *h = NULL;
    int r = pf_http_new(NULL, &h);

    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot fetch '%s': %s", url,
                            r == -ENOMEM ? "out of memory" : "cannot initialise libcurl");
    for (int attempt = 1;; attempt++) {
        struct pf_http_response res;
        bool transient;
        long wait;

        r = http_once(h, &q, f, &transient, &res, errbuf, errlen);
        if (r == 0 || !transient || attempt >= PF_MIRROR_FETCH_ATTEMPTS)
            break;
        if (f->got > 0) {
            if (!f->sink->reset)
                break;
            r = f->sink->reset(f->sink->userdata);
            if (r < 0) {
                (void)pf_set_error(errbuf, errlen, r, "cannot fetch '%s': cannot start over: %s",
                                   url, strerror(-r));
                break;
            }
            f->got = 0;
        }
        wait = next_delay_ms(f, res.status, delay);
        pf_log(LOG_DEBUG, "%s; retrying in %ld ms", errbuf && errlen ? errbuf : url, wait);
        if (wait_ms(o, wait) < 0) {
            r = pf_set_error(errbuf, errlen, -ECANCELED, "cannot fetch '%s': cancelled", url);
            break;
        }
        delay *= 2;
        /* A reply that was not HTTP is most likely stale bytes on a reused connection. */
        q.fresh_connection = res.not_http;
    }
    (void)pf_http_free(h);
    return r;
}

int pf_mirror_fetch(const struct pf_mirror_fetch_options *o, const char *url, uint64_t max,
                    const struct pf_mirror_sink *sink, char *errbuf, size_t errlen)
{
    struct fetch f = {.sink = sink, .max = max};
    const char *path = pf_mirror_file_path(url);

    if (path)
        return file_fetch(&f, path, url, errbuf, errlen);
    if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)
        return http_fetch(o, &f, url, errbuf, errlen);
    return pf_set_error(errbuf, errlen, -EPROTONOSUPPORT,
                        "unsupported URL '%s' (file:, http: and https: only)", url);
}

struct buf_sink {
    struct pf_buf *out;
    size_t start;
};

static int buf_write(const void *data, size_t len, void *userdata)
{
    return pf_buf_append(((struct buf_sink *)userdata)->out, data, len);
}

static int buf_reset(void *userdata)
{
    struct buf_sink *s = userdata;

    s->out->len = s->start;
    if (s->out->p)
        s->out->p[s->start] = '\0';
    return 0;
}

int pf_mirror_fetch_buf(const struct pf_mirror_fetch_options *o, const char *url, size_t max,
                        struct pf_buf *out, char *errbuf, size_t errlen)
{
    struct buf_sink s = {out, out->len};
    struct pf_mirror_sink sink = {buf_write, buf_reset, &s};

    return pf_mirror_fetch(o, url, max, &sink, errbuf, errlen);
}

struct fd_sink {
    int fd;
    off_t start;
};

static int fd_write(const void *data, size_t len, void *userdata)
{
    return pf_write_all(((struct fd_sink *)userdata)->fd, data, len);
}

static int fd_reset(void *userdata)
{
    struct fd_sink *s = userdata;

    if (ftruncate(s->fd, s->start) < 0 || lseek(s->fd, s->start, SEEK_SET) < 0)
        return -errno;
    return 0;
}

int pf_mirror_fetch_fd(const struct pf_mirror_fetch_options *o, const char *url, uint64_t max,
                       int fd, char *errbuf, size_t errlen)
{
    struct fd_sink s = {fd, lseek(fd, 0, SEEK_CUR)};
    struct pf_mirror_sink sink = {fd_write, s.start >= 0 ? fd_reset : NULL, &s};

    return pf_mirror_fetch(o, url, max, &sink, errbuf, errlen);
}

int pf_mirror_rewrite(const struct pf_strv *mirrors, const char *url, char **ret)
{
    size_t best_len = 0;
    const char *best = NULL;
    char *out;

    for (size_t i = 0; mirrors && i < mirrors->n; i++) {
        const char *rule = mirrors->v[i], *eq = strchr(rule, '=');
        size_t l = eq ? (size_t)(eq - rule) : 0;

        if (l == 0)
            return -EINVAL;
        if (l > best_len && strncmp(url, rule, l) == 0) {
            best_len = l;
            best = eq + 1;
        }
    }
    out = best ? pf_asprintf("%s%s", best, url + best_len) : pf_strdup(url);
    if (!out)
        return -ENOMEM;
    *ret = out;
    return 0;
}
