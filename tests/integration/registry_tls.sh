#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry tls
#
# HTTPS registries. Loopback registries get plain http unless TLS is forced, so this test relies
# on the rule: `--ca-file FILE` or PATCHFLEET_FORCE_TLS=1 makes the client use https even for
# 127.0.0.1 / localhost. With the right CA, plan and copy work (by IP and by the name localhost,
# both in the certificate's subjectAltName); with no CA or another CA, verification fails with a
# certificate error and exit 1.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/seed.sh"
pf_require docker-registry skopeo umoci jq curl python3 openssl
pf_require_cli plan copy
pf_tmpdir
T=$PF_TMP

pf_say "start a TLS registry (self-signed CA, server certificate for 127.0.0.1 and localhost)"
pf_registry_start tls S
CA=$REG_S_CA
ADDR=$REG_S_ADDR
PORT=${ADDR##*:}
SEED_LAYOUT=$T/layout
seed_layout_init "$SEED_LAYOUT"
seed_image "$SEED_LAYOUT" one amd64 2024-01-01T00:00:00Z
seed_push "$SEED_LAYOUT" one "$ADDR/tls/app:2.0.0"
seed_push "$SEED_LAYOUT" one "$ADDR/tls/app:2.1.0"

plan_config() { # plan_config FILE HOSTPORT
    cat >"$1" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: app
    image: "$2/tls/app"
    tags:
      strategy: latest
EOF
}
plan_config "$T/ip.yaml" "$ADDR"
plan_config "$T/name.yaml" "localhost:$PORT"

# cert_error WHAT FILE: stderr blames the certificate.
cert_error() {
    if ! grep -qiE 'certificate|x509|verif' "$2"; then
        printf 'FAIL: %s: stderr does not mention the certificate:\n' "$1" >&2
        sed 's/^/  | /' "$2" >&2
        exit 1
    fi
    pf_ok "$1: $(grep -iE 'certificate|x509|verif' "$2" | head -n 1)"
}

pf_say "plan over https with --ca-file"
pf_run 0 "$T/ip.out" "$T/ip.err" "$PF" plan --config "$T/ip.yaml" --json --ca-file "$CA"
pf_assert_eq "https by IP: latest is 2.1.0" "$ADDR/tls/app:2.1.0" "$(jq -r .source "$T/ip.out")"
pf_run 0 "$T/name.out" "$T/name.err" "$PF" plan --config "$T/name.yaml" --json --ca-file "$CA"
pf_assert_eq "https by name localhost (DNS SAN)" "localhost:$PORT/tls/app:2.1.0" \
    "$(jq -r .source "$T/name.out")"

pf_say "copy over https with --ca-file"
pf_run 0 "$T/copy.out" "$T/copy.err" "$PF" copy --ca-file "$CA" "$ADDR/tls/app:2.1.0" \
    "$ADDR/tls/copied:2.1.0"
pf_assert_contains "copy: summary line" "copied " "$T/copy.out"
pf_assert_eq "copy: destination digest equals source digest" \
    "$(pf_manifest_digest "$REG_S_URL" tls/app 2.1.0 --cacert "$CA")" \
    "$(pf_manifest_digest "$REG_S_URL" tls/copied 2.1.0 --cacert "$CA")"

pf_say "PATCHFLEET_FORCE_TLS=1 without the CA: verification fails"
PATCHFLEET_FORCE_TLS=1 pf_run 1 "$T/noca.out" "$T/noca.err" "$PF" plan --config "$T/ip.yaml" --json
cert_error "plan, unknown CA" "$T/noca.err"
PATCHFLEET_FORCE_TLS=1 pf_run 1 "$T/nocacopy.out" "$T/nocacopy.err" "$PF" copy \
    "$ADDR/tls/app:2.0.0" "$ADDR/tls/copied:2.0.0"
cert_error "copy, unknown CA" "$T/nocacopy.err"

pf_say "--ca-file with a different CA: verification fails"
pf_make_ca "$T/other-ca"
pf_run 1 "$T/other.out" "$T/other.err" "$PF" plan --config "$T/ip.yaml" --json \
    --ca-file "$T/other-ca/ca.pem"
cert_error "plan, wrong CA" "$T/other.err"

pf_say "no CA and no forcing: loopback means plain http, which a TLS registry refuses"
pf_run 1 "$T/plain.out" "$T/plain.err" "$PF" plan --config "$T/ip.yaml" --json
pf_assert_eq "plain http to a TLS registry: no jobs" "" "$(cat "$T/plain.out")"

pf_say "registry_tls: all checks passed"
