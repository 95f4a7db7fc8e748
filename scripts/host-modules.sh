#!/bin/bash
# Build the patched rdma_rxe.ko and dmabuf_test_exporter.ko out of tree
# against a distribution kernel's build or headers tree (Debian's 6.12, say),
# from the sources the guest kernels are built from.
#
# usage: host-modules.sh [--kdir DIR] [--release KR] [--out DIR]
#   KR    default `uname -r`; DIR default /lib/modules/KR/build. The release
#         is KDIR's own (include/config/kernel.release): --release only
#         guards against building for another kernel than meant.
#   OUT   default $BUILD/host-modules/<release>; gets both .ko and the
#         builds' Module.symvers, and the sources they are built from in
#         OUT/src.
#
# A tree whose kernel could not run the patched rxe as the guests do is
# refused before anything is built: a module that builds, loads and then
# misbehaves (no ODP, no user memory, a compiler of another ABI) is worse
# than none.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
jobs=${JOBS:-$(nproc)}

die() { echo "host-modules: $*" >&2; exit 1; }
usage() { echo "usage: host-modules.sh [--kdir DIR] [--release KR] [--out DIR]" >&2; }

kdir='' release='' out=''
while [ $# -gt 0 ]; do
	case $1 in
	--kdir|--release|--out)
		[ $# -ge 2 ] && [ -n "$2" ] || { usage; die "$1 needs a value"; }
		case $1 in
		--kdir) kdir=$2 ;;
		--release) release=$2 ;;
		--out) out=$2 ;;
		esac
		shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage; die "unknown option $1" ;;
	esac
done

# `make host-modules KERNELRELEASE=x` hands KERNELRELEASE down through the
# environment and MAKEFLAGS, and kbuild would take it over the one its tree
# records. ARCH, CROSS_COMPILE and the like from the environment would
# build for another kernel than KDIR's.
unset KERNELRELEASE MAKEFLAGS MAKELEVEL MFLAGS MAKEOVERRIDES \
	ARCH SUBARCH CROSS_COMPILE LLVM O KBUILD_OUTPUT KBUILD_EXTMOD \
	KBUILD_MODPOST_WARN KBUILD_EXTRA_SYMBOLS

if [ -z "$kdir" ]; then
	kr=${release:-$(uname -r)}
	kdir=/lib/modules/$kr/build
	[ -e "$kdir" ] || die "no $kdir: install the headers of kernel $kr" \
		"(Debian: apt-get install linux-headers-$kr) or name a headers tree (KDIR=DIR, --kdir DIR)"
fi
[ -d "$kdir" ] || die "KDIR $kdir does not exist or is not a directory"
kdir=$(cd "$kdir" && pwd)
for f in Makefile .config include/config/kernel.release; do
	[ -f "$kdir/$f" ] ||
		die "$kdir is not a configured kernel build or headers tree (no $f)"
done
kr=$(head -n 1 "$kdir/include/config/kernel.release")
[ -n "$kr" ] || die "$kdir/include/config/kernel.release is empty"
[ -z "$release" ] || [ "$release" = "$kr" ] ||
	die "KDIR $kdir is kernel $kr, not $release (the release asked for)"

# The series is a patch set on 6.12's rxe: built against another kernel's
# ib_core it would not compile, or worse, compile.
if ! [[ $kr =~ ^6\.12($|[^0-9]) ]]; then
	ver=$(sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p' <<< "$kr")
	die "KDIR $kdir is kernel $kr (${ver:-unknown version}); the rxe series is for 6.12:" \
		"use a 6.12 kernel's headers"
fi

declare -A cfg=()
while IFS='=' read -r k v; do
	cfg[$k]=$v
done < <(grep -E '^CONFIG_[A-Za-z0-9_]+=' "$kdir/.config")
c() { echo "${cfg[CONFIG_$1]:-}"; }

[ "$(c RDMA_RXE)" != y ] ||
	die "kernel $kr has rxe built in (CONFIG_RDMA_RXE=y): a module cannot replace it;" \
		"it needs a kernel with CONFIG_RDMA_RXE=m or unset"

# What the patched rxe needs of the kernel around it: rxe's Kconfig
# dependencies and selects, user verbs and user memory (the MRs rxe
# registers from user space), ODP (rxe_odp.o is built only with it, and
# the tests and the bench use it), and the dma-buf core. Every unmet one is
# named at once.
problems=()
need() { # need OPTION ALLOWED-VALUES(regex) WHAT-IT-MUST-BE
	local v
	v=$(c "$1")
	[[ $v =~ ^($2)$ ]] || problems+=("CONFIG_$1 is ${v:-not set}, needs $3")
}
need MODULES y y
need INET y y
need PCI y y
need INFINIBAND 'm|y' 'm or y'
need INFINIBAND_USER_ACCESS 'm|y' 'm or y'
need INFINIBAND_USER_MEM y y
need INFINIBAND_ON_DEMAND_PAGING y y
need INFINIBAND_VIRT_DMA y y
need DMA_SHARED_BUFFER y y
need NET_UDP_TUNNEL 'm|y' 'm or y'
need CRYPTO_CRC32 'm|y' 'm or y'
if [ "${#problems[@]}" -gt 0 ]; then
	msg=${problems[0]}
	for p in "${problems[@]:1}"; do msg+="; $p"; done
	die "kernel $kr cannot host the patched rxe: $msg"
fi

# A module must be built by the compiler major version that built its
# kernel: the tree's flags were chosen by probing that compiler, and
# another major version may reject them or honour them differently.
cc_text=$(c CC_VERSION_TEXT)
cc_text=${cc_text#\"}
cc_text=${cc_text%\"}
[ "$(c CC_IS_GCC)" = y ] ||
	die "kernel $kr was built with ${cc_text:-an unknown compiler (no CONFIG_CC_VERSION_TEXT)}," \
		"not gcc: only gcc-built kernels are supported"
major() { { grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' <<< "$1" || true; } | tail -n 1 | cut -d. -f1; }
kmajor=$(major "$cc_text")
gcc_text=$(gcc --version 2>/dev/null | head -n 1) || die "no gcc found (make deps installs it)"
gmajor=$(major "$gcc_text")
[ -n "$kmajor" ] && [ "$kmajor" = "$gmajor" ] ||
	die "kernel $kr was built with gcc ${kmajor:-?} ($cc_text), but gcc here is" \
		"${gmajor:-?} ($gcc_text): build on a host whose gcc is the same major version;" \
		"Debian's 6.12 from bookworm-security is built with gcc-12, trixie's with gcc-14"

# What kbuild needs of a tree to build external modules against it; a
# headers package provides all of it once installed where it was built for.
[ -f "$kdir/include/config/auto.conf" ] && [ -f "$kdir/include/generated/autoconf.h" ] ||
	die "$kdir is not prepared for external modules (no include/config/auto.conf or" \
		"include/generated/autoconf.h): run make modules_prepare in it"
# Without it modpost cannot give the modules the CRCs of the symbols they
# use, and a kernel with CONFIG_MODVERSIONS refuses them.
[ -f "$kdir/Module.symvers" ] ||
	die "$kdir has no Module.symvers: modules built without it do not load;" \
		"use a tree whose kernel was built, or its headers package"
[ -f "$kdir/scripts/Makefile.build" ] && [ -x "$kdir/scripts/mod/modpost" ] ||
	die "$kdir/scripts does not hold kbuild's scripts and modpost" \
		"($kdir/scripts -> $(readlink "$kdir/scripts" 2>/dev/null || echo 'not a link')):" \
		"a dangling symlink, or the kbuild package (Debian: linux-kbuild-6.12) is missing"
# Debian's headers tree is a one-line Makefile that includes the common
# tree's by an absolute path: unpacked anywhere but /, it points nowhere.
while read -r inc; do
	[ -f "$inc" ] || die "$kdir/Makefile includes $inc, which does not exist:" \
		"a headers package unpacked away from /; point that include at its copy"
done < <(sed -n 's|^-\{0,1\}include[[:space:]]\{1,\}\(/[^[:space:]]*\).*|\1|p' "$kdir/Makefile")

out=${out:-$build/host-modules/$kr}
[[ $out != *[[:space:]]* ]] || die "OUT $out has a space: kbuild cannot build there"
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec 8>"$out/.build.lock"
if ! flock -n 8; then
	echo "  WAIT    another build of host modules for $kr is running"
	flock 8
fi

"$top/kernel/prepare-source.sh"
src=$build/linux-src
srcver=$(make -s -C "$src" kernelversion 2>/dev/null) || srcver=unknown
kver=$(grep -oE '^[0-9]+\.[0-9]+\.[0-9]+' <<< "$kr" || echo "$kr")
[ "$srcver" = "$kver" ] ||
	echo "  NOTE    rxe's source is $srcver's, the kernel is $kr: rxe is built on" \
		"$kver's ib_core headers"

# A build that fails must not leave the last one's modules for
# make host-install to take.
rm -f "$out/rdma_rxe.ko" "$out/dmabuf_test_exporter.ko" "$out/Module.symvers"
# Always from a fresh copy: kbuild judges by timestamps, and a source
# replaced by an older-dated one (a new linux-source package re-extracted)
# or new headers under the same release would leave stale objects behind.
# ccache makes the full rebuild cheap.
rm -rf "$out/src"
mkdir -p "$out/src/rxe" "$out/src/dmabuf-test-exporter"
cp -rp "$src/drivers/infiniband/sw/rxe/." "$out/src/rxe/"
cp -rp "$top/kernel/dmabuf-test-exporter/." "$out/src/dmabuf-test-exporter/"

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.ccache}
# Paths under the checkout are hashed relative to it, as kernel/build.sh's.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$top}
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
kmake=(make -s -C "$kdir" -j"$jobs" CC="$cc")
# Without pahole kbuild fails at the modules' last step; a module without
# BTF loads and works, only BPF programs see no types of it.
if [ "$(c DEBUG_INFO_BTF_MODULES)" = y ] && ! command -v pahole >/dev/null; then
	echo "  NOTE    no pahole: the modules get no BTF (Debian: apt-get install pahole)"
	kmake+=(CONFIG_DEBUG_INFO_BTF_MODULES=)
fi
start=$(date +%s)
# rxe is built as a module whatever the kernel says of it (unset, or m);
# its KUnit suites and the exporter's are not: they belong to the guests.
echo "  MODULES rdma_rxe.ko for $kr"
"${kmake[@]}" M="$out/src/rxe" CONFIG_RDMA_RXE=m CONFIG_RDMA_RXE_KUNIT_TEST= modules
echo "  MODULES dmabuf_test_exporter.ko for $kr"
"${kmake[@]}" M="$out/src/dmabuf-test-exporter" CONFIG_KUNIT= modules

modinfo=$(command -v modinfo || echo /sbin/modinfo)
for ko in "$out/src/rxe/rdma_rxe.ko" "$out/src/dmabuf-test-exporter/dmabuf_test_exporter.ko"; do
	[ -f "$ko" ] || die "kbuild made no $ko"
	magic=$("$modinfo" -F vermagic "$ko")
	[[ $magic == "$kr "* ]] ||
		die "$(basename "$ko") was built for '$magic', not for $kr"
done
cp -p "$out/src/rxe/rdma_rxe.ko" "$out/src/dmabuf-test-exporter/dmabuf_test_exporter.ko" "$out/"
cat "$out/src/rxe/Module.symvers" "$out/src/dmabuf-test-exporter/Module.symvers" \
	> "$out/Module.symvers"
[ "$(c MODULE_SIG_FORCE)" != y ] ||
	echo "  NOTE    kernel $kr loads signed modules only (CONFIG_MODULE_SIG_FORCE=y);" \
		"these are unsigned: sign them with scripts/sign-file and a key it trusts"
echo "  HOSTMOD $kr: rdma_rxe.ko dmabuf_test_exporter.ko in $out ($(($(date +%s) - start)) s)"
