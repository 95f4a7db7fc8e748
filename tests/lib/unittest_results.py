#!/usr/bin/env python3
"""Turn a verbose unittest log into the project's result lines.

usage: unittest_results.py SUITE LOG EXPECTED_FAILURES ALLOWED_SKIPS

LOG is the output of a verbose run (-v) of unittest, Python 3.11's format,
followed by a line "run_tests.py exit status N" that the suites append.
Each test's verdict is the status unittest writes after its " ... ": a
whole line that is exactly "ok", "FAIL", "ERROR", "skipped 'REASON'",
"expected failure" or "unexpected success". A test may print between its
" ... " and its status, so the status is the last such line before the
next test; a line that merely ends in one ("... all ok") is output, not a
status, and a test with no status line fails.

Nothing a test does may go unaccounted for; each of these is a FAIL line:
 - a test whose status is FAIL, ERROR, unexpected success or missing;
 - a skip whose (test id, reason) is not in ALLOWED_SKIPS, reason word for
   word: a test that starts skipping, or skips for another reason, fails;
 - a log with no "Ran N tests" line (the run crashed), or whose N is not
   the number of test results parsed;
 - unittest's own summary line ("OK (skipped=K)", "FAILED (failures=F,
   errors=E, ...)") that disagrees with the statuses parsed, counted the
   way unittest counts them (class and module fixtures included);
 - an exit status other than the one that summary implies (0 for OK, 1
   for FAILED), or none.
Subtests (only rdma-core's EFA tests, which skip on rxe, have them) are not
parsed: their results would make the summary disagree, which fails.

EXPECTED_FAILURES lists "test.id  # reason" lines: a listed test that fails
is reported SKIP with its reason, a listed test that passes is a PASS.
ALLOWED_SKIPS lists "test.id REASON" lines, REASON being the exact text of
the test's unittest.SkipTest; '#' starts a comment line, which should say
why the tests below it may skip.
"""
import ast
import re
import sys

# "test_x (tests.mod.Class.test_x)", or a fixture "setUpClass (tests.mod.Class)",
# then " ... " or, when the test has a docstring, its first line.
HEADER = re.compile(r"^(?P<name>\w+) \((?P<id>[\w.]+)\)(?= \.\.\. |\n)",
                    re.MULTILINE)
STATUS = re.compile(r"ok|FAIL|ERROR|expected failure|unexpected success"
                    r"|skipped (?P<reason>'.*'|\".*\")")
# Where the per-test lines end: the first failure's report, or the line
# above "Ran N tests".
RESULTS_END = re.compile(r"^(?:={70}\n(?:ERROR|FAIL|UNEXPECTED SUCCESS): "
                         r"|-{70}\nRan \d+ tests? in )", re.MULTILINE)
RAN = re.compile(r"^-{70}\nRan (\d+) tests? in [^\n]*\n\n(.*)$", re.MULTILINE)
EXITED = re.compile(r"^run_tests\.py exit status (\d+)$", re.MULTILINE)
FIXTURES = ("setUpClass", "tearDownClass", "setUpModule", "tearDownModule")
# unittest's summary fields, and the status each counts
SUMMARY_FIELDS = {"failures": "FAIL", "errors": "ERROR", "skipped": "skipped",
                  "expected failures": "expected failure",
                  "unexpected successes": "unexpected success"}


def results(log):
    """Yield (name, id, status, skip reason) per test header of LOG."""
    end = RESULTS_END.search(log)
    region = log[:end.start()] if end else log
    headers = list(HEADER.finditer(region))
    for i, m in enumerate(headers):
        stop = headers[i + 1].start() if i + 1 < len(headers) else len(region)
        segment = region[m.end():stop]
        if " ... " not in segment:
            continue
        status = reason = None
        for line in segment.split(" ... ", 1)[1].splitlines():
            found = STATUS.fullmatch(line)
            if found:
                status = line
                reason = found.group("reason")
        if reason is not None:
            status = "skipped"
            reason = ast.literal_eval(reason)
        yield m.group("name"), m.group("id"), status or "no status", reason


def listed(path, separator):
    """{test id: [text]} of a list file whose lines are ID SEPARATOR TEXT."""
    entries = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            test, _, text = line.strip().partition(separator)
            entries.setdefault(test.strip(), []).append(text.strip())
    return entries


def summary_counts(text):
    """unittest's summary line as (word, {field: count}), or None."""
    m = re.fullmatch(r"(OK|FAILED)(?: \((.*)\))?", text)
    if not m:
        return None
    counts = dict.fromkeys(SUMMARY_FIELDS, 0)
    for field in filter(None, (m.group(2) or "").split(", ")):
        key, _, value = field.partition("=")
        if key not in counts or not value.isdigit():
            return None
        counts[key] = int(value)
    return m.group(1), counts


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("\n\n")[1])
    suite, log_path, xfail_path, allowed_path = sys.argv[1:5]
    log = open(log_path, errors="replace").read()
    known = {test: reasons[0] or "expected failure"
             for test, reasons in listed(xfail_path, "#").items()}
    allowed = listed(allowed_path, " ")
    seen = 0
    tally = dict.fromkeys(SUMMARY_FIELDS.values(), 0)
    for name, test_id, status, reason in results(log):
        if name in FIXTURES:
            test_id = f"{test_id}.{name}"
        else:
            seen += 1
            if not test_id.endswith("." + name):
                test_id = f"{test_id}.{name}"
        if status in tally:
            tally[status] += 1
        if status in ("ok", "expected failure"):
            print(f"PASS {suite}/{test_id}")
        elif status == "skipped":
            if reason in allowed.get(test_id, ()):
                print(f"SKIP {suite}/{test_id}: {reason}")
            else:
                print(f"FAIL {suite}/{test_id}: skipped, but {allowed_path}"
                      f" has no '{test_id} {reason}' line allowing it")
        elif status in ("FAIL", "ERROR") and test_id in known:
            print(f"SKIP {suite}/{test_id}: known failure on rxe: {known[test_id]}")
        else:
            print(f"FAIL {suite}/{test_id}: {status}")

    ran = RAN.search(log)
    if not ran:
        print(f"FAIL {suite}/run_tests.py: no 'Ran N tests' line (crashed?)")
        return 0
    if int(ran.group(1)) != seen:
        print(f"FAIL {suite}/result-count: log says {ran.group(1)} tests ran,"
              f" {seen} results parsed")
    parsed = {field: tally[status] for field, status in SUMMARY_FIELDS.items()}
    parsed_word = "OK" if not (parsed["failures"] or parsed["errors"] or
                               parsed["unexpected successes"]) else "FAILED"
    summary = summary_counts(ran.group(2))
    if summary is None:
        print(f"FAIL {suite}/summary: no unittest summary line after 'Ran N"
              f" tests', found '{ran.group(2)}'")
    elif summary != (parsed_word, parsed):
        have = ", ".join(f"{k}={v}" for k, v in parsed.items())
        print(f"FAIL {suite}/summary: unittest says '{ran.group(2)}', the"
              f" statuses parsed make {parsed_word} ({have})")

    exited = EXITED.findall(log)
    want = 0 if summary and summary[0] == "OK" else 1
    if not exited:
        print(f"FAIL {suite}/run_tests.py: no 'run_tests.py exit status N'"
              " line at the end of the log")
    elif int(exited[-1]) >= 128:
        code = int(exited[-1])
        print(f"FAIL {suite}/run_tests.py: exit status {code}"
              f" (killed by signal {code - 128})")
    elif summary and int(exited[-1]) != want:
        print(f"FAIL {suite}/run_tests.py: exit status {exited[-1]}, but"
              f" unittest's summary '{ran.group(2)}' means {want}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
