#!/bin/bash
# tests/lib/unittest_results.py, which turns the pyverbs suites' unittest
# logs into results, on crafted logs: each case is a log that a broken
# parser would misread (a test's output ending in "ok", an unexpected
# success, a missing status, a skip with another reason, a count or a
# summary line or an exit status that disagrees with the results), and
# the exact FAIL lines the parser must give for it; a correct log must
# give no FAIL and exactly its PASS and SKIP lines.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=unittest-results
. "$top/tests/lib/result.sh"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
sep1=$(printf '=%.0s' {1..70})
sep2=$(printf -- '-%.0s' {1..70})
S=pyverbs/test

cat > "$scratch/xfail" <<'EOF'
tests.m.C.test_known  # fails for a reason outside the project
EOF
cat > "$scratch/allowed" <<'EOF'
# why these may skip
tests.m.C.test_skip Device memory is not supported
tests.m.D.setUpClass Can not run the test over non MLX5 device
EOF

# tail_of RAN SUMMARY EXIT: the end unittest and the suites write.
tail_of() {
	printf '\n%s\nRan %s tests in 1.234s\n\n%s\n' "$sep2" "$1" "$2"
	[ -z "$3" ] || printf 'run_tests.py exit status %s\n' "$3"
}

# parses NAME EXPECTED LOG: the parser's output for LOG (a file) must be
# EXPECTED exactly, if EXPECTED has PASS or SKIP lines, else its FAIL lines
# must be EXPECTED's.
parses() {
	local name=$1 want=$2 log=$scratch/$1.log got
	if ! got=$(/usr/bin/python3 "$top/tests/lib/unittest_results.py" "$S" \
	           "$log" "$scratch/xfail" "$scratch/allowed" 2>&1); then
		fail "$name" "the parser exited non-zero: $got"
		return
	fi
	[[ $want == *PASS* || $want == *SKIP* ]] || got=$(grep '^FAIL' <<< "$got")
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "expected [${want//$'\n'/ | }], got [${got//$'\n'/ | }]"
	fi
}

# A log as rdma-core's suite writes it: docstrings, a test's output before
# its status, a skip, a known failure, an allowed class skip.
{
	cat <<'EOF'
test_a (tests.m.C.test_a) ... ok
test_doc (tests.m.C.test_doc)
Test something, as the docstring says. ... ok
test_out (tests.m.C.test_out) ... is_fork_initialized() = 2
ok
test_skip (tests.m.C.test_skip) ... skipped 'Device memory is not supported'
test_known (tests.m.C.test_known) ... ERROR
setUpClass (tests.m.D) ... skipped 'Can not run the test over non MLX5 device'

EOF
	printf '%s\nERROR: test_known (tests.m.C.test_known)\n%s\n' "$sep1" "$sep2"
	printf 'Traceback (most recent call last):\nok\n'
	tail_of 5 'FAILED (errors=1, skipped=2)' 1
} > "$scratch/good.log"
parses good "PASS $S/tests.m.C.test_a
PASS $S/tests.m.C.test_doc
PASS $S/tests.m.C.test_out
SKIP $S/tests.m.C.test_skip: Device memory is not supported
SKIP $S/tests.m.C.test_known: known failure on rxe: fails for a reason outside the project
SKIP $S/tests.m.D.setUpClass: Can not run the test over non MLX5 device"

# A test whose output ends in "ok", then fails; another whose output ends
# in "ok" and that never wrote its status.
{
	cat <<'EOF'
test_a (tests.m.C.test_a) ... checking that all is ok
FAIL
test_b (tests.m.C.test_b) ... all ok
test_c (tests.m.C.test_c) ... ok
EOF
	tail_of 3 'FAILED (failures=1)' 1
} > "$scratch/output-ends-in-ok.log"
parses output-ends-in-ok "FAIL $S/tests.m.C.test_a: FAIL
FAIL $S/tests.m.C.test_b: no status"

# A status on the next line but one: the last whole status line counts.
{
	printf 'test_a (tests.m.C.test_a) ... ok\nFAIL\n'
	tail_of 1 'FAILED (failures=1)' 1
} > "$scratch/output-is-ok.log"
parses output-is-ok "FAIL $S/tests.m.C.test_a: FAIL"

{
	printf 'test_a (tests.m.C.test_a) ... unexpected success\n'
	tail_of 1 'FAILED (unexpected successes=1)' 1
} > "$scratch/unexpected-success.log"
parses unexpected-success "FAIL $S/tests.m.C.test_a: unexpected success"

# The parser must not take a known failure's listing for a pass either.
{
	printf 'test_known (tests.m.C.test_known) ... unexpected success\n'
	tail_of 1 'FAILED (unexpected successes=1)' 1
} > "$scratch/known-unexpected-success.log"
parses known-unexpected-success "FAIL $S/tests.m.C.test_known: unexpected success"

{
	printf 'test_a (tests.m.C.test_a) ... \ntest_b (tests.m.C.test_b) ... ok\n'
	tail_of 2 OK 0
} > "$scratch/missing-status.log"
parses missing-status "FAIL $S/tests.m.C.test_a: no status"

{
	printf 'test_a (tests.m.C.test_a) ... ok\n'
	tail_of 2 OK 0
} > "$scratch/count-mismatch.log"
parses count-mismatch "FAIL $S/result-count: log says 2 tests ran, 1 results parsed"

{
	printf 'test_a (tests.m.C.test_a) ... ok\n'
	printf "test_skip (tests.m.C.test_skip) ... skipped 'Device memory is not supported'\n"
	tail_of 2 OK 0
} > "$scratch/summary-skips.log"
parses summary-skips "FAIL $S/summary: unittest says 'OK', the statuses parsed make OK (failures=0, errors=0, skipped=1, expected failures=0, unexpected successes=0)"

{
	printf 'test_a (tests.m.C.test_a) ... ok\n'
	tail_of 1 'FAILED (failures=1, errors=2)' 1
} > "$scratch/summary-failed.log"
parses summary-failed "FAIL $S/summary: unittest says 'FAILED (failures=1, errors=2)', the statuses parsed make OK (failures=0, errors=0, skipped=0, expected failures=0, unexpected successes=0)"

{
	printf 'test_a (tests.m.C.test_a) ... ok\n'
	tail_of 1 'Segmentation fault' 139
} > "$scratch/summary-missing.log"
parses summary-missing "FAIL $S/summary: no unittest summary line after 'Ran N tests', found 'Segmentation fault'
FAIL $S/run_tests.py: exit status 139 (killed by signal 11)"

{
	printf 'test_a (tests.m.C.test_a) ... ok\n'
	tail_of 1 OK 1
} > "$scratch/exit-status.log"
parses exit-status "FAIL $S/run_tests.py: exit status 1, but unittest's summary 'OK' means 0"

{
	printf 'test_a (tests.m.C.test_a) ... ok\n'
	tail_of 1 OK ''
} > "$scratch/exit-status-missing.log"
parses exit-status-missing "FAIL $S/run_tests.py: no 'run_tests.py exit status N' line at the end of the log"

printf 'test_a (tests.m.C.test_a) ... ok\ntest_b (tests.m.C.test_b) ... \nrun_tests.py exit status 139\n' \
	> "$scratch/crashed.log"
parses crashed "FAIL $S/tests.m.C.test_b: no status
FAIL $S/run_tests.py: no 'Ran N tests' line (crashed?)"

# Skips: a test not on the list, and a listed test with another reason.
{
	printf "test_new (tests.m.C.test_new) ... skipped 'Device memory is not supported'\n"
	printf "test_skip (tests.m.C.test_skip) ... skipped 'Device memory is not supported here'\n"
	tail_of 2 'OK (skipped=2)' 0
} > "$scratch/skip-not-allowed.log"
parses skip-not-allowed "FAIL $S/tests.m.C.test_new: skipped, but $scratch/allowed has no 'tests.m.C.test_new Device memory is not supported' line allowing it
FAIL $S/tests.m.C.test_skip: skipped, but $scratch/allowed has no 'tests.m.C.test_skip Device memory is not supported here' line allowing it"
