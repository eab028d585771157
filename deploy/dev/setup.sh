#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One-time set-up of a Debian 12 / Ubuntu 22.04+ machine for building, testing and demoing
# patchfleet: installs the build dependencies and the real components the tests run
# (docker-registry, skopeo, umoci, ...), then builds into ./build. Safe to run again.
set -euo pipefail

cd "$(dirname "$0")/../.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

PACKAGES=(
    # build
    build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
    # the aggregator's HTTP server (dashboard, API, /metrics)
    libmicrohttpd-dev
    # the design card's libraries, and what serves beside them
    librdkafka-dev libyaml-dev libcurl4-openssl-dev libjansson-dev libhiredis-dev
    libpcre2-dev libarchive-dev libssl-dev zlib1g-dev
    # unit tests
    libcmocka-dev
    # static analysis and formatting (tests/lint/static_checks.sh, tests/lint/format_check.sh)
    clang-tidy cppcheck clang-format
    # real components and independent oracles for the integration tests
    docker-registry skopeo umoci apache2-utils openssl curl jq python3 python3-yaml ca-certificates
    # the Debian engine: gpgv checks InRelease (as apt does); the tests build signed repositories
    gpgv gnupg apt-utils dpkg-dev debian-archive-keyring
    # the dashboard test loads the page in headless Chromium
    chromium
    # fleet mode: a real redis-server; a real Kafka broker (KRaft, jars from Maven Central,
    # fetched by tests/harness/kafka.sh into ~/.cache/patchfleet) and kcat as the oracle
    redis-server kcat maven openjdk-17-jre-headless
)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Debian package starts a registry service on :5000; our tests and demo run their own on
# free ports, so a system one only gets in the way (and cannot start in a container).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
    $SUDO systemctl stop docker-registry || true
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built $(ls build/bin | tr '\n' ' ')"
