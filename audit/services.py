"""Writing the audit trail: ``audit_record``, the one way an entry is added.

The pattern, for every service that changes state (``<entity>_<verb>`` in any ``services.py``)::

    @transaction.atomic
    def pledge_withdraw(*, user, pledge: Pledge) -> Pledge:
        pledge = _lock(Pledge, pledge.pk)
        ...                                     # checks, then the change
        pledge.status = Pledge.Status.WITHDRAWN
        _save(pledge)
        audit_record(action="pledge_withdraw", actor=user, obj=pledge)
        return pledge

- one call, after the change and inside the service's transaction: if the change rolls back, so does
  its entry, and an entry never exists for a change that did not happen;
- ``action`` is the service's name; ``actor`` the person acting (``None`` for commands and workers,
  recorded as "system"); ``obj`` the object changed;
- the fields that changed are found by comparing ``obj`` with the values it was loaded with (models
  listed in ``audit.tracking.TRACKED``); a new object is recorded with all its fields;
- ``extra`` holds what the fields do not show: ids of other rows changed in bulk, a scenario's SHA-256;
- ``only_if_changed=True`` skips the entry when nothing changed (reloading reference data);
- the scope (member state, organisation, round) comes from ``obj`` (``audit.scope``); pass
  ``member_state``/``organisation_id``/``round_id`` to name it when the object does not say.

``tests/audit/test_coverage.py`` drives every public service of the apps' ``services.py`` modules and
fails for a service that changes state without leaving an entry.
"""
from django.db import transaction
from django.utils import timezone

from audit.exceptions import AuditChainBusy, AuditOutsideTransaction
from audit.models import GENESIS_HASH, AuditEntry, AuditHead, canonical_json
from audit.scope import scope_of
from audit.tracking import fields_of, jsonable, label_of, loaded_values, remember

SYSTEM = "system"


def _actor(user) -> dict:
    if user is None or not getattr(user, "is_authenticated", False):
        return {"actor_id": None, "actor_username": "", "actor_role": SYSTEM, "actor_organisation_id": None,
                "actor_organisation": ""}
    membership = getattr(user, "membership", None)
    role = membership.role if membership is not None else ("superuser" if user.is_superuser else "user")
    return {
        "actor_id": user.pk,
        "actor_username": user.get_username(),
        "actor_role": role,
        "actor_organisation_id": membership.organisation_id if membership is not None else None,
        "actor_organisation": membership.organisation.name if membership is not None else "",
    }


def _changes(obj) -> tuple[dict, dict]:
    """(before, after) of ``obj``: the fields that differ from the values it was loaded with, plus its
    id; every field for an object created since."""
    pk_name = obj._meta.pk.attname
    current = fields_of(obj)
    loaded = loaded_values(obj)
    if loaded is None or loaded.get(pk_name) is None:
        return {}, current
    changed = sorted(name for name, value in current.items() if name in loaded and loaded[name] != value)
    identity = {pk_name: current.get(pk_name)}
    return ({**identity, **{name: loaded[name] for name in changed}},
            {**identity, **{name: current[name] for name in changed}})


def audit_fields(obj) -> dict:
    """An object's field values as recorded in entries (for ``extra``: e.g. the lots of a new pledge)."""
    return fields_of(obj)


def _head_locked() -> AuditHead:
    head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1, defaults={"hash": GENESIS_HASH})
    return head


def audit_record(
    *, action: str, actor=None, obj=None, extra: dict | None = None, object_type: str = "", object_id=None,
    member_state: str | None = None, organisation_id: int | None = None, round_id: int | None = None,
    before: dict | None = None, after: dict | None = None, only_if_changed: bool = False,
) -> AuditEntry | None:
    """Append one entry to the chain, in the caller's transaction. See the module's docstring."""
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransaction(
            f"audit_record({action!r}) must run inside the transaction of the change it records.")
    if obj is None and not (object_type and object_id is not None):
        raise ValueError("audit_record needs the object changed, or its object_type and object_id.")
    before_values, after_values = _changes(obj) if obj is not None else ({}, {})
    if only_if_changed and obj is not None and not extra and set(after_values) <= {obj._meta.pk.attname}:
        return None  # e.g. reloading reference data that did not change
    before_values.update(jsonable(before or {}))
    after_values.update(jsonable(after or {}))
    scope = scope_of(obj)
    entry = AuditEntry(
        recorded_at=timezone.now(),
        action=action,
        object_type=object_type or label_of(type(obj)),
        object_id=str(object_id if object_id is not None else obj.pk),
        member_state=member_state if member_state is not None else scope.member_state,
        organisation_id=organisation_id if organisation_id is not None else scope.organisation_id,
        round_id=round_id if round_id is not None else scope.round_id,
        before_json=canonical_json(before_values),
        after_json=canonical_json(after_values),
        extra_json=canonical_json(jsonable(extra or {})),
        **_actor(actor),
    )
    head = _head_locked()
    entry.sequence = head.sequence + 1
    entry.previous_hash = head.hash
    entry.hash = entry.compute_hash()
    entry.save()
    moved = AuditHead.objects.filter(pk=1, sequence=head.sequence).update(sequence=entry.sequence, hash=entry.hash)
    if moved != 1:  # only possible where the database cannot lock the row; refuse rather than fork
        raise AuditChainBusy("The audit chain moved while this entry was written; try again.")
    if obj is not None:
        remember(obj)
    return entry
