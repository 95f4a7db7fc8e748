#!/bin/bash
# Generate a kernel .config from the fragments in kernel/config and check
# that every option asked for made it: Kconfig silently drops a symbol whose
# dependencies are unmet, and a silently missing debug option would make
# the test kernel prove less than it claims.
#
# usage: [BASE=6.12|7.3] configure.sh ARCH FLAVOR SRC OUT
#   ARCH: um|x86_64  FLAVOR: debug|bench
set -euo pipefail

arch=$1 flavor=$2 src=$(readlink -f "$3") out=$4
mkdir -p "$out" && out=$(readlink -f "$out")
cfgdir=$(cd "$(dirname "$0")/config" && pwd)
frags=("$cfgdir/base.config" "$cfgdir/arch-$arch.config" "$cfgdir/$flavor.config")
for f in "${frags[@]}"; do
	[ -f "$f" ] || { echo "configure: no fragment $f (ARCH=um|x86_64, FLAVOR=debug|bench)" >&2; exit 2; }
done

top=$(cd "$cfgdir/../.." && pwd)
build=${BUILD:-$top/build}
# shellcheck source=base.sh
. "$top/kernel/base.sh"

mkdir -p "$out"
cat "${frags[@]}" > "$out/fragments.config"
# Options the base no longer has are left out, not silently dropped by
# Kconfig; each must really be absent from the base, or the list would
# hide a lost option.
if [ -n "$base_config_absent" ]; then
	absent=()
	while IFS= read -r line; do
		case "$line" in ''|'#'*) continue ;; esac
		sym=${line%%[[:space:]]*}
		if grep -rqE --include='Kconfig*' "^[[:space:]]*(menu)?config ${sym#CONFIG_}\b" "$src"; then
			echo "configure: $sym is in $base_config_absent, but linux-source-$base has it" >&2
			exit 1
		fi
		absent+=("$sym")
	done < "$base_config_absent"
	for sym in "${absent[@]}"; do
		grep -vE "^(# )?${sym}[= ]" "$out/fragments.config" > "$out/fragments.tmp" || true
		mv "$out/fragments.tmp" "$out/fragments.config"
	done
fi
kmake=(make -s -C "$src" O="$out" ARCH="$arch")
if [ "$arch" = um ]; then
	"${kmake[@]}" defconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
		"$out/fragments.config" >/dev/null
	"${kmake[@]}" olddefconfig >/dev/null
else
	# allnoconfig, not tinyconfig: tiny.config sets EXPERT, which turns
	# off futex, epoll and friends that user space in the guest needs.
	"${kmake[@]}" KCONFIG_ALLCONFIG="$out/fragments.config" allnoconfig >/dev/null
fi

bad=0
while IFS= read -r line; do
	case "$line" in
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym% is not set}
		if grep -q "^$sym=" "$out/.config"; then
			echo "configure: $sym is set but the fragments ask for it off" >&2
			bad=1
		fi ;;
	CONFIG_*=*)
		if ! grep -qxF "$line" "$out/.config"; then
			have=$(grep -E "^(# )?${line%%=*}[= ]" "$out/.config" || echo "absent")
			echo "configure: wanted $line, got: $have" >&2
			bad=1
		fi ;;
	esac
done < "$out/fragments.config"
[ "$bad" -eq 0 ] || { echo "configure: $arch-$flavor config is missing options (dependencies unmet?)" >&2; exit 1; }
