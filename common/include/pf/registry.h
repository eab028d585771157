/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI distribution client: tags, manifests and blobs over HTTPS with libcurl, with Docker's
 * token auth, retries, and digest verification of everything it reads. It is what tag discovery,
 * pulling, pushing and copying stand on, so it is strict: TLS is verified unless a host is
 * loopback or listed as insecure, every body has a size bound, every digest is checked, and no
 * credential or token ever appears in an error message or a log line.
 *
 * Thread safety: one struct pf_registry may be used from any number of threads at once. Each
 * call borrows a curl easy handle from a small mutex-protected pool (handles keep their
 * connections alive between calls) and DNS results and TLS sessions are shared through a
 * CURLSH; the token and credential caches sit behind a mutex. pf_registry_free() must not race
 * with calls in flight.
 */
#ifndef PF_REGISTRY_H
#define PF_REGISTRY_H

#include "pf/digest.h"
#include "pf/ref.h"
#include "pf/setup.h"
#include "pf/strv.h"

struct pf_registry;

struct pf_registry_options {
    const char *ca_file;                  /* extra CA bundle (PEM); NULL = system store */
    const struct pf_strv *insecure_hosts; /* "host[:port]" allowed over plain http; NULL = none */
    long connect_timeout_ms;              /* per connection attempt */
    long request_timeout_ms;              /* whole request, transfer included */
    int max_retries;                      /* retries after the first attempt; 0 = none */
    const char *docker_config;            /* credentials file override; NULL = usual search */
    const char *user_agent;               /* NULL = "patchfleet/<version>" */
    bool debug;                           /* libcurl verbose into pf_log(LOG_DEBUG), scrubbed */
    bool force_tls;                       /* https even for loopback hosts (set by a CA file too) */
};

/* Fills `o` with defaults: 10 s connect, 30 min per request, 4 retries, nothing else set. */
void pf_registry_options_init(struct pf_registry_options *o);

/*
 * Creates a client; the options' strings are copied. Returns 0 and the client in *ret,
 * -ENOMEM, or -EIO when libcurl cannot be initialised (reason in errbuf).
 */
int pf_registry_new(const struct pf_registry_options *o, struct pf_registry **ret, char *errbuf,
                    size_t errlen);
/* Frees the client (accepts NULL, returns NULL). Cached tokens and credentials are wiped. */
struct pf_registry *pf_registry_free(struct pf_registry *r);

/* Tags at most returned by pf_registry_list_tags(); more is an error (-E2BIG). */
#define PF_REGISTRY_MAX_TAGS 1000000

/*
 * Lists the tags of `repo` (its tag/digest are ignored), following Link pagination. Appends to
 * *ret (left with what was appended so far on failure; the caller clears it). Returns the number
 * of tags added, or a negative errno: -ENOENT (no such repository), -EACCES, -EBUSY (rate
 * limited after retries), -ETIMEDOUT, -EPROTO (TLS), -ECONNREFUSED, -E2BIG, -EIO.
 */
int pf_registry_list_tags(struct pf_registry *r, const struct pf_ref *repo, struct pf_strv *ret,
                          char *errbuf, size_t errlen);

/* The size a HEAD reports when the registry sent no Content-Length. */
#define PF_REGISTRY_SIZE_UNKNOWN UINT64_MAX

struct pf_raw_manifest {
    char *data; /* the exact bytes served (NUL-terminated for convenience) */
    size_t len;
    const char *media_type;       /* static string: one of PF_MT_OCI_* / PF_MT_DOCKER_* */
    int kind;                     /* PF_MANIFEST_IMAGE or PF_MANIFEST_INDEX */
    char digest[PF_DIGEST_BUFSZ]; /* sha256 of data */
};

void pf_raw_manifest_release(struct pf_raw_manifest *m);

/*
 * Fetches the manifest or index `reference` (a tag or a digest; NULL = ref->digest, else
 * ref->tag) of `ref`'s repository, at most 4 MiB. When fetched by digest, the body's sha256
 * must equal it (-EBADMSG otherwise); by tag, a Docker-Content-Digest header that disagrees with
 * the body is also -EBADMSG. Docker schema 1 is refused with -EPROTONOSUPPORT. Returns 0 with
 * *ret filled (caller releases), or a negative errno as for pf_registry_list_tags().
 */
int pf_registry_get_manifest(struct pf_registry *r, const struct pf_ref *ref, const char *reference,
                             struct pf_raw_manifest *ret, char *errbuf, size_t errlen);

/*
 * HEAD of a manifest: its digest (Docker-Content-Digest), media type and size (the
 * Content-Length, or PF_REGISTRY_SIZE_UNKNOWN), without the body. *ret_media_type gets a new string or NULL (may pass NULL). Returns 0 or a negative
 * errno; -EPROTO when the registry sends no usable digest header.
 */
int pf_registry_head_manifest(struct pf_registry *r, const struct pf_ref *ref,
                              const char *reference, char ret_digest[PF_DIGEST_BUFSZ],
                              char **ret_media_type, uint64_t *ret_size, char *errbuf,
                              size_t errlen);

/*
 * Pushes a manifest or index under `reference` (tag or digest) with `media_type` as its
 * Content-Type. Returns 0 and the body's digest in ret_digest (may be NULL); -EBADMSG when the
 * registry reports a different digest; else a negative errno.
 */
int pf_registry_put_manifest(struct pf_registry *r, const struct pf_ref *ref, const char *reference,
                             const char *media_type, const void *data, size_t len,
                             char ret_digest[PF_DIGEST_BUFSZ], char *errbuf, size_t errlen);

/* Receives blob bytes; returns 0 to continue or a negative errno to abort the download. */
typedef int (*pf_registry_write_cb)(const void *data, size_t len, void *userdata);

/*
 * Streams blob `digest` of `ref`'s repository to `cb`, following redirects (the Authorization
 * header is never sent to another host). The sha256 of the stream is verified at the end:
 * on -EBADMSG, and on any other error, everything already passed to `cb` MUST be discarded.
 * Because bytes were handed out, a failure after the first byte is not retried; use
 * pf_registry_get_blob_to_file() for a retried, verify-then-rename download. Returns 0 and
 * the size in *ret_size (may be NULL), -EBADMSG, the callback's error, or a negative errno.
 */
int pf_registry_get_blob(struct pf_registry *r, const struct pf_ref *ref, const char *digest,
                         pf_registry_write_cb cb, void *userdata, uint64_t *ret_size, char *errbuf,
                         size_t errlen);

/*
 * Downloads blob `digest` into `path`: written to a temp file beside it, verified, fsync'ed
 * and renamed, so `path` only ever holds verified content. Retries restart from scratch.
 * Returns 0 and the size, or a negative errno (the temp file is removed).
 */
int pf_registry_get_blob_to_file(struct pf_registry *r, const struct pf_ref *ref,
                                 const char *digest, const char *path, uint64_t *ret_size,
                                 char *errbuf, size_t errlen);

/*
 * pf_registry_get_blob_to_file() bounded by `max` bytes (0 = no bound), the size a descriptor
 * declares: a blob growing past it stops the download at once with -EFBIG (message in errbuf),
 * rather than after reading whatever a lying descriptor's blob holds.
 */
int pf_registry_get_blob_to_file_max(struct pf_registry *r, const struct pf_ref *ref,
                                     const char *digest, uint64_t max, const char *path,
                                     uint64_t *ret_size, char *errbuf, size_t errlen);

/*
 * Downloads a small blob (a config) into memory, at most `max` bytes, verified. Returns 0 and a
 * new NUL-terminated buffer in *ret / *ret_len, or a negative errno (-E2BIG past `max`).
 */
int pf_registry_get_blob_mem(struct pf_registry *r, const struct pf_ref *ref, const char *digest,
                             size_t max, char **ret, size_t *ret_len, char *errbuf, size_t errlen);

/* HEAD of a blob. Returns 1 (exists; size in *ret_size, may be NULL: the Content-Length, or
 * PF_REGISTRY_SIZE_UNKNOWN), 0 (absent) or < 0. */
int pf_registry_blob_exists(struct pf_registry *r, const struct pf_ref *ref, const char *digest,
                            uint64_t *ret_size, char *errbuf, size_t errlen);

/* Where the bytes of an upload come from. Exactly one of `data` or `fd` (>= 0) is used. */
struct pf_blob_source {
    const void *data; /* memory; NULL to use fd */
    int fd;           /* read with pread from offset 0; the file offset is not used */
    uint64_t size;    /* must be exact */
    /*
     * Optional: called once, before the first byte is needed, to fill data/fd/size lazily,
     * so a copy downloads a blob only when a cross-repository mount did not happen. Returns 0
     * or a negative errno (which aborts the upload).
     */
    int (*prepare)(struct pf_blob_source *src, void *userdata, char *errbuf, size_t errlen);
    void *userdata;
};

enum pf_blob_put_result {
    PF_BLOB_UPLOADED,
    PF_BLOB_MOUNTED,
    PF_BLOB_PUT_RESULT__MAX,
};

/* Blobs larger than this are sent as chunked PATCHes instead of one PUT. */
#define PF_REGISTRY_CHUNKED_THRESHOLD ((uint64_t)64 << 20)
#define PF_REGISTRY_CHUNK_SIZE ((size_t)32 << 20)

/*
 * Uploads blob `digest` to `ref`'s repository. When `mount_from` (same registry, other
 * repository) is given a cross-repository mount is tried first: 201 means mounted; 202 means
 * the registry opened an upload session instead, which is then used. Up to 64 MiB go in one
 * PUT; larger blobs in PATCH chunks with Content-Range and a final PUT. A failed upload is never
 * resumed mid-stream: the whole session restarts (bounded by max_retries). The registry checks
 * the digest. Returns 0 with the outcome in *ret_result (may be NULL), or a negative errno.
 */
int pf_registry_put_blob(struct pf_registry *r, const struct pf_ref *ref, const char *digest,
                         struct pf_blob_source *src, const struct pf_ref *mount_from,
                         enum pf_blob_put_result *ret_result, char *errbuf, size_t errlen);

#endif
