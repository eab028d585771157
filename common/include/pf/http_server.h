/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The small HTTP server every daemon embeds for its own endpoints (the aggregator's dashboard
 * and API, every daemon's /metrics and /healthz): libmicrohttpd with one internal polling
 * thread, GET/HEAD only in practice, responses built by a handler that never sees a socket, so
 * handlers are tested without one.
 */
#ifndef PF_HTTP_SERVER_H
#define PF_HTTP_SERVER_H

#include "pf/setup.h"

struct pf_http_server;
struct pf_http_request;

struct pf_http_response {
    int status;               /* HTTP status */
    const char *content_type; /* static string */
    char *body;
    size_t len;
    bool body_static; /* body points at static data: not copied, not freed */
};

/* Frees the body unless static and zeroes the response; accepts a zeroed response. */
void pf_http_response_release(struct pf_http_response *resp);

/* The value of query argument `key` of the request, or NULL. Borrowed for the request. */
const char *pf_http_request_query(const struct pf_http_request *req, const char *key);

/* Fills *ret for `method` and `path` (no query string). Returns 0, or a negative errno to drop
 * the connection (only for out-of-memory: errors the client should see are responses). */
typedef int (*pf_http_handler)(void *userdata, const char *method, const char *path,
                               const struct pf_http_request *req, struct pf_http_response *ret);

/*
 * Parses "HOST:PORT" (IPv4 literal, "[IPv6]" literal or a name resolved once; port 0 lets the
 * kernel pick) and starts serving through `handler`. Returns 0 with a new server in *ret (stop
 * with pf_http_server_stop()) and the address actually bound in ret_bound as "HOST:PORT", or a
 * negative errno with the reason in errbuf (-EINVAL for a bad address, -EADDRINUSE, ...).
 */
int pf_http_server_start(const char *addr, pf_http_handler handler, void *userdata,
                         struct pf_http_server **ret, char *ret_bound, size_t boundlen,
                         char *errbuf, size_t errlen);

/* Stops accepting, waits for the requests in progress and frees `s`; accepts NULL; returns
 * NULL. */
struct pf_http_server *pf_http_server_stop(struct pf_http_server *s);

#endif
