#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry apk apt deb mirror
#
# `patchfleet patch` with tests/harness/fault_proxy.py between it and the package mirrors: the
# signed APKINDEX and the .apk files of tests/harness/apk_fixture.sh (served over http at the path
# of Alpine's CDN), then the signed apt archive of tests/harness/deb_fixture.sh (the image's
# sources name the proxy). One run per fault, each on its own copy of the image and its own cache, so a
# run cannot profit from another's downloads:
#   transient faults (429 with Retry-After, whose wait is measured from the proxy log's times, 503, a TCP reset, a truncated body, a slow body, each
#   for fewer hits than the fetcher's 3 attempts) end Patched, and the proxy's log shows the
#   retries;
#   permanent or lying ones (503 every time, a Content-Length larger than the body, a body one
#   byte short under an honest-looking Content-Length, 404) end Failed with a reason naming the
#   file or the status, and nothing is pushed.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apk_fixture.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"

pf_require_cli patch
pf_require skopeo jq curl python3
apk_fixture_require
deb_fixture_require
pf_tmpdir
T=$PF_TMP

pf_say "fixtures: apk packages, signed index, http mirror behind the fault proxy, registry"
apk_key "$T/keys" test@patchfleet-it
apk_build_all "$T/out" "$T/keys/test@patchfleet-it.rsa" x86_64 >/dev/null
REPO_DIR=$T/www/alpine/v3.20/main/x86_64
mkdir -p "$REPO_DIR"
cp "$T/out/v2/x86_64/APKINDEX.tar.gz" "$T/out/v2/x86_64/"*-1.0-r1.apk \
    "$T/out/v2/x86_64/"demo-new-*.apk "$REPO_DIR/"
pf_http_start APK "$T/www"
pf_fault_proxy_start M "$HTTP_APK_URL"
M=$PROXY_M_URL
pf_registry_start plain A
A=$REG_A_ADDR

# The image: v1 packages installed, their installed-db stanzas, the test key trusted.
R=$T/root
mkdir -p "$R/etc/apk/keys" "$R/lib/apk/db"
printf 'ID=alpine\nVERSION_ID=3.20.0\n' >"$R/etc/os-release"
printf 'http://dl-cdn.alpinelinux.org/alpine/v3.20/main\n' >"$R/etc/apk/repositories"
printf 'demo-base\ndemo-conf\n' >"$R/etc/apk/world"
cp "$T/keys/test@patchfleet-it.rsa.pub" "$R/etc/apk/keys/"
for p in "$T/out/v1/x86_64"/*.apk; do
    python3 - "$p" "$R" <<'PY'
import gzip, io, sys, tarfile, zlib
raw = open(sys.argv[1], "rb").read(); pos = 0; members = []
while pos < len(raw):
    d = zlib.decompressobj(31); d.decompress(raw[pos:]); end = len(raw) - len(d.unused_data)
    members.append(raw[pos:end]); pos = end
tarfile.open(fileobj=io.BytesIO(gzip.decompress(members[-1]))).extractall(sys.argv[2])
PY
    apk_installed_stanza "$p" >>"$R/lib/apk/db/installed"
done
deb_tar "$R" "$T/layer1.tar"
deb_image_new "$T/layout" alpine amd64 "$T/layer1.tar"

# run_case NAME WANT_STATUS WANT_EXIT RULE...: pushes the image as demo/m-NAME:3.20, sets the
# proxy's rules, patches through it, checks the status, and for a failure that nothing was
# pushed. Leaves the JSON result in $T/NAME.out.
run_case() {
    local name=$1 want=$2 rc=$3 st
    shift 3
    deb_push "$T/layout" alpine "$A/demo/m-$name:3.20"
    cat >"$T/$name.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: $name
    image: "$A/demo/m-$name"
    tags:
      strategy: list
      list: ["3.20"]
EOF
    pf_proxy_rules "$M" "$@"
    : >"$PROXY_M_LOG"
    pf_run "$rc" "$T/$name.out" "$T/$name.err" "$PF" patch --config "$T/$name.yaml" \
        --cache-dir "$T/cache-$name" --work-dir "$T/work-$name" --timeout 2m \
        --pkg-mirror "http://dl-cdn.alpinelinux.org=$M" --push --format json
    st=$(jq -r '.results[0].status' "$T/$name.out")
    pf_assert_eq "$name: status" "$want" "$st"
    if [ "$want" != Patched ]; then
        if skopeo inspect --raw --tls-verify=false "docker://$A/demo/m-$name:3.20-patched" \
            >/dev/null 2>&1; then
            pf_fail "$name: demo/m-$name:3.20-patched was pushed"
        fi
        pf_ok "$name: nothing pushed"
    else
        skopeo inspect --raw --tls-verify=false "docker://$A/demo/m-$name:3.20-patched" \
            >/dev/null || pf_fail "$name: Patched but demo/m-$name:3.20-patched is missing"
    fi
}

# details NAME: writes the result's one-line reason to $T/NAME.why and prints that file's name.
details() {
    jq -r '.results[0].details // ""' "$T/$1.out" >"$T/$1.why"
    echo "$T/$1.why"
}

# hits REGEX: how many requests the proxy saw whose target matches REGEX.
hits() { grep -cE " GET [^ ]*$1" "$PROXY_M_LOG" || true; }

pf_say "no fault: the baseline through the proxy"
run_case clean Patched 0
pf_assert_eq "clean: demo-base fetched once" 1 "$(hits 'demo-base-1\.0-r1\.apk')"

pf_say "transient faults end Patched"
run_case tmr Patched 0 'path~demo-base-1\.0-r1\.apk:429:retry-after=1:count=2'
pf_assert_eq "429 x2: demo-base fetched 3 times" 3 "$(hits 'demo-base-1\.0-r1\.apk')"
# The wait the fetcher left between the 429 and the next attempt: Retry-After (2 s), not its own
# 0.5 s back-off.
run_case ra_wait Patched 0 'path~demo-base-1\.0-r1\.apk:429:retry-after=2:count=1'
gap=$(grep -E ' GET [^ ]*demo-base-1\.0-r1\.apk ' "$PROXY_M_LOG" |
    awk 'NR == 1 { a = $1 } NR == 2 { printf "%d", ($1 - a) * 1000 }')
[ -n "$gap" ] && [ "$gap" -ge 1900 ] ||
    pf_fail "429 with Retry-After: 2: the retry came after ${gap:-?} ms, want >= 1900"
pf_ok "429 with Retry-After: 2: the retry waited ${gap} ms"
run_case unavail Patched 0 'path~APKINDEX\.tar\.gz:503:count=2'
pf_assert_eq "503 x2 on the index: APKINDEX fetched 3 times" 3 "$(hits 'APKINDEX\.tar\.gz')"
run_case reset Patched 0 'path~demo-base-1\.0-r1\.apk:reset:count=2'
run_case truncate Patched 0 'path~demo-base-1\.0-r1\.apk:truncate:count=1'
pf_assert_eq "truncated once: demo-base fetched twice" 2 "$(hits 'demo-base-1\.0-r1\.apk')"
run_case slow Patched 0 'path~\.apk$:slow:delay=0.02:count=inf'

pf_say "permanent and lying faults end Failed, with a reason, nothing pushed"
run_case down Failed 1 'path~demo-base-1\.0-r1\.apk:503:count=inf'
pf_assert_contains "503 always: the reason names the status" "503" "$(details down)"
pf_assert_contains "503 always: the reason names the file" "demo-base" "$(details down)"
pf_assert_eq "503 always: 3 attempts, no more" 3 "$(hits 'demo-base-1\.0-r1\.apk')"
run_case gone Failed 1 'path~demo-base-1\.0-r1\.apk:404:count=inf'
pf_assert_contains "404: the reason names the file" "demo-base" "$(details gone)"
pf_assert_eq "404: not retried" 1 "$(hits 'demo-base-1\.0-r1\.apk')"
run_case lie Failed 1 'path~demo-base-1\.0-r1\.apk:lie:count=inf'
pf_assert_contains "Content-Length too large: the reason names the file" "demo-base" "$(details lie)"
run_case short Failed 1 'path~demo-base-1\.0-r1\.apk:short:count=inf'
pf_assert_contains "a body one byte short: the reason names the package" "demo-base" "$(details short)"
run_case index_short Failed 1 'path~APKINDEX\.tar\.gz:short:count=inf'
pf_assert_contains "a short APKINDEX: the reason names the index" "APKINDEX" "$(details index_short)"

# ---------------------------------------------------------------------------------------------
pf_say "Debian: a signed apt archive behind the proxy, the image's sources pointing at it"
deb_build_all "$T/debs"
apt_gpg_home "$T/gnupg"
apt_export_keyring "$T/keyring.gpg"
deb_repo_suite "$T/apt/repo" stable amd64 "$T/debs/v2"/*_amd64.deb "$T/debs/v2"/*_all.deb
apt_gpg_stop
pf_http_start APT "$T/apt"
pf_fault_proxy_start D "$HTTP_APT_URL"
D=$PROXY_D_URL
deb_image_full "$T/dlayout" full amd64 "$T/debs/v1" "$D/repo/" "$T/keyring.gpg"

# run_deb_case NAME WANT_STATUS WANT_EXIT RULE...: as run_case, for demo/d-NAME:1.0.
run_deb_case() {
    local name=$1 want=$2 rc=$3 st
    shift 3
    deb_push "$T/dlayout" full "$A/demo/d-$name:1.0"
    cat >"$T/$name.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: $name
    image: "$A/demo/d-$name"
    tags:
      strategy: list
      list: ["1.0"]
EOF
    pf_proxy_rules "$D" "$@"
    : >"$PROXY_D_LOG"
    pf_run "$rc" "$T/$name.out" "$T/$name.err" "$PF" patch --config "$T/$name.yaml" \
        --cache-dir "$T/cache-$name" --work-dir "$T/work-$name" --timeout 2m --push --format json
    st=$(jq -r '.results[0].status' "$T/$name.out")
    pf_assert_eq "$name: status" "$want" "$st"
    if [ "$want" != Patched ]; then
        if skopeo inspect --raw --tls-verify=false "docker://$A/demo/d-$name:1.0-patched" \
            >/dev/null 2>&1; then
            pf_fail "$name: demo/d-$name:1.0-patched was pushed"
        fi
        pf_ok "$name: nothing pushed"
    else
        skopeo inspect --raw --tls-verify=false "docker://$A/demo/d-$name:1.0-patched" \
            >/dev/null || pf_fail "$name: Patched but demo/d-$name:1.0-patched is missing"
    fi
}
dhits() { grep -cE " GET [^ ]*$1" "$PROXY_D_LOG" || true; }

run_deb_case d_clean Patched 0
run_deb_case d_inrelease Patched 0 'path~/InRelease$:503:count=2'
pf_assert_eq "503 x2 on InRelease: fetched 3 times" 3 "$(dhits '/InRelease ')"
run_deb_case d_reset Patched 0 'path~libdemo1_[^/]*\.deb$:reset:count=2'
run_deb_case d_truncate Patched 0 'path~libdemo1_[^/]*\.deb$:truncate:count=1'
run_deb_case d_slow Patched 0 'path~/Packages:slow:delay=0.01:count=inf'
run_deb_case d_down Failed 1 'path~libdemo1_[^/]*\.deb$:503:count=inf'
pf_assert_contains "503 always on a .deb: the reason names it" "libdemo1" "$(details d_down)"
run_deb_case d_lie Failed 1 'path~libdemo1_[^/]*\.deb$:lie:count=inf'
pf_assert_contains "a .deb with a Content-Length too large: the reason names it" "libdemo1" \
    "$(details d_lie)"
run_deb_case d_short Failed 1 'path~libdemo1_[^/]*\.deb$:short:count=inf'
pf_assert_contains "a .deb one byte short: the reason names it" "libdemo1" "$(details d_short)"
run_deb_case d_packages_short Failed 1 'path~/Packages:short:count=inf'
pf_assert_contains "a short Packages index: the reason names it" "Packages" \
    "$(details d_packages_short)"

pf_say "mirror faults: all cases as expected"
