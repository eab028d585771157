/* SPDX-License-Identifier: Apache-2.0 */
/*
 * os-release parsing follows systemd's parse_env_file() rules, which os-release(5) points to:
 * double quotes allow \" \\ \$ \` escapes, single quotes are literal, unquoted backslash
 * escapes the next character, and quoted and unquoted parts may be concatenated. Only the
 * handful of keys the engine needs are kept.
 */
#include "pf/setup.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pf/alloc.h"
#include "pf/buf.h"
#include "engine/os_release.h"

static const char *const family_table[WORKER_DISTRO__MAX] = {
    [WORKER_DISTRO_UNKNOWN] = "unknown",
    [WORKER_DISTRO_DEBIAN] = "debian",
    [WORKER_DISTRO_UBUNTU] = "ubuntu",
    [WORKER_DISTRO_ALPINE] = "alpine",
};

const char *worker_distro_family_to_string(enum worker_distro_family f)
{
    return f < WORKER_DISTRO__MAX ? family_table[f] : family_table[WORKER_DISTRO_UNKNOWN];
}

void worker_os_release_release(struct worker_os_release *osr)
{
    if (!osr)
        return;
    pf_free(osr->id);
    pf_free(osr->id_like);
    pf_free(osr->version_id);
    pf_free(osr->version_codename);
    pf_free(osr->ubuntu_codename);
    pf_free(osr->pretty_name);
    memset(osr, 0, sizeof(*osr));
    osr->major = -1;
}

int worker_os_release_unquote(const char *s, size_t len, char **ret)
{
    struct pf_buf b = PF_BUF_INIT;
    const char *e = s + len;
    char quote = 0;
    int r = 0;

    /* The result is never longer than the input; +1 keeps an empty value within bounds. */
    pf_buf_init(&b, len + 1);
    r = pf_buf_append(&b, "", 0);
    while (r == 0 && s < e) {
        char c = *s++;

        if (quote == '\'') {
            if (c == '\'')
                quote = 0;
            else
                r = pf_buf_append(&b, &c, 1);
        } else if (c == '\\') {
            if (s == e) {
                r = -EINVAL;
                break;
            }
            c = *s++;
            /* Inside double quotes only these are escapes; elsewhere the backslash stays. */
            if (quote == '"' && !strchr("\"\\$`", c))
                r = pf_buf_append(&b, "\\", 1);
            if (r == 0)
                r = pf_buf_append(&b, &c, 1);
        } else if (c == '"' && quote == '"') {
            quote = 0;
        } else if (!quote && (c == '"' || c == '\'')) {
            quote = c;
        } else if (!quote && (c == ' ' || c == '\t')) {
            r = -EINVAL;
        } else {
            r = pf_buf_append(&b, &c, 1);
        }
    }
    if (r == 0 && quote)
        r = -EINVAL;
    if (r == 0) {
        *ret = pf_buf_steal(&b, NULL);
        if (!*ret)
            r = -ENOMEM;
    }
    pf_buf_release(&b);
    return r;
}

static char **key_slot(struct worker_os_release *o, const char *k, size_t n)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"ID", offsetof(struct worker_os_release, id)},
        {"ID_LIKE", offsetof(struct worker_os_release, id_like)},
        {"VERSION_ID", offsetof(struct worker_os_release, version_id)},
        {"VERSION_CODENAME", offsetof(struct worker_os_release, version_codename)},
        {"UBUNTU_CODENAME", offsetof(struct worker_os_release, ubuntu_codename)},
        {"PRETTY_NAME", offsetof(struct worker_os_release, pretty_name)},
    };

    for (size_t i = 0; i < PF_ARRAY_SIZE(keys); i++)
        if (strlen(keys[i].key) == n && memcmp(keys[i].key, k, n) == 0)
            return (char **)(void *)((char *)o + keys[i].off);
    return NULL;
}

/* Handles one line; unknown keys and malformed lines are ignored (0), only OOM fails. */
static int parse_line(struct worker_os_release *o, const char *s, const char *e)
{
    const char *k, *eq;
    char **slot, *v = NULL;
    int r;

    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    if (s == e || *s == '#' || *s == ';')
        return 0;
    k = s;
    while (s < e && (*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                     (s > k && *s >= '0' && *s <= '9')))
        s++;
    eq = s;
    if (eq == k || eq == e || *eq != '=')
        return 0;
    slot = key_slot(o, k, (size_t)(eq - k));
    if (!slot)
        return 0;
    r = worker_os_release_unquote(eq + 1, (size_t)(e - eq - 1), &v);
    if (r == -EINVAL)
        return 0;
    if (r < 0)
        return r;
    pf_free(*slot);
    *slot = v;
    return 0;
}

static enum worker_distro_family family_of_word(const char *w, size_t n)
{
    for (int f = WORKER_DISTRO_DEBIAN; f < WORKER_DISTRO__MAX; f++)
        if (strlen(family_table[f]) == n && memcmp(family_table[f], w, n) == 0)
            return (enum worker_distro_family)f;
    return WORKER_DISTRO_UNKNOWN;
}

static enum worker_distro_family detect_family(const struct worker_os_release *o)
{
    const char *s;

    if (o->id) {
        enum worker_distro_family f = family_of_word(o->id, strlen(o->id));

        if (f != WORKER_DISTRO_UNKNOWN)
            return f;
    }
    /* ID_LIKE is ordered most similar first, e.g. "ubuntu debian" for Linux Mint. */
    for (s = o->id_like; s && *s;) {
        size_t n;
        enum worker_distro_family f;

        s += strspn(s, " \t");
        n = strcspn(s, " \t");
        f = family_of_word(s, n);
        if (f != WORKER_DISTRO_UNKNOWN)
            return f;
        s += n;
    }
    return WORKER_DISTRO_UNKNOWN;
}

static long leading_number(const char *s)
{
    char *end;
    long v;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || v > INT_MAX)
        return -1;
    return v;
}

int worker_os_release_parse(const char *text, size_t len, struct worker_os_release *ret)
{
    struct worker_os_release o = {.major = -1};
    const char *s = text, *end = text + len;
    int r = 0;

    if (len > WORKER_OS_RELEASE_MAX_INPUT)
        return -E2BIG;
    if (memchr(text, '\0', len))
        return -EINVAL;
    while (s < end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));

        if (!e)
            e = end;
        r = parse_line(&o, s, e);
        if (r < 0) {
            worker_os_release_release(&o);
            return r;
        }
        s = e < end ? e + 1 : end;
    }
    o.family = detect_family(&o);
    o.major = leading_number(o.version_id);
    *ret = o;
    return 0;
}
