"""A database error in the middle of a write leaves nothing half-done: each service writes in one
transaction, so a failure after some rows were written rolls all of them back. On PostgreSQL, with real
commits, as in production."""
import pytest
from django.db import DataError, OperationalError

pytestmark = [pytest.mark.integration]


def _fail_on_call(monkeypatch, target, name: str, error: Exception, on_call: int = 1):
    """Make ``target.name`` raise ``error`` on its ``on_call``-th call (the earlier calls go through)."""
    real = getattr(target, name)
    calls = {"count": 0}

    def failing(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == on_call:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return calls


def _nothing_stored(run) -> None:
    from allocation.models import AllocationLine, CofinancingObligation, RequestResult

    assert not AllocationLine.objects.filter(run=run).exists()
    assert not RequestResult.objects.filter(run=run).exists()
    assert not CofinancingObligation.objects.filter(run=run).exists()


def test_a_lost_connection_while_storing_a_run_writes_nothing_and_the_retry_stores_it_once(
    postgres, small_round, no_dispatch, monkeypatch
):
    """The lines and results are written, then the obligations fail: all of it is rolled back, the run is
    still running (the task retries on OperationalError), and the retry stores the decision once."""
    from allocation import services
    from allocation.models import AllocationLine, AllocationRun, CofinancingObligation, Round, RoundStatus

    run = services.round_enqueue_solve(round_=small_round)
    _fail_on_call(monkeypatch, CofinancingObligation.objects, "bulk_create",
                  OperationalError("server closed the connection unexpectedly"))

    with pytest.raises(OperationalError):
        services.run_execute(run_id=run.id)

    run.refresh_from_db()
    _nothing_stored(run)
    assert run.status == AllocationRun.Status.RUNNING
    assert run.output is None
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.SOLVING

    monkeypatch.undo()
    services.run_execute(run_id=run.id)  # the task's retry
    run.refresh_from_db()
    assert run.status == AllocationRun.Status.SUCCEEDED
    assert AllocationLine.objects.filter(run=run).count() == 2
    assert CofinancingObligation.objects.filter(run=run).count() == 2
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.SOLVED


def test_a_decision_the_database_refuses_fails_the_run_and_frees_the_round(
    postgres, small_round, no_dispatch, monkeypatch
):
    """An error that a retry would repeat (a value out of range): nothing is written, the run fails with the
    reason, and the round is closed again so the secretariat can act."""
    from allocation import services
    from allocation.models import AllocationRun, RequestResult, Round, RoundStatus

    run = services.round_enqueue_solve(round_=small_round)
    _fail_on_call(monkeypatch, RequestResult.objects, "bulk_create", DataError("numeric field overflow"))

    services.run_execute(run_id=run.id)

    run.refresh_from_db()
    _nothing_stored(run)
    assert run.status == AllocationRun.Status.FAILED
    assert "could not be stored" in run.error and "numeric field overflow" in run.error
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.CLOSED


def test_a_database_error_while_publishing_leaves_the_round_unpublished(postgres, small_round, no_dispatch,
                                                                        monkeypatch):
    """The first request's new status is written, the second's fails: the round is still solved, unpublished,
    and no request changed."""
    from allocation import services
    from allocation.models import ComputeRequest, RequestStatus, Round, RoundStatus

    run = services.round_enqueue_solve(round_=small_round)
    services.run_execute(run_id=run.id)
    services.run_approve(run=run)
    calls = _fail_on_call(monkeypatch, ComputeRequest, "save", OperationalError("disk full"), on_call=2)

    with pytest.raises(OperationalError):
        services.round_publish(round_=small_round)

    assert calls["count"] == 2
    round_ = Round.objects.get(pk=small_round.pk)
    assert round_.status == RoundStatus.SOLVED
    assert round_.published_at is None
    assert set(ComputeRequest.objects.filter(round=small_round).values_list("status", flat=True)) == {
        RequestStatus.SCORED
    }


def test_a_database_error_while_freezing_a_solve_leaves_no_run_and_sends_nothing(postgres, small_round,
                                                                                 no_dispatch, monkeypatch):
    from allocation import services
    from allocation.models import AllocationRun, Round, RoundStatus

    _fail_on_call(monkeypatch, Round, "save", OperationalError("could not extend file"))

    with pytest.raises(OperationalError):
        services.round_enqueue_solve(round_=small_round)

    assert not AllocationRun.objects.filter(round=small_round).exists()
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.CLOSED
    assert no_dispatch == []  # nothing reaches the queue for a transaction that never committed


def test_a_database_error_while_recording_a_payment_changes_nothing(postgres, small_round, no_dispatch,
                                                                    monkeypatch):
    import datetime
    from decimal import Decimal

    from allocation import services
    from allocation.models import CofinancingObligation

    run = services.round_enqueue_solve(round_=small_round)
    services.run_execute(run_id=run.id)
    obligation = CofinancingObligation.objects.filter(run=run).first()
    _fail_on_call(monkeypatch, CofinancingObligation, "save", OperationalError("connection reset"))

    with pytest.raises(OperationalError):
        services.obligation_record_payment(obligation=obligation, amount_usd=Decimal("1.00"),
                                           paid_on=datetime.date(2026, 7, 1))

    obligation.refresh_from_db()
    assert obligation.paid_usd == Decimal("0")
    assert obligation.paid_at is None
