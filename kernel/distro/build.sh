#!/bin/bash
# Everything the distro guest boots (kernel/run-guest.sh --flavor distro):
# Debian's stock kernel as pinned in upstream.versions, our modules built
# out of tree against its headers exactly as make host-modules builds them
# for a user's own kernel, and the guest's initramfs and module tree.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
# shellcheck source=../../upstream.versions
. "$top/upstream.versions"
out=$build/distro/$DISTRO_KERNEL_RELEASE

"$top/kernel/distro/fetch.sh"
"$top/scripts/host-modules.sh" --release "$DISTRO_KERNEL_RELEASE" \
	--kdir "$out/pkg/usr/src/linux-headers-$DISTRO_KERNEL_RELEASE" \
	--out "$out/modules"
"$top/kernel/distro/make-guest.sh" "$out/modules"
