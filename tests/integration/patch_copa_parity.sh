#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry apt deb copa
#
# Copa parity and beyond (issue #5), end to end against a real docker-registry and a signed apt
# archive: a bulk config of the shapes of Copa's bulk test (ours, tests/data/copa/bulk.yaml, or
# Copa's own configs/config-test.yaml when PF_COPA_FIXTURES names its fixtures directory;
# placeholders replaced by test repositories) produces exactly Copa's expected tags; skip
# detection with a clean report, a fixable one and a broken file; tag versioning over several
# runs; a multi-arch amd64+arm64 index with one platform filtered (the arm64 one, patched on
# this host: checked with dpkg-query on the unpacked arm64 root) and one absent platform warned
# about; a cross-registry target whose preserved platform is copied; --oci-dir holding every
# job in one layout, each read back with `skopeo inspect oci:DIR:REF`; discovery failures as
# Error rows; a listed tag the repository lacks warned about and skipped (no row, exit 0).
set -euo pipefail

# Copa's fixtures live outside the repository (CTest's integration/patch_copa_parity/
# copa-fixtures points PF_COPA_FIXTURES at ../shared/fixtures); without them, skip (77) before
# starting anything. The default run uses our files of the same shapes.
if [ -n "${PF_COPA_FIXTURES:-}" ]; then
    if [ ! -d "$PF_COPA_FIXTURES/configs" ] || [ ! -d "$PF_COPA_FIXTURES/reports" ]; then
        echo "SKIP: $PF_COPA_FIXTURES holds no Copa fixtures (a plain clone has no ../shared);" \
            "integration/patch_copa_parity runs the same checks on tests/data"
        exit 77
    fi
    BULK_CFG=$PF_COPA_FIXTURES/configs/config-test.yaml
    SKIP_CFG=$PF_COPA_FIXTURES/configs/config-skip-test.yaml
    OTHER_REPORT=$PF_COPA_FIXTURES/reports/trivy_valid.json
else
    BULK_CFG=${PF_SRC:?}/tests/data/copa/bulk.yaml
    SKIP_CFG=$PF_SRC/tests/data/copa/bulk-skip.yaml
    OTHER_REPORT=$PF_SRC/tests/data/reports/trivy-fixable.json
fi

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"
pf_require docker-registry skopeo umoci jq curl python3
deb_fixture_require
pf_require_cli patch
pf_tmpdir
T=$PF_TMP
pf_say "bulk configs: $BULK_CFG, $SKIP_CFG"

# ---------------------------------------------------------------------------------------------
pf_say "fixtures: packages, signed archive, two registries, images"
deb_build_all "$T/debs"
V1=$T/debs/v1
V2=$T/debs/v2
apt_gpg_home "$T/gnupg"
apt_export_keyring "$T/keyring.gpg"
mkdir -p "$T/www"
deb_repo_suite "$T/www/repo" stable "amd64 arm64" "$V2"/*.deb
apt_gpg_stop
pf_http_start APT "$T/www"
REPO_URL="$HTTP_APT_URL/repo/"
pf_registry_start plain A
pf_registry_start plain B
A=$REG_A_ADDR
B=$REG_B_ADDR
L=$T/layout
deb_image_full "$L" full-amd64 amd64 "$V1" "$REPO_URL" "$T/keyring.gpg"
deb_image_full "$L" full-arm64 arm64 "$V1" "$REPO_URL" "$T/keyring.gpg"
seed_index "$L" multi full-amd64 full-arm64
for t in 1.25.0 1.25.1 1.25.2 1.25.3; do deb_push "$L" full-amd64 "$A/e2e/nginx:$t"; done
for t in 3.18.0 3.19.1; do deb_push "$L" full-amd64 "$A/e2e/alpine:$t"; done
deb_push "$L" full-amd64 "$A/e2e/ubuntu:20.04"
deb_push "$L" full-amd64 "$A/demo/app:1.0"
deb_push_all "$L" multi "$A/demo/multi:1.0"
pf_ok "images seeded in $A"

COMMON=(--timeout 5m --keyring "$T/keyring.gpg" --cache-dir "$T/cache")
tags() { skopeo list-tags --tls-verify=false "docker://$1" | jq -r '.Tags[]' | LC_ALL=C sort | tr '\n' ' '; }
field() { jq -r --arg n "$2" '.results[] | select(.name == $n) | '"$3" "$1"; }
has() { # has WHAT NEEDLE STRING
    case "$3" in *"$2"*) pf_ok "$1" ;; *) pf_fail "$1: '$3' does not contain '$2'" ;; esac
}

# ---------------------------------------------------------------------------------------------
pf_say "bulk config of Copa's shapes: exactly the expected tags"
sed -e "s|__NGINX_REPO__|$A/e2e/nginx|" -e "s|__ALPINE_REPO__|$A/e2e/alpine|" \
    -e "s|__UBUNTU_REPO__|$A/e2e/ubuntu|" "$BULK_CFG" >"$T/config-test.yaml"
pf_run 0 "$T/c1.out" "$T/c1.err" "$PF" patch --config "$T/config-test.yaml" --push "${COMMON[@]}" \
    --work-dir "$T/w1"
pf_assert_eq "nginx tags" "1.25.0 1.25.1 1.25.2 1.25.2-patched-e2e 1.25.3 1.25.3-patched-e2e " \
    "$(tags "$A/e2e/nginx")"
pf_assert_eq "alpine tags" "3.18.0 3.19.1 3.19.1-patched-e2e " "$(tags "$A/e2e/alpine")"
pf_assert_eq "ubuntu tags" "20.04 20.04-patched-e2e " "$(tags "$A/e2e/ubuntu")"
grep -Eq '^nginx-pattern-test +Patched +[^ ]+nginx:1.25.3 +1.25.3-patched-e2e +OK$' "$T/c1.out" ||
    pf_fail "table row: PATCHED TAG is the tag, DETAILS is OK: $(cat "$T/c1.out")"
pf_ok "table: PATCHED TAG holds the tag, DETAILS = OK"

# ---------------------------------------------------------------------------------------------
pf_say "skip detection: clean report skips, fixable re-patches from the source, broken warns"
sed -e "s|__ALPINE_REPO__|$A/e2e/alpine|" "$SKIP_CFG" >"$T/skip.yaml"
pf_run 0 "$T/s1.out" "$T/s1.err" "$PF" patch --config "$T/skip.yaml" --push "${COMMON[@]}" \
    --work-dir "$T/w2" --format json
pf_assert_eq "run 1: Patched as 3.19.1-skip-test" "Patched 3.19.1-skip-test" \
    "$(field "$T/s1.out" alpine-skip-test '"\(.status) \(.patched_tag)"')"
mkdir -p "$T/reports"
printf '{"SchemaVersion":2,"ArtifactName":"%s","Results":[{"Class":"os-pkgs","Type":"debian"}]}\n' \
    "$A/e2e/alpine:3.19.1-skip-test" >"$T/reports/clean.json"
cp "$OTHER_REPORT" "$T/reports/other-image.json" # another image: ignored
pf_run 0 "$T/s2.out" "$T/s2.err" "$PF" patch --config "$T/skip.yaml" --push "${COMMON[@]}" \
    --work-dir "$T/w2" -r "$T/reports"
grep -Eq '^alpine-skip-test +Skipped +[^ ]+ +3.19.1-skip-test +no fixable vulnerabilities$' \
    "$T/s2.out" || pf_fail "clean report: not Skipped: $(cat "$T/s2.out")"
pf_assert_eq "clean report: no new tag" "3.18.0 3.19.1 3.19.1-patched-e2e 3.19.1-skip-test " \
    "$(tags "$A/e2e/alpine")"
# A fixable report: the re-patch starts from the source, so it is the same image as run 1 and
# the unchanged check keeps it from minting a tag; then make the newest tag differ.
sed 's/"Type":"debian"}/"Type":"debian","Vulnerabilities":[{"PkgName":"libdemo1","FixedVersion":"1.0-2"}]}/' \
    "$T/reports/clean.json" >"$T/reports/clean.json.new"
mv "$T/reports/clean.json.new" "$T/reports/clean.json"
pf_run 0 "$T/s3.out" "$T/s3.err" "$PF" patch --config "$T/skip.yaml" --push "${COMMON[@]}" \
    --work-dir "$T/w2" -r "$T/reports" --format json
pf_assert_eq "fixable report, same result: Skipped unchanged" \
    "Skipped unchanged since 3.19.1-skip-test" \
    "$(field "$T/s3.out" alpine-skip-test '"\(.status) \(.details)"')"
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$A/e2e/alpine:3.18.0" \
    "docker://$A/e2e/alpine:3.19.1-skip-test" >/dev/null
pf_run 0 "$T/s4.out" "$T/s4.err" "$PF" patch --config "$T/skip.yaml" --push "${COMMON[@]}" \
    --work-dir "$T/w2" -r "$T/reports" --format json
pf_assert_eq "fixable report: re-patched as -1" "Patched 3.19.1-skip-test-1 OK" \
    "$(field "$T/s4.out" alpine-skip-test '"\(.status) \(.patched_tag) \(.details)"')"
pf_assert_eq "re-patch is built from the source (base digest label)" \
    "$(pf_manifest_digest "http://$A" e2e/alpine 3.19.1)" \
    "$(skopeo inspect --tls-verify=false "docker://$A/e2e/alpine:3.19.1-skip-test-1" |
        jq -r '.Labels["sh.patchfleet.base.digest"]')"
# An arch side tag is not a version; a broken report of the newest tag warns and patches.
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$A/e2e/alpine:3.18.0" \
    "docker://$A/e2e/alpine:3.19.1-skip-test-386" >/dev/null
printf '{"SchemaVersion":2,"ArtifactName":"%s","Results":"oops"}\n' \
    "$A/e2e/alpine:3.19.1-skip-test-1" >"$T/reports/broken.json"
printf 'not json\n' >"$T/reports/garbage.json"
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$A/e2e/alpine:3.18.0" \
    "docker://$A/e2e/alpine:3.19.1-skip-test-1" >/dev/null
pf_run 0 "$T/s5.out" "$T/s5.err" "$PF" patch --config "$T/skip.yaml" --push "${COMMON[@]}" \
    --work-dir "$T/w2" -r "$T/reports" --format json
pf_assert_eq "broken report: patched as -2 (not -387)" "Patched 3.19.1-skip-test-2" \
    "$(field "$T/s5.out" alpine-skip-test '"\(.status) \(.patched_tag)"')"
has "broken report: the warning names the file" "'broken.json' is unreadable" \
    "$(field "$T/s5.out" alpine-skip-test .details)"
has "garbage file: warned on stderr" "'garbage.json'" "$(cat "$T/s5.err")"
pf_run 2 "$T/s6.out" "$T/s6.err" "$PF" patch --config "$T/skip.yaml" --push "${COMMON[@]}" \
    --scanner native
pf_ok "--scanner without -r: usage error"

# ---------------------------------------------------------------------------------------------
pf_say "multi-arch: arm64 only (filtered), absent s390x warned, cross-registry target"
cat >"$T/multi.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
target:
  registry: "$B/fleet"
images:
  - name: multi
    image: "$A/demo/multi"
    tags: {strategy: list, list: ["1.0"]}
    platforms: ["linux/arm64", "linux/s390x"]
  - name: none
    image: "$A/demo/multi"
    tags: {strategy: list, list: ["1.0"]}
    platforms: ["linux/ppc64le"]
    target: {tag: "{{ .SourceTag }}-none"}
  - name: ghost
    image: "$A/demo/ghost"
    tags: {strategy: latest}
EOF
pf_run 1 "$T/m1.out" "$T/m1.err" "$PF" patch --config "$T/multi.yaml" --push "${COMMON[@]}" \
    --work-dir "$T/w3" --format json
pf_assert_eq "multi: Patched in the target registry" "Patched $B/fleet/multi:1.0-patched" \
    "$(field "$T/m1.out" multi '"\(.status) \(.patched)"')"
has "multi: absent platform is a warning" "platform linux/s390x is not in the image" \
    "$(field "$T/m1.out" multi .details)"
has "none: no platform matches: Failed with a clear message" \
    "none of the platforms [linux/ppc64le] is in the image" "$(field "$T/m1.out" none .details)"
pf_assert_eq "ghost: discovery failure is an Error row" Error "$(field "$T/m1.out" ghost .status)"
skopeo inspect --raw --tls-verify=false "docker://$B/fleet/multi:1.0-patched" >"$T/m.raw"
SRC_AMD=$(skopeo inspect --raw --tls-verify=false "docker://$A/demo/multi:1.0" |
    jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest')
pf_assert_eq "amd64 kept unchanged in the new index" "$SRC_AMD" \
    "$(jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest' "$T/m.raw")"
skopeo inspect --raw --tls-verify=false "docker://$B/fleet/multi@$SRC_AMD" >/dev/null ||
    pf_fail "the preserved amd64 manifest was not copied to $B/fleet/multi"
pf_ok "preserved amd64 manifest copied into the target repository"
deb_pull_root "$B" fleet/multi:1.0-patched "$T/arm" arm64
pf_assert_eq "arm64 patched on this host: libdemo1 1.0-2 arm64" "libdemo1 1.0-2 arm64" \
    "$(dpkg-query --root="$T/arm/root" -W -f='${Package} ${Version} ${Architecture}' libdemo1)"
pf_assert_eq "arm64: the library is the arm64 v2 one" v2 \
    "$(cat "$T/arm/root/usr/lib/aarch64-linux-gnu/libdemo.so.1")"
pf_assert_eq "no per-arch side tags in the target" "1.0-patched " "$(tags "$B/fleet/multi")"

# ---------------------------------------------------------------------------------------------
pf_say "--oci-dir: every job in ONE layout, ref name = target reference, read back by skopeo"
cat >"$T/oci.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: app
    image: "$A/demo/app"
    tags: {strategy: list, list: ["1.0", "9.9-missing"]}
  - name: multi
    image: "$A/demo/multi"
    tags: {strategy: list, list: ["1.0"]}
  - name: nginx
    image: "$A/e2e/nginx"
    tags: {strategy: list, list: ["1.25.0"]}
EOF
pf_run 0 "$T/o.out" "$T/o.err" "$PF" patch --config "$T/oci.yaml" --oci-dir "$T/oci" \
    "${COMMON[@]}" --work-dir "$T/w4" --format wide
for ref in "$A/demo/app:1.0-patched" "$A/demo/multi:1.0-patched" "$A/e2e/nginx:1.25.0-patched"; do
    grep -qF "oci:$T/oci:$ref" "$T/o.out" || pf_fail "--format wide lacks oci:$T/oci:$ref"
    skopeo inspect "oci:$T/oci:$ref" >/dev/null || pf_fail "skopeo inspect oci:$T/oci:$ref"
    pf_ok "skopeo inspect oci:$T/oci:$ref"
done
pf_assert_eq "one layout, three refs" 3 "$(jq '.manifests | length' "$T/oci/index.json")"
# A listed tag the repository lacks: warned and skipped (Copa's documented bulk behaviour), no
# row, and the run above still exited 0.
pf_assert_contains "missing list tag: warning on stderr" \
    "image 'app': tag '9.9-missing' not found in the repository, skipping" "$T/o.err"
grep -q '9.9-missing' "$T/o.out" &&
    pf_fail "missing list tag: a summary row names it: $(cat "$T/o.out")"
pf_ok "missing list tag: no row, exit 0"
