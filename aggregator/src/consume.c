/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The aggregator's consumer loop (aggregator/consume.h) on librdkafka. At-least-once with an
 * idempotent sink: auto-commit stays on, auto offset store is off, and a message's offset + 1
 * is stored only after the Redis script returned. A Redis failure seeks the partition back to
 * the message, so the next poll hands it over again; the poll loop itself never blocks for
 * long, which keeps the member in its group while Redis is away.
 */
#define PF_LOG_COMPONENT "aggregator"
#include "pf/setup.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "aggregator/consume.h"
#include "aggregator/store.h"
#include "pf/log.h"
#include "pf/msg.h"

static void store_offset(rd_kafka_t *rk, const rd_kafka_message_t *m)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t err;

    if (!l)
        return;
    rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset + 1;
    err = rd_kafka_offsets_store(rk, l);
    /* __STATE: the partition was revoked meanwhile; its new owner re-applies the message. */
    if (err)
        pf_log(LOG_INFO, "cannot store offset %" PRId64 " of %s [%" PRId32 "]: %s, ignoring",
               m->offset + 1, rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Decodes and applies one message. Returns 0 (applied or skipped as malformed: store the
 * offset) or a negative errno from Redis (retry the message). */
static int handle(struct aggregator_store *store, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    bool is_run = strcmp(topic, AGGREGATOR_TOPIC_RUNS) == 0;
    char err[256] = "";
    int r;

    if (is_run) {
        struct pf_msg_run run = {0};

        r = pf_msg_run_decode(m->payload, m->len, &run, err, sizeof(err));
        if (r == 0) {
            r = aggregator_store_record_run(store, &run);
            pf_msg_run_release(&run);
        }
    } else {
        struct pf_msg_result res = {0};

        r = pf_msg_result_decode(m->payload, m->len, &res, err, sizeof(err));
        if (r == 0) {
            r = aggregator_store_apply_result(store, &res);
            if (r >= 0)
                pf_log(LOG_DEBUG, "result %s/%s %s attempt %u: %s", res.run_id, res.job_id,
                       res.status, res.attempt,
                       r == AGGREGATOR_APPLY_IGNORED ? "duplicate" : "applied");
            /* -EINVAL from the encoder: a result we decoded but cannot store (bad UTF-8). */
            if (r == -EINVAL)
                (void)snprintf(err, sizeof(err), "result cannot be stored");
            pf_msg_result_release(&res);
        }
    }
    if (r >= 0)
        return 0;
    if (err[0] || r == -EINVAL || r == -E2BIG || r == -EPROTONOSUPPORT) {
        pf_log(LOG_WARNING, "malformed message at %s [%" PRId32 "] offset %" PRId64 ": %s, skipping",
               topic, m->partition, m->offset, err[0] ? err : strerror(-r));
        return 0;
    }
    return r;
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
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);

        if (!m)
            continue;
        if (m->err) {
            /* Broker and topic errors are transient here: librdkafka reconnects itself. */
            pf_log(LOG_WARNING, "kafka: %s, ignoring", rd_kafka_message_errstr(m));
        } else if (handle(store, m) == 0) {
            store_offset(rk, m);
        } else {
            struct timespec ts = {.tv_sec = 1};

            pf_log(LOG_ERR, "cannot apply %s [%" PRId32 "] offset %" PRId64
                            " to redis, retrying it",
                   rd_kafka_topic_name(m->rkt), m->partition, m->offset);
            (void)rd_kafka_seek(m->rkt, m->partition, m->offset, 1000);
            (void)nanosleep(&ts, NULL);
        }
        rd_kafka_message_destroy(m);
    }
    (void)rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return r;
}
