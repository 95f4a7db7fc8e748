#!/bin/bash
# Prove the kernel series is bisectable and clean: for every prefix of
# build/series/linux, apply it to the pristine rxe directory and build that
# directory (as an external module, against the configured debug UML
# kernel), and run checkpatch --strict on each patch.
#
# usage: check-series.sh      (after make series and make kernel)
#   SERIES_DIR    the series to check (default build/series/linux)
#   SERIES_WORK   where the prefixes are built (default build/series-check)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
series=${SERIES_DIR:-$build/series/linux}
kout=$build/kernel/um-debug
work=${SERIES_WORK:-$build/series-check}
sub=drivers/infiniband/sw/rxe

[ -d "$series" ] || { echo "check-series: no $series (run make series)" >&2; exit 1; }
[ -f "$kout/.config" ] || { echo "check-series: no $kout (run make kernel)" >&2; exit 1; }
mapfile -t patches < <(ls "$series"/*.patch)
rm -rf "$work"
fail=0
for i in $(seq 1 "${#patches[@]}"); do
	p=${patches[$((i - 1))]}
	name=$(basename "$p")
	tree=$work/$i
	mkdir -p "$tree/$(dirname "$sub")"
	cp -r "$build/linux-pristine/$sub" "$tree/$sub"
	for q in "${patches[@]:0:$i}"; do
		patch -p1 -s -d "$tree" < "$q"
	done
	# Not checked: whether a new file needs a MAINTAINERS entry (rxe's
	# covers the directory), and the commit ids of Fixes: tags, which
	# need the kernel's git history that the source package lacks.
	if report=$(cd "$build/linux-src" && scripts/checkpatch.pl --strict -q \
		--ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID "$p" 2>&1); then
		cp_status=ok
	else
		echo "$report"
		cp_status=FAILED
		fail=1
	fi
	if make -s -C "$build/linux-src" O="$kout" ARCH=um M="$tree/$sub" \
		-j"$(nproc)" CC="ccache gcc" modules >"$tree.log" 2>&1 &&
	   ! grep -q 'warning:' "$tree.log"; then
		build_status=ok
	else
		build_status=FAILED
		fail=1
	fi
	printf '%-70s build %-6s checkpatch %s\n' "$name" "$build_status" "$cp_status"
done
exit "$fail"
