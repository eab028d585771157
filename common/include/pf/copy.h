/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copying an image or a whole index (every platform, attestations included) from one
 * repository to another, possibly on another registry. Blobs already present are skipped,
 * blobs on the same registry are mounted, the rest stream through a temporary file (bounded
 * memory) with their digest verified on the way down; the registry verifies it on the way up.
 * Manifests are pushed by digest first and the tag is set last, so a tag never points at an
 * incomplete image.
 */
#ifndef PF_COPY_H
#define PF_COPY_H

#include "pf/digest.h"
#include "pf/ref.h"
#include "pf/registry.h"
#include "pf/setup.h"

struct pf_copy_options {
    const char *tmpdir; /* for streamed blobs; NULL = $TMPDIR or /tmp */
};

struct pf_copy_stats {
    unsigned long blobs_total;
    unsigned long blobs_skipped; /* already at the destination */
    unsigned long blobs_mounted;
    unsigned long blobs_uploaded;
    uint64_t bytes_uploaded;
    unsigned long manifests_pushed;
    char digest[PF_DIGEST_BUFSZ]; /* digest of the top-level manifest or index */
};

/*
 * Copies `src` (tag or digest) to `dst` (its tag is set when present; with only a digest or
 * nothing, the content is pushed by digest only). `opts` and `stats` may be NULL; stats are
 * filled as far as the copy got, and `digest` only on success. Returns 0, or a negative errno
 * with the reason in errbuf (-EBADMSG on any digest mismatch; never success after one).
 */
int pf_copy_image(struct pf_registry *r, const struct pf_ref *src, const struct pf_ref *dst,
                  const struct pf_copy_options *opts, struct pf_copy_stats *stats, char *errbuf,
                  size_t errlen);

#endif
