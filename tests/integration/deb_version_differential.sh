#!/usr/bin/env bash
# labels: deb
# SPDX-License-Identifier: Apache-2.0
#
# Differential test of the Debian version ordering: ~3000 generated version pairs (fixed seed;
# epochs, '~', '+', letters, digit runs with leading zeros, revisions, near-identical pairs and a
# few invalid or warning-only versions) are compared by `patchfleet version-compare deb --batch`
# in one process, and every answer is checked against `dpkg --compare-versions` (one dpkg call per
# pair: the operator matching our answer must hold, and an error must be a dpkg error too).
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
pf_require dpkg python3
pf_require_cli version-compare
pf_tmpdir
T=$PF_TMP
PAIRS=${PF_DEB_PAIRS:-3000}

pf_say "generate $PAIRS version pairs (seed 20261126)"
python3 - "$PAIRS" >"$T/pairs.txt" <<'PY'
import random
import sys

rng = random.Random(20261126)
UP = "0123456789" * 3 + "..++~~abzAZ"
REV = "0123456789" * 3 + "..++~abz"

def part(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))

def version():
    up = rng.choice("0123456789") if rng.random() > 0.03 else rng.choice("abZ")
    up += part(UP, rng.randint(0, 7))
    if rng.random() < 0.1:
        up += "-" + part(UP, rng.randint(1, 3))  # a hyphen inside upstream
    v = up
    if rng.random() < 0.25:
        v = "%d:%s" % (rng.choice([0, 0, 1, 2, 10]), v)
    if rng.random() < 0.6 or "-" in up:
        v += "-" + rng.choice("0123456789") + part(REV, rng.randint(0, 5))
    return v

def mutate(v):
    kind = rng.randrange(8)
    i = rng.randrange(len(v) + 1)
    if kind == 0:
        return v[:i] + rng.choice("0123456789~+.a") + v[i:]
    if kind == 1 and len(v) > 1:
        return v[:i] + v[i + 1:]
    if kind == 2 and i < len(v):
        return v[:i] + rng.choice("0123456789~+.aZ") + v[i + 1:]
    if kind == 3:
        return v + rng.choice(["~", "~~", "+b1", "~rc1", "a", ".0", "-1", "0"])
    if kind == 4:
        return "0:" + v if ":" not in v else v.split(":", 1)[1]
    if kind == 5:
        return v.replace(".", ".0", 1)
    if kind == 6:
        return v
    return version()

n = int(sys.argv[1])
for k in range(n):
    a = version()
    b = mutate(a) if rng.random() < 0.75 else version()
    if k % 97 == 0:  # now and then a version dpkg rejects
        b = rng.choice(["1.0-", ":1.0", "0:", "a:1", "-1:0", "1:-0", "99999999999:1"])
    if rng.random() < 0.5:
        a, b = b, a
    print(a, b)
PY
[ "$(wc -l <"$T/pairs.txt")" -eq "$PAIRS" ] || pf_fail "generator wrote $(wc -l <"$T/pairs.txt") pairs, expected $PAIRS"
pf_ok "$PAIRS pairs"

pf_say "compare every pair with patchfleet (one --batch run)"
set +e
"$PF" version-compare deb --batch <"$T/pairs.txt" >"$T/ours.txt" 2>"$T/ours.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || pf_fail "version-compare --batch exited $rc: $(cat "$T/ours.err")"
[ "$(wc -l <"$T/ours.txt")" -eq "$PAIRS" ] || pf_fail "batch answered $(wc -l <"$T/ours.txt") of $PAIRS pairs"
pf_ok "batch answered $PAIRS lines (exit $rc)"

pf_say "check each answer against dpkg --compare-versions"
python3 - "$T/pairs.txt" "$T/ours.txt" <<'PY'
import subprocess
import sys

pairs = open(sys.argv[1]).read().splitlines()
ours = open(sys.argv[2]).read().splitlines()
ops = {"<": "lt", "=": "eq", ">": "gt"}
bad = counts = 0
seen = {"<": 0, "=": 0, ">": 0, "error": 0}
for line, ans in zip(pairs, ours):
    a, b = line.split(" ")
    if ans.startswith("error:"):
        seen["error"] += 1
        # dpkg must refuse too: exit 2 with "bad syntax" (a plain error, not a warning).
        r = subprocess.run(["dpkg", "--compare-versions", a, "lt", b], capture_output=True, text=True)
        ok = r.returncode == 2 and "error" in r.stderr
    elif ans in ops:
        seen[ans] += 1
        r = subprocess.run(["dpkg", "--compare-versions", a, ops[ans], b], capture_output=True, text=True)
        ok = r.returncode == 0
    else:
        ok = False
    if not ok:
        bad += 1
        print("FAIL: '%s' vs '%s': patchfleet says %r, dpkg disagrees (exit %d) %s"
              % (a, b, ans, r.returncode, r.stderr.strip()), file=sys.stderr)
        if bad >= 20:
            break
print("   answers: %s" % ", ".join("%s %d" % kv for kv in seen.items()))
sys.exit(1 if bad else 0)
PY
pf_ok "patchfleet and dpkg agree on all $PAIRS pairs"
