#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# labels: registry
#
# `patchfleet plan` and `patchfleet copy` against real plain-http registries (docker-registry on
# loopback): tag discovery for every strategy, target naming, pagination over 2,500 tags (direct
# and through a proxy that pages like distribution 3), copies within one registry (mounts) and
# across registries (a multi-platform index, then a no-op re-copy).
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
. "$PF_SRC/tests/harness/seed.sh"
pf_require docker-registry skopeo umoci jq curl python3
pf_require_cli plan copy
pf_tmpdir
T=$PF_TMP

pf_say "start two plain registries and seed the demo images"
pf_registry_start plain A
pf_registry_start plain B
seed_demo_registry "$REG_A_ADDR"
A=$REG_A_ADDR
B=$REG_B_ADDR

# ---------------------------------------------------------------------------------------------
pf_say "plan: pattern + maxTags + exclude, latest (semver and created-time fallback), targets"
cat >"$T/plan.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
target:
  registry: "$A/mirror"
images:
  - name: nginx
    image: "$A/demo/nginx"
    tags:
      strategy: pattern
      pattern: '^1\\.25\\.[0-9]+\$'
      maxTags: 2
      exclude: ["1.25.1"]
  - name: alpine
    image: "$A/demo/alpine"
    tags:
      strategy: latest
    target:
      repository: "$B/patched/alpine-fixed"
      tag: "{{ .SourceTag }}-fixed"
  - name: debian
    image: "$A/demo/debian"
    tags:
      strategy: list
      list: ["12.4-slim"]
    platforms: ["linux/arm64"]
EOF
pf_run 0 "$T/plan.out" "$T/plan.err" "$PF" plan --config "$T/plan.yaml" --json
want=$(
    cat <<EOF | jq -c . | LC_ALL=C sort
{"name":"nginx","source":"$A/demo/nginx:1.25.2","target":"$A/mirror/nginx:1.25.2-patched","platforms":[]}
{"name":"nginx","source":"$A/demo/nginx:1.25.3","target":"$A/mirror/nginx:1.25.3-patched","platforms":[]}
{"name":"alpine","source":"$A/demo/alpine:3.19.1","target":"$B/patched/alpine-fixed:3.19.1-fixed","platforms":[]}
{"name":"debian","source":"$A/demo/debian:12.4-slim","target":"$A/mirror/debian:12.4-slim-patched","platforms":["linux/arm64"]}
EOF
)
pf_assert_eq "plan --json: exactly nginx 1.25.2+1.25.3, alpine 3.19.1, debian arm64, with targets" \
    "$want" "$(pf_jobs "$T/plan.out")"
pf_assert_eq "every stdout line is one JSON object" "$(wc -l <"$T/plan.out")" \
    "$(jq -c . "$T/plan.out" | wc -l)"

pf_say "plan: list with a missing tag warns and schedules the rest"
cat >"$T/list.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: nginx
    image: "$A/demo/nginx"
    tags:
      strategy: list
      list: ["1.25.0", "9.9.9-missing", "1.25.3-alpine"]
EOF
pf_run 0 "$T/list.out" "$T/list.err" "$PF" plan --config "$T/list.yaml" --json
want=$(
    cat <<EOF | jq -c . | LC_ALL=C sort
{"name":"nginx","source":"$A/demo/nginx:1.25.0","target":"$A/demo/nginx:1.25.0-patched","platforms":[]}
{"name":"nginx","source":"$A/demo/nginx:1.25.3-alpine","target":"$A/demo/nginx:1.25.3-alpine-patched","platforms":[]}
EOF
)
pf_assert_eq "list: jobs for the two existing tags, none for the missing one" "$want" \
    "$(pf_jobs "$T/list.out")"
pf_assert_contains "list: the warning on stderr names the missing tag" "9.9.9-missing" "$T/list.err"
pf_assert_not_contains "list: nothing but jobs on stdout" "9.9.9-missing" "$T/list.out"

pf_say "plan: latest over tags without versions picks the newest created image (R3)"
cat >"$T/app.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: app
    image: "$A/demo/app"
    tags:
      strategy: latest
EOF
pf_run 0 "$T/app.out" "$T/app.err" "$PF" plan --config "$T/app.yaml" --json
pf_assert_eq "latest without semver tags: main (created 2024-06, after stable and dev)" \
    "$A/demo/app:main" "$(jq -r .source "$T/app.out")"

pf_say "plan: a repository that does not exist fails its image only (exit 1)"
cat >"$T/partial.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: nope
    image: "$A/demo/does-not-exist"
    tags:
      strategy: pattern
      pattern: '.*'
  - name: alpine
    image: "$A/demo/alpine"
    tags:
      strategy: list
      list: ["3.18.0"]
EOF
pf_run 1 "$T/partial.out" "$T/partial.err" "$PF" plan --config "$T/partial.yaml" --json
pf_assert_eq "failed discovery: the other image still gets its job" \
    "$A/demo/alpine:3.18.0" "$(jq -r .source "$T/partial.out")"
pf_assert_contains "failed discovery: stderr names the repository" "demo/does-not-exist" "$T/partial.err"

pf_say "plan: an invalid config exits 2"
sed 's/strategy: list/strategy: newest/' "$T/list.yaml" >"$T/bad.yaml"
pf_run 2 "$T/bad.out" "$T/bad.err" "$PF" plan --config "$T/bad.yaml" --json
pf_assert_eq "invalid config: no jobs on stdout" "" "$(cat "$T/bad.out")"

# ---------------------------------------------------------------------------------------------
pf_say "plan: 2,500 tags in one repository (pagination)"
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://$A/demo/nginx:1.25.3" "docker://$A/demo/many:seed" >/dev/null
digest=$(pf_manifest_digest "$REG_A_URL" demo/many seed)
pf_registry_seed_tags "$REG_A_DIR" demo/many "$digest" 2500 2.0.
pf_assert_eq "registry serves the seeded tags" 2501 \
    "$(curl -fsS "$REG_A_URL/v2/demo/many/tags/list" | jq '.tags | length')"
cat >"$T/many.yaml" <<EOF
apiVersion: copa.sh/v1alpha1
kind: PatchConfig
images:
  - name: many
    image: "$A/demo/many"
    tags:
      strategy: pattern
      pattern: '^2\\.0\\.[0-9]+\$'
EOF
pf_run 0 "$T/many.out" "$T/many.err" "$PF" plan --config "$T/many.yaml" --json
pf_assert_eq "2,500 jobs from one unpaginated tags/list" 2500 "$(wc -l <"$T/many.out")"
pf_assert_eq "2,500 distinct sources" 2500 "$(jq -r .source "$T/many.out" | sort -u | wc -l)"

# docker-registry 2.8 ignores ?n=; the proxy pages like distribution 3 and Docker Hub do.
pf_fault_proxy_start PAGE "$REG_A_URL" --paginate 1000
sed "s|$A/demo/many|$PROXY_PAGE_ADDR/demo/many|" "$T/many.yaml" >"$T/many-paged.yaml"
pf_run 0 "$T/paged.out" "$T/paged.err" "$PF" plan --config "$T/many-paged.yaml" --json
pages=$(grep -c 'GET /v2/demo/many/tags/list.* pass 200 page=' "$PROXY_PAGE_LOG" || true)
[ "$pages" -ge 3 ] || pf_fail "pagination: $pages tags/list pages fetched, want >= 3 (Link not followed?)"
pf_ok "pagination: the client followed Link through $pages pages"
pf_assert_eq "2,500 jobs across pages" 2500 "$(jq -r .source "$T/paged.out" | sort -u | wc -l)"

# ---------------------------------------------------------------------------------------------
copy_line_re='^copied .+ -> .+ sha256:[0-9a-f]{64}: ([0-9]+) blobs, ([0-9]+) uploaded \(([0-9]+) bytes\), ([0-9]+) mounted, ([0-9]+) already present$'
# copy_stats FILE: checks the summary line and sets TOTAL UPLOADED BYTES MOUNTED PRESENT.
copy_stats() {
    local line
    line=$(grep -E '^copied ' "$1" | tail -n 1)
    [[ "$line" =~ $copy_line_re ]] || pf_fail "copy: unexpected summary line '$line'"
    TOTAL=${BASH_REMATCH[1]} UPLOADED=${BASH_REMATCH[2]} BYTES=${BASH_REMATCH[3]}
    MOUNTED=${BASH_REMATCH[4]} PRESENT=${BASH_REMATCH[5]}
    pf_assert_eq "copy: uploaded + mounted + present = blobs" "$TOTAL" \
        "$((UPLOADED + MOUNTED + PRESENT))"
}
inspect_digest() {
    skopeo inspect --tls-verify=false --raw "docker://$1" | sha256sum | cut -d' ' -f1
}

pf_say "copy: one image to another repository of the same registry mounts every blob"
pf_run 0 "$T/copy1.out" "$T/copy1.err" "$PF" copy "$A/demo/nginx:1.25.3" "$A/copies/nginx:1.25.3"
copy_stats "$T/copy1.out"
pf_assert_eq "same-registry copy: 0 bytes uploaded" 0 "$BYTES"
[ "$MOUNTED" -ge 1 ] || pf_fail "same-registry copy: nothing mounted"
pf_ok "same-registry copy: $MOUNTED blobs mounted"
pf_assert_eq "same-registry copy: skopeo sees the same digest" \
    "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$A/demo/nginx:1.25.3")" \
    "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$A/copies/nginx:1.25.3")"
pf_assert_contains "copy: the summary line carries the manifest digest" \
    "$(pf_manifest_digest "$REG_A_URL" demo/nginx 1.25.3)" "$T/copy1.out"

pf_say "copy: a multi-platform index to a second registry"
pf_run 0 "$T/copy2.out" "$T/copy2.err" "$PF" copy "$A/demo/debian:12.4-slim" "$B/demo/debian:12.4-slim"
copy_stats "$T/copy2.out"
if [ "$UPLOADED" -lt 1 ] || [ "$BYTES" -le 0 ]; then
    pf_fail "cross-registry copy: nothing uploaded"
fi
pf_assert_eq "cross-registry copy: nothing mounted" 0 "$MOUNTED"
pf_assert_eq "cross-registry copy: raw index identical" \
    "$(inspect_digest "$A/demo/debian:12.4-slim")" "$(inspect_digest "$B/demo/debian:12.4-slim")"
skopeo copy -q --all --src-tls-verify=false "docker://$B/demo/debian:12.4-slim" \
    "oci:$T/pulled:debian" >/dev/null || pf_fail "skopeo copy --all of the copied index failed"
pf_assert_eq "cross-registry copy: both platforms pullable" 2 \
    "$(skopeo inspect --raw "oci:$T/pulled:debian" | jq '.manifests | length')"

pf_say "copy: the same index again finds every blob already present"
pf_run 0 "$T/copy3.out" "$T/copy3.err" "$PF" copy "$A/demo/debian:12.4-slim" "$B/demo/debian:12.4-slim"
copy_stats "$T/copy3.out"
pf_assert_eq "re-copy: 0 uploaded, 0 mounted" "0 0 0" "$UPLOADED $BYTES $MOUNTED"
pf_assert_eq "re-copy: all blobs already present" "$TOTAL" "$PRESENT"

pf_say "copy: a missing source fails with the reason on stderr"
pf_run 1 "$T/copy4.out" "$T/copy4.err" "$PF" copy "$A/demo/nginx:0.0.0-missing" "$B/x/y:1"
[ -s "$T/copy4.err" ] || pf_fail "copy of a missing source: empty stderr"
pf_ok "copy of a missing source: $(head -n 1 "$T/copy4.err")"

pf_say "registry_plain: all checks passed"
