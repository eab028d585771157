/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for image references. Beyond "no crash, no leak" it checks the property the
 * rest of patchfleet relies on: the normalised string pf_ref_to_string() prints parses back to
 * the same reference, so jobs and reports can store it and look it up again. The input is also
 * fed as a source to target naming, whose result must be a valid repository, and to the tag
 * order, which must be antisymmetric.
 */
#include "pf/setup.h"

#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/ref.h"
#include "pf/tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static void check_round_trip(const struct pf_ref *ref)
{
    struct pf_ref again;
    char err[512];
    char *s, *s2;

    s = pf_ref_to_string(ref);
    if (!s)
        return;
    if (pf_ref_parse(s, &again, err, sizeof(err)) != 0)
        abort(); /* the printed form of a parsed reference must parse */
    if (!str_eq(ref->registry, again.registry) || !str_eq(ref->repository, again.repository) ||
        !str_eq(ref->tag, again.tag) || !str_eq(ref->digest, again.digest))
        abort();
    s2 = pf_ref_to_string(&again);
    if (s2 && strcmp(s, s2) != 0)
        abort();
    pf_free(s2);
    pf_free(s);
    pf_ref_release(&again);
}

static void check_target(const struct pf_ref *ref)
{
    struct pf_target t = {.registry = (char *)(uintptr_t) "ghcr.io/myorg/"};
    struct pf_ref out, again;
    char err[512];
    char *s;

    if (pf_ref_target_repository(ref, &t, &out, err, sizeof(err)) != 0)
        return; /* a 255-character source can make the target too long */
    if (out.tag || out.digest || strcmp(out.registry, "ghcr.io") != 0)
        abort();
    s = pf_ref_repository_string(&out);
    if (s && pf_ref_parse_repository(s, &again, err, sizeof(err)) != 0)
        abort();
    if (s)
        pf_ref_release(&again);
    pf_free(s);
    pf_ref_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pf_ref ref;
    char err[512];
    char *s;

    s = pf_malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    if (pf_ref_parse(s, &ref, err, sizeof(err)) == 0) {
        check_round_trip(&ref);
        check_target(&ref);
        pf_ref_release(&ref);
    } else if (ref.registry || ref.repository || ref.tag || ref.digest) {
        abort(); /* failure leaves the output zeroed */
    }

    if (pf_tag_compare(s, "1.10.0") != -pf_tag_compare("1.10.0", s) ||
        pf_tag_compare(s, "alpine3.9") != -pf_tag_compare("alpine3.9", s) ||
        pf_tag_compare(s, s) != 0)
        abort();
    (void)pf_tag_is_version(s);
    (void)pf_tag_is_valid(s);
    (void)pf_digest_is_valid(s);
    pf_free(s);
    return 0;
}
