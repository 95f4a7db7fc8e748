#!/bin/bash
# Fetch an upstream orig tarball from Debian's trixie source archive with a
# private apt configuration, so the host's own sources.list stays untouched,
# and verify it against the checksum pinned in this repository.
#
# usage: fetch-upstream.sh NAME VERSION SHA256 DESTDIR [DEBIAN_REVISION [SUFFIX]]
#
# DEBIAN_REVISION (default 1) names the source package that carries the
# tarball (NAME=VERSION-DEBIAN_REVISION), SUFFIX (default tar.gz) the
# tarball's compression: libfabric's is 2.1.0-1.1, tar.xz.
set -euo pipefail

name=$1 version=$2 sha256=$3 dest=$4 revision=${5:-1} suffix=${6:-tar.gz}
tarball="${name}_${version}.orig.$suffix"
mkdir -p "$dest"
out="$dest/$tarball"

verify() {
	echo "$sha256  $1" | sha256sum --check --status
}

if [ -f "$out" ]; then
	if verify "$out"; then
		exit 0
	fi
	# Never silently replace a file someone may want to inspect.
	echo "fetch-upstream: $out is corrupt: sha256 $(sha256sum "$out" |
		cut -d' ' -f1), expected $sha256; delete it to fetch it again" >&2
	exit 1
fi

# shellcheck source=private-apt.sh
. "$(dirname "$0")/private-apt.sh"
private_apt fetch-upstream "${APT_STATE_DIR:-$(readlink -f "$dest")/apt-trixie}" \
	"deb-src http://deb.debian.org/debian trixie main" || exit 1

tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt-get source fetches the orig tarball first and may then fail on a
# missing .dsc; only the tarball matters, so judge by its presence.
(cd "$tmp" && apt-get "${apt_opts[@]}" source --download-only \
	"$name=$version-$revision" >fetch.log 2>&1) || true
if [ ! -f "$tmp/$tarball" ]; then
	echo "fetch-upstream: could not download $tarball from Debian trixie" \
	     "(log: kept below)" >&2
	cat "$tmp/fetch.log" >&2
	exit 1
fi
if ! verify "$tmp/$tarball"; then
	echo "fetch-upstream: $tarball has sha256 $(sha256sum "$tmp/$tarball" |
		cut -d' ' -f1), expected $sha256; refusing to use it" >&2
	exit 1
fi
mv "$tmp/$tarball" "$out"
