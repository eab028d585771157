/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The producer's Kafka side (publish.h) on the pf/kafka.h publisher profile. enable.idempotence
 * gives acks=all and duplicate-free retries; messages are copied into the client so the encoded
 * JSON can be freed at once; the delivery report callback counts successes and
 * failures and keeps the first error, and the flush runs it until nothing is
 * outstanding or the deadline passes. A full local queue is waited out, not treated as error.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/kafka.h"
#include "producer/publish.h"

#define PUBLISH_DEFAULT_TIMEOUT_MS 60000

struct publish_state {
    struct producer_publish_stats stats;
    char first_error[256];
};

static void on_delivery(const struct pf_kafka_msg *m, void *opaque)
{
    struct publish_state *st = opaque;

    if (m->err == 0) {
        st->stats.delivered++;
        return;
    }
    st->stats.failed++;
    if (!st->first_error[0])
        (void)snprintf(st->first_error, sizeof(st->first_error), "delivery to %s failed: %s",
                       m->topic, m->errstr);
}

/* A fatal error (e.g. the idempotent producer lost its sequence) fails every message still
 * queued; keep the reason, it explains the failures that follow. */
static void on_fatal(const char *reason, void *opaque)
{
    struct publish_state *st = opaque;

    if (!st->first_error[0])
        (void)snprintf(st->first_error, sizeof(st->first_error), "fatal kafka error: %s", reason);
}

static int make_producer(const struct producer_publish_options *o, struct publish_state *st,
                         struct pf_kafka_producer **ret, char *errbuf, size_t errlen)
{
    struct pf_kafka_options ko = {.brokers = o->brokers, .client_id = o->client_id};
    struct pf_kafka_callbacks cb = {.on_delivery = on_delivery, .on_fatal = on_fatal, .opaque = st};

    return pf_kafka_producer_new(PF_KAFKA_PUBLISHER, &ko, &cb, ret, errbuf, errlen);
}

/* Queues one message (copied). Waits while the local queue is full. */
static int produce(struct pf_kafka_producer *p, const char *topic, const char *key,
                   const char *data, size_t len, char *errbuf, size_t errlen)
{
    struct pf_kafka_record rec = {.topic = topic,
                                  .partition = PF_KAFKA_PARTITION_ANY,
                                  .key = key,
                                  .key_len = key ? strlen(key) : 0,
                                  .value = data,
                                  .value_len = len};
    char e[256];

    for (;;) {
        int r = pf_kafka_produce(p, &rec, e, sizeof(e));

        if (r == 0)
            return 0;
        if (r != -ENOBUFS)
            return pf_set_error(errbuf, errlen, -EIO, "cannot queue a message for %s: %s", topic,
                                e);
        (void)pf_kafka_producer_poll(p, 100);
    }
}

static int publish_all(struct pf_kafka_producer *p, const struct pf_msg_run *run,
                       const struct pf_msg_job *jobs, size_t n_jobs,
                       const struct pf_msg_result *failures, size_t n_failures, char *errbuf,
                       size_t errlen)
{
    char *s = NULL;
    size_t len;
    int r = pf_msg_run_encode(run, &s, &len);

    if (r < 0)
        return pf_set_error(errbuf, errlen, r, "cannot encode the run message: %s", strerror(-r));
    r = produce(p, PF_KAFKA_TOPIC_RUNS, run->run_id, s, len, errbuf, errlen);
    pf_free(s);
    for (size_t i = 0; r == 0 && i < n_jobs; i++) {
        r = pf_msg_job_encode(&jobs[i], &s, &len);
        if (r < 0)
            return pf_set_error(errbuf, errlen, r, "cannot encode the job for %s: %s",
                                jobs[i].job.source ? jobs[i].job.source : "(none)", strerror(-r));
        r = produce(p, PF_KAFKA_TOPIC_JOBS, jobs[i].job.target_repo, s, len, errbuf, errlen);
        pf_free(s);
    }
    for (size_t i = 0; r == 0 && i < n_failures; i++) {
        r = pf_msg_result_encode(&failures[i], &s, &len);
        if (r < 0)
            return pf_set_error(errbuf, errlen, r, "cannot encode the result for %s: %s",
                                failures[i].source ? failures[i].source : "(none)", strerror(-r));
        r = produce(p, PF_KAFKA_TOPIC_RESULTS, failures[i].job_id, s, len, errbuf, errlen);
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
    struct pf_kafka_producer *p = NULL;
    int r;

    r = make_producer(o, &st, &p, errbuf, errlen);
    if (r < 0)
        goto out;
    r = publish_all(p, run, jobs, n_jobs, failures, n_failures, errbuf, errlen);
    /* Flush even after a queueing error: what was queued must be reported on, not dropped. */
    if (pf_kafka_producer_flush(p, timeout > INT32_MAX ? INT32_MAX : (int)timeout) != 0 && r == 0)
        r = pf_set_error(errbuf, errlen, -ETIMEDOUT,
                         "%d messages not acknowledged after %lld ms%s%s",
                         pf_kafka_producer_outq_len(p), (long long)timeout,
                         st.first_error[0] ? ": " : "", st.first_error);
    if (r == 0 && st.stats.failed)
        r = pf_set_error(errbuf, errlen, -EIO, "%zu of %zu messages not delivered: %s",
                         st.stats.failed, st.stats.failed + st.stats.delivered, st.first_error);
out:
    if (p) {
        /* Undelivered messages are purged, so destroy does not wait for them again. */
        pf_kafka_producer_purge(p);
        p = pf_kafka_producer_free(p);
    }
    if (ret_stats)
        *ret_stats = st.stats;
    return r;
}
