"""Remembers the values an object had when it was loaded, so that ``audit_record`` can tell what a
service changed with one call placed after the change (no "before" snapshot to take by hand).

Only the models listed in ``TRACKED`` are followed (the alliance's own objects and user accounts, not
the bulk rows a solve writes). Large documents are left out of the comparison and recorded as hashes
in ``extra`` by the services that change them (a run's scenario and output).
"""
import datetime
import decimal
import math
import uuid

from django.apps import apps
from django.db.models.signals import post_init

TRACKED = (
    "auth.user",
    "members.memberstate", "members.organisation", "members.membership",
    "allocation.hardwaretype", "allocation.call", "allocation.round", "allocation.pledge", "allocation.offer",
    "allocation.capacitylot", "allocation.computerequest", "allocation.review", "allocation.countrybudget",
    "allocation.allocationrun", "allocation.cofinancingobligation", "allocation.reviewassignment",
    "allocation.appeal",
)
# fields never copied into an entry: secrets, and documents too large to diff (their SHA-256 goes in extra)
IGNORED_FIELDS = {
    "auth.user": {"password", "last_login"},
    "allocation.allocationrun": {"scenario", "output", "progress"},
}
SNAPSHOT = "_audit_loaded"


def label_of(model) -> str:
    return model._meta.label_lower


def jsonable(value):
    """A value as plain JSON: decimals as strings (exact), times in ISO 8601 UTC, ids for objects."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(item) for item in value)
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        return jsonable(value.pk)
    return str(value)


def fields_of(instance) -> dict:
    """The instance's concrete field values that are loaded (deferred ones are absent), as JSON."""
    ignored = IGNORED_FIELDS.get(label_of(type(instance)), set())
    values = {}
    for field in instance._meta.concrete_fields:
        if field.name in ignored or field.attname not in instance.__dict__:
            continue
        values[field.attname] = jsonable(instance.__dict__[field.attname])
    return values


def remember(instance) -> None:
    """Take the instance's current values as the base of the next change recorded."""
    instance.__dict__[SNAPSHOT] = fields_of(instance)  # jsonable() builds new containers: no aliasing


def loaded_values(instance) -> dict | None:
    return instance.__dict__.get(SNAPSHOT)


def _on_init(sender, instance, **kwargs):
    remember(instance)


def connect() -> None:
    for label in TRACKED:
        post_init.connect(_on_init, sender=apps.get_model(label), dispatch_uid=f"audit-track-{label}")
