/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libcurl wrapper: the only module that includes <curl/curl.h> (STYLE L3). It sets up an
 * easy handle the same safe way for every client (TLS peer and host verification always on,
 * optional CA file, connect/total/low-speed timeouts, a redirect cap, a user agent, protocol
 * allow-lists), maps CURLcode to a negative errno with curl's text in errbuf, and drops every
 * line that can carry a credential from its debug output. Bodies and headers go through
 * callbacks, so bounding them is the caller's choice. The registry client (registry_http.c) and
 * the package-mirror fetcher (mirror_fetch.c) sit on top of it.
 */
#ifndef PF_HTTP_H
#define PF_HTTP_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "pf/setup.h"

/* DNS cache and TLS sessions shared between handles, usable from several threads at once. */
struct pf_http_share;
/* One easy handle. It keeps its connections between requests; one thread at a time. */
struct pf_http;

/*
 * Receives one raw response header line as libcurl saw it (CRLF included), status lines
 * ("HTTP/1.1 200 OK") too, so a new response (after 100-continue or on a retry) can be told
 * apart. Returns >= 0, or a negative errno that aborts the transfer.
 */
typedef int (*pf_http_header_cb)(const char *line, size_t len, void *userdata);
/* Receives body bytes of the response whose status is `status`. >= 0, or a negative errno that
 * aborts the transfer. */
typedef int (*pf_http_write_cb)(long status, const void *data, size_t len, void *userdata);
/* Fills `buf` with at most `len` bytes of request body. Returns the count (0 at the end) or a
 * negative errno that aborts the transfer. */
typedef ssize_t (*pf_http_read_cb)(void *buf, size_t len, void *userdata);

struct pf_http_request {
    const char *method; /* NULL = GET; HEAD, POST, PUT, PATCH, DELETE, ... */
    const char *url;
    const char *protocols;      /* allowed schemes, NULL = "http,https" */
    const char *const *headers; /* extra request header lines, may be NULL */
    size_t n_headers;
    const char *user_agent;   /* NULL = none */
    const char *ca_file;      /* NULL = the system store */
    long connect_timeout_ms;  /* 0 = libcurl's default */
    long timeout_ms;          /* whole transfer; 0 = none */
    long low_speed_limit;     /* abort below this many bytes/s ... */
    long low_speed_time;      /* ... for this many seconds; 0 = off */
    long max_redirects;       /* 0 = redirects are returned, not followed */
    bool fresh_connection;    /* do not reuse a cached connection */
    bool debug;               /* libcurl's trace into pf_log(LOG_DEBUG), scrubbed */
    uint64_t body_len;        /* request body size for POST, PUT and PATCH */
    pf_http_read_cb read;     /* request body; NULL = none */
    pf_http_write_cb write;   /* response body; NULL = discarded */
    pf_http_header_cb header; /* response headers; NULL = ignored */
    void *userdata;           /* passed to the three callbacks */
};

struct pf_http_response {
    long status; /* HTTP status of the last response, 0 when none arrived */
    /* The server's reply was not HTTP ("Received HTTP/0.9 when not allowed"): on a reused
     * connection that is stale bytes of an earlier exchange, worth one retry on a fresh one. */
    bool not_http;
};

/*
 * Initialises libcurl once per process (later calls return the first result). Returns 0, or
 * -EIO with the reason in errbuf.
 */
int pf_http_global_init(char *errbuf, size_t errlen);

/* Returns a new share (free with pf_http_share_free()), or NULL on OOM. Calls
 * pf_http_global_init() first; NULL too when that fails. */
struct pf_http_share *pf_http_share_new(void);
/* Frees a share no handle uses any more; accepts NULL, returns NULL. */
struct pf_http_share *pf_http_share_free(struct pf_http_share *s);

/*
 * Creates a handle using `share` (may be NULL; borrowed, must outlive the handle). Returns 0
 * and the handle in *ret, -ENOMEM, or -EIO when libcurl cannot be initialised.
 */
int pf_http_new(struct pf_http_share *share, struct pf_http **ret);
/* Frees a handle and closes its connections; accepts NULL, returns NULL. */
struct pf_http *pf_http_free(struct pf_http *h);

/*
 * Performs one exchange described by `q` on `h` (options from an earlier request do not carry
 * over; connections do). Header lines starting with "Authorization:" are wiped from memory
 * afterwards. Returns 0 with res->status set (any status: callers judge it); a callback's
 * negative errno as it returned it; or a transport error: -ETIMEDOUT, -ECONNREFUSED (or the
 * connect's errno), -EHOSTUNREACH (name resolution), -EPROTO (TLS), -ECONNRESET (send/receive
 * failed, nothing or a partial body came back), -EINVAL (bad URL or scheme), -ENOMEM, -EIO,
 * with libcurl's reason in errbuf. `res` may be NULL; it is filled on every return.
 */
int pf_http_perform(struct pf_http *h, const struct pf_http_request *q,
                    struct pf_http_response *res, char *errbuf, size_t errlen);

/* The parts of a URL, new strings (pf_free()); `port` is NULL when the URL names none and the
 * scheme's default was not asked for. */
struct pf_http_url {
    char *scheme;
    char *host;
    char *port;
};

/*
 * Splits an absolute URL. With `default_port`, a URL without a port gets its scheme's.
 * Returns 0, -EINVAL when the URL does not parse, or -ENOMEM; *ret untouched on failure.
 */
int pf_http_url_parse(const char *url, bool default_port, struct pf_http_url *ret);
void pf_http_url_release(struct pf_http_url *u);

/* Resolves `ref` against the absolute URL `base` (RFC 3986). Returns 0 and a new string in
 * *ret, -EINVAL or -ENOMEM. */
int pf_http_url_resolve(const char *base, const char *ref, char **ret);

/* Parses an HTTP date (RFC 7231 and the obsolete forms). Returns 0 and the time, or -EINVAL. */
int pf_http_date_parse(const char *s, time_t *ret);

/*
 * Parses a Retry-After value: delta-seconds or an HTTP-date (compared with `now`). The result
 * is clamped to [0, cap_seconds]. Returns 0 and the delay in *ret_seconds, or -EINVAL. The one
 * parser of the registry client and the package-mirror fetcher.
 */
int pf_http_retry_after_parse(const char *value, time_t now, long cap_seconds, long *ret_seconds);

#endif
