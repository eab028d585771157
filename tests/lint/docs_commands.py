#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs every command line the docs quote through the option parser of the binary it names.

Reads README.md, docs/*.md and deploy/**/README.md under --src. A command is a code-block
line, or an inline `code` span, whose command word (first word, or the first after `&&`, `;`,
`|`, `env`/`sudo` and VAR=value words, or the word after a `patchfleet:TAG` image in
`docker run`) is patchfleet, patchfleet-producer, patchfleet-worker or patchfleet-aggregator
(or a path ending in one). Synopses are expanded: `[x]` is taken, each alternative of `(a | b)`
and `a|b` is checked, `...` is dropped, and placeholders (FILE, DURATION, N, URL...) get a
sample value.

Each command is checked the way deploy/check_manifests.py checks the deploy files, with the
same --help parser: the subcommand exists, every option is in the binary's --help, an option
documented with a value has one, and the binary accepts the line with --help appended (it
parses every option and its value, then prints help and exits 0; a bad option or value exits
2 first; durations, which the CLI checks only after its option loop, are checked here as
deploy/check_manifests.py does). Nothing else runs: --help comes last and no option is left to
swallow it, in an empty directory with HOME and DOCKER_CONFIG pointing there. Code-block lines
are whole commands, so they must also satisfy the usage line's required options and one-of
groups; inline spans may be fragments (`patchfleet patch --config FILE`). A bare binary name
is a name, not a command.

usage: docs_commands.py --src REPO --bin DIR
Prints "ok: FILE:LINE: ..." per command and "FAIL: ..." per problem; exit 1 if any failed.
"""
import argparse
import glob
import itertools
import os
import re
import shlex
import subprocess
import sys
import tempfile

BINARIES = ("patchfleet", "patchfleet-producer", "patchfleet-worker", "patchfleet-aggregator")
# patchfleet subcommands that take positional arguments (their usage lines name them).
POSITIONAL = {"copy", "version-compare", "config"}
# Sample values for the placeholders of synopses: values an option parser accepts.
PLACEHOLDERS = {
    "DURATION": "5m", "D": "60s", "N": "2", "URL": "redis://127.0.0.1:1/0", "ID": "run-1",
    "LEVEL": "info", "HOST:PORT": "127.0.0.1:1", "HOST:PORT[,...]": "127.0.0.1:1",
    "HOST[:PORT]": "127.0.0.1:1", "FILE": "bulk.yaml", "DIR": "out", "SRC": "r.test/a:1",
    "DST": "r.test/b:1", "A": "1.0-1", "B": "1.0-2", "FROM=TO": "http://a/=http://b/",
    "NAME": "x",
}
MAX_VARIANTS = 16

FAILED = []


def ok(msg):
    print("   ok: " + msg)


def fail(msg):
    FAILED.append(msg)
    print("FAIL: " + msg)


# --- finding the commands -------------------------------------------------------------------

def doc_files(src):
    files = [os.path.join(src, "README.md")]
    files += sorted(glob.glob(os.path.join(src, "docs", "*.md")))
    files += sorted(glob.glob(os.path.join(src, "deploy", "**", "README.md"), recursive=True))
    return [f for f in files if os.path.isfile(f)]


def quoted(text):
    """(line number, text, whole) for every code-block line and inline code span."""
    out = []
    fence = None
    pending, pending_line = "", 0
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*(```+|~~~+)", line)
        if m and (fence is None or m.group(1)[0] == fence[0]):
            fence = None if fence else m.group(1)
            continue
        if fence:
            # A trailing backslash continues the command on the next line.
            if not pending:
                pending_line = n
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            out.append((pending_line, pending + line, True))
            pending = ""
            continue
        for s in re.findall(r"(?<!`)`([^`\n]+)`(?!`)", line):
            out.append((n, s, False))
    return out


def cut_segments(s):
    """Splits a shell line at unbracketed ;, &&, ||, | and stops at a comment or redirection.
    Brackets and parentheses group a synopsis's alternatives, so a '|' inside them stays."""
    segs, cur, depth, quote, i = [], "", 0, None, 0
    while i < len(s):
        c = s[i]
        if quote:
            cur += c
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
            cur += c
        elif c in "([":
            depth += 1
            cur += c
        elif c in ")]":
            depth = max(0, depth - 1)
            cur += c
        elif depth == 0 and c == "#" and (not cur or cur[-1].isspace()):
            break
        elif depth == 0 and (s.startswith("&&", i) or s.startswith("||", i)):
            segs.append(cur)
            cur = ""
            i += 1
        elif depth == 0 and c == ";":
            segs.append(cur)
            cur = ""
        elif depth == 0 and c == "|" and (not cur or cur[-1].isspace()):
            segs.append(cur)
            cur = ""
        elif depth == 0 and c in "<>" and (not cur or cur[-1].isspace() or cur[-1] == "2"):
            break
        else:
            cur += c
        i += 1
    segs.append(cur)
    return [x.strip() for x in segs if x.strip()]


def command_start(words):
    """Index of the binary among the words, or None when the segment does not run one."""
    i = 0
    while i < len(words) and (words[i] in ("env", "sudo", "exec", "time", "$") or
                              re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[i])):
        i += 1
    if i < len(words) and os.path.basename(words[i]) in BINARIES:
        return i
    if words[:2] == ["docker", "run"]:
        for j in range(2, len(words) - 1):
            if re.search(r"(^|/)patchfleet:[\w.-]+$", words[j]) and words[j + 1] in BINARIES:
                return j + 1
    return None


def expand(s):
    """Every concrete line a synopsis stands for (at most MAX_VARIANTS)."""
    s = s.replace("\\|", "|").replace("[options]", " ").replace("[ARGS...]", " ")
    todo, done = [s], []
    while todo and len(done) < MAX_VARIANTS:
        cur = todo.pop(0)
        m = re.search(r"[\[(]([^\[\]()]*)[\])]", cur)
        if m:
            # (--run ID | --latest) holds alternatives; [--apk-gen 2|3] one option whose
            # value has them, expanded below.
            body = m.group(1).strip()
            alts = re.split(r"\s+\|\s+", body) if " | " in body else [body]
            for alt in alts:
                todo.append(cur[:m.start()] + " " + alt.strip() + " " + cur[m.end():])
            continue
        m = re.search(r"(?<!\S)(\S+\|\S+)(?!\S)", cur)
        if m and not re.search(r"[=/]", m.group(1)):
            for alt in m.group(1).split("|"):
                todo.append(cur[:m.start()] + alt + cur[m.end():])
            continue
        done.append(cur)
    return done


# --- checking one command -------------------------------------------------------------------

def run_parser(argv, sandbox):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": sandbox,
           "DOCKER_CONFIG": sandbox, "TMPDIR": sandbox, "LC_ALL": "C"}
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10, env=env,
                           cwd=sandbox, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return 124, "did not exit within 10 s (did an option swallow --help?)"
    return p.returncode, (p.stderr or p.stdout).strip()


def check(cm, where, bindir, words, whole, sandbox):
    binary = os.path.basename(words[0])
    args = [PLACEHOLDERS.get(w, w) for w in words[1:] if w not in ("...", "…")]
    pre = []
    sub = None
    if binary == "patchfleet":
        while args[:1] == ["--log-level"] and len(args) > 1:
            pre, args = pre + args[:2], args[2:]
        if not args:
            return  # the name of the CLI
        if args[0].startswith("-"):
            h = cm.help_for(bindir, "patchfleet", None)
            if args[0] not in h.flags:
                fail(f"{where}: patchfleet has no option '{args[0]}'")
            return
        sub, args = args[0], args[1:]
    elif not args:
        return  # a daemon's name, not a command line
    h = cm.help_for(bindir, binary, sub)
    label = binary + (" " + sub if sub else "")
    if h.rc != 0:
        fail(f"{where}: '{label} --help' exits {h.rc}: no such command?")
        return
    if sub == "config":
        # `config validate FILE` reads FILE: its parser is not run on a made-up path.
        if args[:1] != ["validate"] or len(args) > 2:
            fail(f"{where}: want 'patchfleet config validate FILE', got {shlex.join(args)}")
        else:
            ok(f"{where}: {label} {shlex.join(args)}".rstrip())
        return
    good, complete, seen, i = True, True, set(), 0
    while i < len(args):
        a = args[i]
        if not a.startswith("-") or a == "-":
            if sub not in POSITIONAL:
                fail(f"{where}: {label}: stray argument '{a}' (no option takes it)")
                good = False
            i += 1
            continue
        name, eq, _ = a.partition("=")
        if name not in h.flags:
            fail(f"{where}: {label} has no option '{name}' (not in its --help)")
            good = False
            i += 1
            continue
        seen.add(name)
        if h.flags[name] and not eq:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                complete = False  # an option named, not used: `patchfleet patch --redis`
                i += 1
                continue
            # The CLI checks durations after its option loop, so --help would hide a bad one.
            if name in ("--timeout", "--grace", "--delivery-timeout") and \
                    cm.seconds(args[i + 1]) is None:
                fail(f"{where}: '{name} {args[i + 1]}' is not a duration")
                good = False
            i += 2
        else:
            i += 1
    # A usage of several forms (version-compare A B, or --batch) has no one set of required
    # options: only single-form usages are enforced.
    forms = re.findall(r"^\s*(?:usage:\s*)?" + re.escape(binary) + r"\b", h.text, re.M)
    if whole and complete and len(forms) <= 1:
        for r in h.required:
            if r not in seen:
                fail(f"{where}: required option '{r}' missing (usage of {label})")
                good = False
        for g in h.groups:
            if len(seen.intersection(g)) != 1:
                fail(f"{where}: exactly one of {' '.join(g)} expected "
                     f"({len(seen.intersection(g))} given)")
                good = False
    if good and complete:
        argv = [os.path.join(bindir, binary)] + pre + ([sub] if sub else []) + args + ["--help"]
        rc, msg = run_parser(argv, sandbox)
        if rc != 0:
            fail(f"{where}: '{shlex.join([binary] + argv[1:])}' exits {rc}: {msg[:300]}")
            good = False
    if good:
        note = "" if complete else " (options only)"
        ok(f"{where}: {label} {shlex.join(args)}".rstrip() + note)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--bin", required=True)
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)  # the binaries run in a sandbox directory
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "..", "deploy"))
    import check_manifests as cm  # the deploy check's --help parser

    for b in BINARIES:
        if not os.access(os.path.join(a.bin, b), os.X_OK):
            fail(f"{b} is not built in {a.bin}")
            return 1
    n = 0
    with tempfile.TemporaryDirectory(prefix="pf-docs-") as sandbox:
        for f in doc_files(a.src):
            rel = os.path.relpath(f, a.src)
            with open(f, encoding="utf-8") as fh:
                text = fh.read()
            for line, s, whole in quoted(text):
                for seg in cut_segments(s):
                    for variant in expand(seg):
                        try:
                            words = shlex.split(variant)
                        except ValueError:
                            continue
                        start = command_start(words)
                        if start is None:
                            continue
                        n += 1
                        check(cm, f"{rel}:{line}", a.bin, words[start:], whole, sandbox)
    print(f"{n} command lines checked, {len(FAILED)} problem(s)")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
