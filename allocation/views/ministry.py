"""The ministry portal: a ministry officer's requests, from draft to the answer to an award.

Every page starts from an access helper: officers of other roles are refused (403), another state's
request reads as unknown (404). Changes go through the services; their refusals become messages."""
from dataclasses import dataclass
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from alliance.exceptions import ApplicationError
from allocation import selectors, services
from allocation.forms import refusal_text
from allocation.forms.ministry import ComputeRequestForm
from allocation.models import RequestStatus, RoundStatus
from allocation.services import WITHDRAWABLE
from members.models import Region


def _with_results(requests) -> list:
    """The requests, each with ``result`` (its published result or None) and ``fulfilment_pct``."""
    requests = list(requests)
    for item in requests:
        item.result = item.published_results[0] if item.published_results else None
        item.fulfilment_pct = item.result.fulfilment * 100 if item.result else None
    return requests


@login_required
@require_safe
def ministry_home(request):
    ministry = selectors.ministry_access(request.user)
    state = ministry.member_state
    requests = _with_results(selectors.ministry_requests(request.user))
    by_round = [(round_, list(items)) for round_, items in groupby(requests, key=lambda r: r.round)]
    open_rounds = list(selectors.rounds_open_for_requests())
    drafted = {r.round_id for r in requests if r.status == RequestStatus.DRAFT}
    return render(request, "allocation/ministry/home.html", {
        "ministry": ministry,
        "state": state,
        "by_round": by_round,
        "open_rounds": [{"round": r, "has_draft": r.id in drafted} for r in open_rounds],
        "awards": _with_results(selectors.awards_awaiting_answer(request.user)),
        "cofinancing": selectors.state_cofinancing(state),
        "appeals": list(selectors.appeals_visible_to(request.user).order_by("-lodged_at", "-id")[:20]),
    })


def _request_form_page(request, *, form, round_, compute_request=None):
    return render(request, "allocation/ministry/request_form.html", {
        "form": form,
        "round": round_,
        "compute_request": compute_request,
        "capacity": selectors.round_capacity(round_),
    })


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request, round_id: int):
    round_ = selectors.open_round_access(request.user, round_id)
    form = ComputeRequestForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            compute_request = services.request_create(user=request.user, round_=round_,
                                                      acceptable_hardware=fields.pop("acceptable_hardware"), **fields)
        except ValidationError as error:
            form.apply_errors(error)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your draft is saved. Check it, then submit it before the deadline."))
            return redirect("ministry-request-detail", request_id=compute_request.pk)
    return _request_form_page(request, form=form, round_=round_)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_edit(request, request_id: int):
    compute_request = selectors.ministry_request_access(request.user, request_id)
    if compute_request.status != RequestStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited; this request is %(status)s.")
                       % {"status": compute_request.get_status_display().lower()})
        return redirect("ministry-request-detail", request_id=compute_request.pk)
    form = ComputeRequestForm.for_request(compute_request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            services.request_update(user=request.user, request=compute_request,
                                    acceptable_hardware=fields.pop("acceptable_hardware"), **fields)
        except ValidationError as error:
            form.apply_errors(error)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your changes to the draft are saved."))
            return redirect("ministry-request-detail", request_id=compute_request.pk)
    return _request_form_page(request, form=form, round_=compute_request.round, compute_request=compute_request)


@login_required
@require_safe
def request_detail(request, request_id: int):
    compute_request = selectors.ministry_request_access(request.user, request_id)
    return request_detail_page(request, compute_request)


def request_detail_page(request, compute_request, *, appeal_form=None, status=200):
    """The request page; ``appeal_form`` carries a refused appeal's input back to the officer."""
    from allocation.views.appeals import appeal_context

    round_ = compute_request.round
    outcome = selectors.request_outcome(compute_request)
    return render(request, "allocation/ministry/request_detail.html", {
        "compute_request": compute_request,
        "round": round_,
        "hardware": list(compute_request.acceptable_hardware.order_by("-h100e", "name")),
        "regions": [label for code, label in Region.choices if code in (compute_request.data_residency_regions or [])],
        "outcome": outcome,
        "fulfilment_pct": outcome["result"].fulfilment * 100 if outcome else None,
        "share_pct": round(outcome["share"] * 100, 4) if outcome and outcome["share"] is not None else None,
        "can_edit": compute_request.status == RequestStatus.DRAFT and round_.status == RoundStatus.OPEN,
        "can_submit": compute_request.status == RequestStatus.DRAFT and round_.status == RoundStatus.OPEN,
        "can_withdraw": compute_request.status in WITHDRAWABLE,
        "can_answer": compute_request.status == RequestStatus.ALLOCATED and round_.status == RoundStatus.PUBLISHED,
        **appeal_context(compute_request, appeal_form),
    }, status=status)


@dataclass(frozen=True)
class Action:
    service: object
    title: Promise
    explanation: Promise
    button: Promise
    done: Promise
    danger: bool = False


ACTIONS = {
    "submit": Action(
        services.request_submit,
        gettext_lazy("Submit this request?"),
        gettext_lazy("Once submitted, the request can no longer be edited. The secretariat checks its eligibility, "
                     "reviewers score it, and it takes part in the round's allocation. You can still withdraw it "
                     "until the round is allocated."),
        gettext_lazy("Submit the request"),
        gettext_lazy("The request is submitted. The secretariat will check its eligibility."),
    ),
    "withdraw": Action(
        services.request_withdraw,
        gettext_lazy("Withdraw this request?"),
        gettext_lazy("A withdrawn request takes no part in the allocation and cannot be submitted again; you can "
                     "draft a new one while the round is open."),
        gettext_lazy("Withdraw the request"),
        gettext_lazy("The request is withdrawn."),
        danger=True,
    ),
    "accept": Action(
        services.allocation_accept,
        gettext_lazy("Accept this award?"),
        gettext_lazy("Accepting commits your state to use the compute awarded and to pay its co-financing share "
                     "of the value received by the due date."),
        gettext_lazy("Accept the award"),
        gettext_lazy("The award is accepted. The providers will be told to make the compute available."),
    ),
    "decline": Action(
        services.allocation_decline,
        gettext_lazy("Decline this award?"),
        gettext_lazy("Declining gives the compute back to the alliance for other requests; it cannot be undone."),
        gettext_lazy("Decline the award"),
        gettext_lazy("The award is declined. The compute goes back to the alliance."),
        danger=True,
    ),
}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_action(request, request_id: int, action: str):
    """Submit, withdraw, accept or decline: a confirmation page, then the service on POST."""
    step = ACTIONS[action]
    compute_request = selectors.ministry_request_access(request.user, request_id)
    if request.method == "POST":
        try:
            step.service(user=request.user, request=compute_request)
        except (ApplicationError, ValidationError) as error:
            messages.error(request, refusal_text(error))
        else:
            messages.success(request, step.done)
        return redirect("ministry-request-detail", request_id=compute_request.pk)
    outcome = selectors.request_outcome(compute_request) if action in ("accept", "decline") else None
    return render(request, "allocation/ministry/confirm.html", {
        "compute_request": compute_request, "step": step, "action": action, "outcome": outcome,
    })
