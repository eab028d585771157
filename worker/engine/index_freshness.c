/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The index freshness store (see index_freshness.h). The state is a text file, one repository
 * a line ("<seconds> <key>") under a version header, small enough to re-read at every check:
 * that keeps processes sharing a cache dir consistent without a daemon, and a check happens
 * once per repository per job. Each check holds a pthread mutex (threads of this process) and
 * a POSIX record lock on a lock file (other processes), reads the file, decides, and rewrites
 * the file through a temp file + fsync + rename only when the remembered date changes. What
 * this process accepted is also kept in memory, so a full disk weakens nothing during a run.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/hashmap.h"
#include "pf/io.h"
#include "pf/log.h"
#include "engine/index_freshness.h"

#define HEADER "# patchfleet index freshness v1: <unix seconds> <repository key>"
/* One line at most: a 20-digit date, a space, the key, the newline. */
#define LINE_MAX_LEN (WORKER_INDEX_FRESHNESS_MAX_KEY + 24)
#define FILE_MAX                                                                                   \
    (sizeof(HEADER) + (size_t)WORKER_INDEX_FRESHNESS_MAX_ENTRIES * (size_t)LINE_MAX_LEN)

struct entry {
    char *key;
    time_t date;
};

/* Entries in file order plus a map from key to index + 1 (keys borrowed from the entries). */
struct table {
    struct entry *v;
    size_t n, cap;
    struct pf_hashmap map;
};

struct worker_index_freshness {
    char *dir;
    char *path;
    char *lock_path;
    int lock_fd;
    bool allow_rollback;
    pthread_mutex_t lock;
    struct table mem; /* what this process accepted */
};

static void table_release(struct table *t)
{
    for (size_t i = 0; i < t->n; i++)
        pf_free(t->v[i].key);
    pf_free(t->v);
    pf_hashmap_release(&t->map);
    memset(t, 0, sizeof(*t));
}

static struct entry *table_find(const struct table *t, const char *key)
{
    uintptr_t i = (uintptr_t)pf_hashmap_get(&t->map, key);

    return i ? &t->v[i - 1] : NULL;
}

/* Sets `key` to `date`, adding it when absent. Returns 0, -E2BIG when the table is full, or
 * -ENOMEM. */
static int table_set(struct table *t, const char *key, time_t date)
{
    struct entry *e = table_find(t, key);
    char *k;
    int r;

    if (e) {
        e->date = date;
        return 0;
    }
    if (t->n >= WORKER_INDEX_FRESHNESS_MAX_ENTRIES)
        return -E2BIG;
    if (PF_GROW(t->v, t->cap, t->n + 1) < 0 || pf_hashmap_reserve(&t->map, t->n + 1) < 0)
        return -ENOMEM;
    k = pf_strdup(key);
    if (!k)
        return -ENOMEM;
    r = pf_hashmap_add(&t->map, k, (void *)(uintptr_t)(t->n + 1));
    if (r < 0) {
        pf_free(k);
        return r;
    }
    t->v[t->n++] = (struct entry){.key = k, .date = date};
    return 0;
}

/* A key is one line of printable text: it is written into the state file as it is. */
static bool key_valid(const char *key)
{
    size_t n = key ? strlen(key) : 0;

    if (n == 0 || n > WORKER_INDEX_FRESHNESS_MAX_KEY)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
            return false;
    return true;
}

/* Parses one "<seconds> <key>" line (without its newline) into `t`. */
static int parse_line(struct table *t, const char *line, size_t len, const char *path,
                      size_t lineno, char *errbuf, size_t errlen)
{
    size_t digits = 0;
    uint64_t v = 0;
    char key[WORKER_INDEX_FRESHNESS_MAX_KEY + 1];
    int r;

    while (digits < len && line[digits] >= '0' && line[digits] <= '9' && digits < 19)
        v = v * 10 + (uint64_t)(line[digits++] - '0');
    if (digits == 0 || digits >= len || line[digits] != ' ' || v > (uint64_t)INT64_MAX)
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "index freshness state '%s' line %zu: expected '<seconds> <key>'", path,
                            lineno);
    if (len - digits - 1 > WORKER_INDEX_FRESHNESS_MAX_KEY)
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "index freshness state '%s' line %zu: key over %d bytes", path, lineno,
                            WORKER_INDEX_FRESHNESS_MAX_KEY);
    memcpy(key, line + digits + 1, len - digits - 1);
    key[len - digits - 1] = '\0';
    if (!key_valid(key))
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "index freshness state '%s' line %zu: malformed key", path, lineno);
    if (table_find(t, key))
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "index freshness state '%s' line %zu: duplicate key '%s'", path, lineno,
                            key);
    r = table_set(t, key, (time_t)v);
    if (r == -E2BIG)
        return pf_set_error(errbuf, errlen, -EINVAL,
                            "index freshness state '%s' line %zu: more than %d entries", path,
                            lineno, WORKER_INDEX_FRESHNESS_MAX_ENTRIES);
    return r;
}

/* Parses the state file text into `t` (empty). */
static int parse_state(struct table *t, const char *text, size_t len, const char *path,
                       char *errbuf, size_t errlen)
{
    size_t pos = 0, lineno = 0;
    int r = 0;

    while (pos < len && r >= 0) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

        lineno++;
        if (!nl)
            return pf_set_error(errbuf, errlen, -EINVAL,
                                "index freshness state '%s' line %zu: truncated (no newline)", path,
                                lineno);
        if (lineno == 1 && (n != sizeof(HEADER) - 1 || memcmp(text, HEADER, n) != 0))
            return pf_set_error(errbuf, errlen, -EINVAL,
                                "index freshness state '%s' line 1: not a v1 state file", path);
        if (lineno > 1)
            r = parse_line(t, text + pos, n, path, lineno, errbuf, errlen);
        pos += n + 1;
    }
    if (r >= 0 && lineno == 0)
        r = pf_set_error(errbuf, errlen, -EINVAL, "index freshness state '%s' is empty", path);
    return r;
}

/* Reads the state file into `t` (empty); a missing file is an empty state. */
static int read_state(const struct worker_index_freshness *s, struct table *t, char *errbuf,
                      size_t errlen)
{
    struct pf_buf b;
    int r;

    pf_buf_init(&b, FILE_MAX);
    r = pf_buf_read_file(&b, s->path);
    if (r == -ENOENT) {
        r = 0;
    } else if (r == -E2BIG || r == -ENOBUFS) {
        r = pf_set_error(errbuf, errlen, -E2BIG, "index freshness state '%s' is over %zu bytes",
                         s->path, (size_t)FILE_MAX);
    } else if (r < 0) {
        r = pf_set_error(errbuf, errlen, r, "cannot read index freshness state '%s': %s", s->path,
                         strerror(-r));
    } else {
        r = parse_state(t, b.p ? b.p : "", b.len, s->path, errbuf, errlen);
    }
    pf_buf_release(&b);
    return r;
}

/* Writes `t` as the state file: temp file, fsync, rename. Returns 0 or a negative errno. */
static int write_state(const struct worker_index_freshness *s, const struct table *t)
{
    struct pf_buf b;
    char *tmp = pf_asprintf("%s/.%s-XXXXXX", s->dir, WORKER_INDEX_FRESHNESS_FILE);
    int fd = -1, r;

    pf_buf_init(&b, FILE_MAX);
    r = tmp ? pf_buf_appends(&b, HEADER "\n") : -ENOMEM;
    for (size_t i = 0; i < t->n && r >= 0; i++)
        r = pf_buf_appendf(&b, "%" PRId64 " %s\n", (int64_t)t->v[i].date, t->v[i].key);
    if (r < 0)
        goto out;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        goto out;
    }
    r = pf_write_all(fd, b.p, b.len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, s->path) < 0)
        r = -errno;
    if (r < 0)
        (void)unlink(tmp);
out:
    pf_buf_release(&b);
    pf_free(tmp);
    return r;
}

/* Takes (`on`) or drops the lock shared with other processes. The mutex is held meanwhile:
 * record locks belong to the process, so they do not order its own threads. */
static int file_lock(const struct worker_index_freshness *s, bool on)
{
    struct flock fl = {.l_type = on ? F_WRLCK : F_UNLCK, .l_whence = SEEK_SET};

    while (fcntl(s->lock_fd, F_SETLKW, &fl) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

char *worker_index_freshness_format(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (t == 0 || !gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        (void)snprintf(buf, len, "%s", t == 0 ? "no date" : "an unprintable date");
    return buf;
}

int worker_index_freshness_open(const char *dir, bool allow_rollback,
                                struct worker_index_freshness **ret, char *errbuf, size_t errlen)
{
    struct worker_index_freshness *s = pf_calloc(1, sizeof(*s));
    struct table t = {0};
    int r = -ENOMEM;

    if (!s)
        return -ENOMEM;
    s->lock_fd = -1;
    (void)pthread_mutex_init(&s->lock, NULL);
    s->allow_rollback = allow_rollback;
    s->dir = pf_strdup(dir);
    s->path = pf_asprintf("%s/%s", dir, WORKER_INDEX_FRESHNESS_FILE);
    s->lock_path = pf_asprintf("%s/%s.lock", dir, WORKER_INDEX_FRESHNESS_FILE);
    if (!s->dir || !s->path || !s->lock_path)
        goto fail;
    s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        r = pf_set_error(errbuf, errlen, -errno, "cannot open '%s': %s", s->lock_path,
                         strerror(errno));
        goto fail;
    }
    r = file_lock(s, true);
    if (r == 0) {
        r = read_state(s, &t, errbuf, errlen);
        (void)file_lock(s, false);
    } else {
        (void)pf_set_error(errbuf, errlen, r, "cannot lock '%s': %s", s->lock_path, strerror(-r));
    }
    table_release(&t);
    if (r < 0)
        goto fail;
    *ret = s;
    return 0;
fail:
    worker_index_freshness_free(s);
    return r;
}

struct worker_index_freshness *worker_index_freshness_free(struct worker_index_freshness *s)
{
    if (!s)
        return NULL;
    if (s->lock_fd >= 0)
        (void)close(s->lock_fd);
    pthread_mutex_destroy(&s->lock);
    table_release(&s->mem);
    pf_free(s->dir);
    pf_free(s->path);
    pf_free(s->lock_path);
    return pf_free(s);
}

/* Remembers `date` for `key` in memory and, unless it holds it already, in the file (`disk`,
 * as just read). */
static int remember(struct worker_index_freshness *s, struct table *disk, const char *key,
                    time_t date)
{
    const struct entry *d = table_find(disk, key);
    int r = table_set(&s->mem, key, date);

    if (r == -E2BIG)
        r = 0; /* this process remembers many repositories already: the file still does */
    if (r < 0 || (d && d->date == date))
        return r;
    r = table_set(disk, key, date);
    if (r == -E2BIG) {
        pf_log(LOG_WARNING,
               "index freshness state '%s' holds %d repositories: '%s' is not remembered", s->path,
               WORKER_INDEX_FRESHNESS_MAX_ENTRIES, key);
        return 0;
    }
    if (r == 0)
        r = write_state(s, disk);
    if (r < 0 && r != -ENOMEM) {
        pf_log(LOG_WARNING, "cannot write index freshness state '%s': %s, ignoring", s->path,
               strerror(-r));
        r = 0;
    }
    return r;
}

/* The decision of worker_index_freshness_check(), with the file locked and read into `disk`. */
static int decide(struct worker_index_freshness *s, struct table *disk, const char *key,
                  time_t date, time_t *ret_newest, char *errbuf, size_t errlen)
{
    const struct entry *m = table_find(&s->mem, key), *d = table_find(disk, key);
    time_t newest = d ? d->date : 0;
    char a[40], b[40];
    int r;

    /* What this process accepted counts even when the file says less (another process's
     * rollback, or a file reset under us): only this process's own option allows going back. */
    if (m && m->date > newest)
        newest = m->date;
    if (ret_newest)
        *ret_newest = newest;
    if (date == 0 && newest == 0)
        return 0;
    if (date != 0 && date >= newest) {
        r = remember(s, disk, key, date);
        return r < 0 ? r : 0;
    }
    if (!s->allow_rollback)
        return pf_set_error(errbuf, errlen, -ESTALE, "dated %s, older than %s already accepted",
                            worker_index_freshness_format(date, a, sizeof(a)),
                            worker_index_freshness_format(newest, b, sizeof(b)));
    if (date == 0)
        return 1;
    r = remember(s, disk, key, date);
    return r < 0 ? r : 1;
}

int worker_index_freshness_check(struct worker_index_freshness *s, const char *key, time_t date,
                                 time_t *ret_newest, char *errbuf, size_t errlen)
{
    struct table disk = {0};
    int r;

    if (!key_valid(key))
        return pf_set_error(errbuf, errlen, -EINVAL, "malformed repository key '%.64s'",
                            key ? key : "");
    if (date < 0)
        date = 0;
    if (date > time(NULL) + WORKER_INDEX_FRESHNESS_MAX_FUTURE) {
        char a[40];

        return pf_set_error(errbuf, errlen, -ERANGE, "dated %s, in the future",
                            worker_index_freshness_format(date, a, sizeof(a)));
    }
    pthread_mutex_lock(&s->lock);
    r = file_lock(s, true);
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, r, "cannot lock '%s': %s", s->lock_path, strerror(-r));
        goto out;
    }
    r = read_state(s, &disk, errbuf, errlen);
    if (r >= 0)
        r = decide(s, &disk, key, date, ret_newest, errbuf, errlen);
    (void)file_lock(s, false);
out:
    pthread_mutex_unlock(&s->lock);
    table_release(&disk);
    return r;
}
