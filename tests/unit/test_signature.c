/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for pf/signature.h against tests/data/signature (made by its generate.sh with the
 * openssl tool): each RSA PKCS#1 algorithm verifies its own signature, in one piece or split
 * in two parts, and refuses a changed message, another algorithm's signature, a key of the
 * wrong type and text that is no key.
 */
#include "pf_test.h"

#include "pf/signature.h"

static struct pf_signature_key *load(const char *rel)
{
    struct pf_signature_key *k = NULL;
    size_t len;
    char *pem = pf_test_read_data(rel, &len);

    assert_int_equal(pf_signature_key_load_pem(pem, len, &k, NULL, 0), 0);
    pf_free(pem);
    return k;
}

static void rsa_algorithms(void **state)
{
    static const struct {
        enum pf_signature_alg alg;
        const char *sig;
    } cases[] = {
        {PF_SIGNATURE_RSA_PKCS1_SHA1, "signature/message.sha1.sig"},
        {PF_SIGNATURE_RSA_PKCS1_SHA256, "signature/message.sha256.sig"},
        {PF_SIGNATURE_RSA_PKCS1_SHA512, "signature/message.sha512.sig"},
    };
    struct pf_signature_key *k = load("signature/rsa.pub");
    size_t mlen;
    char *msg = pf_test_read_data("signature/message.txt", &mlen);

    (void)state;
    for (size_t i = 0; i < PF_ARRAY_SIZE(cases); i++) {
        size_t slen;
        char *sig = pf_test_read_data(cases[i].sig, &slen);
        struct pf_signature_part whole[] = {{msg, mlen}};
        struct pf_signature_part split[] = {{msg, 7}, {NULL, 0}, {msg + 7, mlen - 7}};
        struct pf_signature_part changed[] = {{msg, mlen - 1}};
        enum pf_signature_alg other = cases[(i + 1) % PF_ARRAY_SIZE(cases)].alg;

        assert_int_equal(pf_signature_verify(k, cases[i].alg, whole, 1, sig, slen), 0);
        assert_int_equal(pf_signature_verify(k, cases[i].alg, split, 3, sig, slen), 0);
        assert_int_equal(pf_signature_verify(k, cases[i].alg, changed, 1, sig, slen), -EBADMSG);
        assert_int_equal(pf_signature_verify(k, other, whole, 1, sig, slen), -EBADMSG);
        sig[slen / 2] ^= 1;
        assert_int_equal(pf_signature_verify(k, cases[i].alg, whole, 1, sig, slen), -EBADMSG);
        assert_int_equal(pf_signature_verify(k, cases[i].alg, whole, 1, sig, 0), -EBADMSG);
        pf_free(sig);
    }
    assert_int_equal(pf_signature_verify(k, PF_SIGNATURE__MAX, NULL, 0, "", 0), -EINVAL);
    pf_signature_key_free(k);
    pf_free(msg);
}

static void wrong_keys(void **state)
{
    struct pf_signature_key *ec = load("signature/ec.pub"), *k = NULL;
    size_t mlen, slen;
    char *msg = pf_test_read_data("signature/message.txt", &mlen);
    char *sig = pf_test_read_data("signature/message.sha256.sig", &slen);
    struct pf_signature_part whole[] = {{msg, mlen}};
    char eb[128] = "";

    (void)state;
    /* An RSA algorithm never verifies with a key of another type. */
    assert_int_equal(pf_signature_verify(ec, PF_SIGNATURE_RSA_PKCS1_SHA256, whole, 1, sig, slen),
                     -EINVAL);
    assert_int_equal(pf_signature_key_load_pem("junk", 4, &k, eb, sizeof(eb)), -EINVAL);
    assert_null(k);
    assert_string_equal(eb, "no PEM public key");
    assert_null(pf_signature_key_free(NULL));
    pf_signature_key_free(ec);
    pf_free(msg);
    pf_free(sig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rsa_algorithms),
        cmocka_unit_test(wrong_keys),
    };

    return cmocka_run_group_tests_name("signature", tests, NULL, NULL);
}
