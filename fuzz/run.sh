#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target in fuzz/ for a bounded time, or replays the seed corpora.
#   fuzz/run.sh [SECONDS] [BUILD_DIR]    fuzz each target for SECONDS (default 60)
#   fuzz/run.sh --replay [BUILD_DIR]     run each target over its seeds once (what CI does)
# Build first: CC=clang cmake -S . -B build-fuzz -G Ninja -DPF_FUZZ=ON -DPF_TESTS=OFF
# Seeds live in fuzz/seeds/<target>/ (committed); new corpus entries go to fuzz/corpus-<target>/
# (ignored by git). Crashes are written as crash-* files in the working directory.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=fuzz
seconds=60
if [ "${1:-}" = "--replay" ]; then
    mode=replay
    shift
elif [ -n "${1:-}" ]; then
    seconds=$1
    shift
fi
build=${1:-build-fuzz}

status=0
for bin in "$build"/bin/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    seeds=fuzz/seeds/$name
    if [ "$mode" = replay ]; then
        n=$(find "$seeds" -type f 2>/dev/null | wc -l)
        echo "fuzz: $name replaying $n seeds"
        if [ "$n" -gt 0 ]; then
            "$bin" -runs=0 "$seeds" >/dev/null 2>"$build/$name.replay.log" || {
                echo "fuzz: $name FAILED on its seeds:"; tail -30 "$build/$name.replay.log"; status=1; }
        fi
    else
        corpus=fuzz/corpus-$name
        mkdir -p "$corpus"
        echo "fuzz: $name for ${seconds}s"
        "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "$corpus" "$seeds" || status=1
    fi
done
if [ "$status" -eq 0 ]; then
    echo "fuzz: all targets clean"
fi
exit $status
