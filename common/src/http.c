/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl behind pf/http.h. Every easy handle is set up here, so the safe defaults are written
 * once: verification of the peer and its name is always on (a CA file adds trust, nothing
 * takes it away), signals are off (threads), schemes are allow-listed, and the debug trace
 * never shows a line that can carry a credential. Callbacks get errnos in and out; the CURLcode
 * never leaves this file. Handles are reset before each request, which keeps their connection
 * cache (registry requests reuse connections) but no option of the previous request.
 */
#include "pf/setup.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "pf/alloc.h"
#include "pf/http.h"
#include "pf/log.h"

#undef PF_LOG_COMPONENT
#define PF_LOG_COMPONENT "http"

struct pf_http_share {
    CURLSH *sh;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

struct pf_http {
    CURL *h;
    struct pf_http_share *share; /* borrowed; set again after every curl_easy_reset() */
};

/* What the callbacks of one transfer see. */
struct xfer {
    const struct pf_http_request *q;
    CURL *h;
    int cb_error; /* the first negative errno a callback returned */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int pf_http_global_init(char *errbuf, size_t errlen)
{
    (void)pthread_once(&global_once, global_init_once);
    if (global_rc == CURLE_OK)
        return 0;
    if (errbuf && errlen)
        (void)snprintf(errbuf, errlen, "cannot initialise libcurl: %s",
                       curl_easy_strerror(global_rc));
    return -EIO;
}

/* --- share ------------------------------------------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    struct pf_http_share *s = ud;

    (void)h;
    (void)access;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        (void)pthread_mutex_lock(&s->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    struct pf_http_share *s = ud;

    (void)h;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        (void)pthread_mutex_unlock(&s->locks[data]);
}

struct pf_http_share *pf_http_share_new(void)
{
    struct pf_http_share *s;

    if (pf_http_global_init(NULL, 0) < 0)
        return NULL;
    s = pf_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        (void)pthread_mutex_init(&s->locks[i], NULL);
    s->sh = curl_share_init();
    if (!s->sh || curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_USERDATA, s) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
        return pf_http_share_free(s);
    return s;
}

struct pf_http_share *pf_http_share_free(struct pf_http_share *s)
{
    if (!s)
        return NULL;
    if (s->sh)
        (void)curl_share_cleanup(s->sh);
    for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
        (void)pthread_mutex_destroy(&s->locks[i]);
    return pf_free(s);
}

/* --- handles ----------------------------------------------------------------------------- */

int pf_http_new(struct pf_http_share *share, struct pf_http **ret)
{
    struct pf_http *h;
    int r = pf_http_global_init(NULL, 0);

    if (r < 0)
        return r;
    h = pf_calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->h = curl_easy_init();
    if (!h->h) {
        pf_free(h);
        return -ENOMEM;
    }
    h->share = share;
    *ret = h;
    return 0;
}

struct pf_http *pf_http_free(struct pf_http *h)
{
    if (!h)
        return NULL;
    curl_easy_cleanup(h->h);
    return pf_free(h);
}

/* --- callbacks --------------------------------------------------------------------------- */

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * nmemb;
    int r = x->q->header ? x->q->header(data, len, x->q->userdata) : 0;

    if (r < 0) {
        if (!x->cb_error)
            x->cb_error = r;
        return 0;
    }
    return len;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * nmemb;
    long status = 0;
    int r;

    if (!x->q->write)
        return len;
    (void)curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    r = x->q->write(status, data, len, x->q->userdata);
    if (r < 0) {
        if (!x->cb_error)
            x->cb_error = r;
        return 0;
    }
    return len;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    ssize_t n = x->q->read(buf, size * nmemb, x->q->userdata);

    if (n < 0) {
        if (!x->cb_error)
            x->cb_error = (int)n;
        return CURL_READFUNC_ABORT;
    }
    return (size_t)n;
}

static bool line_has_secret(const char *data, size_t n)
{
    static const char *const names[] = {"authorization", "proxy-authorization", "cookie",
                                        "set-cookie"};

    for (size_t i = 0; i < PF_ARRAY_SIZE(names); i++) {
        size_t l = strlen(names[i]);
        if (n >= l && strncasecmp(data, names[i], l) == 0)
            return true;
    }
    return false;
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
        if (!line_has_secret(data, n)) {
            int len = (int)(n > 0 && data[n - 1] == '\r' ? n - 1 : n);
            if (len > 0)
                pf_log(LOG_DEBUG, "%c %.*s",
                       type == CURLINFO_HEADER_OUT  ? '>'
                       : type == CURLINFO_HEADER_IN ? '<'
                                                    : '*',
                       len, data);
        }
        if (n < size)
            n++;
        data += n;
        size -= n;
    }
    return 0;
}

/* --- one exchange ------------------------------------------------------------------------ */

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

static CURLcode set_method(CURL *h, const struct pf_http_request *q)
{
    const char *m = q->method ? q->method : "GET";
    CURLcode c = CURLE_OK;

    if (strcmp(m, "HEAD") == 0)
        return curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (strcmp(m, "GET") == 0)
        return CURLE_OK;
    if (strcmp(m, "POST") == 0) {
        c = curl_easy_setopt(h, CURLOPT_POST, 1L);
        if (c == CURLE_OK)
            c = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
    } else if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
        c = curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        if (c == CURLE_OK)
            c = curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len);
        if (c == CURLE_OK && m[1] == 'A')
            c = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
    } else {
        c = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    }
    return c;
}

/* Sets every option of `q` on `h`. Returns CURLE_OK or the first failure that matters. */
static CURLcode set_options(CURL *h, const struct pf_http_request *q, struct xfer *x,
                            struct curl_slist *hdrs, char *cerr)
{
    CURLcode c = curl_easy_setopt(h, CURLOPT_URL, q->url);

    if (c == CURLE_OK)
        c = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, q->protocols ? q->protocols : "http,https");
    (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    (void)curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    if (q->max_redirects > 0) {
        (void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        (void)curl_easy_setopt(h, CURLOPT_MAXREDIRS, q->max_redirects);
        /* A redirect never leads to file: or another scheme, whatever the first URL allowed. */
        (void)curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    } else {
        (void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    }
    if (q->user_agent)
        (void)curl_easy_setopt(h, CURLOPT_USERAGENT, q->user_agent);
    if (q->ca_file)
        (void)curl_easy_setopt(h, CURLOPT_CAINFO, q->ca_file);
    if (q->connect_timeout_ms > 0)
        (void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, q->connect_timeout_ms);
    if (q->timeout_ms > 0)
        (void)curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, q->timeout_ms);
    if (q->low_speed_time > 0) {
        (void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, q->low_speed_limit);
        (void)curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, q->low_speed_time);
    }
    if (q->fresh_connection)
        (void)curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    if (hdrs)
        (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    (void)curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    if (q->read) {
        (void)curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        (void)curl_easy_setopt(h, CURLOPT_READDATA, x);
    }
    if (q->debug) {
        (void)curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
        (void)curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    }
    if (c == CURLE_OK)
        c = set_method(h, q);
    return c;
}

/* Frees a header list, wiping the Authorization lines first (they hold a secret). */
static void headers_free(struct curl_slist *hdrs)
{
    for (struct curl_slist *s = hdrs; s; s = s->next)
        if (strncasecmp(s->data, "authorization:", 14) == 0)
            memset(s->data, 0, strlen(s->data));
    curl_slist_free_all(hdrs);
}

int pf_http_perform(struct pf_http *http, const struct pf_http_request *q,
                    struct pf_http_response *res, char *errbuf, size_t errlen)
{
    char cerr[CURL_ERROR_SIZE] = "";
    struct pf_http_response dummy;
    struct xfer x = {q, http->h, 0};
    struct curl_slist *hdrs = NULL, *tmp;
    CURL *h = http->h;
    CURLcode c;
    int rc = 0;

    if (!res)
        res = &dummy;
    memset(res, 0, sizeof(*res));
    curl_easy_reset(h);
    if (http->share)
        (void)curl_easy_setopt(h, CURLOPT_SHARE, http->share->sh);
    for (size_t i = 0; i < q->n_headers; i++) {
        tmp = curl_slist_append(hdrs, q->headers[i]);
        if (!tmp) {
            headers_free(hdrs);
            return -ENOMEM;
        }
        hdrs = tmp;
    }
    c = set_options(h, q, &x, hdrs, cerr);
    if (c != CURLE_OK) {
        rc = c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        (void)snprintf(errbuf, errlen, "cannot set up the request");
        goto out;
    }
    c = curl_easy_perform(h);
    (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    if (c != CURLE_OK) {
        if (x.cb_error) {
            rc = x.cb_error;
            (void)snprintf(errbuf, errlen, "%s", strerror(-rc));
        } else {
            rc = map_curl(h, c);
            res->not_http = strstr(cerr, "HTTP/0.9") != NULL;
            (void)snprintf(errbuf, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(c));
        }
    }
out:
    (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    headers_free(hdrs);
    return rc;
}

/* --- URLs and dates ---------------------------------------------------------------------- */

/* Copies a libcurl string into a pf_strdup() one and frees it. */
static int take_curl_str(char *s, char **ret)
{
    *ret = NULL;
    if (!s)
        return 0;
    *ret = pf_strdup(s);
    curl_free(s);
    return *ret ? 0 : -ENOMEM;
}

int pf_http_url_parse(const char *url, bool default_port, struct pf_http_url *ret)
{
    struct pf_http_url u = {NULL, NULL, NULL};
    char *scheme = NULL, *host = NULL, *port = NULL;
    CURLU *h = curl_url();
    int r = -EINVAL;

    if (!h)
        return -ENOMEM;
    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(h, CURLUPART_PORT, &port, default_port ? CURLU_DEFAULT_PORT : 0) !=
            CURLUE_OK &&
        default_port)
        goto out;
    r = take_curl_str(scheme, &u.scheme);
    scheme = NULL;
    if (r == 0)
        r = take_curl_str(host, &u.host);
    host = NULL;
    if (r == 0)
        r = take_curl_str(port, &u.port);
    port = NULL;
    if (r < 0) {
        pf_http_url_release(&u);
        goto out;
    }
    *ret = u;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
    return r;
}

void pf_http_url_release(struct pf_http_url *u)
{
    if (!u)
        return;
    u->scheme = pf_free(u->scheme);
    u->host = pf_free(u->host);
    u->port = pf_free(u->port);
}

int pf_http_url_resolve(const char *base, const char *ref, char **ret)
{
    CURLU *u = curl_url();
    char *s = NULL, *copy;
    int r = -EINVAL;

    if (!u)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
        goto out;
    if (curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
        goto out;
    copy = pf_strdup(s);
    r = copy ? 0 : -ENOMEM;
    if (copy)
        *ret = copy;
out:
    curl_free(s);
    curl_url_cleanup(u);
    return r;
}

int pf_http_date_parse(const char *s, time_t *ret)
{
    time_t t = curl_getdate(s, NULL);

    if (t == (time_t)-1)
        return -EINVAL;
    *ret = t;
    return 0;
}

int pf_http_retry_after_parse(const char *value, time_t now, long cap_seconds, long *ret_seconds)
{
    const char *p = value;
    long secs;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p >= '0' && *p <= '9') {
        char *end;
        errno = 0;
        secs = strtol(p, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (errno == ERANGE)
            secs = cap_seconds;
        else if (errno != 0 || *end)
            return -EINVAL;
    } else {
        time_t t;
        if (pf_http_date_parse(p, &t) < 0)
            return -EINVAL;
        secs = t > now ? (long)(t - now) : 0;
    }
    if (secs > cap_seconds)
        secs = cap_seconds;
    if (secs < 0)
        secs = 0;
    *ret_seconds = secs;
    return 0;
}
