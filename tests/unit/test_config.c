/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the PatchConfig reader: our bulk configs of Copa's shapes (tests/data/copa),
 * the copies of Copa's configs in tests/data/config and the spec's example parse into the
 * expected structs; every class of error is reported at its exact line:column with its exact
 * text; several errors come out together; targets merge like Copa's mergeTarget; and every
 * allocation failure comes back as -ENOMEM without leaks.
 *
 * Run with the argument "copa-fixtures" (CTest: unit/test_config/copa-fixtures), it parses
 * Copa's own configs from ../shared/fixtures/configs; a plain clone has no ../shared, so that
 * run exits 77, which CTest reports as skipped.
 */
#include "pf_test.h"

#include <unistd.h>

#include "pf/config.h"
#include "pf/diag.h"

/* Parses a string; diagnostics go to *d (initialised here, released by the caller). */
static int parse_str(const char *yaml, struct pf_diags *d, struct pf_config **ret)
{
    assert_int_equal(pf_diags_init(d, "t.yaml"), 0);
    return pf_config_parse(yaml, strlen(yaml), d, ret);
}

static void print_diags(struct pf_diags *d)
{
    pf_diags_sort(d);
    pf_diags_print(d, stdout);
}

/* A valid config, checked for no diagnostics at all. */
static struct pf_config *parse_ok(const char *yaml)
{
    struct pf_diags d;
    struct pf_config *cfg = NULL;
    int r = parse_str(yaml, &d, &cfg);

    if (r != 0 || d.n != 0)
        print_diags(&d);
    assert_int_equal(r, 0);
    assert_int_equal(d.n, 0);
    pf_diags_release(&d);
    assert_non_null(cfg);
    return cfg;
}

static struct pf_config *parse_data(const char *rel)
{
    struct pf_config *cfg;
    char *yaml = pf_test_read_data(rel, NULL);

    cfg = parse_ok(yaml);
    pf_free(yaml);
    return cfg;
}

/* ---- valid configs ----------------------------------------------------------------------- */

#define SKIP_RC 77 /* CTest's SKIP_RETURN_CODE for this test */
#define COPA_CONFIGS PF_SHARED_DIR "/fixtures/configs"

/* Reads a config holding __NAME_REPO__ placeholders (ours in tests/data/copa, Copa's in the
 * shared tree) and replaces each by 127.0.0.1:5000/name. */
static char *read_placeholder_config(const char *dir, const char *name)
{
    struct pf_buf raw = PF_BUF_INIT, out = PF_BUF_INIT;
    char path[4096];
    const char *p;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(pf_buf_read_file(&raw, path), 0);
    p = raw.p;
    for (;;) {
        const char *start = strstr(p, "__"), *end;
        if (!start) {
            assert_int_equal(pf_buf_appends(&out, p), 0);
            break;
        }
        end = strstr(start + 2, "_REPO__");
        assert_non_null(end);
        assert_int_equal(pf_buf_append(&out, p, (size_t)(start - p)), 0);
        assert_int_equal(pf_buf_appends(&out, "127.0.0.1:5000/"), 0);
        for (const char *c = start + 2; c < end; c++)
            assert_int_equal(pf_buf_appendf(&out, "%c", (char)(*c - 'A' + 'a')), 0);
        p = end + strlen("_REPO__");
    }
    pf_buf_release(&raw);
    return pf_buf_steal(&out, NULL);
}

/* The three entries of Copa's bulk test config; `lines` are where each entry starts. */
static void check_bulk_shapes(const struct pf_config *cfg, const unsigned lines[3])
{
    const struct pf_image_spec *img;

    assert_string_equal(cfg->api_version, "copa.sh/v1alpha1");
    assert_string_equal(cfg->kind, "PatchConfig");
    assert_null(cfg->target.registry);
    assert_null(cfg->target.tag);
    assert_int_equal(cfg->n_images, 3);
    img = &cfg->images[0];
    assert_string_equal(img->name, "nginx-pattern-test");
    assert_string_equal(img->image, "127.0.0.1:5000/nginx");
    assert_int_equal(img->line, lines[0]);
    assert_int_equal(img->tags.strategy, PF_STRATEGY_PATTERN);
    assert_string_equal(img->tags.pattern, "^1\\.25\\.[0-9]+$");
    assert_int_equal(img->tags.max_tags, 2);
    assert_int_equal(img->tags.exclude.n, 1);
    assert_string_equal(img->tags.exclude.v[0], "1.25.1");
    assert_string_equal(img->target.tag, "{{ .SourceTag }}-patched-e2e");
    img = &cfg->images[1];
    assert_string_equal(img->name, "alpine-latest-test");
    assert_string_equal(img->image, "127.0.0.1:5000/alpine");
    assert_int_equal(img->line, lines[1]);
    assert_int_equal(img->tags.strategy, PF_STRATEGY_LATEST);
    assert_int_equal(img->tags.list.n, 0);
    assert_string_equal(img->target.tag, "{{ .SourceTag }}-patched-e2e");
    img = &cfg->images[2];
    assert_string_equal(img->name, "ubuntu-list-test");
    assert_string_equal(img->image, "127.0.0.1:5000/ubuntu");
    assert_int_equal(img->line, lines[2]);
    assert_int_equal(img->tags.strategy, PF_STRATEGY_LIST);
    assert_int_equal(img->tags.list.n, 1);
    assert_string_equal(img->tags.list.v[0], "20.04");
    assert_int_equal(img->platforms.n, 0);
}

static void check_copa_config_test(const struct pf_config *cfg)
{
    static const unsigned lines[] = {4, 13, 19};

    check_bulk_shapes(cfg, lines);
}

/* Our own configs of the shapes of Copa's bulk test configs (tests/data/copa), and the copies of
 * Copa's configs with the placeholders already replaced (tests/data/config/copa-*). */
static void bulk_configs_parse(void **state)
{
    static const unsigned lines[] = {8, 19, 24};
    static const char *const names[] = {"config-test.yaml", "config-multiarch.yaml",
                                        "config-skip-test.yaml"};
    struct pf_config *cfg;
    char rel[256], *yaml;

    (void)state;
    yaml = read_placeholder_config(PF_TEST_DATA "/copa", "bulk.yaml");
    cfg = parse_ok(yaml);
    pf_free(yaml);
    check_bulk_shapes(cfg, lines);
    pf_config_free(cfg);

    yaml = read_placeholder_config(PF_TEST_DATA "/copa", "bulk-multiarch.yaml");
    cfg = parse_ok(yaml);
    pf_free(yaml);
    assert_string_equal(cfg->images[0].image, "127.0.0.1:5000/debian");
    assert_int_equal(cfg->images[0].platforms.n, 2);
    assert_string_equal(cfg->images[0].platforms.v[0], "linux/amd64");
    assert_string_equal(cfg->images[0].platforms.v[1], "linux/arm64");
    assert_string_equal(cfg->images[0].tags.list.v[0], "12.4-slim");
    pf_config_free(cfg);

    yaml = read_placeholder_config(PF_TEST_DATA "/copa", "bulk-skip.yaml");
    cfg = parse_ok(yaml);
    pf_free(yaml);
    assert_string_equal(cfg->images[0].name, "alpine-skip-test");
    assert_int_equal(cfg->images[0].tags.strategy, PF_STRATEGY_LIST);
    assert_string_equal(cfg->images[0].tags.list.v[0], "3.19.1");
    assert_string_equal(cfg->images[0].target.tag, "{{ .SourceTag }}-skip-test");
    pf_config_free(cfg);

    for (size_t i = 0; i < PF_ARRAY_SIZE(names); i++) {
        snprintf(rel, sizeof(rel), "config/copa-%s", names[i]);
        cfg = parse_data(rel);
        if (i == 0)
            check_copa_config_test(cfg);
        if (i == 1) {
            assert_int_equal(cfg->images[0].platforms.n, 2);
            assert_string_equal(cfg->images[0].platforms.v[0], "linux/amd64");
            assert_string_equal(cfg->images[0].platforms.v[1], "linux/arm64");
            assert_string_equal(cfg->images[0].tags.list.v[0], "12.4-slim");
        }
        pf_config_free(cfg);
    }
}

/* Copa's own configs from the shared tree (run only with the "copa-fixtures" argument). */
static void copa_fixtures_parse(void **state)
{
    static const char *const names[] = {"config-test.yaml", "config-multiarch.yaml",
                                        "config-skip-test.yaml"};
    struct pf_config *cfg;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(names); i++) {
        char *yaml = read_placeholder_config(COPA_CONFIGS, names[i]);
        cfg = parse_ok(yaml);
        pf_free(yaml);
        if (i == 0)
            check_copa_config_test(cfg);
        pf_config_free(cfg);
    }
}

static void spec_example_parses(void **state)
{
    struct pf_config *cfg = parse_data("config/spec-example.yaml");
    const struct pf_image_spec *img;
    struct pf_target t;

    (void)state;
    assert_string_equal(cfg->target.registry, "ghcr.io/myorg");
    assert_string_equal(cfg->target.tag, "{{ .SourceTag }}-patched");
    assert_int_equal(cfg->n_images, 3);
    img = &cfg->images[0];
    assert_string_equal(img->tags.pattern, "^1\\.2[0-9]\\.[0-9]+$");
    assert_int_equal(img->tags.max_tags, 3);
    assert_int_equal(img->tags.exclude.n, 2);
    img = &cfg->images[1];
    assert_string_equal(img->name, "python");
    assert_int_equal(img->tags.list.n, 3);
    assert_string_equal(img->tags.list.v[2], "3.11.7");
    assert_int_equal(img->platforms.n, 2);
    /* The per-image registry names a whole repository path; it is a valid prefix all the same. */
    pf_config_effective_target(cfg, img, &t);
    assert_string_equal(t.registry, "quay.io/special/python");
    assert_string_equal(t.tag, "{{ .SourceTag }}-fixed");
    assert_null(t.repository);
    pf_config_effective_target(cfg, &cfg->images[2], &t);
    assert_string_equal(t.registry, "ghcr.io/myorg");
    assert_string_equal(t.tag, "{{ .SourceTag }}-patched");
    assert_int_equal(cfg->images[2].tags.strategy, PF_STRATEGY_LATEST);
    pf_config_free(cfg);
}

static void extensions_and_nulls(void **state)
{
    static const char yaml[] = "apiVersion: copa.sh/v1alpha1\n"
                               "kind: PatchConfig\n"
                               "target: {registry: '', tag: ~}\n"
                               "images:\n"
                               "  - name: a\n"
                               "    image: reg.test/a\n"
                               "    tags: {strategy: pattern, pattern: 'x', maxTags: 0, exclude: "
                               "~}\n"
                               "    platforms: []\n"
                               "    target:\n"
                               "      repository: quay.io/other/a\n"
                               "      tag: '{{- .SourceTag -}}'\n";
    struct pf_config *cfg = parse_ok(yaml);

    (void)state;
    assert_null(cfg->target.registry);
    assert_null(cfg->target.tag);
    assert_int_equal(cfg->images[0].tags.max_tags, 0);
    assert_int_equal(cfg->images[0].tags.exclude.n, 0);
    assert_string_equal(cfg->images[0].target.repository, "quay.io/other/a");
    pf_config_free(cfg);
}

static void duplicates_warn_and_platforms_normalise(void **state)
{
    struct pf_config *cfg = NULL;
    struct pf_diags d;
    char *yaml = pf_test_read_data("config/warnings.yaml", NULL);
    const struct pf_image_spec *img;
    char *line;

    (void)state;
    assert_int_equal(parse_str(yaml, &d, &cfg), 0);
    pf_free(yaml);
    pf_diags_sort(&d);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.n_errors, 0);
    line = pf_diag_format(&d, &d.v[0]);
    assert_string_equal(line, "t.yaml:11:11: warning: duplicate entry '12.4' in list (first at "
                              "line 9), ignoring");
    pf_free(line);
    line = pf_diag_format(&d, &d.v[1]);
    assert_string_equal(line, "t.yaml:12:46: warning: duplicate entry 'linux/arm64' in "
                              "platforms (first at line 12), ignoring");
    pf_free(line);
    img = &cfg->images[0];
    assert_int_equal(img->tags.list.n, 2);
    assert_string_equal(img->tags.list.v[1], "12.5");
    assert_int_equal(img->platforms.n, 3);
    assert_string_equal(img->platforms.v[0], "linux/arm64");
    assert_string_equal(img->platforms.v[1], "linux/amd64");
    assert_string_equal(img->platforms.v[2], "linux/arm/v7");
    pf_diags_release(&d);
    pf_config_free(cfg);
}

/* ---- one test per error class ------------------------------------------------------------ */

#define HEAD "apiVersion: copa.sh/v1alpha1\nkind: PatchConfig\n"
/* Lines 3-8: one image "a" with strategy list on line 7 (value at column 17). */
#define IMG_A "images:\n  - name: a\n    image: reg.test/a\n    tags:\n"
#define LIST_A IMG_A "      strategy: list\n      list: ['1.0']\n"
#define PATTERN_A IMG_A "      strategy: pattern\n      pattern: x\n"
#define LATEST_A IMG_A "      strategy: latest\n"

struct error_case {
    const char *name;
    const char *yaml;
    unsigned line, col;
    const char *msg;
};

static const struct error_case error_cases[] = {
    {"apiVersion wrong", "apiVersion: copa.sh/v1\nkind: PatchConfig\n" LIST_A, 1, 13,
     "invalid apiVersion 'copa.sh/v1': expected 'copa.sh/v1alpha1'"},
    {"apiVersion missing", "kind: PatchConfig\n" LIST_A, 1, 1,
     "missing apiVersion: expected 'copa.sh/v1alpha1'"},
    {"apiVersion empty", "apiVersion:\nkind: PatchConfig\n" LIST_A, 1, 12,
     "apiVersion is empty: expected 'copa.sh/v1alpha1'"},
    {"kind wrong", "apiVersion: copa.sh/v1alpha1\nkind: Patch\n" LIST_A, 2, 7,
     "invalid kind 'Patch': expected 'PatchConfig'"},
    {"kind missing", "apiVersion: copa.sh/v1alpha1\n" LIST_A, 1, 1,
     "missing kind: expected 'PatchConfig'"},
    {"images missing", HEAD, 1, 1, "missing images: a PatchConfig needs at least one image"},
    {"images empty", HEAD "images: []\n", 3, 9,
     "images is empty: a PatchConfig needs at least one image"},
    {"images null", HEAD "images:\n", 3, 8,
     "images is empty: a PatchConfig needs at least one image"},
    {"images not a sequence", HEAD "images: {a: b}\n", 3, 9,
     "images must be a sequence of image entries, got a mapping"},
    {"image entry not a mapping", HEAD "images:\n  - nginx\n", 4, 5,
     "an image entry must be a mapping, got a string"},
    {"name missing", HEAD "images:\n  - image: reg.test/a\n    tags: {strategy: latest}\n", 4, 5,
     "image entry has no name"},
    {"name empty",
     HEAD "images:\n  - name: ''\n    image: reg.test/a\n    tags: {strategy: latest}\n", 4, 11,
     "name must not be empty"},
    {"image missing", HEAD "images:\n  - name: a\n    tags: {strategy: latest}\n", 4, 5,
     "image entry 'a' has no image"},
    {"image with tag",
     HEAD "images:\n  - name: a\n    image: reg.test/a:1.0\n    tags: {strategy: latest}\n", 5, 12,
     "invalid image: 'reg.test/a:1.0' names a tag; expected a repository (image must name a "
     "repository without tag or digest; put tags under tags:)"},
    {"image with digest",
     HEAD "images:\n  - name: a\n    image: reg.test/a@sha256:"
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
          "    tags: {strategy: latest}\n",
     5, 12,
     "invalid image: "
     "'reg.test/a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'"
     " names a digest; expected a repository (image must name a repository without tag or "
     "digest; put tags under tags:)"},
    {"image uppercase",
     HEAD "images:\n  - name: a\n    image: reg.test/A\n    tags: {strategy: latest}\n", 5, 12,
     "invalid image: invalid reference 'reg.test/A': repository name must be lowercase"},
    {"tags missing", HEAD "images:\n  - name: a\n    image: reg.test/a\n", 4, 5,
     "image entry 'a' has no tags: expected a mapping with a strategy (list, pattern or latest)"},
    {"tags not a mapping", HEAD "images:\n  - name: a\n    image: reg.test/a\n    tags: list\n", 6,
     11, "tags must be a mapping with a strategy, got a string"},
    {"strategy missing", HEAD IMG_A "      list: ['1.0']\n", 7, 7,
     "missing strategy in tags: expected one of list, pattern, latest"},
    {"strategy unknown, near", HEAD IMG_A "      strategy: List\n      list: ['1.0']\n", 7, 17,
     "unknown tag strategy 'List': must be one of list, pattern, latest (did you mean 'list'?)"},
    {"strategy unknown, far", HEAD IMG_A "      strategy: newest\n", 7, 17,
     "unknown tag strategy 'newest': must be one of list, pattern, latest"},
    {"list without entries", HEAD IMG_A "      strategy: list\n", 7, 17,
     "strategy 'list' requires a non-empty 'list' of tags"},
    {"list empty", HEAD IMG_A "      strategy: list\n      list: []\n", 8, 13,
     "strategy 'list' requires a non-empty 'list' of tags"},
    {"pattern missing", HEAD IMG_A "      strategy: pattern\n", 7, 17,
     "strategy 'pattern' requires a 'pattern' field"},
    {"pattern empty", HEAD IMG_A "      strategy: pattern\n      pattern: ''\n", 8, 16,
     "strategy 'pattern' requires a 'pattern' field"},
    {"pattern invalid, quoted", HEAD IMG_A "      strategy: pattern\n      pattern: '*x'\n", 8, 17,
     "invalid pattern '*x': quantifier does not follow a repeatable item at offset 0"},
    {"pattern invalid, plain", HEAD IMG_A "      strategy: pattern\n      pattern: ab(c\n", 8, 20,
     "invalid pattern 'ab(c': missing closing parenthesis at offset 4"},
    {"pattern invalid, escaped", HEAD IMG_A "      strategy: pattern\n      pattern: \"\\t(\"\n", 8,
     16, "invalid pattern '?(': missing closing parenthesis at offset 2"},
    {"pattern lookahead", HEAD IMG_A "      strategy: pattern\n      pattern: 'a(?=b)'\n", 8, 18,
     "invalid pattern 'a(?=b)': lookaround assertions are not supported (Go RE2 syntax) at offset "
     "1"},
    {"maxTags word", HEAD PATTERN_A "      maxTags: abc\n", 9, 16,
     "maxTags must be a non-negative integer, got 'abc'"},
    {"maxTags negative", HEAD PATTERN_A "      maxTags: -1\n", 9, 16,
     "maxTags must be a non-negative integer, got '-1'"},
    {"maxTags float", HEAD PATTERN_A "      maxTags: 1.5\n", 9, 16,
     "maxTags must be a non-negative integer, got '1.5'"},
    {"maxTags overflow", HEAD PATTERN_A "      maxTags: 99999999999999999999\n", 9, 16,
     "maxTags '99999999999999999999' is out of range (at most 9223372036854775807)"},
    {"maxTags quoted", HEAD PATTERN_A "      maxTags: '3'\n", 9, 16,
     "maxTags must be a non-negative integer, got the quoted or tagged string '3'"},
    {"maxTags sequence", HEAD PATTERN_A "      maxTags: [3]\n", 9, 16,
     "maxTags must be a non-negative integer, got a sequence"},
    {"maxTags with list", HEAD LIST_A "      maxTags: 3\n", 9, 7,
     "maxTags has no effect with strategy 'list'"},
    {"maxTags with latest", HEAD LATEST_A "      maxTags: 0\n", 8, 7,
     "maxTags has no effect with strategy 'latest'"},
    {"pattern with list", HEAD LIST_A "      pattern: x\n", 9, 7,
     "pattern has no effect with strategy 'list'"},
    {"pattern with latest", HEAD LATEST_A "      pattern: x\n", 8, 7,
     "pattern has no effect with strategy 'latest'"},
    {"list with pattern", HEAD PATTERN_A "      list: [a]\n", 9, 7,
     "list has no effect with strategy 'pattern'"},
    {"list with latest", HEAD LATEST_A "      list: [a]\n", 8, 7,
     "list has no effect with strategy 'latest'"},
    {"exclude with list", HEAD LIST_A "      exclude: [a]\n", 9, 7,
     "exclude has no effect with strategy 'list'"},
    {"exclude not a sequence", HEAD LATEST_A "      exclude: 1.0\n", 8, 16,
     "exclude must be a sequence of strings, got a string"},
    {"exclude entry a mapping", HEAD LATEST_A "      exclude: [{a: b}]\n", 8, 17,
     "exclude entries must be strings, got a mapping"},
    {"list entry empty", HEAD IMG_A "      strategy: list\n      list: ['1.0', '']\n", 8, 21,
     "empty entry in list"},
    {"platforms not a sequence", HEAD LATEST_A "    platforms: linux/amd64\n", 8, 16,
     "platforms must be a sequence of strings, got a string"},
    {"platform uppercase", HEAD LATEST_A "    platforms: [Linux/amd64]\n", 8, 17,
     "invalid platform 'Linux/amd64': expected os/arch[/variant], lowercase, non-empty parts"},
    {"platform one part", HEAD LATEST_A "    platforms: [linux]\n", 8, 17,
     "invalid platform 'linux': expected os/arch[/variant], lowercase, non-empty parts"},
    {"platform four parts", HEAD LATEST_A "    platforms: [linux/arm/v7/x]\n", 8, 17,
     "invalid platform 'linux/arm/v7/x': expected os/arch[/variant], lowercase, non-empty parts"},
    {"platform empty part", HEAD LATEST_A "    platforms: ['linux//v7']\n", 8, 17,
     "invalid platform 'linux//v7': expected os/arch[/variant], lowercase, non-empty parts"},
    {"duplicate image name",
     HEAD LATEST_A "  - name: a\n    image: reg.test/b\n    tags: {strategy: latest}\n", 8, 11,
     "duplicate image name 'a' (first defined at line 4)"},
    {"unknown key in tags", HEAD PATTERN_A "      maxtags: 3\n", 9, 7,
     "unknown key 'maxtags' in tags (did you mean 'maxTags'?)"},
    {"unknown key at top level", HEAD "verbose: true\n" LIST_A, 3, 1,
     "unknown key 'verbose' at top level (valid keys: apiVersion, kind, target, images)"},
    {"unknown key in image entry", HEAD LATEST_A "    platform: [linux/amd64]\n", 8, 5,
     "unknown key 'platform' in image entry (did you mean 'platforms'?)"},
    {"unknown key in target", HEAD LATEST_A "    target: {registy: ghcr.io/x}\n", 8, 14,
     "unknown key 'registy' in target (did you mean 'registry'?)"},
    {"non-string key", HEAD LATEST_A "    [a]: b\n", 8, 5,
     "a key must be a string, got a sequence"},
    {"wrong type for name",
     HEAD "images:\n  - name: [a]\n    image: reg.test/a\n    tags: {strategy: latest}\n", 4, 11,
     "name must be a string, got a sequence"},
    {"wrong type for target", HEAD "target: ghcr.io\n" LATEST_A, 3, 9,
     "target must be a mapping, got a string"},
    {"wrong type for registry", HEAD "target:\n  registry: {a: b}\n" LATEST_A, 4, 13,
     "registry must be a string, got a mapping"},
    {"duplicate key", HEAD "kind: PatchConfig\n" LIST_A, 3, 1,
     "duplicate key 'kind' (first at line 2)"},
    {"root not a mapping", "- a\n", 1, 1, "a PatchConfig must be a mapping, got a sequence"},
    {"empty file", "", 1, 1,
     "empty config: expected a PatchConfig mapping with apiVersion, kind and images"},
    {"comments only", "# nothing\n", 1, 1,
     "empty config: expected a PatchConfig mapping with apiVersion, kind and images"},
    {"syntax error", HEAD "images: [a\n", 4, 1,
     "invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 3, "
     "column 9)"},
    {"tab indentation", HEAD "images:\n\t- a\n", 4, 1,
     "invalid YAML: found character that cannot start any token (while scanning for the next "
     "token at line 4, column 1)"},
    {"invalid UTF-8", HEAD "# \xff\n" LATEST_A, 3, 3,
     "invalid YAML: invalid leading UTF-8 octet at byte 49"},
    {"two documents", HEAD LATEST_A "---\nkind: x\n", 8, 1,
     "multiple YAML documents in one file: a config holds one PatchConfig"},
    {"alias", "apiVersion: copa.sh/v1alpha1\nkind: *k\n" LATEST_A, 2, 7,
     "YAML aliases are not supported ('*k')"},
    {"anchor", "apiVersion: copa.sh/v1alpha1\nkind: &k PatchConfig\n" LATEST_A, 2, 7,
     "YAML anchors are not supported ('&k')"},
    {"NUL in a string",
     HEAD "images:\n  - name: \"a\\0b\"\n    image: reg.test/a\n    tags: "
          "{strategy: latest}\n",
     4, 11, "strings must not contain NUL characters"},
    {"template unknown field", HEAD LATEST_A "    target:\n      tag: '{{ .Foo }}-x'\n", 9, 16,
     "invalid tag template '{{ .Foo }}-x': unknown field .Foo: only .SourceTag is available (at "
     "offset 3)"},
    {"template function", HEAD "target: {tag: '{{ printf \"%s\" .SourceTag }}'}\n" LATEST_A, 3, 19,
     "invalid tag template '{{ printf \"%s\" .SourceTag }}': functions are not supported "
     "('printf'): only {{ .SourceTag }} is allowed (at offset 3)"},
    {"template constant", HEAD LATEST_A "    target:\n      tag: fixed\n", 9, 12,
     "invalid tag template 'fixed': template must contain {{ .SourceTag }} (at offset 0)"},
    {"template unclosed", HEAD "target:\n  tag: 'v-{{ .SourceTag'\n" LATEST_A, 4, 11,
     "invalid tag template 'v-{{ .SourceTag': unclosed action: '{{' without '}}' (at offset 2)"},
    {"template renders a bad tag", HEAD "target:\n  tag: '{{ .SourceTag }}/x'\n" LATEST_A, 4, 8,
     "tag template '{{ .SourceTag }}/x' does not give a valid tag for source tag '1.0.0': "
     "rendered tag '1.0.0/x' is not a valid tag (expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"},
    {"target registry with tag", HEAD "target:\n  registry: 'ghcr.io/x:1'\n" LATEST_A, 4, 13,
     "invalid target registry 'ghcr.io/x:1': expected host[:port][/path] without tag or digest"},
    {"target registry bad", HEAD "target:\n  registry: 'Ghcr.io/X'\n" LATEST_A, 4, 13,
     "invalid target registry 'Ghcr.io/X': expected host[:port][/path] without tag or digest"},
    {"target registry slash only", HEAD "target:\n  registry: /\n" LATEST_A, 4, 13,
     "invalid target registry '/': expected host[:port][/path]"},
    {"target repository with tag", HEAD LATEST_A "    target: {repository: 'ghcr.io/x:1'}\n", 8, 26,
     "invalid target repository: 'ghcr.io/x:1' names a tag; expected a repository; the tag comes "
     "from the tag template"},
    {"target registry and repository",
     HEAD "target:\n  repository: ghcr.io/a/b\n  registry: ghcr.io/a\n" LATEST_A, 5, 3,
     "target sets both registry and repository: set only one (registry keeps the source's last "
     "path element, repository is used as is)"},
};

static void error_classes(void **state)
{
    size_t failed = 0;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(error_cases); i++) {
        const struct error_case *tc = &error_cases[i];
        struct pf_config *cfg = NULL;
        struct pf_diags d;
        int r = parse_str(tc->yaml, &d, &cfg);
        bool ok = r == -EINVAL && d.n == 1 && d.n_errors == 1 && d.v[0].line == tc->line &&
                  d.v[0].col == tc->col && strcmp(d.v[0].msg, tc->msg) == 0;

        if (!ok) {
            printf("case '%s': r=%d, want %u:%u: %s\ngot:\n", tc->name, r, tc->line, tc->col,
                   tc->msg);
            print_diags(&d);
            failed++;
        }
        assert_null(cfg);
        pf_diags_release(&d);
    }
    assert_int_equal(failed, 0);
}

/* libyaml's reader errors (bad UTF-8, control characters, NUL) carry a byte offset only; each
 * still comes out at LINE:COL, the column counted in characters from 1 as an editor shows it. */
static void reader_errors_have_columns(void **state)
{
    static const struct {
        const char *name, *yaml;
        size_t len; /* 0: strlen */
        unsigned line, col;
        const char *msg;
    } cases[] = {
        {"bad lead byte after multi-byte characters", HEAD "# \xc3\xa9\xe2\x82\xac \xff\n", 0, 3, 6,
         "invalid YAML: invalid leading UTF-8 octet at byte 55"},
        {"bad trailing byte: the column of its sequence", HEAD "#\t\xc3\x28\n", 0, 3, 3,
         "invalid YAML: invalid trailing UTF-8 octet at byte 50"},
        {"truncated sequence at the end", HEAD "images: ab\xe2\x82", 0, 3, 11,
         "invalid YAML: incomplete UTF-8 octet sequence at byte 57"},
        {"control character", HEAD "images: a\x01b\n", 0, 3, 10,
         "invalid YAML: control characters are not allowed at byte 56"},
        {"NUL byte", HEAD "kind: a\0b\n", sizeof(HEAD "kind: a\0b\n") - 1, 3, 8,
         "invalid YAML: control characters are not allowed at byte 54"},
        {"UTF-8 BOM takes no column",
         "\xef\xbb\xbf"
         "ab\x7f: c\n",
         0, 1, 3, "invalid YAML: control characters are not allowed at byte 5"},
        {"BOM, later line", "\xef\xbb\xbf" HEAD "# \xff\n", 0, 3, 3,
         "invalid YAML: invalid leading UTF-8 octet at byte 52"},
        {"CR LF and lone CR end lines", "a: b\r\n\r\n# c\rd\x02\n", 0, 4, 2,
         "invalid YAML: control characters are not allowed at byte 13"},
        {"UTF-16LE with BOM",
         "\xff\xfe"
         "a\0:\0 \0\n\0b\0\x01\0",
         14, 2, 2, "invalid YAML: control characters are not allowed at byte 12"},
    };
    size_t failed = 0;

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct pf_config *cfg = NULL;
        struct pf_diags d;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].yaml);
        int r;
        char *line;

        assert_int_equal(pf_diags_init(&d, "t.yaml"), 0);
        r = pf_config_parse(cases[i].yaml, len, &d, &cfg);
        line = d.n == 1 ? pf_diag_format(&d, &d.v[0]) : NULL;
        if (r != -EINVAL || d.n != 1 || d.v[0].line != cases[i].line ||
            d.v[0].col != cases[i].col || strcmp(d.v[0].msg, cases[i].msg) != 0) {
            printf("case '%s': r=%d, want %u:%u: %s\ngot:\n", cases[i].name, r, cases[i].line,
                   cases[i].col, cases[i].msg);
            print_diags(&d);
            failed++;
        } else {
            /* What the user reads: FILE:LINE:COL: error: ... */
            char want[64];

            (void)snprintf(want, sizeof(want), "t.yaml:%u:%u: error: ", cases[i].line,
                           cases[i].col);
            assert_non_null(line);
            assert_true(strncmp(line, want, strlen(want)) == 0);
        }
        pf_free(line);
        assert_null(cfg);
        pf_diags_release(&d);
    }
    assert_int_equal(failed, 0);
}

static void five_errors_at_once(void **state)
{
    static const struct {
        unsigned line, col;
        const char *msg;
    } want[] = {
        {1, 13, "invalid apiVersion 'copa.sh/v1': expected 'copa.sh/v1alpha1'"},
        {5, 12,
         "invalid image: 'docker.io/library/nginx:1.25' names a tag; expected a repository "
         "(image must name a repository without tag or digest; put tags under tags:)"},
        {7, 17,
         "unknown tag strategy 'List': must be one of list, pattern, latest (did you mean "
         "'list'?)"},
        {13, 25,
         "invalid pattern '^v[0-9+$': missing terminating ] for character class at offset 8"},
        {14, 7, "unknown key 'maxtags' in tags (did you mean 'maxTags'?)"},
    };
    struct pf_config *cfg = NULL;
    struct pf_diags d;
    char *yaml = pf_test_read_data("config/five-errors.yaml", NULL);

    (void)state;
    assert_int_equal(parse_str(yaml, &d, &cfg), -EINVAL);
    pf_free(yaml);
    pf_diags_sort(&d);
    if (d.n != PF_ARRAY_SIZE(want))
        print_diags(&d);
    assert_int_equal(d.n, PF_ARRAY_SIZE(want));
    assert_int_equal(d.n_errors, PF_ARRAY_SIZE(want));
    for (size_t i = 0; i < PF_ARRAY_SIZE(want); i++) {
        assert_int_equal(d.v[i].line, want[i].line);
        assert_int_equal(d.v[i].col, want[i].col);
        assert_string_equal(d.v[i].msg, want[i].msg);
    }
    assert_null(cfg);
    pf_diags_release(&d);
}

/* An alias is refused, and so is the anchor it points at: both are reported. */
static void anchor_and_alias(void **state)
{
    static const char yaml[] = HEAD
        "images:\n  - &img {name: a, image: reg.test/a, tags: {strategy: "
        "latest}}\n  - *img\n";
    struct pf_config *cfg = NULL;
    struct pf_diags d;

    (void)state;
    assert_int_equal(parse_str(yaml, &d, &cfg), -EINVAL);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[0].line, 4);
    assert_string_equal(d.v[0].msg, "YAML anchors are not supported ('&img')");
    assert_int_equal(d.v[1].line, 5);
    assert_int_equal(d.v[1].col, 5);
    assert_string_equal(d.v[1].msg, "YAML aliases are not supported ('*img')");
    pf_diags_release(&d);
}

static void limits(void **state)
{
    struct pf_config *cfg = NULL;
    struct pf_diags d;
    struct pf_buf b = PF_BUF_INIT;
    char *big;

    (void)state;
    /* Nesting: 40 flow sequences inside one another. */
    assert_int_equal(pf_buf_appends(&b, HEAD "images: "), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(pf_buf_appends(&b, "["), 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(pf_buf_appends(&b, "]"), 0);
    assert_int_equal(parse_str(b.p, &d, &cfg), -EINVAL);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].msg, "nesting too deep (limit 32 levels)");
    assert_int_equal(d.v[0].line, 3);
    assert_int_equal(d.v[0].col, 9 + 31);
    pf_diags_release(&d);
    pf_buf_release(&b);

    /* Size: refused before libyaml sees a byte. */
    big = pf_calloc(1, PF_CONFIG_MAX_BYTES + 1);
    assert_non_null(big);
    assert_int_equal(pf_diags_init(&d, "big.yaml"), 0);
    assert_int_equal(pf_config_parse(big, PF_CONFIG_MAX_BYTES + 1, &d, &cfg), -EINVAL);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 0);
    assert_string_equal(d.v[0].msg, "config is larger than 16777216 bytes, refusing it");
    pf_diags_release(&d);
    pf_free(big);
    assert_null(cfg);
}

static void load_file(void **state)
{
    struct pf_config *cfg = NULL;
    struct pf_diags d;
    char path[4096];

    (void)state;
    assert_int_equal(pf_diags_init(&d, "/nonexistent/bulk.yaml"), 0);
    assert_int_equal(pf_config_load("/nonexistent/bulk.yaml", &d, &cfg), -EINVAL);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 0);
    assert_string_equal(d.v[0].msg, "cannot read config: No such file or directory");
    pf_diags_release(&d);

    assert_int_equal(pf_diags_init(&d, PF_TEST_DATA), 0);
    assert_int_equal(pf_config_load(PF_TEST_DATA, &d, &cfg), -EINVAL);
    assert_string_equal(d.v[0].msg, "cannot read config: Is a directory");
    pf_diags_release(&d);

    snprintf(path, sizeof(path), "%s/config/spec-example.yaml", PF_TEST_DATA);
    assert_int_equal(pf_diags_init(&d, path), 0);
    assert_int_equal(pf_config_load(path, &d, &cfg), 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(cfg->n_images, 3);
    pf_diags_release(&d);
    pf_config_free(cfg);
}

/* ---- targets ----------------------------------------------------------------------------- */

static void strategy_strings(void **state)
{
    (void)state;
    for (int s = 0; s < PF_STRATEGY__MAX; s++)
        assert_int_equal(pf_tag_strategy_from_string(pf_tag_strategy_to_string(s)), s);
    assert_string_equal(pf_tag_strategy_to_string(PF_STRATEGY_PATTERN), "pattern");
    assert_null(pf_tag_strategy_to_string(PF_STRATEGY_INVALID));
    assert_null(pf_tag_strategy_to_string(PF_STRATEGY__MAX));
    assert_int_equal(pf_tag_strategy_from_string("List"), PF_STRATEGY_INVALID);
    assert_int_equal(pf_tag_strategy_from_string(""), PF_STRATEGY_INVALID);
    assert_int_equal(pf_tag_strategy_from_string(NULL), PF_STRATEGY_INVALID);
}

static void merge_targets(void **state)
{
    /* Copa's TestMergeTarget, plus empty strings and our repository field. */
    static const struct {
        const char *name;
        struct pf_target global, image, want;
    } cases[] = {
        {"both empty",
         {NULL, NULL, NULL},
         {NULL, NULL, NULL},
         {NULL, PF_DEFAULT_TAG_TEMPLATE, NULL}},
        {"global only",
         {"ghcr.io/g", "{{ .SourceTag }}-g", NULL},
         {NULL, NULL, NULL},
         {"ghcr.io/g", "{{ .SourceTag }}-g", NULL}},
        {"image only",
         {NULL, NULL, NULL},
         {"ghcr.io/i", "{{ .SourceTag }}-i", NULL},
         {"ghcr.io/i", "{{ .SourceTag }}-i", NULL}},
        {"image overrides both",
         {"ghcr.io/g", "{{ .SourceTag }}-g", NULL},
         {"ghcr.io/i", "{{ .SourceTag }}-i", NULL},
         {"ghcr.io/i", "{{ .SourceTag }}-i", NULL}},
        {"image overrides tag only",
         {"ghcr.io/g", "{{ .SourceTag }}-g", NULL},
         {NULL, "{{ .SourceTag }}-i", NULL},
         {"ghcr.io/g", "{{ .SourceTag }}-i", NULL}},
        {"image overrides registry only",
         {"ghcr.io/g", "{{ .SourceTag }}-g", NULL},
         {"ghcr.io/i", NULL, NULL},
         {"ghcr.io/i", "{{ .SourceTag }}-g", NULL}},
        {"empty strings are unset",
         {"", "", ""},
         {"", "", ""},
         {NULL, PF_DEFAULT_TAG_TEMPLATE, NULL}},
        {"image repository replaces global registry",
         {"ghcr.io/g", NULL, NULL},
         {NULL, NULL, "quay.io/x/y"},
         {NULL, PF_DEFAULT_TAG_TEMPLATE, "quay.io/x/y"}},
        {"global repository kept",
         {NULL, NULL, "quay.io/x/y"},
         {"", "{{ .SourceTag }}-i", NULL},
         {NULL, "{{ .SourceTag }}-i", "quay.io/x/y"}},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        struct pf_config cfg = {.target = cases[i].global};
        struct pf_image_spec img = {.target = cases[i].image};
        struct pf_target got;

        printf("merge case '%s'\n", cases[i].name);
        pf_config_effective_target(&cfg, &img, &got);
        if (cases[i].want.registry)
            assert_string_equal(got.registry, cases[i].want.registry);
        else
            assert_null(got.registry);
        assert_string_equal(got.tag, cases[i].want.tag);
        if (cases[i].want.repository)
            assert_string_equal(got.repository, cases[i].want.repository);
        else
            assert_null(got.repository);
    }
}

/* ---- out of memory ----------------------------------------------------------------------- */

/* Fails allocation n (n = 1, 2, ...) until the parse gets through; each failure must be
 * -ENOMEM, and ASan checks that nothing leaks on the way out. */
static void oom_loop(const char *yaml, int final_r)
{
    unsigned long n;

    for (n = 1;; n++) {
        struct pf_config *cfg = NULL;
        struct pf_diags d;
        int r;

        assert_int_equal(pf_diags_init(&d, "t.yaml"), 0);
        pf_alloc_fail_at(n, false);
        r = pf_config_parse(yaml, strlen(yaml), &d, &cfg);
        pf_alloc_fail_at(0, false);
        pf_diags_release(&d);
        pf_config_free(cfg);
        if (r == final_r)
            break;
        if (r != -ENOMEM)
            printf("allocation %lu: r=%d\n", n, r);
        assert_int_equal(r, -ENOMEM);
        assert_null(cfg);
    }
    assert_true(n > 20);
}

static void out_of_memory(void **state)
{
    char *yaml = pf_test_read_data("config/spec-example.yaml", NULL);

    (void)state;
    oom_loop(yaml, 0);
    pf_free(yaml);
    yaml = pf_test_read_data("config/five-errors.yaml", NULL);
    oom_loop(yaml, -EINVAL);
    pf_free(yaml);
    yaml = pf_test_read_data("config/warnings.yaml", NULL);
    oom_loop(yaml, 0);
    pf_free(yaml);
}

static int run_copa_fixtures(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copa_fixtures_parse),
    };

    if (access(COPA_CONFIGS, R_OK) != 0) {
        printf("SKIP: %s is absent (a plain clone has no ../shared); the same shapes were "
               "parsed from tests/data/copa\n",
               COPA_CONFIGS);
        return SKIP_RC;
    }
    return cmocka_run_group_tests_name("config/copa-fixtures", tests, NULL, NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bulk_configs_parse),
        cmocka_unit_test(spec_example_parses),
        cmocka_unit_test(extensions_and_nulls),
        cmocka_unit_test(duplicates_warn_and_platforms_normalise),
        cmocka_unit_test(error_classes),
        cmocka_unit_test(reader_errors_have_columns),
        cmocka_unit_test(five_errors_at_once),
        cmocka_unit_test(anchor_and_alias),
        cmocka_unit_test(limits),
        cmocka_unit_test(load_file),
        cmocka_unit_test(strategy_strings),
        cmocka_unit_test(merge_targets),
        cmocka_unit_test(out_of_memory),
    };

    if (argc > 1 && strcmp(argv[1], "copa-fixtures") == 0)
        return run_copa_fixtures();
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
