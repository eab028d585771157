#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Formatting gate: every tracked .c and .h must already be formatted as /.clang-format says
# (clang-format --dry-run -Werror); prints the offending places and exits non-zero otherwise.
# Fix with: git ls-files '*.c' '*.h' | xargs clang-format -i
# tests/run.sh runs it first (it takes about a second).
set -euo pipefail

cd "$(dirname "$0")/../.."
if ! command -v clang-format >/dev/null 2>&1; then
    echo "format_check: clang-format is not installed (deploy/dev/setup.sh installs it)" >&2
    exit 2
fi
jobs=${PF_LINT_JOBS:-$(nproc)}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# xargs exits 123 when any clang-format call found something to change.
if git ls-files -z -- '*.c' '*.h' |
    xargs -0 -P "$jobs" -n 16 clang-format --dry-run -Werror --style=file 2>"$out"; then
    echo "format_check: all files formatted"
    exit 0
fi
cat "$out"
n_places=$(grep -c ': error: code should be clang-formatted' "$out" || true)
n_files=$(grep ': error: code should be clang-formatted' "$out" | cut -d: -f1 | sort -u | wc -l)
echo "format_check: $n_places places in $n_files files need formatting" >&2
exit 1
