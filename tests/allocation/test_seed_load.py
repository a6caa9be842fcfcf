"""``manage.py seed_load`` builds published rounds whose lines, results and obligations agree, with exactly
the sizes asked for, and refuses to seed the same database twice."""
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

pytestmark = pytest.mark.django_db


def test_seed_builds_consistent_published_rounds_of_the_sizes_asked():
    from allocation.models import (
        AllocationLine,
        AllocationRun,
        CofinancingObligation,
        ComputeRequest,
        RequestResult,
        RequestStatus,
        Round,
        RoundStatus,
    )
    from allocation.selectors import published_lines

    call_command("seed_load", requests=300, lines=2000, rounds=3, stdout=io.StringIO())

    assert Round.objects.filter(status=RoundStatus.PUBLISHED).count() == 3
    assert ComputeRequest.objects.count() == 300
    assert AllocationLine.objects.count() == 2000
    assert published_lines().count() == 2000  # every line is in the approved run of a published round
    assert AllocationRun.objects.filter(is_approved=True, status="succeeded").count() == 3
    assert RequestResult.objects.count() == 300
    for result in RequestResult.objects.select_related("request")[:60]:
        lines = AllocationLine.objects.filter(run=result.run, request=result.request)
        total = lines.aggregate(total=Sum("h100e_hours"))["total"] or Decimal(0)
        assert result.allocated_h100e_hours == pytest.approx(float(total), abs=1e-6)
        assert result.deferred == (result.request.status == RequestStatus.DEFERRED)
        assert result.deferred == (not lines.exists())
    for obligation in CofinancingObligation.objects.all():
        owed = AllocationLine.objects.filter(
            run=obligation.run, request__member_state=obligation.member_state
        ).aggregate(total=Sum("cofinancing_usd"))["total"]
        assert obligation.amount_usd == owed
    for line in AllocationLine.objects.select_related("lot__hardware")[:200]:
        assert line.lot.pledge_id or line.lot.offer_id
        assert line.h100e_hours == pytest.approx(line.gpu_hours * line.lot.hardware.h100e, abs=Decimal("0.001"))


def test_seed_refuses_to_run_twice_unless_asked_to_replace():
    from allocation.models import AllocationLine, ComputeRequest

    quiet = io.StringIO()
    call_command("seed_load", requests=40, lines=100, rounds=2, stdout=quiet)
    with pytest.raises(CommandError, match="already in this database"):
        call_command("seed_load", requests=40, lines=100, rounds=2, stdout=quiet)
    call_command("seed_load", requests=50, lines=120, rounds=2, replace=True, stdout=quiet)
    assert ComputeRequest.objects.count() == 50
    assert AllocationLine.objects.count() == 120


def test_seed_refuses_more_lines_than_requests_can_hold():
    with pytest.raises(CommandError, match="cannot fit"):
        call_command("seed_load", requests=10, lines=10_000, rounds=1, stdout=io.StringIO())
