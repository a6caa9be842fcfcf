"""Member states, organisations, and the people who act for them."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class IncomeGroup(models.TextChoices):
    LIC = "LIC", _("Low income")
    LMIC = "LMIC", _("Lower-middle income")
    UMIC = "UMIC", _("Upper-middle income")
    HIC = "HIC", _("High income")


class Region(models.TextChoices):
    """World Bank regions, by the short codes that allocation rounds use."""

    EAP = "EAP", _("East Asia & Pacific")
    ECA = "ECA", _("Europe & Central Asia")
    LAC = "LAC", _("Latin America & Caribbean")
    MNA = "MNA", _("Middle East, North Africa, Afghanistan & Pakistan")
    NAM = "NAM", _("North America")
    SAS = "SAS", _("South Asia")
    SSA = "SSA", _("Sub-Saharan Africa")


class LendingCategory(models.TextChoices):
    IDA = "IDA", "IDA"
    IBRD = "IBRD", "IBRD"
    BLEND = "Blend", _("Blend")
    NONE = "", _("Not a borrower")


class CofinancingPhase(models.TextChoices):
    INITIAL = "initial", _("Initial self-financing")
    PREPARATORY = "preparatory", _("Preparatory transition")
    ACCELERATED = "accelerated", _("Accelerated transition")
    SELF = "self", _("Fully self-financing")


class PhaseSource(models.TextChoices):
    GAVI = "gavi", _("Gavi co-financing record")
    DERIVED = "derived", _("Derived from World Bank data")
    OVERRIDE = "override", _("Secretariat override")


class MemberState(models.Model):
    iso3 = models.CharField(max_length=3, unique=True)
    name = models.CharField(max_length=120)
    region = models.CharField(max_length=3, choices=Region.choices)
    income_group = models.CharField(max_length=4, choices=IncomeGroup.choices)
    income_group_is_estimated = models.BooleanField(
        default=False, help_text=_("True when the World Bank left the economy unclassified and the group "
                                   "was set from GNI per capita and the thresholds.")
    )
    lending_category = models.CharField(max_length=5, choices=LendingCategory.choices, blank=True)
    gni_per_capita_usd = models.DecimalField(max_digits=10, decimal_places=0, null=True, blank=True)
    gni_per_capita_year = models.PositiveSmallIntegerField(null=True, blank=True)
    gni_three_year_average_usd = models.DecimalField(max_digits=10, decimal_places=0, null=True, blank=True)
    population = models.PositiveBigIntegerField(
        null=True, blank=True, help_text=_("Total population (World Bank WDI SP.POP.TOTL), in persons.")
    )
    population_year = models.PositiveSmallIntegerField(null=True, blank=True)
    is_member = models.BooleanField(default=True)
    cofinancing_phase = models.CharField(max_length=12, choices=CofinancingPhase.choices)
    years_in_phase = models.PositiveSmallIntegerField(default=0)
    phase_source = models.CharField(max_length=8, choices=PhaseSource.choices, default=PhaseSource.DERIVED)
    phase_override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(iso3__regex=r"^[A-Z]{3}$"), name="memberstate_iso3_format"),
            models.CheckConstraint(
                condition=Q(gni_per_capita_usd__isnull=True) | Q(gni_per_capita_usd__gte=0),
                name="memberstate_gni_non_negative",
            ),
            models.CheckConstraint(
                condition=~Q(phase_source="override") | ~Q(phase_override_reason=""),
                name="memberstate_override_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.iso3})"

    def clean(self):
        if self.phase_source == PhaseSource.OVERRIDE and not self.phase_override_reason.strip():
            raise ValidationError({"phase_override_reason": _("An override of the co-financing phase needs a reason.")})


class OrganisationKind(models.TextChoices):
    MINISTRY = "ministry", _("Ministry of a member state")
    DONOR = "donor", _("Donor")
    PROVIDER = "provider", _("Provider")
    SECRETARIAT = "secretariat", _("Secretariat")


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=12, choices=OrganisationKind.choices)
    member_state = models.ForeignKey(
        MemberState, on_delete=models.PROTECT, null=True, blank=True, related_name="organisations",
        help_text=_("The state a ministry belongs to; for a donor or provider, its home country if any."),
    )
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="ministry") | Q(member_state__isnull=False),
                name="organisation_ministry_has_state",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == OrganisationKind.MINISTRY and self.member_state_id is None:
            raise ValidationError({"member_state": _("A ministry must belong to a member state.")})


class Role(models.TextChoices):
    MINISTRY_OFFICER = "ministry_officer", _("Ministry officer")
    DONOR_OFFICER = "donor_officer", _("Donor officer")
    PROVIDER_OFFICER = "provider_officer", _("Provider officer")
    SECRETARIAT_OFFICER = "secretariat_officer", _("Secretariat officer")
    REVIEWER = "reviewer", _("Reviewer")


ROLE_ORGANISATION_KIND = {
    Role.MINISTRY_OFFICER: OrganisationKind.MINISTRY,
    Role.DONOR_OFFICER: OrganisationKind.DONOR,
    Role.PROVIDER_OFFICER: OrganisationKind.PROVIDER,
    Role.SECRETARIAT_OFFICER: OrganisationKind.SECRETARIAT,
    Role.REVIEWER: OrganisationKind.SECRETARIAT,
}


class Membership(models.Model):
    """A person's place in the alliance: one organisation, one role."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["organisation__name", "user__username"]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()}, {self.organisation}"

    def clean(self):
        expected = ROLE_ORGANISATION_KIND.get(self.role)
        if expected and self.organisation_id and self.organisation.kind != expected:
            raise ValidationError(
                {"role": _("A %(role)s must belong to a %(kind)s organisation.")
                 % {"role": self.get_role_display(), "kind": OrganisationKind(expected).label}}
            )
