#!/usr/bin/env python3
"""Turn a verbose unittest log into the project's result lines.

usage: unittest_results.py SUITE LOG EXPECTED_FAILURES

Every test the log's "Ran N tests" counts must appear as exactly one result
line; a mismatch is itself a failure, so no test can go missing unnoticed.
A log that ends with "run_tests.py exit status N" (the suites append it)
must account for N: a non-zero status with no failed test, or a signal's
(128 and up), is a failure of run_tests.py itself.
EXPECTED_FAILURES lists "test.id  # reason" lines: a listed test that fails
is reported SKIP with its reason, a listed test that passes is a PASS.
"""
import re
import sys

HEADER = re.compile(r"^(?P<name>\w+) \((?P<id>[\w.]+)\)", re.MULTILINE)
STATUS = re.compile(
    r"(ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$")


def results(log):
    """Yield (name, id, status) per test header of a verbose unittest log.

    A test's own output may land between its "... " and its status, so the
    status is the first line after " ... " that ends in one, searched only
    up to the next test's header.
    """
    headers = list(HEADER.finditer(log))
    for i, m in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(log)
        segment = log[m.end():end]
        if " ... " not in segment:
            continue
        status = None
        for line in segment.split(" ... ", 1)[1].splitlines():
            found = STATUS.search(line.strip())
            if found:
                status = found.group(1)
                break
        yield m.group("name"), m.group("id"), status or "no status"


def expected_failures(path):
    known = {}
    with open(path) as f:
        for line in f:
            test, _, reason = line.partition("#")
            if test.strip():
                known[test.strip()] = reason.strip() or "expected failure"
    return known


def main():
    suite, log_path, xfail_path = sys.argv[1:4]
    log = open(log_path, errors="replace").read()
    known = expected_failures(xfail_path)
    seen = failed = 0
    for name, test_id, status in results(log):
        if name in ("setUpClass", "tearDownClass"):
            test_id = f"{test_id}.{name}"
        else:
            seen += 1
            if not test_id.endswith("." + name):
                test_id = f"{test_id}.{name}"
        if status in ("ok", "expected failure"):
            print(f"PASS {suite}/{test_id}")
        elif status.startswith("skipped"):
            reason = status[len("skipped"):].strip().strip("'\"") or "skipped"
            print(f"SKIP {suite}/{test_id}: {reason}")
        elif test_id in known:
            failed += 1
            print(f"SKIP {suite}/{test_id}: known failure on rxe: {known[test_id]}")
        else:
            failed += 1
            print(f"FAIL {suite}/{test_id}: {status}")
    ran = re.search(r"^Ran (\d+) tests? in", log, re.MULTILINE)
    if not ran:
        print(f"FAIL {suite}/run_tests.py: no 'Ran N tests' line (crashed?)")
        return 0
    if int(ran.group(1)) != seen:
        print(f"FAIL {suite}/result-count: log says {ran.group(1)} tests ran,"
              f" {seen} results parsed")
    exited = re.findall(r"^run_tests.py exit status (\d+)$", log, re.MULTILINE)
    if exited:
        code = int(exited[-1])
        if code >= 128:
            print(f"FAIL {suite}/run_tests.py: exit status {code}"
                  f" (killed by signal {code - 128})")
        elif code != 0 and not failed:
            print(f"FAIL {suite}/run_tests.py: exit status {code},"
                  " though no test failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
