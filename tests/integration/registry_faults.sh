#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry faults
#
# Retries and their bounds, with tests/harness/fault_proxy.py between patchfleet and a plain
# registry (the proxy is on 127.0.0.1, so plain http). Transient faults (429 with Retry-After,
# 503, dropped connections) must be ridden out, Retry-After honoured, and a registry that keeps
# failing must end the command with exit 1, a clear message and a bounded number of attempts.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/seed.sh"
pf_require docker-registry skopeo umoci jq curl python3
pf_require_cli plan copy
pf_tmpdir
T=$PF_TMP

pf_say "start a registry, a second one for cross-registry copies, and the fault proxy"
pf_registry_start plain A
pf_registry_start plain B
SEED_LAYOUT=$T/layout
seed_layout_init "$SEED_LAYOUT"
seed_image "$SEED_LAYOUT" one amd64 2024-01-01T00:00:00Z
seed_image "$SEED_LAYOUT" two amd64 2024-02-01T00:00:00Z
seed_push "$SEED_LAYOUT" one "$REG_A_ADDR/faults/app:1.0.0"
seed_push "$SEED_LAYOUT" two "$REG_A_ADDR/faults/app:1.1.0"
pf_fault_proxy_start P "$REG_A_URL"
P=$PROXY_P_ADDR
LOG=$PROXY_P_LOG

cat >"$T/plan.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: app
    image: "$P/faults/app"
    tags:
      strategy: pattern
      pattern: '^1\\.'
EOF
want_sources="$P/faults/app:1.0.0 $P/faults/app:1.1.0"
sources() { jq -r .source "$1" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'; }
# hits REGEX: how many logged decisions match REGEX since the last reset.
hits() { grep -cE "$1" "$LOG" || true; }
reset() {
    : >"$LOG"
    pf_proxy_rules "http://$P" "$@"
}

pf_say "2 x 429 with Retry-After: 1 on tags/list: plan waits and succeeds"
reset 'path~/v2/faults/app/tags/list:429:retry-after=1:count=2'
t0=$(pf_now_ms)
pf_run 0 "$T/429.out" "$T/429.err" "$PF" plan --config "$T/plan.yaml" --json
elapsed=$(($(pf_now_ms) - t0))
pf_assert_eq "429: both tags discovered" "$want_sources" "$(sources "$T/429.out")"
pf_assert_eq "429: both faults were served" 2 "$(hits 'tags/list.* fault 429')"
[ "$elapsed" -ge 1800 ] || pf_fail "429: plan took ${elapsed} ms; Retry-After: 1 twice means >= ~2 s"
pf_ok "429: Retry-After honoured (${elapsed} ms)"

pf_say "2 x 503 on manifest GET: copy succeeds"
reset 'method=GET:path~/manifests/:503:count=2'
pf_run 0 "$T/503.out" "$T/503.err" "$PF" copy "$P/faults/app:1.1.0" "$P/faults/copy503:1.1.0"
pf_assert_eq "503: both faults were served" 2 "$(hits 'GET .*/manifests/.* fault 503')"
pf_assert_contains "503: summary line" "copied " "$T/503.out"
pf_assert_eq "503: destination digest equals source digest" \
    "$(pf_manifest_digest "$REG_A_URL" faults/app 1.1.0)" \
    "$(pf_manifest_digest "$REG_A_URL" faults/copy503 1.1.0)"

pf_say "2 dropped connections on GET: plan succeeds"
reset 'method=GET:drop:count=2'
pf_run 0 "$T/drop.out" "$T/drop.err" "$PF" plan --config "$T/plan.yaml" --json
pf_assert_eq "drop: both connections were dropped" 2 "$(hits ' drop$')"
pf_assert_eq "drop: both tags discovered" "$want_sources" "$(sources "$T/drop.out")"

pf_say "2 dropped connections on blob GET: copy to a second registry succeeds"
reset 'method=GET:path~/blobs/:drop:count=2'
pf_run 0 "$T/dropcopy.out" "$T/dropcopy.err" "$PF" copy "$P/faults/app:1.0.0" \
    "$REG_B_ADDR/faults/app:1.0.0"
pf_assert_eq "drop on blobs: both connections were dropped" 2 "$(hits 'blobs/.* drop$')"
pf_assert_eq "drop on blobs: destination digest equals source digest" \
    "$(pf_manifest_digest "$REG_A_URL" faults/app 1.0.0)" \
    "$(pf_manifest_digest "$REG_B_URL" faults/app 1.0.0)"

pf_say "50 x 503 on tags/list (beyond the retry budget): plan gives up"
reset 'path~/v2/faults/app/tags/list:503:count=50'
t0=$(pf_now_ms)
pf_run 1 "$T/budget.out" "$T/budget.err" "$PF" plan --config "$T/plan.yaml" --json
elapsed=$(($(pf_now_ms) - t0))
attempts=$(hits 'tags/list.* fault 503')
[ "$attempts" -ge 2 ] || pf_fail "budget: $attempts attempt(s); a 503 must be retried"
[ "$attempts" -le 6 ] || pf_fail "budget: $attempts attempts; the retry budget must bound them (<= 6)"
pf_ok "budget: $attempts attempts, then gave up after ${elapsed} ms"
pf_assert_eq "budget: no jobs" "" "$(cat "$T/budget.out")"
if ! grep -qiE '503|unavailable' "$T/budget.err"; then
    sed 's/^/  | /' "$T/budget.err" >&2
    pf_fail "budget: stderr does not say the registry answered 503 / unavailable"
fi
pf_assert_contains "budget: stderr names the repository" "faults/app" "$T/budget.err"

pf_say "50 x 503 on manifest GET: copy gives up"
reset 'method=GET:path~/manifests/:503:count=50'
pf_run 1 "$T/budgetcopy.out" "$T/budgetcopy.err" "$PF" copy "$P/faults/app:1.0.0" \
    "$P/faults/never:1.0.0"
attempts=$(hits 'GET .*/manifests/.* fault 503')
[ "$attempts" -le 6 ] || pf_fail "copy budget: $attempts manifest attempts (want <= 6)"
pf_ok "copy budget: $attempts attempts; stderr: $(head -n 1 "$T/budgetcopy.err")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$REG_A_URL/v2/faults/never/manifests/1.0.0")
pf_assert_eq "copy budget: the destination tag was not created" 404 "$code"

pf_say "a reply that is not HTTP (stale bytes, curl's 'HTTP/0.9') on manifest GET: retried fresh"
reset 'method=GET:path~/manifests/:garbage:count=1'
pf_run 0 "$T/garbage.out" "$T/garbage.err" "$PF" copy "$P/faults/app:1.1.0" \
    "$P/faults/copygarbage:1.1.0"
pf_assert_eq "garbage: the fault was served once" 1 "$(hits 'manifests/.* garbage$')"
pf_assert_eq "garbage: destination digest equals source digest" \
    "$(pf_manifest_digest "$REG_A_URL" faults/app 1.1.0)" \
    "$(pf_manifest_digest "$REG_A_URL" faults/copygarbage 1.1.0)"
reset 'method=GET:path~/manifests/:garbage:count=inf'
pf_run 1 "$T/garbage2.out" "$T/garbage2.err" "$PF" copy "$P/faults/app:1.1.0" \
    "$P/faults/never:1.1.0"
attempts=$(hits 'manifests/.* garbage$')
pf_assert_eq "garbage always: one retry on a fresh connection, then an error" 2 "$attempts"
pf_assert_contains "garbage always: stderr names the manifest" "faults/app" "$T/garbage2.err"

pf_say "a 5 MiB manifest: refused naming the 4 MiB limit and the size"
reset 'method=GET:path~/manifests/1.1.0:bigmanifest:count=inf'
pf_run 1 "$T/big.out" "$T/big.err" "$PF" copy "$P/faults/app:1.1.0" "$P/faults/never:1.1.0"
pf_assert_contains "big manifest: stderr names the limit" "over the limit of 4194304 bytes (4 MiB)" \
    "$T/big.err"
pf_assert_contains "big manifest: stderr names the size" "$((5 << 20)) bytes" "$T/big.err"
pf_assert_not_contains "big manifest: not called 'not a manifest'" "not a manifest" "$T/big.err"

pf_say "registry_faults: all checks passed"
