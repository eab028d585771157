/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf/digest.h: the FIPS 180 / RFC 1321 "abc" vectors of every algorithm, one-shot
 * and streamed in pieces, hex and raw; final restarting the context; unknown algorithms; and
 * the OCI "sha256:<hex>" spelling beside them.
 */
#include "pf_test.h"

#include "pf/digest.h"

static const char *const abc_hex[PF_DIGEST__MAX] = {
    [PF_DIGEST_MD5] = "900150983cd24fb0d6963f7d28e17f72",
    [PF_DIGEST_SHA1] = "a9993e364706816aba3e25717850c26c9cd0d89d",
    [PF_DIGEST_SHA256] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    [PF_DIGEST_SHA512] = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                         "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
};

static void one_shot_vectors(void **state)
{
    (void)state;
    for (int alg = 0; alg < PF_DIGEST__MAX; alg++) {
        char hex[PF_DIGEST_HEX_BUFSZ];
        unsigned char raw[PF_DIGEST_MAX_SIZE];
        char again[PF_DIGEST_HEX_BUFSZ];
        size_t size = strlen(abc_hex[alg]) / 2;

        assert_int_equal(pf_digest_size((enum pf_digest_alg)alg), size);
        assert_int_equal(pf_digest_buf_hex((enum pf_digest_alg)alg, "abc", 3, hex), (int)size);
        assert_string_equal(hex, abc_hex[alg]);
        assert_int_equal(pf_digest_buf((enum pf_digest_alg)alg, "abc", 3, raw), (int)size);
        pf_digest_to_hex(raw, size, again);
        assert_string_equal(again, abc_hex[alg]);
    }
}

static void streaming_and_restart(void **state)
{
    struct pf_digest_ctx d = {0};
    char hex[PF_DIGEST_HEX_BUFSZ];

    (void)state;
    pf_digest_release(&d); /* safe before init */
    assert_int_equal(pf_digest_init(&d, PF_DIGEST_SHA1), 0);
    assert_int_equal(pf_digest_update(&d, "a", 1), 0);
    assert_int_equal(pf_digest_update(&d, "", 0), 0);
    assert_int_equal(pf_digest_update(&d, "bc", 2), 0);
    assert_int_equal(pf_digest_final_hex(&d, hex), 20);
    assert_string_equal(hex, abc_hex[PF_DIGEST_SHA1]);
    /* final restarted the context: the empty string's SHA-1 comes next */
    assert_int_equal(pf_digest_final_hex(&d, hex), 20);
    assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    pf_digest_release(&d);
    pf_digest_release(&d);
}

static void unknown_algorithm(void **state)
{
    struct pf_digest_ctx d = {0};
    unsigned char raw[PF_DIGEST_MAX_SIZE];

    (void)state;
    assert_int_equal(pf_digest_size(PF_DIGEST__MAX), 0);
    assert_int_equal(pf_digest_init(&d, PF_DIGEST__MAX), -EINVAL);
    assert_null(d.ctx);
    assert_int_equal(pf_digest_buf(PF_DIGEST__MAX, "abc", 3, raw), -EINVAL);
}

static void oci_sha256(void **state)
{
    char dg[PF_DIGEST_BUFSZ];

    (void)state;
    assert_int_equal(pf_sha256_digest("abc", 3, dg), 0);
    assert_memory_equal(dg, "sha256:", 7);
    assert_string_equal(pf_digest_sha256_hex(dg), abc_hex[PF_DIGEST_SHA256]);
    assert_null(pf_digest_sha256_hex("sha512:abc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_shot_vectors),
        cmocka_unit_test(streaming_and_restart),
        cmocka_unit_test(unknown_algorithm),
        cmocka_unit_test(oci_sha256),
    };

    return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
