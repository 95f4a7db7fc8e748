# Records from the case-by-case test programs of tests/verbs (dmabuf_reg,
# dmabuf_ops, odp_test), which print one line per case: "PASS name",
# "FAIL name: reason" or "SKIP name: reason". Source after
# tests/lib/result.sh.

# record_lines NAME HOOK COMMAND...: run COMMAND, keep its output in
# $CASE_LOG_DIR/<suite>_NAME.log and record each of its case lines. HOOK,
# unless empty, is then called as HOOK VERDICT CASE REASON for each line.
# The programs exit 1 when a case failed; a program that printed no case
# line, or exited with anything else but 0, or with 1 without a FAIL line
# (a crash after some cases, bad usage), is also recorded as a failure of
# NAME, so that cases it never reached do not vanish silently.
record_lines() {
	local name=$1 hook=$2 log rc records=0 verdict rest cname why
	shift 2
	log=${CASE_LOG_DIR:-/tmp}/${SUITE//\//_}_${name}_records.log
	run_timed "$name" "$log" "$@"
	rc=$?
	while read -r verdict rest; do
		cname=${rest%%: *}
		why=${rest#"$cname"}
		why=${why#: }
		case $verdict in
		PASS) pass "$cname" ;;
		FAIL) fail "$cname" "$why" ;;
		SKIP) skip "$cname" "$why" ;;
		*) continue ;;
		esac
		[ -z "$hook" ] || "$hook" "$verdict" "$cname" "$why"
		records=$((records + 1))
	done <"$log"
	if [ "$records" = 0 ] || { [ "$rc" != 0 ] &&
	   { [ "$rc" != 1 ] || ! grep -q '^FAIL ' "$log"; }; }; then
		fail "$name" "exit $rc: $(tail -n 3 "$log" | tr '\n' ' ' | cut -c1-300)"
	fi
}

# On the host, after a guest job ran tests/guest/all.sh SUITE... with its
# results in DIR (tests/run, tests/stress/run):
#
# guest_verdicts BACKEND DIR RC SUITE...: record, under the current $SUITE,
# BACKEND-kernel-clean (run-guest.sh's exit status RC is not 124, a timeout,
# or 125, a splat or a dead guest) and BACKEND-job (the job started and
# all.sh exited 0; a setup failure names its cause), then one record per
# suite, suite/BACKEND/NAME: FAIL if it did not end, exited non-zero (a
# suite exits 0 once it has recorded its cases: a crash, an early exit) or
# recorded a number of results other than tests/expected-counts says. The
# results counted are DIR/results.txt and DIR/host-results.txt (what the
# host parsed for that guest: KUnit's). A suite that stops early fails
# even when every case it reached passed.
guest_verdicts() {
	local backend=$1 dir=$2 rc=$3 status
	shift 3
	case $rc in
	124) fail "$backend-kernel-clean" "guest timed out ($dir/console.log)" ;;
	125) fail "$backend-kernel-clean" "kernel splat or guest crash ($dir)" ;;
	*) pass "$backend-kernel-clean" ;;
	esac
	status=$(cat "$dir/status" 2>/dev/null)
	if [ -s "$dir/setup-error" ]; then
		fail "$backend-job" "guest setup failed: $(head -n 1 "$dir/setup-error") ($dir/output.log)"
		return
	elif [ -z "$status" ]; then
		fail "$backend-job" "the job did not end (run-guest.sh exited $rc; $dir/console.log)"
	elif [ "$status" != 0 ]; then
		fail "$backend-job" "tests/guest/all.sh exited with status $status ($dir/output.log)"
	else
		pass "$backend-job"
	fi
	SUITE=suite suite_verdicts "$backend" "$dir" "$@"
}

# suite_verdicts BACKEND DIR SUITE...: the per-suite records of
# guest_verdicts.
suite_verdicts() {
	local backend=$1 dir=$2 name st want got s b c why
	local counts=${BASH_SOURCE[0]%/*}/../expected-counts
	shift 2
	local -A expected=() ended=()
	while read -r s b c _; do
		[[ -z $s || $s == '#'* ]] && continue
		[ "$b" = "$backend" ] && expected[$s]=$c
	done < "$counts"
	while read -r s st; do
		[ -n "$s" ] && ended[$s]=$st
	done < "$dir/suites.txt" 2>/dev/null
	for name in "$@"; do
		why=()
		st=${ended[$name]-}
		if [ -z "$st" ]; then
			why+=("did not end (the guest died or timed out in it, or never reached it)")
		elif [ "$st" != 0 ]; then
			why+=("exited with status $st")
		fi
		got=$(cat "$dir/results.txt" "$dir/host-results.txt" 2>/dev/null |
			grep -c "^\(PASS\|FAIL\|SKIP\) $name/$backend/")
		want=${expected[$name]-}
		if [ -z "$want" ]; then
			why+=("no expected count for it on $backend in tests/expected-counts (it recorded $got results)")
		elif [[ $want == '>='* ]]; then
			[ "$got" -ge "${want#>=}" ] ||
				why+=("expected at least ${want#>=} results (tests/expected-counts), got $got")
		elif [ "$got" != "$want" ]; then
			why+=("expected $want results (tests/expected-counts), got $got")
		fi
		if [ ${#why[@]} = 0 ]; then
			pass "$backend/$name"
		else
			printf -v s '%s; ' "${why[@]}"
			fail "$backend/$name" "${s%; }"
		fi
	done
}
