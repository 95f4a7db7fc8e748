#!/bin/bash
# Unpack, patch and build rdma-core or perftest out of tree.
#
#   build/<name>-src   the orig tarball + <name>-patches/*.patch
#   build/<name>       the build
#
# The source tree is rebuilt only when the tarball or a patch changed, so a
# no-change run does no work.
#
# usage: build-userspace.sh rdma-core|perftest
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
name=$1
# shellcheck source=../upstream.versions
. "$top/upstream.versions"

case "$name" in
rdma-core) version=$RDMA_CORE_VERSION sha=$RDMA_CORE_SHA256
	patchdir=${RDMA_CORE_PATCHES:-$top/rdma-core-patches} ;;
perftest) version=$PERFTEST_VERSION sha=$PERFTEST_SHA256
	patchdir=${PERFTEST_PATCHES:-$top/perftest-patches} ;;
*) echo "build-userspace: unknown package '$name'" >&2; exit 2 ;;
esac

"$top/scripts/fetch-upstream.sh" "$name" "$version" "$sha" "$build/dl"
tarball=$build/dl/${name}_$version.orig.tar.gz
src=$build/$name-src
out=$build/$name
patches=()
for p in "$patchdir"/*.patch; do [ -f "$p" ] && patches+=("$p"); done

stamp=$(cat "$tarball" "${patches[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$src/.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "  UNPACK  $name $version (+${#patches[@]} patches)"
	rm -rf "$src" "$src.tmp" "$out"
	mkdir -p "$src.tmp"
	tar -xzf "$tarball" -C "$src.tmp" --strip-components=1
	for p in "${patches[@]}"; do
		if ! msg=$(patch -p1 -d "$src.tmp" --forward --batch -s < "$p" 2>&1); then
			echo "$msg" >&2
			echo "build-userspace: patch $(basename "$p") does not apply to" \
			     "$name $version; rebase $name-patches (see CONTRIBUTING)" >&2
			rm -rf "$src.tmp"
			exit 1
		fi
	done
	echo "$stamp" > "$src.tmp/.stamp"
	mv "$src.tmp" "$src"
fi

mkdir -p "$out"
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$top}
case "$name" in
rdma-core)
	if [ ! -f "$out/build/build.ninja" ]; then
		cmake -S "$src" -B "$out/build" -GNinja -DIN_PLACE=1 \
			-DNO_MAN_PAGES=1 -DPYTHON_EXECUTABLE=/usr/bin/python3 \
			-DCMAKE_C_COMPILER_LAUNCHER=ccache >"$out/cmake.log" 2>&1 || {
			tail -n 30 "$out/cmake.log" >&2; exit 1; }
	fi
	ninja -C "$out/build" >"$out/ninja.log" 2>&1 || { tail -n 40 "$out/ninja.log" >&2; exit 1; }
	# Guests see the tests read-only and could not cache their bytecode:
	# every run_tests.py would compile them again (0.8 s a run in UML).
	/usr/bin/python3 -m compileall -q "$src/tests" >>"$out/ninja.log" 2>&1 ||
		{ tail -n 20 "$out/ninja.log" >&2; exit 1; }
	;;
perftest)
	rdma=$build/rdma-core/build
	if [ ! -f "$out/Makefile" ]; then
		if [ "${#patches[@]}" -gt 0 ] && [ ! -f "$src/.autoreconf" ]; then
			(cd "$src" && autoreconf -fi >/dev/null 2>&1) && touch "$src/.autoreconf"
		fi
		(cd "$out" && CC="ccache gcc" CPPFLAGS="-I$rdma/include" \
			LDFLAGS="-L$rdma/lib -Wl,-rpath,$rdma/lib" \
			"$src/configure" --prefix="$out" >configure.log 2>&1) || {
			tail -n 30 "$out/configure.log" >&2; exit 1; }
	fi
	make -C "$out" -j"$(nproc)" >"$out/make.log" 2>&1 || { tail -n 40 "$out/make.log" >&2; exit 1; }
	make -C "$out" install >>"$out/make.log" 2>&1
	;;
esac
echo "  BUILT   $name $version"
