#!/bin/bash
# Print the QEMU accelerator to use: kvm if it really runs a guest here,
# tcg otherwise. /dev/kvm can exist and still fail on the first BMI2
# instruction, so the test is a boot, not a file check; its answer is cached.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
cache=$build/accel
if [ -n "${RDG_ACCEL:-}" ]; then echo "$RDG_ACCEL"; exit 0; fi
if [ -f "$cache" ]; then cat "$cache"; exit 0; fi

accel=tcg
image=$build/kernel/x86_64-debug/arch/x86/boot/bzImage
if [ -w /dev/kvm ] && [ -f "$image" ]; then
	if timeout 40 qemu-system-x86_64 -accel kvm -m 256M -nographic \
		-no-reboot -nodefaults -serial stdio -kernel "$image" \
		-append "console=ttyS0 panic=-1 init=/nonexistent" 2>&1 |
		grep -q 'Kernel panic'; then
		accel=kvm
	fi
fi
mkdir -p "$build"
echo "$accel" > "$cache"
echo "$accel"
