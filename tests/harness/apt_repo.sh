# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Helpers that build a small signed apt repository with Debian's own tools, so the worker's
# InRelease/Release/Packages verification is checked against what apt-ftparchive and GnuPG really
# write. Source it from a bash script running with `set -euo pipefail`:
#
#   . "$PF_SRC/tests/harness/apt_repo.sh"
#   apt_gpg_home DIR              # throwaway GnuPG home + ed25519 signing key; sets $APT_GNUPGHOME
#   apt_export_keyring FILE       # binary public keyring of that key (what gpgv --keyring reads)
#   apt_build_repo DIR SUITE      # pool/ + dists/SUITE/{Release,InRelease,main/binary-amd64/...}
#
# Needs gpg, gpgv, dpkg-deb and apt-ftparchive (Debian packages: gnupg gpgv dpkg apt-utils).
# tests/data/apt/ was generated once with apt_make_fixture; regenerate only on purpose.

# apt_require: fails early when one of the tools is missing.
apt_require() {
    local t
    for t in gpg gpgv dpkg-deb apt-ftparchive; do
        command -v "$t" >/dev/null 2>&1 || {
            printf 'FAIL: required tool %s is not installed (apt-get install gnupg gpgv apt-utils)\n' "$t" >&2
            return 1
        }
    done
}

# apt_gpg_home DIR: a private GnuPG home with one passphrase-less ed25519 signing key that never
# expires. Sets APT_GNUPGHOME. No agent outlives the caller: stop it with apt_gpg_stop.
apt_gpg_home() {
    APT_GNUPGHOME=$1
    mkdir -p "$APT_GNUPGHOME"
    chmod 700 "$APT_GNUPGHOME"
    gpg --homedir "$APT_GNUPGHOME" --batch --quiet --passphrase '' \
        --quick-gen-key 'patchfleet test <test@invalid>' ed25519 sign never 2>/dev/null
}

# apt_gpg_stop: stops the gpg-agent of $APT_GNUPGHOME (started on demand by gpg).
apt_gpg_stop() {
    gpgconf --homedir "$APT_GNUPGHOME" --kill gpg-agent 2>/dev/null || true
}

# apt_export_keyring FILE: writes the binary (not armored) public keyring of the test key.
apt_export_keyring() {
    gpg --homedir "$APT_GNUPGHOME" --batch --export >"$1"
    [ -s "$1" ]
}

# apt_make_deb OUTDIR NAME VERSION: a trivial arch:amd64 package with one file /usr/share/NAME/hello.
apt_make_deb() {
    local out=$1 name=$2 ver=$3 root
    root=$(mktemp -d)
    mkdir -p "$root/DEBIAN" "$root/usr/share/$name"
    printf 'hello from %s %s\n' "$name" "$ver" >"$root/usr/share/$name/hello"
    cat >"$root/DEBIAN/control" <<CTRL
Package: $name
Version: $ver
Architecture: amd64
Maintainer: patchfleet test <test@invalid>
Description: patchfleet apt verification fixture
CTRL
    dpkg-deb --root-owner-group -Zgzip --build "$root" "$out/${name}_${ver}_amd64.deb" >/dev/null
    rm -rf "$root"
}

# apt_build_repo DIR SUITE: builds DIR/pool/main and DIR/dists/SUITE with Packages (+ .gz),
# Release (Valid-Until ten years after Date) and a clear-signed InRelease. Needs apt_gpg_home.
apt_build_repo() {
    local dir=$1 suite=$2 d
    d="$dir/dists/$suite/main/binary-amd64"
    mkdir -p "$dir/pool/main" "$d"
    apt_make_deb "$dir/pool/main" pf-hello 1.0-1
    apt_make_deb "$dir/pool/main" pf-world 2.0-1
    (cd "$dir" && apt-ftparchive packages pool/main >"dists/$suite/main/binary-amd64/Packages")
    gzip -9n -k "$d/Packages"
    (cd "$dir/dists/$suite" && apt-ftparchive \
        -o APT::FTPArchive::Release::Origin=patchfleet \
        -o APT::FTPArchive::Release::Label=patchfleet \
        -o APT::FTPArchive::Release::Suite="$suite" \
        -o APT::FTPArchive::Release::Codename="$suite" \
        -o APT::FTPArchive::Release::Architectures=amd64 \
        -o APT::FTPArchive::Release::Components=main \
        -o APT::FTPArchive::Release::Acquire-By-Hash=yes \
        -o APT::FTPArchive::Release::ValidTime=315360000 \
        release . >Release.tmp && mv Release.tmp Release)
    gpg --homedir "$APT_GNUPGHOME" --batch --yes --digest-algo SHA256 \
        --clearsign -o "$dir/dists/$suite/InRelease" "$dir/dists/$suite/Release"
}

# apt_make_fixture OUTDIR: regenerates tests/data/apt (keyring.gpg, InRelease, Packages,
# other-keyring.gpg from a second, unrelated key).
apt_make_fixture() {
    local out=$1 tmp
    apt_require
    tmp=$(mktemp -d)
    apt_gpg_home "$tmp/gnupg"
    apt_export_keyring "$out/keyring.gpg"
    apt_build_repo "$tmp/repo" pftest
    cp "$tmp/repo/dists/pftest/InRelease" "$out/InRelease"
    cp "$tmp/repo/dists/pftest/main/binary-amd64/Packages" "$out/Packages"
    cp "$tmp/repo/dists/pftest/main/binary-amd64/Packages.gz" "$out/Packages.gz"
    apt_gpg_stop
    apt_gpg_home "$tmp/gnupg2"
    apt_export_keyring "$out/other-keyring.gpg"
    apt_gpg_stop
    rm -rf "$tmp"
}
