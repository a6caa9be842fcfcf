"""The reviewer's scoring form."""
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


class ScoreForm(forms.Form):
    score = forms.DecimalField(
        label=_("Score"), max_digits=4, decimal_places=3, min_value=Decimal("0"), max_value=Decimal("1"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        help_text=_("From 0 (does not deserve compute) to 1 (excellent public-interest research); for example "
                    "0.75. The request's score is the mean of its reviews."),
        error_messages={"required": _("Give a score between 0 and 1."),
                        "min_value": _("The score is between 0 and 1."),
                        "max_value": _("The score is between 0 and 1."),
                        "max_decimal_places": _("Give the score with at most 3 decimals."),
                        "max_digits": _("Give the score with at most 3 decimals."),
                        "invalid": _("The score is a number between 0 and 1, such as 0.75.")},
    )
    comments = forms.CharField(label=_("Comments"), required=False, max_length=5000,
                               widget=forms.Textarea(attrs={"rows": 6}),
                               help_text=_("What is strong and what is weak; the secretariat reads them."))
