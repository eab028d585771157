/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka wrapper (pf/kafka.h) on librdkafka 2.0.2, the only file that includes it. The
 * profile table below is every property a patchfleet client sets, in one place, with the
 * reasons the roles found for them (docs/fleet.md, bench/README.md, kafka-redis.md). Every
 * client gets the same log and error callbacks, so librdkafka's lines reach pf_log in every
 * role instead of stderr. Producers copy every record (RD_KAFKA_MSG_F_COPY); consumers serve
 * all their events from the consumer queue (rd_kafka_poll_set_consumer). Group consumers that
 * ask for a rebalance callback get an eager assign/unassign done here: the profiles pin an
 * eager assignor, which this file relies on.
 */
#include "pf/setup.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/kafka.h"
#include "pf/log.h"

_Static_assert(PF_KAFKA_PARTITION_ANY == RD_KAFKA_PARTITION_UA, "partition by key");

/* --- configuration ----------------------------------------------------------------------- */

/* Producers: enable.idempotence gives acks=all and duplicate-free retries (a result is written
 * once however often librdkafka retries it). The linger is each producer's trade between
 * latency and produce requests. */
static const char *const publisher_kv[] = {
    "enable.idempotence", "true", "linger.ms", "5", "compression.type", "lz4", NULL,
};
/* How long a result waits for others to share its produce request: with 2 ms a 10,000-job
 * sweep made ~4,400 produce requests of ~4 results, the broker's largest cost per job; 20 ms
 * cut them to ~1,700 and the broker's CPU per job by a third, 50 ms made batches settle
 * late (bench/README.md). */
static const char *const results_kv[] = {
    "enable.idempotence", "true", "linger.ms", "20", NULL,
};
/* A worker's batch cannot start before its attempt records are acknowledged: no linger. */
static const char *const attempts_prod_kv[] = {
    "enable.idempotence", "true", "linger.ms", "1", NULL,
};
/* The worker's group member (docs/fleet.md, "Worker semantics"): offsets are stored by the
 * worker only after a job's result was delivered, and auto-committed every second. */
static const char *const jobs_kv[] = {
    /* Eager: librdkafka 2.0.2's cooperative-sticky has known bugs (kafka-redis.md §2). */
    "partition.assignment.strategy",
    "roundrobin",
    "enable.auto.offset.store",
    "false",
    "enable.auto.commit",
    "true",
    "auto.commit.interval.ms",
    "1000",
    "auto.offset.reset",
    "earliest",
    "session.timeout.ms",
    "10000",
    "heartbeat.interval.ms",
    "1000",
    "max.poll.interval.ms",
    "120000",
    /* A resumed partition joins the next fetch request; librdkafka's default lets the
     * outstanding one wait 500 ms for data from the partitions that are not paused. */
    "fetch.wait.max.ms",
    "10",
    NULL,
};
/* The attempts partition is read in full by every worker: nothing to commit. */
static const char *const attempts_reader_kv[] = {
    "enable.auto.commit", "false", "auto.offset.reset", "earliest", "fetch.wait.max.ms", "10", NULL,
};
/* A short session (as the worker's): an aggregator restarted after a crash joins a group that
 * still lists its dead predecessor, and the rebalance waits for that member's session to
 * expire; with librdkafka's 45 s default no result was applied for that long. Offsets are
 * stored only after Redis acknowledged a batch. */
static const char *const results_cons_kv[] = {
    "session.timeout.ms",
    "10000",
    "heartbeat.interval.ms",
    "1000",
    "enable.auto.offset.store",
    "false",
    "enable.auto.commit",
    "true",
    "auto.offset.reset",
    "earliest",
    "enable.partition.eof",
    "false",
    NULL,
};

enum group_kind { GROUP_NONE, GROUP_WORKERS, GROUP_AGGREGATOR, GROUP_ATTEMPTS };

static const struct profile {
    const char *client_id; /* default; NULL = librdkafka's */
    const char *const *kv;
    enum group_kind group;
    bool consumer;
} profiles[PF_KAFKA_PROFILE__MAX] = {
    [PF_KAFKA_PUBLISHER] = {"patchfleet-producer", publisher_kv, GROUP_NONE, false},
    [PF_KAFKA_RESULTS_PRODUCER] = {NULL, results_kv, GROUP_NONE, false},
    [PF_KAFKA_ATTEMPTS_PRODUCER] = {NULL, attempts_prod_kv, GROUP_NONE, false},
    [PF_KAFKA_JOBS_CONSUMER] = {NULL, jobs_kv, GROUP_WORKERS, true},
    [PF_KAFKA_ATTEMPTS_READER] = {NULL, attempts_reader_kv, GROUP_ATTEMPTS, true},
    [PF_KAFKA_RESULTS_CONSUMER] = {NULL, results_cons_kv, GROUP_AGGREGATOR, true},
};

static void conf_add(struct pf_kafka_conf *c, const char *k, const char *v)
{
    c->kv[2 * c->n] = k;
    c->kv[2 * c->n + 1] = v;
    c->n++;
    c->kv[2 * c->n] = NULL;
}

int pf_kafka_conf_build(enum pf_kafka_profile profile, const struct pf_kafka_options *o,
                        struct pf_kafka_conf *ret, char *errbuf, size_t errlen)
{
    const struct profile *p;
    const char *client_id;
    int n;

    if ((unsigned)profile >= PF_KAFKA_PROFILE__MAX)
        return pf_set_error(errbuf, errlen, -EINVAL, "unknown kafka client profile %d",
                            (int)profile);
    if (!o || !o->brokers || !o->brokers[0])
        return pf_set_error(errbuf, errlen, -EINVAL, "no kafka brokers given");
    p = &profiles[profile];
    client_id = o->client_id ? o->client_id : p->client_id;
    memset(ret, 0, sizeof(*ret));
    conf_add(ret, "bootstrap.servers", o->brokers);
    if (client_id)
        conf_add(ret, "client.id", client_id);
    switch (p->group) {
    case GROUP_NONE:
        break;
    case GROUP_WORKERS:
        conf_add(ret, "group.id", o->group ? o->group : PF_KAFKA_GROUP_WORKERS);
        break;
    case GROUP_AGGREGATOR:
        conf_add(ret, "group.id", PF_KAFKA_GROUP_AGGREGATOR);
        break;
    case GROUP_ATTEMPTS:
        /* Its own group per worker: the attempts reader is assigned its partition by hand,
         * and a group shared by workers would only mix their (never committed) offsets. */
        if (!o->client_id)
            return pf_set_error(errbuf, errlen, -EINVAL, "the attempts reader needs a client id");
        n = snprintf(ret->group, sizeof(ret->group), "%s%s", PF_KAFKA_GROUP_ATTEMPTS_PREFIX,
                     o->client_id);
        if (n < 0 || (size_t)n >= sizeof(ret->group))
            return pf_set_error(errbuf, errlen, -EINVAL, "client id '%s' too long", o->client_id);
        conf_add(ret, "group.id", ret->group);
        break;
    }
    for (size_t i = 0; p->kv[i]; i += 2)
        conf_add(ret, p->kv[i], p->kv[i + 1]);
    return 0;
}

const char *pf_kafka_conf_get(const struct pf_kafka_conf *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->kv[2 * i], key) == 0)
            return c->kv[2 * i + 1];
    return NULL;
}

/* --- attempts records -------------------------------------------------------------------- */

static bool is_token_byte(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

int pf_kafka_attempt_parse(const void *rec, size_t len, char *job_id, unsigned *ret_attempt)
{
    const char *s = rec;
    unsigned long n = 0;
    size_t i = 0, id_len, digits;

    if (!s || len > PF_KAFKA_ATTEMPT_RECORD_MAX)
        return -EINVAL;
    while (i < len && is_token_byte((unsigned char)s[i]))
        i++;
    id_len = i;
    if (id_len == 0 || id_len > PF_KAFKA_JOB_ID_MAX || i == len || s[i] != ' ')
        return -EINVAL;
    for (digits = 0, i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++)
        if (n <= PF_KAFKA_ATTEMPT_COUNT_MAX) /* stop growing past it: no overflow */
            n = n * 10 + (unsigned long)(s[i] - '0');
    if (digits == 0)
        return -EINVAL; /* "-1", "+1", " 1", "x" */
    if (i < len) {
        /* The worker id: one space, then a non-blank byte. It is only informative, so any text
         * without control bytes (a NUL would hide the rest from a reader) will do. */
        if (s[i] != ' ' || i + 1 == len || !is_token_byte((unsigned char)s[i + 1]))
            return -EINVAL;
        for (i++; i < len; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                return -EINVAL;
    }
    if (n == 0 || n > PF_KAFKA_ATTEMPT_COUNT_MAX)
        return -ERANGE;
    memcpy(job_id, s, id_len);
    job_id[id_len] = '\0';
    *ret_attempt = (unsigned)n;
    return 0;
}

/* --- clients ----------------------------------------------------------------------------- */

/* What librdkafka's callbacks get as their opaque: a producer and a consumer are one. */
struct kafka_client {
    rd_kafka_t *rk;
    struct pf_kafka_callbacks cb;
};

struct pf_kafka_producer {
    struct kafka_client c;
};

struct pf_kafka_consumer {
    struct kafka_client c;
};

/* A consumed message: the view first, so a view pointer is the whole. */
struct kafka_msg {
    struct pf_kafka_msg view;
    rd_kafka_message_t *rkm;
};

/* librdkafka's own log lines go through pf_log instead of straight to stderr. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    pf_log(level <= LOG_WARNING ? LOG_WARNING : LOG_DEBUG, "kafka %s: %s", fac, buf);
}

/* librdkafka reports transient errors (a broker down, a reconnect) here and retries itself;
 * only a fatal one is the role's business. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_client *c = opaque;
    char buf[256];

    pf_log(LOG_DEBUG, "kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    if (err != RD_KAFKA_RESP_ERR__FATAL || !c->cb.on_fatal)
        return;
    (void)rd_kafka_fatal_error(rk, buf, sizeof(buf));
    c->cb.on_fatal(buf, c->cb.opaque);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kafka_client *c = opaque;
    struct pf_kafka_msg v = {
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .key = m->key,
        .key_len = m->key_len,
        .value = m->payload,
        .value_len = m->len,
        .err = m->err ? -EIO : 0,
        .errstr = m->err ? rd_kafka_err2str(m->err) : NULL,
        .opaque = m->_private,
    };

    (void)rk;
    if (c->cb.on_delivery)
        c->cb.on_delivery(&v, c->cb.opaque);
}

/* Eager protocol (the profiles pin roundrobin): ASSIGN applies the whole new assignment, then
 * tells the role; anything else (REVOKE, an error) tells the role, then drops the assignment. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct kafka_client *c = opaque;
    struct pf_kafka_tp *tps = NULL;
    size_t n = 0;

    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        c->cb.on_rebalance(false, NULL, 0, rd_kafka_err2name(err), c->cb.opaque);
        (void)rd_kafka_assign(rk, NULL);
        return;
    }
    (void)rd_kafka_assign(rk, parts);
    tps = pf_calloc((size_t)parts->cnt + 1, sizeof(*tps));
    for (int i = 0; tps && i < parts->cnt; i++)
        tps[n++] = (struct pf_kafka_tp){.topic = parts->elems[i].topic,
                                        .partition = parts->elems[i].partition,
                                        .offset = parts->elems[i].offset};
    c->cb.on_rebalance(true, tps, n, NULL, c->cb.opaque);
    pf_free(tps);
}

/* Creates a librdkafka client of `profile` into c->rk. */
static int client_new(struct kafka_client *c, enum pf_kafka_profile profile,
                      const struct pf_kafka_options *o, const struct pf_kafka_callbacks *cb,
                      bool consumer, char *errbuf, size_t errlen)
{
    struct pf_kafka_conf kc = {0};
    rd_kafka_conf_t *conf;
    char e[512];
    int r = pf_kafka_conf_build(profile, o, &kc, errbuf, errlen);

    if (r < 0)
        return r;
    if (profiles[profile].consumer != consumer)
        return pf_set_error(errbuf, errlen, -EINVAL, "kafka profile %d is not a %s", (int)profile,
                            consumer ? "consumer" : "producer");
    if (cb)
        c->cb = *cb;
    conf = rd_kafka_conf_new();
    if (!conf)
        return -ENOMEM;
    for (size_t i = 0; i < kc.n; i++)
        if (rd_kafka_conf_set(conf, kc.kv[2 * i], kc.kv[2 * i + 1], e, sizeof(e)) !=
            RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return pf_set_error(errbuf, errlen, -EINVAL, "kafka option %s: %s", kc.kv[2 * i], e);
        }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    if (!consumer)
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (consumer && c->cb.on_rebalance)
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    c->rk = rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!c->rk) {
        rd_kafka_conf_destroy(conf); /* rd_kafka_new() steals conf only on success */
        return pf_set_error(errbuf, errlen, -EIO, "cannot create the kafka %s: %s",
                            consumer ? "consumer" : "producer", e);
    }
    if (consumer)
        (void)rd_kafka_poll_set_consumer(c->rk);
    return 0;
}

/* --- producer ---------------------------------------------------------------------------- */

int pf_kafka_producer_new(enum pf_kafka_profile profile, const struct pf_kafka_options *o,
                          const struct pf_kafka_callbacks *cb, struct pf_kafka_producer **ret,
                          char *errbuf, size_t errlen)
{
    struct pf_kafka_producer *p = pf_calloc(1, sizeof(*p));
    int r;

    if (!p)
        return -ENOMEM;
    r = client_new(&p->c, profile, o, cb, false, errbuf, errlen);
    if (r < 0) {
        pf_free(p);
        return r;
    }
    *ret = p;
    return 0;
}

struct pf_kafka_producer *pf_kafka_producer_free(struct pf_kafka_producer *p)
{
    if (p) {
        rd_kafka_destroy(p->c.rk);
        pf_free(p);
    }
    return NULL;
}

int pf_kafka_produce(struct pf_kafka_producer *p, const struct pf_kafka_record *r, char *errbuf,
                     size_t errlen)
{
    void *value = (void *)(uintptr_t)r->value; /* copied (F_COPY), never written */
    rd_kafka_resp_err_t err;

    if (r->header_name)
        err = rd_kafka_producev(
            p->c.rk, RD_KAFKA_V_TOPIC(r->topic), RD_KAFKA_V_PARTITION(r->partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(r->key, r->key_len),
            RD_KAFKA_V_VALUE(value, r->value_len),
            RD_KAFKA_V_HEADER(r->header_name, r->header_value,
                              r->header_value ? (ssize_t)strlen(r->header_value) : 0),
            RD_KAFKA_V_OPAQUE(r->opaque), RD_KAFKA_V_END);
    else
        err = rd_kafka_producev(p->c.rk, RD_KAFKA_V_TOPIC(r->topic),
                                RD_KAFKA_V_PARTITION(r->partition),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(r->key, r->key_len),
                                RD_KAFKA_V_VALUE(value, r->value_len), RD_KAFKA_V_OPAQUE(r->opaque),
                                RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    return pf_set_error(errbuf, errlen, err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? -ENOBUFS : -EIO,
                        "%s", rd_kafka_err2str(err));
}

int pf_kafka_producer_poll(struct pf_kafka_producer *p, int timeout_ms)
{
    return rd_kafka_poll(p->c.rk, timeout_ms);
}

int pf_kafka_producer_flush(struct pf_kafka_producer *p, int timeout_ms)
{
    return rd_kafka_flush(p->c.rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -ETIMEDOUT;
}

int pf_kafka_producer_outq_len(struct pf_kafka_producer *p)
{
    return rd_kafka_outq_len(p->c.rk);
}

void pf_kafka_producer_purge(struct pf_kafka_producer *p)
{
    (void)rd_kafka_purge(p->c.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

/* --- consumer ---------------------------------------------------------------------------- */

int pf_kafka_consumer_new(enum pf_kafka_profile profile, const struct pf_kafka_options *o,
                          const struct pf_kafka_callbacks *cb, struct pf_kafka_consumer **ret,
                          char *errbuf, size_t errlen)
{
    struct pf_kafka_consumer *c = pf_calloc(1, sizeof(*c));
    int r;

    if (!c)
        return -ENOMEM;
    r = client_new(&c->c, profile, o, cb, true, errbuf, errlen);
    if (r < 0) {
        pf_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

static int64_t close_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pf_kafka_consumer_close_within(struct pf_kafka_consumer *c, int timeout_ms)
{
    int64_t deadline = close_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    rd_kafka_queue_t *q;
    rd_kafka_error_t *e;
    bool closed = false;

    if (!c)
        return 0;
    /* rd_kafka_consumer_close() waits for the group coordinator with no bound of its own: with
     * the broker stopped it blocked an aggregator for 40 minutes. The asynchronous close runs
     * on librdkafka's threads; this thread serves its queue (the rebalance callback runs here,
     * as it would in the blocking close) until it is done or the deadline passes. */
    q = rd_kafka_queue_new(c->c.rk);
    e = q ? rd_kafka_consumer_close_queue(c->c.rk, q) : NULL;
    if (q && !e) {
        for (;;) {
            int64_t left = deadline - close_now_ms();

            closed = rd_kafka_consumer_closed(c->c.rk) != 0;
            if (closed || left <= 0)
                break;
            (void)rd_kafka_queue_poll_callback(q, left < 100 ? (int)left : 100);
        }
    } else if (e) {
        pf_log(LOG_DEBUG, "kafka: consumer close: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    if (q)
        rd_kafka_queue_destroy(q);
    if (!closed)
        pf_log(LOG_DEBUG, "kafka: consumer close not done after %d ms: leaving without it",
               timeout_ms);
    /* Without F_NO_CONSUMER_CLOSE, destroy would start the unbounded close again. What was not
     * committed is delivered again to the group (at-least-once). */
    rd_kafka_destroy_flags(c->c.rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    pf_free(c);
    return closed ? 0 : -ETIMEDOUT;
}

struct pf_kafka_consumer *pf_kafka_consumer_close(struct pf_kafka_consumer *c)
{
    (void)pf_kafka_consumer_close_within(c, PF_KAFKA_CLOSE_DEFAULT_MS);
    return NULL;
}

/* A list of one partition (with its offset), or NULL on OOM. */
static rd_kafka_topic_partition_list_t *list_one(const char *topic, int32_t partition,
                                                 int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);

    if (l)
        rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    return l;
}

int pf_kafka_consumer_subscribe(struct pf_kafka_consumer *c, const char *const *topics, size_t n,
                                char *errbuf, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    rd_kafka_resp_err_t err;

    if (!l)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        (void)rd_kafka_topic_partition_list_add(l, topics[i], RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(c->c.rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return pf_set_error(errbuf, errlen, -EIO, "%s", rd_kafka_err2str(err));
    return 0;
}

int pf_kafka_consumer_assign_from_start(struct pf_kafka_consumer *c, const char *topic,
                                        int32_t partition, char *errbuf, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = list_one(topic, partition, RD_KAFKA_OFFSET_BEGINNING);
    rd_kafka_resp_err_t err;

    if (!l)
        return -ENOMEM;
    err = rd_kafka_assign(c->c.rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return pf_set_error(errbuf, errlen, -EIO, "%s", rd_kafka_err2str(err));
    return 0;
}

int pf_kafka_consumer_poll(struct pf_kafka_consumer *c, int timeout_ms, struct pf_kafka_msg **ret)
{
    rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c->c.rk, timeout_ms);
    struct kafka_msg *m;

    if (!rkm)
        return 0;
    if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        rd_kafka_message_destroy(rkm);
        return 0;
    }
    m = pf_calloc(1, sizeof(*m));
    if (!m) {
        /* Out of memory: the partition is sought back to this message (asynchronously), so it
         * comes again rather than being skipped by a later offset store. */
        if (!rkm->err && rkm->rkt)
            (void)rd_kafka_seek(rkm->rkt, rkm->partition, rkm->offset, 0);
        rd_kafka_message_destroy(rkm);
        return 0;
    }
    m->rkm = rkm;
    m->view = (struct pf_kafka_msg){
        .topic = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : NULL,
        .partition = rkm->partition,
        .offset = rkm->offset,
        .key = rkm->key,
        .key_len = rkm->key_len,
        .value = rkm->payload,
        .value_len = rkm->len,
        .err = rkm->err ? -EIO : 0,
        .errstr = rkm->err ? rd_kafka_message_errstr(rkm) : NULL,
    };
    *ret = &m->view;
    return 1;
}

struct pf_kafka_msg *pf_kafka_msg_free(struct pf_kafka_msg *v)
{
    struct kafka_msg *m = (struct kafka_msg *)v;

    if (m) {
        rd_kafka_message_destroy(m->rkm);
        pf_free(m);
    }
    return NULL;
}

int pf_kafka_consumer_pause(struct pf_kafka_consumer *c, const char *topic, int32_t partition,
                            bool pause)
{
    rd_kafka_topic_partition_list_t *l = list_one(topic, partition, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_resp_err_t err;

    if (!l)
        return -ENOMEM;
    if (pause)
        err = rd_kafka_pause_partitions(c->c.rk, l);
    else
        err = rd_kafka_resume_partitions(c->c.rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return err ? -EIO : 0;
}

int pf_kafka_consumer_seek(struct pf_kafka_consumer *c, const struct pf_kafka_tp *tp,
                           int timeout_ms)
{
    rd_kafka_topic_partition_list_t *l = list_one(tp->topic, tp->partition, tp->offset);
    rd_kafka_error_t *e;

    if (!l)
        return -ENOMEM;
    e = rd_kafka_seek_partitions(c->c.rk, l, timeout_ms);
    rd_kafka_topic_partition_list_destroy(l);
    if (!e)
        return 0;
    rd_kafka_error_destroy(e);
    return -EIO;
}

int pf_kafka_consumer_store(struct pf_kafka_consumer *c, const struct pf_kafka_tp *tps, size_t n,
                            char *errbuf, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_resp_err_t err;

    if (n > INT_MAX)
        return -EINVAL;
    l = rd_kafka_topic_partition_list_new((int)n);
    if (!l)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, tps[i].topic, tps[i].partition)->offset =
            tps[i].offset;
    err = rd_kafka_offsets_store(c->c.rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (!err)
        return 0;
    /* __STATE: a partition was revoked meanwhile (librdkafka >= 1.9 refuses the store). */
    return pf_set_error(errbuf, errlen, err == RD_KAFKA_RESP_ERR__STATE ? -ESTALE : -EIO, "%s",
                        rd_kafka_err2str(err));
}

int pf_kafka_consumer_commit(struct pf_kafka_consumer *c, char *errbuf, size_t errlen)
{
    rd_kafka_resp_err_t err = rd_kafka_commit(c->c.rk, NULL, 0);

    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return 0;
    return pf_set_error(errbuf, errlen, -EIO, "%s", rd_kafka_err2str(err));
}

int pf_kafka_consumer_watermarks(struct pf_kafka_consumer *c, const char *topic, int32_t partition,
                                 int64_t *ret_lo, int64_t *ret_hi, int timeout_ms)
{
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err;

    err = rd_kafka_query_watermark_offsets(c->c.rk, topic, partition, &lo, &hi, timeout_ms);
    if (err)
        return -EIO;
    *ret_lo = lo;
    *ret_hi = hi;
    return 0;
}
