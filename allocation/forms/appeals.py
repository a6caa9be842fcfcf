"""Forms of appeals: a ministry lodges one with its reasons; the secretariat answers it."""
from django import forms
from django.utils.translation import gettext_lazy as _

from allocation.models import Appeal
from allocation.services import APPEAL_MIN_REASONS


class AppealLodgeForm(forms.Form):
    reasons = forms.CharField(
        label=_("Why the decision should be reconsidered"), min_length=APPEAL_MIN_REASONS, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Name what you believe was wrong (for example a review score, the eligibility decision, or "
                    "data about your request or your state) and what you ask the secretariat to do."),
        error_messages={"required": _("Say why the decision should be reconsidered."),
                        "min_length": _("Say a little more: at least %(limit_value)d characters (you wrote "
                                        "%(show_value)d).")},
    )


class AppealAnswerForm(forms.Form):
    DECISIONS = [("upheld", _("Uphold the appeal")), ("rejected", _("Reject the appeal"))]

    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect,
                                 error_messages={"required": _("Choose whether the appeal is upheld or rejected.")})
    remedy = forms.ChoiceField(
        label=_("What the secretariat will do (if upheld)"), required=False,
        choices=[("", _("Choose an action"))] + Appeal.Remedy.choices,
        help_text=_("The published allocation is not changed; an upheld appeal is acted on as recorded here."),
    )
    answer = forms.CharField(
        label=_("Answer to the ministry"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The ministry reads this answer with the decision on its request."),
        error_messages={"required": _("Write the answer the ministry will read.")},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "upheld" and not cleaned.get("remedy"):
            self.add_error("remedy", _("Say what the secretariat will do about an upheld appeal."))
        return cleaned
