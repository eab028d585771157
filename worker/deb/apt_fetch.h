/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fetching what the Debian engine needs from apt repositories: the InRelease of every source,
 * verified with gpgv against the source's Signed-By keyring (read from the image) or the
 * operator's default keyring; the Packages indexes that Release vouches for; and the .debs the
 * plan chose, each checked against its Packages SHA256 and size. One fetcher is shared by every
 * job of a process: it is thread-safe and caches verified indexes (memory and disk) and .debs
 * (cache_dir/debs/<sha256>.deb), so a sweep over many images fetches each file once.
 */
#ifndef WORKER_DEB_APT_FETCH_H
#define WORKER_DEB_APT_FETCH_H

#include <time.h>

#include "pf/setup.h"

struct pf_strv;
struct worker_apt_sources;
struct worker_layer_view;
struct worker_os_release;
struct worker_apt_index;
struct worker_apt_candidate;
struct worker_index_freshness;

/* Largest InRelease fetched. */
#define WORKER_APT_FETCH_MAX_INRELEASE ((size_t)16 << 20)
/* Largest compressed Packages index fetched. */
#define WORKER_APT_FETCH_MAX_INDEX ((size_t)128 << 20)
/* Decompressed indexes kept in memory by one fetcher, in bytes. */
#define WORKER_APT_FETCH_MEMCACHE_MAX ((size_t)512 << 20)

struct worker_apt_fetch_options {
    const char *cache_dir;         /* created if missing */
    const struct pf_strv *mirrors; /* "FROM=TO" URL prefix rewrites (--pkg-mirror), may be NULL */
    const char *default_keyring; /* file or dir used when a source has no Signed-By; may be NULL */
    const char *ca_file;         /* extra CA for https mirrors, may be NULL; TLS verify always on */
    time_t now;                  /* 0 = time(NULL); lets tests pin Valid-Until checks */
    /* Remembers each repository's newest Release Date and refuses an older one (borrowed,
     * shared, must outlive the fetcher); NULL checks nothing. */
    struct worker_index_freshness *freshness;
};

struct worker_apt_fetcher;

/*
 * Creates a fetcher; the options are copied. Creates cache_dir (and its debs/ and indexes/)
 * when missing. Returns 0 and a new fetcher in *ret (free with worker_apt_fetcher_free()),
 * -EINVAL for a malformed mirror rule or missing cache_dir, or a negative errno from mkdir;
 * errbuf says why.
 */
int worker_apt_fetcher_new(const struct worker_apt_fetch_options *o,
                           struct worker_apt_fetcher **ret, char *errbuf, size_t errlen);

/* Frees the fetcher and its memory cache (the disk cache stays); accepts NULL, returns NULL. */
struct worker_apt_fetcher *worker_apt_fetcher_free(struct worker_apt_fetcher *f);

/*
 * For every (uri, suite) of `sources` (type deb; flat repositories included): fetches InRelease
 * (mirror rewrites applied), verifies it with gpgv against the source's Signed-By (keyring
 * paths read from `view` and written to a private directory under `workdir`, or an inline
 * armored key) or else the default keyring, checks Date and Valid-Until, then fetches for each
 * component the Packages index of `arch` and of "all" when the Release lists it (Packages.xz,
 * else .gz, else plain; by hash when Acquire-By-Hash), verifies its SHA256 and size against the
 * Release, and parses it into a NEW index *ret (worker_apt_index_free() it).
 * "file:" and "file://" URIs are read from the local filesystem, http and https through
 * pf/mirror_fetch.h (peer and host verification always on). trusted=yes is ignored: everything is verified.
 * Returns 0; -EBADMSG when an InRelease fails verification or an index does not match (errbuf
 * names the URL); -ESTALE / -ERANGE for an expired or future-dated Release; -ENOENT for a
 * missing file, keyring or index; -ENOKEY when no keyring applies; -E2BIG past a size bound;
 * -EINVAL for a malformed Release or Packages; or another negative errno. *ret is untouched
 * on failure.
 */
int worker_apt_fetcher_load(struct worker_apt_fetcher *f, const struct worker_apt_sources *sources,
                            const struct worker_layer_view *view, const char *arch,
                            const char *workdir, struct worker_apt_index **ret, char *errbuf,
                            size_t errlen);

/*
 * Downloads (or finds in the cache, re-verified) the .deb of `c` from <base_url>/<filename>,
 * verifies its size and SHA256 (a mismatch is -EBADMSG naming the package and URL; the bad
 * file is not kept) and returns its cache path as a new string in *ret_path (pf_free() it).
 * Returns 0 or a negative errno; *ret_path is untouched on failure.
 */
int worker_apt_fetcher_get_deb(struct worker_apt_fetcher *f, const struct worker_apt_candidate *c,
                               char **ret_path, char *errbuf, size_t errlen);

/*
 * Default sources for an image without any (distroless), from VERSION_CODENAME (Ubuntu:
 * UBUNTU_CODENAME too). Debian: deb.debian.org/debian {codename, codename-updates} main and
 * deb.debian.org/debian-security codename-security main ("sid" has only itself). Ubuntu:
 * archive.ubuntu.com/ubuntu {codename, -updates, -security} main, or ports.ubuntu.com/
 * ubuntu-ports for architectures other than amd64 and i386. Appends to `ret` (must be
 * initialised). Returns the number of sources added, -ENOTSUP for another distro or a missing
 * codename, or -ENOMEM (`ret` unchanged then).
 */
int worker_apt_default_sources(const struct worker_os_release *osr, const char *arch,
                               struct worker_apt_sources *ret);

#endif
