"""The schema and its two documentation pages, token authentication and the API's error shapes."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_3(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/requests/{request_id}/submit/" in schema["paths"]
    assert schema["paths"]["/api/auth/token/"]["post"]["operationId"] == "auth_token_create"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_documentation_pages_load_only_local_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"https?://", html), "the page must not reference a CDN"
    scripts = re.findall(r'src="([^"]+)"', html)
    # Swagger UI's start-up script comes from the page's own address (?script=): no inline script (CSP)
    assets = [src for src in scripts if not src.startswith(f"{path}?") or "script=" not in src]
    assert assets and all(src.startswith("/static/drf_spectacular_sidecar/") for src in assets)
    assert "<script>" not in html, "inline scripts are refused by the Content-Security-Policy"
    for src in assets:
        name = src.removeprefix(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/")
        served = finders.find(name) or (Path(settings.STATIC_ROOT) / name).is_file()  # hashed by the manifest
        assert served, f"{src} is not served by this project"


def test_token_endpoint_exchanges_credentials_for_a_token_that_authenticates(api_client, donor_officer):
    response = api_client.post("/api/auth/token/", {"username": "donor", "password": "correct-horse-battery-staple"},
                               format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=donor_officer).key == token

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/organisations/").status_code == 200


def test_token_endpoint_refuses_a_wrong_password(api_client, donor_officer):
    response = api_client.post("/api/auth/token/", {"username": "donor", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Token.objects.exists()


def test_a_bad_token_is_refused(api_client, donor_officer):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = api_client.get("/api/pledges/")
    assert response.status_code in (401, 403)
    assert "message" in response.json()


def test_unknown_paths_and_non_numeric_ids_are_json_404s(api_client):
    for path in ("/api/requests/abc/", "/api/rounds/1x/close/", "/api/no-such-thing/"):
        response = api_client.get(path)
        assert response.status_code == 404, path
        assert "message" in response.json()


def test_malformed_json_is_a_400_with_a_message(api_for, donor_officer):
    response = api_for(donor_officer).post("/api/pledges/", data='{"round": 1,', content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


def test_a_path_without_its_final_slash_is_redirected_keeping_the_method(api_for, secretariat_officer, open_round):
    api = api_for(secretariat_officer)
    response = api.post(f"/api/rounds/{open_round.pk}/close?x=1")
    assert response.status_code == 308
    assert response["Location"] == f"/api/rounds/{open_round.pk}/close/?x=1"
    assert api.get("/api/member-states").status_code == 308
    assert api.get("/api/requests/abc").status_code == 404
    open_round.refresh_from_db()
    assert open_round.status == "open"


def test_every_read_renders_in_the_browsable_api(api_for, secretariat_officer, published_world):
    api = api_for(secretariat_officer)
    round_id, run_id = published_world["published"].pk, published_world["published_run"].pk
    paths = ["/api/member-states/", "/api/organisations/", "/api/hardware/", "/api/calls/", "/api/rounds/",
             f"/api/rounds/{round_id}/", f"/api/rounds/{round_id}/runs/", f"/api/runs/{run_id}/", "/api/pledges/",
             "/api/offers/", "/api/requests/", f"/api/requests/{published_world['req_a'].pk}/", "/api/reviews/",
             "/api/published/allocations/", "/api/published/summary/"]
    for path in paths:
        response = api.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
