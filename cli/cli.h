/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `patchfleet` command: one function per subcommand, each taking argc/argv from the
 * subcommand name on and returning the process exit status.
 */
#ifndef PF_CLI_H
#define PF_CLI_H

/* Exit statuses, documented in docs/cli.md. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1, /* the command ran and something failed (a job, a copy, a network call) */
    CLI_EXIT_USAGE = 2,  /* bad command line or invalid configuration: nothing was attempted */
    CLI_EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM stopped the run (128 + SIGINT, as shells do) */
};

int cli_config(int argc, char **argv);
int cli_plan(int argc, char **argv);
int cli_patch(int argc, char **argv);
int cli_copy(int argc, char **argv);
int cli_version_compare(int argc, char **argv);
int cli_summary(int argc, char **argv);

/* Prints "patchfleet: <msg>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
