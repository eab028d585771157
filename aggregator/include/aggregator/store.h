/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis store of fleet results: what the aggregator daemon, `patchfleet patch --redis` and
 * `patchfleet summary` share. Writes go through one Lua script, so applying the same result
 * twice (Kafka redelivers) never counts a job twice, and a newer attempt of a job replaces the
 * older row while moving the counts. Every command reconnects with backoff when the connection
 * breaks: the writes are idempotent, so retrying one whose outcome is unknown is safe. The key
 * schema is documented in docs/fleet.md ("## Redis").
 */
#ifndef AGGREGATOR_STORE_H
#define AGGREGATOR_STORE_H

#include "pf/setup.h"
#include "pf/strv.h"

struct pf_msg_run;
struct pf_msg_result;
struct aggregator_store;

/* What aggregator_store_apply_result() did with a result. */
enum aggregator_apply {
    AGGREGATOR_APPLY_IGNORED = 0,  /* duplicate or older attempt: nothing changed */
    AGGREGATOR_APPLY_INSERTED = 1, /* first result of this job: counted */
    AGGREGATOR_APPLY_REPLACED = 2, /* newer attempt: row replaced, count moved */
};

/* A Redis URL, parsed: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]. */
struct aggregator_redis_url {
    char *host;     /* IPv6 literals without their brackets */
    int port;       /* 6379 unless given */
    int db;         /* 0 unless given */
    char *user;     /* NULL unless given (Redis 6 ACL user) */
    char *password; /* NULL unless given; never logged or put in an error message */
};

/* Parses `url`. Returns 0 and fills *ret (release with aggregator_redis_url_release()), or
 * -EINVAL with a reason in errbuf that never contains the password; *ret untouched then. */
int aggregator_redis_url_parse(const char *url, struct aggregator_redis_url *ret, char *errbuf,
                               size_t errlen);
void aggregator_redis_url_release(struct aggregator_redis_url *u);

/* Connects to `url`, authenticates, selects the DB and loads the script. Returns 0 and a new
 * store in *ret (close with aggregator_store_close()), -EINVAL for a bad URL, or a negative
 * errno (-ECONNREFUSED, -ETIMEDOUT, -EACCES for a refused AUTH, ...) with the reason in errbuf.
 * Open does not retry: a daemon that wants to wait for Redis loops around it. */
int aggregator_store_open(const char *url, struct aggregator_store **ret, char *errbuf,
                          size_t errlen);

/* How long one command keeps reconnecting (backoff 50 ms doubling to 2 s) before it gives up
 * with the last error. Default 30000 ms; 0 means one attempt, no reconnect. */
void aggregator_store_set_retry(struct aggregator_store *s, int64_t retry_ms);

/* Records (or re-records: idempotent) a run announced by the producer: meta hash, the runs
 * index, the "latest" pointer, and completion if all its results are already in. Returns 0 or a
 * negative errno (-EINVAL for a run without run_id, -EIO for a Redis error reply). */
int aggregator_store_record_run(struct aggregator_store *s, const struct pf_msg_run *run);

/* Applies one result. A job's row is replaced only by a result of a higher attempt, or of the
 * same attempt that finished later; anything else is a duplicate and ignored. Returns an
 * enum aggregator_apply (>= 0) or a negative errno as above. */
int aggregator_store_apply_result(struct aggregator_store *s, const struct pf_msg_result *res);

/*
 * Applies n results as one pipeline (one round trip instead of n), each exactly as
 * aggregator_store_apply_result() would, in order. Returns 0 with ret_outcomes[i] set for every
 * result: an enum aggregator_apply, or a negative errno for that result alone (-EINVAL when it
 * cannot be encoded, -EIO for a Redis error reply). A broken connection is reconnected and the
 * results not answered yet are replayed; past the retry budget it returns the negative errno
 * and leaves ret_outcomes untouched: some results may be applied, so apply them all again.
 */
int aggregator_store_apply_results(struct aggregator_store *s, const struct pf_msg_result *results,
                                   size_t n, int *ret_outcomes);

/* Closes the connection and frees `s`; accepts NULL; returns NULL. */
struct aggregator_store *aggregator_store_close(struct aggregator_store *s);

struct aggregator_count {
    char *status; /* "Patched", ..., or "finished" (distinct jobs with a result) */
    int64_t n;
};

/* A run as stored. Fields the store has not seen yet are NULL / -1 (results can arrive before
 * the run record). */
struct aggregator_run_info {
    char *run_id;
    char *config_digest;
    char *config_name;
    char *mode;
    int64_t created_ms;   /* -1 until the run is recorded */
    int64_t expected;     /* -1 until the run is recorded */
    int64_t completed_ms; /* -1 while incomplete */
    int64_t finished;     /* distinct jobs with a result */
    struct pf_strv warnings;
    struct aggregator_count *counts; /* sorted by status; "finished" not included */
    size_t n_counts;
};

void aggregator_run_info_release(struct aggregator_run_info *info);

/* The run id "latest" points at (the most recently created run). Returns 0 and a new string in
 * *ret, -ENOENT when no run is recorded, or a negative errno. */
int aggregator_store_latest(struct aggregator_store *s, char **ret);

/* Reads a run's meta and counts. Returns 0 and fills *ret, -ENOENT for an unknown run, or a
 * negative errno. */
int aggregator_store_read_run(struct aggregator_store *s, const char *run_id,
                              struct aggregator_run_info *ret);

/* Reads every job row of a run (unordered), decoded. Returns 0 and a new array in *ret (release
 * each with pf_msg_result_release(), then pf_free() the array) and its length in *ret_n, or a
 * negative errno; a stored row that does not decode is -EBADMSG. */
int aggregator_store_read_results(struct aggregator_store *s, const char *run_id,
                                  struct pf_msg_result **ret, size_t *ret_n);

#endif
