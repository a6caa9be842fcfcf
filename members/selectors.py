"""Reads of the members app: member states (public reference data) and organisations (members only)."""
from django.db.models import QuerySet
from django.http import Http404

from members.models import Membership, MemberState, Organisation


def is_member(user) -> bool:
    """A person of the alliance: someone with a membership, or a superuser."""
    if not user or not user.is_authenticated:
        return False
    return user.is_superuser or Membership.objects.filter(user=user).exists()


def member_states() -> QuerySet[MemberState]:
    return MemberState.objects.all()


def member_state_get(iso3: str) -> MemberState:
    state = MemberState.objects.filter(iso3=str(iso3).upper()).first()
    if state is None:
        raise Http404(f"No member state with ISO3 code {iso3!r}.")
    return state


def organisations_visible_to(user) -> QuerySet[Organisation]:
    """Members of the alliance see every organisation; the public sees none."""
    organisations = Organisation.objects.select_related("member_state")
    return organisations if is_member(user) else organisations.none()


def organisation_access(user, organisation_id) -> Organisation:
    try:
        return organisations_visible_to(user).get(pk=organisation_id)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No organisation with id {organisation_id!r} is visible to you.") from None
