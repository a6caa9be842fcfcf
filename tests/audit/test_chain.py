"""The audit chain: entries are linked by SHA-256, append-only, written in the transaction of the change,
and any edit, deletion or reordering is found by `verify_audit`, the API and the page."""
import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.exceptions import AuditOutsideTransaction
from audit.models import GENESIS_HASH, AppendOnlyError, AuditEntry, AuditHead, canonical_json
from audit.selectors import audit_chain_verify
from audit.services import audit_record
from tests import factories

pytestmark = pytest.mark.django_db


def _record(n=1, **kwargs):
    entries = []
    for index in range(n):
        with transaction.atomic():
            entries.append(audit_record(action="test_action", object_type="allocation.round", object_id=index + 1,
                                        after={"index": index}, **kwargs))
    return entries


def test_each_entry_hashes_its_canonical_json_and_links_to_the_one_before():
    first, second, third = _record(3)
    assert [e.sequence for e in (first, second, third)] == [1, 2, 3]
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash and third.previous_hash == second.hash
    stored = AuditEntry.objects.get(sequence=2)
    payload = stored.payload()
    assert hashlib.sha256(canonical_json(payload).encode()).hexdigest() == stored.hash
    assert payload["previous_hash"] == first.hash and json.loads(payload["after"]) == {"index": 1}
    head = AuditHead.objects.get(pk=1)
    assert (head.sequence, head.hash) == (3, third.hash)


def test_an_intact_chain_verifies():
    _record(4)
    report = audit_chain_verify()
    assert report.intact and report.entries == 4 and report.problem is None
    call_command("verify_audit")


def test_an_empty_chain_is_intact():
    report = audit_chain_verify()
    assert report.intact and report.entries == 0 and report.head_hash == GENESIS_HASH


def test_an_edited_entry_is_found(tamper):
    _record(5)
    tamper.edit(3, after_json='{"index":99}')
    report = audit_chain_verify()
    assert not report.intact
    assert (report.problem.sequence, report.problem.kind) == (3, "edited")
    with pytest.raises(CommandError, match="broken at entry 3") as error:
        call_command("verify_audit")
    assert error.value.returncode == 1


def test_an_edit_that_also_rewrites_the_hash_breaks_the_next_link(tamper):
    entries = _record(4)
    entry = AuditEntry.objects.get(sequence=2)
    entry.actor_username = "someone-else"
    tamper.edit(2, actor_username="someone-else", hash=entry.compute_hash())
    report = audit_chain_verify()
    assert (report.problem.sequence, report.problem.kind) == (3, "broken_link")
    assert entries[2].previous_hash != entry.compute_hash()


def test_a_deleted_entry_is_found_as_a_gap(tamper):
    _record(5)
    tamper.delete(2)
    report = audit_chain_verify()
    assert (report.problem.sequence, report.problem.kind) == (2, "missing")
    assert "deleted" in report.problem.message


def test_deleting_the_newest_entries_is_found_by_the_head(tamper):
    _record(5)
    tamper.delete(5)
    tamper.delete(4)
    report = audit_chain_verify()
    assert (report.problem.sequence, report.problem.kind) == (4, "truncated")


def test_reordered_entries_are_found(tamper):
    _record(4)
    tamper.edit(2, sequence=100)
    tamper.edit(3, sequence=2)
    tamper.edit(100, sequence=3)
    report = audit_chain_verify()
    assert not report.intact and report.problem.sequence == 2


def test_the_orm_refuses_to_change_or_delete_entries():
    (entry,) = _record(1)
    entry.action = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test_action"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_postgresql_refuses_update_and_delete_in_sql():
    (entry,) = _record(1)
    for sql in ("UPDATE audit_auditentry SET action = 'x' WHERE id = %s", "DELETE FROM audit_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "test_action"


@pytest.mark.django_db(transaction=True)
def test_an_entry_outside_a_transaction_is_refused():
    with pytest.raises(AuditOutsideTransaction):
        audit_record(action="loose", object_type="allocation.round", object_id=1)


def test_a_rolled_back_change_leaves_no_entry(secretariat_officer):
    from allocation import services

    round_ = factories.RoundFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.round_close(round_=round_, user=secretariat_officer)
        raise RuntimeError("the change fails after the entry was written")
    assert not AuditEntry.objects.exists()
    assert AuditHead.objects.get(pk=1).sequence == 0
    services.round_close(round_=round_, user=secretariat_officer)
    assert list(AuditEntry.objects.values_list("sequence", "action")) == [(1, "round_close")]
    assert audit_chain_verify().intact


def test_an_entry_records_only_the_changed_fields_and_the_actor(ministry_officer_a, secretariat_officer):
    from allocation import services
    from allocation.models import RequestStatus

    request = factories.ComputeRequestFactory(ministry=ministry_officer_a.membership.organisation,
                                              status=RequestStatus.SUBMITTED)
    services.request_set_eligibility(user=secretariat_officer, request=request, eligible=False, note="Out of scope")
    entry = AuditEntry.objects.get(action="request_set_eligibility")
    assert entry.before == {"id": request.pk, "status": "submitted", "eligibility_note": "",
                            "updated_at": entry.before["updated_at"]}
    assert entry.after["status"] == "ineligible" and entry.after["eligibility_note"] == "Out of scope"
    assert (entry.actor_id, entry.actor_username, entry.actor_role) == (
        secretariat_officer.pk, "secretariat", "secretariat_officer")
    assert entry.actor_organisation == "Alliance Secretariat"
    assert (entry.object_type, entry.object_id, entry.member_state) == (
        "allocation.computerequest", str(request.pk), "KEN")
    assert entry.organisation_id == request.ministry_id and entry.round_id == request.round_id


def test_a_user_account_entry_never_holds_the_password(ministry_a):
    from members.services import person_create

    person_create(username="new-officer", password="a-long-passphrase-2026", organisation=ministry_a,
                  role="ministry_officer", email="new@example.org")
    entry = AuditEntry.objects.get(action="person_create")
    assert entry.after["username"] == "new-officer"
    assert "password" not in entry.after_json and "a-long-passphrase" not in entry.after_json
    assert entry.member_state == "KEN" and entry.organisation_id == ministry_a.pk


def test_solver_runs_are_recorded_with_scenario_and_output_hashes(small_round, eager_celery, secretariat_officer,
                                                                   django_capture_on_commit_callbacks):
    from allocation import scenario, services

    with django_capture_on_commit_callbacks(execute=True):
        run = services.round_enqueue_solve(round_=small_round, user=secretariat_officer)
    run.refresh_from_db()
    actions = list(AuditEntry.objects.filter(object_type="allocation.allocationrun", object_id=str(run.pk))
                   .values_list("action", flat=True))
    assert actions == ["round_solve", "run_start", "run_store"]
    solve = AuditEntry.objects.get(action="round_solve")
    assert solve.extra["scenario_sha256"] == run.scenario_sha256 == scenario.scenario_sha256(run.scenario)
    assert solve.extra["round_status"] == ["closed", "solving"]
    store = AuditEntry.objects.get(action="run_store")
    assert store.extra["output_sha256"] == hashlib.sha256(scenario.scenario_bytes(run.output)).hexdigest()
    assert store.extra["scenario_sha256"] == run.scenario_sha256
    assert store.after["status"] == "succeeded" and store.round_id == small_round.pk
    assert store.extra["results"] == 2
    assert audit_chain_verify().intact


def test_many_transactions_extend_one_chain():
    _record(30)
    sequences = list(AuditEntry.objects.values_list("sequence", flat=True))
    parents = list(AuditEntry.objects.values_list("previous_hash", flat=True))
    assert sequences == list(range(1, 31)) and len(set(parents)) == 30
    assert audit_chain_verify().intact


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a database with row locks and real concurrency")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    """Eight threads, each with its own connection, write 10 entries each at the same time: the head's row
    lock serialises them into one chain of 80 entries."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(8)
    failures = []

    def writer(worker):
        try:
            barrier.wait()
            for index in range(10):
                with transaction.atomic():
                    audit_record(action="concurrent", object_type="allocation.round", object_id=worker,
                                 after={"index": index})
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert list(AuditEntry.objects.values_list("sequence", flat=True)) == list(range(1, 81))
    assert audit_chain_verify().intact
