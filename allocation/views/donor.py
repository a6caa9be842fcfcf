"""The donor officer's pages: pledges by round, pledging capacity in kind or cash, withdrawing, and where each
pledge went once its round is published (with a statement to download)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from alliance.exceptions import ApplicationError
from alliance.views import bar_chart
from allocation import selectors, services, statements
from allocation.forms.capacity import apply_service_errors, formset_data_with_one_more, without_errors
from allocation.forms.donor import CashPledgeForm, InKindLotFormSet, InKindPledgeForm
from allocation.models import Pledge


@login_required
@require_safe
def donor_home(request):
    donor = selectors.donor_access(request.user)
    return render(request, "allocation/donor/home.html", {
        "donor": donor,
        "groups": selectors.donor_pledges_by_round(donor),
        "open_rounds": list(selectors.open_rounds()),
    })


def _initial_round(request) -> dict:
    round_id = request.GET.get("round")
    return {"round": round_id} if round_id and round_id.isdigit() else {}


@login_required
def pledge_in_kind_create(request):
    selectors.donor_access(request.user)
    errors = []
    if request.method == "POST" and "add_lot" in request.POST:
        data = formset_data_with_one_more(request.POST, "lots")
        form = without_errors(InKindPledgeForm(data))
        formset = without_errors(InKindLotFormSet(data, prefix="lots"))
        return render(request, "allocation/donor/pledge_in_kind.html",
                      {"form": form, "formset": formset, "errors": [], "focus_lot": len(formset.forms)})
    if request.method == "POST":
        form = InKindPledgeForm(request.POST)
        formset = InKindLotFormSet(request.POST, prefix="lots")
        if form.is_valid() and formset.is_valid():
            lot_forms = formset.lot_forms()
            try:
                pledge = services.pledge_create(
                    user=request.user, round_=form.cleaned_data["round"], kind=Pledge.Kind.IN_KIND,
                    lots=[lot_form.lot_spec() for lot_form in lot_forms], note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                errors = apply_service_errors(lot_forms, error)
            except ApplicationError as error:
                errors = [error.message]
            else:
                messages.success(request, _("Your pledge of %(count)s lot(s) to %(round)s is confirmed.")
                                 % {"count": len(lot_forms), "round": pledge.round.title})
                return redirect("donor-home")
    else:
        form = InKindPledgeForm(initial=_initial_round(request))
        formset = InKindLotFormSet(prefix="lots")
    return render(request, "allocation/donor/pledge_in_kind.html", {"form": form, "formset": formset,
                                                                     "errors": errors})


@login_required
def pledge_cash_create(request):
    selectors.donor_access(request.user)
    errors = []
    if request.method == "POST":
        form = CashPledgeForm(request.POST)
        if form.is_valid():
            try:
                pledge = services.pledge_create(
                    user=request.user, round_=form.cleaned_data["round"], kind=Pledge.Kind.CASH,
                    cash_usd=form.cleaned_data["cash_usd"], note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                for field, field_errors in error.message_dict.items():
                    for message in field_errors:
                        form.add_error(field if field in form.fields else None, message)
            except ApplicationError as error:
                errors = [error.message]
            else:
                messages.success(request, _("Your cash pledge to %(round)s is confirmed.")
                                 % {"round": pledge.round.title})
                return redirect("donor-home")
    else:
        form = CashPledgeForm(initial=_initial_round(request))
    return render(request, "allocation/donor/pledge_cash.html", {"form": form, "errors": errors})


@login_required
@require_POST
def pledge_withdraw(request, pledge_id: int):
    selectors.donor_access(request.user)
    pledge = selectors.pledge_access(request.user, pledge_id)
    try:
        services.pledge_withdraw(user=request.user, pledge=pledge)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Pledge %(id)s is withdrawn; it no longer counts in %(round)s.")
                         % {"id": pledge.pk, "round": pledge.round.title})
    return redirect("donor-home")


def _charts(breakdown: dict) -> dict:
    unit = _("H100-equivalent hours")

    def rows(key):
        return [{"label": row["label"], "value": row["h100e_hours"]} for row in breakdown[key]]

    return {
        "by_country": bar_chart(
            chart_id="chart-pledge-country", title=_("Compute received, by member state"),
            description=_("H100-equivalent hours of this pledge allocated to each member state."),
            unit=unit, rows=rows("by_country")),
        "by_sector": bar_chart(
            chart_id="chart-pledge-sector", title=_("Compute received, by sector"),
            description=_("H100-equivalent hours of this pledge allocated to requests of each sector."),
            unit=unit, rows=rows("by_sector")),
        "by_income_group": bar_chart(
            chart_id="chart-pledge-income", title=_("Compute received, by income group"),
            description=_("H100-equivalent hours of this pledge allocated to states of each World Bank income "
                          "group, as classified when the round was decided."),
            unit=unit, rows=rows("by_income_group")),
    }


@login_required
@require_safe
def pledge_detail(request, pledge_id: int):
    pledge = selectors.pledge_access(request.user, pledge_id)
    breakdown = selectors.pledge_breakdown(pledge)
    return render(request, "allocation/donor/pledge_detail.html", {
        "pledge": pledge, "b": breakdown, "charts": _charts(breakdown) if breakdown["is_published"] else None,
    })


@login_required
@require_safe
def pledge_statement(request, pledge_id: int, fmt: str):
    pledge = selectors.pledge_access(request.user, pledge_id)
    return statements.pledge_statement_response(pledge, fmt)

