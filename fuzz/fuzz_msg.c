/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the fleet's message codecs (common/src/msg_job.c, msg_result.c and the
 * run record): whatever a Kafka topic or a Redis key holds is decoded by a daemon. Each input is
 * tried as all three; a decoded message must encode, and the encoding must decode again (a
 * worker re-publishes what it read, and the aggregator stores what it decoded).
 */
#include "pf/setup.h"

#include <stdlib.h>

#include "fuzz_common.h"
#include "pf/msg.h"

static void job(const char *data, size_t size)
{
    struct pf_msg_job m, again;
    char err[512];
    char *out = NULL;
    size_t len = 0;

    if (pf_msg_job_decode(data, size, &m, err, sizeof(err)) != 0)
        return;
    if (pf_msg_job_encode(&m, &out, &len) == 0) {
        if (pf_msg_job_decode(out, len, &again, err, sizeof(err)) != 0)
            abort();
        pf_msg_job_release(&again);
        pf_free(out);
    }
    pf_msg_job_release(&m);
}

static void result(const char *data, size_t size)
{
    struct pf_msg_result m, again;
    char err[512];
    char *out = NULL;
    size_t len = 0;

    if (pf_msg_result_decode(data, size, &m, err, sizeof(err)) != 0)
        return;
    if (!pf_msg_status_known(m.status))
        abort(); /* the decoder promised one of the status words */
    if (pf_msg_result_encode(&m, &out, &len) == 0) {
        if (pf_msg_result_decode(out, len, &again, err, sizeof(err)) != 0)
            abort();
        pf_msg_result_release(&again);
        pf_free(out);
    }
    pf_msg_result_release(&m);
}

static void run(const char *data, size_t size)
{
    struct pf_msg_run m;
    char err[512];
    char *out = NULL;
    size_t len = 0;

    if (pf_msg_run_decode(data, size, &m, err, sizeof(err)) != 0)
        return;
    if (pf_msg_run_encode(&m, &out, &len) == 0)
        pf_free(out);
    pf_msg_run_release(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    job((const char *)data, size);
    result((const char *)data, size);
    run((const char *)data, size);
    return 0;
}
