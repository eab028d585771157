#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: kafka redis registry apt deb fleet aggregator
#
# Fleet mode end to end, with real components only: a Kafka broker (KRaft; KAFKA_BOOTSTRAP
# reuses one), redis-server (REDIS_URL reuses one), Debian's docker-registry behind
# fault_proxy.py and a signed apt archive. During the sweeps the proxy delays every manifest
# GET, so each job takes seconds and "mid-run" is real (workers cache the apt indexes, so
# delaying the archive would slow only each worker's first job). Three sweeps of the Debian fixtures (patchfleet-producer -> 3 patchfleet-worker ->
# patchfleet-aggregator -> Redis), each checked with `patchfleet summary` and redis-cli:
#   1. a clean sweep: the Redis summary equals the local run's (`patchfleet patch --dry-run
#      --format json`, the oracle) row for row;
#   2. the aggregator killed -9 and restarted, and redis-server restarted mid-run: every job is
#      counted exactly once and the run completes;
#   3. the broker stopped (SIGSTOP) for a few seconds mid-run: the sweep completes.
# Then `patchfleet patch --push --redis` records a local run whose summary equals its table;
# scanner reports reach the fleet as the producer's verdict; and a fleet --push sweep pushes
# the images the local run pushes (same digests), and its re-run pushes nothing, as locally;
# and with a target repository whose tags cannot be listed (500 on every attempt), the fleet
# fails open and then refuses to overwrite exactly as the local run does.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"
. "$PF_SRC/tests/harness/kafka.sh"
. "$PF_SRC/tests/harness/redis.sh"
pf_require docker-registry skopeo jq curl python3 kcat java redis-server redis-cli
deb_fixture_require
pf_require_cli patch
PRODUCER=$PF_BIN/patchfleet-producer
WORKER=$PF_BIN/patchfleet-worker
AGG=$PF_BIN/patchfleet-aggregator
for b in "$PRODUCER" "$WORKER" "$AGG"; do
    [ -x "$b" ] || pf_fail "$b not built"
done
pf_tmpdir
T=$PF_TMP
# Seconds each manifest GET is held back by the registry proxy during the sweeps.
DELAY=${PF_FLEET_DELAY:-1}

# ---------------------------------------------------------------------------------------------
pf_say "services: kafka broker (KRaft), redis-server"
pf_kafka_start
pf_kafka_topic patchfleet.jobs 6
pf_kafka_topic patchfleet.results 3
pf_kafka_topic patchfleet.runs 1
pf_kafka_topic patchfleet.jobs.attempts 1
pf_kafka_topic patchfleet.jobs.dlq 1
pf_redis_start
pf_ok "broker at $KAFKA_BOOTSTRAP, redis at $REDIS_URL"

pf_say "fixtures: packages, signed archives, http server, registry behind a proxy, images"
deb_archive_demo "$T"
pf_http_start APT "$T/www"
REPO_URL="$HTTP_APT_URL/repo/"
pf_registry_start plain R
# Images are pushed to the registry itself; every patchfleet process reaches it as $A, the proxy.
pf_fault_proxy_start REG "http://$REG_R_ADDR"
A=$PROXY_REG_ADDR
# slow_registry [FACTOR]: every manifest GET waits DELAY * FACTOR seconds.
slow_registry() {
    pf_proxy_rules "$PROXY_REG_URL" \
        "method=GET:path~/manifests/:delay:count=inf:delay=$(awk -v d="$DELAY" -v f="${1:-1}" 'BEGIN { print d * f }')"
}
fast_registry() { pf_proxy_rules "$PROXY_REG_URL"; }
L=$T/layout
R=$REG_R_ADDR
deb_push_demo_images "$L" "$REPO_URL" "$T/keyring.gpg" "$R"
# More tags of demo/full (same manifest): more jobs than the 6 worker slots.
pf_registry_seed_tags "$REG_R_DIR" demo/full "$(pf_manifest_digest "http://$R" demo/full 1.0)" 8 1.0.
pf_ok "images pushed; demo/full has tags 1.0 and 1.0.0 .. 1.0.7; clients use the proxy $A"

deb_demo_config "$T/fleet.yaml" "$A" 'full=^1\.0(\.[0-9]+)?$' multi uptodate distroless ghost
# The options every engine run (local or worker) needs to reach the fixtures.
ENGINE_OPTS=(--keyring "$T/keyring.gpg" --insecure-registry "$A")

# rows FILE: the comparable rows of a JSON summary (local `.results` or Redis `.jobs`), sorted.
# patched_tag is compared as given; a row without one prints "-".
rows() {
    jq -r '(.results // .jobs)[] | [.name, .status, .source, (.patched_tag // "" | if . == "" then "-" else . end),
        (.details // "")] | @tsv' "$1" | sort
}

# ---------------------------------------------------------------------------------------------
pf_say "oracle: the local run of the same config (--dry-run --format json)"
pf_run 1 "$T/oracle.json" "$T/oracle.err" "$PF" patch --config "$T/fleet.yaml" --dry-run \
    --format json "${ENGINE_OPTS[@]}" --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL" \
    --cache-dir "$T/cache-oracle" --work-dir "$T/work-oracle" --concurrency 2
rows "$T/oracle.json" >"$T/oracle.rows"
N=$(wc -l <"$T/oracle.rows")
[ "$N" -ge 12 ] || pf_fail "oracle has $N rows, expected at least 12: $(cat "$T/oracle.rows")"
pf_ok "oracle: $N rows ($(cut -f2 "$T/oracle.rows" | sort | uniq -c | tr -s ' ' | tr '\n' ','))"

# ---------------------------------------------------------------------------------------------
pf_say "fleet: aggregator and three workers"
start_aggregator() {
    pf_spawn "$T/agg$1.log" "$AGG" --brokers "$KAFKA_BOOTSTRAP" --redis "$REDIS_URL" --log-level info
    AGG_PID=$PF_LAST_PID
}
start_worker() {
    local i=$1
    pf_spawn "$T/worker$i.log" env PATCHFLEET_LOG=info "$WORKER" --brokers "$KAFKA_BOOTSTRAP" \
        --concurrency 2 --grace 5s "${ENGINE_OPTS[@]}" \
        --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL" \
        --cache-dir "$T/cache-w$i" --work-dir "$T/work-w$i"
    eval "W$i=$PF_LAST_PID"
}
start_aggregator 1
start_worker 1
start_worker 2
start_worker 3
# Let the group form before jobs arrive, so the first assignment spreads the partitions.
pf_kafka_wait_assigned "$T/worker1.log" "$T/worker2.log" "$T/worker3.log"

# produce NAME: publishes the sweep; the run id in $RUN.
produce() {
    pf_run 0 "$T/prod-$1.out" "$T/prod-$1.err" "$PRODUCER" --config "$T/fleet.yaml" \
        --brokers "$KAFKA_BOOTSTRAP" --dry-run --insecure-registry "$A" --timeout 2m
    RUN=$(tail -n 1 "$T/prod-$1.out")
    [ -n "$RUN" ] || pf_fail "producer printed no run id: $(cat "$T/prod-$1.err")"
}
hget() { pf_redis_cli HGET "$1" "$2"; }
finished() { hget "pf:run:{$1}:counts" finished 2>/dev/null || true; }
# wait_started RUN COUNT: until COUNT results of RUN are in Redis (so the sweep is under way,
# with jobs still running), bounded by 60 s.
wait_started() {
    local deadline=$((SECONDS + 60)) f
    while :; do
        f=$(finished "$1")
        [ "${f:-0}" -ge "$2" ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || pf_fail "run $1: $f of $2 results after 60 s"
        sleep 0.2
    done
}
# wait_complete RUN SECONDS: until the run is complete in Redis.
wait_complete() {
    local deadline=$((SECONDS + $2))
    until [ -n "$(hget "pf:run:{$1}:meta" completed_ms 2>/dev/null || true)" ]; do
        [ "$SECONDS" -lt "$deadline" ] ||
            pf_fail "run $1 not complete after $2 s: $(finished "$1") of $N results"
        sleep 0.5
    done
}
# check_counts RUN: redis-cli as the oracle: expected = finished = HLEN jobs = sum of the status
# counts = N, each job once.
check_counts() {
    local r=$1 sum
    pf_assert_eq "run $r: expected in meta" "$N" "$(hget "pf:run:{$r}:meta" expected)"
    pf_assert_eq "run $r: finished count" "$N" "$(hget "pf:run:{$r}:counts" finished)"
    pf_assert_eq "run $r: rows in the jobs hash" "$N" "$(pf_redis_cli HLEN "pf:run:{$r}:jobs")"
    sum=$(pf_redis_cli HGETALL "pf:run:{$r}:counts" | paste - - | awk '$1 != "finished" { s += $2 } END { print s + 0 }')
    pf_assert_eq "run $r: status counts add up to the jobs, each once" "$N" "$sum"
}

# check_summary RUN NAME: `patchfleet summary --format json` of RUN has the oracle's rows and
# counts. Exit 1 is right: the sweep has a Failed row (the missing repository), as locally.
check_summary() {
    local r=$1 s="$T/sum-$2"
    pf_run 1 "$s.json" "$s.err" "$PF" summary --redis "$REDIS_URL" --run "$r" --format json
    rows "$s.json" >"$s.rows"
    if ! diff -u "$T/oracle.rows" "$s.rows" >"$s.diff"; then
        cat "$s.diff" >&2
        pf_fail "Redis summary of run $r differs from the local run (name, status, source, patched_tag, details)"
    fi
    pf_ok "run $r: summary --format json rows equal the local run's, row for row ($N rows)"
    pf_assert_eq "run $r: summary counts equal the local run's" \
        "$(jq -c '[.results[].status] | group_by(.) | map({(.[0]): length}) | add' "$T/oracle.json")" \
        "$(jq -c '.run.counts | del(.finished)' "$s.json")"
    pf_assert_eq "run $r: summary says complete, $N of $N" "true $N $N" \
        "$(jq -r '"\(.run.state == "complete") \(.run.expected) \(.run.finished)"' "$s.json")"
}

# ---------------------------------------------------------------------------------------------
pf_say "1. clean sweep: the Redis summary equals the local run"
slow_registry
START=$SECONDS
produce clean
RUN1=$RUN
wait_complete "$RUN1" 120
pf_ok "run $RUN1 complete in $((SECONDS - START)) s"
# Exit 1: the sweep has a Failed row (the missing repository), as the local run's exit 1.
check_summary "$RUN1" clean
check_counts "$RUN1"

# ---------------------------------------------------------------------------------------------
pf_say "2. redis-server restarted and the aggregator killed -9 and restarted, mid-run"
# Slower jobs: the restarted aggregator waits for its dead predecessor's session to expire
# (10 s) before it gets the partitions, and the sweep must still be running then.
slow_registry 2
START=$SECONDS
produce faults
RUN2=$RUN
wait_started "$RUN2" 2
if [ "$PF_REDIS_OWNED" = 1 ]; then
    f=$(finished "$RUN2")
    pf_redis_restart 2
    [ "$f" -lt "$N" ] || pf_fail "run $RUN2 already had all $N results before redis-server was restarted"
    pf_ok "redis-server stopped for 2 s with $f of $N results, started again on the same port and data dir"
    wait_started "$RUN2" $((f + 1))
else
    pf_say "REDIS_URL given: not restarting a server this test does not own"
fi
f=$(finished "$RUN2")
kill -9 "$AGG_PID"
wait "$AGG_PID" 2>/dev/null || true
[ "$f" -lt "$N" ] || pf_fail "run $RUN2 already had all $N results before the aggregator was killed"
pf_ok "aggregator killed -9 with $f of $N results in Redis"
sleep 1
start_aggregator 2
wait_complete "$RUN2" 150
pf_ok "run $RUN2 complete in $((SECONDS - START)) s"
check_counts "$RUN2"
check_summary "$RUN2" faults

# ---------------------------------------------------------------------------------------------
pf_say "3. the Kafka broker stopped for 6 s mid-run"
if [ -n "${KAFKA_PID:-}" ]; then
    slow_registry 1.5
    START=$SECONDS
    produce broker
    RUN3=$RUN
    wait_started "$RUN3" 2
    f=$(finished "$RUN3")
    kill -STOP "$KAFKA_PID"
    sleep 6
    kill -CONT "$KAFKA_PID"
    [ "$f" -lt "$N" ] || pf_fail "run $RUN3 already had all $N results when the broker was stopped"
    pf_ok "broker SIGSTOPped for 6 s with $f of $N results in Redis, then SIGCONTed"
    wait_complete "$RUN3" 150
    pf_ok "run $RUN3 complete in $((SECONDS - START)) s"
    check_counts "$RUN3"
    check_summary "$RUN3" broker
else
    pf_say "KAFKA_BOOTSTRAP given: not stopping a broker this test does not own"
fi

# ---------------------------------------------------------------------------------------------
pf_say "4. patchfleet patch --push --redis: the local run recorded in Redis"
fast_registry
pf_run 1 "$T/local.out" "$T/local.err" "$PF" patch --config "$T/fleet.yaml" --push \
    "${ENGINE_OPTS[@]}" --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL" \
    --cache-dir "$T/cache-oracle" --work-dir "$T/work-local" --concurrency 2 --redis "$REDIS_URL"
LRUN=$(sed -n 's/^patchfleet: run \(.*\) recorded in redis$/\1/p' "$T/local.err")
[ -n "$LRUN" ] || pf_fail "patch --redis printed no run id: $(tail -n 5 "$T/local.err")"
grep -q 'Patched' "$T/local.out" || pf_fail "the push run patched nothing: $(cat "$T/local.out")"
pf_run 1 "$T/lsum.out" "$T/lsum.err" "$PF" summary --redis "$REDIS_URL" --run "$LRUN"
if ! diff -u "$T/local.out" "$T/lsum.out" >"$T/lsum.diff"; then
    cat "$T/lsum.diff" >&2
    pf_fail "summary of the local run $LRUN differs from the table patch printed"
fi
pf_ok "run $LRUN: summary table equals the table patch --push printed ($(grep -c Patched "$T/local.out") Patched rows)"
pf_assert_eq "run $LRUN: recorded as a push run" push "$(hget "pf:run:{$LRUN}:meta" mode)"
pf_assert_eq "pf:latest is the local run" "$LRUN" "$(pf_redis_cli GET pf:latest)"
N_LOCAL=$(($(wc -l <"$T/local.out") - 1))
pf_assert_eq "run $LRUN: one row per job in Redis" "$N_LOCAL" "$(pf_redis_cli HLEN "pf:run:{$LRUN}:jobs")"

# ---------------------------------------------------------------------------------------------
pf_say "5. scanner reports through the fleet: the producer's skip verdict, as the local run decides"
# demo/full:1.0-patched now exists (step 4) and a clean Trivy report says it has nothing fixable:
# the job of demo/full:1.0 must be Skipped by the fleet exactly as by the local run.
mkdir -p "$T/reports"
printf '{"SchemaVersion": 2, "ArtifactName": "%s/demo/full:1.0-patched", "ArtifactType": "container_image"}\n' \
    "$A" >"$T/reports/full.json"
pf_run 1 "$T/roracle.json" "$T/roracle.err" "$PF" patch --config "$T/fleet.yaml" --dry-run \
    --format json -r "$T/reports" "${ENGINE_OPTS[@]}" \
    --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL" --cache-dir "$T/cache-oracle" \
    --work-dir "$T/work-roracle" --concurrency 2
pf_assert_eq "local run with -r: demo/full:1.0 is Skipped as 1.0-patched" \
    "Skipped 1.0-patched no fixable vulnerabilities" \
    "$(jq -r --arg s "$A/demo/full:1.0" '.results[] | select(.source == $s) |
        "\(.status) \(.patched_tag) \(.details)"' "$T/roracle.json")"
pf_run 0 "$T/prod-reports.out" "$T/prod-reports.err" "$PRODUCER" --config "$T/fleet.yaml" \
    --brokers "$KAFKA_BOOTSTRAP" --dry-run --insecure-registry "$A" --timeout 2m -r "$T/reports"
RUN5=$(tail -n 1 "$T/prod-reports.out")
wait_complete "$RUN5" 120
"$PF" summary --redis "$REDIS_URL" --run "$RUN5" --format json >"$T/sum-reports.json" 2>/dev/null || true
rows "$T/roracle.json" >"$T/roracle.rows"
rows "$T/sum-reports.json" >"$T/fleet-reports.rows"
if ! diff -u "$T/roracle.rows" "$T/fleet-reports.rows" >"$T/reports.diff"; then
    cat "$T/reports.diff" >&2
    pf_fail "fleet run $RUN5 with -r differs from the local run with -r"
fi
pf_ok "run $RUN5: the fleet's rows with -r equal the local run's (the skip decided by the producer)"

# ---------------------------------------------------------------------------------------------
pf_say "6. fleet --push: the images the workers push equal the local run's; a nightly re-run pushes nothing"
# A target tag of its own, so the fleet patches from scratch: {{ .SourceTag }}-fleet.
{ cat "$T/fleet.yaml"; printf 'target:\n  tag: "{{ .SourceTag }}-fleet"\n'; } >"$T/fleet-push.yaml"
# push_sweep NAME CONFIG: a fleet --push sweep of CONFIG, waited for; its run id in $RUN, its
# summary in $T/sum-NAME.json and its rows in $T/sum-NAME.rows.
push_sweep() {
    pf_run 0 "$T/prod-$1.out" "$T/prod-$1.err" "$PRODUCER" --config "$2" \
        --brokers "$KAFKA_BOOTSTRAP" --push --insecure-registry "$A" --timeout 2m
    RUN=$(tail -n 1 "$T/prod-$1.out")
    wait_complete "$RUN" 120
    "$PF" summary --redis "$REDIS_URL" --run "$RUN" --format json >"$T/sum-$1.json" 2>/dev/null || true
    rows "$T/sum-$1.json" >"$T/sum-$1.rows"
}
push_sweep push1 "$T/fleet-push.yaml"
# Reproducible layers: every image a worker pushed has the digest of the one patch --push
# pushed in step 4 for the same source (skopeo reads both).
n=0
for src in full:1.0 full:1.0.3 multi:1.0 distroless:1.0; do
    repo=${src%%:*} tag=${src#*:}
    pf_assert_eq "run $RUN: demo/$src as ${tag}-fleet is Patched" Patched \
        "$(jq -r --arg s "$A/demo/$src" '.jobs[] | select(.source == $s) | .status' "$T/sum-push1.json")"
    pf_assert_eq "demo/$repo:${tag}-fleet (fleet) = demo/$repo:${tag}-patched (local run)" \
        "$(skopeo inspect --raw --tls-verify=false "docker://$R/demo/$repo:${tag}-patched" | sha256sum)" \
        "$(skopeo inspect --raw --tls-verify=false "docker://$R/demo/$repo:${tag}-fleet" | sha256sum)"
    n=$((n + 1))
done
pf_ok "run $RUN: $n pushed images byte-identical to the local run's"
# The oracle of a re-run: the local run of the same config, now that the -fleet tags exist.
pf_run 1 "$T/again.json" "$T/again.err" "$PF" patch --config "$T/fleet-push.yaml" --push \
    --format json "${ENGINE_OPTS[@]}" --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL" \
    --cache-dir "$T/cache-oracle" --work-dir "$T/work-again" --concurrency 2
rows "$T/again.json" >"$T/again.rows"
pf_assert_eq "local re-run: demo/full:1.0 unchanged since 1.0-fleet" \
    "Skipped 1.0-fleet unchanged since 1.0-fleet" \
    "$(jq -r --arg s "$A/demo/full:1.0" '.results[] | select(.source == $s) |
        "\(.status) \(.patched_tag) \(.details)"' "$T/again.json")"
push_sweep push2 "$T/fleet-push.yaml"
if ! diff -u "$T/again.rows" "$T/sum-push2.rows" >"$T/push2.diff"; then
    cat "$T/push2.diff" >&2
    pf_fail "fleet re-run $RUN with --push differs from the local re-run"
fi
pf_assert_eq "no versioned -fleet-N tag was minted by either re-run" "" \
    "$(skopeo list-tags --tls-verify=false "docker://$R/demo/full" | jq -r '.Tags[]' | grep -- '-fleet-' || true)"
pf_ok "run $RUN: the fleet's re-run rows equal the local re-run's (Skipped, unchanged; nothing pushed)"

# ---------------------------------------------------------------------------------------------
pf_say "7. the target repository cannot be listed: the fleet fails open as the local run does"
# demo/multi patched into demo/multi-ff, whose tags/list answers 500 (through the proxy) on every
# attempt: the tag cannot be versioned, so the job patches as the base tag with a warning, and
# the overwrite check at push time still guards an existing tag (docs/patch-command.md).
cat >"$T/ff.yaml" <<EOF2
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: multi
    image: "$A/demo/multi"
    tags:
      strategy: list
      list: ["1.0"]
    target:
      repository: "$A/demo/multi-ff"
EOF2
pf_proxy_rules "$PROXY_REG_URL" "method=GET:path~/v2/demo/multi-ff/tags/list:500:count=inf"
push_sweep ff1 "$T/ff.yaml"
pf_assert_eq "run $RUN: Patched as the base tag 1.0-patched" "Patched 1.0-patched" \
    "$(jq -r '.jobs[0] | "\(.status) \(.patched_tag)"' "$T/sum-ff1.json")"
case "$(jq -r '.jobs[0].details' "$T/sum-ff1.json")" in
"OK; warning: "*"demo/multi-ff"*) pf_ok "run $RUN: DETAILS carries the fail-open warning" ;;
*) pf_fail "run $RUN: no fail-open warning in DETAILS: $(jq -r '.jobs[0].details' "$T/sum-ff1.json")" ;;
esac
pf_assert_eq "demo/multi-ff:1.0-patched (fleet) = demo/multi:1.0-patched (local run, step 4)" \
    "$(skopeo inspect --raw --tls-verify=false "docker://$R/demo/multi:1.0-patched" | sha256sum)" \
    "$(skopeo inspect --raw --tls-verify=false "docker://$R/demo/multi-ff:1.0-patched" | sha256sum)"
# Now the base tag exists and still cannot be listed: both runs must refuse to overwrite it.
pf_run 1 "$T/ff-local.json" "$T/ff-local.err" "$PF" patch --config "$T/ff.yaml" --push \
    --format json "${ENGINE_OPTS[@]}" --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL" \
    --cache-dir "$T/cache-oracle" --work-dir "$T/work-ff" --concurrency 2
rows "$T/ff-local.json" >"$T/ff-local.rows"
case "$(cut -f2,5 "$T/ff-local.rows")" in
"Failed"*"exists already"*"not overwritten; warning: "*) pf_ok "local run: Failed, not overwritten, with the warning" ;;
*) pf_fail "local run over an unlistable repository: $(cat "$T/ff-local.rows")" ;;
esac
push_sweep ff2 "$T/ff.yaml"
if ! diff -u "$T/ff-local.rows" "$T/sum-ff2.rows" >"$T/ff2.diff"; then
    cat "$T/ff2.diff" >&2
    pf_fail "fleet run $RUN over an unlistable repository differs from the local run"
fi
pf_ok "run $RUN: the fleet's row equals the local run's (Failed, not overwritten, same warning)"
fast_registry

pf_say "8. a worker killed right after its push: the redone job is Patched with the tag it pushed"
# Issue #14 item 6. The three workers leave; a worker with the test-only fault
# PATCHFLEET_TEST_KILL_AFTER_PUSH (it raises SIGKILL right after a push, before its result)
# takes the sweep alone, pushes demo/multi-k9:1.0-patched and dies; a normal worker then redoes
# the job (attempt 2). A run without the fault says Patched 1.0-patched: so must this one, and
# no second tag may be minted (the redone job must not call the tag it pushed itself
# "unchanged since").
for w in "$W1" "$W2" "$W3"; do kill -TERM "$w" 2>/dev/null || true; done
for w in "$W1" "$W2" "$W3"; do wait "$w" 2>/dev/null || true; done
sed 's|multi-ff|multi-k9|' "$T/ff.yaml" >"$T/k9.yaml"
pf_spawn "$T/worker4.log" env PATCHFLEET_LOG=info PATCHFLEET_TEST_KILL_AFTER_PUSH=1 "$WORKER" \
    --brokers "$KAFKA_BOOTSTRAP" --concurrency 1 --grace 5s "${ENGINE_OPTS[@]}" \
    --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL" --cache-dir "$T/cache-w4" --work-dir "$T/work-w4"
W4=$PF_LAST_PID
pf_kafka_wait_assigned "$T/worker4.log"
pf_run 0 "$T/prod-k9.out" "$T/prod-k9.err" "$PRODUCER" --config "$T/k9.yaml" \
    --brokers "$KAFKA_BOOTSTRAP" --push --insecure-registry "$A" --timeout 2m
RUN=$(tail -n 1 "$T/prod-k9.out")
for _ in $(seq 1 600); do kill -0 "$W4" 2>/dev/null || break; sleep 0.2; done
kill -0 "$W4" 2>/dev/null && pf_fail "worker 4 did not die after its push: $(tail -5 "$T/worker4.log")"
pf_assert_eq "worker 4 pushed demo/multi-k9:1.0-patched before dying" 1.0-patched \
    "$(skopeo list-tags --tls-verify=false "docker://$R/demo/multi-k9" | jq -r '.Tags | join(" ")')"
start_worker 5
wait_complete "$RUN" 120
"$PF" summary --redis "$REDIS_URL" --run "$RUN" --format json >"$T/sum-k9.json" 2>/dev/null || true
pf_assert_eq "run $RUN: the redone job is Patched 1.0-patched, OK" "Patched 1.0-patched OK" \
    "$(jq -r '.jobs[0] | "\(.status) \(.patched_tag) \(.details)"' "$T/sum-k9.json")"
att=$(pf_redis_cli HVALS "pf:run:{$RUN}:jobs" | jq -r '.attempt // 1')
[ "$att" -ge 2 ] || pf_fail "run $RUN: the job was not redone (attempt $att)"
pf_assert_eq "no second tag minted" 1.0-patched \
    "$(skopeo list-tags --tls-verify=false "docker://$R/demo/multi-k9" | jq -r '.Tags | join(" ")')"
pf_ok "run $RUN: attempt $att reports the push of the attempt that died as Patched"
