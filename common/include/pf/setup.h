/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The first include of every .c file in patchfleet. It fixes the feature-test macros once, so
 * that strict C11 (EXTENSIONS OFF) still sees POSIX.1-2008 (strdup, clock_gettime, O_CLOEXEC)
 * and the few BSD/GNU extras we rely on (strcasecmp, timegm, mkdtemp).
 */
#ifndef PF_SETUP_H
#define PF_SETUP_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PF_VERSION "0.1.0"

#define PF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__) || defined(__clang__)
#define PF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define PF_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define PF_PRINTF(fmt, args)
#define PF_WARN_UNUSED
#endif

#endif
