#!/bin/bash
# Boot a guest kernel of this project and run one job in it.
#
# usage: run-guest.sh [options] [--] COMMAND...
#   --backend uml|qemu    (default uml)
#   --flavor debug|bench|distro  (default debug); distro (QEMU only) boots
#                         Debian's stock kernel pinned in upstream.versions
#                         with our modules built out of tree for it, in
#                         place of its own rdma_rxe (kernel/distro)
#   --base 6.12|7.3       the kernel source of a debug or bench kernel
#                         (default 6.12; kernel/base.sh): 7.3 boots
#                         build/kernel/ARCH-FLAVOR-7.3
#   --timeout SECONDS     kill the guest after this long (default 600)
#   --results DIR         results directory shared with the guest
#                         (default: a new one under build/results)
#   --smp N --mem SIZE    QEMU CPUs (default 2; 1 for --flavor distro under
#                         TCG, see below) and guest memory (default 2G)
#   --interactive         a shell on the console instead of COMMAND
#   --no-rxe              do not create rxe0
#   --kernel-arg ARG      add ARG to the guest kernel's command line
#                         (repeatable; e.g. swiotlb=force)
#   --quiet               do not stream the job's output
#   --node-addr A/N --listen PORT | --connect PORT
#                         QEMU two-node: rxe0 on eth0 with address A/N,
#                         joined to the other guest over -netdev stream
#
# Variables named STRESS_* and FUZZ_* in the environment are passed on to
# the job (the stress suites' knobs; not STRESS_BACKENDS and STRESS_TWONODE,
# which are make stress's own).
#
# The checkout, the build directory and the current directory may be
# anywhere, /root and /tmp included (the guest mounts private tmpfs over
# those and binds these paths back: kernel/guest/init), but not at a path
# with a space, a colon or a comma: kbuild cannot build there, and the
# guest's kernel command line could not name it.
#
# Exit status: the job's, or 1 if the guest failed before the job started
# (a module directory not visible, modprobe rdma_rxe failed, rxe0 not up:
# one line "run-guest: guest setup failed: ..." names the cause), or 124
# if the guest timed out, or 125 if the guest died or the kernel logged a
# splat (lockdep, KASAN, kmemleak, WARN, BUG, Oops, hung task) even though
# the job passed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
backend=uml flavor=debug base=6.12 timeout=600 results= smp= mem=2G
interactive=0 rxe=1 quiet=0 node_addr= listen= connect= kargs=

die() { echo "run-guest: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--backend) backend=$2; shift 2 ;;
	--flavor) flavor=$2; shift 2 ;;
	--base) base=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--interactive) interactive=1; shift ;;
	--no-rxe) rxe=0; shift ;;
	--kernel-arg)
		[[ ${2-} =~ ^[A-Za-z0-9_.]+(=[A-Za-z0-9_.,:/-]*)?$ ]] ||
			die "--kernel-arg needs NAME or NAME=VALUE, not '${2-}'"
		kargs+=" $2"; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--node-addr) node_addr=$2; shift 2 ;;
	--listen) listen=$2; shift 2 ;;
	--connect) connect=$2; shift 2 ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
case "$backend" in uml|qemu) ;; *) die "--backend must be uml or qemu, not '$backend'" ;; esac
case "$flavor" in debug|bench|distro) ;; *) die "--flavor must be debug, bench or distro, not '$flavor'" ;; esac
[ "$flavor" != distro ] || [ "$backend" = qemu ] ||
	die "--flavor distro boots Debian's x86_64 kernel: it needs --backend qemu"
case "$base" in 6.12|7.3) ;; *) die "--base must be 6.12 or 7.3, not '$base'" ;; esac
[ "$flavor" != distro ] || [ "$base" = 6.12 ] ||
	die "--flavor distro boots Debian's 6.12 kernel: it has no --base $base"
BASE=$base
# shellcheck source=base.sh
. "$top/kernel/base.sh"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive number of seconds, not '$timeout'"
[ -z "$smp" ] || [[ "$smp" =~ ^[1-9][0-9]*$ ]] || die "--smp must be a positive number, not '$smp'"
[ "$interactive" = 1 ] || [ $# -gt 0 ] || die "no command given (or use --interactive)"

# path_ok WHAT PATH: die unless PATH can be built in and named on a guest's
# kernel command line.
path_ok() {
	[[ $2 != *[[:space:]:,]* ]] ||
		die "$1 '$2' contains a space, a colon or a comma: the kernel's build system (kbuild) cannot build there, nor can a guest's kernel command line name it; use a path without them"
}
# The directories the guest mounts a private tmpfs on: kept paths go below.
private_dirs=" / /tmp /run /dev /dev/shm /mnt /var/tmp /root "
path_ok "the checkout" "$top"
path_ok "BUILD" "$build"
[[ $private_dirs != *" ${build%/} "* ]] ||
	die "BUILD=$build: the guest mounts a private tmpfs there; use a directory below it"

arch=$([ "$backend" = uml ] && echo um || echo x86_64)
initrd=
if [ "$flavor" = distro ]; then
	# shellcheck source=../upstream.versions
	. "$top/upstream.versions"
	kver=$DISTRO_KERNEL_RELEASE
	kout=$build/distro/$kver
	image=$kout/pkg/boot/vmlinuz-$kver
	initrd=$kout/initramfs.cpio.gz
	config=$kout/pkg/boot/config-$kver
	modules=$kout/modroot/lib/modules
	how="make kernel BACKEND=qemu FLAVOR=distro"
else
	kout=$build/kernel/$arch-$flavor$base_suffix
	if [ "$backend" = uml ]; then image=$kout/linux; else image=$kout/arch/x86/boot/bzImage; fi
	config=$kout/.config
	modules=$kout/modroot/lib/modules
	how="make kernel BACKEND=$backend FLAVOR=$flavor${base_suffix:+ BASE=$base}"
fi
[ -f "$image" ] || die "no $flavor kernel at $image (build it: $how)"
[ -z "$initrd" ] || [ -f "$initrd" ] || die "no initramfs at $initrd (build it: $how)"
[ "$flavor" = distro ] || kver=$(cat "$kout/include/config/kernel.release")
[ -d "$modules/$kver" ] || die "no modules for $kver at $modules (build them: $how)"
accel=
if [ "$backend" = qemu ]; then
	accel=$("$top/kernel/detect-accel.sh")
	# Debian's kernel patches its own text at run time (jump labels,
	# static calls: every trace event enabled or disabled), with int3
	# breakpoints; under multi-threaded TCG (QEMU 7.2) a vCPU then traps
	# on a breakpoint the kernel no longer expects, and the kernel oopses
	# ("Oops: int3" in ttwu_do_activate): toggling one stock trace event
	# 3000 times with no module of ours loaded oopsed within 2 s on 2
	# vCPUs, never on 1, nor with thread=single (at a tenth of the
	# speed). Our QEMU debug kernel, which has no jump labels (it still
	# patches tracepoints' static calls), did the same 3000 toggles on 2
	# vCPUs without an oops. Under TCG that guest gets one CPU unless
	# asked for more.
	mttcg=0
	[[ $accel == tcg* && $accel != *thread=single* ]] && mttcg=1
	if [ -z "$smp" ] && [ "$flavor" = distro ] && [ "$mttcg" = 1 ]; then
		smp=1
	elif [ "${smp:-2}" -gt 1 ] && [ "$flavor" = distro ] && [ "$mttcg" = 1 ]; then
		echo "run-guest: warning: Debian's kernel on ${smp:-2} vCPUs under multi-threaded TCG may oops when it patches its text (a trace event toggled): see kernel/run-guest.sh" >&2
	fi
fi

# Host paths the guest must see even below its private tmpfs: the checkout,
# the build (both also as the host resolves them, symlinks followed) and
# the directory the job starts in, unless that is one of the private
# directories itself or cannot be named.
keep=()
for p in "$top" "$build" "$(readlink -f "$top")" "$(readlink -f "$build")" "$PWD"; do
	[[ $p != *[[:space:]:,]* && $private_dirs != *" ${p%/} "* ]] || continue
	[[ " ${keep[*]} " == *" $p "* ]] || keep+=("$p")
done
# The guest mounts a tmpfs over /lib/modules; the mount point must exist
# on the (read-only in the guest) host root.
[ -d /lib/modules ] || mkdir -p /lib/modules

if [ -z "$results" ]; then
	mkdir -p "$build/results"
	results=$(mktemp -d "$build/results/$backend-XXXXXX")
fi
path_ok "the results directory" "$results"
mkdir -p "$results"
results=$(readlink -f "$results")
path_ok "the results directory" "$results"
rm -f "$results"/{status,finished,output.log,dmesg.log,kmemleak.log,kmemleak.state,console.log,setup-error}

rdma=$build/rdma-core/build
{
	echo "# generated by kernel/run-guest.sh"
	echo "export RDG_TOP=$top RDG_RESULTS=/mnt/results RDG_BACKEND=$backend RDG_FLAVOR=$flavor"
	# What a suite skips a case by that the kernel base lacks.
	echo "export RDG_BASE=$base"
	# What the suites name their results by: the backend (uml-7.3 on the
	# 7.3 base), or distro.
	echo "export RDG_GUEST=$([ "$flavor" = distro ] && echo distro || echo "$backend$base_suffix")"
	[ "$flavor" != distro ] ||
		echo "export RDG_DISTRO_RELEASE=$kver RDG_DISTRO_VERSION=$DISTRO_KERNEL_VERSION RDG_DISTRO_DIR=$kout"
	echo "export RDG_CPUS=$([ "$backend" = uml ] && echo 1 || echo "${smp:-2}")"
	echo "export PATH=$rdma/bin:$build/perftest/bin:\$PATH"
	echo "export LD_LIBRARY_PATH=$rdma/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
	echo "export PYTHONPATH=$rdma/python\${PYTHONPATH:+:\$PYTHONPATH}"
	[ -z "$node_addr" ] || echo "export RDG_NODE_ADDR=$node_addr"
	# What fails before the job starts is one line in setup-error, which
	# this script prints, and the job's status is 1.
	echo "rdg_setup_failed() {"
	echo "	printf '%s\\n' \"\$*\" > /mnt/results/setup-error"
	echo "	printf 'guest: setup failed: %s\\n' \"\$*\" >&2"
	echo "	exit 1"
	echo "}"
	# rxe is the only RDMA driver these kernels have, but libibverbs
	# dlopens every provider its configuration lists before it matches a
	# device: 17 of them, 240 ms per process in a UML guest and 370 ms
	# in a TCG one (measured). The guest sees a configuration of rxe alone.
	if [ -f "$rdma/etc/libibverbs.d/rxe.driver" ]; then
		echo "cp $rdma/etc/libibverbs.d/rxe.driver /run/ &&"
		echo "	mount -t tmpfs -o size=64k verbs-providers $rdma/etc/libibverbs.d &&"
		echo "	mv /run/rxe.driver $rdma/etc/libibverbs.d/ ||"
		echo "	rdg_setup_failed 'cannot give libibverbs a configuration of rxe alone in $rdma/etc/libibverbs.d'"
	fi
	# The stress suites' knobs reach the guest job as they were set here.
	for var in $(compgen -v | grep -E '^(STRESS|FUZZ)_' |
		     grep -vE '^STRESS_(BACKENDS|TWONODE)$'); do
		printf 'export %s=%q\n' "$var" "${!var}"
	done
	# Our kernels have the RDMA core built in; Debian's has it as
	# modules, which rdma-core's udev rules load on a real machine.
	if [ "$flavor" = distro ]; then
		echo "modprobe rdma_ucm 2>/run/rdg-setup.err ||"
		echo "	rdg_setup_failed \"modprobe rdma_ucm failed: \$(tail -n 1 /run/rdg-setup.err)\""
	fi
	if [ "$rxe" = 1 ]; then
		echo "modprobe rdma_rxe 2>/run/rdg-setup.err ||"
		echo "	rdg_setup_failed \"modprobe rdma_rxe failed: \$(tail -n 1 /run/rdg-setup.err)\""
		# rxe-up exits the job when a step fails (set -e), so the
		# failure is caught on the way out.
		echo "trap 'cat /run/rdg-setup.err >&2; rdg_setup_failed \"rxe0 did not come up: \$(tail -n 1 /run/rdg-setup.err)\"' EXIT"
		echo ". $top/kernel/guest/rxe-up 2>/run/rdg-setup.err"
		echo "trap - EXIT"
	fi
	echo "cd $(printf '%q' "$PWD") 2>/dev/null ||"
	echo "	rdg_setup_failed $(printf '%q' "cannot change to $PWD in the guest")"
	if [ "$interactive" = 1 ]; then
		echo "echo \"guest: kernel $kver ($backend); rxe0 is up; exit to leave\""
	else
		printf '%q ' "$@"
		echo
	fi
} > "$results/job.sh"

cmdline="init=$top/kernel/guest/init rdg.results=RESULTS rdg.modules=$modules"
cmdline+=" rdg.keep=$(IFS=:; echo "${keep[*]}")"
cmdline+=" rdg.interactive=$interactive panic=-1 oops=panic softlockup_panic=0$kargs"
if [ "$backend" = uml ]; then
	cmd=("$image" mem="$mem" rootfstype=hostfs rootflags=/ ro
	     uml_dir="$results" umid="uml$$"
	     ${cmdline//RESULTS/hostfs:$results} rdg.halt=o)
	if [ "$interactive" = 1 ]; then cmd+=(con0=fd:0,fd:1 con=null)
	else cmd+=(con0=null,fd:1 con=null); fi
else
	# ACPI finds the second CPU; acpi=noirq keeps PCI interrupt routing
	# out of the AML interpreter (see kernel/config/arch-x86_64.config).
	cmdline+=" acpi=noirq"
	# A job's host files do not change while it runs, so the guest may
	# cache them: with cache=loose an exec costs a third of what it costs
	# uncached under TCG (measured: /bin/true 0.35 s against 1.2 s). An
	# interactive shell stays coherent, as a user may rebuild on the host
	# while it is open.
	rootcache=$([ "$interactive" = 1 ] && echo none || echo loose)
	cmd=(qemu-system-x86_64 -accel "$accel" -smp "${smp:-2}" -m "$mem"
	     -nographic -no-reboot -nodefaults -serial stdio
	     -kernel "$image" ${initrd:+-initrd "$initrd"}
	     -append "console=ttyS0 root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=$rootcache ro ${cmdline//RESULTS/9p:results} rdg.halt=b"
	     -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	     -device "virtio-9p-pci,fsdev=hostroot,mount_tag=/dev/root"
	     -fsdev "local,id=results,path=$results,security_model=none"
	     -device "virtio-9p-pci,fsdev=results,mount_tag=results"
	     -device virtio-rng-pci)
	if [ -n "$listen$connect" ]; then
		[ -n "$node_addr" ] || die "--listen/--connect need --node-addr"
		server=$([ -n "$listen" ] && echo on || echo off)
		mac=52:54:00:12:34:$([ -n "$listen" ] && echo 01 || echo 02)
		cmd+=(-netdev "stream,id=n0,server=$server,addr.type=inet,addr.host=127.0.0.1,addr.port=${listen:-$connect}"
		      -device "virtio-net-pci,netdev=n0,mac=$mac")
	fi
fi

echo "guest: $backend kernel $kver ($flavor${base_suffix:+, base $base}), results in $results" >&2
set +e
if [ "$interactive" = 1 ]; then
	timeout --foreground --kill-after=10 "$timeout" "${cmd[@]}" 2>"$results/console.log"
	rc=$?
else
	touch "$results/output.log"
	if [ "$quiet" = 0 ]; then
		tail -n +1 -F "$results/output.log" 2>/dev/null &
		tailpid=$!
	fi
	setsid timeout --kill-after=10 "$timeout" "${cmd[@]}" \
		</dev/null >"$results/console.log" 2>&1
	rc=$?
	if [ "$quiet" = 0 ]; then sleep 0.3; kill "$tailpid" 2>/dev/null; wait "$tailpid" 2>/dev/null; fi
fi
set -e

if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "run-guest: guest timed out after $timeout s and was killed;" \
	     "console log: $results/console.log" >&2
	exit 124
fi
if [ ! -f "$results/finished" ]; then
	echo "run-guest: guest died before the job finished (exit $rc);" \
	     "console log: $results/console.log" >&2
	tail -n 30 "$results/console.log" >&2
	exit 125
fi
status=$(cat "$results/status")
splat_args=(--backend "$backend")
grep -q '^CONFIG_DEBUG_KMEMLEAK=y' "$config" 2>/dev/null && splat_args+=(--kmemleak)
if ! "$top/kernel/check-splats.sh" "${splat_args[@]}" "$results"; then
	exit 125
fi
if [ -s "$results/setup-error" ]; then
	echo "run-guest: guest setup failed: $(head -n 1 "$results/setup-error")" \
	     "(output: $results/output.log)" >&2
	exit 1
fi
[ "$status" = 0 ] || echo "run-guest: the guest command exited with status $status" >&2
exit "$status"
