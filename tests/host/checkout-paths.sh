#!/bin/bash
# A checkout works wherever it is: clones of this repository under /tmp and
# under $HOME (for root, /root: the guest covers both with a private
# tmpfs), each with a build directory beside it, boot a UML guest whose job
# reads the clone and the build, has the modules, rxe0 up, and writes to
# its private /tmp, /root, /var/tmp and /run, which the host does not see.
# A checkout or BUILD at a path with a space is refused before anything is
# built (kbuild cannot build there). What goes wrong in a guest before its
# job starts (the modules not visible, rdma_rxe not loadable) fails with
# one line naming the cause.
#
# A clone runs what make shell runs, kernel/run-guest.sh, rather than make
# shell itself: make shell's prerequisites would build the kernel and user
# space afresh in the clone's empty build directory (many minutes), and a
# build directory sharing the real build's files could be written through
# by them. The clone's build directory holds what a guest uses of the real
# build, hard-linked (copied across file systems) and only read: the
# kernel, its .config and modules, rdma-core's programs and libraries. The
# clone gets this checkout's tracked files as they are now, uncommitted
# changes included: what is tested is this checkout, not its last commit.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
SUITE=checkout
. "$top/tests/lib/result.sh"

kout=$build/kernel/um-debug
if ! [ -x "$kout/linux" ] || ! [ -d "$kout/modroot/lib/modules" ]; then
	skip all "no UML debug kernel built"
	exit 0
fi
kver=$(cat "$kout/include/config/kernel.release")
dirs=()
trap 'rm -rf "${dirs[@]}"' EXIT

# clone_to DEST: a clone of this repository at DEST, its tracked files as in
# this checkout now.
clone_to() {
	git clone -q "$top" "$1" &&
	(cd "$top" && git ls-files -z |
		tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
		tar -C "$1" -xf -
}

# link SRC DEST: SRC's tree at DEST, hard-linked where the file system
# allows.
link() { cp -al "$1" "$2" 2>/dev/null || { rm -rf "$2"; cp -a "$1" "$2"; }; }

# mkbuild DEST: a build directory with what a UML debug guest uses.
mkbuild() {
	local b=$1
	mkdir -p "$b/kernel/um-debug/include/config" "$b/rdma-core/build" &&
	link "$kout/linux" "$b/kernel/um-debug/linux" &&
	cp "$kout/.config" "$b/kernel/um-debug/" &&
	cp "$kout/include/config/kernel.release" "$b/kernel/um-debug/include/config/" &&
	link "$kout/modroot" "$b/kernel/um-debug/modroot" &&
	for d in bin lib etc; do
		link "$build/rdma-core/build/$d" "$b/rdma-core/build/$d" || return
	done
}

# guest_in CLONE BUILD RESULTS COMMAND...: run COMMAND in a UML guest as
# make shell CMD=... would, from CLONE with BUILD.
guest_in() {
	local clone=$1 b=$2 r=$3
	shift 3
	(cd "$clone" && BUILD=$b exec "$clone/kernel/run-guest.sh" --backend uml \
		--flavor debug --timeout 300 --results "$r" -- "$@")
}

probe=rdg-checkout-probe-$$
# at LABEL PARENT: a clone and a build directory in a new directory under
# PARENT, and a guest job that checks that it sees both, as the host does.
at() {
	local label=$1 dir clone b job
	dir=$(mktemp -d "$2/rdg-checkout.XXXXXX") || {
		fail "$label-clone" "cannot make a directory under $2"; return; }
	dirs+=("$dir")
	clone=$dir/rxe-dmabuf b=$dir/build
	run_case "$label-clone" clone_to "$clone" || return
	run_case "$label-build-dir" mkbuild "$b" || return
	# The clone's rdma-core is the real build's, linked: its libibverbs
	# looks for providers in the real build's etc/libibverbs.d, which the
	# guest does not see when the real build is itself under /tmp or
	# /root (a clone of its own reads its own). Name the provider.
	printf -v job '%s\n' 'set -e' \
		"export RDMAV_DRIVERS=$(printf %q "$b/rdma-core/build/lib/librxe")" \
		"[ \"\$RDG_TOP\" = $(printf %q "$clone") ]" \
		"[ \"\$PWD\" = $(printf %q "$clone") ]" \
		"[ -f $(printf %q "$clone/kernel/guest/init") ]" \
		"[ -f $(printf %q "$b/kernel/um-debug/include/config/kernel.release") ]" \
		"[ \"\$(command -v ibv_devices)\" = $(printf %q "$b/rdma-core/build/bin/ibv_devices") ]" \
		'ibv_devices | grep -q rxe0' \
		'[ -d "/lib/modules/$(uname -r)/kernel" ]' \
		"for d in /tmp /root /var/tmp /run; do touch \"\$d/$probe\"; done" \
		'echo "checkout-paths: ok"'
	expect_status "$label-guest" 0 '^checkout-paths: ok' \
		guest_in "$clone" "$b" "$dir/results" bash -c "$job"
	local leaked=()
	for d in /tmp /root /var/tmp /run; do
		[ ! -e "$d/$probe" ] || { leaked+=("$d/$probe"); rm -f "$d/$probe"; }
	done
	if [ ${#leaked[@]} = 0 ]; then
		pass "$label-guest-private"
	else
		fail "$label-guest-private" "the guest's files reached the host: ${leaked[*]}"
	fi
	last=$dir
}

last=
at tmp /tmp
tmpdir=$last
if [ -n "${HOME:-}" ] && [ "$HOME" != / ] && [ -d "$HOME" ] && [ -w "$HOME" ]; then
	at home "$HOME"
else
	skip home-guest "HOME='${HOME:-}' is not a writable directory"
fi
[ -n "$tmpdir" ] || exit 0

# A path with a space: kbuild cannot build there ("source directory cannot
# contain spaces or colons"), so the scripts refuse it before building.
space="$tmpdir/with space/rxe-dmabuf"
refusal="contains a space, a colon or a comma: the kernel's build system \(kbuild\) cannot build there"
if run_case space-clone clone_to "$space"; then
	expect_status space-run-guest 2 "run-guest: the checkout '$space' $refusal" \
		"$space/kernel/run-guest.sh" --backend uml -- true
	# TEST_BACKENDS=none: were the path let through, tests/run would
	# stop at it, not run.
	expect_status space-tests-run 2 "tests/run: '$space' $refusal" \
		env TEST_BACKENDS=none "$space/tests/run"
	# Every make target, before it installs or builds anything.
	expect_status space-make 2 "is at a path with a space, a colon or a comma" \
		make -C "$space" shell CMD=true
fi
expect_status space-build-dir 2 "run-guest: BUILD '$tmpdir/with space/build' $refusal" \
	env BUILD="$tmpdir/with space/build" "$top/kernel/run-guest.sh" --backend uml -- true

# The modules are where the host looks but not in the guest: a modroot
# that is a symbolic link into the host's /dev/shm, which the guest does
# not see.
clone=$tmpdir/rxe-dmabuf
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/rdg-checkout.XXXXXX) && dirs+=("$shm") &&
	mkdir -p "$shm/lib/modules/$kver" "$tmpdir/build-hidden/kernel" &&
	link "$tmpdir/build/kernel/um-debug" "$tmpdir/build-hidden/kernel/um-debug" &&
	link "$tmpdir/build/rdma-core" "$tmpdir/build-hidden/rdma-core" &&
	rm -rf "$tmpdir/build-hidden/kernel/um-debug/modroot" &&
	ln -s "$shm" "$tmpdir/build-hidden/kernel/um-debug/modroot"
	expect_status guest-modules-hidden 1 \
		"run-guest: guest setup failed: module directory $tmpdir/build-hidden/kernel/um-debug/modroot/lib/modules is not visible in the guest" \
		guest_in "$clone" "$tmpdir/build-hidden" "$tmpdir/results-hidden" true
else
	skip guest-modules-hidden "the host has no writable /dev/shm"
fi

# rdma_rxe cannot be loaded: its module file is gone.
b=$tmpdir/build-norxe
mkdir -p "$b/kernel" &&
	link "$tmpdir/build/kernel/um-debug" "$b/kernel/um-debug" &&
	link "$tmpdir/build/rdma-core" "$b/rdma-core" &&
	find "$b/kernel/um-debug/modroot" -name 'rdma_rxe.ko*' -delete
expect_status guest-rxe-unloadable 1 \
	'run-guest: guest setup failed: modprobe rdma_rxe failed: .*rdma_rxe' \
	guest_in "$clone" "$b" "$tmpdir/results-norxe" true
