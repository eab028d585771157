/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging. common/ never writes to stderr itself: it reports through a sink that the program
 * installs (the CLI and the daemons install pf_log_stderr_sink). Levels are syslog's. The
 * pf_log() macro tests the level before any formatting happens, so debug lines cost nothing
 * when disabled.
 */
#ifndef PF_LOG_H
#define PF_LOG_H

#include <stdarg.h>
#include <syslog.h>

#include "pf/setup.h"

typedef void (*pf_log_sink_fn)(int level, const char *component, const char *msg, void *userdata);

void pf_log_set_sink(pf_log_sink_fn sink, void *userdata);
void pf_log_set_level(int level);
int pf_log_get_level(void);
/* Parses "debug", "info", "notice", "warning", "error"; returns the level or -EINVAL. */
int pf_log_level_from_string(const char *s);

void pf_log_internal(int level, const char *component, const char *fmt, ...) PF_PRINTF(3, 4);

/* Writes "2026-11-26T19:55:38Z warning patchfleet[123]: message" to stderr. */
void pf_log_stderr_sink(int level, const char *component, const char *msg, void *userdata);

/* An expression, so pf_log_errno() below can chain it with a value. */
#define pf_log(level, ...)                                                                         \
    ((level) <= pf_log_get_level() ? pf_log_internal((level), PF_LOG_COMPONENT, __VA_ARGS__)       \
                                   : (void)0)

/* Logs and returns `err` (a negative errno), for `return pf_log_errno(LOG_ERR, r, "...")`. */
#define pf_log_errno(level, err, ...) (pf_log(level, __VA_ARGS__), (err))

#ifndef PF_LOG_COMPONENT
#define PF_LOG_COMPONENT "patchfleet"
#endif

#endif
