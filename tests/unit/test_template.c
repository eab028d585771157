/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for tag templates: what renders and to what (Go text/template semantics for the
 * {{ .SourceTag }} subset, trim markers included), what is refused and at which offset, and
 * the tag-grammar check on the rendered result.
 */
#include "pf_test.h"

#include "pf/template.h"

static void renders(void **state)
{
    static const struct {
        const char *tmpl, *source, *want;
    } cases[] = {
        {"{{ .SourceTag }}-patched", "1.25.3", "1.25.3-patched"},
        {"{{.SourceTag}}", "1.0", "1.0"},
        {"{{   .SourceTag\t}}-x", "1.0", "1.0-x"},
        {"{{\n.SourceTag\n}}", "1.0", "1.0"},
        {"v{{ .SourceTag }}-{{ .SourceTag }}", "1.0", "v1.0-1.0"},
        {"pre- {{- .SourceTag -}} -post", "1.0", "pre-1.0-post"},
        {"{{- .SourceTag -}}", "3.19", "3.19"},
        /* "{{-x" is no trim marker in Go (it needs a space), so no trimming happens here. */
        {"a {{ .SourceTag }} b", "1", "a 1 b"},
        {"{{ .SourceTag }}_fixed.1", "latest", "latest_fixed.1"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        char err[256] = "";
        char *out = NULL;
        int r;

        assert_int_equal(pf_template_check(cases[i].tmpl, NULL, err, sizeof(err)), 0);
        r = pf_template_render(cases[i].tmpl, cases[i].source, &out, err, sizeof(err));
        if (strchr(cases[i].want, ' ')) {
            /* Spaces survive rendering, and the tag check then refuses the result. */
            assert_int_equal(r, -EINVAL);
            assert_string_equal(err, "rendered tag 'a 1 b' is not a valid tag (expected "
                                     "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
            assert_null(out);
            continue;
        }
        if (r != 0)
            printf("case '%s': %s\n", cases[i].tmpl, err);
        assert_int_equal(r, 0);
        assert_string_equal(out, cases[i].want);
        pf_free(out);
    }
}

static void refuses(void **state)
{
    static const struct {
        const char *tmpl;
        size_t offset;
        const char *msg;
    } cases[] = {
        {"{{ .Foo }}", 3, "unknown field .Foo: only .SourceTag is available"},
        {"{{ .sourceTag }}", 3, "unknown field .sourceTag: only .SourceTag is available"},
        {"{{ printf \"%s\" .SourceTag }}", 3,
         "functions are not supported ('printf'): only {{ .SourceTag }} is allowed"},
        {"{{ .SourceTag | printf }}", 14,
         "unexpected '| printf' after .SourceTag: only {{ .SourceTag }} is allowed"},
        {"{{ .SourceTag.X }}", 13,
         "unexpected '.X' after .SourceTag: only {{ .SourceTag }} is allowed"},
        {"{{ if .SourceTag }}x{{ end }}", 3,
         "control structures are not supported ('if'): only {{ .SourceTag }} is allowed"},
        {"{{ . }}", 3, "'.' is not supported: only .SourceTag is available"},
        {"{{ $x }}", 3, "variables are not supported"},
        {"{{/* c */}}{{ .SourceTag }}", 2, "comments are not supported"},
        {"{{ 3 }}", 3, "unexpected '3' in action: only {{ .SourceTag }} is allowed"},
        {"{{-.SourceTag}}", 2, "unexpected '-' in action: only {{ .SourceTag }} is allowed"},
        {"{{ }}", 0, "empty action: only {{ .SourceTag }} is allowed"},
        {"{{- -}}", 0, "empty action: only {{ .SourceTag }} is allowed"},
        {"{{ .SourceTag", 0, "unclosed action: '{{' without '}}'"},
        {"x-{{ .SourceTag }}-{{", 19, "unclosed action: '{{' without '}}'"},
        {"fixed", 0, "template must contain {{ .SourceTag }}"},
        {"", 0, "template must contain {{ .SourceTag }}"},
        {"x}}", 0, "template must contain {{ .SourceTag }}"},
    };

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        char err[256] = "";
        char *out = NULL;
        size_t off = 999;

        if (pf_template_check(cases[i].tmpl, &off, err, sizeof(err)) != -EINVAL ||
            off != cases[i].offset || strcmp(err, cases[i].msg) != 0)
            printf("case '%s': offset %zu, '%s'\n", cases[i].tmpl, off, err);
        assert_int_equal(pf_template_check(cases[i].tmpl, &off, err, sizeof(err)), -EINVAL);
        assert_int_equal(off, cases[i].offset);
        assert_string_equal(err, cases[i].msg);
        /* Rendering refuses it the same way; without an offset pointer and errbuf too. */
        err[0] = '\0';
        assert_int_equal(pf_template_render(cases[i].tmpl, "1.0", &out, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, cases[i].msg);
        assert_null(out);
        assert_int_equal(pf_template_check(cases[i].tmpl, NULL, NULL, 0), -EINVAL);
    }
}

static void rendered_tag_is_checked(void **state)
{
    char err[256];
    char long_tag[130];
    char *out = NULL;

    (void)state;
    assert_int_equal(pf_template_render("{{ .SourceTag }}/x", "1.0.0", &out, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "rendered tag '1.0.0/x' is not a valid tag (expected "
                             "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
    assert_int_equal(pf_template_render("-{{ .SourceTag }}", "1", &out, err, sizeof(err)), -EINVAL);
    assert_int_equal(pf_template_render("{{ .SourceTag }}", "", &out, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "rendered tag '' is not a valid tag (expected "
                             "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
    /* 128 characters is the longest tag; one more is refused. */
    memset(long_tag, 'a', 128);
    long_tag[128] = '\0';
    assert_int_equal(pf_template_render("{{ .SourceTag }}", long_tag, &out, err, sizeof(err)), 0);
    assert_int_equal(strlen(out), 128);
    out = pf_free(out);
    assert_int_equal(pf_template_render("{{ .SourceTag }}x", long_tag, &out, err, sizeof(err)),
                     -EINVAL);
    assert_null(out);
}

static void render_out_of_memory(void **state)
{
    unsigned long n;

    (void)state;
    for (n = 1;; n++) {
        char err[256];
        char *out = NULL;
        int r;

        pf_alloc_fail_at(n, false);
        r = pf_template_render("v{{ .SourceTag }}-patched", "1.0", &out, err, sizeof(err));
        pf_alloc_fail_at(0, false);
        if (r == 0) {
            assert_string_equal(out, "v1.0-patched");
            pf_free(out);
            break;
        }
        assert_int_equal(r, -ENOMEM);
        assert_null(out);
    }
    assert_true(n > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders),
        cmocka_unit_test(refuses),
        cmocka_unit_test(rendered_tag_is_checked),
        cmocka_unit_test(render_out_of_memory),
    };

    return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
