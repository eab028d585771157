/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go's time.ParseDuration syntax, minus the bare "0" and negative values (see duration.h).
 * Arithmetic is in unsigned 64-bit nanoseconds with an explicit INT64_MAX ceiling, so the
 * result always fits Go's signed Duration and every overflow is reported as -ERANGE rather
 * than wrapping. Fractions keep nanosecond precision; further digits are read and dropped.
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>

#include "pf/duration.h"

/* The units of Go's time.ParseDuration, longest spelling first so "ms" is not read as "m". */
static const struct {
    const char *name;
    uint64_t ns;
} duration_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000}, /* U+00B5 micro sign */
    {"\xCE\xBCs", 1000}, /* U+03BC Greek mu */
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", 60 * (uint64_t)1000000000},
    {"h", 3600 * (uint64_t)1000000000},
};

/* Matches the unit at the start of s; returns its length (0: none) and its size. */
static size_t match_unit(const char *s, uint64_t *ret_ns)
{
    size_t best = 0;

    for (size_t i = 0; i < PF_ARRAY_SIZE(duration_units); i++) {
        size_t len = strlen(duration_units[i].name);
        if (len > best && strncmp(s, duration_units[i].name, len) == 0) {
            best = len;
            *ret_ns = duration_units[i].ns;
        }
    }
    return best;
}

/* Adds one "<int>[.<frac>]<unit>" term of s (at *pos) to *total. */
static int duration_term(const char *s, size_t *pos, uint64_t *total, char *errbuf, size_t errlen)
{
    const uint64_t max = (uint64_t)INT64_MAX;
    uint64_t whole = 0, frac = 0, scale = 1, unit = 0, v;
    size_t i = *pos, ulen;
    bool digits = false;

    for (; s[i] >= '0' && s[i] <= '9'; i++, digits = true) {
        if (whole > (max - (uint64_t)(s[i] - '0')) / 10)
            goto range;
        whole = whole * 10 + (uint64_t)(s[i] - '0');
    }
    if (s[i] == '.')
        for (i++; s[i] >= '0' && s[i] <= '9'; i++, digits = true)
            if (scale < 1000000000ULL) { /* nanosecond precision is plenty for a timeout */
                frac = frac * 10 + (uint64_t)(s[i] - '0');
                scale *= 10;
            }
    if (!digits) {
        (void)snprintf(errbuf, errlen, "invalid duration '%s' (use e.g. 90s, 15m, 1h30m)", s);
        return -EINVAL;
    }
    ulen = match_unit(s + i, &unit);
    if (ulen == 0) {
        if (s[i])
            (void)snprintf(errbuf, errlen,
                           "unknown unit in duration '%s' (units: ns, us, ms, s, m, h)", s);
        else
            (void)snprintf(errbuf, errlen,
                           "missing unit in duration '%s' (use e.g. 90s, 15m, 1h30m)", s);
        return -EINVAL;
    }
    if (whole > max / unit)
        goto range;
    v = whole * unit;
    /* frac < scale <= 1e9 and unit <= 3.6e12: split so neither product can overflow. */
    v += frac * (unit / scale) + (frac * (unit % scale)) / scale;
    if (v > max - *total)
        goto range;
    *total += v;
    *pos = i + ulen;
    return 0;
range:
    (void)snprintf(errbuf, errlen, "duration '%s' is too large", s);
    return -ERANGE;
}

int pf_duration_parse(const char *s, uint64_t *ret_ns, char *errbuf, size_t errlen)
{
    uint64_t total = 0;
    size_t pos = 0;
    int r;

    if (s[0] == '-') {
        (void)snprintf(errbuf, errlen, "duration '%s' must be greater than zero", s);
        return -EINVAL;
    }
    if (s[0] == '+')
        pos++;
    if (!s[pos]) {
        (void)snprintf(errbuf, errlen, "empty duration (use e.g. 90s, 15m, 1h30m)");
        return -EINVAL;
    }
    if (strspn(s + pos, "0") == strlen(s + pos)) { /* Go's unitless "0": no time at all */
        (void)snprintf(errbuf, errlen, "duration '%s' must be greater than zero", s);
        return -EINVAL;
    }
    while (s[pos]) {
        r = duration_term(s, &pos, &total, errbuf, errlen);
        if (r < 0)
            return r;
    }
    if (total == 0) {
        (void)snprintf(errbuf, errlen, "duration '%s' must be greater than zero", s);
        return -EINVAL;
    }
    *ret_ns = total;
    return 0;
}

int pf_duration_parse_ms(const char *s, int64_t *ret_ms, char *errbuf, size_t errlen)
{
    uint64_t ns = 0;
    int r;

    r = pf_duration_parse(s, &ns, errbuf, errlen);
    if (r < 0)
        return r;
    /* ns <= INT64_MAX, so the rounded-up quotient fits int64_t. */
    *ret_ms = (int64_t)(ns / 1000000 + (ns % 1000000 != 0));
    return 0;
}
