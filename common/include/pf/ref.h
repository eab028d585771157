/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references, parsed and normalised per the distribution reference grammar
 * (distribution/reference): [registry[:port]/]path[:tag][@digest]. Normalisation follows
 * Docker: no registry means docker.io, a single-element path on docker.io gets "library/",
 * "index.docker.io" is spelled "docker.io". Every module uses the normalised form, so jobs,
 * summaries and report lookups agree on one spelling of each image.
 */
#ifndef PF_REF_H
#define PF_REF_H

#include "pf/config.h"
#include "pf/setup.h"

#define PF_DOCKER_HUB "docker.io"
#define PF_DOCKER_HUB_API "registry-1.docker.io"

struct pf_ref {
    char *registry;   /* "docker.io", "ghcr.io", "127.0.0.1:5000"; lowercase host */
    char *repository; /* "library/nginx", "myorg/team/app" */
    char *tag;        /* NULL when absent */
    char *digest;     /* "sha256:<64 hex>"; NULL when absent */
};

/*
 * Parses `s` into *ret (normalised). Returns 0, -EINVAL with the reason in errbuf (e.g.
 * "invalid reference 'Nginx': repository name must be lowercase"), or -ENOMEM.
 * On failure *ret is left zeroed.
 */
int pf_ref_parse(const char *s, struct pf_ref *ret, char *errbuf, size_t errlen);

/* Like pf_ref_parse() but a tag or digest is an error: `s` must name a repository. */
int pf_ref_parse_repository(const char *s, struct pf_ref *ret, char *errbuf, size_t errlen);

void pf_ref_release(struct pf_ref *r);
/* Deep copy. Returns 0 or -ENOMEM. */
int pf_ref_copy(const struct pf_ref *src, struct pf_ref *ret);

/* "docker.io/library/nginx:1.25@sha256:..." (the parts that are set); new string or NULL. */
char *pf_ref_to_string(const struct pf_ref *r);
/* "docker.io/library/nginx"; new string or NULL. */
char *pf_ref_repository_string(const struct pf_ref *r);
/* The host to talk HTTP to: registry-1.docker.io for docker.io, else the registry. Borrowed. */
const char *pf_ref_api_host(const struct pf_ref *r);
/* The repository's last path element ("redis" for quay.io/opstree/redis). Borrowed. */
const char *pf_ref_basename(const struct pf_ref *r);

/* Checks a tag against the grammar [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool pf_tag_is_valid(const char *tag);
/* Checks "sha256:<64 lowercase hex>" (other algorithms are refused: we can only verify sha256). */
bool pf_digest_is_valid(const char *digest);

/*
 * The repository patched images of `source` (a repository ref) go to, by Copa's rule plus
 * our extension:
 *   target->repository set  → that repository exactly;
 *   target->registry set    → registry (trailing '/' trimmed) + "/" + last element of source;
 *   neither                 → the source repository itself.
 * Returns 0 and a new ref (no tag) in *ret, -EINVAL with a reason in errbuf, or -ENOMEM.
 */
int pf_ref_target_repository(const struct pf_ref *source, const struct pf_target *target,
                             struct pf_ref *ret, char *errbuf, size_t errlen);

#endif
