"""Forms of the secretariat's pages: calls and rounds, eligibility, reviewer assignments, a round's policy,
co-financing payments, and the filters of its lists. Forms check what a person typed; services decide."""
import copy
import datetime
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from allocation.models import ComputeRequest, RequestStatus, Round, Sector
from members.models import IncomeGroup

DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_INPUT)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def datetime_field(label, help_text=""):
    return forms.DateTimeField(label=label, help_text=help_text, widget=DateTimeLocalInput(),
                               input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])


class CallForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text=_("What the call is for, shown to ministries, donors and providers."))


class RoundForm(forms.Form):
    """A new round of a call: number, title, opening and deadline, and where its policy comes from."""

    number = forms.IntegerField(label=_("Round number"), min_value=1, max_value=32767)
    title = forms.CharField(label=_("Title"), max_length=200)
    opens_at = datetime_field(_("Opens"), _("Date and time (UTC) from which requests and pledges are taken."))
    submission_deadline = datetime_field(_("Submission deadline"), _("Date and time (UTC) after which ministries "
                                                                     "can no longer submit requests."))
    policy_from = forms.ChoiceField(label=_("Policy"), help_text=_(
        "The equity weights and co-financing parameters the round starts with; you can change them until the "
        "round is published."))

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        rounds = list(Round.objects.select_related("call").order_by("-opens_at", "-number"))
        self.rounds = {str(r.pk): r for r in rounds}
        self.fields["policy_from"].choices = [("default", _("The alliance's default policy"))] + [
            (str(r.pk), _("Copy the policy of %(round)s") % {"round": r}) for r in rounds
        ]
        previous = call.rounds.order_by("-number").first()
        now = timezone.now().replace(second=0, microsecond=0)
        self.initial.setdefault("number", (previous.number + 1) if previous else 1)
        self.initial.setdefault("title", _("Round %(number)s") % {"number": self.initial["number"]})
        self.initial.setdefault("opens_at", now)
        self.initial.setdefault("submission_deadline", now + datetime.timedelta(days=60))
        self.initial.setdefault("policy_from", str(previous.pk) if previous else "default")

    def clean_number(self):
        number = self.cleaned_data["number"]
        if self.call.rounds.filter(number=number).exists():
            raise ValidationError(_("The call already has a round %(number)s.") % {"number": number})
        return number

    def clean(self):
        data = super().clean()
        opens, deadline = data.get("opens_at"), data.get("submission_deadline")
        if opens and deadline and deadline <= opens:
            self.add_error("submission_deadline", _("The submission deadline must come after the opening."))
        return data

    def policy(self) -> dict:
        source = self.cleaned_data["policy_from"]
        if source == "default":
            return copy.deepcopy(settings.GACP["DEFAULT_POLICY"])
        return copy.deepcopy(self.rounds[source].policy)


class DeadlineForm(forms.Form):
    submission_deadline = datetime_field(_("New submission deadline"), _("Date and time (UTC)."))


class EligibilityForm(forms.Form):
    """One decision of the eligibility queue: the button pressed says which."""

    decision = forms.ChoiceField(choices=[("eligible", _("Eligible")), ("ineligible", _("Not eligible"))])
    note = forms.CharField(label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Needed when the request is not eligible; the ministry reads it."))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "ineligible" and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the request is not eligible: the ministry reads this reason."))
        return data


class EligibilityFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[
        ("", _("All")), (RequestStatus.SUBMITTED, _("To decide")), ("decided", _("Decided")),
        (RequestStatus.ELIGIBLE, RequestStatus.ELIGIBLE.label),
        (RequestStatus.INELIGIBLE, RequestStatus.INELIGIBLE.label),
        (RequestStatus.SCORED, RequestStatus.SCORED.label),
    ])
    sector = forms.ChoiceField(label=_("Sector"), required=False, choices=[("", _("All"))] + Sector.choices)
    income_group = forms.ChoiceField(label=_("Income group"), required=False,
                                     choices=[("", _("All"))] + IncomeGroup.choices)
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        help_text=_("Title, state or request number (R12)."))


class AssignForm(forms.Form):
    """Assign one reviewer to one or more eligible requests of a round."""

    requests = forms.ModelMultipleChoiceField(label=_("Requests"), queryset=ComputeRequest.objects.none(),
                                              widget=forms.CheckboxSelectMultiple,
                                              error_messages={"required": _("Choose at least one request.")})
    reviewer = forms.ModelChoiceField(label=_("Reviewer"), queryset=None, empty_label=_("Choose a reviewer"),
                                      error_messages={"required": _("Choose a reviewer.")})
    due_date = forms.DateField(label=_("Due date"), widget=DateInput(),
                               error_messages={"required": _("Give the date by which the review is due.")})

    def __init__(self, *args, round_: Round, reviewers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requests"].queryset = ComputeRequest.objects.filter(
            round=round_, status__in=[RequestStatus.ELIGIBLE, RequestStatus.SCORED])
        self.fields["reviewer"].queryset = reviewers
        self.fields["reviewer"].label_from_instance = lambda user: _("%(name)s (%(owed)s reviews to do)") % {
            "name": user.get_full_name() or user.get_username(), "owed": user.owed}
        self.initial.setdefault("due_date", timezone.localdate() + datetime.timedelta(days=14))

    def clean_due_date(self):
        due = self.cleaned_data["due_date"]
        if due < timezone.localdate():
            raise ValidationError(_("The due date is in the past."))
        return due


def _positive(label):
    return forms.FloatField(label=label, min_value=0.001, max_value=1000,
                            error_messages={"min_value": _("Must be greater than 0."),
                                            "required": _("Give a number greater than 0.")})


def _share(label, help_text):
    return forms.FloatField(label=label, help_text=help_text, min_value=0, max_value=1,
                            error_messages={"min_value": _("A share is between 0 and 1."),
                                            "max_value": _("A share is between 0 and 1."),
                                            "required": _("Give a share between 0 and 1.")})


class PolicyForm(forms.Form):
    """A round's policy (allocation-v1.md): equity weights by income group, sector weights, public-interest
    bonuses and Gavi-style co-financing parameters. Each value is checked here and named when wrong."""

    INCOME_FIELDS = {group: f"income_{group}" for group in IncomeGroup.values}
    SECTOR_FIELDS = {sector: f"sector_{sector}" for sector in Sector.values}
    BONUS_FIELDS = ("local_language_bonus", "open_weights_bonus", "small_model_bonus")
    COFINANCING_FIELDS = ("initial_share", "preparatory_growth", "preparatory_cap", "accelerated_start_share",
                          "accelerated_years")

    local_language_bonus = _positive(_("Local-language bonus"))
    open_weights_bonus = _positive(_("Open-weights bonus"))
    small_model_bonus = _positive(_("Small-model bonus"))
    small_model_max_params_billion = forms.FloatField(
        label=_("Largest small model (billion parameters)"), min_value=0, max_value=100000,
        help_text=_("Models up to this size receive the small-model bonus."),
        error_messages={"min_value": _("Must be 0 or more."), "required": _("Give a size in billions of parameters.")})
    initial_share = _share(_("Initial share"), _("Share of the value received that a state in the initial phase "
                                                 "pays."))
    preparatory_growth = forms.FloatField(
        label=_("Preparatory growth per year"), min_value=0, max_value=10,
        help_text=_("Yearly growth of the share in the preparatory phase (0.15 is 15 %)."),
        error_messages={"min_value": _("Must be 0 or more."), "required": _("Give a growth rate, 0 or more.")})
    preparatory_cap = _share(_("Preparatory cap"), _("The largest share a state in the preparatory phase pays."))
    accelerated_start_share = _share(_("Accelerated start share"), _("The share at the start of the accelerated "
                                                                     "transition."))
    accelerated_years = forms.IntegerField(
        label=_("Accelerated years"), min_value=1, max_value=50,
        help_text=_("Years over which the accelerated share rises to 1."),
        error_messages={"min_value": _("Must be at least 1 year."), "required": _("Give a number of years.")})

    def __init__(self, *args, policy: dict, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {}
        for group, name in self.INCOME_FIELDS.items():
            fields[name] = _positive(IncomeGroup(group).label)
        for sector, name in self.SECTOR_FIELDS.items():
            fields[name] = forms.FloatField(
                label=Sector(sector).label, required=False, min_value=0.001, max_value=1000,
                error_messages={"min_value": _("Must be greater than 0, or empty for a weight of 1.")})
        fields.update(self.fields)
        self.fields = fields
        for group, name in self.INCOME_FIELDS.items():
            self.initial.setdefault(name, policy.get("income_weights", {}).get(group))
        for sector, name in self.SECTOR_FIELDS.items():
            self.initial.setdefault(name, policy.get("sector_weights", {}).get(sector))
        for name in (*self.BONUS_FIELDS, "small_model_max_params_billion"):
            self.initial.setdefault(name, policy.get(name))
        for name in self.COFINANCING_FIELDS:
            self.initial.setdefault(name, policy.get("cofinancing", {}).get(name))
        edited = {"income_weights", "sector_weights", "cofinancing", "small_model_max_params_billion",
                  *self.BONUS_FIELDS}
        self.extra = {key: value for key, value in policy.items() if key not in edited}

    def income_fields(self):
        return [self[name] for name in self.INCOME_FIELDS.values()]

    def sector_fields(self):
        return [self[name] for name in self.SECTOR_FIELDS.values()]

    def bonus_fields(self):
        return [self[name] for name in (*self.BONUS_FIELDS, "small_model_max_params_billion")]

    def cofinancing_fields(self):
        return [self[name] for name in self.COFINANCING_FIELDS]

    def policy(self) -> dict:
        """The policy document (numbers as JSON numbers), keeping any key this form does not edit."""
        data = self.cleaned_data
        return {
            **self.extra,
            "income_weights": {group: data[name] for group, name in self.INCOME_FIELDS.items()},
            "sector_weights": {sector: data[name] for sector, name in self.SECTOR_FIELDS.items()
                               if data.get(name) is not None},
            **{name: data[name] for name in (*self.BONUS_FIELDS, "small_model_max_params_billion")},
            "cofinancing": {name: data[name] for name in self.COFINANCING_FIELDS},
        }

    def field_for(self, policy_key: str) -> str | None:
        """The form field of a dotted policy key named in a service's error (``cofinancing.initial_share``)."""
        head, _dot, tail = policy_key.partition(".")
        if head == "cofinancing" and tail in self.COFINANCING_FIELDS:
            return tail
        return policy_key if policy_key in self.fields else None


class PaymentForm(forms.Form):
    amount_usd = forms.DecimalField(label=_("Amount paid (US$)"), max_digits=14, decimal_places=2,
                                    min_value=Decimal("0.01"),
                                    error_messages={"min_value": _("A payment must be a positive amount."),
                                                    "required": _("Give the amount paid.")})
    paid_on = forms.DateField(label=_("Paid on"), widget=DateInput(),
                              error_messages={"required": _("Give the date of the payment.")})

    def __init__(self, *args, outstanding: Decimal, **kwargs):
        super().__init__(*args, **kwargs)
        self.outstanding = outstanding
        self.initial.setdefault("amount_usd", outstanding)
        self.initial.setdefault("paid_on", timezone.localdate())

    def clean_amount_usd(self):
        amount = self.cleaned_data["amount_usd"]
        if amount > self.outstanding:
            raise ValidationError(_("The payment exceeds what is outstanding (US$ %(outstanding)s).")
                                  % {"outstanding": formats.number_format(self.outstanding, 2, force_grouping=True)})
        return amount

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise ValidationError(_("The payment date is in the future."))
        return paid_on


class LedgerFilterForm(forms.Form):
    round = forms.ModelChoiceField(label=pgettext_lazy("allocation round", "Round"), required=False,
                                   queryset=Round.objects.none(), empty_label=_("All published rounds"))
    state = forms.CharField(label=_("State (ISO3)"), required=False, max_length=3)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[
        ("", _("All")), ("due", _("Due, not yet paid")), ("overdue", _("Overdue")), ("paid", _("Paid")),
    ])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["round"].queryset = Round.objects.filter(status="published").select_related("call")

    def clean_state(self):
        return self.cleaned_data["state"].strip().upper()


def policy_label(key: str) -> str:
    """A person's name for a dotted policy key (``income_weights.LIC`` is "Equity weight: Low income")."""
    head, _dot, tail = key.partition(".")
    if head == "income_weights" and tail in IncomeGroup.values:
        return _("Equity weight: %(group)s") % {"group": IncomeGroup(tail).label}
    if head == "sector_weights":
        name = Sector(tail).label if tail in Sector.values else tail
        return _("Sector weight: %(sector)s") % {"sector": name}
    if head == "cofinancing" and tail in PolicyForm.base_fields:
        return _("Co-financing: %(parameter)s") % {"parameter": PolicyForm.base_fields[tail].label}
    if head in PolicyForm.base_fields:
        return str(PolicyForm.base_fields[head].label)
    return key
