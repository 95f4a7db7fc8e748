#!/usr/bin/env python3
"""Turn kunit.py's JSON into the project's result lines, one per test case.

usage: kunit_results.py MODULE FILE.json
"""
import json
import os
import sys


def cases(group, path):
    for case in group.get("test_cases", []):
        yield f"{path}.{case['name']}", case["status"]
    for sub in group.get("sub_groups", []):
        yield from cases(sub, f"{path}.{sub['name']}" if path else sub["name"])


def main():
    module, path = sys.argv[1], sys.argv[2]
    suite = "kunit/" + os.environ.get("RDG_BACKEND", "guest")
    with open(path) as f:
        result = json.load(f)
    found = list(cases(result, ""))
    if not found:
        print(f"FAIL {suite}/{module}: no test case in KTAP output")
        return 1
    for name, status in found:
        name = name.lstrip(".")
        if status == "PASS":
            print(f"PASS {suite}/{name}")
        elif status == "SKIP":
            print(f"SKIP {suite}/{name}: skipped by the test")
        else:
            print(f"FAIL {suite}/{name}: {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
