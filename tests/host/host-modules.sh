#!/bin/bash
# make host-modules / host-install: a kernel tree that could not run the
# patched rxe is refused, with one line that says why, before anything is
# built. The trees are fakes (a .config, include/config/kernel.release and
# a Makefile stub), so the refusals need no kernel and take seconds.
#
# With HOST_MODULES_KDIR naming a real 6.12 headers tree, the modules are
# also built against it (about a minute), through make with KERNELRELEASE
# given as a user would, and installed into and removed from a scratch
# root: depmod must then resolve rdma_rxe to ours, ahead of kernel/'s.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
# With a real tree the refusals run again, under a name of their own.
SUITE=host-modules${HOST_MODULES_KDIR:+-kdir}
. "$top/tests/lib/result.sh"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/host-modules.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
hm=$top/scripts/host-modules.sh
hi=$top/scripts/host-install.sh
out=$scratch/out
modinfo=$(command -v modinfo || echo /sbin/modinfo)

gcc_text=$(gcc --version | head -n 1)
gcc_major=$(grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' <<< "$gcc_text" | tail -n 1 | cut -d. -f1)

# fake NAME RELEASE [SED-SCRIPT]: a configured tree whose .config meets
# every requirement, edited by SED-SCRIPT; its path in $fake.
fake() {
	fake=$scratch/$1
	mkdir -p "$fake/include/config"
	echo "$2" > "$fake/include/config/kernel.release"
	echo "# a stub: nothing may be built here" > "$fake/Makefile"
	cat > "$fake/.config" <<-EOF
	CONFIG_CC_VERSION_TEXT="$gcc_text"
	CONFIG_CC_IS_GCC=y
	CONFIG_MODULES=y
	CONFIG_INET=y
	CONFIG_PCI=y
	CONFIG_INFINIBAND=m
	CONFIG_INFINIBAND_USER_ACCESS=m
	CONFIG_INFINIBAND_USER_MEM=y
	CONFIG_INFINIBAND_ON_DEMAND_PAGING=y
	CONFIG_INFINIBAND_VIRT_DMA=y
	CONFIG_RDMA_RXE=m
	CONFIG_DMA_SHARED_BUFFER=y
	CONFIG_NET_UDP_TUNNEL=m
	CONFIG_CRYPTO_CRC32=m
	EOF
	[ $# -lt 3 ] || sed -i "$3" "$fake/.config"
}

# --- the interface
expect_status bad-option 1 '^host-modules: unknown option --frobnicate$' \
	"$hm" --frobnicate
expect_status kdir-missing 1 "^host-modules: KDIR $scratch/none does not exist" \
	"$hm" --kdir "$scratch/none" --out "$out"
mkdir -p "$scratch/empty"
expect_status kdir-not-configured 1 \
	"^host-modules: $scratch/empty is not a configured kernel build or headers tree \(no Makefile\)" \
	"$hm" --kdir "$scratch/empty" --out "$out"
fake good 6.12.118-fake
expect_status release-mismatch 1 \
	"^host-modules: KDIR $fake is kernel 6\.12\.118-fake, not 6\.12\.1-other" \
	"$hm" --kdir "$fake" --release 6.12.1-other --out "$out"

# --- kernels the series cannot serve
fake v61 6.1.0-28-amd64
expect_status kernel-6.1 1 \
	"^host-modules: KDIR $fake is kernel 6\.1\.0-28-amd64 \(6\.1\); the rxe series is for 6\.12" \
	"$hm" --kdir "$fake" --out "$out"
# Through make, as a user types it: make says the recipe failed (2).
expect_status kernel-6.1-make 2 'is kernel 6\.1\.0-28-amd64 \(6\.1\); the rxe series is for 6\.12' \
	make -C "$top" --no-print-directory host-modules KDIR="$fake" KERNELRELEASE=6.1.0-28-amd64
fake v612x 6.120.1
expect_status kernel-6.120 1 'is kernel 6\.120\.1 \(6\.120\); the rxe series is for 6\.12' \
	"$hm" --kdir "$fake" --out "$out"
fake no-odp 6.12.118-fake 's/^CONFIG_INFINIBAND_ON_DEMAND_PAGING=y/# CONFIG_INFINIBAND_ON_DEMAND_PAGING is not set/'
expect_status odp-missing 1 \
	'^host-modules: kernel 6\.12\.118-fake cannot host the patched rxe: CONFIG_INFINIBAND_ON_DEMAND_PAGING is not set, needs y$' \
	"$hm" --kdir "$fake" --out "$out"
fake rxe-y 6.12.118-fake 's/^CONFIG_RDMA_RXE=m/CONFIG_RDMA_RXE=y/'
expect_status rxe-builtin 1 \
	'^host-modules: kernel 6\.12\.118-fake has rxe built in \(CONFIG_RDMA_RXE=y\): a module cannot replace it' \
	"$hm" --kdir "$fake" --out "$out"
# Every unmet option is named at once.
fake several 6.12.118-fake '/^CONFIG_NET_UDP_TUNNEL=/d; s/^CONFIG_DMA_SHARED_BUFFER=y/CONFIG_DMA_SHARED_BUFFER=m/; s/^CONFIG_INFINIBAND_USER_MEM=y/CONFIG_INFINIBAND_USER_MEM=n/'
expect_status options-missing 1 \
	'cannot host the patched rxe: CONFIG_INFINIBAND_USER_MEM is n, needs y; CONFIG_DMA_SHARED_BUFFER is m, needs y; CONFIG_NET_UDP_TUNNEL is not set, needs m or y$' \
	"$hm" --kdir "$fake" --out "$out"
fake other-gcc 6.12.118-fake \
	"s/^CONFIG_CC_VERSION_TEXT=.*/CONFIG_CC_VERSION_TEXT=\"gcc (Debian $((gcc_major + 1)).1.0-1) $((gcc_major + 1)).1.0\"/"
expect_status compiler-mismatch 1 \
	"^host-modules: kernel 6\.12\.118-fake was built with gcc $((gcc_major + 1)) .*, but gcc here is $gcc_major .*bookworm-security is built with gcc-12" \
	"$hm" --kdir "$fake" --out "$out"

# --- trees kbuild could not build against
fake unprepared 6.12.118-fake
expect_status tree-unprepared 1 "^host-modules: $fake is not prepared for external modules" \
	"$hm" --kdir "$fake" --out "$out"
fake far-include 6.12.118-fake
mkdir -p "$fake/include/generated" "$fake/scripts/mod"
touch "$fake/include/config/auto.conf" "$fake/include/generated/autoconf.h" \
	"$fake/Module.symvers" "$fake/scripts/Makefile.build"
printf '#!/bin/sh\nexit 1\n' > "$fake/scripts/mod/modpost"
chmod +x "$fake/scripts/mod/modpost"
echo "include $scratch/gone/Makefile" > "$fake/Makefile"
expect_status makefile-include-missing 1 \
	"^host-modules: $fake/Makefile includes $scratch/gone/Makefile, which does not exist" \
	"$hm" --kdir "$fake" --out "$out"
if [ -e "$out" ]; then
	fail refusals-build-nothing "a refused build made $out"
else
	pass refusals-build-nothing
fi

# --- install and uninstall, refused or with nothing to do
expect_status install-kernel-absent 1 \
	"^host-install: no $scratch/root0/lib/modules/6\.12\.0-none: kernel 6\.12\.0-none is not installed here" \
	env INSTALL_MOD_PATH="$scratch/root0" "$hi" install --release 6.12.0-none
expect_status uninstall-nothing 0 "UNINST  nothing installed for 6\.12\.0-none" \
	env INSTALL_MOD_PATH="$scratch/root0" make -C "$top" --no-print-directory \
	host-uninstall KERNELRELEASE=6.12.0-none
# install never builds (a build as root would leave root's files in the
# user's build tree): without make host-modules first, it says so.
mkdir -p "$scratch/root1/lib/modules/6.12.0-none"
expect_status install-not-built 1 \
	"^host-install: no $scratch/nobuild/host-modules/6\.12\.0-none/rdma_rxe\.ko: build the modules first, as yourself: make host-modules KERNELRELEASE=6\.12\.0-none" \
	env BUILD="$scratch/nobuild" INSTALL_MOD_PATH="$scratch/root1" "$hi" install --release 6.12.0-none
expect_status install-bad-action 1 '^host-install: unknown action reinstall; say install or uninstall' \
	"$hi" reinstall

# --- a real headers tree
kdir=${HOST_MODULES_KDIR:-}
if [ -z "$kdir" ] || [ ! -d "$kdir" ]; then
	skip build "no 6.12 headers tree (set HOST_MODULES_KDIR to one)"
	exit 0
fi
kr=$(head -n 1 "$kdir/include/config/kernel.release")
hout=$build/host-modules/$kr
# Modules of an earlier build must not pass for this one's.
rm -f "$hout/rdma_rxe.ko" "$hout/dmabuf_test_exporter.ko"
run_case build make -C "$top" --no-print-directory host-modules KDIR="$kdir" KERNELRELEASE="$kr" ||
	exit 0
built=1
for ko in rdma_rxe dmabuf_test_exporter; do
	if [ ! -f "$hout/$ko.ko" ]; then
		fail "built-$ko" "no $hout/$ko.ko"
		built=0
		continue
	fi
	magic=$("$modinfo" -F vermagic "$hout/$ko.ko")
	if [[ $magic == "$kr "* ]]; then
		pass "built-$ko"
	else
		fail "built-$ko" "vermagic '$magic', expected $kr ..."
	fi
done

[ "$built" -eq 1 ] || exit 0

# A scratch root whose kernel/ has an rdma_rxe of its own, as a
# distribution's has: depmod must pick updates/rxe-dmabuf's.
root=$scratch/root
stock=$root/lib/modules/$kr/kernel/drivers/infiniband/sw/rxe/rdma_rxe.ko
mkdir -p "$(dirname "$stock")"
touch "$root/lib/modules/$kr/"{modules.order,modules.builtin,modules.builtin.modinfo}
cp "$hout/rdma_rxe.ko" "$stock"
run_case install env INSTALL_MOD_PATH="$root" "$hi" install --kdir "$kdir"
got=$("$modinfo" -b "$root" -k "$kr" -n rdma_rxe 2>&1)
if [ "$got" = "$root/lib/modules/$kr/updates/rxe-dmabuf/rdma_rxe.ko" ]; then
	pass install-wins
else
	fail install-wins "modprobe would load $got"
fi
run_case uninstall env INSTALL_MOD_PATH="$root" "$hi" uninstall --release "$kr"
got=$("$modinfo" -b "$root" -k "$kr" -n rdma_rxe 2>&1)
if [ ! -e "$root/lib/modules/$kr/updates/rxe-dmabuf" ] && [ "$got" = "$stock" ]; then
	pass uninstall-restores
else
	fail uninstall-restores "modprobe would load $got"
fi
