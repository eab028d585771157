/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis store (aggregator/store.h) on the common Redis client (pf/redis.h), which owns the
 * connection, the AUTH/SELECT handshake, the reconnect with backoff and the EVALSHA/EVAL
 * fallback; this file owns the key schema and the one Lua script. All writes run that script
 * with two modes, "run" and "result", so the read-compare-write of a job row, the count moves
 * and the completion check are atomic on the server: no WATCH loop. A batch of results is one
 * pf_redis_pipeline() (every call appended, then the replies read in order): one round trip per
 * batch. A broken connection is reconnected inside each call and the calls not answered yet
 * replayed: every write is idempotent, so a replay after an unknown outcome is safe. The JSON
 * shape of a run (aggregator_run_json()) lives here too, beside the struct it renders, so the
 * API and `patchfleet summary` write one shape.
 */
#include "pf/setup.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/store.h"
#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/json.h"
#include "pf/log.h"
#include "pf/msg.h"
#include "pf/redis.h"

#define STORE_MAX_ROWS 1000000 /* a run larger than this is refused on read */

/*
 * KEYS: 1 meta, 2 jobs, 3 counts, 4 events, 5 runs index, 6 latest pointer.
 * ARGV: 1 mode, 2 run id, 3 now (Unix ms), then per mode:
 *   run:    4 created_ms, 5 expected, 6 config_digest, 7 config_name, 8 mode, 9 warnings JSON
 *   result: 4 job id, 5 status, 6 attempt, 7 finished_ms, 8 the result JSON (the row)
 * Returns 0 ignored, 1 inserted / recorded, 2 replaced.
 */
static const char store_script[] =
    "local meta, jobs, counts, events, runs, latest = KEYS[1], KEYS[2], KEYS[3], KEYS[4], "
    "KEYS[5], KEYS[6]\n"
    "local run, now = ARGV[2], ARGV[3]\n"
    "local ret = 0\n"
    "if ARGV[1] == 'run' then\n"
    "  redis.call('HSET', meta, 'run_id', run, 'created_ms', ARGV[4], 'expected', ARGV[5],\n"
    "    'config_digest', ARGV[6], 'config_name', ARGV[7], 'mode', ARGV[8], 'warnings', ARGV[9])\n"
    "  redis.call('HSETNX', meta, 'recorded_ms', now)\n"
    "  redis.call('ZADD', runs, ARGV[4], run)\n"
    "  local cur = redis.call('GET', latest)\n"
    "  local score = cur and redis.call('ZSCORE', runs, cur)\n"
    "  if not score or tonumber(score) <= tonumber(ARGV[4]) then redis.call('SET', latest, run) "
    "end\n"
    "  ret = 1\n"
    "else\n"
    "  local job, status, attempt, fin = ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "  local old = redis.call('HGET', jobs, job)\n"
    "  if not old then\n"
    "    redis.call('HSET', jobs, job, ARGV[8])\n"
    "    redis.call('HINCRBY', counts, status, 1)\n"
    "    redis.call('HINCRBY', counts, 'finished', 1)\n"
    "    redis.call('ZADD', runs, 'NX', now, run)\n"
    "    redis.call('HSETNX', meta, 'run_id', run)\n"
    "    ret = 1\n"
    "  else\n"
    "    local o = cjson.decode(old)\n"
    "    local oa, of = tonumber(o.attempt) or 1, tonumber(o.finished_ms) or 0\n"
    "    if attempt > oa or (attempt == oa and fin > of) then\n"
    "      if redis.call('HINCRBY', counts, o.status, -1) <= 0 then redis.call('HDEL', counts, "
    "o.status) end\n"
    "      redis.call('HINCRBY', counts, status, 1)\n"
    "      redis.call('HSET', jobs, job, ARGV[8])\n"
    "      ret = 2\n"
    "    end\n"
    "  end\n"
    "  if ret > 0 then\n"
    "    redis.call('HSET', meta, 'updated_ms', now)\n"
    "    redis.call('XADD', events, 'MAXLEN', '~', 10000, '*', 'type', 'result', 'job', job,\n"
    "      'status', status, 'attempt', ARGV[6])\n"
    "  end\n"
    "end\n"
    "local expected = tonumber(redis.call('HGET', meta, 'expected'))\n"
    "local finished = tonumber(redis.call('HGET', counts, 'finished') or '0')\n"
    "if expected and finished >= expected then\n"
    "  if redis.call('HSETNX', meta, 'completed_ms', now) == 1 then\n"
    "    redis.call('XADD', events, 'MAXLEN', '~', 10000, '*', 'type', 'completed')\n"
    "    redis.call('PUBLISH', 'pf:completed', run)\n"
    "  end\n"
    "end\n"
    "return ret\n";

struct aggregator_store {
    struct pf_redis *r;
    int script; /* store_script's id on r */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- connection ---------------------------------------------------------------------------- */

int aggregator_store_open(const char *url, const struct pf_redis_options *opts,
                          struct aggregator_store **ret, char *errbuf, size_t errlen)
{
    struct aggregator_store *s = pf_calloc(1, sizeof(*s));
    int r;

    if (!s)
        return -ENOMEM;
    r = pf_redis_connect(url, opts, &s->r, errbuf, errlen);
    if (r < 0)
        goto fail;
    r = pf_redis_script_add(s->r, store_script, errbuf, errlen);
    if (r < 0)
        goto fail;
    s->script = r;
    *ret = s;
    return 0;
fail:
    aggregator_store_close(s);
    return r;
}

struct aggregator_store *aggregator_store_close(struct aggregator_store *s)
{
    if (!s)
        return NULL;
    pf_redis_free(s->r);
    return pf_free(s);
}

/* Runs one read command; the reason of a connection error is logged by pf_redis at DEBUG. */
static int command(struct aggregator_store *s, int argc, const char *const *argv,
                   struct pf_redis_reply **ret)
{
    return pf_redis_command(s->r, argc, argv, NULL, ret, NULL, 0);
}

/* --- writes -------------------------------------------------------------------------------- */

/* The six keys of one run; the {R} hash tag keeps the per-run keys in one cluster slot. */
struct run_keys {
    char *k[6];
};

static void run_keys_release(struct run_keys *k)
{
    for (size_t i = 0; i < 4; i++)
        k->k[i] = pf_free(k->k[i]);
}

static int run_keys_init(struct run_keys *k, const char *run_id)
{
    static const char *const parts[4] = {"meta", "jobs", "counts", "events"};

    for (size_t i = 0; i < 4; i++) {
        k->k[i] = pf_asprintf("pf:run:{%s}:%s", run_id, parts[i]);
        if (!k->k[i]) {
            run_keys_release(k);
            return -ENOMEM;
        }
    }
    k->k[4] = (char *)(uintptr_t) "pf:runs";
    k->k[5] = (char *)(uintptr_t) "pf:latest";
    return 0;
}

/*
 * One script call of a pipeline: its argv after the script (numkeys, the six keys, up to 12
 * ARGV), the buffers argv points into, and its outcome once answered.
 */
struct script_op {
    const char *argv[1 + 6 + 12];
    int argc;
    struct run_keys keys;
    char now[24], attempt[24], finished[24];
    char *row;
    bool done;   /* not to be sent: the outcome is already known */
    int outcome; /* the script's integer, or a negative errno for this op */
};

static void script_op_release(struct script_op *op)
{
    run_keys_release(&op->keys);
    op->row = pf_free(op->row);
}

/* Fills the key part of op's argv; the caller appends up to 12 ARGV after it. */
static int script_op_init(struct script_op *op, const char *run_id)
{
    int r = run_keys_init(&op->keys, run_id);

    if (r < 0)
        return r;
    op->argc = 0;
    op->argv[op->argc++] = "6";
    for (size_t i = 0; i < 6; i++)
        op->argv[op->argc++] = op->keys.k[i];
    return 0;
}

static void script_op_args(struct script_op *op, const char **args, size_t nargs)
{
    assert(nargs <= 12);
    for (size_t i = 0; i < nargs; i++)
        op->argv[op->argc++] = args[i];
}

/* Reads one script reply into op. */
static void script_op_reply(struct script_op *op, const struct pf_redis_reply *rep)
{
    if (rep->type == PF_REDIS_REPLY_INTEGER) {
        op->outcome = (int)rep->integer;
    } else {
        pf_log(LOG_DEBUG, "redis script failed: %s",
               rep->type == PF_REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        op->outcome = -EIO;
    }
    op->done = true;
}

/*
 * Sends the ops not done yet as one pipeline (pf_redis reconnects within its retry budget and
 * replays the calls without a reply) and reads each outcome into its op. Returns 0, or a
 * negative errno when the connection could not be restored (outcomes untouched then).
 */
static int run_ops(struct aggregator_store *s, struct script_op *ops, size_t n)
{
    struct pf_redis_call *calls = pf_calloc(n, sizeof(*calls));
    struct pf_redis_reply **replies = pf_calloc(n, sizeof(*replies));
    size_t *which = pf_calloc(n, sizeof(*which)), m = 0;
    int r = calls && replies && which ? 0 : -ENOMEM;

    for (size_t i = 0; r == 0 && i < n; i++) {
        if (ops[i].done)
            continue;
        calls[m] = (struct pf_redis_call){.script = s->script,
                                          .argc = ops[i].argc,
                                          .argv = ops[i].argv};
        which[m++] = i;
    }
    if (r == 0 && m > 0)
        r = pf_redis_pipeline(s->r, calls, m, replies, NULL, 0);
    for (size_t j = 0; r == 0 && j < m; j++) {
        script_op_reply(&ops[which[j]], replies[j]);
        replies[j] = pf_redis_reply_free(replies[j]);
    }
    pf_free(calls);
    pf_free(replies);
    pf_free(which);
    return r;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return pf_buf_append(data, buffer, size) < 0 ? -1 : 0;
}

/* Encodes the warnings as a JSON array of strings, for the meta hash; NULL on OOM or when a
 * warning is not UTF-8. */
static char *warnings_json(const struct pf_strv *w)
{
    struct pf_buf b = PF_BUF_INIT;
    json_t *arr = json_array();
    int r = arr ? 0 : -1;

    for (size_t i = 0; r == 0 && i < w->n; i++)
        r = json_array_append_new(arr, json_string(w->v[i]));
    if (r == 0)
        r = json_dump_callback(arr, dump_cb, &b, JSON_COMPACT);
    json_decref(arr);
    if (r < 0) {
        pf_buf_release(&b);
        return NULL;
    }
    return pf_buf_steal(&b, NULL);
}

int aggregator_store_record_run(struct aggregator_store *s, const struct pf_msg_run *run)
{
    struct script_op op = {0};
    char created[24], expected[24];
    char *warn;
    int r;

    if (!run->run_id || !run->run_id[0])
        return -EINVAL;
    warn = warnings_json(&run->warnings);
    if (!warn)
        return -ENOMEM;
    r = script_op_init(&op, run->run_id);
    if (r < 0)
        goto out;
    (void)snprintf(op.now, sizeof(op.now), "%" PRId64, now_ms());
    (void)snprintf(created, sizeof(created), "%" PRId64,
                   run->created_ms > 0 ? run->created_ms : now_ms());
    (void)snprintf(expected, sizeof(expected), "%zu", run->expected);
    script_op_args(&op,
                   (const char *[]){"run", run->run_id, op.now, created, expected,
                                    run->config_digest ? run->config_digest : "",
                                    run->config_name ? run->config_name : "",
                                    run->mode ? run->mode : "", warn},
                   9);
    r = run_ops(s, &op, 1);
    if (r == 0)
        r = op.outcome < 0 ? op.outcome : 0;
out:
    script_op_release(&op);
    pf_free(warn);
    return r;
}

/* Prepares the script call of one result; an error is the op's outcome, not sent. */
static void result_op_init(struct script_op *op, const struct pf_msg_result *res)
{
    size_t len;
    int r;

    /* The stored row is the canonical encoding, so every reader sees one schema. */
    r = pf_msg_result_encode(res, &op->row, &len);
    if (r == 0)
        r = script_op_init(op, res->run_id);
    if (r < 0) {
        op->outcome = r;
        op->done = true;
        return;
    }
    (void)snprintf(op->now, sizeof(op->now), "%" PRId64, now_ms());
    (void)snprintf(op->attempt, sizeof(op->attempt), "%u", res->attempt ? res->attempt : 1);
    (void)snprintf(op->finished, sizeof(op->finished), "%" PRId64, res->finished_ms);
    script_op_args(op,
                   (const char *[]){"result", res->run_id, op->now, res->job_id, res->status,
                                    op->attempt, op->finished, op->row},
                   8);
}

int aggregator_store_apply_results(struct aggregator_store *s, const struct pf_msg_result *results,
                                   size_t n, int *ret_outcomes)
{
    struct script_op *ops;
    int r;

    if (n == 0)
        return 0;
    ops = pf_calloc(n, sizeof(*ops));
    if (!ops)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        result_op_init(&ops[i], &results[i]);
    r = run_ops(s, ops, n);
    for (size_t i = 0; i < n; i++) {
        if (r == 0)
            ret_outcomes[i] = ops[i].outcome;
        script_op_release(&ops[i]);
    }
    pf_free(ops);
    return r;
}

int aggregator_store_apply_result(struct aggregator_store *s, const struct pf_msg_result *res)
{
    int outcome = 0;
    int r = aggregator_store_apply_results(s, res, 1, &outcome);

    return r < 0 ? r : outcome;
}

/* --- reads --------------------------------------------------------------------------------- */

int aggregator_store_latest(struct aggregator_store *s, char **ret)
{
    struct pf_redis_reply *rep;
    char *id = NULL;
    int r = 0;

    r = command(s, 2, (const char *[]){"GET", "pf:latest"}, &rep);
    if (r < 0)
        return r;
    if (rep->type == PF_REDIS_REPLY_NIL)
        r = -ENOENT;
    else if (rep->type != PF_REDIS_REPLY_STRING)
        r = -EIO;
    else
        id = pf_strndup(rep->str, rep->len);
    pf_redis_reply_free(rep);
    if (r < 0)
        return r;
    if (!id)
        return -ENOMEM;
    *ret = id;
    return 0;
}

/* Parses a stored integer; -1 when absent or malformed. */
static int64_t stored_int(const struct pf_redis_reply *v)
{
    char *end;
    long long n;

    if (!v || v->type != PF_REDIS_REPLY_STRING)
        return -1;
    errno = 0;
    n = strtoll(v->str, &end, 10);
    if (errno != 0 || end == v->str || *end != '\0')
        return -1;
    return n;
}

static int dup_field(const struct pf_redis_reply *v, char **ret)
{
    if (!v || v->type != PF_REDIS_REPLY_STRING || v->len == 0)
        return 0;
    *ret = pf_strndup(v->str, v->len);
    return *ret ? 0 : -ENOMEM;
}

/* Reads the warnings JSON array back; anything else there is -EBADMSG. */
static int parse_warnings(const struct pf_redis_reply *v, struct pf_strv *w)
{
    json_t *arr, *e;
    size_t i;
    int r = 0;

    if (!v || v->type != PF_REDIS_REPLY_STRING)
        return 0;
    arr = json_loadb(v->str, v->len, 0, NULL);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return -EBADMSG;
    }
    json_array_foreach(arr, i, e)
    {
        if (r == 0)
            r = json_is_string(e) ? pf_strv_push(w, json_string_value(e)) : -EBADMSG;
    }
    json_decref(arr);
    return r;
}

static int cmp_counts(const void *a, const void *b)
{
    return strcmp(((const struct aggregator_count *)a)->status,
                  ((const struct aggregator_count *)b)->status);
}

static int read_counts(struct aggregator_store *s, const char *key, struct aggregator_run_info *in)
{
    struct pf_redis_reply *rep;
    int r = 0;

    r = command(s, 2, (const char *[]){"HGETALL", key}, &rep);
    if (r < 0)
        return r;
    if (rep->type != PF_REDIS_REPLY_ARRAY) {
        pf_redis_reply_free(rep);
        return -EIO;
    }
    in->counts = rep->elements ? pf_calloc(rep->elements / 2, sizeof(*in->counts)) : NULL;
    if (rep->elements && !in->counts)
        r = -ENOMEM;
    for (size_t i = 0; r == 0 && i + 1 < rep->elements; i += 2) {
        int64_t n = stored_int(&rep->element[i + 1]);

        if (strcmp(rep->element[i].str, "finished") == 0) {
            in->finished = n;
            continue;
        }
        in->counts[in->n_counts].status = pf_strdup(rep->element[i].str);
        if (!in->counts[in->n_counts].status)
            r = -ENOMEM;
        else
            in->counts[in->n_counts++].n = n;
    }
    pf_redis_reply_free(rep);
    if (r == 0 && in->counts && in->n_counts > 1)
        qsort(in->counts, in->n_counts, sizeof(*in->counts), cmp_counts);
    return r;
}

static int read_meta(struct aggregator_store *s, const char *key, struct aggregator_run_info *in)
{
    static const char *const fields[] = {"config_digest", "config_name",  "mode",    "created_ms",
                                         "expected",      "completed_ms", "warnings"};
    const char *argv[2 + PF_ARRAY_SIZE(fields)] = {"HMGET", key};
    struct pf_redis_reply *rep = NULL, *e;
    int r = 0;

    for (size_t i = 0; i < PF_ARRAY_SIZE(fields); i++)
        argv[2 + i] = fields[i];
    r = command(s, (int)PF_ARRAY_SIZE(argv), argv, &rep);
    if (r < 0)
        return r;
    if (rep->type != PF_REDIS_REPLY_ARRAY || rep->elements != PF_ARRAY_SIZE(fields)) {
        pf_redis_reply_free(rep);
        return -EIO;
    }
    e = rep->element;
    r = dup_field(&e[0], &in->config_digest);
    r = r < 0 ? r : dup_field(&e[1], &in->config_name);
    r = r < 0 ? r : dup_field(&e[2], &in->mode);
    in->created_ms = stored_int(&e[3]);
    in->expected = stored_int(&e[4]);
    in->completed_ms = stored_int(&e[5]);
    r = r < 0 ? r : parse_warnings(&e[6], &in->warnings);
    pf_redis_reply_free(rep);
    return r;
}

int aggregator_store_read_run(struct aggregator_store *s, const char *run_id,
                              struct aggregator_run_info *ret)
{
    struct aggregator_run_info in = {.created_ms = -1, .expected = -1, .completed_ms = -1};
    struct run_keys keys = {{0}};
    struct pf_redis_reply *rep;
    int r = run_keys_init(&keys, run_id);

    if (r < 0)
        return r;
    r = command(s, 2, (const char *[]){"EXISTS", keys.k[0]}, &rep);
    if (r < 0)
        goto out;
    r = rep->type != PF_REDIS_REPLY_INTEGER ? -EIO : rep->integer == 0 ? -ENOENT : 0;
    pf_redis_reply_free(rep);
    if (r < 0)
        goto out;
    in.run_id = pf_strdup(run_id);
    r = in.run_id ? 0 : -ENOMEM;
    r = r < 0 ? r : read_meta(s, keys.k[0], &in);
    r = r < 0 ? r : read_counts(s, keys.k[2], &in);
    if (r == 0) {
        *ret = in;
        in = (struct aggregator_run_info){0};
    }
out:
    aggregator_run_info_release(&in);
    run_keys_release(&keys);
    return r;
}

void aggregator_run_info_release(struct aggregator_run_info *info)
{
    if (!info)
        return;
    pf_free(info->run_id);
    pf_free(info->config_digest);
    pf_free(info->config_name);
    pf_free(info->mode);
    pf_strv_clear(&info->warnings);
    for (size_t i = 0; i < info->n_counts; i++)
        pf_free(info->counts[i].status);
    pf_free(info->counts);
    *info = (struct aggregator_run_info){0};
}

static void results_free(struct pf_msg_result *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pf_msg_result_release(&v[i]);
    pf_free(v);
}

int aggregator_store_read_results(struct aggregator_store *s, const char *run_id,
                                  struct pf_msg_result **ret, size_t *ret_n)
{
    struct pf_msg_result *v = NULL;
    size_t n = 0;
    struct pf_redis_reply *rep = NULL;
    char *key = pf_asprintf("pf:run:{%s}:jobs", run_id);
    int r = 0;

    if (!key)
        return -ENOMEM;
    r = command(s, 2, (const char *[]){"HVALS", key}, &rep);
    if (r < 0)
        goto out;
    if (rep->type != PF_REDIS_REPLY_ARRAY || rep->elements > STORE_MAX_ROWS) {
        r = rep->type != PF_REDIS_REPLY_ARRAY ? -EIO : -E2BIG;
        goto out;
    }
    v = rep->elements ? pf_calloc(rep->elements, sizeof(*v)) : NULL;
    if (rep->elements && !v) {
        r = -ENOMEM;
        goto out;
    }
    for (; n < rep->elements; n++) {
        const struct pf_redis_reply *e = &rep->element[n];

        if (e->type != PF_REDIS_REPLY_STRING) {
            r = -EBADMSG;
            goto out;
        }
        r = pf_msg_result_decode(e->str, e->len, &v[n], NULL, 0);
        if (r < 0) {
            r = r == -ENOMEM ? r : -EBADMSG;
            goto out;
        }
    }
    *ret = v;
    *ret_n = n;
    v = NULL;
    n = 0;
out:
    results_free(v, n);
    pf_redis_reply_free(rep);
    pf_free(key);
    return r;
}

int aggregator_store_list_runs(struct aggregator_store *s, size_t max, struct pf_strv *ret)
{
    struct pf_strv ids = {0};
    struct pf_redis_reply *rep = NULL;
    char stop[24];
    int r;

    if (max == 0) {
        *ret = ids;
        return 0;
    }
    (void)snprintf(stop, sizeof(stop), "%zu", max - 1);
    r = command(s, 4, (const char *[]){"ZREVRANGE", "pf:runs", "0", stop}, &rep);
    if (r < 0)
        return r;
    if (rep->type != PF_REDIS_REPLY_ARRAY)
        r = -EIO;
    for (size_t i = 0; r == 0 && i < rep->elements; i++)
        r = rep->element[i].type == PF_REDIS_REPLY_STRING ? pf_strv_push(&ids, rep->element[i].str)
                                                          : -EIO;
    pf_redis_reply_free(rep);
    if (r < 0) {
        pf_strv_clear(&ids);
        return r;
    }
    *ret = ids;
    return 0;
}

int aggregator_store_ping(struct aggregator_store *s)
{
    struct pf_redis_reply *rep = NULL;
    int r = command(s, 1, (const char *[]){"PING"}, &rep);

    if (r < 0)
        return r;
    r = rep->type == PF_REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0 ? 0 : -EIO;
    pf_redis_reply_free(rep);
    return r;
}

/* --- the run's JSON shape ------------------------------------------------------------------- */

const char *aggregator_run_state(const struct aggregator_run_info *in)
{
    if (in->completed_ms >= 0)
        return "complete";
    return in->expected < 0 ? "pending" : "running";
}

/* An int64 that the store reports as -1 when unknown: JSON null then. */
static json_t *opt_int(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *aggregator_run_json(const struct aggregator_run_info *in)
{
    json_t *o = json_object(), *counts = json_object(), *w = json_array();
    int r = o && counts && w ? 0 : -1;

    for (size_t i = 0; r == 0 && i < in->n_counts; i++)
        r = json_object_set_new(counts, in->counts[i].status, json_integer(in->counts[i].n));
    /* Warnings were stored as JSON, so they are valid UTF-8; one that is not is left out. */
    for (size_t i = 0; r == 0 && i < in->warnings.n; i++)
        (void)json_array_append_new(w, json_string(in->warnings.v[i]));
    r = r < 0 ? r : json_object_set_new(o, "schema", json_integer(AGGREGATOR_RUN_SCHEMA));
    r = r < 0 ? r : json_object_set_new(o, "run_id", json_string(in->run_id));
    r = r < 0 ? r : json_object_set_new(o, "state", json_string(aggregator_run_state(in)));
    r = r < 0 ? r : json_object_set_new(o, "config_name", opt_str(in->config_name));
    r = r < 0 ? r : json_object_set_new(o, "config_digest", opt_str(in->config_digest));
    r = r < 0 ? r : json_object_set_new(o, "mode", opt_str(in->mode));
    r = r < 0 ? r : json_object_set_new(o, "created_ms", opt_int(in->created_ms));
    r = r < 0 ? r : json_object_set_new(o, "completed_ms", opt_int(in->completed_ms));
    r = r < 0 ? r : json_object_set_new(o, "expected", opt_int(in->expected));
    r = r < 0 ? r : json_object_set_new(o, "finished", json_integer(in->finished));
    r = r < 0 ? r : json_object_set(o, "counts", counts);
    r = r < 0 ? r : json_object_set(o, "warnings", w);
    json_decref(counts);
    json_decref(w);
    if (r < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
