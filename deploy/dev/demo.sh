#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo sweep, on one host with no external registry: starts Debian's docker-registry on a
# free loopback port, seeds it with a few small images (nginx-, alpine-, debian- and app-like
# repositories, one multi-platform), then runs patchfleet on deploy/dev/demo-bulk.yaml:
# validate the config, plan the sweep (table and JSON), and copy a multi-platform image. Then
# the real thing: small Debian images (built with dpkg, one multi-platform, one distroless)
# whose packages have updates in a signed local apt archive are patched by
# `patchfleet patch --config deploy/dev/demo-patch.yaml --push`, and one result is checked
# with dpkg itself.
# Everything it starts is stopped on exit; PF_KEEP=1 keeps the temp dir for a look.
# Run ./deploy/dev/setup.sh first (or use the README's one-liner).
set -euo pipefail

PF_SRC=$(cd "$(dirname "$0")/../.." && pwd)
PF=${PF_BIN:-$PF_SRC/build/bin}/patchfleet
[ -x "$PF" ] || { echo "demo: $PF is missing; run ./deploy/dev/setup.sh first" >&2; exit 1; }

. "$PF_SRC/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"

pf_tmpdir
pf_say "starting a local registry"
pf_registry_start plain DEMO
ADDR=$REG_DEMO_ADDR
echo "   registry at http://$ADDR"

pf_say "seeding demo images"
seed_demo_registry "$ADDR" >/dev/null
skopeo list-tags --tls-verify=false "docker://$ADDR/demo/nginx" | jq -c '.Tags'

CONFIG=$PF_TMP/bulk.yaml
sed "s/__REGISTRY__/$ADDR/g" "$PF_SRC/deploy/dev/demo-bulk.yaml" >"$CONFIG"

pf_say "patchfleet config validate"
"$PF" config validate "$CONFIG"

pf_say "patchfleet plan (the jobs this sweep runs)"
"$PF" plan --config "$CONFIG"

pf_say "patchfleet plan --json"
"$PF" plan --config "$CONFIG" --json

pf_say "a config with mistakes: every problem, with its line"
cat >"$PF_TMP/broken.yaml" <<YAML
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: nginx
    image: $ADDR/demo/nginx:1.25
    tags:
      strategy: pattern
      pattern: "^1\\\\.25\\\\.(+$"
      maxtags: 2
  - name: nginx
    image: $ADDR/demo/alpine
    tags:
      strategy: newest
YAML
set +e
"$PF" config validate "$PF_TMP/broken.yaml"
echo "   (exit status $?)"
set -e

pf_say "patchfleet copy (a multi-platform index, mounted within the registry)"
"$PF" copy "$ADDR/demo/debian:12.4-slim" "$ADDR/mirror/debian:12.4-slim"
skopeo inspect --raw --tls-verify=false "docker://$ADDR/mirror/debian:12.4-slim" |
    jq -c '[.manifests[].platform | "\(.os)/\(.architecture)"]'

pf_say "building Debian images (dpkg-installed) and a signed apt archive with their updates"
D=$PF_TMP/deb
deb_archive_demo "$D" >/dev/null
pf_http_start APT "$D/www"
L=$D/layout
{
    deb_image_full "$L" base-amd64 amd64 "$D/debs/v1" "$HTTP_APT_URL/repo/" "$D/keyring.gpg"
    deb_image_full "$L" base-arm64 arm64 "$D/debs/v1" "$HTTP_APT_URL/repo/" "$D/keyring.gpg"
    seed_index "$L" multi base-amd64 base-arm64
    deb_image_uptodate "$L" current amd64 "$D/debs/v2" "$HTTP_APT_URL/repo/" "$D/keyring.gpg"
    deb_image_distroless "$L" distroless amd64 "$D/debs/v1"
    deb_push "$L" base-amd64 "$ADDR/demo/app-base:1.0"
    deb_push_all "$L" multi "$ADDR/demo/app-multi:1.0"
    deb_push "$L" current "$ADDR/demo/current:1.0"
    deb_push "$L" distroless "$ADDR/demo/distroless:1.0"
} >/dev/null
echo "   archive at $HTTP_APT_URL, images demo/app-base, demo/app-multi, demo/distroless, demo/current"
sed "s/__REGISTRY__/$ADDR/g" "$PF_SRC/deploy/dev/demo-patch.yaml" >"$PF_TMP/patch.yaml"
# The distroless image has no sources of its own: its default suites (deb.debian.org) are
# redirected to the local archive, whose key stands in for Debian's.
PATCH=(--config "$PF_TMP/patch.yaml" --cache-dir "$PF_TMP/cache" --keyring "$D/keyring.gpg"
    --pkg-mirror "http://deb.debian.org=$HTTP_APT_URL")

pf_say "patchfleet patch --dry-run (what would be upgraded)"
"$PF" patch "${PATCH[@]}" --dry-run 2>/dev/null

pf_say "patchfleet patch --push (the sweep)"
"$PF" patch "${PATCH[@]}" --push

pf_say "the patched image, checked with Debian's own tools"
deb_pull_root "$ADDR" demo/app-base:1.0-patched "$D/patched" >/dev/null
dpkg-query --root="$D/patched/root" -W -f='   ${Package} ${Version} ${db:Status-Abbrev}\n'
echo "   dpkg --verify: $(dpkg --root="$D/patched/root" --verify | wc -l) changed file(s) (the conffile the image's user edited)"
skopeo inspect --tls-verify=false "docker://$ADDR/demo/app-base:1.0-patched" |
    jq -r '"   layers: \(.Layers | length), base digest label: \(.Labels["sh.patchfleet.base.digest"])"'

pf_say "demo done"
