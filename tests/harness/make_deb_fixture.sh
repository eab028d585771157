#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the tiny .deb fixtures of tests/unit/test_deb_file.c and test_deb_apply.c with
# dpkg-deb, once; the results are committed in tests/data/deb/. Re-run after changing a
# package here: sh tests/harness/make_deb_fixture.sh [outdir]
# hello 1.0 (gzip) -> 2.0 (xz) exercises removed files, conffiles, usr-merge routing, symlinks and
# hard links; libfoo (zstd) is Multi-Arch: same; newpkg (gzip, arch all) is a fresh install.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../data/deb}
export SOURCE_DATE_EPOCH=1700000000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# build NAME VERSION ARCH COMPRESSION EXTRA-CONTROL; the tree is $tmp/NAME-VERSION.
build() {
    d=$tmp/$1-$2
    mkdir -p "$d/DEBIAN"
    {
        printf 'Package: %s\nVersion: %s\nArchitecture: %s\n' "$1" "$2" "$3"
        printf 'Maintainer: Test <test@example.org>\n'
        printf '%b' "$5"
        printf 'Description: test package %s\n long line one\n .\n long line two\n' "$1"
        printf 'Homepage: https://example.org/%s\n' "$1"
    } > "$d/DEBIAN/control"
    (cd "$d" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
        while read -r f; do
            grep -qx "/$f" DEBIAN/conffiles 2>/dev/null || md5sum "$f"
        done) > "$d/DEBIAN/md5sums"
    find "$d" -exec touch -h -d @$SOURCE_DATE_EPOCH {} +
    dpkg-deb --root-owner-group -Z"$4" --build "$d" "$out/$1_$2_$3.deb" >/dev/null
}

d=$tmp/hello-1.0-1
mkdir -p "$d/usr/bin" "$d/etc" "$d/lib/x86_64-linux-gnu" "$d/usr/share/doc/hello" "$d/DEBIAN"
printf 'hello v1\n' > "$d/usr/bin/hello"; chmod 0755 "$d/usr/bin/hello"
ln -s hello "$d/usr/bin/hi"
printf 'setting=1\n' > "$d/etc/hello.conf"
printf 'same=1\n' > "$d/etc/hello2.conf"
printf 'libhello v1\n' > "$d/lib/x86_64-linux-gnu/libhello.so.1"
printf 'old\n' > "$d/usr/share/doc/hello/old.txt"
printf 'shared\n' > "$d/usr/share/doc/hello/shared.txt"
printf '/etc/hello.conf\n/etc/hello2.conf\n' > "$d/DEBIAN/conffiles"
# Control members dpkg copies to info/: 2.0-1 changes postinst and shlibs, drops prerm and
# triggers and adds symbols (test_deb_apply checks info/ follows, as with dpkg).
printf '#!/bin/sh\n# hello 1.0-1\nexit 0\n' > "$d/DEBIAN/postinst"
printf '#!/bin/sh\nexit 0\n' > "$d/DEBIAN/prerm"
chmod 0755 "$d/DEBIAN/postinst" "$d/DEBIAN/prerm"
printf 'libhello 1 hello (>= 1.0-1)\n' > "$d/DEBIAN/shlibs"
printf 'activate-noawait ldconfig\n' > "$d/DEBIAN/triggers"
build hello 1.0-1 amd64 gzip 'Depends: libfoo\n'

d=$tmp/hello-2.0-1
mkdir -p "$d/usr/bin" "$d/etc" "$d/lib/x86_64-linux-gnu" "$d/usr/share/doc/hello" "$d/DEBIAN"
printf 'hello v2\n' > "$d/usr/bin/hello"; chmod 0755 "$d/usr/bin/hello"
ln "$d/usr/bin/hello" "$d/usr/bin/hello-hard"
ln -s hello "$d/usr/bin/hi"
printf 'setting=2\n' > "$d/etc/hello.conf"
printf 'same=1\n' > "$d/etc/hello2.conf"
printf 'libhello v2\n' > "$d/lib/x86_64-linux-gnu/libhello.so.1"
printf 'new doc\n' > "$d/usr/share/doc/hello/new.txt"
printf '/etc/hello.conf\n/etc/hello2.conf\n' > "$d/DEBIAN/conffiles"
printf '#!/bin/sh\n# hello 2.0-1\nexit 0\n' > "$d/DEBIAN/postinst"
chmod 0755 "$d/DEBIAN/postinst"
printf 'libhello 1 hello (>= 2.0-1)\n' > "$d/DEBIAN/shlibs"
printf 'libhello.so.1 hello #MINVER#\n hello_fn@Base 2.0-1\n' > "$d/DEBIAN/symbols"
build hello 2.0-1 amd64 xz 'Depends: libfoo (>= 2)\n'

d=$tmp/libfoo-2.0-1
mkdir -p "$d/usr/lib/x86_64-linux-gnu" "$d/DEBIAN"
printf 'libfoo v2\n' > "$d/usr/lib/x86_64-linux-gnu/libfoo.so.2"
build libfoo 2.0-1 amd64 zstd 'Multi-Arch: same\nSource: foo (2.0-1)\n'

d=$tmp/newpkg-1.0
mkdir -p "$d/usr/share/newpkg" "$d/DEBIAN"
printf 'new data\n' > "$d/usr/share/newpkg/data.txt"
build newpkg 1.0 all gzip ''
# newpkg's control part gets members with modes dpkg-deb --build would refuse or normalise
# (a 0700 postinst, a 0600 prerm, a 0640 templates), re-packed by hand: dpkg makes the scripts
# it runs (preinst, postinst) 0755 and keeps the others' modes, and test_deb_apply checks that.
c=$tmp/newpkg-ctl
mkdir -p "$c/ctl"
(cd "$c" && ar x "$out/newpkg_1.0_all.deb" && tar -xzf control.tar.gz -C ctl)
printf '#!/bin/sh\nexit 0\n' > "$c/ctl/postinst"
printf '#!/bin/sh\nexit 0\n' > "$c/ctl/prerm"
printf 'Template: newpkg/note\nType: note\nDescription: a note\n' > "$c/ctl/templates"
chmod 0700 "$c/ctl/postinst"
chmod 0600 "$c/ctl/prerm"
chmod 0640 "$c/ctl/templates"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$SOURCE_DATE_EPOCH -C "$c/ctl" \
    -cf - . | gzip -9n > "$c/control.tar.gz"
rm -f "$out/newpkg_1.0_all.deb"
(cd "$c" && ar -rcD "$out/newpkg_1.0_all.deb" debian-binary control.tar.gz data.tar.gz)
