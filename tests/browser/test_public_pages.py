"""The public's pages and signing in, in a real browser: what the page shows, in English and Arabic."""
import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_public_reads_the_dashboard_of_the_demo_alliance(visit, demo_alliance):
    visit.go("/dashboard/")
    page = visit.page
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.locator("svg").count() >= 3  # the charts are drawn inline, with no script and no CDN
    visit.screenshot("dashboard-en")

    visit.use_language("ar")
    visit.go("/dashboard/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    visit.screenshot("dashboard-ar")


def test_home_page_in_english_and_arabic(visit, demo_alliance):
    visit.go("/")
    assert visit.page.locator("html").get_attribute("dir") == "ltr"
    visit.screenshot("home-en")
    visit.use_language("ar")
    visit.go("/")
    assert visit.page.locator("html").get_attribute("dir") == "rtl"
    visit.screenshot("home-ar")


def test_pages_load_nothing_from_other_hosts(visit, demo_alliance, live_server):
    requested = []
    visit.page.on("request", lambda request: requested.append(request.url))
    for path in ("/", "/dashboard/", "/accounts/login/"):
        visit.go(path)
    assert requested
    outside = [url for url in requested if not url.startswith(live_server.url)]
    assert outside == []


def test_officer_signs_in_with_the_form_and_a_wrong_password_is_refused(visit, ministry_officer_a):
    ministry_officer_a.set_password("a-long-password-2026")
    ministry_officer_a.save()
    visit.sign_in_with_form("officer_a", "wrong-password")
    assert visit.page.locator("#login-errors").is_visible()
    visit.sign_in_with_form("officer_a", "a-long-password-2026")
    visit.page.wait_for_url(lambda url: "/accounts/login/" not in url)
    assert visit.page.get_by_text("officer_a").first.is_visible() or visit.page.locator(".account__name").is_visible()


def test_dashboard_on_a_phone(phone, demo_alliance):
    phone.go("/dashboard/")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the dashboard scrolls sideways on a phone ({width}px wide)"
    phone.screenshot("dashboard-phone-en")
