/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Report index (see reports.h); the skip decision it feeds is pf/tag_decision.h. Every report
 * is judged once at load and only its verdict is kept, keyed by the normalised ArtifactName,
 * so a directory of large Trivy reports costs memory for names, not documents. Duplicates are
 * not resolved silently as in Copa (last file wins): two reports for one image make it
 * UNREADABLE with both file names, and the job patches (fail-open). Unlike Copa, a Trivy file
 * must look like Trivy output: a native update list read with --scanner trivy is unreadable,
 * not "clean".
 */
#include "pf/setup.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/json.h"
#include "pf/patched_tags.h"
#include "pf/ref.h"
#include "producer/reports.h"

#define REPORT_WHY 512

struct entry {
    char *key;  /* normalised ArtifactName */
    char *file; /* base name */
    enum pf_report_verdict verdict;
    char *why; /* UNREADABLE: the reason, naming the file(s) */
};

struct producer_reports {
    struct entry *v;
    size_t n;
    struct pf_strv warnings;
};

enum producer_report_scanner producer_report_scanner_from_string(const char *s)
{
    if (s && strcmp(s, "trivy") == 0)
        return PRODUCER_REPORT_TRIVY;
    if (s && strcmp(s, "native") == 0)
        return PRODUCER_REPORT_NATIVE;
    return PRODUCER_REPORT_SCANNER_INVALID;
}

/* The normalised spelling of an image reference, or NULL when it does not parse (or OOM). */
static char *normalise(const char *ref)
{
    struct pf_ref r = {0};
    char why[128], *s;

    if (pf_ref_parse(ref, &r, why, sizeof(why)) < 0)
        return NULL;
    s = pf_ref_to_string(&r);
    pf_ref_release(&r);
    return s;
}

/* Copa's language types (pkg/report/trivy.go). */
static bool lang_type(const char *t)
{
    static const char *const types[] = {"python-pkg", "node-pkg", "gomod", "gobinary", "dotnet"};

    for (size_t i = 0; t && i < PF_ARRAY_SIZE(types); i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return false;
}

/* Returns 1 when some vulnerability of `vulns` has a non-empty FixedVersion, 0 if none,
 * -EINVAL when `vulns` is present but not an array. */
static int vulns_fixable(json_t *vulns)
{
    size_t i;
    json_t *v;

    if (!vulns || json_is_null(vulns))
        return 0;
    if (!json_is_array(vulns))
        return -EINVAL;
    json_array_foreach(vulns, i, v)
    {
        const char *fixed = json_string_value(json_object_get(v, "FixedVersion"));
        if (fixed && fixed[0])
            return 1;
    }
    return 0;
}

static int judge_trivy(json_t *doc, bool library, char *errbuf, size_t errlen)
{
    json_t *results = json_object_get(doc, "Results"), *res;
    bool fixable = false;
    size_t i;

    if (!json_object_get(doc, "SchemaVersion") && !results)
        return pf_set_error(errbuf, errlen, PF_REPORT_UNREADABLE,
                            "not a Trivy report (no SchemaVersion, no Results)");
    if (!results || json_is_null(results))
        return PF_REPORT_CLEAN; /* Trivy leaves Results out when it found nothing */
    if (!json_is_array(results))
        return pf_set_error(errbuf, errlen, PF_REPORT_UNREADABLE, "Results is not an array");
    json_array_foreach(results, i, res)
    {
        const char *cls = json_string_value(json_object_get(res, "Class"));
        bool counts = cls && (strcmp(cls, "os-pkgs") == 0 ||
                              (library && strcmp(cls, "lang-pkgs") == 0 &&
                               lang_type(json_string_value(json_object_get(res, "Type")))));
        int r = vulns_fixable(json_object_get(res, "Vulnerabilities"));

        if (r < 0)
            return pf_set_error(errbuf, errlen, PF_REPORT_UNREADABLE,
                                "Results[%zu].Vulnerabilities is not an array", i);
        if (counts && r > 0)
            fixable = true;
    }
    return fixable ? PF_REPORT_FIXABLE : PF_REPORT_CLEAN;
}

/* Copa's native update manifest: v1alpha1 lists "updates" (also when apiVersion is absent, as
 * in Copa's own frontend fixtures), v1alpha2 "osupdates" and "langupdates". Any listed update
 * counts: the native format carries no FixedVersion filter. */
static int judge_native(json_t *doc, char *errbuf, size_t errlen)
{
    static const char *const v2[] = {"osupdates", "langupdates"};
    const char *api = json_string_value(json_object_get(doc, "apiVersion"));
    const char *slash = api ? strrchr(api, '/') : NULL;
    const char *ver = slash ? slash + 1 : api;
    json_t *u;

    if (json_object_get(doc, "apiVersion") && !api)
        return pf_set_error(errbuf, errlen, PF_REPORT_UNREADABLE, "apiVersion is not a string");
    if (!ver || strcmp(ver, "v1alpha1") == 0) {
        u = json_object_get(doc, "updates");
        if (!json_is_array(u) && !json_is_null(u))
            return pf_set_error(errbuf, errlen, PF_REPORT_UNREADABLE,
                                "not a native report (no \"updates\" list)");
        return json_array_size(u) ? PF_REPORT_FIXABLE : PF_REPORT_CLEAN;
    }
    if (strcmp(ver, "v1alpha2") != 0)
        return pf_set_error(errbuf, errlen, PF_REPORT_UNREADABLE, "unsupported apiVersion '%s'",
                            api);
    for (size_t i = 0; i < PF_ARRAY_SIZE(v2); i++) {
        u = json_object_get(doc, v2[i]);
        if (u && !json_is_array(u) && !json_is_null(u))
            return pf_set_error(errbuf, errlen, PF_REPORT_UNREADABLE, "\"%s\" is not a list",
                                v2[i]);
        if (json_array_size(u))
            return PF_REPORT_FIXABLE;
    }
    return PF_REPORT_CLEAN;
}

int producer_report_judge(const char *data, size_t len, enum producer_report_scanner scanner,
                          bool library, char **ret_artifact, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *name;
    char *artifact = NULL;
    int r;

    if (!doc)
        return pf_set_error(errbuf, errlen, PF_REPORT_UNREADABLE, "not JSON (line %d: %s)",
                            jerr.line, jerr.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return pf_set_error(errbuf, errlen, PF_REPORT_UNREADABLE, "not a JSON object");
    }
    name = json_string_value(json_object_get(doc, "ArtifactName"));
    if (name && name[0] && ret_artifact) {
        artifact = pf_strdup(name);
        if (!artifact) {
            json_decref(doc);
            return -ENOMEM;
        }
    }
    r = scanner == PRODUCER_REPORT_NATIVE ? judge_native(doc, errbuf, errlen)
                                          : judge_trivy(doc, library, errbuf, errlen);
    json_decref(doc);
    if (ret_artifact)
        *ret_artifact = artifact;
    return r;
}

static int cmp_entry(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);

    return c ? c : strcmp(a->file, b->file);
}

static void entry_release(struct entry *e)
{
    pf_free(e->key);
    pf_free(e->file);
    pf_free(e->why);
}

/* True for a name ending in ".json" with something before it. */
static bool json_name(const char *name)
{
    size_t n = strlen(name);

    return n > 5 && strcmp(name + n - 5, ".json") == 0 && name[0] != '.';
}

/* Reads and judges one file; adds an entry or a warning. Returns 0 or -ENOMEM/-E2BIG. */
static int load_one(struct producer_reports *reps, const char *dir, const char *name,
                    enum producer_report_scanner scanner, bool library)
{
    char why[REPORT_WHY] = "", *path, *artifact = NULL, *key;
    struct pf_buf b;
    struct entry *v, *e;
    int r;

    path = pf_asprintf("%s/%s", dir, name);
    if (!path)
        return -ENOMEM;
    pf_buf_init(&b, PRODUCER_REPORT_MAX_SIZE);
    r = pf_buf_read_file(&b, path);
    pf_free(path);
    if (r == -ENOMEM) {
        pf_buf_release(&b);
        return r;
    }
    if (r < 0) {
        pf_buf_release(&b);
        return pf_strv_pushf(&reps->warnings, "report '%s' cannot be read: %s, ignoring", name,
                             strerror(-r));
    }
    r = producer_report_judge(b.p ? b.p : "", b.len, scanner, library, &artifact, why, sizeof(why));
    pf_buf_release(&b);
    if (r < 0)
        return r;
    key = artifact ? normalise(artifact) : NULL;
    if (!key) {
        r = pf_strv_pushf(&reps->warnings, "report '%s' %s%s%s, ignoring", name,
                          artifact ? "has an ArtifactName that is not an image reference: "
                                   : "names no image (no ArtifactName)",
                          artifact ? artifact : "",
                          r == PF_REPORT_UNREADABLE ? "; it is also unreadable" : "");
        pf_free(artifact);
        return r;
    }
    pf_free(artifact);
    if (reps->n >= PRODUCER_REPORT_MAX_FILES) {
        pf_free(key);
        return -E2BIG;
    }
    v = pf_realloc(reps->v, (reps->n + 1) * sizeof(*v));
    if (!v) {
        pf_free(key);
        return -ENOMEM;
    }
    reps->v = v;
    e = &v[reps->n];
    *e = (struct entry){.key = key, .verdict = (enum pf_report_verdict)r};
    e->file = pf_strdup(name);
    if (r == PF_REPORT_UNREADABLE)
        e->why = pf_asprintf("report '%s' is unreadable: %s", name, why);
    reps->n++;
    if (!e->file || (r == PF_REPORT_UNREADABLE && !e->why))
        return -ENOMEM;
    if (r == PF_REPORT_UNREADABLE)
        return pf_strv_pushf(&reps->warnings, "%s", e->why);
    return 0;
}

/* Collapses runs of equal keys (sorted) into one UNREADABLE entry naming every file. */
static int merge_duplicates(struct producer_reports *reps)
{
    size_t o = 0;

    for (size_t i = 0; i < reps->n;) {
        size_t j = i + 1;
        while (j < reps->n && strcmp(reps->v[j].key, reps->v[i].key) == 0)
            j++;
        if (j - i > 1) {
            struct pf_strv files = PF_STRV_INIT;
            char *list, *why;
            int r = 0;
            for (size_t k = i; r == 0 && k < j; k++)
                r = pf_strv_pushf(&files, "'%s'", reps->v[k].file);
            list = r == 0 ? pf_strv_join(&files, ", ") : NULL;
            pf_strv_clear(&files);
            why = list ? pf_asprintf("%zu reports name %s: %s", j - i, reps->v[i].key, list) : NULL;
            pf_free(list);
            if (!why || pf_strv_push(&reps->warnings, why) < 0) {
                pf_free(why);
                return -ENOMEM;
            }
            pf_free(reps->v[i].why);
            reps->v[i].why = why;
            reps->v[i].verdict = PF_REPORT_UNREADABLE;
            for (size_t k = i + 1; k < j; k++)
                entry_release(&reps->v[k]);
        }
        if (o != i)
            reps->v[o] = reps->v[i];
        o++;
        i = j;
    }
    reps->n = o;
    return 0;
}

/* Name order, so warnings and the duplicate report are the same on every run. */
static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The top-level "*.json" regular files of `d`, sorted; symlinks to files count. */
static int list_dir(DIR *d, const char *dir, struct pf_strv *ret)
{
    struct dirent *de;
    struct stat st;
    int r = 0;

    while (r == 0 && (de = readdir(d))) {
        char *p;
        if (!json_name(de->d_name))
            continue;
        p = pf_asprintf("%s/%s", dir, de->d_name);
        if (!p)
            return -ENOMEM;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            r = ret->n >= PRODUCER_REPORT_MAX_FILES ? -E2BIG : pf_strv_push(ret, de->d_name);
        pf_free(p);
    }
    if (r == 0 && ret->n)
        qsort(ret->v, ret->n, sizeof(*ret->v), cmp_name);
    return r;
}

int producer_reports_load(const char *dir, enum producer_report_scanner scanner, bool library,
                          struct producer_reports **ret, char *errbuf, size_t errlen)
{
    struct producer_reports *reps;
    struct pf_strv names = PF_STRV_INIT;
    DIR *d;
    int r;

    d = opendir(dir);
    if (!d)
        return pf_set_error(errbuf, errlen, -errno, "cannot open the report directory '%s': %s",
                            dir, strerror(errno));
    r = list_dir(d, dir, &names);
    (void)closedir(d);
    reps = r == 0 ? pf_calloc(1, sizeof(*reps)) : NULL;
    if (r == 0 && !reps)
        r = -ENOMEM;
    if (reps)
        reps->warnings = (struct pf_strv){NULL, 0, 0};
    for (size_t i = 0; r == 0 && i < names.n; i++)
        r = load_one(reps, dir, names.v[i], scanner, library);
    if (r == 0 && reps->n)
        qsort(reps->v, reps->n, sizeof(*reps->v), cmp_entry);
    if (r == 0)
        r = merge_duplicates(reps);
    pf_strv_clear(&names);
    if (r < 0) {
        if (r == -E2BIG)
            (void)pf_set_error(errbuf, errlen, r, "more than %u reports in '%s'",
                               PRODUCER_REPORT_MAX_FILES, dir);
        producer_reports_free(reps);
        return r;
    }
    *ret = reps;
    return 0;
}

struct producer_reports *producer_reports_free(struct producer_reports *reps)
{
    if (!reps)
        return NULL;
    for (size_t i = 0; i < reps->n; i++)
        entry_release(&reps->v[i]);
    pf_free(reps->v);
    pf_strv_clear(&reps->warnings);
    pf_free(reps);
    return NULL;
}

const struct pf_strv *producer_reports_warnings(const struct producer_reports *reps)
{
    return &reps->warnings;
}

size_t producer_reports_count(const struct producer_reports *reps)
{
    return reps ? reps->n : 0;
}

static int cmp_key(const void *key, const void *pe)
{
    return strcmp(key, ((const struct entry *)pe)->key);
}

enum pf_report_verdict producer_reports_lookup(const struct producer_reports *reps, const char *ref,
                                               const char **ret_why)
{
    const struct entry *e = NULL;
    char *key = reps && reps->n ? normalise(ref) : NULL;

    if (key)
        e = bsearch(key, reps->v, reps->n, sizeof(*reps->v), cmp_key);
    pf_free(key);
    if (ret_why)
        *ret_why = !e ? NULL : e->why ? e->why : e->file;
    return e ? e->verdict : PF_REPORT_NONE;
}

/* Adapts producer_reports_lookup() to pf_report_lookup_fn. */
static enum pf_report_verdict lookup_thunk(const void *userdata, const char *ref,
                                           const char **ret_why)
{
    return producer_reports_lookup(userdata, ref, ret_why);
}

struct pf_report_lookup producer_reports_as_lookup(const struct producer_reports *reps)
{
    return (struct pf_report_lookup){.lookup = reps ? lookup_thunk : NULL, .userdata = reps};
}
