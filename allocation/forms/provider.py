"""Forms of the provider's pages: an offer of capacity for sale (a formset of priced lots) and a flag on an
allocation line that cannot run as allocated."""
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from allocation.forms.capacity import MAX_LOTS, LotFormBase, round_field
from allocation.forms.donor import LotFormSet


class OfferLotForm(LotFormBase):
    """One lot for sale: hardware, region, GPU-hours, window and the price of a GPU-hour."""

    price_usd_per_gpu_hour = forms.DecimalField(
        label=_("Price per GPU-hour (US$)"), min_value=Decimal("0.0001"), max_digits=8, decimal_places=4,
        help_text=_("What the pool pays you for each GPU-hour it buys."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    value_usd_per_gpu_hour = forms.DecimalField(
        label=_("Market value per GPU-hour (US$)"), required=False, min_value=Decimal("0"), max_digits=8,
        decimal_places=4, help_text=_("Empty: the same as the price."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )

    def lot_spec(self) -> dict:
        """The lot as ``offer_create`` takes it."""
        data = self.cleaned_data
        value = data["value_usd_per_gpu_hour"]
        return {
            "hardware": data["hardware"], "region": data["region"], "gpu_hours": data["gpu_hours"],
            "available_from": data["available_from"], "available_until": data["available_until"],
            "price_usd_per_gpu_hour": data["price_usd_per_gpu_hour"],
            "value_usd_per_gpu_hour": data["price_usd_per_gpu_hour"] if value is None else value,
        }


OfferLotFormSet = forms.formset_factory(
    OfferLotForm, formset=LotFormSet, extra=0, min_num=1, validate_min=True, max_num=MAX_LOTS, validate_max=True,
    can_delete=True,
)


class OfferForm(forms.Form):
    round = round_field()
    note = forms.CharField(
        required=False, max_length=2000, label=_("Note to the secretariat"), widget=forms.Textarea(attrs={"rows": 3}),
    )


class FlagForm(forms.Form):
    note = forms.CharField(
        label=_("What prevents this allocation from running"), max_length=4000,
        help_text=_("The secretariat and the receiving state's ministry read this. Say what is wrong and, if you "
                    "can, what would make it feasible (another window, region or hardware)."),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Say what makes this allocation infeasible on your hardware.")},
    )
