/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis store (aggregator/store.h) on hiredis 0.14. All writes run one Lua script with two
 * modes, "run" and "result", so the read-compare-write of a job row, the count moves and the
 * completion check are atomic on the server: no WATCH loop. A batch of results is pipelined
 * (every call appended, then the replies read in order): one round trip per batch. The
 * script is loaded with SCRIPT LOAD and called with EVALSHA; a NOSCRIPT reply (the server was
 * restarted or flushed its script cache) falls back to EVAL, which caches it again. A broken
 * connection is reconnected with capped exponential backoff inside each command, and the
 * command (or the calls of a batch not answered yet) replayed: every write is idempotent, so a
 * replay after an unknown outcome is safe.
 */
#include "pf/setup.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include "pf/json.h"

#include "aggregator/store.h"
#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/log.h"
#include "pf/msg.h"

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
    redisContext *c;
    struct aggregator_redis_url url;
    char sha[41];     /* SHA1 of store_script, from SCRIPT LOAD */
    int64_t retry_ms; /* reconnect budget per command */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- URL ---------------------------------------------------------------------------------- */

/* Parses a decimal in [min, max] from [s, s+n). */
static int parse_num(const char *s, size_t n, long min, long max, int *ret)
{
    char tmp[16], *end;
    long v;

    if (n == 0 || n >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (tmp[0] < '0' || tmp[0] > '9')
        return -EINVAL;
    errno = 0;
    v = strtol(tmp, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -EINVAL;
    *ret = (int)v;
    return 0;
}

/* Splits "[user]:password@" off `*p` into u. */
static int parse_userinfo(const char **p, struct aggregator_redis_url *u)
{
    const char *at = strrchr(*p, '@'), *colon;

    if (!at)
        return 0;
    colon = memchr(*p, ':', (size_t)(at - *p));
    if (colon) {
        if (colon > *p) {
            u->user = pf_strndup(*p, (size_t)(colon - *p));
            if (!u->user)
                return -ENOMEM;
        }
        u->password = pf_strndup(colon + 1, (size_t)(at - colon - 1));
    } else {
        /* "redis://secret@host": a lone userinfo is the password, as redis-cli reads it. */
        u->password = pf_strndup(*p, (size_t)(at - *p));
    }
    if (!u->password)
        return -ENOMEM;
    *p = at + 1;
    return 0;
}

int aggregator_redis_url_parse(const char *url, struct aggregator_redis_url *ret, char *errbuf,
                               size_t errlen)
{
    struct aggregator_redis_url u = {.port = 6379};
    const char *p, *host_end, *rest;
    int r;

    if (strncmp(url, "redis://", 8) != 0)
        return pf_set_error(errbuf, errlen, -EINVAL, "redis URL must start with redis://");
    p = url + 8;
    r = parse_userinfo(&p, &u);
    if (r < 0)
        goto fail;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end) {
            r = pf_set_error(errbuf, errlen, -EINVAL, "redis URL has an unclosed '['");
            goto fail;
        }
        u.host = pf_strndup(p + 1, (size_t)(host_end - p - 1));
        rest = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/");
        u.host = pf_strndup(p, (size_t)(host_end - p));
        rest = host_end;
    }
    if (!u.host) {
        r = -ENOMEM;
        goto fail;
    }
    if (u.host[0] == '\0') {
        r = pf_set_error(errbuf, errlen, -EINVAL, "redis URL has no host");
        goto fail;
    }
    if (*rest == ':') {
        size_t n = strcspn(rest + 1, "/");

        if (parse_num(rest + 1, n, 1, 65535, &u.port) < 0) {
            r = pf_set_error(errbuf, errlen, -EINVAL, "redis URL has a bad port");
            goto fail;
        }
        rest += 1 + n;
    }
    if (*rest == '/' && rest[1] != '\0' &&
        parse_num(rest + 1, strlen(rest + 1), 0, 1000000, &u.db) < 0) {
        r = pf_set_error(errbuf, errlen, -EINVAL, "redis URL has a bad database number");
        goto fail;
    }
    if (*rest != '\0' && *rest != '/') {
        r = pf_set_error(errbuf, errlen, -EINVAL, "redis URL has trailing characters");
        goto fail;
    }
    *ret = u;
    return 0;
fail:
    aggregator_redis_url_release(&u);
    return r;
}

void aggregator_redis_url_release(struct aggregator_redis_url *u)
{
    if (!u)
        return;
    pf_free(u->host);
    pf_free(u->user);
    if (u->password)
        memset(u->password, 0, strlen(u->password));
    pf_free(u->password);
    *u = (struct aggregator_redis_url){0};
}

/* --- connection ---------------------------------------------------------------------------- */

/* Maps a context error to -errno; the text goes to errbuf with the address, never the URL. */
static int context_error(const struct aggregator_store *s, char *errbuf, size_t errlen)
{
    int e = -EIO;

    if (!s->c)
        return pf_set_error(errbuf, errlen, -ENOMEM, "cannot allocate a redis context");
    if (s->c->err == REDIS_ERR_IO && errno > 0)
        e = -errno;
    else if (s->c->err == REDIS_ERR_EOF)
        e = -ECONNRESET;
    else if (s->c->err == REDIS_ERR_OOM)
        e = -ENOMEM;
    return pf_set_error(errbuf, errlen, e, "redis %s:%d: %s", s->url.host, s->url.port,
                        s->c->errstr);
}

/* Runs a command once; returns the reply, or NULL with the connection broken. */
static redisReply *command_once(struct aggregator_store *s, int argc, const char **argv,
                                const size_t *lens)
{
    if (!s->c || s->c->err)
        return NULL;
    return redisCommandArgv(s->c, argc, argv, lens);
}

/* Sends AUTH and SELECT on a fresh connection and loads the script. */
static int handshake(struct aggregator_store *s, char *errbuf, size_t errlen)
{
    redisReply *rep;
    char db[16];
    int r = 0;

    if (s->url.password) {
        const char *argv[3] = {"AUTH", s->url.user ? s->url.user : s->url.password,
                               s->url.password};
        int argc = s->url.user ? 3 : 2;

        rep = command_once(s, argc, argv, NULL);
        if (!rep)
            return context_error(s, errbuf, errlen);
        if (rep->type == REDIS_REPLY_ERROR)
            r = pf_set_error(errbuf, errlen, -EACCES, "redis %s:%d refused AUTH: %s",
                             s->url.host, s->url.port, rep->str);
        freeReplyObject(rep);
        if (r < 0)
            return r;
    }
    (void)snprintf(db, sizeof(db), "%d", s->url.db);
    rep = command_once(s, 2, (const char *[]){"SELECT", db}, NULL);
    if (!rep)
        return context_error(s, errbuf, errlen);
    if (rep->type == REDIS_REPLY_ERROR)
        r = pf_set_error(errbuf, errlen, -EINVAL, "redis SELECT %s: %s", db, rep->str);
    freeReplyObject(rep);
    if (r < 0)
        return r;
    rep = command_once(s, 3, (const char *[]){"SCRIPT", "LOAD", store_script}, NULL);
    if (!rep)
        return context_error(s, errbuf, errlen);
    if (rep->type == REDIS_REPLY_STRING && rep->len == 40)
        memcpy(s->sha, rep->str, 41);
    else
        r = pf_set_error(errbuf, errlen, -EIO, "redis SCRIPT LOAD: %s",
                         rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    freeReplyObject(rep);
    return r;
}

static int connect_now(struct aggregator_store *s, char *errbuf, size_t errlen)
{
    struct timeval tv = {.tv_sec = 5};

    if (s->c)
        redisFree(s->c);
    s->c = redisConnectWithTimeout(s->url.host, s->url.port, tv);
    if (!s->c || s->c->err)
        return context_error(s, errbuf, errlen);
    /* Commands get the same bound, so a hung server cannot stall the daemon forever. */
    (void)redisSetTimeout(s->c, tv);
    (void)redisEnableKeepAlive(s->c);
    return handshake(s, errbuf, errlen);
}

/*
 * Runs a command, reconnecting with backoff while the connection is broken, for at most
 * s->retry_ms. Returns a reply (an error reply included; the caller frees it) or NULL with
 * *ret_err set.
 */
static redisReply *command(struct aggregator_store *s, int argc, const char **argv,
                           const size_t *lens, int *ret_err)
{
    int64_t deadline = now_ms() + s->retry_ms, delay = 50;
    char err[256] = "";

    for (;;) {
        redisReply *rep = command_once(s, argc, argv, lens);
        struct timespec ts;
        int r;

        if (rep)
            return rep;
        r = context_error(s, err, sizeof(err));
        pf_log(LOG_DEBUG, "redis command %s failed: %s", argv[0], err);
        if (now_ms() + delay > deadline) {
            *ret_err = r;
            return NULL;
        }
        ts = (struct timespec){.tv_sec = delay / 1000, .tv_nsec = (delay % 1000) * 1000000};
        (void)nanosleep(&ts, NULL);
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
        r = connect_now(s, err, sizeof(err));
        if (r < 0)
            pf_log(LOG_DEBUG, "redis reconnect failed: %s", err);
        else
            pf_log(LOG_DEBUG, "redis reconnected to %s:%d", s->url.host, s->url.port);
    }
}

int aggregator_store_open(const char *url, struct aggregator_store **ret, char *errbuf,
                          size_t errlen)
{
    struct aggregator_store *s = pf_calloc(1, sizeof(*s));
    int r;

    if (!s)
        return -ENOMEM;
    s->retry_ms = 30000;
    r = aggregator_redis_url_parse(url, &s->url, errbuf, errlen);
    if (r < 0)
        goto fail;
    r = connect_now(s, errbuf, errlen);
    if (r < 0)
        goto fail;
    *ret = s;
    return 0;
fail:
    aggregator_store_close(s);
    return r;
}

void aggregator_store_set_retry(struct aggregator_store *s, int64_t retry_ms)
{
    s->retry_ms = retry_ms < 0 ? 0 : retry_ms;
}

struct aggregator_store *aggregator_store_close(struct aggregator_store *s)
{
    if (!s)
        return NULL;
    if (s->c)
        redisFree(s->c);
    aggregator_redis_url_release(&s->url);
    return pf_free(s);
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
 * One script call of a pipeline: its argv (argv[0] and argv[1] are set when it is sent, EVALSHA
 * or, after a NOSCRIPT reply, EVAL with the script), the buffers argv points into, and its
 * outcome once answered.
 */
struct script_op {
    const char *argv[3 + 6 + 12];
    int argc;
    struct run_keys keys;
    char now[24], attempt[24], finished[24];
    char *row;
    bool eval;     /* NOSCRIPT seen: send the script itself */
    bool inflight; /* appended in the current pass, reply not read yet */
    bool done;     /* outcome is final */
    int outcome;   /* the script's integer, or a negative errno for this op */
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
    op->argc = 3;
    op->argv[2] = "6";
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

/* Reads one reply into op: final unless it is NOSCRIPT, which marks op for EVAL. */
static void script_op_reply(struct script_op *op, const redisReply *rep)
{
    if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0 && !op->eval) {
        /* The server lost its script cache (restart, SCRIPT FLUSH): EVAL caches it again. */
        op->eval = true;
        return;
    }
    if (rep->type == REDIS_REPLY_INTEGER) {
        op->outcome = (int)rep->integer;
    } else {
        pf_log(LOG_DEBUG, "redis script failed: %s",
               rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        op->outcome = -EIO;
    }
    op->done = true;
}

/*
 * One pass over the connection: appends every unfinished op (hiredis buffers them), then reads
 * their replies in order, so n ops cost one round trip instead of n. Returns 0 when every op is
 * done, 1 when some got NOSCRIPT and must be sent again, or -1 when the connection broke (ops
 * without a reply stay unfinished).
 */
static int pipeline_pass(struct aggregator_store *s, struct script_op *ops, size_t n)
{
    bool again = false;

    if (!s->c || s->c->err)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct script_op *op = &ops[i];

        op->inflight = false;
        if (op->done)
            continue;
        op->argv[0] = op->eval ? "EVAL" : "EVALSHA";
        op->argv[1] = op->eval ? store_script : s->sha;
        if (redisAppendCommandArgv(s->c, op->argc, op->argv, NULL) != REDIS_OK)
            return -1;
        op->inflight = true;
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = NULL;

        if (!ops[i].inflight)
            continue;
        if (redisGetReply(s->c, (void **)&rep) != REDIS_OK || !rep)
            return -1;
        ops[i].inflight = false;
        script_op_reply(&ops[i], rep);
        freeReplyObject(rep);
        again = again || !ops[i].done;
    }
    return again ? 1 : 0;
}

/*
 * Runs ops as pipelines until each has an outcome, reconnecting with backoff as command() does
 * for at most s->retry_ms, and replaying the ops that had no reply yet (idempotent writes).
 * Returns 0, or a negative errno when the connection could not be restored.
 */
static int run_ops(struct aggregator_store *s, struct script_op *ops, size_t n)
{
    int64_t deadline = now_ms() + s->retry_ms, delay = 50;
    char err[256] = "";

    for (;;) {
        struct timespec ts;
        int r = pipeline_pass(s, ops, n);

        if (r >= 0) {
            if (r == 0)
                return 0;
            continue; /* the NOSCRIPT ones again, now with EVAL: cannot loop twice */
        }
        r = context_error(s, err, sizeof(err));
        pf_log(LOG_DEBUG, "redis pipeline of %zu scripts failed: %s", n, err);
        if (now_ms() + delay > deadline)
            return r;
        ts = (struct timespec){.tv_sec = delay / 1000, .tv_nsec = (delay % 1000) * 1000000};
        (void)nanosleep(&ts, NULL);
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
        r = connect_now(s, err, sizeof(err));
        if (r < 0)
            pf_log(LOG_DEBUG, "redis reconnect failed: %s", err);
        else
            pf_log(LOG_DEBUG, "redis reconnected to %s:%d", s->url.host, s->url.port);
    }
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
    redisReply *rep;
    char *id = NULL;
    int r = 0;

    rep = command(s, 2, (const char *[]){"GET", "pf:latest"}, NULL, &r);
    if (!rep)
        return r;
    if (rep->type == REDIS_REPLY_NIL)
        r = -ENOENT;
    else if (rep->type != REDIS_REPLY_STRING)
        r = -EIO;
    else
        id = pf_strndup(rep->str, rep->len);
    freeReplyObject(rep);
    if (r < 0)
        return r;
    if (!id)
        return -ENOMEM;
    *ret = id;
    return 0;
}

/* Parses a stored integer; -1 when absent or malformed. */
static int64_t stored_int(const redisReply *v)
{
    char *end;
    long long n;

    if (!v || v->type != REDIS_REPLY_STRING)
        return -1;
    errno = 0;
    n = strtoll(v->str, &end, 10);
    if (errno != 0 || end == v->str || *end != '\0')
        return -1;
    return n;
}

static int dup_field(const redisReply *v, char **ret)
{
    if (!v || v->type != REDIS_REPLY_STRING || v->len == 0)
        return 0;
    *ret = pf_strndup(v->str, v->len);
    return *ret ? 0 : -ENOMEM;
}

/* Reads the warnings JSON array back; anything else there is -EBADMSG. */
static int parse_warnings(const redisReply *v, struct pf_strv *w)
{
    json_t *arr, *e;
    size_t i;
    int r = 0;

    if (!v || v->type != REDIS_REPLY_STRING)
        return 0;
    arr = json_loadb(v->str, v->len, 0, NULL);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return -EBADMSG;
    }
    json_array_foreach(arr, i, e) {
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
    redisReply *rep;
    int r = 0;

    rep = command(s, 2, (const char *[]){"HGETALL", key}, NULL, &r);
    if (!rep)
        return r;
    if (rep->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(rep);
        return -EIO;
    }
    in->counts = rep->elements ? pf_calloc(rep->elements / 2, sizeof(*in->counts)) : NULL;
    if (rep->elements && !in->counts)
        r = -ENOMEM;
    for (size_t i = 0; r == 0 && i + 1 < rep->elements; i += 2) {
        int64_t n = stored_int(rep->element[i + 1]);

        if (strcmp(rep->element[i]->str, "finished") == 0) {
            in->finished = n;
            continue;
        }
        in->counts[in->n_counts].status = pf_strdup(rep->element[i]->str);
        if (!in->counts[in->n_counts].status)
            r = -ENOMEM;
        else
            in->counts[in->n_counts++].n = n;
    }
    freeReplyObject(rep);
    if (r == 0 && in->n_counts)
        qsort(in->counts, in->n_counts, sizeof(*in->counts), cmp_counts);
    return r;
}

static int read_meta(struct aggregator_store *s, const char *key, struct aggregator_run_info *in)
{
    static const char *const fields[] = {"config_digest", "config_name", "mode", "created_ms",
                                         "expected", "completed_ms", "warnings"};
    const char *argv[2 + PF_ARRAY_SIZE(fields)] = {"HMGET", key};
    redisReply *rep, **e;
    int r = 0;

    for (size_t i = 0; i < PF_ARRAY_SIZE(fields); i++)
        argv[2 + i] = fields[i];
    rep = command(s, (int)PF_ARRAY_SIZE(argv), argv, NULL, &r);
    if (!rep)
        return r;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != PF_ARRAY_SIZE(fields)) {
        freeReplyObject(rep);
        return -EIO;
    }
    e = rep->element;
    r = dup_field(e[0], &in->config_digest);
    r = r < 0 ? r : dup_field(e[1], &in->config_name);
    r = r < 0 ? r : dup_field(e[2], &in->mode);
    in->created_ms = stored_int(e[3]);
    in->expected = stored_int(e[4]);
    in->completed_ms = stored_int(e[5]);
    r = r < 0 ? r : parse_warnings(e[6], &in->warnings);
    freeReplyObject(rep);
    return r;
}

int aggregator_store_read_run(struct aggregator_store *s, const char *run_id,
                              struct aggregator_run_info *ret)
{
    struct aggregator_run_info in = {.created_ms = -1, .expected = -1, .completed_ms = -1};
    struct run_keys keys = {{0}};
    redisReply *rep;
    int r = run_keys_init(&keys, run_id);

    if (r < 0)
        return r;
    rep = command(s, 2, (const char *[]){"EXISTS", keys.k[0]}, NULL, &r);
    if (!rep)
        goto out;
    r = rep->type != REDIS_REPLY_INTEGER ? -EIO : rep->integer == 0 ? -ENOENT : 0;
    freeReplyObject(rep);
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
    redisReply *rep = NULL;
    char *key = pf_asprintf("pf:run:{%s}:jobs", run_id);
    int r = 0;

    if (!key)
        return -ENOMEM;
    rep = command(s, 2, (const char *[]){"HVALS", key}, NULL, &r);
    if (!rep)
        goto out;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements > STORE_MAX_ROWS) {
        r = rep->type != REDIS_REPLY_ARRAY ? -EIO : -E2BIG;
        goto out;
    }
    v = rep->elements ? pf_calloc(rep->elements, sizeof(*v)) : NULL;
    if (rep->elements && !v) {
        r = -ENOMEM;
        goto out;
    }
    for (; n < rep->elements; n++) {
        const redisReply *e = rep->element[n];

        if (e->type != REDIS_REPLY_STRING) {
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
    if (rep)
        freeReplyObject(rep);
    pf_free(key);
    return r;
}
