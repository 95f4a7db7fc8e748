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
stamp="$version ${pins[*]}"
[ "$(cat "$pkg/.stamp" 2>/dev/null)" = "$stamp" ] && exit 0

private_apt "$build/dl/apt-${DISTRO_KERNEL_SUITE##* }" \
	"deb http://deb.debian.org/$DISTRO_KERNEL_SUITE main" || exit 1

mkdir -p "$dl"
debs=()
for pin in "${pins[@]}"; do
	read -r name sha256 <<< "$pin"
	deb=$(printf '%s_%s_*.deb' "$name" "${version//:/%3a}")
	# shellcheck disable=SC2086 # the glob picks the architecture
	file=$(compgen -G "$dl/$deb" | head -n 1 || true)
	if [ -z "$file" ]; then
		echo "  APT     $name $version"
		if ! (cd "$dl" && apt-get "${apt_opts[@]}" download \
		      "$name=$version" > "$dl/$name.log" 2>&1); then
			die "cannot download $name=$version from Debian's" \
			    "$DISTRO_KERNEL_SUITE (the archive may have moved on:" \
			    "pick a version it has, with its sha256, in" \
			    "upstream.versions; log: $dl/$name.log)"
		fi
		file=$(compgen -G "$dl/$deb" | head -n 1 || true)
		[ -n "$file" ] || die "apt-get download $name=$version left no $deb in $dl"
	fi
	if ! echo "$sha256  $file" | sha256sum --check --status; then
		die "$(basename "$file") has sha256 $(sha256sum "$file" | cut -d' ' -f1)," \
		    "upstream.versions pins $sha256; refusing it (delete the file to fetch it again)"
	fi
	debs+=("$file")
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
sed -i "s|^include /usr/src/|include $pkg/usr/src/|" "$pkg.tmp/$headers/Makefile"
[ -f "$pkg.tmp/boot/vmlinuz-$release" ] || die "linux-image-$release has no boot/vmlinuz-$release"
mv "$pkg.tmp" "$pkg"
depmod -b "$pkg" "$release" || die "depmod of $pkg failed"
echo "$stamp" > "$pkg/.stamp"
