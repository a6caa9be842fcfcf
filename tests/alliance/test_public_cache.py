"""The public pages and the open-data API are served from the cache until what they show changes, each
visitor keeps a CSRF token of their own, signed-in people never get the public copy, and a cache that is
down is only a cache miss."""
import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def solved_round(small_round, django_capture_on_commit_callbacks, monkeypatch):
    """``small_round`` solved in-process, its run approved: one step from publication."""
    from allocation import services
    from allocation.tasks import solve_round_task

    monkeypatch.setattr(solve_round_task, "delay", lambda run_id: None)
    run = services.round_enqueue_solve(round_=small_round)
    services.run_execute(run_id=run.id)
    services.run_approve(run=run)
    return small_round


def publish(round_, capture):
    from allocation import services

    with capture(execute=True):  # the cache is invalidated once the publication commits
        services.round_publish(round_=round_)


def test_dashboard_is_served_from_the_cache_until_a_round_is_published(
    client, solved_round, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first = client.get("/dashboard/")
    assert first.status_code == 200

    with django_assert_num_queries(0):
        again = Client().get("/dashboard/")
    assert again.status_code == 200

    publish(solved_round, django_capture_on_commit_callbacks)
    fresh = Client().get("/dashboard/")
    assert fresh.status_code == 200
    assert solved_round.title in fresh.content.decode()  # the published round's row is there now
    assert solved_round.title not in first.content.decode()


def test_each_visitor_of_a_cached_page_gets_a_csrf_token_of_their_own(client):
    client.get("/dashboard/")  # fills the cache
    visitors = [Client(enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for visitor in visitors:
        page = visitor.get("/dashboard/")
        assert page.status_code == 200
        assert "\x00" not in page.content.decode()
        assert "Cookie" in page["Vary"]
        tokens.append(TOKEN.search(page.content.decode()).group(1))
        assert visitor.cookies["csrftoken"].value
    assert tokens[0] != tokens[1]
    assert visitors[0].cookies["csrftoken"].value != visitors[1].cookies["csrftoken"].value

    # The language form of the cached page works for each visitor with their own token...
    for visitor, token in zip(visitors, tokens, strict=True):
        answer = visitor.post("/i18n/setlang/", {"language": "fr", "next": "/dashboard/", "csrfmiddlewaretoken": token})
        assert answer.status_code == 302
    # ...and not with another visitor's cookie.
    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/")
    answer = stranger.post("/i18n/setlang/", {"language": "fr", "csrfmiddlewaretoken": tokens[0]})
    assert answer.status_code == 403


def test_each_language_has_its_own_cached_page(client):
    english = client.get("/dashboard/").content.decode()
    arabic = Client(headers={"accept-language": "ar"}).get("/dashboard/").content.decode()
    assert 'lang="en"' in english
    assert 'lang="ar"' in arabic and 'dir="rtl"' in arabic
    assert 'lang="ar"' in Client(headers={"accept-language": "ar"}).get("/dashboard/").content.decode()


def test_a_signed_in_person_never_gets_the_public_copy(client, client_for, secretariat_officer):
    public = Client().get("/")
    assert "Sign in" in public.content.decode()

    page = client_for(secretariat_officer).get("/")
    assert page.status_code == 200
    assert "Sign out" in page.content.decode()
    assert "Sign in" not in page.content.decode()


def test_open_data_is_served_from_the_cache_until_a_round_is_published(
    client, solved_round, django_assert_num_queries, django_capture_on_commit_callbacks
):
    empty = client.get("/api/published/summary/")
    assert empty.status_code == 200
    assert empty.json()["totals"]["lines"] == 0
    with django_assert_num_queries(0):
        again = Client().get("/api/published/summary/")
    assert again.json() == empty.json()
    assert again["Content-Type"] == "application/json"

    publish(solved_round, django_capture_on_commit_callbacks)
    summary = Client().get("/api/published/summary/").json()
    assert summary["totals"]["lines"] == 2
    assert float(summary["totals"]["gpu_hours"]) == pytest.approx(1000, abs=0.01)
    lines = Client().get("/api/published/allocations/?page_size=1").json()
    assert lines["count"] == 2
    assert len(lines["results"]) == 1


def test_open_data_queries_are_cached_separately(client, solved_round, django_capture_on_commit_callbacks):
    publish(solved_round, django_capture_on_commit_callbacks)
    one = client.get("/api/published/allocations/?page_size=1").json()
    two = client.get("/api/published/allocations/?page_size=2").json()
    assert len(one["results"]) == 1
    assert len(two["results"]) == 2
    bad = client.get("/api/published/allocations/?round=abc")
    assert bad.status_code == 400  # errors are answered, never cached as a success
    assert client.get("/api/published/allocations/?round=abc").status_code == 400


def test_browsable_api_pages_are_not_cached(client):
    html = client.get("/api/published/summary/", headers={"accept": "text/html"})
    assert html.status_code == 200
    assert html["Content-Type"].startswith("text/html")
    again = Client().get("/api/published/summary/", headers={"accept": "text/html"})
    assert again["Content-Type"].startswith("text/html")
    assert client.get("/api/published/summary/")["Content-Type"] == "application/json"


def test_pages_and_open_data_serve_when_the_cache_is_down(client, settings):
    """Redis unreachable (a closed port): every read is a miss, nothing fails."""
    settings.CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }}
    for path in ("/", "/dashboard/", "/api/published/summary/", "/api/published/allocations/"):
        assert Client().get(path).status_code == 200, path


def test_the_dashboard_figures_are_computed_once_for_every_language(
    client, solved_round, django_capture_on_commit_callbacks, monkeypatch
):
    from alliance import selectors

    publish(solved_round, django_capture_on_commit_callbacks)
    calls = []
    real = selectors.dashboard_figures
    monkeypatch.setattr(selectors, "dashboard_figures", lambda **kw: calls.append(kw) or real(**kw))
    pages = [Client(headers={"accept-language": code}).get("/dashboard/") for code in ("en", "fr", "ar")]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert calls == [{"round_id": None}]
    assert solved_round.title in pages[2].content.decode()
    assert 'lang="fr"' in pages[1].content.decode()


def test_a_change_queues_the_warming_of_the_figures_and_the_task_computes_them(
    client, solved_round, django_capture_on_commit_callbacks, monkeypatch, settings
):
    """With a real broker, each change queues (at most every few seconds) a task that computes the figures
    of the new version: the first visitor after the change finds them ready."""
    from alliance import selectors, tasks
    from allocation.api import published

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.GACP = {**settings.GACP, "WARM_PUBLIC_FIGURES": True}
    queued = []
    monkeypatch.setattr(tasks.warm_public_figures, "apply_async", lambda **kw: queued.append(kw))
    publish(solved_round, django_capture_on_commit_callbacks)
    assert queued == [{"retry": False}]

    tasks.warm_public_figures()
    monkeypatch.setattr(selectors, "dashboard_figures", lambda **kw: pytest.fail("computed again"))
    monkeypatch.setattr(published, "published_summary", lambda lines: pytest.fail("computed again"))
    page = Client().get("/dashboard/")
    assert page.status_code == 200 and solved_round.title in page.content.decode()
    summary = Client().get("/api/published/summary/", headers={"accept": "application/json"})
    assert summary.status_code == 200 and summary.json()["totals"]


def test_a_broker_that_is_down_only_skips_the_warming(solved_round, django_capture_on_commit_callbacks, monkeypatch,
                                                       settings):
    from alliance import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.GACP = {**settings.GACP, "WARM_PUBLIC_FIGURES": True}

    def down(**kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.warm_public_figures, "apply_async", down)
    publish(solved_round, django_capture_on_commit_callbacks)  # no error: the publication stands
    solved_round.refresh_from_db()
    assert solved_round.status == "published"
    assert Client().get("/dashboard/").status_code == 200
