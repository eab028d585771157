/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP API of the aggregator (aggregator/api.h), read-only on the Redis store: run meta,
 * counts, rows, the runs index and PING all go through the store (aggregator/store.h) on one
 * connection. It is opened on first use with short timeouts and one attempt per command, and
 * dropped on any connection error, then reopened by the next request: a dashboard request must
 * fail fast with 503 while Redis is down instead of waiting out the consumer's 30 s reconnect
 * budget. Requests are serialised by one mutex, as a store is one connection.
 */
#include "pf/setup.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/api.h"
#include "aggregator/metrics.h"
#include "aggregator/store.h"
#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/json.h"
#include "pf/log.h"
#include "pf/msg.h"
#include "pf/redis.h"
#include "pf/status.h"
#include "pf/redis_url.h"

#define API_MAX_RUN_ID 256
#define API_DURATION_RUNS 5 /* most recent runs whose rows feed the duration histogram */
#define API_METRICS_MAX ((size_t)1 << 20)
#define API_REDIS_TIMEOUT_MS 2000

static const char json_ctype[] = "application/json";
static const char text_ctype[] = "text/plain; charset=utf-8";
static const char metrics_ctype[] = "text/plain; version=0.0.4; charset=utf-8";
static const char html_ctype[] = "text/html; charset=utf-8";

struct aggregator_api {
    char *url;
    struct aggregator_store *store; /* NULL until first use or after a connection error */
    pthread_mutex_t lock;
};

/* --- Redis ------------------------------------------------------------------------------- */

/* Drops the connection: the next request reconnects. */
static void api_disconnect(struct aggregator_api *api)
{
    api->store = aggregator_store_close(api->store);
}

/* Makes sure the connection is up. Returns 0 or a negative errno (Redis unavailable). */
static int api_connect(struct aggregator_api *api)
{
    /* One attempt per command: api_disconnect() and the next request do the reconnecting. */
    static const struct pf_redis_options opts = {.timeout_ms = API_REDIS_TIMEOUT_MS, .retry_ms = 0};
    char err[256] = "";
    int r;

    if (api->store)
        return 0;
    r = aggregator_store_open(api->url, &opts, &api->store, err, sizeof(err));
    if (r < 0)
        pf_log(LOG_DEBUG, "cannot open the redis store: %s", err);
    return r;
}

/* Whether a store error means the connection is gone (as opposed to an answer). */
static bool is_connection_error(int r)
{
    return r != -ENOENT && r != -ENOMEM && r != -EBADMSG && r != -E2BIG && r != -EINVAL;
}

/* --- responses --------------------------------------------------------------------------- */

static int respond(struct pf_http_response *ret, int status, const char *type, char *body,
                   size_t len)
{
    *ret =
        (struct pf_http_response){.status = status, .content_type = type, .body = body, .len = len};
    return 0;
}

static int respond_text(struct pf_http_response *ret, int status, const char *text)
{
    char *body = pf_strdup(text);

    if (!body)
        return -ENOMEM;
    return respond(ret, status, text_ctype, body, strlen(body));
}

/* Responds with `root` (stolen) as JSON. */
static int respond_json(struct pf_http_response *ret, int status, json_t *root)
{
    char *body = NULL;
    size_t len = 0;
    int r = root ? pf_json_dump(root, &body, &len) : -ENOMEM;

    json_decref(root);
    if (r < 0)
        return r;
    return respond(ret, status, json_ctype, body, len);
}

static int respond_error(struct pf_http_response *ret, int status, const char *fmt, ...)
    PF_PRINTF(3, 4);

static int respond_error(struct pf_http_response *ret, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Messages quote request bytes (a run id from the URL) and JSON wants valid UTF-8. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    return respond_json(ret, status, json_pack("{s:s}", "error", msg));
}

/* Maps a store error to a response; drops the connections when Redis went away. */
static int respond_store_error(struct aggregator_api *api, struct pf_http_response *ret, int r)
{
    if (r == -ENOMEM)
        return r;
    if (r == -EBADMSG)
        return respond_error(ret, 500, "a stored row does not decode");
    if (r == -E2BIG)
        return respond_error(ret, 500, "the run has too many rows to list");
    if (is_connection_error(r))
        api_disconnect(api);
    return respond_error(ret, 503, "redis unavailable: %s", strerror(-r));
}

/* --- JSON -------------------------------------------------------------------------------- */

static json_t *row_json(const struct pf_msg_result *m)
{
    bool timed = m->started_ms > 0 && m->finished_ms >= m->started_ms;

    return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:o, s:i}",
                     "job_id", m->job_id, "name", m->name, "source", m->source, "status", m->status,
                     "patched_tag", m->patched_tag, "patched_ref", m->patched_ref, "patched_digest",
                     m->patched_digest, "details", m->details, "worker", m->worker, "started_ms",
                     (json_int_t)m->started_ms, "finished_ms", (json_int_t)m->finished_ms,
                     "duration_ms",
                     timed ? json_integer(m->finished_ms - m->started_ms) : json_null(), "attempt",
                     (int)m->attempt);
}

/* Failures first (what an operator acts on: Failed, Error, Cancelled, in the status order),
 * then by name, source and job id. */
static int status_rank(const char *s)
{
    enum pf_status st = pf_status_from_string(s);

    return st >= 0 && pf_status_is_failure(st) ? (int)st : PF_STATUS__MAX;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int cmp_rows(const void *pa, const void *pb)
{
    const struct pf_msg_result *a = pa, *b = pb;
    int d = status_rank(a->status) - status_rank(b->status);

    d = d ? d : cmp_str(a->name, b->name);
    d = d ? d : cmp_str(a->source, b->source);
    return d ? d : cmp_str(a->job_id, b->job_id);
}

/* --- filters ----------------------------------------------------------------------------- */

/* Whether `status` is one of the comma-separated statuses in `filter` (NULL/"" matches all). */
static bool filter_matches(const char *filter, const char *status)
{
    size_t n = strlen(status ? status : "");

    if (!filter || !*filter)
        return true;
    for (const char *p = filter; *p;) {
        size_t len = strcspn(p, ",");

        if (len == n && status && strncmp(p, status, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

/* Checks every status in the filter is one a result can have; the first bad one in *ret_bad. */
static int filter_check(const char *filter, char *ret_bad, size_t badlen)
{
    for (const char *p = filter ? filter : ""; *p;) {
        size_t len = strcspn(p, ","), i;

        for (i = 0; i < PF_STATUS__MAX; i++)
            if (strlen(pf_status_to_string((enum pf_status)i)) == len &&
                strncmp(p, pf_status_to_string((enum pf_status)i), len) == 0)
                break;
        if (i == PF_STATUS__MAX) {
            (void)snprintf(ret_bad, badlen, "%.*s", (int)(len > 64 ? 64 : len), p);
            return -EINVAL;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

/* Run ids are the producer's; anything that could not be one is refused before Redis sees it
 * (a '{' or '}' would also change the key's cluster hash tag). */
static bool run_id_valid(const char *id, size_t len)
{
    if (len == 0 || len > API_MAX_RUN_ID)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];

        if (c <= ' ' || c >= 0x7f || c == '/' || c == '{' || c == '}')
            return false;
    }
    return true;
}

/* --- handlers ---------------------------------------------------------------------------- */

static int handle_runs(struct aggregator_api *api, struct pf_http_response *ret)
{
    struct pf_strv ids = {0};
    json_t *arr = json_array();
    int r = arr ? aggregator_store_list_runs(api->store, AGGREGATOR_API_MAX_RUNS, &ids) : -ENOMEM;

    for (size_t i = 0; r == 0 && i < ids.n; i++) {
        struct aggregator_run_info in = {0};

        r = aggregator_store_read_run(api->store, ids.v[i], &in);
        if (r == -ENOENT) {
            /* Indexed but without meta: removed between the two reads; not an error. */
            r = 0;
            continue;
        }
        if (r == 0)
            r = json_array_append_new(arr, aggregator_run_json(&in)) < 0 ? -ENOMEM : 0;
        aggregator_run_info_release(&in);
    }
    pf_strv_clear(&ids);
    if (r < 0) {
        json_decref(arr);
        return respond_store_error(api, ret, r);
    }
    return respond_json(ret, 200, json_pack("{s:o}", "runs", arr));
}

static int handle_run(struct aggregator_api *api, const char *id, struct pf_http_response *ret)
{
    struct aggregator_run_info in = {0};
    int r = aggregator_store_read_run(api->store, id, &in);

    if (r == -ENOENT)
        return respond_error(ret, 404, "unknown run '%s'", id);
    if (r < 0)
        return respond_store_error(api, ret, r);
    r = respond_json(ret, 200, aggregator_run_json(&in));
    aggregator_run_info_release(&in);
    return r;
}

static int handle_jobs(struct aggregator_api *api, const char *id, const char *filter,
                       struct pf_http_response *ret)
{
    struct aggregator_run_info in = {0};
    struct pf_msg_result *rows = NULL;
    size_t n = 0;
    json_t *arr;
    char bad[80];
    int r;

    if (filter_check(filter, bad, sizeof(bad)) < 0)
        return respond_error(ret, 400,
                             "unknown status '%s' in the filter (one or more of Patched, "
                             "UpToDate, Skipped, Planned, Failed, Cancelled, comma-separated)",
                             bad);
    r = aggregator_store_read_run(api->store, id, &in);
    aggregator_run_info_release(&in);
    if (r == -ENOENT)
        return respond_error(ret, 404, "unknown run '%s'", id);
    r = r < 0 ? r : aggregator_store_read_results(api->store, id, &rows, &n);
    if (r < 0)
        return respond_store_error(api, ret, r);
    if (n > 1)
        qsort(rows, n, sizeof(*rows), cmp_rows);
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (filter_matches(filter, rows[i].status) &&
            json_array_append_new(arr, row_json(&rows[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    for (size_t i = 0; i < n; i++)
        pf_msg_result_release(&rows[i]);
    pf_free(rows);
    if (!arr)
        return -ENOMEM;
    return respond_json(ret, 200, json_pack("{s:s, s:o}", "run_id", id, "jobs", arr));
}

/* Sums the listed runs and the durations of the most recent ones into `m`. */
static int gather_metrics(struct aggregator_api *api, struct aggregator_metrics *m)
{
    struct pf_strv ids = {0};
    int r = aggregator_store_list_runs(api->store, AGGREGATOR_API_MAX_RUNS, &ids);

    for (size_t i = 0; r == 0 && i < ids.n; i++) {
        struct aggregator_run_info in = {0};
        struct pf_msg_result *rows = NULL;
        size_t n = 0;

        r = aggregator_store_read_run(api->store, ids.v[i], &in);
        r = r < 0 ? r : aggregator_metrics_add_run(m, &in);
        aggregator_run_info_release(&in);
        if (r == 0 && i < API_DURATION_RUNS)
            r = aggregator_store_read_results(api->store, ids.v[i], &rows, &n);
        for (size_t j = 0; j < n; j++) {
            (void)aggregator_metrics_observe(m, &rows[j]);
            pf_msg_result_release(&rows[j]);
        }
        pf_free(rows);
        if (r == -ENOENT)
            r = 0;
    }
    pf_strv_clear(&ids);
    return r;
}

static int handle_metrics(struct aggregator_api *api, struct pf_http_response *ret)
{
    struct aggregator_metrics m = {0};
    struct pf_buf out = PF_BUF_INIT;
    size_t len = 0;
    char *body;
    int r = gather_metrics(api, &m);

    out.max = API_METRICS_MAX;
    if (r < 0) {
        aggregator_metrics_release(&m);
        return respond_store_error(api, ret, r);
    }
    r = aggregator_metrics_render(&m, &out);
    aggregator_metrics_release(&m);
    body = r < 0 ? NULL : pf_buf_steal(&out, &len);
    pf_buf_release(&out);
    if (!body)
        return -ENOMEM;
    return respond(ret, 200, metrics_ctype, body, len);
}

static int handle_healthz(struct aggregator_api *api, struct pf_http_response *ret)
{
    int r = aggregator_store_ping(api->store);

    if (r < 0 && is_connection_error(r))
        api_disconnect(api);
    return respond_text(ret, r == 0 ? 200 : 503, r == 0 ? "ok\n" : "redis unavailable\n");
}

/* Routes /api/runs/{id}[/jobs]; `rest` is what follows "/api/runs/". */
static int route_run(struct aggregator_api *api, const char *rest, const char *filter,
                     struct pf_http_response *ret)
{
    const char *slash = strchr(rest, '/');
    size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
    char id[API_MAX_RUN_ID + 1];

    if (slash && strcmp(slash, "/jobs") != 0)
        return respond_error(ret, 404, "no such endpoint");
    if (!run_id_valid(rest, len))
        return respond_error(ret, 404, "unknown run '%.*s'", (int)(len > 64 ? 64 : len), rest);
    memcpy(id, rest, len);
    id[len] = '\0';
    return slash ? handle_jobs(api, id, filter, ret) : handle_run(api, id, ret);
}

static int route(struct aggregator_api *api, const char *path, const char *filter,
                 struct pf_http_response *ret)
{
    int r;

    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        size_t len;
        const char *page = aggregator_dashboard_page(&len);

        *ret = (struct pf_http_response){.status = 200,
                                         .content_type = html_ctype,
                                         .body = (char *)(uintptr_t)page,
                                         .len = len,
                                         .body_static = true};
        return 0;
    }
    if (strcmp(path, "/api/runs") != 0 && strncmp(path, "/api/runs/", 10) != 0 &&
        strcmp(path, "/metrics") != 0 && strcmp(path, "/healthz") != 0)
        return respond_error(ret, 404, "no such endpoint");
    r = api_connect(api);
    if (r < 0) {
        if (strcmp(path, "/healthz") == 0)
            return respond_text(ret, 503, "redis unavailable\n");
        return respond_error(ret, 503, "redis unavailable: %s", strerror(-r));
    }
    if (strcmp(path, "/healthz") == 0)
        return handle_healthz(api, ret);
    if (strcmp(path, "/metrics") == 0)
        return handle_metrics(api, ret);
    if (strcmp(path, "/api/runs") == 0 || strcmp(path, "/api/runs/") == 0)
        return handle_runs(api, ret);
    return route_run(api, path + 10, filter, ret);
}

int aggregator_api_handle(struct aggregator_api *api, const char *method, const char *path,
                          const char *status_filter, struct pf_http_response *ret)
{
    struct pf_http_response resp = {0};
    int r;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        r = respond_error(&resp, 405, "method %s not allowed (GET or HEAD)", method);
    else {
        (void)pthread_mutex_lock(&api->lock);
        r = route(api, path, status_filter, &resp);
        (void)pthread_mutex_unlock(&api->lock);
    }
    if (r < 0) {
        pf_http_response_release(&resp);
        return r;
    }
    *ret = resp;
    return 0;
}

int aggregator_api_new(const char *redis_url, struct aggregator_api **ret, char *errbuf,
                       size_t errlen)
{
    struct pf_redis_url u = {0};
    struct aggregator_api *api;
    int r;

    /* Only checked here: Redis is contacted by the first request. */
    r = pf_redis_url_parse(redis_url, &u, errbuf, errlen);
    pf_redis_url_release(&u);
    if (r < 0)
        return r;
    api = pf_calloc(1, sizeof(*api));
    if (!api)
        return -ENOMEM;
    api->url = pf_strdup(redis_url);
    if (!api->url || pthread_mutex_init(&api->lock, NULL) != 0) {
        pf_free(api->url);
        pf_free(api);
        return -ENOMEM;
    }
    *ret = api;
    return 0;
}

struct aggregator_api *aggregator_api_free(struct aggregator_api *api)
{
    if (!api)
        return NULL;
    api_disconnect(api);
    pf_free(api->url);
    (void)pthread_mutex_destroy(&api->lock);
    return pf_free(api);
}
