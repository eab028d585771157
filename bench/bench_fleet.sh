#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Fleet throughput: BENCH_JOBS (default 10,000) `--dry-run` jobs (resolve the source manifest,
# plan the upgrades, no push) through patchfleet-producer -> Kafka -> BENCH_WORKERS (2)
# patchfleet-worker processes -> patchfleet-aggregator -> Redis, all local: a real KRaft broker
# (tests/harness/kafka.sh), redis-server, docker-registry and a signed apt archive over http.
# The jobs are BENCH_JOBS tags spread over BENCH_REPOS repositories (default 48; jobs are keyed
# by target repository and a partition runs one job at a time, so the repository count bounds
# the parallelism), all pointing at one tiny Debian image (deb_fixture.sh). Baselines in the
# same run: the same config through `patchfleet patch --dry-run --concurrency N`, and the
# registry alone (every tag's manifest fetched once by curl), which bounds any run against it.
# Also printed: the CPU each process used during the fleet run, per job.
#
#   bench/bench_fleet.sh [BUILD_DIR]     (default: build; binaries in BUILD_DIR/bin)
#
# Knobs: BENCH_WORK_ROOT (parent of the work dirs, e.g. /dev/shm; default the temp dir),
# BENCH_DUMP=1 (save the topics with broker timestamps), BENCH_PERF=1 (perf record the
# baseline), BENCH_JOBS, BENCH_REPOS, BENCH_PARTITIONS (jobs topic, default 24), BENCH_WORKERS (2),
# BENCH_WORKER_CONCURRENCY (slots per worker, default 4), BENCH_LOCAL_CONCURRENCY (default 4),
# BENCH_TIMEOUT (seconds to wait for the fleet run, default 900), BENCH_REDIS_FSYNC (always |
# everysec; default always, as the harness), BENCH_REPLAY (1: also replay the results topic into
# an empty Redis DB to measure the aggregator alone; default 1). Not run by CI (minutes long).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN=${PF_BIN:-$BUILD/bin}
JOBS=${BENCH_JOBS:-10000}
REPOS=${BENCH_REPOS:-48}
PARTS=${BENCH_PARTITIONS:-24}
WORKERS=${BENCH_WORKERS:-2}
WCONC=${BENCH_WORKER_CONCURRENCY:-4}
LCONC=${BENCH_LOCAL_CONCURRENCY:-4}
WAIT_S=${BENCH_TIMEOUT:-900}
FSYNC=${BENCH_REDIS_FSYNC:-always}
REPLAY=${BENCH_REPLAY:-1}
WROOT=${BENCH_WORK_ROOT:-}
export PF_SRC=$ROOT PF_BIN=$BIN

. "$ROOT/tests/harness/lib.sh"
. "$ROOT/tests/harness/apt_repo.sh"
. "$ROOT/tests/harness/seed.sh"
. "$ROOT/tests/harness/deb_fixture.sh"
. "$ROOT/tests/harness/kafka.sh"
. "$ROOT/tests/harness/redis.sh"
pf_require docker-registry skopeo umoci jq curl python3 kcat java redis-server redis-cli
deb_fixture_require
for b in patchfleet patchfleet-producer patchfleet-worker patchfleet-aggregator; do
    [ -x "$BIN/$b" ] || pf_fail "no $b in $BIN (build it, or pass the build dir)"
done
if [ "$REPOS" -lt 1 ] || [ "$JOBS" -lt "$REPOS" ]; then pf_fail "need BENCH_JOBS >= BENCH_REPOS >= 1"; fi
pf_tmpdir
T=$PF_TMP
PF=$BIN/patchfleet
# Per-job work directories (created and removed by every job): BENCH_WORK_ROOT=/dev/shm puts
# them on tmpfs, to measure what the filesystem costs (bench/README.md).
if [ -n "$WROOT" ]; then
    W=$(mktemp -d "$WROOT/pf-bench.XXXXXX")
    # After pf_cleanup has stopped the workers; keeps the exit status.
    trap 'pf_cleanup; rc=$?; rm -rf "$W"; exit "$rc"' EXIT
else
    W=$T
fi

# ---------------------------------------------------------------------------------------------
pf_say "kafka broker (KRaft), redis-server (appendfsync $FSYNC)"
pf_kafka_start
pf_kafka_topic patchfleet.jobs "$PARTS"
pf_kafka_topic patchfleet.results 3
pf_kafka_topic patchfleet.runs 1
pf_kafka_topic patchfleet.jobs.attempts 1
pf_kafka_topic patchfleet.jobs.dlq 1
pf_redis_start
[ "$FSYNC" = always ] || pf_redis_cli CONFIG SET appendfsync "$FSYNC" >/dev/null
pf_ok "broker $KAFKA_BOOTSTRAP, redis $REDIS_URL"

pf_say "fixtures: signed apt archive, registry, $REPOS repositories with $JOBS tags in all"
deb_build_all "$T/debs"
apt_gpg_home "$T/gnupg"
apt_export_keyring "$T/keyring.gpg"
mkdir -p "$T/www"
deb_repo_suite "$T/www/repo" stable "amd64 arm64" "$T/debs/v2"/*.deb
apt_gpg_stop
pf_http_start APT "$T/www"
pf_registry_start plain A
A=$REG_A_ADDR
deb_image_full "$T/layout" full amd64 "$T/debs/v1" "$HTTP_APT_URL/repo/" "$T/keyring.gpg"
deb_push "$T/layout" full "$A/bench/app0:base"
DIGEST=$(pf_manifest_digest "http://$A" bench/app0 base)
# More repositories: copies of app0's link files (blobs are shared by the registry), then the
# tags, written straight into the storage (seed.sh / lib.sh: 10,000 tags in about a second).
RDIR=$REG_A_DIR/docker/registry/v2/repositories/bench
for ((i = 1; i < REPOS; i++)); do
    cp -a "$RDIR/app0" "$RDIR/app$i"
done
per=$((JOBS / REPOS)) extra=$((JOBS % REPOS))
for ((i = 0; i < REPOS; i++)); do
    pf_registry_seed_tags "$REG_A_DIR" "bench/app$i" "$DIGEST" $((per + (i < extra ? 1 : 0))) v
done
{
    printf 'apiVersion: copa.sh/v1alpha1\nkind: PatchConfig\nimages:\n'
    for ((i = 0; i < REPOS; i++)); do
        printf '  - name: app%d\n    image: "%s/bench/app%d"\n' "$i" "$A" "$i"
        printf '    tags:\n      strategy: pattern\n      pattern: %s\n' "'^v[0-9]+\$'"
    done
} >"$T/fleet.yaml"
pf_ok "one image ($DIGEST), $REPOS repositories, $JOBS tags"

# cpu_ms PID...: user+system CPU time so far of the given processes, in ms (their own threads;
# children not counted). Sampled before and after the fleet phase to split its CPU per process.
CLK_TCK=$(getconf CLK_TCK)
cpu_ms() {
    local total=0 pid f
    for pid in "$@"; do
        # Fields 14 and 15 of /proc/PID/stat; the command name (field 2) may hold spaces.
        f=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        set -- $f
        total=$((total + ${12} + ${13}))
    done
    echo $((total * 1000 / CLK_TCK))
}
# TIME_OUT: GNU time's "user sys" seconds of a foreground command, as ms.
time_ms() { awk '{ printf "%d", ($1 + $2) * 1000 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", (ms > 0 ? n * 1000 / ms : 0) }'; }

# ---------------------------------------------------------------------------------------------
# The registry's own ceiling: every job resolves its tag's manifest once, so the rate at which
# this registry serves manifest GETs to the cheapest client (curl, keep-alive, as many
# connections as the fleet has slots, nothing else running) bounds any run against it.
NCONN=$((WORKERS * WCONC))
pf_say "registry alone: GET every tag's manifest once with curl, $NCONN connections"
for ((i = 0; i < REPOS; i++)); do
    for ((k = 0; k < per + (i < extra ? 1 : 0); k++)); do
        printf 'url = "http://%s/v2/bench/app%d/manifests/v%d"\noutput = "/dev/null"\n' "$A" "$i" "$k"
    done
done >"$T/urls.cfg"
reg0=$(cpu_ms "$REG_A_PID")
t0=$(pf_now_ms)
/usr/bin/time -o "$T/curl.time" -f '%U %S' curl -s -Z --parallel-max "$NCONN" \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -w '%{http_code}\n' -K "$T/urls.cfg" >"$T/curl.codes"
ceil_ms=$(($(pf_now_ms) - t0))
ceil_reg_cpu=$(($(cpu_ms "$REG_A_PID") - reg0)) ceil_curl_cpu=$(time_ms "$T/curl.time")
pf_assert_eq "registry alone: every manifest GET answered 200" "$JOBS" "$(grep -c '^200$' "$T/curl.codes")"
pf_ok "$JOBS manifest GETs in $ceil_ms ms"

# ---------------------------------------------------------------------------------------------
pf_say "baseline: patchfleet patch --dry-run --concurrency $LCONC (one host, no Kafka)"
t0=$(pf_now_ms)
PERF=()
# BENCH_PERF=1: profile the baseline (perf.data in the kept temp dir, PF_KEEP=1).
[ "${BENCH_PERF:-0}" = 1 ] && PERF=(perf record -q -g -o "$T/perf.data" --)
reg0=$(cpu_ms "$REG_A_PID")
pf_run 0 "$T/local.json" "$T/local.err" /usr/bin/time -o "$T/local.time" -f '%U %S' \
    "${PERF[@]}" "$PF" patch --config "$T/fleet.yaml" --dry-run \
    --format json --keyring "$T/keyring.gpg" --insecure-registry "$A" \
    --cache-dir "$T/cache-local" --work-dir "$W/work-local" --concurrency "$LCONC"
local_ms=$(($(pf_now_ms) - t0))
local_cpu=$(time_ms "$T/local.time") local_reg_cpu=$(($(cpu_ms "$REG_A_PID") - reg0))
local_n=$(jq '.results | length' "$T/local.json")
local_planned=$(jq '[.results[] | select(.status == "Planned")] | length' "$T/local.json")
pf_assert_eq "local run: one row per job" "$JOBS" "$local_n"
pf_ok "local: $local_n jobs ($local_planned Planned) in $local_ms ms"

# ---------------------------------------------------------------------------------------------
pf_say "fleet: aggregator, $WORKERS workers x $WCONC slots"
pf_spawn "$T/aggregator.log" "$BIN/patchfleet-aggregator" --brokers "$KAFKA_BOOTSTRAP" \
    --redis "$REDIS_URL"
AGG_PID=$PF_LAST_PID
WPIDS=()
for ((i = 1; i <= WORKERS; i++)); do
    pf_spawn "$T/worker$i.log" env PATCHFLEET_LOG=info "$BIN/patchfleet-worker" \
        --brokers "$KAFKA_BOOTSTRAP" --concurrency "$WCONC" --grace 5s \
        --keyring "$T/keyring.gpg" --insecure-registry "$A" \
        --cache-dir "$T/cache-w$i" --work-dir "$W/work-w$i"
    WPIDS+=("$PF_LAST_PID")
done
# Let the group settle (every worker assigned) before jobs arrive.
deadline=$((SECONDS + 60))
until [ "$(grep -l 'assigned' "$T"/worker*.log 2>/dev/null | wc -l)" -ge "$WORKERS" ]; do
    [ "$SECONDS" -lt "$deadline" ] || pf_fail "workers not assigned after 60 s"
    sleep 0.2
done
sleep 1

pf_say "fleet: producer publishes $JOBS jobs; timing until Redis says the run is complete"
FLEET_PIDS=("$REG_A_PID" "$KAFKA_PID" "$PF_REDIS_PID" "$AGG_PID" "${WPIDS[@]}")
cpu0=()
for p in "${FLEET_PIDS[@]}"; do cpu0+=("$(cpu_ms "$p")"); done
t0=$(pf_now_ms)
pf_run 0 "$T/prod.out" "$T/prod.err" /usr/bin/time -o "$T/prod.time" -f '%U %S' \
    "$BIN/patchfleet-producer" --config "$T/fleet.yaml" \
    --brokers "$KAFKA_BOOTSTRAP" --dry-run --insecure-registry "$A"
t_prod=$(pf_now_ms)
prod_ms=$((t_prod - t0))
RUN=$(tail -n 1 "$T/prod.out")
[ -n "$RUN" ] || pf_fail "producer printed no run id"
# Polled twice a second with one redis-cli call (polling every 50 ms cost 8% of the CPU in
# redis-cli and bash processes); the end time is completed_ms itself, the Redis server's clock
# on this host, so the poll interval does not add to the figure.
deadline=$((SECONDS + WAIT_S))
last_report=$SECONDS
while :; do
    done_ms=$(pf_redis_cli HGET "pf:run:{$RUN}:meta" completed_ms)
    [ -n "$done_ms" ] && break
    if [ $((SECONDS - last_report)) -ge 10 ]; then
        printf '   ... %s of %s finished\n' "$(pf_redis_cli HGET "pf:run:{$RUN}:counts" finished)" "$JOBS"
        last_report=$SECONDS
    fi
    for p in "${WPIDS[@]}" "$AGG_PID"; do
        kill -0 "$p" 2>/dev/null || pf_fail "a fleet process ($p) died; logs in $T"
    done
    [ "$SECONDS" -lt "$deadline" ] || pf_fail "run $RUN not complete after ${WAIT_S}s"
    sleep 0.5
done
e2e_ms=$((done_ms - t0))
cpu1=()
for p in "${FLEET_PIDS[@]}"; do cpu1+=("$(cpu_ms "$p")"); done
# The aggregator's rate in the pipeline: results applied between the first result event in the
# run's stream (stream ids are Redis-clock milliseconds) and completed_ms.
first_ms=$(pf_redis_cli XRANGE "pf:run:{$RUN}:events" - + COUNT 1 | head -n 1 | cut -d- -f1)
agg_ms=$((done_ms - first_ms))
"$PF" summary --redis "$REDIS_URL" --run "$RUN" --format json >"$T/summary.json" 2>/dev/null
fleet_n=$(jq '.jobs | length' "$T/summary.json")
fleet_planned=$(jq '.run.counts.Planned // 0' "$T/summary.json")
pf_assert_eq "fleet: one row per job" "$JOBS" "$fleet_n"
pf_assert_eq "fleet: as many Planned as the local run" "$local_planned" "$fleet_planned"
redone=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t patchfleet.results -o beginning -e -q -f '%s\n' 2>/dev/null |
    wc -l)
pf_ok "run $RUN complete: $fleet_n rows, $fleet_planned Planned; $redone result messages"
for i in "${!WPIDS[@]}"; do
    n=$(grep -c 'job [0-9a-f]*: ' "$T/worker$((i + 1)).log" || true)
    pf_ok "worker $((i + 1)): $n job log lines"
done

if [ "${BENCH_DUMP:-0}" = 1 ]; then
    # For the analysis in bench/README.md: every message with its broker timestamp (ms).
    for t in patchfleet.jobs patchfleet.jobs.attempts patchfleet.results; do
        kcat -b "$KAFKA_BOOTSTRAP" -C -t "$t" -o beginning -e -q -f '%T %p %o %s\n' \
            >"$T/dump-$t.txt" 2>/dev/null || true
    done
    pf_ok "topics dumped to $T/dump-*.txt"
fi

# ---------------------------------------------------------------------------------------------
replay_ms=''
if [ "$REPLAY" = 1 ]; then
    pf_say "aggregator alone: replay the results topic into an empty Redis DB"
    kill -TERM "$AGG_PID"
    wait "$AGG_PID" 2>/dev/null || true
    java -Xmx128m -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIBS/*" \
        org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$KAFKA_BOOTSTRAP" \
        --group patchfleet-aggregator --reset-offsets --to-earliest --all-topics --execute \
        >"$T/reset.out" 2>&1 || { cat "$T/reset.out" >&2; pf_fail "cannot reset the aggregator's offsets"; }
    R2="redis://$REDIS_HOST:$REDIS_PORT/1"
    t0=$(pf_now_ms)
    pf_spawn "$T/aggregator2.log" "$BIN/patchfleet-aggregator" --brokers "$KAFKA_BOOTSTRAP" \
        --redis "$R2"
    AGG2_PID=$PF_LAST_PID
    deadline=$((SECONDS + WAIT_S))
    until [ -n "$(redis-cli -u "$R2" --no-auth-warning HGET "pf:run:{$RUN}:meta" completed_ms)" ]; do
        kill -0 "$AGG2_PID" 2>/dev/null || pf_fail "the replay aggregator died"
        [ "$SECONDS" -lt "$deadline" ] || pf_fail "replay not complete after ${WAIT_S}s"
        sleep 0.05
    done
    replay_ms=$(($(pf_now_ms) - t0))
    first2=$(redis-cli -u "$R2" --no-auth-warning XRANGE "pf:run:{$RUN}:events" - + COUNT 1 |
        head -n 1 | cut -d- -f1)
    done2=$(redis-cli -u "$R2" --no-auth-warning HGET "pf:run:{$RUN}:meta" completed_ms)
    replay_apply_ms=$((done2 - first2))
fi

# ---------------------------------------------------------------------------------------------
e2e_rate=$(rate "$JOBS" "$e2e_ms")
local_rate=$(rate "$JOBS" "$local_ms")
printf '\n%s jobs (--dry-run), %s repositories, jobs topic %s partitions, %s workers x %s slots\n' \
    "$JOBS" "$REPOS" "$PARTS" "$WORKERS" "$WCONC"
printf '%-52s %10s %12s\n' measure 'wall ms' 'jobs/s'
printf '%-52s %10d %12s\n' "fleet end to end (producer start -> run complete)" "$e2e_ms" "$e2e_rate"
printf '%-52s %10d %12s\n' "producer (plan + publish + all acks)" "$prod_ms" "$(rate "$JOBS" "$prod_ms")"
printf '%-52s %10d %12s\n' "aggregator in the pipeline (first result -> complete)" "$agg_ms" \
    "$(rate "$JOBS" "$agg_ms")"
if [ -n "$replay_ms" ]; then
    printf '%-52s %10d %12s\n' "aggregator alone, replay (start -> complete)" "$replay_ms" \
        "$(rate "$JOBS" "$replay_ms")"
    printf '%-52s %10d %12s\n' "aggregator alone, replay (first result -> complete)" \
        "$replay_apply_ms" "$(rate "$JOBS" "$replay_apply_ms")"
fi
printf '%-52s %10d %12s\n' "baseline: patchfleet patch --dry-run --concurrency $LCONC" "$local_ms" \
    "$local_rate"
printf '%-52s %10d %12s\n' "registry alone: manifest GETs by curl ($NCONN conns)" "$ceil_ms" \
    "$(rate "$JOBS" "$ceil_ms")"
printf 'ratio fleet / baseline (jobs/s): %s\n' "$(ratio "$e2e_rate" "$local_rate")"
printf 'ratio fleet / registry ceiling (jobs/s): %s\n' \
    "$(ratio "$e2e_rate" "$(rate "$JOBS" "$ceil_ms")")"
# CPU per process during the fleet phase (producer start -> run complete), and per job.
printf '\n%-40s %10s %12s\n' 'CPU during the fleet run' 'CPU ms' 'us/job'
cpu_row() { printf '%-40s %10d %12d\n' "$1" "$2" $(($2 * 1000 / JOBS)); }
names=(docker-registry "kafka broker" redis-server aggregator)
for ((i = 1; i <= WORKERS; i++)); do names+=("worker $i"); done
fleet_cpu=0
for i in "${!FLEET_PIDS[@]}"; do
    d=$((cpu1[i] - cpu0[i]))
    fleet_cpu=$((fleet_cpu + d))
    cpu_row "${names[i]}" "$d"
done
prod_cpu=$(time_ms "$T/prod.time")
fleet_cpu=$((fleet_cpu + prod_cpu))
cpu_row producer "$prod_cpu"
cpu_row "all of the above" "$fleet_cpu"
printf 'CPU use: %s of %s cores over the run\n' "$(ratio "$fleet_cpu" "$e2e_ms")" "$(nproc)"
printf '\n%-40s %10s %12s\n' 'CPU during the baseline run' 'CPU ms' 'us/job'
cpu_row "patchfleet patch" "$local_cpu"
cpu_row docker-registry "$local_reg_cpu"
printf '\n%-40s %10s %12s\n' 'CPU during the registry-alone run' 'CPU ms' 'us/GET'
cpu_row curl "$ceil_curl_cpu"
cpu_row docker-registry "$ceil_reg_cpu"
ncpu=$(nproc)
printf 'registry CPU per manifest GET: %d us, so its GETs alone cap %s cores at %s jobs/s\n' \
    $((ceil_reg_cpu * 1000 / JOBS)) "$ncpu" \
    "$(awk -v c="$ceil_reg_cpu" -v n="$JOBS" -v k="$ncpu" 'BEGIN { printf "%.0f", (c > 0 ? k * 1e6 * n / (c * 1000) : 0) }')"
if [ "$e2e_rate" -ge 5000 ]; then
    echo "goal (>= 5,000 jobs/s end to end): MET"
else
    echo "goal (>= 5,000 jobs/s end to end): NOT MET ($e2e_rate jobs/s)"
fi
