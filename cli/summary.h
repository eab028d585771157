/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure parts of `patchfleet patch`: the end-of-run summary (the aligned table a human
 * reads, the JSON document a script reads, the exit status they imply) and the --timeout
 * parser; tag versioning lives in pf/tag_decision.h, shared with both fleet roles. Rows
 * in, text out: the output contract of docs/patch-command.md is unit tested without a
 * registry, and cmd_patch.c only fills rows.
 */
#ifndef CLI_SUMMARY_H
#define CLI_SUMMARY_H

#include "pf/setup.h"
#include "pf/strv.h"
#include "job/patch_job.h"

/* One row: a job's result, or a plan failure (status Failed, no platforms). Every pointer is
 * borrowed; NULL and "" strings are shown as "-" in the table and as null in JSON. */
struct cli_summary_row {
    const char *name; /* the config's image entry name */
    enum pf_status status;
    const char *source;  /* normalised "registry/repository:tag" */
    const char *patched; /* what was pushed or written ("registry/repo:tag"), or NULL */
    const char *details; /* one line; control characters are blanked in the table */
    const struct worker_patch_platform_result *platforms;
    size_t n_platforms;
};

/*
 * Renders the table: a header NAME STATUS SOURCE IMAGE PATCHED TAG DETAILS, then one line per
 * row sorted by name, then source (stable for equal keys), columns separated by two spaces and
 * padded to their widest cell (counted in UTF-8 characters), no trailing blanks. PATCHED TAG
 * shows the tag of row->patched, or with `wide` (--format wide) the whole reference. Cells are
 * made single-line and valid UTF-8 (control characters become spaces, invalid bytes '?'). The
 * header is printed even for zero rows. Returns 0 and a new string in *ret (pf_free() it), or
 * -ENOMEM.
 */
int cli_summary_table(const struct cli_summary_row *rows, size_t n, bool wide, char **ret);

/* The tag part of a reference ("1.0-patched" of "host:5000/repo:1.0-patched" or of
 * "oci:DIR:host/repo:1.0-patched"); `ref` itself when it has none; NULL for NULL. Borrowed. */
const char *cli_summary_tag_of(const char *ref);

/*
 * Renders {"results":[{name,status,source,patched,patched_tag,details,platforms:[{platform,
 * os,error,upgrades:[{name,arch,from,to}]}]}]} with rows in the table's order, indented, ending in a
 * newline. Missing strings are null; invalid UTF-8 bytes become '?' (JSON needs UTF-8). Returns
 * 0 and a new string in *ret (pf_free() it), or -ENOMEM.
 */
int cli_summary_json(const struct cli_summary_row *rows, size_t n, char **ret);

/*
 * The exit status a finished run reports: CLI_EXIT_INTERRUPTED when a signal stopped it,
 * else CLI_EXIT_OK when `ignore_errors` or when no row is Failed, Cancelled or Error, else
 * CLI_EXIT_FAILED. UpToDate, Planned and Skipped rows are successes.
 */
int cli_summary_exit_status(const struct cli_summary_row *rows, size_t n, bool ignore_errors,
                            bool interrupted);

#endif
