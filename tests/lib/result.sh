# Result recording shared by every suite, on the host and in guests.
#
# A suite reports each case as one line in $RESULTS_FILE:
#   PASS <suite>/<case>
#   FAIL <suite>/<case>: <reason>
#   SKIP <suite>/<case>: <reason>
# and tests/run counts them. Set SUITE before recording.

: "${RESULTS_FILE:?RESULTS_FILE must name the file results go to}"
: "${SUITE:=unnamed}"

pass() { echo "PASS $SUITE/$1" | tee -a "$RESULTS_FILE"; }
fail() { echo "FAIL $SUITE/$1: ${2:-failed}" | tee -a "$RESULTS_FILE"; }
skip() { echo "SKIP $SUITE/$1: ${2:-skipped}" | tee -a "$RESULTS_FILE"; }

# run_case NAME COMMAND... : PASS if COMMAND exits 0, else FAIL with the
# tail of its output. The output is kept in $CASE_LOG_DIR/NAME.log.
run_case() {
	local name=$1 log rc
	shift
	log=${CASE_LOG_DIR:-/tmp}/${SUITE//\//_}_${name//\//_}.log
	"$@" >"$log" 2>&1
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
	log=${CASE_LOG_DIR:-/tmp}/${SUITE//\//_}_${name//\//_}.log
	"$@" >"$log" 2>&1
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
