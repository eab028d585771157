/* SPDX-License-Identifier: Apache-2.0 */
/* Run and job identities (see producer/run.h). */
#include "pf/setup.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/digest.h"
#include "pf/log.h"
#include "pf/msg.h"
#include "pf/status.h"
#include "producer/plan.h"
#include "producer/run.h"

int64_t producer_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *producer_run_id_new(void)
{
    unsigned char rnd[4] = {0};
    time_t t = time(NULL);
    struct tm tm;
    char stamp[32];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        if (read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
            pf_log(LOG_DEBUG, "short read from /dev/urandom");
        (void)close(fd);
    }
    (void)gmtime_r(&t, &tm);
    (void)strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    return pf_asprintf("%s-%02x%02x%02x%02x%04x", stamp, rnd[0], rnd[1], rnd[2], rnd[3],
                       (unsigned)(getpid() & 0xffff));
}

char *producer_job_id(const char *run_id, const char *source, const char *target_repo,
                      const char *target_tag)
{
    char *s = pf_asprintf("%s\n%s\n%s:%s", run_id, source ? source : "",
                          target_repo ? target_repo : "", target_tag ? target_tag : "");
    char d[PF_DIGEST_BUFSZ];
    int r;

    if (!s)
        return NULL;
    r = pf_sha256_digest(s, strlen(s), d);
    pf_free(s);
    return r < 0 ? NULL : pf_strdup(pf_digest_sha256_hex(d));
}

int producer_config_digest(const char *path, char **ret)
{
    struct pf_buf b = PF_BUF_INIT;
    char d[PF_DIGEST_BUFSZ];
    int r = pf_buf_read_file(&b, path);

    r = r < 0 ? r : pf_sha256_digest(b.p ? b.p : "", b.len, d);
    pf_buf_release(&b);
    if (r < 0)
        return r;
    *ret = pf_strdup(d);
    return *ret ? 0 : -ENOMEM;
}

int producer_plan_failure_result(const char *run_id, const struct producer_plan_failure *f,
                                 int64_t now_ms, struct pf_msg_result *ret)
{
    struct pf_msg_result m = {
        .run_id = pf_strdup(run_id),
        /* "plan-failure" in the source slot keeps these ids apart from every job's. */
        .job_id = producer_job_id(run_id, "plan-failure", f->name, f->source),
        .name = pf_strdup(f->name ? f->name : ""),
        .source = pf_strdup(f->source ? f->source : ""),
        .status = pf_strdup(pf_status_to_string(PF_STATUS_ERROR)),
        .details = pf_strdup(f->reason ? f->reason : "discovery failed"),
        .worker = pf_strdup("producer"),
        .started_ms = now_ms,
        .finished_ms = now_ms,
        .attempt = 1,
    };

    if (!m.run_id || !m.job_id || !m.name || !m.source || !m.status || !m.details || !m.worker) {
        pf_msg_result_release(&m);
        return -ENOMEM;
    }
    *ret = m;
    return 0;
}
