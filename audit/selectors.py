"""Reading the audit trail: who may read which entries, and the verification of the chain.

Visibility (one rule for the API and the pages):
- the secretariat (and superusers) read every entry;
- everyone, the public included, reads the decisions of published rounds: the entries about a
  published round and its runs (without the names of the people who acted);
- a ministry officer also reads the entries about its own state's objects;
- a donor or provider officer also reads the entries about its own organisation's objects;
- every person also reads the entries of what they did themselves.
"""
import datetime
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditEntry, AuditHead

PUBLIC_OBJECT_TYPES = ("allocation.round", "allocation.allocationrun")
SECRETARIAT_ROLES = ("secretariat_officer",)


def _membership(user):
    if not user or not user.is_authenticated:
        return None
    from members.models import Membership

    return Membership.objects.select_related("organisation__member_state").filter(user=user).first()


def sees_everything(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    membership = _membership(user)
    return membership is not None and membership.role in SECRETARIAT_ROLES


def _published_round_ids() -> QuerySet:
    from allocation.models import Round, RoundStatus

    return Round.objects.filter(status=RoundStatus.PUBLISHED).values("id")


def public_condition() -> Q:
    return Q(round_id__in=_published_round_ids(), object_type__in=PUBLIC_OBJECT_TYPES)


def entries_visible_to(user) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.all()
    if sees_everything(user):
        return entries
    condition = public_condition()
    membership = _membership(user)
    if user and user.is_authenticated:
        condition |= Q(actor_id=user.pk)
    if membership is not None:
        organisation = membership.organisation
        if membership.role == "ministry_officer" and organisation.member_state_id:
            condition |= Q(member_state=organisation.member_state.iso3)
        elif membership.role in ("donor_officer", "provider_officer"):
            condition |= Q(organisation_id=organisation.pk)
    return entries.filter(condition)


def entry_access(user, sequence) -> AuditEntry:
    try:
        return entries_visible_to(user).get(sequence=sequence)
    except (AuditEntry.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No audit entry number {sequence!r} is visible to you.") from None


def actor_shown_to(user):
    """Whether ``user`` reads the names of the people who acted, as a test on an entry. Names are shown
    to the secretariat, to the person themselves and to colleagues of the same organisation; everyone
    else reads the role and organisation only (reviews stay blind, the public reads no names)."""
    if sees_everything(user):
        return lambda entry: True
    if not user or not user.is_authenticated:
        return lambda entry: False
    membership = _membership(user)
    organisation_id = membership.organisation_id if membership is not None else None
    return lambda entry: entry.actor_id == user.pk or (
        organisation_id is not None and entry.actor_organisation_id == organisation_id)


# fields that name a person (an account id): shown with the actor's name, hidden from everyone else
PERSONAL_FIELDS = frozenset({"created_by_id", "reviewer_id", "user_id"})


def without_personal_fields(values: dict) -> dict:
    return {key: value for key, value in values.items() if key not in PERSONAL_FIELDS}


# --- Verification -------------------------------------------------------------------------------


@dataclass
class ChainProblem:
    sequence: int
    kind: str  # "edited", "missing", "broken_link", "truncated"
    message: str


@dataclass
class ChainReport:
    intact: bool
    entries: int
    head_sequence: int
    head_hash: str
    checked_at: datetime.datetime
    problem: ChainProblem | None = None
    problems: list[ChainProblem] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["checked_at"] = self.checked_at.isoformat()
        return data


VERIFY_CACHE_KEY = "audit:verify"


def audit_chain_verify_recent() -> ChainReport:
    """The last full verification, if it is under ``GACP["AUDIT_VERIFY_SECONDS"]`` old and no entry has been
    appended since; otherwise a new one (kept for the next callers). For the public pages and API: a chain
    of a million entries takes minutes to recompute, which anyone could otherwise ask for again and again.
    The answer says when it was computed; ``manage.py verify_audit`` always recomputes."""
    head = AuditHead.objects.filter(pk=1).values_list("sequence", "hash").first() or (0, GENESIS_HASH)
    cached = cache.get(VERIFY_CACHE_KEY)
    if cached is not None and cached[0] == tuple(head):
        return cached[1]
    report = audit_chain_verify()
    cache.set(VERIFY_CACHE_KEY, (tuple(head), report), settings.GACP["AUDIT_VERIFY_SECONDS"])
    return report


def audit_chain_verify() -> ChainReport:
    """Recompute the whole chain and report the first broken link.

    - ``edited``: an entry's recomputed hash differs from the one stored (a field was changed);
    - ``missing``: a gap in the sequence numbers (entries were deleted);
    - ``broken_link``: an entry does not point at the hash of the entry before it (reordered, or the
      entry before it was replaced);
    - ``truncated``: the chain's head names a newer entry than the last one found (the newest entries
      were deleted)."""
    problems: list[ChainProblem] = []
    previous_hash = GENESIS_HASH
    expected = 1
    count = 0
    for entry in AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000):
        count += 1
        if entry.sequence != expected:
            problems.append(ChainProblem(expected, "missing",
                                         f"Entries {expected} to {entry.sequence - 1} are missing: deleted."
                                         if entry.sequence > expected + 1 else
                                         f"Entry {expected} is missing: deleted."))
        if entry.compute_hash() != entry.hash:
            problems.append(ChainProblem(entry.sequence, "edited",
                                         f"Entry {entry.sequence} was changed after it was written: its content "
                                         "no longer matches its hash."))
        if entry.previous_hash != previous_hash:
            problems.append(ChainProblem(entry.sequence, "broken_link",
                                         f"Entry {entry.sequence} does not follow the entry before it: entries "
                                         "were removed, replaced or reordered."))
        previous_hash = entry.hash
        expected = entry.sequence + 1
    head = AuditHead.objects.filter(pk=1).first()
    last = expected - 1
    if head is not None and (head.sequence != last or (last and head.hash != previous_hash)):
        if head.sequence > last:
            message = f"The chain ends at entry {last} but its head names entry {head.sequence}: the newest " \
                      "entries were deleted."
        else:
            message = f"The chain's head (entry {head.sequence}) does not match its last entry ({last})."
        problems.append(ChainProblem(last + 1, "truncated", message))
    if head is None and count:
        problems.append(ChainProblem(last + 1, "truncated", "The chain's head is missing."))
    first = min(problems, key=lambda p: p.sequence) if problems else None
    return ChainReport(
        intact=not problems, entries=count, head_sequence=head.sequence if head else 0,
        head_hash=head.hash if head else GENESIS_HASH, checked_at=timezone.now(), problem=first,
        problems=problems[:20],
    )
