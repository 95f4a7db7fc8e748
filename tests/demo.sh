#!/bin/bash
# make demo: boot a UML guest, bring up rxe0 and move data over it with
# perftest's ib_write_bw and with rdma_xfer, which verifies every byte.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
make -C "$top/tests/verbs" --no-print-directory >/dev/null || exit 1
dir=$build/results/demo
rm -rf "$dir"
"$top/kernel/run-guest.sh" --backend uml --flavor "${FLAVOR:-bench}" --timeout 600 --quiet \
	--results "$dir" -- bash "$top/tests/guest/demo-job.sh"
rc=$?
cat "$dir/output.log"
exit "$rc"
