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
def api_schema(db, small_round, secretariat_officer, ministry_officer_a, eager_celery):
    from alliance.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


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
