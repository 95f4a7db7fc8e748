#!/bin/bash
# The upstream series: make series recreates every series with git am, and
# each kernel patch builds on its own and is checkpatch --strict clean.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
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
