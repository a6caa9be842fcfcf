"""The filters of the audit trail page."""
from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from audit.tracking import TRACKED


def object_type_choices():
    choices = [("", _("Any type"))]
    for label in TRACKED:
        model = apps.get_model(label)
        choices.append((label, str(model._meta.verbose_name).capitalize()))
    return choices


class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Object type"), required=False, choices=object_type_choices)
    object_id = forms.RegexField(label=_("Object id"), required=False, max_length=64, regex=r"^[A-Za-z0-9_-]+$",
                                 error_messages={"invalid": _("An id is made of letters, digits, - and _.")})
    action = forms.RegexField(label=_("Action"), required=False, max_length=64, regex=r"^[a-z_]+$",
                              help_text=_("For example round_close or request_submit."),
                              error_messages={"invalid": _("An action is written in lower case with _, "
                                                           "for example round_close.")})
    member_state = forms.RegexField(label=_("Member state (ISO3)"), required=False, max_length=3,
                                    regex=r"^[A-Za-z]{3}$",
                                    error_messages={"invalid": _("Give the state's three-letter ISO code, "
                                                                 "for example KEN.")})

    def clean_member_state(self):
        return self.cleaned_data["member_state"].upper()

    def clean(self):
        data = super().clean()
        if data.get("object_id") and not data.get("object_type"):
            self.add_error("object_type", _("Choose the type of the object whose id you gave."))
        return data

    def filter(self, entries):
        data = self.cleaned_data
        for name in ("object_type", "object_id", "action", "member_state"):
            if data.get(name):
                entries = entries.filter(**{name: data[name]})
        return entries
