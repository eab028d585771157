#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Static analysis gate, as CI runs it: clang-tidy (checks in /.clang-tidy) and cppcheck
# (suppressions in tests/lint/cppcheck.supp) over every .c of the programs and libpf:
# common/, producer/, worker/, aggregator/, cli/. Tests, fuzz targets and benches are left out.
# Any finding fails the script. The third gate, -Wconversion and friends, is the ordinary
# -DPF_WERROR=ON build (see PF_WARNINGS in the top CMakeLists.txt).
#
# Usage: tests/lint/static_checks.sh [BUILD_DIR]   (default build-lint; configured if needed,
#        only for its compile_commands.json). PF_LINT_JOBS sets the parallelism (default nproc).
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$PWD
build=${1:-build-lint}
jobs=${PF_LINT_JOBS:-$(nproc)}

for tool in clang-tidy cppcheck jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "static_checks: $tool is not installed (deploy/dev/setup.sh installs it)" >&2
        exit 2
    fi
done
if [ ! -f "$build/compile_commands.json" ]; then
    cmake -S . -B "$build" -G Ninja -DPF_WERROR=ON >/dev/null
fi

# Tracked files when this is a git checkout, else whatever is on disk.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files -- 'common/*.c' 'producer/*.c' 'worker/*.c' \
        'aggregator/*.c' 'cli/*.c')
else
    mapfile -t files < <(find common producer worker aggregator cli -name '*.c' | sort)
fi
if [ "${#files[@]}" -eq 0 ]; then
    echo "static_checks: no source files found" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

echo "== clang-tidy ($(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p'), ${#files[@]} files, $jobs jobs)"
start=$SECONDS
# --quiet drops the "N warnings generated" chatter; a finding is a "file:line:col: warning:"
# or "error:" line. xargs returns non-zero when clang-tidy fails to parse a file: that counts.
if ! printf '%s\n' "${files[@]}" |
    xargs -P "$jobs" -n 4 clang-tidy -p "$build" --quiet >"$tmp/tidy.out" 2>"$tmp/tidy.err"; then
    if ! grep -qE ': (warning|error):' "$tmp/tidy.out"; then
        cat "$tmp/tidy.err" >&2
        echo "static_checks: clang-tidy failed to run" >&2
        status=1
    fi
fi
# (grep finds nothing on a clean tree: that is not a failure under pipefail)
n_tidy=$({ grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error):' "$tmp/tidy.out" || true; } |
    sort -u | tee "$tmp/tidy.found" | wc -l)
if [ "$n_tidy" -gt 0 ]; then
    cat "$tmp/tidy.out"
    status=1
fi
echo "clang-tidy: $n_tidy findings in $((SECONDS - start)) s"

echo "== cppcheck ($(cppcheck --version | sed 's/Cppcheck //'))"
start=$SECONDS
# Only the programs' entries of the compile database, so each file gets its own -I and -D.
printf '%s\n' "${files[@]}" | jq -R "\"$root/\" + ." | jq -s . >"$tmp/want.json"
jq --slurpfile want "$tmp/want.json" '[.[] | select(.file as $f | $want[0] | index($f))]' \
    "$build/compile_commands.json" >"$tmp/compile_commands.json"
if cppcheck --project="$tmp/compile_commands.json" --std=c11 \
    --enable=warning,style,performance,portability --inline-suppr \
    --suppressions-list=tests/lint/cppcheck.supp --error-exitcode=1 --quiet -j "$jobs" \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' 2>"$tmp/cppcheck.out"; then
    n_cpp=0
else
    n_cpp=$(grep -cE ':[0-9]+:[0-9]+: ' "$tmp/cppcheck.out" || true)
    cat "$tmp/cppcheck.out"
    [ "$n_cpp" -gt 0 ] || n_cpp=1
    status=1
fi
echo "cppcheck: $n_cpp findings in $((SECONDS - start)) s"

exit "$status"
