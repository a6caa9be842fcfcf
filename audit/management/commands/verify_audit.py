"""`manage.py verify_audit`: recompute the audit chain; exit 1 and name the first broken link if any."""
from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Recompute the hash chain of the audit trail and report the first edited, deleted or reordered entry."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if options["json"]:
            import json

            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        if report.intact:
            if not options["json"]:
                self.stdout.write(self.style.SUCCESS(
                    f"The audit trail is intact: {report.entries} entries, head {report.head_hash}."))
            return
        if not options["json"]:
            for problem in report.problems:
                self.stderr.write(f"entry {problem.sequence}: {problem.kind}: {problem.message}")
        raise CommandError(f"The audit trail is broken at entry {report.problem.sequence}: {report.problem.message}",
                           returncode=1)
