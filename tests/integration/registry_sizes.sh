#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry apt deb
#
# Declared sizes (issue 14, item 2). docker-registry checks that a pushed manifest's blobs exist,
# not that their sizes are what the manifest says, so a manifest can name a layer with the right
# digest and `size: 10`. Such an image must not be patched or copied with the lie carried over
# (umoci cannot unpack the result): `patch --push` and `copy` fail naming the descriptor (media
# type, digest, declared and actual size) and push nothing, for a layer, a config and an index
# entry, whether the blob is downloaded, already at the destination or mounted. The same images
# with honest sizes still pass.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"
pf_require docker-registry skopeo umoci jq curl python3
deb_fixture_require
pf_require_cli patch copy
pf_tmpdir
T=$PF_TMP

pf_say "fixtures: signed archive, http server, two registries, demo images"
deb_archive_demo "$T"
pf_http_start APT "$T/www"
pf_registry_start plain A
pf_registry_start plain B
A=$REG_A_ADDR
B=$REG_B_ADDR
deb_push_demo_images "$T/layout" "$HTTP_APT_URL/repo/" "$T/keyring.gpg" "$A"

MT_ALL=(-H 'Accept: application/vnd.oci.image.index.v1+json'
    -H 'Accept: application/vnd.oci.image.manifest.v1+json'
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json'
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json')

# raw REPO REF: the manifest bytes; raw_type REPO REF: its media type.
raw() { curl -fsS "${MT_ALL[@]}" "http://$A/v2/$1/manifests/$2"; }
raw_type() {
    curl -fsSI "${MT_ALL[@]}" "http://$A/v2/$1/manifests/$2" | tr -d '\r' |
        awk -F': ' 'tolower($1) == "content-type" { print $2 }'
}

# lie SRC_REPO DEST_REPO JQ_FILTER: DEST_REPO:1.0 is SRC_REPO:1.0 rewritten by JQ_FILTER, pushed
# as is with curl (the registry stores it: it checks blobs exist, not their sizes).
lie() {
    local mt
    mt=$(raw_type "$1" 1.0)
    local f="$T/${2//\//_}.json"
    raw "$1" 1.0 | jq -c "$3" >"$f"
    curl -sS -o "$f.resp" -w '%{http_code}' -X PUT -H "Content-Type: $mt" --data-binary "@$f" \
        "http://$A/v2/$2/manifests/1.0" >"$f.code"
    [ "$(cat "$f.code")" = 201 ] ||
        pf_fail "the registry refused the $2 manifest: $(cat "$f.code") $(head -c 300 "$f.resp")"
    raw "$2" 1.0 | cmp -s - "$f" || pf_fail "$2: the registry did not store the manifest as sent"
}

# Every blob of the lying manifests must exist in their repositories: mount them first.
mount_all() {
    local from=$1 to=$2 d
    for d in $(raw "$from" 1.0 | jq -r '.config.digest, .layers[].digest'); do
        curl -fsS -o /dev/null -X POST "http://$A/v2/$to/blobs/uploads/?mount=$d&from=$from"
    done
}

LAYER0=$(raw demo/full 1.0 | jq -r '.layers[0].digest')
LAYER0_SIZE=$(raw demo/full 1.0 | jq -r '.layers[0].size')
CONFIG=$(raw demo/full 1.0 | jq -r '.config.digest')
CONFIG_SIZE=$(raw demo/full 1.0 | jq -r '.config.size')
mount_all demo/full demo/liar
mount_all demo/full demo/liarcfg
lie demo/full demo/liar '.layers[0].size = 10'
lie demo/full demo/liarcfg '.config.size = 10'
pf_ok "demo/liar:1.0 says layer $LAYER0 has 10 bytes (it has $LAYER0_SIZE)"
pf_ok "demo/liarcfg:1.0 says config $CONFIG has 10 bytes (it has $CONFIG_SIZE)"

# The index: its first entry's size lies; the child manifests and their blobs come along
# by digest (blobs mounted, manifests put).
for d in $(raw demo/multi 1.0 | jq -r '.manifests[].digest'); do
    raw demo/multi "$d" >"$T/child.json"
    for c in $(jq -r '.config.digest, .layers[].digest' "$T/child.json"); do
        curl -fsS -o /dev/null -X POST "http://$A/v2/demo/liarix/blobs/uploads/?mount=$c&from=demo/multi"
    done
    curl -fsS -o /dev/null -X PUT -H "Content-Type: $(raw_type demo/multi "$d")" \
        --data-binary "@$T/child.json" "http://$A/v2/demo/liarix/manifests/$d"
done
ENTRY1=$(raw demo/multi 1.0 | jq -r '.manifests[1].digest')
ENTRY1_SIZE=$(raw demo/multi 1.0 | jq -r '.manifests[1].size')
ENTRY1_ARCH=$(raw demo/multi 1.0 | jq -r '.manifests[1].platform.architecture')
ENTRY0=$(raw demo/multi 1.0 | jq -r '.manifests[0].digest')
ENTRY0_SIZE=$(raw demo/multi 1.0 | jq -r '.manifests[0].size')
lie demo/multi demo/liarix '.manifests[0].size = 10'
pf_ok "demo/liarix:1.0 says entry $ENTRY0 has 10 bytes (it has $ENTRY0_SIZE)"
# The same repository, another tag: the second entry lies, and a job for the first platform only
# keeps it unchanged in the index it pushes (never reading it).
curl -fsS -o /dev/null -X PUT -H "Content-Type: $(raw_type demo/multi 1.0)" \
    --data-binary "$(raw demo/multi 1.0 | jq -c '.manifests[1].size = 10')" \
    "http://$A/v2/demo/liarix/manifests/2.0"
pf_ok "demo/liarix:2.0 says entry $ENTRY1 ($ENTRY1_ARCH) has 10 bytes (it has $ENTRY1_SIZE)"

absent() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' "${MT_ALL[@]}" "http://$1/v2/$2/manifests/$3")
    pf_assert_eq "$4: $1/$2:$3 was not pushed" 404 "$code"
}
# names WHAT FILE MEDIA_TYPE_RE DIGEST ACTUAL: FILE names the descriptor and both sizes (a
# download stops as soon as it passes the declared size: then it says how far it got).
names() {
    local line
    line=$(grep -E "descriptor $3 $4 declares size 10 but the content is ($5 bytes|larger \(download stopped [^)]*\))" "$2" | head -n 1 || true)
    if [ -z "$line" ]; then
        printf 'FAIL: %s: no error naming descriptor %s (declared 10, actual %s):\n' "$1" "$4" "$5" >&2
        sed 's/^/  | /' "$2" >&2
        exit 1
    fi
    pf_ok "$1: ${line:0:200}"
}

COMMON=(--timeout 5m --keyring "$T/keyring.gpg" --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL"
    --cache-dir "$T/cache")
LAYER_RE='application/vnd[.a-z0-9+-]*layer[.a-z0-9+-]*'
CONFIG_RE='application/vnd[.a-z0-9+-]*config[.a-z0-9+-]*'
MANIFEST_RE='application/vnd[.a-z0-9+-]*manifest[.a-z0-9+-]*'

pf_say "patch --push of an image whose layer descriptor lies: Failed naming it, nothing pushed"
deb_demo_config "$T/liar.yaml" "$A" liar
pf_run 1 "$T/liar.out" "$T/liar.err" "$PF" patch --config "$T/liar.yaml" "${COMMON[@]}" --push \
    --work-dir "$T/w1"
cat "$T/liar.out" "$T/liar.err" >"$T/liar.all"
pf_assert_eq "liar: row Failed" Failed "$(awk '$1 == "liar" { print $2 }' "$T/liar.out")"
names "liar" "$T/liar.all" "$LAYER_RE" "$LAYER0" "$LAYER0_SIZE"
absent "$A" demo/liar 1.0-patched "liar"

pf_say "patch --push of an image whose config descriptor lies: Failed naming it, nothing pushed"
deb_demo_config "$T/liarcfg.yaml" "$A" liarcfg
pf_run 1 "$T/liarcfg.out" "$T/liarcfg.err" "$PF" patch --config "$T/liarcfg.yaml" "${COMMON[@]}" \
    --push --work-dir "$T/w2"
cat "$T/liarcfg.out" "$T/liarcfg.err" >"$T/liarcfg.all"
pf_assert_eq "liarcfg: row Failed" Failed "$(awk '$1 == "liarcfg" { print $2 }' "$T/liarcfg.out")"
names "liarcfg" "$T/liarcfg.all" "$CONFIG_RE" "$CONFIG" "$CONFIG_SIZE"
absent "$A" demo/liarcfg 1.0-patched "liarcfg"

pf_say "patch --push of an index whose entry lies: Failed naming it, nothing pushed"
deb_demo_config "$T/liarix.yaml" "$A" liarix
pf_run 1 "$T/liarix.out" "$T/liarix.err" "$PF" patch --config "$T/liarix.yaml" "${COMMON[@]}" \
    --push --work-dir "$T/w3"
cat "$T/liarix.out" "$T/liarix.err" >"$T/liarix.all"
pf_assert_eq "liarix: row Failed" Failed "$(awk '$1 == "liarix" { print $2 }' "$T/liarix.out")"
names "liarix" "$T/liarix.all" "$MANIFEST_RE" "$ENTRY0" "$ENTRY0_SIZE"
absent "$A" demo/liarix 1.0-patched "liarix"

pf_say "patch --push of the other platform of an index whose kept entry lies: Failed, nothing pushed"
OTHER=amd64
[ "$ENTRY1_ARCH" = amd64 ] && OTHER=arm64
cat >"$T/liarix2.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: liarix2
    image: "$A/demo/liarix"
    platforms: [linux/$OTHER]
    tags:
      strategy: list
      list: ["2.0"]
EOF
pf_run 1 "$T/liarix2.out" "$T/liarix2.err" "$PF" patch --config "$T/liarix2.yaml" "${COMMON[@]}" \
    --push --work-dir "$T/w5"
cat "$T/liarix2.out" "$T/liarix2.err" >"$T/liarix2.all"
pf_assert_eq "liarix2: row Failed" Failed "$(awk '$1 == "liarix2" { print $2 }' "$T/liarix2.out")"
names "liarix2" "$T/liarix2.all" "$MANIFEST_RE" "$ENTRY1" "$ENTRY1_SIZE"
absent "$A" demo/liarix 2.0-patched "liarix2"

pf_say "copy of the lying images: to another registry (downloaded), fails naming the descriptor"
pf_run 1 "$T/c1.out" "$T/c1.err" "$PF" copy "$A/demo/liar:1.0" "$B/demo/liar:1.0"
names "copy liar to $B" "$T/c1.err" "$LAYER_RE" "$LAYER0" "$LAYER0_SIZE"
absent "$B" demo/liar 1.0 "copy liar to $B"
pf_run 1 "$T/c2.out" "$T/c2.err" "$PF" copy "$A/demo/liarix:1.0" "$B/demo/liarix:1.0"
names "copy liarix to $B" "$T/c2.err" "$MANIFEST_RE" "$ENTRY0" "$ENTRY0_SIZE"
absent "$B" demo/liarix 1.0 "copy liarix to $B"

pf_say "copy within one registry (the layer is mounted, never read): fails on the HEAD size"
pf_run 1 "$T/c3.out" "$T/c3.err" "$PF" copy "$A/demo/liar:1.0" "$A/demo/liarcopy:1.0"
names "copy liar to $A (mount)" "$T/c3.err" "$LAYER_RE" "$LAYER0" "$LAYER0_SIZE"
absent "$A" demo/liarcopy 1.0 "copy liar to $A (mount)"

pf_say "copy to a repository that already has the blob: fails on the HEAD size"
pf_run 1 "$T/c4.out" "$T/c4.err" "$PF" copy "$A/demo/liar:1.0" "$A/demo/full:liar"
names "copy liar to demo/full (blob present)" "$T/c4.err" "$LAYER_RE" "$LAYER0" "$LAYER0_SIZE"
absent "$A" demo/full liar "copy liar to demo/full (blob present)"

pf_say "honest sizes still pass: copy and patch --push of demo/full and demo/multi"
pf_run 0 "$T/ok1.out" "$T/ok1.err" "$PF" copy "$A/demo/full:1.0" "$B/demo/full:1.0"
pf_run 0 "$T/ok2.out" "$T/ok2.err" "$PF" copy "$A/demo/multi:1.0" "$A/demo/multicopy:1.0"
pf_assert_eq "copy: same digest" "$(pf_manifest_digest "http://$A" demo/multi 1.0)" \
    "$(pf_manifest_digest "http://$A" demo/multicopy 1.0)"
deb_demo_config "$T/ok.yaml" "$A" full multi
pf_run 0 "$T/ok.out" "$T/ok.err" "$PF" patch --config "$T/ok.yaml" "${COMMON[@]}" --push \
    --work-dir "$T/w4"
for n in full multi; do
    pf_assert_eq "$n: row Patched" Patched "$(awk -v n="$n" '$1 == n { print $2 }' "$T/ok.out")"
done
skopeo copy -q --src-tls-verify=false "docker://$A/demo/full:1.0-patched" "oci:$T/unpack:img"
umoci unpack --rootless --image "$T/unpack:img" "$T/unpacked" >/dev/null
pf_ok "umoci unpacks demo/full:1.0-patched"

pf_say "registry_sizes: all checks passed"
