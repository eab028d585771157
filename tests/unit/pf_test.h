/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared glue for the cmocka unit tests: includes in the order cmocka needs, and helpers to
 * read fixtures. Each test_<mod>.c includes only this and the module under test.
 */
#ifndef PF_TEST_H
#define PF_TEST_H

#include "pf/setup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pf/alloc.h"
#include "pf/buf.h"

/* Reads tests/data/<rel> into a new NUL-terminated string; fails the test if unreadable. */
static inline char *pf_test_read_data(const char *rel, size_t *ret_len)
{
    struct pf_buf b = PF_BUF_INIT;
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", PF_TEST_DATA, rel);
    assert_int_equal(pf_buf_read_file(&b, path), 0);
    return pf_buf_steal(&b, ret_len);
}

#endif
