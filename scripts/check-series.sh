#!/bin/bash
# Prove a kernel series is bisectable and clean: for every prefix of the
# series, apply it to the pristine rxe directory and build that directory
# (as an external module, against a configured kernel of the series' base),
# and run checkpatch --strict on each patch, with the base's checkpatch.
#
# usage: check-series.sh      (after make series, and make kernel for 6.12)
#   SERIES_BASE   6.12 (default: build/series/linux, built against the
#                 debug UML kernel) or 7.3 (build/series/linux-7.3, built
#                 against kernel/7.3/prepare.sh's x86_64 tree)
#   SERIES_DIR    the series to check (default: the base's)
#   SERIES_WORK   where the prefixes are built (default build/series-check,
#                 build/series-check-7.3)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
base=${SERIES_BASE:-6.12}
case "$base" in
6.12)
	series=${SERIES_DIR:-$build/series/linux}
	kout=$build/kernel/um-debug arch=um
	pristine=$build/linux-pristine src=$build/linux-src
	work=${SERIES_WORK:-$build/series-check}
	# Our kernel has a vmlinux: modpost checks every symbol.
	modpost_warn= ;;
7.3)
	"$top/kernel/7.3/prepare.sh" tree
	series=${SERIES_DIR:-$build/series/linux-7.3}
	kout=$build/kernel/x86_64-7.3-check arch=x86_64
	pristine=$build/linux-7.3-pristine src=$pristine
	work=${SERIES_WORK:-$build/series-check-7.3}
	# prepare.sh gave the tree Debian's 7.3 Module.symvers: modpost
	# checks every symbol and namespace there too.
	modpost_warn= ;;
*) echo "check-series: SERIES_BASE must be 6.12 or 7.3, not '$base'" >&2; exit 2 ;;
esac
sub=drivers/infiniband/sw/rxe
# kbuild takes M= relative to the kernel tree, and checkpatch runs there.
work=$(realpath -m -- "$work")
series=$(realpath -m -- "$series")

[ -d "$series" ] || { echo "check-series: no $series (run make series)" >&2; exit 1; }
[ -f "$kout/.config" ] || { echo "check-series: no $kout (run make kernel)" >&2; exit 1; }
# A cover letter (make-series writes one for 7.3) is no patch to apply.
mapfile -t patches < <(ls "$series"/*.patch 2>/dev/null | grep -v '/0000-cover-letter\.patch$')
[ "${#patches[@]}" -gt 0 ] || { echo "check-series: no patches in $series" >&2; exit 1; }
rm -rf "$work"
fail=0
for i in $(seq 1 "${#patches[@]}"); do
	p=${patches[$((i - 1))]}
	name=$(basename "$p")
	tree=$work/$i
	mkdir -p "$tree/$(dirname "$sub")"
	cp -r "$pristine/$sub" "$tree/$sub"
	for q in "${patches[@]:0:$i}"; do
		# As exactly as git am applies it: no fuzz, never reversed.
		patch -p1 -s -N --fuzz=0 --no-backup-if-mismatch -d "$tree" \
			< "$q" >"$tree.log" 2>&1 && continue
		# The patches after it cannot be checked either.
		cat "$tree.log"
		printf '%-70s build %-6s checkpatch %s\n' "$name" "FAILED" "skipped"
		echo "check-series: $(basename "$q") does not apply to $base's rxe" >&2
		exit 1
	done
	# Not checked: whether a new file needs a MAINTAINERS entry (rxe's
	# covers the directory), and the commit ids of Fixes: tags, which
	# need the kernel's git history that the source package lacks.
	if report=$(cd "$src" && scripts/checkpatch.pl --strict -q \
		--ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID "$p" 2>&1); then
		cp_status=ok
	else
		echo "$report"
		cp_status=FAILED
		fail=1
	fi
	if make -s -C "$src" O="$kout" ARCH="$arch" M="$tree/$sub" \
		-j"$(nproc)" CC="ccache gcc" ${modpost_warn:+KBUILD_MODPOST_WARN=1} \
		modules >"$tree.log" 2>&1 &&
	   ! grep -q 'warning:' "$tree.log"; then
		build_status=ok
	else
		build_status=FAILED
		fail=1
	fi
	printf '%-70s build %-6s checkpatch %s\n' "$name" "$build_status" "$cp_status"
done
exit "$fail"
