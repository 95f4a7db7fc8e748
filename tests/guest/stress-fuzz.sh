#!/bin/bash
# Hostile input (tests/stress/fuzz): random invalid and extreme calls of
# the MR verbs, raw uverbs commands and the test exporter's ioctls, with
# two threads destroying one MR handle and an fd closed under a
# registration. Every call must succeed or fail with an errno, never
# splat; definitely invalid inputs must fail with the kernel's errno. The
# fuzzer ends with no MR and no exporter attachment left and a verified
# RDMA WRITE into a fresh MR; the exporter must then unload. The seed is
# in the output: "fuzz --seed N" replays a failing run.
#
# STRESS_SECONDS: how long each fuzzer run lasts, 1..86400 (default 10,
# some 25,000 calls on UML; make stress runs longer).
# FUZZ_ITERS: a number of calls instead, 1..1000000000.
# FUZZ_SEEDS: how many runs, each with a seed of its own, 1..100
# (default 2).
SUITE=stress-fuzz/$RDG_GUEST
. "$RDG_TOP/tests/lib/result.sh"
# A bad knob is recorded too: all.sh does not look at a suite's exit
# status, and the suite would otherwise vanish from the results.
bad_env() {
	echo "stress-fuzz: $1" >&2
	fail env "$1"
	exit 2
}
num_re='^[1-9][0-9]*$'
if [ -n "${STRESS_SECONDS+x}" ] && { ! [[ $STRESS_SECONDS =~ $num_re ]] ||
   [ "${#STRESS_SECONDS}" -gt 5 ] || [ "$STRESS_SECONDS" -gt 86400 ]; }; then
	bad_env "STRESS_SECONDS must be an integer from 1 to 86400, not '$STRESS_SECONDS'"
fi
if [ -n "${FUZZ_ITERS+x}" ] && { ! [[ $FUZZ_ITERS =~ $num_re ]] ||
   [ "${#FUZZ_ITERS}" -gt 10 ] || [ "$FUZZ_ITERS" -gt 1000000000 ]; }; then
	bad_env "FUZZ_ITERS must be an integer from 1 to 1000000000, not '$FUZZ_ITERS'"
fi
if [ -n "${FUZZ_SEEDS+x}" ] && { ! [[ $FUZZ_SEEDS =~ $num_re ]] ||
   [ "${#FUZZ_SEEDS}" -gt 3 ] || [ "$FUZZ_SEEDS" -gt 100 ]; }; then
	bad_env "FUZZ_SEEDS must be an integer from 1 to 100, not '$FUZZ_SEEDS'"
fi
. "$RDG_TOP/tests/lib/xfer.sh"
fuzz=$RDG_TOP/build/tests/stress/fuzz
logdir=${CASE_LOG_DIR:-/tmp}
if [ -n "$FUZZ_ITERS" ]; then
	budget=(--iters "$FUZZ_ITERS")
else
	budget=(--seconds "${STRESS_SECONDS:-10}")
fi

if ! modprobe dmabuf_test_exporter; then
	fail modprobe "modprobe dmabuf_test_exporter failed"
	exit 0
fi
pass modprobe

# fuzz_run NAME ARGS...: one record; its summary line goes to the output.
fuzz_run() {
	local name=$1 log
	shift
	log=$logdir/${SUITE//\//_}_$name.log
	run_case "$name" timeout 900 "$fuzz" "$@"
	if ! grep -q '^fuzz: seed=.* iterations=' "$log"; then
		echo "# fuzz: $(head -n 1 "$log"), no summary"
		return
	fi
	grep '^fuzz: seed=.* iterations=' "$log" |
		sed -E 's/^/# /; s/ strict=[^ ]* sigbus=[^ ]* fails=[^ ]* seconds=[^ ]*//'
	grep '^FAIL ' "$log" | head -n 5
}

for i in $(seq 1 "${FUZZ_SEEDS:-2}"); do
	fuzz_run "fuzz-$i" "${budget[@]}"
done
# A fixed seed: every run also covers the same ground.
fuzz_run fuzz-seed-1 --seed 1 --iters 1500

expect_status usage-bad-seed 2 "invalid --seed 'x1'" "$fuzz" --seed x1
expect_status usage-seed-range 2 "invalid --seed '18446744073709551616'" \
	"$fuzz" --seed 18446744073709551616
expect_status usage-zero-iters 2 "invalid --iters '0': must be between" \
	"$fuzz" --iters 0
expect_status usage-negative-seconds 2 "invalid --seconds '-5'" \
	"$fuzz" --seconds -5
expect_status usage-unknown-option 2 "unknown option '--bogus'" \
	"$fuzz" --bogus
expect_status usage-missing-arg 2 "option '--iters' needs an argument" \
	"$fuzz" --iters
expect_status usage-extra-arg 2 "unexpected argument 'extra'" \
	"$fuzz" --iters 1 extra
expect_status env-bad-seconds 2 "STRESS_SECONDS must be an integer" \
	env RESULTS_FILE=/dev/null STRESS_SECONDS=10s bash "$RDG_TOP/tests/guest/stress-fuzz.sh"
expect_status env-zero-seconds 2 "STRESS_SECONDS must be an integer" \
	env RESULTS_FILE=/dev/null STRESS_SECONDS=0 bash "$RDG_TOP/tests/guest/stress-fuzz.sh"
expect_status env-bad-iters 2 "FUZZ_ITERS must be an integer" \
	env RESULTS_FILE=/dev/null FUZZ_ITERS=-1 bash "$RDG_TOP/tests/guest/stress-fuzz.sh"
expect_status env-bad-seeds 2 "FUZZ_SEEDS must be an integer" \
	env RESULTS_FILE=/dev/null FUZZ_SEEDS=1000 bash "$RDG_TOP/tests/guest/stress-fuzz.sh"

unload_exporter
