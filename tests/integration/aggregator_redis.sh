#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: redis aggregator
#
# The Redis store against a real redis-server, through tests/tools/pf_store_feed (one store, one
# connection, operations on stdin) with redis-cli as the independent oracle of the key schema:
# duplicates count once, a later attempt replaces an earlier Failed and moves the counts, a stale
# attempt is ignored, the run completes when all expected results are in (results may come
# before the run record), redis-server restarted mid-run loses nothing (the store reconnects), a
# flushed script cache falls back to EVAL, and `patchfleet summary` prints the expected rows.
# Batches (aggregator_store_apply_results, one pipeline): a duplicate and a newer attempt inside
# one batch count once, a batch sent over a connection broken by a restart is replayed whole,
# and a batch after SCRIPT FLUSH gets NOSCRIPT for every call and falls back to EVAL.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/redis.sh"
pf_require redis-server redis-cli jq
pf_tmpdir
FEED_BIN=${PF_BIN:?}/pf_store_feed
[ -x "$FEED_BIN" ] || pf_fail "no pf_store_feed at $FEED_BIN (build target pf_store_feed)"

pf_say "start redis-server"
pf_redis_start
R="itest-$$-$RANDOM"
C=$(pf_redis_cli HGETALL "pf:run:{$R}:counts")
[ -z "$C" ] || pf_fail "run $R already exists"

coproc FEED { "$FEED_BIN" "$REDIS_URL" 2>"$PF_TMP/feed.log"; }
# bash unsets FEED_PID as soon as the coprocess exits: keep the pid for the final wait.
feed_pid=$FEED_PID
# feed WANT FIELDS...: sends one tab-separated operation, checks the driver's answer.
feed() {
    local want=$1 got IFS=$'\t'
    shift
    # Not in a subshell: bash does not pass coproc descriptors to subshells.
    printf '%s\n' "$*" >&"${FEED[1]}"
    IFS= read -r -t 60 got <&"${FEED[0]}" || pf_fail "no answer from pf_store_feed ($(cat "$PF_TMP/feed.log"))"
    [ "$got" = "$want" ] || pf_fail "'$*': got '$got', want '$want'"
    pf_ok "$1 ${3:-} ${6:-} ${7:-} -> $got"
}
hget() { pf_redis_cli HGET "$1" "$2"; }
# feed_batch FIELDS...: buffers one result of the open batch (no answer until feed_commit).
feed_batch() {
    local IFS=$'\t'
    printf '%s\n' "$*" >&"${FEED[1]}"
}
# feed_commit WANT...: applies the batch, checks the answers in order.
feed_commit() {
    local got want
    printf 'commit\n' >&"${FEED[1]}"
    for want in "$@"; do
        IFS= read -r -t 60 got <&"${FEED[0]}" || pf_fail "no answer from pf_store_feed ($(cat "$PF_TMP/feed.log"))"
        [ "$got" = "$want" ] || pf_fail "batch: got '$got', want '$want' (wanted: $*)"
    done
    pf_ok "batch of $#: $*"
}

pf_say "results before the run record, duplicates, run record"
feed inserted result "$R" j1 nginx reg/nginx:1.25 Failed 1 1000 - "pull failed"
feed ignored result "$R" j1 nginx reg/nginx:1.25 Failed 1 1000 - "pull failed"
[ -z "$(hget "pf:run:{$R}:meta" expected)" ] || pf_fail "expected set before the run record"
feed recorded run "$R" 3 1700000000000
feed recorded run "$R" 3 1700000000000
[ "$(hget "pf:run:{$R}:meta" expected)" = 3 ] || pf_fail "meta expected"
[ "$(hget "pf:run:{$R}:counts" finished)" = 1 ] || pf_fail "finished after a duplicate"
[ "$(hget "pf:run:{$R}:counts" Failed)" = 1 ] || pf_fail "Failed count"
[ -z "$(hget "pf:run:{$R}:meta" completed_ms)" ] || pf_fail "completed too early"
[ "$(pf_redis_cli GET pf:latest)" = "$R" ] || pf_fail "pf:latest"
[ "$(pf_redis_cli ZSCORE pf:runs "$R")" = 1700000000000 ] || pf_fail "pf:runs score"
pf_ok "meta, counts, latest and runs index as expected"

feed inserted result "$R" j2 redis reg/redis:7.2 Patched 1 2000 reg/redis:7.2-patched "3 upgraded"

pf_say "restart redis-server mid-run (the same connection must reconnect)"
if [ "$PF_REDIS_OWNED" = 1 ]; then
    pf_redis_restart 1
    pf_ok "redis-server restarted"
else
    pf_say "REDIS_URL given: not restarting a server this test does not own"
fi
feed replaced result "$R" j1 nginx reg/nginx:1.25 Patched 2 3000 reg/nginx:1.25-patched "2 upgraded"
feed ignored result "$R" j2 redis reg/redis:7.2 Patched 1 2000 reg/redis:7.2-patched "3 upgraded"
[ -z "$(hget "pf:run:{$R}:meta" completed_ms)" ] || pf_fail "completed with 2 of 3"

pf_say "script cache flushed: EVALSHA gets NOSCRIPT, the store falls back to EVAL"
pf_redis_cli SCRIPT FLUSH >/dev/null
feed inserted result "$R" j3 alpine reg/alpine:3.19 UpToDate 1 4000 - "nothing to upgrade"
feed ignored result "$R" j1 nginx reg/nginx:1.25 Failed 1 5000 - "late stale attempt"

pf_say "batches: one pipeline per batch"
B="$R-batch"
feed_batch begin
feed_batch result "$B" j1 nginx reg/nginx:1.25 Failed 1 1000 - "pull failed"
feed_batch result "$B" j1 nginx reg/nginx:1.25 Failed 1 1000 - "pull failed"
feed_batch result "$B" j2 redis reg/redis:7.2 Patched 1 2000 reg/redis:7.2-patched "3 upgraded"
feed_batch result "$B" j1 nginx reg/nginx:1.25 Patched 2 3000 reg/nginx:1.25-patched "2 upgraded"
feed_batch result "$B" j2 redis reg/redis:7.2 Patched 1 2000 reg/redis:7.2-patched "3 upgraded"
feed_commit inserted ignored inserted replaced ignored
[ "$(hget "pf:run:{$B}:counts" finished)" = 2 ] || pf_fail "batch: finished $(hget "pf:run:{$B}:counts" finished)"
[ "$(hget "pf:run:{$B}:counts" Patched)" = 2 ] || pf_fail "batch: Patched count"
[ -z "$(hget "pf:run:{$B}:counts" Failed)" ] || pf_fail "batch: Failed count not moved"
# An older run (created before $R): pf:latest must stay $R for the summary checks below.
feed recorded run "$B" 4 1600000000000
feed_batch begin
feed_batch result "$B" j3 alpine reg/alpine:3.19 UpToDate 1 4000 - "nothing to upgrade"
feed_batch result "$B" j1 nginx reg/nginx:1.25 Failed 1 5000 - "late stale attempt"
if [ "$PF_REDIS_OWNED" = 1 ]; then
    pf_redis_restart 1
    pf_ok "redis-server restarted under an open batch (its connection is broken)"
fi
feed_commit inserted ignored
pf_redis_cli SCRIPT FLUSH >/dev/null
feed_batch begin
feed_batch result "$B" j4 debian reg/debian:12 Planned 1 6000 - "5 upgrades"
feed_batch result "$B" j4 debian reg/debian:12 Planned 1 6000 - "5 upgrades"
feed_batch result "$B" j3 alpine reg/alpine:3.19 UpToDate 1 4000 - "nothing to upgrade"
feed_commit inserted ignored ignored
[ "$(hget "pf:run:{$B}:counts" finished)" = 4 ] || pf_fail "batch: finished after restart"
[ "$(hget "pf:run:{$B}:counts" Planned)" = 1 ] || pf_fail "batch: Planned count"
[ "$(pf_redis_cli HLEN "pf:run:{$B}:jobs")" = 4 ] || pf_fail "batch: jobs hash length"
[ -n "$(hget "pf:run:{$B}:meta" completed_ms)" ] || pf_fail "batch: run not complete"
n=$(pf_redis_cli XLEN "pf:run:{$B}:events")
[ "$n" = 6 ] || pf_fail "batch events: $n entries, want 5 changed rows + 1 completed"
pf_ok "batches: counts, rows, completion"
exec {FEED[1]}>&-
wait "$feed_pid" || pf_fail "pf_store_feed failed: $(cat "$PF_TMP/feed.log")"

pf_say "redis-cli: the key schema"
[ "$(hget "pf:run:{$R}:counts" finished)" = 3 ] || pf_fail "finished"
[ "$(hget "pf:run:{$R}:counts" Patched)" = 2 ] || pf_fail "Patched"
[ "$(hget "pf:run:{$R}:counts" UpToDate)" = 1 ] || pf_fail "UpToDate"
[ -z "$(hget "pf:run:{$R}:counts" Failed)" ] || pf_fail "Failed count not moved"
[ -n "$(hget "pf:run:{$R}:meta" completed_ms)" ] || pf_fail "run not complete"
[ "$(pf_redis_cli HLEN "pf:run:{$R}:jobs")" = 3 ] || pf_fail "jobs hash length"
hget "pf:run:{$R}:jobs" j1 | jq -e '.status == "Patched" and .attempt == 2 and .patched_tag == "reg/nginx:1.25-patched"' >/dev/null ||
    pf_fail "row j1: $(hget "pf:run:{$R}:jobs" j1)"
hget "pf:run:{$R}:meta" warnings | jq -e '. == ["a warning with \"quotes\""]' >/dev/null || pf_fail "warnings"
n=$(pf_redis_cli XLEN "pf:run:{$R}:events")
[ "$n" = 5 ] || pf_fail "events: $n entries, want 4 results + 1 completed"
pf_redis_cli XREVRANGE "pf:run:{$R}:events" + - COUNT 1 | grep -qx completed || pf_fail "no completed event"
pf_ok "counts, rows, completion, events"

if [ -x "${PF_BIN}/patchfleet" ] && "$PF_BIN/patchfleet" summary --help >/dev/null 2>&1; then
    pf_say "patchfleet summary"
    "$PF_BIN/patchfleet" summary --redis "$REDIS_URL" --run "$R" >"$PF_TMP/table" 2>"$PF_TMP/err"
    awk '{print $1, $2}' "$PF_TMP/table" >"$PF_TMP/cols"
    printf 'NAME STATUS\nalpine UpToDate\nnginx Patched\nredis Patched\n' | diff - "$PF_TMP/cols" ||
        pf_fail "summary table: $(cat "$PF_TMP/table")"
    grep -q "run $R: 3/3 finished" "$PF_TMP/err" || pf_fail "summary progress: $(cat "$PF_TMP/err")"
    "$PF_BIN/patchfleet" summary --redis "$REDIS_URL" --latest --format json >"$PF_TMP/json" 2>/dev/null
    jq -e --arg r "$R" '.run.schema == 1 and .run.run_id == $r and .run.state == "complete" and .run.counts.Patched == 2 and
        ([.jobs[].name] == ["alpine","nginx","redis"]) and .jobs[1].details == "2 upgraded"' \
        "$PF_TMP/json" >/dev/null || pf_fail "summary json: $(cat "$PF_TMP/json")"
    "$PF_BIN/patchfleet" summary --redis "$REDIS_URL" --run "no-such-$R" >/dev/null 2>&1 && pf_fail "unknown run exit 0"
    pf_ok "table, JSON and unknown run"
else
    pf_say "SKIPPED: patchfleet summary (the patchfleet binary is not built)"
fi
pf_say "aggregator_redis: all checks passed"
