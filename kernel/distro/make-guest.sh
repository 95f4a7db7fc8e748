#!/bin/bash
# Make what kernel/run-guest.sh --flavor distro boots, from the stock
# kernel kernel/distro/fetch.sh extracted and the project's out-of-tree
# modules built against its headers (scripts/host-modules.sh):
#
#   build/distro/<release>/initramfs.cpio.gz
#       busybox, kernel/distro/initramfs-init as /init, and the stock
#       modules a 9p root needs, decompressed for busybox's insmod
#   build/distro/<release>/modroot/lib/modules/<release>
#       the stock modules the suites load (rdma_rxe's stack, rdma_ucm,
#       veth, every crypto module) with the stock rdma_rxe among them, and ours in
#       updates/rxe-dmabuf/, where make host-install puts them on a real
#       machine: depmod prefers updates/, so modprobe rdma_rxe must pick
#       ours, and the distro suite checks that it did
#
# usage: make-guest.sh MODULES_DIR   (rdma_rxe.ko, dmabuf_test_exporter.ko)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
# shellcheck source=../../upstream.versions
. "$top/upstream.versions"
release=$DISTRO_KERNEL_RELEASE
out=$build/distro/$release
pkg=$out/pkg
ours=$1

die() { echo "distro-guest: $*" >&2; exit 1; }
# kmod's tools are in /sbin, which an ordinary user's PATH may lack; they
# read no configuration of the host's (-C /dev/null): its modprobe.d and
# depmod.d are not the guest's.
depmod=$(command -v depmod || echo /sbin/depmod)
modprobe=$(command -v modprobe || echo /sbin/modprobe)
modinfo=$(command -v modinfo || echo /sbin/modinfo)
[ -f "$pkg/.stamp" ] || die "no stock kernel in $pkg (kernel/distro/fetch.sh)"
for m in rdma_rxe dmabuf_test_exporter; do
	[ -f "$ours/$m.ko" ] || die "no $m.ko in $ours (scripts/host-modules.sh)"
done
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] ||
   [[ $(LC_ALL=C ldd "$busybox" 2>&1) != *'not a dynamic executable'* ]]; then
	die "no static busybox (package busybox-static: make deps)"
fi

# modules_of VAR NAME...: set array VAR to the stock modules NAME... need,
# in load order, each once, as paths relative to the package's module
# directory.
moddir=$pkg/lib/modules/$release
modules_of() {
	local -n list=$1
	local m out deps=
	shift
	for m in "$@"; do
		out=$("$modprobe" -C /dev/null -d "$pkg" -S "$release" \
			--show-depends "$m" 2>&1) ||
			die "the stock kernel has no module $m: $out"
		deps+=$out$'\n'
	done
	mapfile -t list < <(awk '$1 == "insmod" && !seen[$2]++ { print $2 }' <<< "$deps" |
		sed "s|^$moddir/||")
}

# A stage directory, renamed into place only once complete.
stage=$out/guest.tmp
rm -rf "$stage"
mkdir -p "$stage/initramfs/bin" "$stage/initramfs/modules" \
	"$stage/initramfs"/{proc,sys,dev,newroot}
cp "$busybox" "$stage/initramfs/bin/busybox"
cp "$top/kernel/distro/initramfs-init" "$stage/initramfs/init"
modules_of boot 9p 9pnet_virtio virtio_rng
for path in "${boot[@]}"; do
	name=$(basename "${path%.xz}")
	xz -dc "$moddir/$path" > "$stage/initramfs/modules/$name"
	echo "$name" >> "$stage/initramfs/modules/order"
done
(cd "$stage/initramfs" && find . | sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 > "$stage/initramfs.cpio.gz"

mroot=$stage/modroot/lib/modules/$release
mkdir -p "$mroot/updates/rxe-dmabuf"
needs=$("$modinfo" -F depends "$ours/rdma_rxe.ko" "$ours/dmabuf_test_exporter.ko") ||
	die "modinfo cannot read our modules in $ours"
# shellcheck disable=SC2206 # a word list of module names
needs=(${needs//,/ })
modules_of stock rdma_rxe ib_uverbs rdma_ucm veth "${needs[@]}"
for path in "${stock[@]}"; do
	mkdir -p "$mroot/$(dirname "$path")"
	cp "$moddir/$path" "$mroot/$path"
done
# Every crypto module: the kernel asks modprobe for algorithms by alias at
# run time (rdma_rxe's crc32 among them), as it would on a real machine.
(cd "$moddir" && find kernel/crypto kernel/arch/x86/crypto -name '*.ko*' |
	cpio -pdm --quiet "$mroot")
cp "$moddir"/modules.builtin "$moddir"/modules.builtin.modinfo \
	"$moddir"/modules.order "$mroot/"
cp "$ours/rdma_rxe.ko" "$ours/dmabuf_test_exporter.ko" "$mroot/updates/rxe-dmabuf/"
"$depmod" -C /dev/null -b "$stage/modroot" "$release" || die "depmod of the guest's modules failed"

rm -rf "$out/modroot" "$out/initramfs.cpio.gz"
mv "$stage/modroot" "$out/modroot"
mv "$stage/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
rm -rf "$stage"
echo "  GUEST   $release ($(find "$out/modroot" -name '*.ko*' | wc -l) modules)"
