"""Appeals: a ministry lodges one from its request's page and follows it there; the secretariat works through
its queue at /secretariat/appeals/ and answers each appeal. Access helpers first, services for every change."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from alliance.exceptions import ApplicationError
from allocation import selectors, services
from allocation.forms import form_refusal
from allocation.forms.appeals import AppealAnswerForm, AppealLodgeForm
from allocation.models import RoundStatus
from allocation.views.ministry import request_detail_page


def appeal_context(compute_request, appeal_form=None) -> dict:
    """What the request page shows of appeals: the request's appeals, and a form when one can be lodged."""
    appeals = list(compute_request.appeals.select_related("answered_by").order_by("-lodged_at", "-id"))
    refusal = services.appeal_refusal(compute_request)
    published = compute_request.round.status == RoundStatus.PUBLISHED
    return {
        "appeals": appeals if (appeals or published) else None,
        "appeal_form": (appeal_form or AppealLodgeForm()) if refusal is None else None,
        "appeal_refusal": refusal if published else None,
        "appeal_window_closes": services.appeal_window_closes(compute_request.round),
    }


@login_required
@require_POST
def appeal_lodge(request, request_id: int):
    compute_request = selectors.ministry_request_access(request.user, request_id)
    form = AppealLodgeForm(data=request.POST)
    if form.is_valid():
        try:
            services.appeal_lodge(user=request.user, request=compute_request, reasons=form.cleaned_data["reasons"])
        except ValidationError as error:
            form_refusal(form, error)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("ministry-request-detail", request_id=compute_request.pk)
        else:
            messages.success(request, _("Your appeal is lodged. The secretariat's answer will appear on this page."))
            return redirect(f"/ministry/requests/{compute_request.pk}/#appeals-title")
    return request_detail_page(request, compute_request, appeal_form=form, status=400)


@login_required
@require_POST
def appeal_withdraw(request, appeal_id: int):
    selectors.ministry_access(request.user)
    appeal = selectors.appeal_access(request.user, appeal_id)
    try:
        services.appeal_withdraw(user=request.user, appeal=appeal)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your appeal is withdrawn."))
    return redirect("ministry-request-detail", request_id=appeal.request_id)


# --- The secretariat ----------------------------------------------------------------------------

QUEUE_LABELS = {"open": gettext_lazy("Open"), "answered": gettext_lazy("Answered"),
                "withdrawn": gettext_lazy("Withdrawn"), "all": gettext_lazy("All")}


@login_required
@require_safe
def secretariat_appeals(request):
    queue = request.GET.get("status", "open")
    if queue not in QUEUE_LABELS:
        queue = "open"
    appeals = selectors.appeals_queue(request.user, queue)
    return render(request, "allocation/appeals/queue.html", {
        "appeals": appeals,
        "queue": queue,
        "queues": list(QUEUE_LABELS.items()),
        "open_count": selectors.appeals_queue(request.user, "open").count(),
    })


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def secretariat_appeal_detail(request, appeal_id: int):
    selectors.secretariat_access(request.user)
    appeal = selectors.appeal_access(request.user, appeal_id)
    form = AppealAnswerForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.appeal_answer(user=request.user, appeal=appeal, upheld=data["decision"] == "upheld",
                                   answer=data["answer"], remedy=data["remedy"])
        except ValidationError as error:
            form_refusal(form, error)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("secretariat-appeal-detail", appeal_id=appeal.pk)
        else:
            messages.success(request, _("The answer is recorded; the ministry sees it on its request's page."))
            return redirect("secretariat-appeals")
    compute_request = appeal.request
    outcome = selectors.request_outcome(compute_request)
    return render(request, "allocation/appeals/answer.html", {
        "appeal": appeal,
        "compute_request": compute_request,
        "outcome": outcome,
        "fulfilment_pct": outcome["result"].fulfilment * 100 if outcome else None,
        "earlier": compute_request.appeals.exclude(pk=appeal.pk).order_by("-lodged_at"),
        "form": form,
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def secretariat_appeal_review(request, appeal_id: int):
    selectors.secretariat_access(request.user)
    appeal = selectors.appeal_access(request.user, appeal_id)
    try:
        services.appeal_start_review(user=request.user, appeal=appeal)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The appeal is under review; the ministry sees that it is being examined."))
    return redirect("secretariat-appeal-detail", appeal_id=appeal.pk)
