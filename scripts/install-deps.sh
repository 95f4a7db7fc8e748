#!/bin/bash
# Install, with apt-get, every Debian package the project needs to build
# kernels, user space and boot guests. A no-op when all are present.
set -euo pipefail

packages=(
	# kernel
	build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils
	ccache patch linux-source-6.12 python3
	# guests; the distro guest's initramfs (kernel/distro) runs busybox
	qemu-system-x86 iproute2 iputils-ping kmod procps util-linux busybox-static
	# modules built for Debian's kernels carry BTF, which pahole makes
	dwarves
	# rdma-core, perftest
	cmake ninja-build pkg-config cython3 python3-dev libnl-3-dev
	libnl-route-3-dev libudev-dev libpci-dev autoconf automake libtool
	# series export
	git
	# clients suite (tests/guest/clients.sh): transports run unmodified;
	# libopenmpi-dev builds its MPI program (tests/clients)
	ucx-utils openmpi-bin libopenmpi-dev netpipe-openmpi
	# benchmark report plots
	python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (make deps)" >&2
	exit 1
fi
echo "  APT     ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update >/dev/null || { echo "install-deps: apt-get update failed" >&2; exit 1; }
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
	{ echo "install-deps: apt-get install ${missing[*]} failed" >&2; exit 1; }
