"""Query-string filters of the members API."""
import django_filters

from members.models import MemberState, Organisation


class MemberStateFilter(django_filters.FilterSet):
    class Meta:
        model = MemberState
        fields = ["region", "income_group", "cofinancing_phase", "lending_category", "is_member"]


class OrganisationFilter(django_filters.FilterSet):
    member_state = django_filters.CharFilter(
        field_name="member_state__iso3", lookup_expr="iexact", label="ISO3 code of the organisation's state"
    )

    class Meta:
        model = Organisation
        fields = ["kind", "member_state"]
