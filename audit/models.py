"""The audit trail: an append-only, hash-chained record of every state change and every solver run.

Each entry holds who acted (a snapshot of the person: id, username, role, organisation), what was done
(an action name such as ``round_close``), to which object (type and id), whose object it is (member
state and organisation: the scope that decides who may read the entry), the fields that changed
(before and after) and anything else worth keeping (``extra``: e.g. a run's scenario SHA-256).

``hash`` is the SHA-256 of the entry's canonical JSON, which includes ``previous_hash``: editing,
deleting or reordering any entry breaks every link after it, and ``manage.py verify_audit`` finds the
first broken one. ``AuditHead`` is a single row holding the sequence number and hash of the newest
entry: writers lock it, so two transactions never fork the chain, and it anchors the end of the chain
(deleting the newest entries leaves the head pointing past the end).

Entries refuse update and delete through the ORM; on PostgreSQL a trigger refuses them in SQL too.
"""
import datetime
import hashlib
import json

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


def canonical_json(value) -> str:
    """The one serialisation hashed and stored: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit entry."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit entries are append-only: they cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit entries are append-only: they cannot be deleted.")

    _raw_delete = delete


class AuditHead(models.Model):
    """The newest link of the chain (one row, id 1): locked by every writer."""

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audithead_single_row")]

    def __str__(self):
        return f"#{self.sequence} {self.hash[:12]}"


class AuditEntry(models.Model):
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    recorded_at = models.DateTimeField(editable=False)
    # who: a snapshot, kept even if the account is later changed or removed (no foreign keys)
    actor_id = models.BigIntegerField(null=True, blank=True, editable=False)
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    actor_role = models.CharField(max_length=32, blank=True, editable=False,
                                  help_text=_("The person's role, or 'system' for commands and workers."))
    actor_organisation_id = models.BigIntegerField(null=True, blank=True, editable=False)
    actor_organisation = models.CharField(max_length=200, blank=True, editable=False)
    # what, to which object, and whose object it is
    action = models.CharField(max_length=64, editable=False)
    object_type = models.CharField(max_length=64, editable=False, help_text=_("app_label.model, e.g. allocation.round"))
    object_id = models.CharField(max_length=64, editable=False)
    member_state = models.CharField(max_length=3, blank=True, editable=False,
                                    help_text=_("ISO3 code of the state whose object this is, if any."))
    organisation_id = models.BigIntegerField(null=True, blank=True, editable=False,
                                             help_text=_("The organisation whose object this is, if any."))
    round_id = models.BigIntegerField(null=True, blank=True, editable=False)
    # the change, as canonical JSON text (hashed exactly as stored)
    before_json = models.TextField(default="{}", editable=False)
    after_json = models.TextField(default="{}", editable=False)
    extra_json = models.TextField(default="{}", editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["member_state", "sequence"], name="audit_member_state"),
            models.Index(fields=["organisation_id", "sequence"], name="audit_organisation"),
            models.Index(fields=["round_id", "object_type"], name="audit_round"),
            models.Index(fields=["actor_id", "sequence"], name="audit_actor"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        """Insert once; never overwrite (the chain would no longer hold)."""
        if not self._state.adding:
            raise AppendOnlyError("Audit entries are append-only: they cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries are append-only: they cannot be deleted.")

    @property
    def before(self) -> dict:
        return json.loads(self.before_json)

    @property
    def after(self) -> dict:
        return json.loads(self.after_json)

    @property
    def extra(self) -> dict:
        return json.loads(self.extra_json)

    def payload(self) -> dict:
        """Every field that the hash covers, in the form that is hashed."""
        return {
            "sequence": self.sequence,
            "recorded_at": self.recorded_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "actor_role": self.actor_role,
            "actor_organisation_id": self.actor_organisation_id,
            "actor_organisation": self.actor_organisation,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "member_state": self.member_state,
            "organisation_id": self.organisation_id,
            "round_id": self.round_id,
            "before": self.before_json,
            "after": self.after_json,
            "extra": self.extra_json,
            "previous_hash": self.previous_hash,
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.payload()).encode("utf-8")).hexdigest()
