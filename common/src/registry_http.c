/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry client's HTTP engine: the client object (pool of pf_http handles, one share for
 * DNS and TLS sessions), and reg_do(), which runs one logical request through auth challenges,
 * redirects and retries. Redirects are followed by hand, not by libcurl, so that the decision
 * to send Authorization is ours: only to the origin the request started at. Plain http is
 * allowed only for loopback and explicitly insecure hosts, checked on every hop.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/log.h"
#include "registry_http.h"

#undef PF_LOG_COMPONENT
#define PF_LOG_COMPONENT "registry"

long long pf__reg_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pf_registry_options_init(struct pf_registry_options *o)
{
    memset(o, 0, sizeof(*o));
    o->connect_timeout_ms = 10000;
    o->request_timeout_ms = 30L * 60 * 1000;
    o->max_retries = 4;
}

static int dup_opt(const char *s, char **ret)
{
    if (!s)
        return 0;
    *ret = pf_strdup(s);
    return *ret ? 0 : -ENOMEM;
}

int pf_registry_new(const struct pf_registry_options *o, struct pf_registry **ret, char *errbuf,
                    size_t errlen)
{
    struct pf_registry_options defaults;
    struct pf_registry *r;

    if (!o) {
        pf_registry_options_init(&defaults);
        o = &defaults;
    }
    if (pf_http_global_init(errbuf, errlen) < 0)
        return -EIO;
    r = pf_calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    (void)pthread_mutex_init(&r->lock, NULL);
    r->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    r->request_timeout_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : 30L * 60 * 1000;
    r->max_retries = o->max_retries < 0 ? 0 : o->max_retries;
    r->debug = o->debug;
    /* A CA file means the user wants that registry verified, loopback or not: that is how a
     * local TLS registry is reached (and how the tests exercise TLS). */
    r->force_tls = o->force_tls || (o->ca_file && o->ca_file[0]);
    if (dup_opt(o->ca_file, &r->ca_file) < 0 || dup_opt(o->docker_config, &r->docker_config) < 0 ||
        dup_opt(o->user_agent ? o->user_agent : "patchfleet/" PF_VERSION, &r->user_agent) < 0 ||
        (o->insecure_hosts && pf_strv_extend(&r->insecure, o->insecure_hosts) < 0))
        goto oom;
    for (size_t i = 0; i < r->insecure.n; i++)
        for (char *p = r->insecure.v[i]; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    r->share = pf_http_share_new();
    if (!r->share)
        goto oom;
    *ret = r;
    return 0;
oom:
    (void)pf_registry_free(r);
    return -ENOMEM;
}

struct pf_registry *pf_registry_free(struct pf_registry *r)
{
    if (!r)
        return NULL;
    for (size_t i = 0; i < r->n_pool; i++)
        (void)pf_http_free(r->pool[i]);
    r->share = pf_http_share_free(r->share);
    pf__reg_auth_clear(r);
    pf_free(r->ca_file);
    pf_free(r->docker_config);
    pf_free(r->user_agent);
    pf_strv_clear(&r->insecure);
    (void)pthread_mutex_destroy(&r->lock);
    return pf_free(r);
}

static struct pf_http *pool_get(struct pf_registry *r)
{
    struct pf_http *h = NULL;

    (void)pthread_mutex_lock(&r->lock);
    if (r->n_pool > 0)
        h = r->pool[--r->n_pool];
    (void)pthread_mutex_unlock(&r->lock);
    if (!h && pf_http_new(r->share, &h) < 0)
        return NULL;
    return h;
}

static void pool_put(struct pf_registry *r, struct pf_http *h)
{
    (void)pthread_mutex_lock(&r->lock);
    if (r->n_pool < REG_POOL_MAX) {
        r->pool[r->n_pool++] = h;
        h = NULL;
    }
    (void)pthread_mutex_unlock(&r->lock);
    (void)pf_http_free(h);
}

static bool host_plain_ok(const struct pf_registry *r, const char *hostport)
{
    char h[300];
    size_t n = strlen(hostport);

    if (!r->force_tls && pf__host_is_loopback(hostport))
        return true;
    if (n >= sizeof(h))
        return false;
    for (size_t i = 0; i <= n; i++)
        h[i] = (hostport[i] >= 'A' && hostport[i] <= 'Z') ? (char)(hostport[i] - 'A' + 'a')
                                                          : hostport[i];
    return pf_strv_contains(&r->insecure, h);
}

const char *pf__reg_scheme(const struct pf_registry *r, const char *host)
{
    return host_plain_ok(r, host) ? "http" : "https";
}

/* Checks that `url` is https, or http to a host allowed plain. Returns 0 or -EPERM. */
static int transport_allowed(const struct pf_registry *r, const char *url)
{
    struct pf_http_url u = {NULL, NULL, NULL};
    char *hp = NULL;
    int rc = pf_http_url_parse(url, false, &u);

    if (rc < 0)
        return rc == -ENOMEM ? rc : -EPERM;
    rc = -EPERM;
    if (strcasecmp(u.scheme, "https") == 0) {
        rc = 0;
        goto out;
    }
    if (strcasecmp(u.scheme, "http") != 0)
        goto out;
    hp = u.port ? pf_asprintf("%s:%s", u.host, u.port) : pf_strdup(u.host);
    if (!hp) {
        rc = -ENOMEM;
        goto out;
    }
    if (host_plain_ok(r, hp) || host_plain_ok(r, u.host))
        rc = 0;
out:
    pf_free(hp);
    pf_http_url_release(&u);
    return rc;
}

int pf__reg_req_init(struct reg_req *q, const char *method, const char *url)
{
    memset(q, 0, sizeof(*q));
    q->method = method;
    q->body_fd = -1;
    q->content_length = -1;
    q->retry = true;
    pf_buf_init(&q->err, REG_ERRBODY_MAX);
    q->url = pf_strdup(url);
    return q->url ? 0 : -ENOMEM;
}

static void clear_response(struct reg_req *q)
{
    q->status = 0;
    q->content_type = pf_free(q->content_type);
    q->docker_digest = pf_free(q->docker_digest);
    q->location = pf_free(q->location);
    q->link = pf_free(q->link);
    q->retry_after = pf_free(q->retry_after);
    q->www_auth = pf_free(q->www_auth);
    q->content_length = -1;
    pf_buf_reset(&q->err);
}

void pf__reg_req_release(struct reg_req *q)
{
    clear_response(q);
    pf_buf_release(&q->err);
    q->url = pf_free(q->url);
    if (q->auth_fixed) {
        memset(q->auth_fixed, 0, strlen(q->auth_fixed));
        q->auth_fixed = pf_free(q->auth_fixed);
    }
}

/* --- transfer callbacks ------------------------------------------------------------------ */

static int on_header(const char *data, size_t len, void *ud)
{
    struct reg_req *q = ud;
    size_t n = len, klen;
    const char *colon;
    char **slot = NULL;
    char *v;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        clear_response(q); /* a new response (after 100-continue) */
        return 0;
    }
    while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
        n--;
    colon = memchr(data, ':', n);
    if (!colon)
        return 0;
    klen = (size_t)(colon - data);
#define HDR(name) (klen == sizeof(name) - 1 && strncasecmp(data, name, klen) == 0)
    if (HDR("content-type"))
        slot = &q->content_type;
    else if (HDR("docker-content-digest"))
        slot = &q->docker_digest;
    else if (HDR("location"))
        slot = &q->location;
    else if (HDR("link"))
        slot = &q->link;
    else if (HDR("retry-after"))
        slot = &q->retry_after;
    else if (HDR("www-authenticate"))
        slot = &q->www_auth;
    else if (HDR("content-length")) {
        char tmp[32];
        size_t vl = n - klen - 1;
        if (vl < sizeof(tmp)) {
            char *end;
            memcpy(tmp, colon + 1, vl);
            tmp[vl] = '\0';
            errno = 0;
            long long cl = strtoll(tmp, &end, 10);
            if (errno == 0 && cl >= 0 && end != tmp)
                q->content_length = cl;
        }
    }
#undef HDR
    if (!slot)
        return 0;
    colon++;
    while (colon < data + n && (*colon == ' ' || *colon == '\t'))
        colon++;
    /* cppcheck-suppress knownConditionTrueFalse ; false positive: curl passes headers of up
     * to 100 KiB */
    if ((size_t)(data + n - colon) > 8192)
        return 0; /* absurdly long: ignore rather than keep */
    if (*slot && slot == &q->www_auth) {
        /* Several challenges may come as several headers: join them like one list. */
        v = pf_asprintf("%s, %.*s", *slot, (int)(data + n - colon), colon);
    } else {
        v = pf_strndup(colon, (size_t)(data + n - colon));
    }
    if (!v)
        return -ENOMEM; /* OOM: abort the transfer */
    pf_free(*slot);
    *slot = v;
    return 0;
}

static int on_write(long code, const void *data, size_t len, void *ud)
{
    struct reg_req *q = ud;
    int rc;

    if (code < 200 || code > 299) {
        (void)pf_buf_append(&q->err, data, len); /* bounded; the excess is dropped */
        return 0;
    }
    if (q->out)
        rc = pf_buf_append(q->out, data, len);
    else if (q->cb)
        rc = q->cb(data, len, q->cb_ud);
    else
        rc = 0;
    if (rc < 0) {
        q->cb_error = rc;
        return rc;
    }
    q->delivered += len;
    return 0;
}

static ssize_t on_read(void *buf, size_t want, void *ud)
{
    struct reg_req *q = ud;
    uint64_t left = q->body_len - q->body_pos;
    ssize_t n;

    if ((uint64_t)want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    if (q->body) {
        memcpy(buf, (const char *)q->body + q->body_off + q->body_pos, want);
        n = (ssize_t)want;
    } else {
        do
            n = pread(q->body_fd, buf, want, (off_t)(q->body_off + q->body_pos));
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            q->cb_error = n < 0 ? -errno : -EIO;
            return q->cb_error;
        }
    }
    q->body_pos += (uint64_t)n;
    return n;
}

/* --- one attempt --------------------------------------------------------------------------- */

static bool errno_retryable(int e)
{
    return e == -ETIMEDOUT || e == -ECONNRESET || e == -ECONNREFUSED || e == -EHOSTUNREACH ||
           e == -ENETUNREACH || e == -ECONNABORTED;
}

static bool status_retryable(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* Performs one HTTP exchange. Returns 0 (q->status set) or a negative errno (message set). */
static int attempt(struct pf_registry *r, struct pf_http *h, struct reg_req *q, const char *auth,
                   bool fresh, char *errbuf, size_t errlen)
{
    const char **hdrs = pf_calloc(q->n_headers + 2, sizeof(*hdrs));
    struct pf_http_request hq = {
        .method = q->method,
        .url = q->url,
        .protocols = "http,https",
        .headers = hdrs,
        .user_agent = r->user_agent,
        .ca_file = r->ca_file,
        .connect_timeout_ms = r->connect_timeout_ms,
        .timeout_ms = r->request_timeout_ms,
        .debug = r->debug,
        .fresh_connection = fresh,
        .body_len = q->body_len,
        .read = on_read,
        .write = on_write,
        .header = on_header,
        .userdata = q,
    };
    struct pf_http_response res;
    char herr[512] = "";
    size_t n = 0;
    int rc;

    if (!hdrs)
        return -ENOMEM;
    clear_response(q);
    q->delivered = 0;
    q->body_pos = 0;
    q->cb_error = 0;
    if (q->out)
        pf_buf_reset(q->out); /* each exchange (retry, page, redirect) starts a fresh body */
    for (size_t i = 0; i < q->n_headers; i++)
        hdrs[n++] = q->headers[i];
    hdrs[n++] = "Expect:"; /* no 100-continue round trip before a body */
    if (auth)
        hdrs[n++] = auth;
    hq.n_headers = n;
    rc = pf_http_perform(h, &hq, &res, herr, sizeof(herr));
    q->not_http = res.not_http;
    if (rc < 0) {
        if (q->cb_error) {
            rc = q->cb_error;
            if (rc == -E2BIG)
                (void)snprintf(errbuf, errlen, "%s: response is too large", q->what);
            else
                (void)snprintf(errbuf, errlen, "%s: %s", q->what, strerror(-rc));
        } else {
            (void)snprintf(errbuf, errlen, "%s: %s", q->what, herr);
        }
    } else {
        q->status = res.status;
    }
    pf_free(hdrs);
    return rc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... capped at 30 s, each drawn from [d/2, d]. */
static long backoff_ms(int n, const struct reg_req *q)
{
    long d = 500L << (n < 6 ? n : 6);
    unsigned int seed = (unsigned int)pf__reg_now_ms() ^ (unsigned int)(uintptr_t)q;
    long retry_after;

    if (d > 30000)
        d = 30000;
    /* rand_r() is in [0, RAND_MAX] and d / 2 + 1 > 0: a signed long remainder is in [0, d / 2]. */
    d = d / 2 + rand_r(&seed) % (d / 2 + 1);
    if (q->retry_after &&
        pf_http_retry_after_parse(q->retry_after, time(NULL), REG_RETRY_AFTER_CAP, &retry_after) ==
            0 &&
        retry_after * 1000 > d)
        d = retry_after * 1000;
    return d;
}

static int follow_redirect(struct pf_registry *r, struct reg_req *q, const char *origin,
                           bool *auth_ok, char *errbuf, size_t errlen)
{
    char *next = NULL;
    int rc = pf__url_resolve(q->url, q->location, &next);

    if (rc < 0) {
        (void)snprintf(errbuf, errlen, "%s: invalid redirect location", q->what);
        return rc == -ENOMEM ? rc : -EPROTO;
    }
    if (transport_allowed(r, next) < 0) {
        pf_free(next);
        (void)snprintf(errbuf, errlen, "%s: redirect to a non-https URL refused", q->what);
        return -EPERM;
    }
    if (!pf__url_same_origin(origin, next))
        *auth_ok = false;
    pf_free(q->url);
    q->url = next;
    return 0;
}

static int reset_sink(struct reg_req *q)
{
    if (q->out)
        pf_buf_reset(q->out);
    if (q->reset)
        return q->reset(q->cb_ud);
    return 0;
}

int pf__reg_do(struct pf_registry *r, struct reg_req *q, char *errbuf, size_t errlen)
{
    char *origin = NULL, *auth = NULL;
    bool auth_ok = true, challenged = q->auth_fixed != NULL || q->host == NULL;
    bool fresh = false, fresh_tried = false;
    int tries = 0, redirects = 0, rc;
    struct pf_http *h;

    if (transport_allowed(r, q->url) < 0) {
        (void)snprintf(errbuf, errlen,
                       "%s: plain http is only used for loopback hosts and insecure registries",
                       q->what);
        return -EPERM;
    }
    origin = pf_strdup(q->url);
    h = pool_get(r);
    if (!origin || !h) {
        pf_free(origin);
        if (h)
            pool_put(r, h);
        return -ENOMEM;
    }
    for (;;) {
        if (auth_ok && q->auth_fixed) {
            auth = pf_strdup(q->auth_fixed);
        } else if (auth_ok) {
            bool cred = false;
            auth = pf__reg_auth_cached(r, q->host, q->scope, &cred);
            q->cred_offered = auth && cred;
        } else {
            q->cred_offered = false; /* another origin: nothing of ours was sent */
        }
        rc = attempt(r, h, q, auth_ok ? auth : NULL, fresh, errbuf, errlen);
        fresh = false;
        if (auth) {
            memset(auth, 0, strlen(auth));
            auth = pf_free(auth);
        }
        if (rc < 0) {
            bool restartable = q->delivered == 0 || q->out || q->reset;
            /* A reply that is not HTTP at all ("Received HTTP/0.9") on a connection kept from
             * an earlier exchange is most likely that exchange's stale bytes: once, and outside
             * the retry budget, try again on a new connection. */
            if (q->not_http && q->retry && !fresh_tried && restartable && rc != q->cb_error) {
                fresh = fresh_tried = true;
                pf_log(LOG_DEBUG, "%s: reply was not HTTP; retrying on a fresh connection",
                       q->what);
                rc = reset_sink(q);
                if (rc < 0)
                    break;
                continue;
            }
            if (rc != q->cb_error && errno_retryable(rc) && q->retry && restartable &&
                tries < r->max_retries) {
                long d = backoff_ms(tries++, q);
                pf_log(LOG_DEBUG, "%s: %s; retrying in %ld ms", q->what, strerror(-rc), d);
                sleep_ms(d);
                rc = reset_sink(q);
                if (rc < 0)
                    break;
                continue;
            }
            break;
        }
        if (q->follow && q->status >= 300 && q->status <= 308 && q->status != 304 && q->location) {
            if (++redirects > REG_REDIRECTS_MAX) {
                (void)snprintf(errbuf, errlen, "%s: too many redirects", q->what);
                rc = -ELOOP;
                break;
            }
            rc = follow_redirect(r, q, origin, &auth_ok, errbuf, errlen);
            if (rc < 0)
                break;
            continue;
        }
        if (q->status == 401 && !challenged && auth_ok && q->www_auth) {
            challenged = true;
            rc = pf__reg_authenticate(r, q, errbuf, errlen);
            if (rc < 0)
                break;
            continue;
        }
        if (status_retryable(q->status) && q->retry && tries < r->max_retries) {
            long d = backoff_ms(tries++, q);
            pf_log(LOG_DEBUG, "%s: HTTP %ld; retrying in %ld ms", q->what, q->status, d);
            sleep_ms(d);
            continue;
        }
        rc = 0;
        break;
    }
    pool_put(r, h);
    pf_free(origin);
    return rc;
}

static const char *reason_phrase(long s)
{
    switch (s) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 416:
        return "Range Not Satisfiable";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "unexpected status";
    }
}

int pf__reg_http_error(const struct reg_req *q, char *errbuf, size_t errlen)
{
    char detail[320];
    long s = q->status;

    if (pf__registry_error_parse(q->err.p, q->err.len, detail, sizeof(detail)) == 0)
        (void)snprintf(detail, sizeof(detail), "%s", reason_phrase(s));
    if ((s == 401 || s == 403) && q->cred_offered) {
        (void)snprintf(errbuf, errlen,
                       "%s: authentication failed: registry '%s' refused access with the "
                       "configured credentials: %ld %s",
                       q->what, q->registry ? q->registry : "?", s, detail);
        return -EKEYREJECTED;
    }
    (void)snprintf(errbuf, errlen, "%s: %ld %s", q->what, s, detail);
    if (s == 401 || s == 403)
        return -EACCES;
    if (s == 404)
        return -ENOENT;
    if (s == 408)
        return -ETIMEDOUT;
    if (s == 429)
        return -EBUSY;
    if (s == 400)
        return -EINVAL;
    if (s == 405)
        return -EOPNOTSUPP;
    if (s == 413)
        return -E2BIG;
    if (s == 416)
        return -ERANGE;
    if (s >= 500)
        return -EIO;
    return -EPROTO;
}
