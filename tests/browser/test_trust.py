"""Trust in a real browser: the audit trail's pages and the chain's status, the Content-Security-Policy
(a page whose script or style it blocked would log an error, which fails the test), and the sign-in lockout."""
import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)


def test_secretariat_reads_the_audit_trail_and_one_objects_history(visit, demo_alliance):
    from django.contrib.auth import get_user_model

    from allocation.models import ComputeRequest
    from audit.models import AuditEntry

    secretariat = get_user_model().objects.get(username="secretariat")
    request = ComputeRequest.objects.filter(member_state__iso3="KEN").order_by("id").first()
    visit.sign_in_as(secretariat)
    visit.go("/audit/")
    page = visit.page
    assert page.get_by_role("heading", level=1, name="Audit trail").is_visible()
    newest = AuditEntry.objects.order_by("-sequence").first()
    assert page.locator("tbody tr").first.locator("td").first.inner_text().replace(",", "") == str(newest.sequence)
    visit.screenshot("audit-list-en")
    visit.page.screenshot(path=str(ARTIFACTS / "audit-list-top-en.png"))  # the first screen, as a person sees it

    page.get_by_label("Object type").select_option("allocation.computerequest")
    page.get_by_label("Object id").fill(str(request.pk))
    page.get_by_role("button", name="Show entries").click()
    page.wait_for_url(lambda url: "object_id=" in url)
    actions = page.locator("tbody td code").all_inner_texts()
    assert "request_create" in actions and "request_submit" in actions
    page.get_by_role("link", name=f"allocation.computerequest:{request.pk}").first.click()
    page.wait_for_url(lambda url: f"/audit/allocation.computerequest/{request.pk}/" in url)
    assert page.get_by_role("heading", level=1).inner_text().endswith(str(request.pk))
    visit.screenshot("audit-object-en")

    visit.use_language("ar")
    visit.go("/audit/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    visit.screenshot("audit-list-ar")
    visit.page.screenshot(path=str(ARTIFACTS / "audit-list-top-ar.png"))


def test_a_ministry_reads_its_own_states_history_only(visit, demo_alliance):
    from django.contrib.auth import get_user_model

    from allocation.models import ComputeRequest

    ministry = get_user_model().objects.get(username="ministry-ken")
    other = ComputeRequest.objects.exclude(member_state__iso3="KEN").order_by("id").first()
    visit.sign_in_as(ministry)
    visit.go("/audit/")
    states = {text.split("·")[-1].strip() for text in visit.page.locator("tbody td a").all_inner_texts() if "·" in text}
    assert states <= {"KEN"}
    response = visit.go(f"/audit/allocation.computerequest/{other.pk}/")
    assert response.status == 404
    visit.errors[:] = [e for e in visit.errors if "status of 404" not in e]  # the refusal itself, expected


def test_anyone_checks_the_chain(visit, demo_alliance):
    from audit.models import AuditEntry

    visit.go("/audit/verify/")
    page = visit.page
    assert page.get_by_role("status").inner_text().startswith("Intact")
    assert AuditEntry.objects.order_by("-sequence").first().hash in page.locator("code").first.inner_text()
    visit.screenshot("audit-verify-en")
    visit.use_language("ar")
    visit.go("/audit/verify/")
    visit.screenshot("audit-verify-ar")


def test_audit_pages_fit_a_phone(phone, demo_alliance):
    phone.go("/audit/verify/")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot("audit-verify-phone-en")


@pytest.mark.parametrize("path", ["/", "/dashboard/", "/accounts/login/", "/audit/", "/audit/verify/", "/api/docs/",
                                  "/api/redoc/", "/api/rounds/"])
def test_pages_run_under_the_content_security_policy(visit, demo_alliance, path):
    response = visit.go(path)
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    visit.page.wait_for_load_state("networkidle")
    if path == "/api/docs/":
        visit.page.locator(".swagger-ui .info").wait_for()
        visit.screenshot("api-docs-under-csp")
    if path == "/api/redoc/":
        visit.page.locator(".api-content").wait_for()
        visit.screenshot("api-redoc-under-csp")
        # ReDoc always fetches its maker's logo from a CDN: the policy blocks it (nothing loads from other hosts)
        blocked = [e for e in visit.errors if "cdn.redoc.ly" in e and "Content Security Policy" in e]
        assert blocked
        visit.errors[:] = [e for e in visit.errors if e not in blocked]


def test_the_admin_runs_under_the_content_security_policy(visit, demo_alliance):
    from django.contrib.auth import get_user_model

    from allocation.models import Round
    from audit.models import AuditEntry

    missing = []
    visit.page.on("response", lambda response: response.status >= 400 and missing.append(response.url))
    visit.sign_in_as(get_user_model().objects.get(username="admin"))
    round_ = Round.objects.order_by("id").first()
    entry = AuditEntry.objects.order_by("sequence").last()
    for path in ("/admin/", "/admin/allocation/round/", f"/admin/allocation/round/{round_.pk}/change/",
                 "/admin/audit/auditentry/", f"/admin/audit/auditentry/{entry.pk}/change/"):
        response = visit.go(path)
        assert response.status == 200 and visit.page.url.endswith(path), path
        visit.page.wait_for_load_state("networkidle")
    assert missing == []
    visit.screenshot("admin-audit-entry")


def test_repeated_wrong_passwords_lock_the_sign_in_with_a_message(visit, ministry_officer_a, settings):
    ministry_officer_a.set_password("a-long-password-2026")
    ministry_officer_a.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        visit.sign_in_with_form("officer_a", "wrong-password")
    alert = visit.page.locator("#login-errors")
    assert "Too many failed sign-ins" in alert.inner_text()
    visit.sign_in_with_form("officer_a", "a-long-password-2026")
    assert "Too many failed sign-ins" in visit.page.locator("#login-errors").inner_text()
    visit.screenshot("login-locked-en")
    visit.errors[:] = [e for e in visit.errors if "status of 429" not in e]  # the refusals themselves, expected
