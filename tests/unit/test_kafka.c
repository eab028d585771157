/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pf/kafka.h: the topic names and partition rule docs/fleet.md documents, the properties each
 * client profile sets (the semantics docs/fleet.md and bench/README.md measured), the strict
 * attempts-record parser, and the client plumbing (opaque, delivery callback) against a broker
 * address nobody listens on, so no broker is needed.
 */
#include "pf_test.h"

#include <errno.h>
#include <limits.h>

#include "pf/kafka.h"

static void test_topic_names(void **state)
{
    (void)state;
    assert_string_equal(PF_KAFKA_TOPIC_RUNS, "patchfleet.runs");
    assert_string_equal(PF_KAFKA_TOPIC_JOBS, "patchfleet.jobs");
    assert_string_equal(PF_KAFKA_TOPIC_RESULTS, "patchfleet.results");
    assert_string_equal(PF_KAFKA_TOPIC_DLQ, "patchfleet.jobs.dlq");
    assert_string_equal(PF_KAFKA_TOPIC_ATTEMPTS, "patchfleet.jobs.attempts");
    assert_int_equal(PF_KAFKA_ATTEMPTS_PARTITION, 0);
    assert_string_equal(PF_KAFKA_HEADER_REASON, "pf-reason");
    assert_string_equal(PF_KAFKA_GROUP_WORKERS, "patchfleet-workers");
    assert_string_equal(PF_KAFKA_GROUP_AGGREGATOR, "patchfleet-aggregator");
}

/* The value of key in profile p built from o, "" when the profile does not set it. */
static const char *prop(enum pf_kafka_profile p, const struct pf_kafka_options *o,
                        struct pf_kafka_conf *c, const char *key)
{
    const char *v;

    assert_int_equal(pf_kafka_conf_build(p, o, c, NULL, 0), 0);
    assert_non_null(pf_kafka_conf_get(c, "bootstrap.servers"));
    assert_null(c->kv[2 * c->n]);
    v = pf_kafka_conf_get(c, key);
    return v ? v : "";
}

static void test_conf_producers(void **state)
{
    struct pf_kafka_options o = {.brokers = "k1:9092,k2:9092"};
    struct pf_kafka_conf c;

    (void)state;
    assert_string_equal(prop(PF_KAFKA_PUBLISHER, &o, &c, "bootstrap.servers"), "k1:9092,k2:9092");
    assert_string_equal(prop(PF_KAFKA_PUBLISHER, &o, &c, "client.id"), "patchfleet-producer");
    assert_string_equal(prop(PF_KAFKA_PUBLISHER, &o, &c, "enable.idempotence"), "true");
    assert_string_equal(prop(PF_KAFKA_PUBLISHER, &o, &c, "linger.ms"), "5");
    assert_string_equal(prop(PF_KAFKA_PUBLISHER, &o, &c, "compression.type"), "lz4");
    assert_string_equal(prop(PF_KAFKA_PUBLISHER, &o, &c, "group.id"), "");

    o.client_id = "host:42";
    assert_string_equal(prop(PF_KAFKA_PUBLISHER, &o, &c, "client.id"), "host:42");
    assert_string_equal(prop(PF_KAFKA_RESULTS_PRODUCER, &o, &c, "client.id"), "host:42");
    assert_string_equal(prop(PF_KAFKA_RESULTS_PRODUCER, &o, &c, "enable.idempotence"), "true");
    assert_string_equal(prop(PF_KAFKA_RESULTS_PRODUCER, &o, &c, "linger.ms"), "20");
    assert_string_equal(prop(PF_KAFKA_ATTEMPTS_PRODUCER, &o, &c, "enable.idempotence"), "true");
    assert_string_equal(prop(PF_KAFKA_ATTEMPTS_PRODUCER, &o, &c, "linger.ms"), "1");
    assert_string_equal(prop(PF_KAFKA_ATTEMPTS_PRODUCER, &o, &c, "group.id"), "");
}

static void test_conf_consumers(void **state)
{
    struct pf_kafka_options o = {.brokers = "k:9092", .client_id = "host:42"};
    struct pf_kafka_conf c;

    (void)state;
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "group.id"), "patchfleet-workers");
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "client.id"), "host:42");
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "partition.assignment.strategy"),
                        "roundrobin");
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "enable.auto.offset.store"), "false");
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "enable.auto.commit"), "true");
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "auto.commit.interval.ms"), "1000");
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "session.timeout.ms"), "10000");
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "max.poll.interval.ms"), "120000");
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "fetch.wait.max.ms"), "10");
    o.group = "blue";
    assert_string_equal(prop(PF_KAFKA_JOBS_CONSUMER, &o, &c, "group.id"), "blue");

    /* The attempts reader: its own group per worker, never committing. */
    assert_string_equal(prop(PF_KAFKA_ATTEMPTS_READER, &o, &c, "group.id"),
                        "patchfleet-attempts-host:42");
    assert_string_equal(prop(PF_KAFKA_ATTEMPTS_READER, &o, &c, "enable.auto.commit"), "false");
    assert_string_equal(prop(PF_KAFKA_ATTEMPTS_READER, &o, &c, "auto.offset.reset"), "earliest");

    /* The aggregator: fixed group, no client id of ours, manual store, no EOF events. */
    o.client_id = NULL;
    assert_string_equal(prop(PF_KAFKA_RESULTS_CONSUMER, &o, &c, "group.id"),
                        "patchfleet-aggregator");
    assert_string_equal(prop(PF_KAFKA_RESULTS_CONSUMER, &o, &c, "client.id"), "");
    assert_string_equal(prop(PF_KAFKA_RESULTS_CONSUMER, &o, &c, "enable.auto.offset.store"),
                        "false");
    assert_string_equal(prop(PF_KAFKA_RESULTS_CONSUMER, &o, &c, "session.timeout.ms"), "10000");
    assert_string_equal(prop(PF_KAFKA_RESULTS_CONSUMER, &o, &c, "enable.partition.eof"), "false");
}

static void test_conf_errors(void **state)
{
    struct pf_kafka_options o = {.brokers = "k:9092"};
    struct pf_kafka_options none = {0};
    struct pf_kafka_conf c;
    char err[256] = "", id[300];

    (void)state;
    assert_int_equal(pf_kafka_conf_build(PF_KAFKA_PUBLISHER, &none, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "brokers"));
    assert_int_equal(pf_kafka_conf_build(PF_KAFKA_PROFILE__MAX, &o, &c, NULL, 0), -EINVAL);
    /* The attempts reader's group is derived from the client id: it needs one that fits. */
    assert_int_equal(pf_kafka_conf_build(PF_KAFKA_ATTEMPTS_READER, &o, &c, NULL, 0), -EINVAL);
    memset(id, 'a', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    o.client_id = id;
    assert_int_equal(pf_kafka_conf_build(PF_KAFKA_ATTEMPTS_READER, &o, &c, NULL, 0), -EINVAL);
}

static int parse(const char *rec, char *id, unsigned *n)
{
    return pf_kafka_attempt_parse(rec, strlen(rec), id, n);
}

static void test_attempt_parse_good(void **state)
{
    char id[PF_KAFKA_JOB_ID_MAX + 1], long_id[PF_KAFKA_JOB_ID_MAX + 16];
    unsigned n = 0;

    (void)state;
    assert_int_equal(parse("3f2a9c 2 host-a:123", id, &n), 0);
    assert_string_equal(id, "3f2a9c");
    assert_int_equal(n, 2);
    assert_int_equal(parse("j 1", id, &n), 0); /* no worker id: still a start */
    assert_string_equal(id, "j");
    assert_int_equal(n, 1);
    assert_int_equal(parse("j 007 w", id, &n), 0);
    assert_int_equal(n, 7);
    assert_int_equal(parse("j 1000000 w", id, &n), 0);
    assert_int_equal(n, PF_KAFKA_ATTEMPT_COUNT_MAX);
    assert_int_equal(parse("j 3 worker with spaces", id, &n), 0);
    assert_int_equal(n, 3);
    /* The longest id that fits. */
    memset(long_id, 'x', PF_KAFKA_JOB_ID_MAX);
    (void)snprintf(long_id + PF_KAFKA_JOB_ID_MAX, 16, " 4 w");
    assert_int_equal(parse(long_id, id, &n), 0);
    assert_int_equal(strlen(id), PF_KAFKA_JOB_ID_MAX);
    assert_int_equal(n, 4);
    /* Not NUL-terminated: only len bytes are read. */
    assert_int_equal(pf_kafka_attempt_parse("ab 5 wXYZ", 6, id, &n), 0);
    assert_string_equal(id, "ab");
    assert_int_equal(n, 5);
}

static void test_attempt_parse_bad(void **state)
{
    static const char *const invalid[] = {
        "",      " ",      "j",      "j ",   "j  1 w", " j 1 w",  "j -1 w", "j +1 w",  "j - w",
        "j x w", "j 1x w", "j 1\tw", "j 1 ", "j 1  ",  "j 0x1 w", "j\t1 w", "j 1 w\n", "j 1.5 w",
    };
    static const char *const range[] = {
        "j 0 w",
        "j 1000001 w",
        "j 4294967295 w",
        "j 4294967296 w",
        "j 99999999999999999999999999 w",
        "j -0 w" /* "-0" is invalid, not zero */,
    };
    char id[PF_KAFKA_JOB_ID_MAX + 1] = "keep", long_id[PF_KAFKA_JOB_ID_MAX + 16],
                                  big[PF_KAFKA_ATTEMPT_RECORD_MAX + 1];
    unsigned n = 77;

    (void)state;
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        int r = parse(invalid[i], id, &n);

        if (r != -EINVAL)
            fail_msg("'%s': %d, expected -EINVAL", invalid[i], r);
    }
    for (size_t i = 0; i + 1 < sizeof(range) / sizeof(range[0]); i++) {
        int r = parse(range[i], id, &n);

        if (r != -ERANGE)
            fail_msg("'%s': %d, expected -ERANGE", range[i], r);
    }
    assert_int_equal(parse(range[5], id, &n), -EINVAL);
    /* Failures leave the outputs alone. */
    assert_string_equal(id, "keep");
    assert_int_equal(n, 77);
    /* An id one byte too long. */
    memset(long_id, 'x', PF_KAFKA_JOB_ID_MAX + 1);
    (void)snprintf(long_id + PF_KAFKA_JOB_ID_MAX + 1, 15, " 1 w");
    assert_int_equal(parse(long_id, id, &n), -EINVAL);
    /* A NUL inside the record. */
    assert_int_equal(pf_kafka_attempt_parse("j 1 w\0x", 7, id, &n), -EINVAL);
    assert_int_equal(pf_kafka_attempt_parse("j\0 1 w", 6, id, &n), -EINVAL);
    /* Longer than any record of ours. */
    memset(big, 'w', sizeof(big));
    memcpy(big, "j 1 ", 4);
    assert_int_equal(pf_kafka_attempt_parse(big, sizeof(big), id, &n), -EINVAL);
    assert_int_equal(pf_kafka_attempt_parse(big, sizeof(big) - 1, id, &n), 0);
    assert_int_equal(pf_kafka_attempt_parse(NULL, 0, id, &n), -EINVAL);
}

struct reports {
    int delivered, failed;
    void *last_opaque;
    char topic[64];
};

static void on_delivery(const struct pf_kafka_msg *m, void *opaque)
{
    struct reports *r = opaque;

    if (m->err) {
        r->failed++;
        assert_non_null(m->errstr);
    } else {
        r->delivered++;
    }
    r->last_opaque = m->opaque;
    (void)snprintf(r->topic, sizeof(r->topic), "%s", m->topic);
}

/* A record queued for a broker nobody runs is reported once, failed, with its own opaque and
 * topic, when purged: the plumbing from librdkafka's report to ours. */
/* ThreadSanitizer cannot run a live librdkafka client: librdkafka starts its threads with
 * C11 thrd_create(), which TSan does not intercept, so the first allocation on such a thread
 * crashes inside TSan's allocator (seen in getaddrinfo on "rdk:broker-1"). The test runs in
 * the plain and ASan+UBSan builds. */
#if defined(__SANITIZE_THREAD__)
#define PF_TEST_NO_LIVE_KAFKA 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PF_TEST_NO_LIVE_KAFKA 1
#endif
#endif

static void test_producer_reports(void **state)
{
#ifdef PF_TEST_NO_LIVE_KAFKA
    skip(); /* does not return */
#endif
    struct pf_kafka_options o = {.brokers = "127.0.0.1:1", .client_id = "test"};
    struct reports rep = {0};
    struct pf_kafka_callbacks cb = {.on_delivery = on_delivery, .opaque = &rep};
    struct pf_kafka_producer *p = NULL;
    struct pf_kafka_consumer *c = NULL;
    int tag = 0;
    struct pf_kafka_record rec = {.topic = PF_KAFKA_TOPIC_RESULTS,
                                  .partition = PF_KAFKA_PARTITION_ANY,
                                  .key = "k",
                                  .key_len = 1,
                                  .value = "v",
                                  .value_len = 1,
                                  .header_name = PF_KAFKA_HEADER_REASON,
                                  .opaque = &tag};
    char err[256];

    (void)state;
    /* A profile of the other kind is refused. */
    assert_int_equal(pf_kafka_consumer_new(PF_KAFKA_PUBLISHER, &o, NULL, &c, err, sizeof(err)),
                     -EINVAL);
    assert_null(c);
    assert_int_equal(pf_kafka_producer_new(PF_KAFKA_RESULTS_PRODUCER, &o, &cb, &p, err,
                                           sizeof(err)),
                     0);
    assert_int_equal(pf_kafka_produce(p, &rec, err, sizeof(err)), 0);
    /* librdkafka's out-queue length also counts pending events (the refused connection's
     * errors arrive at their own pace), so the message is one of at least one. */
    assert_true(pf_kafka_producer_outq_len(p) >= 1);
    pf_kafka_producer_purge(p);
    for (int i = 0; i < 50 && rep.failed + rep.delivered == 0; i++)
        (void)pf_kafka_producer_poll(p, 20);
    assert_int_equal(rep.failed, 1);
    assert_int_equal(rep.delivered, 0);
    assert_ptr_equal(rep.last_opaque, &tag);
    assert_string_equal(rep.topic, PF_KAFKA_TOPIC_RESULTS);
    assert_int_equal(pf_kafka_producer_flush(p, 100), 0);
    assert_null(pf_kafka_producer_free(p));
    assert_null(pf_kafka_producer_free(NULL));
    assert_null(pf_kafka_consumer_close(NULL));
    assert_null(pf_kafka_msg_free(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_names),        cmocka_unit_test(test_conf_producers),
        cmocka_unit_test(test_conf_consumers),     cmocka_unit_test(test_conf_errors),
        cmocka_unit_test(test_attempt_parse_good), cmocka_unit_test(test_attempt_parse_bad),
        cmocka_unit_test(test_producer_reports),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
