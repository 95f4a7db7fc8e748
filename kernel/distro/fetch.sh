#!/bin/bash
# Fetch Debian's stock kernel pinned in upstream.versions (the signed image
# package as users install it, its headers and kbuild), verify each .deb
# against its pinned sha256 and extract them into
#
#   build/distro/<release>/pkg   boot/vmlinuz-<release>, lib/modules/<release>
#                                (depmod run), usr/src/linux-headers-<release>
#
# without installing anything on the host: the image would change the
# host's boot and the headers package depends on the image.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
# shellcheck source=../../upstream.versions
. "$top/upstream.versions"
# shellcheck source=../../scripts/private-apt.sh
. "$top/scripts/private-apt.sh"

die() { echo "distro-fetch: $*" >&2; exit 1; }
depmod=$(command -v depmod || echo /sbin/depmod)

version=$DISTRO_KERNEL_VERSION release=$DISTRO_KERNEL_RELEASE
abi=${release%-*}
out=$build/distro/$release
pkg=$out/pkg
dl=$build/dl/distro
# PACKAGE SHA256, in the order they are extracted.
pins=(
	"linux-image-$release $DISTRO_IMAGE_SHA256"
	"linux-headers-$release $DISTRO_HEADERS_SHA256"
	"linux-headers-$abi-common $DISTRO_HEADERS_COMMON_SHA256"
	"linux-kbuild-$abi $DISTRO_KBUILD_SHA256"
)
# The extracted headers name their own absolute path (below): a moved build
# directory must extract again.
stamp="$version ${pins[*]} $pkg"
[ "$(cat "$pkg/.stamp" 2>/dev/null)" = "$stamp" ] && exit 0

private_apt distro-fetch "$build/dl/apt-${DISTRO_KERNEL_SUITE// /-}" \
	"deb http://deb.debian.org/$DISTRO_KERNEL_SUITE main" || exit 1

debs=()
for pin in "${pins[@]}"; do
	read -r name sha256 <<< "$pin"
	private_apt_download distro-fetch "$dl" "$name" "$version" "$sha256" \
		"$DISTRO_KERNEL_SUITE" || exit 1
	debs+=("$deb_file")
done

echo "  EXTRACT linux-image-$release $version"
rm -rf "$pkg" "$pkg.tmp"
mkdir -p "$pkg.tmp"
for deb in "${debs[@]}"; do
	dpkg-deb -x "$deb" "$pkg.tmp" || die "cannot extract $deb"
done
# The headers' Makefile includes the common headers by their installed,
# absolute path; here they are below pkg.
headers=usr/src/linux-headers-$release
escaped=$(sed 's/[&|\\]/\\&/g' <<< "$pkg")
sed -i "s|^include /usr/src/|include $escaped/usr/src/|" "$pkg.tmp/$headers/Makefile"
[ -f "$pkg.tmp/boot/vmlinuz-$release" ] || die "linux-image-$release has no boot/vmlinuz-$release"
mv "$pkg.tmp" "$pkg"
"$depmod" -C /dev/null -b "$pkg" "$release" || die "depmod of $pkg failed"
echo "$stamp" > "$pkg/.stamp"
