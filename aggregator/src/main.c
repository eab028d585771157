/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patchfleet-aggregator: consumes patchfleet.runs and patchfleet.results and keeps the Redis
 * store current (docs/fleet.md), and with --http serves the dashboard, the JSON API, /metrics
 * and /healthz from that store (docs/dashboard.md). Arguments, signals and the startup wait for
 * Redis live here; the loop is aggregator/consume.c, the writes aggregator/store.c and the HTTP
 * side aggregator/http.c + api.c. SIGINT/SIGTERM stop the loop after the message in hand,
 * leave the group (at most 5 s: docs/fleet.md "Shutdown"), then stop the HTTP server. --no-kafka serves HTTP only (a
 * read-only dashboard beside another aggregator, or the tests).
 */
#define PF_LOG_COMPONENT "aggregator"
#include "pf/setup.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/api.h"
#include "aggregator/consume.h"
#include "pf/http_server.h"
#include "aggregator/store.h"
#include "pf/kafka.h"
#include "pf/log.h"
#include "pf/redis.h"

#define AGGREGATOR_REDIS_RETRY_MS 30000 /* reconnect budget of one call (pf/redis.h) */

static volatile sig_atomic_t arg_stop;

static void on_signal(int sig)
{
    (void)sig;
    arg_stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: patchfleet-aggregator --redis redis://HOST:PORT[/DB]\n"
                 "                             (--brokers HOST:PORT[,...] | --no-kafka)\n"
                 "                             [--http HOST:PORT] [--log-level LEVEL]\n"
                 "  --http HOST:PORT  serve the dashboard, /api, /metrics and /healthz\n"
                 "                    (port 0 picks a free port; the address is printed)\n"
                 "  --no-kafka        do not consume: serve HTTP from Redis only\n");
}

/* Opens the store, waiting for Redis with backoff: the aggregator may start before it. */
static struct aggregator_store *open_store(const char *url)
{
    int64_t delay_ms = 200;

    while (!arg_stop) {
        struct aggregator_store *s = NULL;
        struct timespec ts;
        char err[256] = "";
        /* The default bounds, plus the stop flag: on SIGTERM a Redis call that fails returns
         * at once instead of reconnecting for 30 s (docs/fleet.md, "Shutdown"). */
        struct pf_redis_options ro = {.retry_ms = AGGREGATOR_REDIS_RETRY_MS, .stop = &arg_stop};
        int r = aggregator_store_open(url, &ro, &s, err, sizeof(err));

        if (r == 0)
            return s;
        if (r == -EINVAL || r == -EACCES) {
            pf_log(LOG_ERR, "cannot open the redis store: %s", err);
            return NULL;
        }
        pf_log(LOG_WARNING, "cannot open the redis store: %s, retrying", err);
        ts = (struct timespec){.tv_sec = delay_ms / 1000, .tv_nsec = (delay_ms % 1000) * 1000000};
        (void)nanosleep(&ts, NULL);
        delay_ms = delay_ms * 2 > 5000 ? 5000 : delay_ms * 2;
    }
    return NULL;
}

/* Serves HTTP only, until a signal. A short sleep rather than pause(): a signal landing between
 * the check and pause() would otherwise be missed until the next one. */
static int serve_only(void)
{
    while (!arg_stop) {
        struct timespec ts = {.tv_nsec = 200 * 1000000};

        (void)nanosleep(&ts, NULL);
    }
    return 0;
}

/* The HTTP handler: the API's, with the one query argument it reads. */
static int serve(void *userdata, const char *method, const char *path,
                 const struct pf_http_request *req, struct pf_http_response *ret)
{
    return aggregator_api_handle(userdata, method, path, pf_http_request_query(req, "status"), ret);
}

static int start_http(const char *addr, const char *url, struct aggregator_api **ret_api,
                      struct pf_http_server **ret_http)
{
    char err[256] = "", bound[320] = "";
    int r = aggregator_api_new(url, ret_api, err, sizeof(err));

    if (r < 0)
        return pf_log_errno(LOG_ERR, r, "cannot set up the HTTP API: %s", err);
    r = pf_http_server_start(addr, serve, *ret_api, ret_http, bound, sizeof(bound), err,
                             sizeof(err));
    if (r < 0) {
        *ret_api = aggregator_api_free(*ret_api);
        return pf_log_errno(LOG_ERR, r, "cannot start the HTTP server: %s", err);
    }
    /* Tests and scripts that pass port 0 read the real port from this line. */
    fprintf(stderr, "listening on http://%s\n", bound);
    pf_log(LOG_INFO, "serving the dashboard on http://%s", bound);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"redis", required_argument, NULL, 'r'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"http", required_argument, NULL, 'H'},
        {"no-kafka", no_argument, NULL, 'K'},
        {NULL, 0, NULL, 0},
    };
    const char *brokers = NULL, *url = NULL, *http_addr = NULL;
    struct aggregator_store *store;
    struct aggregator_api *api = NULL;
    struct pf_http_server *http = NULL;
    struct sigaction sa = {.sa_handler = on_signal};
    bool no_kafka = false;
    int c, r;

    pf_log_set_sink(pf_log_stderr_sink, NULL);
    pf_log_set_level(LOG_INFO);
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            brokers = optarg;
            break;
        case 'r':
            url = optarg;
            break;
        case 'H':
            http_addr = optarg;
            break;
        case 'K':
            no_kafka = true;
            break;
        case 'l':
            if (pf_log_level_from_string(optarg) < 0) {
                fprintf(stderr, "patchfleet-aggregator: unknown log level '%s'\n", optarg);
                return 2;
            }
            pf_log_set_level(pf_log_level_from_string(optarg));
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !url || (!brokers == !no_kafka) || (no_kafka && !http_addr)) {
        if (no_kafka && brokers)
            fprintf(stderr, "patchfleet-aggregator: --brokers and --no-kafka exclude each other\n");
        else if (no_kafka && !http_addr)
            fprintf(stderr, "patchfleet-aggregator: --no-kafka needs --http\n");
        usage(stderr);
        return 2;
    }
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    /* HTTP first: /healthz must answer (503) while the consumer still waits for Redis. */
    if (http_addr && start_http(http_addr, url, &api, &http) < 0)
        return 1;
    if (no_kafka) {
        r = serve_only();
        goto out;
    }
    store = open_store(url);
    if (!store) {
        r = arg_stop ? 0 : -EIO;
        goto out;
    }
    pf_log(LOG_INFO, "consuming %s and %s from '%s'", PF_KAFKA_TOPIC_RUNS, PF_KAFKA_TOPIC_RESULTS,
           brokers);
    r = aggregator_consume_run(brokers, store, &arg_stop);
    aggregator_store_close(store);
out:
    pf_http_server_stop(http);
    aggregator_api_free(api);
    return r < 0 ? 1 : 0;
}
