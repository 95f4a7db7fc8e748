#!/bin/bash
# The upstream series: make series recreates every series with git am, and
# each kernel patch builds on its own and is checkpatch --strict clean.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
SUITE=series
. "$top/tests/lib/result.sh"

# A series make series could not write (the 7.3 base not fetched) fails
# its own check below; the others are still checked.
run_case make-series make -C "$top" --no-print-directory series
[ -d "$build/series/linux" ] || exit 0
# check_base BASE PREFIX: the check of BASE's series, one record per
# patch and check, named PREFIX<patch>/...
check_base() {
	local base=$1 prefix=$2 out rc name build_status cp_status failed=0
	out=$(SERIES_BASE=$base "$top/scripts/check-series.sh" 2>&1)
	rc=$?
	echo "$out"
	while read -r name _ build_status _ cp_status; do
		case "$name" in *.patch) ;; *) continue ;; esac
		if [ "$build_status" = ok ]; then pass "$prefix$name/builds"
		else fail "$prefix$name/builds" "see build/series-check*/"; fi
		case $cp_status in
		ok) pass "$prefix$name/checkpatch" ;;
		skipped) skip "$prefix$name/checkpatch" "the patch does not apply" ;;
		*) fail "$prefix$name/checkpatch" "checkpatch --strict reported problems"
		esac
		[ "$build_status" = ok ] && [ "$cp_status" = ok ] || failed=1
	done <<< "$out"
	# A check that stopped without failing a patch (a base it could not
	# prepare, a series it could not read) fails as a whole.
	[ "$rc" = 0 ] || [ "$failed" = 1 ] ||
		fail "${prefix}check" "check-series.sh (SERIES_BASE=$base) exited $rc: $(tail -n 2 <<< "$out" | tr '\n' ' ')"
}
check_base 6.12 ""
# The mainline series (kernel/7.3), against Debian's linux-source-7.3.
check_base 7.3 "7.3/"
# cover_letter_ok: the 7.3 series has kernel/7.3/cover-letter's subject
# and text in its cover letter, none of git's placeholders, and a
# shortlog line for every patch.
cover_letter_ok() {
	local letter=$build/series/linux-7.3/0000-cover-letter.patch n
	[ -f "$letter" ] || { echo "no $letter"; return 1; }
	grep -q "^Subject: \[PATCH 00/[0-9]*\] $(sed -n 1p "$top/kernel/7.3/cover-letter")\$" "$letter" ||
		{ echo "the subject is not kernel/7.3/cover-letter's"; return 1; }
	grep -qxF "$(sed -n 3p "$top/kernel/7.3/cover-letter")" "$letter" ||
		{ echo "the text is not kernel/7.3/cover-letter's"; return 1; }
	! grep -q '\*\*\* .* HERE \*\*\*' "$letter" || { echo "a placeholder is left"; return 1; }
	n=$(grep -c . "$top/kernel/7.3/patches/series")
	[ "$(grep -c '^  RDMA/rxe: ' "$letter")" -ge "$n" ] ||
		{ echo "the shortlog does not list the $n patches"; return 1; }
}
run_case 7.3/cover-letter cover_letter_ok
# A 6.12 patch that does not apply to 7.3 (its refactor of the atomic
# operation) fails the check with its name, not silently.
mkdir -p "$build/series-check-7.3-input"
rm -f "$build/series-check-7.3-input"/*.patch
cp "$build/series/linux/"0005-*.patch "$build/series-check-7.3-input/"
expect_status 7.3/check-fails-unapplicable 1 \
	"^0005-[^ ]+ +build FAILED +checkpatch skipped" \
	env SERIES_BASE=7.3 SERIES_DIR="$build/series-check-7.3-input" \
	SERIES_WORK="$build/series-check-7.3-unapplicable" "$top/scripts/check-series.sh"

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
