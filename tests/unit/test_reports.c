/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for producer/reports.c: judging Trivy and native reports (our reports in
 * tests/data/reports plus inline documents for the cases no file covers), the directory index
 * with ArtifactName normalisation, duplicates and unreadable files, Copa's tag versioning, and
 * the per-job skip decision including its fail-open paths.
 *
 * Run with the argument "copa-fixtures" (CTest: unit/test_reports/copa-fixtures), the file tests
 * read Copa's own reports from ../shared/fixtures/reports instead; a plain clone has no
 * ../shared, so that run exits 77, which CTest reports as skipped.
 */
#include "pf_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SKIP_RC 77 /* CTest's SKIP_RETURN_CODE for this test */

#include "pf/strv.h"
#include "producer/reports.h"

/* A set of report files of the three shapes the tests need, and the image each names. */
struct report_fixtures {
    const char *dir;
    const char *trivy;     /* Trivy JSON, one fixable os-pkgs finding, ArtifactName a Hub image */
    const char *hub_image; /* that ArtifactName, "name:tag" without registry */
    const char *no_os;     /* Trivy JSON without Metadata.OS, one fixable finding */
    const char *no_os_image;
    const char *native; /* native update list, v1alpha1 layout, no apiVersion, no ArtifactName */
};

/* Not const: cmocka hands a test its state as void *. */
static struct report_fixtures ours = {
    .dir = PF_TEST_DATA "/reports",
    .trivy = "trivy-fixable.json",
    .hub_image = "debian:12.4",
    .no_os = "trivy-no-os.json",
    .no_os_image = "ghcr.io/example/tool:v2.3.4",
    .native = "native-updates.json",
};

static struct report_fixtures copa = {
    .dir = PF_SHARED_DIR "/fixtures/reports",
    .trivy = "trivy_valid.json",
    .hub_image = "alpine:3.14.0",
    .no_os = "trivy_no_history.json",
    .no_os_image = "quay.io/prometheus/alertmanager:v0.28.1",
    .native = "frontend_simple-report.json",
};

static char *read_fixture(const struct report_fixtures *fx, const char *name, size_t *len)
{
    struct pf_buf b = PF_BUF_INIT;
    char path[4096];

    (void)snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
    assert_int_equal(pf_buf_read_file(&b, path), 0);
    return pf_buf_steal(&b, len);
}

static void judge_fixtures(void **state)
{
    const struct report_fixtures *fx = *state;
    const struct {
        const char *file;
        enum producer_report_scanner scanner;
        int verdict;
        const char *artifact; /* NULL: none */
    } cases[] = {
        {fx->trivy, PRODUCER_REPORT_TRIVY, PF_REPORT_FIXABLE, fx->hub_image},
        {fx->no_os, PRODUCER_REPORT_TRIVY, PF_REPORT_FIXABLE, fx->no_os_image},
        {fx->native, PRODUCER_REPORT_NATIVE, PF_REPORT_FIXABLE, NULL},
        /* The wrong scanner: unreadable, never "clean" (Copa would call it clean). */
        {fx->native, PRODUCER_REPORT_TRIVY, PF_REPORT_UNREADABLE, NULL},
        {fx->trivy, PRODUCER_REPORT_NATIVE, PF_REPORT_UNREADABLE, fx->hub_image},
    };

    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        size_t len;
        char *data = read_fixture(fx, cases[i].file, &len), *art = (char *)"x", err[256] = "";

        assert_int_equal(producer_report_judge(data, len, cases[i].scanner, false, &art, err,
                                               sizeof(err)),
                         cases[i].verdict);
        if (cases[i].artifact)
            assert_string_equal(art, cases[i].artifact);
        else
            assert_null(art);
        if (cases[i].verdict == PF_REPORT_UNREADABLE)
            assert_true(err[0] != '\0');
        pf_free(art);
        pf_free(data);
    }
}

static void judge_inline(void **state)
{
    static const struct {
        const char *doc;
        enum producer_report_scanner scanner;
        bool library;
        int verdict;
    } cases[] = {
        /* Trivy: clean forms. */
        {"{\"SchemaVersion\":2,\"ArtifactName\":\"a:1\"}", PRODUCER_REPORT_TRIVY, false,
         PF_REPORT_CLEAN},
        {"{\"SchemaVersion\":2,\"Results\":[{\"Class\":\"os-pkgs\"}]}", PRODUCER_REPORT_TRIVY,
         false, PF_REPORT_CLEAN},
        {"{\"SchemaVersion\":2,\"Results\":[{\"Class\":\"os-pkgs\",\"Vulnerabilities\":"
         "[{\"PkgName\":\"a\",\"FixedVersion\":\"\"}]}]}",
         PRODUCER_REPORT_TRIVY, false, PF_REPORT_CLEAN},
        /* Library findings count only with --pkg-types os,library, and only Copa's types. */
        {"{\"SchemaVersion\":2,\"Results\":[{\"Class\":\"lang-pkgs\",\"Type\":\"gomod\","
         "\"Vulnerabilities\":[{\"FixedVersion\":\"1.2\"}]}]}",
         PRODUCER_REPORT_TRIVY, false, PF_REPORT_CLEAN},
        {"{\"SchemaVersion\":2,\"Results\":[{\"Class\":\"lang-pkgs\",\"Type\":\"gomod\","
         "\"Vulnerabilities\":[{\"FixedVersion\":\"1.2\"}]}]}",
         PRODUCER_REPORT_TRIVY, true, PF_REPORT_FIXABLE},
        {"{\"SchemaVersion\":2,\"Results\":[{\"Class\":\"lang-pkgs\",\"Type\":\"jar\","
         "\"Vulnerabilities\":[{\"FixedVersion\":\"1.2\"}]}]}",
         PRODUCER_REPORT_TRIVY, true, PF_REPORT_CLEAN},
        /* Broken. */
        {"{\"SchemaVersion\":2,\"Results\":{}}", PRODUCER_REPORT_TRIVY, false,
         PF_REPORT_UNREADABLE},
        {"{\"SchemaVersion\":2,\"Results\":[{\"Class\":\"os-pkgs\",\"Vulnerabilities\":3}]}",
         PRODUCER_REPORT_TRIVY, false, PF_REPORT_UNREADABLE},
        {"[1,2]", PRODUCER_REPORT_TRIVY, false, PF_REPORT_UNREADABLE},
        {"{\"SchemaVersion\":2,", PRODUCER_REPORT_TRIVY, false, PF_REPORT_UNREADABLE},
        /* Native: any listed update, v1alpha1 with or without apiVersion, v1alpha2. */
        {"{\"updates\":[]}", PRODUCER_REPORT_NATIVE, false, PF_REPORT_CLEAN},
        {"{\"apiVersion\":\"v1alpha1\",\"updates\":[{\"name\":\"a\"}]}", PRODUCER_REPORT_NATIVE,
         false, PF_REPORT_FIXABLE},
        {"{\"apiVersion\":\"v1alpha2\",\"osupdates\":[],\"langupdates\":[{\"name\":\"x\"}]}",
         PRODUCER_REPORT_NATIVE, false, PF_REPORT_FIXABLE},
        {"{\"apiVersion\":\"v1alpha2\",\"osupdates\":[]}", PRODUCER_REPORT_NATIVE, false,
         PF_REPORT_CLEAN},
        {"{\"apiVersion\":\"v9\",\"updates\":[]}", PRODUCER_REPORT_NATIVE, false,
         PF_REPORT_UNREADABLE},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        char err[256] = "";
        int v = producer_report_judge(cases[i].doc, strlen(cases[i].doc), cases[i].scanner,
                                      cases[i].library, NULL, err, sizeof(err));
        if (v != cases[i].verdict)
            fail_msg("case %zu (%s): verdict %d, want %d (%s)", i, cases[i].doc, v,
                     cases[i].verdict, err);
    }
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    FILE *f;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void copy_fixture(const struct report_fixtures *fx, const char *dir, const char *name,
                         const char *as)
{
    size_t len;
    char *data = read_fixture(fx, name, &len);

    write_file(dir, as, data);
    pf_free(data);
}

static void remove_dir(const char *dir)
{
    char cmd[4200];

    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static bool warned(const struct producer_reports *reps, const char *needle)
{
    const struct pf_strv *w = producer_reports_warnings(reps);

    for (size_t i = 0; i < w->n; i++)
        if (strstr(w->v[i], needle))
            return true;
    return false;
}

static void index_directory(void **state)
{
    const struct report_fixtures *fx = *state;
    char dir[] = "/tmp/pf-test-reports-XXXXXX", sub[4200], ref[256];
    struct producer_reports *reps = NULL;
    const char *why = NULL;
    char err[256];

    assert_non_null(mkdtemp(dir));
    copy_fixture(fx, dir, fx->trivy, "a.json");  /* hub_image, fixable */
    copy_fixture(fx, dir, fx->native, "n.json"); /* no ArtifactName */
    write_file(dir, "clean.json",
               "{\"SchemaVersion\":2,\"ArtifactName\":\"index.docker.io/library/nginx:1-p\"}");
    write_file(dir, "broken.json",
               "{\"SchemaVersion\":2,\"ArtifactName\":\"r.test/x:1\","
               "\"Results\":7}");
    write_file(dir, "garbage.json", "not json at all");
    write_file(dir, "dup1.json", "{\"SchemaVersion\":2,\"ArtifactName\":\"r.test/d:1\"}");
    write_file(dir, "dup2.json", "{\"SchemaVersion\":2,\"ArtifactName\":\"r.test/d:1\"}");
    write_file(dir, "ignored.txt", "{\"SchemaVersion\":2,\"ArtifactName\":\"r.test/t:1\"}");
    (void)snprintf(sub, sizeof(sub), "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(sub, "deep.json", "{\"SchemaVersion\":2,\"ArtifactName\":\"r.test/s:1\"}");

    assert_int_equal(producer_reports_load(dir, PRODUCER_REPORT_TRIVY, false, &reps, err,
                                           sizeof(err)),
                     0);
    assert_int_equal(producer_reports_count(reps), 4); /* hub_image, nginx, x, d */
    /* Normalisation: three spellings of one image. */
    (void)snprintf(ref, sizeof(ref), "docker.io/library/%s", fx->hub_image);
    assert_int_equal(producer_reports_lookup(reps, ref, &why), PF_REPORT_FIXABLE);
    assert_string_equal(why, "a.json");
    (void)snprintf(ref, sizeof(ref), "index.docker.io/library/%s", fx->hub_image);
    assert_int_equal(producer_reports_lookup(reps, ref, NULL), PF_REPORT_FIXABLE);
    assert_int_equal(producer_reports_lookup(reps, "nginx:1-p", NULL), PF_REPORT_CLEAN);
    assert_int_equal(producer_reports_lookup(reps, "r.test/x:1", &why), PF_REPORT_UNREADABLE);
    assert_non_null(strstr(why, "broken.json"));
    assert_int_equal(producer_reports_lookup(reps, "r.test/d:1", &why), PF_REPORT_UNREADABLE);
    assert_non_null(strstr(why, "'dup1.json', 'dup2.json'"));
    assert_int_equal(producer_reports_lookup(reps, "r.test/t:1", &why), PF_REPORT_NONE);
    assert_null(why);
    assert_int_equal(producer_reports_lookup(reps, "r.test/s:1", NULL), PF_REPORT_NONE);
    assert_int_equal(producer_reports_lookup(reps, "Not A Ref", NULL), PF_REPORT_NONE);
    assert_true(warned(reps, "'garbage.json'"));
    assert_true(warned(reps, "'n.json' names no image"));
    assert_true(warned(reps, "'broken.json' is unreadable"));
    assert_true(warned(reps, "2 reports name r.test/d:1"));
    reps = producer_reports_free(reps);
    remove_dir(dir);

    assert_int_equal(producer_reports_load("/nonexistent/pf-reports", PRODUCER_REPORT_TRIVY, false,
                                           &reps, err, sizeof(err)),
                     -ENOENT);
    assert_null(reps);
    assert_non_null(strstr(err, "/nonexistent/pf-reports"));
}

static void split(const char *s, struct pf_strv *ret)
{
    while (*s) {
        size_t len = strcspn(s, " ");
        assert_int_equal(pf_strv_push_take(ret, pf_strndup(s, len)), 0);
        s += len + (s[len] == ' ');
    }
}

static void decide(void **state)
{
    char dir[] = "/tmp/pf-test-decide-XXXXXX", err[256];
    struct producer_reports *reps = NULL;
    struct pf_strv tags = PF_STRV_INIT;
    static const struct {
        bool with_reports;
        const char *existing; /* NULL: listing failed */
        bool skip;
        const char *tag;
        const char *warning; /* substring, or NULL for none */
    } cases[] = {
        {true, "", false, "1-p", NULL},           /* first patch */
        {false, "1-p", false, "1-p-1", NULL},     /* no -r: re-patch */
        {true, "1-p 1-p-1", true, "1-p-1", NULL}, /* clean report of 1-p-1 */
        {true, "1-p", false, "1-p-1", NULL},      /* fixable report of 1-p */
        {true, "1-p-1 1-p-2", false, "1-p-3", "'bad.json' is unreadable"},
        {true, "1-p-1 1-p-2 1-p-3", false, "1-p-4", NULL}, /* no report for 1-p-3 */
        {true, NULL, false, "1-p", "cannot list the tags of r.test/app (boom)"},
    };

    (void)state;
    assert_non_null(mkdtemp(dir));
    write_file(dir, "clean.json", "{\"SchemaVersion\":2,\"ArtifactName\":\"r.test/app:1-p-1\"}");
    write_file(dir, "fix.json",
               "{\"SchemaVersion\":2,\"ArtifactName\":\"r.test/app:1-p\","
               "\"Results\":[{\"Class\":\"os-pkgs\",\"Vulnerabilities\":"
               "[{\"FixedVersion\":\"2\"}]}]}");
    write_file(dir, "bad.json",
               "{\"SchemaVersion\":2,\"ArtifactName\":\"r.test/app:1-p-2\","
               "\"Results\":\"x\"}");
    assert_int_equal(producer_reports_load(dir, PRODUCER_REPORT_TRIVY, false, &reps, err,
                                           sizeof(err)),
                     0);
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct pf_report_lookup lookup = producer_reports_as_lookup(reps);
        struct pf_tag_decision d = {0};

        pf_strv_clear(&tags);
        if (cases[i].existing)
            split(cases[i].existing, &tags);
        assert_int_equal(pf_tag_decision_from_tags(cases[i].with_reports ? &lookup : NULL,
                                                   "r.test/app", "1-p",
                                                   cases[i].existing ? &tags : NULL, "boom", &d),
                         0);
        assert_int_equal(d.skip, cases[i].skip);
        assert_string_equal(d.tag, cases[i].tag);
        if (cases[i].warning) {
            assert_non_null(d.warning);
            if (!strstr(d.warning, cases[i].warning))
                fail_msg("case %zu: warning '%s' lacks '%s'", i, d.warning, cases[i].warning);
        } else {
            assert_null(d.warning);
        }
        pf_tag_decision_release(&d);
    }
    pf_strv_clear(&tags);
    producer_reports_free(reps);
    remove_dir(dir);
}

static void scanner_names(void **state)
{
    (void)state;
    assert_int_equal(producer_report_scanner_from_string("trivy"), PRODUCER_REPORT_TRIVY);
    assert_int_equal(producer_report_scanner_from_string("native"), PRODUCER_REPORT_NATIVE);
    assert_int_equal(producer_report_scanner_from_string("grype"), PRODUCER_REPORT_SCANNER_INVALID);
    assert_int_equal(producer_report_scanner_from_string(NULL), PRODUCER_REPORT_SCANNER_INVALID);
}

/* Copa's own reports, when ../shared is there: the same file tests on its files. */
static int run_copa_fixtures(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(judge_fixtures, &copa),
        cmocka_unit_test_prestate(index_directory, &copa),
    };

    if (access(copa.dir, R_OK) != 0) {
        printf("SKIP: %s is absent (a plain clone has no ../shared); the same tests ran on "
               "tests/data/reports\n",
               copa.dir);
        return SKIP_RC;
    }
    return cmocka_run_group_tests_name("reports/copa-fixtures", tests, NULL, NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(judge_fixtures, &ours),
        cmocka_unit_test(judge_inline),
        cmocka_unit_test_prestate(index_directory, &ours),
        cmocka_unit_test(decide),
        cmocka_unit_test(scanner_names),
    };

    if (argc > 1 && strcmp(argv[1], "copa-fixtures") == 0)
        return run_copa_fixtures();
    return cmocka_run_group_tests_name("reports", tests, NULL, NULL);
}
