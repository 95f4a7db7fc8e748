#!/bin/bash
# Configure (when a fragment changed) and build one guest kernel with its
# modules installed into OUT/modroot, which guests bind-mount as /lib/modules.
#
# usage: [BASE=6.12|7.3] build.sh ARCH FLAVOR
#   BASE=7.3 builds build/kernel/ARCH-FLAVOR-7.3 from build/linux-src-7.3
#   (kernel/base.sh)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
arch=$1 flavor=$2
build=${BUILD:-$top/build}
# shellcheck source=base.sh
. "$top/kernel/base.sh"
export BASE=$base
src=$base_src
kname=$arch-$flavor$base_suffix
out=$build/kernel/$kname
jobs=${JOBS:-$(nproc)}

mkdir -p "$out"
exec 8>"$out/.build.lock"
if ! flock -n 8; then
	echo "  WAIT    another build of $kname is running"
	flock 8
fi

"$top/kernel/prepare-source.sh"

frags=("$top/kernel/config/base.config" "$top/kernel/config/arch-$arch.config"
       "$top/kernel/config/$flavor.config" ${base_config_absent:+"$base_config_absent"})
need_config=0
[ -f "$out/.config" ] || need_config=1
for f in "${frags[@]}"; do
	[ "$need_config" -eq 1 ] || [ "$f" -nt "$out/.config" ] && need_config=1
done
if [ "$need_config" -eq 1 ]; then
	echo "  CONFIG  $kname"
	"$top/kernel/configure.sh" "$arch" "$flavor" "$src" "$out"
fi

# build_key: a digest of everything this build is made from: the source
# tree (the package's version, kernel/patches, kernel/harness-patches and
# the drivers/ overlay, from which prepare-source.sh makes
# build/linux-src), the .config, the
# out-of-tree modules, these scripts and the compiler. When it matches the
# last successful build's, kbuild is not even started: its walk of a
# finished tree costs 5 s of CPU, on every make test and make shell.
build_key() {
	{
		cat "$src/.source-stamp"
		gcc --version | sed -n 1p
		cd "$top"
		find "${base_overlay_roots[@]}" "${base_patches#"$top"/}" \
			${base_harness_patches:+"${base_harness_patches#"$top"/}"} \
			${base_config_absent:+"${base_config_absent#"$top"/}"} \
			kernel/build.sh kernel/base.sh \
			kernel/prepare-source.sh kernel/configure.sh -type f |
			sort | xargs sha256sum
		for kbuild in kernel/*/Kbuild; do
			find "$(dirname "$kbuild")" -type f
		done | sort | xargs -r sha256sum
		sha256sum "$out/.config"
	} | sha256sum | cut -d' ' -f1
}
key=$(build_key)
if [ "$(cat "$out/.build-key" 2>/dev/null)" = "$key" ]; then
	echo "  KERNEL  $kname $(cat "$out/include/config/kernel.release") (unchanged)"
	exit 0
fi
rm -f "$out/.build-key"

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.ccache}
# Paths under the checkout are hashed relative to it, so a clone elsewhere
# (CI) still hits the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$top}
kmake=(make -C "$src" O="$out" ARCH="$arch" -j"$jobs"
       CC="ccache gcc" HOSTCC="ccache gcc"
       KBUILD_BUILD_TIMESTAMP="rdma-dmabuf" KBUILD_BUILD_USER=build
       KBUILD_BUILD_HOST=build)
start=$(date +%s)
"${kmake[@]}" -s
# modules_install rewrites every module; skip it when nothing was rebuilt.
if [ ! -f "$out/modroot/.stamp" ] ||
   [ -n "$(find "$out" -name '*.ko' -newer "$out/modroot/.stamp" -print -quit)" ]; then
	rm -rf "$out/modroot"
	"${kmake[@]}" -s INSTALL_MOD_PATH="$out/modroot" modules_install >/dev/null
	touch "$out/modroot/.stamp"
fi
kver=$(cat "$out/include/config/kernel.release")

# The project's out-of-tree modules: every kernel/*/ with a Kbuild file.
# Sources are copied with their timestamps into the build directory, so the
# repository stays free of build products and kbuild still sees no change.
for kbuild in "$top"/kernel/*/Kbuild; do
	[ -f "$kbuild" ] || continue
	mdir=$(dirname "$kbuild")
	name=$(basename "$mdir")
	mout=$out/extmod/$name
	mkdir -p "$mout"
	cp -rp "$mdir/." "$mout/"
	"${kmake[@]}" -s M="$mout" modules
	newest=$(find "$mout" -name '*.ko' -newer "$out/modroot/.stamp" -print -quit)
	if [ -n "$newest" ] || [ ! -d "$out/modroot/lib/modules/$kver/updates/$name" ]; then
		"${kmake[@]}" -s M="$mout" INSTALL_MOD_PATH="$out/modroot" \
			INSTALL_MOD_DIR="updates/$name" modules_install >/dev/null
		depmod -b "$out/modroot" "$kver"
	fi
done
echo "$key" > "$out/.build-key"
echo "  KERNEL  $kname $kver ($(($(date +%s) - start)) s)"
