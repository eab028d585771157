/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The aggregator's HTTP server: libmicrohttpd with its own polling thread, answering every
 * request through aggregator_api_handle(). Kept apart from api.c so the API can be driven
 * without sockets and the server swapped without touching the API.
 */
#ifndef AGGREGATOR_HTTP_H
#define AGGREGATOR_HTTP_H

#include "pf/setup.h"

struct aggregator_api;
struct aggregator_http;

/*
 * Parses "HOST:PORT" (IPv4 literal, "[IPv6]" literal or a name resolved once; port 0 lets the
 * kernel pick) and starts serving `api` (borrowed: it must outlive the server). Returns 0 with
 * a new server in *ret (stop with aggregator_http_stop()) and the address actually bound in
 * ret_bound as "HOST:PORT", or a negative errno with the reason in errbuf (-EINVAL for a bad
 * address, -EADDRINUSE, ...).
 */
int aggregator_http_start(const char *addr, struct aggregator_api *api,
                          struct aggregator_http **ret, char *ret_bound, size_t boundlen,
                          char *errbuf, size_t errlen);

/* Stops accepting, waits for the requests in progress and frees `h`; accepts NULL; returns
 * NULL. */
struct aggregator_http *aggregator_http_stop(struct aggregator_http *h);

#endif
