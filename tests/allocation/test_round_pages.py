"""The round page: who sees it, the solve button, and the progress the worker reports."""
import pytest

from allocation.models import AllocationRun, RoundStatus

pytestmark = pytest.mark.django_db


def test_public_cannot_see_a_round_before_it_is_published(client, small_round):
    assert client.get(f"/rounds/{small_round.pk}/").status_code == 404


def test_secretariat_sees_the_solve_button_of_a_closed_round(client_for, secretariat_officer, small_round):
    response = client_for(secretariat_officer).get(f"/rounds/{small_round.pk}/")
    assert response.status_code == 200
    assert f'action="/rounds/{small_round.pk}/solve/"' in response.content.decode()


def test_secretariat_starts_a_solve_and_follows_its_progress(client_for, secretariat_officer, small_round,
                                                            django_capture_on_commit_callbacks):
    client = client_for(secretariat_officer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/rounds/{small_round.pk}/solve/")
    assert response.status_code == 302
    assert len(callbacks) == 1  # the task is enqueued once the transaction commits
    run = AllocationRun.objects.get(round=small_round)
    small_round.refresh_from_db()
    assert small_round.status == RoundStatus.SOLVING
    AllocationRun.objects.filter(pk=run.pk).update(status="running", progress={"levels": 3, "frozen": 1, "active": 1})
    page = client.get(f"/rounds/{small_round.pk}/").content.decode()
    assert f'data-progress-url="/runs/{run.pk}/progress/"' in page
    progress = client.get(f"/runs/{run.pk}/progress/").json()
    assert progress == {"id": run.pk, "status": "running", "status_label": "Running", "levels": 3, "frozen": 1,
                        "active": 1, "state": "running", "error": "", "solve_seconds": None}


def test_ministry_cannot_start_a_solve(client_for, ministry_officer_a, small_round):
    response = client_for(ministry_officer_a).post(f"/rounds/{small_round.pk}/solve/", follow=True)
    assert "Only the secretariat may do this." in response.content.decode()
    assert AllocationRun.objects.count() == 0
    small_round.refresh_from_db()
    assert small_round.status == RoundStatus.CLOSED


def test_public_cannot_read_the_progress_of_an_unpublished_run(client, client_for, secretariat_officer, small_round,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        client_for(secretariat_officer).post(f"/rounds/{small_round.pk}/solve/")
    run = AllocationRun.objects.get()
    client.logout()
    assert client.get(f"/runs/{run.pk}/progress/").status_code == 404
    assert client.get("/runs/999999/progress/").status_code == 404
