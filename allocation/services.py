"""Every state change of the allocation app: pledges, offers, requests, reviews, rounds and runs.

Each service takes keyword-only arguments, runs in one transaction, validates with ``full_clean()``
before saving, locks the rows whose status it changes, and refuses with an ``ApplicationError``
subclass that names what is wrong.
"""
import copy
import datetime
import hashlib
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
    Appeal,
    Call,
    CapacityLot,
    CofinancingObligation,
    ComputeRequest,
    CountryBudget,
    Feasibility,
    HardwareType,
    Offer,
    Pledge,
    RequestResult,
    RequestStatus,
    Review,
    ReviewAssignment,
    Round,
    RoundStatus,
)
from allocation.selectors import is_reviewer, is_secretariat, membership_of
from audit.services import audit_fields, audit_record
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
def call_create(*, title: str, description: str = "", user=None) -> Call:
    _require_secretariat(user)
    if not title.strip():
        raise ValidationError({"title": ["Give the call a title."]})
    call = _save(Call(title=title.strip(), description=description.strip()))
    audit_record(action="call_create", actor=user, obj=call)
    return call


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
    policy: dict | None = None, user=None,
) -> Round:
    """Open a round of a call; its policy is the alliance's default unless one is given (e.g. the previous
    round's), and is kept with the round."""
    _require_secretariat(user)
    policy = policy_validate(copy.deepcopy(policy if policy is not None else settings.GACP["DEFAULT_POLICY"]))
    Call.objects.select_for_update().get(pk=call.pk)  # two rounds numbered at once: one waits for the other
    if Round.objects.filter(call=call, number=number).exists():
        raise ValidationError({"number": [f"The call already has a round {number}."]})
    if submission_deadline <= opens_at:
        raise ValidationError({"submission_deadline": ["The submission deadline must come after the opening."]})
    round_ = _save(Round(call=call, number=number, title=title, opens_at=opens_at,
                         submission_deadline=submission_deadline, policy=policy))
    audit_record(action="round_create", actor=user, obj=round_)
    public_data_changed()
    return round_


@transaction.atomic
def round_set_policy(*, round_: Round, policy: dict, user=None) -> Round:
    """Change a round's weights and co-financing parameters; kept with the round and its runs."""
    _require_secretariat(user)
    round_ = _lock(Round, round_.pk)
    if round_.status in (RoundStatus.SOLVING, RoundStatus.PUBLISHED):
        raise InvalidTransition(f"The policy of a {round_.get_status_display().lower()} round cannot change.")
    round_.policy = policy_validate(policy)
    _save(round_)
    audit_record(action="round_set_policy", actor=user, obj=round_)
    return round_


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
    round_ = _round_transition(round_, [RoundStatus.OPEN], RoundStatus.CLOSED)
    audit_record(action="round_close", actor=user, obj=round_)
    return round_


@transaction.atomic
def round_reopen(*, round_: Round, user=None) -> Round:
    _require_secretariat(user)
    round_ = _round_transition(round_, [RoundStatus.CLOSED], RoundStatus.OPEN)
    audit_record(action="round_reopen", actor=user, obj=round_)
    return round_


@transaction.atomic
def country_budget_set(*, round_: Round, member_state: MemberState, budget_usd: Decimal | None, user=None) -> None:
    """A state's co-financing commitment for the round (None removes the limit)."""
    _lock(Round, round_.pk)  # two settings of the same budget queue here instead of inserting it twice
    existing = CountryBudget.objects.select_for_update().filter(round=round_, member_state=member_state).first()
    if budget_usd is None:
        if existing is not None:
            audit_record(action="country_budget_set", actor=user, obj=existing,
                         before={"budget_usd": existing.budget_usd}, after={"budget_usd": None})
            existing.delete()
        return
    budget = existing or CountryBudget(round=round_, member_state=member_state)
    budget.budget_usd = budget_usd
    _save(budget)
    audit_record(action="country_budget_set", actor=user, obj=budget)


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
    built = _build_lots(lots, pledge=pledge)
    audit_record(action="pledge_create", actor=user, obj=pledge, extra={"lots": [audit_fields(lot) for lot in built]})
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
    _save(pledge)
    audit_record(action="pledge_withdraw", actor=user, obj=pledge)
    public_data_changed()
    return pledge


@transaction.atomic
def offer_create(*, user, round_: Round, lots: list[dict], note: str = "") -> Offer:
    """A provider offers capacity for sale, each lot with a price per GPU-hour."""
    provider = _organisation_of(user, Role.PROVIDER_OFFICER, OrganisationKind.PROVIDER)
    round_ = _require_open(round_)
    if not lots:
        raise ValidationError({"lots": ["An offer needs at least one capacity lot."]})
    offer = _save(Offer(provider=provider, round=round_, note=note, created_by=user))
    built = _build_lots([{**lot, "provider": provider} for lot in lots], offer=offer)
    audit_record(action="offer_create", actor=user, obj=offer, extra={"lots": [audit_fields(lot) for lot in built]})
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
    _save(offer)
    audit_record(action="offer_withdraw", actor=user, obj=offer)
    public_data_changed()
    return offer


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
    audit_record(action="request_create", actor=user, obj=request,
                 extra={"acceptable_hardware": sorted(request.acceptable_hardware.values_list("key", flat=True))})
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
    audit_record(action="request_update", actor=user, obj=request,
                 extra={"acceptable_hardware": sorted(request.acceptable_hardware.values_list("key", flat=True))}
                 if acceptable_hardware is not None else None)
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
    _save(request)
    audit_record(action="request_submit", actor=user, obj=request)
    public_data_changed()
    return request


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
    _save(request)
    audit_record(action="request_withdraw", actor=user, obj=request)
    public_data_changed()
    return request


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
    _save(request)
    audit_record(action="request_set_eligibility", actor=user, obj=request)
    return request


@transaction.atomic
def review_submit(*, user, request: ComputeRequest, score: Decimal, comments: str = "") -> Review:
    """A reviewer scores an eligible request; the request's score is the mean of its reviews."""
    if not (is_reviewer(user) or is_secretariat(user)):
        raise NotPermitted("Only reviewers may score requests.")
    request = _lock(ComputeRequest, request.pk)
    if request.status not in (RequestStatus.ELIGIBLE, RequestStatus.SCORED):
        raise InvalidTransition("Only eligible requests are reviewed.", {"status": request.status})
    conflict = _reviewer_conflict(user, request) if membership_of(user) is not None else None
    if conflict:  # the same conflict-of-interest rule as assignments, whichever door the review comes through
        raise NotPermitted(f"{conflict} They cannot review {request.scenario_id}.")
    if request.reviews.filter(reviewer=user).exists():
        raise InvalidTransition("You have already reviewed this request.")
    review = _save(Review(request=request, reviewer=user, score=score, comments=comments))
    mean = request.reviews.aggregate(mean=Avg("score"))["mean"]
    request.score = Decimal(mean).quantize(Decimal("0.001"))
    request.status = RequestStatus.SCORED
    _save(request)
    # two entries: the review itself (blind: read by the secretariat and its author), and what it did to the
    # request (read by the requesting state)
    audit_record(action="review_submit", actor=user, obj=review)
    audit_record(action="request_score", actor=user, obj=request, extra={"reviews": request.reviews.count()})
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
    previous_status = locked.status
    locked.status = RoundStatus.SOLVING
    _save(locked)
    audit_record(action="round_solve", actor=user, obj=run,
                 extra={"scenario_sha256": run.scenario_sha256, "round_status": [previous_status, locked.status]})
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


@transaction.atomic
def _claim_run(run_id: int) -> bool:
    """Compare-and-set the run to running; False when another execution already finished it."""
    started_at = timezone.now()
    claimed = AllocationRun.objects.filter(
        id=run_id, status__in=[AllocationRun.Status.QUEUED, AllocationRun.Status.RUNNING]
    ).update(status=AllocationRun.Status.RUNNING, started_at=started_at)
    if claimed == 1:
        round_id = AllocationRun.objects.filter(id=run_id).values_list("round_id", flat=True).first()
        audit_record(action="run_start", object_type="allocation.allocationrun", object_id=run_id, round_id=round_id,
                     after={"status": AllocationRun.Status.RUNNING, "started_at": started_at})
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
    audit_record(action="run_fail", obj=run, extra={"error": message, "round_status": round_.status})
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
    audit_record(action="run_store", obj=run, extra={
        "scenario_sha256": run.scenario_sha256,
        "output_sha256": hashlib.sha256(scenario_doc.scenario_bytes(output)).hexdigest(),
        "lines": len(output["allocations"]),
        "results": len(output["requests"]),
        "cofinancing_usd": {c["iso3"]: str(_money(c["cofinancing_usd"])) for c in output["countries"]
                            if c["cofinancing_usd"] > 0},
    })
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
    replaced = list(round_.runs.filter(is_approved=True).exclude(pk=run.pk).values_list("pk", flat=True))
    round_.runs.filter(pk__in=replaced).update(is_approved=False)
    run.is_approved = True
    run.save(update_fields=["is_approved"])
    audit_record(action="run_approve", actor=user, obj=run,
                 extra={"scenario_sha256": run.scenario_sha256, "replaced_runs": replaced})
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
    answered = {RequestStatus.ALLOCATED: [], RequestStatus.DEFERRED: []}
    for result in run.results.select_related("request"):
        request = result.request
        if request.status in (RequestStatus.SCORED, RequestStatus.ELIGIBLE):
            request.status = RequestStatus.ALLOCATED if result.allocated_h100e_hours > 0 else RequestStatus.DEFERRED
            request.save(update_fields=["status", "updated_at"])
            answered[request.status].append(request.pk)
    audit_record(action="round_publish", actor=user, obj=published, extra={
        "run": run.pk, "scenario_sha256": run.scenario_sha256,
        "requests_allocated": answered[RequestStatus.ALLOCATED], "requests_deferred": answered[RequestStatus.DEFERRED],
    })
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
    request = _answer_award(user, request, RequestStatus.ACCEPTED)
    audit_record(action="allocation_accept", actor=user, obj=request)
    return request


@transaction.atomic
def allocation_decline(*, user, request: ComputeRequest) -> ComputeRequest:
    request = _answer_award(user, request, RequestStatus.DECLINED)
    audit_record(action="allocation_decline", actor=user, obj=request)
    return request


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
    _save(obligation)
    audit_record(action="obligation_record_payment", actor=user, obj=obligation,
                 extra={"payment_usd": amount_usd, "paid_on": paid_on})
    return obligation


# --- Feasibility of allocation lines (providers) -------------------------------------------------
#
# Once the secretariat approves a run, each provider confirms that the lines drawn on its hardware can run
# as allocated, or flags a problem with a reason that the secretariat and the receiving state's ministry
# read. Lines are locked while their status changes, so two officers of one provider never overwrite each
# other's answer unseen.

FEASIBILITY_ROUND_STATUSES = (RoundStatus.SOLVED, RoundStatus.PUBLISHED)


def _check_decided(run: AllocationRun, round_: Round) -> None:
    if not run.is_approved or round_.status not in FEASIBILITY_ROUND_STATUSES:
        raise InvalidTransition("Feasibility is confirmed on the lines of a round's approved run only.",
                                {"run": run.pk, "approved": run.is_approved, "round_status": round_.status})


def _provider_line(user, line: AllocationLine) -> AllocationLine:
    provider = _organisation_of(user, Role.PROVIDER_OFFICER, OrganisationKind.PROVIDER)
    locked = AllocationLine.objects.select_for_update(of=("self",)).select_related("lot", "run__round").get(
        pk=line.pk)
    if locked.lot.provider_id != provider.id:
        raise NotPermitted("This allocation line runs on another provider's hardware.")
    _check_decided(locked.run, locked.run.round)
    return locked


@transaction.atomic
def line_confirm_feasibility(*, user, line: AllocationLine) -> AllocationLine:
    """The hosting provider confirms that a line can run on its hardware as allocated (also after a flag,
    once the problem is solved)."""
    line = _provider_line(user, line)
    if line.feasibility == Feasibility.CONFIRMED:
        raise InvalidTransition(f"Line {line.pk} is already confirmed as feasible.", {"line": line.pk})
    before = {"feasibility": line.feasibility, "feasibility_note": line.feasibility_note}
    line.feasibility = Feasibility.CONFIRMED
    line.feasibility_note = ""
    line.feasibility_by = user
    line.feasibility_at = timezone.now()
    _save(line)
    _audit_line(action="line_confirm_feasibility", user=user, line=line, before=before)
    return line


@transaction.atomic
def line_flag_infeasible(*, user, line: AllocationLine, note: str) -> AllocationLine:
    """The hosting provider reports that a line cannot run as allocated, and why."""
    line = _provider_line(user, line)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Say what makes this allocation infeasible on your hardware."]})
    before = {"feasibility": line.feasibility, "feasibility_note": line.feasibility_note}
    line.feasibility = Feasibility.FLAGGED
    line.feasibility_note = note
    line.feasibility_by = user
    line.feasibility_at = timezone.now()
    _save(line)
    _audit_line(action="line_flag_infeasible", user=user, line=line, before=before)
    return line


@transaction.atomic
def lines_confirm_feasibility(*, user, round_: Round) -> int:
    """Confirm at once every line of the round's approved run on the provider's hardware that still awaits an
    answer; flagged lines keep their flag. Returns how many lines were confirmed."""
    provider = _organisation_of(user, Role.PROVIDER_OFFICER, OrganisationKind.PROVIDER)
    round_ = _lock(Round, round_.pk)
    run = round_.runs.filter(is_approved=True).first()
    if run is None:
        raise InvalidTransition("The round has no approved run yet.", {"round_status": round_.status})
    _check_decided(run, round_)
    pending = list(
        AllocationLine.objects.select_for_update(of=("self",)).filter(
            run=run, lot__provider=provider, feasibility=Feasibility.PENDING
        ).values_list("id", flat=True)
    )
    confirmed = AllocationLine.objects.filter(id__in=pending).update(
        feasibility=Feasibility.CONFIRMED, feasibility_note="", feasibility_by=user, feasibility_at=timezone.now()
    )
    if confirmed:
        audit_record(action="lines_confirm_feasibility", actor=user, obj=run, organisation_id=provider.id,
                     round_id=round_.pk, extra={"lines": pending, "feasibility": Feasibility.CONFIRMED})
    return confirmed


def _audit_line(*, action: str, user, line: AllocationLine, before: dict) -> None:
    """Allocation lines are bulk rows, not followed field by field: their feasibility answer is recorded as is."""
    iso3 = ComputeRequest.objects.filter(pk=line.request_id).values_list("ministry__member_state__iso3", flat=True)
    audit_record(
        action=action, actor=user, object_type="allocation.allocationline", object_id=line.pk,
        organisation_id=line.lot.provider_id, round_id=line.run.round_id, member_state=iso3.first(),
        before=before, after={"feasibility": line.feasibility, "feasibility_note": line.feasibility_note},
    )


# --- The secretariat's round management: deadlines and reviewer assignments ------------------------


@transaction.atomic
def round_set_deadline(*, round_: Round, submission_deadline: datetime.datetime, user=None) -> Round:
    """Move an open or closed round's submission deadline (to reopen a closed round for longer, say)."""
    _require_secretariat(user)
    locked = _lock(Round, round_.pk)
    if locked.status not in (RoundStatus.OPEN, RoundStatus.CLOSED):
        raise InvalidTransition(
            f"The round is {locked.get_status_display().lower()}; its deadline can no longer change.",
            {"status": locked.status},
        )
    if submission_deadline <= locked.opens_at:
        raise ValidationError({"submission_deadline": ["The submission deadline must come after the round opens."]})
    if submission_deadline <= timezone.now():
        raise ValidationError({"submission_deadline": [
            "The new deadline is in the past; to stop submissions now, close the round instead."]})
    locked.submission_deadline = submission_deadline
    _save(locked)
    audit_record(action="round_set_deadline", actor=user, obj=locked)
    public_data_changed()
    return locked


ASSIGNABLE_STATUSES = (RequestStatus.ELIGIBLE, RequestStatus.SCORED)


def _reviewer_conflict(reviewer, request: ComputeRequest) -> str | None:
    """Why ``reviewer`` may not review ``request`` (a conflict of interest), or None."""
    membership = membership_of(reviewer)
    organisation = membership.organisation
    if organisation.pk == request.ministry_id:
        return f"{reviewer} belongs to the requesting ministry."
    if organisation.member_state_id and organisation.member_state_id == request.member_state_id:
        return f"{reviewer}'s organisation is based in {request.member_state.name}, the requesting state."
    return None


@transaction.atomic
def review_assign(*, user, requests: Iterable[ComputeRequest], reviewer, due_date: datetime.date
                  ) -> list[ReviewAssignment]:
    """Ask one reviewer to score eligible requests by a due date: all the requests, or none of them."""
    _require_secretariat(user)
    requests = list(requests)
    if not requests:
        raise ValidationError({"requests": ["Choose at least one request to assign."]})
    if not is_reviewer(reviewer):
        raise ValidationError({"reviewer": [f"{reviewer} is not a reviewer of the alliance."]})
    if due_date < timezone.localdate():
        raise ValidationError({"due_date": ["The due date is in the past."]})
    created = []
    for request in sorted(requests, key=lambda r: r.pk):
        request = _lock(ComputeRequest, request.pk)
        label = f"{request.scenario_id} ({request.title})"
        if request.status not in ASSIGNABLE_STATUSES:
            raise InvalidTransition(f"{label} is {request.get_status_display().lower()}; reviewers are assigned "
                                    "to eligible requests.", {"request": request.pk, "status": request.status})
        if request.round.status in (RoundStatus.SOLVING, RoundStatus.PUBLISHED):
            raise InvalidTransition(f"The round of {label} is {request.round.get_status_display().lower()}; "
                                    "its reviews are closed.", {"request": request.pk})
        conflict = _reviewer_conflict(reviewer, request)
        if conflict:
            raise ValidationError({"reviewer": [f"{conflict} They cannot review {label}."]})
        if ReviewAssignment.objects.filter(request=request, reviewer=reviewer).exists():
            raise ValidationError({"reviewer": [f"{reviewer} is already assigned to {label}."]})
        assignment = _save(ReviewAssignment(request=request, reviewer=reviewer, assigned_by=user, due_date=due_date))
        audit_record(action="review_assign", actor=user, obj=assignment)
        created.append(assignment)
    return created


@transaction.atomic
def review_unassign(*, user, assignment: ReviewAssignment) -> None:
    """Withdraw an assignment that has not been reviewed yet (a submitted review stays)."""
    _require_secretariat(user)
    assignment = _lock(ReviewAssignment, assignment.pk)
    if Review.objects.filter(request_id=assignment.request_id, reviewer_id=assignment.reviewer_id).exists():
        raise InvalidTransition(f"{assignment.reviewer} has already scored {assignment.request.scenario_id}; "
                                "a submitted review stays.")
    audit_record(action="review_unassign", actor=user, object_type="allocation.reviewassignment",
                 object_id=assignment.pk, round_id=assignment.request.round_id,
                 before={"request": assignment.request_id, "reviewer": assignment.reviewer_id}, after={})
    assignment.delete()


# --- Appeals ------------------------------------------------------------------------------------
# A ministry appeals the published decision on one of its requests; the secretariat reviews and answers.
# Answering records what the secretariat will do: a published allocation is never changed silently.


APPEAL_MIN_REASONS = 20


def appeal_window_closes(round_: Round) -> datetime.datetime | None:
    """When the appeal window of a published round closes (None before publication)."""
    if round_.published_at is None:
        return None
    return round_.published_at + datetime.timedelta(days=settings.GACP["APPEAL_WINDOW_DAYS"])


def appeal_refusal(request: ComputeRequest, now: datetime.datetime | None = None) -> str | None:
    """Why an appeal on the request cannot be lodged now, or None when it can."""
    round_ = request.round
    if round_.status != RoundStatus.PUBLISHED:
        return "An appeal can be lodged only once the round's decision is published."
    if not RequestResult.objects.filter(request=request, run__is_approved=True, run__round=round_).exists():
        return "This request took no part in the published decision; there is nothing to appeal."
    closes = appeal_window_closes(round_)
    if (now or timezone.now()) > closes:
        return f"The appeal window closed on {closes:%Y-%m-%d}, {settings.GACP['APPEAL_WINDOW_DAYS']} days after " \
               "the round was published."
    if Appeal.objects.filter(request=request, status__in=Appeal.OPEN_STATUSES).exists():
        return "This request already has an open appeal; wait for its answer or withdraw it first."
    return None


@transaction.atomic
def appeal_lodge(*, user, request: ComputeRequest, reasons: str) -> Appeal:
    """A ministry officer appeals the published decision on one of its state's requests, within the window."""
    request = _own_request(user, request)  # locks the request: two officers cannot open two appeals at once
    refusal = appeal_refusal(request)
    if refusal:
        raise InvalidTransition(refusal, {"request": request.pk})
    reasons = (reasons or "").strip()
    if len(reasons) < APPEAL_MIN_REASONS:
        raise ValidationError({"reasons": [f"Say why the decision should be reconsidered, in at least "
                                           f"{APPEAL_MIN_REASONS} characters."]})
    appeal = _save(Appeal(request=request, lodged_by=user, reasons=reasons))
    audit_record(action="appeal_lodge", actor=user, obj=appeal)
    return appeal


@transaction.atomic
def appeal_withdraw(*, user, appeal: Appeal) -> Appeal:
    """The appealing state withdraws an appeal that has not been answered."""
    _own_request(user, appeal.request)
    appeal = _lock(Appeal, appeal.pk)
    if not appeal.is_open:
        raise InvalidTransition(f"The appeal is {appeal.get_status_display().lower()}; only an open appeal can be "
                                "withdrawn.", {"status": appeal.status})
    appeal.status = Appeal.Status.WITHDRAWN
    appeal.withdrawn_at = timezone.now()
    _save(appeal)
    audit_record(action="appeal_withdraw", actor=user, obj=appeal)
    return appeal


@transaction.atomic
def appeal_start_review(*, user, appeal: Appeal) -> Appeal:
    """The secretariat takes a lodged appeal under review (the ministry sees that it is being examined)."""
    _require_secretariat(user)
    appeal = _lock(Appeal, appeal.pk)
    if appeal.status != Appeal.Status.LODGED:
        raise InvalidTransition(f"The appeal is {appeal.get_status_display().lower()}; only a lodged appeal can be "
                                "taken under review.", {"status": appeal.status})
    appeal.status = Appeal.Status.UNDER_REVIEW
    appeal.review_started_at = timezone.now()
    _save(appeal)
    audit_record(action="appeal_start_review", actor=user, obj=appeal)
    return appeal


@transaction.atomic
def appeal_answer(*, user, appeal: Appeal, upheld: bool, answer: str, remedy: str = "") -> Appeal:
    """The secretariat upholds or rejects an open appeal with a written answer. An upheld appeal names what
    the secretariat will do (``remedy``); the published allocation itself stays as it was published."""
    _require_secretariat(user)
    appeal = _lock(Appeal, appeal.pk)
    if not appeal.is_open:
        raise InvalidTransition(f"The appeal is {appeal.get_status_display().lower()}; it was already closed.",
                                {"status": appeal.status})
    answer = (answer or "").strip()
    errors = {}
    if not answer:
        errors["answer"] = ["Write the answer the ministry will read."]
    if upheld and remedy not in Appeal.Remedy.values:
        errors["remedy"] = ["Say what the secretariat will do about an upheld appeal."]
    if errors:
        raise ValidationError(errors)
    appeal.status = Appeal.Status.UPHELD if upheld else Appeal.Status.REJECTED
    appeal.remedy = remedy if upheld else ""
    appeal.answer = answer
    appeal.answered_by = user
    appeal.answered_at = timezone.now()
    _save(appeal)
    audit_record(action="appeal_answer", actor=user, obj=appeal)
    return appeal
