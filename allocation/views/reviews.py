"""The reviewer's pages: the requests assigned to them, and the scoring form of one."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from alliance.exceptions import ApplicationError
from allocation import selectors, services
from allocation.forms import form_refusal
from allocation.forms.reviews import ScoreForm
from allocation.models import Review
from members.models import Region


@login_required
def my_reviews(request):
    if not selectors.is_reviewer(request.user):
        raise PermissionDenied(_("Only reviewers have reviews to do."))
    rows = selectors.assignments_of(request.user)
    return render(request, "allocation/reviews/list.html", {
        "rows": rows, "to_do": sum(1 for row in rows if row["open"]),
    })


@login_required
def review_score(request, request_id: int):
    assignment = selectors.assignment_access(request.user, request_id)
    compute_request = assignment.request
    review = Review.objects.filter(request=compute_request, reviewer=request.user).first()
    reviewable = compute_request.status in selectors.REVIEWABLE_STATUSES
    if request.method == "POST" and review is None and not reviewable:
        messages.error(request, _("%(request)s is %(status)s; it is no longer reviewed.") % {
            "request": compute_request.scenario_id, "status": compute_request.get_status_display().lower()})
        return redirect("review-score", request_id=compute_request.pk)
    form = ScoreForm(request.POST or None)
    if request.method == "POST" and review is None and form.is_valid():
        try:
            services.review_submit(user=request.user, request=compute_request, **form.cleaned_data)
        except (ApplicationError, ValidationError) as error:
            form_refusal(form, error)
        else:
            messages.success(request, _("Your score for %(request)s is recorded. Thank you.") % {
                "request": compute_request.scenario_id})
            return redirect("reviews-home")
    elif request.method == "POST" and review is not None:
        messages.error(request, _("You have already reviewed this request."))
        return redirect("review-score", request_id=compute_request.pk)
    return render(request, "allocation/reviews/score.html", {
        "assignment": assignment, "request_obj": compute_request, "review": review, "form": form,
        "hardware": compute_request.acceptable_hardware.all(),
        "regions": [Region(code).label for code in compute_request.data_residency_regions if code in Region.values],
        "reviewable": reviewable,
    })
