"""The secretariat's administration of hardware, calls and rounds, pledges and offers, requests and reviews,
and of the allocation runs and their results.

What the optimiser produced (runs, results, allocation lines) is shown read-only: it is changed only by
running the round again. A round's status moves only through the services (admin actions close, reopen
and publish; approve on a run), so the rules that go with each step still hold. Large tables (allocation
lines, results) use raw id widgets, no full counts and select their related rows in one query.
"""
import copy
import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, ExpressionWrapper, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from alliance.exceptions import ApplicationError
from allocation import services
from allocation.models import (
    AllocationLine,
    AllocationRun,
    Appeal,
    Call,
    CapacityLot,
    CofinancingObligation,
    ComputeRequest,
    CountryBudget,
    HardwareType,
    Offer,
    Pledge,
    RequestResult,
    Review,
    ReviewAssignment,
    Round,
    RoundStatus,
)
from audit.admin import AuditedAdminMixin

H100E_HOURS = DecimalField(max_digits=28, decimal_places=2)
MONEY = DecimalField(max_digits=16, decimal_places=2)
JSON_PREVIEW_CHARS = 20_000


def _count_of(model, fk: str):
    """A correlated subquery counting ``model`` rows pointing at the outer row through ``fk``."""
    rows = model.objects.filter(**{fk: OuterRef("pk")}).order_by().values(fk).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _json_preview(value) -> str:
    """Pretty JSON in a scrolling block, cut short for large documents (scenarios can be megabytes)."""
    if value in (None, "", {}, []):
        return "—"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    note = ""
    if len(text) > JSON_PREVIEW_CHARS:
        note = _("(first %(shown)s of %(total)s characters; the full document is in the API)") % {
            "shown": f"{JSON_PREVIEW_CHARS:,}",
            "total": f"{len(text):,}",
        }
        text = text[:JSON_PREVIEW_CHARS] + "\n…"
    return format_html(
        '<pre style="max-height:28rem;overflow:auto;white-space:pre-wrap;margin:0">{}</pre>{}', text, note
    )


def _changelist_link(model, label, **params) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(params), label)


class ReadOnlyAdminMixin:
    """For what the engine writes: viewable, never added or edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Hardware, calls and rounds ----------------------------------------------------------------------


@admin.register(HardwareType)
class HardwareTypeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "key", "manufacturer", "h100e", "memory_gb", "dense_16bit_tflops", "tdp_w", "release_date")
    list_filter = ("manufacturer",)
    search_fields = ("name", "key", "manufacturer")
    ordering = ("manufacturer", "name")


class RoundInline(admin.TabularInline):
    model = Round
    fields = ("number", "title", "status", "opens_at", "submission_deadline", "published_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "rounds", "created_at")
    search_fields = ("title", "description")
    date_hierarchy = "created_at"
    inlines = (RoundInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rounds_count=Count("rounds"))

    @admin.display(description=_("rounds"), ordering="rounds_count")
    def rounds(self, obj):
        return obj.rounds_count


class CountryBudgetInline(admin.TabularInline):
    model = CountryBudget
    fields = ("member_state", "budget_usd")
    autocomplete_fields = ("member_state",)
    extra = 0


class RoundAdminForm(forms.ModelForm):
    class Meta:
        model = Round
        fields = ("call", "number", "title", "opens_at", "submission_deadline", "policy")

    def clean_policy(self):
        try:
            return services.policy_validate(self.cleaned_data["policy"])
        except ApplicationError as error:
            raise ValidationError(error.message) from None


def _apply(model_admin, request, objects, call, done: str) -> None:
    """``call(obj)`` (a service) on each selected object, reporting refusals one by one."""
    done_count = 0
    for obj in objects:
        try:
            call(obj)
        except ApplicationError as error:
            model_admin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        else:
            done_count += 1
    if done_count:
        model_admin.message_user(request, done % {"count": done_count}, messages.SUCCESS)


@admin.register(Round)
class RoundAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = RoundAdminForm
    list_display = (
        "title",
        "call",
        "number",
        "status",
        "opens_at",
        "submission_deadline",
        "published_at",
        "requests_count",
        "pledges_count",
        "offers_count",
    )
    list_filter = ("status", "call")
    search_fields = ("title", "call__title")
    autocomplete_fields = ("call",)
    list_select_related = ("call",)
    date_hierarchy = "opens_at"
    inlines = (CountryBudgetInline,)
    actions = ("close_rounds", "reopen_rounds", "publish_rounds")
    fieldsets = (
        (None, {"fields": ("call", "number", "title", "status")}),
        (_("Dates"), {"fields": ("opens_at", "submission_deadline", "published_at")}),
        (_("Policy"), {"fields": ("policy",), "description": _(
            "Equity weights and co-financing parameters of this round, as JSON (see the allocation contract). "
            "They can change only while the round is open."
        )}),
        (_("Results"), {"fields": ("runs_link", "results_link")}),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = ["status", "published_at", "runs_link", "results_link"]
        if obj is not None and obj.status != RoundStatus.OPEN:
            fields.append("policy")
        return fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("policy", copy.deepcopy(settings.GACP["DEFAULT_POLICY"]))
        return initial

    @admin.action(description=_("Close the selected rounds (no more requests or pledges)"))
    def close_rounds(self, request, queryset):
        _apply(self, request, queryset, lambda r: services.round_close(round_=r, user=request.user),
               _("%(count)s round(s) closed."))

    @admin.action(description=_("Reopen the selected closed rounds"))
    def reopen_rounds(self, request, queryset):
        _apply(self, request, queryset, lambda r: services.round_reopen(round_=r, user=request.user),
               _("%(count)s round(s) reopened."))

    @admin.action(description=_("Publish the approved run of the selected rounds"))
    def publish_rounds(self, request, queryset):
        _apply(self, request, queryset, lambda r: services.round_publish(round_=r, user=request.user),
               _("%(count)s round(s) published."))

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_requests=_count_of(ComputeRequest, "round"),
                n_pledges=_count_of(Pledge, "round"),
                n_offers=_count_of(Offer, "round"),
            )
        )

    @admin.display(description=_("requests"), ordering="n_requests")
    def requests_count(self, obj):
        return obj.n_requests

    @admin.display(description=_("pledges"), ordering="n_pledges")
    def pledges_count(self, obj):
        return obj.n_pledges

    @admin.display(description=_("offers"), ordering="n_offers")
    def offers_count(self, obj):
        return obj.n_offers

    @admin.display(description=_("allocation runs"))
    def runs_link(self, obj):
        if not obj.pk:
            return "—"
        return _changelist_link(AllocationRun, _("Runs of this round"), round__id__exact=obj.pk)

    @admin.display(description=_("co-financing"))
    def results_link(self, obj):
        if not obj.pk:
            return "—"
        return _changelist_link(CofinancingObligation, _("Obligations of this round"), round__id__exact=obj.pk)


# --- Pledges, offers and their lots -----------------------------------------------------------------

LOT_H100E = ExpressionWrapper(F("gpu_hours") * F("hardware__h100e"), output_field=H100E_HOURS)


class PledgeLotInline(admin.TabularInline):
    """Lots of an in-kind pledge: given, so without a price."""

    model = CapacityLot
    fk_name = "pledge"
    fields = ("provider", "hardware", "region", "gpu_hours", "available_from", "available_until",
              "value_usd_per_gpu_hour")
    autocomplete_fields = ("provider", "hardware")
    extra = 0
    show_change_link = True
    verbose_name = _("lot")
    verbose_name_plural = _("lots (earmarks are edited on each lot's own page)")


class OfferLotInline(PledgeLotInline):
    """Lots of an offer: for sale, so with a price."""

    fk_name = "offer"
    fields = (*PledgeLotInline.fields, "price_usd_per_gpu_hour")


class LotTotalsMixin:
    """Annotates pledges and offers with their lots' count and H100-equivalent hours."""

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                lot_count=Count("lots"),
                lot_h100e_hours=Coalesce(
                    Sum(F("lots__gpu_hours") * F("lots__hardware__h100e"), output_field=H100E_HOURS), 0,
                    output_field=H100E_HOURS,
                ),
            )
        )

    @admin.display(description=_("lots"), ordering="lot_count")
    def lots_count(self, obj):
        return obj.lot_count

    @admin.display(description=_("H100e-hours"), ordering="lot_h100e_hours")
    def h100e_hours(self, obj):
        return f"{obj.lot_h100e_hours:,.0f}"


@admin.register(Pledge)
class PledgeAdmin(AuditedAdminMixin, LotTotalsMixin, admin.ModelAdmin):
    list_display = ("__str__", "donor", "round", "kind", "status", "cash_usd", "lots_count", "h100e_hours",
                    "created_at")
    list_filter = ("status", "kind", "round", "donor__member_state__region")
    search_fields = ("donor__name", "round__title", "round__call__title", "note", "created_by__username")
    autocomplete_fields = ("donor", "round", "created_by")
    list_select_related = ("donor", "round", "round__call")
    date_hierarchy = "created_at"
    inlines = (PledgeLotInline,)


@admin.register(Offer)
class OfferAdmin(AuditedAdminMixin, LotTotalsMixin, admin.ModelAdmin):
    list_display = ("__str__", "provider", "round", "status", "lots_count", "h100e_hours", "created_at")
    list_filter = ("status", "round", "provider__member_state__region")
    search_fields = ("provider__name", "round__title", "round__call__title", "note", "created_by__username")
    autocomplete_fields = ("provider", "round", "created_by")
    list_select_related = ("provider", "round", "round__call")
    date_hierarchy = "created_at"
    inlines = (OfferLotInline,)


class LotRoundFilter(admin.SimpleListFilter):
    """A lot's round is its pledge's or its offer's."""

    title = _("round")
    parameter_name = "round"

    def lookups(self, request, model_admin):
        return [(str(r.pk), str(r)) for r in Round.objects.select_related("call")]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(Q(pledge__round_id=value) | Q(offer__round_id=value))
        return queryset


class LotSourceFilter(admin.SimpleListFilter):
    title = _("source")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return [("pledge", _("Pledged in kind")), ("offer", _("Offered for sale"))]

    def queryset(self, request, queryset):
        if self.value() == "pledge":
            return queryset.filter(pledge__isnull=False)
        if self.value() == "offer":
            return queryset.filter(offer__isnull=False)
        return queryset


@admin.register(CapacityLot)
class CapacityLotAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "source", "provider", "hardware", "region", "gpu_hours", "h100e_hours",
                    "available_from", "available_until", "value_usd_per_gpu_hour", "price_usd_per_gpu_hour")
    list_filter = (LotSourceFilter, LotRoundFilter, "region", "hardware")
    search_fields = ("provider__name", "hardware__name", "hardware__key", "pledge__donor__name",
                     "offer__provider__name")
    autocomplete_fields = ("pledge", "offer", "provider", "hardware", "earmark_countries")
    list_select_related = ("provider", "hardware", "pledge__donor", "offer__provider")
    fieldsets = (
        (_("Belongs to"), {"fields": ("pledge", "offer"), "description": _("Exactly one of the two.")}),
        (None, {"fields": ("provider", "hardware", "region", "gpu_hours", ("available_from", "available_until"))}),
        (_("Money"), {"fields": ("value_usd_per_gpu_hour", "price_usd_per_gpu_hour"), "description": _(
            "Every lot has a market value (used for co-financing); only capacity for sale has a price."
        )}),
        (_("Earmarks"), {"fields": ("earmark_sectors", "earmark_income_groups", "earmark_countries"),
                         "description": _("Donor conditions: lists of sector codes and income groups (LIC, LMIC, "
                                          "UMIC, HIC) as JSON, and countries. Empty means no condition.")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(h100e=LOT_H100E)

    @admin.display(description=_("source"))
    def source(self, obj):
        if obj.pledge_id:
            return format_html("{} · {}", _("pledge"), obj.pledge.donor)
        return format_html("{} · {}", _("offer"), obj.offer.provider)

    @admin.display(description=_("H100e-hours"), ordering="h100e")
    def h100e_hours(self, obj):
        return f"{obj.h100e:,.0f}"


# --- Requests and reviews ---------------------------------------------------------------------------


class ReviewInline(admin.TabularInline):
    model = Review
    fields = ("reviewer", "score", "comments", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("reviewer",)
    extra = 0


class RequestResultInline(admin.TabularInline):
    """What each run decided for the request (read-only)."""

    model = RequestResult
    fields = ("run", "allocated_h100e_hours", "fulfilment", "deferred", "reason", "cofinancing_usd", "subsidy_usd")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("results of allocation runs")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ComputeRequest)
class ComputeRequestAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("ref", "title", "member_state", "sector", "round", "h100e_hours", "status", "score",
                    "reviews_count", "submitted_at")
    list_display_links = ("ref", "title")
    list_filter = ("status", "sector", "round", "member_state__income_group", "member_state__region",
                   "member_state__cofinancing_phase", "local_language", "open_weights")
    search_fields = ("title", "abstract", "member_state__name", "member_state__iso3", "ministry__name",
                     "created_by__username")
    search_help_text = _("Title, abstract, state, ministry or author; “R123” finds request 123.")
    autocomplete_fields = ("round", "member_state", "ministry", "created_by", "acceptable_hardware")
    list_select_related = ("member_state", "round", "round__call")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")
    inlines = (ReviewInline, RequestResultInline)
    fieldsets = (
        (None, {"fields": ("round", "member_state", "ministry", "created_by", "title", "abstract", "sector")}),
        (_("Size and needs"), {"fields": (("h100e_hours", "min_h100e_hours"), "acceptable_hardware",
                                         "data_residency_regions")}),
        (_("Model"), {"fields": ("local_language", "open_weights", "params_billion")}),
        (_("Review"), {"fields": ("status", "eligibility_note", "score")}),
        (_("Dates"), {"fields": ("submitted_at", "created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_reviews=_count_of(Review, "request"))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if len(term) > 1 and term[0] in "Rr" and term[1:].isdigit():  # a scenario id: R123
            return queryset.filter(pk=int(term[1:])), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("ref"), ordering="pk")
    def ref(self, obj):
        return obj.scenario_id

    @admin.display(description=_("reviews"), ordering="n_reviews")
    def reviews_count(self, obj):
        return obj.n_reviews


@admin.register(Review)
class ReviewAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("request", "member_state", "reviewer", "score", "created_at")
    list_filter = ("request__round", "request__sector", "request__member_state__income_group")
    search_fields = ("request__title", "request__member_state__name", "request__member_state__iso3",
                     "reviewer__username", "reviewer__last_name", "comments")
    autocomplete_fields = ("request", "reviewer")
    list_select_related = ("request", "request__member_state", "reviewer")
    date_hierarchy = "created_at"

    @admin.display(description=_("state"), ordering="request__member_state__name")
    def member_state(self, obj):
        return obj.request.member_state


@admin.register(CountryBudget)
class CountryBudgetAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("member_state", "round", "income_group", "cofinancing_phase", "budget_usd")
    list_filter = ("round", "member_state__income_group", "member_state__cofinancing_phase", "member_state__region")
    search_fields = ("member_state__name", "member_state__iso3", "round__title")
    autocomplete_fields = ("round", "member_state")
    list_select_related = ("member_state", "round", "round__call")

    @admin.display(description=_("income group"), ordering="member_state__income_group")
    def income_group(self, obj):
        return obj.member_state.get_income_group_display()

    @admin.display(description=_("co-financing phase"), ordering="member_state__cofinancing_phase")
    def cofinancing_phase(self, obj):
        return obj.member_state.get_cofinancing_phase_display()


# --- Runs and what they decided ---------------------------------------------------------------------


@admin.register(AllocationRun)
class AllocationRunAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "round", "status", "is_approved", "solver_status", "solve_seconds", "levels",
                    "variables", "constraints", "created_by", "created_at", "finished_at")
    list_filter = ("status", "is_approved", "solver_status", "round")
    search_fields = ("round__title", "round__call__title", "scenario_sha256", "task_id", "created_by__username")
    list_select_related = ("round", "round__call", "created_by")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("round", "status", "is_approved", "created_by", "task_id")}),
        (_("Timing"), {"fields": ("created_at", "started_at", "finished_at", "solve_seconds")}),
        (_("Solver"), {"fields": ("solver_status", "levels", "variables", "constraints", "progress_preview",
                                  "error")}),
        (_("Decisions"), {"fields": ("results_link", "lines_link", "obligations_link")}),
        (_("Reproducibility"), {"fields": ("scenario_sha256", "scenario_preview", "output_preview"),
                                "classes": ("collapse",)}),
    )
    readonly_fields = ("progress_preview", "scenario_preview", "output_preview", "results_link", "lines_link",
                       "obligations_link")
    actions = ("approve_run",)

    @admin.action(description=_("Approve the selected run as its round's decision"))
    def approve_run(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one run to approve."), messages.WARNING)
            return
        _apply(self, request, queryset, lambda run: services.run_approve(run=run, user=request.user),
               _("Run approved."))

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The change list never needs the (possibly large) JSON documents.
        if request.resolver_match and request.resolver_match.url_name.endswith("_changelist"):
            queryset = queryset.defer("scenario", "output", "progress")
        return queryset

    @admin.display(description=_("progress"))
    def progress_preview(self, obj):
        return _json_preview(obj.progress)

    @admin.display(description=_("scenario (gacp.scenario/1)"))
    def scenario_preview(self, obj):
        return _json_preview(obj.scenario)

    @admin.display(description=_("output (gacp.allocation/1)"))
    def output_preview(self, obj):
        return _json_preview(obj.output)

    @admin.display(description=_("results"))
    def results_link(self, obj):
        return _changelist_link(RequestResult, _("Results per request"), run__id__exact=obj.pk)

    @admin.display(description=_("allocation lines"))
    def lines_link(self, obj):
        return _changelist_link(AllocationLine, _("Allocation lines"), run__id__exact=obj.pk)

    @admin.display(description=_("co-financing"))
    def obligations_link(self, obj):
        return _changelist_link(CofinancingObligation, _("Co-financing obligations"), run__id__exact=obj.pk)


@admin.register(RequestResult)
class RequestResultAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("request", "member_state", "run", "weight", "allocated_h100e_hours", "fulfilment_pct",
                    "deferred", "reason", "cofinancing_usd", "subsidy_usd")
    list_filter = ("run__is_approved", "deferred", "reason", "run__round", "request__member_state__income_group",
                   "request__member_state__region")
    search_fields = ("request__title", "request__member_state__name", "request__member_state__iso3")
    list_select_related = ("request", "request__member_state", "run", "run__round", "run__round__call")
    raw_id_fields = ("run", "request")
    show_full_result_count = False
    readonly_fields = ("explanation_preview",)
    exclude = ("explanation",)

    @admin.display(description=_("state"), ordering="request__member_state__name")
    def member_state(self, obj):
        return obj.request.member_state

    @admin.display(description=_("fulfilment"), ordering="fulfilment")
    def fulfilment_pct(self, obj):
        return f"{obj.fulfilment:.1%}"

    @admin.display(description=_("explanation"))
    def explanation_preview(self, obj):
        return _json_preview(obj.explanation)


@admin.register(AllocationLine)
class AllocationLineAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("line", "run_ref", "request_ref", "state", "lot_ref", "gpu_hours", "h100e_hours",
                    "cofinancing_usd", "cash_usd", "feasibility")
    list_filter = ("run__is_approved", "run__round", "lot__region", "request__member_state__income_group",
                   "feasibility")
    search_fields = ("request__title", "request__member_state__iso3", "request__member_state__name")
    list_select_related = ("request__member_state", "lot", "lot__hardware")
    raw_id_fields = ("run", "request", "lot")
    show_full_result_count = False
    list_per_page = 100

    @admin.display(description=_("line"), ordering="pk")
    def line(self, obj):
        return obj.pk

    @admin.display(description=_("run"), ordering="run_id")
    def run_ref(self, obj):
        return obj.run_id

    @admin.display(description=_("request"), ordering="request_id")
    def request_ref(self, obj):
        return f"{obj.request.scenario_id}: {obj.request.title}"

    @admin.display(description=_("state"), ordering="request__member_state__iso3")
    def state(self, obj):
        return obj.request.member_state.iso3

    @admin.display(description=_("lot"), ordering="lot_id")
    def lot_ref(self, obj):
        return f"{obj.lot.scenario_id} · {obj.lot.hardware} · {obj.lot.region}"


class PaymentFilter(admin.SimpleListFilter):
    title = _("payment")
    parameter_name = "payment"

    def lookups(self, request, model_admin):
        return [
            ("paid", _("Paid in full")),
            ("partly", _("Partly paid")),
            ("unpaid", _("Not paid")),
            ("overdue", _("Overdue")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "paid":
            return queryset.filter(paid_usd__gte=F("amount_usd"))
        if value == "partly":
            return queryset.filter(paid_usd__gt=0, paid_usd__lt=F("amount_usd"))
        if value == "unpaid":
            return queryset.filter(paid_usd=0, amount_usd__gt=0)
        if value == "overdue":
            return queryset.filter(paid_usd__lt=F("amount_usd"), due_date__lt=timezone.localdate())
        return queryset


@admin.register(CofinancingObligation)
class CofinancingObligationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("member_state", "round", "share_pct", "amount_usd", "paid_usd", "outstanding", "due_date",
                    "paid_at", "is_overdue")
    list_filter = (PaymentFilter, "round", "member_state__income_group", "member_state__cofinancing_phase",
                   "member_state__region")
    search_fields = ("member_state__name", "member_state__iso3", "round__title")
    list_select_related = ("member_state", "round", "round__call")
    date_hierarchy = "due_date"
    fields = ("member_state", "round", "run", "share", "amount_usd", "due_date", "paid_usd", "paid_at")
    readonly_fields = ("member_state", "round", "run", "share", "amount_usd", "due_date")

    def has_add_permission(self, request):
        return False  # obligations are created when a round is published

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            outstanding_usd_db=ExpressionWrapper(F("amount_usd") - F("paid_usd"), output_field=MONEY)
        )

    @admin.display(description=_("share"), ordering="share")
    def share_pct(self, obj):
        return f"{obj.share:.1%}"

    @admin.display(description=_("outstanding"), ordering="outstanding_usd_db")
    def outstanding(self, obj):
        return obj.outstanding_usd

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj):
        return obj.outstanding_usd > 0 and obj.due_date < timezone.localdate()


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Assignments are made on the secretariat's reviews page (which checks conflicts of interest); here
    they are read, searched and, if need be, removed."""

    list_display = ("request", "reviewer", "due_date", "assigned_by", "created_at")
    list_filter = ("request__round", "due_date")
    search_fields = ("request__title", "request__member_state__name", "reviewer__username", "reviewer__last_name")
    list_select_related = ("request", "reviewer", "assigned_by")
    readonly_fields = ("request", "reviewer", "assigned_by", "created_at")

    def has_add_permission(self, request):
        return False

# --- Appeals ------------------------------------------------------------------------------------


@admin.register(Appeal)
class AppealAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Appeals are lodged by ministries and answered by the secretariat on their pages (/secretariat/appeals/),
    through the services; the admin reads them."""

    list_display = ("id", "request", "member_state", "status", "remedy", "lodged_at", "answered_at")
    list_filter = ("status", "remedy", "request__round")
    search_fields = ("request__title", "request__member_state__name", "request__member_state__iso3", "reasons")
    list_select_related = ("request", "request__member_state")
    raw_id_fields = ("request", "lodged_by", "answered_by")
    date_hierarchy = "lodged_at"

    @admin.display(description=_("state"), ordering="request__member_state__name")
    def member_state(self, obj):
        return obj.request.member_state
