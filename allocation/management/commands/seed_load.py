"""Fill a database for load tests: ``manage.py seed_load`` builds, in a few minutes, published rounds with
100,000 compute requests and 1,000,000 allocation lines (the sizes are options).

The shape follows the demo alliance (allocation/demo.py): its thirty requesting states and their
languages and crops, its request templates, sizes and hardware, its ten donors pledging real accelerators
at its two providers. Each round is published with one approved, succeeded run whose lines, per-request
results and co-financing obligations are consistent with each other (a request's result is the sum of its
lines; a state's obligation is the sum of its lines' co-financing). The lines are generated, not solved:
the engine's own benchmark is benchmarks/solver.py. Deterministic for a given ``--seed``.

Rows are written with ``bulk_create`` in batches (a few thousand rows per INSERT), inside one transaction
per round, so an interrupted seed leaves whole rounds only. It refuses to run twice into the same database
(the call it creates is its marker) unless ``--replace`` is given.
"""
import copy
import datetime
import hashlib
import json
import random
import time
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from allocation import demo
from allocation.models import (
    AllocationLine,
    AllocationRun,
    Call,
    CapacityLot,
    CofinancingObligation,
    ComputeRequest,
    HardwareType,
    Offer,
    Pledge,
    RequestResult,
    RequestStatus,
    Round,
    RoundStatus,
)
from allocation.reference import hardware_types_load
from members.models import MemberState, Organisation, OrganisationKind
from members.services import member_states_load

CALL_TITLE = "Load test: published rounds (generated)"
BATCH = 5000
LOTS_PER_DONOR = 3


def _hours(value: float) -> Decimal:
    return Decimal(f"{value:.4f}")


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _share(state: MemberState, policy: dict) -> float:
    return demo._cofinancing_share(state, policy)


def _batched(model, objects):
    """bulk_create in batches; returns the saved objects (with their ids on PostgreSQL and SQLite)."""
    return model.objects.bulk_create(objects, batch_size=BATCH)


class Command(BaseCommand):
    help = "Create published rounds with many requests and allocation lines, for load tests."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=100_000, help="compute requests in all (100,000)")
        parser.add_argument("--lines", type=int, default=1_000_000, help="allocation lines in all (1,000,000)")
        parser.add_argument("--rounds", type=int, default=20, help="published rounds to share them (20)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--replace", action="store_true", help="delete an earlier load-test seed first")

    def handle(self, *args, requests: int, lines: int, rounds: int, seed: int, replace: bool, **options):
        if rounds < 1 or requests < rounds or lines < requests:
            raise CommandError("Need at least one round, a request per round and a line per request.")
        existing = Call.objects.filter(title=CALL_TITLE)
        if existing.exists():
            if not replace:
                raise CommandError(f"The load-test seed is already in this database (call {CALL_TITLE!r}); "
                                   "use --replace to rebuild it.")
            self._delete(existing.get())
        started = time.monotonic()
        self.rng = random.Random(seed)
        self._reference()
        call = Call.objects.create(title=CALL_TITLE, description="Generated for load tests; not real decisions.")
        per_round = self._split(requests, rounds)
        lines_per_round = self._split(lines, rounds)
        for number, (count, line_count) in enumerate(zip(per_round, lines_per_round, strict=True), 1):
            with transaction.atomic():
                self._round(call, number, rounds, count, line_count)
            self.stdout.write(f"round {number}/{rounds}: {count:,} requests, {line_count:,} lines "
                              f"({time.monotonic() - started:,.0f} s)")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {rounds} published rounds, {requests:,} requests and {lines:,} allocation lines in "
            f"{time.monotonic() - started:,.0f} s."
        ))

    # --- set-up ---------------------------------------------------------------------------------------

    @staticmethod
    def _split(total: int, parts: int) -> list[int]:
        return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]

    def _delete(self, call: Call) -> None:
        with transaction.atomic():
            runs = AllocationRun.objects.filter(round__call=call)
            CofinancingObligation.objects.filter(run__in=runs).delete()
            AllocationLine.objects.filter(run__in=runs).delete()
            RequestResult.objects.filter(run__in=runs).delete()
            runs.delete()
            ComputeRequest.acceptable_hardware.through.objects.filter(computerequest__round__call=call).delete()
            ComputeRequest.objects.filter(round__call=call).delete()
            CapacityLot.objects.filter(pledge__round__call=call).delete()
            CapacityLot.objects.filter(offer__round__call=call).delete()
            Pledge.objects.filter(round__call=call).delete()
            Offer.objects.filter(round__call=call).delete()
            Round.objects.filter(call=call).delete()
            call.delete()
        self.stdout.write("Deleted the earlier load-test seed.")

    def _reference(self) -> None:
        if MemberState.objects.filter(iso3__in=demo.STATES).count() < len(demo.STATES):
            member_states_load()
        if HardwareType.objects.filter(key__in=demo.VALUE).count() < len(demo.VALUE):
            hardware_types_load()
        self.hardware = {h.key: h for h in HardwareType.objects.filter(key__in=demo.VALUE)}
        self.states = {s.iso3: s for s in MemberState.objects.filter(iso3__in=demo.STATES)}
        self.ministries = {}
        for iso3, (name, portfolio, _, _) in demo.STATES.items():
            self.ministries[iso3], _ = Organisation.objects.get_or_create(
                name=f"Ministry of {portfolio} of {name} (load test)",
                defaults={"kind": OrganisationKind.MINISTRY, "member_state": self.states[iso3]},
            )
        self.donors = {
            key: Organisation.objects.get_or_create(name=f"{spec[0]} (load test)",
                                                    defaults={"kind": OrganisationKind.DONOR})[0]
            for key, spec in demo.DONORS.items()
        }
        self.providers = {
            key: Organisation.objects.get_or_create(name=f"{spec[0]} (load test)",
                                                    defaults={"kind": OrganisationKind.PROVIDER})[0]
            for key, spec in demo.PROVIDERS.items()
        }

    # --- one round ------------------------------------------------------------------------------------

    def _round(self, call: Call, number: int, rounds: int, count: int, line_count: int) -> None:
        rng = self.rng
        now = timezone.now()
        opens = now - datetime.timedelta(days=30 * (rounds - number + 3))
        round_ = Round.objects.create(
            call=call, number=number, title=f"Load-test round {number}", opens_at=opens,
            submission_deadline=opens + datetime.timedelta(days=45), status=RoundStatus.PUBLISHED,
            policy=copy.deepcopy(settings.GACP["DEFAULT_POLICY"]),
            published_at=opens + datetime.timedelta(days=80),
        )
        lots = self._lots(round_, opens.date())
        plans = [self._plan(index) for index in range(count)]
        requests = _batched(ComputeRequest, [
            ComputeRequest(round=round_, member_state=self.states[plan["iso3"]], ministry=self.ministries[plan["iso3"]],
                           status=plan["status"], submitted_at=opens + datetime.timedelta(days=10),
                           score=Decimal(str(round(plan["quality"], 3))), **plan["fields"])
            for plan in plans
        ])
        through = ComputeRequest.acceptable_hardware.through
        _batched(through, [
            through(computerequest_id=request.id, hardwaretype_id=self.hardware[key].id)
            for request, plan in zip(requests, plans, strict=True) for key in plan["hardware"]
        ])
        scenario = {"format": "gacp.scenario/1", "round": round_.pk, "generated": "seed_load",
                    "requests": count, "lots": len(lots)}
        output = {"format": "gacp.allocation/1", "status": "optimal", "generated": "seed_load"}
        run = AllocationRun.objects.create(
            round=round_, status=AllocationRun.Status.SUCCEEDED, scenario=scenario,
            scenario_sha256=hashlib.sha256(json.dumps(scenario, sort_keys=True).encode()).hexdigest(),
            output=output, solver_status="optimal", started_at=opens + datetime.timedelta(days=60),
            finished_at=opens + datetime.timedelta(days=60, seconds=90), solve_seconds=90.0, levels=40,
            progress={"state": "done", "levels": 40}, is_approved=True,
        )
        allocated = [i for i, plan in enumerate(plans) if plan["status"] != RequestStatus.DEFERRED]
        counts = self._line_counts(allocated, line_count, len(lots))
        owed: dict[str, Decimal] = {}
        result_rows, line_rows = [], []
        for index, request in enumerate(requests):
            plan = plans[index]
            state = self.states[plan["iso3"]]
            place = {"income_group": state.income_group, "region": state.region}
            share = _share(state, round_.policy)
            k = counts.get(index, 0)
            fulfilment = rng.uniform(0.25, 1.0) if k else 0.0
            target = float(plan["fields"]["h100e_hours"]) * fulfilment
            chosen = rng.sample(lots, k) if k else []
            total_h100e, total_cofinancing, total_value = Decimal(0), Decimal(0), 0.0
            for lot in chosen:
                h100e = float(lot.hardware.h100e)
                h100e_hours = _hours(target / k)
                gpu_hours = _hours(float(h100e_hours) / h100e)
                value = float(gpu_hours) * float(lot.value_usd_per_gpu_hour)
                cofinancing = _money(value * share)
                cash = _money(float(gpu_hours) * float(lot.price_usd_per_gpu_hour)) if lot.offer_id else Decimal(0)
                line_rows.append(AllocationLine(run=run, request=request, lot=lot, gpu_hours=gpu_hours,
                                                h100e_hours=h100e_hours, cofinancing_usd=cofinancing,
                                                cash_usd=cash, **place))
                total_h100e += h100e_hours
                total_cofinancing += cofinancing
                total_value += value
            owed[plan["iso3"]] = owed.get(plan["iso3"], Decimal(0)) + total_cofinancing
            requested = float(plan["fields"]["h100e_hours"])
            result_rows.append(RequestResult(
                run=run, request=request, weight=round(rng.uniform(1.0, 3.5), 4),
                allocated_h100e_hours=float(total_h100e), fulfilment=min(1.0, float(total_h100e) / requested),
                deferred=not k, cofinancing_usd=total_cofinancing,
                subsidy_usd=_money(max(total_value - float(total_cofinancing), 0.0)),
                reason="allocated" if k else "deferred",
                explanation={"reason": "allocated" if k else "deferred", "generated": "seed_load"}, **place,
            ))
            if len(line_rows) >= 50_000:
                _batched(AllocationLine, line_rows)
                line_rows = []
        _batched(AllocationLine, line_rows)
        _batched(RequestResult, result_rows)
        due = (opens + datetime.timedelta(days=260)).date()
        _batched(CofinancingObligation, [
            CofinancingObligation(round=round_, run=run, member_state=self.states[iso3],
                                  share=Decimal(f"{_share(self.states[iso3], round_.policy):.6f}"),
                                  amount_usd=amount, due_date=due)
            for iso3, amount in sorted(owed.items()) if amount > 0
        ])

    def _lots(self, round_: Round, start: datetime.date) -> list[CapacityLot]:
        rng = self.rng
        lots = []
        for key, (_, _, specs, _) in demo.DONORS.items():
            pledge = Pledge.objects.create(donor=self.donors[key], round=round_, kind=Pledge.Kind.IN_KIND,
                                           note="Load-test pledge (generated).")
            for hardware, region, size, _earmark in specs[:LOTS_PER_DONOR]:
                lots.append(self._lot(hardware, region, size, start, pledge=pledge))
        for key, specs in demo.OFFERS.items():
            offer = Offer.objects.create(provider=self.providers[key], round=round_, note="Load-test offer.")
            for hardware, region, size, price in specs:
                lots.append(self._lot(hardware, region, size, start, offer=offer, price=price))
        rng.shuffle(lots)
        return _batched(CapacityLot, lots)

    def _lot(self, hardware: str, region: str, size: float, start, *, pledge=None, offer=None, price=None):
        provider = next(self.providers[key] for key, spec in demo.PROVIDERS.items() if region in spec[3])
        gpu_hours = Decimal(round(size * 400_000 * self.rng.uniform(0.85, 1.15) / float(self.hardware[hardware].h100e)))
        lot = CapacityLot(pledge=pledge, offer=offer, provider=provider, hardware=self.hardware[hardware],
                          region=region, gpu_hours=gpu_hours, available_from=start,
                          available_until=start + datetime.timedelta(days=364),
                          value_usd_per_gpu_hour=Decimal(str(demo.VALUE[hardware])),
                          price_usd_per_gpu_hour=Decimal(str(price)) if price is not None else None)
        return lot

    def _plan(self, index: int) -> dict:
        rng = self.rng
        iso3 = rng.choice(list(demo.STATES))
        template = rng.choice(demo.TEMPLATES)
        plan = self._builder().request_plan(iso3, template, first=index % 7 == 0)
        draw = rng.random()
        plan["status"] = (RequestStatus.DEFERRED if draw < 0.08 else RequestStatus.ACCEPTED if draw < 0.6
                          else RequestStatus.DECLINED if draw < 0.63 else RequestStatus.ALLOCATED)
        return plan

    def _builder(self):
        """The demo's request generator, drawing from this command's random stream."""
        if not hasattr(self, "_demo_builder"):
            builder = demo._Builder.__new__(demo._Builder)
            builder.rng = self.rng
            builder.states = self.states
            self._demo_builder = builder
        return self._demo_builder

    def _line_counts(self, indexes: list[int], total: int, lots: int) -> dict[int, int]:
        """How many lines each allocated request (by index) gets, 1 to ``lots``, adding up to ``total``."""
        allocated = len(indexes)
        if allocated == 0:
            return {}
        if total > allocated * lots:
            raise CommandError(f"{total:,} lines cannot fit: {allocated:,} requests x {lots} lots at most.")
        mean = total / allocated
        counts = [max(1, min(lots, round(self.rng.gauss(mean, mean / 3)))) for _ in range(allocated)]
        difference = total - sum(counts)
        index = 0
        while difference:
            step = 1 if difference > 0 else -1
            position = index % allocated
            if 1 <= counts[position] + step <= lots:
                counts[position] += step
                difference -= step
            index += 1
        return dict(zip(indexes, counts, strict=True))
