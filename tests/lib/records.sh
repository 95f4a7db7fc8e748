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
