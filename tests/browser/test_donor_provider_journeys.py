"""The donor's and the provider's journeys in a real browser, on the demo alliance (round 1 published, round 2
open): what the pages show, what the database holds afterwards, and screenshots in English and Arabic."""
import datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from allocation.demo import CALL_TITLE
from allocation.models import AllocationLine, Feasibility, HardwareType, Offer, Pledge, Round

pytestmark = pytest.mark.django_db(transaction=True)


def _round(number: int) -> Round:
    return Round.objects.get(call__title=CALL_TITLE, number=number)


def _user(username: str):
    return get_user_model().objects.get(username=username)


def _fill_lot(page, number: int, *, hardware: str, provider: str, region: str, gpu_hours: str, value: str,
              start: datetime.date, end: datetime.date):
    lot = page.locator(f"#lot-{number}")
    lot.get_by_label("Hardware", exact=True).select_option(value=str(HardwareType.objects.get(key=hardware).pk))
    lot.get_by_label("Provider hosting the capacity").select_option(label=provider)
    lot.get_by_label("Region of the data centre").select_option(label=region)
    lot.get_by_label("GPU-hours", exact=True).fill(gpu_hours)
    lot.get_by_label("Available from").fill(start.isoformat())
    lot.get_by_label("Available until").fill(end.isoformat())
    lot.get_by_label("Market value per GPU-hour (US$)").fill(value)


def test_donor_pledges_in_kind_and_cash_and_reads_where_a_pledge_went(visit, demo_alliance, tmp_path):
    page = visit.page
    donor_user = _user("donor-jpn")
    donor = donor_user.membership.organisation
    round_1, round_2 = _round(1), _round(2)
    pledges_before = Pledge.objects.filter(round=round_2, donor=donor).count()
    visit.sign_in_as(donor_user)

    visit.go("/donor/")
    assert page.get_by_role("heading", level=1, name="Your pledges").is_visible()
    assert page.get_by_role("link", name="Pledges").get_attribute("aria-current") == "page"
    assert page.get_by_role("heading", name="Round 1").is_visible()
    visit.screenshot("donor-home-en")

    # An in-kind pledge of two lots in round 2, the second with a mistake first.
    page.get_by_role("link", name="Pledge capacity in kind").click()
    page.get_by_label("Round", exact=True).select_option(label=f"{CALL_TITLE} — Round 2")
    start = datetime.date.today() + datetime.timedelta(days=30)
    end = start + datetime.timedelta(days=180)
    _fill_lot(page, 1, hardware="NVIDIA_H100_SXM5_80GB",
              provider="Pan-African Compute Exchange (demo provider)", region="Sub-Saharan Africa",
              gpu_hours="4000", value="2.40", start=start, end=end)
    page.locator("#lot-1").get_by_label("Health").check()
    page.locator("#lot-1").get_by_label("Earmark: only these member states").fill("KEN, TZA")
    page.get_by_role("button", name="Add another lot").click()
    assert page.locator("#lot-2").is_visible()
    assert page.locator("#lot-1").get_by_label("GPU-hours", exact=True).input_value() == "4000"
    _fill_lot(page, 2, hardware="NVIDIA_A100_SXM4_80GB",
              provider="Nordic Research Cloud (demo provider)", region="Europe & Central Asia",
              gpu_hours="0", value="1.30", start=start, end=end)
    page.get_by_role("button", name="Pledge this capacity").click()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert "Lot 2, GPU-hours: Ensure this value is greater than or equal to 1." in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    visit.screenshot("donor-pledge-errors-en")
    assert Pledge.objects.filter(round=round_2, donor=donor).count() == pledges_before  # nothing half-written
    page.locator("#lot-2").get_by_label("GPU-hours", exact=True).fill("2500")
    page.get_by_role("button", name="Pledge this capacity").click()
    page.wait_for_url("**/donor/")
    assert "is confirmed" in page.locator(".messages").inner_text()

    pledge = Pledge.objects.filter(round=round_2, donor=donor, kind="in_kind").latest("created_at")
    lots = list(pledge.lots.order_by("id"))
    assert [(lot.gpu_hours, lot.region, lot.hardware.key) for lot in lots] == [
        (Decimal("4000"), "SSA", "NVIDIA_H100_SXM5_80GB"), (Decimal("2500"), "ECA", "NVIDIA_A100_SXM4_80GB")]
    assert lots[0].earmark_sectors == ["health"]
    assert sorted(s.iso3 for s in lots[0].earmark_countries.all()) == ["KEN", "TZA"]
    assert pledge.created_by == donor_user

    # A cash pledge in round 2.
    page.get_by_role("link", name="Pledge cash").click()
    page.get_by_label("Round", exact=True).select_option(label=f"{CALL_TITLE} — Round 2")
    page.get_by_label("Amount (US$)").fill("75000")
    page.get_by_role("button", name="Pledge this amount").click()
    page.wait_for_url("**/donor/")
    cash = Pledge.objects.get(round=round_2, donor=donor, kind="cash")
    assert cash.cash_usd == Decimal("75000") and cash.status == "confirmed"
    visit.screenshot("donor-home-after-pledges-en")

    # Where the round-1 pledge in kind went.
    published = Pledge.objects.get(round=round_1, donor=donor, kind="in_kind")
    lines = AllocationLine.objects.filter(run__round=round_1, run__is_approved=True, lot__pledge=published)
    used = lines.aggregate(total=Sum("gpu_hours"))["total"]
    assert used > 0
    page.locator(f"#pledge-{published.pk}").get_by_role("link", name="Where it went").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Pledge {published.pk}: where it went"
    assert page.locator("svg.chart__svg").count() == 3
    states = lines.values("request__member_state").distinct().count()
    assert page.locator("#table-country").locator("xpath=..").locator("tbody tr").count() == states
    visit.screenshot("donor-pledge-where-it-went-en")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    csv_path = tmp_path / "statement.csv"
    download.value.save_as(csv_path)
    statement = pd.read_csv(csv_path)
    assert len(statement) == lines.count()
    assert statement["gpu_hours"].sum() == pytest.approx(float(used), abs=0.01)
    assert set(statement["round"]) == {1}
    with page.expect_download() as download:
        page.get_by_role("link", name="Download Excel (XLSX)").click()
    xlsx_path = tmp_path / "statement.xlsx"
    download.value.save_as(xlsx_path)
    sheet = pd.read_excel(xlsx_path, sheet_name="Allocation lines", header=None)
    heading = dict(zip(sheet[0], sheet[1], strict=True))
    assert heading["Donor"] == donor.name and heading["Round"] == "Round 1"

    visit.use_language("ar")
    visit.go(f"/donor/pledges/{published.pk}/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    visit.screenshot("donor-pledge-where-it-went-ar")
    visit.go("/donor/")
    visit.screenshot("donor-home-ar")
    visit.go("/donor/pledges/new/in-kind/")
    visit.screenshot("donor-pledge-form-ar")


def test_provider_offers_capacity_and_confirms_its_round_1_lines(visit, demo_alliance):
    page = visit.page
    page.on("dialog", lambda dialog: dialog.accept())  # the "confirm all" question
    provider_user = _user("provider-nrc")
    provider = provider_user.membership.organisation
    round_1, round_2 = _round(1), _round(2)
    visit.sign_in_as(provider_user)

    visit.go("/provider/")
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.get_by_role("link", name="Offers").get_attribute("aria-current") == "page"
    visit.screenshot("provider-home-en")

    page.get_by_role("link", name="Offer capacity for sale").click()
    page.get_by_label("Round", exact=True).select_option(label=f"{CALL_TITLE} — Round 2")
    lot = page.locator("#lot-1")
    lot.get_by_label("Hardware", exact=True).select_option(label="NVIDIA H100 SXM5 80GB — 1 × H100")
    lot.get_by_label("Region of the data centre").select_option(label="North America")
    lot.get_by_label("GPU-hours", exact=True).fill("6000")
    lot.get_by_label("Price per GPU-hour (US$)").fill("1.95")
    start = datetime.date.today() + datetime.timedelta(days=20)
    lot.get_by_label("Available from").fill(start.isoformat())
    lot.get_by_label("Available until").fill((start + datetime.timedelta(days=90)).isoformat())
    visit.screenshot("provider-offer-form-en")
    page.get_by_role("button", name="Publish this offer").click()
    page.wait_for_url("**/provider/")
    offer = Offer.objects.filter(round=round_2, provider=provider).latest("created_at")
    (offered,) = offer.lots.all()
    assert (offered.gpu_hours, offered.price_usd_per_gpu_hour, offered.region) == (Decimal("6000"),
                                                                                   Decimal("1.95"), "NAM")
    assert offer.status == Offer.Status.PUBLISHED

    # Feasibility of its round-1 lines: one flagged with a reason, the others confirmed at once.
    lines = AllocationLine.objects.filter(run__round=round_1, run__is_approved=True, lot__provider=provider)
    count = lines.count()
    assert count > 1
    page.get_by_role("link", name="Round 1").click()
    page.wait_for_url(f"**/provider/rounds/{round_1.pk}/lines/")
    assert page.locator("tbody tr").count() == count
    visit.screenshot("provider-lines-en")
    flagged = lines.order_by("id").first()
    page.locator(f"#line-{flagged.pk}").get_by_role("link", name="Flag a problem").click()
    page.get_by_role("button", name="Flag this line").click()
    assert "Say what makes this allocation infeasible" in page.locator("#error-summary").inner_text()
    page.get_by_label("What prevents this allocation from running").fill(
        "The A100 partition in this region is reserved for a national exercise until the window's second month.")
    page.get_by_role("button", name="Flag this line").click()
    page.wait_for_url(f"**/provider/rounds/{round_1.pk}/lines/*")
    page.get_by_role("button", name="Confirm all").click()
    page.wait_for_url(f"**/provider/rounds/{round_1.pk}/lines/")
    assert "confirmed as feasible" in page.locator(".messages").inner_text()
    statuses = dict(lines.values_list("id", "feasibility"))
    assert statuses.pop(flagged.pk) == Feasibility.FLAGGED
    assert set(statuses.values()) == {Feasibility.CONFIRMED}
    assert len(statuses) == count - 1
    flagged.refresh_from_db()
    assert flagged.feasibility_note.startswith("The A100 partition") and flagged.feasibility_by == provider_user
    visit.screenshot("provider-lines-answered-en")

    visit.use_language("ar")
    visit.go(f"/provider/rounds/{round_1.pk}/lines/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    visit.screenshot("provider-lines-ar")
    visit.go("/provider/")
    visit.screenshot("provider-home-ar")


def test_donor_pages_fit_a_phone(phone, demo_alliance):
    donor_user = _user("donor-jpn")
    phone.sign_in_as(donor_user)
    published = Pledge.objects.get(round=_round(1), donor=donor_user.membership.organisation, kind="in_kind")
    for path, name in (("/donor/", "donor-home-phone-en"), (f"/donor/pledges/{published.pk}/",
                                                             "donor-pledge-where-it-went-phone-en"),
                       ("/donor/pledges/new/in-kind/", "donor-pledge-form-phone-en")):
        phone.go(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px wide)"
        phone.screenshot(name)
