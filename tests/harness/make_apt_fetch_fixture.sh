#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Regenerates tests/data/apt-fetch: a signed file:// apt repository for test_apt_fetch.c, built
# with Debian's own tools (dpkg-deb, apt-ftparchive, gpg). Suite "pftest", component "main",
# amd64 Packages as .xz, .gz and plain, plus a binary-all index; an image layer tar holding the
# keyring at /usr/share/keyrings/pftest.gpg (for Signed-By read from the image), and the same key
# armored (keyring.asc, for inline Signed-By and .asc keyrings). Valid-Until is
# ten years after generation. Run once, on purpose: the output is committed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$(dirname "$here")")
# shellcheck source=tests/harness/apt_repo.sh
. "$here/apt_repo.sh"

out=$src/tests/data/apt-fetch
suite=pftest
apt_require
tmp=$(mktemp -d)
trap 'apt_gpg_stop; rm -rf "$tmp"' EXIT

# make_deb POOL NAME VERSION ARCH [EXTRA-CONTROL]: a tiny package with one file.
make_deb() {
    local pool=$1 name=$2 ver=$3 arch=$4 extra=${5:-} root
    root=$(mktemp -d)
    mkdir -p "$root/DEBIAN" "$root/usr/share/$name"
    printf 'hello from %s %s\n' "$name" "$ver" >"$root/usr/share/$name/hello"
    {
        printf 'Package: %s\nVersion: %s\nArchitecture: %s\n' "$name" "$ver" "$arch"
        [ -z "$extra" ] || printf '%s\n' "$extra"
        printf 'Maintainer: patchfleet test <test@invalid>\nDescription: apt fetch fixture\n'
    } >"$root/DEBIAN/control"
    dpkg-deb --root-owner-group -Zgzip --build "$root" "$pool/${name}_${ver}_${arch}.deb" >/dev/null
    rm -rf "$root"
}

rm -rf "$out"
mkdir -p "$out"
apt_gpg_home "$tmp/gnupg"
apt_export_keyring "$out/keyring.gpg"
gpg --homedir "$APT_GNUPGHOME" --batch --armor --export >"$out/keyring.asc"

repo=$out/repo
dist=$repo/dists/$suite
mkdir -p "$repo/pool/main" "$dist/main/binary-amd64" "$dist/main/binary-all"
make_deb "$repo/pool/main" pf-hello 1.0-1 amd64
make_deb "$repo/pool/main" pf-hello 1.1-1 amd64 'Depends: pf-data (>= 1.0)'
make_deb "$repo/pool/main" pf-data 1.0 all
(cd "$repo" && apt-ftparchive --arch amd64 packages pool/main >"dists/$suite/main/binary-amd64/Packages")
(cd "$repo" && apt-ftparchive --arch all packages pool/main >"dists/$suite/main/binary-all/Packages")
# amd64 lists arch all packages too (as Debian does), so binary-all only holds pf-data again.
xz -9 -k "$dist/main/binary-amd64/Packages"
gzip -9n -k "$dist/main/binary-amd64/Packages"
(cd "$dist" && apt-ftparchive \
    -o APT::FTPArchive::Release::Origin=patchfleet \
    -o APT::FTPArchive::Release::Label=patchfleet \
    -o APT::FTPArchive::Release::Suite="$suite" \
    -o APT::FTPArchive::Release::Codename="$suite" \
    -o APT::FTPArchive::Release::Architectures="amd64 all" \
    -o APT::FTPArchive::Release::Components=main \
    -o APT::FTPArchive::Release::ValidTime=315360000 \
    release . >"$tmp/Release")
gpg --homedir "$APT_GNUPGHOME" --batch --yes --digest-algo SHA256 \
    --clearsign -o "$dist/InRelease" "$tmp/Release"

# An image layer holding the keyring where a sources file's Signed-By points.
mkdir -p "$tmp/layer/usr/share/keyrings"
cp "$out/keyring.gpg" "$tmp/layer/usr/share/keyrings/pftest.gpg"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp/layer" \
    -cf "$out/image-keyring.tar" usr
