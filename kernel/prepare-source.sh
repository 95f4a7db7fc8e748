#!/bin/bash
# Build the patched kernel source tree from Debian's linux-source-6.12:
#
#   build/linux-pristine   the package's tarball, extracted, never modified
#   build/linux-src        pristine + kernel/patches/* + drivers/ overlay
#                          + kernel/harness-patches/*
#
# or with BASE=7.3 build/linux-src-7.3 from build/linux-7.3-pristine and
# kernel/7.3/patches (kernel/base.sh).
#
# kernel/harness-patches holds what the guest kernels need beyond the rxe
# series (a UML fix for hosts with AMX, say): applied after the series,
# never part of what make series exports.
#
# Only files whose content changes are rewritten, so kbuild's timestamps
# stay meaningful and a no-change run leads to a no-work build.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
tarball=${LINUX_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
# shellcheck source=base.sh
. "$top/kernel/base.sh"
pristine=$base_pristine
src=$base_src
patches=$base_patches
harness_patches=$base_harness_patches
overlay_roots=("${base_overlay_roots[@]}")

die() { echo "prepare-source: $*" >&2; exit 1; }

# Builds of several kernels may run at once; they share this tree.
mkdir -p "$build"
exec 9>"$build/.prepare-source$base_suffix.lock"
flock 9

if [ "$base" = 7.3 ]; then
	"$top/kernel/7.3/prepare.sh" source
	pkgver=$(cut -d' ' -f2 "$pristine/.source-stamp")
else
	[ -f "$tarball" ] || die "$tarball not found (install linux-source-6.12: make deps)"
	pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)
	stamp="$(stat -c '%s %Y' "$tarball") $pkgver"

	if [ "$(cat "$pristine/.source-stamp" 2>/dev/null)" != "$stamp" ]; then
		echo "  EXTRACT linux-source-6.12 $pkgver"
		rm -rf "$pristine" "$pristine.tmp" "$src"
		mkdir -p "$pristine.tmp"
		tar -xf "$tarball" -C "$pristine.tmp" --strip-components=1 ||
			die "cannot extract $tarball"
		echo "$stamp" > "$pristine.tmp/.source-stamp"
		mv "$pristine.tmp" "$pristine"
	fi
fi
# Every file the patches or the overlay touch, plus those touched last time
# (so a dropped patch is reverted).
patch_list=()
for dir in "$patches" ${harness_patches:+"$harness_patches"}; do
	[ -f "$dir/series" ] || continue
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		[ -f "$dir/$p" ] || die "$dir/series names $p, which does not exist"
		patch_list+=("$dir/$p")
	done < "$dir/series"
done
touched=$(
	{
		for p in "${patch_list[@]}"; do
			sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p"
		done
		for root in "${overlay_roots[@]}"; do
			[ -d "$top/$root" ] && (cd "$top" && find "$root" -type f)
		done
		if cmp -s "$src/.source-stamp" "$pristine/.source-stamp" 2>/dev/null; then
			cat "$src/.touched" 2>/dev/null || true
		fi
	} | sort -u
)

stage=$build/linux-stage$base_suffix
trap 'rm -rf "$stage"' EXIT
rm -rf "$stage"
mkdir -p "$stage"
for f in $touched; do
	if [ -f "$pristine/$f" ]; then
		mkdir -p "$stage/$(dirname "$f")"
		cp -p "$pristine/$f" "$stage/$f"
	fi
done
for p in "${patch_list[@]}"; do
	if ! out=$(patch -p1 -d "$stage" --forward --batch -s < "$p" 2>&1); then
		echo "$out" >&2
		die "patch $(basename "$p") does not apply to linux-source-$base" \
		    "$pkgver (kernel $(make -s -C "$pristine" kernelversion 2>/dev/null));" \
		    "rebase $(basename "$(dirname "$p")") (see CONTRIBUTING)"
	fi
done
find "$stage" \( -name '*.orig' -o -name '*.rej' \) -delete

# Only now that every patch applied is the build tree created or touched.
if [ ! -f "$src/.source-stamp" ] ||
   ! cmp -s "$src/.source-stamp" "$pristine/.source-stamp"; then
	rm -rf "$src"
	cp -a "$pristine" "$src.tmp"
	mv "$src.tmp" "$src"
fi
for root in "${overlay_roots[@]}"; do
	[ -d "$top/$root" ] && cp -r "$top/$root/." "$stage/$root/"
done

changed=0
for f in $touched; do
	if [ -f "$stage/$f" ]; then
		if ! cmp -s "$stage/$f" "$src/$f"; then
			mkdir -p "$src/$(dirname "$f")"
			cp "$stage/$f" "$src/$f.new" && mv "$src/$f.new" "$src/$f"
			changed=$((changed + 1))
		fi
	elif [ -e "$src/$f" ]; then
		rm -f "$src/$f"
		changed=$((changed + 1))
	fi
done
rm -rf "$stage"
echo "$touched" > "$src/.touched"
[ "$changed" -eq 0 ] || echo "  PATCHED $changed file(s) in build/$(basename "$src")"
