"""Every state change of the allocation app: pledges, offers, requests, reviews, rounds and runs.

Each service takes keyword-only arguments, runs in one transaction, validates with ``full_clean()``
before saving, locks the rows whose status it changes, and refuses with an ``ApplicationError``
subclass that names what is wrong.
"""
import datetime
import logging
import time
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import Avg
from django.utils import timezone

from alliance.cache import public_data_changed
from alliance.exceptions import ApplicationError
from allocation import scenario as scenario_doc
from allocation.exceptions import InvalidTransition, NotPermitted, RoundNotReady
from allocation.models import (
    AllocationLine,
    AllocationRun,
    Call,
    CapacityLot,
    CofinancingObligation,
    ComputeRequest,
    CountryBudget,
    HardwareType,
    Offer,
    Pledge,
    RequestResult,
    RequestStatus,
    Review,
    Round,
    RoundStatus,
)
from allocation.selectors import is_reviewer, is_secretariat, membership_of
from members.models import MemberState, Organisation, OrganisationKind, Role

logger = logging.getLogger(__name__)

EDITABLE_REQUEST_FIELDS = (
    "title", "abstract", "sector", "h100e_hours", "min_h100e_hours", "data_residency_regions",
    "local_language", "open_weights", "params_billion",
)
POLICY_NUMBERS = ("local_language_bonus", "open_weights_bonus", "small_model_bonus", "small_model_max_params_billion")
COFINANCING_KEYS = (
    "initial_share", "preparatory_growth", "preparatory_cap", "accelerated_start_share", "accelerated_years",
)


def _organisation_of(user, role: str, kind: str) -> Organisation:
    """The organisation on whose behalf ``user`` acts in ``role``, or a refusal."""
    membership = membership_of(user)
    if membership is None or membership.role != role or membership.organisation.kind != kind:
        raise NotPermitted(f"Only a {Role(role).label.lower()} may do this.", {"role": role})
    return membership.organisation


def _require_secretariat(user) -> None:
    if user is None:  # system actions (management commands, the worker) act as the secretariat
        return
    if not is_secretariat(user):
        raise NotPermitted("Only the secretariat may do this.", {"role": Role.SECRETARIAT_OFFICER})


def _lock(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def _save(instance):
    instance.full_clean()
    instance.save()
    return instance


# --- Calls and rounds ---------------------------------------------------------------------------


@transaction.atomic
def call_create(*, title: str, description: str = "") -> Call:
    return _save(Call(title=title, description=description))


def policy_validate(policy: dict) -> dict:
    """Check a round's policy: every weight and co-financing parameter present and in range."""
    problems = {}
    if not isinstance(policy, dict):
        raise ApplicationError("The policy must be an object.", {"policy": "not an object"})
    income = policy.get("income_weights")
    if not isinstance(income, dict) or set(income) != {"LIC", "LMIC", "UMIC", "HIC"}:
        problems["income_weights"] = "needs a weight for each of LIC, LMIC, UMIC and HIC"
    elif any(not isinstance(v, int | float) or v <= 0 for v in income.values()):
        problems["income_weights"] = "weights must be positive numbers"
    sectors = policy.get("sector_weights", {})
    if not isinstance(sectors, dict) or any(not isinstance(v, int | float) or v <= 0 for v in sectors.values()):
        problems["sector_weights"] = "sector weights must be positive numbers"
    for key in POLICY_NUMBERS:
        value = policy.get(key)
        if not isinstance(value, int | float) or value < 0:
            problems[key] = "must be a number >= 0"
    cofinancing = policy.get("cofinancing")
    if not isinstance(cofinancing, dict):
        problems["cofinancing"] = "needs " + ", ".join(COFINANCING_KEYS)
    else:
        for key in COFINANCING_KEYS:
            value = cofinancing.get(key)
            if not isinstance(value, int | float) or value < 0:
                problems[f"cofinancing.{key}"] = "must be a number >= 0"
        for key in ("initial_share", "preparatory_cap", "accelerated_start_share"):
            value = cofinancing.get(key)
            if isinstance(value, int | float) and value > 1:
                problems[f"cofinancing.{key}"] = "is a share: must be between 0 and 1"
        if cofinancing.get("accelerated_years") == 0:
            problems["cofinancing.accelerated_years"] = "must be at least 1"
    if problems:
        raise ApplicationError("The policy is not valid: " + "; ".join(f"{k} {v}" for k, v in problems.items()),
                               problems)
    return policy


@transaction.atomic
def round_create(
    *, call: Call, number: int, title: str, opens_at: datetime.datetime, submission_deadline: datetime.datetime,
    policy: dict | None = None,
) -> Round:
    policy = policy_validate(policy if policy is not None else settings.GACP["DEFAULT_POLICY"])
    public_data_changed()
    return _save(Round(call=call, number=number, title=title, opens_at=opens_at,
                       submission_deadline=submission_deadline, policy=policy))


@transaction.atomic
def round_set_policy(*, round_: Round, policy: dict, user=None) -> Round:
    """Change a round's weights and co-financing parameters; kept with the round and its runs."""
    _require_secretariat(user)
    round_ = _lock(Round, round_.pk)
    if round_.status in (RoundStatus.SOLVING, RoundStatus.PUBLISHED):
        raise InvalidTransition(f"The policy of a {round_.get_status_display().lower()} round cannot change.")
    round_.policy = policy_validate(policy)
    return _save(round_)


def _round_transition(round_: Round, allowed: Iterable[str], target: str) -> Round:
    """Compare-and-set a round's status under a row lock."""
    locked = _lock(Round, round_.pk)
    if locked.status not in allowed:
        raise InvalidTransition(
            f"The round is {locked.get_status_display().lower()}; it must be "
            + " or ".join(RoundStatus(s).label.lower() for s in allowed) + ".",
            {"status": locked.status},
        )
    locked.status = target
    if target == RoundStatus.PUBLISHED:
        locked.published_at = timezone.now()
    public_data_changed()
    return _save(locked)


@transaction.atomic
def round_close(*, round_: Round, user=None) -> Round:
    _require_secretariat(user)
    return _round_transition(round_, [RoundStatus.OPEN], RoundStatus.CLOSED)


@transaction.atomic
def round_reopen(*, round_: Round, user=None) -> Round:
    _require_secretariat(user)
    return _round_transition(round_, [RoundStatus.CLOSED], RoundStatus.OPEN)


@transaction.atomic
def country_budget_set(*, round_: Round, member_state: MemberState, budget_usd: Decimal | None) -> None:
    """A state's co-financing commitment for the round (None removes the limit)."""
    _lock(Round, round_.pk)  # two settings of the same budget queue here instead of inserting it twice
    if budget_usd is None:
        CountryBudget.objects.filter(round=round_, member_state=member_state).delete()
        return
    budget = CountryBudget.objects.filter(round=round_, member_state=member_state).first() or CountryBudget(
        round=round_, member_state=member_state
    )
    budget.budget_usd = budget_usd
    _save(budget)


# --- Pledges and offers -------------------------------------------------------------------------


def _build_lots(lots: list[dict], *, pledge: Pledge | None = None, offer: Offer | None = None) -> list[CapacityLot]:
    built = []
    errors = {}
    for index, spec in enumerate(lots):
        spec = dict(spec)
        countries = spec.pop("earmark_countries", [])
        lot = CapacityLot(pledge=pledge, offer=offer, **spec)
        if offer is not None:
            lot.provider = offer.provider
        try:
            lot.full_clean(exclude=["pledge", "offer"])
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"lots[{index}].{field}"] = messages
            continue
        if lot.provider.kind != OrganisationKind.PROVIDER:
            errors[f"lots[{index}].provider"] = [f"{lot.provider} is not a provider."]
            continue
        built.append((lot, countries))
    if errors:
        raise ValidationError(errors)
    saved = []
    for lot, countries in built:
        lot.save()
        lot.earmark_countries.set(countries)
        saved.append(lot)
    return saved


def _require_open(round_: Round) -> Round:
    locked = _lock(Round, round_.pk)
    if locked.status != RoundStatus.OPEN:
        raise InvalidTransition(f"The round is {locked.get_status_display().lower()}; it no longer takes this.",
                                {"status": locked.status})
    return locked


@transaction.atomic
def pledge_create(
    *, user, round_: Round, kind: str, cash_usd: Decimal = Decimal("0"), lots: list[dict] | None = None,
    note: str = "",
) -> Pledge:
    """A donor pledges in-kind capacity lots, or cash for buying offered capacity, to an open round."""
    donor = _organisation_of(user, Role.DONOR_OFFICER, OrganisationKind.DONOR)
    round_ = _require_open(round_)
    lots = lots or []
    if kind == Pledge.Kind.IN_KIND and not lots:
        raise ValidationError({"lots": ["An in-kind pledge needs at least one capacity lot."]})
    if kind == Pledge.Kind.IN_KIND and cash_usd:
        raise ValidationError({"cash_usd": ["An in-kind pledge carries no cash; pledge cash separately."]})
    if kind == Pledge.Kind.CASH and (lots or cash_usd is None or cash_usd <= 0):
        raise ValidationError({"cash_usd": ["A cash pledge needs a positive amount and no lots."]})
    pledge = _save(Pledge(donor=donor, round=round_, kind=kind, cash_usd=cash_usd, note=note, created_by=user))
    _build_lots(lots, pledge=pledge)
    public_data_changed()
    return pledge


@transaction.atomic
def pledge_withdraw(*, user, pledge: Pledge) -> Pledge:
    donor = _organisation_of(user, Role.DONOR_OFFICER, OrganisationKind.DONOR)
    pledge = _lock(Pledge, pledge.pk)
    if pledge.donor_id != donor.id:
        raise NotPermitted("This pledge belongs to another donor.")
    _require_open(pledge.round)
    if pledge.status == Pledge.Status.WITHDRAWN:
        raise InvalidTransition("The pledge is already withdrawn.")
    pledge.status = Pledge.Status.WITHDRAWN
    public_data_changed()
    return _save(pledge)


@transaction.atomic
def offer_create(*, user, round_: Round, lots: list[dict], note: str = "") -> Offer:
    """A provider offers capacity for sale, each lot with a price per GPU-hour."""
    provider = _organisation_of(user, Role.PROVIDER_OFFICER, OrganisationKind.PROVIDER)
    round_ = _require_open(round_)
    if not lots:
        raise ValidationError({"lots": ["An offer needs at least one capacity lot."]})
    offer = _save(Offer(provider=provider, round=round_, note=note, created_by=user))
    _build_lots([{**lot, "provider": provider} for lot in lots], offer=offer)
    public_data_changed()
    return offer


@transaction.atomic
def offer_withdraw(*, user, offer: Offer) -> Offer:
    provider = _organisation_of(user, Role.PROVIDER_OFFICER, OrganisationKind.PROVIDER)
    offer = _lock(Offer, offer.pk)
    if offer.provider_id != provider.id:
        raise NotPermitted("This offer belongs to another provider.")
    _require_open(offer.round)
    if offer.status == Offer.Status.WITHDRAWN:
        raise InvalidTransition("The offer is already withdrawn.")
    offer.status = Offer.Status.WITHDRAWN
    public_data_changed()
    return _save(offer)


# --- Compute requests and reviews ---------------------------------------------------------------


def _check_request_fields(fields: dict) -> None:
    unknown = set(fields) - set(EDITABLE_REQUEST_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}.", {"fields": sorted(unknown)})


def _set_hardware(request: ComputeRequest, hardware: Iterable[HardwareType]) -> None:
    hardware = list(hardware)
    if not hardware:
        raise ValidationError({"acceptable_hardware": ["Choose at least one acceptable hardware type."]})
    request.acceptable_hardware.set(hardware)


@transaction.atomic
def request_create(*, user, round_: Round, acceptable_hardware: Iterable[HardwareType], **fields) -> ComputeRequest:
    """A ministry officer drafts a request for its own state in an open round."""
    ministry = _organisation_of(user, Role.MINISTRY_OFFICER, OrganisationKind.MINISTRY)
    round_ = _require_open(round_)
    _check_request_fields(fields)
    request = _save(ComputeRequest(round=round_, ministry=ministry, member_state=ministry.member_state,
                                   created_by=user, status=RequestStatus.DRAFT, **fields))
    _set_hardware(request, acceptable_hardware)
    return request


def _own_request(user, request: ComputeRequest) -> ComputeRequest:
    ministry = _organisation_of(user, Role.MINISTRY_OFFICER, OrganisationKind.MINISTRY)
    locked = _lock(ComputeRequest, request.pk)
    if locked.member_state_id != ministry.member_state_id:
        raise NotPermitted("This request belongs to another member state.")
    return locked


@transaction.atomic
def request_update(
    *, user, request: ComputeRequest, acceptable_hardware: Iterable[HardwareType] | None = None, **fields
) -> ComputeRequest:
    request = _own_request(user, request)
    if request.status != RequestStatus.DRAFT:
        raise InvalidTransition("Only a draft can be edited; withdraw and submit a new request instead.",
                                {"status": request.status})
    _check_request_fields(fields)
    for name, value in fields.items():
        setattr(request, name, value)
    _save(request)
    if acceptable_hardware is not None:
        _set_hardware(request, acceptable_hardware)
    return request


@transaction.atomic
def request_submit(*, user, request: ComputeRequest) -> ComputeRequest:
    request = _own_request(user, request)
    round_ = _require_open(request.round)
    if request.status != RequestStatus.DRAFT:
        raise InvalidTransition("Only a draft can be submitted.", {"status": request.status})
    if timezone.now() > round_.submission_deadline:
        raise InvalidTransition("The round's submission deadline has passed.",
                                {"deadline": round_.submission_deadline.isoformat()})
    if not request.acceptable_hardware.exists():
        raise ValidationError({"acceptable_hardware": ["Choose at least one acceptable hardware type."]})
    request.status = RequestStatus.SUBMITTED
    request.submitted_at = timezone.now()
    public_data_changed()
    return _save(request)


WITHDRAWABLE = (RequestStatus.DRAFT, RequestStatus.SUBMITTED, RequestStatus.ELIGIBLE, RequestStatus.SCORED)


@transaction.atomic
def request_withdraw(*, user, request: ComputeRequest) -> ComputeRequest:
    request = _own_request(user, request)
    if request.status not in WITHDRAWABLE:
        raise InvalidTransition("A request can be withdrawn only before the round is allocated.",
                                {"status": request.status})
    # Locked: a solve freezing the round's requests at this moment either sees the withdrawal or refuses it.
    round_ = _lock(Round, request.round_id)
    if round_.status not in (RoundStatus.OPEN, RoundStatus.CLOSED):
        raise InvalidTransition("The round is being allocated; the request can no longer be withdrawn.")
    request.status = RequestStatus.WITHDRAWN
    public_data_changed()
    return _save(request)


@transaction.atomic
def request_set_eligibility(*, user, request: ComputeRequest, eligible: bool, note: str = "") -> ComputeRequest:
    _require_secretariat(user)
    request = _lock(ComputeRequest, request.pk)
    if request.status not in (RequestStatus.SUBMITTED, RequestStatus.ELIGIBLE, RequestStatus.INELIGIBLE):
        raise InvalidTransition("Eligibility is decided on submitted requests.", {"status": request.status})
    if not eligible and not note.strip():
        raise ValidationError({"note": ["Say why the request is not eligible."]})
    request.status = RequestStatus.ELIGIBLE if eligible else RequestStatus.INELIGIBLE
    request.eligibility_note = note.strip()
    return _save(request)


@transaction.atomic
def review_submit(*, user, request: ComputeRequest, score: Decimal, comments: str = "") -> Review:
    """A reviewer scores an eligible request; the request's score is the mean of its reviews."""
    if not (is_reviewer(user) or is_secretariat(user)):
        raise NotPermitted("Only reviewers may score requests.")
    request = _lock(ComputeRequest, request.pk)
    if request.status not in (RequestStatus.ELIGIBLE, RequestStatus.SCORED):
        raise InvalidTransition("Only eligible requests are reviewed.", {"status": request.status})
    if request.reviews.filter(reviewer=user).exists():
        raise InvalidTransition("You have already reviewed this request.")
    review = _save(Review(request=request, reviewer=user, score=score, comments=comments))
    mean = request.reviews.aggregate(mean=Avg("score"))["mean"]
    request.score = Decimal(mean).quantize(Decimal("0.001"))
    request.status = RequestStatus.SCORED
    _save(request)
    return review


# --- Solving ------------------------------------------------------------------------------------


def _readiness_problems(round_: Round) -> list[str]:
    problems = []
    waiting = list(round_.requests.filter(status=RequestStatus.SUBMITTED).order_by("id")[:10])
    if waiting:
        ids = ", ".join(r.scenario_id for r in waiting)
        problems.append(f"{len(waiting)} submitted request(s) still need an eligibility decision ({ids}).")
    unscored = list(round_.requests.filter(status=RequestStatus.ELIGIBLE).order_by("id")[:10])
    if unscored:
        ids = ", ".join(r.scenario_id for r in unscored)
        problems.append(f"{len(unscored)} eligible request(s) still need a review score ({ids}).")
    if not round_.requests.filter(status__in=scenario_doc.SOLVABLE_STATUSES).exists():
        problems.append("The round has no eligible requests to allocate.")
    return problems


@transaction.atomic
def round_enqueue_solve(*, round_: Round, user=None) -> AllocationRun:
    """Freeze the round's scenario into a new run and hand it to a worker.

    The round moves to ``solving`` by compare-and-set from ``closed`` or ``solved`` (a re-run after a
    policy change), so two clicks never start two solves. The task is enqueued only once the
    transaction has committed."""
    from allocation.tasks import solve_round_task

    _require_secretariat(user)
    locked = _lock(Round, round_.pk)
    if locked.status not in (RoundStatus.CLOSED, RoundStatus.SOLVED):
        raise InvalidTransition(
            f"The round is {locked.get_status_display().lower()}; only a closed or solved round can be solved.",
            {"status": locked.status},
        )
    problems = _readiness_problems(locked)
    if problems:
        raise RoundNotReady("The round cannot be solved yet: " + " ".join(problems), {"problems": problems})
    document = scenario_doc.build_scenario(locked)
    run = _save(AllocationRun(round=locked, created_by=user, scenario=document,
                              scenario_sha256=scenario_doc.scenario_sha256(document),
                              progress={"levels": 0, "state": "queued"}))
    locked.status = RoundStatus.SOLVING
    _save(locked)
    transaction.on_commit(lambda: _dispatch(solve_round_task, run.id))
    return run


RUN_UNQUEUED = "unqueued"  # the progress state of a run that no queue would take


def run_was_unqueued(run: AllocationRun) -> bool:
    """Whether the run failed because the task queue could not take it (rather than in the engine)."""
    return run.status == AllocationRun.Status.FAILED and run.progress.get("state") == RUN_UNQUEUED


def _dispatch(task, run_id: int) -> None:
    """Hand a committed run to the queue; if the queue cannot take it, fail the run clearly and free
    the round instead of leaving it "solving" with nobody working on it."""
    try:
        task.delay(run_id)
    except Exception as error:  # noqa: BLE001 - broker down or any failure to enqueue
        logger.exception("Could not enqueue run %s", run_id)
        _run_fail(run_id, f"The task queue is unavailable ({type(error).__name__}); the round was not solved. "
                          "Try again when the queue is back.", state=RUN_UNQUEUED)


def _claim_run(run_id: int) -> bool:
    """Compare-and-set the run to running; False when another execution already finished it."""
    claimed = AllocationRun.objects.filter(
        id=run_id, status__in=[AllocationRun.Status.QUEUED, AllocationRun.Status.RUNNING]
    ).update(status=AllocationRun.Status.RUNNING, started_at=timezone.now())
    return claimed == 1


class _ProgressWriter:
    """Writes the engine's progress onto the run, at most every ``interval`` seconds."""

    def __init__(self, run_id: int, interval: float = 0.5):
        self.run_id = run_id
        self.interval = interval
        self.last = 0.0

    def __call__(self, progress: dict) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        AllocationRun.objects.filter(id=self.run_id, status=AllocationRun.Status.RUNNING).update(
            progress={**progress, "state": "running"}
        )


def run_execute(*, run_id: int, time_limit: float | None = None) -> AllocationRun:
    """Solve a queued run with the engine and store its results; safe to call twice (idempotent)."""
    from allocation import solver

    if not _claim_run(run_id):
        return AllocationRun.objects.get(id=run_id)
    run = AllocationRun.objects.get(id=run_id)
    limit = time_limit if time_limit is not None else settings.GACP["SOLVE_TIME_LIMIT_SECONDS"]
    try:
        output = solver.solve(run.scenario, time_limit=limit, progress=_ProgressWriter(run.id))
    except solver.ScenarioError as error:
        return _run_fail(run.id, "The engine refused the scenario: " + "; ".join(error.problems))
    except DatabaseError:
        raise  # the task retries: the database, not the engine, failed
    except Exception as error:  # noqa: BLE001 - any engine failure is recorded on the run, never lost
        logger.exception("The engine failed on run %s", run.id)
        return _run_fail(run.id, f"The engine failed: {type(error).__name__}: {error}")
    if output.get("status") == "infeasible":
        return _run_fail(run.id, "The engine found no feasible allocation for this round.")
    try:
        return _run_store(run.id, output)
    except OperationalError:
        raise  # the connection or the server failed: the task retries, and nothing was half-written
    except DatabaseError as error:  # the decision itself cannot be stored (a value out of range, ...)
        logger.exception("Could not store the decision of run %s", run.id)
        return _run_fail(run.id, f"The decision could not be stored: {type(error).__name__}: {error}")


@transaction.atomic
def _run_fail(run_id: int, message: str, *, state: str = "failed") -> AllocationRun:
    """Fail a run still queued or running, and free its round; a run that has finished meanwhile (the
    stale-run job lists runs before failing them) keeps its result."""
    run = _lock(AllocationRun, run_id)
    if run.status not in (AllocationRun.Status.QUEUED, AllocationRun.Status.RUNNING):
        return run
    run.status = AllocationRun.Status.FAILED
    run.error = message
    run.finished_at = timezone.now()
    run.progress = {**run.progress, "state": state}
    run.save()
    round_ = _lock(Round, run.round_id)
    if round_.status == RoundStatus.SOLVING:
        solved_before = round_.runs.filter(status=AllocationRun.Status.SUCCEEDED).exists()
        round_.status = RoundStatus.SOLVED if solved_before else RoundStatus.CLOSED
        round_.save()
    logger.warning("Run %s of round %s failed: %s", run_id, run.round_id, message)
    return run


def _money(value: float) -> Decimal:
    return Decimal(repr(max(value, 0.0))).quantize(Decimal("0.01"))


def _hours(value: float) -> Decimal:
    return Decimal(repr(max(value, 0.0))).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)


@transaction.atomic
def _run_store(run_id: int, output: dict) -> AllocationRun:
    """Write the engine's decision: lines, per-request results, co-financing obligations; the round
    becomes solved. All or nothing."""
    run = _lock(AllocationRun, run_id)
    if run.status != AllocationRun.Status.RUNNING:
        return run
    requests = {r.scenario_id: r for r in ComputeRequest.objects.filter(round_id=run.round_id)}
    lot_ids = [int(doc["id"][1:]) for doc in run.scenario["lots"]]
    lots = {lot.scenario_id: lot for lot in CapacityLot.objects.filter(id__in=lot_ids)}
    states = {s.iso3: s for s in MemberState.objects.filter(iso3__in=[c["iso3"] for c in run.scenario["countries"]])}
    # the classification the decision was made under, frozen with it (open data never shifts afterwards)
    country_of = {r["id"]: r["country"] for r in run.scenario["requests"]}
    place = {c["iso3"]: {"income_group": c["income_group"], "region": c["region"]} for c in run.scenario["countries"]}
    AllocationLine.objects.bulk_create(
        [
            AllocationLine(run=run, request=requests[line["request"]], lot=lots[line["lot"]],
                           gpu_hours=_hours(line["gpu_hours"]), h100e_hours=_hours(line["h100e_hours"]),
                           cofinancing_usd=_money(line["cofinancing_usd"]), cash_usd=_money(line["cash_usd"]),
                           **place[country_of[line["request"]]])
            for line in output["allocations"]
        ],
        batch_size=2000,
    )
    RequestResult.objects.bulk_create(
        [
            RequestResult(run=run, request=requests[result["id"]], weight=result["weight"],
                          allocated_h100e_hours=max(result["allocated_h100e_hours"], 0.0),
                          fulfilment=min(max(result["fulfilment"], 0.0), 1.0), deferred=result["deferred"],
                          cofinancing_usd=_money(result["cofinancing_usd"]), subsidy_usd=_money(result["subsidy_usd"]),
                          reason=str(result["explanation"].get("reason", ""))[:32], explanation=result["explanation"],
                          **place[country_of[result["id"]]])
            for result in output["requests"]
        ],
        batch_size=2000,
    )
    due = timezone.now().date() + datetime.timedelta(days=settings.GACP["COFINANCING_DUE_DAYS"])
    CofinancingObligation.objects.bulk_create([
        CofinancingObligation(round_id=run.round_id, run=run, member_state=states[country["iso3"]],
                              share=Decimal(repr(country["cofinancing_share"])).quantize(Decimal("0.000001")),
                              amount_usd=_money(country["cofinancing_usd"]), due_date=due)
        for country in output["countries"]
        if country["cofinancing_usd"] > 0
    ])
    stats = output.get("stats", {})
    run.output = output
    run.solver_status = output["status"]
    run.solve_seconds = stats.get("solve_seconds")
    run.levels = stats.get("levels")
    run.variables = stats.get("variables")
    run.constraints = stats.get("constraints")
    run.status = AllocationRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.progress = {**run.progress, "levels": stats.get("levels", 0), "state": "done"}
    run.save()
    round_ = _lock(Round, run.round_id)
    round_.status = RoundStatus.SOLVED
    round_.save()
    return run


def runs_fail_stale() -> int:
    """Fail runs queued or running for longer than the solve time limit allows, freeing their rounds."""
    limit = settings.GACP["SOLVE_TIME_LIMIT_SECONDS"] * 2 + 600
    cutoff = timezone.now() - datetime.timedelta(seconds=limit)
    stale = list(AllocationRun.objects.filter(
        status__in=[AllocationRun.Status.QUEUED, AllocationRun.Status.RUNNING], created_at__lt=cutoff
    ).values_list("id", flat=True))
    for run_id in stale:
        _run_fail(run_id, f"No worker finished the run within {limit} seconds; it was abandoned.")
    return len(stale)


@transaction.atomic
def run_approve(*, run: AllocationRun, user=None) -> AllocationRun:
    """The secretariat approves one succeeded run as the round's decision (replacing any other)."""
    _require_secretariat(user)
    # The round first, then the run: approvals of one round queue on the round's row, so two of them never
    # hold each other's runs (the previously approved run is updated below); and a solving round is refused
    # before any run is locked, since the worker storing a run holds the run, then the round.
    round_ = _lock(Round, AllocationRun.objects.values_list("round_id", flat=True).get(pk=run.pk))
    if round_.status != RoundStatus.SOLVED:
        raise InvalidTransition("Only a run of a solved round can be approved.", {"status": round_.status})
    run = _lock(AllocationRun, run.pk)
    if run.status != AllocationRun.Status.SUCCEEDED:
        raise InvalidTransition("Only a succeeded run can be approved.", {"run_status": run.status})
    round_.runs.filter(is_approved=True).exclude(pk=run.pk).update(is_approved=False)
    run.is_approved = True
    run.save(update_fields=["is_approved"])
    return run


@transaction.atomic
def round_publish(*, round_: Round, user=None) -> Round:
    """Publish the approved run: requests become allocated or deferred, and the decision is public."""
    _require_secretariat(user)
    locked = _lock(Round, round_.pk)
    run = locked.runs.filter(is_approved=True).first()
    if run is None:
        raise InvalidTransition("Approve one run of the round before publishing it.")
    published = _round_transition(locked, [RoundStatus.SOLVED], RoundStatus.PUBLISHED)
    for result in run.results.select_related("request"):
        request = result.request
        if request.status in (RequestStatus.SCORED, RequestStatus.ELIGIBLE):
            request.status = RequestStatus.ALLOCATED if result.allocated_h100e_hours > 0 else RequestStatus.DEFERRED
            request.save(update_fields=["status", "updated_at"])
    return published


def _answer_award(user, request: ComputeRequest, target: str) -> ComputeRequest:
    request = _own_request(user, request)
    if request.round.status != RoundStatus.PUBLISHED:
        raise InvalidTransition("Awards are answered once the round is published.")
    if request.status != RequestStatus.ALLOCATED:
        raise InvalidTransition(
            "This request has no award waiting for an answer."
            if request.status not in (RequestStatus.ACCEPTED, RequestStatus.DECLINED)
            else f"The award was already {request.get_status_display().lower()}.",
            {"status": request.status},
        )
    request.status = target
    return _save(request)


@transaction.atomic
def allocation_accept(*, user, request: ComputeRequest) -> ComputeRequest:
    return _answer_award(user, request, RequestStatus.ACCEPTED)


@transaction.atomic
def allocation_decline(*, user, request: ComputeRequest) -> ComputeRequest:
    return _answer_award(user, request, RequestStatus.DECLINED)


@transaction.atomic
def obligation_record_payment(*, obligation: CofinancingObligation, amount_usd: Decimal, paid_on: datetime.date,
                              user=None) -> CofinancingObligation:
    _require_secretariat(user)
    obligation = _lock(CofinancingObligation, obligation.pk)
    if amount_usd <= 0:
        raise ValidationError({"amount_usd": ["A payment must be a positive amount."]})
    if obligation.paid_usd + amount_usd > obligation.amount_usd:
        raise ValidationError({"amount_usd": [f"The payment exceeds what is outstanding "
                                              f"({obligation.outstanding_usd} US$)."]})
    obligation.paid_usd += amount_usd
    obligation.paid_at = paid_on
    return _save(obligation)
