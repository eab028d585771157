/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf/registry_opts.h: the registry options every binary shares take their
 * getopt values and only those, and the client options honour --ca-file and
 * PATCHFLEET_FORCE_TLS=1 (only "1") the same way for the CLI and both daemons.
 */
#include "pf_test.h"

#include <stdlib.h>

#include "pf/registry.h"
#include "pf/registry_opts.h"

static void parse(void **state)
{
    struct pf_registry_opts o = PF_REGISTRY_OPTS_INIT;

    (void)state;
    assert_int_equal(pf_registry_opts_parse(&o, PF_REGISTRY_OPT_INSECURE, "reg.test:5000"), 1);
    assert_int_equal(pf_registry_opts_parse(&o, PF_REGISTRY_OPT_INSECURE, "other.test"), 1);
    assert_int_equal(pf_registry_opts_parse(&o, PF_REGISTRY_OPT_CA_FILE, "/etc/ca.pem"), 1);
    assert_int_equal(pf_registry_opts_parse(&o, 'h', NULL), 0);
    assert_int_equal(pf_registry_opts_parse(&o, '?', NULL), 0);
    assert_int_equal(o.insecure.n, 2);
    assert_string_equal(o.insecure.v[0], "reg.test:5000");
    assert_string_equal(o.insecure.v[1], "other.test");
    assert_string_equal(o.ca_file, "/etc/ca.pem");
    pf_registry_opts_release(&o);
    assert_int_equal(o.insecure.n, 0);
    assert_null(o.ca_file);
    pf_registry_opts_release(NULL);
}

/* The long-option table entries carry the values the parser takes. */
static void long_options(void **state)
{
    static const struct option table[] = {PF_REGISTRY_LONG_OPTIONS, {NULL, 0, NULL, 0}};

    (void)state;
    assert_string_equal(table[0].name, "insecure-registry");
    assert_int_equal(table[0].val, PF_REGISTRY_OPT_INSECURE);
    assert_int_equal(table[0].has_arg, required_argument);
    assert_string_equal(table[1].name, "ca-file");
    assert_int_equal(table[1].val, PF_REGISTRY_OPT_CA_FILE);
}

static void force_tls(void **state)
{
    struct pf_registry_opts o = PF_REGISTRY_OPTS_INIT;
    struct pf_registry_options ro;
    struct pf_registry *reg = NULL;
    char err[256] = "";

    (void)state;
    assert_int_equal(unsetenv(PF_REGISTRY_OPTS_FORCE_TLS_ENV), 0);
    pf_registry_opts_apply(&o, &ro);
    assert_false(ro.force_tls);
    assert_null(ro.ca_file);
    assert_ptr_equal(ro.insecure_hosts, &o.insecure);
    assert_true(ro.max_retries > 0); /* the defaults were filled in */

    assert_int_equal(setenv(PF_REGISTRY_OPTS_FORCE_TLS_ENV, "1", 1), 0);
    pf_registry_opts_apply(&o, &ro);
    assert_true(ro.force_tls);
    assert_int_equal(setenv(PF_REGISTRY_OPTS_FORCE_TLS_ENV, "yes", 1), 0);
    pf_registry_opts_apply(&o, &ro);
    assert_false(ro.force_tls);
    assert_int_equal(setenv(PF_REGISTRY_OPTS_FORCE_TLS_ENV, "0", 1), 0);
    pf_registry_opts_apply(&o, &ro);
    assert_false(ro.force_tls);

    assert_int_equal(pf_registry_opts_parse(&o, PF_REGISTRY_OPT_CA_FILE, "/etc/ca.pem"), 1);
    pf_registry_opts_apply(&o, &ro);
    assert_true(ro.force_tls);
    assert_string_equal(ro.ca_file, "/etc/ca.pem");
    assert_int_equal(unsetenv(PF_REGISTRY_OPTS_FORCE_TLS_ENV), 0);

    assert_int_equal(pf_registry_opts_new_client(&o, &reg, err, sizeof(err)), 0);
    assert_non_null(reg);
    pf_registry_free(reg);
    pf_registry_opts_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse),
        cmocka_unit_test(long_options),
        cmocka_unit_test(force_tls),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
