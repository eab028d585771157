/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Publishing a run to Kafka (topics and client: pf/kafka.h): the run message on patchfleet.runs,
 * then one job message per job on patchfleet.jobs keyed by target repository (so one
 * repository's jobs stay in order on one partition), then plan failures as Failed results on patchfleet.results keyed by job id. The
 * producer is idempotent (no duplicates from its own retries) and every delivery report is
 * awaited: a publish succeeds only when the broker acknowledged every message.
 */
#ifndef PRODUCER_PUBLISH_H
#define PRODUCER_PUBLISH_H

#include "pf/msg.h"
#include "pf/setup.h"

struct producer_publish_options {
    const char *brokers;   /* "host:port[,host:port...]" */
    int64_t timeout_ms;    /* how long to wait for every delivery report; 0 = 60 s */
    const char *client_id; /* NULL = "patchfleet-producer" */
};

/* What the broker acknowledged. */
struct producer_publish_stats {
    size_t delivered;
    size_t failed;
};

/*
 * Publishes `run`, then `jobs[0..n_jobs)`, then `failures[0..n_failures)` (Failed results),
 * and waits for every delivery report. All arguments are borrowed. Returns 0 when every
 * message was delivered; -EINVAL for a message that cannot be encoded, -EIO when some
 * deliveries failed or the client could not be set up, -ETIMEDOUT when reports were still
 * outstanding at the deadline, -ENOMEM; the first broker error is in errbuf. *ret_stats (may
 * be NULL) is filled in every case.
 */
int producer_publish(const struct producer_publish_options *o, const struct pf_msg_run *run,
                     const struct pf_msg_job *jobs, size_t n_jobs,
                     const struct pf_msg_result *failures, size_t n_failures,
                     struct producer_publish_stats *ret_stats, char *errbuf, size_t errlen);

#endif
