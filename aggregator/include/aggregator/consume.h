/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The aggregator's Kafka side: a consumer of patchfleet.runs and patchfleet.results in group
 * patchfleet-aggregator that applies each message to the Redis store and stores its offset only
 * after Redis acknowledged the write (enable.auto.offset.store=false), so a crash between the
 * two redelivers the message and the idempotent store absorbs it. Malformed messages are
 * logged with their partition and offset and skipped: retrying them forever would stall the
 * partition behind a message that can never succeed.
 */
#ifndef AGGREGATOR_CONSUME_H
#define AGGREGATOR_CONSUME_H

#include <signal.h>

#include "pf/setup.h"

struct aggregator_store;

/*
 * Consumes until *stop becomes non-zero (set it from a signal handler), applying messages to
 * `store` (borrowed) in batches of up to 500 (one Redis pipeline each). `brokers` is a bootstrap
 * list "HOST:PORT[,...]". Kafka reconnects on its own; a batch whose Redis writes fail after the
 * store's retry budget is retried whole (no offset stored) by seeking back to its first messages. Returns 0 after a clean stop, or a negative errno
 * when the consumer cannot be created or subscribed (the reason logged once).
 */
int aggregator_consume_run(const char *brokers, struct aggregator_store *store,
                           const volatile sig_atomic_t *stop);

#endif
