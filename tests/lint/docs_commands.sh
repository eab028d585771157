#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Keeps the docs' command lines honest (CTest lint/docs_commands): every command line quoted in
# README.md, docs/*.md and deploy/**/README.md that runs patchfleet, patchfleet-producer,
# patchfleet-worker or patchfleet-aggregator goes through that binary's option parser
# (docs_commands.py: options from --help, then the line with --help appended must exit 0).
# Negative controls: copies of the docs with one bad line added must fail, naming the problem.
set -euo pipefail

SRC=${PF_SRC:?PF_SRC is the repository root}
BIN=${PF_BIN:?PF_BIN is the directory of the built binaries}
CHECK=$SRC/tests/lint/docs_commands.py
T=$(mktemp -d "${TMPDIR:-/tmp}/pf-docs-lint.XXXXXX")
trap 'rm -rf "$T"' EXIT

echo "== the docs of this tree"
python3 "$CHECK" --src "$SRC" --bin "$BIN"

echo "== negative controls: a bad line in a copy of the docs is caught"
# broken NAME FILE LINE WANT: copies the docs, appends LINE to FILE, and expects the check to
# fail with WANT in its output.
broken() {
    local name=$1 file=$2 line=$3 want=$4 S=$T/$1
    mkdir -p "$S/deploy"
    cp "$SRC/README.md" "$S/"
    cp -r "$SRC/docs" "$S/"
    (cd "$SRC/deploy" && find . -name README.md -exec cp --parents {} "$S/deploy/" \;)
    printf '\n%s\n' "$line" >>"$S/$file"
    if python3 "$CHECK" --src "$S" --bin "$BIN" >"$S/out" 2>&1; then
        echo "FAIL: negative control $name: the check passed"
        exit 1
    fi
    if ! grep -qF -- "$want" "$S/out"; then
        echo "FAIL: negative control $name: output lacks \"$want\":"
        sed 's/^/  | /' "$S/out" | grep -v '  ok: '
        exit 1
    fi
    echo "   ok: negative control $name: caught ($want)"
}
block() { printf '```sh\n%s\n```' "$1"; }
broken made-up-flag-in-block docs/fleet.md \
    "$(block 'patchfleet-worker --brokers kafka:9092 --made-up-flag')" \
    "patchfleet-worker has no option '--made-up-flag'"
broken made-up-flag-in-span README.md '`patchfleet plan --config FILE --jsn`' \
    "patchfleet plan has no option '--jsn'"
broken bad-value-cli docs/patch-command.md \
    "$(block 'patchfleet patch --config f.yaml --push --timeout 15minutes')" \
    "'--timeout 15minutes' is not a duration"
broken bad-value-daemon docs/fleet.md \
    "$(block 'patchfleet-worker --brokers kafka:9092 --concurrency many')" \
    "exits 2: patchfleet-worker: invalid value 'many'"
broken missing-required deploy/k8s/README.md \
    "$(block 'patchfleet-producer --brokers k:9092 --push')" \
    "required option '--config' missing"
broken unknown-command docs/config.md '`patchfleet valdate --config FILE`' \
    "'patchfleet valdate --help' exits"
broken piped-line README.md \
    "$(block 'patchfleet-aggregator --redis redis://r --no-kafka --htp 127.0.0.1:1 | tee log')" \
    "patchfleet-aggregator has no option '--htp'"
echo "docs command lines: all accepted, 7 negative controls caught"
