#!/bin/bash
# Install the host modules that scripts/host-modules.sh builds into
# /lib/modules/KR/updates/rxe-dmabuf, or remove them. depmod's default
# search order puts updates/ before kernel/, so `modprobe rdma_rxe` then
# loads the patched rxe instead of the distribution's.
#
# usage: host-install.sh install [--kdir DIR] [--release KR]
#        host-install.sh uninstall [--release KR]
#   install takes what host-modules.sh built for KR (make host-modules, as
#   yourself): it never builds, so that a build tree is not left to root.
#   KR defaults to KDIR's release with --kdir, else to `uname -r`.
#   INSTALL_MOD_PATH, as kbuild's, installs under another root (no root
#   needed if it is writable).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}

die() { echo "host-install: $*" >&2; exit 1; }
usage() {
	echo "usage: host-install.sh install [--kdir DIR] [--release KR]" >&2
	echo "       host-install.sh uninstall [--release KR]" >&2
}

action=${1:-}
case $action in
install|uninstall) shift ;;
*) usage; die "${action:+unknown action $action; }say install or uninstall" ;;
esac
kdir='' release=''
while [ $# -gt 0 ]; do
	case $1 in
	--release|--kdir)
		[ $# -ge 2 ] && [ -n "$2" ] || { usage; die "$1 needs a value"; }
		[ "$1" != --kdir ] || [ "$action" = install ] ||
			{ usage; die "--kdir is for install only"; }
		case $1 in
		--kdir) kdir=$2 ;;
		--release) release=$2 ;;
		esac
		shift 2 ;;
	*) usage; die "unknown option $1" ;;
	esac
done
build_args=(${kdir:+--kdir "$kdir"} ${release:+--release "$release"})

if [ -n "$kdir" ]; then
	kr=$(head -n 1 "$kdir/include/config/kernel.release" 2>/dev/null || true)
	if [ -z "$kr" ]; then
		# host-modules.sh says what is wrong with such a tree.
		"$top/scripts/host-modules.sh" "${build_args[@]}"
		die "cannot tell the kernel release of $kdir"
	fi
else
	kr=${release:-$(uname -r)}
fi
root=${INSTALL_MOD_PATH:-}
moddir=$root/lib/modules/$kr
dest=$moddir/updates/rxe-dmabuf
depmod=$(command -v depmod || echo /sbin/depmod)
modinfo=$(command -v modinfo || echo /sbin/modinfo)
mod_root=(${root:+-b "$root"})

# need_write DIR: DIR, or the directory it would be made in, is writable.
need_write() {
	local d=$1
	while [ ! -e "$d" ]; do d=$(dirname "$d"); done
	[ -w "$d" ] || die "changing $1 needs root: sudo make host-$action" \
		"${release:+KERNELRELEASE=$release}"
}

if [ "$action" = uninstall ]; then
	if [ ! -d "$dest" ]; then
		echo "  UNINST  nothing installed for $kr ($dest)"
		exit 0
	fi
	need_write "$moddir/updates"
	rm -rf "$dest"
	"$depmod" "${mod_root[@]}" "$kr"
	echo "  UNINST  $dest; depmod $kr"
	exit 0
fi

[ -d "$moddir" ] || die "no $moddir: kernel $kr is not installed here;" \
	"name the kernel with KERNELRELEASE=KR"
need_write "$dest"
out=$build/host-modules/$kr
for m in rdma_rxe dmabuf_test_exporter; do
	[ -f "$out/$m.ko" ] || die "no $out/$m.ko: build the modules first," \
		"as yourself: make host-modules${release:+ KERNELRELEASE=$release}${kdir:+ KDIR=$kdir}"
	magic=$("$modinfo" -F vermagic "$out/$m.ko")
	[[ $magic == "$kr "* ]] || die "$out/$m.ko was built for '$magic', not for $kr"
done
rm -rf "$dest"
install -d "$dest"
install -m 644 "$out/rdma_rxe.ko" "$out/dmabuf_test_exporter.ko" "$dest/"
"$depmod" "${mod_root[@]}" "$kr"
echo "  INSTALL rdma_rxe.ko dmabuf_test_exporter.ko in $dest; depmod $kr"

# A depmod.d file can put another directory first: then modprobe would
# still load the distribution's rxe, silently.
for m in rdma_rxe dmabuf_test_exporter; do
	got=$("$modinfo" "${mod_root[@]}" -k "$kr" -n "$m" 2>/dev/null || true)
	[ "$got" = "$dest/$m.ko" ] ||
		die "depmod resolves $m to ${got:-nothing}, not $dest/$m.ko:" \
			"a file in /etc/depmod.d or /lib/depmod.d overrides the search order"
done

[ -z "$root" ] && [ "$kr" = "$(uname -r)" ] || exit 0
for m in rdma_rxe dmabuf_test_exporter; do
	[ ! -d "/sys/module/$m" ] ||
		echo "  NOTE    $m is loaded: the running one stays until" \
			"modprobe -r $m && modprobe $m"
done
# The modules are not signed: a kernel that enforces signatures (lockdown
# under Secure Boot, module.sig_enforce) refuses them.
if grep -qE '\[(integrity|confidentiality)\]' /sys/kernel/security/lockdown 2>/dev/null ||
   grep -qx Y /sys/module/module/parameters/sig_enforce 2>/dev/null; then
	echo "  NOTE    this kernel loads signed modules only, and these are not signed:" \
		"sign them (scripts/sign-file) with a key it trusts (a MOK), or modprobe fails"
fi
