#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# The two things abuild's C helper abuild-tar does that GNU tar cannot, for the apk fixtures:
#   apk_tar.py data ROOT   writes to stdout the data tar of a package: PAX format, entries in
#                          top-down sorted order (every directory before its children, as apk
#                          requires), owner 0:0, mtime fixed, and the PAX record
#                          APK-TOOLS.checksum.SHA1=<hex> on every regular file and symlink (for a
#                          symlink the SHA-1 of its target) = `abuild-tar --hash`.
#   apk_tar.py cut         copies a tar from stdin to stdout without its end-of-archive zero
#                          blocks = `abuild-tar --cut` (control and signature segments).
import hashlib
import io
import os
import sys
import tarfile

MTIME = 1700000000


def data(root):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, root)
            names = sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))])
            if rel_dir != ".":
                add(t, root, rel_dir)
            for n in names:
                add(t, root, n if rel_dir == "." else os.path.join(rel_dir, n))
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    sys.stdout.buffer.write(out.getvalue())


def add(t, root, rel):
    full = os.path.join(root, rel)
    ti = t.gettarinfo(full, arcname=rel)
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = MTIME
    if ti.issym():
        ti.pax_headers = {"APK-TOOLS.checksum.SHA1": hashlib.sha1(ti.linkname.encode()).hexdigest()}
        t.addfile(ti)
    elif ti.isreg():
        with open(full, "rb") as f:
            content = f.read()
        ti.pax_headers = {"APK-TOOLS.checksum.SHA1": hashlib.sha1(content).hexdigest()}
        t.addfile(ti, io.BytesIO(content))
    else:
        t.addfile(ti)


def cut():
    b = sys.stdin.buffer.read()
    end = len(b)
    while end >= 512 and b[end - 512:end] == b"\0" * 512:
        end -= 512
    sys.stdout.buffer.write(b[:end])


if __name__ == "__main__":
    if sys.argv[1] == "data":
        data(sys.argv[2])
    elif sys.argv[1] == "cut":
        cut()
    else:
        sys.exit("usage: apk_tar.py data ROOT | cut")
