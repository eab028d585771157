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

struct json_t;
struct pf_msg_run;
struct pf_msg_result;
struct pf_redis_options;
struct aggregator_store;

/* What aggregator_store_apply_result() did with a result. */
enum aggregator_apply {
    AGGREGATOR_APPLY_IGNORED = 0,  /* duplicate or older attempt: nothing changed */
    AGGREGATOR_APPLY_INSERTED = 1, /* first result of this job: counted */
    AGGREGATOR_APPLY_REPLACED = 2, /* newer attempt: row replaced, count moved */
};

/*
 * Connects to `url` (redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], pf/redis_url.h) with `opts`
 * (NULL: 5 s timeouts, 30 s reconnect budget per command; see pf/redis.h), authenticates,
 * selects the DB and loads the script. Returns 0 and a new store in *ret (close with
 * aggregator_store_close()), -EINVAL for a bad URL, or a negative errno (-ECONNREFUSED,
 * -ETIMEDOUT, -EACCES for a refused AUTH, ...) with the reason in errbuf. Open does not retry:
 * a daemon that wants to wait for Redis loops around it.
 */
int aggregator_store_open(const char *url, const struct pf_redis_options *opts,
                          struct aggregator_store **ret, char *errbuf, size_t errlen);

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

/* The ids of the `max` most recent runs (the runs index, by created_ms), newest first. Returns 0
 * and fills *ret (clear with pf_strv_clear()), or a negative errno. */
int aggregator_store_list_runs(struct aggregator_store *s, size_t max, struct pf_strv *ret);

/* Returns 0 when Redis answers PING with PONG, -EIO for another answer, or the negative errno of
 * the connection. */
int aggregator_store_ping(struct aggregator_store *s);

/*
 * The one JSON shape of a run, written by the HTTP API (/api/runs, /api/runs/{id}) and by
 * `patchfleet summary --format json` alike (documented in docs/dashboard.md, "RUN"):
 * {"schema": 1, "run_id", "state", "config_name", "config_digest", "mode", "created_ms",
 * "completed_ms", "expected", "finished", "counts": {status: n}, "warnings": [...]}, unknown
 * values null. `schema` changes only when a key is removed or changes meaning; keys may be added
 * within one schema. Returns a new reference, or NULL on OOM.
 */
#define AGGREGATOR_RUN_SCHEMA 1
struct json_t *aggregator_run_json(const struct aggregator_run_info *in);

/* "complete" once completed_ms is set, "pending" while the run record has not arrived (expected
 * unknown), else "running". A borrowed static string. */
const char *aggregator_run_state(const struct aggregator_run_info *in);

#endif
