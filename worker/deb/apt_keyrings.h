/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keyring selection for apt sources: Signed-By (files in the image, or an inline armored key)
 * or the operator's default keyring, prepared as files gpgv can read. See apt_keyrings.c.
 */
#ifndef WORKER_DEB_APT_KEYRINGS_H
#define WORKER_DEB_APT_KEYRINGS_H

#include "pf/setup.h"

struct worker_apt_source;
struct worker_layer_view;

/* Largest keyring read from an image. */
#define WORKER_APT_KEYRING_MAX ((size_t)1 << 20)

/* A prepared keyring: release with worker_apt_keyring_release(). */
struct worker_apt_keyring {
    char *ring; /* what gpgv is given: the default keyring, or `dir` */
    char *dir;  /* private directory of image keys, removed on release; NULL for the default */
    char *id;   /* identifies the key material ("default:<path>" or "image:<sha256>,...") */
};

/*
 * Chooses the keyring of `src`. Signed-By files are read from `view` (the image's own trust
 * root, as apt inside it would use; fingerprints are skipped, gpgv cannot restrict to one) and
 * written, dearmored when armored, to a new private directory under `workdir` (/tmp when NULL);
 * an inline Signed-By key likewise. Without Signed-By, `default_keyring` (a file or directory)
 * is used. Returns 0 with *ret filled (new strings); -ENOKEY when no keyring applies (no
 * Signed-By and no default, or a Signed-By naming no file); -ENOENT / -E2BIG (past
 * WORKER_APT_KEYRING_MAX or WORKER_GPGV_MAX_KEYRINGS) for an unreadable keyring; -EINVAL for
 * a malformed armored key; -ENOMEM; errbuf says why. *ret is untouched on failure and nothing
 * is left on disk.
 */
int worker_apt_keyring_prepare(const struct worker_apt_source *src, const char *default_keyring,
                               const struct worker_layer_view *view, const char *workdir,
                               struct worker_apt_keyring *ret, char *errbuf, size_t errlen);

/* Removes the private directory of `k` and frees its strings; accepts NULL or a zeroed one. */
void worker_apt_keyring_release(struct worker_apt_keyring *k);

#endif
