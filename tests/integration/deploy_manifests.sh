#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: deploy
#
# Keeps deploy/ honest against the binaries of this build (no Docker daemon, cluster or systemd
# needed): every YAML file parses; `kubectl kustomize` (or `kustomize build`) renders
# deploy/k8s/base; the systemd units pass `systemd-analyze verify` with their paths pointed at
# the build; deploy/check_manifests.py checks every command line in compose, Kubernetes and
# systemd against the real binary (flags from its --help, required options, then the binary run
# with the same arguments plus --help), the grace periods, probes and KEDA trigger, and the
# Dockerfile's runtime packages against ldd of the built binaries and dpkg's file lists (read
# once per run: the owners `dpkg -S` gives, without a dpkg process per library); the image's
# entrypoint dispatches each role. Negative controls: broken copies of deploy/ must fail.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
pf_require python3 ldd readelf dpkg dpkg-query
python3 -c 'import yaml' 2>/dev/null || pf_fail "python3-yaml is not installed (deploy/dev/setup.sh)"
for b in patchfleet patchfleet-producer patchfleet-worker patchfleet-aggregator; do
    [ -x "${PF_BIN:?}/$b" ] || pf_fail "$b not built in $PF_BIN"
done
pf_tmpdir
T=$PF_TMP
D=$PF_SRC/deploy
CHECK=$D/check_manifests.py

# ---------------------------------------------------------------------------------------------
pf_say "kustomize build of deploy/k8s/base"
KUST=()
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
    KUST=(kubectl kustomize)
elif command -v kustomize >/dev/null 2>&1; then
    KUST=(kustomize build)
fi
KARGS=()
if [ "${#KUST[@]}" -gt 0 ]; then
    "${KUST[@]}" "$D/k8s/base" >"$T/k8s.yaml" 2>"$T/k8s.err" ||
        pf_fail "${KUST[*]} deploy/k8s/base failed: $(cat "$T/k8s.err")"
    kinds=$(python3 -c 'import sys,yaml; print(" ".join(sorted(d["kind"] for d in yaml.safe_load_all(open(sys.argv[1])) if d)))' "$T/k8s.yaml")
    pf_assert_eq "rendered kinds" "ConfigMap ConfigMap CronJob Deployment Deployment ScaledObject Secret Service" "$kinds"
    pf_ok "${KUST[*]} renders: $kinds"
    KARGS=(--kustomized "$T/k8s.yaml")
else
    # No kustomize on this machine (Debian ships none): check_manifests.py reads the resources
    # and expands the configMapGenerator itself; here, every listed resource must exist.
    for f in $(python3 -c 'import sys,yaml; k=yaml.safe_load(open(sys.argv[1])); print(" ".join(k["resources"] + [x.split("=")[-1] for g in k.get("configMapGenerator",[]) for x in g.get("files",[])]))' "$D/k8s/base/kustomization.yaml"); do
        [ -f "$D/k8s/base/$f" ] || pf_fail "kustomization lists '$f', which does not exist"
    done
    pf_ok "no kustomize here: every resource of the kustomization exists (not rendered)"
fi

# ---------------------------------------------------------------------------------------------
pf_say "systemd units"
if command -v systemd-analyze >/dev/null 2>&1; then
    U=$T/units
    mkdir -p "$U"
    cp "$D"/systemd/*.service "$D"/systemd/*.timer "$U/"
    cp "$D"/systemd/patchfleet.env.example "$U/patchfleet.env"
    printf '{"auths":{}}\n' >"$U/config.json"
    # The installed paths do not exist here: point ExecStart at the build and the files the
    # units load at copies, so verify checks the binaries really are executables.
    sed -i -e "s#/usr/local/bin/#$PF_BIN/#" \
        -e "s#EnvironmentFile=/etc/patchfleet/patchfleet.env#EnvironmentFile=$U/patchfleet.env#" \
        -e "s#:/etc/patchfleet/docker/config.json#:$U/config.json#" "$U"/*.service
    cp "$U/patchfleet-worker@.service" "$U/patchfleet-worker@1.service"
    (cd "$U" && systemd-analyze verify --man=no ./patchfleet-producer.service \
        ./patchfleet-producer.timer ./patchfleet-worker@1.service \
        ./patchfleet-aggregator.service) >"$T/verify.out" 2>&1 ||
        pf_fail "systemd-analyze verify failed: $(cat "$T/verify.out")"
    [ ! -s "$T/verify.out" ] || pf_fail "systemd-analyze verify warned: $(cat "$T/verify.out")"
    pf_ok "systemd-analyze verify: producer .service + .timer, worker@1, aggregator: no warnings"
else
    pf_ok "no systemd-analyze here: units checked by check_manifests.py only"
fi

# ---------------------------------------------------------------------------------------------
pf_say "entrypoint: the first argument picks the role"
for role in producer worker aggregator; do
    PATCHFLEET_BINDIR=$PF_BIN sh "$D/entrypoint.sh" "$role" --help >"$T/ep-$role.out" 2>&1 ||
        pf_fail "entrypoint $role --help exited $?"
    pf_assert_contains "entrypoint $role" "usage: patchfleet-$role" "$T/ep-$role.out"
done
PATCHFLEET_BINDIR=$PF_BIN sh "$D/entrypoint.sh" patchfleet version >"$T/ep-cli.out"
pf_assert_contains "entrypoint patchfleet version" "patchfleet " "$T/ep-cli.out"
out=$(PATCHFLEET_BINDIR=$PF_BIN sh "$D/entrypoint.sh" echo passthrough)
pf_assert_eq "entrypoint passthrough" "passthrough" "$out"
pf_ok "producer, worker, aggregator, patchfleet and pass-through"

# ---------------------------------------------------------------------------------------------
pf_say "command lines, grace periods, probes, KEDA, Dockerfile packages (check_manifests.py)"
python3 "$CHECK" --src "$PF_SRC" --bin "$PF_BIN" "${KARGS[@]}" >"$T/check.out" 2>&1 || {
    cat "$T/check.out"
    pf_fail "check_manifests.py found problems (above)"
}
grep -v '^== ' "$T/check.out"
n=$(grep -c ' ok: .*: patchfleet-\(producer\|worker\|aggregator\) ' "$T/check.out" || true)
[ "$n" -ge 9 ] || pf_fail "expected >= 9 checked command lines (3 roles x compose/k8s/systemd), got $n"
pf_ok "$n command lines accepted by their binaries"

# ---------------------------------------------------------------------------------------------
pf_say "negative controls: broken copies of deploy/ are caught"
# broken NAME SED-FILE SED-EXPR WANT: copies the repo's deploy/ and docs the checker reads,
# applies one edit, and expects check_manifests.py to fail with WANT in its output.
broken() {
    local name=$1 file=$2 expr=$3 want=$4 S=$T/neg-$1
    mkdir -p "$S"
    cp -r "$D" "$S/deploy"
    sed -i -e "$expr" "$S/deploy/$file"
    cmp -s "$D/$file" "$S/deploy/$file" && pf_fail "negative control $name: the edit changed nothing"
    if python3 "$CHECK" --src "$S" --bin "$PF_BIN" >"$S/check.out" 2>&1; then
        pf_fail "negative control $name: check_manifests.py passed"
    fi
    pf_assert_contains "negative control $name: caught ($want)" "$want" "$S/check.out"
}
broken unknown-flag compose.yaml 's/"--concurrency", "2",/"--concurrency", "2", "--bogus-flag",/' \
    "no option '--bogus-flag'"
broken bad-duration k8s/base/producer-cronjob.yaml 's/"--timeout", "15m"/"--timeout", "15 minutes"/' \
    "is not a duration"
broken no-mode systemd/patchfleet-producer.service 's/ --push / /' \
    "exactly one of --push --oci-dir --dry-run"
broken short-grace k8s/base/worker-deployment.yaml 's/terminationGracePeriodSeconds: 960/terminationGracePeriodSeconds: 600/' \
    "terminationGracePeriodSeconds 600 not above"
broken missing-lib Dockerfile 's/ libjansson4 / /' \
    "from libjansson4, not in the runtime apt-get line"
broken probe-path k8s/base/aggregator-deployment.yaml '0,/path: \/healthz/s//path: \/health/' \
    "want /healthz"
