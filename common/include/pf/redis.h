/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis client of patchfleet: the one module that talks to hiredis (STYLE L3), so the AUTH
 * and SELECT handshake, the timeouts, the reconnect policy and the mapping of connection errors
 * to errno exist once. A connection is made from a Redis URL (pf/redis_url.h); commands are argv
 * arrays (binary-safe with lengths) and replies come back in a type of our own, so callers never
 * see a hiredis type. A broken connection is reconnected with capped exponential backoff inside
 * each call, for a budget the caller chooses: the callers' writes are idempotent, so replaying a
 * command whose outcome is unknown is safe. Lua scripts are loaded with SCRIPT LOAD and called
 * with EVALSHA, falling back to EVAL when the server lost its script cache (NOSCRIPT).
 * One connection is not thread-safe: a caller shares it under its own lock.
 */
#ifndef PF_REDIS_H
#define PF_REDIS_H

#include "pf/setup.h"

#include <signal.h>
#include <stdint.h>

struct pf_redis;

/* How a connection behaves. A NULL options pointer means a 5000 ms timeout and a 30000 ms
 * retry budget. */
struct pf_redis_options {
    int64_t timeout_ms; /* connect and per-command socket timeout; <= 0 means 5000 */
    int64_t retry_ms;   /* reconnect budget per call (backoff 50 ms doubling to 2 s); 0 means
                           one attempt, no reconnect */
    /* A daemon's stop flag, or NULL: once it is set, a call that fails does not reconnect and
     * retry (it returns its error), so a stopping daemon waits at most one timeout_ms for
     * Redis, not the whole retry budget. Read, never written. */
    const volatile sig_atomic_t *stop;
};

enum pf_redis_reply_type {
    PF_REDIS_REPLY_NIL,
    PF_REDIS_REPLY_STRING,  /* bulk string: str, len (binary-safe, NUL-terminated too) */
    PF_REDIS_REPLY_STATUS,  /* "+OK": str, len */
    PF_REDIS_REPLY_ERROR,   /* "-ERR ...": str, len */
    PF_REDIS_REPLY_INTEGER, /* integer */
    PF_REDIS_REPLY_ARRAY,   /* elements, element[] */
    PF_REDIS_REPLY__MAX,
};

/* A reply. Nested replies are the elements of their array; only the top one is freed. */
struct pf_redis_reply {
    enum pf_redis_reply_type type;
    long long integer;
    const char *str; /* NULL unless STRING, STATUS or ERROR */
    size_t len;
    size_t elements;
    struct pf_redis_reply *element; /* `elements` replies, for ARRAY */
};

/* A plain command of a pipeline, or (script >= 0) a call of a script registered with
 * pf_redis_script_add(): then argv is what follows the script in EVALSHA (numkeys, keys, args).
 * argv (and lens, NULL meaning strlen) are borrowed for the pipeline call. */
struct pf_redis_call {
    int script;
    int argc;
    const char *const *argv;
    const size_t *lens;
};

/*
 * Connects to `url` (pf/redis_url.h), sends AUTH (password, or ACL user and password) and
 * SELECT. Does not retry: a daemon that wants to wait for Redis loops around it. Returns 0 and a
 * new connection in *ret (free with pf_redis_free()), -EINVAL for a bad URL or a refused
 * SELECT, -EACCES for a refused AUTH, or a negative errno of the connection (-ECONNREFUSED,
 * -ETIMEDOUT, ...), each with a reason in errbuf naming HOST:PORT, never the password.
 */
int pf_redis_connect(const char *url, const struct pf_redis_options *opts, struct pf_redis **ret,
                     char *errbuf, size_t errlen);

/* Closes the connection and frees `r`; accepts NULL; returns NULL. */
struct pf_redis *pf_redis_free(struct pf_redis *r);

/*
 * Registers a Lua script: loads it now with SCRIPT LOAD (and again after every reconnect), and
 * returns its id (>= 0) for pf_redis_call.script. `script` is copied. Returns the id, or a
 * negative errno with the reason in errbuf (-EIO when the server refuses the script).
 */
int pf_redis_script_add(struct pf_redis *r, const char *script, char *errbuf, size_t errlen);

/*
 * Runs one command (argv[0] is its name; lens NULL means strlen), reconnecting within the retry
 * budget while the connection is broken. Returns 0 and a new reply in *ret (an error reply
 * included: the command ran; free with pf_redis_reply_free()), or a negative errno of the
 * connection with the reason in errbuf; *ret untouched then.
 */
int pf_redis_command(struct pf_redis *r, int argc, const char *const *argv, const size_t *lens,
                     struct pf_redis_reply **ret, char *errbuf, size_t errlen);

/*
 * Runs n calls as a pipeline: every call is sent, then the replies are read in order, so n
 * calls cost one round trip instead of n. A script call answered NOSCRIPT is sent again with
 * EVAL in a second pass. A broken connection is reconnected within the retry budget and the
 * calls without a reply yet are sent again (so they must be idempotent). Returns 0 and fills
 * ret_replies[0..n-1] with a new reply each (free each with pf_redis_reply_free()), or a
 * negative errno with the reason in errbuf and ret_replies untouched; some calls may have run.
 */
int pf_redis_pipeline(struct pf_redis *r, const struct pf_redis_call *calls, size_t n,
                      struct pf_redis_reply **ret_replies, char *errbuf, size_t errlen);

/* Frees a reply returned by pf_redis_command() or pf_redis_pipeline(); accepts NULL; returns
 * NULL. */
struct pf_redis_reply *pf_redis_reply_free(struct pf_redis_reply *rep);

#endif
