#!/usr/bin/env python3
"""Validates every JSON document the test suite printed against the schemas.

Usage: check_json_schema.py DIR
DIR holds one file per --format json run (tests/cli/lib.sh and the Python
tests save them there), named COMMAND.SUITE.XXXXXX: verify documents go to
schema/gpuattest-result.schema.json, inspect documents to
schema/gpuattest-inspect.schema.json, verify --check-receipt documents to
schema/gpuattest-receipt-check.schema.json. Runs after every other suite, so a key
someone added or changed without the schema fails here. Also proves that the
validator rejects a document with a broken verdict, so it cannot pass by
accepting everything.
"""
import copy
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("FAIL json-schema: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    print("json-schema: 0 passed, 1 failed, 0 skipped")
    sys.exit(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = {
    "verify": "schema/gpuattest-result.schema.json",
    "inspect": "schema/gpuattest-inspect.schema.json",
    "receipt-check": "schema/gpuattest-receipt-check.schema.json",
}


def validator(rel):
    with open(os.path.join(ROOT, rel)) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def problems(v, doc):
    return sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))


def main():
    d = sys.argv[1]
    validators = {cmd: validator(rel) for cmd, rel in SCHEMAS.items()}
    passed = failed = 0
    seen = {cmd: 0 for cmd in SCHEMAS}
    sample = None
    for name in sorted(os.listdir(d)):
        cmd = name.split(".", 1)[0]
        if cmd not in validators:
            continue
        path = os.path.join(d, name)
        with open(path) as f:
            text = f.read()
        try:
            doc = json.loads(text)
        except ValueError as e:
            failed += 1
            print(f"FAIL json-schema: {name}: stdout is not one JSON document: {e}")
            print("    | " + text[:300].replace("\n", "\n    | "))
            continue
        errs = problems(validators[cmd], doc)
        if errs:
            failed += 1
            print(f"FAIL json-schema: {name} ({SCHEMAS[cmd]}):")
            for e in errs[:5]:
                print(f"    | at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}")
        else:
            passed += 1
            seen[cmd] += 1
            if cmd == "verify" and "devices" in doc and sample is None:
                sample = doc
    # The validator must be able to fail.
    if sample is not None:
        broken = copy.deepcopy(sample)
        broken["devices"][0]["verdict"] = "probably"
        if problems(validators["verify"], broken):
            passed += 1
        else:
            failed += 1
            print("FAIL json-schema: a device verdict 'probably' was accepted")
        broken = copy.deepcopy(sample)
        broken["exit_code"] = 0 if broken["result"] != "pass" else 1
        if problems(validators["verify"], broken):
            passed += 1
        else:
            failed += 1
            print("FAIL json-schema: a result that disagrees with its exit code was accepted")
    shared = os.environ.get("GPUATTEST_SHARED", os.path.join(ROOT, "..", "shared"))
    if seen["verify"] == 0:
        if os.path.isdir(shared):
            failed += 1
            print(f"FAIL json-schema: no verify --format json document was collected in {d}")
        else:
            print("SKIP json-schema: no documents (the recorded vectors are absent)")
    print("json-schema: documents checked: " + ", ".join(f"{n} {c}" for c, n in seen.items()))
    print(f"json-schema: {passed} passed, {failed} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
