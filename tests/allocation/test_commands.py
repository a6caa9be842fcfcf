"""solve_round and export_round: a published decision can be re-run by anyone and compared byte for byte."""
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from allocation import scenario
from allocation.models import AllocationRun, ComputeRequest, RequestStatus, RoundStatus
from allocation.solver import canonical_json

ROOT = Path(__file__).resolve().parents[2]
# Committed transactions, as in real use: the solve is enqueued when the command's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def solve_now(eager_celery):
    """Run solve_round as a user would: the queued task executes once the command's transaction commits."""

    def run(*args):
        out = io.StringIO()
        call_command("solve_round", *args, "--wait", "60", stdout=out)
        return out.getvalue()

    return run


def test_solve_round_solves_approves_and_publishes(small_round, solve_now):
    out = solve_now(str(small_round.pk), "--publish")
    small_round.refresh_from_db()
    assert small_round.status == RoundStatus.PUBLISHED
    run = AllocationRun.objects.get(round=small_round)
    assert run.is_approved and run.status == AllocationRun.Status.SUCCEEDED
    assert "published" in out
    statuses = set(ComputeRequest.objects.filter(round=small_round).values_list("status", flat=True))
    assert statuses == {RequestStatus.ALLOCATED}


def test_solve_round_if_needed_leaves_a_solved_round_alone(small_round, solve_now):
    solve_now(str(small_round.pk))
    assert "nothing to do" in solve_now(str(small_round.pk), "--if-needed")
    assert AllocationRun.objects.filter(round=small_round).count() == 1


def test_solve_round_names_what_is_wrong(small_round):
    with pytest.raises(CommandError, match="No round with id '999999'"):
        call_command("solve_round", "999999")
    small_round.status = RoundStatus.OPEN
    small_round.save()
    with pytest.raises(CommandError, match="only a closed or solved round"):
        call_command("solve_round", str(small_round.pk))


def test_export_round_refuses_an_unsolved_round_unless_fresh(small_round, capsysbinary):
    with pytest.raises(CommandError, match="--fresh"):
        call_command("export_round", str(small_round.pk))
    call_command("export_round", str(small_round.pk), "--fresh")
    document = json.loads(capsysbinary.readouterr().out)
    assert document["format"] == "gacp.scenario/1" and len(document["requests"]) == 2


def test_exported_round_matches_its_hash_and_re_solves_to_the_same_decision(small_round, solve_now, capsysbinary,
                                                                            tmp_path):
    solve_now(str(small_round.pk), "--publish")
    run = AllocationRun.objects.get(round=small_round)
    capsysbinary.readouterr()
    call_command("export_round", str(small_round.pk))
    exported = capsysbinary.readouterr().out
    assert hashlib.sha256(exported).hexdigest() == run.scenario_sha256
    assert exported == scenario.scenario_bytes(run.scenario)

    path = tmp_path / "round.json"
    path.write_bytes(exported)
    cli = subprocess.run([sys.executable, "-m", "allocation.solver", str(path), "--canonical"], cwd=ROOT,
                         capture_output=True, check=False, env={"PATH": "/usr/bin:/bin"})
    assert cli.returncode == 0, cli.stderr.decode()
    assert cli.stdout.decode() == canonical_json(run.output)
