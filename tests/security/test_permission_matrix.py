"""The permission matrix: every URL pattern of the project, read and written by every role, against the
status in ``matrix_table.TABLE``; a role that may not write leaves every row of the database as it was.

A URL pattern missing from the table fails ``test_every_url_pattern_is_in_the_table``: a new page or
endpoint is added to the table with the status each role must get."""
import re

import pytest
from django.urls import reverse

from tests.security.matrix_probe import ROLES, request_as, url_patterns
from tests.security.matrix_table import NOBODY, TABLE

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")


def _callbacks():
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                yield (f"{namespace}:" if namespace else "") + (pattern.name or ""), pattern.callback

    return dict(walk(get_resolver().url_patterns))


def test_every_url_pattern_is_in_the_table():
    patterns = list(url_patterns())
    # the admin's unnamed patterns are redirects to its named ones, checked with the admin below
    unnamed = [route for route, name in patterns if (not name or name.endswith(":")) and not route.startswith("admin/")]
    names = {name for _, name in patterns if not name.startswith("admin:")}
    missing = sorted(names - set(TABLE))
    stale = sorted(set(TABLE) - names)
    assert not unnamed, f"name these URL patterns: {unnamed}"
    assert not missing, f"add these URL patterns to tests/security/matrix_table.py: {missing}"
    assert not stale, f"these entries of the table name no URL pattern: {stale}"


def test_every_write_method_a_view_supports_is_in_the_table():
    problems = []
    for name, callback in _callbacks().items():
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if name not in TABLE or view_class is None:
            continue
        supported = {method.upper() for method in WRITE_METHODS if hasattr(view_class, method)}
        supported -= {"DELETE"} if not hasattr(view_class, "delete") else set()
        missing = supported - set(TABLE[name].writes)
        if missing:
            problems.append(f"{name}: {sorted(missing)}")
    assert not problems, problems


def test_every_role_gets_the_expected_status_and_refused_writes_change_nothing(world):
    problems = []
    for name, row in TABLE.items():
        path = row.path(world)
        expected_read = row.read or NOBODY
        for role in ROLES:
            response, _ = request_as(world.users[role], "GET", path)
            if response.status_code != expected_read[role]:
                problems.append(f"GET {path} ({name}) as {role}: {response.status_code}, "
                                f"expected {expected_read[role]}")
        for method, (body, expected) in row.writes.items():
            allowed = row.changes if row.changes is not None else {
                role for role, code in expected.items() if 200 <= code < 300}
            for role in ROLES:
                response, changed = request_as(world.users[role], method, path, body(world) if body else None,
                                               watch=True)
                if response.status_code != expected[role]:
                    problems.append(f"{method} {path} ({name}) as {role}: {response.status_code}, "
                                    f"expected {expected[role]}: {response.content[:200]!r}")
                if changed and role not in allowed:
                    problems.append(f"{method} {path} ({name}) as {role} changed the database")
                # a page redirects after a success and after a refusal in a message alike: its writers are named
                succeeded = 200 <= expected[role] < 300 or row.changes is not None
                if role in allowed and succeeded and not changed and method != "GET":
                    problems.append(f"{method} {path} ({name}) as {role} succeeded but changed nothing")
    assert not problems, "\n".join(problems)


def _guess_paths(request_id):
    return [("GET", f"/api/requests/{request_id}/", None), ("PATCH", f"/api/requests/{request_id}/", {"title": "x"}),
            ("POST", f"/api/requests/{request_id}/submit/", None),
            ("POST", f"/api/requests/{request_id}/withdraw/", None),
            ("POST", f"/api/requests/{request_id}/accept/", None),
            ("POST", f"/api/requests/{request_id}/decline/", None),
            ("GET", f"/audit/allocation.computerequest/{request_id}/", None),
            ("GET", f"/api/audit/?object=allocation.computerequest:{request_id}", None)]


def test_guessing_ids_never_reaches_another_states_requests(world):
    """State B's officer tries every id of state A's requests on every request endpoint: 404 (the request is
    not said to exist), an empty history, and nothing changes."""
    from allocation.models import ComputeRequest

    ids = list(ComputeRequest.objects.filter(member_state=world.state_a).values_list("pk", flat=True))
    assert len(ids) >= 5
    officer_b = world.users["ministry_b"]
    for request_id in ids:
        for method, path, body in _guess_paths(request_id):
            response, changed = request_as(officer_b, method, path, body, watch=method != "GET")
            assert not changed, (method, path)
            if path.startswith("/api/audit/"):
                assert response.status_code == 200 and response.json()["results"] == [], path
            else:
                assert response.status_code == 404, (method, path, response.status_code)


def test_another_donor_or_provider_cannot_reach_an_organisations_pledge_or_offer(world):
    """Another donor (provider) passes each portal's role check, then finds none of the donor's pledges (the
    provider's offers and allocation lines): 404 on the API and on the pages alike, and nothing changes."""
    from members.models import OrganisationKind, Role
    from tests import factories

    pledge, line = world.published_pledge, world.line
    for kind, role, paths in (
        (OrganisationKind.DONOR, Role.DONOR_OFFICER,
         [("GET", f"/api/pledges/{world.pledge.pk}/"), ("POST", f"/api/pledges/{world.pledge.pk}/withdraw/"),
          ("GET", f"/donor/pledges/{pledge.pk}/"), ("GET", f"/donor/pledges/{pledge.pk}/statement.csv"),
          ("POST", f"/donor/pledges/{world.pledge.pk}/withdraw/")]),
        (OrganisationKind.PROVIDER, Role.PROVIDER_OFFICER,
         [("GET", f"/api/offers/{world.offer.pk}/"), ("POST", f"/api/offers/{world.offer.pk}/withdraw/"),
          ("POST", f"/provider/offers/{world.offer.pk}/withdraw/"), ("GET", f"/allocation-lines/{line.pk}/"),
          ("POST", f"/provider/lines/{line.pk}/confirm/"), ("GET", f"/provider/lines/{line.pk}/flag/"),
          ("POST", f"/provider/lines/{line.pk}/flag/")]),
    ):
        other = factories.MembershipFactory(organisation=factories.OrganisationFactory(kind=kind), role=role).user
        for method, path in paths:
            body = {"note": "Not ours to flag."} if path.endswith("/flag/") and method == "POST" else None
            response, changed = request_as(other, method, path, body, watch=True)
            assert response.status_code == 404 and not changed, (kind, method, path, response.status_code)
        listing, _ = request_as(other, "GET", paths[0][1].rsplit("/", 2)[0] + "/")
        assert listing.json()["results"] == []


def test_another_provider_confirms_none_of_the_providers_lines_and_another_reviewer_scores_nothing(world):
    from members.models import OrganisationKind, Role
    from tests import factories

    provider = factories.MembershipFactory(organisation=factories.OrganisationFactory(kind=OrganisationKind.PROVIDER),
                                           role=Role.PROVIDER_OFFICER).user
    lines, _ = request_as(provider, "GET", f"/provider/rounds/{world.published.pk}/lines/")
    assert lines.status_code == 200 and f'id="line-{world.line.pk}"' not in lines.content.decode()
    response, changed = request_as(provider, "POST", f"/provider/rounds/{world.published.pk}/lines/confirm-all/",
                                   watch=True)
    assert response.status_code == 302 and not changed

    reviewer = factories.MembershipFactory(organisation=world.reviewer.membership.organisation, role=Role.REVIEWER).user
    path = f"/reviews/requests/{world.eligible_a.pk}/"
    for method, body in (("GET", None), ("POST", {"score": "0.9"})):
        response, changed = request_as(reviewer, method, path, body, watch=True)
        assert response.status_code == 404 and not changed, (method, response.status_code)


def _admin_paths():
    for route, name in url_patterns():
        if not name.startswith("admin:") or name.endswith(":"):
            continue
        groups = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)
        kwargs = {}
        for group in groups:
            key = group[0] or group[1]
            kwargs[key] = "allocation" if key == "app_label" else "1"
        yield name, reverse(name, kwargs=kwargs)


def test_the_admin_is_closed_to_every_role_without_staff_status(world):
    problems = []
    for name, path in _admin_paths():
        for role in ROLES:
            response, _ = request_as(world.users[role], "GET", path)
            if name == "admin:login":
                ok = response.status_code == 200
            elif name == "admin:logout":  # GET signs nobody out: back to the admin's index (then its login)
                ok = response.status_code == 302 and response["Location"] == "/admin/"
            else:
                ok = response.status_code == 302 and response["Location"].startswith("/admin/login/")
            if not ok:
                problems.append(f"GET {path} ({name}) as {role}: {response.status_code}")
    assert not problems, "\n".join(problems)


def test_the_secretariats_staff_account_reads_the_admin_but_changes_nothing_there(world):
    from django.contrib.auth.models import Permission

    officer = world.users["secretariat"]
    officer.is_staff = True
    officer.save()
    officer.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=["members", "allocation", "audit"], codename__startswith="view_"))
    for path in ("/admin/", "/admin/allocation/round/", "/admin/audit/auditentry/",
                 f"/admin/allocation/computerequest/{world.draft_a.pk}/change/"):
        response, _ = request_as(officer, "GET", path)
        assert response.status_code == 200, path
    for method, path in (("GET", "/admin/audit/auditentry/add/"), ("GET", "/admin/allocation/round/add/"),
                         ("POST", "/admin/audit/auditentry/1/delete/"),
                         ("POST", f"/admin/allocation/computerequest/{world.draft_a.pk}/change/")):
        response, changed = request_as(officer, method, path, {} if method == "POST" else None, watch=True)
        assert response.status_code == 403 and not changed, (method, path, response.status_code)
