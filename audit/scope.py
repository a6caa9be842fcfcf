"""Whose object is it? The member state (ISO3) and organisation an audited object belongs to, and its
round: the scope that decides who may read an entry about it (see ``selectors.entries_visible_to``).

Known models have a rule each; any other model is read by its fields: ``member_state``, ``round``,
and the organisation in ``organisation``, ``ministry``, ``donor`` or ``provider``. A service may also
name the scope itself (``audit_record(..., member_state=..., organisation_id=..., round_id=...)``).
"""
from dataclasses import dataclass

from audit.tracking import label_of

MINISTRY = "ministry"


@dataclass(frozen=True)
class Scope:
    member_state: str = ""
    organisation_id: int | None = None
    round_id: int | None = None


def _iso3(state) -> str:
    return state.iso3 if state is not None else ""


def _of_organisation(organisation) -> Scope:
    if organisation is None:
        return Scope()
    state = _iso3(organisation.member_state) if organisation.kind == MINISTRY else ""
    return Scope(member_state=state, organisation_id=organisation.pk)


def _of_user(user) -> Scope:
    membership = getattr(user, "membership", None) if user.pk else None
    return _of_organisation(membership.organisation) if membership is not None else Scope()


RULES = {
    "members.memberstate": lambda o: Scope(member_state=o.iso3),
    "members.organisation": _of_organisation,
    "members.membership": lambda o: _of_organisation(o.organisation),
    "auth.user": _of_user,
    "allocation.round": lambda o: Scope(round_id=o.pk),
    "allocation.call": lambda o: Scope(),
    "allocation.hardwaretype": lambda o: Scope(),
    "allocation.allocationrun": lambda o: Scope(round_id=o.round_id),
    "allocation.pledge": lambda o: Scope(organisation_id=o.donor_id, round_id=o.round_id),
    "allocation.offer": lambda o: Scope(organisation_id=o.provider_id, round_id=o.round_id),
    "allocation.computerequest": lambda o: Scope(member_state=_iso3(o.member_state), organisation_id=o.ministry_id,
                                                 round_id=o.round_id),
    # reviews are blind: their scope is the round, read by the secretariat and the reviewer who wrote them
    "allocation.review": lambda o: Scope(round_id=o.request.round_id),
    "allocation.reviewassignment": lambda o: Scope(round_id=o.request.round_id),
    "allocation.appeal": lambda o: Scope(member_state=_iso3(o.request.member_state),
                                         organisation_id=o.request.ministry_id, round_id=o.request.round_id),
    "allocation.countrybudget": lambda o: Scope(member_state=_iso3(o.member_state), round_id=o.round_id),
    "allocation.cofinancingobligation": lambda o: Scope(member_state=_iso3(o.member_state), round_id=o.round_id),
}


def _by_fields(obj) -> Scope:
    state = getattr(obj, "member_state", None)
    organisation_id = next((getattr(obj, f"{name}_id") for name in ("organisation", "ministry", "donor", "provider")
                            if getattr(obj, f"{name}_id", None) is not None), None)
    return Scope(member_state=_iso3(state) if hasattr(state, "iso3") else "", organisation_id=organisation_id,
                 round_id=getattr(obj, "round_id", None))


def scope_of(obj) -> Scope:
    if obj is None:
        return Scope()
    rule = RULES.get(label_of(type(obj)))
    return rule(obj) if rule is not None else _by_fields(obj)
