"""The provider officer's pages: offers of capacity for sale, lots donors placed at its data centres, and the
technical feasibility of the allocation lines that approved runs put on its hardware."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from alliance.exceptions import ApplicationError
from allocation import selectors, services
from allocation.forms.capacity import apply_service_errors, formset_data_with_one_more, without_errors
from allocation.forms.provider import FlagForm, OfferForm, OfferLotFormSet
from allocation.models import Offer, RoundStatus


@login_required
@require_safe
def provider_home(request):
    provider = selectors.provider_access(request.user)
    offers = selectors.offers_of(provider)
    hosted = list(selectors.hosted_lots(provider))
    lot_ids = [lot.pk for offer in offers for lot in offer.lots.all()] + [lot.pk for lot in hosted]
    used = selectors.lots_used(lot_ids)
    offer_rows = [{
        "offer": offer,
        "lots": [{"lot": lot, "used_gpu_hours": used.get(lot.pk)} for lot in offer.lots.all()],
        "withdrawable": offer.status == Offer.Status.PUBLISHED and offer.round.status == RoundStatus.OPEN,
    } for offer in offers]
    return render(request, "allocation/provider/home.html", {
        "provider": provider,
        "offers": offer_rows,
        "hosted": [{"lot": lot, "used_gpu_hours": used.get(lot.pk)} for lot in hosted],
        "decided": selectors.provider_decided_rounds(provider),
        "open_rounds": list(selectors.open_rounds()),
    })


@login_required
def offer_create(request):
    selectors.provider_access(request.user)
    errors = []
    if request.method == "POST" and "add_lot" in request.POST:
        data = formset_data_with_one_more(request.POST, "lots")
        form = without_errors(OfferForm(data))
        formset = without_errors(OfferLotFormSet(data, prefix="lots"))
        return render(request, "allocation/provider/offer_form.html",
                      {"form": form, "formset": formset, "errors": [], "focus_lot": len(formset.forms)})
    if request.method == "POST":
        form = OfferForm(request.POST)
        formset = OfferLotFormSet(request.POST, prefix="lots")
        if form.is_valid() and formset.is_valid():
            lot_forms = formset.lot_forms()
            try:
                offer = services.offer_create(user=request.user, round_=form.cleaned_data["round"],
                                              lots=[lot_form.lot_spec() for lot_form in lot_forms],
                                              note=form.cleaned_data["note"])
            except ValidationError as error:
                errors = apply_service_errors(lot_forms, error)
            except ApplicationError as error:
                errors = [error.message]
            else:
                messages.success(request, _("Your offer of %(count)s lot(s) to %(round)s is published.")
                                 % {"count": len(lot_forms), "round": offer.round.title})
                return redirect("provider-home")
    else:
        round_id = request.GET.get("round")
        form = OfferForm(initial={"round": round_id} if round_id and round_id.isdigit() else {})
        formset = OfferLotFormSet(prefix="lots")
    return render(request, "allocation/provider/offer_form.html", {"form": form, "formset": formset,
                                                                    "errors": errors})


@login_required
@require_POST
def offer_withdraw(request, offer_id: int):
    selectors.provider_access(request.user)
    offer = selectors.offer_access(request.user, offer_id)
    try:
        services.offer_withdraw(user=request.user, offer=offer)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Offer %(id)s is withdrawn; it is no longer for sale in %(round)s.")
                         % {"id": offer.pk, "round": offer.round.title})
    return redirect("provider-home")


# --- Feasibility ---------------------------------------------------------------------------------------


@login_required
@require_safe
def round_lines(request, round_id: int):
    provider = selectors.provider_access(request.user)
    round_ = selectors.round_access(request.user, round_id)
    lines = list(selectors.provider_lines(provider, round_))
    counts = {status: sum(1 for line in lines if line.feasibility == status)
              for status in ("pending", "confirmed", "flagged")}
    return render(request, "allocation/provider/round_lines.html", {
        "provider": provider, "round": round_, "lines": lines, "counts": counts,
        "run": selectors.approved_run(round_),
    })


def _back_to_round(line):
    return redirect(reverse("provider-round-lines", kwargs={"round_id": line.run.round_id}) + f"#line-{line.pk}")


@login_required
@require_POST
def line_confirm(request, line_id: int):
    line = selectors.provider_line_access(request.user, line_id)
    try:
        services.line_confirm_feasibility(user=request.user, line=line)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Line %(id)s is confirmed as feasible.") % {"id": line.pk})
    return _back_to_round(line)


@login_required
@require_POST
def lines_confirm_all(request, round_id: int):
    selectors.provider_access(request.user)
    round_ = selectors.round_access(request.user, round_id)
    try:
        count = services.lines_confirm_feasibility(user=request.user, round_=round_)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if count:
            messages.success(request, _("%(count)s line(s) confirmed as feasible.") % {"count": count})
        else:
            messages.info(request, _("No line was waiting for your answer."))
    return redirect("provider-round-lines", round_id=round_.pk)


@login_required
def line_flag(request, line_id: int):
    line = selectors.provider_line_access(request.user, line_id)
    errors = []
    if request.method == "POST":
        form = FlagForm(request.POST)
        if form.is_valid():
            try:
                services.line_flag_infeasible(user=request.user, line=line, note=form.cleaned_data["note"])
            except ValidationError as error:
                for message in error.message_dict.get("note", error.messages):
                    form.add_error("note", message)
            except ApplicationError as error:
                errors = [error.message]
            else:
                messages.success(request, _("Line %(id)s is flagged; the secretariat sees your reason.")
                                 % {"id": line.pk})
                return _back_to_round(line)
    else:
        form = FlagForm(initial={"note": line.feasibility_note})
    return render(request, "allocation/provider/line_flag.html", {"line": line, "form": form, "errors": errors})


@login_required
@require_safe
def line_detail(request, line_id: int):
    """One allocation line with its feasibility: for the hosting provider, the secretariat and the receiving
    state's ministry."""
    line = selectors.line_feasibility_access(request.user, line_id)
    membership = selectors.membership_of(request.user)
    is_host = membership is not None and membership.organisation_id == line.lot.provider_id
    return render(request, "allocation/provider/line_detail.html", {"line": line, "is_host": is_host})
