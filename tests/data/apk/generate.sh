#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates the committed apk fixtures of tests/unit/test_apk_*.c with the abuild recipe of
# tests/harness/apk_fixture.sh: a test RSA key (test-only, never trusted anywhere else), the
# v2 repository (APKINDEX.tar.gz + packages), and tampered copies of the index and a package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../harness/apk_fixture.sh
source "$here/../../harness/apk_fixture.sh"
apk_fixture_require
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
apk_key "$tmp" test@patchfleet-5f00
apk_build_all "$tmp/out" "$tmp/test@patchfleet-5f00.rsa" x86_64
cp "$tmp/test@patchfleet-5f00.rsa.pub" "$here/"
cp "$tmp/out/v2/x86_64/APKINDEX.tar.gz" "$here/APKINDEX.tar.gz"
cp "$tmp/out/v2/x86_64/demo-base-1.0-r1.apk" "$tmp/out/v2/x86_64/demo-new-2.0-r0.apk" "$here/"
# Tampered: one byte flipped inside the signed part (the index's last byte is in the gzip
# trailer ISIZE, so flipping it breaks the signature without breaking the member split).
python3 - "$here" <<'PY'
import sys
d = sys.argv[1]
b = bytearray(open(d + "/APKINDEX.tar.gz", "rb").read()); b[-1] ^= 1
open(d + "/APKINDEX-tampered.tar.gz", "wb").write(b)
b = bytearray(open(d + "/demo-base-1.0-r1.apk", "rb").read()); b[-1] ^= 1
open(d + "/demo-base-tampered.apk", "wb").write(b)
PY
tar -xzOf "$tmp/out/v2/x86_64/APKINDEX.tar.gz" APKINDEX >"$here/APKINDEX.txt" 2>/dev/null
# The engine test: the v2 repository as repo/x86_64 and an Alpine-like root with the v1
# packages installed (installed db written by apk_installed_stanza, demo.conf modified by the
# "user", /lib a symlink to usr/lib), as image.tar.
rm -rf "$here/repo" && mkdir -p "$here/repo"
cp -r "$tmp/out/v2/x86_64" "$here/repo/" && rm -f "$here/repo/x86_64"/*.stanza "$here/repo/x86_64"/*-1.0-r0.apk
root="$tmp/root"
mkdir -p "$root/etc/apk/keys" "$root/usr/lib" "$root/lib/apk/db"
printf 'ID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME="Alpine Linux v3.20"\n' >"$root/etc/os-release"
printf 'http://dl-cdn.alpinelinux.org/alpine/v3.20/main\n' >"$root/etc/apk/repositories"
printf 'demo-base\ndemo-conf\n' >"$root/etc/apk/world"
cp "$tmp/test@patchfleet-5f00.rsa.pub" "$root/etc/apk/keys/"
for p in "$tmp/out/v1/x86_64"/*.apk; do
    mkdir -p "$tmp/x" && python3 - "$p" "$tmp/x" <<'PY'
import gzip, io, sys, tarfile, zlib
raw = open(sys.argv[1], "rb").read(); pos = 0; members = []
while pos < len(raw):
    d = zlib.decompressobj(31); d.decompress(raw[pos:]); end = len(raw) - len(d.unused_data)
    members.append(raw[pos:end]); pos = end
tarfile.open(fileobj=io.BytesIO(gzip.decompress(members[-1]))).extractall(sys.argv[2])
PY
    apk_installed_stanza "$p" >>"$root/lib/apk/db/installed"
done
cp -a "$tmp/x/." "$root/" && rm -rf "$root/lib/demo-helper"
mv "$tmp/x/lib/demo-helper" "$root/usr/lib/demo-helper" && rmdir "$root/lib/apk/db" 2>/dev/null || true
mkdir -p "$root/usr/lib/apk/db" && mv "$root/lib/apk/db/installed" "$root/usr/lib/apk/db/" 2>/dev/null || true
rm -rf "$root/lib" && ln -s usr/lib "$root/lib"
printf 'setting=user-edit\n' >"$root/etc/demo/demo.conf"
tar -C "$root" -c --owner=0 --group=0 --numeric-owner --mtime=@1700000000 --sort=name . >"$here/image.tar"
