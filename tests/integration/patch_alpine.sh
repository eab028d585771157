#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry apk
#
# `patchfleet patch` on an Alpine-like image, end to end: real apk v2 packages and a signed
# APKINDEX made the way abuild makes them (tests/harness/apk_fixture.sh), served over http at
# the path of Alpine's CDN and reached through --pkg-mirror; the image (v1 packages installed,
# /lib -> usr/lib, a user-edited file under /etc, the test key in /etc/apk/keys) pushed to a real
# registry. The patched image is pulled back with skopeo and unpacked with umoci, and its
# installed database is read by an independent parser (python, below) that checks every file
# it lists against its Z: checksum. A tampered package is refused and nothing is pushed.
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/apk_fixture.sh"
. "$PF_SRC/tests/harness/deb_fixture.sh"

pf_require_cli patch
apk_fixture_require
pf_tmpdir
T=$PF_TMP

pf_say "fixtures: apk packages, signed index, http mirror, registry, image"
apk_key "$T/keys" test@patchfleet-it
apk_build_all "$T/out" "$T/keys/test@patchfleet-it.rsa" x86_64 >/dev/null
REPO_DIR=$T/www/alpine/v3.20/main/x86_64
mkdir -p "$REPO_DIR"
cp "$T/out/v2/x86_64/APKINDEX.tar.gz" "$T/out/v2/x86_64/"*-1.0-r1.apk "$T/out/v2/x86_64/"demo-new-*.apk \
    "$REPO_DIR/"
pf_http_start APK "$T/www"
pf_registry_start plain A
A=$REG_A_ADDR

# apkdb.py: what apk-tools keeps of a package's control scripts and triggers, from the .apk
# files and their .stanza (C: identity). A script becomes the scripts.tar entry
# "<P>-<V>.<C>.<type>" (apk_db_scriptdb_write: mode 0755, mtime the .PKGINFO builddate), for the
# types apk knows; a package with "triggers = ..." gets the line "<C> <paths>" in triggers.
#   scripts-tar OUT APK...   writes OUT (plus an entry of a package not installed, which stays)
#   expect APK...            prints "name mode mtime sha1" per entry, sorted
#   list TAR                 prints the same for an existing scripts.tar
#   triggers APK...          prints the triggers lines
cat >"$T/apkdb.py" <<'PY'
import gzip, hashlib, io, sys, tarfile, zlib
TYPES = ("pre-install", "post-install", "pre-deinstall", "post-deinstall", "pre-upgrade",
         "post-upgrade", "trigger")
GHOST = ("ghost-1.0-r0.Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=.post-install", b"#!/bin/sh\nexit 0\n")

def control(apk):
    raw, pos, segs = open(apk, "rb").read(), 0, []
    while pos < len(raw):
        d = zlib.decompressobj(31); d.decompress(raw[pos:]); end = len(raw) - len(d.unused_data)
        segs.append(raw[pos:end]); pos = end
    t = tarfile.open(fileobj=io.BytesIO(gzip.decompress(segs[1])))
    files = {m.name: t.extractfile(m).read() for m in t if m.isfile()}
    info = dict(l.split(" = ", 1) for l in files[".PKGINFO"].decode().splitlines() if " = " in l)
    stanza = dict(l.split(":", 1) for l in open(apk[:-4] + ".stanza").read().splitlines() if ":" in l)
    return info, stanza["C"], files

def entries(apks):
    out = [GHOST + (0,)]
    for apk in apks:
        info, c, files = control(apk)
        for n, data in sorted(files.items()):
            if n.startswith(".") and n[1:] in TYPES:
                out.append(("%s-%s.%s.%s" % (info["pkgname"], info["pkgver"], c, n[1:]), data,
                            int(info.get("builddate", "0"))))
    return out

def show(rows):
    print("\n".join(sorted("%s %o %d %s" % (n, m, t, hashlib.sha1(d).hexdigest()) for n, d, m, t in rows)))

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "scripts-tar":
    with tarfile.open(args[0], "w", format=tarfile.USTAR_FORMAT) as t:
        for n, data, mtime in entries(args[1:]):
            ti = tarfile.TarInfo(n); ti.size = len(data); ti.mode = 0o755; ti.mtime = mtime
            t.addfile(ti, io.BytesIO(data))
elif cmd == "expect":
    show([(n, d, 0o755, t) for n, d, t in entries(args)])
elif cmd == "list":
    t = tarfile.open(args[0])
    show([(m.name, t.extractfile(m).read(), m.mode, m.mtime) for m in t])
elif cmd == "triggers":
    for apk in args:
        info, c, _ = control(apk)
        if "triggers" in info:
            print("%s %s" % (c, info["triggers"]))
PY

# The root: v1 packages extracted, their installed-db stanzas as apk writes them, the database
# under usr/lib/apk/db with lib -> usr/lib (apko's layout), the user's edit of demo.conf.
R=$T/root
mkdir -p "$R/etc/apk/keys" "$R/usr/lib/apk/db"
printf 'ID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME="Alpine Linux v3.20"\n' >"$R/etc/os-release"
printf 'http://dl-cdn.alpinelinux.org/alpine/v3.20/main\n' >"$R/etc/apk/repositories"
printf 'demo-base\ndemo-conf\n' >"$R/etc/apk/world"
cp "$T/keys/test@patchfleet-it.rsa.pub" "$R/etc/apk/keys/"
for p in "$T/out/v1/x86_64"/*.apk; do
    python3 - "$p" "$T/x" <<'PY'
import gzip, io, sys, tarfile, zlib
raw = open(sys.argv[1], "rb").read(); pos = 0; members = []
while pos < len(raw):
    d = zlib.decompressobj(31); d.decompress(raw[pos:]); end = len(raw) - len(d.unused_data)
    members.append(raw[pos:end]); pos = end
tarfile.open(fileobj=io.BytesIO(gzip.decompress(members[-1]))).extractall(sys.argv[2])
PY
    apk_installed_stanza "$p" >>"$R/usr/lib/apk/db/installed"
done
# scripts.tar and triggers as apk-tools writes them (the oracle below reads the same names).
python3 "$T/apkdb.py" scripts-tar "$R/usr/lib/apk/db/scripts.tar" "$T/out/v1/x86_64"/*.apk
python3 "$T/apkdb.py" triggers "$T/out/v1/x86_64"/*.apk >"$R/usr/lib/apk/db/triggers"
grep -q ' /usr/share/demo$' "$R/usr/lib/apk/db/triggers" ||
    pf_fail "fixture: demo-base 1.0-r0 has no trigger in the image's triggers file"
mv "$T/x/lib/demo-helper" "$R/usr/lib/demo-helper"
rm -rf "$T/x/lib"
cp -a "$T/x/." "$R/"
ln -s usr/lib "$R/lib"
deb_tar "$R" "$T/layer1.tar"
printf 'setting=user-edit\n' >"$R/etc/demo/demo.conf"
deb_tar "$R" "$T/layer2.tar" ./etc/demo/demo.conf
deb_image_new "$T/layout" alpine amd64 "$T/layer1.tar" "$T/layer2.tar"
deb_push "$T/layout" alpine "$A/demo/alpine:3.20"
pf_ok "demo/alpine:3.20 pushed (2 layers)"

cat >"$T/patch.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: alpine
    image: "$A/demo/alpine"
    tags:
      strategy: list
      list: ["3.20"]
EOF
COMMON=(--config "$T/patch.yaml" --cache-dir "$T/cache"
    --pkg-mirror "http://dl-cdn.alpinelinux.org=$HTTP_APK_URL")

pf_say "patch --dry-run: the plan"
pf_run 0 "$T/dry.out" "$T/dry.err" "$PF" patch "${COMMON[@]}" --dry-run --format json
pf_assert_eq "dry run: status" Planned "$(jq -r '.results[0].status' "$T/dry.out")"
pf_assert_eq "dry run: upgrades" "demo-base 1.0-r0 1.0-r1,demo-conf 1.0-r0 1.0-r1,demo-new null 2.0-r0" \
    "$(jq -r '[.results[0].platforms[0].upgrades[] | "\(.name) \(.from) \(.to)"] | join(",")' "$T/dry.out")"

pf_say "patch --push, then the image read back by skopeo + umoci"
pf_run 0 "$T/push.out" "$T/push.err" "$PF" patch "${COMMON[@]}" --push
grep -q "^alpine  *Patched " "$T/push.out" || pf_fail "no Patched row: $(cat "$T/push.out")"
pf_assert_eq "layers: base + 1" 3 \
    "$(skopeo inspect --tls-verify=false "docker://$A/demo/alpine:3.20-patched" | jq '.Layers | length')"
deb_pull_root "$A" demo/alpine:3.20-patched "$T/patched"
P=$T/patched/root
[ -L "$P/lib" ] && [ "$(readlink "$P/lib")" = usr/lib ] || pf_fail "/lib is no longer the symlink to usr/lib"
pf_ok "/lib is still a symlink to usr/lib"
[ ! -e "$P/usr/share/demo/OLDFILE" ] || pf_fail "OLDFILE, dropped by demo-base 1.0-r1, is still there"
pf_ok "a file dropped by the new version is gone"
pf_assert_eq "the user's edit of demo.conf is kept" "setting=user-edit" "$(cat "$P/etc/demo/demo.conf")"
pf_assert_eq "the new demo.conf lies beside it" "setting=1.0-r1" "$(cat "$P/etc/demo/demo.conf.apk-new")"
pf_assert_eq "lib/demo-helper landed in usr/lib" "helper 1.0-r1" "$(cat "$P/usr/lib/demo-helper")"
[ ! -e "$T/patched/root/tmp/ran-post-install" ] || pf_fail "a package script ran"
pf_ok "no package script ran"

# The independent reader of apk's installed database: stanzas of K:V lines; F: sets the
# directory, R: names a file in it, Z: its checksum (Q1 + base64 SHA-1) — every listed file must
# exist with that checksum (symlinks: the SHA-1 of the target string). A protected file the user
# changed keeps the user's content, and the package's version lies beside it as .apk-new: the
# database describes the package's file, as apk's own does (apk audit then reports the edit).
python3 - "$P" >"$T/db.txt" <<'PY' || pf_fail "the installed database does not match the files"
import base64, hashlib, os, sys
root = sys.argv[1]
text = open(os.path.join(root, "usr/lib/apk/db/installed")).read()
bad, pkgs = [], []
for stanza in filter(None, text.split("\n\n")):
    name = ver = d = None
    last = None
    for line in stanza.splitlines():
        k, _, v = line.partition(":")
        if k == "P": name = v
        elif k == "V": ver = v
        elif k == "F": d = v
        elif k == "R": last = os.path.join(root, d or "", v)
        elif k == "Z" and last:
            if os.path.exists(last + ".apk-new"): last += ".apk-new"
            want = base64.b64decode(v[2:]).hex()
            if os.path.islink(last):
                got = hashlib.sha1(os.readlink(last).encode()).hexdigest()
            elif os.path.isfile(last):
                got = hashlib.sha1(open(last, "rb").read()).hexdigest()
            else:
                got = "missing"
            if got != want: bad.append("%s: %s" % (last[len(root):], got))
    pkgs.append("%s %s" % (name, ver))
print("\n".join(sorted(pkgs)))
if bad:
    print("\n".join(bad), file=sys.stderr); sys.exit(1)
PY
pf_assert_eq "installed database: versions" "demo-base 1.0-r1
demo-conf 1.0-r1
demo-new 2.0-r0" "$(cat "$T/db.txt")"
pf_ok "every file the new database lists exists with its Z: checksum"

pf_say "scripts.tar and triggers hold the new versions' scripts and triggers, as apk writes them"
NEW_APKS=("$T/out/v2/x86_64"/*-1.0-r1.apk "$T/out/v2/x86_64"/demo-new-*.apk)
pf_assert_eq "scripts.tar entries (name, mode, mtime, sha1): the new versions' and the ghost's" \
    "$(python3 "$T/apkdb.py" expect "${NEW_APKS[@]}")" \
    "$(python3 "$T/apkdb.py" list "$P/usr/lib/apk/db/scripts.tar")"
if tar -tf "$P/usr/lib/apk/db/scripts.tar" | grep -q '^demo-base-1\.0-r0\.'; then
    pf_fail "scripts.tar still holds demo-base 1.0-r0's scripts"
fi
pf_ok "no 1.0-r0 script is left in scripts.tar"
pf_assert_eq "triggers: demo-new's line only (demo-base 1.0-r1 has no trigger)" \
    "$(python3 "$T/apkdb.py" triggers "${NEW_APKS[@]}")" "$(cat "$P/usr/lib/apk/db/triggers")"

pf_say "a replayed older APKINDEX (validly signed, older member mtime) is refused"
# The runs above accepted the index dated 1700000000 with the cache $T/cache. The mirror now
# serves the same packages in an index signed with the same key but dated ten days earlier.
KEY=$T/keys/test@patchfleet-it.rsa
APK_INDEX_MTIME=1699136000 apk_index "$T/out/v2/x86_64" "$KEY"
cp "$T/out/v2/x86_64/APKINDEX.tar.gz" "$REPO_DIR/APKINDEX.tar.gz"
pf_run 1 "$T/old.out" "$T/old.err" "$PF" patch "${COMMON[@]}" --dry-run --format json
pf_assert_eq "replayed index: status" Failed "$(jq -r '.results[0].status' "$T/old.out")"
why=$(jq -r '.results[0].details, (.results[0].platforms[]?.error // empty)' "$T/old.out")
for want in "$HTTP_APK_URL/alpine/v3.20/main/x86_64/APKINDEX.tar.gz" \
    "http://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64" 2023-11-04T22:13:20Z \
    2023-11-14T22:13:20Z --allow-index-rollback; do
    case "$why" in
    *"$want"*) ;;
    *) pf_fail "replayed index: the error does not name '$want': $why" ;;
    esac
done
pf_ok "replayed index: Failed, naming the index URL, the repository and both dates"
pf_run 0 "$T/rb.out" "$T/rb.err" "$PF" patch "${COMMON[@]}" --dry-run --format json \
    --allow-index-rollback
pf_assert_eq "--allow-index-rollback: status" Planned "$(jq -r '.results[0].status' "$T/rb.out")"
APK_INDEX_MTIME=1710000000 apk_index "$T/out/v2/x86_64" "$KEY"
cp "$T/out/v2/x86_64/APKINDEX.tar.gz" "$REPO_DIR/APKINDEX.tar.gz"
pf_run 0 "$T/new.out" "$T/new.err" "$PF" patch "${COMMON[@]}" --dry-run --format json
pf_assert_eq "newer index: status" Planned "$(jq -r '.results[0].status' "$T/new.out")"

pf_say "a tampered package in the mirror is refused, nothing is pushed"
f=$(ls "$REPO_DIR"/demo-base-*.apk)
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[1], "wb").write(b)' "$f"
cat >"$T/patch2.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: alpine
    image: "$A/demo/alpine"
    tags:
      strategy: list
      list: ["3.20"]
    target:
      tag: "{{ .SourceTag }}-tampered"
EOF
pf_run 1 "$T/bad.out" "$T/bad.err" "$PF" patch --config "$T/patch2.yaml" --cache-dir "$T/cache2" \
    --pkg-mirror "http://dl-cdn.alpinelinux.org=$HTTP_APK_URL" --push --format json
pf_assert_eq "tampered: status" Failed "$(jq -r '.results[0].status' "$T/bad.out")"
jq -r '.results[0].details' "$T/bad.out" | grep -qi 'demo-base' ||
    pf_fail "the error does not name the package: $(jq -r '.results[0].details' "$T/bad.out")"
pf_ok "tampered: the error names demo-base"
if skopeo inspect --raw --tls-verify=false "docker://$A/demo/alpine:3.20-tampered" >/dev/null 2>&1; then
    pf_fail "tampered: demo/alpine:3.20-tampered was pushed"
fi
pf_ok "tampered: nothing pushed"

# A repository the image trusts (its key is in /etc/apk/keys) signs an index whose fields carry
# path syntax. Each run must fail naming the field and its value, and nothing may be written
# outside the cache directory: the package is served where the traversal would lead, so a
# worker that trusted the field would fetch it, install it and cache it under a path built
# from it.
pf_say "a signed index whose P: or V: carries '/' and '..' is refused, nothing written outside the cache"
cat >"$T/patch3.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: alpine
    image: "$A/demo/alpine"
    tags:
      strategy: list
      list: ["3.20"]
    target:
      tag: "{{ .SourceTag }}-hostile"
EOF
hostile_run() { # FIELD OLD NEW SERVED_AS: one stanza field rewritten, the index re-signed
    local field=$1 old=$2 new=$3 served=$4 H=$T/www/hostile/alpine/v3.20/main/x86_64 f leaked
    rm -rf "$T/www/hostile" "$T/hcache" && mkdir -p "$H"
    cp "$T/out/v2/x86_64/"*.stanza "$T/out/v2/x86_64/"*.apk "$H/"
    f=$(grep -l "^$field:$old\$" "$H"/*.stanza | head -n1)
    [ -n "$f" ] || pf_fail "hostile: no stanza with $field:$old"
    sed -i "s|^$field:$old\$|$field:$new|" "$f"
    apk_index "$H" "$T/keys/test@patchfleet-it.rsa"
    # Served where a URL built from the field lands once curl removes the dot segments.
    cp "${f%.stanza}.apk" "$T/www/hostile/alpine/$served"
    pf_run 1 "$T/h.out" "$T/h.err" "$PF" patch --config "$T/patch3.yaml" --cache-dir "$T/hcache" \
        --pkg-mirror "http://dl-cdn.alpinelinux.org=$HTTP_APK_URL/hostile" --push --format json
    pf_assert_eq "hostile $field: status" Failed "$(jq -r '.results[0].status' "$T/h.out")"
    jq -r '.results[0].details' "$T/h.out" | grep -qF "$field:$new" ||
        pf_fail "hostile $field: the error does not name $field:$new: $(jq -r '.results[0].details' "$T/h.out")"
    pf_ok "hostile $field: refused, the error names $field:$new"
    leaked=$(find "$T" -maxdepth 3 \( -name 'evil*' -o -name 'x.Q*' \) -not -path "$T/www/*")
    [ -z "$leaked" ] || pf_fail "hostile $field: written outside the cache: $leaked"
    if [ -d "$T/hcache/apk/apks" ] && [ -n "$(find "$T/hcache/apk/apks" -mindepth 1)" ]; then
        pf_fail "hostile $field: a package was cached: $(find "$T/hcache/apk/apks" -mindepth 1)"
    fi
    if skopeo inspect --raw --tls-verify=false "docker://$A/demo/alpine:3.20-hostile" >/dev/null 2>&1; then
        pf_fail "hostile $field: demo/alpine:3.20-hostile was pushed"
    fi
    pf_ok "hostile $field: nothing written outside the cache, nothing pushed"
}
# demo-new comes in as the provider of so:libnew.so.1; a cache file named from its fields would
# be hcache/apk/apks/../../../evil-2.0-r0.<C:>.apk, that is $T/evil-2.0-r0.<C:>.apk.
hostile_run P demo-new ../../../evil evil-2.0-r0.apk
# demo-base's update: its URL .../x86_64/demo-base-1.0-r1/../../../../x.apk is /alpine/x.apk.
hostile_run V 1.0-r1 '1.0-r1/../../../../x' x.apk

# Size bounds (docs/security.md): a signed package whose data holds 2 MiB of zeros, with
# --max-package-size 1M, fails naming the package and the limit before anything is pushed; the
# patch layer bound likewise with --max-patch-layer-size on the ordinary repository.
pf_say "a package over --max-package-size and a patch layer over --max-patch-layer-size are refused"
B=$T/www/big/alpine/v3.20/main/x86_64
mkdir -p "$B" "$T/bigroot/usr/share/demo"
cp "$T/out/v2/x86_64/"*.stanza "$T/out/v2/x86_64/"*.apk "$B/"
head -c $((2 << 20)) /dev/zero >"$T/bigroot/usr/share/demo/zeros"
rm -f "$B"/demo-base-1.0-r1.*
apk_pkg "$B" "$T/bigroot" demo-base 1.0-r1 x86_64 "$T/keys/test@patchfleet-it.rsa" >/dev/null
apk_index "$B" "$T/keys/test@patchfleet-it.rsa"
pf_run 1 "$T/big.out" "$T/big.err" "$PF" patch --config "$T/patch3.yaml" --cache-dir "$T/bigcache" \
    --pkg-mirror "http://dl-cdn.alpinelinux.org=$HTTP_APK_URL/big" --push --format json \
    --max-package-size 1M
pf_assert_eq "big package: status" Failed "$(jq -r '.results[0].status' "$T/big.out")"
jq -r '.results[0].details' "$T/big.out" | grep -q 'demo-base.*1048576 bytes.*package size limit' ||
    pf_fail "big package: the error does not name the package and the limit: $(jq -r '.results[0].details' "$T/big.out")"
pf_ok "big package: refused, the error names demo-base and the 1 MiB limit"
pf_run 1 "$T/pl.out" "$T/pl.err" "$PF" patch --config "$T/patch3.yaml" --cache-dir "$T/plcache" \
    --pkg-mirror "http://dl-cdn.alpinelinux.org=$HTTP_APK_URL/big" --push --format json \
    --max-patch-layer-size 1M
jq -r '.results[0].details' "$T/pl.out" | grep -q 'patch layer would exceed.*1048576 bytes' ||
    pf_fail "patch layer: the error does not name the limit: $(jq -r '.results[0].details' "$T/pl.out")"
pf_ok "patch layer over its limit: refused, the error names the limit"
if skopeo inspect --raw --tls-verify=false "docker://$A/demo/alpine:3.20-hostile" >/dev/null 2>&1; then
    pf_fail "size bounds: demo/alpine:3.20-hostile was pushed"
fi
pf_ok "size bounds: nothing pushed"
