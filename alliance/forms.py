"""The public pages' query forms: the dashboard's round filter, the awards table's search, the open data's
choice of table and format. Every field is optional; a value that does not fit (a round that is not
published, an unknown sector) is an error naming the field, never a leak of what exists."""
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from alliance import selectors
from allocation.models import Round, Sector
from members.models import IncomeGroup, Region


class PublishedRoundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Round) -> str:
        return f"{obj.title} · {obj.call.title}"


def _round_field() -> PublishedRoundChoiceField:
    return PublishedRoundChoiceField(
        label=_("Round"), queryset=selectors.published_rounds(), required=False,
        empty_label=_("All published rounds"),
        error_messages={"invalid_choice": _("Choose one of the published rounds, or all of them.")},
    )


class RoundFilterForm(forms.Form):
    round = _round_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["round"].queryset = selectors.published_rounds()  # fresh for every request

    def round_id(self) -> int | None:
        """The round chosen, or None for every published round (also when the choice was not valid)."""
        if not self.is_valid() or not self.cleaned_data.get("round"):
            return None
        return self.cleaned_data["round"].pk


def _choices(choices, everything):
    return [("", everything), *choices]


class AwardSearchForm(RoundFilterForm):
    field_order = ["q", "round", "region", "income_group", "sector", "hardware", "order"]
    ORDER_CHOICES = [
        ("-allocated", _("Most allocated first")),
        ("allocated", _("Least allocated first")),
        ("-requested", _("Largest request first")),
        ("-fulfilment", _("Highest share met first")),
        ("fulfilment", _("Lowest share met first")),
        ("state", _("State, A to Z")),
        ("title", _("Title, A to Z")),
        ("sector", _("Sector, A to Z")),
        ("-round", _("Latest round first")),
        ("round", _("Earliest round first")),
    ]

    q = forms.CharField(
        label=_("Search"), required=False, max_length=100, strip=True,
        help_text=_("Words of the title, a state's name or ISO code, or a ministry."),
    )
    region = forms.ChoiceField(label=_("Region"), required=False,
                               choices=_choices(Region.choices, pgettext_lazy("regions", "All regions")))
    income_group = forms.ChoiceField(
        label=_("Income group"), required=False,
        choices=_choices(IncomeGroup.choices, pgettext_lazy("income groups", "All income groups")),
    )
    sector = forms.ChoiceField(label=_("Sector"), required=False,
                               choices=_choices(Sector.choices, pgettext_lazy("sectors", "All sectors")))
    hardware = forms.ChoiceField(label=_("Hardware"), required=False)
    order = forms.ChoiceField(label=_("Sort by"), required=False, choices=ORDER_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hardware"].choices = _choices(
            [(hw.key, hw.name) for hw in selectors.awarded_hardware()],
            pgettext_lazy("hardware", "All hardware"),
        )

    def filters(self) -> dict:
        """Keyword arguments of ``selectors.published_awards``: the valid fields only."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        filters = {key: data[key] for key in ("region", "income_group", "sector", "hardware") if data.get(key)}
        if data.get("q"):
            filters["text"] = data["q"]
        if data.get("order"):
            filters["order"] = data["order"]
        if data.get("round"):
            filters["round_id"] = data["round"].pk
        return filters
