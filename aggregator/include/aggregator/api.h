/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the aggregator answers over HTTP, independent of the HTTP server: the JSON API on the
 * Redis store (/api/runs, /api/runs/{id}, /api/runs/{id}/jobs), /metrics, /healthz and the
 * dashboard page. http.c only moves requests and responses between libmicrohttpd and
 * aggregator_api_handle(). The API keeps its own Redis connections (never the Kafka loop's) and
 * opens them lazily, so the daemon serves 503s while Redis is down and recovers by itself.
 */
#ifndef AGGREGATOR_API_H
#define AGGREGATOR_API_H

#include "pf/http_server.h"
#include "pf/setup.h"

struct aggregator_api;

#define AGGREGATOR_API_MAX_RUNS 50 /* runs listed by /api/runs and summed by /metrics */

/* One response. `body` is owned by the response unless `body_static` is set. */
/* Creates the API over the store at `redis_url` (docs/fleet.md, "## Redis"). Only the URL is
 * checked here; Redis is contacted by the first request. Returns 0 and a new API in *ret (free
 * with aggregator_api_free()), -EINVAL with a reason in errbuf, or -ENOMEM. */
int aggregator_api_new(const char *redis_url, struct aggregator_api **ret, char *errbuf,
                       size_t errlen);

/* Closes the API's Redis connections and frees it; accepts NULL; returns NULL. */
struct aggregator_api *aggregator_api_free(struct aggregator_api *api);

/*
 * Answers one request. `method` and `path` (already percent-decoded, without the query) are
 * borrowed; `status_filter` is the value of the "status" query argument or NULL. Safe to call
 * from several threads: calls are serialised. Always fills *ret (release with
 * pf_http_response_release()) and returns 0, or -ENOMEM when not even an error response
 * could be built (then *ret is untouched).
 */
int aggregator_api_handle(struct aggregator_api *api, const char *method, const char *path,
                          const char *status_filter, struct pf_http_response *ret);

/* The dashboard page (aggregator/web/index.html) as embedded at build time: a borrowed,
 * NUL-terminated static string; its length in *ret_len. */
const char *aggregator_dashboard_page(size_t *ret_len);

#endif
