#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes the hostile-input corpus: tests/data/hostile/<parser>/NAME.<ext> and NAME.expect (the
# substring the refusal must contain). tests/unit/test_hostile_corpus.c walks the result.
# Deterministic (tar mtimes 0, gzip mtime 0), so re-running it changes nothing; edit a case
# here, re-run, commit both. Binary cases built from repository fixtures (tampered packages)
# are copied from tests/data as they are.
import gzip
import io
import os
import shutil
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
SHA = "2b927de97dfc375e8cca2514f5c0c1472cd3052c9320b3778f93370a9d5f8d20"


def case(parser, name, ext, data, expect):
    d = os.path.join(HERE, parser)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name + "." + ext), "wb") as f:
        f.write(data)
    with open(os.path.join(d, name + ".expect"), "w") as f:
        f.write(expect + "\n")


def todo(parser, name, why):
    """Marks a case the code does not refuse yet (fixed on another branch): NAME.todo."""
    with open(os.path.join(HERE, parser, name + ".todo"), "w") as f:
        f.write(why + "\n")


def tar(entries, gz=False):
    """entries: (name, type, data-or-linkname, mode) with type f d l h c p."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, typ, arg, *rest in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            ti.mode = rest[0] if rest else 0o644
            payload = None
            if typ == "f":
                payload = arg.encode() if isinstance(arg, str) else arg
                ti.size = len(payload)
            elif typ == "d":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
            elif typ == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = arg
            elif typ == "h":
                ti.type = tarfile.LNKTYPE
                ti.linkname = arg
            elif typ == "c":
                ti.type = tarfile.CHRTYPE
            elif typ == "p":
                ti.type = tarfile.FIFOTYPE
            t.addfile(ti, io.BytesIO(payload) if payload is not None else None)
    raw = buf.getvalue()
    if gz:
        return gzip.compress(raw, mtime=0)
    return raw


def ar(members):
    out = b"!<arch>\n"
    for name, data in members:
        hdr = "%-16s%-12s%-6s%-6s%-8s%-10s`\n" % (name, "0", "0", "0", "100644", len(data))
        out += hdr.encode() + data
        if len(data) % 2:
            out += b"\n"
    return out


def deb(data_entries, control=None):
    control = control or "Package: evil\nVersion: 1.0\nArchitecture: all\n"
    ctl = tar([("./", "d", None), ("./control", "f", control)], gz=True)
    return ar([("debian-binary", b"2.0\n"), ("control.tar.gz", ctl),
               ("data.tar.gz", tar(data_entries, gz=True))])


def layers():
    L = "layer"
    case(L, "absolute-name", "tar", tar([("/etc/passwd", "f", "x")]), "absolute")
    case(L, "dotdot-name", "tar", tar([("../etc/passwd", "f", "x")]), "..")
    case(L, "dotdot-inside", "tar", tar([("usr/../../etc/shadow", "f", "x")]), "..")
    case(L, "hardlink-out", "tar", tar([("etc/x", "h", "../../etc/shadow")]), "target of hard link 'etc/x'")
    case(L, "hardlink-absolute", "tar", tar([("etc/x", "h", "/etc/shadow")]), "target of hard link 'etc/x'")
    case(L, "hardlink-root", "tar", tar([("etc/x", "h", "./")]), "target of hard link 'etc/x'")
    case(L, "control-char", "tar", tar([("etc/a\tb", "f", "x")]), "control character")
    case(L, "too-deep", "tar", tar([("a/" * 300 + "x", "f", "x")]), "components")
    case(L, "root-not-dir", "tar", tar([(".", "f", "x")]), "the root entry is not a directory")
    case(L, "damaged-root", "tar", tar([("./", "f", "x")]), "cannot read layer")
    case(L, "bad-whiteout", "tar", tar([("etc/.wh..", "f", "")]), "invalid whiteout")
    case(L, "symlink-empty", "tar", tar([("bin/sh", "l", "")]), "symlink")
    case(L, "not-a-tar", "tar", b"\x89PNG\r\n\x1a\n" + b"\0" * 600, "layer")


def indexes():
    P = "apt_packages"
    good = ("Package: pf-hello\nArchitecture: amd64\nVersion: 1.0-1\n"
            "Filename: pool/main/pf-hello_1.0-1_amd64.deb\nSize: 632\nSHA256: %s\n" % SHA)
    case(P, "bad-sha256", "txt", good.replace(SHA, SHA[:-1] + "g"), "SHA256")
    case(P, "short-sha256", "txt", good.replace(SHA, SHA[:40]), "SHA256")
    case(P, "no-sha256", "txt", good.replace("SHA256: %s\n" % SHA, ""), "SHA256")
    case(P, "filename-dotdot", "txt", good.replace("pool/main/", "pool/../../../etc/"), "Filename")
    case(P, "filename-absolute", "txt", good.replace("pool/main/", "/etc/"), "Filename")
    case(P, "name-with-slash", "txt", good.replace("Package: pf-hello", "Package: ../pf-hello"), "Package")
    case(P, "bad-version", "txt", good.replace("Version: 1.0-1", "Version: 1.0/../x"), "invalid version")
    case(P, "bad-size", "txt", good.replace("Size: 632", "Size: -1"), "Size")
    case(P, "huge-size", "txt", good.replace("Size: 632", "Size: 99999999999999999999999"), "Size")
    case(P, "arch-two-words", "txt", good.replace("amd64", "amd64 i386"), "invalid architecture")
    case(P, "duplicate-field", "txt", good + "Package: again\n", "duplicate")
    case(P, "oversized-stanza", "txt", good + "Description: " + "x" * (1 << 20) + "\n", "paragraph too large")
    case(P, "nul-byte", "txt", good.replace("Size", "Si\0ze"), "NUL")

    R = "apt_release"
    rel = ("Origin: x\nSuite: s\nCodename: c\nDate: Thu, 26 Nov 2026 22:36:05 +0000\n"
           "Architectures: amd64\nComponents: main\nSHA256:\n %s 632 main/binary-amd64/Packages\n" % SHA)
    case(R, "path-dotdot", "txt", rel.replace("main/binary", "../../binary"), "malformed SHA256 entry 1")
    case(R, "path-absolute", "txt", rel.replace(" main/binary", " /main/binary"), "malformed SHA256 entry 1")
    case(R, "duplicate-path", "txt", rel + " %s 632 main/binary-amd64/Packages\n" % SHA, "'main/binary-amd64/Packages' twice")
    case(R, "bad-hash-line", "txt", rel.replace(SHA, "xyz"), "SHA256")
    case(R, "no-sha256", "txt", rel.split("SHA256:")[0], "SHA256")
    case(R, "bad-date", "txt", rel.replace("Thu, 26 Nov 2026", "Someday"), "Date")
    case(R, "two-stanzas", "txt", rel + "\nOrigin: y\n", "stanza")

    A = "apk_index"
    stanza = "C:Q1d8s0zcQJfetVKtr23IRZL6w/T38=\nP:demo-base\nV:1.0-r1\nA:x86_64\nS:1219\n"
    case(A, "no-colon", "txt", stanza + "garbage\n", "line 6")
    case(A, "no-version", "txt", stanza.replace("V:1.0-r1\n", ""), "line 5: malformed record")
    case(A, "no-name", "txt", stanza.replace("P:demo-base\n", ""), "line 5: malformed record")
    case(A, "file-record", "txt", stanza + "F:usr/bin\nR:x\n", "line 6")
    case(A, "long-line", "txt", stanza + "T:" + "x" * (1 << 20) + "\n", "line")

    I = "apk_installed"
    inst = stanza + "F:usr/bin\nR:demo\nZ:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    case(I, "record-before-dir", "txt", stanza + "R:demo\n", "line 6")
    case(I, "bad-acl", "txt", inst + "a:0:0:notoctal\n", "line 9")
    case(I, "bad-dir-acl", "txt", stanza + "F:usr\nM:x:y:z\n", "line 7")
    case(I, "outside-package", "txt", "F:usr/bin\nR:x\n", "malformed record")

    S = "apk_signed_index"
    os.makedirs(os.path.join(HERE, S), exist_ok=True)
    shutil.copy(os.path.join(DATA, "apk", "APKINDEX-tampered.tar.gz"), os.path.join(HERE, S, "tampered.tar.gz"))
    with open(os.path.join(HERE, S, "tampered.expect"), "w") as f:
        f.write("signature\n")
    case(S, "unsigned", "tar.gz", tar([("APKINDEX", "f", stanza)], gz=True), "signature")
    case(S, "garbage", "tar.gz", b"not gzip at all", "signature")


def packages():
    F = "apk_file"
    os.makedirs(os.path.join(HERE, F), exist_ok=True)
    shutil.copy(os.path.join(DATA, "apk", "demo-base-tampered.apk"), os.path.join(HERE, F, "tampered.apk"))
    with open(os.path.join(HERE, F, "tampered.expect"), "w") as f:
        f.write("does not match\n")
    shutil.copy(os.path.join(DATA, "apk", "demo-new-2.0-r0.apk"), os.path.join(HERE, F, "other-package.apk"))
    with open(os.path.join(HERE, F, "other-package.expect"), "w") as f:
        f.write("does not match the index\n")
    case(F, "not-gzip", "apk", b"PK\x03\x04 not an apk", "not an apk v2 package")

    D = "apk_data"
    case(D, "absolute", "tar.gz", tar([("/etc/passwd", "f", "x")], gz=True), "malicious file name '/etc/passwd'")
    case(D, "dotdot", "tar.gz", tar([("usr/../../etc/passwd", "f", "x")], gz=True), "..")
    case(D, "dot-slash", "tar.gz", tar([("./usr/bin/x", "f", "x")], gz=True), "usr/bin/x")
    case(D, "hardlink-out", "tar.gz", tar([("usr/x", "h", "../etc/shadow")], gz=True), "usr/x")
    case(D, "corrupt", "tar.gz", gzip.compress(b"\x01" * 1024, mtime=0), "corrupt data segment")

    B = "deb_file"
    case(B, "absolute", "deb", deb([("/etc/passwd", "f", "x")]), "/etc/passwd")
    case(B, "dotdot", "deb", deb([("./usr/../../etc/passwd", "f", "x")]), "..")
    case(B, "hardlink-out", "deb", deb([("./usr/x", "h", "../../etc/shadow")]), "usr/x")
    case(B, "device", "deb", deb([("./dev/evil", "c", None)]), "dev/evil")
    case(B, "fifo", "deb", deb([("./tmp/fifo", "p", None)]), "tmp/fifo")
    case(B, "no-version", "deb", deb([], control="Package: evil\nArchitecture: all\n"), "Version")
    case(B, "not-ar", "deb", b"!<notar>\n" + b"x" * 100, "ar")
    case(B, "bad-debian-binary", "deb",
         ar([("debian-binary", b"3.0\n"), ("control.tar.gz", b""), ("data.tar.gz", b"")]), "unsupported .deb format version")


def databases():
    S = "dpkg_status"
    st = ("Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n")
    case(S, "no-status", "txt", st.replace("Status: install ok installed\n", ""), "Status")
    case(S, "bad-status", "txt", st.replace("install ok installed", "install ok exploded"), "Status")
    case(S, "no-version", "txt", st.replace("Version: 2.36-9\n", ""), "Version")
    case(S, "bad-version", "txt", st.replace("2.36-9", "2.36 9"), "Version")
    case(S, "name-with-slash", "txt", st.replace("libc6", "../libc6"), "Package")
    case(S, "duplicate-package", "txt", st + "\n" + st, "libc6")
    case(S, "comment", "txt", "# hello\n" + st, "line 1")
    case(S, "continuation-first", "txt", " orphan\n" + st, "line 1")

    D = "dpkg_statusd"
    sd = "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"
    case(D, "no-version", "txt", sd.replace("Version: 2024a-0+deb12u1\n", ""), "Version")
    case(D, "duplicate-package", "txt", sd + "\n" + sd, "tzdata")
    case(D, "bad-field-name", "txt", sd + "Bad Field: x\n", "line 4")

    O = "dpkg_statoverride"
    case(O, "relative-path", "txt", "root root 0755 usr/bin/x\n", "line 1")
    case(O, "unknown-user", "txt", "nobody-here root 0755 /usr/bin/x\n", "nobody-here")
    case(O, "bad-mode", "txt", "root root 99999 /usr/bin/x\n", "line 1")
    case(O, "too-few-fields", "txt", "root root /usr/bin/x\n", "line 1")

    V = "dpkg_diversions"
    case(V, "relative", "txt", "/a\nb\n:\n", "line 2: paths must be absolute")
    case(V, "truncated", "txt", "/a\n/b\n:\n/c\n/d\n", "line 4: a diversion is three lines")

    C = "deb822"
    case(C, "nul", "txt", "Package: a\0b\n", "NUL")
    case(C, "duplicate-field", "txt", "Package: a\nPackage: b\n", "line 2")
    case(C, "orphan-continuation", "txt", " x\nPackage: a\n", "line 1")
    case(C, "no-colon", "txt", "Package a\n", "line 1")


def documents():
    M = "oci_manifest"
    d = "sha256:" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    cfg = '{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2}' % d
    lay = '{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}'
    man = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}'
    case(M, "not-json", "json", "{not json", "JSON")
    case(M, "no-config", "json", '{"schemaVersion":2,"layers":[]}', "descriptor is not an object")
    case(M, "bad-digest", "json", man % (cfg, lay % ("sha256:abc", 1)), "digest")
    case(M, "digest-path", "json", man % (cfg, lay % ("sha256:../../etc/passwd", 1)), "digest")
    case(M, "negative-size", "json", man % (cfg, lay % (d, -1)), "size")
    case(M, "size-string", "json", man % (cfg, lay % (d, '"10"')), "size")
    case(M, "layers-not-array", "json", '{"schemaVersion":2,"config":%s,"layers":{}}' % cfg, "layers")
    case(M, "schema1", "json", '{"schemaVersion":1,"name":"x","fsLayers":[]}', "schema")

    X = "oci_index"
    case(X, "manifests-not-array", "json", '{"schemaVersion":2,"manifests":"x"}', "manifests")
    case(X, "bad-digest", "json",
         '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"md5:x","size":1}]}',
         "digest")
    case(X, "not-an-object", "json", "[]", "object")

    G = "image_config"
    case(G, "diff-ids-not-array", "json", '{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":"x"}}', "malformed field")
    case(G, "bad-diff-id", "json", '{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":["sha256:zz"]}}', "malformed field")
    case(G, "not-json", "json", "\x00\x01", "JSON")

    J = "msg_job"
    job = '{"v":1,"run_id":"r","job_id":"j","source":"a/b:1","target_repo":"a/b","target_tag":"1-p"%s}'
    case(J, "no-run-id", "json", job.replace('"run_id":"r",', "") % "", "'run_id'")
    case(J, "v-string", "json", job.replace('"v":1', '"v":"1"') % "", "'v'")
    case(J, "v-major-2", "json", job.replace('"v":1', '"v":2') % "", "field 'v' is 2")
    case(J, "push-not-bool", "json", job % ',"push":"yes"', "'push'")
    case(J, "timeout-negative", "json", job % ',"timeout_ms":-5', "'timeout_ms'")
    case(J, "platforms-not-strings", "json", job % ',"platforms":[1,2]', "'platforms[0]' is not a string")
    case(J, "verdict-unknown", "json", job % ',"verdict":"delete_everything"', "'verdict'")
    case(J, "source-number", "json", job.replace('"source":"a/b:1"', '"source":7') % "", "'source'")
    case(J, "huge", "json", job % (',"x":"' + "A" * (1 << 20) + '"'), "over")
    case(J, "not-object", "json", '"job"', "job message is not JSON")

    Q = "msg_result"
    res = '{"v":1,"run_id":"r","job_id":"j","source":"s","status":"Failed"%s}'
    case(Q, "unknown-status", "json", res.replace("Failed", "Exploded") % "", "'status'")
    case(Q, "no-status", "json", res.replace(',"status":"Failed"', "") % "", "'status'")
    case(Q, "attempt-zero", "json", res % ',"attempt":0', "field 'attempt' is out of range")
    case(Q, "attempt-fraction", "json", res % ',"attempt":1.5', "field 'attempt' is not an integer")
    case(Q, "platforms-not-array", "json", res % ',"platforms":{"a":1}', "'platforms'")
    case(Q, "upgrade-name-number", "json",
         res % ',"platforms":[{"platform":"linux/amd64","upgrades":[{"name":1,"to":"2"}]}]', "'platforms[0].upgrades[0].name' is not a string")
    case(Q, "huge", "json", res % (',"details":"' + "B" * (1 << 20) + '"'), "over")

    U = "redis_url"
    case(U, "wrong-scheme", "txt", "http://localhost:6379\n", "redis URL must start with redis://")
    case(U, "no-host", "txt", "redis://\n", "redis URL has no host")
    case(U, "bad-port", "txt", "redis://h:99999\n", "redis URL has a bad port")
    case(U, "bad-db", "txt", "redis://h:6379/x\n", "redis URL has a bad database number")
    case(U, "unclosed-bracket", "txt", "redis://[::1:6379\n", "redis URL has an unclosed '['")
    case(U, "password-not-echoed", "txt", "redis://u:Sekr3t@h:bad\n", "redis URL has a bad port")

    K = "config"
    case(K, "invalid-utf8", "yaml", b"apiVersion: copa.sh/v1alpha1\nkind: PatchConfig\n\xff\xfe: x\n", "hostile.yaml:3")
    case(K, "unknown-key", "yaml", "apiVersion: copa.sh/v1alpha1\nkind: PatchConfig\nimages: []\nbogus: 1\n", "hostile.yaml:4:1")
    case(K, "wrong-kind", "yaml", "apiVersion: copa.sh/v1alpha1\nkind: Evil\nimages: []\n", "hostile.yaml:2")
    case(K, "not-a-map", "yaml", "- a\n- b\n", "hostile.yaml:1")


if __name__ == "__main__":
    layers()
    indexes()
    packages()
    databases()
    documents()
