"""Run pytest and treat "no tests collected" (exit code 5) as the failure it is."""
import sys

import pytest

code = pytest.main(sys.argv[1:])
if code == pytest.ExitCode.NO_TESTS_COLLECTED:
    print("pytest collected no tests: failing.", file=sys.stderr)
    sys.exit(1)
sys.exit(int(code))
