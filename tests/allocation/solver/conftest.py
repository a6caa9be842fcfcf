"""Fixtures for the solver's tests, which run without Django (`pytest tests/allocation/solver -p no:django`).

The repository root and the copied reference (the alliance's independent checker) go on sys.path."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
for path in (HERE.parents[2], HERE / "reference", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from solver_builders import run_checker  # noqa: E402


@pytest.fixture
def checker(tmp_path):
    """check(scenario, output, reference=None) -> (exit code, checker output)."""

    def check(scenario, output, reference=None):
        return run_checker(tmp_path, scenario, output, reference)

    return check
