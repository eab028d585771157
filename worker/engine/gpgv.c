/* SPDX-License-Identifier: Apache-2.0 */
/*
 * InRelease signature checking by running Debian's gpgv, exactly as apt's gpgv method does:
 * `gpgv --status-fd 1 --keyring K --output Release InRelease`. gpgv, not we, parses OpenPGP; we
 * judge its machine-readable status lines and hand back only what it wrote to --output, so bytes
 * outside the signed part (a classic injection vector in clear-signed files) never reach a parser.
 * The child (run by pf_spawn_run) gets a fresh empty HOME, a fixed environment, /dev/null as
 * stdin, no other fds, and is killed after WORKER_GPGV_TIMEOUT_MS; its output is bounded.
 */
#include "pf/setup.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pf/alloc.h"
#include "pf/io.h"
#include "pf/buf.h"
#include "pf/err.h"
#include "pf/spawn.h"
#include "pf/strv.h"
#include "engine/gpgv.h"

/* gpgv prints a few hundred bytes per signature; anything beyond this is not a real run. */
#define GPGV_MAX_OUTPUT ((size_t)64 << 10)
#define CLEARSIGN_HEADER "-----BEGIN PGP SIGNED MESSAGE-----"

/* The scratch directory of one run: the input, gpgv's output and a private HOME. */
struct gpgv_scratch {
    char dir[PATH_MAX / 2]; /* half, so the names below always fit */
    char home[PATH_MAX];
    char in[PATH_MAX];
    char out[PATH_MAX];
};

/* Copies one line of gpgv output for a message: bounded, control bytes replaced by '?'. */
static void copy_line(char *dst, size_t dstlen, const char *line)
{
    size_t i;

    for (i = 0; i + 1 < dstlen && line[i] && line[i] != '\n'; i++) {
        unsigned char c = (unsigned char)line[i];
        dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    if (dstlen > 0)
        dst[i] = '\0';
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Fills `ret` with absolute keyring paths: gpgv reads a --keyring name without a slash from its
 * home directory, so relative names must never reach it.
 */
static int collect_keyrings(const char *path, struct pf_strv *ret, char *errbuf, size_t errlen)
{
    char abs[PATH_MAX];
    struct stat st;
    DIR *d;
    struct dirent *de;
    int r = 0;

    if (!realpath(path, abs) || stat(abs, &st) < 0) {
        r = -errno;
        (void)pf_set_error(errbuf, errlen, 0, "cannot open keyring '%s': %s", path, strerror(-r));
        return r;
    }
    if (!S_ISDIR(st.st_mode))
        return pf_strv_push(ret, abs);
    d = opendir(abs);
    if (!d) {
        r = -errno;
        (void)pf_set_error(errbuf, errlen, 0, "cannot open keyring directory '%s': %s", path,
                           strerror(-r));
        return r;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat fst;
        char *p;

        if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".gpg"))
            continue;
        p = pf_asprintf("%s/%s", abs, de->d_name);
        if (!p) {
            r = -ENOMEM;
            break;
        }
        if (stat(p, &fst) < 0 || !S_ISREG(fst.st_mode)) {
            pf_free(p);
            continue;
        }
        if (ret->n >= WORKER_GPGV_MAX_KEYRINGS) {
            pf_free(p);
            (void)pf_set_error(errbuf, errlen, 0, "too many keyrings in '%s'", path);
            r = -E2BIG;
            break;
        }
        r = pf_strv_push_take(ret, p);
        if (r < 0)
            break;
    }
    (void)closedir(d);
    if (r == 0 && ret->n == 0) {
        (void)pf_set_error(errbuf, errlen, 0, "keyring directory '%s' holds no *.gpg keyring",
                           path);
        r = -ENOKEY;
    }
    if (r == 0)
        qsort(ret->v, ret->n, sizeof(ret->v[0]), cmp_str);
    return r;
}

/* Runs gpgv with `argv` in a clean environment; its stdout (status) and stderr (reasons) land
 * in `out`. */
static int run_gpgv(char *const argv[], const char *home, struct pf_buf *out, int *ret_exit,
                    char *errbuf, size_t errlen)
{
    char env_home[PATH_MAX + 8];
    char *envp[] = {env_home, (char *)"PATH=/usr/bin:/bin", (char *)"LC_ALL=C", NULL};
    struct pf_spawn_options so = {
        .argv = argv,
        .envp = envp,
        .merge_stderr = true,
        .timeout_ms = WORKER_GPGV_TIMEOUT_MS,
    };
    int r;

    (void)snprintf(env_home, sizeof(env_home), "HOME=%s", home);
    r = pf_spawn_run(&so, out, ret_exit);
    if (r == -ENOENT)
        pf_set_error(errbuf, errlen, r, "cannot run gpgv: not installed (Debian package gpgv)");
    else if (r == -ETIMEDOUT)
        pf_set_error(errbuf, errlen, r, "gpgv did not finish within %d ms", WORKER_GPGV_TIMEOUT_MS);
    else if (r == -E2BIG)
        pf_set_error(errbuf, errlen, r, "gpgv printed more than %zu bytes", GPGV_MAX_OUTPUT);
    else if (r < 0)
        pf_set_error(errbuf, errlen, r, "cannot run gpgv: %s", strerror(-r));
    return r;
}

/* Counts of the status keywords that decide the verdict (see gnupg doc/DETAILS). */
struct gpgv_verdict {
    unsigned newsig, goodsig, validsig, plaintext;
    bool bad, errsig, nopubkey, weak;
    char bad_line[200];  /* first BADSIG/EXPSIG/EXPKEYSIG/REVKEYSIG line */
    char err_line[200];  /* first ERRSIG line (comes with NO_PUBKEY for an unknown key) */
    char key_line[200];  /* first NO_PUBKEY line */
    char weak_line[200]; /* first VALIDSIG over a weak digest */
    char last_msg[200];  /* last human-readable "gpgv: " line */
};

/* gnupg hash algorithm ids that apt refuses: MD5 (1), SHA-1 (2), RIPEMD-160 (3). */
static bool validsig_is_weak(const char *args)
{
    const char *p = args;
    char *end;
    unsigned long algo;

    /* VALIDSIG <fpr> <date> <ts> <expire> <ver> <reserved> <pkalgo> <hashalgo> ... */
    for (int field = 1; field < 8; field++) {
        p = strchr(p, ' ');
        if (!p)
            return true;
        p++;
    }
    errno = 0;
    algo = strtoul(p, &end, 10);
    if (errno != 0 || end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
        return true;
    return algo <= 3;
}

static void judge_line(struct gpgv_verdict *v, const char *line)
{
    static const char *const bad[] = {"BADSIG ", "EXPSIG ", "EXPKEYSIG ", "REVKEYSIG "};
    const char *kw;

    if (strncmp(line, "gpgv: ", 6) == 0) {
        copy_line(v->last_msg, sizeof(v->last_msg), line + 6);
        return;
    }
    if (strncmp(line, "[GNUPG:] ", 9) != 0)
        return;
    kw = line + 9;
    if (strncmp(kw, "NEWSIG", 6) == 0)
        v->newsig++;
    else if (strncmp(kw, "GOODSIG ", 8) == 0)
        v->goodsig++;
    else if (strncmp(kw, "PLAINTEXT ", 10) == 0)
        v->plaintext++;
    else if (strncmp(kw, "VALIDSIG ", 9) == 0) {
        v->validsig++;
        if (validsig_is_weak(kw + 9) && !v->weak) {
            v->weak = true;
            copy_line(v->weak_line, sizeof(v->weak_line), kw);
        }
    } else if (strncmp(kw, "ERRSIG ", 7) == 0 && !v->errsig) {
        v->errsig = true;
        copy_line(v->err_line, sizeof(v->err_line), kw);
    } else if (strncmp(kw, "NO_PUBKEY ", 10) == 0 && !v->nopubkey) {
        v->nopubkey = true;
        copy_line(v->key_line, sizeof(v->key_line), kw);
    }
    for (size_t i = 0; i < PF_ARRAY_SIZE(bad); i++) {
        if (strncmp(kw, bad[i], strlen(bad[i])) == 0 && !v->bad) {
            v->bad = true;
            copy_line(v->bad_line, sizeof(v->bad_line), kw);
        }
    }
}

/* Turns gpgv's exit code and status lines into 0, -ENOKEY or -EBADMSG. */
static int judge(const char *output, int exit_code, char *errbuf, size_t errlen)
{
    struct gpgv_verdict v = {0};
    static const char prefix[] = "InRelease signature verification failed";

    for (const char *line = output; line && *line;) {
        const char *nl = strchr(line, '\n');
        judge_line(&v, line);
        line = nl ? nl + 1 : NULL;
    }
    /* A bad signature outranks an unknown key: the file was tampered with either way. */
    if (v.bad) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: %s", prefix, v.bad_line);
        return -EBADMSG;
    }
    if (v.nopubkey) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: signed by a key not in the keyring (%s)", prefix,
                           v.key_line);
        return -ENOKEY;
    }
    if (v.errsig) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: %s", prefix, v.err_line);
        return -EBADMSG;
    }
    if (exit_code != 0) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: gpgv exited with status %d: %s", prefix,
                           exit_code, v.last_msg[0] ? v.last_msg : "no reason given");
        return -EBADMSG;
    }
    if (v.newsig == 0 || v.goodsig != v.newsig || v.validsig != v.newsig) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: %u signature(s), %u good, %u valid", prefix,
                           v.newsig, v.goodsig, v.validsig);
        return -EBADMSG;
    }
    if (v.weak) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: weak digest algorithm (%s)", prefix,
                           v.weak_line);
        return -EBADMSG;
    }
    if (v.plaintext > 1) {
        (void)pf_set_error(errbuf, errlen, 0, "%s: more than one signed text", prefix);
        return -EBADMSG;
    }
    return 0;
}

/* Removes the scratch directory and whatever gpgv may have left in its HOME. */
static void scratch_remove(const struct gpgv_scratch *s)
{
    DIR *d;
    struct dirent *de;

    (void)unlink(s->in);
    (void)unlink(s->out);
    d = opendir(s->home);
    if (d) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                (void)unlinkat(dirfd(d), de->d_name, 0);
        }
        (void)closedir(d);
    }
    (void)rmdir(s->home);
    (void)rmdir(s->dir);
}

static int scratch_make(struct gpgv_scratch *s)
{
    const char *tmp = getenv("TMPDIR");

    if (!tmp || tmp[0] != '/')
        tmp = "/tmp";
    if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s/pf-gpgv-XXXXXX", tmp) >= sizeof(s->dir))
        return -ENAMETOOLONG;
    if (!mkdtemp(s->dir))
        return -errno;
    (void)snprintf(s->home, sizeof(s->home), "%s/home", s->dir);
    (void)snprintf(s->in, sizeof(s->in), "%s/InRelease", s->dir);
    (void)snprintf(s->out, sizeof(s->out), "%s/Release", s->dir);
    if (mkdir(s->home, 0700) < 0) {
        int r = -errno;
        (void)rmdir(s->dir);
        return r;
    }
    return 0;
}

/*
 * Like apt's SplitClearSignedFile: the file starts with the clear-sign header and nothing but
 * white space follows the signature. gpgv would ignore such a tail, but a file carrying
 * unsigned text is not what the archive published, so it is refused outright.
 */
static bool is_clearsigned(const char *p, size_t len)
{
    static const char end_marker[] = "\n-----END PGP SIGNATURE-----";
    size_t n = strlen(CLEARSIGN_HEADER);
    const char *end = NULL, *q = p;

    if (len < n + 1 || memcmp(p, CLEARSIGN_HEADER, n) != 0)
        return false;
    if (p[n] != '\n' && !(p[n] == '\r' && len > n + 1 && p[n + 1] == '\n'))
        return false;
    for (;;) {
        const char *hit = memmem(q, len - (size_t)(q - p), end_marker, sizeof(end_marker) - 1);
        if (!hit)
            break;
        end = hit + sizeof(end_marker) - 1;
        q = end;
    }
    if (!end)
        return false;
    for (; end < p + len; end++)
        if (*end != '\n' && *end != '\r' && *end != ' ' && *end != '\t')
            return false;
    return true;
}

static int build_argv(const struct pf_strv *keyrings, const struct gpgv_scratch *s,
                      struct pf_strv *argv)
{
    int r = 0;

    r = pf_strv_push(argv, "gpgv");
    r = r ? r : pf_strv_push(argv, "--homedir");
    r = r ? r : pf_strv_push(argv, s->home);
    r = r ? r : pf_strv_push(argv, "--status-fd");
    r = r ? r : pf_strv_push(argv, "1");
    for (size_t i = 0; r == 0 && i < keyrings->n; i++) {
        r = pf_strv_push(argv, "--keyring");
        r = r ? r : pf_strv_push(argv, keyrings->v[i]);
    }
    r = r ? r : pf_strv_push(argv, "--output");
    r = r ? r : pf_strv_push(argv, s->out);
    r = r ? r : pf_strv_push(argv, "--");
    r = r ? r : pf_strv_push(argv, s->in);
    return r;
}

/* See gpgv.h. */
int worker_gpgv_verify_clearsigned(const char *keyring_path_or_dir, const void *inrelease,
                                   size_t len, char **ret_signed_text, size_t *ret_len,
                                   char *errbuf, size_t errlen)
{
    struct pf_strv keyrings = PF_STRV_INIT, argv = PF_STRV_INIT;
    struct pf_buf output = PF_BUF_INIT, text = PF_BUF_INIT;
    struct gpgv_scratch s;
    bool made = false;
    int r, code = -1;

    if (!keyring_path_or_dir || (!inrelease && len > 0) || !ret_signed_text || !ret_len)
        return -EINVAL;
    if (len > WORKER_GPGV_MAX_INPUT) {
        (void)pf_set_error(errbuf, errlen, 0, "InRelease is larger than %zu bytes",
                           WORKER_GPGV_MAX_INPUT);
        return -E2BIG;
    }
    if (!is_clearsigned(inrelease, len)) {
        (void)pf_set_error(errbuf, errlen, 0,
                           "InRelease signature verification failed: "
                           "not a clear-signed message, or text after the signature");
        return -EBADMSG;
    }
    r = collect_keyrings(keyring_path_or_dir, &keyrings, errbuf, errlen);
    if (r < 0)
        goto out;
    r = scratch_make(&s);
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "cannot create a temporary directory: %s",
                           strerror(-r));
        goto out;
    }
    made = true;
    r = build_argv(&keyrings, &s, &argv);
    if (r == 0)
        r = pf_write_file_new(s.in, inrelease, len);
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "cannot write '%s': %s", s.in, strerror(-r));
        goto out;
    }
    pf_buf_init(&output, GPGV_MAX_OUTPUT);
    r = run_gpgv(argv.v, s.home, &output, &code, errbuf, errlen);
    if (r < 0)
        goto out;
    r = judge(output.p ? output.p : "", code, errbuf, errlen);
    if (r < 0)
        goto out;
    /* Dash-unescaping and armour removal only shrink the text. */
    pf_buf_init(&text, len + 1);
    r = pf_buf_read_file(&text, s.out);
    if (r < 0) {
        (void)pf_set_error(errbuf, errlen, 0, "cannot read gpgv output: %s", strerror(-r));
        goto out;
    }
    *ret_signed_text = pf_buf_steal(&text, ret_len);
    if (!*ret_signed_text)
        r = -ENOMEM;
out:
    if (made)
        scratch_remove(&s);
    pf_buf_release(&text);
    pf_buf_release(&output);
    pf_strv_clear(&argv);
    pf_strv_clear(&keyrings);
    return r;
}
