/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the Redis URL parser (common/src/redis_url.c). Beyond no crash and no
 * leak, it checks the promise the daemons' logs rely on: a refusal never repeats the password,
 * so a URL whose userinfo is a marker must never see that marker in the error text.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "pf/redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pf_redis_url u;
    char err[512];
    char *s = fuzz_cstring(data, size);
    char *with_secret;
    size_t n;

    if (!s)
        return 0;
    if (pf_redis_url_parse(s, &u, err, sizeof(err)) == 0) {
        if (!u.host || u.port <= 0 || u.port > 65535 || u.db < 0)
            abort();
        pf_redis_url_release(&u);
    }
    n = size + 64;
    with_secret = pf_malloc(n);
    if (with_secret) {
        (void)snprintf(with_secret, n, "redis://u:Sekr3tMarker@%s", s);
        err[0] = '\0';
        if (pf_redis_url_parse(with_secret, &u, err, sizeof(err)) == 0)
            pf_redis_url_release(&u);
        else if (strstr(err, "Sekr3tMarker"))
            abort();
        pf_free(with_secret);
    }
    pf_free(s);
    return 0;
}
