/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patchfleet's libarchive wrapper, and the one place that includes <archive.h> and
 * <archive_entry.h>. It is thin on purpose: libarchive's streaming API (struct archive,
 * archive_read_next_header, archive_read_data...) is the model, and callers use it through
 * this header. What lives here is the policy every caller must share:
 *
 * - readers decode in process only, with exactly the filters and formats the caller names
 *   (never archive_read_support_filter_all, which may run external programs such as lrzip);
 * - writers are configured for reproducible output (no gzip timestamp, fixed level, no
 *   blocking), so the same entries always give the same bytes and digests;
 * - one check for the entry names of hostile tars (layers, .deb and .apk members), below.
 */
#ifndef PF_ARCHIVE_H
#define PF_ARCHIVE_H

#include "pf/setup.h"

#include <archive.h>
#include <archive_entry.h>

/* Decompression filters a reader may enable (in-process decoders only). */
#define PF_ARCHIVE_FILTER_GZIP 0x01u
#define PF_ARCHIVE_FILTER_ZSTD 0x02u
#define PF_ARCHIVE_FILTER_XZ 0x04u
#define PF_ARCHIVE_FILTER_BZIP2 0x08u
#define PF_ARCHIVE_FILTER_LZMA 0x10u

/* Formats a reader may accept. RAW is "one anonymous stream" (a compressed single file);
 * EMPTY accepts a zero-byte input as an archive without entries. */
#define PF_ARCHIVE_FORMAT_TAR 0x01u
#define PF_ARCHIVE_FORMAT_RAW 0x02u
#define PF_ARCHIVE_FORMAT_EMPTY 0x04u

/*
 * Creates a reader that accepts exactly `filters` (PF_ARCHIVE_FILTER_*, 0 for uncompressed
 * input) and `formats` (PF_ARCHIVE_FORMAT_*). Returns 0 and a new reader in *ret (the caller
 * opens it and frees it with archive_read_free), -ENOMEM, or -ENOTSUP when libarchive has no
 * in-process decoder for a requested filter (it would have run an external program).
 */
int pf_archive_read_new(unsigned filters, unsigned formats, struct archive **ret);

/*
 * Maps a compression file-name suffix without the dot ("gz", "xz", "zst", "bz2", "lzma", or
 * "" for none) to its PF_ARCHIVE_FILTER_* flag (0 for ""). Returns -ENOTSUP for anything else.
 */
int pf_archive_filter_by_suffix(const char *suffix);

enum pf_archive_writer {
    /* One anonymous gzip stream (format raw): gzip level 6, no timestamp in the gzip header,
     * no block padding. The caller writes one AE_IFREG header, then the tar bytes it built
     * itself; this is how layer blobs are compressed reproducibly. */
    PF_ARCHIVE_WRITE_GZIP_RAW,
    /* An uncompressed ustar archive whose last block is not padded to 10 KiB (bytes in last
     * block 1), as apk writes its scripts.tar. */
    PF_ARCHIVE_WRITE_USTAR,
    PF_ARCHIVE_WRITE__MAX,
};

/* Creates a writer of `kind`. Returns 0 and a new writer in *ret (the caller opens it and
 * frees it with archive_write_free), -ENOMEM, -EINVAL for an unknown kind, or -EIO when a
 * setting is refused (e.g. libarchive would use an external gzip, whose output is not
 * pinned). */
int pf_archive_write_new(enum pf_archive_writer kind, struct archive **ret);

/* libarchive's last error text for `a`, or "unknown error"; borrowed. */
const char *pf_archive_error(struct archive *a);

/*
 * Entry names of hostile tars. One check for every archive patchfleet reads (image layers,
 * .deb control.tar and data.tar, .apk data), covering the union of the rules the three
 * readers used to apply each on their own. A name is REFUSED when it
 *   - is missing (NULL),
 *   - is longer than PF_ARCHIVE_NAME_MAX bytes as stored (-ENAMETOOLONG),
 *   - is absolute (starts with '/'),
 *   - contains a control character (0x01-0x1f, 0x7f),
 *   - has a ".." component anywhere,
 *   - has more than PF_ARCHIVE_NAME_MAX_DEPTH components (-ENAMETOOLONG),
 *   - normalises to the empty name, i.e. the archive root ("", ".", "./"), unless
 *     PF_ARCHIVE_NAME_ROOT is given;
 * and it is NORMALISED by dropping "." components, empty components ("a//b") and trailing
 * '/' (which marks directories), so "./usr//bin/" becomes "usr/bin". With
 * PF_ARCHIVE_NAME_CANONICAL, "." components and empty components inside the name are refused
 * instead of dropped (only trailing '/' is stripped): apk's "malicious file name" rule, since
 * abuild never writes them and apk itself refuses such packages.
 *
 * Which caller uses which flags, and why:
 *   layer entries and .deb entries     ROOT (tars made by tar(1) and dpkg-deb start with "./")
 *   .apk data entries                  CANONICAL
 *   hard-link targets                  no ROOT (a hard link to the root is never valid), plus
 *                                      CANONICAL in .apk
 *   symlink targets                    pf_archive_entry_name_check_symlink(): they are not
 *                                      paths inside the archive but text the link holds, so
 *                                      absolute targets and ".." are allowed everywhere; the
 *                                      view resolves them clamped to the image root.
 * Refusal reasons go to errbuf as "'<name>' <why>" (the name cut at 64 bytes when too long).
 */
#define PF_ARCHIVE_NAME_MAX 4096u
#define PF_ARCHIVE_NAME_MAX_DEPTH 256u

#define PF_ARCHIVE_NAME_ROOT 0x1u      /* the empty (root) name is accepted */
#define PF_ARCHIVE_NAME_CANONICAL 0x2u /* "." and empty components are refused, not dropped */

/*
 * Checks and normalises tar entry name `in` per the rules above into `out` (at least
 * PF_ARCHIVE_NAME_MAX + 1 bytes; its content is undefined on failure). Returns 0, -EINVAL or
 * -ENAMETOOLONG.
 */
int pf_archive_entry_name_normalise(const char *in, unsigned flags,
                                    char out[PF_ARCHIVE_NAME_MAX + 1], char *errbuf, size_t errlen);

/* Checks a symlink target: present, not empty, at most PF_ARCHIVE_NAME_MAX bytes. Returns 0 or
 * -EINVAL. */
int pf_archive_entry_name_check_symlink(const char *target, char *errbuf, size_t errlen);

#endif
