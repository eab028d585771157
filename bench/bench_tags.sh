#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Tag discovery at scale: one repository with BENCH_TAGS tags (default 10,000, written straight
# into the registry's storage), timed with `patchfleet plan` (a pattern that matches every tag)
# against the baseline `skopeo list-tags`, best of BENCH_RUNS runs each (default 3), in the
# same run on the same registry. Prints both times and the ratio.
#
#   bench/bench_tags.sh [BUILD_DIR]      (default: build; the binary is BUILD_DIR/bin/patchfleet)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
PF=${PF_BIN:-$BUILD/bin}/patchfleet
N=${BENCH_TAGS:-10000}
RUNS=${BENCH_RUNS:-3}

. "$ROOT/tests/harness/lib.sh"
. "$ROOT/tests/harness/seed.sh"
pf_require docker-registry skopeo umoci jq curl python3
[ -x "$PF" ] || pf_fail "no patchfleet at $PF (build it, or pass the build dir)"
pf_tmpdir
T=$PF_TMP

pf_registry_start plain A
SEED_LAYOUT=$T/layout
seed_layout_init "$SEED_LAYOUT"
seed_image "$SEED_LAYOUT" one amd64 2024-01-01T00:00:00Z
seed_push "$SEED_LAYOUT" one "$REG_A_ADDR/bench/many:seed"
pf_registry_seed_tags "$REG_A_DIR" bench/many "$(pf_manifest_digest "$REG_A_URL" bench/many seed)" \
    "$N" 3.0.
cat >"$T/bench.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: many
    image: "$REG_A_ADDR/bench/many"
    tags:
      strategy: pattern
      pattern: '^3\\.0\\.[0-9]+\$'
EOF

# best_ms CMD...: runs CMD $RUNS times (output discarded) and prints the fastest wall time in ms.
best_ms() {
    local best='' i t0 t
    for ((i = 0; i < RUNS; i++)); do
        t0=$(pf_now_ms)
        "$@" >"$T/last.out" 2>"$T/last.err" || {
            cat "$T/last.err" >&2
            pf_fail "benchmark command failed: $*"
        }
        t=$(($(pf_now_ms) - t0))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
    done
    printf '%s\n' "$best"
}

njobs=$("$PF" plan --config "$T/bench.yaml" --json | wc -l)
[ "$njobs" = "$N" ] || pf_fail "patchfleet plan gave $njobs jobs, want $N"
tags=$(skopeo list-tags --tls-verify=false "docker://$REG_A_ADDR/bench/many" | jq '.Tags | length')
[ "$tags" = "$((N + 1))" ] || pf_fail "skopeo list-tags saw $tags tags, want $((N + 1))"

pf_ms=$(best_ms "$PF" plan --config "$T/bench.yaml" --json)
sk_ms=$(best_ms skopeo list-tags --tls-verify=false "docker://$REG_A_ADDR/bench/many")
printf '\ntags in repository:                 %d\n' "$N"
printf 'patchfleet plan (pattern, %d jobs): %6d ms (best of %d)\n' "$N" "$pf_ms" "$RUNS"
printf 'skopeo list-tags (baseline):        %6d ms (best of %d)\n' "$sk_ms" "$RUNS"
awk -v a="$pf_ms" -v b="$sk_ms" 'BEGIN { printf "ratio patchfleet / skopeo:          %6.2f\n", (b > 0 ? a / b : 0) }'
