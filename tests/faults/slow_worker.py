"""A Celery worker whose engine pauses before it solves, so that a test can kill it in the middle of a
solve. Tests only: ``python -m tests.faults.slow_worker worker -A alliance ...`` with
``GACP_TEST_SOLVE_PAUSE`` seconds in the environment. The pause is reported as the run's progress (with
the solving process's id), which is how the test knows the solve has started."""
import os
import sys
import time

from allocation import solver

_solve = solver.solve


def paused_solve(document, *, time_limit=None, progress=None, **options):
    pause = float(os.environ.get("GACP_TEST_SOLVE_PAUSE", "0"))
    if progress is not None:
        progress({"levels": 0, "pid": os.getpid(), "pause": pause})
    time.sleep(pause)
    return _solve(document, time_limit=time_limit, progress=progress, **options)


solver.solve = paused_solve

if __name__ == "__main__":
    from celery.__main__ import main

    sys.argv = ["celery", *sys.argv[1:]]
    main()
