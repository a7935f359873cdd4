#!/usr/bin/env python3
"""hsds_compare: field-by-field comparison of refnet's HSDS exports with the HSDS examples.

  hsds_compare.py csv FIXTURE_CSV_DIR EXPORT_DIR [TABLE_FILE:ID ...]
      Every row of every fixture CSV file must appear in the export's file of the same name,
      with the same id and equal values in every column (empty cells are absent values;
      numbers compare as numbers). The TABLE_FILE:ID arguments name rows that must be absent
      instead (refused on import).
  hsds_compare.py json FIXTURE_JSON EXPORT_JSON [PATH ...]
      Every field of the fixture object must be in the export with an equal value; lists are
      matched item by item by id. PATH arguments ("attributes", "metadata") name fixture
      lists the export is expected to leave out.
  hsds_compare.py schema SCHEMA_JSON FILE...
      Validates each FILE against the JSON schema (needs the jsonschema module).

Prints one line per difference and exits 1 when there is any, 0 otherwise.
"""
import csv
import json
import os
import sys


def cell(value):
    try:
        return float(value)
    except ValueError:
        return value


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {row["id"]: {k: v for k, v in row.items() if v != ""} for row in csv.DictReader(f)}


def compare_csv(fixture, export, absent):
    problems = []
    for name in sorted(os.listdir(fixture)):
        if not name.endswith(".csv"):
            continue
        want = read_csv(os.path.join(fixture, name))
        out_path = os.path.join(export, name)
        if not os.path.exists(out_path):
            problems.append(f"{name}: not exported")
            continue
        got = read_csv(out_path)
        for rid, row in want.items():
            if f"{name}:{rid}" in absent:
                if rid in got:
                    problems.append(f"{name} {rid}: exported, but it was to be refused")
                continue
            if rid not in got:
                problems.append(f"{name} {rid}: missing from the export")
                continue
            for key, value in row.items():
                if cell(got[rid].get(key, "")) != cell(value):
                    problems.append(
                        f"{name} {rid} {key}: fixture {value!r}, export {got[rid].get(key)!r}")
        for rid in got:
            if rid not in want:
                problems.append(f"{name} {rid}: exported but not in the fixture")
    return problems


def compare_value(want, got, path, skip, problems):
    if path.lstrip(".") in skip:
        return
    if isinstance(want, dict):
        if not isinstance(got, dict):
            problems.append(f"{path}: fixture has an object, export has {got!r}")
            return
        for key, value in want.items():
            if key not in got:
                problems.append(f"{path}.{key}: missing from the export")
            else:
                compare_value(value, got[key], f"{path}.{key}", skip, problems)
    elif isinstance(want, list):
        if not isinstance(got, list):
            problems.append(f"{path}: fixture has a list, export has {got!r}")
            return
        by_id = {item.get("id"): item for item in got if isinstance(item, dict)}
        for i, item in enumerate(want):
            if isinstance(item, dict) and item.get("id") in by_id:
                compare_value(item, by_id[item["id"]], f"{path}[{item['id']}]", skip, problems)
            else:
                problems.append(f"{path}[{i}]: missing from the export")
    elif want != got and not (isinstance(want, (int, float)) and isinstance(got, (int, float))
                              and float(want) == float(got)):
        problems.append(f"{path}: fixture {want!r}, export {got!r}")


def compare_json(fixture, export, skip):
    with open(fixture, encoding="utf-8") as f:
        want = json.load(f)
    with open(export, encoding="utf-8") as f:
        got = json.load(f)
    problems = []
    compare_value(want, got, "", set(skip), problems)
    return problems


def validate(schema_path, files):
    try:
        import jsonschema
    except ImportError:
        return ["the python3 jsonschema module is missing (Debian: python3-jsonschema)"]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema) if hasattr(
        jsonschema, "Draft202012Validator") else jsonschema.Draft7Validator(schema)
    problems = []
    for name in files:
        with open(name, encoding="utf-8") as f:
            doc = json.load(f)
        for err in validator.iter_errors(doc):
            where = "/".join(str(p) for p in err.absolute_path)
            problems.append(f"{name} at /{where}: {err.message}")
    return problems


def main(argv):
    if len(argv) < 4 or argv[1] not in ("csv", "json", "schema"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "csv":
        problems = compare_csv(argv[2], argv[3], set(argv[4:]))
    elif argv[1] == "json":
        problems = compare_json(argv[2], argv[3], argv[4:])
    else:
        problems = validate(argv[2], argv[3:])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
