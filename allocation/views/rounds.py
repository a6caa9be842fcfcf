"""Pages of the allocation app: a round, its runs and the solver's live progress."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alliance.exceptions import ApplicationError
from allocation import selectors, services
from allocation.models import AllocationRun


def round_detail(request, round_id: int):
    round_ = selectors.round_access(request.user, round_id)
    secretariat = selectors.is_secretariat(request.user)
    runs = selectors.runs_visible_to(request.user).filter(round=round_).order_by("-created_at", "-id")
    context = {
        "round": round_,
        "runs": runs,
        "is_secretariat": secretariat,
        "approved": selectors.approved_run(round_),
        "active_run": runs.filter(status__in=["queued", "running"]).first() if secretariat else None,
    }
    return render(request, "allocation/round_detail.html", context)


@require_GET
def run_progress(request, run_id: int):
    """The run's status and progress as JSON, polled by the round page while a worker solves."""
    run = selectors.run_access(request.user, run_id)
    return JsonResponse({
        "id": run.id,
        "status": run.status,
        "status_label": run.get_status_display(),
        "levels": run.progress.get("levels", 0),
        "frozen": run.progress.get("frozen"),
        "active": run.progress.get("active"),
        "state": run.progress.get("state", run.status),
        "error": run.error,
        "solve_seconds": run.solve_seconds,
    })


@login_required
@require_POST
def round_solve(request, round_id: int):
    round_ = selectors.round_access(request.user, round_id)
    try:
        run = services.round_enqueue_solve(round_=round_, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        run.refresh_from_db()  # the queue has been asked by now: the run may have failed to reach it
        if services.run_was_unqueued(run):
            messages.error(request, _(
                "Solving is unavailable right now: the task queue cannot be reached. Run %(run)s was not started "
                "and the round is unchanged; try again in a few minutes."
            ) % {"run": run.pk})
        elif run.status == AllocationRun.Status.FAILED:
            messages.error(request, _("Run %(run)s failed: %(error)s") % {"run": run.pk, "error": run.error})
        else:
            messages.success(request, _("Run %(run)s is queued; its progress shows below.") % {"run": run.pk})
    return redirect("round-detail", round_id=round_.pk)
