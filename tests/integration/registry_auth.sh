#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry auth
#
# Registry authentication with credentials from Docker's config.json ($DOCKER_CONFIG): a registry
# with htpasswd Basic auth and one with Bearer tokens from tests/harness/token_server.py. Checks
# that plan and copy work with the right credentials, fail cleanly (exit 1, an auth error) with
# wrong or missing ones, and that no secret ever reaches the output, even at debug log level.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/seed.sh"
pf_require docker-registry skopeo umoci jq curl python3 htpasswd openssl
pf_require_cli plan copy
pf_tmpdir
T=$PF_TMP

pf_say "start a Basic-auth registry and a token-auth registry (with its token server)"
pf_registry_start basic B
pf_registry_start token K
SEED_LAYOUT=$T/layout
seed_layout_init "$SEED_LAYOUT"
seed_image "$SEED_LAYOUT" one amd64 2024-01-01T00:00:00Z
seed_image "$SEED_LAYOUT" two amd64 2024-02-01T00:00:00Z
for reg in B K; do
    addr_var="REG_${reg}_ADDR" skopeo_var="REG_${reg}_SKOPEO"
    # shellcheck disable=SC2086 # the skopeo options are a word list
    seed_push "$SEED_LAYOUT" one "${!addr_var}/secure/app:1.0.0" ${!skopeo_var}
    # shellcheck disable=SC2086
    seed_push "$SEED_LAYOUT" two "${!addr_var}/secure/app:1.1.0" ${!skopeo_var}
done

# no_secret WHAT PASS FILE...: neither the password nor its base64 auth form appears in FILEs.
no_secret() {
    local what=$1 pass=$2 f
    shift 2
    for f in "$@"; do
        if grep -qF -- "$pass" "$f"; then
            pf_fail "$what: the password appears in $(basename "$f")"
        fi
        if grep -qF -- "$(printf '%s:%s' pfuser "$pass" | base64 -w0)" "$f"; then
            pf_fail "$what: the base64 credentials appear in $(basename "$f")"
        fi
    done
    pf_ok "$what: no secret in the output"
}

# auth_error WHAT FILE: stderr explains that authentication failed (debug log lines, which
# quote requests, do not count).
auth_error() {
    local re='authenticat|unauthori[sz]ed|401|credential|denied|forbidden' line
    line=$(grep -vE '^[0-9TZ:.-]+ debug ' "$2" | grep -iE "$re" | head -n 1 || true)
    if [ -z "$line" ]; then
        printf 'FAIL: %s: stderr does not mention authentication:\n' "$1" >&2
        grep -vE '^[0-9TZ:.-]+ debug ' "$2" | sed 's/^/  | /' >&2
        exit 1
    fi
    pf_ok "$1: $line"
}

# check_registry NAME: the whole sequence against REG_<NAME>.
check_registry() {
    local n=$1 addr user pass
    local addr_var="REG_${n}_ADDR" pass_var="REG_${n}_PASS" mode_var="REG_${n}_MODE"
    addr=${!addr_var} user=pfuser pass=${!pass_var}
    local mode=${!mode_var}

    pf_docker_config "$T/good-$n" "$addr" "$user" "$pass"
    pf_docker_config "$T/bad-$n" "$addr" "$user" "wrong-$pass-x"
    mkdir -p "$T/none-$n"
    echo '{"auths":{}}' >"$T/none-$n/config.json"
    cat >"$T/$n.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: app
    image: "$addr/secure/app"
    tags:
      strategy: pattern
      pattern: '^1\\.[0-9]+\\.[0-9]+\$'
EOF

    pf_say "$mode: plan with the right credentials (debug logging on)"
    DOCKER_CONFIG=$T/good-$n PATCHFLEET_LOG_LEVEL=debug \
        pf_run 0 "$T/$n-plan.out" "$T/$n-plan.err" "$PF" plan --config "$T/$n.yaml" --json
    pf_assert_eq "$mode plan: both tags discovered" \
        "$addr/secure/app:1.0.0 $addr/secure/app:1.1.0" \
        "$(jq -r .source "$T/$n-plan.out" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
    no_secret "$mode plan" "$pass" "$T/$n-plan.out" "$T/$n-plan.err"

    pf_say "$mode: copy to another repository with the right credentials"
    DOCKER_CONFIG=$T/good-$n PATCHFLEET_LOG_LEVEL=debug \
        pf_run 0 "$T/$n-copy.out" "$T/$n-copy.err" "$PF" copy "$addr/secure/app:1.1.0" \
        "$addr/secure/copied:1.1.0"
    pf_assert_contains "$mode copy: summary line" "copied " "$T/$n-copy.out"
    pf_assert_eq "$mode copy: destination digest equals source digest" \
        "$(skopeo inspect --tls-verify=false --creds "$user:$pass" --format '{{.Digest}}' \
            "docker://$addr/secure/app:1.1.0")" \
        "$(skopeo inspect --tls-verify=false --creds "$user:$pass" --format '{{.Digest}}' \
            "docker://$addr/secure/copied:1.1.0")"
    no_secret "$mode copy" "$pass" "$T/$n-copy.out" "$T/$n-copy.err"

    pf_say "$mode: wrong password"
    DOCKER_CONFIG=$T/bad-$n PATCHFLEET_LOG_LEVEL=debug \
        pf_run 1 "$T/$n-bad.out" "$T/$n-bad.err" "$PF" plan --config "$T/$n.yaml" --json
    pf_assert_eq "$mode plan, wrong password: no jobs" "" "$(cat "$T/$n-bad.out")"
    auth_error "$mode plan, wrong password" "$T/$n-bad.err"
    no_secret "$mode plan, wrong password" "wrong-$pass-x" "$T/$n-bad.out" "$T/$n-bad.err"
    DOCKER_CONFIG=$T/bad-$n PATCHFLEET_LOG_LEVEL=debug \
        pf_run 1 "$T/$n-badcopy.out" "$T/$n-badcopy.err" "$PF" copy "$addr/secure/app:1.0.0" \
        "$addr/secure/copied:1.0.0"
    auth_error "$mode copy, wrong password" "$T/$n-badcopy.err"
    no_secret "$mode copy, wrong password" "wrong-$pass-x" "$T/$n-badcopy.out" "$T/$n-badcopy.err"

    pf_say "$mode: no credentials at all"
    DOCKER_CONFIG=$T/none-$n pf_run 1 "$T/$n-none.out" "$T/$n-none.err" \
        "$PF" plan --config "$T/$n.yaml" --json
    auth_error "$mode plan, no credentials" "$T/$n-none.err"

    check_list_strategy "$n" "$addr" "$pass" "$mode"
}

# refused WHAT FILE ADDR: FILE says authentication failed and names the registry.
refused() {
    local line
    line=$(grep -vE '^[0-9TZ:.-]+ debug ' "$2" | grep -F "authentication failed" | grep -F "'$3'" |
        head -n 1 || true)
    if [ -z "$line" ]; then
        printf "FAIL: %s: no 'authentication failed' naming registry '%s':\n" "$1" "$3" >&2
        sed 's/^/  | /' "$2" >&2
        exit 1
    fi
    pf_ok "$1: $line"
}

# check_list_strategy NAME ADDR PASS MODE: a `list` strategy does not need the tag list, so a
# refused listing used to be a warning and exit 0. Credentials that were offered and refused are
# an error for the image (plan and patch: exit 1, row Error); with no credentials configured the
# anonymous 401 stays a warning (registries may refuse anonymous listing yet serve pulls).
check_list_strategy() {
    local n=$1 addr=$2 pass=$3 mode=$4
    cat >"$T/$n-list.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: app
    image: "$addr/secure/app"
    tags:
      strategy: list
      list: ["1.0.0"]
EOF
    pf_say "$mode: list strategy, wrong password: plan and patch fail, row Error"
    DOCKER_CONFIG=$T/bad-$n PATCHFLEET_LOG_LEVEL=debug \
        pf_run 1 "$T/$n-lbad.out" "$T/$n-lbad.err" "$PF" plan --config "$T/$n-list.yaml" --json
    pf_assert_eq "$mode plan list, wrong password: no jobs" "" "$(cat "$T/$n-lbad.out")"
    refused "$mode plan list, wrong password" "$T/$n-lbad.err" "$addr"
    no_secret "$mode plan list, wrong password" "wrong-$pass-x" "$T/$n-lbad.out" "$T/$n-lbad.err"
    DOCKER_CONFIG=$T/bad-$n pf_run 1 "$T/$n-pbad.out" "$T/$n-pbad.err" \
        "$PF" patch --config "$T/$n-list.yaml" --dry-run --work-dir "$T/$n-pwork"
    pf_assert_eq "$mode patch list, wrong password: row Error" Error \
        "$(awk '$1 == "app" { print $2 }' "$T/$n-pbad.out")"
    cat "$T/$n-pbad.out" "$T/$n-pbad.err" >"$T/$n-pbad.all"
    refused "$mode patch list, wrong password" "$T/$n-pbad.all" "$addr"
    no_secret "$mode patch list, wrong password" "wrong-$pass-x" "$T/$n-pbad.out" "$T/$n-pbad.err"

    pf_say "$mode: list strategy, no credentials: a warning, the job goes ahead (exit 0)"
    DOCKER_CONFIG=$T/none-$n pf_run 0 "$T/$n-lnone.out" "$T/$n-lnone.err" \
        "$PF" plan --config "$T/$n-list.yaml" --json
    pf_assert_eq "$mode plan list, no credentials: the listed tag is a job" \
        "$addr/secure/app:1.0.0" "$(jq -r .source "$T/$n-lnone.out")"
    pf_assert_contains "$mode plan list, no credentials: warning" "warning" "$T/$n-lnone.err"
}

check_registry B
check_registry K

pf_say "token: the token server granted push for the copy's target repository"
if ! grep -E '^grant user=pfuser access=.*repository:secure/copied:[a-z,]*push' "$TOKEN_K_LOG" >/dev/null; then
    sed 's/^/  | /' "$TOKEN_K_LOG" >&2
    pf_fail "token: no push grant for secure/copied in the token server log"
fi
pf_ok "token: push scope for secure/copied requested and granted"
grep -q '^deny bad-credentials' "$TOKEN_K_LOG" || pf_fail "token: the wrong password never reached the token server"
pf_ok "token: the wrong password was refused by the token server"

pf_say "registry_auth: all checks passed"
