/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The standing hostile-input corpus: tests/data/hostile/<parser>/NAME.<ext> is an input that
 * the parser named by the directory must refuse, and NAME.expect holds a substring its error
 * text must contain (the field, line, entry or limit it names). Adding a case is adding two
 * files; a new class of hostile input stays refused because this walker fails the moment any
 * input in the corpus is accepted, or refused for another reason. docs/security.md lists the
 * parsers; tests/data/hostile/README.md says how cases are made.
 *
 * PF_HOSTILE_VERBOSE=1 prints every refusal, which is how the expectations were written.
 */
#include "pf_test.h"

#include <dirent.h>
#include <errno.h>
#include <unistd.h>

#include "apk/apk_db.h"
#include "apk/apk_file.h"
#include "deb/apt_index.h"
#include "deb/apt_release.h"
#include "deb/deb822.h"
#include "deb/deb_file.h"
#include "deb/dpkg_db.h"
#include "deb/dpkg_diversions.h"
#include "deb/dpkg_statoverride.h"
#include "image/layer_view.h"
#include "pf/config.h"
#include "pf/diag.h"
#include "pf/msg.h"
#include "pf/oci.h"
#include "pf/redis_url.h"
#include "pf/strv.h"

#define ERRLEN 1024

/* One input: its bytes (NUL-terminated copy), its path (for readers that open files). */
struct input {
    const char *path;
    const char *data;
    size_t len;
};

/* Each parser returns its status and leaves the reason in err. */
typedef int (*parse_fn)(const struct input *in, char *err, size_t errlen);

static int p_apt_release(const struct input *in, char *err, size_t errlen)
{
    struct worker_apt_release *rel = NULL;
    int r = worker_apt_release_parse(in->data, in->len, &rel, err, errlen);

    worker_apt_release_free(rel);
    return r;
}

static int p_apt_packages(const struct input *in, char *err, size_t errlen)
{
    struct worker_apt_index *idx = NULL;
    int r = worker_apt_index_new(&idx);

    if (r == 0)
        r = worker_apt_index_add_packages(idx, "http://mirror.invalid/debian", in->data, in->len,
                                          err, errlen);
    worker_apt_index_free(idx);
    return r;
}

static int p_deb822(const struct input *in, char *err, size_t errlen)
{
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    int r = worker_deb822_parse(in->data, in->len, NULL, &doc, err, errlen);

    worker_deb822_doc_clear(&doc);
    return r;
}

static int p_dpkg_status(const struct input *in, char *err, size_t errlen)
{
    struct worker_dpkg_db *db = NULL;
    int r = worker_dpkg_db_parse_status(in->data, in->len, &db, err, errlen);

    worker_dpkg_db_free(db);
    return r;
}

static int p_dpkg_statusd(const struct input *in, char *err, size_t errlen)
{
    struct worker_dpkg_db *db = worker_dpkg_db_new_statusd();
    int r;

    assert_non_null(db);
    r = worker_dpkg_db_add_statusd_file(db, "pkg", in->data, in->len, err, errlen);
    worker_dpkg_db_free(db);
    return r;
}

static int p_dpkg_statoverride(const struct input *in, char *err, size_t errlen)
{
    struct worker_dpkg_statoverrides s = {0};
    int r = worker_dpkg_statoverrides_parse(in->data, in->len, "root:x:0:0::/root:/bin/sh\n",
                                            "root:x:0:\n", &s, err, errlen);

    worker_dpkg_statoverrides_release(&s);
    return r;
}

static int p_dpkg_diversions(const struct input *in, char *err, size_t errlen)
{
    struct worker_dpkg_diversions d = {0};
    int r = worker_dpkg_diversions_parse(in->data, in->len, &d, err, errlen);

    worker_dpkg_diversions_release(&d);
    return r;
}

static int drain_deb(const struct worker_deb_data_entry *e, void *ctx, void *userdata)
{
    char buf[4096];
    ssize_t n;

    (void)e;
    (void)userdata;
    do
        n = worker_deb_data_read(ctx, buf, sizeof(buf));
    while (n > 0);
    return n < 0 ? (int)n : 0;
}

/* A .deb is refused when it is opened or, for data.tar entries, when it is walked. */
static int p_deb_file(const struct input *in, char *err, size_t errlen)
{
    struct worker_deb_file *d = NULL;
    int r = worker_deb_file_open(in->path, &d, err, errlen);

    if (r == 0)
        r = worker_deb_file_each_data(d, drain_deb, NULL, err, errlen);
    worker_deb_file_free(d);
    return r;
}

static int apk_db(const struct input *in, bool installed, char *err, size_t errlen)
{
    struct worker_apk_db db = {0};
    int r = worker_apk_db_parse(&db, in->data, in->len, installed, err, errlen);

    worker_apk_db_release(&db);
    return r;
}

static int p_apk_index(const struct input *in, char *err, size_t errlen)
{
    return apk_db(in, false, err, errlen);
}

static int p_apk_installed(const struct input *in, char *err, size_t errlen)
{
    return apk_db(in, true, err, errlen);
}

static void apk_test_keys(struct worker_apk_keys *k)
{
    size_t len;
    char *pem = pf_test_read_data("apk/test@patchfleet-5f00.rsa.pub", &len);

    *k = (struct worker_apk_keys){PF_STRV_INIT, PF_STRV_INIT};
    assert_int_equal(pf_strv_push(&k->names, "test@patchfleet-5f00.rsa.pub"), 0);
    assert_int_equal(pf_strv_push_take(&k->pems, pem), 0);
}

/* A signed APKINDEX.tar.gz, checked with the test repository's key. */
static int p_apk_signed_index(const struct input *in, char *err, size_t errlen)
{
    struct worker_apk_keys keys;
    char *text = NULL;
    size_t len = 0;
    int r;

    apk_test_keys(&keys);
    r = worker_apk_index_open(in->data, in->len, &keys, &text, &len, err, errlen);
    pf_free(text);
    worker_apk_keys_clear(&keys);
    return r;
}

/* An .apk offered for the identity (C:) of demo-base 1.0-r1 in tests/data/apk/APKINDEX.txt. */
static int p_apk_file(const struct input *in, char *err, size_t errlen)
{
    struct worker_apk_db db = {0};
    struct worker_apk_pkgfile f = {0};
    struct worker_apk_keys keys;
    size_t len;
    char *index = pf_test_read_data("apk/APKINDEX.txt", &len);
    const struct worker_apk_pkg *p = NULL;
    int r;

    assert_true(worker_apk_db_parse(&db, index, len, false, NULL, 0) > 0);
    for (size_t i = 0; i < db.n && !p; i++)
        if (strcmp(db.v[i].name, "demo-base") == 0 && strcmp(db.v[i].version, "1.0-r1") == 0)
            p = &db.v[i];
    assert_non_null(p);
    apk_test_keys(&keys);
    r = worker_apk_file_open(in->data, in->len, p ? p->identity : NULL, &keys, &f, err, errlen);
    worker_apk_file_release(&f);
    worker_apk_keys_clear(&keys);
    worker_apk_db_release(&db);
    pf_free(index);
    return r;
}

static int apk_entry(const struct worker_apk_entry *e, void *userdata)
{
    (void)e;
    (void)userdata;
    return 0;
}

/* An .apk data segment (a gzip'd tar) walked on its own: the entry checks, past the hashes. */
static int p_apk_data(const struct input *in, char *err, size_t errlen)
{
    struct worker_apk_pkgfile f = {.data = (const unsigned char *)in->data, .data_len = in->len};

    return worker_apk_file_each(&f, apk_entry, NULL, err, errlen);
}

/* An image layer tar applied to an empty merged view. */
static int p_layer(const struct input *in, char *err, size_t errlen)
{
    struct worker_layer_view_options o = {0};
    struct worker_layer_view *v = NULL;
    int r = worker_layer_view_new(&o, &v);

    if (r == 0)
        r = worker_layer_view_apply_memory(v, in->data, in->len, err, errlen);
    worker_layer_view_free(v);
    return r;
}

static int p_oci_manifest(const struct input *in, char *err, size_t errlen)
{
    struct pf_manifest m;
    int r = pf_manifest_parse(in->data, in->len, &m, err, errlen);

    if (r == 0)
        pf_manifest_release(&m);
    return r;
}

static int p_oci_index(const struct input *in, char *err, size_t errlen)
{
    struct pf_index ix;
    int r = pf_index_parse(in->data, in->len, &ix, err, errlen);

    if (r == 0)
        pf_index_release(&ix);
    return r;
}

static int p_image_config(const struct input *in, char *err, size_t errlen)
{
    struct pf_image_config c;
    int r = pf_image_config_parse(in->data, in->len, &c, err, errlen);

    if (r == 0)
        pf_image_config_release(&c);
    return r;
}

static int p_msg_job(const struct input *in, char *err, size_t errlen)
{
    struct pf_msg_job m;
    int r = pf_msg_job_decode(in->data, in->len, &m, err, errlen);

    if (r == 0)
        pf_msg_job_release(&m);
    return r;
}

static int p_msg_result(const struct input *in, char *err, size_t errlen)
{
    struct pf_msg_result m;
    int r = pf_msg_result_decode(in->data, in->len, &m, err, errlen);

    if (r == 0)
        pf_msg_result_release(&m);
    return r;
}

/* The URL is the file's first line. */
static int p_redis_url(const struct input *in, char *err, size_t errlen)
{
    struct pf_redis_url u;
    char *line = pf_strdup(in->data);
    int r;

    assert_non_null(line);
    line[strcspn(line, "\n")] = '\0';
    r = pf_redis_url_parse(line, &u, err, errlen);
    if (r == 0)
        pf_redis_url_release(&u);
    pf_free(line);
    return r;
}

/* A PatchConfig: every diagnostic, formatted as the CLI prints it, joined by newlines. */
static int p_config(const struct input *in, char *err, size_t errlen)
{
    struct pf_config *cfg = NULL;
    struct pf_diags d;
    size_t used = 0;
    int r;

    assert_int_equal(pf_diags_init(&d, "hostile.yaml"), 0);
    r = pf_config_parse(in->data, in->len, &d, &cfg);
    err[0] = '\0';
    for (size_t i = 0; i < d.n && used + 1 < errlen; i++) {
        char *line = pf_diag_format(&d, &d.v[i]);

        assert_non_null(line);
        used += (size_t)snprintf(err + used, errlen - used, "%s\n", line);
        pf_free(line);
        if (used >= errlen)
            used = errlen - 1;
    }
    pf_config_free(cfg);
    pf_diags_release(&d);
    return r;
}

static const struct parser {
    const char *dir;
    parse_fn fn;
} parsers[] = {
    {"apt_release", p_apt_release},
    {"apt_packages", p_apt_packages},
    {"deb822", p_deb822},
    {"dpkg_status", p_dpkg_status},
    {"dpkg_statusd", p_dpkg_statusd},
    {"dpkg_statoverride", p_dpkg_statoverride},
    {"dpkg_diversions", p_dpkg_diversions},
    {"deb_file", p_deb_file},
    {"apk_index", p_apk_index},
    {"apk_installed", p_apk_installed},
    {"apk_signed_index", p_apk_signed_index},
    {"apk_file", p_apk_file},
    {"apk_data", p_apk_data},
    {"layer", p_layer},
    {"oci_manifest", p_oci_manifest},
    {"oci_index", p_oci_index},
    {"image_config", p_image_config},
    {"msg_job", p_msg_job},
    {"msg_result", p_msg_result},
    {"redis_url", p_redis_url},
    {"config", p_config},
};

static bool has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* True when NAME.todo exists beside the input: a case the code does not refuse yet, because
 * the fix is on its way on another branch. It must keep failing: once it is refused, the marker
 * has to go (the test says so), so the corpus never hides a regression behind a stale marker. */
static bool is_todo(const char *dir, const char *file)
{
    char path[2048];
    const char *dot = strchr(file, '.');
    int n = dot ? (int)(dot - file) : (int)strlen(file);

    (void)snprintf(path, sizeof(path), "%s/hostile/%s/%.*s.todo", PF_TEST_DATA, dir, n, file);
    return access(path, F_OK) == 0;
}

/* The expectation of one input: NAME.expect beside NAME.<ext> (first line, no newline). */
static char *read_expect(const char *dir, const char *file)
{
    char rel[1024];
    const char *dot = strchr(file, '.'); /* NAME has no dot; the extension may (.tar.gz) */
    int n = dot ? (int)(dot - file) : (int)strlen(file);
    char *s;
    size_t len;

    (void)snprintf(rel, sizeof(rel), "hostile/%s/%.*s.expect", dir, n, file);
    s = pf_test_read_data(rel, &len);
    s[strcspn(s, "\n")] = '\0';
    assert_true(s[0] != '\0'); /* an empty expectation would match any error */
    return s;
}

/* Runs every input of one parser directory, printing each mismatch; adds to *ret_bad. Returns
 * how many inputs it checked. */
static size_t run_dir(const struct parser *p, bool verbose, size_t *ret_bad)
{
    char path[2048], err[ERRLEN];
    size_t checked = 0;
    struct dirent *de;
    DIR *d;

    (void)snprintf(path, sizeof(path), "%s/hostile/%s", PF_TEST_DATA, p->dir);
    d = opendir(path);
    if (!d) {
        fail_msg("hostile corpus: no directory %s", path);
        return 0; /* not reached: fail_msg() ends the test */
    }
    while ((de = readdir(d))) {
        struct input in;
        char rel[1024], *data, *expect;
        int r;

        if (de->d_name[0] == '.' || has_suffix(de->d_name, ".expect") ||
            has_suffix(de->d_name, ".todo"))
            continue;
        (void)snprintf(rel, sizeof(rel), "hostile/%s/%s", p->dir, de->d_name);
        (void)snprintf(path, sizeof(path), "%s/%s", PF_TEST_DATA, rel);
        data = pf_test_read_data(rel, &in.len);
        in.data = data;
        in.path = path;
        expect = read_expect(p->dir, de->d_name);
        err[0] = '\0';
        r = p->fn(&in, err, sizeof(err));
        if (verbose)
            printf("%s/%s: %d %s\n", p->dir, de->d_name, r, err);
        if (is_todo(p->dir, de->d_name)) {
            if (r < 0 && strstr(err, expect)) {
                printf("FAIL %s/%s is refused now: delete its .todo marker\n", p->dir, de->d_name);
                (*ret_bad)++;
            } else {
                printf("TODO %s/%s not refused yet (see its .todo)\n", p->dir, de->d_name);
            }
        } else if (r >= 0) {
            printf("FAIL %s/%s was accepted; expected a refusal naming '%s'\n", p->dir, de->d_name,
                   expect);
            (*ret_bad)++;
        } else if (!strstr(err, expect)) {
            printf("FAIL %s/%s refused with '%s' (%d); expected it to name '%s'\n", p->dir,
                   de->d_name, err, r, expect);
            (*ret_bad)++;
        }
        pf_free(expect);
        pf_free(data);
        checked++;
    }
    closedir(d);
    return checked;
}

/* Every parser directory holds at least one case, and every case is refused as its .expect
 * says; all mismatches are printed before the test fails. */
static void corpus_refused(void **state)
{
    bool verbose = getenv("PF_HOSTILE_VERBOSE") != NULL;
    size_t total = 0, bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
        size_t n = run_dir(&parsers[i], verbose, &bad);

        if (n == 0)
            fail_msg("hostile corpus: %s has no case", parsers[i].dir);
        total += n;
    }
    if (bad)
        fail_msg("hostile corpus: %zu of %zu inputs not refused as expected", bad, total);
    printf("hostile corpus: %zu inputs checked (TODO lines: not refused yet)\n", total);
}

/* A directory in the corpus that no parser claims would be silently skipped: refuse it. */
static void every_dir_has_a_parser(void **state)
{
    char path[2048];
    struct dirent *de;
    DIR *d;

    (void)state;
    (void)snprintf(path, sizeof(path), "%s/hostile", PF_TEST_DATA);
    d = opendir(path);
    if (!d) {
        fail_msg("hostile corpus: no directory %s", path);
        return;
    }
    while ((de = readdir(d))) {
        bool known = de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0 ||
                     strcmp(de->d_name, "generate.py") == 0;

        for (size_t i = 0; !known && i < sizeof(parsers) / sizeof(parsers[0]); i++)
            known = strcmp(de->d_name, parsers[i].dir) == 0;
        if (!known)
            fail_msg("hostile corpus: no parser for directory '%s'", de->d_name);
    }
    closedir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_refused),
        cmocka_unit_test(every_dir_has_a_parser),
    };

    return cmocka_run_group_tests_name("hostile_corpus", tests, NULL, NULL);
}
