# Result recording shared by every suite, on the host and in guests.
#
# A suite reports each case as one line in $RESULTS_FILE:
#   PASS <suite>/<case>
#   FAIL <suite>/<case>: <reason>
#   SKIP <suite>/<case>: <reason>
# and tests/run counts them. Set SUITE before recording.

: "${RESULTS_FILE:?RESULTS_FILE must name the file results go to}"
: "${SUITE:=unnamed}"

# result_line LINE: print it and append it to $RESULTS_FILE. Builtins only: a
# pipe into tee costs two forks, 150-170 ms per record in a UML or a TCG
# guest, which over a run's thousand records was minutes.
result_line() {
	printf '%s\n' "$1"
	printf '%s\n' "$1" >> "$RESULTS_FILE"
}
# In a guest of another kernel base than 6.12 (RDG_BASE; kernel/base.sh),
# tests/base-differences/BASE lists the cases whose 6.12 expectation that
# base does not meet, "SUITE/CASE REASON" a line: such a case's failure is
# recorded as a SKIP giving the reason and the failure, and a listed case
# that passes fails, so that no line outlives its difference.
declare -gA base_difference=()
if [ -n "${RDG_BASE:-}" ] && [ -n "${RDG_TOP:-}" ] &&
   [ -f "$RDG_TOP/tests/base-differences/$RDG_BASE" ]; then
	while read -r base_case base_why; do
		[[ -z $base_case || $base_case == '#'* ]] ||
			base_difference[$base_case]=$base_why
	done < "$RDG_TOP/tests/base-differences/$RDG_BASE"
fi
pass() {
	local why=${base_difference[${SUITE%%/*}/$1]-}
	if [ -n "$why" ]; then
		result_line "FAIL $SUITE/$1: passed, but tests/base-differences/$RDG_BASE says it differs on $RDG_BASE ($why): remove that line"
	else
		result_line "PASS $SUITE/$1"
	fi
}
fail() {
	local why=${base_difference[${SUITE%%/*}/$1]-}
	if [ -n "$why" ]; then
		result_line "SKIP $SUITE/$1: differs on $RDG_BASE: $why (failed: ${2:-failed})"
	else
		result_line "FAIL $SUITE/$1: ${2:-failed}"
	fi
}
skip() { result_line "SKIP $SUITE/$1: ${2:-skipped}"; }

# run_timed NAME LOG COMMAND...: run COMMAND with its output in LOG and
# append its duration, as case NAME, to $CASE_LOG_DIR/times.txt, to find
# where a run's time goes (sort -rn times.txt). Returns COMMAND's status.
run_timed() {
	local name=$1 log=$2 start=$EPOCHREALTIME us rc
	shift 2
	"$@" >"$log" 2>&1
	rc=$?
	us=$((${EPOCHREALTIME/./} - ${start/./}))
	printf '%d.%03d %s/%s\n' $((us / 1000000)) $((us / 1000 % 1000)) \
		"$SUITE" "$name" >> "${CASE_LOG_DIR:-/tmp}/times.txt"
	return "$rc"
}

# case_log NAME: set $case_log to the file that keeps case NAME's output (a
# variable, not printed: a command substitution would fork).
case_log() { case_log=${CASE_LOG_DIR:-/tmp}/${SUITE//\//_}_${1//\//_}.log; }

# run_case NAME COMMAND... : PASS if COMMAND exits 0, else FAIL with the
# tail of its output. The output is kept in $CASE_LOG_DIR/NAME.log.
run_case() {
	local name=$1 log rc
	shift
	case_log "$name"
	log=$case_log
	run_timed "$name" "$log" "$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "exit $rc: $(tail -n 3 "$log" | tr '\n' ' ' | cut -c1-300)"
	fi
	return "$rc"
}

# expect_status NAME EXPECTED_STATUS MESSAGE_REGEX COMMAND... : PASS if COMMAND
# exits with EXPECTED_STATUS (or any non-zero status for "nonzero") and its
# output matches MESSAGE_REGEX. For testing that bad input is rejected
# clearly.
expect_status() {
	local name=$1 want=$2 regex=$3 log rc
	shift 3
	case_log "$name"
	log=$case_log
	run_timed "$name" "$log" "$@"
	rc=$?
	if [ "$want" = nonzero ] && [ "$rc" -eq 0 ]; then
		fail "$name" "succeeded, expected a failure"
	elif [ "$want" != nonzero ] && [ "$rc" -ne "$want" ]; then
		fail "$name" "exit $rc, expected $want: $(tail -n 2 "$log" | tr '\n' ' ' | cut -c1-300)"
	elif ! grep -Eq -- "$regex" "$log"; then
		fail "$name" "message does not match /$regex/: $(tail -n 2 "$log" | tr '\n' ' ' | cut -c1-300)"
	else
		pass "$name"
	fi
}
