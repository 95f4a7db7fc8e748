#!/bin/bash
# Build libfabric and its fabtests, as released (Debian trixie's source,
# pinned in upstream.versions, not patched), out of tree against the
# project's rdma-core, for the clients suite:
#
#   build/libfabric-src       the tarball, with autogen.sh run (the tarball
#                             is a git snapshot without configure scripts)
#   build/libfabric/build     libfabric's build; build/libfabric/fabtests-build
#   build/libfabric/{bin,lib} installed: fi_info, fi_rma_bw, ...
#
# Only the verbs provider and the RDM layer over it (ofi_rxm) are built:
# rxe is the one device the guests have. A no-change run does no work.
#
# usage: tests/clients/build-libfabric.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
# shellcheck source=upstream.versions
. "$top/upstream.versions"
version=$LIBFABRIC_VERSION
rdma=$build/rdma-core/build
src=$build/libfabric-src
out=$build/libfabric
tarball=$build/dl/libfabric_$version.orig.tar.xz

[ -f "$rdma/lib/libibverbs.so" ] || {
	echo "build-libfabric: no rdma-core build in $rdma; run 'make userspace' first" >&2
	exit 1
}
"$top/scripts/fetch-upstream.sh" libfabric "$version" "$LIBFABRIC_SHA256" \
	"$build/dl" "$LIBFABRIC_DEBIAN_REVISION" tar.xz

stamp=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ "$(cat "$src/.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "  UNPACK  libfabric $version"
	rm -rf "$src" "$src.tmp" "$out"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	for d in "$src.tmp" "$src.tmp/fabtests"; do
		(cd "$d" && ./autogen.sh) >"$src.tmp/autogen.log" 2>&1 || {
			tail -n 20 "$src.tmp/autogen.log" >&2
			echo "build-libfabric: autogen.sh failed in $d" >&2
			exit 1
		}
	done
	echo "$stamp" > "$src.tmp/.stamp"
	mv "$src.tmp" "$src"
fi

# Every provider but verbs and ofi_rxm off, so that nothing else is probed
# at run time and configure does not depend on what the host has.
providers_off=()
for p in psm2 psm3 sockets efa cxi usnic udp tcp mrail rxd shm sm2 ucx lpp \
	 perf trace profile hook_debug hook_hmem dmabuf_peer_mem opx lnx xpmem; do
	providers_off+=("--enable-$p=no")
done
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$top}
mkdir -p "$out/build" "$out/fabtests-build"
if [ ! -f "$out/build/Makefile" ]; then
	(cd "$out/build" && "$src/configure" --prefix="$out" --disable-static \
		--enable-verbs="$rdma" --enable-rxm=yes "${providers_off[@]}" \
		CC="ccache gcc" >configure.log 2>&1) || {
		tail -n 30 "$out/build/configure.log" >&2; exit 1; }
fi
# build_and_install DIR: make in DIR, and make install when something in
# DIR changed since the last install (an unconditional install copies the
# whole of fabtests again: 14 s of a no-change run).
build_and_install() {
	local dir=$1 stamp=$1/.installed
	make -C "$dir" -j"$(nproc)" >"$dir/make.log" 2>&1 || {
		tail -n 40 "$dir/make.log" >&2; exit 1; }
	if [ ! -e "$stamp" ] ||
	   [ -n "$(find "$dir" -newer "$stamp" -type f ! -name '*.log' -print -quit)" ]; then
		make -C "$dir" install >"$dir/install.log" 2>&1 || {
			tail -n 40 "$dir/install.log" >&2; exit 1; }
		touch "$stamp"
	fi
}
build_and_install "$out/build"
grep -q '^\*\*\* Built-in providers:.*verbs' "$out/build/configure.log" || {
	echo "build-libfabric: configure left out the verbs provider ($out/build/configure.log)" >&2
	exit 1
}
if [ ! -f "$out/fabtests-build/Makefile" ]; then
	(cd "$out/fabtests-build" && "$src/fabtests/configure" --prefix="$out" \
		--with-libfabric="$out" CC="ccache gcc" >configure.log 2>&1) || {
		tail -n 30 "$out/fabtests-build/configure.log" >&2; exit 1; }
fi
build_and_install "$out/fabtests-build"
