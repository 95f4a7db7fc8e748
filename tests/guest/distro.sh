#!/bin/bash
# The distro guest is what it claims to be: Debian's own kernel package,
# running our out-of-tree rdma_rxe and test exporter in place of its own
# rxe, without CONFIG_DMABUF_MOVE_NOTIFY and with its dma-buf MRs still
# invalidated and refaulted; run after the other suites, it also checks
# that they left no taint but the one our unsigned out-of-tree modules
# bring.
SUITE=distro/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"

: "${RDG_DISTRO_RELEASE:?the distro suite runs in the distro guest only}"
ours=$RDG_DISTRO_DIR/modules
mods=/lib/modules/$RDG_DISTRO_RELEASE

if [ "$(uname -r)" = "$RDG_DISTRO_RELEASE" ] &&
   grep -qF "Debian $RDG_DISTRO_VERSION " /proc/version; then
	pass kernel-is-debian-package
else
	fail kernel-is-debian-package "$(cat /proc/version), expected $RDG_DISTRO_RELEASE, Debian $RDG_DISTRO_VERSION"
fi

# note_id NOTE: the GNU build ID in a loaded module's
# /sys/module/M/notes/.note.gnu.build-id (the note itself: the ID is its
# last 20 bytes); elf_id FILE: the one in an ELF file.
note_id() { od -An -tx1 -v "$1" | tr -d ' \n' | tail -c 40; }
elf_id() { readelf -n "$1" | awk '/Build ID:/ { print $3 }'; }

# modprobe picked ours over the stock module beside it (depmod puts
# updates/ first), and what runs is the very file we built.
for m in rdma_rxe dmabuf_test_exporter; do
	modprobe "$m"
	file=$(modinfo -F filename "$m" 2>&1)
	loaded=$(note_id "/sys/module/$m/notes/.note.gnu.build-id" 2>/dev/null)
	built=$(elf_id "$ours/$m.ko")
	if [ "$file" != "$mods/updates/rxe-dmabuf/$m.ko" ]; then
		fail "$m-is-ours" "modprobe resolves $m to $file"
	elif [ -z "$built" ] || [ "$loaded" != "$built" ]; then
		fail "$m-is-ours" "loaded build ID '$loaded', ours '$built'"
	else
		pass "$m-is-ours"
	fi
done
if find "$mods/kernel" -name 'rdma_rxe.ko*' | grep -q .; then
	pass stock-rxe-present
else
	fail stock-rxe-present "no stock rdma_rxe under $mods/kernel: the choice above proved nothing"
fi

# Debian builds without CONFIG_DMABUF_MOVE_NOTIFY; the dmabuf suite's moves
# and evictions before this one still invalidated and refaulted MRs, so
# rxe's imports stay dynamic without it (and pin nothing: the exporter's
# pin counts are checked there).
config=$RDG_DISTRO_DIR/pkg/boot/config-$RDG_DISTRO_RELEASE
counters=/sys/class/infiniband/rxe0/ports/1/hw_counters
inval=$(cat "$counters/dmabuf_invalidations" 2>/dev/null)
refault=$(cat "$counters/dmabuf_refaults" 2>/dev/null)
if ! grep -qx '# CONFIG_DMABUF_MOVE_NOTIFY is not set' "$config"; then
	fail dynamic-without-move-notify "$config does not leave CONFIG_DMABUF_MOVE_NOTIFY unset"
elif [ "${inval:-0}" -gt 0 ] && [ "${refault:-0}" -gt 0 ]; then
	pass dynamic-without-move-notify
else
	fail dynamic-without-move-notify "rxe0 counted ${inval:-no} invalidations and ${refault:-no} refaults of dma-buf MRs (run after the dmabuf suite)"
fi

# Taint flags: O (4096) an out-of-tree module, E (8192) an unsigned one;
# any other (W, a warning, say) is a problem the suites caused.
tainted=$(cat /proc/sys/kernel/tainted)
if [ $((tainted & ~(4096 | 8192))) = 0 ]; then
	pass taint-only-unsigned-out-of-tree
else
	fail taint-only-unsigned-out-of-tree "/proc/sys/kernel/tainted is $tainted"
fi
