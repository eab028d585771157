#!/usr/bin/env bash
# labels: apk
# SPDX-License-Identifier: Apache-2.0
#
# `patchfleet version-compare apk` orders versions that apk-tools' grammar calls invalid the way
# apk-tools does (its own test data: "1.0 < 1.0bc"), exit 0 with a warning naming the version,
# rather than refusing them; --batch answers such lines instead of "error:". An invalid Debian
# version is still an error (exit 2).
set -euo pipefail

. "${PF_SRC:?}/tests/harness/lib.sh"
pf_require_cli version-compare
pf_tmpdir
T=$PF_TMP

pf_say "single pairs: apk's own vectors with an invalid side"
for gen in 2 3; do
    pf_run 0 "$T/o" "$T/e" "$PF" version-compare apk --apk-gen "$gen" 1.0 1.0bc
    pf_assert_eq "gen $gen: 1.0 vs 1.0bc" "<" "$(cat "$T/o")"
    grep -q "'1.0bc' is not a valid apk version" "$T/e" ||
        pf_fail "gen $gen: no warning naming 1.0bc: $(cat "$T/e")"
    pf_run 0 "$T/o" "$T/e" "$PF" version-compare apk --apk-gen "$gen" 1.0bc 1.0
    pf_assert_eq "gen $gen: 1.0bc vs 1.0" ">" "$(cat "$T/o")"
    pf_run 0 "$T/o" "$T/e" "$PF" version-compare apk --apk-gen "$gen" 1.0-r1 1.0-r0
    pf_assert_eq "gen $gen: valid pair" ">" "$(cat "$T/o")"
    [ ! -s "$T/e" ] || pf_fail "gen $gen: a valid pair printed a warning: $(cat "$T/e")"
done
pf_ok "invalid apk versions are ordered, exit 0, the version named in a warning"

pf_say "--batch answers lines with an invalid apk version"
printf '1.0 1.0bc\n1.0bc 1.0\n1.0-r1 1.0\n' >"$T/pairs"
pf_run 0 "$T/o" "$T/e" "$PF" version-compare apk --batch <"$T/pairs"
pf_assert_eq "batch answers" "$(printf '<\n>\n>')" "$(cat "$T/o")"
pf_ok "batch: three answers, exit 0"

pf_say "an invalid Debian version is still an error"
pf_run 2 "$T/o" "$T/e" "$PF" version-compare deb 1.0 'a b'
pf_ok "deb: exit 2"
