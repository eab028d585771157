#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: kafka registry apt deb fleet
#
# Fleet mode over a real Kafka broker (KRaft, from Maven Central; KAFKA_BOOTSTRAP reuses one):
# patchfleet-producer publishes a dry-run sweep of the Debian fixtures (several tags of one
# image, plus up-to-date, distroless and multi-platform images and a repository that does not
# exist), three patchfleet-worker processes run it, and the results read back from
# patchfleet.results with kcat must be one per job with the statuses the local run
# (`patchfleet patch --dry-run --format json`, the oracle) gives for the same config. The
# workers reach the apt archive through a proxy that delays every InRelease by 3 s, so jobs are
# slow enough to kill -9 one worker while it runs a job: every job must still get its result.
# Then a poison job (recorded as started 3 times by workers that died) must end in the DLQ.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"
. "$PF_SRC/tests/harness/kafka.sh"
pf_require docker-registry skopeo jq curl python3 kcat java
deb_fixture_require
pf_require_cli patch
PRODUCER=$PF_BIN/patchfleet-producer
WORKER=$PF_BIN/patchfleet-worker
[ -x "$PRODUCER" ] && [ -x "$WORKER" ] || pf_fail "patchfleet-producer / patchfleet-worker not built"
pf_tmpdir
T=$PF_TMP

# ---------------------------------------------------------------------------------------------
pf_say "kafka broker (KRaft) and topics"
pf_kafka_start
pf_kafka_topic patchfleet.jobs 6
pf_kafka_topic patchfleet.results 3
pf_kafka_topic patchfleet.runs 1
pf_kafka_topic patchfleet.jobs.attempts 1
pf_kafka_topic patchfleet.jobs.dlq 1
pf_ok "broker at $KAFKA_BOOTSTRAP"

pf_say "fixtures: packages, signed archives, http server, slow proxy, registry, images"
deb_archive_demo "$T"
pf_http_start APT "$T/www"
pf_fault_proxy_start SLOW "$HTTP_APT_URL" --rule 'path~InRelease:delay:count=100000:delay=3'
REPO_URL="$HTTP_APT_URL/repo/"
pf_registry_start plain A
A=$REG_A_ADDR
L=$T/layout
deb_push_demo_images "$L" "$REPO_URL" "$T/keyring.gpg" "$A"
# More tags of demo/full (same manifest): more jobs than worker slots.
pf_registry_seed_tags "$REG_A_DIR" demo/full "$(pf_manifest_digest "http://$A" demo/full 1.0)" 8 1.0.
pf_ok "images pushed; demo/full has tags 1.0 and 1.0.0 .. 1.0.7"

deb_demo_config "$T/fleet.yaml" "$A" 'full=^1\.0(\.[0-9]+)?$' multi uptodate distroless ghost

# ---------------------------------------------------------------------------------------------
pf_say "oracle: the local run of the same config"
pf_run 1 "$T/oracle.json" "$T/oracle.err" "$PF" patch --config "$T/fleet.yaml" --dry-run \
    --format json --keyring "$T/keyring.gpg" --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL" \
    --insecure-registry "$A" --cache-dir "$T/cache-oracle" --work-dir "$T/work-oracle" \
    --concurrency 2
jq -r '.results[] | [.name, .source, .status] | @tsv' "$T/oracle.json" | sort >"$T/oracle.rows"
N=$(wc -l <"$T/oracle.rows")
[ "$N" -ge 12 ] || pf_fail "oracle has $N rows, expected at least 12: $(cat "$T/oracle.rows")"
pf_ok "oracle: $N rows ($(cut -f3 "$T/oracle.rows" | sort | uniq -c | tr -s ' ' | tr '\n' ','))"

# ---------------------------------------------------------------------------------------------
pf_say "fleet: three workers, producer publishes the sweep"
start_worker() {
    local i=$1
    pf_spawn "$T/worker$i.log" env PATCHFLEET_LOG=info "$WORKER" --brokers "$KAFKA_BOOTSTRAP" \
        --concurrency 2 --grace 5s --keyring "$T/keyring.gpg" \
        --pkg-mirror "http://deb.debian.org=$PROXY_SLOW_URL" \
        --pkg-mirror "$HTTP_APT_URL=$PROXY_SLOW_URL" --insecure-registry "$A" \
        --cache-dir "$T/cache-w$i" --work-dir "$T/work-w$i" --http 127.0.0.1:0
    eval "W$i=$PF_LAST_PID"
}
start_worker 1
start_worker 2
start_worker 3
# Let the group form before jobs arrive, so the first assignment spreads the partitions.
pf_kafka_wait_assigned "$T/worker1.log" "$T/worker2.log" "$T/worker3.log"
pf_run 0 "$T/prod.out" "$T/prod.err" "$PRODUCER" --config "$T/fleet.yaml" \
    --brokers "$KAFKA_BOOTSTRAP" --dry-run --insecure-registry "$A" --timeout 2m
RUN=$(tail -n 1 "$T/prod.out")
[ -n "$RUN" ] || pf_fail "producer printed no run id: $(cat "$T/prod.err")"
pf_ok "producer: run $RUN published"
pf_kafka_consume patchfleet.runs 1 20 >"$T/run.json"
pf_assert_eq "run message: expected = oracle rows" "$N" "$(jq -r '.expected' "$T/run.json")"
pf_assert_eq "run message: run id" "$RUN" "$(jq -r '.run_id' "$T/run.json")"

pf_say "kill -9 a worker while it runs a job"
victim=''
for _ in $(seq 1 150); do
    for i in 1 2 3; do
        if grep -q "job [0-9a-f]*: " "$T/worker$i.log"; then
            victim=$i
            break 2
        fi
    done
    sleep 0.1
done
[ -n "$victim" ] || pf_fail "no worker started a job within 15 s"
vpid_var="W$victim"
kill -9 "${!vpid_var}"
KILLED_JOB=$(grep -o "job [0-9a-f]*: " "$T/worker$victim.log" | tail -n 1 | cut -d' ' -f2 | tr -d :)
pf_ok "killed worker $victim (pid ${!vpid_var}) during job $KILLED_JOB"

pf_say "results: one per job, as the oracle"
deadline=$((SECONDS + 120))
while :; do
    timeout 10 kcat -b "$KAFKA_BOOTSTRAP" -C -t patchfleet.results -o beginning -e -q \
        -f '%s\n' 2>/dev/null | jq -c --arg r "$RUN" 'select(.run_id == $r)' >"$T/results.jsonl" || true
    got=$(jq -r '.job_id' "$T/results.jsonl" | sort -u | wc -l)
    [ "$got" -ge "$N" ] && break
    [ "$SECONDS" -lt "$deadline" ] || pf_fail "only $got of $N results after 120 s"
    sleep 2
done
pf_assert_eq "distinct job ids in results" "$N" "$got"
# The last result of each job (a redone job may have two).
jq -s -r 'group_by(.job_id) | map(.[-1]) | .[] | [.name, .source, .status] | @tsv' \
    "$T/results.jsonl" | sort >"$T/fleet.rows"
if ! diff -u "$T/oracle.rows" "$T/fleet.rows" >"$T/rows.diff"; then
    cat "$T/rows.diff" >&2
    pf_fail "fleet results differ from the local run"
fi
pf_ok "fleet statuses equal the local run's, row for row"
# The plans too: the workers answer repeated manifests from their dry-run plan cache, the
# oracle plans every job from scratch (patch_job.h, worker_plan_cache_new).
plan_rows='select(.status == "Planned" or .status == "UpToDate") | [.name, .source, .status,
    .details, ([.platforms[] | [.platform, .os, ([.upgrades[] | [.name, .arch, .from, .to]])]]
    | tojson)] | @tsv'
jq -r ".results[] | $plan_rows" "$T/oracle.json" | sort >"$T/oracle.plans"
jq -s -r "group_by(.job_id) | map(.[-1]) | .[] | $plan_rows" "$T/results.jsonl" | sort \
    >"$T/fleet.plans"
[ "$(grep -c 'to upgrade' "$T/oracle.plans")" -ge 2 ] || pf_fail "oracle: fewer than 2 plans"
if ! diff -u "$T/oracle.plans" "$T/fleet.plans" >"$T/plans.diff"; then
    cat "$T/plans.diff" >&2
    pf_fail "fleet plans differ from the local run's"
fi
pf_ok "fleet plans (os, upgrades, details) equal the local run's, row for row"
pf_assert_eq "results of one job agree with each other" 0 \
    "$(jq -s '[group_by(.job_id)[] | map(.status) | unique | select(length > 1)] | length' \
        "$T/results.jsonl")"
pf_assert_eq "the killed job was redone with attempt >= 2" true \
    "$(jq -s --arg j "$KILLED_JOB" '[.[] | select(.job_id == $j) | .attempt] | max >= 2' \
        "$T/results.jsonl")"
pf_assert_eq "every result names its worker" 0 \
    "$(jq -s '[.[] | select(.worker == null or .worker == "")] | length' "$T/results.jsonl")"

pf_say "worker /metrics and /healthz (--http): counts agree with the results topic"
for i in 1 2 3; do
    [ "$i" = "$victim" ] && continue
    vpid_var="W$i"
    url=$(grep -o 'listening on http://[^ ]*' "$T/worker$i.log" | head -n 1 | cut -d' ' -f3)
    [ -n "$url" ] || pf_fail "worker $i printed no --http address"
    pf_assert_eq "worker $i: /healthz" ok "$(curl -fsS "$url/healthz")"
    curl -fsS "$url/metrics" >"$T/metrics$i.txt" || pf_fail "worker $i: GET /metrics failed"
    published=$(awk '/^patchfleet_worker_results_total/ { s += $2 } END { print s + 0 }' "$T/metrics$i.txt")
    pf_assert_eq "worker $i: results_total equals its results on the topic" \
        "$(jq -s --arg p ":${!vpid_var}" '[.[] | select(.worker | endswith($p))] | length' \
            "$T/results.jsonl")" "$published"
    pf_assert_eq "worker $i: no job in flight" 0 \
        "$(awk '/^patchfleet_worker_jobs_in_flight/ { print $2 }' "$T/metrics$i.txt")"
    # Only jobs that read an image's layers download blobs: a worker whose only job was the
    # missing demo/ghost (Failed at its manifest) rightly downloaded nothing.
    planned=$(jq -s --arg p ":${!vpid_var}" \
        '[.[] | select((.worker | endswith($p)) and (.status == "Planned" or .status == "UpToDate"))] | length' \
        "$T/results.jsonl")
    [ "$(awk '/^patchfleet_worker_blob_cache_misses_total/ { print $2 }' "$T/metrics$i.txt")" -gt 0 ] ||
        [ "$planned" = 0 ] || pf_fail "worker $i planned $planned jobs but its blob cache never downloaded"
done
pf_ok "worker metrics agree with what they published"

pf_say "poison job: started --max-attempts times without a result, it goes to the DLQ"
# Three starts of the job by workers that died (as kill -9 leaves them) are recorded in the
# attempts topic before the job is published; the next start would be attempt 4 > 3.
pf_kafka_consume patchfleet.jobs "$N" 20 | jq -c 'select(.name == "uptodate")' | head -n 1 >"$T/up.json"
PRUN=poison-$$
PJOB=$(printf '%s\n%s\n%s:%s' "$PRUN" "$(jq -r .source "$T/up.json")" \
    "$(jq -r .target_repo "$T/up.json")" "$(jq -r .target_tag "$T/up.json")" | sha256sum | cut -d' ' -f1)
for n in 1 2 3; do printf '%s %s dead-worker:%s\n' "$PJOB" "$n" "$n"; done |
    kcat -b "$KAFKA_BOOTSTRAP" -P -t patchfleet.jobs.attempts -p 0
cat >"$T/poison.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: uptodate
    image: "$A/demo/uptodate"
    tags:
      strategy: list
      list: ["1.0"]
EOF
pf_run 0 "$T/prod2.out" "$T/prod2.err" "$PRODUCER" --config "$T/poison.yaml" \
    --brokers "$KAFKA_BOOTSTRAP" --dry-run --insecure-registry "$A" --run-id "$PRUN"
deadline=$((SECONDS + 60))
while :; do
    timeout 10 kcat -b "$KAFKA_BOOTSTRAP" -C -t patchfleet.results -o beginning -e -q \
        -f '%s\n' 2>/dev/null | jq -c --arg r "$PRUN" 'select(.run_id == $r)' >"$T/poison.jsonl" || true
    [ -s "$T/poison.jsonl" ] && break
    [ "$SECONDS" -lt "$deadline" ] || pf_fail "no result for the poison job after 60 s"
    sleep 1
done
pf_assert_eq "poison job: result under the computed job id" "$PJOB" \
    "$(jq -r .job_id "$T/poison.jsonl" | head -n 1)"
pf_assert_eq "poison job: Failed at attempt 4" "Failed 4" \
    "$(jq -r '"\(.status) \(.attempt)"' "$T/poison.jsonl" | head -n 1)"
pf_assert_contains "poison job: the reason names the DLQ" \
    "moved to patchfleet.jobs.dlq after 3 attempts" "$T/poison.jsonl"
pf_kafka_consume patchfleet.jobs.dlq 1 20 >"$T/dlq.json"
pf_assert_eq "poison job: its message is in patchfleet.jobs.dlq" "$PJOB" "$(jq -r .job_id "$T/dlq.json")"

pf_say "SIGTERM: workers leave cleanly"
for i in 1 2 3; do
    [ "$i" = "$victim" ] && continue
    vpid_var="W$i"
    kill -TERM "${!vpid_var}"
done
for i in 1 2 3; do
    [ "$i" = "$victim" ] && continue
    vpid_var="W$i"
    rc=0
    wait "${!vpid_var}" || rc=$?
    pf_assert_eq "worker $i exits 0 after SIGTERM" 0 "$rc"
done
