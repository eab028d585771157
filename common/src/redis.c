/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis client (pf/redis.h) on hiredis 0.14, the only file that includes hiredis. Every
 * call goes through one loop, pipeline_run(): append the unanswered commands, read their replies
 * in order, and on a broken connection reconnect with capped exponential backoff (50 ms doubling
 * to 2 s) until the caller's budget runs out, then send the unanswered ones again. A single
 * command is a pipeline of one, so both share the reconnect policy. Replies are handed out
 * without copying their strings: one allocation holds our reply nodes, which point into the
 * hiredis reply it keeps alive until pf_redis_reply_free().
 */
#include "pf/setup.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "pf/alloc.h"
#include "pf/err.h"
#include "pf/log.h"
#include "pf/redis.h"
#include "pf/redis_url.h"

#define REDIS_MAX_SCRIPTS 16
#define REDIS_DEFAULT_TIMEOUT_MS 5000
#define REDIS_DEFAULT_RETRY_MS 30000

struct redis_script {
    char *text;
    char sha[41]; /* from SCRIPT LOAD */
};

struct pf_redis {
    redisContext *c; /* NULL after a failed connect */
    struct pf_redis_url url;
    int64_t timeout_ms;
    int64_t retry_ms;
    const volatile sig_atomic_t *stop; /* the caller's stop flag: no retry once set */
    struct redis_script scripts[REDIS_MAX_SCRIPTS];
    size_t n_scripts;
};

/* A reply as handed out: our nodes (node[0] is the top one) over the hiredis reply they point
 * into. */
struct reply_holder {
    redisReply *raw;
    struct pf_redis_reply node[];
};

/* Per-call state of a pipeline. */
struct call_state {
    redisReply *rep;            /* the final reply, once read */
    struct pf_redis_reply *out; /* rep wrapped, once every call has its reply */
    bool eval;                  /* NOSCRIPT seen: send the script itself */
    bool inflight;              /* appended in the current pass, reply not read yet */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- replies ------------------------------------------------------------------------------- */

static size_t reply_count(const redisReply *v)
{
    size_t n = 1;

    if (v->type == REDIS_REPLY_ARRAY || v->element)
        for (size_t i = 0; i < v->elements; i++)
            n += reply_count(v->element[i]);
    return n;
}

/* Fills `dst` from `src`; the children of an array take the next free nodes at *next, side by
 * side, so element[] is a plain array. Types newer than RESP2 (hiredis 1.x with RESP3) map to
 * the nearest RESP2 one. */
static void reply_fill(struct pf_redis_reply *dst, const redisReply *src,
                       struct pf_redis_reply **next)
{
    *dst = (struct pf_redis_reply){.integer = src->integer};
    switch (src->type) {
    case REDIS_REPLY_STRING:
        dst->type = PF_REDIS_REPLY_STRING;
        break;
    case REDIS_REPLY_STATUS:
        dst->type = PF_REDIS_REPLY_STATUS;
        break;
    case REDIS_REPLY_ERROR:
        dst->type = PF_REDIS_REPLY_ERROR;
        break;
    case REDIS_REPLY_INTEGER:
        dst->type = PF_REDIS_REPLY_INTEGER;
        break;
    case REDIS_REPLY_NIL:
        dst->type = PF_REDIS_REPLY_NIL;
        break;
    case REDIS_REPLY_ARRAY:
        dst->type = PF_REDIS_REPLY_ARRAY;
        break;
    default:
        dst->type = src->element ? PF_REDIS_REPLY_ARRAY
                    : src->str   ? PF_REDIS_REPLY_STRING
                                 : PF_REDIS_REPLY_INTEGER;
        break;
    }
    if (dst->type == PF_REDIS_REPLY_ARRAY) {
        dst->elements = src->elements;
        dst->element = src->elements ? *next : NULL;
        *next += src->elements;
        for (size_t i = 0; i < src->elements; i++)
            reply_fill(&dst->element[i], src->element[i], next);
    } else if (dst->type != PF_REDIS_REPLY_INTEGER && dst->type != PF_REDIS_REPLY_NIL) {
        dst->str = src->str;
        dst->len = src->len;
    }
}

/* Wraps `raw` (stolen, freed on failure too); NULL on OOM. */
static struct pf_redis_reply *reply_wrap(redisReply *raw)
{
    size_t n = reply_count(raw);
    struct reply_holder *h = pf_malloc(sizeof(*h) + n * sizeof(h->node[0]));
    struct pf_redis_reply *next;

    if (!h) {
        freeReplyObject(raw);
        return NULL;
    }
    h->raw = raw;
    next = &h->node[1];
    reply_fill(&h->node[0], raw, &next);
    return &h->node[0];
}

struct pf_redis_reply *pf_redis_reply_free(struct pf_redis_reply *rep)
{
    struct reply_holder *h;

    if (!rep)
        return NULL;
    h = (struct reply_holder *)(void *)((char *)rep - offsetof(struct reply_holder, node));
    freeReplyObject(h->raw);
    return pf_free(h);
}

/* --- connection ---------------------------------------------------------------------------- */

/* Maps a context error to -errno; the text goes to errbuf with the address, never the URL. */
static int context_error(const struct pf_redis *r, char *errbuf, size_t errlen)
{
    int e = -EIO;

    if (!r->c)
        return pf_set_error(errbuf, errlen, -ENOMEM, "cannot allocate a redis context");
    if (r->c->err == REDIS_ERR_IO && errno > 0)
        e = -errno;
    else if (r->c->err == REDIS_ERR_EOF)
        e = -ECONNRESET;
    else if (r->c->err == REDIS_ERR_OOM)
        e = -ENOMEM;
    return pf_set_error(errbuf, errlen, e, "redis %s:%d: %s", r->url.host, r->url.port,
                        r->c->errstr);
}

/* Runs a command once on the current connection; NULL with the connection broken. */
static redisReply *command_once(struct pf_redis *r, int argc, const char *const *argv)
{
    if (!r->c || r->c->err)
        return NULL;
    return redisCommandArgv(r->c, argc, (const char **)(uintptr_t)argv, NULL);
}

static int script_load(struct pf_redis *r, struct redis_script *s, char *errbuf, size_t errlen)
{
    redisReply *rep = command_once(r, 3, (const char *[]){"SCRIPT", "LOAD", s->text});
    int ret = 0;

    if (!rep)
        return context_error(r, errbuf, errlen);
    if (rep->type == REDIS_REPLY_STRING && rep->len == 40)
        memcpy(s->sha, rep->str, 41);
    else
        ret = pf_set_error(errbuf, errlen, -EIO, "redis SCRIPT LOAD: %s",
                           rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    freeReplyObject(rep);
    return ret;
}

/* The one AUTH / SELECT path: sent on every fresh connection, then the scripts are loaded. */
static int handshake(struct pf_redis *r, char *errbuf, size_t errlen)
{
    redisReply *rep;
    char db[16];
    int ret = 0;

    if (r->url.password) {
        const char *argv[3] = {"AUTH", r->url.user ? r->url.user : r->url.password,
                               r->url.password};

        rep = command_once(r, r->url.user ? 3 : 2, argv);
        if (!rep)
            return context_error(r, errbuf, errlen);
        if (rep->type == REDIS_REPLY_ERROR)
            ret = pf_set_error(errbuf, errlen, -EACCES, "redis %s:%d refused AUTH: %s", r->url.host,
                               r->url.port, rep->str);
        freeReplyObject(rep);
        if (ret < 0)
            return ret;
    }
    (void)snprintf(db, sizeof(db), "%d", r->url.db);
    rep = command_once(r, 2, (const char *[]){"SELECT", db});
    if (!rep)
        return context_error(r, errbuf, errlen);
    if (rep->type == REDIS_REPLY_ERROR)
        ret = pf_set_error(errbuf, errlen, -EINVAL, "redis SELECT %s: %s", db, rep->str);
    freeReplyObject(rep);
    for (size_t i = 0; ret == 0 && i < r->n_scripts; i++)
        ret = script_load(r, &r->scripts[i], errbuf, errlen);
    return ret;
}

static int connect_now(struct pf_redis *r, char *errbuf, size_t errlen)
{
    struct timeval tv = {.tv_sec = r->timeout_ms / 1000, .tv_usec = (r->timeout_ms % 1000) * 1000};

    if (r->c)
        redisFree(r->c);
    r->c = redisConnectWithTimeout(r->url.host, r->url.port, tv);
    if (!r->c || r->c->err)
        return context_error(r, errbuf, errlen);
    /* Commands get the same bound, so a hung server cannot stall the caller forever. */
    (void)redisSetTimeout(r->c, tv);
    (void)redisEnableKeepAlive(r->c);
    return handshake(r, errbuf, errlen);
}

int pf_redis_connect(const char *url, const struct pf_redis_options *opts, struct pf_redis **ret,
                     char *errbuf, size_t errlen)
{
    struct pf_redis *r = pf_calloc(1, sizeof(*r));
    int e;

    if (!r)
        return -ENOMEM;
    r->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : REDIS_DEFAULT_TIMEOUT_MS;
    r->retry_ms = !opts ? REDIS_DEFAULT_RETRY_MS : opts->retry_ms < 0 ? 0 : opts->retry_ms;
    r->stop = opts ? opts->stop : NULL;
    e = pf_redis_url_parse(url, &r->url, errbuf, errlen);
    e = e < 0 ? e : connect_now(r, errbuf, errlen);
    if (e < 0) {
        pf_redis_free(r);
        return e;
    }
    *ret = r;
    return 0;
}

struct pf_redis *pf_redis_free(struct pf_redis *r)
{
    if (!r)
        return NULL;
    if (r->c)
        redisFree(r->c);
    for (size_t i = 0; i < r->n_scripts; i++)
        pf_free(r->scripts[i].text);
    pf_redis_url_release(&r->url);
    return pf_free(r);
}

int pf_redis_script_add(struct pf_redis *r, const char *script, char *errbuf, size_t errlen)
{
    struct redis_script *s;
    int e;

    if (r->n_scripts == REDIS_MAX_SCRIPTS)
        return pf_set_error(errbuf, errlen, -E2BIG, "too many redis scripts");
    s = &r->scripts[r->n_scripts];
    s->text = pf_strdup(script);
    if (!s->text)
        return -ENOMEM;
    e = script_load(r, s, errbuf, errlen);
    if (e < 0) {
        s->text = pf_free(s->text);
        return e;
    }
    return (int)r->n_scripts++;
}

/* --- commands ------------------------------------------------------------------------------ */

/* Appends one call to the output buffer: a script call as EVALSHA sha, or EVAL text after
 * NOSCRIPT. `av`/`lv` are scratch arrays of at least argc + 2 entries. */
static int append_call(struct pf_redis *r, const struct pf_redis_call *call, bool eval,
                       const char **av, size_t *lv)
{
    const struct redis_script *s;
    int argc = call->argc;

    if (call->script < 0)
        return redisAppendCommandArgv(r->c, call->argc, (const char **)(uintptr_t)call->argv,
                                      call->lens);
    assert((size_t)call->script < r->n_scripts);
    s = &r->scripts[call->script];
    av[0] = eval ? "EVAL" : "EVALSHA";
    av[1] = eval ? s->text : s->sha;
    lv[0] = strlen(av[0]);
    lv[1] = strlen(av[1]);
    for (int i = 0; i < argc; i++) {
        av[2 + i] = call->argv[i];
        lv[2 + i] = call->lens ? call->lens[i] : strlen(call->argv[i]);
    }
    return redisAppendCommandArgv(r->c, argc + 2, av, lv);
}

/*
 * One pass over the connection: appends every call without a reply (hiredis buffers them), then
 * reads their replies in order. Returns 0 when every call has its reply, 1 when some script
 * calls got NOSCRIPT and must be sent again, or -1 when the connection broke (calls without a
 * reply stay so).
 */
static int pipeline_pass(struct pf_redis *r, const struct pf_redis_call *calls, size_t n,
                         struct call_state *st, const char **av, size_t *lv)
{
    bool again = false;

    if (!r->c || r->c->err)
        return -1;
    for (size_t i = 0; i < n; i++) {
        st[i].inflight = false;
        if (st[i].rep)
            continue;
        if (append_call(r, &calls[i], st[i].eval, av, lv) != REDIS_OK)
            return -1;
        st[i].inflight = true;
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = NULL;

        if (!st[i].inflight)
            continue;
        if (redisGetReply(r->c, (void **)&rep) != REDIS_OK || !rep)
            return -1;
        st[i].inflight = false;
        if (calls[i].script >= 0 && !st[i].eval && rep->type == REDIS_REPLY_ERROR &&
            strncmp(rep->str, "NOSCRIPT", 8) == 0) {
            /* The server lost its script cache (restart, SCRIPT FLUSH): EVAL caches it again. */
            st[i].eval = true;
            freeReplyObject(rep);
            again = true;
            continue;
        }
        st[i].rep = rep;
    }
    return again ? 1 : 0;
}

/* Runs passes until every call has a reply, reconnecting with backoff within the budget. */
static int pipeline_run(struct pf_redis *r, const struct pf_redis_call *calls, size_t n,
                        struct call_state *st, const char **av, size_t *lv, char *errbuf,
                        size_t errlen)
{
    int64_t deadline = now_ms() + r->retry_ms, delay = 50;
    char err[256] = "";

    for (;;) {
        struct timespec ts;
        int e = pipeline_pass(r, calls, n, st, av, lv);

        if (e == 0)
            return 0;
        if (e > 0)
            continue; /* the NOSCRIPT ones again, now with EVAL: cannot loop twice */
        e = context_error(r, err, sizeof(err));
        pf_log(LOG_DEBUG, "redis %s (%zu calls) failed: %s",
               calls[0].script < 0 ? calls[0].argv[0] : "script", n, err);
        if (now_ms() + delay > deadline || (r->stop && *r->stop))
            return pf_set_error(errbuf, errlen, e, "%s", err);
        ts = (struct timespec){.tv_sec = delay / 1000, .tv_nsec = (delay % 1000) * 1000000};
        (void)nanosleep(&ts, NULL);
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
        e = connect_now(r, err, sizeof(err));
        if (e < 0)
            pf_log(LOG_DEBUG, "redis reconnect failed: %s", err);
        else
            pf_log(LOG_DEBUG, "redis reconnected to %s:%d", r->url.host, r->url.port);
    }
}

int pf_redis_pipeline(struct pf_redis *r, const struct pf_redis_call *calls, size_t n,
                      struct pf_redis_reply **ret_replies, char *errbuf, size_t errlen)
{
    struct call_state *st;
    const char **av = NULL;
    size_t *lv = NULL, max_argc = 0;
    int e = 0;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        max_argc = (size_t)calls[i].argc > max_argc ? (size_t)calls[i].argc : max_argc;
    st = pf_calloc(n, sizeof(*st));
    av = pf_calloc(max_argc + 2, sizeof(*av));
    lv = pf_calloc(max_argc + 2, sizeof(*lv));
    if (!st || !av || !lv) {
        e = -ENOMEM;
        goto out;
    }
    e = pipeline_run(r, calls, n, st, av, lv, errbuf, errlen);
    for (size_t i = 0; e == 0 && i < n; i++) {
        st[i].out = reply_wrap(st[i].rep); /* steals the hiredis reply */
        st[i].rep = NULL;
        e = st[i].out ? 0 : -ENOMEM;
    }
    for (size_t i = 0; e == 0 && i < n; i++) {
        ret_replies[i] = st[i].out;
        st[i].out = NULL;
    }
out:
    for (size_t i = 0; st && i < n; i++) {
        if (st[i].rep)
            freeReplyObject(st[i].rep);
        pf_redis_reply_free(st[i].out);
    }
    pf_free(st);
    pf_free(av);
    pf_free(lv);
    return e;
}

int pf_redis_command(struct pf_redis *r, int argc, const char *const *argv, const size_t *lens,
                     struct pf_redis_reply **ret, char *errbuf, size_t errlen)
{
    struct pf_redis_call call = {.script = -1, .argc = argc, .argv = argv, .lens = lens};

    return pf_redis_pipeline(r, &call, 1, ret, errbuf, errlen);
}
