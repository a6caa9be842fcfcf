"""Print a round's gacp.scenario/1 document: ``manage.py export_round ROUND > round.json``.

By default it prints the exact scenario of the round's approved run (else its latest run), byte for
byte as hashed, so anyone can check the published SHA-256 and re-solve it with
``python -m allocation.solver round.json``. ``--fresh`` builds the scenario from the database now."""
import sys

from django.core.management.base import BaseCommand, CommandError

from allocation import scenario, selectors
from allocation.models import AllocationRun, Round


class Command(BaseCommand):
    help = "Write a round's allocation scenario (gacp.scenario/1) to standard output."

    def add_arguments(self, parser):
        parser.add_argument("round", type=int, help="the round's id")
        parser.add_argument("--run", type=int, help="export the scenario of this run of the round")
        parser.add_argument("--fresh", action="store_true", help="build the scenario from the database now")

    def handle(self, *args, **options):
        try:
            round_ = Round.objects.get(pk=options["round"])
        except Round.DoesNotExist:
            raise CommandError(f"No round with id {options['round']}.") from None
        if options["fresh"]:
            document = scenario.build_scenario(round_)
        else:
            run = self._run(round_, options["run"])
            document = run.scenario
            self.stderr.write(f"Scenario of run {run.pk}, sha256 {run.scenario_sha256}")
        sys.stdout.buffer.write(scenario.scenario_bytes(document))
        sys.stdout.buffer.flush()

    def _run(self, round_: Round, run_id: int | None) -> AllocationRun:
        if run_id is not None:
            run = round_.runs.filter(pk=run_id).first()
            if run is None:
                raise CommandError(f"Round {round_.pk} has no run {run_id}.")
            return run
        run = selectors.approved_run(round_) or selectors.latest_run(round_)
        if run is None:
            raise CommandError(f"Round {round_.pk} has not been solved yet; use --fresh to export it as it stands.")
        return run
