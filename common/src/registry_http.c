/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry client's HTTP engine: the client object (easy-handle pool, CURLSH for DNS and
 * TLS sessions), and reg_do(), which runs one logical request through auth challenges,
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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

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

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    struct pf_registry *r = ud;

    (void)h;
    (void)access;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        (void)pthread_mutex_lock(&r->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    struct pf_registry *r = ud;

    (void)h;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        (void)pthread_mutex_unlock(&r->share_locks[data]);
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
    (void)pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) {
        (void)snprintf(errbuf, errlen, "cannot initialise libcurl: %s",
                       curl_easy_strerror(curl_init_rc));
        return -EIO;
    }
    r = pf_calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    (void)pthread_mutex_init(&r->lock, NULL);
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        (void)pthread_mutex_init(&r->share_locks[i], NULL);
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
    r->share = curl_share_init();
    if (!r->share)
        goto oom;
    if (curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(r->share, CURLSHOPT_USERDATA, r) != CURLSHE_OK ||
        curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
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
        curl_easy_cleanup(r->pool[i]);
    if (r->share)
        (void)curl_share_cleanup(r->share);
    pf__reg_auth_clear(r);
    pf_free(r->ca_file);
    pf_free(r->docker_config);
    pf_free(r->user_agent);
    pf_strv_clear(&r->insecure);
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        (void)pthread_mutex_destroy(&r->share_locks[i]);
    (void)pthread_mutex_destroy(&r->lock);
    return pf_free(r);
}

static CURL *pool_get(struct pf_registry *r)
{
    CURL *h = NULL;

    (void)pthread_mutex_lock(&r->lock);
    if (r->n_pool > 0)
        h = r->pool[--r->n_pool];
    (void)pthread_mutex_unlock(&r->lock);
    return h ? h : curl_easy_init();
}

static void pool_put(struct pf_registry *r, CURL *h)
{
    (void)pthread_mutex_lock(&r->lock);
    if (r->n_pool < REG_POOL_MAX) {
        r->pool[r->n_pool++] = h;
        h = NULL;
    }
    (void)pthread_mutex_unlock(&r->lock);
    if (h)
        curl_easy_cleanup(h);
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
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *hp = NULL;
    int rc = -EPERM;

    if (!u)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (strcasecmp(scheme, "https") == 0) {
        rc = 0;
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0)
        goto out;
    (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
    hp = port ? pf_asprintf("%s:%s", host, port) : pf_strdup(host);
    if (!hp) {
        rc = -ENOMEM;
        goto out;
    }
    if (host_plain_ok(r, hp) || host_plain_ok(r, host))
        rc = 0;
out:
    pf_free(hp);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
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

/* --- curl callbacks ---------------------------------------------------------------------- */

struct reg_xfer {
    struct reg_req *q;
    CURL *h;
};

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct reg_req *q = ((struct reg_xfer *)ud)->q;
    size_t len = size * nmemb, n = len, klen;
    const char *colon;
    char **slot = NULL;
    char *v;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        clear_response(q); /* a new response (after 100-continue) */
        return len;
    }
    while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
        n--;
    colon = memchr(data, ':', n);
    if (!colon)
        return len;
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
        return len;
    colon++;
    while (colon < data + n && (*colon == ' ' || *colon == '\t'))
        colon++;
    if ((size_t)(data + n - colon) > 8192)
        return len; /* absurdly long: ignore rather than keep */
    if (*slot && slot == &q->www_auth) {
        /* Several challenges may come as several headers: join them like one list. */
        v = pf_asprintf("%s, %.*s", *slot, (int)(data + n - colon), colon);
    } else {
        v = pf_strndup(colon, (size_t)(data + n - colon));
    }
    if (!v)
        return 0; /* OOM: abort the transfer */
    pf_free(*slot);
    *slot = v;
    return len;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct reg_xfer *x = ud;
    struct reg_req *q = x->q;
    size_t len = size * nmemb;
    long code = 0;
    int rc;

    (void)curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) {
        (void)pf_buf_append(&q->err, data, len); /* bounded; the excess is dropped */
        return len;
    }
    if (q->out)
        rc = pf_buf_append(q->out, data, len);
    else if (q->cb)
        rc = q->cb(data, len, q->cb_ud);
    else
        rc = 0;
    if (rc < 0) {
        q->cb_error = rc;
        return 0;
    }
    q->delivered += len;
    return len;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    struct reg_req *q = ((struct reg_xfer *)ud)->q;
    uint64_t left = q->body_len - q->body_pos;
    size_t want = size * nmemb;
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
            return CURL_READFUNC_ABORT;
        }
    }
    q->body_pos += (uint64_t)n;
    return (size_t)n;
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)h;
    (void)ud;
    if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
        return 0;
    while (size > 0) {
        size_t n = 0;
        while (n < size && data[n] != '\n')
            n++;
        /* Never log credentials: drop every line that can carry one. */
        if (!(n >= 13 && strncasecmp(data, "authorization", 13) == 0) &&
            !(n >= 19 && strncasecmp(data, "proxy-authorization", 19) == 0) &&
            !(n >= 6 && strncasecmp(data, "cookie", 6) == 0) &&
            !(n >= 10 && strncasecmp(data, "set-cookie", 10) == 0)) {
            int len = (int)(n > 0 && data[n - 1] == '\r' ? n - 1 : n);
            if (len > 0)
                pf_log(LOG_DEBUG, "%c %.*s",
                       type == CURLINFO_HEADER_OUT ? '>' : type == CURLINFO_HEADER_IN ? '<' : '*',
                       len, data);
        }
        if (n < size)
            n++;
        data += n;
        size -= n;
    }
    return 0;
}

/* --- one attempt --------------------------------------------------------------------------- */

static int map_curl(CURL *h, CURLcode rc)
{
    long os_errno = 0;

    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        (void)curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        return os_errno > 0 && os_errno != ECONNREFUSED ? -(int)os_errno : -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        return -EPROTO;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return -ECONNRESET;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return -EINVAL;
    default:
        return -EIO;
    }
}

static bool errno_retryable(int e)
{
    return e == -ETIMEDOUT || e == -ECONNRESET || e == -ECONNREFUSED || e == -EHOSTUNREACH ||
           e == -ENETUNREACH || e == -ECONNABORTED;
}

static bool status_retryable(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static int set_method(CURL *h, struct reg_req *q)
{
    CURLcode c = CURLE_OK;

    if (strcmp(q->method, "HEAD") == 0)
        return curl_easy_setopt(h, CURLOPT_NOBODY, 1L) == CURLE_OK ? 0 : -EIO;
    if (strcmp(q->method, "GET") == 0)
        return 0;
    if (strcmp(q->method, "POST") == 0) {
        c = curl_easy_setopt(h, CURLOPT_POST, 1L);
        if (c == CURLE_OK)
            c = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
    } else if (strcmp(q->method, "PUT") == 0 || strcmp(q->method, "PATCH") == 0) {
        c = curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        if (c == CURLE_OK)
            c = curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len);
        if (c == CURLE_OK && q->method[1] == 'A')
            c = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
    } else {
        c = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
    }
    return c == CURLE_OK ? 0 : -EIO;
}

/* Performs one HTTP exchange. Returns 0 (q->status set) or a negative errno (message set). */
static int attempt(struct pf_registry *r, CURL *h, struct reg_req *q, const char *auth,
                   char *errbuf, size_t errlen)
{
    char cerr[CURL_ERROR_SIZE] = "";
    struct reg_xfer x = {q, h};
    struct curl_slist *hdrs = NULL, *tmp;
    CURLcode c;
    int rc = 0;

    curl_easy_reset(h);
    clear_response(q);
    q->delivered = 0;
    q->body_pos = 0;
    q->cb_error = 0;
    if (q->out)
        pf_buf_reset(q->out); /* each exchange (retry, page, redirect) starts a fresh body */
    for (const struct curl_slist *s = q->headers; s; s = s->next) {
        tmp = curl_slist_append(hdrs, s->data);
        if (!tmp)
            goto oom;
        hdrs = tmp;
    }
    tmp = curl_slist_append(hdrs, "Expect:");
    if (!tmp)
        goto oom;
    hdrs = tmp;
    if (auth) {
        tmp = curl_slist_append(hdrs, auth);
        if (!tmp)
            goto oom;
        hdrs = tmp;
    }
    c = curl_easy_setopt(h, CURLOPT_URL, q->url);
    (void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    (void)curl_easy_setopt(h, CURLOPT_SHARE, r->share);
    (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    (void)curl_easy_setopt(h, CURLOPT_USERAGENT, r->user_agent);
    (void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
    (void)curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->request_timeout_ms);
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    (void)curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    (void)curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    (void)curl_easy_setopt(h, CURLOPT_READDATA, &x);
    if (r->ca_file)
        (void)curl_easy_setopt(h, CURLOPT_CAINFO, r->ca_file);
    if (r->debug) {
        (void)curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
        (void)curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    }
    if (c != CURLE_OK || set_method(h, q) < 0) {
        rc = -EIO;
        (void)snprintf(errbuf, errlen, "%s: cannot set up the request", q->what);
        goto out;
    }
    c = curl_easy_perform(h);
    if (c != CURLE_OK) {
        if (q->cb_error) {
            rc = q->cb_error;
            if (rc == -E2BIG)
                (void)snprintf(errbuf, errlen, "%s: response is too large", q->what);
            else
                (void)snprintf(errbuf, errlen, "%s: %s", q->what, strerror(-rc));
        } else {
            rc = map_curl(h, c);
            (void)snprintf(errbuf, errlen, "%s: %s", q->what,
                           cerr[0] ? cerr : curl_easy_strerror(c));
        }
        goto out;
    }
    (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
out:
    /* The header list holds the Authorization line: wipe it before it is freed. */
    for (struct curl_slist *s = hdrs; s; s = s->next)
        if (strncasecmp(s->data, "authorization:", 14) == 0)
            memset(s->data, 0, strlen(s->data));
    curl_slist_free_all(hdrs);
    (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    return rc;
oom:
    curl_slist_free_all(hdrs);
    return -ENOMEM;
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
        pf__retry_after_parse(q->retry_after, time(NULL), REG_RETRY_AFTER_CAP, &retry_after) == 0 &&
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
    int tries = 0, redirects = 0, rc;
    CURL *h;

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
        if (auth_ok)
            auth = q->auth_fixed ? pf_strdup(q->auth_fixed)
                                 : pf__reg_auth_cached(r, q->host, q->scope);
        rc = attempt(r, h, q, auth_ok ? auth : NULL, errbuf, errlen);
        if (auth) {
            memset(auth, 0, strlen(auth));
            auth = pf_free(auth);
        }
        if (rc < 0) {
            bool restartable = q->delivered == 0 || q->out || q->reset;
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
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "unexpected status";
    }
}

int pf__reg_http_error(const struct reg_req *q, char *errbuf, size_t errlen)
{
    char detail[320];
    long s = q->status;

    if (pf__registry_error_parse(q->err.p, q->err.len, detail, sizeof(detail)) == 0)
        (void)snprintf(detail, sizeof(detail), "%s", reason_phrase(s));
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
