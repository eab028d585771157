/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patchfleet: dispatch to subcommands. Each subcommand lives in its own cli/cmd_*.c and parses
 * its own options with getopt_long, so adding one touches this table only.
 */
#include "pf/setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pf/log.h"

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct cli_command commands[] = {
    {"config", cli_config, "config validate FILE: check a PatchConfig and report every problem"},
    {"plan", cli_plan, "plan --config FILE [--json]: list the jobs a config expands to"},
    {"patch", cli_patch, "patch --config FILE --push|--oci-dir DIR|--dry-run: patch them all"},
    {"copy", cli_copy, "copy SRC DST: copy an image or index between repositories"},
    {"summary", cli_summary, "summary --redis URL (--run ID | --latest): a fleet run from Redis"},
    {"version-compare", cli_version_compare, "version-compare deb|apk A B: print <, = or >"},
};

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("patchfleet: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: patchfleet [--log-level LEVEL] COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < PF_ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-16s %s\n", "version", "print the version");
    fprintf(out, "\nRun 'patchfleet COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    const char *env_level = getenv("PATCHFLEET_LOG_LEVEL");

    pf_log_set_sink(pf_log_stderr_sink, NULL);
    pf_log_set_level(LOG_NOTICE);
    if (env_level && pf_log_level_from_string(env_level) >= 0)
        pf_log_set_level(pf_log_level_from_string(env_level));
    if (i + 1 < argc && strcmp(argv[i], "--log-level") == 0) {
        int level = pf_log_level_from_string(argv[i + 1]);
        if (level < 0) {
            cli_error("unknown log level '%s' (debug, info, notice, warning, error)", argv[i + 1]);
            return CLI_EXIT_USAGE;
        }
        pf_log_set_level(level);
        i += 2;
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0 || strcmp(argv[i], "--help") == 0 ||
        strcmp(argv[i], "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[i], "version") == 0 || strcmp(argv[i], "--version") == 0) {
        printf("patchfleet %s\n", PF_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t c = 0; c < PF_ARRAY_SIZE(commands); c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].run(argc - i, argv + i);
    cli_error("unknown command '%s'", argv[i]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
