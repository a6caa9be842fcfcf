"""Schemathesis against /api/schema/: every operation of the API, called with generated valid and invalid
input, as the secretariat and as a ministry officer, never answers with a server error and always answers
in the shape its schema documents."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = 6  # per operation, each called as both roles: the whole API in a couple of minutes


@pytest.fixture
def wsgi_app(db):
    """The real WSGI application on the test's database connection: like Django's test client, keep the
    end of each request from closing the connection (it holds the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from alliance.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, small_round, secretariat_officer, ministry_officer_a, eager_celery):
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)


@pytest.fixture
def tokens(secretariat_officer, ministry_officer_a):
    from rest_framework.authtoken.models import Token

    return {role: Token.objects.get_or_create(user=user)[0].key
            for role, user in (("secretariat", secretariat_officer), ("ministry", ministry_officer_a))}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_never_errs_and_matches_its_schema(case, tokens):
    from django.core.cache import cache

    cache.clear()  # throttling is tested on its own; here every generated call is answered
    for token in tokens.values():
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
