#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: kafka redis registry apt deb fleet aggregator slow
#
# The fleet chaos run: the same sweep (about 50 --push jobs over four repositories of the
# Debian fixtures) twice through producer -> Kafka -> workers -> aggregator -> Redis, each run
# pushing under its own tag suffix (-ref, -chaos). The first run has no faults and is the
# reference; the second (a new run id) runs while a chaos loop,
# bounded in steps and in time, kills -9 a random worker and starts a new one (several times),
# kills -9 the aggregator and restarts it, restarts redis-server and SIGSTOPs the broker for a
# few seconds. Asserted: the second run completes within a bounded wait, every job is counted
# exactly once (expected = finished = HLEN jobs = sum of the status counts), and its
# `patchfleet summary --format json` equals the reference row by row (name, status, source,
# patched_tag and details with the run's tag suffix taken out; times, attempts and worker ids
# are not compared), and every image it pushed has the reference's digest. A negative control
# shows the comparison catches a dropped row. PF_CHAOS_SEED replays a run's choice of workers.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"
. "$PF_SRC/tests/harness/kafka.sh"
. "$PF_SRC/tests/harness/redis.sh"
pf_require docker-registry skopeo jq curl python3 kcat java redis-server redis-cli
deb_fixture_require
pf_require_cli summary
PRODUCER=$PF_BIN/patchfleet-producer
WORKER=$PF_BIN/patchfleet-worker
AGG=$PF_BIN/patchfleet-aggregator
for b in "$PRODUCER" "$WORKER" "$AGG"; do
    [ -x "$b" ] || pf_fail "$b not built"
done
pf_tmpdir
T=$PF_TMP
SEED=${PF_CHAOS_SEED:-$$}
RANDOM=$SEED
T0=$SECONDS

# ---------------------------------------------------------------------------------------------
pf_say "services: kafka broker (KRaft), redis-server"
pf_kafka_start
pf_kafka_topic patchfleet.jobs 6
pf_kafka_topic patchfleet.results 3
pf_kafka_topic patchfleet.runs 1
pf_kafka_topic patchfleet.jobs.attempts 1
pf_kafka_topic patchfleet.jobs.dlq 1
pf_redis_start

pf_say "fixtures: signed apt archive, registry behind a proxy, four repositories with many tags"
deb_archive_demo "$T"
pf_http_start APT "$T/www"
pf_registry_start plain R
pf_fault_proxy_start REG "http://$REG_R_ADDR"
A=$PROXY_REG_ADDR
R=$REG_R_ADDR
deb_push_demo_images "$T/layout" "$HTTP_APT_URL/repo/" "$T/keyring.gpg" "$R"
for spec in full:18 multi:8 uptodate:12 distroless:10; do
    repo=demo/${spec%%:*}
    pf_registry_seed_tags "$REG_R_DIR" "$repo" "$(pf_manifest_digest "http://$R" "$repo" 1.0)" \
        "${spec#*:}" 1.0.
done
deb_demo_config "$T/fleet.yaml" "$A" 'full=^1\.0(\.[0-9]+)?$' 'multi=^1\.0(\.[0-9]+)?$' \
    'uptodate=^1\.0(\.[0-9]+)?$' 'distroless=^1\.0(\.[0-9]+)?$' ghost
# Each run pushes under its own suffix, so the second does not find the first's tags.
for run in ref chaos; do
    { cat "$T/fleet.yaml"; printf 'target:\n  tag: "{{ .SourceTag }}-%s"\n' "$run"; } >"$T/$run.yaml"
done
ENGINE_OPTS=(--keyring "$T/keyring.gpg" --insecure-registry "$A")
pf_ok "chaos seed $SEED (PF_CHAOS_SEED=$SEED replays it)"

# ---------------------------------------------------------------------------------------------
NW=0
# start_worker SLOT: a new worker (its own log, cache and work dir) in SLOT of WP.
# --max-attempts 8: the loop kills up to 4 workers, and each death charges an attempt to every
# job it had started (and to redelivered ones), so with the default 3 an innocent job that sat
# on three of the dead workers goes to the DLQ as a poison job (seen: Failed "moved to
# patchfleet.jobs.dlq after 3 attempts"). Above the number of kills, the run must end as the
# reference does.
start_worker() {
    NW=$((NW + 1))
    pf_spawn "$T/worker$NW.log" env PATCHFLEET_LOG=info "$WORKER" --brokers "$KAFKA_BOOTSTRAP" \
        --concurrency 2 --grace 5s --max-attempts 8 "${ENGINE_OPTS[@]}" \
        --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL" \
        --cache-dir "$T/cache-w$NW" --work-dir "$T/work-w$NW"
    WP[$1]=$PF_LAST_PID
}
NA=0
start_aggregator() {
    NA=$((NA + 1))
    pf_spawn "$T/agg$NA.log" "$AGG" --brokers "$KAFKA_BOOTSTRAP" --redis "$REDIS_URL" \
        --log-level info
    AGG_PID=$PF_LAST_PID
}
WP=()
start_aggregator
start_worker 0
start_worker 1
start_worker 2
pf_kafka_wait_assigned "$T/worker1.log" "$T/worker2.log" "$T/worker3.log"

hget() { pf_redis_cli HGET "$1" "$2"; }
finished() { hget "pf:run:{$1}:counts" finished 2>/dev/null || true; }
complete() { [ -n "$(hget "pf:run:{$1}:meta" completed_ms 2>/dev/null || true)" ]; }
# produce NAME: publishes the sweep of $T/NAME.yaml; the run id in $RUN.
produce() {
    pf_run 0 "$T/prod-$1.out" "$T/prod-$1.err" "$PRODUCER" --config "$T/$1.yaml" \
        --brokers "$KAFKA_BOOTSTRAP" --push --insecure-registry "$A" --timeout 2m
    RUN=$(tail -n 1 "$T/prod-$1.out")
    [ -n "$RUN" ] || pf_fail "producer printed no run id: $(cat "$T/prod-$1.err")"
}
# wait_complete RUN SECONDS: until the run is complete in Redis, bounded.
wait_complete() {
    local deadline=$((SECONDS + $2))
    until complete "$1"; do
        [ "$SECONDS" -lt "$deadline" ] ||
            pf_fail "run $1 not complete after $2 s: $(finished "$1") results"
        sleep 0.5
    done
}
# rows RUN NAME: the comparable rows of RUN's summary, sorted, into $T/NAME.rows, the run's tag
# suffix -NAME written as -RUN. Exit 1 is right: the ghost repository's row is Failed.
rows() {
    pf_run 1 "$T/$2.json" "$T/$2.err" "$PF" summary --redis "$REDIS_URL" --run "$1" --format json
    jq -r '.jobs[] | [.name, .status, .source, (.patched_tag // "" | if . == "" then "-" else . end),
        (.details // "")] | @tsv' "$T/$2.json" | sed -E "s/-$2([^A-Za-z0-9]|\$)/-RUN\1/g" |
        sort >"$T/$2.rows"
}
# check_counts RUN: expected = finished = HLEN jobs = sum of the status counts = N.
check_counts() {
    local r=$1 sum
    pf_assert_eq "run $r: expected in meta" "$N" "$(hget "pf:run:{$r}:meta" expected)"
    pf_assert_eq "run $r: finished count" "$N" "$(hget "pf:run:{$r}:counts" finished)"
    pf_assert_eq "run $r: rows in the jobs hash" "$N" "$(pf_redis_cli HLEN "pf:run:{$r}:jobs")"
    sum=$(pf_redis_cli HGETALL "pf:run:{$r}:counts" | paste - - |
        awk '$1 != "finished" { s += $2 } END { print s + 0 }')
    pf_assert_eq "run $r: status counts add up to the jobs, each once" "$N" "$sum"
}

# ---------------------------------------------------------------------------------------------
pf_say "1. the reference: the sweep without faults"
START=$SECONDS
produce ref
REF=$RUN
wait_complete "$REF" 180
rows "$REF" ref
N=$(wc -l <"$T/ref.rows")
[ "$N" -ge 40 ] || pf_fail "the reference has $N rows, expected at least 40"
NP=$(jq '[.jobs[] | select(.status == "Patched")] | length' "$T/ref.json")
[ "$NP" -ge 20 ] || pf_fail "the reference pushed $NP images, expected at least 20"
check_counts "$REF"
pf_ok "reference run $REF: $N rows in $((SECONDS - START)) s ($(cut -f2 "$T/ref.rows" | sort | uniq -c | tr -s ' ' | tr '\n' ','))"

# ---------------------------------------------------------------------------------------------
pf_say "2. the same sweep under chaos"
# Every manifest GET held back 1 s, so the sweep is still running while the chaos acts.
pf_proxy_rules "$PROXY_REG_URL" "method=GET:path~/manifests/:delay:count=inf:delay=1"
START=$SECONDS
produce chaos
RUN2=$RUN
# The steps, in order; each acts only while the run is incomplete, the loop ends after the last
# step or 120 s.
STEPS=(worker aggregator worker redis worker broker worker)
done_steps=0
chaos_deadline=$((SECONDS + 120))
sleep 2
for step in "${STEPS[@]}"; do
    complete "$RUN2" && break
    [ "$SECONDS" -lt "$chaos_deadline" ] || break
    f=$(finished "$RUN2")
    case $step in
    worker)
        i=$((RANDOM % ${#WP[@]}))
        kill -9 "${WP[$i]}" 2>/dev/null || true
        wait "${WP[$i]}" 2>/dev/null || true
        start_worker "$i"
        pf_ok "worker in slot $i killed -9 at ${f:-0}/$N results, worker $NW started"
        ;;
    aggregator)
        kill -9 "$AGG_PID" 2>/dev/null || true
        wait "$AGG_PID" 2>/dev/null || true
        sleep 1
        start_aggregator
        pf_ok "aggregator killed -9 at ${f:-0}/$N results and restarted"
        ;;
    redis)
        if [ "$PF_REDIS_OWNED" = 1 ]; then
            pf_redis_restart 2
            pf_ok "redis-server restarted (2 s down) at ${f:-0}/$N results"
        fi
        ;;
    broker)
        if [ -n "${KAFKA_PID:-}" ]; then
            kill -STOP "$KAFKA_PID"
            sleep 4
            kill -CONT "$KAFKA_PID"
            pf_ok "broker SIGSTOPped 4 s at ${f:-0}/$N results, then SIGCONTed"
        fi
        ;;
    esac
    done_steps=$((done_steps + 1))
    sleep 3
done
[ "$done_steps" -ge 4 ] ||
    pf_fail "only $done_steps chaos steps acted before run $RUN2 completed; the sweep is too short"
pf_ok "$done_steps chaos steps acted on a running sweep"
wait_complete "$RUN2" 240
pf_ok "run $RUN2 complete in $((SECONDS - START)) s"
check_counts "$RUN2"
rows "$RUN2" chaos
if ! diff -u "$T/ref.rows" "$T/chaos.rows" >"$T/chaos.diff"; then
    cat "$T/chaos.diff" >&2
    pf_fail "the summary of run $RUN2 (under chaos) differs from the reference run $REF"
fi
pf_ok "run $RUN2: summary rows equal the reference's, row by row ($N rows)"
pf_assert_eq "run $RUN2: counts equal the reference's" \
    "$(jq -c '.run.counts' "$T/ref.json")" "$(jq -c '.run.counts' "$T/chaos.json")"
# Every image the chaos run pushed is the one the reference pushed for the same source.
while read -r src tag; do
    repo=${src#*/}
    repo=${repo%%[:@]*}
    want=$(pf_manifest_digest "http://$R" "$repo" "${tag%-chaos}-ref" || true)
    got=$(pf_manifest_digest "http://$R" "$repo" "$tag" || true)
    [ -n "$got" ] && [ "$got" = "$want" ] ||
        pf_fail "$repo:$tag is '$got', the reference pushed '$want' for $src"
done < <(jq -r '.jobs[] | select(.status == "Patched") | "\(.source) \(.patched_tag)"' \
    "$T/chaos.json")
pf_ok "run $RUN2: its $NP pushed images have the reference's digests"

# The comparison is not blind: a row dropped from a copy of the summary is caught.
sed 1d "$T/chaos.rows" >"$T/dropped.rows"
if diff -q "$T/ref.rows" "$T/dropped.rows" >/dev/null; then
    pf_fail "negative control: a dropped row went unnoticed"
fi
pf_ok "negative control: a summary missing one row differs from the reference"

pf_say "fleet chaos: all checks passed in $((SECONDS - T0)) s"
