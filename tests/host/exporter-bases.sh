#!/bin/bash
# The test exporter (kernel/dmabuf-test-exporter) builds from one source
# against both kernel bases, through its compat header dte_compat.h: 6.12's
# (the UML debug kernel, as the guests build it) and 7.3's (kernel/7.3's
# check tree, whose Module.symvers is Debian's 7.3 kernel's, so modpost
# fails a symbol 7.3 does not export or a namespace not imported). W=1, and
# a compiler warning fails the build as an error would.
#
# DTE_SRC names another copy of the exporter's source to check.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
SUITE=exporter-bases
. "$top/tests/lib/result.sh"

src=${DTE_SRC:-$top/kernel/dmabuf-test-exporter}
work=$build/exporter-bases
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.ccache}
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"

# kbuild_exporter NAME SRC KTREE KOUT ARCH [MAKE-ARGS...]: build a fresh copy
# of SRC (kbuild judges by timestamps, and M= writes into the source)
# against KTREE's build KOUT in $work/NAME; fails on a warning too.
kbuild_exporter() {
	local name=$1 from=$2 ktree=$3 kout=$4 arch=$5 log
	shift 5
	rm -rf "${work:?}/$name"
	mkdir -p "$work/$name"
	cp -rp "$from/." "$work/$name/"
	log=$work/$name.log
	make -s -C "$ktree" O="$kout" ARCH="$arch" M="$work/$name" W=1 \
		-j"$(nproc)" CC="$cc" "$@" >"$log" 2>&1
	local rc=$?
	cat "$log"
	if [ "$rc" != 0 ]; then
		# Last, where the case's report looks: the first error, not make's.
		echo "exporter-bases: $name: $(grep -m 1 -E 'error:|ERROR:' "$log")" >&2
		return "$rc"
	fi
	! grep -qi 'warning:' "$log" || {
		echo "exporter-bases: compiler or modpost warnings, see $log" >&2
		return 1
	}
}

# --- 7.3
k73=$build/kernel/x86_64-7.3-check
# A no-op once the tree is prepared (make test's series stage does it).
if run_case 7.3/prepare "$top/kernel/7.3/prepare.sh" tree; then
	run_case 7.3/builds kbuild_exporter 7.3 "$src" \
		"$build/linux-7.3-pristine" "$k73" x86_64 modules
	out=$work/7.3
	if [ -f "$out/dmabuf_test_exporter.ko" ]; then
		# The exports keep their namespace under 7.3's string spelling.
		n=$(grep -cP '^0x[0-9a-f]+\tdte_\w+\tdmabuf_test_exporter\tEXPORT_SYMBOL_GPL\tDMABUF_TEST_EXPORTER$' \
			"$out/Module.symvers")
		if [ "$n" = 9 ]; then
			pass 7.3/exports-in-namespace
		else
			fail 7.3/exports-in-namespace "$n of 9 exports in namespace DMABUF_TEST_EXPORTER: $out/Module.symvers"
		fi
	else
		skip 7.3/exports-in-namespace "the 7.3 build failed"
	fi
	# The KUnit suite, an importer, compiles against 7.3's headers; the
	# check tree has no KUnit (nor has Debian's 7.3 kernel), so neither
	# the module links nor modpost runs.
	run_case 7.3/kunit-suite-compiles kbuild_exporter 7.3-kunit "$src" \
		"$build/linux-7.3-pristine" "$k73" x86_64 \
		CONFIG_KUNIT=y KCFLAGS=-DCONFIG_KUNIT=1 dmabuf_test_exporter_test.o
	# The check must see namespaces: without its import of DMA_BUF the
	# exporter fails modpost.
	rm -rf "$work/no-import-src"
	mkdir -p "$work"
	cp -rp "$src" "$work/no-import-src"
	sed -i '/^MODULE_IMPORT_NS(DTE_NS_DMA_BUF);$/d' "$work/no-import-src/dte_chardev.c"
	expect_status 7.3/check-fails-without-import nonzero \
		"uses symbol '[a-z_]+' from namespace 'DMA_BUF', but does not import it" \
		kbuild_exporter 7.3-no-import "$work/no-import-src" \
		"$build/linux-7.3-pristine" "$k73" x86_64 modules
else
	for c in builds exports-in-namespace kunit-suite-compiles check-fails-without-import; do
		skip "7.3/$c" "kernel/7.3/prepare.sh tree failed"
	done
fi

# --- 6.12, against the UML debug kernel the guests load it into
kum=$build/kernel/um-debug
if [ -f "$kum/Module.symvers" ]; then
	run_case 6.12/builds kbuild_exporter 6.12 "$src" "$build/linux-src" \
		"$kum" um modules
else
	skip 6.12/builds "no $kum (make kernel BACKEND=uml FLAVOR=debug)"
fi
