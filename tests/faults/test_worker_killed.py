"""A worker killed with SIGKILL in the middle of a solve: the task was not acknowledged (``acks_late``), so
the broker hands it to another worker, which claims the run again and completes the round exactly once."""
import os
import signal

import pytest

from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.integration]


def _mid_solve(run):
    def solving():
        run.refresh_from_db()
        return run.status == "running" and run.progress.get("pid")

    return solving


def _finished(run):
    def done():
        run.refresh_from_db()
        return run.status in ("succeeded", "failed")

    return done


def _assert_solved_once(round_, run):
    from allocation.models import (
        AllocationLine,
        AllocationRun,
        CofinancingObligation,
        RequestResult,
        Round,
        RoundStatus,
    )

    assert run.status == AllocationRun.Status.SUCCEEDED, run.error
    assert AllocationRun.objects.filter(round=round_).count() == 1
    assert Round.objects.get(pk=round_.pk).status == RoundStatus.SOLVED
    kenya, nepal = round_.test_requests
    results = {r.request_id: r for r in RequestResult.objects.filter(run=run)}
    assert len(results) == 2
    assert results[kenya.pk].allocated_h100e_hours == pytest.approx(600, rel=1e-6)
    assert results[nepal.pk].allocated_h100e_hours == pytest.approx(400, rel=1e-6)
    lines = list(AllocationLine.objects.filter(run=run))
    assert len(lines) == 2  # written once: one lot, two requests
    assert sum(float(line.gpu_hours) for line in lines) == pytest.approx(1000, abs=1e-3)
    assert CofinancingObligation.objects.filter(run=run).count() == 2
    assert run.progress.get("state") == "done"


def test_a_worker_killed_mid_solve_is_replaced_and_the_round_is_solved_once(workers, small_round):
    from allocation import services

    first = workers.start(pause=120)
    run = services.round_enqueue_solve(round_=small_round)  # commits; the task goes to the test's queue
    assert wait_for(_mid_solve(run), timeout=90), workers.logs()
    killed_pid = run.progress["pid"]

    workers.kill(first)  # the whole worker, pool child included: nothing is acknowledged
    run.refresh_from_db()
    assert run.status == "running"
    assert not run.lines.exists()

    workers.start(pause=0)  # a new worker; the broker redelivers once the visibility timeout has passed
    assert wait_for(_finished(run), timeout=150), workers.logs()
    _assert_solved_once(small_round, run)
    assert run.progress.get("pid") != killed_pid


def test_a_pool_process_killed_mid_solve_is_retried_by_its_worker(workers, small_round):
    """Only the pool process dies (out of memory, say): the worker sees it lost, rejects the task back to
    the queue (``task_reject_on_worker_lost``) and runs it again in a fresh pool process."""
    from allocation import services

    workers.start(pause=4, visibility_timeout=3600)  # no redelivery by timeout: the requeue does it
    run = services.round_enqueue_solve(round_=small_round)
    assert wait_for(_mid_solve(run), timeout=90), workers.logs()
    child = run.progress["pid"]

    os.kill(child, signal.SIGKILL)

    assert wait_for(lambda: _mid_solve(run)() and run.progress["pid"] != child, timeout=60), workers.logs()
    assert wait_for(_finished(run), timeout=90), workers.logs()
    _assert_solved_once(small_round, run)
