"""Forms of the ministry portal: a compute request's fields, sized in H100-equivalent hours."""
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from allocation.forms import form_refusal
from allocation.models import HardwareType, Sector
from members.models import Region

H100E_UNIT = "h100e"
CENT = Decimal("0.01")
MAX_SIZE = Decimal("999999999999")  # the model keeps 14 digits with 2 decimals


class HardwareCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes that carry each hardware type's H100-equivalent factor for the size calculator."""

    def __init__(self, *args, factors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.factors = factors or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        key = str(getattr(value, "value", value))
        if key in self.factors:
            option["attrs"]["data-h100e"] = self.factors[key]
            option["attrs"]["data-name"] = value.instance.name
        return option


class UnitSelect(forms.Select):
    """The size unit: H100-equivalent hours, or GPU-hours of one hardware type (with its factor)."""

    def __init__(self, *args, factors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.factors = factors or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        option["attrs"]["data-h100e"] = self.factors.get(str(value), "1")
        return option


def _factor_text(hardware: HardwareType) -> str:
    return number_format(hardware.h100e.normalize(), use_l10n=True)


class ComputeRequestForm(forms.Form):
    """A draft request. The size is given in H100-equivalent hours, or in GPU-hours of one hardware type
    that the server converts (GPU-hours x the type's H100-equivalent factor, rounded to the cent)."""

    title = forms.CharField(label=_("Title"), max_length=200,
                            help_text=_("A short name for the work, as it will appear in published results."))
    abstract = forms.CharField(label=_("What the compute is for"), widget=forms.Textarea(attrs={"rows": 6}),
                               help_text=_("The research question, the data, the model and who benefits."))
    sector = forms.ChoiceField(label=_("Sector"), choices=[("", _("Choose a sector"))] + Sector.choices)
    acceptable_hardware = forms.ModelMultipleChoiceField(
        label=_("Acceptable hardware"), queryset=HardwareType.objects.none(),
        help_text=_("Every accelerator your work can run on. Accepting more types lets the allocation use more "
                    "of the pool. Each type's factor is its compute per hour relative to an NVIDIA H100."),
        error_messages={"required": _("Choose at least one acceptable hardware type.")},
    )
    size_unit = forms.ChoiceField(label=_("Size given in"))
    size = forms.DecimalField(
        label=_("Size requested"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_SIZE,
        help_text=_("How much compute the work needs, in the unit chosen above."),
        widget=forms.NumberInput(attrs={"step": "any", "min": "0.01", "inputmode": "decimal"}),
    )
    min_size = forms.DecimalField(
        label=_("Smallest useful size"), max_digits=16, decimal_places=2, min_value=Decimal("0"), required=False,
        max_value=MAX_SIZE,
        help_text=_("In the same unit. Below this amount the work cannot be done; leave empty if any amount helps."),
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )
    data_residency_regions = forms.MultipleChoiceField(
        label=_("Where the data may be processed"), choices=Region.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick the regions your data may be processed in, if the law or your data agreements limit "
                    "it. Leave all unticked if it may be processed anywhere: capacity in every region can then "
                    "be used."),
    )
    local_language = forms.BooleanField(label=_("The work builds or serves a local language"), required=False)
    open_weights = forms.BooleanField(label=_("The resulting model weights will be published openly"),
                                      required=False)
    params_billion = forms.DecimalField(
        label=_("Model size (billions of parameters)"), max_digits=8, decimal_places=2, required=False,
        validators=[MinValueValidator(Decimal("0"))], min_value=Decimal("0"),
        help_text=_("Leave empty if the work does not train or run one model."),
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hardware = list(HardwareType.objects.order_by("-h100e", "name"))
        self.hardware = {str(h.pk): h for h in hardware}
        factors = {str(h.pk): str(h.h100e) for h in hardware}
        field = self.fields["acceptable_hardware"]
        field.widget = HardwareCheckboxes(factors=factors)
        field.queryset = HardwareType.objects.order_by("-h100e", "name")  # after the widget: sets its choices
        field.label_from_instance = lambda h: _("%(name)s (factor %(factor)s)") % {
            "name": h.name, "factor": _factor_text(h)}
        units = [(H100E_UNIT, _("H100-equivalent hours"))] + [
            (str(h.pk), _("GPU-hours of %(name)s (x %(factor)s)") % {"name": h.name, "factor": _factor_text(h)})
            for h in hardware
        ]
        self.fields["size_unit"].choices = units
        self.fields["size_unit"].initial = H100E_UNIT
        self.fields["size_unit"].widget = UnitSelect(choices=units, factors=factors)

    @classmethod
    def for_request(cls, compute_request, data=None):
        """The form of an existing draft (sizes shown in H100-equivalent hours, exactly as stored)."""
        initial = {
            "title": compute_request.title, "abstract": compute_request.abstract, "sector": compute_request.sector,
            "acceptable_hardware": list(compute_request.acceptable_hardware.all()),
            "size_unit": H100E_UNIT, "size": compute_request.h100e_hours,
            "min_size": compute_request.min_h100e_hours or None,
            "data_residency_regions": compute_request.data_residency_regions,
            "local_language": compute_request.local_language, "open_weights": compute_request.open_weights,
            "params_billion": compute_request.params_billion,
        }
        return cls(data=data, initial=initial)

    def factor(self) -> Decimal:
        unit = self.cleaned_data.get("size_unit")
        return Decimal("1") if unit in (None, H100E_UNIT) else self.hardware[unit].h100e

    def clean(self):
        cleaned = super().clean()
        size, minimum = cleaned.get("size"), cleaned.get("min_size")
        if size is not None and minimum is not None and minimum > size:
            self.add_error("min_size", _("The smallest useful size cannot exceed the size requested."))
        if size is not None and "size_unit" in cleaned:
            hours = (size * self.factor()).quantize(CENT, rounding=ROUND_HALF_UP)
            if hours < CENT:
                self.add_error("size", _("The size is less than 0.01 H100-equivalent hours; enter a larger size."))
            elif hours > MAX_SIZE:
                self.add_error("size", _("The size is too large to record; enter a smaller size."))
            cleaned["h100e_hours"] = hours
            cleaned["min_h100e_hours"] = min(
                ((minimum or Decimal("0")) * self.factor()).quantize(CENT, rounding=ROUND_HALF_UP), hours)
        return cleaned

    def service_fields(self) -> dict:
        """The keyword arguments of ``request_create`` / ``request_update``."""
        data = self.cleaned_data
        return {
            "title": data["title"], "abstract": data["abstract"], "sector": data["sector"],
            "h100e_hours": data["h100e_hours"], "min_h100e_hours": data["min_h100e_hours"],
            "data_residency_regions": sorted(data["data_residency_regions"]),
            "local_language": data["local_language"], "open_weights": data["open_weights"],
            "params_billion": data["params_billion"], "acceptable_hardware": list(data["acceptable_hardware"]),
        }

    def apply_errors(self, error) -> None:
        """Put a service's validation error on the fields it names (unknown names go to the whole form)."""
        form_refusal(self, error, fields={"h100e_hours": "size", "min_h100e_hours": "min_size"})
