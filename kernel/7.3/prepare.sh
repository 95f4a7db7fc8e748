#!/bin/bash
# The 7.3 base of the series: Debian's linux-source-7.3 pinned in
# upstream.versions, fetched through a private apt configuration and
# checked, extracted into build/linux-7.3-pristine (never modified), and an
# x86_64 tree configured with rxe and its dependencies and prepared for
# external modules in build/kernel/x86_64-7.3-check, with the exports of
# Debian's 7.3 kernel (its headers package's Module.symvers, pinned too),
# against which scripts/check-series.sh builds every prefix of the 7.3
# series: modpost then fails a symbol 7.3 does not export, or one used
# without importing its namespace.
#
# usage: prepare.sh source|tree   (tree: the source, then the check tree)
set -euo pipefail

what=${1:-}
case "$what" in source|tree) ;; *) echo "usage: prepare.sh source|tree" >&2; exit 2 ;; esac

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
# shellcheck source=../../upstream.versions
. "$top/upstream.versions"
# shellcheck source=../../scripts/private-apt.sh
. "$top/scripts/private-apt.sh"

die() { echo "mainline-prepare: $*" >&2; exit 1; }

version=$MAINLINE_SOURCE_VERSION
pristine=$build/linux-7.3-pristine
kout=$build/kernel/x86_64-7.3-check
mkdir -p "$build"
exec 9>"$build/.prepare-7.3.lock"
flock 9

stamp="linux-source-7.3 $version $MAINLINE_SOURCE_SHA256"
# The private apt configuration, only once something is to be fetched; a
# second call finds its lists fetched already.
apt_setup() {
	private_apt mainline-prepare "$build/dl/apt-${MAINLINE_SOURCE_SUITE// /-}" \
		"deb http://deb.debian.org/$MAINLINE_SOURCE_SUITE main" || exit 1
}
if [ "$(cat "$pristine/.source-stamp" 2>/dev/null)" != "$stamp" ]; then
	apt_setup
	private_apt_download mainline-prepare "$build/dl/mainline" linux-source-7.3 \
		"$version" "$MAINLINE_SOURCE_SHA256" "$MAINLINE_SOURCE_SUITE" || exit 1
	echo "  EXTRACT linux-source-7.3 $version"
	rm -rf "$pristine" "$pristine.tmp" "$kout"
	mkdir -p "$pristine.tmp"
	# The package holds the tarball; only the tarball is kept, unpacked.
	dpkg-deb --fsys-tarfile "$deb_file" |
		tar -xOf - ./usr/src/linux-source-7.3.tar.xz |
		tar -xJf - -C "$pristine.tmp" --strip-components=1 ||
		die "cannot extract linux-source-7.3.tar.xz from $deb_file"
	echo "$stamp" > "$pristine.tmp/.source-stamp"
	mv "$pristine.tmp" "$pristine"
fi

[ "$what" = tree ] || exit 0

# What rxe needs, on x86_64's defaults; the series' patches are built
# against this tree as an external module, not into a bootable kernel.
frag=$top/kernel/7.3/check.config
key="$stamp $MAINLINE_HEADERS_SHA256 $(sha256sum "$frag" "$0" | cut -d' ' -f1 | tr '\n' ' ')$(gcc --version | head -n 1)"
[ "$(cat "$kout/.prepared" 2>/dev/null)" = "$key" ] && exit 0
rm -rf "$kout"
mkdir -p "$kout"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.ccache}
kmake=(make -s -C "$pristine" O="$kout" ARCH=x86_64 -j"$(nproc)"
       CC="ccache gcc" HOSTCC="ccache gcc")
echo "  CONFIG  x86_64 7.3 check tree"
"${kmake[@]}" defconfig >/dev/null
"$pristine/scripts/kconfig/merge_config.sh" -m -O "$kout" "$kout/.config" "$frag" >/dev/null
"${kmake[@]}" olddefconfig >/dev/null
while IFS='=' read -r opt want; do
	case "$opt" in CONFIG_*) ;; *) continue ;; esac
	got=$(grep -E "^$opt=" "$kout/.config" | cut -d= -f2- || true)
	[ "$got" = "$want" ] ||
		die "$opt=$want in $frag did not survive olddefconfig (got '${got:-unset}'): Kconfig changed"
done < "$frag"
echo "  PREPARE x86_64 7.3 check tree (modules_prepare)"
"${kmake[@]}" modules_prepare >/dev/null
apt_setup
headers=linux-headers-$MAINLINE_HEADERS_RELEASE
private_apt_download mainline-prepare "$build/dl/mainline" "$headers" \
	"$version" "$MAINLINE_HEADERS_SHA256" "$MAINLINE_SOURCE_SUITE" || exit 1
dpkg-deb --fsys-tarfile "$deb_file" |
	tar -xOf - "./usr/src/$headers/Module.symvers" > "$kout/Module.symvers" ||
	die "no Module.symvers in $deb_file"
[ -s "$kout/Module.symvers" ] || die "$headers has an empty Module.symvers"
echo "$key" > "$kout/.prepared"
