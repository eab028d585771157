/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log sink and level. One sink per process, set once by main() before threads start; the
 * level is atomic so a signal handler or a thread may raise it later.
 */
#include "pf/setup.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/log.h"

static pf_log_sink_fn log_sink;
static void *log_userdata;
static atomic_int log_level = LOG_WARNING;

void pf_log_set_sink(pf_log_sink_fn sink, void *userdata)
{
    log_sink = sink;
    log_userdata = userdata;
}

void pf_log_set_level(int level)
{
    atomic_store(&log_level, level);
}

int pf_log_get_level(void)
{
    return log_sink ? atomic_load(&log_level) : -1;
}

static const char *const level_names[] = {
    [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "error",
    [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int pf_log_level_from_string(const char *s)
{
    for (size_t i = 0; i < PF_ARRAY_SIZE(level_names); i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return (int)i;
    if (strcasecmp(s, "warn") == 0)
        return LOG_WARNING;
    return -EINVAL;
}

void pf_log_internal(int level, const char *component, const char *fmt, ...)
{
    char stackbuf[1024];
    char *msg = stackbuf;
    va_list ap;
    int n;

    if (!log_sink)
        return;
    va_start(ap, fmt);
    n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(stackbuf)) {
        va_start(ap, fmt);
        msg = pf_vasprintf(fmt, ap);
        va_end(ap);
        if (!msg)
            msg = stackbuf; /* truncated is better than nothing */
    }
    log_sink(level, component, msg, log_userdata);
    if (msg != stackbuf)
        pf_free(msg);
}

void pf_log_stderr_sink(int level, const char *component, const char *msg, void *userdata)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    const char *name = level >= 0 && level < (int)PF_ARRAY_SIZE(level_names) ? level_names[level]
                                                                             : "log";

    (void)userdata;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s %s[%ld]: %s\n", stamp, name, component, (long)getpid(), msg);
}
