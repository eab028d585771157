/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The package-mirror fetcher every engine uses (apt, apk, and the rpm engine to come): one URL
 * to a buffer, a file descriptor or a callback, with the same bounds for all of them: a size
 * cap, a connect timeout, a low-speed timeout (a stalled mirror is dropped instead of hanging a
 * job), a redirect cap, a user agent, TLS verification always on, and retries with backoff for
 * transient failures (5xx, 408, 429, connection resets, and a non-HTTP reply, which libcurl
 * reports as "Received HTTP/0.9 when not allowed" when a reused connection held stale bytes).
 * "file:" URLs are read from the local filesystem (tests and local mirrors). What the bytes
 * mean, and whether they can be trusted, is the engine's business: nothing here verifies them.
 * Also here: the "FROM=TO" mirror rewrites of --pkg-mirror, shared by the engines.
 */
#ifndef PF_MIRROR_FETCH_H
#define PF_MIRROR_FETCH_H

#include <stdint.h>

#include "pf/setup.h"

struct pf_buf;
struct pf_strv;

/* Attempts per URL for transient failures, the first one included. */
#define PF_MIRROR_FETCH_ATTEMPTS 3
/* A Retry-After on 429 or 503 replaces the back-off when longer, up to this many seconds: a
 * mirror's wish is honoured as far as a job can afford to wait (two waits at most, so two
 * minutes in all), and never past the caller's cancellation. */
#define PF_MIRROR_FETCH_RETRY_AFTER_CAP 60L
/* Redirects followed (http and https only). */
#define PF_MIRROR_FETCH_MAX_REDIRECTS 5
#define PF_MIRROR_FETCH_CONNECT_TIMEOUT_MS 30000L
/* A transfer slower than LOW_SPEED_LIMIT bytes/s for LOW_SPEED_TIME seconds is dropped. */
#define PF_MIRROR_FETCH_LOW_SPEED_LIMIT 1024L
#define PF_MIRROR_FETCH_LOW_SPEED_TIME 60L

struct pf_mirror_fetch_options {
    const char *ca_file;    /* extra CA for https mirrors, may be NULL; verification always on */
    const char *user_agent; /* NULL = "patchfleet/<version>" */
    long retry_delay_ms;    /* first backoff, doubled per attempt; 0 = 500 ms */
    /* Polled while waiting between attempts (a Retry-After can ask for up to
     * PF_MIRROR_FETCH_RETRY_AFTER_CAP seconds); true ends the fetch with -ECANCELED. May be
     * NULL. */
    bool (*cancelled)(void *userdata);
    void *cancelled_userdata;
};

/*
 * Where the body goes. `write` gets the bytes in order and returns >= 0 or a negative errno
 * (which ends the fetch with that errno). `reset` (optional) empties the destination so an
 * attempt can start over; without it a transfer that already delivered bytes is not retried.
 */
struct pf_mirror_sink {
    int (*write)(const void *data, size_t len, void *userdata);
    int (*reset)(void *userdata);
    void *userdata;
};

/*
 * Fetches `url` ("file:", "http:", "https:") into `sink`, at most `max` bytes. `o` may be
 * NULL (defaults). Returns 0; -ENOENT for a missing file or an HTTP 404/410; -E2BIG past
 * `max`; -EPROTONOSUPPORT for another scheme; a sink's negative errno; -ENOMEM; or -EIO for
 * every other failure (transport, TLS, another HTTP status), with the reason, naming the URL,
 * in errbuf.
 */
int pf_mirror_fetch(const struct pf_mirror_fetch_options *o, const char *url, uint64_t max,
                    const struct pf_mirror_sink *sink, char *errbuf, size_t errlen);

/* pf_mirror_fetch() appending to `out` (initialised by the caller, whose own bound applies
 * too); a retry truncates it back to its length at the call. On failure `out` may hold part
 * of the body. */
int pf_mirror_fetch_buf(const struct pf_mirror_fetch_options *o, const char *url, size_t max,
                        struct pf_buf *out, char *errbuf, size_t errlen);

/* pf_mirror_fetch() into the regular file open on `fd` for writing, from its current offset;
 * a retry truncates the file back to that offset. */
int pf_mirror_fetch_fd(const struct pf_mirror_fetch_options *o, const char *url, uint64_t max,
                       int fd, char *errbuf, size_t errlen);

/* The local path of a "file:/p", "file:///p" or "file://localhost/p" URL, or NULL. */
const char *pf_mirror_file_path(const char *url);

/*
 * Applies the "FROM=TO" rewrites to `url`: the longest FROM that is a prefix of `url` is
 * replaced by its TO. `mirrors` may be NULL. Returns 0 and a new string in *ret, -EINVAL for a
 * rule without '=' or with an empty FROM, or -ENOMEM.
 */
int pf_mirror_rewrite(const struct pf_strv *mirrors, const char *url, char **ret);

#endif
