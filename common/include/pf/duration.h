/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go-style durations ("90s", "15m", "1h30m", "1.5h", "250ms") for the --timeout, --grace and
 * --delivery-timeout flags of the cli, the producer and the worker. One parser serves all
 * three so a value that one command accepts means the same time in the others. The parser
 * refuses a bare number and zero: every caller uses the value as a time limit, where "no
 * time at all" is never what the user meant.
 */
#ifndef PF_DURATION_H
#define PF_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses a Go duration (units ns us µs ms s m h; terms may carry a fraction, "1.5h") into
 * nanoseconds. Unlike Go, a bare number ("15", "0") is refused, and so is a zero or negative
 * total. Returns 0 and sets *ret_ns, or -EINVAL (-ERANGE past about 292 years) with a message
 * naming the input in errbuf (which may be NULL when errlen is 0); *ret_ns is untouched on
 * failure.
 */
int pf_duration_parse(const char *s, uint64_t *ret_ns, char *errbuf, size_t errlen);

/*
 * pf_duration_parse() in whole milliseconds, rounded up so that a positive duration such as
 * "10us" never becomes 0 ms (which callers read as "no limit"). Same returns and errbuf as
 * pf_duration_parse(); *ret_ms is untouched on failure.
 */
int pf_duration_parse_ms(const char *s, int64_t *ret_ms, char *errbuf, size_t errlen);

#endif
