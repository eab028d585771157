/* SPDX-License-Identifier: Apache-2.0 */
#include "pf/setup.h"
#include "cli.h"
int cli_plan(int argc, char **argv) { (void)argc; (void)argv; cli_error("plan: not built yet"); return CLI_EXIT_FAILED; }
int cli_copy(int argc, char **argv) { (void)argc; (void)argv; cli_error("copy: not built yet"); return CLI_EXIT_FAILED; }
