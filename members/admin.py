"""The secretariat's administration of member states, organisations and the people who act for them."""
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedAdminMixin
from members.models import Membership, MemberState, Organisation

admin.site.site_header = _("GACP secretariat")
admin.site.site_title = _("GACP secretariat")
admin.site.index_title = _("Alliance administration")

User = get_user_model()


@admin.register(MemberState)
class MemberStateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "iso3",
        "region",
        "income_group",
        "income_group_is_estimated",
        "lending_category",
        "gni_per_capita_usd",
        "gni_three_year_average_usd",
        "cofinancing_phase",
        "years_in_phase",
        "phase_source",
        "is_member",
    )
    list_display_links = ("name", "iso3")
    list_filter = (
        "is_member",
        "region",
        "income_group",
        "cofinancing_phase",
        "phase_source",
        "lending_category",
        "income_group_is_estimated",
    )
    search_fields = ("name", "iso3")
    ordering = ("name",)
    list_per_page = 100
    fieldsets = (
        (None, {"fields": ("iso3", "name", "region", "is_member")}),
        (
            _("World Bank classification"),
            {
                "fields": (
                    "income_group",
                    "income_group_is_estimated",
                    "lending_category",
                    ("gni_per_capita_usd", "gni_per_capita_year"),
                    "gni_three_year_average_usd",
                )
            },
        ),
        (
            _("Co-financing"),
            {
                "fields": ("cofinancing_phase", "years_in_phase", "phase_source", "phase_override_reason"),
                "description": _(
                    "To override the phase derived from Gavi's record or World Bank data, choose "
                    "“Secretariat override” as the source and give the reason."
                ),
            },
        ),
    )


class MembershipInline(admin.TabularInline):
    """The people of an organisation."""

    model = Membership
    extra = 0
    fields = ("user", "role")
    autocomplete_fields = ("user",)
    verbose_name = _("person")
    verbose_name_plural = _("people")


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "member_state", "people", "website")
    list_filter = ("kind", "member_state__region", "member_state__income_group")
    search_fields = ("name", "member_state__name", "member_state__iso3")
    autocomplete_fields = ("member_state",)
    list_select_related = ("member_state",)
    inlines = (MembershipInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(people_count=Count("memberships"))

    @admin.display(description=_("people"), ordering="people_count")
    def people(self, obj):
        return obj.people_count


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "full_name", "email", "organisation", "organisation_kind", "role")
    list_filter = ("role", "organisation__kind")
    search_fields = (
        "user__username",
        "user__email",
        "user__first_name",
        "user__last_name",
        "organisation__name",
        "organisation__member_state__iso3",
    )
    autocomplete_fields = ("user", "organisation")
    list_select_related = ("user", "organisation")

    @admin.display(description=_("name"), ordering="user__last_name")
    def full_name(self, obj):
        return obj.user.get_full_name()

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, obj):
        return obj.user.email

    @admin.display(description=_("kind of organisation"), ordering="organisation__kind")
    def organisation_kind(self, obj):
        return obj.organisation.get_kind_display()


class UserMembershipInline(admin.StackedInline):
    """A person's one place in the alliance, edited with the account."""

    model = Membership
    fields = ("organisation", "role")
    autocomplete_fields = ("organisation",)
    can_delete = True
    max_num = 1
    extra = 0
    verbose_name = _("place in the alliance")
    verbose_name_plural = _("place in the alliance")


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    inlines = (UserMembershipInline,)
    list_display = ("username", "email", "first_name", "last_name", "organisation", "role", "is_staff", "is_active")
    list_filter = ("membership__role", "membership__organisation__kind", "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "first_name", "last_name", "email", "membership__organisation__name")
    list_select_related = ("membership__organisation",)

    @admin.display(description=_("organisation"), ordering="membership__organisation__name")
    def organisation(self, obj):
        membership = getattr(obj, "membership", None)
        return membership.organisation if membership else "—"

    @admin.display(description=_("role"), ordering="membership__role")
    def role(self, obj):
        membership = getattr(obj, "membership", None)
        return membership.get_role_display() if membership else "—"
