# The kernel bases guest kernels are built from, sourced by
# kernel/prepare-source.sh, kernel/build.sh, kernel/configure.sh and
# kernel/run-guest.sh with $top and $build set. BASE (default 6.12) picks:
#
#   6.12  Debian's linux-source-6.12 + kernel/patches + the drivers/
#         overlay + kernel/harness-patches: build/linux-src, guest kernels
#         in build/kernel/ARCH-FLAVOR
#   7.3   Debian's linux-source-7.3 (kernel/7.3/prepare.sh) +
#         kernel/7.3/patches, which carry their own whole files, so no
#         overlay; no harness patch, as 7.3's UML sizes the FP state from
#         what the host reports: build/linux-src-7.3, guest kernels in
#         build/kernel/ARCH-FLAVOR-7.3
#
# base_config_absent names options the fragments in kernel/config ask for
# that the base does not have (kernel/configure.sh leaves them out).
# shellcheck shell=bash
# The variables are set for the scripts that source this file; $top and
# $build are theirs.
# shellcheck disable=SC2034,SC2154

base=${BASE:-6.12}
case "$base" in
6.12)
	base_suffix=
	base_pristine=$build/linux-pristine
	base_patches=${KERNEL_PATCHES:-$top/kernel/patches}
	base_harness_patches=$top/kernel/harness-patches
	base_overlay_roots=(drivers)
	base_config_absent= ;;
7.3)
	base_suffix=-7.3
	base_pristine=$build/linux-7.3-pristine
	base_patches=$top/kernel/7.3/patches
	base_harness_patches=
	base_overlay_roots=()
	base_config_absent=$top/kernel/7.3/config.absent ;;
*)
	echo "$(basename "$0"): BASE=$base is not valid; use one of: 6.12 7.3" >&2
	exit 2 ;;
esac
base_src=$build/linux-src$base_suffix
