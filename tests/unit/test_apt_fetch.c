/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for worker/apt_fetch against the file:// repository in tests/data/apt-fetch
 * (apt-ftparchive + gpg, made by tests/harness/make_apt_fetch_fixture.sh; Valid-Until ten years
 * after 2026-11-26): a verified load, Signed-By read from an image layer, tampered InRelease,
 * Packages and .deb refused with -EBADMSG, expired Valid-Until, mirror rewrites, the index
 * caches (decompressed text kept under the plain Packages hash, re-verified on every read) and
 * the .deb cache, the default sources of distroless images, and sources loaded on parallel
 * threads yet merged (and failing) in source order. Each test works on a private copy
 * of the repository so it can tamper with it.
 */
#include "pf_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/mirror_fetch.h"
#include "pf/strv.h"
#include "deb/apt_fetch.h"
#include "deb/apt_index.h"
#include "deb/apt_sources.h"
#include "image/layer_view.h"
#include "engine/os_release.h"

/* 2026-11-30, between the fixture's Date and its Valid-Until. */
#define NOW ((time_t)1796000000)
#define FIXTURE PF_TEST_DATA "/apt-fetch"
#define PKGS "dists/pftest/main/binary-amd64/Packages"

struct env {
    char tmp[64];
    char repo[128];
    char cache[128];
    struct worker_apt_fetcher *f;
    struct worker_apt_sources src;
    struct worker_apt_index *idx;
    char err[1024];
};

/* Runs `cp -a` or `rm -rf` on paths this test made (mkdtemp names, no quotes in them). */
static void sh2(const char *verb, const char *a, const char *b)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd), "%s '%s' %s%s%s", verb, a, b ? "'" : "", b ? b : "", b ? "'" : "");
    assert_int_equal(system(cmd), 0);
}

static void env_setup(struct env *e, const char *keyring)
{
    struct worker_apt_fetch_options o = {.default_keyring = keyring, .now = NOW};

    memset(e, 0, sizeof(*e));
    snprintf(e->tmp, sizeof(e->tmp), "/tmp/pf-apt-fetch-XXXXXX");
    assert_non_null(mkdtemp(e->tmp));
    snprintf(e->repo, sizeof(e->repo), "%s/repo", e->tmp);
    snprintf(e->cache, sizeof(e->cache), "%s/cache", e->tmp);
    sh2("cp -a", FIXTURE "/repo", e->tmp);
    o.cache_dir = e->cache;
    assert_int_equal(worker_apt_fetcher_new(&o, &e->f, e->err, sizeof(e->err)), 0);
}

static void env_sources(struct env *e, const char *opts, const char *uri)
{
    char line[512];

    snprintf(line, sizeof(line), "deb %s %s pftest main\n", opts, uri ? uri : "");
    if (!uri)
        snprintf(line, sizeof(line), "deb %s file://%s pftest main\n", opts, e->repo);
    assert_int_equal(worker_apt_sources_parse_list(&e->src, "test.list", line, strlen(line), e->err,
                                                   sizeof(e->err)),
                     1);
}

static int env_load(struct env *e, const struct worker_layer_view *view)
{
    e->idx = worker_apt_index_free(e->idx);
    return worker_apt_fetcher_load(e->f, &e->src, view, "amd64", e->tmp, &e->idx, e->err,
                                   sizeof(e->err));
}

static void env_done(struct env *e)
{
    worker_apt_index_free(e->idx);
    worker_apt_sources_clear(&e->src);
    worker_apt_fetcher_free(e->f);
    sh2("rm -rf", e->tmp, NULL);
}

/* Replaces the first `needle` in `path` by `repl` (same length), in place. */
static void tamper(const char *path, const char *needle, const char *repl)
{
    struct pf_buf b = PF_BUF_INIT;
    char *hit;
    FILE *fp;

    assert_int_equal(pf_buf_read_file(&b, path), 0);
    hit = memmem(b.p, b.len, needle, strlen(needle));
    assert_non_null(hit);
    memcpy(hit, repl, strlen(repl));
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b.p, 1, b.len, fp), b.len);
    assert_int_equal(fclose(fp), 0);
    pf_buf_release(&b);
}

static void flip_last_byte(const char *path)
{
    int fd = open(path, O_RDWR);
    off_t end = lseek(fd, 0, SEEK_END);
    unsigned char c = 0;

    assert_true(fd >= 0 && end > 0);
    assert_int_equal(pread(fd, &c, 1, end - 1), 1);
    c ^= 0x01;
    assert_int_equal(pwrite(fd, &c, 1, end - 1), 1);
    close(fd);
}

static const struct worker_apt_candidate *best(const struct env *e, const char *name)
{
    const struct worker_apt_candidate *const *c = NULL;

    return worker_apt_index_lookup(e->idx, name, &c) > 0 ? c[0] : NULL;
}

static void test_load_verified(void **state)
{
    struct env e;
    char path[256];
    const struct worker_apt_candidate *c;

    (void)state;
    env_setup(&e, FIXTURE "/keyring.gpg");
    env_sources(&e, "", NULL);
    /* The plain and .gz indexes are broken: only the .xz one (listed first) may be used. */
    snprintf(path, sizeof(path), "%s/" PKGS, e.repo);
    flip_last_byte(path);
    snprintf(path, sizeof(path), "%s/" PKGS ".gz", e.repo);
    flip_last_byte(path);
    assert_int_equal(env_load(&e, NULL), 0);
    c = best(&e, "pf-hello");
    assert_non_null(c);
    assert_string_equal(c->version, "1.1-1");
    assert_string_equal(c->depends, "pf-data (>= 1.0)");
    snprintf(path, sizeof(path), "file://%s", e.repo);
    assert_string_equal(c->base_url, path);
    c = best(&e, "pf-data");
    assert_non_null(c);
    assert_string_equal(c->arch, "all");
    /* Listed by both binary-amd64 and binary-all, like Debian's own archive. */
    assert_int_equal(worker_apt_index_size(e.idx), 4);

    /* Second load: served from the fetcher's caches, the repository's indexes are gone. */
    snprintf(path, sizeof(path), "%s/" PKGS ".xz", e.repo);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(env_load(&e, NULL), 0);
    assert_non_null(best(&e, "pf-hello"));

    /* A new fetcher on the same cache directory uses the verified index on disk. */
    worker_apt_fetcher_free(e.f);
    e.f = NULL;
    {
        struct worker_apt_fetch_options o = {.cache_dir = e.cache,
                                             .default_keyring = FIXTURE "/keyring.gpg",
                                             .now = NOW};

        assert_int_equal(worker_apt_fetcher_new(&o, &e.f, e.err, sizeof(e.err)), 0);
    }
    assert_int_equal(env_load(&e, NULL), 0);
    assert_non_null(best(&e, "pf-hello"));
    env_done(&e);
}

static void test_bad_inrelease(void **state)
{
    struct env e;
    char path[256];

    (void)state;
    /* A byte changed in the signed text. */
    env_setup(&e, FIXTURE "/keyring.gpg");
    env_sources(&e, "", NULL);
    snprintf(path, sizeof(path), "%s/dists/pftest/InRelease", e.repo);
    tamper(path, "Label: patchfleet", "Label: patchfleeT");
    assert_int_equal(env_load(&e, NULL), -EBADMSG);
    assert_non_null(strstr(e.err, "InRelease 'file://"));
    assert_non_null(strstr(e.err, "failed verification"));
    assert_null(e.idx);
    env_done(&e);

    /* A good signature by a key that is not trusted. */
    env_setup(&e, PF_TEST_DATA "/apt/other-keyring.gpg");
    env_sources(&e, "", NULL);
    assert_int_equal(env_load(&e, NULL), -EBADMSG);
    assert_non_null(strstr(e.err, "/dists/pftest/InRelease' failed verification"));
    env_done(&e);

    /* No Signed-By and no default keyring: nothing can vouch for the repository. */
    env_setup(&e, NULL);
    env_sources(&e, "", NULL);
    assert_int_equal(env_load(&e, NULL), -ENOKEY);
    env_done(&e);
}

static void test_bad_packages(void **state)
{
    struct env e;
    char path[256];

    (void)state;
    env_setup(&e, FIXTURE "/keyring.gpg");
    env_sources(&e, "", NULL);
    snprintf(path, sizeof(path), "%s/" PKGS ".xz", e.repo);
    flip_last_byte(path);
    assert_int_equal(env_load(&e, NULL), -EBADMSG);
    assert_non_null(strstr(e.err, "binary-amd64/Packages.xz' does not match its Release"));
    env_done(&e);
}

static void test_expired(void **state)
{
    struct env e;
    struct worker_apt_fetch_options o = {.default_keyring = FIXTURE "/keyring.gpg",
                                         .now = (time_t)2200000000};

    (void)state;
    env_setup(&e, FIXTURE "/keyring.gpg");
    env_sources(&e, "", NULL);
    worker_apt_fetcher_free(e.f);
    o.cache_dir = e.cache;
    assert_int_equal(worker_apt_fetcher_new(&o, &e.f, e.err, sizeof(e.err)), 0);
    assert_int_equal(env_load(&e, NULL), -ESTALE);
    assert_non_null(strstr(e.err, "Release of 'file://"));
    env_done(&e);
}

static bool keep_all(const char *path, void *userdata)
{
    (void)path;
    (void)userdata;
    return true;
}

static void test_signed_by_from_image(void **state)
{
    const struct worker_layer_view_options vo = {.keep = keep_all};
    struct worker_layer_view *view = NULL;
    int fd = open(FIXTURE "/image-keyring.tar", O_RDONLY | O_CLOEXEC);
    char verr[256] = "";
    struct env e;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(worker_layer_view_new(&vo, &view), 0);
    assert_int_equal(worker_layer_view_apply_fd(view, fd, verr, sizeof(verr)), 0);
    close(fd);
    /* The default keyring is the wrong key: only the image's Signed-By can make this work. */
    env_setup(&e, PF_TEST_DATA "/apt/other-keyring.gpg");
    env_sources(&e, "[signed-by=/usr/share/keyrings/pftest.gpg]", NULL);
    assert_int_equal(env_load(&e, view), 0);
    assert_non_null(best(&e, "pf-hello"));
    worker_apt_sources_clear(&e.src);
    /* A Signed-By path the image does not have. */
    env_sources(&e, "[signed-by=/usr/share/keyrings/missing.gpg]", NULL);
    assert_int_equal(env_load(&e, view), -ENOENT);
    assert_non_null(strstr(e.err, "missing.gpg"));
    env_done(&e);
    worker_layer_view_free(view);
}

static void test_signed_by_inline(void **state)
{
    struct pf_buf sources = PF_BUF_INIT;
    size_t len = 0;
    char *key = pf_test_read_data("apt-fetch/keyring.asc", &len);
    struct env e;

    (void)state;
    env_setup(&e, PF_TEST_DATA "/apt/other-keyring.gpg");
    assert_int_equal(pf_buf_appendf(&sources,
                                    "Types: deb\nURIs: file://%s\nSuites: pftest\n"
                                    "Components: main\nSigned-By:\n",
                                    e.repo),
                     0);
    /* deb822 folding: each key line indented, an empty line written as " ." */
    for (char *line = key, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_int_equal(pf_buf_appendf(&sources, " %s\n", *line ? line : "."), 0);
    }
    assert_int_equal(worker_apt_sources_parse_deb822(&e.src, "pf.sources", sources.p, sources.len,
                                                     e.err, sizeof(e.err)),
                     1);
    assert_true(e.src.v[0].signed_by_inline);
    assert_int_equal(env_load(&e, NULL), 0);
    assert_non_null(best(&e, "pf-hello"));
    env_done(&e);
    pf_buf_release(&sources);
    pf_free(key);
}

static void test_get_deb(void **state)
{
    const struct worker_apt_candidate *c;
    char *path = NULL, *path2 = NULL, src[256];
    struct env e;
    struct stat st;

    (void)state;
    env_setup(&e, FIXTURE "/keyring.gpg");
    env_sources(&e, "", NULL);
    assert_int_equal(env_load(&e, NULL), 0);
    c = best(&e, "pf-hello");
    assert_int_equal(worker_apt_fetcher_get_deb(e.f, c, &path, e.err, sizeof(e.err)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((uint64_t)st.st_size, c->size);
    assert_non_null(strstr(path, c->sha256));
    /* Cache hit: the repository's copy is gone, the cached file is used. */
    snprintf(src, sizeof(src), "%s/%s", e.repo, c->filename);
    assert_int_equal(unlink(src), 0);
    assert_int_equal(worker_apt_fetcher_get_deb(e.f, c, &path2, e.err, sizeof(e.err)), 0);
    assert_string_equal(path, path2);
    pf_free(path);
    pf_free(path2);

    /* A .deb whose bytes differ from the index is refused and not kept. */
    c = best(&e, "pf-data");
    snprintf(src, sizeof(src), "%s/%s", e.repo, c->filename);
    flip_last_byte(src);
    path = NULL;
    assert_int_equal(worker_apt_fetcher_get_deb(e.f, c, &path, e.err, sizeof(e.err)), -EBADMSG);
    assert_null(path);
    assert_non_null(strstr(e.err, "package 'pf-data' 1.0 from 'file://"));
    snprintf(src, sizeof(src), "%s/debs/%s.deb", e.cache, c->sha256);
    assert_int_equal(access(src, F_OK), -1);
    env_done(&e);
}

static void test_mirror(void **state)
{
    struct pf_strv m = PF_STRV_INIT;
    struct pf_strv bad = PF_STRV_INIT;
    struct worker_apt_fetch_options o = {.default_keyring = FIXTURE "/keyring.gpg",
                                         .now = NOW,
                                         .mirrors = &m};
    char *out = NULL, rule[256], want[256];
    struct env e;

    (void)state;
    assert_int_equal(pf_strv_push(&m, "http://deb.debian.org=http://mirror.local"), 0);
    assert_int_equal(pf_strv_push(&m, "http://deb.debian.org/debian-security=https://sec.local/ds"),
                     0);
    assert_int_equal(pf_mirror_rewrite(&m, "http://deb.debian.org/debian", &out), 0);
    assert_string_equal(out, "http://mirror.local/debian");
    out = pf_free(out);
    assert_int_equal(pf_mirror_rewrite(&m, "http://deb.debian.org/debian-security", &out), 0);
    assert_string_equal(out, "https://sec.local/ds"); /* the longest FROM wins */
    out = pf_free(out);
    assert_int_equal(pf_mirror_rewrite(&m, "http://other.org/x", &out), 0);
    assert_string_equal(out, "http://other.org/x");
    out = pf_free(out);
    assert_int_equal(pf_mirror_rewrite(NULL, "http://a", &out), 0);
    assert_string_equal(out, "http://a");
    out = pf_free(out);
    assert_int_equal(pf_strv_push(&bad, "no-equals-sign"), 0);
    assert_int_equal(pf_mirror_rewrite(&bad, "http://a", &out), -EINVAL);
    pf_strv_clear(&m);

    /* A load through a rewrite: the image names a host that does not exist. */
    env_setup(&e, FIXTURE "/keyring.gpg");
    worker_apt_fetcher_free(e.f);
    snprintf(rule, sizeof(rule), "http://deb.example.invalid/debian=file://%s", e.repo);
    assert_int_equal(pf_strv_push(&m, rule), 0);
    o.cache_dir = e.cache;
    assert_int_equal(worker_apt_fetcher_new(&o, &e.f, e.err, sizeof(e.err)), 0);
    env_sources(&e, "", "http://deb.example.invalid/debian/");
    assert_int_equal(env_load(&e, NULL), 0);
    snprintf(want, sizeof(want), "file://%s", e.repo);
    assert_string_equal(best(&e, "pf-hello")->base_url, want);
    env_done(&e);
    o.mirrors = &bad;
    assert_int_equal(worker_apt_fetcher_new(&o, &e.f, e.err, sizeof(e.err)), -EINVAL);
    pf_strv_clear(&m);
    pf_strv_clear(&bad);
}

static void test_default_sources(void **state)
{
    struct worker_apt_sources s = WORKER_APT_SOURCES_INIT;
    struct worker_os_release osr = {0};

    (void)state;
    osr.family = WORKER_DISTRO_DEBIAN;
    osr.version_codename = (char *)(uintptr_t) "bookworm";
    assert_int_equal(worker_apt_default_sources(&osr, "amd64", &s), 3);
    assert_string_equal(s.v[0].uri, "http://deb.debian.org/debian");
    assert_string_equal(s.v[0].suite, "bookworm");
    assert_string_equal(s.v[1].suite, "bookworm-updates");
    assert_string_equal(s.v[2].uri, "http://deb.debian.org/debian-security");
    assert_string_equal(s.v[2].suite, "bookworm-security");
    assert_string_equal(s.v[2].components.v[0], "main");
    worker_apt_sources_clear(&s);

    osr.family = WORKER_DISTRO_UBUNTU;
    osr.version_codename = (char *)(uintptr_t) "jammy";
    assert_int_equal(worker_apt_default_sources(&osr, "arm64", &s), 3);
    assert_string_equal(s.v[0].uri, "http://ports.ubuntu.com/ubuntu-ports");
    assert_string_equal(s.v[2].suite, "jammy-security");
    worker_apt_sources_clear(&s);
    assert_int_equal(worker_apt_default_sources(&osr, "amd64", &s), 3);
    assert_string_equal(s.v[1].uri, "http://archive.ubuntu.com/ubuntu");
    assert_string_equal(s.v[1].suite, "jammy-updates");
    worker_apt_sources_clear(&s);

    osr.version_codename = NULL;
    assert_int_equal(worker_apt_default_sources(&osr, "amd64", &s), -ENOTSUP);
    osr.family = WORKER_DISTRO_ALPINE;
    osr.version_codename = (char *)(uintptr_t) "x";
    assert_int_equal(worker_apt_default_sources(&osr, "amd64", &s), -ENOTSUP);
    assert_int_equal(s.n, 0);
}

/* The Release's SHA256 of the plain amd64 Packages and of its .xz (the fixture's InRelease). */
#define PLAIN_HEX "6ce99be8ede4f51a249d1c93192144484013c86156dd99c0bfcb8dfc4a0615da"
#define XZ_HEX "a641b676b241813c620185ec07b50177bf175991c4cda95e76fbdd48f1c3d74c"

static void env_new_fetcher(struct env *e)
{
    struct worker_apt_fetch_options o = {.cache_dir = e->cache,
                                         .default_keyring = FIXTURE "/keyring.gpg",
                                         .now = NOW};

    worker_apt_fetcher_free(e->f);
    e->f = NULL;
    assert_int_equal(worker_apt_fetcher_new(&o, &e->f, e->err, sizeof(e->err)), 0);
}

static void test_plain_index_cache(void **state)
{
    struct env e;
    char xz[256], plain[256], cached_xz[256];

    (void)state;
    env_setup(&e, FIXTURE "/keyring.gpg");
    env_sources(&e, "", NULL);
    snprintf(xz, sizeof(xz), "%s/" PKGS ".xz", e.repo);
    snprintf(plain, sizeof(plain), "%s/indexes/" PLAIN_HEX, e.cache);
    snprintf(cached_xz, sizeof(cached_xz), "%s/indexes/" XZ_HEX, e.cache);
    assert_int_equal(env_load(&e, NULL), 0);
    /* The decompressed text is cached under the Release's hash of the plain Packages, and the
     * .xz, which a warm run no longer needs, is not kept. */
    assert_int_equal(access(plain, F_OK), 0);
    assert_int_equal(access(cached_xz, F_OK), -1);

    /* A damaged cache file is refused and replaced by a fresh, verified copy. */
    flip_last_byte(plain);
    env_new_fetcher(&e);
    assert_int_equal(env_load(&e, NULL), 0);
    assert_string_equal(best(&e, "pf-hello")->version, "1.1-1");

    /* Warm: the repository's .xz is gone, the plain text on disk is enough. */
    assert_int_equal(unlink(xz), 0);
    env_new_fetcher(&e);
    assert_int_equal(env_load(&e, NULL), 0);
    assert_string_equal(best(&e, "pf-hello")->version, "1.1-1");
    assert_int_equal(worker_apt_index_size(e.idx), 4);

    /* Damaged again with no .xz to fall back on: the load fails rather than trusting it. */
    flip_last_byte(plain);
    env_new_fetcher(&e);
    assert_int_equal(env_load(&e, NULL), -ENOENT);
    env_done(&e);
}

/* Sources `repo` and `repo2` (a copy) plus one for another arch, which is skipped. */
static void env_two_repos(struct env *e)
{
    char repo2[160], list[1024];

    snprintf(repo2, sizeof(repo2), "%s/repo2", e->tmp);
    sh2("cp -a", e->repo, repo2);
    snprintf(list, sizeof(list),
             "deb file://%s pftest main\ndeb file://%s pftest main\n"
             "deb [arch=arm64] file://%s/none pftest main\n",
             e->repo, repo2, e->tmp);
    assert_int_equal(worker_apt_sources_parse_list(&e->src, "test.list", list, strlen(list), e->err,
                                                   sizeof(e->err)),
                     3);
}

static void test_parallel_sources(void **state)
{
    const struct worker_apt_candidate *const *c = NULL;
    char path[256];
    struct env e;

    (void)state;
    /* Sources are fetched on threads of their own, yet the index is built in source order:
     * among equal versions the first source's candidate comes first, on every (cold) run. */
    for (int run = 0; run < 3; run++) {
        env_setup(&e, FIXTURE "/keyring.gpg");
        env_two_repos(&e);
        assert_int_equal(env_load(&e, NULL), 0);
        assert_int_equal(worker_apt_index_size(e.idx), 8);
        assert_int_equal(worker_apt_index_lookup(e.idx, "pf-hello", &c), 4); /* 1.1-1, 1.0-1 each */
        assert_string_equal(c[0]->base_url + strlen(c[0]->base_url) - 5, "/repo");
        assert_string_equal(c[1]->base_url + strlen(c[1]->base_url) - 6, "/repo2");
        env_done(&e);
    }

    /* Only the second source is broken: its error is reported. (Its InRelease: its Packages
     * equal the first's, and an index is cached by content, so that would never be read.) */
    env_setup(&e, FIXTURE "/keyring.gpg");
    env_two_repos(&e);
    snprintf(path, sizeof(path), "%s/repo2/dists/pftest/InRelease", e.tmp);
    tamper(path, "Label: patchfleet", "Label: patchfleeT");
    assert_int_equal(env_load(&e, NULL), -EBADMSG);
    assert_non_null(strstr(e.err, "/repo2/dists/pftest/InRelease' failed verification"));
    assert_null(e.idx);
    env_done(&e);

    /* Both broken, the second differently: the first source's error wins, as sequentially. */
    env_setup(&e, FIXTURE "/keyring.gpg");
    env_two_repos(&e);
    snprintf(path, sizeof(path), "%s/repo2/dists/pftest/InRelease", e.tmp);
    tamper(path, "Label: patchfleet", "Label: patchfleeT");
    snprintf(path, sizeof(path), "%s/" PKGS ".xz", e.repo);
    flip_last_byte(path);
    assert_int_equal(env_load(&e, NULL), -EBADMSG);
    assert_non_null(strstr(e.err, "/repo/dists/pftest/main/binary-amd64/Packages.xz' does not"));
    env_done(&e);
}

/* A Release listing a .xz the mirror does not have: a missing file, not a decompression error
 * (the streamed decompression sees no body). */
static void test_missing_xz(void **state)
{
    struct env e;
    char path[256];

    (void)state;
    env_setup(&e, FIXTURE "/keyring.gpg");
    env_sources(&e, "", NULL);
    snprintf(path, sizeof(path), "%s/" PKGS ".xz", e.repo);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(env_load(&e, NULL), -ENOENT);
    assert_non_null(strstr(e.err, "binary-amd64/Packages.xz"));
    env_done(&e);
}

/* A Release saying "No-Support-for-Architecture-all: Packages" (as Debian's and Ubuntu's do):
 * binary-all/ is not read even though Architectures names "all", as apt does; its arch-all
 * packages are in binary-amd64/. The fixture's Release re-signed with a throwaway key. */
static void test_no_support_for_arch_all(void **state)
{
    struct env e;
    char cmd[2048], ring[160], path[256];
    const struct worker_apt_candidate *const *c = NULL;
    struct worker_apt_fetch_options o = {.default_keyring = ring, .now = NOW};

    (void)state;
    env_setup(&e, NULL);
    snprintf(ring, sizeof(ring), "%s/ring.gpg", e.tmp);
    snprintf(cmd, sizeof(cmd),
             "set -e; . '" PF_TEST_DATA "/../harness/apt_repo.sh'; apt_gpg_home '%s/g';"
             "trap apt_gpg_stop EXIT; apt_export_keyring '%s'; d='%s/dists/pftest';"
             "sed -n '/^Hash:/,/^-----BEGIN PGP SIGNATURE/p' \"$d/InRelease\""
             " | sed '1,2d;$d' >'%s/R';"
             "echo 'No-Support-for-Architecture-all: Packages' >>'%s/R';"
             "gpg --homedir \"$APT_GNUPGHOME\" --batch --yes --digest-algo SHA256 --clearsign"
             " -o \"$d/InRelease\" '%s/R'",
             e.tmp, ring, e.repo, e.tmp, e.tmp, e.tmp);
    assert_int_equal(system(cmd), 0);
    env_sources(&e, "", NULL);
    o.cache_dir = e.cache; /* a fetcher whose default keyring is the throwaway key */
    e.f = worker_apt_fetcher_free(e.f);
    assert_int_equal(worker_apt_fetcher_new(&o, &e.f, e.err, sizeof(e.err)), 0);
    /* A broken binary-all/ would fail the load if it were read. */
    snprintf(path, sizeof(path), "%s/dists/pftest/main/binary-all/Packages", e.repo);
    flip_last_byte(path);
    assert_int_equal(env_load(&e, NULL), 0);
    assert_int_equal(worker_apt_index_size(e.idx), 3);
    assert_int_equal(worker_apt_index_lookup(e.idx, "pf-data", &c), 1);
    env_done(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_verified),
        cmocka_unit_test(test_bad_inrelease),
        cmocka_unit_test(test_bad_packages),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_signed_by_from_image),
        cmocka_unit_test(test_get_deb),
        cmocka_unit_test(test_mirror),
        cmocka_unit_test(test_signed_by_inline),
        cmocka_unit_test(test_default_sources),
        cmocka_unit_test(test_plain_index_cache),
        cmocka_unit_test(test_parallel_sources),
        cmocka_unit_test(test_missing_xz),
        cmocka_unit_test(test_no_support_for_arch_all),
    };

    return cmocka_run_group_tests_name("apt_fetch", tests, NULL, NULL);
}
