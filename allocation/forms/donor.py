"""Forms of the donor's pages: an in-kind pledge (a formset of capacity lots with earmarks) and a cash pledge."""
import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from allocation.forms.capacity import MAX_LOTS, LotFormBase, round_field
from allocation.models import Sector
from members.models import IncomeGroup, MemberState, Organisation, OrganisationKind


class ProviderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return obj.name


class InKindLotForm(LotFormBase):
    """One lot of donated capacity: where it runs, how much, when, its market value and the donor's earmarks."""

    provider = ProviderChoiceField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.PROVIDER).order_by("name"),
        label=_("Provider hosting the capacity"),
    )
    value_usd_per_gpu_hour = forms.DecimalField(
        label=_("Market value per GPU-hour (US$)"), min_value=Decimal("0"), max_digits=8, decimal_places=4,
        help_text=_("What the hour would cost to buy; the receiving state co-finances a share of this value."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    earmark_sectors = forms.MultipleChoiceField(
        choices=Sector.choices, required=False, widget=forms.CheckboxSelectMultiple,
        label=_("Earmark: only these sectors"), help_text=_("None ticked: any sector."),
    )
    earmark_income_groups = forms.MultipleChoiceField(
        choices=IncomeGroup.choices, required=False, widget=forms.CheckboxSelectMultiple,
        label=_("Earmark: only states of these income groups"), help_text=_("None ticked: any income group."),
    )
    earmark_countries = forms.CharField(
        required=False, max_length=2000, label=_("Earmark: only these member states"),
        help_text=_("ISO3 codes separated by commas or spaces, for example KEN, NPL. Empty: any state."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_earmark_countries(self) -> list[MemberState]:
        codes = [code for code in re.split(r"[\s,;]+", self.cleaned_data["earmark_countries"].upper()) if code]
        codes = list(dict.fromkeys(codes))
        states = {s.iso3: s for s in MemberState.objects.filter(iso3__in=codes, is_member=True)}
        unknown = [code for code in codes if code not in states]
        if unknown:
            raise forms.ValidationError(
                ngettext("%(codes)s is not the ISO3 code of a member state.",
                         "%(codes)s are not ISO3 codes of member states.", len(unknown)),
                params={"codes": ", ".join(unknown)}, code="unknown_country",
            )
        return [states[code] for code in codes]

    def lot_spec(self) -> dict:
        """The lot as ``pledge_create`` takes it."""
        data = self.cleaned_data
        return {
            "provider": data["provider"], "hardware": data["hardware"], "region": data["region"],
            "gpu_hours": data["gpu_hours"], "available_from": data["available_from"],
            "available_until": data["available_until"], "value_usd_per_gpu_hour": data["value_usd_per_gpu_hour"],
            "earmark_sectors": list(data["earmark_sectors"]),
            "earmark_income_groups": list(data["earmark_income_groups"]),
            "earmark_countries": data["earmark_countries"],
        }


class LotFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_few_forms": _("Describe at least one capacity lot."),
        "too_many_forms": _("A pledge holds at most %(num)d lots; pledge the rest separately."),
    }

    def lot_forms(self) -> list[forms.Form]:
        """The filled-in lot forms, in order (blank extra lots are left out)."""
        return [form for form in self.forms if form.has_changed() and not self._should_delete_form(form)]


InKindLotFormSet = forms.formset_factory(
    InKindLotForm, formset=LotFormSet, extra=0, min_num=1, validate_min=True, max_num=MAX_LOTS, validate_max=True,
    can_delete=True,
)


class InKindPledgeForm(forms.Form):
    round = round_field()
    note = forms.CharField(
        required=False, max_length=2000, label=_("Note to the secretariat"), widget=forms.Textarea(attrs={"rows": 3}),
    )


class CashPledgeForm(forms.Form):
    round = round_field()
    cash_usd = forms.DecimalField(
        label=_("Amount (US$)"), min_value=Decimal("1"), max_digits=14, decimal_places=2,
        help_text=_("In US dollars, at least 1; cents allowed."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    note = forms.CharField(
        required=False, max_length=2000, label=_("Note to the secretariat"), widget=forms.Textarea(attrs={"rows": 3}),
    )
