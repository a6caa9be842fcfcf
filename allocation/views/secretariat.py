"""The secretariat's pages: its home, calls and rounds, eligibility, reviewer assignments, a round's policy,
comparing runs, approving and publishing, and the co-financing ledger.

Each page: an access helper or selector, a form that validates, a service, then a redirect with a message
(or a render). Only secretariat officers open these pages (403 for everyone else, a sign-in for the public).
"""
from decimal import Decimal
from functools import wraps
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from alliance.exceptions import ApplicationError
from allocation import selectors, services
from allocation.forms import form_refusal
from allocation.forms.secretariat import (
    AssignForm,
    CallForm,
    DeadlineForm,
    EligibilityFilterForm,
    EligibilityForm,
    LedgerFilterForm,
    PaymentForm,
    PolicyForm,
    RoundForm,
    policy_label,
)
from allocation.models import AllocationRun, Call, RequestStatus, RoundStatus

POLICY_EDITABLE = (RoundStatus.OPEN, RoundStatus.CLOSED, RoundStatus.SOLVED)
COMPARISON_PAGE_SIZE = 100


def secretariat_required(view):
    """Sign in first; then only secretariat officers (and superusers) pass."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        selectors.secretariat_access(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def _back(request, default: str) -> str:
    """Where to return after a one-click decision: the list as it was filtered, if the address is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


# --- Home ---------------------------------------------------------------------------------------


@secretariat_required
def home(request):
    return render(request, "allocation/secretariat/home.html", selectors.secretariat_overview())


# --- Calls and rounds ---------------------------------------------------------------------------


@secretariat_required
def call_create(request):
    form = CallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            call = services.call_create(user=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("The call “%(call)s” is created; open its first round.") % {"call": call})
            return redirect("secretariat-round-create", call_id=call.pk)
    return render(request, "allocation/secretariat/call_form.html", {"form": form})


@secretariat_required
def round_create(request, call_id: int):
    try:
        call = Call.objects.get(pk=call_id)
    except Call.DoesNotExist:
        raise Http404(f"No call with id {call_id!r}.") from None
    form = RoundForm(request.POST or None, call=call)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            round_ = services.round_create(
                user=request.user, call=call, number=data["number"], title=data["title"], opens_at=data["opens_at"],
                submission_deadline=data["submission_deadline"], policy=form.policy(),
            )
        except (ApplicationError, ValidationError) as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("%(round)s is open for requests and pledges.") % {"round": round_})
            return redirect("secretariat-round", round_id=round_.pk)
    return render(request, "allocation/secretariat/round_form.html", {"form": form, "call": call})


@secretariat_required
def round_manage(request, round_id: int, deadline_form=None):
    round_ = selectors.round_access(request.user, round_id)
    runs = list(round_.runs.select_related("created_by").order_by("-created_at", "-id"))
    overview = selectors.secretariat_overview()
    entry = next(r for call in overview["calls"] for r in call["rounds"] if r["round"].pk == round_.pk)
    context = {
        "round": round_,
        "entry": entry,
        "todo": [item for item in overview["todo"] if item["round"].pk == round_.pk],
        "runs": runs,
        "succeeded": [run for run in reversed(runs) if run.status == AllocationRun.Status.SUCCEEDED],
        "approved": selectors.approved_run(round_),
        "deadline_form": deadline_form or DeadlineForm(initial={"submission_deadline": round_.submission_deadline}),
        "deadline_editable": round_.status in (RoundStatus.OPEN, RoundStatus.CLOSED),
        "deadline_passed": round_.submission_deadline <= timezone.now(),
    }
    return render(request, "allocation/secretariat/round.html", context)


@secretariat_required
@require_POST
def round_deadline(request, round_id: int):
    round_ = selectors.round_access(request.user, round_id)
    form = DeadlineForm(request.POST)
    if form.is_valid():
        try:
            services.round_set_deadline(round_=round_, user=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("The submission deadline is changed."))
            return redirect("secretariat-round", round_id=round_.pk)
    return round_manage(request, round_id, deadline_form=form)


@secretariat_required
@require_POST
def round_close(request, round_id: int):
    round_ = selectors.round_access(request.user, round_id)
    try:
        services.round_close(round_=round_, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The round is closed: no more requests, pledges or offers. Decide eligibility "
                                    "and collect the reviews next."))
    return redirect("secretariat-round", round_id=round_.pk)


@secretariat_required
@require_POST
def round_reopen(request, round_id: int):
    round_ = selectors.round_access(request.user, round_id)
    try:
        services.round_reopen(round_=round_, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The round is open again."))
        if round_.submission_deadline <= timezone.now():
            messages.warning(request, _("Its submission deadline has passed: move it so that ministries can submit."))
    return redirect("secretariat-round", round_id=round_.pk)


# --- Eligibility --------------------------------------------------------------------------------


@secretariat_required
def eligibility(request, round_id: int, bound=None):
    round_ = selectors.round_access(request.user, round_id)
    page_url = reverse("secretariat-eligibility", args=[round_.pk])
    back = (_back(request, page_url) if bound else request.get_full_path()).split("#")[0]
    query = QueryDict(urlsplit(back).query) if bound else request.GET  # a refused decision keeps the filters
    filters = EligibilityFilterForm(query or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    queue = selectors.eligibility_queue(round_, status=chosen.get("status", ""), sector=chosen.get("sector", ""),
                                        income_group=chosen.get("income_group", ""), query=chosen.get("q", ""))
    page = Paginator(queue, 50).get_page(query.get("page"))
    rows = [{"request": r, "form": bound[1] if bound and bound[0] == r.pk else None} for r in page]
    waiting = round_.requests.filter(status=RequestStatus.SUBMITTED).count()
    return render(request, "allocation/secretariat/eligibility.html", {
        "round": round_, "filters": filters, "page": page, "rows": rows, "waiting": waiting,
        "query_string": _query_without_page(query), "page_url": page_url, "back": back,
    })


@secretariat_required
@require_POST
def eligibility_decide(request, request_id: int):
    compute_request = selectors.request_access(request.user, request_id)
    form = EligibilityForm(request.POST)
    if form.is_valid():
        eligible = form.cleaned_data["decision"] == "eligible"
        try:
            services.request_set_eligibility(user=request.user, request=compute_request, eligible=eligible,
                                             note=form.cleaned_data["note"])
        except (ApplicationError, ValidationError) as error:
            form_refusal(form, error)
        else:
            label = _("eligible") if eligible else _("not eligible")
            messages.success(request, _("%(request)s is %(decision)s.") % {
                "request": compute_request.scenario_id, "decision": label})
            default = reverse("secretariat-eligibility", args=[compute_request.round_id])
            return redirect(_back(request, default))
    problems = " ".join(problem for errors in form.errors.values() for problem in errors)
    messages.error(request, _("%(request)s: %(problem)s") % {"request": compute_request.scenario_id,
                                                               "problem": problems})
    return eligibility(request, compute_request.round_id, bound=(compute_request.pk, form))


def _query_without_page(query) -> str:
    query = query.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Reviewers ----------------------------------------------------------------------------------


@secretariat_required
def reviews(request, round_id: int, form=None):
    round_ = selectors.round_access(request.user, round_id)
    show = request.GET.get("show", "")
    board = selectors.review_board(round_, status=show if show in ("missing", "unassigned", "unscored") else "")
    form = form or AssignForm(round_=round_, reviewers=selectors.reviewers())
    chosen = {str(pk) for pk in (form["requests"].value() or [])} if form.is_bound else set()
    return render(request, "allocation/secretariat/reviews.html", {
        "round": round_, "board": board, "form": form, "show": show, "chosen": chosen,
        "reviewers": selectors.reviewers(),
        "open": round_.status not in (RoundStatus.SOLVING, RoundStatus.PUBLISHED),
    })


@secretariat_required
@require_POST
def review_assign(request, round_id: int):
    round_ = selectors.round_access(request.user, round_id)
    form = AssignForm(request.POST, round_=round_, reviewers=selectors.reviewers())
    if form.is_valid():
        data = form.cleaned_data
        try:
            created = services.review_assign(user=request.user, requests=data["requests"], reviewer=data["reviewer"],
                                             due_date=data["due_date"])
        except (ApplicationError, ValidationError) as error:
            form_refusal(form, error)
        else:
            reviewer = data["reviewer"].get_full_name() or data["reviewer"].get_username()
            messages.success(request, ngettext("%(reviewer)s is assigned %(count)s request, due %(due)s.",
                                               "%(reviewer)s is assigned %(count)s requests, due %(due)s.",
                                               len(created)) % {
                "reviewer": reviewer, "count": len(created), "due": _date(data["due_date"])})
            return redirect("secretariat-reviews", round_id=round_.pk)
    return reviews(request, round_id, form=form)


@secretariat_required
@require_POST
def review_unassign(request, assignment_id: int):
    assignment = selectors.review_assignment_access(request.user, assignment_id)
    round_id = assignment.request.round_id
    try:
        services.review_unassign(user=request.user, assignment=assignment)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(reviewer)s no longer reviews %(request)s.") % {
            "reviewer": assignment.reviewer, "request": assignment.request.scenario_id})
    return redirect("secretariat-reviews", round_id=round_id)


def _date(value) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _number(value) -> str:
    """A policy value as people read it in their language: 2.5 is "2.5" in English and "2,5" in French."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    exact = Decimal(repr(value)).normalize()
    places = max(0, -exact.as_tuple().exponent)
    return formats.number_format(exact, places, force_grouping=True)


def _money(value) -> str:
    return formats.number_format(value, 2, force_grouping=True)


# --- Policy -------------------------------------------------------------------------------------


@secretariat_required
def policy(request, round_id: int):
    round_ = selectors.round_access(request.user, round_id)
    editable = round_.status in POLICY_EDITABLE
    form = PolicyForm(request.POST if editable and request.method == "POST" else None, policy=round_.policy)
    if request.method == "POST":
        if not editable:
            messages.error(request, _("The round is %(status)s: its policy can no longer change.") % {
                "status": round_.get_status_display().lower()})
            return redirect("secretariat-policy", round_id=round_.pk)
        if form.is_valid():
            try:
                services.round_set_policy(round_=round_, policy=form.policy(), user=request.user)
            except ApplicationError as error:
                for key, problem in error.extra.items():
                    form.add_error(form.field_for(key), str(problem))
                if not error.extra:
                    form.add_error(None, error.message)
            except ValidationError as error:
                form_refusal(form, error)
            else:
                note = _("The policy is saved.")
                if round_.status == RoundStatus.SOLVED:
                    note += " " + _("The existing runs keep the policy they were solved with; solve the round again "
                                    "to see this one's effect, then compare the runs.")
                messages.success(request, note)
                return redirect("secretariat-policy", round_id=round_.pk)
    runs = list(selectors.succeeded_runs(round_))
    return render(request, "allocation/secretariat/policy.html", {
        "round": round_, "form": form, "editable": editable, "runs": runs,
        "policy_rows": _policy_rows(round_.policy),
    })


def _policy_rows(policy: dict) -> list[tuple[str, object]]:
    flat = selectors._flatten(policy)
    return [(policy_label(key), _number(value)) for key, value in flat.items()]


# --- Runs: compare, approve, publish ------------------------------------------------------------


def _run_of(round_, value):
    try:
        return round_.runs.get(pk=int(value), status=AllocationRun.Status.SUCCEEDED)
    except (AllocationRun.DoesNotExist, TypeError, ValueError):
        return None


@secretariat_required
def compare(request, round_id: int):
    round_ = selectors.round_access(request.user, round_id)
    runs = list(selectors.succeeded_runs(round_))
    context = {"round": round_, "runs": runs}
    if len(runs) < 2:
        return render(request, "allocation/secretariat/compare.html", context)
    run_a = _run_of(round_, request.GET.get("a")) if "a" in request.GET else runs[-2]
    run_b = _run_of(round_, request.GET.get("b")) if "b" in request.GET else runs[-1]
    if run_a is None or run_b is None:
        context["problem"] = _("Choose two succeeded runs of this round.")
        return render(request, "allocation/secretariat/compare.html", context)
    sort = request.GET.get("sort", "change")
    if sort not in selectors.COMPARISON_SORTS:
        sort = "change"
    comparison = selectors.run_comparison(run_a, run_b, sort=sort)
    for row in comparison["policy"]:
        row.update(label=policy_label(row["key"]), a_text=_number(row["a"]), b_text=_number(row["b"]))
    page = Paginator(comparison["rows"], COMPARISON_PAGE_SIZE).get_page(request.GET.get("page"))
    context.update({"run_a": run_a, "run_b": run_b, "comparison": comparison, "page": page, "sort": sort,
                    "base_query": f"a={run_a.pk}&b={run_b.pk}"})
    return render(request, "allocation/secretariat/compare.html", context)


@secretariat_required
def run_approve(request, run_id: int):
    run = selectors.run_access(request.user, run_id)
    if request.method == "POST":
        try:
            services.run_approve(run=run, user=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("secretariat-round", round_id=run.round_id)
        messages.success(request, _("Run %(run)s is approved as the round's decision; publish the round to make it "
                                    "public.") % {"run": run.pk})
        return redirect("secretariat-round", round_id=run.round_id)
    return render(request, "allocation/secretariat/run_approve.html", {
        "run": run, "round": run.round, "summary": selectors.run_summary(run),
        "approved": selectors.approved_run(run.round),
        "can_approve": run.round.status == RoundStatus.SOLVED and run.status == AllocationRun.Status.SUCCEEDED,
    })


@secretariat_required
def round_publish(request, round_id: int):
    round_ = selectors.round_access(request.user, round_id)
    approved = selectors.approved_run(round_)
    if request.method == "POST":
        try:
            services.round_publish(round_=round_, user=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(round)s is published: ministries see their awards and the public sees "
                                        "the decision.") % {"round": round_})
        return redirect("secretariat-round", round_id=round_.pk)
    return render(request, "allocation/secretariat/round_publish.html", {
        "round": round_, "approved": approved,
        "summary": selectors.run_summary(approved) if approved else None,
        "can_publish": approved is not None and round_.status == RoundStatus.SOLVED,
    })


# --- Co-financing ledger ------------------------------------------------------------------------


@secretariat_required
def cofinancing(request):
    filters = LedgerFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    today = timezone.localdate()
    obligations = selectors.ledger_obligations(round_id=chosen["round"].pk if chosen.get("round") else None,
                                               iso3=chosen.get("state", ""), status=chosen.get("status", ""),
                                               today=today)
    page = Paginator(obligations, 50).get_page(request.GET.get("page"))
    return render(request, "allocation/secretariat/cofinancing.html", {
        "filters": filters, "page": page, "totals": selectors.ledger_totals(obligations, today=today),
        "today": today, "query_string": _query_without_page(request.GET),
    })


@secretariat_required
def payment(request, obligation_id: int):
    obligation = selectors.ledger_obligation_access(request.user, obligation_id)
    form = PaymentForm(request.POST or None, outstanding=obligation.outstanding_usd)
    if request.method == "POST" and form.is_valid():
        try:
            services.obligation_record_payment(obligation=obligation, user=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("A payment of US$ %(amount)s from %(state)s is recorded.") % {
                "amount": _money(form.cleaned_data["amount_usd"]), "state": obligation.member_state.name})
            return redirect(_back(request, reverse("secretariat-cofinancing")))
    return render(request, "allocation/secretariat/payment.html", {
        "obligation": obligation, "form": form, "today": timezone.localdate(),
        "next": request.GET.get("next", request.POST.get("next", "")),
    })
