#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, as CI runs it:
#   0. the formatting gate (tests/lint/format_check.sh: every .c/.h as /.clang-format says);
#   1. a warnings-as-errors build and every CTest test (unit + integration against real
#      components that the integration scripts start themselves on free loopback ports);
#   2. the unit tests again under ASan+UBSan, and again under ThreadSanitizer (the job pool,
#      shared caches, tag listings and parallel index fetches run on threads);
#   3. static analysis: clang-tidy and cppcheck over the programs' sources, zero findings
#      (tests/lint/static_checks.sh; -Wconversion and friends are the -Werror build of stage 1);
#   4. the libFuzzer targets replaying their seed corpora (deterministic, no new inputs), then
#      fuzzing each for PF_FUZZ_SECONDS (default 5: 16 targets in about 80 s) from its seeds.
# Set PF_TEST_LABELS to a CTest label regex to run a subset (e.g. PF_TEST_LABELS=unit).
set -euo pipefail

cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== formatting (clang-format)"
PF_LINT_JOBS="$jobs" tests/lint/format_check.sh

echo "== build (warnings as errors)"
cmake -S . -B build-ci -G Ninja -DPF_WERROR=ON >/dev/null
cmake --build build-ci -j"$jobs"

echo "== tests"
label_args=()
if [ -n "${PF_TEST_LABELS:-}" ]; then
    label_args=(-L "$PF_TEST_LABELS")
fi
ctest --test-dir build-ci --output-on-failure -j"$jobs" "${label_args[@]}" | tee build-ci/ctest.log

echo "== unit tests under ASan+UBSan"
cmake -S . -B build-asan -G Ninja -DPF_WERROR=ON -DPF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit | tee build-asan/ctest.log

echo "== unit tests under ThreadSanitizer"
cmake -S . -B build-tsan -G Ninja -DPF_WERROR=ON -DPF_TSAN=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-tsan -j"$jobs"
# A report fails the test (exit status 66) even when the test itself passed.
TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
    ctest --test-dir build-tsan --output-on-failure -j"$jobs" -L unit | tee build-tsan/ctest.log

echo "== static analysis (clang-tidy, cppcheck)"
# Uses build-ci's compile_commands.json; exits non-zero on any finding.
PF_LINT_JOBS="$jobs" tests/lint/static_checks.sh build-ci

echo "== fuzz targets replay their corpora"
CC=clang cmake -S . -B build-fuzz -G Ninja -DPF_FUZZ=ON -DPF_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$jobs"
fuzz/run.sh --replay build-fuzz
echo "== fuzz targets, ${PF_FUZZ_SECONDS:-5}s each"
fuzz/run.sh --time "${PF_FUZZ_SECONDS:-5}" build-fuzz
n_fuzz=$(find build-fuzz/bin -name 'fuzz_*' -type f | wc -l)

# One closing line over the stages (ctest stops the script on any failure above).
count() { sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$1"; }
total=$(($(count build-ci/ctest.log) + $(count build-asan/ctest.log) + $(count build-tsan/ctest.log) + n_fuzz))
echo "tests: $total passed, 0 failed"
