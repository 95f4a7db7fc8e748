#!/bin/bash
# Bad input to the harness: every case must fail with a clear message and a
# non-zero exit, and leave the project's real build tree untouched (each
# case runs against a scratch BUILD directory).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
SUITE=harness
. "$top/tests/lib/result.sh"

scratch=$(mktemp -d "$build/scratch.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mk() { make -C "$top" --no-print-directory "$@"; }

# --- make variables and guest runner options
expect_status backend-unknown 2 'BACKEND=foo is not valid; use one of: uml qemu' \
	mk kernel BACKEND=foo
expect_status flavor-unknown 2 'FLAVOR=fast is not valid; use one of: debug bench distro' \
	mk kernel FLAVOR=fast
expect_status base-unknown 2 'BASE=bogus is not valid; use one of: 6.12 7.3' \
	mk kernel BASE=bogus
expect_status run-guest-base-unknown 2 "base must be 6.12 or 7.3, not 'bogus'" \
	"$top/kernel/run-guest.sh" --base bogus -- true
expect_status stress-seconds-bad 2 "STRESS_SECONDS must be a number of seconds.*'5m'" \
	env STRESS_SECONDS=5m make -C "$top" --no-print-directory stress
expect_status stress-backend-unknown 2 "unknown backend 'kvm' in STRESS_BACKENDS" \
	env STRESS_BACKENDS=kvm make -C "$top" --no-print-directory stress
expect_status stress-twonode-bad 2 "STRESS_TWONODE must be 0 or 1, not 'yes'" \
	env STRESS_TWONODE=yes make -C "$top" --no-print-directory stress
# make bench's knobs are checked before anything is built or booted.
expect_status bench-configs-without-pinned 2 'BENCH_CONFIGS must include pinned' \
	env BENCH_CONFIGS=odp bash "$top/tests/bench/run.sh"
expect_status bench-base-configs-unknown 2 "BENCH_BASE_CONFIGS: unknown configuration 'vram'" \
	env BENCH_BASE_CONFIGS="pinned vram" bash "$top/tests/bench/run.sh"
expect_status bench-refault-sizes-bad 2 "BENCH_REFAULT_SIZES: '1T' is not a size" \
	env BENCH_REFAULT_SIZES="1M 1T" bash "$top/tests/bench/run.sh"
expect_status bench-clients-unknown 2 "BENCH_CLIENTS: unknown client 'gasnet'" \
	env BENCH_CLIENTS="ucx gasnet" bash "$top/tests/bench/run.sh"
expect_status bench-kernel-unknown 2 "BENCH_KERNEL must be bench or distro, not 'debug'" \
	env BENCH_KERNEL=debug bash "$top/tests/bench/run.sh"
expect_status bench-distro-uml 2 "BENCH_KERNEL=distro is Debian's x86_64 kernel: it needs BACKEND=qemu" \
	env BENCH_KERNEL=distro bash "$top/tests/bench/run.sh"
expect_status bench-distro-base 2 "BENCH_BASE compares two revisions' bench kernels" \
	env BACKEND=qemu BENCH_KERNEL=distro BENCH_BASE=HEAD bash "$top/tests/bench/run.sh"
expect_status bench-base-not-a-commit 2 "BENCH_BASE: 'no-such-rev' is not a commit" \
	bash "$top/tests/bench/base-kernel.sh" no-such-rev um
expect_status bench-odp-qps-smp-one 2 'BENCH_SMP must be at least 2' \
	env BENCH_SMP=1 bash "$top/tests/bench/odp-qps.sh"
expect_status bench-odp-qps-qps-bad 2 "BENCH_QPS: '0' is not a number of QPs" \
	env BENCH_QPS="1 0" bash "$top/tests/bench/odp-qps.sh"
expect_status bench-odp-qps-boots-bad 2 "BENCH_BOOTS must be a positive whole number, not 'two'" \
	env BENCH_BOOTS=two bash "$top/tests/bench/odp-qps.sh"
expect_status twonode-no-dir 2 'usage: .*twonode.sh RESULTS_DIR' \
	bash "$top/tests/twonode.sh"
expect_status twonode-seconds-bad 2 "STRESS_SECONDS='4s' must be a whole number" \
	env STRESS_SECONDS=4s bash "$top/tests/twonode.sh" "$scratch/twonode"
expect_status test-backend-unknown 2 "unknown backend 'kvm' in TEST_BACKENDS" \
	env TEST_BACKENDS=kvm "$top/tests/run"
expect_status run-guest-timeout-nan 2 'timeout must be a positive number' \
	"$top/kernel/run-guest.sh" --timeout soon -- true
expect_status flavor-distro-uml 2 "FLAVOR=distro is Debian's x86_64 kernel: use BACKEND=qemu" \
	mk kernel FLAVOR=distro
expect_status run-guest-distro-uml 2 'flavor distro boots Debian.*needs --backend qemu' \
	"$top/kernel/run-guest.sh" --flavor distro -- true
expect_status run-guest-no-command 2 'no command given' "$top/kernel/run-guest.sh"
expect_status run-guest-bad-option 2 'unknown option --frobnicate' \
	"$top/kernel/run-guest.sh" --frobnicate -- true

# --- kernel source: missing or corrupt tarball, unapplicable patch
expect_status kernel-tarball-missing nonzero "/nonexistent/linux.tar.xz not found" \
	env BUILD="$scratch/k1" LINUX_TARBALL=/nonexistent/linux.tar.xz \
	"$top/kernel/prepare-source.sh"
head -c 4096 /dev/urandom > "$scratch/corrupt.tar.xz"
expect_status kernel-tarball-corrupt nonzero "cannot extract $scratch/corrupt.tar.xz" \
	env BUILD="$scratch/k2" LINUX_TARBALL="$scratch/corrupt.tar.xz" \
	"$top/kernel/prepare-source.sh"
if [ -d "$build/linux-pristine" ]; then
	mkdir -p "$scratch/k3" "$scratch/kpatches"
	ln -s "$build/linux-pristine" "$scratch/k3/linux-pristine"
	cat > "$scratch/kpatches/0001-does-not-apply.patch" <<'PATCH'
--- a/drivers/infiniband/sw/rxe/rxe.c
+++ b/drivers/infiniband/sw/rxe/rxe.c
@@ -1,3 +1,3 @@
-this line is not in rxe.c
+so this patch cannot apply
 at all
 anywhere
PATCH
	echo 0001-does-not-apply.patch > "$scratch/kpatches/series"
	expect_status kernel-patch-unapplicable nonzero \
		'patch 0001-does-not-apply.patch does not apply to linux-source-6.12 [^ ]+ \(kernel 6\.12\.' \
		env BUILD="$scratch/k3" KERNEL_PATCHES="$scratch/kpatches" \
		"$top/kernel/prepare-source.sh"
	if [ -e "$scratch/k3/linux-src" ]; then
		fail kernel-patch-unapplicable-no-tree "a build tree was created anyway"
	else
		pass kernel-patch-unapplicable-no-tree
	fi
else
	skip kernel-patch-unapplicable "no extracted kernel source yet"
fi

# --- Debian's stock kernel for the distro guest: a pin the archive does
# not have, a download whose sha256 is not the pinned one
expect_status distro-version-missing 1 \
	"^distro-fetch: cannot download linux-image-6\.12\.118\+deb12-amd64=0\.0-0 from Debian's debian-security bookworm-security \(the archive may have moved on" \
	env BUILD="$scratch/d1" DISTRO_KERNEL_VERSION=0.0-0 \
	DISTRO_KERNEL_RELEASE=6.12.118+deb12-amd64 "$top/kernel/distro/fetch.sh"
image=$(compgen -G "$build/dl/distro/linux-image-*.deb" | head -n 1)
if [ -n "$image" ]; then
	mkdir -p "$scratch/d2/dl/distro"
	ln "$image" "$scratch/d2/dl/distro/" 2>/dev/null || cp "$image" "$scratch/d2/dl/distro/"
	expect_status distro-sha256-mismatch 1 \
		"^distro-fetch: $(basename "$image" | sed 's/[.+]/\\&/g') has sha256 [0-9a-f]{64}, upstream.versions pins 0{64}; refusing it" \
		env BUILD="$scratch/d2" DISTRO_IMAGE_SHA256="$(printf '0%.0s' {1..64})" \
		"$top/kernel/distro/fetch.sh"
	[ -d "$scratch/d2/distro" ] && fail distro-sha256-mismatch-extracted \
		"a refused package was extracted into $scratch/d2/distro"
else
	skip distro-sha256-mismatch "no downloaded linux-image package in $build/dl/distro yet"
fi

# --- user-space tarballs: corrupt cached file, unknown version, bad patch
. "$top/upstream.versions"
mkdir -p "$scratch/u1/dl"
echo "not a tarball" > "$scratch/u1/dl/rdma-core_${RDMA_CORE_VERSION}.orig.tar.gz"
expect_status tarball-corrupt nonzero \
	"rdma-core_${RDMA_CORE_VERSION}.orig.tar.gz is corrupt: sha256 [0-9a-f]{64}, expected $RDMA_CORE_SHA256" \
	mk rdma-core BUILD="$scratch/u1"
if grep -q "not a tarball" "$scratch/u1/dl/rdma-core_${RDMA_CORE_VERSION}.orig.tar.gz"; then
	pass tarball-corrupt-kept
else
	fail tarball-corrupt-kept "the corrupt file was replaced or removed"
fi
expect_status tarball-missing nonzero \
	'could not download rdma-core_0.0.orig.tar.gz from Debian trixie' \
	env APT_STATE_DIR="$build/dl/apt-trixie" \
	make -C "$top" --no-print-directory rdma-core BUILD="$scratch/u2" RDMA_CORE_VERSION=0.0
tarball=$build/dl/rdma-core_${RDMA_CORE_VERSION}.orig.tar.gz
if [ -f "$tarball" ]; then
	mkdir -p "$scratch/u3/dl" "$scratch/upatches"
	cp "$tarball" "$scratch/u3/dl/"
	cat > "$scratch/upatches/0001-does-not-apply.patch" <<'PATCH'
--- a/README.md
+++ b/README.md
@@ -1,2 +1,2 @@
-this line is not in the README
+so this patch cannot apply
 at all
PATCH
	expect_status userspace-patch-unapplicable nonzero \
		"patch 0001-does-not-apply.patch does not apply to rdma-core $RDMA_CORE_VERSION" \
		mk rdma-core BUILD="$scratch/u3" RDMA_CORE_PATCHES="$scratch/upatches"
else
	skip userspace-patch-unapplicable "rdma-core tarball not fetched yet"
fi

# --- a guest that hangs is killed at its timeout, with a clear message
if [ -x "$build/kernel/um-debug/linux" ]; then
	expect_status guest-hang 124 'guest timed out after 10 s and was killed' \
		"$top/kernel/run-guest.sh" --no-rxe --quiet --timeout 10 -- sleep 1000
	# The runner passes the command's status through; make can only say
	# that it failed (make exits 2 when a recipe fails), so it prints it.
	expect_status guest-exit-status 3 'guest command exited with status 3' \
		"$top/kernel/run-guest.sh" --quiet --timeout 120 -- bash -c 'exit 3'
	# make shell CMD=... prints the command's output and fails when the
	# command fails, and the guest's shell gets CMD as written, quotes
	# and $ included: one guest boot shows all three.
	shell_cmd='v="a b"; echo "quoted: $v '\''single'\''"; cat /proc/version; exit 3'
	expect_status guest-shell-exit-status 2 'guest command exited with status 3' \
		mk shell CMD="$shell_cmd" TIMEOUT=120
	case_log guest-shell-exit-status
	if grep -Eq '^Linux version 6\.12\.[0-9]+' "$case_log"; then
		pass guest-shell-output
	else
		fail guest-shell-output "make shell CMD='cat /proc/version' printed no kernel version"
	fi
	if grep -qx "quoted: a b 'single'" "$case_log"; then
		pass guest-shell-quoting
	else
		fail guest-shell-quoting "make shell CMD='$shell_cmd' did not print: quoted: a b 'single'"
	fi
else
	skip guest-hang "no UML kernel built"
fi
