/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pf_store_feed: a test driver for the Redis store. It opens one store on the URL given and
 * applies operations read from stdin, one per line, fields separated by tabs:
 *     run     RUN_ID EXPECTED [CREATED_MS]
 *     result  RUN_ID JOB_ID NAME SOURCE STATUS ATTEMPT FINISHED_MS [PATCHED_TAG [DETAILS]]
 *     begin / commit   (results between them are applied as one aggregator_store_apply_results
 *                      batch at "commit", which answers for each of them in order)
 * and prints what happened, one line each: "recorded", "inserted", "replaced", "ignored" or
 * "error <errno text>". One connection for the whole input is the point: a test can restart
 * redis-server between two lines and see the store reconnect by itself.
 */
#include "pf/setup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/store.h"
#include "pf/alloc.h"
#include "pf/log.h"
#include "pf/msg.h"

#define MAX_FIELDS 10

static int split(char *line, char **f)
{
    int n = 0;
    char *save = NULL, *t;

    line[strcspn(line, "\r\n")] = '\0';
    for (t = strtok_r(line, "\t", &save); t && n < MAX_FIELDS; t = strtok_r(NULL, "\t", &save))
        f[n++] = t;
    return n;
}

static int parse_i64(const char *s, int64_t *ret)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* Fills *res from the fields of a result line (pointing into them). */
static int parse_result(char **f, int n, struct pf_msg_result *res)
{
    int64_t a = 0, b = 0;

    if (n < 8 || strcmp(f[0], "result") != 0)
        return -EINVAL;
    if (parse_i64(f[6], &a) < 0 || parse_i64(f[7], &b) < 0)
        return -EINVAL;
    *res = (struct pf_msg_result){.run_id = f[1],
                                  .job_id = f[2],
                                  .name = f[3],
                                  .source = f[4],
                                  .status = f[5],
                                  .worker = "feed:1",
                                  .attempt = (unsigned)a,
                                  .finished_ms = b,
                                  .patched_tag = n >= 9 ? f[8] : NULL,
                                  .details = n >= 10 ? f[9] : NULL};
    return 0;
}

static void answer(int r)
{
    static const char *const words[] = {"ignored", "inserted", "replaced", "recorded"};

    if (r < 0)
        printf("error %s\n", strerror(-r));
    else
        printf("%s\n", words[r]);
}

/* Applies the buffered result lines as one batch and answers for each, in order. */
static void do_batch(struct aggregator_store *st, struct pf_strv *lines)
{
    struct pf_msg_result *res = pf_calloc(lines->n ? lines->n : 1, sizeof(*res));
    int *parsed = pf_calloc(lines->n ? lines->n : 1, sizeof(*parsed));
    int *out = pf_calloc(lines->n ? lines->n : 1, sizeof(*out));
    size_t m = 0;
    int r = res && parsed && out ? 0 : -ENOMEM;

    for (size_t i = 0; r == 0 && i < lines->n; i++) {
        char *f[MAX_FIELDS];
        int n = split(lines->v[i], f);

        parsed[i] = parse_result(f, n, &res[m]);
        if (parsed[i] == 0)
            m++;
    }
    if (r == 0)
        r = aggregator_store_apply_results(st, res, m, out);
    m = 0;
    for (size_t i = 0; i < lines->n; i++)
        answer(r < 0 ? r : parsed[i] < 0 ? parsed[i] : out[m++]);
    fflush(stdout);
    pf_free(res);
    pf_free(parsed);
    pf_free(out);
    pf_strv_clear(lines);
}

static int do_line(struct aggregator_store *st, char **f, int n)
{
    int64_t a = 0, b = 0;

    if (n >= 3 && strcmp(f[0], "run") == 0) {
        struct pf_msg_run run = {.run_id = f[1], .config_name = "feed.yaml", .mode = "dry-run"};

        if (parse_i64(f[2], &a) < 0 || (n >= 4 && parse_i64(f[3], &b) < 0))
            return -EINVAL;
        run.expected = (size_t)a;
        run.created_ms = b;
        (void)pf_strv_push(&run.warnings, "a warning with \"quotes\"");
        a = aggregator_store_record_run(st, &run);
        pf_strv_clear(&run.warnings);
        return a < 0 ? (int)a : 3;
    }
    if (n >= 8 && strcmp(f[0], "result") == 0) {
        struct pf_msg_result res;
        int r = parse_result(f, n, &res);

        return r < 0 ? r : aggregator_store_apply_result(st, &res);
    }
    return -EINVAL;
}

int main(int argc, char **argv)
{
    struct aggregator_store *st = NULL;
    struct pf_strv batch = {0};
    bool in_batch = false;
    char err[256] = "", line[4096];
    int r;

    pf_log_set_sink(pf_log_stderr_sink, NULL);
    if (getenv("PF_DEBUG"))
        pf_log_set_level(LOG_DEBUG);
    if (argc != 2) {
        fprintf(stderr, "usage: pf_store_feed redis://HOST:PORT[/DB] < OPS\n");
        return 2;
    }
    r = aggregator_store_open(argv[1], NULL, &st, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "pf_store_feed: cannot open store: %s\n", err);
        return 1;
    }
    while (fgets(line, sizeof(line), stdin)) {
        char *f[MAX_FIELDS];
        int n;

        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "begin") == 0 || strcmp(line, "commit") == 0) {
            if (in_batch)
                do_batch(st, &batch);
            in_batch = line[0] == 'b';
            continue;
        }
        if (in_batch) {
            if (pf_strv_push(&batch, line) < 0)
                return 1;
            continue;
        }
        n = split(line, f);
        if (n == 0)
            continue;
        r = do_line(st, f, n);
        answer(r);
        fflush(stdout);
    }
    pf_strv_clear(&batch);
    aggregator_store_close(st);
    return 0;
}
