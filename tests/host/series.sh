#!/bin/bash
# The upstream series: make series recreates every series with git am, and
# each kernel patch builds on its own and is checkpatch --strict clean.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
SUITE=series
. "$top/tests/lib/result.sh"

run_case make-series make -C "$top" --no-print-directory series || exit 0
out=$("$top/scripts/check-series.sh" 2>&1)
echo "$out"
while read -r name _ build_status _ cp_status; do
	case "$name" in *.patch) ;; *) continue ;; esac
	if [ "$build_status" = ok ]; then pass "$name/builds"
	else fail "$name/builds" "see build/series-check"; fi
	if [ "$cp_status" = ok ]; then pass "$name/checkpatch"
	else fail "$name/checkpatch" "checkpatch --strict reported problems"; fi
done <<< "$out"

# The check itself must fail a patch that checkpatch finds fault with: the
# first two patches, the second with trailing whitespace on an added line.
# They build in a fixed directory, where ccache knows them from the last run.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/series"
mapfile -t patches < <(ls "$build/series/linux/"*.patch)
cp "${patches[0]}" "$scratch/series/"
sed '0,/^+\t/s/^+\t.*$/& /' "${patches[1]}" > "$scratch/series/${patches[1]##*/}"
expect_status check-fails-on-style 1 \
	"^${patches[1]##*/} +build ok +checkpatch FAILED" \
	env SERIES_DIR="$scratch/series" SERIES_WORK="$build/series-check-fault" \
	"$top/scripts/check-series.sh"
case_log check-fails-on-style
if grep -q 'trailing whitespace' "$case_log" &&
   grep -Eq "^${patches[0]##*/} +build ok +checkpatch ok" "$case_log"; then
	pass check-names-the-problem
else
	fail check-names-the-problem "no 'trailing whitespace' report, or the clean first patch not passed: $case_log"
fi
