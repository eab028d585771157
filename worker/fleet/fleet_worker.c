/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet worker (fleet_worker.h), the pattern of kafka-redis.md §1.8: one poll thread owns
 * the consumer and runs the producer's delivery reports; N pool threads run jobs. A slot takes
 * a batch of consecutive, already-fetched messages of one partition and pauses the partition
 * until their results are delivered; the offset is then stored past the delivered prefix, so
 * "stored offset" means "this job and all before it have a result" (at-least-once, no gap
 * tracking), and the Kafka round trips are per batch, not per job. When every slot is busy every
 * idle partition is paused too, so nothing waits in a prefetch queue while another worker could
 * run it. Attempts are counted in a one-partition topic every worker reads in full: a job started
 * max_attempts times without a result (it keeps killing workers) goes to the dead-letter topic.
 */
#include "pf/setup.h"

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/job.h"
#include "pf/kafka.h"
#include "pf/log.h"
#include "pf/msg.h"
#include "pf/registry.h"
#include "pf/tag_decision.h"
#include "fleet/fleet_worker.h"
#include "fleet/metrics.h"
#include "job/result_msg.h"
#include "job/patch_job.h"
#include "job/plan_cache.h"

#define FLEET_ATTEMPTS_MAX 65536  /* job ids remembered; older ones are forgotten first */
#define FLEET_PLAN_CACHE_MAX 4096 /* dry-run plans (platform manifests) remembered, LRU */
#define FLEET_ATTEMPT_WAIT_MS 10000
/* Shutdown (docs/fleet.md, "Shutdown"): everything from the signal to the return fits in
 * --grace. The last quarter of it (at most FLEET_CLOSE_RESERVE_MS) is kept for leaving Kafka:
 * jobs run until then, cancelled jobs get half of the reserve, flushes and the consumer close
 * share what is left. */
#define FLEET_CLOSE_RESERVE_MS 5000
/* Latency, not throughput, bounds a worker: a job waits for two deliveries (attempt record,
 * result), whose reports this thread serves between consumer polls, and for its partition's
 * next fetch after the resume. bench/README.md has the measurements. */
#define FLEET_POLL_MS 5
/* Consecutive messages of one partition a slot takes at once (docs/fleet.md, "Worker
 * semantics"), and how many already-fetched messages one poll round hands out. */
#define FLEET_BATCH_MAX 32
#define FLEET_DRAIN_MAX 256

enum slot_state {
    SLOT_FREE,
    SLOT_QUEUED,  /* handed over, waiting for a pool thread */
    SLOT_RUNNING, /* a pool thread owns it */
    SLOT_SENT,    /* every message handled; deliveries may be outstanding */
};

struct fleet;
struct slot;

/* The opaque of a produced message: which slot and message of its batch, or the batch's
 * attempt records. */
struct dr_tag {
    struct slot *slot;
    size_t idx;
    bool attempt;
};

/* One job message of a slot's batch. */
struct slot_msg {
    char *payload;
    size_t len;
    int64_t offset;
    int pending; /* deliveries outstanding (result, DLQ copy) */
    bool sent;   /* its result (or DLQ copy) was produced */
    bool failed; /* a produce or delivery failed: redo from here */
    struct dr_tag tag;
};

struct slot {
    struct fleet *f;
    enum slot_state state;
    int32_t partition;
    struct slot_msg *msgs; /* FLEET_BATCH_MAX, consecutive offsets of `partition` */
    size_t n_msgs;
    size_t cur;           /* the message the pool thread works on */
    int attempts_pending; /* attempt records of the batch not yet delivered */
    int64_t deadline_ms;
    atomic_bool timed_out;
    const char *job_id; /* the job run_job() runs, and its attempt (before_tag needs them) */
    unsigned attempt;
    struct dr_tag tag_attempt;
};

struct part {
    int32_t partition;
    bool paused;
};

#define FLEET_TAG_MAX 128 /* a tag's longest form ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) */
/* The attempts record an attempt writes right before it tags its push: the start record's
 * fields, then this word and the tag. Older workers read it as one more record of the same
 * attempt (the worker id is free text), so it counts no extra start. */
#define FLEET_PUSHING " pushing "

struct attempt_entry {
    char job_id[72];
    unsigned n;
    char pushed[FLEET_TAG_MAX + 1]; /* the tag an attempt was about to push, or "" */
};

struct fleet {
    const struct worker_fleet_options *o;
    /* cons: the jobs (group member); att: reads the attempts topic in full; prod: results and
     * dead letters; att_prod: attempt records. Two producers because their messages want
     * different lingers (pf/kafka.h profiles): results of a batch trickle in as its jobs end
     * and nothing waits for them but the batch's settling, so they wait 20 ms to share produce
     * requests; a batch cannot start before its attempt records are acknowledged. */
    struct pf_kafka_consumer *cons, *att;
    struct pf_kafka_producer *prod, *att_prod;
    pthread_mutex_t lock; /* guards slots' states, the attempts table, quit */
    pthread_cond_t cond;
    struct slot *slots;
    unsigned n_slots;
    struct part *parts; /* the current assignment of the jobs topic; poll thread only */
    size_t n_parts;
    bool stopping;         /* poll thread only */
    int64_t stop_deadline; /* monotonic ms by which worker_fleet_run returns; poll thread */
    int32_t wake_part;     /* a partition just resumed (-1 none); poll thread only */
    bool quit;
    unsigned active;  /* pool threads not yet exited */
    atomic_int abort; /* the grace period is over: cancel running jobs, drop their results */
    atomic_int fatal;
    struct attempt_entry *attempts;
    size_t n_attempts, next_attempt;
    int64_t attempts_pos;            /* next offset of the attempts partition not read yet */
    struct worker_plan_cache *plans; /* dry-run plans shared by every slot (patch_job.h) */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- attempts ---------------------------------------------------------------------------- */

/* Records that `job_id` was started `n` times (the highest count seen wins) and, when `pushed`
 * is not NULL, that an attempt was about to tag that push. Locked. */
static void attempts_note(struct fleet *f, const char *job_id, unsigned n, const char *pushed)
{
    for (size_t i = 0; i < f->n_attempts; i++)
        if (strcmp(f->attempts[i].job_id, job_id) == 0) {
            if (n > f->attempts[i].n)
                f->attempts[i].n = n;
            if (pushed)
                (void)snprintf(f->attempts[i].pushed, sizeof(f->attempts[i].pushed), "%s", pushed);
            return;
        }
    if (strlen(job_id) >= sizeof(f->attempts[0].job_id))
        return;
    (void)snprintf(f->attempts[f->next_attempt].job_id, sizeof(f->attempts[0].job_id), "%s",
                   job_id);
    (void)snprintf(f->attempts[f->next_attempt].pushed, sizeof(f->attempts[0].pushed), "%s",
                   pushed ? pushed : "");
    f->attempts[f->next_attempt].n = n;
    f->next_attempt = (f->next_attempt + 1) % FLEET_ATTEMPTS_MAX;
    if (f->n_attempts < FLEET_ATTEMPTS_MAX)
        f->n_attempts++;
}

/* The tag `job_id`'s newest "pushing" record names, copied into buf; false when none. Locked. */
static bool attempts_pushed(const struct fleet *f, const char *job_id, char *buf, size_t len)
{
    for (size_t i = 0; i < f->n_attempts; i++)
        if (strcmp(f->attempts[i].job_id, job_id) == 0 && f->attempts[i].pushed[0]) {
            (void)snprintf(buf, len, "%s", f->attempts[i].pushed);
            return true;
        }
    return false;
}

/* The tag of a "pushing" record (`rec` already parsed as an attempts record), into tag
 * (FLEET_TAG_MAX + 1 bytes); false when the record is a plain start or the tag is not one. */
static bool record_pushing_tag(const char *rec, size_t len, char *tag)
{
    const char *p = NULL;
    size_t n;

    for (size_t i = 0; i + strlen(FLEET_PUSHING) <= len; i++)
        if (memcmp(rec + i, FLEET_PUSHING, strlen(FLEET_PUSHING)) == 0)
            p = rec + i + strlen(FLEET_PUSHING); /* the last one: the worker id comes first */
    if (!p)
        return false;
    n = len - (size_t)(p - rec);
    if (n == 0 || n > FLEET_TAG_MAX || !(isalnum((unsigned char)p[0]) || p[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && !strchr("_.-", p[i]))
            return false;
    memcpy(tag, p, n);
    tag[n] = '\0';
    return true;
}

static unsigned attempts_get(const struct fleet *f, const char *job_id)
{
    for (size_t i = 0; i < f->n_attempts; i++)
        if (strcmp(f->attempts[i].job_id, job_id) == 0)
            return f->attempts[i].n;
    return 0;
}

/* Reads what the attempts consumer has (poll thread). Records are "<job_id> <n> <worker>". A
 * record that does not parse strictly (pf_kafka_attempt_parse()) counts no start: it is logged
 * and skipped. Taking it as poison would dead-letter a job for bytes that are not a record of
 * ours (a negative count read with %u once wrapped to ~4 billion and did exactly that); skipping
 * it costs at most one more start of a job whose real records still count. */
static void attempts_consume(struct fleet *f)
{
    struct pf_kafka_msg *m;

    while (pf_kafka_consumer_poll(f->att, 0, &m) > 0) {
        if (!m->err) {
            char id[PF_KAFKA_JOB_ID_MAX + 1], tag[FLEET_TAG_MAX + 1];
            unsigned n;
            int r = pf_kafka_attempt_parse(m->value, m->value_len, id, &n);
            bool pushing = r == 0 && record_pushing_tag((const char *)m->value, m->value_len, tag);

            if (r < 0)
                pf_log(LOG_WARNING, "attempts record at offset %lld unreadable (%s), ignoring",
                       (long long)m->offset, strerror(-r));
            (void)pthread_mutex_lock(&f->lock);
            if (r == 0)
                attempts_note(f, id, n, pushing ? tag : NULL);
            f->attempts_pos = m->offset + 1;
            (void)pthread_cond_broadcast(&f->cond);
            (void)pthread_mutex_unlock(&f->lock);
        } else {
            pf_log(LOG_DEBUG, "attempts topic: %s", m->errstr);
        }
        (void)pf_kafka_msg_free(m);
    }
}

/* Waits on f->cond for at most 100 ms (a waiter re-checks its deadline and the abort flag this
 * often, whether or not anyone signals). Called with f->lock held. */
static void wait_slice(struct fleet *f)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    (void)pthread_cond_timedwait(&f->cond, &f->lock, &ts);
}

/* The attempt numbers these starts of jobs[i] (those with want[i]) are: one more than every
 * start recorded so far by any worker, into att[i]. Waits (bounded) until this worker has read
 * the attempts topic up to its end: one watermark query for the whole batch. */
static void attempts_next(struct fleet *f, const struct pf_msg_job *jobs, const bool *want,
                          size_t n, unsigned *att)
{
    int64_t lo = 0, hi = 0, deadline = mono_ms() + FLEET_ATTEMPT_WAIT_MS;

    if (pf_kafka_consumer_watermarks(f->att, PF_KAFKA_TOPIC_ATTEMPTS, PF_KAFKA_ATTEMPTS_PARTITION,
                                     &lo, &hi, 5000) < 0)
        hi = 0; /* no topic yet: no attempts */
    (void)pthread_mutex_lock(&f->lock);
    while (f->attempts_pos < hi && mono_ms() < deadline && !atomic_load(&f->abort)) {
        wait_slice(f);
    }
    for (size_t i = 0; i < n; i++)
        att[i] = want[i] ? attempts_get(f, jobs[i].job_id) + 1 : 1;
    (void)pthread_mutex_unlock(&f->lock);
}

/* Produces the attempt records of jobs[i] (those with want[i]) at once and waits for all their
 * deliveries (the poll thread runs the reports): a job starts only once its start is on
 * record, as before, but a batch pays one round trip. A failed record is logged and ignored. */
static void attempts_wait(struct fleet *f, struct slot *s, int64_t deadline);

static void attempts_record(struct fleet *f, struct slot *s, const struct pf_msg_job *jobs,
                            const bool *want, const unsigned *att, size_t n)
{
    int64_t deadline = mono_ms() + FLEET_ATTEMPT_WAIT_MS;

    for (size_t i = 0; i < n; i++) {
        const char *job_id = jobs[i].job_id;
        struct pf_kafka_record kr = {.topic = PF_KAFKA_TOPIC_ATTEMPTS,
                                     .partition = PF_KAFKA_ATTEMPTS_PARTITION,
                                     .key = job_id,
                                     .key_len = strlen(job_id),
                                     .opaque = &s->tag_attempt};
        char *rec, e[256];
        int r;

        if (!want[i])
            continue;
        rec = pf_asprintf("%s %u %s", job_id, att[i], f->o->worker_id);
        if (!rec)
            continue;
        (void)pthread_mutex_lock(&f->lock);
        s->attempts_pending++;
        (void)pthread_mutex_unlock(&f->lock);
        kr.value = rec;
        kr.value_len = strlen(rec);
        r = pf_kafka_produce(f->att_prod, &kr, e, sizeof(e));
        pf_free(rec);
        if (r < 0) {
            pf_log(LOG_WARNING, "cannot record attempt %u of job %s: %s, ignoring", att[i], job_id,
                   e);
            (void)pthread_mutex_lock(&f->lock);
            s->attempts_pending--;
            (void)pthread_mutex_unlock(&f->lock);
        }
    }
    attempts_wait(f, s, deadline);
}

/* Waits until every attempts record of slot s was acknowledged, or `deadline`, or the abort.
 * Bounded: with the broker gone no report comes before message.timeout.ms, and a stopping
 * worker must not wait for it. The jobs are then started without their record (or not at all
 * once stopping): at worst one start is not counted. */
static void attempts_wait(struct fleet *f, struct slot *s, int64_t deadline)
{
    (void)pthread_mutex_lock(&f->lock);
    while (s->attempts_pending > 0 && mono_ms() < deadline && !atomic_load(&f->abort)) {
        wait_slice(f);
    }
    (void)pthread_mutex_unlock(&f->lock);
}

/* --- results ----------------------------------------------------------------------------- */

/* Produces one message for the current message of slot `s` (copied), counted in its pending.
 * Returns 0 or -EIO. */
static int slot_produce(struct slot *s, const char *topic, const char *key, const void *data,
                        size_t len, const char *header)
{
    struct fleet *f = s->f;
    struct slot_msg *sm = &s->msgs[s->cur];
    /* Every result carries the header, null-valued when there is no reason, as it always did. */
    struct pf_kafka_record kr = {.topic = topic,
                                 .partition = PF_KAFKA_PARTITION_ANY,
                                 .key = key,
                                 .key_len = key ? strlen(key) : 0,
                                 .value = data,
                                 .value_len = len,
                                 .header_name = PF_KAFKA_HEADER_REASON,
                                 .header_value = header,
                                 .opaque = &sm->tag};
    char e[256];

    (void)pthread_mutex_lock(&f->lock);
    sm->pending++;
    sm->sent = true;
    (void)pthread_mutex_unlock(&f->lock);
    if (pf_kafka_produce(f->prod, &kr, e, sizeof(e)) == 0)
        return 0;
    pf_log(LOG_ERR, "cannot produce to %s: %s", topic, e);
    (void)pthread_mutex_lock(&f->lock);
    sm->pending--;
    sm->failed = true;
    (void)pthread_mutex_unlock(&f->lock);
    return -EIO;
}

/* Encodes and produces the result of `job`; strings of `res` are borrowed. */
static void publish_result(struct slot *s, const struct pf_msg_job *job, enum pf_status status,
                           const char *tag, const struct worker_patch_job_result *res,
                           const char *details, unsigned attempt, int64_t started)
{
    struct pf_msg_result m = {
        .run_id = job->run_id,
        .job_id = job->job_id,
        .name = job->job.name,
        .source = job->job.source,
        .status = (char *)(uintptr_t)pf_status_to_string(status),
        .details = (char *)(uintptr_t)details,
        .worker = (char *)(uintptr_t)s->f->o->worker_id,
        .started_ms = started,
        .finished_ms = wall_ms(),
        .attempt = attempt,
    };
    struct pf_msg_platform *plats = NULL;
    char *out = NULL;
    size_t len = 0;
    int r;

    worker_metrics_result(s->f->o->metrics, m.status);
    if (res && status == PF_STATUS_PATCHED) {
        m.patched_tag = (char *)(uintptr_t)tag;
        m.patched_ref = res->patched_ref;
        m.patched_digest = res->patched_digest;
    } else if (status == PF_STATUS_SKIPPED) {
        m.patched_tag = (char *)(uintptr_t)tag;
    }
    if (res && worker_result_msg_platforms(res, &plats) == 0 && plats) {
        m.platforms = plats;
        m.n_platforms = res->n_platforms;
    }
    r = pf_msg_result_encode(&m, &out, &len);
    if (r < 0) {
        /* The full result does not fit (or OOM): a bare Failed result still completes the job. */
        m.platforms = NULL;
        m.n_platforms = 0;
        m.status = (char *)(uintptr_t)pf_status_to_string(PF_STATUS_FAILED);
        m.details = (char *)(uintptr_t) "result too large to publish";
        r = pf_msg_result_encode(&m, &out, &len);
    }
    if (r == 0)
        (void)slot_produce(s, PF_KAFKA_TOPIC_RESULTS, job->job_id, out, len, NULL);
    else
        s->msgs[s->cur].failed = true; /* no result: redone from this job */
    pf_free(out);
    worker_result_msg_platforms_free(plats, res ? res->n_platforms : 0);
}

/* --- running a job ----------------------------------------------------------------------- */

static bool slot_cancelled(void *userdata)
{
    struct slot *s = userdata;

    if (atomic_load(&s->f->abort))
        return true;
    if (mono_ms() >= s->deadline_ms) {
        atomic_store(&s->timed_out, true);
        return true;
    }
    return false;
}

/* worker_patch_job_options.before_tag: records "<job_id> <attempt> <worker> pushing <tag>"
 * and waits (bounded) for its acknowledgement, so that if this worker dies between the tag and
 * its result, the attempt that redoes the job knows the tag is its own (docs/fleet.md). A
 * record that cannot be written is logged and the push goes on: the redone job would then say
 * Skipped, as before. */
static int before_tag(void *userdata, const char *tag)
{
    struct slot *s = userdata;
    struct fleet *f = s->f;
    struct pf_kafka_record kr = {.topic = PF_KAFKA_TOPIC_ATTEMPTS,
                                 .partition = PF_KAFKA_ATTEMPTS_PARTITION,
                                 .key = s->job_id,
                                 .key_len = strlen(s->job_id),
                                 .opaque = &s->tag_attempt};
    char *rec = pf_asprintf("%s %u %s" FLEET_PUSHING "%s", s->job_id, s->attempt, f->o->worker_id,
                            tag);
    char e[256];
    int r;

    if (!rec)
        return -ENOMEM;
    kr.value = rec;
    kr.value_len = strlen(rec);
    (void)pthread_mutex_lock(&f->lock);
    s->attempts_pending++;
    (void)pthread_mutex_unlock(&f->lock);
    r = pf_kafka_produce(f->att_prod, &kr, e, sizeof(e));
    pf_free(rec);
    if (r < 0) {
        pf_log(LOG_WARNING, "cannot record the push of job %s to '%s': %s, ignoring", s->job_id,
               tag, e);
        (void)pthread_mutex_lock(&f->lock);
        s->attempts_pending--;
        (void)pthread_mutex_unlock(&f->lock);
        return 0;
    }
    attempts_wait(f, s, mono_ms() + FLEET_ATTEMPT_WAIT_MS);
    return 0;
}

/* Runs the decoded job and publishes its result (or drops it after an abort). A push takes
 * the local run's tag decision (pf_tag_decision_for_job(): the next free versioned tag,
 * fail-open when the listing fails, nothing pushed when unchanged since the newest patched
 * tag, never an overwrite), so a nightly fleet sweep gives the rows a local sweep gives. */
static void run_job(struct slot *s, const struct pf_msg_job *job, unsigned attempt)
{
    const struct worker_fleet_options *o = s->f->o;
    struct worker_patch_job_options po = {
        .engine = o->engine,
        .registry = o->registry,
        .blobs = o->blobs,
        .work_root = o->work_root,
        .oci_dir = job->oci_dir,
        .push = job->push,
        .dry_run = job->dry_run,
        .cancelled = slot_cancelled,
        .cancelled_userdata = s,
        .plan_cache = s->f->plans,
        .limits = o->limits,
        .before_tag = job->push ? before_tag : NULL,
    };
    char own[FLEET_TAG_MAX + 1] = "";
    struct pf_tag_decision dec = {0};
    struct worker_patch_job_result res = {0};
    int64_t timeout = job->timeout_ms > 0 ? job->timeout_ms : o->default_timeout_ms;
    int64_t started = wall_ms();
    struct pf_job pj = job->job;
    char err[512] = "", *details = NULL;
    enum pf_status status;
    const char *tag;
    int r;

    atomic_store(&s->timed_out, false);
    s->deadline_ms = mono_ms() + timeout;
    s->job_id = job->job_id;
    s->attempt = attempt;
    worker_metrics_job_begin(o->metrics);
    r = job->push ? pf_tag_decision_for_job(o->registry, NULL, NULL, &job->job, slot_cancelled, s,
                                            &dec, err, sizeof(err))
                  : 0;
    if (r < 0) { /* Error, as in the local run: the job could not be set up */
        details = pf_asprintf("cannot pick the patched tag in %s: %s", job->job.target_repo,
                              err[0] ? err : strerror(-r));
        publish_result(s, job, PF_STATUS_ERROR, NULL, NULL, details ? details : "cannot pick a tag",
                       attempt, started);
        goto out;
    }
    if (dec.tag) {
        pj.target_tag = dec.tag;
        po.unchanged_tag = dec.latest;
        po.no_overwrite = true;
    }
    if (attempt > 1 && dec.latest) {
        bool found;

        (void)pthread_mutex_lock(&s->f->lock);
        found = attempts_pushed(s->f, job->job_id, own, sizeof(own));
        (void)pthread_mutex_unlock(&s->f->lock);
        if (found)
            po.own_tag = own;
    }
    r = worker_patch_job_run(&po, &pj, &res);
    /* Test only (tests/integration/fleet_e2e.sh step 8): die like kill -9 right after a push,
     * before its result is published. */
    if (r == 0 && res.status == PF_STATUS_PATCHED && job->push &&
        getenv("PATCHFLEET_TEST_KILL_AFTER_PUSH"))
        (void)raise(SIGKILL);
    worker_metrics_pushed(o->metrics, res.bytes_pushed);
    status = r < 0 ? PF_STATUS_FAILED : res.status;
    if (r == 0 && (res.status == PF_STATUS_FAILED || res.status == PF_STATUS_CANCELLED)) {
        if (atomic_load(&s->f->abort)) {
            /* Shutdown past the grace period: no result (sent stays false), the job is
             * redelivered. */
            goto out;
        }
        if (atomic_load(&s->timed_out)) {
            status = PF_STATUS_CANCELLED;
            details = pf_asprintf("timed out after %lld ms", (long long)timeout);
        }
    }
    if (!details && r == 0)
        details = worker_patch_details(res.status, res.details, dec.warning, res.warnings);
    /* Unchanged since the newest patched tag: that tag is the row's, as in the local run. */
    tag = r == 0 && res.status == PF_STATUS_SKIPPED && dec.latest ? dec.latest : pj.target_tag;
    /* Patched by an earlier attempt of this job (po.own_tag matched): the row names its tag. */
    if (r == 0 && res.status == PF_STATUS_PATCHED && po.own_tag && res.patched_ref &&
        strlen(res.patched_ref) > strlen(po.own_tag) &&
        strcmp(res.patched_ref + strlen(res.patched_ref) - strlen(po.own_tag), po.own_tag) == 0 &&
        res.patched_ref[strlen(res.patched_ref) - strlen(po.own_tag) - 1] == ':')
        tag = po.own_tag;
    publish_result(s, job, status, tag, r < 0 ? NULL : &res,
                   details ? details
                   : r < 0 ? "out of memory"
                           : res.details,
                   attempt, started);
out:
    worker_metrics_job_end(o->metrics, wall_ms() - started);
    pf_free(details);
    pf_tag_decision_release(&dec);
    worker_patch_job_result_release(&res);
}

/* True when the remaining jobs of a batch must not start: stopping (they are redelivered to
 * whoever takes the partition next) or past the grace period. */
static bool batch_stops(struct fleet *f)
{
    bool stop;

    if (atomic_load(&f->abort))
        return true;
    (void)pthread_mutex_lock(&f->lock);
    stop = f->stopping;
    (void)pthread_mutex_unlock(&f->lock);
    return stop;
}

/* Runs job i of the batch (decoded in jobs[i], attempt att[i]) to its result. */
static void process_job(struct slot *s, struct pf_msg_job *job, unsigned attempt)
{
    struct fleet *f = s->f;
    char *reason = NULL;

    if (job->verdict == PF_MSG_VERDICT_SKIP_CLEAN) {
        publish_result(s, job, PF_STATUS_SKIPPED, job->skip_tag, NULL, "no fixable vulnerabilities",
                       1, wall_ms());
        return;
    }
    if (f->o->max_attempts && attempt > f->o->max_attempts) {
        reason = pf_asprintf("moved to %s after %u attempts without a result (the job kept "
                             "stopping its workers)",
                             PF_KAFKA_TOPIC_DLQ, attempt - 1);
        pf_log(LOG_WARNING, "job %s (%s): %s", job->job_id, job->job.source,
               reason ? reason : "dead-lettered");
        (void)slot_produce(s, PF_KAFKA_TOPIC_DLQ, job->job_id, s->msgs[s->cur].payload,
                           s->msgs[s->cur].len, reason);
        worker_metrics_dead_lettered(f->o->metrics);
        publish_result(s, job, PF_STATUS_FAILED, NULL, NULL, reason ? reason : "dead-lettered",
                       attempt, wall_ms());
        pf_free(reason);
        return;
    }
    pf_log(LOG_INFO, "job %s: %s (attempt %u)", job->job_id, job->job.source, attempt);
    run_job(s, job, attempt);
}

/* A batch from its messages to their results, on a pool thread: decode every message, read
 * the attempt counts once, record the starts of the jobs to run at once, then run the jobs in
 * offset order, producing each result without waiting for its delivery (the poll thread
 * settles the slot once every delivery is in). A job that was started before (attempt > 1)
 * ends the batch: the jobs behind it stay unstarted and unrecorded, so a job that kills its
 * workers charges its neighbours at most the one batch that first died with it. */
static void process_slot(struct slot *s)
{
    struct fleet *f = s->f;
    size_t n = s->n_msgs, run_n = n;
    struct pf_msg_job *jobs = pf_calloc(n, sizeof(*jobs));
    bool *decoded = pf_calloc(n, sizeof(*decoded)), *want = pf_calloc(n, sizeof(*want));
    unsigned *att = pf_calloc(n, sizeof(*att));
    char err[512];

    if (!jobs || !decoded || !want || !att)
        goto out; /* nothing sent: the poll thread rewinds the partition to the batch */
    for (size_t i = 0; i < n; i++) {
        struct slot_msg *sm = &s->msgs[i];

        err[0] = '\0';
        decoded[i] = pf_msg_job_decode(sm->payload, sm->len, &jobs[i], err, sizeof(err)) == 0;
        want[i] = decoded[i] && jobs[i].verdict != PF_MSG_VERDICT_SKIP_CLEAN;
    }
    attempts_next(f, jobs, want, n, att);
    for (size_t i = 0; i < n; i++) {
        if (want[i] && att[i] > 1) {
            run_n = i + 1;
            break;
        }
    }
    for (size_t i = run_n; i < n; i++)
        want[i] = false;
    for (size_t i = 0; i < run_n; i++) /* dead-lettered, not started */
        if (want[i] && f->o->max_attempts && att[i] > f->o->max_attempts)
            want[i] = false;
    attempts_record(f, s, jobs, want, att, run_n);
    for (size_t i = 0; i < run_n && !batch_stops(f); i++) {
        s->cur = i;
        if (!decoded[i]) {
            /* Unreadable: no job id to report under; the DLQ keeps it with the reason. */
            err[0] = '\0';
            (void)pf_msg_job_decode(s->msgs[i].payload, s->msgs[i].len, &jobs[i], err, sizeof(err));
            pf_log(LOG_ERR, "job message at partition %d offset %lld refused: %s",
                   (int)s->partition, (long long)s->msgs[i].offset, err);
            (void)slot_produce(s, PF_KAFKA_TOPIC_DLQ, NULL, s->msgs[i].payload, s->msgs[i].len,
                               err);
            continue;
        }
        process_job(s, &jobs[i], att[i]);
    }
out:
    for (size_t i = 0; jobs && i < n; i++)
        pf_msg_job_release(&jobs[i]);
    pf_free(jobs);
    pf_free(decoded);
    pf_free(want);
    pf_free(att);
}

static void *pool_thread(void *arg)
{
    struct fleet *f = arg;

    (void)pthread_mutex_lock(&f->lock);
    for (;;) {
        struct slot *s = NULL;

        for (unsigned i = 0; i < f->n_slots && !s; i++)
            if (f->slots[i].state == SLOT_QUEUED)
                s = &f->slots[i];
        if (!s && f->quit)
            break;
        if (!s) {
            (void)pthread_cond_wait(&f->cond, &f->lock);
            continue;
        }
        s->state = SLOT_RUNNING;
        (void)pthread_mutex_unlock(&f->lock);
        process_slot(s);
        (void)pthread_mutex_lock(&f->lock);
        if (s->state == SLOT_RUNNING)
            s->state = SLOT_SENT;
    }
    f->active--;
    (void)pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* --- the poll thread --------------------------------------------------------------------- */

static void on_delivery(const struct pf_kafka_msg *m, void *opaque)
{
    struct dr_tag *t = m->opaque;
    struct fleet *f = opaque;

    if (!t)
        return;
    (void)pthread_mutex_lock(&f->lock);
    if (t->attempt) {
        t->slot->attempts_pending--;
    } else {
        t->slot->msgs[t->idx].pending--;
        if (m->err) {
            t->slot->msgs[t->idx].failed = true;
            pf_log(LOG_ERR, "delivery to %s failed: %s", m->topic, m->errstr);
        }
    }
    (void)pthread_cond_broadcast(&f->cond);
    (void)pthread_mutex_unlock(&f->lock);
}

static void on_fatal(const char *reason, void *opaque)
{
    struct fleet *f = opaque;

    pf_log(LOG_ERR, "fatal kafka error: %s", reason);
    atomic_store(&f->fatal, 1);
}

static bool partition_busy(const struct fleet *f, int32_t p)
{
    for (unsigned i = 0; i < f->n_slots; i++)
        if (f->slots[i].state != SLOT_FREE && f->slots[i].partition == p)
            return true;
    return false;
}

static bool any_free(const struct fleet *f)
{
    for (unsigned i = 0; i < f->n_slots; i++)
        if (f->slots[i].state == SLOT_FREE)
            return true;
    return false;
}

static void pause_one(struct fleet *f, struct part *p, bool pause)
{
    if (pf_kafka_consumer_pause(f->cons, PF_KAFKA_TOPIC_JOBS, p->partition, pause) == -ENOMEM)
        return;
    if (!pause)
        f->wake_part = p->partition;
    p->paused = pause;
}

/* Pauses exactly the partitions that must not deliver: busy ones, all when no slot is free or
 * when stopping. `force` sets every state explicitly (after ASSIGN: librdkafka keeps a
 * partition's old pause flag across a rebalance). Locked. */
static void apply_pause(struct fleet *f, bool force)
{
    bool full = !any_free(f);

    for (size_t i = 0; i < f->n_parts; i++) {
        struct part *p = &f->parts[i];
        bool want = f->stopping || full || partition_busy(f, p->partition);

        if (force || want != p->paused)
            pause_one(f, p, want);
    }
}

/* The wrapper has applied the new assignment (assign) or is about to drop it. */
static void on_rebalance(bool assign, const struct pf_kafka_tp *parts, size_t n, const char *reason,
                         void *opaque)
{
    struct fleet *f = opaque;

    (void)pthread_mutex_lock(&f->lock);
    f->parts = pf_free(f->parts);
    f->n_parts = 0;
    if (assign) {
        f->parts = pf_calloc(n + 1, sizeof(*f->parts));
        for (size_t i = 0; f->parts && i < n; i++)
            f->parts[f->n_parts++] = (struct part){.partition = parts[i].partition};
        pf_log(LOG_INFO, "assigned %zu partitions", n);
        apply_pause(f, true);
    } else {
        /* Eager revoke (or an error): in-flight jobs finish, but their offsets can no longer
         * be stored (-ESTALE), so the next owner redoes them. */
        pf_log(LOG_INFO, "partitions revoked (%s)", reason);
    }
    (void)pthread_mutex_unlock(&f->lock);
}

/* True when every delivery of slot `s`'s batch is in. Locked. */
static bool slot_delivered(const struct slot *s)
{
    for (size_t i = 0; i < s->n_msgs; i++)
        if (s->msgs[i].pending > 0)
            return false;
    return true;
}

/* Settles slots whose batch is done and whose deliveries are all in: the stored offset moves
 * past the longest prefix of messages whose results were all delivered; from the first other
 * one (no result, or a failed delivery) the partition is rewound, so it comes again. Locked. */
static void settle_slots(struct fleet *f)
{
    for (unsigned i = 0; i < f->n_slots; i++) {
        struct slot *s = &f->slots[i];
        struct pf_kafka_tp tp = {.topic = PF_KAFKA_TOPIC_JOBS};
        char err[256];
        size_t k = 0;

        if (s->state != SLOT_SENT || !slot_delivered(s))
            continue;
        while (k < s->n_msgs && s->msgs[k].sent && !s->msgs[k].failed)
            k++;
        tp.partition = s->partition;
        if (k > 0) {
            tp.offset = s->msgs[k - 1].offset + 1;
            if (pf_kafka_consumer_store(f->cons, &tp, 1, err, sizeof(err)) < 0)
                pf_log(LOG_INFO,
                       "offset of partition %d not stored (%s): the jobs will be "
                       "redone",
                       (int)s->partition, err);
        }
        if (k < s->n_msgs && !f->stopping) {
            tp.offset = s->msgs[k].offset;
            (void)pf_kafka_consumer_seek(f->cons, &tp, 5000);
        }
        for (size_t j = 0; j < s->n_msgs; j++) {
            s->msgs[j].payload = pf_free(s->msgs[j].payload);
            s->msgs[j].pending = 0;
            s->msgs[j].sent = s->msgs[j].failed = false;
        }
        s->n_msgs = 0;
        s->state = SLOT_FREE;
    }
}

/* Seeks partition `p` back to `offset`: the message there is not taken now. */
static void seek_back(struct fleet *f, int32_t p, int64_t offset)
{
    struct pf_kafka_tp tp = {.topic = PF_KAFKA_TOPIC_JOBS, .partition = p, .offset = offset};

    (void)pf_kafka_consumer_seek(f->cons, &tp, 5000);
}

/* Hands a consumed job message to a slot: appended to the batch a queued slot (not started
 * yet) holds for the message just before it on the same partition, else to a free slot, whose
 * partition is then paused. The pool is woken by the caller. Locked. */
static void dispatch(struct fleet *f, const struct pf_kafka_msg *m)
{
    struct slot *s = NULL;
    struct slot_msg *sm;

    if (m->value_len > PF_MSG_MAX_BYTES) {
        pf_log(LOG_ERR, "job message of %zu bytes ignored", m->value_len);
        return;
    }
    for (unsigned i = 0; i < f->n_slots && !s && !f->stopping; i++) {
        struct slot *q = &f->slots[i];

        if (q->state == SLOT_QUEUED && q->partition == m->partition &&
            q->n_msgs < FLEET_BATCH_MAX && q->msgs[q->n_msgs - 1].offset + 1 == m->offset)
            s = q;
    }
    if (!s && !f->stopping && !partition_busy(f, m->partition))
        for (unsigned i = 0; i < f->n_slots && !s; i++)
            if (f->slots[i].state == SLOT_FREE)
                s = &f->slots[i];
    if (!s && f->stopping)
        return; /* not stored: the partition's next owner reads it again; a seek could block */
    if (!s) {
        seek_back(f, m->partition, m->offset);
        return;
    }
    sm = &s->msgs[s->n_msgs];
    sm->payload = pf_malloc(m->value_len + 1);
    if (!sm->payload) {
        seek_back(f, m->partition, m->offset);
        return;
    }
    if (m->value_len)
        memcpy(sm->payload, m->value, m->value_len);
    sm->payload[m->value_len] = '\0';
    sm->len = m->value_len;
    sm->offset = m->offset;
    sm->pending = 0;
    sm->sent = sm->failed = false;
    s->n_msgs++;
    s->partition = m->partition;
    s->state = SLOT_QUEUED;
}

static bool any_busy(const struct fleet *f)
{
    for (unsigned i = 0; i < f->n_slots; i++)
        if (f->slots[i].state != SLOT_FREE)
            return true;
    return false;
}

/* librdkafka 2.0.2 applies a resume on the broker thread only when that thread wakes up, which
 * with every partition paused (no fetch outstanding) is its 1 s idle tick: each job then waited
 * ~1 s for its partition to be fetched again (bench/README.md). Any request to the partition
 * leader wakes the thread; a watermark query is a cheap one (one loopback round trip). */
static void wake_fetcher(struct fleet *f)
{
    int64_t lo, hi;

    if (f->wake_part < 0)
        return;
    (void)pf_kafka_consumer_watermarks(f->cons, PF_KAFKA_TOPIC_JOBS, f->wake_part, &lo, &hi, 1000);
    f->wake_part = -1;
}

/* The poll loop; returns when stopped and drained (or the abort wait ran out). */
static void poll_loop(struct fleet *f)
{
    int64_t grace_end = 0, abort_end = 0, reserve = f->o->grace_ms / 4;

    if (reserve > FLEET_CLOSE_RESERVE_MS)
        reserve = FLEET_CLOSE_RESERVE_MS;

    for (;;) {
        struct pf_kafka_msg *m = NULL;
        bool busy;

        if (!f->stopping && (atomic_load(f->o->stop) || atomic_load(&f->fatal))) {
            f->stopping = true;
            f->stop_deadline = mono_ms() + f->o->grace_ms;
            grace_end = f->stop_deadline - reserve;
            pf_log(LOG_NOTICE, "stopping: no new jobs; in-flight jobs get %lld ms",
                   (long long)(f->o->grace_ms - reserve));
        }
        /* Everything already fetched goes out in one round, so a slot's batch can take the
         * consecutive messages of its partition before a pool thread starts it. */
        if (pf_kafka_consumer_poll(f->cons, FLEET_POLL_MS, &m) <= 0)
            m = NULL;
        for (unsigned n = 1; m; n++) {
            (void)pthread_mutex_lock(&f->lock);
            if (!m->err)
                dispatch(f, m);
            else
                pf_log(LOG_DEBUG, "consumer: %s", m->errstr);
            (void)pthread_mutex_unlock(&f->lock);
            m = pf_kafka_msg_free(m);
            if (n < FLEET_DRAIN_MAX && pf_kafka_consumer_poll(f->cons, 0, &m) <= 0)
                m = NULL;
        }
        (void)pthread_mutex_lock(&f->lock);
        (void)pthread_cond_broadcast(&f->cond);
        (void)pthread_mutex_unlock(&f->lock);
        (void)pf_kafka_producer_poll(f->prod, 0);
        (void)pf_kafka_producer_poll(f->att_prod, 0);
        attempts_consume(f);
        (void)pthread_mutex_lock(&f->lock);
        settle_slots(f);
        apply_pause(f, false);
        busy = any_busy(f);
        (void)pthread_mutex_unlock(&f->lock);
        wake_fetcher(f);
        if (f->stopping && !busy)
            return;
        if (f->stopping && !atomic_load(&f->abort) && mono_ms() >= grace_end) {
            pf_log(LOG_WARNING, "grace period over: cancelling in-flight jobs (redelivered)");
            atomic_store(&f->abort, 1);
            abort_end = f->stop_deadline - reserve / 2;
        }
        if (atomic_load(&f->abort) && mono_ms() >= abort_end)
            return;
    }
}

/* --- set-up ------------------------------------------------------------------------------ */

/* The four clients (pf/kafka.h profiles: every property they set is there), the attempts
 * reader on its partition from the start, the group member subscribed to the jobs. */
static int clients_open(struct fleet *f, char *errbuf, size_t errlen)
{
    static const char *const jobs[] = {PF_KAFKA_TOPIC_JOBS};
    struct pf_kafka_options ko = {.brokers = f->o->brokers,
                                  .client_id = f->o->worker_id,
                                  .group = f->o->group};
    struct pf_kafka_callbacks prod_cb = {.on_delivery = on_delivery,
                                         .on_fatal = on_fatal,
                                         .opaque = f};
    struct pf_kafka_callbacks cons_cb = {.on_fatal = on_fatal,
                                         .on_rebalance = on_rebalance,
                                         .opaque = f};
    struct pf_kafka_callbacks att_cb = {.on_fatal = on_fatal, .opaque = f};
    char e[256];
    int r;

    r = pf_kafka_producer_new(PF_KAFKA_RESULTS_PRODUCER, &ko, &prod_cb, &f->prod, errbuf, errlen);
    r = r < 0 ? r
              : pf_kafka_producer_new(PF_KAFKA_ATTEMPTS_PRODUCER, &ko, &prod_cb, &f->att_prod,
                                      errbuf, errlen);
    r = r < 0 ? r
              : pf_kafka_consumer_new(PF_KAFKA_JOBS_CONSUMER, &ko, &cons_cb, &f->cons, errbuf,
                                      errlen);
    r = r < 0 ? r
              : pf_kafka_consumer_new(PF_KAFKA_ATTEMPTS_READER, &ko, &att_cb, &f->att, errbuf,
                                      errlen);
    if (r < 0)
        return r;
    r = pf_kafka_consumer_assign_from_start(f->att, PF_KAFKA_TOPIC_ATTEMPTS,
                                            PF_KAFKA_ATTEMPTS_PARTITION, e, sizeof(e));
    if (r == -ENOMEM)
        return r;
    r = pf_kafka_consumer_subscribe(f->cons, jobs, 1, e, sizeof(e));
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        r = pf_set_error(errbuf, errlen, -EIO, "cannot subscribe to %s", PF_KAFKA_TOPIC_JOBS);
    return r;
}

/* The milliseconds left until `deadline`, at least `min` (a clean close needs a moment even
 * when the jobs used the whole grace period). */
static int ms_left(int64_t deadline, int min)
{
    int64_t left = deadline - mono_ms();

    return left < min ? min : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Flushes results, stores their offsets, leaves the group (which commits what is stored:
 * auto-commit is on), frees; all by `deadline`. Returns 0, or -ETIMEDOUT when Kafka could not
 * be left cleanly (undelivered results or a close cut short: those jobs are redone). A
 * synchronous commit is not made: librdkafka waits for its reply without a bound. */
static int clients_close(struct fleet *f, int64_t deadline)
{
    int r = 0;

    if (f->att_prod && pf_kafka_producer_flush(f->att_prod, ms_left(deadline, 100) / 3) < 0)
        r = -ETIMEDOUT;
    if (f->prod) {
        if (pf_kafka_producer_flush(f->prod, ms_left(deadline, 100) / 2) < 0)
            r = -ETIMEDOUT;
        (void)pthread_mutex_lock(&f->lock);
        settle_slots(f);
        (void)pthread_mutex_unlock(&f->lock);
    }
    if (f->cons && pf_kafka_consumer_close_within(f->cons, ms_left(deadline, 200)) < 0) {
        pf_log(LOG_WARNING, "the jobs group was not left in time: leaving without it (the "
                            "broker redelivers what was not committed)");
        r = -ETIMEDOUT;
    }
    f->cons = NULL;
    (void)pf_kafka_consumer_close_within(f->att, 100); /* assigned, no group to leave */
    f->att = NULL;
    /* Purged first: destroying a producer with records in flight would wait for them. */
    if (f->prod)
        pf_kafka_producer_purge(f->prod);
    if (f->att_prod)
        pf_kafka_producer_purge(f->att_prod);
    f->prod = pf_kafka_producer_free(f->prod);
    f->att_prod = pf_kafka_producer_free(f->att_prod);
    return r;
}

int worker_fleet_run(const struct worker_fleet_options *o, char *errbuf, size_t errlen)
{
    struct fleet *f = NULL;
    pthread_t *threads = NULL;
    unsigned started = 0;
    int r;

    if (o->concurrency < 1 || o->concurrency > WORKER_FLEET_MAX_SLOTS || !o->brokers ||
        !o->worker_id || !o->stop)
        return pf_set_error(errbuf, errlen, -EINVAL, "invalid fleet worker options");
    /* On the heap: when a job thread does not stop in time, this returns and leaves it (and
     * everything it uses) behind for the process to exit. */
    f = pf_calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->o = o;
    f->wake_part = -1;
    (void)pthread_mutex_init(&f->lock, NULL);
    (void)pthread_cond_init(&f->cond, NULL);
    f->n_slots = o->concurrency;
    f->slots = pf_calloc(f->n_slots, sizeof(*f->slots));
    f->attempts = pf_calloc(FLEET_ATTEMPTS_MAX, sizeof(*f->attempts));
    threads = pf_calloc(f->n_slots, sizeof(*threads));
    r = f->slots && f->attempts && threads ? 0 : -ENOMEM;
    if (r == 0)
        r = worker_plan_cache_new(FLEET_PLAN_CACHE_MAX, &f->plans);
    for (unsigned i = 0; r == 0 && i < f->n_slots; i++) {
        struct slot *s = &f->slots[i];

        s->f = f;
        s->tag_attempt = (struct dr_tag){.slot = s, .attempt = true};
        s->msgs = pf_calloc(FLEET_BATCH_MAX, sizeof(*s->msgs));
        if (!s->msgs) {
            r = -ENOMEM;
            break;
        }
        for (size_t j = 0; j < FLEET_BATCH_MAX; j++)
            s->msgs[j].tag = (struct dr_tag){.slot = s, .idx = j};
    }
    r = r < 0 ? r : clients_open(f, errbuf, errlen);
    for (unsigned i = 0; r == 0 && i < f->n_slots; i++) {
        (void)pthread_mutex_lock(&f->lock);
        f->active++; /* counted before it runs, so the drain below cannot miss it */
        (void)pthread_mutex_unlock(&f->lock);
        if (pthread_create(&threads[i], NULL, pool_thread, f) != 0) {
            (void)pthread_mutex_lock(&f->lock);
            f->active--;
            (void)pthread_mutex_unlock(&f->lock);
            r = pf_set_error(errbuf, errlen, -EAGAIN, "cannot start job threads");
            break;
        }
        started++;
    }
    if (r == 0)
        poll_loop(f);
    /* Stop the pool: threads finish what they run (cancelled after an abort) and exit. */
    (void)pthread_mutex_lock(&f->lock);
    f->quit = true;
    f->stopping = true;
    (void)pthread_cond_broadcast(&f->cond);
    (void)pthread_mutex_unlock(&f->lock);
    if (f->stop_deadline == 0)
        f->stop_deadline = mono_ms() + o->grace_ms;
    /* A thread may wait for a delivery report: keep polling the producer until all exited, but
     * not past the deadline. */
    for (;;) {
        unsigned active;

        (void)pthread_mutex_lock(&f->lock);
        active = f->active;
        (void)pthread_mutex_unlock(&f->lock);
        if (active == 0 || !f->prod)
            break;
        if (mono_ms() >= f->stop_deadline) {
            /* A job that does not notice its cancellation: the process leaves it behind, with
             * everything it uses (nothing is freed), and its job is redelivered. */
            return pf_set_error(errbuf, errlen, -EBUSY,
                                "%u job threads did not stop by the end of the grace period",
                                active);
        }
        (void)pf_kafka_producer_poll(f->prod, 100);
    }
    for (unsigned i = 0; i < started; i++)
        (void)pthread_join(threads[i], NULL);
    if (clients_close(f, f->stop_deadline) < 0 && r == 0)
        r = pf_set_error(errbuf, errlen, -ETIMEDOUT,
                         "kafka could not be left cleanly before the end of the grace period "
                         "(unfinished jobs are redelivered)");
    if (r == 0 && atomic_load(&f->fatal))
        r = pf_set_error(errbuf, errlen, -EIO, "stopped after a fatal kafka error");
    for (unsigned i = 0; f->slots && i < f->n_slots; i++) {
        for (size_t j = 0; f->slots[i].msgs && j < FLEET_BATCH_MAX; j++)
            pf_free(f->slots[i].msgs[j].payload);
        pf_free(f->slots[i].msgs);
    }
    pf_free(f->slots);
    pf_free(f->attempts);
    pf_free(f->parts);
    pf_free(threads);
    worker_plan_cache_free(f->plans);
    (void)pthread_cond_destroy(&f->cond);
    (void)pthread_mutex_destroy(&f->lock);
    pf_free(f);
    return r;
}
