#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo sweep, on one host with no external registry: starts Debian's docker-registry on a
# free loopback port, seeds it with a few small images (nginx-, alpine-, debian- and app-like
# repositories, one multi-platform), then runs patchfleet on deploy/dev/demo-bulk.yaml:
# validate the config, plan the sweep (table and JSON), and copy a multi-platform image.
# Everything it starts is stopped on exit; PF_KEEP=1 keeps the temp dir for a look.
# Run ./deploy/dev/setup.sh first (or use the README's one-liner).
set -euo pipefail

PF_SRC=$(cd "$(dirname "$0")/../.." && pwd)
PF=${PF_BIN:-$PF_SRC/build/bin}/patchfleet
[ -x "$PF" ] || { echo "demo: $PF is missing; run ./deploy/dev/setup.sh first" >&2; exit 1; }

. "$PF_SRC/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/seed.sh"

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

pf_say "demo done"
