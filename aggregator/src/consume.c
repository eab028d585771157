/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The aggregator's consumer loop (aggregator/consume.h) on librdkafka. At-least-once with an
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

#include <librdkafka/rdkafka.h>

#include "aggregator/consume.h"
#include "aggregator/store.h"
#include "pf/alloc.h"
#include "pf/log.h"
#include "pf/msg.h"

#define BATCH_MAX 500   /* messages applied as one Redis pipeline */
#define BATCH_WAIT_MS 5 /* how long a batch waits for more messages after its first */

static int64_t mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Stores, per partition of the batch, the offset past its last message: once, after Redis
 * acknowledged every message of the batch. */
static void store_offsets(rd_kafka_t *rk, rd_kafka_message_t *const *m, size_t n)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    rd_kafka_resp_err_t err;

    if (!l)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *topic = rd_kafka_topic_name(m[i]->rkt);
        rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(l, topic,
                                                                          m[i]->partition);

        if (!p)
            p = rd_kafka_topic_partition_list_add(l, topic, m[i]->partition);
        if (p->offset < m[i]->offset + 1)
            p->offset = m[i]->offset + 1;
    }
    err = rd_kafka_offsets_store(rk, l);
    /* __STATE: a partition was revoked meanwhile; its new owner re-applies the messages. */
    if (err)
        pf_log(LOG_INFO, "cannot store the offsets of %zu messages: %s, ignoring", n,
               rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Seeks every partition of the batch back to its first message, so the next polls hand the
 * whole batch over again (the writes are idempotent: what was applied is absorbed). */
static void seek_back(rd_kafka_message_t *const *m, size_t n)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);

    for (size_t i = 0; l && i < n; i++) {
        const char *topic = rd_kafka_topic_name(m[i]->rkt);

        /* A partition's messages come in offset order: the first one seen is the lowest. */
        if (rd_kafka_topic_partition_list_find(l, topic, m[i]->partition))
            continue;
        (void)rd_kafka_topic_partition_list_add(l, topic, m[i]->partition);
        pf_log(LOG_ERR, "cannot apply %s [%" PRId32 "] from offset %" PRId64
                        " to redis, retrying",
               topic, m[i]->partition, m[i]->offset);
        (void)rd_kafka_seek(m[i]->rkt, m[i]->partition, m[i]->offset, 1000);
    }
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
}

static void log_malformed(const rd_kafka_message_t *m, const char *why)
{
    pf_log(LOG_WARNING, "malformed message at %s [%" PRId32 "] offset %" PRId64 ": %s, skipping",
           rd_kafka_topic_name(m->rkt), m->partition, m->offset, why);
}

/* A store error that retrying cannot fix: the message is skipped as malformed. */
static bool is_permanent(int r)
{
    return r == -EINVAL || r == -E2BIG || r == -EPROTONOSUPPORT;
}

/* Records a run message now (runs are rare; the script tolerates results before their run).
 * Returns 0 (recorded or skipped as malformed) or a negative errno from Redis. */
static int handle_run(struct aggregator_store *store, const rd_kafka_message_t *m)
{
    struct pf_msg_run run = {0};
    char err[256] = "";
    int r = pf_msg_run_decode(m->payload, m->len, &run, err, sizeof(err));

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
static int handle_batch(struct aggregator_store *store, rd_kafka_message_t *const *m, size_t n)
{
    struct pf_msg_result *res = pf_calloc(n, sizeof(*res));
    const rd_kafka_message_t **from = pf_calloc(n, sizeof(*from));
    int *out = pf_calloc(n, sizeof(*out));
    size_t k = 0;
    int r = res && from && out ? 0 : -ENOMEM;

    for (size_t i = 0; r == 0 && i < n; i++) {
        char err[256] = "";

        if (strcmp(rd_kafka_topic_name(m[i]->rkt), AGGREGATOR_TOPIC_RUNS) == 0) {
            r = handle_run(store, m[i]);
            continue;
        }
        if (pf_msg_result_decode(m[i]->payload, m[i]->len, &res[k], err, sizeof(err)) < 0) {
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
            log_malformed(from[i], out[i] == -EINVAL ? "result cannot be stored"
                                                     : strerror(-out[i]));
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
static size_t poll_batch(rd_kafka_t *rk, rd_kafka_message_t **m)
{
    int64_t deadline = 0;
    size_t n = 0;

    while (n < BATCH_MAX) {
        int64_t left = n == 0 ? 500 : deadline - mono_ms();
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, left > 0 ? (int)left : 0);

        if (!msg)
            break;
        if (msg->err) {
            /* Broker and topic errors are transient here: librdkafka reconnects itself. */
            pf_log(LOG_WARNING, "kafka: %s, ignoring", rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
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

static rd_kafka_t *consumer_new(const char *brokers)
{
    /* A short session (as the worker's): an aggregator restarted after a crash joins a group
     * that still lists its dead predecessor, and the rebalance waits for that member's session
     * to expire; with librdkafka's 45 s default no result was applied for that long. */
    static const char *const conf_kv[][2] = {
        {"group.id", AGGREGATOR_GROUP},
        {"session.timeout.ms", "10000"},
        {"heartbeat.interval.ms", "1000"},
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "true"},
        {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_t *rk;

    if (!conf)
        return NULL;
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
        pf_log(LOG_ERR, "bad brokers '%s': %s", brokers, err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    for (size_t i = 0; i < PF_ARRAY_SIZE(conf_kv); i++)
        if (rd_kafka_conf_set(conf, conf_kv[i][0], conf_kv[i][1], err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
            pf_log(LOG_ERR, "cannot set %s: %s", conf_kv[i][0], err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err)); /* steals conf on success */
    if (!rk) {
        pf_log(LOG_ERR, "cannot create the kafka consumer: %s", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static int subscribe(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(2);
    rd_kafka_resp_err_t err;

    if (!topics)
        return -ENOMEM;
    rd_kafka_topic_partition_list_add(topics, AGGREGATOR_TOPIC_RUNS, RD_KAFKA_PARTITION_UA);
    rd_kafka_topic_partition_list_add(topics, AGGREGATOR_TOPIC_RESULTS, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        pf_log(LOG_ERR, "cannot subscribe to %s and %s: %s", AGGREGATOR_TOPIC_RUNS,
               AGGREGATOR_TOPIC_RESULTS, rd_kafka_err2str(err));
        return -EIO;
    }
    return 0;
}

int aggregator_consume_run(const char *brokers, struct aggregator_store *store,
                           volatile sig_atomic_t *stop)
{
    rd_kafka_t *rk = consumer_new(brokers);
    int r;

    if (!rk)
        return -EINVAL;
    (void)rd_kafka_poll_set_consumer(rk);
    r = subscribe(rk);
    while (r == 0 && !*stop) {
        rd_kafka_message_t *m[BATCH_MAX];
        size_t n = poll_batch(rk, m);

        if (n == 0)
            continue;
        if (handle_batch(store, m, n) == 0) {
            store_offsets(rk, m, n);
        } else {
            struct timespec ts = {.tv_sec = 1};

            seek_back(m, n);
            (void)nanosleep(&ts, NULL);
        }
        for (size_t i = 0; i < n; i++)
            rd_kafka_message_destroy(m[i]);
    }
    (void)rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return r;
}
