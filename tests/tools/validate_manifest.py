#!/usr/bin/python3
"""Validate a manifest.json against docs/manifest.schema.json (python3-jsonschema).

usage: validate_manifest.py SCHEMA MANIFEST
Exit 0 valid, 1 invalid (each error printed), 2 usage or unreadable input.
Run with Debian's /usr/bin/python3, which has the jsonschema package.
"""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("validate_manifest: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(2)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        doc = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:50]:
        print("schema: %s: %s" % ("/".join(str(p) for p in e.path), e.message), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
