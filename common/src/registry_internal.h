/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure helpers of the registry client and the credential lookup, shared between
 * registry.c, registry_auth.c and dockercfg.c and exported (pf__ prefix) only so the unit tests
 * can reach them. None of them does I/O.
 */
#ifndef PF_REGISTRY_INTERNAL_H
#define PF_REGISTRY_INTERNAL_H

#include <time.h>

#include "pf/dockercfg.h"
#include "pf/setup.h"

enum pf_auth_scheme {
    PF_AUTH_NONE,
    PF_AUTH_BASIC,
    PF_AUTH_BEARER,
    PF_AUTH_SCHEME__MAX,
    PF_AUTH_INVALID = -EINVAL,
};

struct pf_auth_challenge {
    enum pf_auth_scheme scheme;
    char *realm;   /* NULL when absent */
    char *service; /* NULL when absent */
    char *scope;   /* NULL when absent */
    char *error;   /* Bearer error="insufficient_scope" etc.; NULL when absent */
};

/*
 * Parses a WWW-Authenticate header value. When several challenges are present, Bearer is
 * preferred over Basic; unknown schemes are skipped. Scheme names are case-insensitive,
 * parameter values may be quoted (with commas and backslash escapes inside). Returns 0,
 * -EINVAL when no usable challenge is found, or -ENOMEM. *ret untouched on failure.
 */
int pf__auth_challenge_parse(const char *value, struct pf_auth_challenge *ret);
void pf__auth_challenge_release(struct pf_auth_challenge *c);

/*
 * Finds the rel="next" target in an RFC 5988 Link header value and resolves it against
 * `base_url` (absolute, scheme-relative, absolute-path and relative forms). Returns 1 and a new
 * URL in *ret, 0 when there is no next link, -EINVAL when malformed, -ENOMEM.
 */
int pf__link_next(const char *value, const char *base_url, char **ret);

/* Resolves `ref` against `base` (RFC 3986). Returns 0 and a new string, -EINVAL or -ENOMEM. */
int pf__url_resolve(const char *base, const char *ref, char **ret);
/* True when both URLs have the same scheme, host and port. */
bool pf__url_same_origin(const char *a, const char *b);

/*
 * Summarises a registry error body {"errors":[{"code":..., "message":...}]} as
 * "CODE: message" (first error; control characters replaced, length bounded) into `out`.
 * Returns 1 when something was found, 0 otherwise (out = "").
 */
int pf__registry_error_parse(const char *body, size_t len, char *out, size_t outlen);

/*
 * Appends at most `max` bytes of `s` (stopping early at a NUL) to `out` at *pos, replacing
 * control characters with spaces and always leaving `out` NUL-terminated within `outlen`.
 * `s` need not be NUL-terminated within `max` bytes.
 */
void pf__append_clean(char *out, size_t outlen, size_t *pos, const char *s, size_t max);

/* True for localhost, 127.0.0.0/8 and [::1], with or without a port. */
bool pf__host_is_loopback(const char *hostport);

/* Base64 (standard alphabet). Return 0 and a new NUL-terminated string, -EINVAL or -ENOMEM. */
int pf__base64_encode(const void *data, size_t len, char **ret);
int pf__base64_decode(const char *s, char **ret, size_t *ret_len);

/* Percent-encodes everything outside RFC 3986 unreserved. New string or NULL. */
char *pf__url_escape(const char *s);

/* Normalises a config.json auths/credHelpers key or a host to a lowercase host[:port], with
 * Docker Hub's spellings folded to "docker.io". Writes to `out`; returns 0 or -ENAMETOOLONG. */
int pf__dockercfg_key_host(const char *key, char *out, size_t outlen);

/*
 * Looks `host` up in one config.json/auth.json document. Returns 1 with credentials in
 * *ret_cred, 2 with a new helper name in *ret_helper (credHelpers or credsStore), 0 when the
 * file has nothing for `host`, -EINVAL (malformed, reason in errbuf) or -ENOMEM.
 */
int pf__dockercfg_parse(const char *json, size_t len, const char *host, struct pf_cred *ret_cred,
                        char **ret_helper, char *errbuf, size_t errlen);

/* Parses a credential helper's `get` output {"Username":..., "Secret":...}. A Username of
 * "<token>" means Secret is an identity token. Returns 0, -ENOENT (empty secret), -EINVAL. */
int pf__cred_helper_output_parse(const char *json, size_t len, struct pf_cred *ret);

#endif
