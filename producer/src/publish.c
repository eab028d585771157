/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The producer's Kafka side (publish.h) on librdkafka. enable.idempotence gives acks=all and
 * duplicate-free retries; messages are copied into librdkafka (RD_KAFKA_MSG_F_COPY) so the
 * encoded JSON can be freed at once; the delivery report callback counts successes and
 * failures and keeps the first error, and rd_kafka_flush() runs it until nothing is
 * outstanding or the deadline passes. A full local queue is waited out, not treated as error.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/log.h"
#include "producer/publish.h"

#define PUBLISH_DEFAULT_TIMEOUT_MS 60000

struct publish_state {
    struct producer_publish_stats stats;
    char first_error[256];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct publish_state *st = opaque;

    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        st->stats.delivered++;
        return;
    }
    st->stats.failed++;
    if (!st->first_error[0])
        (void)snprintf(st->first_error, sizeof(st->first_error), "delivery to %s failed: %s",
                       rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct publish_state *st = opaque;

    (void)rk;
    pf_log(LOG_DEBUG, "kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    /* A fatal error (e.g. the idempotent producer lost its sequence) fails every message
     * still queued; keep the reason, it explains the failures that follow. */
    if (err == RD_KAFKA_RESP_ERR__FATAL && !st->first_error[0])
        (void)snprintf(st->first_error, sizeof(st->first_error), "fatal kafka error: %s",
                       reason);
}

/* librdkafka's own log lines go through pf_log instead of straight to stderr. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    pf_log(level <= LOG_WARNING ? LOG_WARNING : LOG_DEBUG, "kafka %s: %s", fac, buf);
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *errbuf,
                    size_t errlen)
{
    char e[256];

    if (rd_kafka_conf_set(conf, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK)
        return pf_set_error(errbuf, errlen, -EINVAL, "kafka option %s: %s", k, e);
    return 0;
}

static int make_producer(const struct producer_publish_options *o, struct publish_state *st,
                         rd_kafka_t **ret, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[512];
    rd_kafka_t *rk;
    int r;

    if (!conf)
        return -ENOMEM;
    r = conf_set(conf, "bootstrap.servers", o->brokers, errbuf, errlen);
    r = r < 0 ? r : conf_set(conf, "client.id", o->client_id ? o->client_id : "patchfleet-producer",
                             errbuf, errlen);
    r = r < 0 ? r : conf_set(conf, "enable.idempotence", "true", errbuf, errlen);
    r = r < 0 ? r : conf_set(conf, "linger.ms", "5", errbuf, errlen);
    r = r < 0 ? r : conf_set(conf, "compression.type", "lz4", errbuf, errlen);
    if (r < 0) {
        rd_kafka_conf_destroy(conf);
        return r;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, st);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return pf_set_error(errbuf, errlen, -EIO, "cannot create the kafka producer: %s", e);
    }
    *ret = rk;
    return 0;
}

/* Queues one message (copied). Waits while the local queue is full. */
static int produce(rd_kafka_t *rk, const char *topic, const char *key, const char *data,
                   size_t len, char *errbuf, size_t errlen)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
            RD_KAFKA_V_VALUE((void *)(uintptr_t)data, len), RD_KAFKA_V_END);

        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return pf_set_error(errbuf, errlen, -EIO, "cannot queue a message for %s: %s", topic,
                                rd_kafka_err2str(err));
        (void)rd_kafka_poll(rk, 100);
    }
}

static int publish_all(rd_kafka_t *rk, const struct pf_msg_run *run, const struct pf_msg_job *jobs,
                       size_t n_jobs, const struct pf_msg_result *failures, size_t n_failures,
                       char *errbuf, size_t errlen)
{
    char *s = NULL;
    size_t len;
    int r = pf_msg_run_encode(run, &s, &len);

    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot encode the run message: %s",
                            strerror(-r));
    r = produce(rk, PRODUCER_TOPIC_RUNS, run->run_id, s, len, errbuf, errlen);
    pf_free(s);
    for (size_t i = 0; r == 0 && i < n_jobs; i++) {
        r = pf_msg_job_encode(&jobs[i], &s, &len);
        if (r < 0)
            return pf_set_error(errbuf, errlen, r, "cannot encode the job for %s: %s",
                                jobs[i].job.source ? jobs[i].job.source : "(none)",
                                strerror(-r));
        r = produce(rk, PRODUCER_TOPIC_JOBS, jobs[i].job.target_repo, s, len, errbuf, errlen);
        pf_free(s);
    }
    for (size_t i = 0; r == 0 && i < n_failures; i++) {
        r = pf_msg_result_encode(&failures[i], &s, &len);
        if (r < 0)
            return pf_set_error(errbuf, errlen, r, "cannot encode the result for %s: %s",
                                failures[i].source ? failures[i].source : "(none)",
                                strerror(-r));
        r = produce(rk, PRODUCER_TOPIC_RESULTS, failures[i].job_id, s, len, errbuf, errlen);
        pf_free(s);
    }
    return r;
}

int producer_publish(const struct producer_publish_options *o, const struct pf_msg_run *run,
                     const struct pf_msg_job *jobs, size_t n_jobs,
                     const struct pf_msg_result *failures, size_t n_failures,
                     struct producer_publish_stats *ret_stats, char *errbuf, size_t errlen)
{
    struct publish_state st = {{0}, ""};
    int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms : PUBLISH_DEFAULT_TIMEOUT_MS;
    rd_kafka_t *rk = NULL;
    int r;

    r = make_producer(o, &st, &rk, errbuf, errlen);
    if (r < 0)
        goto out;
    r = publish_all(rk, run, jobs, n_jobs, failures, n_failures, errbuf, errlen);
    /* Flush even after a queueing error: what was queued must be reported on, not dropped. */
    if (rd_kafka_flush(rk, timeout > INT32_MAX ? INT32_MAX : (int)timeout) != 0 && r == 0)
        r = pf_set_error(errbuf, errlen, -ETIMEDOUT,
                         "%d messages not acknowledged after %lld ms%s%s", rd_kafka_outq_len(rk),
                         (long long)timeout, st.first_error[0] ? ": " : "", st.first_error);
    if (r == 0 && st.stats.failed)
        r = pf_set_error(errbuf, errlen, -EIO, "%zu of %zu messages not delivered: %s",
                         st.stats.failed, st.stats.failed + st.stats.delivered, st.first_error);
out:
    if (rk) {
        /* Undelivered messages are purged, so destroy does not wait for them again. */
        (void)rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy(rk);
    }
    if (ret_stats)
        *ret_stats = st.stats;
    return r;
}
