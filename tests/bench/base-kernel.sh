#!/bin/bash
# Build a kernel of another revision's rxe series, for make bench's
# before/after comparison (BENCH_BASE=REV) or to run a test against the old
# driver, and print the build directory whose kernel/ holds it (boot it with
# BUILD=that kernel/run-guest.sh ...). Only what makes the kernel differ is taken from
# REV: kernel/patches and the drivers/ overlay. Everything else (the build
# scripts, the configuration, the harness patches this machine needs to
# boot UML, the test exporter the benchmark drives) is this checkout's, so
# the two kernels differ in rxe alone.
#
# usage: base-kernel.sh REV ARCH [FLAVOR]     (FLAVOR: bench, the default, or debug)
#
# The copy lives in build/bench-base/REV/ with the same layout as the
# checkout (top/ with top/build/ below it), so ccache, which hashes paths
# relative to the top, serves every file rxe's change did not touch.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
rev=$1 arch=$2 flavor=${3:-bench}

die() { echo "bench: BENCH_BASE: $*" >&2; exit 2; }

commit=$(git -C "$top" rev-parse --verify --quiet "$rev^{commit}") ||
	die "'$rev' is not a commit of this repository"
git -C "$top" cat-file -e "$commit:kernel/patches/series" 2>/dev/null ||
	die "$rev has no kernel/patches/series"
short=$(git -C "$top" rev-parse --short "$commit")
base=$build/bench-base/$short
btop=$base/top
bbuild=$btop/build

mkdir -p "$bbuild"
# One build of this copy at a time: each refreshes the files the other reads.
exec 7>"$base/.lock"
flock 7
rm -rf "$btop/kernel" "$btop/drivers" "$btop/scripts"
cp -a "$top/kernel" "$top/scripts" "$btop/"
rm -rf "$btop/kernel/patches"
git -C "$top" archive "$commit" kernel/patches drivers | tar -x -C "$btop"

# The extracted source, hard-linked: prepare-source.sh copies it into its
# own linux-src and only ever reads it (a symlink would make linux-src a
# link to the checkout's pristine tree, patched in place).
if [ ! -d "$bbuild/linux-pristine" ]; then
	rm -rf "$bbuild/linux-pristine.tmp"
	cp -al "$build/linux-pristine" "$bbuild/linux-pristine.tmp"
	mv "$bbuild/linux-pristine.tmp" "$bbuild/linux-pristine"
fi
# What the guest runs is the checkout's.
for d in rdma-core perftest tests; do
	ln -sfn "$build/$d" "$bbuild/$d"
done

echo "  BASE    $short: kernel/patches and drivers/ of $rev" >&2
BUILD=$bbuild "$btop/kernel/build.sh" "$arch" "$flavor" >&2 ||
	die "the $flavor kernel of $rev does not build"
echo "$bbuild"
