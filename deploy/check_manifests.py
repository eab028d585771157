#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that deploy/ matches the binaries it runs (tests/integration/deploy_manifests.sh).

Every command line in compose.yaml, the kustomize output of k8s/base and the systemd units is
extracted, its variables resolved the way the runtime would (compose ${X:-d}, Kubernetes $(X)
from the settings ConfigMap, systemd ${X} from the EnvironmentFile example), and checked
against the real binary: each flag must appear in that binary's --help, a flag shown with a
value must have one, the usage line's required flags and one-of groups must be satisfied, and
the binary must accept the same arguments with --help appended (so every value it parses
while reading options, such as durations, is parsed for real). Then cross-checks: grace
periods above the job timeout, probes on /healthz at the --http port, KEDA on the workers'
group and topic, and the Dockerfile's runtime packages against ldd of the built binaries.

usage: check_manifests.py --src REPO --bin DIR [--kustomized FILE]
Prints "ok: ..." per check and "FAIL: ..." per problem; exit 1 if any check failed.
"""
import argparse
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

FAILED = []


def ok(msg):
    print("   ok: " + msg)


def fail(msg):
    FAILED.append(msg)
    print("FAIL: " + msg)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


# --- durations ------------------------------------------------------------------------------

DUR_RE = re.compile(r"^(?:(\d+)(ms|s|m|h))+$")
UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def seconds(text):
    """Go-style duration ("15m", "1h30m", "90s") or systemd's "16min" in seconds; None if not."""
    t = str(text).strip().replace("min", "m").replace("sec", "s")
    if not DUR_RE.match(t):
        return None
    return sum(int(n) * UNIT_S[u] for n, u in re.findall(r"(\d+)(ms|s|m|h)", t))


# --- --help of each binary ------------------------------------------------------------------

class Help:
    """The flags a binary (or a patchfleet subcommand) documents, from its --help output."""

    FLAG_RE = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])")

    def __init__(self, argv):
        p = run(argv + ["--help"])
        self.text = p.stdout + p.stderr
        self.argv = argv
        self.rc = p.returncode
        self.flags = {}  # flag -> takes a value
        for m in self.FLAG_RE.finditer(self.text):
            after = self.text[m.end():m.end() + 40]
            takes = bool(re.match(r"(?: |=)(?! )[^\s|()\[\]-]", after)) and not after.startswith(
                " -")
            self.flags[m.group(1)] = self.flags.get(m.group(1), False) or takes
        self.required, self.groups = self._usage()

    def _usage(self):
        # The usage line and its continuation lines (indented, not an option's own line).
        lines = self.text.splitlines()
        start = next((i for i, ln in enumerate(lines) if ln.startswith("usage:")), None)
        if start is None:
            return [], []
        u = lines[start][len("usage:"):]
        for ln in lines[start + 1:]:
            if not ln.startswith(" ") or ln.lstrip().startswith("-") or not ln.strip():
                break
            u += " " + ln
        prev = None
        while prev != u:  # innermost brackets first: HOST:PORT[,...] inside [--x HOST[,...]]
            prev = u
            u = re.sub(r"\[[^\[\]]*\]", " ", u)
        groups = []
        for g in re.findall(r"\(([^()]*)\)", u):
            if self.FLAG_RE.findall(g):
                groups.append(self.FLAG_RE.findall(g))
        u = re.sub(r"\([^()]*\)", " ", u)
        return [f for f in self.FLAG_RE.findall(u) if f.startswith("--")], groups


HELP_CACHE = {}


def help_for(bindir, binary, sub):
    key = (binary, sub)
    if key not in HELP_CACHE:
        argv = [os.path.join(bindir, binary)] + ([sub] if sub else [])
        HELP_CACHE[key] = Help(argv)
    return HELP_CACHE[key]


ROLES = {"producer": "patchfleet-producer", "worker": "patchfleet-worker",
         "aggregator": "patchfleet-aggregator", "patchfleet": "patchfleet", "cli": "patchfleet"}


def check_command(where, bindir, binary, args):
    """Checks one command line (binary name, its arguments after variable expansion)."""
    sub = None
    if binary == "patchfleet":
        if not args or args[0].startswith("-"):
            fail(f"{where}: patchfleet without a command")
            return
        sub, args = args[0], args[1:]
    h = help_for(bindir, binary, sub)
    if h.rc != 0:
        fail(f"{where}: '{binary} --help' exited {h.rc}")
        return
    seen = set()
    i = 0
    good = True
    while i < len(args):
        a = args[i]
        if not a.startswith("-") or a == "-":
            fail(f"{where}: stray argument '{a}' (no option takes it)")
            good = False
            i += 1
            continue
        name, eq, _ = a.partition("=")
        if name not in h.flags:
            fail(f"{where}: {binary}{' ' + sub if sub else ''} has no option '{name}' "
                 f"(not in its --help)")
            good = False
            i += 1
            continue
        seen.add(name)
        if h.flags[name] and not eq:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                fail(f"{where}: '{name}' needs a value")
                good = False
                i += 1
                continue
            value = args[i + 1]
            i += 2
        else:
            value = None
            i += 1
        if name in ("--timeout", "--grace", "--delivery-timeout") and value is not None \
                and seconds(value) is None:
            fail(f"{where}: '{name} {value}' is not a duration")
            good = False
    for r in h.required:
        if r not in seen:
            fail(f"{where}: required option '{r}' missing (usage of {binary})")
            good = False
    for g in h.groups:
        n = len(seen.intersection(g))
        if n != 1:
            fail(f"{where}: exactly one of {' '.join(g)} expected, got {n}")
            good = False
    # The binary itself must accept these arguments: with --help last, it parses every option
    # (and its value) before printing help and exiting 0; a bad one exits 2 first.
    argv = [os.path.join(bindir, binary)] + ([sub] if sub else []) + list(args) + ["--help"]
    p = run(argv, timeout=20)
    if p.returncode != 0:
        fail(f"{where}: '{shlex.join(argv)}' exited {p.returncode}: "
             f"{(p.stderr or p.stdout).strip()[:300]}")
        good = False
    if good:
        ok(f"{where}: {binary}{' ' + sub if sub else ''} {shlex.join(args)}")


def opt(args, name):
    """The value of option NAME in an argument list, or None."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def http_port(args):
    v = opt(args, "--http")
    if v is None:
        return None
    return int(v.rsplit(":", 1)[1]) if ":" in v else int(v)


# --- YAML -----------------------------------------------------------------------------------

def check_yaml(src):
    docs = {}
    files = sorted(glob.glob(os.path.join(src, "deploy", "**", "*.y*ml"), recursive=True))
    for f in files:
        rel = os.path.relpath(f, src)
        try:
            with open(f, encoding="utf-8") as fh:
                docs[rel] = [d for d in yaml.safe_load_all(fh) if d is not None]
        except yaml.YAMLError as e:
            fail(f"{rel} does not parse: {e}")
            continue
        ok(f"{rel} parses ({len(docs[rel])} document(s))")
    return docs


def check_patchconfigs(src, bindir, docs):
    for rel, ds in docs.items():
        if not any(isinstance(d, dict) and d.get("kind") == "PatchConfig" for d in ds):
            continue
        if "/dev/" in rel:
            continue  # the demo's templates hold __REGISTRY__ until demo.sh fills it in
        p = run([os.path.join(bindir, "patchfleet"), "config", "validate", os.path.join(src, rel)])
        if p.returncode != 0:
            fail(f"{rel}: patchfleet config validate exited {p.returncode}: {p.stderr.strip()}")
        else:
            ok(f"{rel}: patchfleet config validate accepts it")


# --- compose --------------------------------------------------------------------------------

def compose_interpolate(s):
    s = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}",
               lambda m: os.environ.get(m.group(1), m.group(2) or ""), s)
    return s.replace("$$", "$")


def check_compose(src, bindir, compose):
    services = compose.get("services", {})
    found = {}
    for name, svc in services.items():
        if not str(svc.get("image", "")).startswith("patchfleet"):
            continue
        cmd = svc.get("command")
        if isinstance(cmd, str):
            cmd = shlex.split(cmd)
        if not cmd or cmd[0] not in ROLES:
            fail(f"compose service {name}: command must start with a role, got {cmd!r}")
            continue
        args = [compose_interpolate(str(a)) for a in cmd]
        found[cmd[0]] = (name, svc, args[1:])
        check_command(f"compose {name}", bindir, ROLES[cmd[0]], args[1:])
        for v in svc.get("volumes", []) or []:
            host = str(v).split(":", 1)[0]
            if host.startswith("."):
                path = os.path.normpath(os.path.join(src, "deploy", host))
                if not os.path.exists(path):
                    fail(f"compose {name}: mounted file '{host}' does not exist")
                else:
                    ok(f"compose {name}: mounted '{host}' exists")
    for role in ("producer", "worker", "aggregator"):
        if role not in found:
            fail(f"compose: no {role} service")
    kafka = services.get("kafka", {})
    env = kafka.get("environment", {})
    if not str(kafka.get("image", "")).startswith("apache/kafka") or \
            "controller" not in str(env.get("KAFKA_PROCESS_ROLES", "")):
        fail("compose: kafka must be apache/kafka in KRaft mode (KAFKA_PROCESS_ROLES)")
    else:
        ok("compose: kafka is apache/kafka in KRaft mode")
    for need in ("redis", "registry"):
        if need not in services:
            fail(f"compose: no {need} service")
    if "worker" in found:
        name, svc, args = found["worker"]
        reps = (svc.get("deploy") or {}).get("replicas")
        if reps != 3:
            fail(f"compose: {reps} workers, want 3")
        grace = seconds(opt(args, "--grace") or "30s")
        stop = seconds(svc.get("stop_grace_period", "10s"))
        if stop is None or stop <= grace:
            fail(f"compose worker: stop_grace_period {stop}s not above --grace {grace}s")
        else:
            ok(f"compose: 3 workers, stop_grace_period {stop:g}s above --grace {grace:g}s")
    if "producer" in found:
        svc = found["producer"][1]
        if svc.get("restart") != "no" or "bulk.yaml" not in json.dumps(svc.get("volumes")):
            fail("compose producer: want restart \"no\" and the PatchConfig mounted")
        else:
            ok("compose: producer is one-shot with deploy/compose/bulk.yaml mounted")


# --- Kubernetes -----------------------------------------------------------------------------

def k8s_settings(objs):
    """ConfigMap data by name prefix (kustomize appends a hash)."""
    out = {}
    for o in objs:
        if o.get("kind") == "ConfigMap":
            out[o["metadata"]["name"]] = o.get("data", {}) or {}
    return out


def container_env(c, cms):
    env = {}
    for ef in c.get("envFrom", []) or []:
        ref = (ef.get("configMapRef") or {}).get("name")
        if ref in cms:
            env.update(cms[ref])
    for e in c.get("env", []) or []:
        if "value" in e:
            env[e["name"]] = e["value"]
    return env


def pod_spec(o):
    if o["kind"] == "CronJob":
        return o["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return o["spec"]["template"]["spec"]


def check_k8s(src, bindir, objs):
    cms = k8s_settings(objs)
    byrole = {}
    for o in objs:
        if o.get("kind") not in ("Deployment", "CronJob", "Job", "StatefulSet", "DaemonSet"):
            continue
        spec = pod_spec(o)
        for c in spec.get("containers", []):
            if "patchfleet" not in c.get("image", ""):
                continue
            env = container_env(c, cms)
            raw = list(c.get("command", []) or []) + list(c.get("args", []) or [])
            args = [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                           lambda m: env.get(m.group(1), m.group(0)), str(a)) for a in raw]
            unresolved = [a for a in args if re.search(r"\$\([A-Za-z_]", a)]
            if unresolved:
                fail(f"k8s {o['kind']}/{o['metadata']['name']}: unresolved {unresolved}")
            where = f"k8s {o['kind']}/{o['metadata']['name']}"
            if not args or args[0] not in ROLES:
                fail(f"{where}: args must start with a role, got {args[:1]}")
                continue
            check_command(where, bindir, ROLES[args[0]], args[1:])
            byrole[args[0]] = (o, spec, c, args[1:], env)
            check_probes(where, c, args[1:])
            if "--http" in help_for(bindir, ROLES[args[0]], None).flags and \
                    opt(args[1:], "--http") is None:
                fail(f"{where}: {ROLES[args[0]]} offers --http (/healthz for probes) but the "
                     f"manifest does not use it")
            for m in c.get("volumeMounts", []) or []:
                if not any(v["name"] == m["name"] for v in spec.get("volumes", []) or []):
                    fail(f"{where}: volumeMount {m['name']} has no volume")
    for role in ("producer", "worker", "aggregator"):
        if role not in byrole:
            fail(f"k8s: no {role}")
    if "producer" in byrole and byrole["producer"][0]["kind"] == "CronJob":
        ok(f"k8s: producer is a CronJob ({byrole['producer'][0]['spec']['schedule']})")
    elif "producer" in byrole:
        fail("k8s: the producer must be a CronJob")
    if "worker" in byrole:
        o, spec, c, args, env = byrole["worker"]
        tgps = spec.get("terminationGracePeriodSeconds", 30)
        limits = {"worker --timeout": seconds(opt(args, "--timeout") or "5m"),
                  "worker --grace": seconds(opt(args, "--grace") or "30s")}
        if "producer" in byrole:
            limits["producer --timeout"] = seconds(opt(byrole["producer"][3], "--timeout") or "5m")
        worst = max(limits.values())
        if tgps <= worst:
            fail(f"k8s worker: terminationGracePeriodSeconds {tgps} not above {limits}")
        else:
            ok(f"k8s worker: terminationGracePeriodSeconds {tgps} above {worst:g}s ({limits})")
        check_keda(objs, o, args, env)
    for o in objs:
        if o.get("kind") == "Service":
            sel = o["spec"].get("selector", {})
            agg = byrole.get("aggregator")
            labels = agg[0]["spec"]["template"]["metadata"]["labels"] if agg else {}
            if not sel or any(labels.get(k) != v for k, v in sel.items()):
                fail(f"k8s Service/{o['metadata']['name']}: selector {sel} misses the aggregator")
            else:
                ok(f"k8s Service/{o['metadata']['name']} selects the aggregator pods")
        if o.get("kind") == "Secret" and o.get("type") == "kubernetes.io/dockerconfigjson":
            data = (o.get("stringData") or {}).get(".dockerconfigjson")
            try:
                json.loads(data)
                ok(f"k8s Secret/{o['metadata']['name']}: .dockerconfigjson is JSON")
            except (TypeError, ValueError):
                fail(f"k8s Secret/{o['metadata']['name']}: .dockerconfigjson is not JSON")
        if o.get("kind") == "ConfigMap" and "bulk.yaml" in (o.get("data") or {}):
            tmp = os.path.join(os.environ.get("PF_TMP", "/tmp"), "k8s-bulk.yaml")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(o["data"]["bulk.yaml"])
            p = run([os.path.join(bindir, "patchfleet"), "config", "validate", tmp])
            if p.returncode != 0:
                fail(f"k8s ConfigMap/{o['metadata']['name']}: PatchConfig invalid: {p.stderr}")
            else:
                ok(f"k8s ConfigMap/{o['metadata']['name']}: the PatchConfig validates")


def check_probes(where, c, args):
    port = http_port(args)
    probes = [(k, c[k]) for k in ("readinessProbe", "livenessProbe", "startupProbe") if k in c]
    if not probes:
        if port is not None:
            fail(f"{where}: serves --http but has no probe")
        return
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", []) or []}
    for kind, p in probes:
        g = p.get("httpGet") or {}
        pp = g.get("port")
        pp = ports.get(pp, pp)
        if g.get("path") != "/healthz" or pp != port:
            fail(f"{where}: {kind} {g.get('path')} on port {pp}, want /healthz on --http {port}")
        else:
            ok(f"{where}: {kind} on /healthz at the --http port {port}")


def check_keda(objs, worker, args, env):
    sos = [o for o in objs if o.get("kind") == "ScaledObject"]
    if not sos:
        fail("k8s: no KEDA ScaledObject")
        return
    for so in sos:
        target = so["spec"]["scaleTargetRef"]["name"]
        trig = [t for t in so["spec"]["triggers"] if t["type"] == "kafka"]
        m = trig[0]["metadata"] if trig else {}
        group = opt(args, "--group") or "patchfleet-workers"
        problems = []
        if target != worker["metadata"]["name"]:
            problems.append(f"targets {target}")
        if m.get("topic") != "patchfleet.jobs":
            problems.append(f"topic {m.get('topic')}")
        if m.get("consumerGroup") != group:
            problems.append(f"group {m.get('consumerGroup')} (workers: {group})")
        if m.get("bootstrapServers") != env.get("PF_BROKERS", opt(args, "--brokers")):
            problems.append(f"brokers {m.get('bootstrapServers')} vs {env.get('PF_BROKERS')}")
        if problems:
            fail(f"k8s ScaledObject/{so['metadata']['name']}: " + ", ".join(problems))
        else:
            ok(f"k8s ScaledObject/{so['metadata']['name']}: lag of {group} on patchfleet.jobs")


# --- systemd --------------------------------------------------------------------------------

def read_env(path):
    env = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k.strip()] = v.strip().strip('"')
    return env


def check_systemd(src, bindir):
    d = os.path.join(src, "deploy", "systemd")
    examples = glob.glob(os.path.join(d, "*.env.example"))
    if not examples:
        fail("systemd: no EnvironmentFile example")
        return
    env = read_env(examples[0])
    units = sorted(glob.glob(os.path.join(d, "*.service")))
    for u in units:
        with open(u, encoding="utf-8") as fh:
            text = fh.read()
        kv = re.findall(r"^(\w+)=(.*)$", text, re.M)
        execs = [v for k, v in kv if k == "ExecStart"]
        for line in execs:
            line = line.replace("%i", "1")
            line = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                          lambda m: shlex.quote(env.get(m.group(1), "UNSET-" + m.group(1))), line)
            argv = shlex.split(line)
            if any("UNSET-" in a for a in argv):
                fail(f"systemd {os.path.basename(u)}: variable not in the example: {argv}")
            binary = os.path.basename(argv[0])
            check_command(f"systemd {os.path.basename(u)}", bindir, binary, argv[1:])
            if binary == "patchfleet-worker":
                stop = seconds(dict(kv).get("TimeoutStopSec", "90s"))
                grace = seconds(opt(argv[1:], "--grace") or "30s")
                if stop is None or stop <= grace:
                    fail(f"systemd {os.path.basename(u)}: TimeoutStopSec {stop} <= grace {grace}")
                else:
                    ok(f"systemd worker: TimeoutStopSec {stop:g}s above --grace {grace:g}s")


# --- Dockerfile -----------------------------------------------------------------------------

DPKG_INFO = "/var/lib/dpkg/info"
DPKG_OWNERS = None  # path -> owning packages, in the order dpkg -S lists them
DPKG_DEPENDS = None  # package -> names in its Depends and Pre-Depends


def dpkg_owners():
    """Every path dpkg knows, read once from its *.list files: one `dpkg -S` per library and
    binary (and again per negative control) took minutes on a busy machine."""
    global DPKG_OWNERS
    if DPKG_OWNERS is None:
        DPKG_OWNERS = {}
        for lst in sorted(glob.glob(os.path.join(DPKG_INFO, "*.list"))):
            pkg = os.path.basename(lst)[:-len(".list")].split(":", 1)[0]
            with open(lst, encoding="utf-8", errors="surrogateescape") as fh:
                for line in fh:
                    owners = DPKG_OWNERS.setdefault(line.rstrip("\n"), [])
                    if pkg not in owners:
                        owners.append(pkg)
    return DPKG_OWNERS


def dpkg_package(path):
    cands = [path, os.path.realpath(path)]
    for c in list(cands):
        if c.startswith("/usr/lib/"):
            cands.append(c[4:])
        elif c.startswith("/lib"):
            cands.append("/usr" + c)
    owners = dpkg_owners()
    for c in cands:
        if owners.get(c):
            # `dpkg -S` prints "a, b: path" for a path two packages ship; the name was the
            # text before the first ':', so all of them.
            return ", ".join(owners[c])
    return None


def dpkg_depends(pkg):
    """Depends and Pre-Depends of an installed package, from one dpkg-query over all of them."""
    global DPKG_DEPENDS
    if DPKG_DEPENDS is None:
        DPKG_DEPENDS = {}
        p = run(["dpkg-query", "-W", "-f=${Package}\t${Depends}, ${Pre-Depends}\n"])
        for line in p.stdout.splitlines():
            name, _, deps = line.partition("\t")
            out = DPKG_DEPENDS.setdefault(name, set())
            for alt in deps.split(","):
                for a in alt.split("|"):
                    dep = a.strip().split(" ")[0].split(":")[0]
                    if dep:
                        out.add(dep)
    return set(DPKG_DEPENDS.get(pkg.split(":")[0], ()))


def closure(pkgs):
    seen, todo = set(), list(pkgs)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.extend(dpkg_depends(p) - seen)
    return seen


def runtime_packages(dockerfile):
    with open(dockerfile, encoding="utf-8") as fh:
        text = fh.read().replace("\\\n", " ")
    stages = re.split(r"^FROM\s", text, flags=re.M)
    runtime = stages[-1]
    pkgs = []
    for m in re.finditer(r"apt-get install([^&\n]*)", runtime):
        pkgs += [w for w in m.group(1).split() if not w.startswith("-")]
    return runtime, pkgs


def same_pkg(a, listed):
    names = {a, a.removesuffix("t64"), a + "t64"}
    return bool(names & set(listed))


def check_dockerfile(src, bindir):
    df = os.path.join(src, "deploy", "Dockerfile")
    runtime, listed = runtime_packages(df)
    ok(f"Dockerfile runtime packages: {' '.join(listed)}")
    if any(p.endswith("-dev") for p in listed):
        fail("Dockerfile: a -dev package in the runtime stage")
    user = re.findall(r"^USER\s+(\S+)", runtime, re.M)
    if not user or user[-1].split(":")[0] in ("root", "0"):
        fail("Dockerfile: the runtime stage does not switch to a non-root USER")
    else:
        ok(f"Dockerfile: runs as USER {user[-1]}")
    if not re.search(r"^ENTRYPOINT\s", runtime, re.M):
        fail("Dockerfile: no ENTRYPOINT")
    for need in ("gpgv", "debian-archive-keyring", "ca-certificates"):
        if need not in listed:
            fail(f"Dockerfile: runtime lacks {need}")
    pol = run(["apt-cache", "policy", "ubuntu-keyring"]).stdout
    cand = re.search(r"Candidate:\s*(\S+)", pol)
    if cand and cand.group(1) != "(none)" and "ubuntu-keyring" not in listed:
        fail("Dockerfile: ubuntu-keyring exists in this suite but is not installed")
    elif "ubuntu-keyring" not in listed:
        ok("Dockerfile: no ubuntu-keyring (apt has no candidate for it here)")
    base = {"libc6"}  # debian:bookworm-slim always has it (dpkg, the essential set need it)
    direct, everything = set(), set()
    for b in sorted(glob.glob(os.path.join(bindir, "patchfleet*"))):
        if os.path.basename(b) not in runtime:
            fail(f"Dockerfile: {os.path.basename(b)} is not copied into the runtime image")
        needed = re.findall(r"\(NEEDED\).*\[(.+)\]", run(["readelf", "-d", b]).stdout)
        for line in run(["ldd", b]).stdout.splitlines():
            m = re.match(r"\s*(\S+)\s+=>\s+(/\S+)", line) or re.match(r"\s*(/\S+)\s", line)
            if not m:
                continue
            so, path = (m.group(1), m.group(2)) if m.lastindex == 2 else (m.group(1), m.group(1))
            pkg = dpkg_package(path)
            if pkg is None:
                fail(f"{os.path.basename(b)}: no Debian package owns {path}")
                continue
            everything.add(pkg)
            if so in needed:
                direct.add((pkg, so, os.path.basename(b)))
    users = {}
    for pkg, so, b in sorted(direct):
        users.setdefault((pkg, so), []).append(b)
    for (pkg, so), bins in sorted(users.items()):
        if pkg in base:
            continue
        if not same_pkg(pkg, listed):
            fail(f"Dockerfile: {' '.join(bins)} link {so} from {pkg}, not in the runtime "
                 f"apt-get line")
        else:
            ok(f"Dockerfile: {pkg} listed ({so}: {' '.join(bins)})")
    have = closure(set(listed) | base)
    missing = sorted(p for p in everything if p not in have and p.removesuffix("t64") not in have)
    if missing:
        fail(f"Dockerfile: libraries from {missing} are neither listed nor pulled in by "
             f"the listed packages' Depends")
    else:
        ok(f"Dockerfile: all {len(everything)} packages behind ldd's libraries are listed or "
           f"dependencies of listed ones")
    unused = [p for p in listed if p.startswith("lib") and
              not any(same_pkg(d[0], [p]) for d in direct)]
    if unused:
        fail(f"Dockerfile: runtime libraries no binary links directly: {unused}")


def generated_configmaps(src, docs):
    """What kustomize's configMapGenerator would make, for when no kustomize is installed."""
    out = []
    for rel, ds in docs.items():
        if not rel.endswith("kustomization.yaml"):
            continue
        for g in ds[0].get("configMapGenerator", []) or []:
            data = dict(x.split("=", 1) for x in g.get("literals", []) or [])
            for f in g.get("files", []) or []:
                key, _, path = f.rpartition("=")
                path = os.path.join(src, os.path.dirname(rel), path)
                with open(path, encoding="utf-8") as fh:
                    data[key or os.path.basename(path)] = fh.read()
            out.append({"kind": "ConfigMap", "metadata": {"name": g["name"]}, "data": data})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--kustomized", help="output of kustomize build (else the files are read)")
    a = ap.parse_args()
    print("== YAML")
    docs = check_yaml(a.src)
    check_patchconfigs(a.src, a.bin, docs)
    print("== compose")
    compose = docs.get("deploy/compose.yaml", [{}])[0]
    check_compose(a.src, a.bin, compose)
    print("== kubernetes")
    if a.kustomized:
        with open(a.kustomized, encoding="utf-8") as fh:
            objs = [d for d in yaml.safe_load_all(fh) if d]
    else:
        objs = [d for rel, ds in docs.items() if rel.startswith("deploy/k8s/")
                for d in ds if isinstance(d, dict) and "apiVersion" in d and "kind" in d
                and d["kind"] not in ("Kustomization", "PatchConfig")]
        objs += generated_configmaps(a.src, docs)
    check_k8s(a.src, a.bin, objs)
    print("== systemd")
    check_systemd(a.src, a.bin)
    print("== Dockerfile")
    check_dockerfile(a.src, a.bin)
    if FAILED:
        print(f"{len(FAILED)} problem(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
