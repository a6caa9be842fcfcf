"""What every capacity lot states, pledged in kind or offered for sale: hardware, region, GPU-hours and the
window when they can be used. Shared by the donor's and the provider's forms."""
import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from allocation.models import HardwareType, Round
from allocation.selectors import open_rounds
from members.models import Region

MAX_LOTS = 20  # lots in one pledge or offer


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class RoundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Round) -> str:
        return f"{obj.call.title} — {obj.title}"


def round_field() -> RoundChoiceField:
    return RoundChoiceField(
        queryset=open_rounds(), label=_("Round"), empty_label=None,
        help_text=_("Only rounds open now take pledges and offers."),
        error_messages={"invalid_choice": _("Choose a round that is open now; that one no longer takes this.")},
    )


class HardwareChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: HardwareType) -> str:
        return _("%(name)s — %(h100e)s × H100") % {"name": obj.name, "h100e": formats.localize(obj.h100e.normalize())}


class LotFormBase(forms.Form):
    """The fields of a capacity lot, with checks that name the field."""

    hardware = HardwareChoiceField(
        queryset=HardwareType.objects.order_by("manufacturer", "name"), label=_("Hardware"),
        help_text=_("The accelerator model; its H100-equivalent converts GPU-hours into compute."),
    )
    region = forms.ChoiceField(choices=[("", "—")] + list(Region.choices), label=_("Region of the data centre"))
    gpu_hours = forms.DecimalField(
        label=_("GPU-hours"), min_value=Decimal("1"), max_digits=14, decimal_places=2,
        help_text=_("Hours of one device of this hardware, at least 1."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    available_from = forms.DateField(label=_("Available from"), widget=DateInput())
    available_until = forms.DateField(label=_("Available until"), widget=DateInput())

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("available_from"), cleaned.get("available_until")
        if start and end and end < start:
            self.add_error("available_until", _("The window must end on or after its first day."))
        elif end and end < timezone.localdate():
            self.add_error("available_until", _("The window has already ended; capacity must still be usable."))
        if start and start > timezone.localdate() + datetime.timedelta(days=3 * 365):
            self.add_error("available_from", _("The window must start within three years."))
        return cleaned


def apply_service_errors(lot_forms: list[forms.Form], error: ValidationError) -> list[str]:
    """Put a service's ``lots[i].field`` errors on the lot forms they concern (``lot_forms[i]`` made lot i);
    return the other messages."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    other = []
    forms_ = list(lot_forms)
    for key, messages in error.message_dict.items():
        if key.startswith("lots[") and "]." in key:
            index, field = key[5:].split("].", 1)
            if index.isdigit() and int(index) < len(forms_) and field in forms_[int(index)].fields:
                for message in messages:
                    forms_[int(index)].add_error(field, message)
                continue
        other.extend(messages)
    return other


def formset_data_with_one_more(data, prefix: str):
    """The posted data of a formset with one more (empty) form: adding a lot without script."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        total = int(data.get(key, "1"))
    except ValueError:
        total = 1
    data[key] = str(min(total + 1, MAX_LOTS))
    return data



def without_errors(form_or_formset):
    """A bound form (or formset) that shows what was typed but no errors: after "add a lot", the person has
    not sent the pledge yet, so nothing is wrong so far."""
    from django.forms.utils import ErrorDict, ErrorList

    if isinstance(form_or_formset, forms.BaseFormSet):
        for form in form_or_formset.forms:
            without_errors(form)
        form_or_formset._errors = []
        form_or_formset._non_form_errors = ErrorList()
    else:
        form_or_formset._errors = ErrorDict()
    return form_or_formset
