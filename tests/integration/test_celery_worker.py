"""A solve enqueued through Redis is executed by a real worker process and lands in PostgreSQL."""
import pytest

from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_solves_a_round_enqueued_through_redis(celery_worker_process, small_round):
    from allocation import services
    from allocation.models import AllocationLine, AllocationRun, RequestResult, Round, RoundStatus

    run = services.round_enqueue_solve(round_=small_round)  # commits: the task goes to Redis

    def finished():
        run.refresh_from_db()
        return run.status in (AllocationRun.Status.SUCCEEDED, AllocationRun.Status.FAILED)

    log = celery_worker_process.log_path
    assert wait_for(finished, timeout=180), f"run still {run.status}; worker log:\n{log.read_text()}"
    assert run.status == AllocationRun.Status.SUCCEEDED, run.error
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.SOLVED
    kenya, nepal = small_round.test_requests
    results = {r.request_id: r for r in RequestResult.objects.filter(run=run)}
    assert results[kenya.pk].allocated_h100e_hours == pytest.approx(600, rel=1e-6)
    assert results[nepal.pk].allocated_h100e_hours == pytest.approx(400, rel=1e-6)
    lines = AllocationLine.objects.filter(run=run)
    assert sum(float(line.gpu_hours) for line in lines) == pytest.approx(1000, abs=1e-3)
    assert run.progress.get("state") == "done"


def test_redelivered_task_completes_the_round_exactly_once(celery_worker_process, small_round):
    """Running the same task twice (as after a redelivery) stores one set of results."""
    from allocation import services
    from allocation.models import AllocationLine, AllocationRun
    from allocation.tasks import solve_round_task

    run = services.round_enqueue_solve(round_=small_round)
    solve_round_task.delay(run.id)  # a duplicate delivery of the same run

    def finished():
        run.refresh_from_db()
        return run.status == AllocationRun.Status.SUCCEEDED

    assert wait_for(finished, timeout=180), celery_worker_process.log_path.read_text()
    wait_for(lambda: False, timeout=2)  # give the duplicate time to run
    assert AllocationLine.objects.filter(run=run).count() == 2
    assert AllocationRun.objects.filter(round=small_round).count() == 1
