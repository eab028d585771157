/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The aggregator's consumer loop (aggregator/consume.h) on pf/kafka.h. At-least-once with an
 * idempotent sink: auto-commit stays on, auto offset store is off. Messages are taken in
 * batches (up to BATCH_MAX, or what arrives within BATCH_WAIT_MS) and the results applied as
 * one Redis pipeline; each partition's offset past the batch is stored only after every reply.
 * A Redis failure seeks each partition back to its first message of the batch, so the next
 * polls hand the whole batch over again; the loop never blocks for long, which keeps the member
 * in its group while Redis is away.
 */
#define PF_LOG_COMPONENT "aggregator"
#include "pf/setup.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "aggregator/consume.h"
#include "aggregator/store.h"
#include "pf/alloc.h"
#include "pf/kafka.h"
#include "pf/log.h"
#include "pf/msg.h"

#define BATCH_MAX 500            /* messages applied as one Redis pipeline */
#define BATCH_WAIT_MS 5          /* how long a batch waits for more messages after its first */
#define AGGREGATOR_CLOSE_MS 5000 /* leaving the group on shutdown, at most */

static int64_t mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The entry of m's partition in tps[0..*n), added when missing. */
static struct pf_kafka_tp *tp_find(struct pf_kafka_tp *tps, size_t *n, const struct pf_kafka_msg *m,
                                   bool *ret_added)
{
    for (size_t i = 0; i < *n; i++)
        if (tps[i].partition == m->partition && strcmp(tps[i].topic, m->topic) == 0) {
            *ret_added = false;
            return &tps[i];
        }
    tps[*n] = (struct pf_kafka_tp){.topic = m->topic,
                                   .partition = m->partition,
                                   .offset = m->offset};
    *ret_added = true;
    return &tps[(*n)++];
}

/* Stores, per partition of the batch, the offset past its last message: once, after Redis
 * acknowledged every message of the batch. */
static void store_offsets(struct pf_kafka_consumer *c, struct pf_kafka_msg *const *m, size_t n)
{
    struct pf_kafka_tp *tps = pf_calloc(n, sizeof(*tps));
    size_t k = 0;
    char err[256];
    bool added;

    if (!tps)
        return;
    for (size_t i = 0; i < n; i++) {
        struct pf_kafka_tp *p = tp_find(tps, &k, m[i], &added);

        if (added || p->offset < m[i]->offset + 1)
            p->offset = m[i]->offset + 1;
    }
    /* -ESTALE: a partition was revoked meanwhile; its new owner re-applies the messages. */
    if (pf_kafka_consumer_store(c, tps, k, err, sizeof(err)) < 0)
        pf_log(LOG_INFO, "cannot store the offsets of %zu messages: %s, ignoring", n, err);
    pf_free(tps);
}

/* Seeks every partition of the batch back to its first message, so the next polls hand the
 * whole batch over again (the writes are idempotent: what was applied is absorbed). */
static void seek_back(struct pf_kafka_consumer *c, struct pf_kafka_msg *const *m, size_t n)
{
    struct pf_kafka_tp *tps = pf_calloc(n, sizeof(*tps));
    size_t k = 0;
    bool added;

    for (size_t i = 0; tps && i < n; i++) {
        /* A partition's messages come in offset order: the first one seen is the lowest. */
        struct pf_kafka_tp *p = tp_find(tps, &k, m[i], &added);

        if (!added)
            continue;
        pf_log(LOG_ERR, "cannot apply %s [%" PRId32 "] from offset %" PRId64 " to redis, retrying",
               p->topic, p->partition, p->offset);
        (void)pf_kafka_consumer_seek(c, p, 1000);
    }
    pf_free(tps);
}

static void log_malformed(const struct pf_kafka_msg *m, const char *why)
{
    pf_log(LOG_WARNING, "malformed message at %s [%" PRId32 "] offset %" PRId64 ": %s, skipping",
           m->topic, m->partition, m->offset, why);
}

/* A store error that retrying cannot fix: the message is skipped as malformed. */
static bool is_permanent(int r)
{
    return r == -EINVAL || r == -E2BIG || r == -EPROTONOSUPPORT;
}

/* Records a run message now (runs are rare; the script tolerates results before their run).
 * Returns 0 (recorded or skipped as malformed) or a negative errno from Redis. */
static int handle_run(struct aggregator_store *store, const struct pf_kafka_msg *m)
{
    struct pf_msg_run run = {0};
    char err[256] = "";
    int r = pf_msg_run_decode(m->value, m->value_len, &run, err, sizeof(err));

    if (r == 0) {
        r = aggregator_store_record_run(store, &run);
        pf_msg_run_release(&run);
    }
    if (r >= 0)
        return 0;
    if (err[0] || is_permanent(r)) {
        log_malformed(m, err[0] ? err : strerror(-r));
        return 0;
    }
    return r;
}

/*
 * Decodes and applies a batch: run messages as they come, the results as one pipeline.
 * Returns 0 (every message applied or skipped as malformed: store the offsets) or a negative
 * errno from Redis (retry the batch).
 */
static int handle_batch(struct aggregator_store *store, struct pf_kafka_msg *const *m, size_t n)
{
    struct pf_msg_result *res = pf_calloc(n, sizeof(*res));
    const struct pf_kafka_msg **from = pf_calloc(n, sizeof(*from));
    int *out = pf_calloc(n, sizeof(*out));
    size_t k = 0;
    int r = res && from && out ? 0 : -ENOMEM;

    for (size_t i = 0; r == 0 && i < n; i++) {
        char err[256] = "";

        if (strcmp(m[i]->topic, PF_KAFKA_TOPIC_RUNS) == 0) {
            r = handle_run(store, m[i]);
            continue;
        }
        if (pf_msg_result_decode(m[i]->value, m[i]->value_len, &res[k], err, sizeof(err)) < 0) {
            log_malformed(m[i], err[0] ? err : "cannot decode");
            continue;
        }
        from[k++] = m[i];
    }
    if (r == 0)
        r = aggregator_store_apply_results(store, res, k, out);
    for (size_t i = 0; i < k; i++) {
        if (r == 0 && out[i] >= 0)
            pf_log(LOG_DEBUG, "result %s/%s %s attempt %u: %s", res[i].run_id, res[i].job_id,
                   res[i].status, res[i].attempt,
                   out[i] == AGGREGATOR_APPLY_IGNORED ? "duplicate" : "applied");
        else if (r == 0 && is_permanent(out[i]))
            /* -EINVAL from the encoder: a result we decoded but cannot store (bad UTF-8). */
            log_malformed(from[i],
                          out[i] == -EINVAL ? "result cannot be stored" : strerror(-out[i]));
        else if (r == 0)
            r = out[i];
        pf_msg_result_release(&res[i]);
    }
    pf_free(res);
    pf_free(from);
    pf_free(out);
    return r;
}

/* Takes the next message (waiting up to 500 ms), then whatever else arrives within
 * BATCH_WAIT_MS, up to BATCH_MAX. Returns how many are in m (0 when none). */
static size_t poll_batch(struct pf_kafka_consumer *c, struct pf_kafka_msg **m)
{
    int64_t deadline = 0;
    size_t n = 0;

    while (n < BATCH_MAX) {
        int64_t left = n == 0 ? 500 : deadline - mono_ms();
        struct pf_kafka_msg *msg;

        if (pf_kafka_consumer_poll(c, left > 0 ? (int)left : 0, &msg) <= 0)
            break;
        if (msg->err) {
            /* Broker and topic errors are transient here: librdkafka reconnects itself. */
            pf_log(LOG_WARNING, "kafka: %s, ignoring", msg->errstr);
            (void)pf_kafka_msg_free(msg);
            if (n == 0)
                break;
            continue;
        }
        if (n == 0)
            deadline = mono_ms() + BATCH_WAIT_MS;
        m[n++] = msg;
    }
    return n;
}

int aggregator_consume_run(const char *brokers, struct aggregator_store *store,
                           const volatile sig_atomic_t *stop)
{
    static const char *const topics[] = {PF_KAFKA_TOPIC_RUNS, PF_KAFKA_TOPIC_RESULTS};
    struct pf_kafka_options ko = {.brokers = brokers};
    struct pf_kafka_consumer *c = NULL;
    char err[512];
    int r;

    r = pf_kafka_consumer_new(PF_KAFKA_RESULTS_CONSUMER, &ko, NULL, &c, err, sizeof(err));
    if (r < 0)
        return pf_log_errno(LOG_ERR, r, "cannot create the kafka consumer: %s", err);
    r = pf_kafka_consumer_subscribe(c, topics, PF_ARRAY_SIZE(topics), err, sizeof(err));
    if (r < 0)
        pf_log(LOG_ERR, "cannot subscribe to %s and %s: %s", PF_KAFKA_TOPIC_RUNS,
               PF_KAFKA_TOPIC_RESULTS, err);
    while (r == 0 && !*stop) {
        struct pf_kafka_msg *m[BATCH_MAX];
        size_t n = poll_batch(c, m);

        if (n == 0)
            continue;
        if (handle_batch(store, m, n) == 0) {
            store_offsets(c, m, n);
        } else {
            struct timespec ts = {.tv_sec = 1};

            seek_back(c, m, n);
            (void)nanosleep(&ts, NULL);
        }
        for (size_t i = 0; i < n; i++)
            (void)pf_kafka_msg_free(m[i]);
    }
    /* Bounded: with the broker gone the group cannot be left; what was not committed is
     * delivered again to the next aggregator, whose writes are idempotent. */
    if (pf_kafka_consumer_close_within(c, AGGREGATOR_CLOSE_MS) < 0) {
        pf_log(LOG_WARNING, "kafka consumer not closed within %d ms: leaving without it",
               AGGREGATOR_CLOSE_MS);
        r = r < 0 ? r : -ETIMEDOUT; /* exit status 1: the group was not left cleanly */
    }
    return r;
}
