/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The request engine shared by registry.c (operations) and registry_auth.c (challenges,
 * tokens, credentials): one struct reg_req describes a request, reg_do() runs it with auth,
 * redirects and retries. Internal to the registry client.
 */
#ifndef PF_REGISTRY_HTTP_H
#define PF_REGISTRY_HTTP_H

#include <pthread.h>

#include "pf/buf.h"
#include "pf/dockercfg.h"
#include "pf/http.h"
#include "pf/registry.h"
#include "registry_internal.h"

#define REG_POOL_MAX 8
#define REG_ERRBODY_MAX ((size_t)64 << 10)
#define REG_TOKEN_MAX_BODY ((size_t)64 << 10)
#define REG_TOKENS_MAX 256
#define REG_REDIRECTS_MAX 10
#define REG_RETRY_AFTER_CAP 60

struct reg_token {
    char *host;
    char *scope;          /* "" for Basic, valid for every scope */
    char *header;         /* "Authorization: Bearer ..." / "Authorization: Basic ..." */
    long long expires_ms; /* monotonic; 0 = never */
    bool cred;            /* obtained with configured credentials (not anonymously) */
};

struct reg_cred {
    char *registry;
    struct pf_cred cred;
    int status; /* 0 found, -ENOENT none */
};

struct pf_registry {
    char *ca_file;
    char *docker_config;
    char *user_agent;
    struct pf_strv insecure;
    long connect_timeout_ms;
    long request_timeout_ms;
    int max_retries;
    bool debug;
    bool force_tls; /* loopback hosts get no automatic plain http */

    struct pf_http_share *share; /* DNS cache and TLS sessions of every pooled handle */
    pthread_mutex_t lock;        /* pool, tokens, creds */
    struct pf_http *pool[REG_POOL_MAX];
    size_t n_pool;
    struct reg_token *tokens;
    size_t n_tokens;
    struct reg_cred *creds;
    size_t n_creds;
};

struct reg_req {
    /* What to do. */
    const char *method;   /* GET HEAD PUT POST PATCH DELETE */
    char *url;            /* owned; replaced on redirect */
    const char *what;     /* error context, e.g. "GET manifest docker.io/library/nginx:1.25" */
    const char *host;     /* API host[:port]: token cache key */
    const char *registry; /* registry name for credentials ("docker.io") */
    const char *scope;    /* space-separated token scopes; NULL for none */
    const char *const *headers; /* extra request header lines; borrowed */
    size_t n_headers;
    char *auth_fixed; /* send this Authorization line, no challenge handling (token fetch) */
    bool follow;      /* follow redirects */
    bool retry;       /* may be repeated on transient failures */
    /* The Authorization sent came from configured credentials: a 401/403 then means they were
     * refused (-EKEYREJECTED), not that the resource wants a login (-EACCES). */
    bool cred_offered;

    /* Request body: `body` (memory) or `body_fd`, from body_off for body_len bytes. */
    bool has_body;
    const void *body;
    int body_fd;
    uint64_t body_off;
    uint64_t body_len;
    uint64_t body_pos;

    /* Where a 2xx body goes: `out`, or `cb`; `reset` (optional) makes a stream restartable. */
    struct pf_buf *out;
    pf_registry_write_cb cb;
    void *cb_ud;
    int (*reset)(void *ud);

    /* Response. */
    long status;
    char *content_type;
    char *docker_digest;
    char *location;
    char *link;
    char *retry_after;
    char *www_auth;
    long long content_length; /* -1 unknown */
    struct pf_buf err;        /* non-2xx body, bounded */
    uint64_t delivered;
    int cb_error;
    bool not_http; /* the last exchange's reply was not HTTP (stale bytes on a reused connection) */
};

/* Initialises `q` for `method` on `url` (copied). Returns 0 or -ENOMEM. */
int pf__reg_req_init(struct reg_req *q, const char *method, const char *url);
void pf__reg_req_release(struct reg_req *q);
/*
 * Runs `q`: auth (cached token, 401 challenge → token/Basic, once), redirects (when q->follow,
 * never carrying Authorization to another origin) and retries with backoff. Returns 0 with
 * q->status set to the final HTTP status (any status: callers judge it), or a negative errno
 * for transport failures with the reason in errbuf.
 */
int pf__reg_do(struct pf_registry *r, struct reg_req *q, char *errbuf, size_t errlen);
/* Formats "<what>: <status> <CODE: message>" and returns the errno for q->status: for 401 and
 * 403, -EKEYREJECTED ("authentication failed ...") when q->cred_offered, else -EACCES. */
int pf__reg_http_error(const struct reg_req *q, char *errbuf, size_t errlen);
/* "http" or "https" for host[:port]. */
const char *pf__reg_scheme(const struct pf_registry *r, const char *host);

/* registry_auth.c: returns a new "Authorization: ..." line for (host, scope), or NULL;
 * *ret_cred says whether it was obtained with configured credentials. */
char *pf__reg_auth_cached(struct pf_registry *r, const char *host, const char *scope,
                          bool *ret_cred);
/* Handles a 401's challenge for `q`: fetches a token or sets up Basic. 0 or negative errno. */
int pf__reg_authenticate(struct pf_registry *r, const struct reg_req *q, char *errbuf,
                         size_t errlen);
/* Frees the token and credential caches, wiping secrets. */
void pf__reg_auth_clear(struct pf_registry *r);
long long pf__reg_now_ms(void);

#endif
