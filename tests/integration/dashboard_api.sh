#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: redis aggregator dashboard registry apt deb
#
# The aggregator's HTTP side against a real redis-server holding two runs: a complete one
# recorded by a real local sweep (`patchfleet patch --push --redis` over the Debian fixtures:
# demo/full Patched, demo/uptodate UpToDate, a missing repository Failed, with its discovery
# warning), and an in-progress one written through tests/tools/pf_store_feed (a real sweep
# cannot be caught half-done reliably). patchfleet-aggregator runs with --no-kafka --http
# 127.0.0.1:0, and curl + jq check every endpoint and error (404 unknown run, 400 bad filter,
# 405 other methods, 503 with Redis down and recovery when it is back) against the rows
# redis-cli reads. /metrics is read by a strict parser of the Prometheus text format 0.0.4
# (python3, below) and its values checked against the stored durations; headless Chromium
# loads the dashboard, the DOM after its scripts ran must show the run, its counts and a job
# row, and a screenshot is saved as $PF_BUILD/test-output/dashboard.png.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/redis.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"
pf_require redis-server redis-cli jq curl python3 docker-registry skopeo
deb_fixture_require
pf_require_cli patch
pf_tmpdir
AGG=${PF_BIN:?}/patchfleet-aggregator
FEED=$PF_BIN/pf_store_feed
[ -x "$AGG" ] || pf_fail "no patchfleet-aggregator at $AGG (build target patchfleet-aggregator)"
[ -x "$FEED" ] || pf_fail "no pf_store_feed at $FEED (build target pf_store_feed)"
OUT_DIR=${PF_BUILD:-$PF_TMP}/test-output
mkdir -p "$OUT_DIR"
T=$PF_TMP

pf_say "fixtures: packages, signed archive, registry, images"
deb_build_all "$T/debs"
apt_gpg_home "$T/gnupg"
apt_export_keyring "$T/keyring.gpg"
deb_repo_suite "$T/www/repo" stable "amd64 arm64" "$T/debs/v2"/*.deb
apt_gpg_stop
pf_http_start APT "$T/www"
pf_registry_start plain A
A=$REG_A_ADDR
L=$T/layout
deb_image_full "$L" full amd64 "$T/debs/v1" "$HTTP_APT_URL/repo/" "$T/keyring.gpg"
deb_image_uptodate "$L" uptodate amd64 "$T/debs/v2" "$HTTP_APT_URL/repo/" "$T/keyring.gpg"
deb_push "$L" full "$A/demo/full:1.0"
deb_push "$L" uptodate "$A/demo/uptodate:1.0"
deb_demo_config "$T/dash.yaml" "$A" full uptodate ghost
pf_ok "demo/full:1.0 (outdated) and demo/uptodate:1.0 pushed; demo/ghost does not exist"

pf_say "start redis-server; a real sweep records the complete run, pf_store_feed a running one"
pf_redis_start
# Exit 1: the ghost row is Failed.
pf_run 1 "$T/sweep.out" "$T/sweep.err" "$PF" patch --config "$T/dash.yaml" --push \
    --keyring "$T/keyring.gpg" --insecure-registry "$A" --cache-dir "$T/cache" --work-dir "$T/work" \
    --redis "$REDIS_URL"
DONE=$(sed -n 's/^patchfleet: run \(.*\) recorded in redis$/\1/p' "$T/sweep.err")
[ -n "$DONE" ] || pf_fail "patch --redis printed no run id: $(tail -n 5 "$T/sweep.err")"
[ -n "$(pf_redis_cli HGET "pf:run:{$DONE}:meta" completed_ms)" ] || pf_fail "$DONE not complete"
# The stored rows (redis-cli) are the oracle for the API: one per status.
pf_redis_cli HVALS "pf:run:{$DONE}:jobs" | jq -s 'map({key: .status, value: .}) | from_entries' >"$T/done.json"
jq -e 'keys == ["Failed", "Patched", "UpToDate"]' "$T/done.json" >/dev/null ||
    pf_fail "the sweep should give one Failed, Patched and UpToDate row: $(cat "$T/sweep.out")"
jrow() { jq -r --arg s "$1" ".[\$s].$2" "$T/done.json"; }
J_FAIL=$(jrow Failed job_id)
J_PATCH=$(jrow Patched job_id)
J_UP=$(jrow UpToDate job_id)
LIVE=sweep-live-$$
# Created after the sweep, so the running run is the newest.
T2=$(($(date +%s%3N) + 1000))
tab() { local IFS=$'\t'; printf '%s\n' "$*"; }
{
    tab run "$LIVE" 4 "$T2"
    tab result "$LIVE" k1 nginx reg.example/nginx:1.26 Patched 1 $((T2 + 4000)) reg.example/nginx:1.26-patched "1 upgraded"
    tab result "$LIVE" k2 busybox reg.example/busybox:1.36 Failed 1 $((T2 + 7000)) - "no package manager"
} | "$FEED" "$REDIS_URL" >"$T/feed.out" 2>"$T/feed.err" || pf_fail "pf_store_feed: $(cat "$T/feed.err")"
pf_assert_eq "store feed answers" "2 inserted, 1 recorded" \
    "$(grep -c '^inserted$' "$T/feed.out") inserted, $(grep -c '^recorded$' "$T/feed.out") recorded"
pf_ok "runs $DONE (complete, recorded by patchfleet patch) and $LIVE (2 of 4) stored"

pf_say "start patchfleet-aggregator --no-kafka --http 127.0.0.1:0"
pf_run 2 "$PF_TMP/u.out" "$PF_TMP/u.err" "$AGG" --redis "$REDIS_URL" --no-kafka
pf_assert_contains "usage error" "--no-kafka needs --http" "$PF_TMP/u.err"
pf_run 2 "$PF_TMP/u.out" "$PF_TMP/u.err" "$AGG" --redis "$REDIS_URL" --no-kafka --brokers x:1 --http 127.0.0.1:0
pf_run 1 "$PF_TMP/u.out" "$PF_TMP/u.err" "$AGG" --redis "$REDIS_URL" --no-kafka --http 127.0.0.1
pf_assert_contains "bad --http" "has no port" "$PF_TMP/u.err"
pf_ok "argument errors: exit 2 / 1 with a reason"
pf_spawn "$PF_TMP/agg.log" "$AGG" --redis "$REDIS_URL" --no-kafka --http 127.0.0.1:0 --log-level debug
AGG_PID=$PF_LAST_PID
deadline=$((SECONDS + PF_READY_TIMEOUT))
until grep -q '^listening on http://' "$PF_TMP/agg.log"; do
    kill -0 "$AGG_PID" 2>/dev/null || pf_fail "aggregator exited: $(tail -5 "$PF_TMP/agg.log")"
    [ "$SECONDS" -lt "$deadline" ] || pf_fail "aggregator did not print its address"
    sleep 0.05
done
BASE=$(sed -n 's/^listening on \(http:\/\/[0-9.]*:[0-9]*\)$/\1/p' "$PF_TMP/agg.log" | head -1)
[ -n "$BASE" ] && [ "${BASE##*:}" != 0 ] || pf_fail "bad listening line: $(cat "$PF_TMP/agg.log")"
pf_ok "listening on $BASE"

# get PATH WANT_STATUS [CURL_ARGS...]: body in $PF_TMP/body, checks the status and JSON type.
get() {
    local path=$1 want=$2 code
    shift 2
    code=$(curl -s -o "$PF_TMP/body" -D "$PF_TMP/headers" -w '%{http_code}' --max-time 10 "$@" "$BASE$path")
    [ "$code" = "$want" ] || pf_fail "GET $path: HTTP $code, want $want: $(head -c 300 "$PF_TMP/body")"
}
jqok() { jq -e "$1" "$PF_TMP/body" >/dev/null || pf_fail "$2: $(head -c 600 "$PF_TMP/body")"; }

pf_say "JSON API"
get /api/runs 200
grep -qi '^content-type: application/json' "$PF_TMP/headers" || pf_fail "content type of /api/runs"
jqok '.runs | length == 2' "two runs"
jq -e --arg d "$DONE" --arg l "$LIVE" '.runs[0].run_id == $l and .runs[1].run_id == $d' "$PF_TMP/body" >/dev/null ||
    pf_fail "runs not newest first: $(cat "$PF_TMP/body")"
jq -e --arg l "$LIVE" --argjson t2 "$T2" '.runs[0] | .state == "running" and .expected == 4 and .finished == 2
    and .counts == {"Failed": 1, "Patched": 1} and .completed_ms == null and .created_ms == $t2' \
    "$PF_TMP/body" >/dev/null || pf_fail "live run in the list: $(cat "$PF_TMP/body")"
jq -e '.runs[1] | .state == "complete" and .expected == 3 and .finished == 3 and (.completed_ms | type) == "number"
    and .counts == {"Failed": 1, "Patched": 1, "UpToDate": 1}' "$PF_TMP/body" >/dev/null ||
    pf_fail "complete run in the list: $(cat "$PF_TMP/body")"
pf_ok "/api/runs: newest first, state, expected/finished, counts"

get "/api/runs/$DONE" 200
# The warning is the discovery error for demo/ghost, as the sweep printed it on stderr.
jq -e --arg d "$DONE" '.schema == 1 and .run_id == $d and .state == "complete" and .config_name == "dash.yaml" and .mode == "push"
    and (.warnings | length) == 1 and (.warnings[0] | test("ghost")) and .counts.UpToDate == 1' "$PF_TMP/body" >/dev/null ||
    pf_fail "/api/runs/$DONE: $(cat "$PF_TMP/body")"
pf_ok "/api/runs/{id}: meta, warnings and counts"
# One run shape: a run in the list is the run of /api/runs/{id} (docs/dashboard.md, RUN).
jq -S . "$PF_TMP/body" >"$PF_TMP/run-one"
get /api/runs 200
jq -S --arg d "$DONE" '.runs[] | select(.run_id == $d)' "$PF_TMP/body" | diff - "$PF_TMP/run-one" >/dev/null ||
    pf_fail "the run in /api/runs differs from /api/runs/$DONE: $(cat "$PF_TMP/body")"
pf_ok "/api/runs and /api/runs/{id} write one run shape (schema 1)"

get "/api/runs/$DONE/jobs" 200
jq -e '[.jobs[].status] == ["Failed", "UpToDate", "Patched"] or [.jobs[].status] == ["Failed", "Patched", "UpToDate"]' \
    "$PF_TMP/body" >/dev/null || pf_fail "failures first: $(cat "$PF_TMP/body")"
# Each row as stored (redis-cli), its duration finished_ms - started_ms.
jq -e --slurpfile st "$T/done.json" --arg a "$A" '.jobs[0] as $j | $st[0].Failed as $s
    | $j.job_id == $s.job_id and $j.name == "ghost" and $j.source == ($a + "/demo/ghost:1.0")
    and $j.details == $s.details and ($j.details | length) > 0 and $j.attempt == 1
    and $j.duration_ms == ($s.finished_ms - $s.started_ms) and $j.worker == $s.worker' \
    "$PF_TMP/body" >/dev/null || pf_fail "Failed row: $(cat "$PF_TMP/body")"
jq -e --slurpfile st "$T/done.json" --arg a "$A" '$st[0].Patched as $s | .jobs | map(select(.job_id == $s.job_id))[0]
    | .name == "full" and .patched_tag == $s.patched_tag and .patched_tag == "1.0-patched"
    and .patched_ref == ($a + "/demo/full:1.0-patched") and .patched_digest == $s.patched_digest
    and .duration_ms == ($s.finished_ms - $s.started_ms)' \
    "$PF_TMP/body" >/dev/null || pf_fail "Patched row: $(cat "$PF_TMP/body")"
get "/api/runs/$DONE/jobs?status=Failed" 200
jqok "[.jobs[].job_id] == [\"$J_FAIL\"]" "status=Failed"
get "/api/runs/$DONE/jobs?status=Patched,UpToDate" 200
jqok "[.jobs[].job_id] | sort == ([\"$J_PATCH\", \"$J_UP\"] | sort)" "status=Patched,UpToDate"
get "/api/runs/$LIVE/jobs?status=Skipped" 200
jqok '.jobs == []' "status=Skipped"
pf_ok "/api/runs/{id}/jobs: rows, failures first, durations, status filters"

pf_say "errors"
get /api/runs/no-such-run 404
jqok '.error | test("unknown run")' "404 body"
get /api/runs/no-such-run/jobs 404
jqok '.error | test("unknown run")' "404 jobs body"
get "/api/runs/$DONE/jobs?status=Broken" 400
jqok '.error | test("Broken")' "400 body"
get "/api/runs/$DONE/other" 404
get /api/nothing 404
jqok '.error' "404 endpoint"
get /api/runs 405 -X POST -d '{}'
grep -qi '^allow: GET, HEAD' "$PF_TMP/headers" || pf_fail "405 without Allow"
jqok '.error | test("POST")' "405 body"
get /api/runs 405 -X DELETE
get /api/runs 200 -I
pf_ok "404 unknown run / endpoint, 400 bad filter, 405 POST/DELETE with Allow, HEAD 200"

pf_say "/healthz and /metrics"
get /healthz 200
pf_assert_eq "/healthz body" "ok" "$(cat "$PF_TMP/body")"
get /metrics 200
grep -qi '^content-type: text/plain; version=0.0.4' "$PF_TMP/headers" || pf_fail "metrics content type"
cp "$PF_TMP/body" "$OUT_DIR/metrics.txt"
# A strict parser of the text exposition format 0.0.4: every line is a HELP, a TYPE or a sample;
# names and labels are well-formed, label values correctly escaped, values floats; a family's
# samples are contiguous and follow its TYPE; histograms have ascending cumulative buckets
# ending in +Inf equal to _count, and a _sum. Prints {"name{labels}": value} as JSON.
cat >"$PF_TMP/promparse.py" <<'PY'
import json, math, re, sys
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
def fail(n, msg):
    sys.exit(f"line {n}: {msg}")
def value(n, s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        fail(n, f"bad value {s!r}")
    return float(s)
def labels(n, s):
    out, i = {}, 0
    while i < len(s):
        m = re.compile(r"(" + LABEL + r')="').match(s, i)
        if not m:
            fail(n, f"bad label at {s[i:]!r}")
        i, v = m.end(), ""
        while True:
            if i >= len(s):
                fail(n, "unterminated label value")
            c = s[i]
            if c == "\\":
                e = s[i + 1:i + 2]
                if e not in ('\\', '"', 'n'):
                    fail(n, f"bad escape \\{e}")
                v += "\n" if e == "n" else e
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                fail(n, "newline in label value")
            else:
                v += c
                i += 1
        if m.group(1) in out:
            fail(n, f"duplicate label {m.group(1)}")
        out[m.group(1)] = v
        if i < len(s):
            if s[i] != ",":
                fail(n, "expected ',' between labels")
            i += 1
    return out
text = sys.stdin.read()
if not text.endswith("\n"):
    sys.exit("exposition does not end with a newline")
types, helps, samples, seen, current = {}, {}, {}, set(), None
for n, line in enumerate(text.split("\n")[:-1], 1):
    if line.startswith("#"):
        m = re.fullmatch(r"# (HELP|TYPE) (" + NAME + r") (.*)", line)
        if not m:
            if line.startswith("# HELP") or line.startswith("# TYPE"):
                fail(n, "malformed HELP/TYPE")
            continue
        kind, name, rest = m.groups()
        if kind == "TYPE":
            if name in types or name in seen:
                fail(n, f"TYPE for {name} repeated or after its samples")
            if rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                fail(n, f"bad type {rest}")
            types[name] = rest
        else:
            if name in helps:
                fail(n, f"HELP for {name} repeated")
            helps[name] = rest
        continue
    if not line.strip():
        fail(n, "empty line")
    m = re.fullmatch(r"(" + NAME + r")(\{(.*)\})? (\S+)( -?\d+)?", line)
    if not m:
        fail(n, f"bad sample {line!r}")
    name, _, lab, val, _ = m.groups()
    lab = labels(n, lab or "")
    fam = name
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[: -len(suf)]) == "histogram":
            fam = name[: -len(suf)]
    if fam not in types:
        fail(n, f"sample {name} without a TYPE")
    if fam != current:
        if fam in seen:
            fail(n, f"samples of {fam} not contiguous")
        seen.add(fam)
        current = fam
    v = value(n, val)
    if types[fam] == "counter" and (v < 0 or math.isnan(v)):
        fail(n, "negative counter")
    key = name + ("{" + ",".join(f'{k}="{lab[k]}"' for k in sorted(lab)) + "}" if lab else "")
    if key in samples:
        fail(n, f"duplicate sample {key}")
    samples[key] = v
for fam, t in types.items():
    if t != "histogram":
        continue
    b = [(float(k.split('le="')[1].split('"')[0].replace("Inf", "inf")), v)
         for k, v in samples.items() if k.startswith(fam + "_bucket{")]
    if [x for x, _ in b] != sorted(x for x, _ in b) or not b or b[-1][0] != math.inf:
        sys.exit(f"{fam}: buckets not ascending or no +Inf")
    if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
        sys.exit(f"{fam}: buckets not cumulative")
    if fam + "_count" not in samples or fam + "_sum" not in samples or samples[fam + "_count"] != b[-1][1]:
        sys.exit(f"{fam}: _count/_sum missing or _count != +Inf bucket")
print(json.dumps(samples))
PY
python3 "$PF_TMP/promparse.py" <"$PF_TMP/body" >"$PF_TMP/metrics.json" || pf_fail "/metrics is not valid exposition text"
# The parser must refuse what it should: a broken escape and a histogram without +Inf.
printf '# TYPE x counter\nx{a="\\q"} 1\n' | python3 "$PF_TMP/promparse.py" >/dev/null 2>&1 && pf_fail "parser accepted a bad escape"
printf '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n' | python3 "$PF_TMP/promparse.py" >/dev/null 2>&1 &&
    pf_fail "parser accepted a histogram without +Inf"
m() { jq -r --arg k "$1" '.[$k] // "absent"' "$PF_TMP/metrics.json"; }
pf_assert_eq "Failed results" 2 "$(m 'patchfleet_results_total{status="Failed"}')"
pf_assert_eq "Patched results" 2 "$(m 'patchfleet_results_total{status="Patched"}')"
pf_assert_eq "UpToDate results" 1 "$(m 'patchfleet_results_total{status="UpToDate"}')"
pf_assert_eq "Cancelled results" 0 "$(m 'patchfleet_results_total{status="Cancelled"}')"
pf_assert_eq "runs in progress" 1 "$(m 'patchfleet_runs_in_progress')"
# The histogram holds the durations of rows with a start time: the sweep's three (pf_store_feed
# writes none); every bucket is recomputed here from the stored rows.
pf_assert_eq "durations observed" 3 "$(m 'patchfleet_job_duration_seconds_count')"
python3 - "$PF_TMP/metrics.json" "$T/done.json" <<'PY' || pf_fail "duration histogram differs from the stored rows"
import json, math, sys
m, rows = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])).values()
d = [(r["finished_ms"] - r["started_ms"]) / 1000 for r in rows]
if abs(m["patchfleet_job_duration_seconds_sum"] - sum(d)) > 0.002:
    sys.exit(f"sum {m['patchfleet_job_duration_seconds_sum']} != {sum(d)}")
pre = "patchfleet_job_duration_seconds_bucket{le=\""
for k, v in m.items():
    if k.startswith(pre):
        le = float(k[len(pre):-2].replace("Inf", "inf"))
        want = sum(1 for x in d if x <= le)
        if v != want:
            sys.exit(f"{k} = {v}, want {want} (durations {d})")
print(f"durations {d}: sum and every bucket as stored")
PY
pf_ok "/metrics parses strictly; results by status, in-progress gauge and histogram as stored"

pf_say "the dashboard page"
get / 200
grep -qi '^content-type: text/html' "$PF_TMP/headers" || pf_fail "page content type"
if grep -Eq '(src|href)="(https?:)?//' "$PF_TMP/body"; then pf_fail "the page loads external resources"; fi
pf_ok "GET / serves the embedded page, no external resources"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    pf_say "installing chromium for the browser check"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >"$PF_TMP/apt.log" 2>&1 || true
    CHROME=$(command -v chromium || true)
fi
[ -n "$CHROME" ] || pf_fail "chromium is not installed (apt-get install chromium)"
chrome() {
    timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --user-data-dir="$PF_TMP/chrome" --no-first-run --virtual-time-budget=5000 "$@" 2>>"$PF_TMP/chrome.log"
}
chrome --dump-dom "$BASE/#run=$DONE" >"$PF_TMP/dom.html" || pf_fail "chromium --dump-dom failed: $(tail -5 "$PF_TMP/chrome.log")"
cp "$PF_TMP/dom.html" "$OUT_DIR/dashboard-dom.html"
python3 - "$PF_TMP/dom.html" "$DONE" "$LIVE" "$J_FAIL" <<'PY' || pf_fail "the rendered dashboard lacks the run, its counts or a job row (DOM in $OUT_DIR/dashboard-dom.html)"
import html.parser, sys
dom, done, live, jfail = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4]
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.runs = []; self.counts = {}; self.rows = []; self.runid = ""
    def handle_starttag(self, tag, attrs):
        a = dict(attrs); self.stack.append((tag, a))
        if tag == "li" and "data-run-id" in a: self.runs.append(a["data-run-id"])
        if tag == "tr" and "data-job-id" in a: self.rows.append([a["data-job-id"]])
    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag: pass
    def handle_data(self, d):
        ids = [a.get("id") for _, a in self.stack]
        st = [a.get("data-status") for _, a in self.stack if a.get("data-status")]
        if "run-id" in ids: self.runid += d
        if st and self.stack[-1][0] == "b": self.counts[st[-1]] = d
        if self.rows and "jobs" in ids: self.rows[-1].append(d)
p = P(); p.feed(dom)
errs = []
if p.runs != [live, done]: errs.append(f"runs list {p.runs}")
if p.runid.strip() != done: errs.append(f"selected run {p.runid!r}")
if p.counts != {"Failed": "1", "Patched": "1", "UpToDate": "1"}: errs.append(f"counts {p.counts}")
if not p.rows or p.rows[0][:3] != [jfail, "Failed", "ghost"]: errs.append(f"first job row {p.rows[:1]}")
if len(p.rows) != 3: errs.append(f"{len(p.rows)} job rows")
if errs: sys.exit("; ".join(errs))
print(f"runs {p.runs}, counts {p.counts}, first row {p.rows[0]}")
PY
pf_ok "chromium: both runs listed, $DONE selected with counts Failed/Patched/UpToDate = 1 and its Failed row first"
chrome --screenshot="$OUT_DIR/dashboard.png" --window-size=1400,900 "$BASE/#run=$LIVE" >/dev/null ||
    pf_fail "chromium --screenshot failed: $(tail -5 "$PF_TMP/chrome.log")"
[ -s "$OUT_DIR/dashboard.png" ] || pf_fail "no screenshot"
pf_ok "screenshot saved: $OUT_DIR/dashboard.png (DOM: $OUT_DIR/dashboard-dom.html, metrics: $OUT_DIR/metrics.txt)"

pf_say "redis-server down: 503, then recovery"
if [ "$PF_REDIS_OWNED" = 1 ]; then
    pf_redis_stop
    get /healthz 503
    get /api/runs 503
    jqok '.error | test("redis unavailable")' "503 body"
    get "/api/runs/$DONE/jobs" 503
    get /metrics 503
    get / 200
    pf_ok "Redis down: /healthz, /api and /metrics answer 503 at once, the page still loads"
    pf_redis_spawn
    get /healthz 200
    get /api/runs 200
    jqok '.runs | length == 2' "runs after recovery"
    pf_ok "Redis back: the same aggregator answers again without a restart"
else
    pf_say "REDIS_URL given: not stopping a server this test does not own"
fi

pf_say "SIGTERM stops the aggregator"
kill -TERM "$AGG_PID"
for _ in $(seq 50); do kill -0 "$AGG_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$AGG_PID" 2>/dev/null; then pf_fail "aggregator still running 5 s after SIGTERM"; fi
wait "$AGG_PID" 2>/dev/null && rc=0 || rc=$?
pf_assert_eq "exit status after SIGTERM" 0 "$rc"
pf_ok "clean exit"
