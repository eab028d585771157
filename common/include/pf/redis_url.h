/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis URL every patchfleet tool takes (--redis): redis://[[USER]:PASSWORD@]HOST[:PORT][/DB].
 * Parsed in one place so the aggregator, `patchfleet patch --redis` and `patchfleet summary`
 * accept the same spellings and report the same reasons; the password is the one part that never
 * reaches an error message or a log line.
 */
#ifndef PF_REDIS_URL_H
#define PF_REDIS_URL_H

#include "pf/setup.h"

/* A Redis URL, parsed. */
struct pf_redis_url {
    char *host;     /* IPv6 literals without their brackets */
    int port;       /* 6379 unless given */
    int db;         /* 0 unless given */
    char *user;     /* NULL unless given (Redis 6 ACL user) */
    char *password; /* NULL unless given; never logged or put in an error message */
};

/* Parses `url`. "redis://secret@host" (userinfo without a colon) is a password alone, as
 * redis-cli reads it. Returns 0 and fills *ret (release with pf_redis_url_release()), -EINVAL
 * with a reason in errbuf that never contains the password, or -ENOMEM; *ret untouched on
 * failure. */
int pf_redis_url_parse(const char *url, struct pf_redis_url *ret, char *errbuf, size_t errlen);

/* Frees the strings of `u` (wiping the password first) and zeroes it; accepts NULL. */
void pf_redis_url_release(struct pf_redis_url *u);

#endif
