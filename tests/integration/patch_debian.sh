#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry apt deb
#
# End to end `patchfleet patch` of Debian images against real components: packages built with
# dpkg-deb, images whose dpkg database was written by the real dpkg, a signed apt archive made by
# apt-ftparchive + gpg behind a plain http server, docker-registry. The results are checked only
# with independent tools: skopeo (labels, layers), umoci (unpack), dpkg --verify / --audit and
# dpkg-query on the unpacked root, cmp against `dpkg-deb -x` of the new packages, md5sum -c for
# distroless status.d. PF_ORACLE_SELFTEST=1 replaces patchfleet by a reference patch made with
# dpkg itself, to prove the fixtures and oracles right without the binary.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"
pf_require docker-registry skopeo umoci jq curl python3
deb_fixture_require
SELFTEST=${PF_ORACLE_SELFTEST:-0}
[ "$SELFTEST" = 1 ] || pf_require_cli patch
pf_tmpdir
T=$PF_TMP

# ---------------------------------------------------------------------------------------------
pf_say "fixtures: packages, signed archives, http server, registry"
deb_archive_demo "$T"
V2=$T/debs/v2
pf_http_start APT "$T/www"
REPO_URL="$HTTP_APT_URL/repo/"
curl -fsS "${REPO_URL}dists/stable/InRelease" | gpgv --keyring "$T/keyring.gpg" - 2>/dev/null ||
    pf_fail "the test archive's InRelease does not verify over http"
pf_ok "archive served at $REPO_URL and its InRelease verifies with gpgv"
# The distroless image's default suites, the way the patcher will reach them after --pkg-mirror:
# signature, and every pool file's SHA256 as Packages states it.
for s in debian/bookworm debian/bookworm-updates debian-security/bookworm-security; do
    base="$HTTP_APT_URL/${s%%/*}"
    curl -fsS "$base/dists/${s#*/}/InRelease" | gpgv --keyring "$T/keyring.gpg" - 2>/dev/null ||
        pf_fail "$s: InRelease does not verify"
    curl -fsS "$base/dists/${s#*/}/main/binary-amd64/Packages" |
        awk '/^Filename: / { f = $2 } /^SHA256: / { print $2 "  " f }' >"$T/sums"
    [ -s "$T/sums" ] || pf_fail "$s: empty Packages"
    while read -r sum f; do
        [ "$(curl -fsS "$base/$f" | sha256sum | cut -d' ' -f1)" = "$sum" ] ||
            pf_fail "$s: $base/$f does not match its Packages SHA256"
    done <"$T/sums"
done
pf_ok "bookworm, bookworm-updates, bookworm-security: signed, pool files match Packages"
pf_registry_start plain A
A=$REG_A_ADDR

pf_say "fixtures: images (dpkg-installed v1, user edits in a second layer) pushed with skopeo"
L=$T/layout
deb_push_demo_images "$L" "$REPO_URL" "$T/keyring.gpg" "$A"
BASE_FULL=$(pf_manifest_digest "http://$A" demo/full 1.0)
BASE_LAYERS=$(skopeo inspect --tls-verify=false "docker://$A/demo/full:1.0" | jq '.Layers | length')
pf_assert_eq "demo/full:1.0 has two layers" 2 "$BASE_LAYERS"
deb_pull_root "$A" demo/full:1.0 "$T/base-full"
pf_assert_eq "base image: heldpkg held" "hold ok installed" \
    "$(deb_status_field "$T/base-full/root" heldpkg Status)"
pf_assert_eq "base image: dpkg --verify shows only the user-edited conffile" \
    "??5?????? c /etc/democonf.d/keep.conf" "$(dpkg --root="$T/base-full/root" --verify)"
deb_pull_root "$A" demo/multi:1.0 "$T/base-arm64" arm64
pf_assert_eq "base index, arm64: libdemo1 1.0-1 for arm64" "libdemo1 1.0-1 arm64 v1" \
    "$(dpkg-query --root="$T/base-arm64/root" -W -f='${Package} ${Version} ${Architecture}' libdemo1) $(
        cat "$T/base-arm64/root/usr/lib/aarch64-linux-gnu/libdemo.so.1")"

inspect() { skopeo inspect --tls-verify=false "docker://$A/$1"; }
absent() {
    if skopeo inspect --raw --tls-verify=false "docker://$A/$1" >/dev/null 2>&1; then
        pf_fail "$2: $A/$1 exists"
    fi
    pf_ok "$2: $A/$1 does not exist"
}

deb_demo_config "$T/patch.yaml" "$A" full multi uptodate distroless
COMMON=(--config "$T/patch.yaml" --timeout 5m --keyring "$T/keyring.gpg"
    --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL")

# reference_patch NAME: PF_ORACLE_SELFTEST only. What a correct patch of demo/NAME:1.0 looks like,
# made by dpkg itself (confold, like the contract) and pushed as NAME:1.0-patched: the base
# layers plus one layer holding the whole upgraded root and a whiteout for OLDFILE.
reference_patch() {
    local name=$1 w="$T/ref-$1" d pkg
    deb_pull_root "$A" "demo/$name:1.0" "$w"
    if [ "$name" = full ]; then
        # shellcheck disable=SC2046
        dpkg --root="$w/root" --force-not-root --force-script-chrootless --force-unsafe-io \
            --force-confold --log=/dev/null -i \
            $(deb_debs "$V2" amd64 libdemo1 democonf demotool libnew1 demo-data) >/dev/null 2>&1 ||
            pf_fail "reference patch: dpkg -i"
        rm -f "$w/root/etc/ran-postinst" "$w/root/var/lib/dpkg/lock"* # it ran chrootless here
    else
        for d in $(deb_debs "$V2" amd64 libdemo1 demo-data); do
            pkg=$(dpkg-deb --field "$d" Package)
            deb_extract "$d" "$w/root"
            dpkg-deb --field "$d" >"$w/root/var/lib/dpkg/status.d/$pkg"
            dpkg-deb --ctrl-tarfile "$d" | tar -xO ./md5sums >"$w/root/var/lib/dpkg/status.d/$pkg.md5sums"
        done
    fi
    rm -f "$w/root/usr/share/doc/libdemo1/OLDFILE"
    : >"$w/root/usr/share/doc/libdemo1/.wh.OLDFILE"
    deb_tar "$w/root" "$w/top.tar"
    umoci raw add-layer "${DEB_HISTORY[@]}" --image "$w/oci:img" "$w/top.tar"
    umoci config --no-history --image "$w/oci:img" \
        --config.label "sh.patchfleet.base.digest=$(pf_manifest_digest "http://$A" "demo/$name" 1.0)"
    deb_push "$w/oci" img "$A/demo/$name:1.0-patched"
}

# ---------------------------------------------------------------------------------------------
if [ "$SELFTEST" != 1 ]; then
    pf_say "--dry-run --format json: Planned, nothing pushed"
    pf_run 0 "$T/dry.out" "$T/dry.err" "$PF" patch "${COMMON[@]}" --dry-run --format json \
        --cache-dir "$T/cache" --work-dir "$T/work-dry"
    for n in full multi distroless; do
        pf_assert_eq "dry-run: $n is Planned" Planned \
            "$(jq -r --arg n "$n" '.results[] | select(.name == $n) | .status' "$T/dry.out")"
    done
    st=$(jq -r '.results[] | select(.name == "uptodate") | .status' "$T/dry.out")
    case "$st" in UpToDate | Planned) pf_ok "dry-run: uptodate is $st" ;;
    *) pf_fail "dry-run: uptodate status '$st', want UpToDate or Planned" ;; esac
    for n in full multi uptodate distroless; do
        absent "demo/$n:1.0-patched" "dry-run pushed nothing"
    done

    pf_say "patch --push: summary table on stdout, exit 0"
    pf_run 0 "$T/push.out" "$T/push.err" "$PF" patch "${COMMON[@]}" --push \
        --cache-dir "$T/cache" --work-dir "$T/work"
    head -n 1 "$T/push.out" >"$T/push.head"
    grep -Eq '^NAME +STATUS +SOURCE IMAGE +PATCHED TAG +DETAILS *$' "$T/push.head" ||
        pf_fail "table header is not 'NAME STATUS SOURCE IMAGE PATCHED TAG DETAILS': $(cat "$T/push.head")"
    pf_ok "table header"
    row() { awk -v n="$1" '$1 == n' "$T/push.out"; }
    for n in full multi distroless; do
        [ "$(row "$n" | awk '{ print $2 }')" = Patched ] || pf_fail "row $n is not Patched: $(row "$n")"
        row "$n" | grep -qF "$A/demo/$n:1.0" || pf_fail "row $n lacks the source: $(row "$n")"
        row "$n" | grep -qF "1.0-patched" || pf_fail "row $n lacks the patched tag: $(row "$n")"
        pf_ok "row $n: Patched, source and 1.0-patched"
    done
    [ "$(row uptodate | awk '{ print $2 }')" = UpToDate ] || pf_fail "row uptodate: $(row uptodate)"
    pf_ok "row uptodate: UpToDate"
    pf_assert_eq "one table row per image" 5 "$(grep -c . "$T/push.out")"
else
    pf_say "PF_ORACLE_SELFTEST=1: reference patch by dpkg instead of patchfleet"
    reference_patch full
    reference_patch distroless
fi

# ---------------------------------------------------------------------------------------------
pf_say "skopeo: labels, annotation, layer count of demo/full:1.0-patched"
inspect demo/full:1.0-patched >"$T/full.inspect"
pf_assert_eq "label sh.patchfleet.base.digest = the base manifest digest" "$BASE_FULL" \
    "$(jq -r '.Labels["sh.patchfleet.base.digest"]' "$T/full.inspect")"
pf_assert_eq "layers = base + 1" $((BASE_LAYERS + 1)) "$(jq '.Layers | length' "$T/full.inspect")"
pf_assert_eq "base layers reused unchanged" "$(inspect demo/full:1.0 | jq -c '.Layers')" \
    "$(jq -c '.Layers[:-1]' "$T/full.inspect")"
skopeo inspect --raw --tls-verify=false "docker://$A/demo/full:1.0-patched" >"$T/full.raw"
if [ "$SELFTEST" != 1 ] && [ "$(jq -r .mediaType "$T/full.raw")" = application/vnd.oci.image.manifest.v1+json ]; then
    pf_assert_eq "annotation org.opencontainers.image.base.digest" "$BASE_FULL" \
        "$(jq -r '.annotations["org.opencontainers.image.base.digest"]' "$T/full.raw")"
fi
absent demo/uptodate:1.0-patched "UpToDate pushed nothing"

# check_top_layer OCIDIR: the patch layer whites out OLDFILE, has nothing under lib/ (the
# helper library is routed through the /lib -> usr/lib symlink into usr/lib/), and gives
# demotool the image's stat override (2755 root:4242), not the package's 0755 root:root.
check_top_layer() {
    local oci=$1 top
    top=$(jq -r '.layers[-1].digest' "$oci/blobs/sha256/$(jq -r '.manifests[0].digest' \
        "$oci/index.json" | cut -d: -f2)" | cut -d: -f2)
    python3 - "$oci/blobs/sha256/$top" >"$T/top.check" <<'PY' || pf_fail "top layer: $(cat "$T/top.check")"
import sys, tarfile
bad, wh = [], False
for m in tarfile.open(sys.argv[1], "r:*"):
    n = m.name[2:] if m.name.startswith("./") else m.name
    if n == "usr/share/doc/libdemo1/.wh.OLDFILE":
        wh = True
    if n.startswith("lib/") or (n in ("lib", "lib/") and not m.issym()):
        bad.append("%s (must go to usr/lib through the symlink)" % n)
    if n == "usr/bin/demotool" and (m.mode, m.uid, m.gid) != (0o2755, 0, 4242):
        bad.append("usr/bin/demotool is %o %d:%d, not the stat override 2755 0:4242" % (m.mode, m.uid, m.gid))
if bad:
    print("bad entries: %s" % bad); sys.exit(1)
if not wh:
    print("no whiteout usr/share/doc/libdemo1/.wh.OLDFILE"); sys.exit(1)
PY
    pf_ok "top layer: whiteout for OLDFILE, nothing under lib/, demotool 2755 root:4242 (stat override)"
}

# check_full_root ROOT ARCH: the upgraded dpkg root, checked with dpkg itself.
check_full_root() {
    local r=$1 arch=$2 t x d f
    t=$(deb_triplet "$arch")
    pf_assert_eq "$arch: lib is still the symlink usr/lib" usr/lib "$(readlink "$r/lib" || echo not-a-symlink)"
    pf_assert_eq "$arch: dpkg-query versions (heldpkg held, libnew1 new)" \
        "demo-data 1.0-2
democonf 1.0-2
demotool 2.0-1
heldpkg 1.0-1
libdemo1 1.0-2
libnew1 1.0-1" "$(dpkg-query --root="$r" -W -f='${Package} ${Version}\n' | LC_ALL=C sort)"
    pf_assert_eq "$arch: status words" "demo-data install ok installed
democonf install ok installed
demotool install ok installed
heldpkg hold ok installed
libdemo1 install ok installed
libnew1 install ok installed" "$(dpkg-query --root="$r" -W -f='${Package} ${Status}\n' | LC_ALL=C sort)"
    pf_assert_eq "$arch: dpkg --verify: only the user-edited conffile differs" \
        "??5?????? c /etc/democonf.d/keep.conf" "$(dpkg --root="$r" --verify 2>&1)"
    pf_assert_eq "$arch: dpkg --audit is clean" "" "$(dpkg --root="$r" --audit 2>&1)"
    pf_assert_eq "$arch: dpkg -S knows the new library" "libnew1:$arch: /usr/lib/$t/libnew.so.1" \
        "$(dpkg-query --root="$r" -S "/usr/lib/$t/libnew.so.1" 2>&1)"
    [ ! -e "$r/usr/share/doc/libdemo1/OLDFILE" ] || pf_fail "$arch: OLDFILE survived the upgrade"
    pf_ok "$arch: OLDFILE is gone"
    [ ! -e "$r/etc/ran-postinst" ] || pf_fail "$arch: a maintainer script ran (etc/ran-postinst)"
    pf_ok "$arch: no maintainer script ran"
    pf_assert_eq "$arch: libdemo.so.1 is v2" v2 "$(cat "$r/usr/lib/$t/libdemo.so.1")"
    pf_assert_eq "$arch: user's edit kept" keep=edited-by-user "$(cat "$r/etc/democonf.d/keep.conf")"
    pf_assert_eq "$arch: demotool keeps the stat override (dpkg-statoverride --list: $(dpkg-statoverride --root="$r" --list))" \
        "2755 0 4242" "$(stat -c '%a %u %g' "$r/usr/bin/demotool")"
    x="$T/x-$arch"
    rm -rf "$x"
    mkdir -p "$x"
    for d in $(deb_debs "$V2" "$arch" libdemo1 democonf demotool libnew1 demo-data); do
        dpkg-deb -x "$d" "$x"
        while read -r f; do
            if [ "$f" = etc/democonf.d/keep.conf ]; then
                cmp -s "$x/$f" "$r/$f.dpkg-dist" || pf_fail "$arch: $f.dpkg-dist differs from the new deb's"
            elif [ "$f" = usr/share/demo-data/data.txt ]; then
                cmp -s "$x/$f" "$r/$f.distrib" || pf_fail "$arch: the diverted $f.distrib differs from the new deb's"
            else
                cmp -s "$x/$f" "$r/$f" || pf_fail "$arch: /$f differs from dpkg-deb -x of $(basename "$d")"
            fi
        done < <(deb_data_files "$d")
    done
    pf_ok "$arch: every file byte-identical to dpkg-deb -x of the new debs (.dpkg-dist for the kept conffile, .distrib for the diverted file)"
    pf_assert_eq "$arch: the administrator's data.txt stays in front of the diversion ($(dpkg-divert --root="$r" --list))" \
        "data kept by the administrator" "$(cat "$r/usr/share/demo-data/data.txt")"
}

# check_info_like_dpkg ROOT ARCH: libdemo1's info/ files after the patch are exactly those the
# real dpkg leaves when it upgrades 1.0-1 to 1.0-2 in a scratch root (their scripts do nothing):
# same names (1.0-1's triggers gone, 1.0-2's symbols there), same bytes, same modes.
check_info_like_dpkg() {
    local r=$1 arch=$2 o="$T/dpkg-oracle-$2" f
    rm -rf "$o" "$o.log"
    deb_rootfs_dpkg "$o" "$arch" "$(deb_debs "$T/debs/v1" "$arch" libdemo1)"
    dpkg --root="$o" --force-not-root --force-script-chrootless --force-unsafe-io \
        --log=/dev/null -i "$(deb_debs "$V2" "$arch" libdemo1)" >"$o.log" 2>&1 ||
        pf_fail "oracle: dpkg upgrade of libdemo1 in $o: $(cat "$o.log")"
    (cd "$o/var/lib/dpkg/info" && ls -1 "libdemo1:$arch".*) >"$o.names"
    if ! grep -qx "libdemo1:$arch.symbols" "$o.names" || grep -qx "libdemo1:$arch.triggers" "$o.names"; then
        pf_fail "oracle: dpkg's info/ is not what the fixture promises: $(tr '\n' ' ' <"$o.names")"
    fi
    pf_assert_eq "$arch: info/libdemo1:$arch.* names = dpkg's upgrade" "$(cat "$o.names")" \
        "$(cd "$r/var/lib/dpkg/info" && ls -1 "libdemo1:$arch".*)"
    while read -r f; do
        cmp -s "$o/var/lib/dpkg/info/$f" "$r/var/lib/dpkg/info/$f" ||
            pf_fail "$arch: info/$f differs from dpkg's: $(diff "$o/var/lib/dpkg/info/$f" "$r/var/lib/dpkg/info/$f" | head -5)"
        pf_assert_eq "$arch: info/$f mode and owner = dpkg's" \
            "$(stat -c '%a %u %g' "$o/var/lib/dpkg/info/$f")" "$(stat -c '%a %u %g' "$r/var/lib/dpkg/info/$f")"
    done <"$o.names"
    pf_ok "$arch: libdemo1's info/ files byte-identical to dpkg's, same modes (shlibs 1.0-2, no triggers)"
}

pf_say "umoci unpack of demo/full:1.0-patched, checked with dpkg"
deb_pull_root "$A" demo/full:1.0-patched "$T/out-full"
check_top_layer "$T/out-full/oci"
check_full_root "$T/out-full/root" amd64
check_info_like_dpkg "$T/out-full/root" amd64

pf_say "distroless: status.d updated (parsed with awk, verified with md5sum -c)"
deb_pull_root "$A" demo/distroless:1.0-patched "$T/out-dl"
R=$T/out-dl/root
SD=$R/var/lib/dpkg/status.d
pf_assert_eq "status.d/libdemo1 Version" 1.0-2 "$(deb_statusd_field "$SD/libdemo1" Version)"
pf_assert_eq "status.d/demo-data Version" 1.0-2 "$(deb_statusd_field "$SD/demo-data" Version)"
for p in libdemo1 demo-data; do
    d=$(deb_debs "$V2" amd64 "$p")
    pf_assert_eq "status.d/$p.md5sums = the new deb's md5sums" \
        "$(dpkg-deb --ctrl-tarfile "$d" | tar -xO ./md5sums)" "$(cat "$SD/$p.md5sums")"
    (cd "$R" && md5sum -c --quiet "$SD/$p.md5sums") || pf_fail "md5sum -c of status.d/$p.md5sums"
    pf_ok "md5sum -c status.d/$p.md5sums"
done
[ ! -e "$R/usr/share/doc/libdemo1/OLDFILE" ] || pf_fail "distroless: OLDFILE survived"
pf_assert_eq "distroless: lib is still the symlink usr/lib" usr/lib "$(readlink "$R/lib" || echo no)"
[ ! -e "$R/var/lib/dpkg/info" ] || pf_fail "distroless: an info/ directory appeared"
pf_ok "distroless: OLDFILE gone, no info/"

if [ "$SELFTEST" = 1 ]; then
    pf_say "PF_ORACLE_SELFTEST=1: fixtures and oracles verified (patchfleet itself not run)"
    exit 0
fi

pf_say "multi-platform: an index with both platforms patched"
skopeo inspect --raw --tls-verify=false "docker://$A/demo/multi:1.0-patched" >"$T/multi.raw"
pf_assert_eq "index platforms" "amd64 arm64" \
    "$(jq -r '[.manifests[].platform.architecture] | sort | join(" ")' "$T/multi.raw")"
deb_pull_root "$A" demo/multi:1.0-patched "$T/out-arm64" arm64
check_full_root "$T/out-arm64/root" arm64
check_info_like_dpkg "$T/out-arm64/root" arm64

pf_say "second --push (--format json): same source, same digest: Skipped, no new tag (R13)"
pf_run 0 "$T/push2.out" "$T/push2.err" "$PF" patch "${COMMON[@]}" --push --format json \
    --cache-dir "$T/cache" --work-dir "$T/work2"
jq -e . "$T/push2.out" >/dev/null || pf_fail "--format json output is not JSON"
pf_assert_eq "json: statuses" "distroless Skipped unchanged since 1.0-patched
full Skipped unchanged since 1.0-patched
multi Skipped unchanged since 1.0-patched
uptodate UpToDate up to date" \
    "$(jq -r '.results[] | "\(.name) \(.status) \(.details)"' "$T/push2.out" | LC_ALL=C sort)"
pf_assert_eq "json: full amd64 upgrades (heldpkg not among them)" \
    "demo-data all 1.0-1 1.0-2
democonf amd64 1.0-1 1.0-2
demotool amd64 1.0-1 2.0-1
libdemo1 amd64 1.0-1 1.0-2
libnew1 amd64  1.0-1" \
    "$(jq -r '.results[] | select(.name == "full") | .platforms[] | .upgrades[] |
        "\(.name) \(.arch) \(.from // "") \(.to)"' "$T/push2.out" | LC_ALL=C sort)"
pf_assert_eq "json: a skipped row names the tag it matched" "$A/demo/multi:1.0-patched 1.0-patched" \
    "$(jq -r '.results[] | select(.name == "multi") | "\(.patched) \(.patched_tag)"' "$T/push2.out")"
for n in full multi distroless; do
    absent "demo/$n:1.0-patched-1" "unchanged rerun minted no tag"
done

pf_say "third --push after 1.0-patched changed: versioned tag 1.0-patched-1, same layer digest"
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$A/demo/uptodate:1.0" \
    "docker://$A/demo/full:1.0-patched" >/dev/null || pf_fail "retag demo/full:1.0-patched"
pf_run 0 "$T/push3.out" "$T/push3.err" "$PF" patch "${COMMON[@]}" --push --format json \
    --cache-dir "$T/cache" --work-dir "$T/work2"
pf_assert_eq "json: full Patched OK as 1.0-patched-1" "Patched $A/demo/full:1.0-patched-1" \
    "$(jq -r '.results[] | select(.name == "full") | "\(.status) \(.patched)"' "$T/push3.out")"
P2="$A/demo/full:1.0-patched-1"
pf_assert_eq "same patch layer digest in both runs" "$(jq -r '.Layers[-1]' "$T/full.inspect")" \
    "$(skopeo inspect --tls-verify=false "docker://$P2" | jq -r '.Layers[-1]')"
pf_assert_eq "1.0-patched-1 is the first run's image again" "$(jq -r .Digest "$T/full.inspect")" \
    "$(skopeo inspect --tls-verify=false "docker://$P2" | jq -r .Digest)"

pf_say "--oci-dir: an OCI layout, checked with umoci"
cat >"$T/oci.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: full
    image: "$A/demo/full"
    tags:
      strategy: list
      list: ["1.0"]
EOF
pf_run 0 "$T/oci.out" "$T/oci.err" "$PF" patch --config "$T/oci.yaml" --oci-dir "$T/ocidir" \
    --keyring "$T/keyring.gpg" --cache-dir "$T/cache" --work-dir "$T/work3"
OL=$(dirname "$(find "$T/ocidir" -name index.json -print | LC_ALL=C sort | head -n 1)")
[ -f "$OL/oci-layout" ] || pf_fail "--oci-dir wrote no OCI layout under $T/ocidir"
OREF=$(umoci ls --layout "$OL" | head -n 1)
[ -n "$OREF" ] || pf_fail "no tag in the OCI layout $OL"
umoci raw unpack --image "$OL:$OREF" "$T/oci-root" >/dev/null 2>&1 || pf_fail "umoci raw unpack $OL:$OREF"
pf_ok "umoci unpacks $OL:$OREF"
pf_assert_eq "oci-dir: same versions as pushed" \
    "$(dpkg-query --root="$T/out-full/root" -W -f='${Package} ${Version}\n' | LC_ALL=C sort)" \
    "$(dpkg-query --root="$T/oci-root" -W -f='${Package} ${Version}\n' | LC_ALL=C sort)"
absent demo/full:1.0-patched-2 "--oci-dir pushed nothing"
