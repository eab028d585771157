#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end Debian patching: a debootstrap'ed bookworm minbase image (main suite only, so the
# security suite holds real upgrades) in a local registry, patched (1) by `patchfleet patch
# --push`, cold (fresh --cache-dir) and warm (same cache, another tag), and (2) by the plain
# alternative, in the same run: pull, unpack, `apt-get update && apt-get -y upgrade` in a chroot,
# repack one diff layer, push. Prints wall times, peak RSS, bytes pushed (blobs of the new tag
# that the source lacks), packages upgraded, the ratios and whether the goal is met. Needs root
# (debootstrap, chroot, mounts, umoci unpack) and the Debian archive over the network; not CI.
#
#   bench/bench_patch.sh [BUILD_DIR]      (default: build; the binary is BUILD_DIR/bin/patchfleet)
#   PF_BENCH_CACHE=DIR      rootfs tarball cache (default ~/.cache/patchfleet-bench)
#   BENCH_MIRROR=URL        debootstrap and image mirror (default http://deb.debian.org/debian;
#                           baked into the cached tarball: clear the cache when changing it)
#   BENCH_BASELINE_ONLY=1   skip patchfleet (until `patchfleet patch` exists)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
PF=${PF_BIN:-$BUILD/bin}/patchfleet
CACHE=${PF_BENCH_CACHE:-${HOME:-/root}/.cache/patchfleet-bench}
MIRROR=${BENCH_MIRROR:-http://deb.debian.org/debian}
SECURITY=${BENCH_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=bookworm
BASELINE_ONLY=${BENCH_BASELINE_ONLY:-0}
APT_ENV=(env -i DEBIAN_FRONTEND=noninteractive LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin)

. "$ROOT/tests/harness/lib.sh"

[ "$(id -u)" = 0 ] || pf_fail "bench_patch.sh must run as root (debootstrap, chroot, mount, umoci unpack)"
# Tools from Debian packages; debootstrap and time are installed on demand (the machine has the
# Debian archive, which this benchmark needs anyway).
command -v debootstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
[ -x /usr/bin/time ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null
pf_require debootstrap docker-registry skopeo umoci jq curl python3 chroot mount umount mknod
if [ "$BASELINE_ONLY" != 1 ]; then
    [ -x "$PF" ] || pf_fail "no patchfleet at $PF (build it, or pass the build dir)"
    "$PF" patch --help >/dev/null 2>&1 ||
        pf_fail "'patchfleet patch --help' fails: patch not built yet? (BENCH_BASELINE_ONLY=1 runs the baseline alone)"
fi

pf_tmpdir
T=$PF_TMP
# The baseline mounts proc and a tmpfs /dev inside $T: unmount everything under $T before the
# harness removes it, whatever way the script ends (debootstrap mounts proc and sys too).
bench_umount_all() {
    local m
    awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/self/mounts | sort -r |
        while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}
bench_exit() {
    local rc=$?
    set +e # the script is ending: no errexit here, so pf_cleanup always runs
    bench_umount_all
    (exit "$rc")
    pf_cleanup
}
trap bench_exit EXIT
# skopeo keeps a blob-location cache in $HOME; a private HOME keeps runs independent.
export HOME=$T/home
mkdir -p "$HOME" "$CACHE"

arch=$(dpkg --print-architecture)
case "$arch" in
amd64 | arm64 | ppc64el | s390x | riscv64) goarch=${arch/ppc64el/ppc64le} ;;
*) pf_fail "unsupported host architecture '$arch'" ;;
esac
tarball="$CACHE/$SUITE-minbase-$arch.tar"

# bench_build_rootfs: debootstrap, then the official debian:bookworm image's apt sources, then a
# tar of the tree (empty /dev, /proc, /sys) into the cache, written to a temp name and renamed.
bench_build_rootfs() {
    local r="$T/debootstrap"
    pf_say "debootstrap --variant=minbase $SUITE (cached afterwards in $tarball)"
    debootstrap --variant=minbase --arch "$arch" "$SUITE" "$r" "$MIRROR" >"$T/debootstrap.log" 2>&1 || {
        tail -n 20 "$T/debootstrap.log" >&2
        pf_fail "debootstrap failed (log above)"
    }
    bench_umount_all
    rm -f "$r/etc/apt/sources.list" "$r/etc/resolv.conf" "$r/etc/hostname"
    mkdir -p "$r/etc/apt/sources.list.d"
    cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    rm -rf "$r/var/cache/apt/archives/"*.deb "$r/var/lib/apt/lists/"*
    tar --sort=name --numeric-owner -C "$r" \
        --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$r"
}
[ -s "$tarball" ] || bench_build_rootfs
pf_say "rootfs tarball: $tarball ($(du -m "$tarball" | cut -f1) MiB)"

pf_say "packing a one-layer OCI image and pushing it as bench/bookworm:minbase"
pf_registry_start plain R
REG=$REG_R_ADDR
REPO=bench/bookworm
umoci init --layout "$T/src" >/dev/null
umoci new --image "$T/src:minbase"
umoci raw add-layer --history.created 2024-01-01T00:00:00Z --history.created_by 'debootstrap minbase' \
    --image "$T/src:minbase" "$tarball"
umoci config --no-history --image "$T/src:minbase" --os linux --architecture "$goarch" \
    --created 2024-01-01T00:00:00Z --config.cmd bash \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
skopeo copy -q --dest-tls-verify=false "oci:$T/src:minbase" "docker://$REG/$REPO:minbase" >/dev/null
src_digest=$(pf_manifest_digest "$REG_R_URL" "$REPO" minbase)
[ -n "$src_digest" ] || pf_fail "bench/bookworm:minbase is not in the registry after the push"
rm -rf "$T/src"

# blobs TAG: "digest size" of the config and layers of every image TAG names (an index is
# followed into its manifests), one per line.
blobs() {
    local raw
    raw=$(skopeo inspect --tls-verify=false --raw "docker://$REG/$REPO:$1")
    if [ "$(jq -r '.manifests != null' <<<"$raw")" = true ]; then
        jq -r '.manifests[].digest' <<<"$raw" | while read -r d; do
            skopeo inspect --tls-verify=false --raw "docker://$REG/$REPO@$d" |
                jq -r '([.config] + .layers)[] | "\(.digest) \(.size)"'
        done
    else
        jq -r '([.config] + .layers)[] | "\(.digest) \(.size)"' <<<"$raw"
    fi | LC_ALL=C sort -u
}
# pushed_bytes TAG: the sum of the sizes of the blobs TAG has that minbase does not.
pushed_bytes() {
    LC_ALL=C join -v 1 <(blobs "$1") <(blobs minbase) | awk '{ s += $2 } END { print s + 0 }'
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
# peak_rss FILE: "Maximum resident set size" of a /usr/bin/time -v report, in MiB.
peak_rss() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }

# pf_patch NAME TAG: one `patchfleet patch --push` of minbase to TAG (minbase-SUFFIX: a tag
# template must hold {{ .SourceTag }}) with the cache $T/pf-cache, timed, under /usr/bin/time -v;
# sets pf_secs and pf_rss.
pf_patch() {
    local name=$1 tag=$2 t0 t1 fmt=()
    cat >"$T/$name.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: bookworm
    image: $REG/$REPO
    tags:
      strategy: list
      list: ["minbase"]
    target:
      tag: "{{ .SourceTag }}${tag#minbase}"
EOF
    # The JSON summary, when this build has it, gives the package count without table scraping.
    local help
    help=$("$PF" patch --help 2>&1 || true)
    [[ $help == *--format* ]] && fmt=(--format json)
    t0=$(now)
    /usr/bin/time -v -o "$T/$name.time" "$PF" patch --config "$T/$name.yaml" --push \
        --cache-dir "$T/pf-cache" "${fmt[@]}" >"$T/$name.out" 2>"$T/$name.err" || {
        tail -n 30 "$T/$name.err" "$T/$name.out" >&2
        pf_fail "patchfleet patch ($name) failed"
    }
    t1=$(now)
    pf_secs=$(secs "$t0" "$t1")
    pf_rss=$(peak_rss "$T/$name.time")
    [ -n "$(pf_manifest_digest "$REG_R_URL" "$REPO" "$tag")" ] ||
        pf_fail "patchfleet ($name) did not push $REPO:$tag (output in $T/$name.out)"
}
# pf_upgraded FILE: packages upgraded according to patchfleet's output: the per-platform
# "upgrades" (else the job "packages") arrays of the JSON summary, else "N upgraded" in the table.
pf_upgraded() {
    local n
    n=$(jq -s '[.. | objects | select(.upgrades | type == "array") | .upgrades | length] |
               if length > 0 then add else
               ([.. | objects | select(.packages | type == "array") | .packages | length] | add)
               end' "$1" 2>/dev/null || true)
    [ -n "$n" ] && [ "$n" != null ] || n=$(grep -oE '[0-9]+ upgraded' "$1" | head -n 1 | cut -d' ' -f1)
    echo "${n:-?}"
}

if [ "$BASELINE_ONLY" != 1 ]; then
    pf_say "patchfleet patch --push, cold cache"
    pf_patch pf-cold minbase-patched
    cold_secs=$pf_secs cold_rss=$pf_rss
    cold_bytes=$(pushed_bytes minbase-patched)
    pf_n=$(pf_upgraded "$T/pf-cold.out")
    pf_say "patchfleet patch --push, warm cache (tag minbase-patched-warm)"
    pf_patch pf-warm minbase-patched-warm
    warm_secs=$pf_secs warm_rss=$pf_rss
    warm_bytes=$(pushed_bytes minbase-patched-warm)
    pf_warm_n=$(pf_upgraded "$T/pf-warm.out")
    same=no
    [ "$(pf_manifest_digest "$REG_R_URL" "$REPO" minbase-patched)" = \
        "$(pf_manifest_digest "$REG_R_URL" "$REPO" minbase-patched-warm)" ] && same=yes
fi

# The baseline: what a `docker build` with `RUN apt-get update && apt-get -y upgrade` does,
# without a daemon: a fresh pull, a chroot with proc and a minimal /dev (as a container has), the
# apt lists and cache removed, one diff layer, a push. Timed from pull to push.
pf_say "baseline: pull, unpack, apt-get upgrade in a chroot, repack, push"
bl=$T/baseline
mkdir -p "$bl"
b0=$(now)
skopeo copy -q --src-tls-verify=false "docker://$REG/$REPO:minbase" "oci:$bl/layout:minbase" >/dev/null
b_pulled=$(now)
umoci unpack --image "$bl/layout:minbase" "$bl/bundle" >/dev/null
b_unpacked=$(now)
r=$bl/bundle/rootfs
cp /etc/resolv.conf "$r/etc/resolv.conf"
mount -t proc proc "$r/proc"
mount -t tmpfs -o mode=0755,size=1m bench-dev "$r/dev"
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name maj min <<<"$d"
    mknod -m 0666 "$r/dev/$name" c "$maj" "$min"
done
ln -s /proc/self/fd "$r/dev/fd"
chroot "$r" "${APT_ENV[@]}" apt-get -q update >"$bl/update.log" 2>&1 || {
    tail -n 20 "$bl/update.log" >&2
    pf_fail "baseline: apt-get update failed"
}
b_updated=$(now)
chroot "$r" "${APT_ENV[@]}" apt-get -q -y upgrade >"$bl/upgrade.log" 2>&1 || {
    tail -n 20 "$bl/upgrade.log" >&2
    pf_fail "baseline: apt-get upgrade failed"
}
chroot "$r" "${APT_ENV[@]}" apt-get clean
b_upgraded=$(now)
umount "$r/dev" "$r/proc"
rm -rf "$r/var/lib/apt/lists/"* "$r/etc/resolv.conf"
umoci repack --history.created_by 'apt-get update && apt-get -y upgrade' \
    --image "$bl/layout:minbase-baseline" "$bl/bundle" >/dev/null
b_repacked=$(now)
skopeo copy -q --dest-tls-verify=false "oci:$bl/layout:minbase-baseline" \
    "docker://$REG/$REPO:minbase-baseline" >/dev/null
b1=$(now)
bl_secs=$(secs "$b0" "$b1")
bl_bytes=$(pushed_bytes minbase-baseline)
bl_n=$(sed -nE 's/^([0-9]+) upgraded, .*/\1/p' "$bl/upgrade.log" | tail -n 1)
# apt lists the upgrades as indented lines after "The following packages will be upgraded:".
bl_pkgs=$(awk '/^The following packages will be upgraded:/ { on = 1; next }
               on && /^  / { printf "%s", $0; next } { on = 0 }' "$bl/upgrade.log" | xargs)
cp "$bl/update.log" "$bl/upgrade.log" "$T/"
rm -rf "$bl"

printf '\nsource: %s/%s:minbase (%s, %s bytes of blobs)\n' "$REG" "$REPO" "$src_digest" \
    "$(blobs minbase | awk '{ s += $2 } END { print s + 0 }')"
printf '%-34s %10s %16s %10s %9s\n' case 'wall (s)' 'bytes pushed' 'peak RSS' upgraded
printf '%-34s %10s %16s %10s %9s\n' 'baseline (pull..apt upgrade..push)' "$bl_secs" "$bl_bytes" - "${bl_n:-?}"
if [ "$BASELINE_ONLY" != 1 ]; then
    printf '%-34s %10s %16s %7s MiB %9s\n' 'patchfleet patch, cold cache' "$cold_secs" "$cold_bytes" \
        "$cold_rss" "$pf_n"
    printf '%-34s %10s %16s %7s MiB %9s\n' 'patchfleet patch, warm cache' "$warm_secs" "$warm_bytes" \
        "$warm_rss" "$pf_warm_n"
fi
printf '\nbaseline steps (s): pull %s, unpack %s, apt-get update %s, upgrade+clean %s, repack %s, push %s\n' \
    "$(secs "$b0" "$b_pulled")" "$(secs "$b_pulled" "$b_unpacked")" "$(secs "$b_unpacked" "$b_updated")" \
    "$(secs "$b_updated" "$b_upgraded")" "$(secs "$b_upgraded" "$b_repacked")" "$(secs "$b_repacked" "$b1")"
printf 'baseline upgraded: %s\n' "${bl_pkgs:-none}"
if [ "$BASELINE_ONLY" = 1 ]; then
    printf '\npatchfleet not run (BENCH_BASELINE_ONLY=1)\ngoal: >= 5x faster and fewer bytes pushed: NOT MEASURED\n'
    exit 0
fi
printf 'patchfleet and apt upgraded the same number of packages: %s\n' \
    "$([ "$pf_n" = "${bl_n:-}" ] && echo yes || echo "NO ($pf_n vs ${bl_n:-?})")"
printf 'time ratio baseline/patchfleet:  cold %s, warm %s\n' "$(ratio "$bl_secs" "$cold_secs")" \
    "$(ratio "$bl_secs" "$warm_secs")"
printf 'bytes ratio baseline/patchfleet: %s\n' "$(ratio "$bl_bytes" "$cold_bytes")"
printf 'cold and warm runs pushed the same manifest: %s\n' "$same"
met=$(awk -v b="$bl_secs" -v p="$cold_secs" -v bb="$bl_bytes" -v pb="$cold_bytes" \
    'BEGIN { print (b >= 5 * p && pb < bb) ? "MET" : "NOT MET" }')
printf 'goal: >= 5x faster and fewer bytes pushed: %s\n' "$met"
