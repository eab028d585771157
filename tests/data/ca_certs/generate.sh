#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerates the fixtures of tests/unit/test_ca_certs.c: two throwaway self-signed CA
# certificates (the private keys are never kept) and a package named ca-certificates, version
# 2.0-1, shipping them as usr/share/ca-certificates/test/{B,C}.crt, built by dpkg-deb.
set -eu
cd "$(dirname "$0")"
for n in B C; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
        -subj "/O=patchfleet test/CN=Unit CA $n" -days 36500 -out "$n.crt" 2>/dev/null
done
d=$(mktemp -d)
mkdir -p "$d/DEBIAN" "$d/usr/share/ca-certificates/test"
chmod -R 755 "$d"
cp B.crt C.crt "$d/usr/share/ca-certificates/test/"
printf 'Package: ca-certificates\nVersion: 2.0-1\nArchitecture: all\nMaintainer: patchfleet tests <t@patchfleet.invalid>\nDescription: test CA certificates\n' >"$d/DEBIAN/control"
SOURCE_DATE_EPOCH=1700000000 dpkg-deb --root-owner-group -Zxz --build "$d" \
    ca-certificates_2.0-1_all.deb >/dev/null
rm -rf "$d"
