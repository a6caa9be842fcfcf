"""Solve a closed round: ``manage.py solve_round ROUND [--approve] [--publish]``.

The run is queued like any solve started from a page: in the embedded default (eager Celery) it runs
in this process; with a broker, a worker takes it and this command follows its progress."""
import time

from django.core.management.base import BaseCommand, CommandError

from alliance.exceptions import ApplicationError
from allocation import services
from allocation.models import AllocationRun, Round, RoundStatus


class Command(BaseCommand):
    help = "Solve a closed round with the allocation engine, optionally approving and publishing the run."

    def add_arguments(self, parser):
        parser.add_argument("round", help="the round's id, or 'demo' for the demo alliance's round 1")
        parser.add_argument("--approve", action="store_true", help="approve the run when it succeeds")
        parser.add_argument("--publish", action="store_true", help="approve and publish the run when it succeeds")
        parser.add_argument("--if-needed", action="store_true",
                            help="do nothing when the round is already solved or published")
        parser.add_argument("--wait", type=float, default=1800.0, help="seconds to wait for a worker (default 1800)")

    def handle(self, *args, **options):
        round_ = self._round(options["round"])
        if options["if_needed"] and round_.status in (RoundStatus.SOLVED, RoundStatus.PUBLISHED):
            self.stdout.write(f"{round_} is already {round_.get_status_display().lower()}; nothing to do.")
            return
        try:
            run = services.round_enqueue_solve(round_=round_)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Run {run.pk} queued for {round_} (scenario sha256 {run.scenario_sha256}).")
        run = self._follow(run, options["wait"])
        if run.status != AllocationRun.Status.SUCCEEDED:
            raise CommandError(f"Run {run.pk} {run.get_status_display().lower()}: {run.error or 'no result yet'}")
        self.stdout.write(self.style.SUCCESS(
            f"Run {run.pk}: {run.solver_status}, {run.levels} levels, {run.variables} variables, "
            f"{run.solve_seconds:.2f} s; {run.lines.count()} allocation lines."
        ))
        if options["approve"] or options["publish"]:
            services.run_approve(run=run)
            self.stdout.write(f"Run {run.pk} approved.")
        if options["publish"]:
            services.round_publish(round_=run.round)
            self.stdout.write(self.style.SUCCESS(f"{run.round} published."))

    def _round(self, key: str) -> Round:
        if key == "demo":
            round_ = Round.objects.filter(call__title__startswith="Public-interest AI", number=1).first()
            if round_ is None:
                raise CommandError("No demo round: run `manage.py load_demo` first.")
            return round_
        try:
            return Round.objects.get(pk=int(key))
        except (ValueError, Round.DoesNotExist):
            raise CommandError(f"No round with id {key!r}.") from None

    def _follow(self, run: AllocationRun, wait: float) -> AllocationRun:
        deadline = time.monotonic() + wait
        shown = None
        while True:
            run.refresh_from_db()
            if run.status in (AllocationRun.Status.SUCCEEDED, AllocationRun.Status.FAILED):
                return run
            if run.progress != shown:
                shown = run.progress
                self.stdout.write(f"  {run.get_status_display()}: {shown.get('levels', 0)} levels done")
            if time.monotonic() > deadline:
                return run
            time.sleep(0.5)
