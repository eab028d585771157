# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Test harness for registry work: real components on free loopback ports, owned by the calling
# script. Source it from a bash script running with `set -euo pipefail`:
#
#   . "$PF_SRC/tests/harness/lib.sh"
#   pf_tmpdir                      # sets $PF_TMP, removed on exit (kept with PF_KEEP=1)
#   pf_registry_start plain SRC    # $REG_SRC_ADDR, $REG_SRC_DIR, $REG_SRC_URL, ...
#
# Everything started here is recorded and stopped by pf_cleanup, which pf_tmpdir installs as the
# EXIT trap. Registries are Debian's docker-registry (distribution 2.8); TLS and token material is
# made with openssl; the token server and fault proxy are the Python scripts beside this file.

PF_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PF_PIDS=()
PF_TMP=${PF_TMP:-}
# How long a service may take to answer its first request.
PF_READY_TIMEOUT=${PF_READY_TIMEOUT:-15}

# Messages: checks go to stdout so CTest's output shows what was verified.
pf_say() { printf '== %s\n' "$*"; }
pf_fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}
pf_ok() { printf '   ok: %s\n' "$*"; }

# pf_require TOOL...: fails early and clearly when a tool is missing.
pf_require() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || pf_fail "required tool '$t' is not installed"
    done
}

# pf_cleanup: stops every recorded process (TERM, then KILL after 3 s) and removes $PF_TMP
# unless PF_KEEP=1. Installed as the EXIT trap by pf_tmpdir; keeps the script's exit status.
pf_cleanup() {
    local rc=$? pid i
    for pid in "${PF_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PF_PIDS[@]}"; do
        for ((i = 0; i < 30; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PF_PIDS=()
    if [ -n "$PF_TMP" ] && [ -d "$PF_TMP" ]; then
        if [ "${PF_KEEP:-0}" = 1 ]; then
            printf 'PF_KEEP=1: keeping %s\n' "$PF_TMP" >&2
        else
            rm -rf "$PF_TMP"
        fi
    fi
    return "$rc"
}

# pf_tmpdir: creates the per-script temp dir once, exports PF_TMP and installs the cleanup trap.
# Call it directly (not in $(...), which would run it in a subshell).
pf_tmpdir() {
    if [ -z "$PF_TMP" ] || [ ! -d "$PF_TMP" ]; then
        PF_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pf-test.XXXXXX")
        export PF_TMP
        trap pf_cleanup EXIT
        trap 'exit 130' INT TERM
    fi
}

# pf_free_port: prints a TCP port that is free on 127.0.0.1 right now. The kernel picks it, so
# parallel tests do not collide; the small window before the service binds is accepted.
pf_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# pf_spawn LOGFILE CMD...: starts CMD in the background with output to LOGFILE and records its
# pid for pf_cleanup; the pid is left in $PF_LAST_PID.
pf_spawn() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    PF_LAST_PID=$!
    PF_PIDS+=("$PF_LAST_PID")
}

# pf_wait_http URL PID LOG [CURL_ARGS...]: polls URL until the server answers with any HTTP
# status (bounded by PF_READY_TIMEOUT). Returns 2 when PID exits first (the caller decides, e.g.
# to retry on another port); fails with the log tail when time runs out.
pf_wait_http() {
    local url=$1 pid=$2 log=$3 code deadline
    shift 3
    deadline=$((SECONDS + PF_READY_TIMEOUT))
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true)
        if [ -n "$code" ] && [ "$code" != 000 ]; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 20 "$log" >&2 || true
            pf_fail "service for $url not ready after ${PF_READY_TIMEOUT}s (log: $log)"
        fi
        sleep 0.1
    done
}

# pf_wait_port_file FILE PID LOG: waits for a service that binds port 0 to write its port.
pf_wait_port_file() {
    local file=$1 pid=$2 log=$3 deadline
    deadline=$((SECONDS + PF_READY_TIMEOUT))
    while [ ! -s "$file" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$log" >&2 || true
            pf_fail "service exited during start-up (log: $log)"
        fi
        [ "$SECONDS" -lt "$deadline" ] || pf_fail "service did not report its port (log: $log)"
        sleep 0.05
    done
    cat "$file"
}

# pf_make_ca DIR: a self-signed test CA (DIR/ca.pem, DIR/ca.key) and a server certificate for
# 127.0.0.1 and localhost signed by it (DIR/server.pem, DIR/server.key). Clients verify the SANs,
# not the CN, so both names are in subjectAltName. Idempotent.
pf_make_ca() {
    local d=$1
    [ -s "$d/server.pem" ] && return 0
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj '/CN=patchfleet test CA' \
        -keyout "$d/ca.key" -out "$d/ca.pem" \
        -addext 'basicConstraints=critical,CA:TRUE' \
        -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -sha256 -subj '/CN=127.0.0.1' \
        -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
    cat >"$d/server.ext" <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
    openssl x509 -req -sha256 -days 2 -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
}

# pf_token_start NAME DIR USER PASS: starts token_server.py for registry NAME with a fresh RSA
# signing key and self-signed certificate (DIR/token.pem is the registry's rootcertbundle).
# Exports TOKEN_<NAME>_ADDR and TOKEN_<NAME>_LOG. Set PF_TOKEN_ANON_PULL=1 to let anonymous
# clients pull.
pf_token_start() {
    local name=$1 d=$2 user=$3 pass=$4 port args=()
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj '/CN=patchfleet token issuer' \
        -keyout "$d/token.key" -out "$d/token.pem" 2>/dev/null
    printf '%s:%s\n' "$user" "$pass" >"$d/token-users"
    [ "${PF_TOKEN_ANON_PULL:-0}" = 1 ] && args+=(--anonymous-pull)
    pf_spawn "$d/token.log" python3 "$PF_HARNESS_DIR/token_server.py" \
        --port-file "$d/token.port" --key "$d/token.key" --cert "$d/token.pem" \
        --users "$d/token-users" --issuer pf-token-issuer --service pf-registry \
        --log "$d/token-requests.log" "${args[@]}"
    port=$(pf_wait_port_file "$d/token.port" "$PF_LAST_PID" "$d/token.log")
    export "TOKEN_${name}_ADDR=127.0.0.1:$port" "TOKEN_${name}_LOG=$d/token-requests.log"
}

# pf_registry_start MODE NAME: starts docker-registry in MODE (plain | basic | tls | token) on a
# free port with filesystem storage under $PF_TMP/reg-<name>. NAME is upper-cased for variables:
#   REG_<NAME>_ADDR  127.0.0.1:PORT            REG_<NAME>_URL  http(s)://127.0.0.1:PORT
#   REG_<NAME>_DIR   storage root (holds docker/registry/v2)
#   REG_<NAME>_LOG   registry log              REG_<NAME>_PID
#   REG_<NAME>_USER / REG_<NAME>_PASS          basic and token modes
#   REG_<NAME>_CA    CA bundle                 tls mode
#   TOKEN_<NAME>_ADDR, TOKEN_<NAME>_LOG         token mode
#   REG_<NAME>_SKOPEO  skopeo options for pushing to it (creds, tls off)
pf_registry_start() {
    local mode=$1 name=${2^^} d port scheme=http auth='' tls='' curl_args=()
    [ -n "$PF_TMP" ] || pf_tmpdir
    d="$PF_TMP/reg-${name,,}"
    mkdir -p "$d/data"
    port=$(pf_free_port)
    local user=pfuser pass
    pass="pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    case "$mode" in
    plain) ;;
    basic)
        htpasswd -Bbn "$user" "$pass" >"$d/htpasswd" 2>/dev/null
        auth="auth:
  htpasswd:
    realm: pf-registry
    path: $d/htpasswd"
        ;;
    tls)
        pf_make_ca "$PF_TMP/ca"
        scheme=https
        tls="  tls:
    certificate: $PF_TMP/ca/server.pem
    key: $PF_TMP/ca/server.key"
        curl_args=(--cacert "$PF_TMP/ca/ca.pem")
        export "REG_${name}_CA=$PF_TMP/ca/ca.pem"
        ;;
    token)
        pf_token_start "$name" "$d" "$user" "$pass"
        local taddr_var="TOKEN_${name}_ADDR"
        auth="auth:
  token:
    realm: http://${!taddr_var}/token
    service: pf-registry
    issuer: pf-token-issuer
    rootcertbundle: $d/token.pem"
        ;;
    *) pf_fail "pf_registry_start: unknown mode '$mode'" ;;
    esac
    local attempt pid rc
    # The port is free when picked, but another process may take it before the registry binds;
    # the registry then exits with "address already in use" and another port is tried.
    for attempt in 1 2 3; do
        pf__registry_config "$d" "$port" "$tls" "$auth"
        pf_spawn "$d/registry.log" docker-registry serve "$d/config.yml"
        pid=$PF_LAST_PID
        rc=0
        pf_wait_http "$scheme://127.0.0.1:$port/v2/" "$pid" "$d/registry.log" "${curl_args[@]}" ||
            rc=$?
        [ "$rc" = 0 ] && break
        if [ "$attempt" = 3 ] || ! grep -q 'address already in use' "$d/registry.log"; then
            tail -n 20 "$d/registry.log" >&2 || true
            pf_fail "docker-registry '$name' exited during start-up (log: $d/registry.log)"
        fi
        port=$(pf_free_port)
    done
    export "REG_${name}_ADDR=127.0.0.1:$port" "REG_${name}_URL=$scheme://127.0.0.1:$port" \
        "REG_${name}_DIR=$d/data" "REG_${name}_LOG=$d/registry.log" "REG_${name}_PID=$pid" \
        "REG_${name}_MODE=$mode"
    local skopeo="--dest-tls-verify=false"
    if [ "$mode" = basic ] || [ "$mode" = token ]; then
        export "REG_${name}_USER=$user" "REG_${name}_PASS=$pass"
        skopeo="$skopeo --dest-creds=$user:$pass"
    fi
    export "REG_${name}_SKOPEO=$skopeo"
}

# pf__registry_config DIR PORT TLS_YAML AUTH_YAML: writes DIR/config.yml (format version 0.1).
pf__registry_config() {
    local d=$1 port=$2 tls=$3 auth=$4
    cat >"$d/config.yml" <<EOF
version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $d/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: pf-test-secret
$tls
$auth
EOF
}

# pf_docker_config DIR ADDR USER PASS: writes DIR/config.json with one auths entry, the way
# `docker login` does, for DOCKER_CONFIG=DIR.
pf_docker_config() {
    local d=$1 addr=$2 user=$3 pass=$4 b64
    mkdir -p "$d"
    b64=$(printf '%s:%s' "$user" "$pass" | base64 -w0)
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$addr" "$b64" >"$d/config.json"
}

# pf_registry_seed_tags REGDIR REPO DIGEST N PREFIX: creates N tags PREFIX0 .. PREFIX<N-1> in REPO
# pointing at manifest DIGEST, by writing the registry's filesystem layout directly (instant even
# for 10,000 tags). The manifest must already be in REPO (push one image first). docker-registry
# reads tags from the directory on every request, so the running registry serves them at once.
pf_registry_seed_tags() {
    local regdir=$1 repo=$2 digest=$3 n=$4 prefix=$5
    python3 - "$regdir" "$repo" "$digest" "$n" "$prefix" <<'EOF'
import os, sys
regdir, repo, digest, n, prefix = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
algo, hexd = digest.split(":", 1)
base = os.path.join(regdir, "docker/registry/v2/repositories", repo, "_manifests")
if not os.path.isfile(os.path.join(base, "revisions", algo, hexd, "link")):
    sys.exit(f"pf_registry_seed_tags: {digest} is not a manifest of {repo}; push it first")
for i in range(n):
    tag = f"{prefix}{i}"
    tdir = os.path.join(base, "tags", tag)
    for sub in ("current", os.path.join("index", algo, hexd)):
        os.makedirs(os.path.join(tdir, sub), exist_ok=True)
        with open(os.path.join(tdir, sub, "link"), "w") as f:
            f.write(digest)
EOF
}

# pf_fault_proxy_start NAME UPSTREAM_URL [ARGS...]: starts fault_proxy.py in front of
# UPSTREAM_URL; ARGS are passed through (e.g. --rule 'path~/tags/list:429:count=2').
# Exports PROXY_<NAME>_ADDR, PROXY_<NAME>_URL and PROXY_<NAME>_LOG (one line per decision).
pf_fault_proxy_start() {
    local name=${1^^} upstream=$2 d port
    shift 2
    d="$PF_TMP/proxy-${name,,}"
    mkdir -p "$d"
    : >"$d/decisions.log"
    pf_spawn "$d/proxy.log" python3 "$PF_HARNESS_DIR/fault_proxy.py" --port-file "$d/port" \
        --upstream "$upstream" --log "$d/decisions.log" "$@"
    port=$(pf_wait_port_file "$d/port" "$PF_LAST_PID" "$d/proxy.log")
    export "PROXY_${name}_ADDR=127.0.0.1:$port" "PROXY_${name}_URL=http://127.0.0.1:$port" \
        "PROXY_${name}_LOG=$d/decisions.log"
}

# pf_proxy_rules URL RULE...: replaces the running proxy's rules (control endpoint) and clears
# its hit counters; with no RULE the proxy passes everything through.
pf_proxy_rules() {
    local url=$1 body=''
    shift
    local r
    for r in "$@"; do
        body+="$r"$'\n'
    done
    curl -fsS -X PUT --data-binary "$body" "$url/__proxy/rules" >/dev/null
}

# pf_manifest_digest REGURL REPO TAG [CURL_ARGS...]: prints the digest the registry reports for a
# manifest (Docker-Content-Digest of a HEAD with every manifest media type accepted).
pf_manifest_digest() {
    local url=$1 repo=$2 tag=$3
    shift 3
    curl -fsSI "$@" \
        -H 'Accept: application/vnd.oci.image.index.v1+json' \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "$url/v2/$repo/manifests/$tag" | tr -d '\r' |
        awk -F': ' 'tolower($1) == "docker-content-digest" { print $2 }'
}

# Assertions. Each prints what it checked; a failure exits with a message naming both values.
pf_assert_eq() {
    local what=$1 want=$2 got=$3
    if [ "$want" != "$got" ]; then
        printf 'FAIL: %s\n  want: %s\n  got:  %s\n' "$what" "$want" "$got" >&2
        exit 1
    fi
    pf_ok "$what"
}

pf_assert_contains() {
    local what=$1 needle=$2 file=$3
    if ! grep -qF -- "$needle" "$file"; then
        printf 'FAIL: %s: %s does not contain "%s"; it holds:\n' "$what" "$file" "$needle" >&2
        sed 's/^/  | /' "$file" | head -n 30 >&2
        exit 1
    fi
    pf_ok "$what"
}

pf_assert_not_contains() {
    local what=$1 needle=$2 file=$3
    if grep -qF -- "$needle" "$file"; then
        printf 'FAIL: %s: %s contains "%s"\n' "$what" "$file" "$needle" >&2
        exit 1
    fi
    pf_ok "$what"
}

# pf_run WANT_RC OUT ERR CMD...: runs CMD with stdout to OUT and stderr to ERR and checks its exit
# status; on a mismatch prints both streams.
pf_run() {
    local want=$1 out=$2 err=$3 rc=0
    shift 3
    "$@" >"$out" 2>"$err" || rc=$?
    if [ "$rc" != "$want" ]; then
        printf 'FAIL: exit status %s, want %s: %s\n' "$rc" "$want" "$*" >&2
        printf -- '-- stdout:\n' >&2
        head -n 40 "$out" >&2
        printf -- '-- stderr:\n' >&2
        head -n 40 "$err" >&2
        exit 1
    fi
}

# pf_require_cli [SUBCOMMAND...]: the integration tests need the patchfleet binary from $PF_BIN
# (set by CTest) with the given subcommands working (`patchfleet SUB --help` exits 0).
pf_require_cli() {
    PF=${PF_BIN:?PF_BIN must name the directory holding patchfleet}/patchfleet
    [ -x "$PF" ] || pf_fail "no patchfleet binary at $PF (build it first)"
    export PF
    local sub
    for sub in "$@"; do
        "$PF" "$sub" --help >/dev/null 2>&1 || pf_fail "'patchfleet $sub --help' fails: $sub not built?"
    done
}

# pf_jobs FILE: the jobs of `patchfleet plan --json` output, reduced to the contract's four keys
# and sorted, one compact JSON object per line (extra keys and line order do not matter).
pf_jobs() {
    jq -c '{name, source, target, platforms}' "$1" | LC_ALL=C sort
}

# pf_now_ms: milliseconds since the epoch, for timing assertions.
pf_now_ms() {
    date +%s%3N
}

# pf_http_start NAME DIR: serves DIR read-only over plain http (python3 -m http.server) on a free
# loopback port, stopped by pf_cleanup. NAME is upper-cased for variables: HTTP_<NAME>_ADDR
# (127.0.0.1:PORT), HTTP_<NAME>_URL (http://127.0.0.1:PORT), HTTP_<NAME>_LOG (one line per
# request, to check what a client fetched). Files changed under DIR are served at once.
pf_http_start() {
    local name=${1^^} dir=$2 port log attempt rc pid
    [ -n "$PF_TMP" ] || pf_tmpdir
    [ -d "$dir" ] || pf_fail "pf_http_start: $dir is not a directory"
    log="$PF_TMP/http-${name,,}.log"
    for attempt in 1 2 3; do
        port=$(pf_free_port)
        pf_spawn "$log" python3 -u -m http.server --bind 127.0.0.1 --directory "$dir" "$port"
        pid=$PF_LAST_PID
        rc=0
        pf_wait_http "http://127.0.0.1:$port/" "$pid" "$log" || rc=$?
        [ "$rc" = 0 ] && break
        # Lost the race for the port (the server exited): try another one.
        [ "$attempt" = 3 ] && pf_fail "http server '$name' exited during start-up (log: $log)"
    done
    export "HTTP_${name}_ADDR=127.0.0.1:$port" "HTTP_${name}_URL=http://127.0.0.1:$port" \
        "HTTP_${name}_LOG=$log"
}
