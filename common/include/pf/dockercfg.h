/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry credentials the way docker, podman and skopeo find them: Docker's config.json
 * (`auths` with base64 "user:pass" or an identity token, `credHelpers`, `credsStore`), then
 * containers' auth.json. Credential helpers (docker-credential-NAME) are run directly with
 * posix_spawnp, never through a shell, with bounded output and a deadline. Secrets found here
 * must never reach a log line or an error message; this module's messages never contain them.
 */
#ifndef PF_DOCKERCFG_H
#define PF_DOCKERCFG_H

#include "pf/setup.h"

struct pf_cred {
    char *username;       /* NULL when only an identity token is known */
    char *password;       /* NULL when absent */
    char *identity_token; /* OAuth2 refresh token ("identitytoken"); NULL when absent */
};

/* Frees the strings (after wiping them); safe on a zeroed struct. */
void pf_cred_release(struct pf_cred *c);

/*
 * Looks up credentials for registry `host` ("docker.io", "ghcr.io", "127.0.0.1:5000"; Docker
 * Hub may also be spelled index.docker.io or registry-1.docker.io). `config_path`, when not
 * NULL, is the only file consulted; otherwise $DOCKER_CONFIG/config.json (or
 * ~/.docker/config.json), then $REGISTRY_AUTH_FILE, then $XDG_RUNTIME_DIR/containers/auth.json,
 * first match wins. Within a file: credHelpers[host], then auths[host], then credsStore.
 * Returns 0 with new strings in *ret, -ENOENT when nothing is configured for `host`, or another
 * negative errno (unreadable/malformed file, failing helper) with a secret-free reason.
 */
int pf_dockercfg_lookup(const char *config_path, const char *host, struct pf_cred *ret,
                        char *errbuf, size_t errlen);

/* The server URL Docker uses as the key for `host`: "https://index.docker.io/v1/" for Docker
 * Hub, `host` itself otherwise. Borrowed (static or `host`). */
const char *pf_dockercfg_server_url(const char *host);

#endif
