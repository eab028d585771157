# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Debian test packages, signed apt archives and dpkg-based images for the `patchfleet patch`
# integration tests. Everything is made by Debian's own tools (dpkg-deb, dpkg --root,
# apt-ftparchive, gpg, umoci, skopeo), so the patcher is checked against what real images and
# archives contain, and the tests' oracles (dpkg --verify, dpkg-query) read what dpkg wrote.
# Packages and tars are reproducible (SOURCE_DATE_EPOCH, sorted tars, fixed mtimes). No
# maintainer script with an effect ever runs while building: the one that has one is democonf
# 1.0-2's postinst, never installed by dpkg here; libdemo1's do nothing (`exit 0`). Source after lib.sh, apt_repo.sh and seed.sh:
#
#   deb_build_all OUT                      OUT/v1/*.deb (base versions), OUT/v2/*.deb (updates)
#   deb_repo_suite ARCHIVE SUITE ARCHES DEB...   a signed suite (needs apt_gpg_home)
#   deb_image_full LAYOUT REF ARCH DEBS URL        two-layer image, real dpkg database
#   deb_image_uptodate LAYOUT REF ARCH DEBS URL    everything already at the repo's versions
#   deb_image_distroless LAYOUT REF ARCH DEBS      status.d/ only, no apt sources
#   deb_image_hostile LAYOUT REF DEBS URL CANARY   full image + a layer that tries to escape
#   deb_push LAYOUT REF DEST                       skopeo copy to a plain-http registry
#   deb_archive_demo DIR                           the tests' packages and signed archive in one go
#   deb_push_demo_images LAYOUT URL KEYRING ADDR   demo/{full,multi,uptodate,distroless}:1.0
#   deb_demo_config FILE ADDR ENTRY...             a PatchConfig over those demo images
#
# DEBS is a directory from deb_build_all (e.g. OUT/v1); URL is the apt archive root the image's
# deb822 sources name. Every step fails with a "FAIL: deb_fixture:" message naming what broke.

DEB_EPOCH=1700000000
DEB_CREATED=2024-01-01T00:00:00Z
DEB_KEYRING_IN_IMAGE=usr/share/keyrings/patchfleet-test.gpg
DEB_HISTORY=(--history.created "$DEB_CREATED" --history.created_by 'patchfleet deb fixture')

deb_fail() {
    printf 'FAIL: deb_fixture: %s\n' "$*" >&2
    exit 1
}

# deb_fixture_require: every tool the fixtures and oracles use.
deb_fixture_require() {
    local t
    for t in dpkg dpkg-deb dpkg-query apt-ftparchive gpg gpgv umoci skopeo python3 md5sum tar gzip; do
        command -v "$t" >/dev/null 2>&1 || deb_fail "required tool '$t' is not installed"
    done
}

# deb_triplet ARCH: the multiarch library directory name.
deb_triplet() {
    case "$1" in
    amd64) echo x86_64-linux-gnu ;;
    arm64) echo aarch64-linux-gnu ;;
    *) deb_fail "no triplet for architecture '$1'" ;;
    esac
}

# deb__tree ROOT NAME VERSION ARCH: lays out the package tree (DEBIAN/ + data) in ROOT.
deb__tree() {
    local r=$1 name=$2 ver=$3 arch=$4 t extra=''
    t=$(deb_triplet "${arch/all/amd64}")
    mkdir -p "$r/DEBIAN" "$r/usr/share/doc/$name"
    printf 'patchfleet test package %s, Apache-2.0\n' "$name" >"$r/usr/share/doc/$name/copyright"
    case "$name" in
    libdemo1)
        mkdir -p "$r/usr/lib/$t" "$r/lib/$t"
        # The brief's oracle: "v1" before, "v2" after the patch.
        printf '%s\n' "v${ver#1.0-}" >"$r/usr/lib/$t/libdemo.so.1"
        # Under /lib: in the image /lib is a symlink to usr/lib, which must survive the patch.
        printf 'libdemo helper %s %s\n' "$ver" "$arch" >"$r/lib/$t/libdemo-helper.so.1"
        [ "$ver" = 1.0-1 ] && printf 'removed in 1.0-2\n' >"$r/usr/share/doc/$name/OLDFILE"
        extra='Multi-Arch: same'
        # Control members dpkg keeps in info/ (issue #15): 1.0-2 changes postinst and shlibs,
        # drops triggers and adds symbols. The postinst does nothing (dpkg runs it when the
        # fixtures and the oracles install this package).
        printf 'libdemo 1 libdemo1 (>= %s)\n' "$ver" >"$r/DEBIAN/shlibs"
        printf '#!/bin/sh\n# libdemo1 %s\nexit 0\n' "$ver" >"$r/DEBIAN/postinst"
        chmod 755 "$r/DEBIAN/postinst"
        if [ "$ver" = 1.0-1 ]; then
            printf 'activate-noawait ldconfig\n' >"$r/DEBIAN/triggers"
        else
            printf 'libdemo.so.1 libdemo1 #MINVER#\n demo_fn@Base %s\n' "$ver" >"$r/DEBIAN/symbols"
        fi
        ;;
    democonf)
        mkdir -p "$r/etc/democonf.d"
        printf 'setting=%s\n' "$ver" >"$r/etc/democonf.conf"
        printf 'keep=default-%s\n' "$ver" >"$r/etc/democonf.d/keep.conf"
        printf '/etc/democonf.conf\n/etc/democonf.d/keep.conf\n' >"$r/DEBIAN/conffiles"
        if [ "$ver" = 1.0-2 ]; then
            # Proof that maintainer scripts are not run by the patcher. DPKG_ROOT keeps it inside
            # the root even if some tool ran it chrootless.
            # shellcheck disable=SC2016 # expanded by the postinst, not here
            printf '#!/bin/sh\nset -e\n: >"${DPKG_ROOT:-}/etc/ran-postinst"\n' >"$r/DEBIAN/postinst"
            chmod 755 "$r/DEBIAN/postinst"
        fi
        ;;
    demotool)
        mkdir -p "$r/usr/bin"
        printf '#!/bin/sh\necho demotool %s\n' "$ver" >"$r/usr/bin/demotool"
        chmod 755 "$r/usr/bin/demotool"
        [ "$ver" = 2.0-1 ] && extra='Depends: libnew1 (>= 1.0)'
        ;;
    libnew1)
        mkdir -p "$r/usr/lib/$t"
        printf 'libnew %s %s\n' "$ver" "$arch" >"$r/usr/lib/$t/libnew.so.1"
        extra='Multi-Arch: same'
        ;;
    heldpkg)
        mkdir -p "$r/usr/share/heldpkg"
        printf 'held %s\n' "$ver" >"$r/usr/share/heldpkg/data"
        ;;
    demo-data)
        mkdir -p "$r/usr/share/demo-data"
        printf 'data %s\n' "$ver" >"$r/usr/share/demo-data/data.txt"
        extra='Multi-Arch: foreign'
        ;;
    *) deb_fail "unknown test package '$name'" ;;
    esac
    {
        printf 'Package: %s\nVersion: %s\nArchitecture: %s\n' "$name" "$ver" "$arch"
        printf 'Maintainer: patchfleet test <test@invalid>\nInstalled-Size: 1\n'
        printf 'Section: misc\nPriority: optional\n'
        [ -n "$extra" ] && printf '%s\n' "$extra"
        printf 'Description: patchfleet test package %s\n fixture for the patch integration tests\n' "$name"
    } >"$r/DEBIAN/control"
    # md5sums the way dh_md5sums writes it: regular files, conffiles left out, no "./".
    (cd "$r" && find . -type f ! -path './DEBIAN/*' | LC_ALL=C sort | sed 's|^\./||' |
        grep -vxF -f <(sed 's|^/||' DEBIAN/conffiles 2>/dev/null || true) |
        xargs -r md5sum >DEBIAN/md5sums) || deb_fail "md5sums of $name $ver"
}

# deb_make OUTDIR NAME VERSION ARCH: builds OUTDIR/NAME_VERSION_ARCH.deb (root-owned, xz).
deb_make() {
    local out=$1 name=$2 ver=$3 arch=$4 root
    root=$(mktemp -d "${PF_TMP:-/tmp}/debtree.XXXXXX")
    # mktemp makes it 0700, and the "./" entry of data.tar would carry that mode.
    chmod 755 "$root"
    deb__tree "$root" "$name" "$ver" "$arch"
    mkdir -p "$out"
    SOURCE_DATE_EPOCH=$DEB_EPOCH dpkg-deb --root-owner-group -Zxz --build "$root" \
        "$out/${name}_${ver}_${arch}.deb" >/dev/null ||
        deb_fail "dpkg-deb --build $name $ver $arch"
    rm -rf "$root"
}

# deb_build_all OUT: the base versions in OUT/v1 and the updates in OUT/v2 (libnew1 is new in
# v2), for amd64 and arm64; demo-data is Architecture: all.
deb_build_all() {
    local out=$1 a
    for a in amd64 arm64; do
        deb_make "$out/v1" libdemo1 1.0-1 "$a"
        deb_make "$out/v1" democonf 1.0-1 "$a"
        deb_make "$out/v1" demotool 1.0-1 "$a"
        deb_make "$out/v1" heldpkg 1.0-1 "$a"
        deb_make "$out/v2" libdemo1 1.0-2 "$a"
        deb_make "$out/v2" democonf 1.0-2 "$a"
        deb_make "$out/v2" demotool 2.0-1 "$a"
        deb_make "$out/v2" heldpkg 1.0-2 "$a"
        deb_make "$out/v2" libnew1 1.0-1 "$a"
    done
    deb_make "$out/v1" demo-data 1.0-1 all
    deb_make "$out/v2" demo-data 1.0-2 all
}

# deb_repo_suite ARCHIVE SUITE ARCHES DEB...: copies the debs to ARCHIVE/pool/SUITE/ and writes
# ARCHIVE/dists/SUITE/{main/binary-ARCH/Packages{,.gz},Release,InRelease} the way
# apt_build_repo does (apt-ftparchive, clear-signed with $APT_GNUPGHOME). ARCHES like
# "amd64 arm64"; each Packages lists that architecture's debs and the "all" ones.
deb_repo_suite() {
    local archive=$1 suite=$2 arches=$3 a
    shift 3
    [ -n "${APT_GNUPGHOME:-}" ] || deb_fail "deb_repo_suite: call apt_gpg_home first"
    mkdir -p "$archive/pool/$suite"
    cp "$@" "$archive/pool/$suite/" || deb_fail "copy debs into $archive/pool/$suite"
    for a in $arches; do
        mkdir -p "$archive/dists/$suite/main/binary-$a"
        (cd "$archive" && apt-ftparchive --arch "$a" packages "pool/$suite" \
            >"dists/$suite/main/binary-$a/Packages" 2>/dev/null) ||
            deb_fail "apt-ftparchive packages for $suite/$a"
        gzip -9n -kf "$archive/dists/$suite/main/binary-$a/Packages"
    done
    (cd "$archive/dists/$suite" && apt-ftparchive \
        -o APT::FTPArchive::Release::Origin=patchfleet \
        -o APT::FTPArchive::Release::Label=patchfleet \
        -o APT::FTPArchive::Release::Suite="$suite" \
        -o APT::FTPArchive::Release::Codename="$suite" \
        -o APT::FTPArchive::Release::Architectures="$arches" \
        -o APT::FTPArchive::Release::Components=main \
        -o APT::FTPArchive::Release::ValidTime=315360000 \
        release . >Release.tmp && mv Release.tmp Release) || deb_fail "Release of $suite"
    deb_resign "$archive/dists/$suite"
}

# deb_resign SUITEDIR [GNUPGHOME]: (re)writes SUITEDIR/InRelease from SUITEDIR/Release, signed
# by the key in GNUPGHOME (default $APT_GNUPGHOME). Also used to sign with a foreign key.
deb_resign() {
    local d=$1 home=${2:-$APT_GNUPGHOME}
    gpg --homedir "$home" --batch --yes --digest-algo SHA256 --clearsign \
        -o "$d/InRelease" "$d/Release" 2>/dev/null || deb_fail "signing $d/Release"
}

# deb_release_refresh SUITEDIR: rewrites Release (hashes of the current index files) after an
# index was edited, keeping it correctly signed: used to show that the patcher checks the
# Packages hashes against the .deb, not only the signature.
deb_release_refresh() {
    local d=$1 suite
    suite=$(basename "$d")
    (cd "$d" && apt-ftparchive \
        -o APT::FTPArchive::Release::Suite="$suite" \
        -o APT::FTPArchive::Release::Codename="$suite" \
        -o APT::FTPArchive::Release::Architectures="$(sed -n 's/^Architectures: //p' Release)" \
        -o APT::FTPArchive::Release::Components=main \
        -o APT::FTPArchive::Release::ValidTime=315360000 \
        release . >Release.tmp && mv Release.tmp Release) || deb_fail "Release refresh of $d"
    deb_resign "$d"
}

# deb_debs DIR ARCH NAME...: prints the deb paths of the named packages in DIR for ARCH (an
# "all" package is found too); fails when one is missing.
deb_debs() {
    local dir=$1 arch=$2 n f
    shift 2
    for n in "$@"; do
        f=$(compgen -G "$dir/${n}_*_$arch.deb" || compgen -G "$dir/${n}_*_all.deb" || true)
        [ -n "$f" ] || deb_fail "no $n .deb for $arch in $dir"
        f=${f%%$'\n'*}
        printf '%s\n' "$f"
    done
}

# deb_harmless_scripts DEB...: fails unless every maintainer script of the debs does nothing
# (only a shebang, comments and `exit 0`): dpkg runs them when it installs the package.
deb_harmless_scripts() {
    local d s
    for d in "$@"; do
        for s in $(dpkg-deb --ctrl-tarfile "$d" | tar -t | grep -E '(pre|post)(inst|rm)$'); do
            if dpkg-deb --ctrl-tarfile "$d" | tar -xO "$s" | grep -Evq '^(#.*|exit 0)$'; then
                deb_fail "$d: maintainer script $s does something; dpkg would run it"
            fi
        done
    done
}

# deb_rootfs_dpkg ROOT ARCH DEB...: a merged-/usr root (lib -> usr/lib) with the debs installed
# by the real dpkg. The debs' maintainer scripts must do nothing (dpkg runs them).
deb_rootfs_dpkg() {
    local root=$1 arch=$2
    shift 2
    deb_harmless_scripts "$@"
    mkdir -p "$root/usr/lib" "$root/usr/bin" "$root/etc" "$root/var/lib/dpkg/info" \
        "$root/var/lib/dpkg/updates"
    ln -s usr/lib "$root/lib"
    : >"$root/var/lib/dpkg/status"
    if [ "$arch" != amd64 ]; then
        # Host dpkg is amd64; the image's packages are all ARCH (data only, nothing runs).
        dpkg --root="$root" --add-architecture "$arch" || deb_fail "dpkg --add-architecture $arch"
    fi
    dpkg --root="$root" --force-not-root --force-script-chrootless --force-unsafe-io \
        --log=/dev/null -i "$@" >"$root.dpkg.log" 2>&1 ||
        { cat "$root.dpkg.log" >&2; deb_fail "dpkg -i into $root"; }
    rm -f "$root/var/lib/dpkg/lock" "$root/var/lib/dpkg/lock-frontend" "$root.dpkg.log"
    deb__os_release "$root"
}

deb__os_release() {
    mkdir -p "$1/etc"
    cat >"$1/etc/os-release" <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
EOF
}

# deb__sources ROOT URL KEYRING: deb822 sources for suite "stable" of URL, Signed-By a keyring
# inside the image.
deb__sources() {
    local root=$1 url=$2 keyring=$3
    mkdir -p "$root/etc/apt/sources.list.d" "$root/$(dirname "$DEB_KEYRING_IN_IMAGE")"
    cp "$keyring" "$root/$DEB_KEYRING_IN_IMAGE" || deb_fail "copy keyring $keyring"
    cat >"$root/etc/apt/sources.list.d/test.sources" <<EOF
Types: deb
URIs: $url
Suites: stable
Components: main
Signed-By: /$DEB_KEYRING_IN_IMAGE
EOF
}

# deb_tar ROOT OUT [PATH...]: a reproducible layer tar of ROOT (or only of the PATHs in it).
deb_tar() {
    local root=$1 out=$2
    shift 2
    [ $# -gt 0 ] || set -- .
    tar --sort=name --mtime=@$DEB_EPOCH --owner=0 --group=0 --numeric-owner -C "$root" \
        -cf "$out" "$@" || deb_fail "tar of $root"
}

# deb_image_new LAYOUT REF ARCH TAR...: an image of the layer tars in LAYOUT:REF (umoci).
deb_image_new() {
    local layout=$1 ref=$2 arch=$3 t
    shift 3
    [ -f "$layout/index.json" ] || umoci init --layout "$layout" || deb_fail "umoci init $layout"
    umoci new --image "$layout:$ref" || deb_fail "umoci new $ref"
    for t in "$@"; do
        umoci raw add-layer "${DEB_HISTORY[@]}" --image "$layout:$ref" "$t" ||
            deb_fail "umoci raw add-layer $t to $ref"
    done
    umoci config --no-history --image "$layout:$ref" --os linux --architecture "$arch" \
        --created "$DEB_CREATED" --config.label "org.opencontainers.image.version=1.0" ||
        deb_fail "umoci config $ref"
}

# deb_image_full LAYOUT REF ARCH DEBS URL KEYRING: layer 1 = dpkg-installed v1 packages; layer 2
# = the "user's" changes: heldpkg on hold, an edited conffile, a stat override, a diversion, the
# apt sources and keyring.
deb_image_full() {
    local layout=$1 ref=$2 arch=$3 debs=$4 url=$5 keyring=$6 w
    w="$layout.work/$ref"
    rm -rf "$w"
    mkdir -p "$w"
    # shellcheck disable=SC2046
    deb_rootfs_dpkg "$w/root" "$arch" $(deb_debs "$debs" "$arch" libdemo1 democonf demotool heldpkg demo-data)
    deb_tar "$w/root" "$w/layer1.tar"
    echo 'heldpkg hold' | dpkg --root="$w/root" --set-selections || deb_fail "hold heldpkg"
    rm -f "$w/root/var/lib/dpkg/lock" "$w/root/var/lib/dpkg/lock-frontend"
    grep -q '^Status: hold ok installed' <(sed -n '/^Package: heldpkg$/,/^$/p' \
        "$w/root/var/lib/dpkg/status") || deb_fail "heldpkg is not 'hold ok installed'"
    printf 'keep=edited-by-user\n' >"$w/root/etc/democonf.d/keep.conf"
    # The administrator's stat override, as for a setgid crontab: demotool group 4242, 2755.
    # An upgrade must keep it (dpkg applies it to every unpack); written by dpkg-statoverride.
    dpkg-statoverride --root="$w/root" --add root '#4242' 2755 /usr/bin/demotool ||
        deb_fail "dpkg-statoverride demotool"
    # And a local diversion (dpkg-divert --local --rename): the packaged data.txt lives on as
    # data.txt.distrib, the administrator's own data.txt replaces it; upgrades of demo-data
    # must land at data.txt.distrib.
    dpkg-divert --root="$w/root" --local --rename --divert /usr/share/demo-data/data.txt.distrib \
        --add /usr/share/demo-data/data.txt >/dev/null || deb_fail "dpkg-divert data.txt"
    printf 'data kept by the administrator\n' >"$w/root/usr/share/demo-data/data.txt"
    deb__sources "$w/root" "$url" "$keyring"
    deb_tar "$w/root" "$w/layer2.tar" ./etc/democonf.d/keep.conf ./etc/apt \
        ./usr/share/keyrings ./var/lib/dpkg/status ./var/lib/dpkg/statoverride \
        ./var/lib/dpkg/diversions ./usr/share/demo-data
    deb_image_new "$layout" "$ref" "$arch" "$w/layer1.tar" "$w/layer2.tar"
}

# deb_image_uptodate LAYOUT REF ARCH DEBS URL KEYRING: libdemo1, libnew1 and demo-data already at
# the versions DEBS (use the v2 dir) holds; one layer.
deb_image_uptodate() {
    local layout=$1 ref=$2 arch=$3 debs=$4 url=$5 keyring=$6 w
    w="$layout.work/$ref"
    rm -rf "$w"
    mkdir -p "$w"
    # shellcheck disable=SC2046
    deb_rootfs_dpkg "$w/root" "$arch" $(deb_debs "$debs" "$arch" libdemo1 libnew1 demo-data)
    deb__sources "$w/root" "$url" "$keyring"
    deb_tar "$w/root" "$w/layer1.tar"
    deb_image_new "$layout" "$ref" "$arch" "$w/layer1.tar"
}

# deb_extract DEB ROOT: unpacks the deb's data into ROOT through existing directory symlinks
# (plain `dpkg-deb -x` would replace ROOT/lib -> usr/lib by a directory).
deb_extract() {
    dpkg-deb --fsys-tarfile "$1" | tar -x --keep-directory-symlink -C "$2" ||
        deb_fail "extracting $1 into $2"
}

# deb_image_distroless LAYOUT REF ARCH DEBS: a distroless-style root: the files of libdemo1 and
# demo-data (dpkg-deb -x), var/lib/dpkg/status.d/<pkg> = the raw control file (no Status line)
# and <pkg>.md5sums, no status, no info/, no apt sources; os-release says bookworm.
deb_image_distroless() {
    local layout=$1 ref=$2 arch=$3 debs=$4 w d pkg
    w="$layout.work/$ref"
    rm -rf "$w"
    mkdir -p "$w/root/usr/lib" "$w/root/var/lib/dpkg/status.d"
    ln -s usr/lib "$w/root/lib"
    for d in $(deb_debs "$debs" "$arch" libdemo1 demo-data); do
        pkg=$(dpkg-deb --field "$d" Package)
        deb_extract "$d" "$w/root"
        dpkg-deb --field "$d" >"$w/root/var/lib/dpkg/status.d/$pkg" || deb_fail "control of $d"
        dpkg-deb --ctrl-tarfile "$d" | tar -xO ./md5sums >"$w/root/var/lib/dpkg/status.d/$pkg.md5sums" ||
            deb_fail "md5sums of $d"
    done
    [ -L "$w/root/lib" ] || deb_fail "dpkg-deb -x replaced the /lib symlink in $w/root"
    deb__os_release "$w/root"
    deb_tar "$w/root" "$w/layer1.tar"
    deb_image_new "$layout" "$ref" "$arch" "$w/layer1.tar"
}

# deb_image_hostile LAYOUT REF DEBS URL KEYRING CANARY: the full amd64 image plus a top layer
# whose entries try to escape the root: "../" names reaching CANARY's directory, an absolute
# symlink to CANARY's directory with a file written "through" it, a symlink planted where the
# patch writes libdemo.so.1, and a character device node. A safe patcher fails or contains all
# of it; CANARY (an absolute path outside every work dir) must never appear.
deb_image_hostile() {
    local layout=$1 ref=$2 debs=$3 url=$4 keyring=$5 canary=$6 w
    deb_image_full "$layout" "$ref" amd64 "$debs" "$url" "$keyring"
    w="$layout.work/$ref"
    python3 - "$w/hostile.tar" "$canary" <<'PY' || deb_fail "hostile layer"
import io, os, sys, tarfile
out, canary = sys.argv[1], sys.argv[2]
cdir, cname = os.path.dirname(canary), os.path.basename(canary)
data = b"escaped\n"
def reg(tf, name):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000; ti.mode = 0o644
    tf.addfile(ti, io.BytesIO(data))
def link(tf, name, target, kind=tarfile.SYMTYPE):
    ti = tarfile.TarInfo(name); ti.type = kind; ti.linkname = target; ti.mtime = 1700000000
    tf.addfile(ti)
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
    reg(tf, "../" * 16 + canary.lstrip("/"))
    reg(tf, "etc/" + "../" * 16 + canary.lstrip("/") + ".2")
    link(tf, "etc/escape", cdir)
    reg(tf, "etc/escape/" + cname + ".3")
    link(tf, "usr/share/doc/libdemo1/copyright", canary + ".4")
    link(tf, "etc/hardescape", canary + ".5", tarfile.LNKTYPE)
    ti = tarfile.TarInfo("dev/evil"); ti.type = tarfile.CHRTYPE; ti.devmajor = 1; ti.devminor = 3
    ti.mtime = 1700000000
    tf.addfile(ti)
PY
    umoci raw add-layer "${DEB_HISTORY[@]}" --image "$layout:$ref" "$w/hostile.tar" ||
        deb_fail "umoci raw add-layer hostile.tar"
}

# deb_push LAYOUT REF DEST: pushes LAYOUT:REF to DEST (HOST:PORT/repo:tag) over plain http.
deb_push() {
    skopeo copy -q --dest-tls-verify=false "oci:$1:$2" "docker://$3" >/dev/null ||
        deb_fail "skopeo copy oci:$1:$2 docker://$3"
}

# deb_push_all LAYOUT REF DEST: pushes an index (seed_index) with all its images.
deb_push_all() {
    skopeo copy -q --all --dest-tls-verify=false "oci:$1:$2" "docker://$3" >/dev/null ||
        deb_fail "skopeo copy --all oci:$1:$2 docker://$3"
}

# deb_pull_root REGADDR REPO:TAG OUTDIR [ARCH]: pulls the image with skopeo (plain http) into
# OUTDIR/oci and unpacks its root filesystem with umoci into OUTDIR/root (whiteouts applied).
deb_pull_root() {
    local addr=$1 ref=$2 out=$3 arch=${4:-amd64}
    rm -rf "$out"
    mkdir -p "$out"
    skopeo --override-arch "$arch" copy -q --src-tls-verify=false "docker://$addr/$ref" \
        "oci:$out/oci:img" >/dev/null || deb_fail "skopeo copy docker://$addr/$ref"
    umoci raw unpack --image "$out/oci:img" "$out/root" >/dev/null 2>&1 ||
        deb_fail "umoci raw unpack of $ref"
}

# deb_status_field ROOT PKG FIELD: a field of PKG's stanza in ROOT/var/lib/dpkg/status.
deb_status_field() {
    dpkg-query --root="$1" -W -f="\${$3}" "$2" 2>/dev/null || true
}

# deb_statusd_field FILE FIELD: a field of a status.d file (dpkg does not read status.d).
deb_statusd_field() {
    awk -v f="$2" 'index($0, f ": ") == 1 { print substr($0, length(f) + 3); exit }' "$1"
}

# deb_data_files DEB: the regular files of a deb's data, without "./", sorted.
deb_data_files() {
    dpkg-deb --fsys-tarfile "$1" | tar -t |
        grep -v '/$' | sed 's|^\./||' | LC_ALL=C sort
}

# deb_archive_demo DIR: what most tests start from. DIR/debs/{v1,v2} (deb_build_all),
# DIR/keyring.gpg (the archive's public key), and DIR/www, ready to serve: repo/ with suite
# "stable" holding every v2 package (the images' own sources), and the deb.debian.org layout the
# distroless image's default suites reach through --pkg-mirror: the base versions in bookworm,
# one update in bookworm-updates and one in bookworm-security.
deb_archive_demo() {
    local dir=$1 v1=$1/debs/v1 v2=$1/debs/v2
    deb_build_all "$dir/debs"
    apt_gpg_home "$dir/gnupg"
    apt_export_keyring "$dir/keyring.gpg"
    mkdir -p "$dir/www"
    deb_repo_suite "$dir/www/repo" stable "amd64 arm64" "$v2"/*.deb
    deb_repo_suite "$dir/www/debian" bookworm "amd64 arm64" "$v1"/libdemo1_*.deb "$v1"/demo-data_*.deb
    deb_repo_suite "$dir/www/debian" bookworm-updates "amd64 arm64" "$v2"/demo-data_*.deb
    deb_repo_suite "$dir/www/debian-security" bookworm-security "amd64 arm64" "$v2"/libdemo1_*.deb
    apt_gpg_stop
}

# deb_push_demo_images LAYOUT REPO_URL KEYRING ADDR [DEBS]: builds the four test images from
# DEBS (default: the deb_archive_demo layout beside LAYOUT's parent, i.e. $T/debs) and pushes
# them to ADDR as demo/full:1.0 (two layers, amd64), demo/multi:1.0 (amd64 + arm64 index),
# demo/uptodate:1.0 (already at v2) and demo/distroless:1.0 (status.d, no sources).
deb_push_demo_images() {
    local layout=$1 url=$2 keyring=$3 addr=$4 debs=${5:-$(dirname "$1")/debs}
    deb_image_full "$layout" full-amd64 amd64 "$debs/v1" "$url" "$keyring"
    deb_image_full "$layout" full-arm64 arm64 "$debs/v1" "$url" "$keyring"
    seed_index "$layout" multi full-amd64 full-arm64
    deb_image_uptodate "$layout" uptodate amd64 "$debs/v2" "$url" "$keyring"
    deb_image_distroless "$layout" distroless amd64 "$debs/v1"
    deb_push "$layout" full-amd64 "$addr/demo/full:1.0"
    deb_push_all "$layout" multi "$addr/demo/multi:1.0"
    deb_push "$layout" uptodate "$addr/demo/uptodate:1.0"
    deb_push "$layout" distroless "$addr/demo/distroless:1.0"
}

# deb_demo_config FILE ADDR ENTRY...: writes a PatchConfig sweeping demo images of ADDR into
# FILE, one image per ENTRY: "NAME" takes tag 1.0 (strategy list), "NAME=REGEX" the tags REGEX
# matches (strategy pattern; REGEX must not hold a single quote). E.g. ghost names an image
# that does not exist.
deb_demo_config() {
    local file=$1 addr=$2 e
    shift 2
    {
        printf 'apiVersion: copa.sh/v1alpha1\nkind: PatchConfig\nimages:\n'
        for e in "$@"; do
            printf '  - name: %s\n    image: "%s/demo/%s"\n    tags:\n' "${e%%=*}" "$addr" "${e%%=*}"
            if [ "${e#*=}" != "$e" ]; then
                printf "      strategy: pattern\n      pattern: '%s'\n" "${e#*=}"
            else
                printf '      strategy: list\n      list: ["1.0"]\n'
            fi
        done
    } >"$file"
}
