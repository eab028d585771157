#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: kafka redis fleet
#
# Every daemon stops on SIGTERM within its bound whatever Kafka and Redis do (docs/fleet.md,
# "Shutdown"). A real broker and redis-server are started, a worker (--grace 6s) and an
# aggregator join their groups, then the broker and Redis are frozen with SIGSTOP (connections
# stay open and nothing answers: the worst case, worse than a refused connection), and each
# daemon gets SIGTERM. The worker must exit within its grace + 3 s, the aggregator within its
# documented 10 s + 3 s, each by itself (status 0 when nothing was lost, 1 when the group could
# not be left cleanly; never killed). A producer
# waiting for deliveries to the frozen broker must die at once on SIGTERM. A daemon still
# running past its bound is killed (so a regression fails here instead of hanging the suite).
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/kafka.sh"
. "$PF_SRC/tests/harness/redis.sh"
pf_require jq
pf_tmpdir
T=$PF_TMP
WORKER=$PF_BIN/patchfleet-worker
AGG=$PF_BIN/patchfleet-aggregator
PRODUCER=$PF_BIN/patchfleet-producer
for b in "$WORKER" "$AGG" "$PRODUCER"; do [ -x "$b" ] || pf_fail "$b not built"; done

pf_say "start kafka and redis-server"
pf_kafka_start
pf_redis_start
pf_kafka_topic patchfleet.jobs 6
pf_kafka_topic patchfleet.results 3
pf_kafka_topic patchfleet.runs 1
pf_kafka_topic patchfleet.jobs.attempts 1
pf_kafka_topic patchfleet.jobs.dlq 1

pf_say "a worker and an aggregator join their groups"
pf_spawn "$T/worker.log" env PATCHFLEET_LOG=info "$WORKER" --brokers "$KAFKA_BOOTSTRAP" \
    --concurrency 1 --grace 6s --cache-dir "$T/cache" --work-dir "$T/work"
W=$PF_LAST_PID
pf_spawn "$T/agg.log" "$AGG" --brokers "$KAFKA_BOOTSTRAP" --redis "$REDIS_URL" --log-level info
AGGP=$PF_LAST_PID
pf_kafka_wait_assigned "$T/worker.log"
grep -q assigned "$T/worker.log" || pf_fail "the worker joined no group: $(tail -5 "$T/worker.log")"
# The aggregator's group forms a moment later; a run record makes it write to Redis once, so
# its Redis connection is known to work before Redis is frozen.
printf '{"v":1,"run_id":"stop-%s","expected":1}\n' "$$" |
    kcat -b "$KAFKA_BOOTSTRAP" -P -t patchfleet.runs -k "stop-$$"
for _ in $(seq 1 100); do
    [ -n "$(pf_redis_cli HGET "pf:run:{stop-$$}:meta" expected)" ] && break
    sleep 0.2
done
pf_assert_eq "aggregator recorded the run before the freeze" 1 \
    "$(pf_redis_cli HGET "pf:run:{stop-$$}:meta" expected)"

# stop_within PID BOUND_S NAME WANT_STATUS: SIGTERM, then waits up to BOUND_S for PID to exit;
# kills it (and fails) past the bound; checks the exit status (WANT_STATUS: values joined by |).
stop_within() {
    local pid=$1 bound=$2 name=$3 want=$4 t0 rc=0 elapsed
    t0=$(pf_now_ms)
    kill -TERM "$pid"
    for _ in $(seq 1 $((bound * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pf_fail "$name still running ${bound}s after SIGTERM (killed)"
    fi
    wait "$pid" || rc=$?
    elapsed=$(($(pf_now_ms) - t0))
    [[ "$rc" =~ ^($want)$ ]] || pf_fail "$name exit status $rc, want $want"
    pf_ok "$name stopped in ${elapsed} ms (bound ${bound}s)"
}

pf_say "freeze the broker and redis-server (SIGSTOP), then SIGTERM each daemon"
kill -STOP "$KAFKA_PID" "$PF_REDIS_PID"
sleep 1
stop_within "$W" 9 worker "0|1"
stop_within "$AGGP" 13 aggregator "0|1"

pf_say "a producer waiting for a frozen broker dies on SIGTERM"
cat >"$T/one.yaml" <<YAML
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: a
    image: 127.0.0.1:9/none/a
    tags: {strategy: list, list: ['1.0']}
YAML
pf_spawn "$T/prod.log" "$PRODUCER" --config "$T/one.yaml" --brokers "$KAFKA_BOOTSTRAP" \
    --dry-run --insecure-registry 127.0.0.1:9 --delivery-timeout 5m
P=$PF_LAST_PID
sleep 3
kill -0 "$P" 2>/dev/null || pf_fail "the producer did not wait for the frozen broker: $(cat "$T/prod.log")"
stop_within "$P" 3 producer 143

kill -CONT "$KAFKA_PID" "$PF_REDIS_PID"
pf_ok "every daemon stopped within its bound"
