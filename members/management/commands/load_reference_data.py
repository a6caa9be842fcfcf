"""Load the reference data shipped in data/: ``manage.py load_reference_data``.

Creates or updates the 218 World Bank economies as member states (income groups, GNI, co-financing
phases) and the accelerator models with their H100-equivalent factors. Safe to run again: rows are
updated in place, and phases the secretariat has overridden are kept."""
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from allocation.reference import DATA_DIR, hardware_types_load
from members.services import member_states_load


class Command(BaseCommand):
    help = "Load member states (World Bank, Gavi) and hardware types (Epoch AI) from the data folder."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help=f"folder of the CSV files ({DATA_DIR})")

    def handle(self, *args, **options):
        data_dir = options["data_dir"]
        with transaction.atomic():
            states = member_states_load(data_dir=data_dir)
            hardware = hardware_types_load(data_dir=data_dir)
        self.stdout.write(self.style.SUCCESS(f"Loaded {states} member states and {hardware} hardware types "
                                             f"from {data_dir}."))
