"""Benchmark of the open data downloads on a published round of a million allocation lines.

    python benchmarks/opendata.py                 # 1,000,000 lines (1,000 requests x 1,000 lots)
    python benchmarks/opendata.py --requests 200 --lots 500

Builds the round in a throw-away SQLite database (or the one DATABASE_URL names: use a database of your own),
then times each format as the web view produces it: the CSV and JSON generators consumed to the end (what a
client receives as a stream, with the peak memory they add), and the XLSX workbook written to its temporary
file. Prints rows, seconds, rows per second, megabytes and the process's peak memory.
"""
from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--lots", type=int, default=1000)
    parser.add_argument("--skip-xlsx", action="store_true")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="gacp-opendata-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from alliance import opendata
    from allocation.models import (
        AllocationLine,
        AllocationRun,
        Call,
        CapacityLot,
        ComputeRequest,
        HardwareType,
        Pledge,
        RequestResult,
        Round,
    )
    from members.models import MemberState, Organisation

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with transaction.atomic():
        state = MemberState.objects.create(iso3="KEN", name="Kenya", region="SSA", income_group="LMIC",
                                           cofinancing_phase="accelerated")
        ministry = Organisation.objects.create(name="Ministry", kind="ministry", member_state=state)
        donor = Organisation.objects.create(name="Donor", kind="donor")
        provider = Organisation.objects.create(name="Provider", kind="provider")
        hardware = HardwareType.objects.create(key="NVIDIA_H100_SXM5_80GB", name="NVIDIA H100", manufacturer="NVIDIA",
                                               h100e=Decimal("1"))
        now = timezone.now()
        round_ = Round.objects.create(call=Call.objects.create(title="Benchmark"), number=1, title="Round 1",
                                      opens_at=now - datetime.timedelta(days=60),
                                      submission_deadline=now - datetime.timedelta(days=30), status="published",
                                      policy={}, published_at=now)
        pledge = Pledge.objects.create(donor=donor, round=round_, kind="in_kind")
        lots = CapacityLot.objects.bulk_create(
            CapacityLot(pledge=pledge, provider=provider, hardware=hardware, region="SSA", gpu_hours=Decimal("5000"),
                        available_from=datetime.date(2026, 1, 1), available_until=datetime.date(2026, 12, 31),
                        value_usd_per_gpu_hour=Decimal("2.40"))
            for _ in range(args.lots)
        )
        requests = ComputeRequest.objects.bulk_create(
            ComputeRequest(round=round_, member_state=state, ministry=ministry, title=f"Request {index}",
                           abstract="-", sector="health", h100e_hours=Decimal("9000"), status="allocated")
            for index in range(args.requests)
        )
        run = AllocationRun.objects.create(round=round_, status="succeeded", output={}, scenario_sha256="a" * 64,
                                           is_approved=True)
        RequestResult.objects.bulk_create(
            RequestResult(run=run, request=request, weight=1, allocated_h100e_hours=args.lots * 1.2345,
                          fulfilment=0.5, cofinancing_usd=0, subsidy_usd=0, income_group="LMIC", region="SSA")
            for request in requests
        )
        for request in requests:
            AllocationLine.objects.bulk_create(
                [AllocationLine(run=run, request=request, lot=lot, gpu_hours=Decimal("1.2345"),
                                h100e_hours=Decimal("1.2345"), cofinancing_usd=Decimal("0.12"), cash_usd=0,
                                income_group="LMIC", region="SSA") for lot in lots],
                batch_size=5000,
            )
    lines = args.requests * args.lots
    print(f"built {lines:,} allocation lines in {time.perf_counter() - started:.1f} s "
          f"({os.environ['DATABASE_URL'].split(':')[0]})")

    table = opendata.TABLES["allocations"]
    for name, produce in (
        ("csv", lambda: opendata.csv_chunks(table, round_id=None)),
        ("json", lambda: opendata.json_chunks(table, round_id=None)),
    ):
        started = time.perf_counter()
        size = sum(len(chunk.encode()) for chunk in produce())
        seconds = time.perf_counter() - started
        print(f"{name:5} {lines:>10,} rows {seconds:7.1f} s {lines / seconds:>9,.0f} rows/s {size / 1e6:8.1f} MB "
              f"peak {peak_mb():,.0f} MB")
    if not args.skip_xlsx:
        started = time.perf_counter()
        handle = opendata.xlsx_file([table], round_id=None)
        size = handle.seek(0, 2)
        handle.close()
        seconds = time.perf_counter() - started
        print(f"xlsx  {lines:>10,} rows {seconds:7.1f} s {lines / seconds:>9,.0f} rows/s {size / 1e6:8.1f} MB "
              f"peak {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
