/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rollback protection for signed package indexes. A signature proves who made an index, not
 * that it is the newest one: a mirror may keep serving an old, validly signed Release or
 * APKINDEX and freeze a fleet on vulnerable versions. This store remembers, per repository
 * key, the newest index date accepted, in one small text file of the worker's cache dir, and
 * refuses an index dated before it. Every engine uses it with its own keys and dates (apt: the
 * Release Date; apk: the signed APKINDEX member's mtime; rpm later: repomd's revision or
 * timestamp). The file is re-read under a lock at every check, so processes sharing a cache
 * dir share one memory. Rules and limits: docs/security.md, "Replayed indexes".
 */
#ifndef WORKER_ENGINE_INDEX_FRESHNESS_H
#define WORKER_ENGINE_INDEX_FRESHNESS_H

#include <time.h>

#include "pf/setup.h"

/* The state file in the cache dir, and its lock file beside it. */
#define WORKER_INDEX_FRESHNESS_FILE "index-freshness"
/* Repositories remembered; past this a new repository is checked but not remembered. */
#define WORKER_INDEX_FRESHNESS_MAX_ENTRIES 4096
/* Longest repository key, in bytes. */
#define WORKER_INDEX_FRESHNESS_MAX_KEY 1024
/* An index dated further ahead of the clock than this is refused (as apt's Check-Date): once
 * remembered, a far-future date would make every real index look old. */
#define WORKER_INDEX_FRESHNESS_MAX_FUTURE 600

struct worker_index_freshness;

/*
 * Opens the store of `dir` (which must exist) and reads its state file once, so a corrupt
 * file stops the program at start rather than failing every job. `allow_rollback` makes
 * worker_index_freshness_check() accept an older index (and remember it as the newest).
 * Returns 0 and a new store in *ret (worker_index_freshness_free() it); -EINVAL for a corrupt
 * state file (errbuf names the file and line), -E2BIG for an oversized one, or another
 * negative errno from opening the lock file. *ret is untouched on failure.
 */
int worker_index_freshness_open(const char *dir, bool allow_rollback,
                                struct worker_index_freshness **ret, char *errbuf, size_t errlen);

/* Frees the store (the state file stays). Accepts NULL; returns NULL. */
struct worker_index_freshness *worker_index_freshness_free(struct worker_index_freshness *s);

/*
 * Checks an index of repository `key` dated `date` (seconds since the epoch; 0 when the index
 * carries no date) against the newest date remembered for `key`, and remembers `date` when it
 * is newer. Thread-safe. Returns:
 *   0        accepted (no memory of `key`, or `date` is not older than it);
 *   1        accepted as a deliberate rollback (allow_rollback): `date` is older, or absent,
 *            and is remembered as the newest from now on (an absent date changes nothing);
 *   -ESTALE  refused: `date` is older than the remembered date, or absent while a date is
 *            remembered; errbuf gives both dates;
 *   -ERANGE  refused: `date` is more than WORKER_INDEX_FRESHNESS_MAX_FUTURE seconds ahead of
 *            the clock (nothing is remembered);
 *   -EINVAL  a malformed key, or the state file became corrupt (errbuf names it);
 *   -ENOMEM.
 * *ret_newest (may be NULL) receives the remembered date before the call (0: none). Failing
 * to write the state file is not an error: the process still remembers (a warning is logged).
 */
int worker_index_freshness_check(struct worker_index_freshness *s, const char *key, time_t date,
                                 time_t *ret_newest, char *errbuf, size_t errlen);

/* Formats `t` as "2026-12-07T22:50:00Z" into buf (at least 32 bytes); "no date" for 0. Returns
 * buf. */
char *worker_index_freshness_format(time_t t, char *buf, size_t len);

#endif
