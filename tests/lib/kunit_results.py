#!/usr/bin/env python3
"""Parse KUnit modules' KTAP with the kernel's own kunit.py and print the
project's result lines, one per test case.

usage: kunit_results.py KUNIT_DIR LOG_DIR MODULE...

For each MODULE, LOG_DIR/MODULE.log holds the KTAP the module printed;
"kunit.py parse --json" writes LOG_DIR/MODULE.json from it, with its own
report in LOG_DIR/MODULE.parsed. tests/run runs this on the host, on the
logs the guests' kunit suite (tests/guest/kunit.sh) left; RDG_BACKEND
names the guest in the result lines.
"""
import json
import os
import sys


def cases(group, path):
    for case in group.get("test_cases", []):
        yield f"{path}.{case['name']}", case["status"]
    for sub in group.get("sub_groups", []):
        yield from cases(sub, f"{path}.{sub['name']}" if path else sub["name"])


def kunit_parse(kunit, log, json_path, report):
    """Run "kunit.py parse --json=JSON_PATH LOG", its output in REPORT.

    kunit.py prints through a printer bound to sys.stdout when it was
    imported, so the output is redirected at the descriptor. Returns the
    exit status kunit.py would have had.
    """
    with open(report, "w") as out:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(out.fileno(), 1)
        try:
            kunit.main(["parse", f"--json={json_path}", log])
            status = 0
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
    return status


def tail(path, lines=2):
    with open(path, errors="replace") as f:
        return " ".join(f.read().splitlines()[-lines:])


def report_module(kunit, suite, log_dir, module):
    base = os.path.join(log_dir, module)
    status = kunit_parse(kunit, base + ".log", base + ".json", base + ".parsed")
    if status != 0 and not os.path.exists(base + ".json"):
        print(f"FAIL {suite}/{module}: kunit.py parse failed: {tail(base + '.parsed')}")
        return
    with open(base + ".json") as f:
        found = list(cases(json.load(f), ""))
    if not found:
        print(f"FAIL {suite}/{module}: no test case in KTAP output")
        return
    for name, result in found:
        name = name.lstrip(".")
        if result == "PASS":
            print(f"PASS {suite}/{name}")
        elif result == "SKIP":
            print(f"SKIP {suite}/{name}: skipped by the test")
        else:
            print(f"FAIL {suite}/{name}: {result}")
    # A crash or malformed KTAP fails the parse with every listed case passed.
    if status != 0 and all(r in ("PASS", "SKIP") for _, r in found):
        print(f"FAIL {suite}/{module}: kunit.py parse failed: {tail(base + '.parsed')}")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.strip().splitlines()[3])
    kunit_dir, log_dir = (os.path.abspath(p) for p in sys.argv[1:3])
    sys.path.insert(0, kunit_dir)
    import kunit  # the kernel's tools/testing/kunit/kunit.py

    suite = "kunit/" + os.environ.get("RDG_BACKEND", "guest")
    for module in sys.argv[3:]:
        report_module(kunit, suite, log_dir, module)


if __name__ == "__main__":
    main()
