"""Build the demo alliance: ``manage.py load_demo`` (see allocation/demo.py for what it contains).

Loads the reference data if needed, then the demo's people, pledges, offers and the two rounds of the
call "Public-interest AI 2026", and prints the demo credentials and figures. When the demo is already
loaded it says so and changes nothing (exit status 0, so ``make run`` can call it every time); to
rebuild it, empty the database first (``manage.py flush``)."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from alliance.exceptions import ApplicationError
from allocation import demo


class Command(BaseCommand):
    help = "Create the demo alliance (states, donors, providers, round 1 closed and ready to solve, round 2 open)."

    def handle(self, *args, **options):
        try:
            summary = demo.demo_load()
        except demo.DemoAlreadyLoaded as error:
            self.stdout.write(self.style.WARNING(error.message))
            return
        except ApplicationError as error:
            raise CommandError(f"The demo could not be loaded: {error.message}") from None
        except ValidationError as error:
            raise CommandError(f"The demo could not be loaded: {'; '.join(error.messages)}") from None
        self.stdout.write(demo.summary_text(summary))
        self.stdout.write(self.style.SUCCESS("Demo alliance loaded."))
