/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `patchfleet version-compare deb|apk [--apk-gen 2|3] A B`: print <, = or > for two package
 * versions, ordered as dpkg or apk-tools would. `--batch` reads "A B" pairs from stdin and answers
 * one line each, so the differential test against `dpkg --compare-versions` runs one process for
 * thousands of pairs. Options are parsed by hand rather than with getopt because versions may
 * begin with '-' ("-r1" is something to reject with a clear message, not an unknown option).
 */
#include "pf/setup.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "apk/version_apk.h"
#include "deb/version_deb.h"

/* Longest batch input line accepted; real versions are far shorter. */
#define VC_LINE_MAX 4096

enum vc_format { VC_DEB, VC_APK };

struct vc_opts {
    enum vc_format format;
    enum worker_apk_gen gen;
    bool batch;
    const char *a;
    const char *b;
};

static void vc_usage(FILE *out)
{
    fprintf(out,
            "usage: patchfleet version-compare deb|apk [--apk-gen 2|3] A B\n"
            "       patchfleet version-compare deb|apk [--apk-gen 2|3] --batch\n"
            "\n"
            "Prints '<', '=' or '>' as A is older than, equal to or newer than B, using dpkg's\n"
            "(deb) or apk-tools' (apk) ordering. --apk-gen picks the apk-tools generation whose\n"
            "rules apply (default 3). With --batch, reads one \"A B\" pair per line from stdin "
            "and\n"
            "prints one answer per line, or \"error: ...\" for a line it cannot compare.\n"
            "Versions apk-tools calls invalid are ordered as apk-tools orders them (a warning\n"
            "on stderr). Exit status: 0 when everything compared, 2 on bad usage or an invalid\n"
            "Debian version.\n");
}

static const char *vc_symbol(int cmp)
{
    return cmp < 0 ? "<" : (cmp > 0 ? ">" : "=");
}

/*
 * Compares a and b; on success sets *ret_cmp and returns 0, or 1 for an apk pair that apk-tools'
 * grammar calls invalid (ordered all the same, as apk-tools orders it: its own test data has
 * "1.0 < 1.0bc"; the name of the first such version goes to errbuf). Otherwise returns -EINVAL
 * and writes a message naming the offending version to errbuf. Debian versions that dpkg merely
 * warns about compare normally (dpkg --compare-versions does the same).
 */
static int vc_compare(const struct vc_opts *o, const char *a, const char *b, int *ret_cmp,
                      char *errbuf, size_t errlen)
{
    const char *v[2] = {a, b};

    if (o->format == VC_APK) {
        int r = worker_apk_version_compare(a, b, o->gen, ret_cmp);

        if (r < 0) {
            snprintf(errbuf, errlen, "cannot compare '%s' and '%s'", a, b);
            return -EINVAL;
        }
        for (size_t i = 0; r > 0 && i < 2; i++)
            if (!worker_apk_version_valid(v[i], o->gen)) {
                snprintf(errbuf, errlen,
                         "'%s' is not a valid apk version; ordered as apk-tools does", v[i]);
                break;
            }
        return r > 0 ? 1 : 0;
    }
    for (size_t i = 0; i < 2; i++) {
        struct worker_deb_version parsed = {0};
        char why[128] = "";
        int r = worker_deb_version_parse(v[i], &parsed, why, sizeof(why));
        if (r == -ENOMEM) {
            snprintf(errbuf, errlen, "out of memory");
            return r;
        }
        if (r < 0) {
            snprintf(errbuf, errlen, "invalid Debian version '%s': %s", v[i], why);
            return r;
        }
        worker_deb_version_release(&parsed);
    }
    return worker_deb_version_compare(a, b, ret_cmp);
}

/* Splits a batch line into exactly two blank-separated words, in place. */
static int vc_split(char *line, char **ret_a, char **ret_b)
{
    char *w[2];
    char *p = line;

    for (size_t i = 0; i < 2; i++) {
        p += strspn(p, " \t\r\n");
        if (*p == '\0')
            return -EINVAL;
        w[i] = p;
        p += strcspn(p, " \t\r\n");
        if (*p != '\0')
            *p++ = '\0';
    }
    p += strspn(p, " \t\r\n");
    if (*p != '\0')
        return -EINVAL;
    *ret_a = w[0];
    *ret_b = w[1];
    return 0;
}

static int vc_batch(const struct vc_opts *o)
{
    char line[VC_LINE_MAX];
    int status = CLI_EXIT_OK;

    while (fgets(line, sizeof(line), stdin)) {
        char err[VC_LINE_MAX + 128];
        char *a, *b;
        int cmp = 0;
        size_t len = strlen(line);

        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            int ch;
            do {
                ch = getchar();
            } while (ch != EOF && ch != '\n');
            printf("error: line longer than %d bytes\n", VC_LINE_MAX - 2);
            status = CLI_EXIT_USAGE;
            continue;
        }
        if (vc_split(line, &a, &b) < 0) {
            printf("error: expected two versions\n");
            status = CLI_EXIT_USAGE;
            continue;
        }
        if (vc_compare(o, a, b, &cmp, err, sizeof(err)) < 0) {
            printf("error: %s\n", err);
            status = CLI_EXIT_USAGE;
            continue;
        }
        printf("%s\n", vc_symbol(cmp));
    }
    if (ferror(stdin)) {
        cli_error("cannot read standard input");
        return CLI_EXIT_FAILED;
    }
    if (fflush(stdout) != 0) {
        cli_error("cannot write standard output");
        return CLI_EXIT_FAILED;
    }
    return status;
}

/* Fills *o from argv; returns 1 if --help was given, 0 to run, or -EINVAL after a message. */
static int vc_parse_args(int argc, char **argv, struct vc_opts *o)
{
    const char *pos[2];
    size_t npos = 0;
    bool opts_done = false;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return 1;
    if (argc < 2 || (strcmp(argv[1], "deb") != 0 && strcmp(argv[1], "apk") != 0)) {
        cli_error("version-compare: expected 'deb' or 'apk' (see --help)");
        return -EINVAL;
    }
    o->format = strcmp(argv[1], "deb") == 0 ? VC_DEB : VC_APK;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (!opts_done && strcmp(arg, "--") == 0) {
            opts_done = true;
        } else if (!opts_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            return 1;
        } else if (!opts_done && strcmp(arg, "--batch") == 0) {
            o->batch = true;
        } else if (!opts_done && strcmp(arg, "--apk-gen") == 0) {
            if (i + 1 >= argc || (strcmp(argv[i + 1], "2") != 0 && strcmp(argv[i + 1], "3") != 0)) {
                cli_error("version-compare: --apk-gen takes 2 or 3");
                return -EINVAL;
            }
            o->gen = argv[++i][0] == '2' ? WORKER_APK_GEN_V2 : WORKER_APK_GEN_V3;
        } else if (npos < 2) {
            pos[npos++] = arg;
        } else {
            cli_error("version-compare: too many arguments (see --help)");
            return -EINVAL;
        }
    }
    if (o->batch != (npos == 0) || (!o->batch && npos != 2)) {
        cli_error("version-compare: give two versions, or --batch alone (see --help)");
        return -EINVAL;
    }
    o->a = npos == 2 ? pos[0] : NULL;
    o->b = npos == 2 ? pos[1] : NULL;
    return 0;
}

/* The `version-compare` subcommand; argv[0] is "version-compare". Returns the exit status. */
int cli_version_compare(int argc, char **argv)
{
    struct vc_opts o = {.gen = WORKER_APK_GEN_V3};
    char err[512];
    int cmp = 0;
    int r;

    r = vc_parse_args(argc, argv, &o);
    if (r > 0) {
        vc_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (r < 0)
        return CLI_EXIT_USAGE;
    if (o.batch)
        return vc_batch(&o);
    r = vc_compare(&o, o.a, o.b, &cmp, err, sizeof(err));
    if (r < 0) {
        cli_error("%s", err);
        return r == -ENOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
    }
    if (r > 0)
        fprintf(stderr, "patchfleet: warning: %s\n", err);
    printf("%s\n", vc_symbol(cmp));
    return CLI_EXIT_OK;
}
