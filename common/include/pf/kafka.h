/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka client of every role, on librdkafka (the only module that includes its headers).
 * It holds what the roles share: the topic and group names with their partition rules
 * (docs/fleet.md, "Topics"), one client factory that turns a profile (which client of which
 * role) plus brokers, client id and group into a librdkafka configuration, librdkafka's log and
 * error callbacks routed to pf_log, and the attempts-record format. The handles are opaque; a
 * consumed message is a view (struct pf_kafka_msg) owned by the caller until pf_kafka_msg_free().
 * Errors are negative errnos with librdkafka's reason in errbuf. The delivery, rebalance and
 * fatal-error callbacks run on the thread that polls the handle, as librdkafka's do.
 */
#ifndef PF_KAFKA_H
#define PF_KAFKA_H

#include "pf/setup.h"

/* Topics (docs/fleet.md). The key says which partition a message goes to, except for the
 * attempts topic, which has exactly one partition that every worker writes and reads in full. */
#define PF_KAFKA_TOPIC_RUNS "patchfleet.runs" /* key: run id; 1 partition */
#define PF_KAFKA_TOPIC_JOBS                                                                        \
    "patchfleet.jobs"                               /* key: target repository (one repo's jobs
                                                     * stay in order on one partition) */
#define PF_KAFKA_TOPIC_RESULTS "patchfleet.results" /* key: job id */
#define PF_KAFKA_TOPIC_DLQ                                                                         \
    "patchfleet.jobs.dlq"                                  /* key: job id (none when unreadable);
                                                     * header PF_KAFKA_HEADER_REASON */
#define PF_KAFKA_TOPIC_ATTEMPTS "patchfleet.jobs.attempts" /* key: job id; partition below */
#define PF_KAFKA_ATTEMPTS_PARTITION 0
#define PF_KAFKA_HEADER_REASON "pf-reason"

/* Consumer groups. */
#define PF_KAFKA_GROUP_WORKERS "patchfleet-workers"
#define PF_KAFKA_GROUP_AGGREGATOR "patchfleet-aggregator"
#define PF_KAFKA_GROUP_ATTEMPTS_PREFIX "patchfleet-attempts-" /* + the worker id */

#define PF_KAFKA_PARTITION_ANY (-1) /* produce: partition by key */

/* Which client of which role: each profile is one fixed set of librdkafka properties. */
enum pf_kafka_profile {
    PF_KAFKA_PUBLISHER,         /* producer daemon: runs, jobs, plan failures */
    PF_KAFKA_RESULTS_PRODUCER,  /* worker: results and dead letters (20 ms linger) */
    PF_KAFKA_ATTEMPTS_PRODUCER, /* worker: attempt records (1 ms linger) */
    PF_KAFKA_JOBS_CONSUMER,     /* worker: member of the jobs group (eager, manual store) */
    PF_KAFKA_ATTEMPTS_READER,   /* worker: reads the attempts partition from its start */
    PF_KAFKA_RESULTS_CONSUMER,  /* aggregator: runs and results (manual store) */
    PF_KAFKA_PROFILE__MAX,
};

struct pf_kafka_options {
    const char *brokers;   /* "host:port[,host:port...]"; required */
    const char *client_id; /* NULL = the profile's default (the publisher's, or librdkafka's) */
    const char *group;     /* jobs consumer: NULL = PF_KAFKA_GROUP_WORKERS; the attempts reader
                            * derives its own from client_id; ignored by the others */
};

#define PF_KAFKA_CONF_MAX 16 /* properties one profile sets */

/* A profile's properties as "key", "value" pairs, NULL-terminated; group holds a derived
 * group id when the profile needs one. */
struct pf_kafka_conf {
    const char *kv[2 * PF_KAFKA_CONF_MAX + 1];
    size_t n; /* pairs */
    char group[160];
};

/*
 * Fills *ret with the properties of `profile` for `o` (strings of `o` are borrowed and must
 * outlive *ret). Returns 0, or -EINVAL (unknown profile, no brokers, a derived group id too
 * long) with the reason in errbuf.
 */
int pf_kafka_conf_build(enum pf_kafka_profile profile, const struct pf_kafka_options *o,
                        struct pf_kafka_conf *ret, char *errbuf, size_t errlen);

/* The value of `key` in c, or NULL. */
const char *pf_kafka_conf_get(const struct pf_kafka_conf *c, const char *key);

/* --- attempts records: "<job_id> <attempt> <worker>" on PF_KAFKA_TOPIC_ATTEMPTS ---------- */

#define PF_KAFKA_ATTEMPT_RECORD_MAX 255 /* longer records are not ours */
#define PF_KAFKA_JOB_ID_MAX 71

#define PF_KAFKA_ATTEMPT_COUNT_MAX 1000000u /* far above any --max-attempts; +1 cannot wrap */

/*
 * Parses an attempts record strictly: a job id of 1..PF_KAFKA_JOB_ID_MAX printable non-blank
 * bytes, one space, a decimal count of 1..PF_KAFKA_ATTEMPT_COUNT_MAX (digits only: no sign, no
 * blank), then the end or one space and a worker id (starting non-blank, no control bytes).
 * `job_id` receives the id (at least PF_KAFKA_JOB_ID_MAX + 1 bytes). Returns 0, -ERANGE for a
 * count out of range or -EINVAL for anything else; on failure the outputs are untouched.
 */
int pf_kafka_attempt_parse(const void *rec, size_t len, char *job_id, unsigned *ret_attempt);

/* --- messages ---------------------------------------------------------------------------- */

/* A consumed message or event, or a delivery report's message. */
struct pf_kafka_msg {
    const char *topic; /* NULL for an event not about one topic */
    int32_t partition;
    int64_t offset;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    int err;            /* 0, or a negative errno: an error event (consumer) or a failed delivery */
    const char *errstr; /* librdkafka's reason when err != 0 */
    void *opaque;       /* delivery reports: the record's opaque */
};

/* Frees a message returned by pf_kafka_consumer_poll(); accepts NULL, returns NULL. */
struct pf_kafka_msg *pf_kafka_msg_free(struct pf_kafka_msg *m);

/* A partition (and an offset, where the call needs one). */
struct pf_kafka_tp {
    const char *topic;
    int32_t partition;
    int64_t offset;
};

/* --- producer ---------------------------------------------------------------------------- */

struct pf_kafka_producer;

/* Delivery report: exactly once per produced record, on the thread calling poll or flush.
 * m and its strings live only for the call. */
typedef void (*pf_kafka_delivery_cb)(const struct pf_kafka_msg *m, void *opaque);
/* A fatal error (the client is unusable: e.g. the idempotent producer lost its sequence);
 * `reason` is librdkafka's. Other errors are logged at LOG_DEBUG and cleared by librdkafka. */
typedef void (*pf_kafka_fatal_cb)(const char *reason, void *opaque);

struct pf_kafka_callbacks {
    pf_kafka_delivery_cb on_delivery; /* producers; may be NULL */
    pf_kafka_fatal_cb on_fatal;       /* may be NULL */
    /* Consumers in a group: called after an assignment was applied (assign true) or before
     * the assignment is dropped (revoke or error, then reason is librdkafka's error name). The
     * wrapper does the eager assign/unassign itself. NULL = librdkafka's default handling. */
    void (*on_rebalance)(bool assign, const struct pf_kafka_tp *parts, size_t n, const char *reason,
                         void *opaque);
    void *opaque;
};

/*
 * Creates a producer of `profile` (a *_PRODUCER or PF_KAFKA_PUBLISHER). cb may be NULL.
 * Returns 0 and a new producer in *ret, or -EINVAL (bad option), -EIO (librdkafka refused),
 * -ENOMEM with the reason in errbuf.
 */
int pf_kafka_producer_new(enum pf_kafka_profile profile, const struct pf_kafka_options *o,
                          const struct pf_kafka_callbacks *cb, struct pf_kafka_producer **ret,
                          char *errbuf, size_t errlen);

/* Destroys the producer without flushing; accepts NULL, returns NULL. */
struct pf_kafka_producer *pf_kafka_producer_free(struct pf_kafka_producer *p);

/* A record to produce; every buffer is copied, so it may be freed when produce returns. */
struct pf_kafka_record {
    const char *topic;
    int32_t partition; /* PF_KAFKA_PARTITION_ANY: by key */
    const void *key;   /* may be NULL */
    size_t key_len;
    const void *value;
    size_t value_len;
    const char *header_name;  /* NULL: no header */
    const char *header_value; /* NULL: a header with a null value */
    void *opaque;             /* handed back in the delivery report */
};

/*
 * Queues one record. Returns 0 (its delivery report will come), -ENOBUFS when the local queue
 * is full (poll and retry), -EIO otherwise, with the reason in errbuf.
 */
int pf_kafka_produce(struct pf_kafka_producer *p, const struct pf_kafka_record *r, char *errbuf,
                     size_t errlen);

/* Serves delivery reports and errors, waiting up to timeout_ms; returns how many were served. */
int pf_kafka_producer_poll(struct pf_kafka_producer *p, int timeout_ms);

/* Waits up to timeout_ms until every record was reported on. Returns 0 or -ETIMEDOUT. */
int pf_kafka_producer_flush(struct pf_kafka_producer *p, int timeout_ms);

/* Records queued or in flight (not reported on yet). */
int pf_kafka_producer_outq_len(struct pf_kafka_producer *p);

/* Fails every queued and in-flight record (their reports come on the next poll), so that
 * destroying the producer does not wait for them. */
void pf_kafka_producer_purge(struct pf_kafka_producer *p);

/* --- consumer ---------------------------------------------------------------------------- */

struct pf_kafka_consumer;

/*
 * Creates a consumer of `profile` (PF_KAFKA_JOBS_CONSUMER, PF_KAFKA_ATTEMPTS_READER or
 * PF_KAFKA_RESULTS_CONSUMER) whose pf_kafka_consumer_poll() serves every event. cb may be NULL.
 * Returns 0 and a new consumer in *ret, or a negative errno with the reason in errbuf.
 */
int pf_kafka_consumer_new(enum pf_kafka_profile profile, const struct pf_kafka_options *o,
                          const struct pf_kafka_callbacks *cb, struct pf_kafka_consumer **ret,
                          char *errbuf, size_t errlen);

#define PF_KAFKA_CLOSE_DEFAULT_MS 5000 /* pf_kafka_consumer_close()'s bound */

/*
 * Leaves the group (revokes the assignment, running the rebalance callback on this thread,
 * commits what is stored) and destroys the consumer, waiting at most timeout_ms for the group
 * part: past it, the consumer is destroyed without leaving (nothing more is committed; the
 * group moves its partitions after the session timeout and redelivers what was not
 * committed). Returns 0 when the close completed, -ETIMEDOUT when it was cut short; c is freed
 * either way. Accepts NULL (returns 0).
 */
int pf_kafka_consumer_close_within(struct pf_kafka_consumer *c, int timeout_ms);

/* pf_kafka_consumer_close_within(c, PF_KAFKA_CLOSE_DEFAULT_MS); returns NULL. */
struct pf_kafka_consumer *pf_kafka_consumer_close(struct pf_kafka_consumer *c);

/* Joins the group for topics[0..n). Returns 0 or -EIO with the reason in errbuf. */
int pf_kafka_consumer_subscribe(struct pf_kafka_consumer *c, const char *const *topics, size_t n,
                                char *errbuf, size_t errlen);

/* Reads `topic` partition `partition` from its first offset, outside any group balancing. */
int pf_kafka_consumer_assign_from_start(struct pf_kafka_consumer *c, const char *topic,
                                        int32_t partition, char *errbuf, size_t errlen);

/*
 * Waits up to timeout_ms for the next message or error event (running rebalance and error
 * callbacks meanwhile). Returns 1 with a new message in *ret (check its err), or 0 when there
 * was none. End-of-partition events are not returned.
 */
int pf_kafka_consumer_poll(struct pf_kafka_consumer *c, int timeout_ms, struct pf_kafka_msg **ret);

/* Pauses or resumes one partition (the caller tracks the state: librdkafka cannot be asked). */
int pf_kafka_consumer_pause(struct pf_kafka_consumer *c, const char *topic, int32_t partition,
                            bool pause);

/* Moves one partition's next fetch to tp->offset, waiting up to timeout_ms. Returns 0 or -EIO. */
int pf_kafka_consumer_seek(struct pf_kafka_consumer *c, const struct pf_kafka_tp *tp,
                           int timeout_ms);

/*
 * Stores tps[0..n).offset (the next offset to read, i.e. message offset + 1) for the next
 * auto-commit. Returns 0, or -ESTALE when a partition is no longer assigned (its new owner
 * reads the messages again) or -EIO, with librdkafka's reason in errbuf.
 */
int pf_kafka_consumer_store(struct pf_kafka_consumer *c, const struct pf_kafka_tp *tps, size_t n,
                            char *errbuf, size_t errlen);

/* Commits the stored offsets synchronously. Returns 0 (also when nothing was stored) or -EIO
 * with the reason in errbuf. */
int pf_kafka_consumer_commit(struct pf_kafka_consumer *c, char *errbuf, size_t errlen);

/* Asks the partition leader for the low and high watermarks of a partition. Returns 0 or
 * -EIO (e.g. no such topic yet). */
int pf_kafka_consumer_watermarks(struct pf_kafka_consumer *c, const char *topic, int32_t partition,
                                 int64_t *ret_lo, int64_t *ret_hi, int timeout_ms);

#endif
