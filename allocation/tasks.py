"""Celery tasks of the allocation app: thin wrappers over services, with JSON arguments (ids)."""
from celery import shared_task
from django.db import OperationalError

from allocation import services


# The run row is the task's result (status, progress, output, error): nothing is stored in a result backend,
# so enqueueing touches the broker only, and fails fast when it is down instead of retrying the backend.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def solve_round_task(self, run_id: int) -> dict:
    """Solve one queued allocation run. Idempotent: the run is claimed by compare-and-set, so a
    redelivered task (a worker died mid-solve) completes the round exactly once."""
    run = services.run_execute(run_id=run_id)
    return {"run": run.id, "status": run.status, "round": run.round_id}


@shared_task(acks_late=True, ignore_result=True)
def runs_recover_stale() -> dict:
    """Fail runs whose worker vanished without the task being redelivered, so the round can be
    solved again (scheduled by Celery beat)."""
    failed = services.runs_fail_stale()
    return {"failed": failed}
