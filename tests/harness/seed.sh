# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Tiny test images, built with umoci into an OCI layout and pushed with skopeo. Every image has a
# shared base layer (identical bytes in every image, so cross-repository mounts and "already
# present" blobs show up) plus one small layer naming the image. History entries are left out
# and created times are fixed, so digests are reproducible from run to run. Source after lib.sh.
#
#   seed_layout_init DIR
#   seed_image LAYOUT REF ARCH CREATED [LABEL=VALUE...]   (REF is the layout tag)
#   seed_index LAYOUT REF REF_AMD64 REF_ARM64             (an OCI index of two images)
#   seed_push LAYOUT REF DEST [SKOPEO_OPTS...]            (DEST like 127.0.0.1:5000/repo:tag)
#   seed_push_all LAYOUT REF DEST [SKOPEO_OPTS...]        (the whole index)
#   seed_demo_registry ADDR [SKOPEO_OPTS...]
#   seed_big_image LAYOUT REF MIB LAYERS                  (random data, for benchmarks)

# Layer history with a fixed time: reproducible digests, and no "no history entry" warnings.
SEED_HISTORY=(--history.created 2024-01-01T00:00:00Z --history.created_by 'patchfleet seed')

# The base layer: a few KiB of fixed text, built once per layout.
seed_layout_init() {
    local d=$1
    [ -f "$d/index.json" ] && return 0
    mkdir -p "$(dirname "$d")"
    umoci init --layout "$d"
    mkdir -p "$d.work/base/etc" "$d.work/base/usr/share/pf"
    printf 'NAME="patchfleet test base"\nID=pftest\nVERSION_ID=1\n' >"$d.work/base/etc/os-release"
    local i
    for ((i = 0; i < 64; i++)); do
        printf 'patchfleet seed base line %04d: the quick brown fox jumps over the lazy dog\n' "$i"
    done >"$d.work/base/usr/share/pf/base.txt"
    seed__tar "$d.work/base" "$d.work/base.tar"
}

# seed__tar DIR OUT: a reproducible tar (fixed owner and mtime, sorted names).
seed__tar() {
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf "$2" .
}

# seed_image LAYOUT REF ARCH CREATED [LABEL=VALUE...]: a linux/ARCH image tagged REF in LAYOUT,
# with the base layer, a layer holding /etc/pf-seed (REF and ARCH), config created time CREATED
# (RFC 3339) and the given labels.
seed_image() {
    local layout=$1 ref=$2 arch=$3 created=$4
    shift 4
    local work="$layout.work/img-$ref" labels=()
    local l
    for l in "$@"; do
        labels+=(--config.label "$l")
    done
    mkdir -p "$work/root/etc"
    printf 'ref=%s\narch=%s\ncreated=%s\n' "$ref" "$arch" "$created" >"$work/root/etc/pf-seed"
    seed__tar "$work/root" "$work/layer.tar"
    umoci new --image "$layout:$ref"
    umoci raw add-layer "${SEED_HISTORY[@]}" --image "$layout:$ref" "$layout.work/base.tar"
    umoci raw add-layer "${SEED_HISTORY[@]}" --image "$layout:$ref" "$work/layer.tar"
    umoci config --no-history --image "$layout:$ref" --os linux --architecture "$arch" \
        --created "$created" "${labels[@]}"
}

# seed_index LAYOUT REF REF_AMD64 REF_ARM64: writes an OCI image index referencing the two images
# (with their platforms) into LAYOUT's blobs and tags it REF.
seed_index() {
    python3 - "$@" <<'EOF'
import hashlib, json, os, sys
layout, ref, refs = sys.argv[1], sys.argv[2], sys.argv[3:]
path = os.path.join(layout, "index.json")
idx = json.load(open(path))
by_ref = {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m for m in idx["manifests"]}
def blob(d):
    return open(os.path.join(layout, "blobs", *d.split(":", 1)), "rb").read()
entries = []
for r in refs:
    m = dict(by_ref[r])
    m.pop("annotations", None)
    cfg = json.loads(blob(json.loads(blob(m["digest"]))["config"]["digest"]))
    m["platform"] = {"architecture": cfg["architecture"], "os": cfg["os"]}
    entries.append(m)
data = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": entries}, separators=(",", ":")).encode()
digest = "sha256:" + hashlib.sha256(data).hexdigest()
with open(os.path.join(layout, "blobs", "sha256", digest[7:]), "wb") as f:
    f.write(data)
idx["manifests"] = [m for m in idx["manifests"]
                    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != ref]
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest,
                         "size": len(data),
                         "annotations": {"org.opencontainers.image.ref.name": ref}})
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(idx, f)
os.rename(tmp, path)
EOF
}

# seed_push LAYOUT REF DEST [SKOPEO_OPTS...]: pushes one image (plain http allowed).
seed_push() {
    local layout=$1 ref=$2 dest=$3
    shift 3
    skopeo copy -q --dest-tls-verify=false "$@" "oci:$layout:$ref" "docker://$dest" >/dev/null
}

# seed_push_all LAYOUT REF DEST [SKOPEO_OPTS...]: pushes an index and every image in it.
seed_push_all() {
    local layout=$1 ref=$2 dest=$3
    shift 3
    skopeo copy -q --all --dest-tls-verify=false "$@" "oci:$layout:$ref" "docker://$dest" >/dev/null
}

# seed_demo_registry ADDR [SKOPEO_OPTS...]: a small fleet for demos and tests; the layout is kept
# in $SEED_LAYOUT (default $PF_TMP/seed-layout, else a new temp dir). Pushes:
#   demo/nginx   1.24.0 1.25.0 1.25.1 1.25.2 1.25.3 1.25.3-alpine latest (= 1.25.3)
#   demo/alpine  3.18.0 3.19.1 latest (= 3.19.1)
#   demo/debian  12.4-slim: an index of linux/amd64 + linux/arm64
#   demo/app     main, stable, dev: no versions; created dev < stable < main
seed_demo_registry() {
    local addr=$1
    shift
    local layout=${SEED_LAYOUT:-${PF_TMP:-$(mktemp -d)}/seed-layout} t i=0
    local v=org.opencontainers.image.version
    seed_layout_init "$layout"
    local -a pids=()
    local nginx=(1.24.0 1.25.0 1.25.1 1.25.2 1.25.3 1.25.3-alpine)
    for t in "${nginx[@]}"; do
        i=$((i + 1))
        seed_image "$layout" "nginx-$t" amd64 "2024-0$((i % 9 + 1))-01T00:00:00Z" "$v=$t"
    done
    for t in 3.18.0 3.19.1; do
        i=$((i + 1))
        seed_image "$layout" "alpine-$t" amd64 "2024-0$((i % 9 + 1))-15T00:00:00Z" "$v=$t"
    done
    seed_image "$layout" debian-amd64 amd64 2024-02-10T00:00:00Z "$v=12.4-slim"
    seed_image "$layout" debian-arm64 arm64 2024-02-10T00:00:00Z "$v=12.4-slim"
    seed_index "$layout" debian-12.4-slim debian-amd64 debian-arm64
    seed_image "$layout" app-dev amd64 2024-01-05T00:00:00Z
    seed_image "$layout" app-stable amd64 2024-03-05T00:00:00Z
    seed_image "$layout" app-main amd64 2024-06-05T00:00:00Z
    # The blobs are shared, so push the first image alone, then the rest two at a time.
    seed_push "$layout" nginx-1.24.0 "$addr/demo/nginx:1.24.0" "$@"
    local jobs=()
    for t in "${nginx[@]:1}"; do
        jobs+=("nginx-$t $addr/demo/nginx:$t")
    done
    jobs+=("nginx-1.25.3 $addr/demo/nginx:latest")
    jobs+=("alpine-3.18.0 $addr/demo/alpine:3.18.0" "alpine-3.19.1 $addr/demo/alpine:3.19.1")
    jobs+=("alpine-3.19.1 $addr/demo/alpine:latest")
    for t in dev stable main; do
        jobs+=("app-$t $addr/demo/app:$t")
    done
    local j rc=0
    for j in "${jobs[@]}"; do
        # shellcheck disable=SC2086 # "ref dest" split on purpose
        seed_push "$layout" $j "$@" &
        pids+=($!)
        if [ "${#pids[@]}" -ge 2 ]; then
            wait "${pids[0]}" || rc=1
            pids=("${pids[@]:1}")
        fi
    done
    seed_push_all "$layout" debian-12.4-slim "$addr/demo/debian:12.4-slim" "$@" || rc=1
    for j in "${pids[@]}"; do
        wait "$j" || rc=1
    done
    [ "$rc" = 0 ] || {
        echo "seed_demo_registry: a push to $addr failed" >&2
        return 1
    }
}

# seed_big_image LAYOUT REF MIB LAYERS: an amd64 image with LAYERS layers of incompressible random
# data, MIB MiB in total (the benchmarks' ~200 MB image). umoci gzips layers, which costs time
# but not size for random data.
seed_big_image() {
    local layout=$1 ref=$2 mib=$3 layers=$4 k per
    seed_layout_init "$layout"
    per=$((mib / layers))
    umoci new --image "$layout:$ref"
    for ((k = 0; k < layers; k++)); do
        local w="$layout.work/big-$ref-$k"
        mkdir -p "$w/root/data"
        head -c "$((per * 1024 * 1024))" /dev/urandom >"$w/root/data/blob-$k"
        seed__tar "$w/root" "$w/layer.tar"
        rm -rf "$w/root"
        umoci raw add-layer "${SEED_HISTORY[@]}" --image "$layout:$ref" "$w/layer.tar"
        rm -f "$w/layer.tar"
    done
    umoci config --no-history --image "$layout:$ref" --os linux --architecture amd64 \
        --created 2024-05-01T00:00:00Z
}
