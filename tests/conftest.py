"""The fixed cast every test can draw on: a ministry officer of state A and one of state B, a donor
officer, a provider officer, a secretariat officer, a reviewer, and the anonymous public."""
import pytest

# Django-dependent imports stay inside the fixtures, so tests/allocation/solver runs without Django.


@pytest.fixture
def state_a(db):
    from tests import factories

    return factories.MemberStateFactory(iso3="KEN", name="Kenya", region="SSA", income_group="LMIC",
                                        cofinancing_phase="accelerated", years_in_phase=4)


@pytest.fixture
def state_b(db):
    from tests import factories

    return factories.MemberStateFactory(iso3="NPL", name="Nepal", region="SAS", income_group="LMIC",
                                        cofinancing_phase="preparatory", years_in_phase=2)


def _person(username, organisation, role):
    from tests import factories

    return factories.MembershipFactory(
        user=factories.UserFactory(username=username), organisation=organisation, role=role
    ).user


@pytest.fixture
def ministry_a(state_a):
    from tests import factories

    return factories.MinistryFactory(member_state=state_a, name="Ministry of ICT, Kenya")


@pytest.fixture
def ministry_b(state_b):
    from tests import factories

    return factories.MinistryFactory(member_state=state_b, name="Ministry of Communication, Nepal")


@pytest.fixture
def donor_org(db):
    from members.models import OrganisationKind
    from tests import factories

    return factories.OrganisationFactory(name="Donor Agency", kind=OrganisationKind.DONOR)


@pytest.fixture
def provider_org(db):
    from members.models import OrganisationKind
    from tests import factories

    return factories.OrganisationFactory(name="Provider Cloud", kind=OrganisationKind.PROVIDER)


@pytest.fixture
def secretariat_org(db):
    from members.models import OrganisationKind
    from tests import factories

    return factories.OrganisationFactory(name="Alliance Secretariat", kind=OrganisationKind.SECRETARIAT)


@pytest.fixture
def ministry_officer_a(ministry_a):
    from members.models import Role

    return _person("officer_a", ministry_a, Role.MINISTRY_OFFICER)


@pytest.fixture
def ministry_officer_b(ministry_b):
    from members.models import Role

    return _person("officer_b", ministry_b, Role.MINISTRY_OFFICER)


@pytest.fixture
def donor_officer(donor_org):
    from members.models import Role

    return _person("donor", donor_org, Role.DONOR_OFFICER)


@pytest.fixture
def provider_officer(provider_org):
    from members.models import Role

    return _person("provider", provider_org, Role.PROVIDER_OFFICER)


@pytest.fixture
def secretariat_officer(secretariat_org):
    from members.models import Role

    return _person("secretariat", secretariat_org, Role.SECRETARIAT_OFFICER)


@pytest.fixture
def reviewer(secretariat_org):
    from members.models import Role

    return _person("reviewer", secretariat_org, Role.REVIEWER)


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def client_for(client):
    """A Django test client logged in as the given user: ``client_for(user)``."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    """An API client authenticated as the given user: ``api_for(user)``."""

    from rest_framework.test import APIClient

    def login(user):
        api = APIClient()
        api.force_authenticate(user)
        return api

    return login


@pytest.fixture
def eager_celery():
    """Run Celery tasks in-process for this test, whatever broker the settings name."""
    from alliance.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture
def small_round(db, donor_org, provider_org, ministry_a, ministry_b, reviewer):
    """A closed round ready to solve, with numbers simple enough to check by hand.

    One donated lot: 1,000 GPU-hours of H100 (h100e 1.0) in SSA worth US$2.40 an hour. Kenya asks for
    900 h100e-hours (score 0.8) and Nepal for 600 (score 0.8); both LMIC, same sector and bonuses,
    so equal weights and the same fulfilment: 1000 / 1500 = 2/3 each (600 and 400 h100e-hours)."""
    from decimal import Decimal

    from allocation.models import RequestStatus, RoundStatus
    from tests import factories

    round_ = factories.RoundFactory(status=RoundStatus.CLOSED)
    h100 = factories.HardwareTypeFactory()
    pledge = factories.PledgeFactory(donor=donor_org, round=round_)
    factories.CapacityLotFactory(pledge=pledge, provider=provider_org, hardware=h100, gpu_hours=Decimal("1000"))
    requests = []
    for ministry, hours in ((ministry_a, "900"), (ministry_b, "600")):
        request = factories.ComputeRequestFactory(
            round=round_, ministry=ministry, h100e_hours=Decimal(hours), status=RequestStatus.SCORED,
            score=Decimal("0.800"), acceptable_hardware=[h100],
        )
        factories.ReviewFactory(request=request, reviewer=reviewer, score=Decimal("0.800"))
        requests.append(request)
    round_.test_requests = requests
    return round_


def pytest_configure(config):
    """Hash the cast's passwords quickly: the production hasher is deliberately slow."""
    if config.pluginmanager.hasplugin("django"):
        from django.conf import settings

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        # Workers of the integration tests would otherwise compute figures while tests tear down their data.
        settings.GACP["WARM_PUBLIC_FIGURES"] = False


@pytest.fixture(autouse=True)
def _fresh_public_cache():
    """Every test starts with no cached public page or open data (they are keyed by a version that
    services bump; data made by factories would otherwise meet a page cached by an earlier test)."""
    from django.conf import settings

    if settings.configured:
        from alliance.cache import public_version_bump

        public_version_bump()
    yield


def services_unavailable(reason: str):
    """Skip a test whose services (PostgreSQL, Redis) are absent; in CI (``CI=true``) fail it instead."""
    import os

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL and Redis are required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres(transactional_db):
    """A test on PostgreSQL with real commits (row locks, concurrent transactions); skipped elsewhere."""
    from django.db import connection

    if connection.vendor != "postgresql":
        services_unavailable("DATABASE_URL does not point to PostgreSQL")
    return connection


@pytest.fixture
def no_dispatch(monkeypatch):
    """Solves are frozen and committed but not sent to a queue: the ids that would have been sent are
    recorded (and a worker of another test can never pick them up)."""
    from allocation.tasks import solve_round_task

    sent: list[int] = []
    monkeypatch.setattr(solve_round_task, "delay", lambda run_id: sent.append(run_id))
    return sent

# --- Donor and provider portals ------------------------------------------------------------------


def _solve_and_approve(round_, captured):
    """Solve a closed round in-process (the test's transaction never commits: run its on-commit enqueue),
    then approve the run."""
    from alliance.celery import app
    from allocation import services

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with captured(execute=True):
            run = services.round_enqueue_solve(round_=round_)
    finally:
        app.conf.task_always_eager = previous
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return services.run_approve(run=run)


@pytest.fixture
def cash_round(db, donor_org, provider_org, ministry_a, reviewer, django_capture_on_commit_callbacks):
    """A round whose only capacity is bought with pooled cash, solved, approved and published.

    The provider offers 500 GPU-hours of H100 at US$2.00; two donors pledge US$600 (``donor_org``) and US$400
    (another donor): a pool of US$1,000. Kenya asks for 300 h100e-hours, so the pool buys 300 GPU-hours for
    US$600; ``donor_org`` paid 60 % of it: US$360 for 180 GPU-hours, and US$240 of its pledge remains."""
    from decimal import Decimal

    from allocation import services
    from allocation.models import Pledge, RequestStatus, RoundStatus
    from members.models import OrganisationKind
    from tests import factories

    round_ = factories.RoundFactory(status=RoundStatus.CLOSED)
    h100 = factories.HardwareTypeFactory()
    offer = factories.OfferFactory(provider=provider_org, round=round_)
    factories.CapacityLotFactory(pledge=None, offer=offer, provider=provider_org, hardware=h100,
                                 gpu_hours=Decimal("500"), price_usd_per_gpu_hour=Decimal("2.00"),
                                 value_usd_per_gpu_hour=Decimal("2.00"))
    other_donor = factories.OrganisationFactory(name="Second Donor", kind=OrganisationKind.DONOR)
    pledge = factories.PledgeFactory(donor=donor_org, round=round_, kind=Pledge.Kind.CASH, cash_usd=Decimal("600"))
    factories.PledgeFactory(donor=other_donor, round=round_, kind=Pledge.Kind.CASH, cash_usd=Decimal("400"))
    request = factories.ComputeRequestFactory(
        round=round_, ministry=ministry_a, h100e_hours=Decimal("300"), status=RequestStatus.SCORED,
        score=Decimal("0.800"), acceptable_hardware=[h100],
    )
    factories.ReviewFactory(request=request, reviewer=reviewer, score=Decimal("0.800"))
    run = _solve_and_approve(round_, django_capture_on_commit_callbacks)
    services.round_publish(round_=round_)
    round_.refresh_from_db()
    round_.test_run, round_.test_pledge, round_.test_request = run, pledge, request
    return round_


@pytest.fixture
def published_small_round(small_round, secretariat_officer, eager_celery, django_capture_on_commit_callbacks):
    """``small_round`` solved, approved and published: Kenya's request allocated 600 h100e-hours and Nepal's
    400 (both stopped by the one full lot); Kenya (accelerated, 4 years: share 0.6) owes 0.6 x 600 x US$2.40
    = US$864.00, Nepal (preparatory, 2 years: share 0.05 x 1.15^2 = 0.066125) US$63.48."""
    from allocation import services

    with django_capture_on_commit_callbacks(execute=True):
        run = services.round_enqueue_solve(round_=small_round, user=secretariat_officer)
    run.refresh_from_db()
    services.run_approve(run=run, user=secretariat_officer)
    services.round_publish(round_=small_round, user=secretariat_officer)
    small_round.refresh_from_db()
    for request in small_round.test_requests:
        request.refresh_from_db()
    small_round.test_run = run
    return small_round
