"""The site-wide pages: home, public dashboard, sign in and out, error pages, languages."""
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from allocation.models import RoundStatus
from tests import factories
from tests.alliance.conftest import decide, published_round, request_in, run_of

pytestmark = pytest.mark.django_db


PASSWORD = "correct-horse-battery-staple"  # the factories' password
AREA_TITLES = {
    "ministry": "Ministry officers",
    "donor": "Donor officers",
    "provider": "Provider officers",
    "secretariat": "Secretariat and reviewers",
    "public": "Everyone",
}


def text(response) -> str:
    return response.content.decode()


# --- Home ---------------------------------------------------------------------------------------------


def test_home_for_the_public_explains_the_alliance_and_every_area(client):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    body = text(response)
    assert "Shared computing power for research in the public interest" in body
    for title in AREA_TITLES.values():
        assert title in body
    assert "Your area" not in body
    assert response.context["current_area"] is None
    assert f'href="{reverse("login")}"' in body
    assert 'href="/admin/"' in body  # the secretariat's area, for now
    assert 'href="/dashboard/"' in body


@pytest.mark.parametrize(
    ("person", "area"),
    [
        ("ministry_officer_a", "ministry"),
        ("donor_officer", "donor"),
        ("provider_officer", "provider"),
        ("secretariat_officer", "secretariat"),
        ("reviewer", "secretariat"),
    ],
)
def test_home_highlights_the_signed_in_persons_own_area(request, client_for, person, area):
    user = request.getfixturevalue(person)

    response = client_for(user).get(reverse("home"))

    assert response.status_code == 200
    body = text(response)
    assert response.context["current_area"] == area
    assert f'id="area-{area}" class="role role--current"' in body
    assert body.count("role--current") == 1
    assert body.count("Your area") == 1
    assert AREA_TITLES[area] in body
    # The header names the person's organisation and role, and offers to sign out by POST.
    assert user.membership.organisation.name in body
    assert user.membership.get_role_display() in body
    assert f'<form method="post" action="{reverse("logout")}"' in body


def test_home_shows_live_figures(client, state_a, state_b):
    round_ = factories.RoundFactory(status=RoundStatus.OPEN, title="Spring round")
    factories.CapacityLotFactory(pledge__round=round_, gpu_hours=Decimal("12500"))
    factories.ComputeRequestFactory(round=round_, ministry__member_state=state_a, status="submitted")

    response = client.get(reverse("home"))

    figures = response.context["figures"]
    assert (figures["member_states"], figures["requests_submitted"], figures["published_allocations"]) == (2, 1, 0)
    body = text(response)
    assert "12,500" in body  # H100-equivalent hours pledged in the open round
    assert "Spring round" in body


def test_home_tells_a_person_without_membership_to_ask_the_secretariat(client_for):
    response = client_for(factories.UserFactory(username="loner")).get(reverse("home"))

    assert response.status_code == 200
    assert "not yet attached to an organisation" in text(response)


def test_admin_link_only_for_staff(client_for, secretariat_officer, ministry_officer_a):
    assert 'href="/admin/">Admin<' not in text(client_for(ministry_officer_a).get(reverse("home")))
    secretariat_officer.is_staff = True
    secretariat_officer.save()
    assert 'href="/admin/">Admin<' in text(client_for(secretariat_officer).get(reverse("home")))


# --- Dashboard ----------------------------------------------------------------------------------------


def test_dashboard_with_no_data_shows_the_empty_state(client):
    response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    body = text(response)
    assert "Nothing has been published yet" in body
    assert "<svg" not in body


def test_dashboard_keeps_pledges_of_rounds_not_yet_published_off(client):
    factories.CapacityLotFactory(gpu_hours=Decimal("4000"), region="SAS")

    response = client.get(reverse("dashboard"))

    body = text(response)
    assert response.status_code == 200
    assert "Nothing has been published yet" in body
    assert "4,000" not in body


@pytest.fixture
def first_round(state_a, hardware):
    """A published round: Kenya (LMIC) got 600 of 800 h100e-hours, Chile (HIC) 200 of 800."""
    h100, b200 = hardware
    round_ = published_round(title="First round")
    lot = factories.CapacityLotFactory(pledge__round=round_, hardware=h100, gpu_hours=Decimal("1000"))
    factories.CapacityLotFactory(pledge__round=round_, hardware=b200, gpu_hours=Decimal("500"), region="EAP")
    rich = factories.MemberStateFactory(iso3="CHL", name="Chile", region="LAC", income_group="HIC")
    run = run_of(round_)
    decide(run, request_in(round_, state_a, "800", status="allocated"), [(lot, 600)])
    decide(run, request_in(round_, rich, "800", status="allocated"), [(lot, 200)])
    return round_


def test_dashboard_shows_published_figures_as_text_and_accessible_charts(client, first_round):
    response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    body = text(response)
    assert "2,137" in body  # 1,000 x 1.0 + 500 x 2.274
    assert "800" in body  # allocated
    assert "75.0" in body  # 600 of 800 reached an LMIC state
    assert "First round" in body
    assert reverse("round-detail", args=[first_round.pk]) in body
    # Six charts, each an image with a title and description, and its values in a table.
    assert body.count('role="img"') == 6
    assert body.count("<title id=") == 6
    assert body.count("<desc id=") == 6
    assert body.count('<div class="visually-hidden">') == 6
    assert body.count("<table>") == 6  # the charts' values as tables, for screen readers
    assert "Lower-middle income" in body and "High income" in body
    # The region map: a focusable link with a title for each of the seven regions, and its table.
    assert body.count('class="region-map__region"') == 7
    assert f'href="{reverse("awards")}?region=SSA"' in body
    assert "The map's figures, region by region" in body


def test_dashboard_round_filter_shows_one_round(client, first_round, state_b, hardware):
    other = published_round(title="Second round")
    lot = factories.CapacityLotFactory(pledge__round=other, hardware=hardware[0], gpu_hours=Decimal("333"))
    decide(run_of(other), request_in(other, state_b, "444"), [(lot, 333)])

    every = client.get(reverse("dashboard"))
    one = client.get(reverse("dashboard"), {"round": other.pk})

    assert every.context["allocations"]["allocated_h100e_hours"] == Decimal("1133")
    assert one.status_code == 200
    assert one.context["round_id"] == other.pk
    assert one.context["allocations"]["allocated_h100e_hours"] == Decimal("333")
    assert "Figures of Second round." in text(one)
    assert f'<option value="{other.pk}" selected>' in text(one)


def test_dashboard_refuses_an_unpublished_round_and_says_so(client, first_round, unpublished_decision):
    response = client.get(reverse("dashboard"), {"round": unpublished_decision.pk})

    assert response.status_code == 200
    body = text(response)
    assert "Choose one of the published rounds, or all of them." in body
    assert 'aria-invalid="true"' in body
    assert response.context["round_id"] is None  # every published round instead
    assert "Secret round" not in body and "6,543" not in body


def test_chart_geometry_is_never_localised(client, settings, first_round):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    body = text(client.get(reverse("dashboard")))

    # Pledged by hardware: B200 1,137 and H100 1,000 h100e-hours: 100% and 87.95%.
    widths = re.findall(r'<rect class="chart__bar" x="[^"]*" y="\d+" width="([^"]+)"', body)
    assert "100.00%" in widths and "87.95%" in widths


def test_dashboard_in_arabic_is_right_to_left_and_mirrors_the_bars(client, first_round):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    body = text(client.get(reverse("dashboard")))

    assert '<html lang="ar" dir="rtl">' in body
    assert '<rect class="chart__bar" x="12.05%"' in body  # 1,000 of 1,137, drawn from the right edge


# --- Layout, languages, assets ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["home", "dashboard", "login"])
def test_pages_share_an_accessible_layout(client, name):
    body = text(client.get(reverse(name)))

    assert '<html lang="en" dir="ltr">' in body
    assert '<a class="skip-link" href="#main">' in body
    assert '<main id="main"' in body
    assert '<nav class="site-nav" aria-label="Main">' in body
    assert "<footer" in body and "CC BY 4.0" in body and 'href="/api/schema/"' in body
    assert f'action="{reverse("set_language")}"' in body
    assert '<label for="language-select"' in body
    # Everything comes from our own static files: no CDN.
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', body)


def test_language_switcher_sets_the_language(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/dashboard/"})

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert '<html lang="fr" dir="ltr">' in text(client.get(reverse("home")))


def test_unknown_page_renders_the_404_template(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    body = text(response)
    assert "Page not found" in body
    assert '<a class="skip-link"' in body


def test_500_template_renders_without_a_request_context():
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert "css/site." in body  # css/site.css, or its hashed name in production
    assert "language-select" not in body  # the switcher needs a CSRF token this page cannot have


# --- Sign in and out ----------------------------------------------------------------------------------


def test_login_page_has_labelled_fields(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    body = text(response)
    assert '<label for="id_username">' in body
    assert '<label for="id_password">' in body
    assert 'autocomplete="current-password"' in body


def test_login_with_good_credentials_redirects_home(client, ministry_officer_a):
    response = client.post(reverse("login"), {"username": "officer_a", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(ministry_officer_a.pk)


def test_login_follows_next(client, ministry_officer_a):
    response = client.post(reverse("login"), {"username": "officer_a", "password": PASSWORD, "next": "/dashboard/"})

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_login_with_bad_credentials_shows_an_error(client, ministry_officer_a):
    response = client.post(reverse("login"), {"username": "officer_a", "password": "wrong"})

    assert response.status_code == 200
    body = text(response)
    assert 'role="alert"' in body
    assert "Please enter a correct username and password" in body
    assert "_auth_user_id" not in client.session


def test_logout_by_post(client_for, donor_officer):
    client = client_for(donor_officer)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "_auth_user_id" not in client.session
    assert "Sign in" in text(client.get(reverse("home")))


def test_logout_refuses_get(client_for, donor_officer):
    client = client_for(donor_officer)

    assert client.get(reverse("logout")).status_code == 405
    assert client.session["_auth_user_id"] == str(donor_officer.pk)


@pytest.mark.django_db
def test_a_page_of_another_role_answers_with_the_sites_own_403_page(client_for, ministry_officer_a):
    response = client_for(ministry_officer_a).get("/donor/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "Not allowed" in page
    assert "Only a donor officer may open this page." in page
    assert 'href="/"' in page and '<html lang="en" dir="ltr">' in page
