#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The dependency rule (CTest lint/deps), checked on the #include lines of every C file:
#  1. No role includes another: a file under producer/, worker/ or aggregator/ includes only
#     headers of its own role and of common/; common/ includes only common/'s. cli/, tests/,
#     fuzz/ and bench/ may include every role. A quoted include is resolved as the compiler
#     does: the including file's directory first, then the include directories below.
#     Likewise no role's CMakeLists.txt links another role's library (pf_producer...).
#  2. One wrapper per external library: a library's headers are included only by the files the
#     table below allows for it (tests/, fuzz/ and bench/ are exempt: test code builds and
#     inspects fixtures with the libraries directly).
#
# usage: deps.sh [ROOT]        check the tree at ROOT (default: this repository)
#        deps.sh --self-test   negative controls: a scratch tree with one violation of every
#                              rule and every table row must fail with each one reported
# Prints "FILE:LINE: includes <hdr> (allowed only in ...)" per violation; exit 1 if any.
set -euo pipefail

# ---- the table: library | header (extended regex on the name inside <> or "") | allowed ----
# Allowed is a blank-separated list of repository-relative globs; empty means nowhere.
LIBRARIES='
librdkafka    | ^librdkafka/                   | common/src/kafka*.c
hiredis       | ^hiredis/                      | common/src/redis.c
libcurl       | ^curl/                         | common/src/http.c
OpenSSL       | ^openssl/                      | common/src/digest.c common/src/signature.c
jansson       | ^jansson\.h$                   | common/include/pf/json.h
libarchive    | ^archive(_entry)?\.h$          | common/include/pf/archive.h
libyaml       | ^yaml\.h$                      | common/src/config.c
PCRE2         | ^pcre2\.h$                     | common/src/regex.c
libmicrohttpd | ^microhttpd\.h$                | common/src/http_server.c
zlib/zstd/xz  | ^(zlib|zstd|lzma)\.h$          |
'
# zlib, zstd and xz are not used directly: libarchive does all (de)compression, so no file may
# include them until one wrapper is named here.
EXEMPT_EXTERNAL='tests/* fuzz/* bench/*'
# Where a quoted include is looked up after the file's own directory, and whose headers live
# there (the CMake include directories of each library).
INCLUDE_DIRS='common/include producer/include worker aggregator/include'

# read_row: the next table row into $lib $re $allowed (the pattern may hold '|', so the row
# is split at blanks around '|'); skips blank lines, fails at the end.
read_row() {
    local row sp='[[:space:]]' word='([^[:space:]]+)'
    while IFS= read -r row; do
        if [[ $row =~ ^$sp*$word$sp+\|$sp+$word$sp+\|$sp*(.*[^[:space:]])?$sp*$ ]]; then
            lib=${BASH_REMATCH[1]}
            re=${BASH_REMATCH[2]}
            allowed=${BASH_REMATCH[3]}
            return 0
        fi
    done
    return 1
}

role_of() { # repository-relative path -> role (first path component)
    case $1 in
    common/*) echo common ;; producer/*) echo producer ;; worker/*) echo worker ;;
    aggregator/*) echo aggregator ;; *) echo "${1%%/*}" ;;
    esac
}

# check ROOT: prints the violations, returns 1 if there are any.
check() {
    local root=$1 bad=0 file line hdr kind role target dir d lib re allowed g ok
    local -a libs res alloweds
    while read_row; do
        libs+=("$lib")
        res+=("$re")
        alloweds+=("$allowed")
    done <<<"$LIBRARIES"
    set -f # the allowed and exempt lists are globs to match, not to expand

    while IFS= read -r rec; do
        file=${rec%%:*}
        rec=${rec#*:}
        line=${rec%%:*}
        rec=${rec#*:}
        if [[ $rec =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*([\<\"])([^\>\"]+)[\>\"] ]]; then
            kind=${BASH_REMATCH[1]}
            hdr=${BASH_REMATCH[2]}
        else
            continue
        fi
        # Rule 2: external headers, in either spelling.
        for i in "${!libs[@]}"; do
            [[ $hdr =~ ${res[$i]} ]] || continue
            ok=0
            for g in $EXEMPT_EXTERNAL ${alloweds[$i]}; do
                # shellcheck disable=SC2053 # $g is a glob on purpose
                [[ $file == $g ]] && ok=1
            done
            if [ "$ok" = 0 ]; then
                echo "$file:$line: includes <$hdr> (allowed only in" \
                    "${alloweds[$i]:-no file: ${libs[$i]} has no wrapper yet})"
                bad=1
            fi
        done
        # Rule 1: the role wall, for quoted includes that resolve inside the tree.
        [ "$kind" = '"' ] || continue
        role=$(role_of "$file")
        case $role in common | producer | worker | aggregator) ;; *) continue ;; esac
        dir=$(dirname "$file")
        target=
        if [ -f "$root/$dir/$hdr" ]; then
            target=$dir/$hdr
        else
            for d in $INCLUDE_DIRS; do
                if [ -f "$root/$d/$hdr" ]; then
                    target=$d/$hdr
                    break
                fi
            done
        fi
        [ -n "$target" ] || continue # generated (dashboard_page.h) or a system header
        target=$(role_of "$target")
        if [ "$target" != "$role" ] && [ "$target" != common ]; then
            local a=a
            [ "$target" = aggregator ] && a=an
            if [ "$role" = common ]; then
                echo "$file:$line: includes \"$hdr\" ($a $target header;" \
                    "common/ includes only common/'s)"
            else
                echo "$file:$line: includes \"$hdr\" ($a $target header;" \
                    "$role/ includes only its own and common/'s)"
            fi
            bad=1
        fi
    done < <(cd "$root" && find common producer worker aggregator cli tests fuzz bench \
        -name '*.[ch]' -type f 2>/dev/null | LC_ALL=C sort |
        xargs -r grep -nE '^[[:space:]]*#[[:space:]]*include' /dev/null)
    set +f
    # The same wall at link time: a role's library links no other role's.
    for role in producer worker aggregator; do
        [ -f "$root/$role/CMakeLists.txt" ] || continue
        while IFS=: read -r line rec; do
            for target in producer worker aggregator; do
                [ "$target" != "$role" ] || continue
                if [[ $rec =~ (^|[^A-Za-z0-9_])pf_$target([^A-Za-z0-9_]|$) ]]; then
                    echo "$role/CMakeLists.txt:$line: links pf_$target" \
                        "(a role's library links only pf_common)"
                    bad=1
                fi
            done
        done < <(grep -nE 'target_link_libraries' "$root/$role/CMakeLists.txt" || true)
    done
    return $bad
}

# A scratch tree with one violation per rule and per table row, and files that are allowed.
self_test() {
    local T out want n=0 lib re allowed hdr
    T=$(mktemp -d "${TMPDIR:-/tmp}/pf-deps.XXXXXX")
    trap 'rm -rf "$T"' RETURN
    mkdir -p "$T"/common/{include/pf,src} "$T"/producer/{include/producer,src} \
        "$T"/worker/{deb,fleet} "$T"/aggregator/{include/aggregator,src} "$T"/cli "$T"/tests/unit
    : >"$T/common/include/pf/buf.h"
    : >"$T/producer/include/producer/decide.h"
    : >"$T/worker/deb/apt_fetch.h"
    : >"$T/aggregator/include/aggregator/store.h"
    # Allowed: own role and common; cli and tests include every role.
    printf '#include "pf/buf.h"\n#include "producer/decide.h"\n' >"$T/producer/src/ok.c"
    printf '#include "deb/apt_fetch.h"\n#include "pf/buf.h"\n' >"$T/worker/fleet/ok.c"
    printf '#include "%s"\n' producer/decide.h deb/apt_fetch.h aggregator/store.h >"$T/cli/ok.c"
    cp "$T/cli/ok.c" "$T/tests/unit/test_ok.c"
    # Role violations.
    printf '#include "deb/apt_fetch.h"\n' >"$T/producer/src/bad_worker.c"
    printf '#include "producer/decide.h"\n' >"$T/worker/fleet/bad_producer.c"
    printf '#include "aggregator/store.h"\n' >"$T/worker/deb/bad_aggregator.c"
    printf '#include "deb/apt_fetch.h"\n' >"$T/aggregator/src/bad_worker.c"
    printf '#include "producer/decide.h"\n' >"$T/common/src/bad_role.c"
    printf 'target_link_libraries(pf_worker PUBLIC pf_common)\n' >"$T/worker/CMakeLists.txt"
    printf 'target_link_libraries(pf_aggregator PUBLIC pf_producer pf_common)\n' \
        >"$T/aggregator/CMakeLists.txt"
    want=(
        "aggregator/CMakeLists.txt:1: links pf_producer (a role's library links only pf_common)"
        "producer/src/bad_worker.c:1: includes \"deb/apt_fetch.h\" (a worker header;"
        "worker/fleet/bad_producer.c:1: includes \"producer/decide.h\" (a producer header;"
        "worker/deb/bad_aggregator.c:1: includes \"aggregator/store.h\" (an aggregator header;"
        "aggregator/src/bad_worker.c:1: includes \"deb/apt_fetch.h\" (a worker header;"
        "common/src/bad_role.c:1: includes \"producer/decide.h\" (a producer header; common/"
    )
    # One header of every table row, included outside its wrapper (worker/) and, where the row
    # has a wrapper, inside it (allowed) and from a test (exempt).
    while read_row; do
        # A header name the pattern matches: ^archive(_entry)?\.h$ -> archive_entry.h.
        hdr=$(echo "$re" | sed -E 's/^\^//; s/\$$//; s/\\\././g; s/\(([^|)]*)(\|[^)]*)?\)\??/\1/g')
        [[ $hdr == */ ]] && hdr=${hdr}x.h
        n=$((n + 1))
        printf '#include <%s>\n' "$hdr" >"$T/worker/deb/lib$n.c"
        printf '#include <%s>\n' "$hdr" >"$T/tests/unit/test_lib$n.c"
        want+=("worker/deb/lib$n.c:1: includes <$hdr> (allowed only in")
        if [ -n "$allowed" ]; then
            local a=${allowed%% *}
            a=${a//\*/x}
            mkdir -p "$T/$(dirname "$a")"
            printf '#include <%s>\n' "$hdr" >>"$T/$a"
        fi
    done <<<"$LIBRARIES"
    out=$(check "$T") && {
        echo "FAIL: self-test: the scratch tree with violations passed"
        return 1
    }
    for w in "${want[@]}"; do
        if ! grep -qF -- "$w" <<<"$out"; then
            echo "FAIL: self-test: not reported: $w"
            echo "$out" | sed 's/^/  | /'
            return 1
        fi
        echo "   ok: caught: $w"
    done
    if [ "$(wc -l <<<"$out")" != "${#want[@]}" ]; then
        echo "FAIL: self-test: ${#want[@]} violations planted, $(wc -l <<<"$out") reported" \
            "(an allowed include was flagged?):"
        echo "$out" | sed 's/^/  | /'
        return 1
    fi
    echo "deps self-test: all ${#want[@]} planted violations reported, nothing else"
}

if [ "${1:-}" = --self-test ]; then
    self_test
    exit
fi
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
if out=$(check "$ROOT"); then
    echo "deps: no role includes another, every external header is in its wrapper"
else
    echo "$out"
    echo "deps: $(wc -l <<<"$out") line(s) break the dependency rule (above)"
    exit 1
fi
