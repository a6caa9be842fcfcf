"""Hardware, pledges and offers of capacity, calls and rounds, requests, reviews and allocation results."""
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from members.models import IncomeGroup, MemberState, Organisation, Region

ZERO = Decimal("0")
NON_NEGATIVE = [MinValueValidator(ZERO)]
POSITIVE = [MinValueValidator(Decimal("0.01"))]
UNIT_INTERVAL = [MinValueValidator(ZERO), MaxValueValidator(Decimal("1"))]


class Sector(models.TextChoices):
    HEALTH = "health", _("Health")
    EDUCATION = "education", _("Education")
    JUSTICE = "justice", _("Justice")
    AGRICULTURE = "agriculture", _("Agriculture")
    CLIMATE = "climate", _("Climate")
    LANGUAGE = "language", _("Local language")
    SCIENCE = "science", _("Science")
    PUBLIC_SERVICES = "public_services", _("Public services")


class HardwareType(models.Model):
    """An accelerator model, with its compute in H100-equivalents (dense 16-bit tensor throughput)."""

    key = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    manufacturer = models.CharField(max_length=60)
    release_date = models.DateField(null=True, blank=True)
    h100e = models.DecimalField(max_digits=7, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))])
    memory_gb = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    dense_16bit_tflops = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    tdp_w = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["manufacturer", "name"]
        constraints = [models.CheckConstraint(condition=Q(h100e__gt=0), name="hardware_h100e_positive")]

    def __str__(self):
        return self.name


class RoundStatus(models.TextChoices):
    OPEN = "open", _("Open for requests and pledges")
    CLOSED = "closed", _("Closed, under review")
    SOLVING = "solving", _("Being allocated")
    SOLVED = "solved", _("Allocated, awaiting approval")
    PUBLISHED = "published", _("Published")


class Call(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class Round(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="rounds")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    opens_at = models.DateTimeField()
    submission_deadline = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    policy = models.JSONField(help_text=_("Equity weights and co-financing parameters used for this round."))
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opens_at", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["call", "number"], name="round_unique_number_in_call"),
            models.CheckConstraint(
                condition=Q(submission_deadline__gt=F("opens_at")), name="round_deadline_after_open"
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False), name="round_published_has_date"
            ),
        ]

    def __str__(self):
        return f"{self.call} — round {self.number}"


class Pledge(models.Model):
    """A donor's contribution to a round: in-kind capacity (lots) or cash for buying offered capacity."""

    class Kind(models.TextChoices):
        IN_KIND = "in_kind", _("In-kind capacity")
        CASH = "cash", _("Cash")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    donor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="pledges")
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="pledges")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    cash_usd = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO, validators=NON_NEGATIVE)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(cash_usd__gte=0), name="pledge_cash_non_negative"),
            models.CheckConstraint(condition=Q(kind="cash") | Q(cash_usd=0), name="pledge_in_kind_has_no_cash"),
        ]

    def __str__(self):
        return f"{self.donor} — {self.get_kind_display()} pledge to {self.round}"


class Offer(models.Model):
    """A provider's capacity for sale in a round, bought with pooled cash."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="offers")
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="offers")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.provider} — offer to {self.round}"


class CapacityLot(models.Model):
    """GPU-hours of one hardware type at one provider and region: part of a pledge or of an offer."""

    pledge = models.ForeignKey(Pledge, on_delete=models.CASCADE, null=True, blank=True, related_name="lots")
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, null=True, blank=True, related_name="lots")
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="hosted_lots")
    hardware = models.ForeignKey(HardwareType, on_delete=models.PROTECT, related_name="lots")
    region = models.CharField(max_length=3, choices=Region.choices)
    gpu_hours = models.DecimalField(max_digits=14, decimal_places=2, validators=NON_NEGATIVE)
    available_from = models.DateField()
    available_until = models.DateField()
    value_usd_per_gpu_hour = models.DecimalField(max_digits=8, decimal_places=4, validators=NON_NEGATIVE)
    price_usd_per_gpu_hour = models.DecimalField(
        max_digits=8, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(Decimal("0.0001"))]
    )
    earmark_sectors = models.JSONField(default=list, blank=True)
    earmark_income_groups = models.JSONField(default=list, blank=True)
    earmark_countries = models.ManyToManyField(MemberState, blank=True, related_name="earmarked_lots")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(pledge__isnull=False) & Q(offer__isnull=True))
                | (Q(pledge__isnull=True) & Q(offer__isnull=False)),
                name="lot_belongs_to_pledge_or_offer",
            ),
            models.CheckConstraint(condition=Q(gpu_hours__gte=0), name="lot_gpu_hours_non_negative"),
            models.CheckConstraint(condition=Q(value_usd_per_gpu_hour__gte=0), name="lot_value_non_negative"),
            models.CheckConstraint(
                condition=Q(price_usd_per_gpu_hour__isnull=True) | Q(price_usd_per_gpu_hour__gt=0),
                name="lot_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(offer__isnull=True) | Q(price_usd_per_gpu_hour__isnull=False), name="lot_offer_has_price"
            ),
            models.CheckConstraint(
                condition=Q(pledge__isnull=True) | Q(price_usd_per_gpu_hour__isnull=True), name="lot_pledge_is_in_kind"
            ),
            models.CheckConstraint(
                condition=Q(available_until__gte=F("available_from")), name="lot_window_ordered"
            ),
        ]

    def __str__(self):
        return f"L{self.pk}: {self.gpu_hours} GPU-h {self.hardware} in {self.region}"

    @property
    def scenario_id(self) -> str:
        return f"L{self.pk}"

    @property
    def h100e_hours(self) -> Decimal:
        return self.gpu_hours * self.hardware.h100e

    def clean(self):
        errors = {}
        if self.available_from and self.available_until and self.available_until < self.available_from:
            errors["available_until"] = _("The availability window must end on or after its start.")
        if self.pledge_id and self.price_usd_per_gpu_hour is not None:
            errors["price_usd_per_gpu_hour"] = _("A donated lot has no price; it is given in kind.")
        if self.offer_id and self.price_usd_per_gpu_hour is None:
            errors["price_usd_per_gpu_hour"] = _("Capacity offered for sale needs a price per GPU-hour.")
        unknown_sectors = set(self.earmark_sectors or []) - set(Sector.values)
        if unknown_sectors:
            errors["earmark_sectors"] = _("Unknown sectors: %s") % ", ".join(sorted(unknown_sectors))
        unknown_groups = set(self.earmark_income_groups or []) - set(IncomeGroup.values)
        if unknown_groups:
            errors["earmark_income_groups"] = _("Unknown income groups: %s") % ", ".join(sorted(unknown_groups))
        if errors:
            raise ValidationError(errors)


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Not eligible")
    SCORED = "scored", _("Scored")
    ALLOCATED = "allocated", _("Allocated")
    DEFERRED = "deferred", _("Deferred")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class ComputeRequest(models.Model):
    """A ministry's request for research compute in a round, sized in H100-equivalent hours."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="requests")
    member_state = models.ForeignKey(MemberState, on_delete=models.PROTECT, related_name="requests")
    ministry = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="requests")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    title = models.CharField(max_length=200)
    abstract = models.TextField()
    sector = models.CharField(max_length=16, choices=Sector.choices)
    h100e_hours = models.DecimalField(max_digits=14, decimal_places=2, validators=POSITIVE)
    min_h100e_hours = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO, validators=NON_NEGATIVE)
    acceptable_hardware = models.ManyToManyField(HardwareType, related_name="requests")
    data_residency_regions = models.JSONField(
        default=list, blank=True, help_text=_("Regions where the data may be processed; empty means anywhere.")
    )
    local_language = models.BooleanField(default=False)
    open_weights = models.BooleanField(default=False)
    params_billion = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.DRAFT)
    eligibility_note = models.TextField(blank=True)
    score = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True, validators=UNIT_INTERVAL)
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(h100e_hours__gt=0), name="request_hours_positive"),
            models.CheckConstraint(condition=Q(min_h100e_hours__gte=0), name="request_min_non_negative"),
            models.CheckConstraint(condition=Q(min_h100e_hours__lte=F("h100e_hours")), name="request_min_within_size"),
            models.CheckConstraint(
                condition=Q(params_billion__isnull=True) | Q(params_billion__gte=0), name="request_params_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=1)), name="request_score_in_unit"
            ),
        ]

    def __str__(self):
        return f"{self.scenario_id}: {self.title}"

    @property
    def scenario_id(self) -> str:
        return f"R{self.pk}"

    def clean(self):
        errors = {}
        sizes_known = self.h100e_hours is not None and self.min_h100e_hours is not None
        if sizes_known and self.min_h100e_hours > self.h100e_hours:
            errors["min_h100e_hours"] = _("The minimum useful size cannot exceed the size requested.")
        unknown = set(self.data_residency_regions or []) - set(Region.values)
        if unknown:
            errors["data_residency_regions"] = _("Unknown regions: %s") % ", ".join(sorted(unknown))
        if self.ministry_id and self.member_state_id and self.ministry.member_state_id != self.member_state_id:
            errors["ministry"] = _("The ministry must belong to the requesting state.")
        if errors:
            raise ValidationError(errors)


class Review(models.Model):
    request = models.ForeignKey(ComputeRequest, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    score = models.DecimalField(max_digits=4, decimal_places=3, validators=UNIT_INTERVAL)
    comments = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "reviewer"]
        constraints = [
            models.UniqueConstraint(fields=["request", "reviewer"], name="review_one_per_reviewer"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="review_score_in_unit"),
        ]

    def __str__(self):
        return f"Review of {self.request.scenario_id} by {self.reviewer}: {self.score}"


class CountryBudget(models.Model):
    """The co-financing a member state has committed for one round (absent: no limit)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="country_budgets")
    member_state = models.ForeignKey(MemberState, on_delete=models.PROTECT, related_name="budgets")
    budget_usd = models.DecimalField(max_digits=14, decimal_places=2, validators=NON_NEGATIVE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "member_state"], name="budget_one_per_state_round"),
            models.CheckConstraint(condition=Q(budget_usd__gte=0), name="budget_non_negative"),
        ]

    def __str__(self):
        return f"{self.member_state.iso3} budget for {self.round}: {self.budget_usd}"


class AllocationRun(models.Model):
    """One solve of a round: the exact scenario given to the engine, its output and figures."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    scenario = models.JSONField(null=True, blank=True)
    scenario_sha256 = models.CharField(max_length=64, blank=True)
    output = models.JSONField(null=True, blank=True)
    solver_status = models.CharField(max_length=12, blank=True)
    solve_seconds = models.FloatField(null=True, blank=True)
    levels = models.PositiveIntegerField(null=True, blank=True)
    variables = models.PositiveIntegerField(null=True, blank=True)
    constraints = models.PositiveIntegerField(null=True, blank=True)
    progress = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    is_approved = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scenario_sha256="") | Q(scenario_sha256__regex=r"^[0-9a-f]{64}$"),
                name="run_sha256_format",
            ),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | (Q(output__isnull=False) & ~Q(scenario_sha256="")),
                name="run_succeeded_has_output",
            ),
            models.UniqueConstraint(
                fields=["round"], condition=Q(is_approved=True), name="run_one_approved_per_round"
            ),
        ]

    def __str__(self):
        return f"Run {self.pk} of {self.round} ({self.get_status_display()})"


class RequestResult(models.Model):
    """What one run decided for one request, with the explanation given to its ministry."""

    run = models.ForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="results")
    request = models.ForeignKey(ComputeRequest, on_delete=models.CASCADE, related_name="results")
    weight = models.FloatField()
    allocated_h100e_hours = models.FloatField()
    fulfilment = models.FloatField()
    deferred = models.BooleanField(default=False)
    cofinancing_usd = models.DecimalField(max_digits=14, decimal_places=2)
    subsidy_usd = models.DecimalField(max_digits=14, decimal_places=2)
    reason = models.CharField(max_length=32, blank=True)
    explanation = models.JSONField(default=dict)
    income_group = models.CharField(
        max_length=4, choices=IncomeGroup.choices, blank=True, default="",
        help_text=_("The state's income group in the run's scenario."),
    )
    region = models.CharField(
        max_length=3, choices=Region.choices, blank=True, default="", help_text=_("The state's region in the scenario.")
    )

    class Meta:
        ordering = ["run", "request"]
        constraints = [
            models.UniqueConstraint(fields=["run", "request"], name="result_one_per_request_run"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="result_weight_non_negative"),
            models.CheckConstraint(condition=Q(allocated_h100e_hours__gte=0), name="result_hours_non_negative"),
            models.CheckConstraint(
                condition=Q(fulfilment__gte=0) & Q(fulfilment__lte=1.000001), name="result_fulfilment_in_unit"
            ),
            models.CheckConstraint(condition=Q(cofinancing_usd__gte=0), name="result_cofinancing_non_negative"),
        ]

    def __str__(self):
        return f"{self.request.scenario_id}: {self.fulfilment:.1%} in run {self.run_id}"


class Feasibility(models.TextChoices):
    """Whether the provider hosting an allocation line has confirmed it can run on its hardware."""

    PENDING = "pending", _("Awaiting the provider")
    CONFIRMED = "confirmed", _("Confirmed feasible")
    FLAGGED = "flagged", _("Problem flagged")


class AllocationLine(models.Model):
    """GPU-hours of one lot given to one request by one run."""

    run = models.ForeignKey(AllocationRun, on_delete=models.CASCADE, related_name="lines")
    request = models.ForeignKey(ComputeRequest, on_delete=models.PROTECT, related_name="allocation_lines")
    lot = models.ForeignKey(CapacityLot, on_delete=models.PROTECT, related_name="allocation_lines")
    gpu_hours = models.DecimalField(max_digits=14, decimal_places=4)
    h100e_hours = models.DecimalField(max_digits=14, decimal_places=4)
    cofinancing_usd = models.DecimalField(max_digits=14, decimal_places=2)
    cash_usd = models.DecimalField(max_digits=14, decimal_places=2)
    income_group = models.CharField(
        max_length=4, choices=IncomeGroup.choices, blank=True, default="",
        help_text=_("The state's income group in the run's scenario."),
    )
    region = models.CharField(
        max_length=3, choices=Region.choices, blank=True, default="", help_text=_("The state's region in the scenario.")
    )
    feasibility = models.CharField(max_length=10, choices=Feasibility.choices, default=Feasibility.PENDING)
    feasibility_note = models.TextField(blank=True, help_text=_("The provider's reason, when it flags a problem."))
    feasibility_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+")
    feasibility_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "request", "lot"]
        constraints = [
            models.UniqueConstraint(fields=["run", "request", "lot"], name="line_unique_pair_in_run"),
            models.CheckConstraint(condition=Q(gpu_hours__gte=0), name="line_gpu_hours_non_negative"),
            models.CheckConstraint(condition=Q(h100e_hours__gte=0), name="line_h100e_non_negative"),
            models.CheckConstraint(condition=Q(cofinancing_usd__gte=0), name="line_cofinancing_non_negative"),
            models.CheckConstraint(condition=Q(cash_usd__gte=0), name="line_cash_non_negative"),
            models.CheckConstraint(
                condition=~Q(feasibility="flagged") | ~Q(feasibility_note=""), name="line_flag_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(feasibility="pending") | Q(feasibility_at__isnull=False), name="line_feasibility_dated"
            ),
        ]

    def __str__(self):
        return f"{self.gpu_hours} GPU-h of {self.lot.scenario_id} to {self.request.scenario_id}"

    def clean(self):
        if self.feasibility == Feasibility.FLAGGED and not (self.feasibility_note or "").strip():
            raise ValidationError({"feasibility_note": _("Say what makes this allocation infeasible.")})


class CofinancingObligation(models.Model):
    """What a member state owes for the compute it received in a round, and what it has paid."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="obligations")
    run = models.ForeignKey(AllocationRun, on_delete=models.PROTECT, related_name="obligations")
    member_state = models.ForeignKey(MemberState, on_delete=models.PROTECT, related_name="obligations")
    share = models.DecimalField(max_digits=7, decimal_places=6)
    amount_usd = models.DecimalField(max_digits=14, decimal_places=2)
    due_date = models.DateField()
    paid_usd = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    paid_at = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "member_state__name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "member_state"], name="obligation_one_per_state_run"),
            models.CheckConstraint(condition=Q(amount_usd__gte=0), name="obligation_amount_non_negative"),
            models.CheckConstraint(condition=Q(paid_usd__gte=0), name="obligation_paid_non_negative"),
            models.CheckConstraint(condition=Q(paid_usd__lte=F("amount_usd")), name="obligation_paid_within_amount"),
            models.CheckConstraint(condition=Q(share__gte=0) & Q(share__lte=1), name="obligation_share_in_unit"),
        ]

    def __str__(self):
        return f"{self.member_state.iso3} owes {self.amount_usd} for {self.round}"

    @property
    def outstanding_usd(self) -> Decimal:
        return self.amount_usd - self.paid_usd


class ReviewAssignment(models.Model):
    """The secretariat asks one reviewer to score one request by a due date; the review, once submitted,
    is the ``Review`` of the same request and reviewer."""

    request = models.ForeignKey(ComputeRequest, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "request_id", "reviewer_id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "reviewer"], name="assignment_one_per_reviewer"),
        ]

    def __str__(self):
        return f"{self.request.scenario_id} assigned to {self.reviewer} (due {self.due_date})"

class Appeal(models.Model):
    """A ministry's appeal against the published decision on one of its requests, and the secretariat's
    answer. Upholding an appeal records what the secretariat will do about it (for example, reconsider the
    request in the next round); it never changes a published allocation."""

    class Status(models.TextChoices):
        LODGED = "lodged", _("Lodged")
        UNDER_REVIEW = "under_review", _("Under review")
        UPHELD = "upheld", _("Upheld")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Remedy(models.TextChoices):
        RECONSIDER_NEXT_ROUND = "reconsider_next_round", _("Reconsideration in the next round")
        CORRECT_RECORD = "correct_record", _("Correction of the published record")
        OTHER = "other", _("Another action, described in the answer")

    OPEN_STATUSES = (Status.LODGED, Status.UNDER_REVIEW)
    ANSWERED_STATUSES = (Status.UPHELD, Status.REJECTED)

    request = models.ForeignKey(ComputeRequest, on_delete=models.PROTECT, related_name="appeals")
    lodged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="appeals_lodged")
    reasons = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.LODGED)
    answer = models.TextField(blank=True)
    remedy = models.CharField(max_length=24, choices=Remedy.choices, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="appeals_answered")
    lodged_at = models.DateTimeField(auto_now_add=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-lodged_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["request"], condition=Q(status__in=["lodged", "under_review"]),
                                    name="appeal_one_open_per_request"),
            models.CheckConstraint(
                condition=~Q(status__in=["upheld", "rejected"]) | (~Q(answer="") & Q(answered_at__isnull=False)),
                name="appeal_answered_has_answer",
            ),
            models.CheckConstraint(condition=~Q(status="upheld") | ~Q(remedy=""), name="appeal_upheld_has_remedy"),
            models.CheckConstraint(condition=Q(status="upheld") | Q(remedy=""), name="appeal_remedy_only_if_upheld"),
            models.CheckConstraint(condition=~Q(reasons=""), name="appeal_has_reasons"),
        ]

    def __str__(self):
        return f"Appeal {self.pk} on {self.request.scenario_id} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def clean(self):
        errors = {}
        if not (self.reasons or "").strip():
            errors["reasons"] = _("Say why the decision should be reconsidered.")
        if self.status in self.ANSWERED_STATUSES and not (self.answer or "").strip():
            errors["answer"] = _("An answered appeal needs the secretariat's answer.")
        if self.status == self.Status.UPHELD and not self.remedy:
            errors["remedy"] = _("Say what the secretariat will do about an upheld appeal.")
        if errors:
            raise ValidationError(errors)
