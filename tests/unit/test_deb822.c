/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for worker/deb822: paragraphs, continuation lines, comments, limits, bad input. */
#include "pf_test.h"

#include "deb/deb822.h"

static int parse(const char *text, const struct worker_deb822_opts *o,
                 struct worker_deb822_doc *doc, char *err, size_t errlen)
{
    return worker_deb822_parse(text, strlen(text), o, doc, err, errlen);
}

static void paragraphs_and_fields(void **state)
{
    static const char text[] = "Package: a\n"
                               "Version:  1.0  \n"
                               "Description: short\n"
                               " long line\n"
                               " .\n"
                               " more\n"
                               "\n"
                               " \t\n"
                               "\n"
                               "package: b\r\n"
                               "Conffiles:\n"
                               " /etc/x 0123\n"
                               " /etc/y 4567 obsolete";
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;

    (void)state;
    assert_int_equal(parse(text, NULL, &doc, NULL, 0), 0);
    assert_int_equal(doc.n, 2);
    assert_int_equal(doc.paras[0].n_fields, 3);
    assert_int_equal(doc.paras[0].line, 1);
    assert_string_equal(doc.paras[0].fields[0].name, "Package");
    assert_string_equal(worker_deb822_para_get(&doc.paras[0], "VERSION"), "1.0");
    assert_string_equal(worker_deb822_para_get(&doc.paras[0], "description"),
                        "short\n long line\n .\n more");
    assert_null(worker_deb822_para_get(&doc.paras[0], "Conffiles"));
    assert_string_equal(doc.paras[0].raw,
                        "Package: a\nVersion:  1.0  \nDescription: short\n long line\n .\n more\n");
    assert_int_equal(doc.paras[1].line, 10);
    assert_string_equal(worker_deb822_para_get(&doc.paras[1], "Package"), "b");
    assert_string_equal(worker_deb822_para_get(&doc.paras[1], "Conffiles"),
                        "\n /etc/x 0123\n /etc/y 4567 obsolete");
    assert_int_equal(worker_deb822_para_field(&doc.paras[1], "conffiles")->line, 11);
    /* No final newline in the input, one in the raw text. */
    assert_int_equal(doc.paras[1].raw[doc.paras[1].raw_len - 1], '\n');
    assert_int_equal(doc.paras[1].raw_len, strlen(doc.paras[1].raw));
    worker_deb822_doc_clear(&doc);
    assert_int_equal(doc.n, 0);
}

static void empty_input(void **state)
{
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;

    (void)state;
    assert_int_equal(parse("", NULL, &doc, NULL, 0), 0);
    assert_int_equal(doc.n, 0);
    assert_int_equal(parse("\n\n  \n", NULL, &doc, NULL, 0), 0);
    assert_int_equal(doc.n, 0);
    worker_deb822_doc_clear(&doc);
}

static void comments_only_when_allowed(void **state)
{
    static const char text[] = "# leading comment\n"
                               "Types: deb\n"
                               "# between fields\n"
                               "URIs: http://x\n"
                               "Suites: a\n"
                               "# inside a folded field\n"
                               " b\n";
    const struct worker_deb822_opts o = {.allow_comments = true};
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    char err[128] = "";

    (void)state;
    assert_int_equal(parse(text, &o, &doc, err, sizeof(err)), 0);
    assert_int_equal(doc.n, 1);
    assert_int_equal(doc.paras[0].n_fields, 3);
    assert_int_equal(doc.paras[0].line, 2);
    assert_string_equal(worker_deb822_para_get(&doc.paras[0], "Suites"), "a\n b");
    worker_deb822_doc_clear(&doc);

    assert_int_equal(parse(text, NULL, &doc, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "line 1: comment line not allowed here");
    assert_int_equal(doc.n, 0);
}

struct bad_case {
    const char *text;
    int err;
    const char *msg;
};

static void malformed_input(void **state)
{
    static const struct bad_case cases[] = {
        {" continuation first\n", -EINVAL, "line 1: continuation line outside a field"},
        {"A: 1\n\n more\n", -EINVAL, "line 3: continuation line outside a field"},
        {"A: 1\nno colon here\n", -EINVAL, "line 2: field has no ':'"},
        {": empty name\n", -EINVAL, "line 1: invalid field name"},
        {"-Bad: 1\n", -EINVAL, "line 1: invalid field name"},
        {"Bad Name: 1\n", -EINVAL, "line 1: invalid character in field name"},
        {"A: 1\nB: 2\na: 3\n", -EINVAL, "line 3: duplicate field"},
    };
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    char err[128];

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        err[0] = '\0';
        assert_int_equal(parse(cases[i].text, NULL, &doc, err, sizeof(err)), cases[i].err);
        assert_string_equal(err, cases[i].msg);
        assert_int_equal(doc.n, 0);
        assert_null(doc.paras);
    }
}

static void nul_byte_refused(void **state)
{
    static const char text[] = "A: 1\nB: x\0y\n";
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    char err[64];

    (void)state;
    assert_int_equal(worker_deb822_parse(text, sizeof(text) - 1, NULL, &doc, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "line 2: NUL byte in input");
    assert_int_equal(doc.n, 0);
}

static void limits_enforced(void **state)
{
    struct worker_deb822_opts o = {.max_para_bytes = 64};
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    char err[64], *huge;
    size_t n = 200000;

    (void)state;
    /* One huge line, and a paragraph that grows past the limit through continuations. */
    huge = pf_malloc(n + 1);
    assert_non_null(huge);
    memset(huge, 'x', n);
    memcpy(huge, "A: ", 3);
    huge[n] = '\0';
    assert_int_equal(parse(huge, &o, &doc, err, sizeof(err)), -E2BIG);
    assert_string_equal(err, "line 1: line too long");
    assert_int_equal(parse("A: 1\n 0123456789012345678901234567890123456789\n"
                           " 0123456789012345678901234567890123456789\n",
                           &o, &doc, err, sizeof(err)),
                     -E2BIG);
    assert_string_equal(err, "line 3: paragraph too large");
    o = (struct worker_deb822_opts){.max_input = 1000};
    assert_int_equal(worker_deb822_parse(huge, n, &o, &doc, err, sizeof(err)), -E2BIG);
    pf_free(huge);

    o = (struct worker_deb822_opts){.max_fields = 2};
    assert_int_equal(parse("A: 1\nB: 2\n\nA: 1\nB: 2\n", &o, &doc, NULL, 0), 0);
    worker_deb822_doc_clear(&doc);
    assert_int_equal(parse("A: 1\nB: 2\nC: 3\n", &o, &doc, err, sizeof(err)), -E2BIG);
    assert_string_equal(err, "line 3: too many fields in paragraph");
    o = (struct worker_deb822_opts){.max_paras = 2};
    assert_int_equal(parse("A: 1\n\nA: 2\n\nA: 3\n", &o, &doc, err, sizeof(err)), -E2BIG);
    assert_string_equal(err, "line 5: too many paragraphs");
    assert_int_equal(doc.n, 0);
}

static void many_paragraphs_grow(void **state)
{
    struct pf_buf b = PF_BUF_INIT;
    struct worker_deb822_doc doc = WORKER_DEB822_DOC_INIT;
    char name[32];

    (void)state;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(pf_buf_appendf(&b, "Package: p%d\n", i), 0);
        for (int j = 0; j < 20; j++)
            assert_int_equal(pf_buf_appendf(&b, "F%d: %d\n", j, i * j), 0);
        assert_int_equal(pf_buf_appends(&b, "\n"), 0);
    }
    assert_int_equal(worker_deb822_parse(b.p, b.len, NULL, &doc, NULL, 0), 0);
    assert_int_equal(doc.n, 100);
    assert_int_equal(doc.paras[99].n_fields, 21);
    snprintf(name, sizeof(name), "%d", 99 * 19);
    assert_string_equal(worker_deb822_para_get(&doc.paras[99], "f19"), name);
    worker_deb822_doc_clear(&doc);
    pf_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paragraphs_and_fields),      cmocka_unit_test(empty_input),
        cmocka_unit_test(comments_only_when_allowed), cmocka_unit_test(malformed_input),
        cmocka_unit_test(nul_byte_refused),           cmocka_unit_test(limits_enforced),
        cmocka_unit_test(many_paragraphs_grow),
    };

    return cmocka_run_group_tests_name("deb822", tests, NULL, NULL);
}
