#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry apt deb security
#
# `patchfleet patch` must refuse what it cannot trust, and push nothing when it does: a .deb whose
# hash no longer matches Packages, a Packages file whose hash no longer matches the signed
# Release, an InRelease signed by a key outside the image's keyring, and a base image layer that
# tries to write outside the root ("../" names, absolute symlinks, hard links, a device node),
# and an image whose dpkg journal holds unapplied entries (an interrupted dpkg run);
# --config together with --image is a usage error. Each tampered archive is first checked with
# sha256sum / gpgv, so a pass means the patcher refused for the right reason, and one positive
# control run proves the untampered setup patches. PF_ORACLE_SELFTEST=1 runs only those checks.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"
pf_require docker-registry skopeo umoci jq curl python3 sha256sum
deb_fixture_require
SELFTEST=${PF_ORACLE_SELFTEST:-0}
[ "$SELFTEST" = 1 ] || pf_require_cli patch
pf_tmpdir
T=$PF_TMP

# ---------------------------------------------------------------------------------------------
pf_say "fixtures: packages, signed archive, a second key, registry, images"
deb_build_all "$T/debs"
V1=$T/debs/v1
V2=$T/debs/v2
apt_gpg_home "$T/gnupg-other"
OTHER_GNUPGHOME=$APT_GNUPGHOME
apt_gpg_stop
apt_gpg_home "$T/gnupg"
apt_export_keyring "$T/keyring.gpg"
deb_repo_suite "$T/good" stable "amd64" "$V2"/*_amd64.deb "$V2"/*_all.deb
apt_gpg_stop
mkdir -p "$T/www/repo"
pf_http_start APT "$T/www"
REPO_URL="$HTTP_APT_URL/repo/"
pf_registry_start plain A
A=$REG_A_ADDR
L=$T/layout
CANARY=$T/canary/pwned
mkdir -p "$T/canary"
deb_image_full "$L" full amd64 "$V1" "$REPO_URL" "$T/keyring.gpg"
deb_image_hostile "$L" hostile "$V1" "$REPO_URL" "$T/keyring.gpg" "$CANARY"
# demo/journal: demo/full plus a layer holding an unapplied dpkg journal entry, as an
# interrupted dpkg run leaves it (demotool half-configured).
J=$T/journal-root
mkdir -p "$J/var/lib/dpkg/updates"
sed -n '/^Package: demotool$/,/^$/p' "$L.work/full/root/var/lib/dpkg/status" |
    sed 's/^Status: install ok installed$/Status: install ok half-configured/' \
        >"$J/var/lib/dpkg/updates/0000"
grep -q 'half-configured' "$J/var/lib/dpkg/updates/0000" || pf_fail "fixture: no journal entry made"
deb_tar "$J" "$T/journal.tar" ./var/lib/dpkg/updates
deb_image_new "$L" journal amd64 "$L.work/full/layer1.tar" "$L.work/full/layer2.tar" "$T/journal.tar"
deb_push "$L" full "$A/demo/full:1.0"
deb_push "$L" hostile "$A/demo/hostile:1.0"
deb_push "$L" journal "$A/demo/journal:1.0"
pf_ok "demo/full:1.0, demo/hostile:1.0 and demo/journal:1.0 pushed"

# serve: the archive the image's sources point at becomes a fresh copy of the good one; the
# caller then applies one case's tampering.
serve() {
    rm -rf "$T/www/repo"
    cp -a "$T/good" "$T/www/repo"
}
SUITE=$T/www/repo/dists/stable
PKGS=$SUITE/main/binary-amd64/Packages

config() {
    cat >"$T/$1.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: $1
    image: "$A/demo/$1"
    tags:
      strategy: list
      list: ["1.0"]
EOF
}
config full
config hostile
config journal

absent() {
    if skopeo inspect --raw --tls-verify=false "docker://$A/$1" >/dev/null 2>&1; then
        pf_fail "$2: $A/$1 exists"
    fi
    pf_ok "$2: $A/$1 does not exist"
}

# refuse CASE REGEX: runs the patch of demo/full:1.0 against the archive as served now; wants
# exit 1, status Failed, REGEX (extended, case-insensitive) in the job's details/errors or on
# stderr, and nothing pushed. A fresh cache and work dir each time, so nothing verified earlier
# is reused.
refuse() {
    local c=$1 needle=$2 st
    [ "$SELFTEST" = 1 ] && return 0
    pf_run 1 "$T/$c.out" "$T/$c.err" "$PF" patch --config "$T/full.yaml" --push --format json \
        --timeout 2m --cache-dir "$T/cache-$c" --work-dir "$T/work-$c"
    st=$(jq -r '.results[] | select(.name == "full") | .status' "$T/$c.out")
    pf_assert_eq "$c: status" Failed "$st"
    { jq -r '.results[] | .details, (.platforms[]?.error // empty)' "$T/$c.out"; cat "$T/$c.err"; } \
        >"$T/$c.why"
    grep -qiE -- "$needle" "$T/$c.why" || pf_fail "$c: the error does not name '$needle': $(head -c 600 "$T/$c.why")"
    pf_ok "$c: the error names '$needle'"
    absent demo/full:1.0-patched "$c: nothing pushed"
}

# ---------------------------------------------------------------------------------------------
pf_say "positive control: the untampered archive plans an upgrade"
serve
curl -fsS "${REPO_URL}dists/stable/InRelease" | gpgv --keyring "$T/keyring.gpg" - 2>/dev/null ||
    pf_fail "control: the good InRelease does not verify"
pf_ok "control: InRelease verifies with the image's keyring (gpgv)"
if [ "$SELFTEST" != 1 ]; then
    pf_run 0 "$T/control.out" "$T/control.err" "$PF" patch --config "$T/full.yaml" --dry-run \
        --format json --cache-dir "$T/cache-control" --work-dir "$T/work-control"
    pf_assert_eq "control: Planned" Planned "$(jq -r '.results[0].status' "$T/control.out")"
fi

pf_say "a tampered .deb in the pool (Packages hash no longer matches)"
serve
DEB=$T/www/repo/pool/stable/libdemo1_1.0-2_amd64.deb
# Same name and version, another payload: what a compromised mirror would serve.
mkdir -p "$T/evil"
chmod 755 "$T/evil"
deb__tree "$T/evil" libdemo1 1.0-2 amd64
printf 'evil\n' >"$T/evil/usr/lib/x86_64-linux-gnu/libdemo.so.1"
SOURCE_DATE_EPOCH=$DEB_EPOCH dpkg-deb --root-owner-group -Zxz --build "$T/evil" "$DEB" >/dev/null ||
    pf_fail "fixture: building the tampered deb"
want=$(awk '/^Package: libdemo1$/ { p = 1 } p && /^SHA256: / { print $2; exit }' "$PKGS")
if [ -z "$want" ] || [ "$want" = "$(sha256sum "$DEB" | cut -d' ' -f1)" ]; then
    pf_fail "fixture: the tampered deb still matches its Packages SHA256"
fi
pf_ok "fixture: sha256sum of the pool deb differs from Packages"
refuse bad-deb libdemo1

pf_say "a tampered Packages (hash no longer matches the signed Release)"
serve
sed -i 's/^Version: 1.0-2$/Version: 9.9-9/' "$PKGS"
gzip -9n -kf "$PKGS"
grep -qF "$(sha256sum "$PKGS" | cut -d' ' -f1)" "$SUITE/Release" &&
    pf_fail "fixture: Release still lists the tampered Packages hash"
pf_ok "fixture: Release does not list the tampered Packages' sha256"
refuse bad-packages 'Packages|hash|checksum|sha256'

pf_say "InRelease signed by a key that is not in the image's keyring"
serve
deb_resign "$SUITE" "$OTHER_GNUPGHOME"
gpgconf --homedir "$OTHER_GNUPGHOME" --kill gpg-agent 2>/dev/null || true
if gpgv --keyring "$T/keyring.gpg" "$SUITE/InRelease" 2>/dev/null; then
    pf_fail "fixture: the foreign-signed InRelease verifies with the test keyring"
fi
pf_ok "fixture: gpgv rejects the foreign-signed InRelease"
refuse bad-signature 'InRelease|signature|gpg|key'

# ---------------------------------------------------------------------------------------------
pf_say "hostile base layer: ../ names, absolute symlinks, hard link, device node"
serve
python3 - "$L" <<'PY' || pf_fail "fixture: the hostile layer is not the top layer of demo/hostile"
import json, os, sys, tarfile
layout = sys.argv[1]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":", 1))
idx = json.load(open(os.path.join(layout, "index.json")))
m = [x for x in idx["manifests"] if x["annotations"]["org.opencontainers.image.ref.name"] == "hostile"][0]
top = json.load(open(blob(m["digest"])))["layers"][-1]["digest"]
names = [t.name for t in tarfile.open(blob(top), "r:*")]
assert any(n.startswith("../") for n in names) and "dev/evil" in names, names
PY
pf_ok "fixture: the top layer of demo/hostile holds the escaping entries"
if [ "$SELFTEST" != 1 ]; then
    rc=0
    "$PF" patch --config "$T/hostile.yaml" --push --format json --timeout 2m \
        --cache-dir "$T/cache-hostile" --work-dir "$T/work-hostile" \
        >"$T/hostile.out" 2>"$T/hostile.err" || rc=$?
    st=$(jq -r '.results[0].status' "$T/hostile.out" 2>/dev/null || echo unparsable)
    case "$rc $st" in
    "1 Failed") pf_ok "hostile: Failed, exit 1" ;;
    "0 Patched") pf_ok "hostile: Patched (contained), exit 0" ;;
    *) pf_fail "hostile: exit $rc, status '$st' (want 1 Failed or 0 Patched); stderr: $(head -c 600 "$T/hostile.err")" ;;
    esac
    [ "$st" = Failed ] && absent demo/hostile:1.0-patched "hostile: nothing pushed"
fi
leaked=$(find "$T/canary" / -maxdepth 1 -name 'pwned*' 2>/dev/null; find "$T" -xdev -name 'pwned*' 2>/dev/null)
pf_assert_eq "hostile: no canary file appeared (inside or outside the work dir)" "" "$leaked"
nodes=$(find "$T" -xdev \( -type c -o -type b \) 2>/dev/null)
pf_assert_eq "hostile: no device node was created" "" "$nodes"

# ---------------------------------------------------------------------------------------------
pf_say "an unapplied dpkg journal (var/lib/dpkg/updates/0000): refused, nothing pushed"
deb_pull_root "$A" demo/journal:1.0 "$T/journal-pulled"
audit=$(dpkg --root="$T/journal-pulled/root" --audit 2>&1 || true)
case "$audit" in
*"half configured"*demotool*) pf_ok "fixture: dpkg itself reads the journal (dpkg --audit: demotool half configured)" ;;
*) pf_fail "fixture: dpkg --audit does not see the journal entry: $audit" ;;
esac
if [ "$SELFTEST" != 1 ]; then
    pf_run 1 "$T/journal.out" "$T/journal.err" "$PF" patch --config "$T/journal.yaml" --push \
        --format json --timeout 2m --cache-dir "$T/cache-journal" --work-dir "$T/work-journal"
    pf_assert_eq "journal: status" Failed "$(jq -r '.results[0].status' "$T/journal.out")"
    jq -r '.results[0].details' "$T/journal.out" | grep -q 'unapplied journal entries (/var/lib/dpkg/updates/0000).*dpkg --configure -a' ||
        pf_fail "journal: the error does not name the journal: $(jq -r '.results[0].details' "$T/journal.out")"
    pf_ok "journal: the error names /var/lib/dpkg/updates/0000 and what to do"
    absent demo/journal:1.0-patched "journal: nothing pushed"
fi

# ---------------------------------------------------------------------------------------------
pf_say "a replayed older Release (validly signed, earlier Date, no Valid-Until)"
# redate EPOCH: the served Release gets that Date and no Valid-Until, and is signed again with
# the archive's own key: exactly what a mirror replaying an old Release serves.
redate() {
    serve
    sed -i -e "s/^Date: .*/Date: $(date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S UTC')/" \
        -e '/^Valid-Until:/d' "$SUITE/Release"
    deb_resign "$SUITE"
    gpgv --keyring "$T/keyring.gpg" "$SUITE/InRelease" 2>/dev/null ||
        pf_fail "fixture: the re-dated InRelease does not verify"
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
NOW=$(date +%s)
NEW=$((NOW - 86400))
OLD=$((NOW - 30 * 86400))
NEWER=$((NOW - 3600))
# dry CASE STATUS EXIT [OPTION]: a dry run of demo/full:1.0 with the one cache dir of this case.
dry() {
    pf_run "$3" "$T/$1.out" "$T/$1.err" "$PF" patch --config "$T/full.yaml" --dry-run \
        --format json --timeout 2m --cache-dir "$T/cache-replay" --work-dir "$T/work-$1" ${4:+"$4"}
    pf_assert_eq "$1: status" "$2" "$(jq -r '.results[0].status' "$T/$1.out")"
}
if [ "$SELFTEST" != 1 ]; then
    redate "$NEW"
    dry replay-first Planned 0
    redate "$OLD"
    dry replay-old Failed 1
    why=$(jq -r '.results[0].details, (.results[0].platforms[]?.error // empty)' "$T/replay-old.out")
    for want in "${REPO_URL}dists/stable/InRelease" "$(iso "$OLD")" "$(iso "$NEW")" \
        --allow-index-rollback; do
        case "$why" in
        *"$want"*) ;;
        *) pf_fail "replay: the error does not name '$want': $why" ;;
        esac
    done
    pf_ok "replay: Failed, naming the InRelease URL and both dates"
    dry replay-allowed Planned 0 --allow-index-rollback
    redate "$NEWER"
    dry replay-newer Planned 0
    # The same suite through a mirror (--pkg-mirror) is the same repository: its memory holds.
    pf_http_start APTMIRROR "$T/www"
    redate "$NEW"
    dry replay-mirror Failed 1 "--pkg-mirror=$HTTP_APT_URL=$HTTP_APTMIRROR_URL"
    why=$(jq -r '.results[0].details, (.results[0].platforms[]?.error // empty)' "$T/replay-mirror.out")
    for want in "$HTTP_APTMIRROR_URL/repo/dists/stable/InRelease" \
        "repository '${REPO_URL}dists/stable'" "$(iso "$NEW")" "$(iso "$NEWER")"; do
        case "$why" in
        *"$want"*) ;;
        *) pf_fail "replay through a mirror: the error does not name '$want': $why" ;;
        esac
    done
    pf_ok "replay through a mirror: Failed, naming the mirror's InRelease and the image's repository"
fi

# ---------------------------------------------------------------------------------------------
if [ "$SELFTEST" != 1 ]; then
    pf_say "usage errors: exit 2"
    pf_run 2 "$T/u1.out" "$T/u1.err" "$PF" patch --config "$T/full.yaml" --image "$A/demo/full:1.0" --push
    pf_ok "--config with --image: exit 2"
    pf_run 2 "$T/u2.out" "$T/u2.err" "$PF" patch --config "$T/full.yaml" --push --dry-run
    pf_ok "--push with --dry-run: exit 2"
    pf_run 2 "$T/u3.out" "$T/u3.err" "$PF" patch --config "$T/missing.yaml" --dry-run
    pf_ok "missing --config file: exit 2"
    absent demo/full:1.0-patched "usage errors: nothing pushed"
else
    pf_say "PF_ORACLE_SELFTEST=1: fixtures verified (patchfleet itself not run)"
fi
