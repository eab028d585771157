#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry apt deb
#
# The CA bundle after a ca-certificates upgrade (issue #15). A small package named
# ca-certificates in two versions (1.0-1 ships A, "Beta (2)" and E; 2.0-1 ships "Beta (2)", C
# and E; C has Beta's subject, so their hash links collide), an image whose /etc/ssl/certs was
# made by the REAL update-ca-certificates (E deselected with "!", a local certificate under
# /usr/local/share/ca-certificates), patched by patchfleet. The oracle is the same root upgraded
# by the real dpkg, the postinst's conf update (debconf's default: trust new certificates) and
# the real update-ca-certificates: the conf, its .dpkg-old, the bundle (byte for byte) and every
# name and link target in /etc/ssl/certs must be the same.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apt_repo.sh"
. "$PF_SRC/tests/harness/seed.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"
pf_require docker-registry skopeo umoci jq curl python3 openssl update-ca-certificates
deb_fixture_require
pf_require_cli patch
pf_tmpdir
T=$PF_TMP
UCC=(update-ca-certificates --hooksdir "")

# ---------------------------------------------------------------------------------------------
pf_say "fixtures: certificates, two ca-certificates packages, signed archive"
cert() { # cert OUT SUBJECT
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
        -subj "$2" -days 3650 -out "$1" 2>/dev/null || pf_fail "openssl req $2"
}
mkdir -p "$T/certs"
cert "$T/certs/A.crt" "/O=patchfleet test/CN=Test CA A"
cert "$T/certs/Beta (2).crt" "/O=patchfleet test/CN=Test CA Beta"
cert "$T/certs/C.crt" "/O=patchfleet test/CN=Test CA Beta"
cert "$T/certs/E.crt" "/O=patchfleet test/CN=Test CA E"
cert "$T/certs/D.crt" "/O=patchfleet test/CN=Local CA D"
# update-ca-certificates adds the newline a certificate file lacks: Beta's file ends without one.
truncate -s -1 "$T/certs/Beta (2).crt"
[ "$(openssl x509 -hash -noout -in "$T/certs/C.crt")" = \
    "$(openssl x509 -hash -noout -in "$T/certs/Beta (2).crt")" ] || pf_fail "C and Beta must collide"

ca_deb() { # ca_deb VERSION CERT...
    local v=$1 d="$T/pkg-$1" c
    shift
    mkdir -p "$d/DEBIAN" "$d/usr/share/ca-certificates/test" "$d/etc/ssl/certs"
    chmod -R 755 "$d"
    for c in "$@"; do cp "$T/certs/$c.crt" "$d/usr/share/ca-certificates/test/"; done
    printf 'Package: ca-certificates\nVersion: %s\nArchitecture: all\nMaintainer: patchfleet tests <t@patchfleet.invalid>\nDescription: test CA certificates\n' \
        "$v" >"$d/DEBIAN/control"
    mkdir -p "$T/debs"
    SOURCE_DATE_EPOCH=$DEB_EPOCH dpkg-deb --root-owner-group -Zxz --build "$d" \
        "$T/debs/ca-certificates_${v}_all.deb" >/dev/null || pf_fail "dpkg-deb $v"
}
ca_deb 1.0-1 A "Beta (2)" E
ca_deb 2.0-1 "Beta (2)" C E
apt_gpg_home "$T/gnupg"
apt_export_keyring "$T/keyring.gpg"
deb_repo_suite "$T/www/repo" stable amd64 "$T/debs/ca-certificates_2.0-1_all.deb"
apt_gpg_stop
pf_http_start APT "$T/www"
REPO_URL="$HTTP_APT_URL/repo/"
pf_registry_start plain A
A=$REG_A_ADDR

# ucc ROOT: the real update-ca-certificates, pointed at ROOT.
ucc() {
    "${UCC[@]}" --certsconf "$1/etc/ca-certificates.conf" --certsdir "$1/usr/share/ca-certificates" \
        --localcertsdir "$1/usr/local/share/ca-certificates" --etccertsdir "$1/etc/ssl/certs" \
        >"$T/ucc.log" 2>&1 || { cat "$T/ucc.log" >&2; pf_fail "update-ca-certificates on $1"; }
}
# unroot ROOT [PREFIX]: link targets made under PREFIX (default ROOT), as inside the image.
unroot() {
    local l t p=${2:-$1}
    for l in "$1"/etc/ssl/certs/*; do
        [ -L "$l" ] || continue
        t=$(readlink "$l")
        case $t in "$p"/*) ln -sfn "${t#"$p"}" "$l" ;; esac
    done
}

pf_say "base image: dpkg-installed 1.0-1, E deselected, a local certificate, real update-ca-certificates"
O=$T/oracle/root
deb_rootfs_dpkg "$O" amd64 "$T/debs/ca-certificates_1.0-1_all.deb"
mkdir -p "$O/usr/local/share/ca-certificates/local"
cp "$T/certs/D.crt" "$O/usr/local/share/ca-certificates/local/"
{
    printf '# This file lists certificates that you wish to use or to ignore to be\n# installed in /etc/ssl/certs.\n#\n'
    printf 'test/A.crt\ntest/Beta (2).crt\n!test/E.crt\n'
} >"$O/etc/ca-certificates.conf"
ucc "$O"
deb__sources "$O" "$REPO_URL" "$T/keyring.gpg"
rm -rf "$T/img"
mkdir -p "$T/img"
cp -a "$O" "$T/img/root"
unroot "$T/img/root" "$O"
pf_assert_eq "base image: A.pem links into /usr/share/ca-certificates" \
    /usr/share/ca-certificates/test/A.crt "$(readlink "$T/img/root/etc/ssl/certs/A.pem")"
deb_tar "$T/img/root" "$T/img/layer.tar"
deb_image_new "$T/layout" ca amd64 "$T/img/layer.tar"
deb_push "$T/layout" ca "$A/demo/ca:1.0"

# ---------------------------------------------------------------------------------------------
pf_say "oracle: dpkg upgrade, the postinst's conf update, real update-ca-certificates"
dpkg --root="$O" --force-not-root --force-script-chrootless --force-unsafe-io --log=/dev/null \
    -i "$T/debs/ca-certificates_2.0-1_all.deb" >/dev/null 2>&1 || pf_fail "oracle: dpkg -i 2.0-1"
rm -f "$O/var/lib/dpkg/lock"*
# The postinst with debconf's defaults: available = the certificates now shipped, enabled = those
# not deselected; each conf line is kept, deselected or (gone) deselected; new ones appended.
python3 - "$O" <<'PY' || pf_fail "oracle: conf update"
import os, sys
root = sys.argv[1]
conf = root + "/etc/ca-certificates.conf"
d = root + "/usr/share/ca-certificates"
avail = sorted(os.path.relpath(os.path.join(p, f), d) for p, _, fs in os.walk(d)
               for f in fs if f.endswith(".crt"))
old = [l.strip(" \t") for l in open(conf).read().split("\n")[:-1]]
disabled = [l[1:] for l in old if l.startswith("!")]
enabled = [c for c in avail if c not in disabled]
new = []
for l in old:
    if l.startswith("#"):
        new.append(l); continue
    ca = l[1:] if l.startswith("!") else l
    if ca in enabled:
        new.append(ca)
    elif ca in avail or l.startswith("!"):
        new.append("!" + ca)
    elif os.path.isfile(os.path.join(d, ca)) or \
            os.path.isfile(os.path.join(root, "usr/local/share/ca-certificates", ca)):
        new.append(ca)
    else:
        new.append("!" + ca)
for ca in enabled:
    if not any(l.startswith(ca) for l in new):
        new.append(ca)
for ca in avail:
    if ca not in enabled and not any(l.startswith("!" + ca) for l in new):
        new.append("!" + ca)
text = "".join(l + "\n" for l in new)
if text != open(conf).read():
    os.rename(conf, conf + ".dpkg-old")
    open(conf, "w").write(text)
PY
ucc "$O"
unroot "$O"
grep -qx '!test/A.crt' "$O/etc/ca-certificates.conf" || pf_fail "oracle: A is not deselected"
[ -L "$O/etc/ssl/certs/C.pem" ] || pf_fail "oracle: no C.pem"

# ---------------------------------------------------------------------------------------------
pf_say "patchfleet patch --push"
deb_demo_config "$T/patch.yaml" "$A" ca
pf_run 0 "$T/push.out" "$T/push.err" "$PF" patch --config "$T/patch.yaml" --timeout 5m \
    --keyring "$T/keyring.gpg" --push --cache-dir "$T/cache" --work-dir "$T/work"
deb_pull_root "$A" demo/ca:1.0-patched "$T/patched"
P=$T/patched/root

# listing ROOT: every name of /etc/ssl/certs with its link target or "file".
listing() {
    local f
    for f in "$1"/etc/ssl/certs/* "$1"/etc/ssl/certs/.[!.]*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        if [ -L "$f" ]; then
            printf '%s -> %s\n' "${f##*/}" "$(readlink "$f")"
        else
            printf '%s file\n' "${f##*/}"
        fi
    done | LC_ALL=C sort
}
pf_assert_eq "/etc/ca-certificates.conf equals the oracle's" \
    "$(cat "$O/etc/ca-certificates.conf")" "$(cat "$P/etc/ca-certificates.conf")"
cmp "$O/etc/ca-certificates.conf.dpkg-old" "$P/etc/ca-certificates.conf.dpkg-old" ||
    pf_fail "ca-certificates.conf.dpkg-old differs from the oracle's"
pf_ok "ca-certificates.conf.dpkg-old equals the oracle's"
cmp "$O/etc/ssl/certs/ca-certificates.crt" "$P/etc/ssl/certs/ca-certificates.crt" ||
    pf_fail "ca-certificates.crt differs from the oracle's"
pf_ok "ca-certificates.crt is byte-identical to the oracle's"
pf_assert_eq "/etc/ssl/certs: every name and link target equals the oracle's" \
    "$(listing "$O")" "$(listing "$P")"
if grep -qF "$(sed -n 2p "$T/certs/A.crt")" "$P/etc/ssl/certs/ca-certificates.crt"; then
    pf_fail "the patched bundle still trusts A, which 2.0-1 removed"
fi
pf_ok "the patched bundle no longer holds A"
pf_say "PASS"
