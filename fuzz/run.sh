#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target in fuzz/ for a bounded time, or replays the seed corpora.
#   fuzz/run.sh [SECONDS] [BUILD_DIR]          fuzz each target for SECONDS (default 60), keeping
#                                              new inputs in fuzz/corpus-<target>/
#   fuzz/run.sh --time SECONDS [BUILD_DIR]     fuzz each target for SECONDS from its seeds alone,
#                                              in a scratch corpus (what CI does after the replay:
#                                              bounded, nothing left behind but crash files)
#   fuzz/run.sh --replay [BUILD_DIR]           run each target over its seeds once
# Build first: CC=clang cmake -S . -B build-fuzz -G Ninja -DPF_FUZZ=ON -DPF_TESTS=OFF
# Seeds live in fuzz/seeds/<target>/ (committed); new corpus entries go to fuzz/corpus-<target>/
# (ignored by git). Crashes are written as crash-* files in BUILD_DIR/fuzz-artifacts/.
# PF_FUZZ_ONLY=<regex> restricts the run to the targets whose name matches.
set -euo pipefail

cd "$(dirname "$0")/.."
mode=fuzz
seconds=60
if [ "${1:-}" = "--replay" ]; then
    mode=replay
    shift
elif [ "${1:-}" = "--time" ]; then
    mode=time
    seconds=${2:?--time needs a number of seconds}
    shift 2
elif [ -n "${1:-}" ]; then
    seconds=$1
    shift
fi
case $seconds in
'' | *[!0-9]*) echo "fuzz: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac
build=${1:-build-fuzz}
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

status=0
for bin in "$build"/bin/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    if [ -n "${PF_FUZZ_ONLY:-}" ] && ! [[ $name =~ $PF_FUZZ_ONLY ]]; then
        continue
    fi
    seeds=fuzz/seeds/$name
    log=$build/$name.$mode.log
    case $mode in
    replay)
        n=$(find "$seeds" -type f 2>/dev/null | wc -l)
        echo "fuzz: $name replaying $n seeds"
        if [ "$n" -gt 0 ]; then
            "$bin" -runs=0 "$seeds" >/dev/null 2>"$log" || {
                echo "fuzz: $name FAILED on its seeds:"; tail -30 "$log"; status=1; }
        fi
        ;;
    time)
        scratch=$(mktemp -d)
        echo "fuzz: $name for ${seconds}s"
        "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
            -artifact_prefix="$artifacts/$name-" "$scratch" "$seeds" >/dev/null 2>"$log" || {
            echo "fuzz: $name FAILED (input kept in $artifacts/):"; tail -40 "$log"; status=1; }
        rm -rf "$scratch"
        ;;
    fuzz)
        corpus=fuzz/corpus-$name
        mkdir -p "$corpus"
        echo "fuzz: $name for ${seconds}s"
        "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$artifacts/$name-" "$corpus" "$seeds" || status=1
        ;;
    esac
done
if [ "$status" -eq 0 ]; then
    echo "fuzz: all targets clean"
fi
exit $status
