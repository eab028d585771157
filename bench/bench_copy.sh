#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Image copy throughput: a BENCH_MIB MiB image (default 200, BENCH_LAYERS layers of random data,
# default 4) copied by `patchfleet copy` and by `skopeo copy`, (1) to another repository of the
# same registry, best of BENCH_RUNS (default 3, a fresh repository each time), and (2) to a
# second registry, once each, each tool to its own fresh registry so neither finds the other's
# blobs. Prints wall times, bytes uploaded against the image size, and the ratios.
#
#   bench/bench_copy.sh [BUILD_DIR]      (default: build; the binary is BUILD_DIR/bin/patchfleet)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
PF=${PF_BIN:-$BUILD/bin}/patchfleet
MIB=${BENCH_MIB:-200}
LAYERS=${BENCH_LAYERS:-4}
RUNS=${BENCH_RUNS:-3}

. "$ROOT/tests/harness/lib.sh"
. "$ROOT/tests/harness/seed.sh"
pf_require docker-registry skopeo umoci jq curl python3
[ -x "$PF" ] || pf_fail "no patchfleet at $PF (build it, or pass the build dir)"
pf_tmpdir
T=$PF_TMP
# skopeo keeps a blob-location cache in $HOME; a private HOME keeps runs independent.
export HOME=$T/home
mkdir -p "$HOME"

pf_say "building a ${MIB} MiB image (${LAYERS} layers of random data) and pushing it"
pf_registry_start plain A
pf_registry_start plain PFDST
pf_registry_start plain SKDST
seed_big_image "$T/layout" big "$MIB" "$LAYERS"
seed_push "$T/layout" big "$REG_A_ADDR/bench/big:1"
size=$(skopeo inspect --tls-verify=false --raw "docker://$REG_A_ADDR/bench/big:1" |
    jq '[.config.size] + [.layers[].size] | add')
SK=(skopeo copy -q --src-tls-verify=false --dest-tls-verify=false)

# timed CMD...: runs CMD with output in $T/last.out, prints the wall time in ms.
timed() {
    local t0
    t0=$(pf_now_ms)
    "$@" >"$T/last.out" 2>"$T/last.err" || {
        cat "$T/last.err" >&2
        pf_fail "benchmark command failed: $*"
    }
    echo $(($(pf_now_ms) - t0))
}
# uploaded: bytes uploaded according to the last patchfleet summary line.
uploaded() {
    sed -nE 's/.* uploaded \(([0-9]+) bytes\).*/\1/p' "$T/last.out" | tail -n 1
}

pf_say "same registry, another repository (best of $RUNS)"
pf_same='' sk_same='' pf_same_bytes=''
for ((i = 0; i < RUNS; i++)); do
    t=$(timed "$PF" copy "$REG_A_ADDR/bench/big:1" "$REG_A_ADDR/bench/pf-$i:1")
    b=$(uploaded)
    if [ -z "$pf_same" ] || [ "$t" -lt "$pf_same" ]; then pf_same=$t pf_same_bytes=$b; fi
    t=$(timed "${SK[@]}" "docker://$REG_A_ADDR/bench/big:1" "docker://$REG_A_ADDR/bench/sk-$i:1")
    if [ -z "$sk_same" ] || [ "$t" -lt "$sk_same" ]; then sk_same=$t; fi
done

pf_say "second registry (once each, fresh registries)"
pf_cross=$(timed "$PF" copy "$REG_A_ADDR/bench/big:1" "$REG_PFDST_ADDR/bench/big:1")
pf_cross_bytes=$(uploaded)
sk_cross=$(timed "${SK[@]}" "docker://$REG_A_ADDR/bench/big:1" "docker://$REG_SKDST_ADDR/bench/big:1")
pf_assert_eq "cross-registry copies are identical" \
    "$(pf_manifest_digest "$REG_PFDST_URL" bench/big 1)" "$(pf_manifest_digest "$REG_SKDST_URL" bench/big 1)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '\nimage size (config + layers):  %d bytes\n' "$size"
printf '%-30s %10s %10s %8s %18s\n' case patchfleet skopeo ratio 'pf bytes uploaded'
printf '%-30s %8d ms %7d ms %8s %18s\n' "same registry (best of $RUNS)" "$pf_same" "$sk_same" \
    "$(ratio "$pf_same" "$sk_same")" "${pf_same_bytes:-?}"
printf '%-30s %8d ms %7d ms %8s %18s\n' "second registry" "$pf_cross" "$sk_cross" \
    "$(ratio "$pf_cross" "$sk_cross")" "${pf_cross_bytes:-?}"
awk -v a="$pf_cross" -v s="$size" 'BEGIN { if (a > 0) printf "patchfleet cross-registry throughput: %.1f MiB/s\n", s / 1048576 / (a / 1000) }'
