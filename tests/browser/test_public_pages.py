"""The public's pages and signing in, in a real browser: what the page shows, in English and Arabic."""
import pytest

from tests.browser.conftest import ARTIFACTS

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


# --- Dashboard, region map, awards and open data ----------------------------------------------------------


def _no_sideways_scroll(tab, path):
    tab.go(path)
    width = tab.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} scrolls sideways on a phone ({width}px wide)"


def test_public_explores_the_dashboard_map_and_round_filter(visit, demo_alliance):
    from alliance import selectors
    from allocation.models import Round

    page = visit.page
    visit.go("/dashboard/")
    figures = selectors.published_allocations()
    gini = page.locator("#indicator-gini + .indicator__value").inner_text()
    assert gini == f"{figures['gini_per_capita']:.3f}"
    share = page.locator("#indicator-share + .indicator__value").inner_text()
    assert share.replace("\xa0", " ") == f"{figures['low_income_share'] * 100:.1f} %"

    # The map: seven regions, each a link reached from the keyboard, with a title, and a table beside it.
    regions = page.locator("a.region-map__region")
    assert regions.count() == 7
    regions.first.focus()
    assert page.evaluate("document.activeElement.getAttribute('class')") == "region-map__region"
    assert "North America" in regions.first.locator("title").text_content()
    map_rows = page.locator("#region-table-caption").locator("xpath=..").locator("tbody tr")
    assert map_rows.count() == len(figures["by_region"])
    visit.screenshot("dashboard-en")
    page.locator(".region-map").screenshot(path=str(ARTIFACTS / "map-en.png"))

    # Choose the published round in the filter: the page shows that round alone.
    round_ = Round.objects.get(status="published")
    page.get_by_label("Round", exact=True).select_option(str(round_.pk))
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/dashboard/?round={round_.pk}")
    assert f"Figures of {round_.title}." in page.locator("#totals-title + .section__intro").inner_text()

    # Select a region of the map: its awards.
    page.locator("a.region-map__region[href*='region=SSA']").click()
    page.wait_for_url("**/dashboard/awards/?region=SSA*")
    assert page.get_by_role("heading", level=1).inner_text() == "Awards"

    visit.use_language("ar")
    visit.go("/dashboard/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator(".region-map").screenshot(path=str(ARTIFACTS / "map-ar.png"))


def test_public_searches_the_awards(visit, demo_alliance):
    from alliance import selectors

    page = visit.page
    visit.go("/dashboard/awards/")
    total = selectors.published_awards().count()
    assert page.locator("#awards-filter-status").inner_text().startswith(f"{total:,} award")
    visit.screenshot("awards-en")

    # Typing filters the rows on this page at once (script); Search asks the server for every page.
    kenya_total = selectors.published_awards(text="Kenya").count()
    assert kenya_total > 0
    page.get_by_label("Search", exact=True).fill("Kenya")
    visible = page.locator("#awards-table tbody tr:not([hidden])")
    assert 0 < visible.count() <= kenya_total
    assert "match" in page.locator("#awards-filter-status").inner_text()
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/dashboard/awards/?q=Kenya*")
    assert page.locator("#awards-table tbody tr").count() == min(kenya_total, 50)
    for state in page.locator("#awards-table tbody tr td:nth-child(2)").all_inner_texts():
        assert "Kenya" in state

    # Filter by income group and sort by share met: the server's order.
    page.get_by_label("Search", exact=True).fill("")
    page.get_by_label("Income group", exact=True).select_option("LIC")
    page.get_by_label("Sort by", exact=True).select_option("-fulfilment")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**income_group=LIC**")
    expected = [award.request.title for award in
                selectors.published_awards(income_group="LIC", order="-fulfilment")[:50]]
    shown = page.locator("#awards-table tbody th .data-table__primary").all_inner_texts()
    assert shown == expected

    visit.use_language("ar")
    visit.go("/dashboard/awards/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    visit.screenshot("awards-ar")


def test_public_downloads_open_data(visit, demo_alliance):
    import pandas as pd

    from alliance import selectors

    page = visit.page
    visit.go("/open-data/")
    assert page.get_by_role("heading", level=1).inner_text() == "Open data"
    assert page.locator("a[rel=license]").count() == 1
    visit.screenshot("open-data-en")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Allocation lines, CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("gacp-allocations-all-rounds-")
    frame = pd.read_csv(download.path())
    allocated = selectors.published_allocations()["allocated_h100e_hours"]
    assert abs(frame["h100e_hours"].sum() - float(allocated)) < 0.01

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Requests and results, XLSX").click()
    sheets = pd.read_excel(download_info.value.path(), sheet_name=None)
    assert list(sheets) == ["requests", "data dictionary"]
    assert len(sheets["requests"]) == selectors.published_results().count()

    visit.use_language("ar")
    visit.go("/open-data/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    visit.screenshot("open-data-ar")


def test_public_pages_fit_a_phone(phone, demo_alliance):
    for path in ("/dashboard/", "/dashboard/awards/", "/open-data/"):
        _no_sideways_scroll(phone, path)
    phone.go("/dashboard/awards/")
    phone.screenshot("awards-phone-en")
    phone.go("/open-data/")
    phone.screenshot("open-data-phone-en")
