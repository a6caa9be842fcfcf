"""The command line: python -m allocation.solver ROUND.json [-o OUT] [--time-limit S] [--canonical]."""

import json
import subprocess
import sys

from solver_builders import DATA, HERE, load

from allocation.solver import canonical_json, solve

ROOT = HERE.parents[2]


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "allocation.solver", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_writes_the_decision_to_stdout():
    proc = run(str(DATA / "small-30x8.json"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["format"] == "gacp.allocation/1"


def test_canonical_output_file_matches_the_library(tmp_path):
    out = tmp_path / "out.json"
    proc = run(str(DATA / "small-30x8.json"), "-o", str(out), "--canonical", "--time-limit", "60")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert out.read_text() == canonical_json(solve(load("small-30x8.json")))


def test_reads_stdin():
    proc = run("-", stdin=(DATA / "small-30x8.json").read_text())
    assert proc.returncode == 0, proc.stderr


def test_invalid_json_exits_2_with_line_and_column():
    proc = run("-", stdin='{"format": "gacp.scenario/1",\n  "lots": [,]}')
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["-: invalid JSON at line 2, column 12: Expecting value"]


def test_missing_file_exits_2_with_one_line(tmp_path):
    proc = run(str(tmp_path / "nowhere.json"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nowhere.json: cannot read" in lines[0]
    assert "Traceback" not in proc.stderr


def test_schema_problems_exit_2_one_line_each_naming_field_and_id():
    doc = load("small-30x8.json")
    doc["requests"][0]["hardware"] = ["H900"]
    doc["lots"][3]["gpu_hours"] = -5
    doc["countries"][0]["income_group"] = "MIC"
    proc = run("-", stdin=json.dumps(doc))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    iso3 = doc["countries"][0]["iso3"]
    assert proc.stderr.strip().splitlines() == [
        f"countries[{iso3}].income_group: must be one of LIC, LMIC, UMIC, HIC, got 'MIC'",
        f"lots[{doc['lots'][3]['id']}].gpu_hours: must be >= 0, got -5",
        f"requests[{doc['requests'][0]['id']}].hardware: unknown hardware 'H900'",
    ]


def test_bad_time_limit_exits_2():
    proc = run(str(DATA / "small-30x8.json"), "--time-limit", "-1")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "--time-limit: must be > 0, got -1.0"
