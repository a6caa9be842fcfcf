"""The donor officer's pages: pledges by round, pledging in kind and in cash, withdrawing, and where a pledge
went once its round is published, with its statement."""
import io
from decimal import Decimal

import pandas as pd
import pytest

from allocation.models import CapacityLot, Pledge, RoundStatus
from members.models import OrganisationKind, Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_round(db):
    return factories.RoundFactory(status=RoundStatus.OPEN, title="Round 7")


@pytest.fixture
def h100(db):
    return factories.HardwareTypeFactory()


@pytest.fixture
def other_donor_officer(db):
    organisation = factories.OrganisationFactory(name="Another Donor", kind=OrganisationKind.DONOR)
    return factories.MembershipFactory(user=factories.UserFactory(username="donor2"), organisation=organisation,
                                       role=Role.DONOR_OFFICER).user


def lot_data(index, h100, provider, **overrides):
    data = {
        "hardware": h100.pk, "provider": provider.pk, "region": "SSA", "gpu_hours": "1000",
        "available_from": "2026-09-01", "available_until": "2027-08-31", "value_usd_per_gpu_hour": "2.40",
        "earmark_countries": "",
    }
    data.update(overrides)
    return {f"lots-{index}-{key}": value for key, value in data.items()}


def in_kind_post(round_, *lots, note=""):
    data = {"round": round_.pk, "note": note, "lots-TOTAL_FORMS": str(len(lots)), "lots-INITIAL_FORMS": "0",
            "lots-MIN_NUM_FORMS": "1", "lots-MAX_NUM_FORMS": "20"}
    for lot in lots:
        data.update(lot)
    return data


# --- the donor's home ----------------------------------------------------------------------------------


def test_donor_sees_its_pledges_by_round_with_totals(client_for, donor_officer, donor_org, provider_org, open_round,
                                                     h100):
    pledge = factories.PledgeFactory(donor=donor_org, round=open_round)
    factories.CapacityLotFactory(pledge=pledge, provider=provider_org, hardware=factories.HardwareTypeFactory(
        key="NVIDIA_A100", name="NVIDIA A100", h100e=Decimal("0.500")), gpu_hours=Decimal("1200"),
        earmark_sectors=["health"])
    factories.PledgeFactory(donor=donor_org, round=open_round, kind=Pledge.Kind.CASH, cash_usd=Decimal("250000"))
    response = client_for(donor_officer).get("/donor/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Round 7" in page
    assert "NVIDIA A100" in page and "Provider Cloud" in page
    assert "1,200 GPU-hours (600 H100e-hours)" in page  # 1,200 x 0.5
    assert "Earmarked for: Health" in page
    assert "US$&nbsp;250,000" in page
    groups = response.context["groups"]
    assert groups[0]["h100e_hours"] == Decimal("600") and groups[0]["cash_usd"] == Decimal("250000")
    assert f'action="/donor/pledges/{pledge.pk}/withdraw/"' in page


def test_donor_does_not_see_another_donors_pledges(client_for, other_donor_officer, donor_org, open_round):
    factories.PledgeFactory(donor=donor_org, round=open_round, kind=Pledge.Kind.CASH, cash_usd=Decimal("99999"))
    response = client_for(other_donor_officer).get("/donor/")
    assert response.status_code == 200
    assert response.context["groups"] == []
    assert "99,999" not in response.content.decode()


@pytest.mark.parametrize("outsider", ["ministry_officer_a", "provider_officer", "secretariat_officer"])
def test_other_roles_cannot_open_the_donor_portal(request, client_for, outsider):
    client = client_for(request.getfixturevalue(outsider))
    assert client.get("/donor/").status_code == 403
    assert client.get("/donor/pledges/new/in-kind/").status_code == 403
    assert client.post("/donor/pledges/new/cash/", {}).status_code == 403


def test_public_is_sent_to_sign_in(client):
    response = client.get("/donor/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _main_navigation(page: str) -> str:
    return page.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]


def test_navigation_shows_pledges_to_donor_officers_only(client_for, donor_officer, ministry_officer_a):
    assert 'href="/donor/"' in _main_navigation(client_for(donor_officer).get("/").content.decode())
    assert 'href="/donor/"' not in _main_navigation(client_for(ministry_officer_a).get("/").content.decode())


# --- pledging in kind ----------------------------------------------------------------------------------


def test_donor_pledges_two_lots_in_kind_with_earmarks(client_for, donor_officer, donor_org, provider_org, open_round,
                                                      h100, state_a, state_b):
    data = in_kind_post(
        open_round,
        lot_data(0, h100, provider_org, earmark_sectors=["health", "education"], earmark_income_groups=["LIC", "LMIC"]),
        lot_data(1, h100, provider_org, region="SAS", gpu_hours="250.5", earmark_countries="ken, NPL"),
        note="For the 2026 call",
    )
    response = client_for(donor_officer).post("/donor/pledges/new/in-kind/", data)
    assert response.status_code == 302 and response["Location"] == "/donor/"
    pledge = Pledge.objects.get(donor=donor_org)
    assert (pledge.kind, pledge.status, pledge.note, pledge.created_by) == ("in_kind", "confirmed",
                                                                            "For the 2026 call", donor_officer)
    first, second = pledge.lots.order_by("id")
    assert first.gpu_hours == Decimal("1000") and first.region == "SSA" and first.provider == provider_org
    assert first.earmark_sectors == ["health", "education"] and first.earmark_income_groups == ["LIC", "LMIC"]
    assert second.gpu_hours == Decimal("250.50") and second.price_usd_per_gpu_hour is None
    assert {s.iso3 for s in second.earmark_countries.all()} == {"KEN", "NPL"}


def test_each_mistake_names_its_lot_and_field(client_for, donor_officer, provider_org, open_round, h100, state_a):
    data = in_kind_post(
        open_round,
        lot_data(0, h100, provider_org),
        lot_data(1, h100, provider_org, gpu_hours="0", available_from="2026-10-01", available_until="2026-09-01",
                 earmark_countries="KEN, XYZ"),
    )
    response = client_for(donor_officer).post("/donor/pledges/new/in-kind/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lot 2, GPU-hours: Ensure this value is greater than or equal to 1." in page
    assert "Lot 2, Available until: The window must end on or after its first day." in page
    assert "Lot 2, Earmark: only these member states: XYZ is not the ISO3 code of a member state." in page
    assert 'href="#id_lots-1-gpu_hours"' in page
    assert 'aria-invalid="true"' in page
    assert "Lot 1," not in page
    assert Pledge.objects.count() == 0 and CapacityLot.objects.count() == 0


def test_a_missing_field_of_the_first_lot_is_named(client_for, donor_officer, provider_org, open_round, h100):
    data = in_kind_post(open_round, lot_data(0, h100, provider_org, hardware="", region=""))
    page = client_for(donor_officer).post("/donor/pledges/new/in-kind/", data).content.decode()
    assert "Lot 1, Hardware: This field is required." in page
    assert "Lot 1, Region of the data centre: This field is required." in page
    assert Pledge.objects.count() == 0


def test_adding_a_lot_keeps_what_was_typed_and_shows_no_mistakes(client_for, donor_officer, provider_org,
                                                                  open_round, h100):
    data = in_kind_post(open_round, lot_data(0, h100, provider_org, gpu_hours="777"))
    data["add_lot"] = "1"
    response = client_for(donor_officer).post("/donor/pledges/new/in-kind/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="lots-TOTAL_FORMS" value="2"' in page
    assert 'value="777"' in page and 'id="id_lots-1-gpu_hours"' in page
    assert "Please correct these mistakes" not in page and 'aria-invalid' not in page
    assert Pledge.objects.count() == 0


def test_an_added_lot_left_blank_is_ignored(client_for, donor_officer, donor_org, provider_org, open_round, h100):
    data = in_kind_post(open_round, lot_data(0, h100, provider_org))
    data["lots-TOTAL_FORMS"] = "2"
    response = client_for(donor_officer).post("/donor/pledges/new/in-kind/", data)
    assert response.status_code == 302
    assert Pledge.objects.get(donor=donor_org).lots.count() == 1


def test_a_lot_can_be_left_out_of_the_pledge(client_for, donor_officer, donor_org, provider_org, open_round, h100):
    data = in_kind_post(open_round, lot_data(0, h100, provider_org),
                        lot_data(1, h100, provider_org, gpu_hours="5", DELETE="on"))
    assert client_for(donor_officer).post("/donor/pledges/new/in-kind/", data).status_code == 302
    assert list(Pledge.objects.get(donor=donor_org).lots.values_list("gpu_hours", flat=True)) == [Decimal("1000")]


def test_a_pledge_to_a_closed_round_is_refused(client_for, donor_officer, provider_org, h100):
    closed = factories.RoundFactory(status=RoundStatus.CLOSED)
    page = client_for(donor_officer).post("/donor/pledges/new/in-kind/", in_kind_post(
        closed, lot_data(0, h100, provider_org))).content.decode()
    assert "Round: Choose a round that is open now; that one no longer takes this." in page
    assert Pledge.objects.count() == 0


def test_the_form_offers_only_providers_and_open_rounds(client_for, donor_officer, provider_org, donor_org,
                                                        open_round):
    closed = factories.RoundFactory(status=RoundStatus.CLOSED, title="Closed round")
    response = client_for(donor_officer).get(f"/donor/pledges/new/in-kind/?round={open_round.pk}")
    page = response.content.decode()
    assert f'<option value="{open_round.pk}" selected>' in page
    assert "Closed round" not in page and str(closed.pk) not in [str(r.pk) for r in
                                                                 response.context["form"].fields["round"].queryset]
    providers = list(response.context["formset"].forms[0].fields["provider"].queryset)
    assert providers == [provider_org]


# --- pledging cash -------------------------------------------------------------------------------------


def test_donor_pledges_cash(client_for, donor_officer, donor_org, open_round):
    response = client_for(donor_officer).post("/donor/pledges/new/cash/",
                                              {"round": open_round.pk, "cash_usd": "150000.50", "note": ""})
    assert response.status_code == 302
    pledge = Pledge.objects.get(donor=donor_org)
    assert (pledge.kind, pledge.cash_usd, pledge.round) == ("cash", Decimal("150000.50"), open_round)
    assert pledge.lots.count() == 0


@pytest.mark.parametrize("amount, message", [
    ("0", "Amount (US$): Ensure this value is greater than or equal to 1."),
    ("-5", "Amount (US$): Ensure this value is greater than or equal to 1."),
    ("", "Amount (US$): This field is required."),
    ("ten", "Amount (US$): Enter a number."),
])
def test_a_cash_pledge_needs_a_positive_amount(client_for, donor_officer, open_round, amount, message):
    response = client_for(donor_officer).post("/donor/pledges/new/cash/", {"round": open_round.pk,
                                                                           "cash_usd": amount})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Pledge.objects.count() == 0


# --- withdrawing ---------------------------------------------------------------------------------------


def test_donor_withdraws_a_pledge_while_the_round_is_open(client_for, donor_officer, donor_org, open_round):
    pledge = factories.PledgeFactory(donor=donor_org, round=open_round, kind=Pledge.Kind.CASH, cash_usd=Decimal("10"))
    response = client_for(donor_officer).post(f"/donor/pledges/{pledge.pk}/withdraw/", follow=True)
    assert f"Pledge {pledge.pk} is withdrawn" in response.content.decode()
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.WITHDRAWN


def test_withdrawing_after_the_round_closed_is_refused(client_for, donor_officer, donor_org):
    pledge = factories.PledgeFactory(donor=donor_org, round=factories.RoundFactory(status=RoundStatus.CLOSED),
                                     kind=Pledge.Kind.CASH, cash_usd=Decimal("10"))
    response = client_for(donor_officer).post(f"/donor/pledges/{pledge.pk}/withdraw/", follow=True)
    assert "The round is closed, under review; it no longer takes this." in response.content.decode()
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.CONFIRMED


def test_donor_cannot_withdraw_another_donors_pledge(client_for, other_donor_officer, donor_org, open_round):
    pledge = factories.PledgeFactory(donor=donor_org, round=open_round, kind=Pledge.Kind.CASH, cash_usd=Decimal("10"))
    assert client_for(other_donor_officer).post(f"/donor/pledges/{pledge.pk}/withdraw/").status_code == 404
    assert client_for(other_donor_officer).post("/donor/pledges/999999/withdraw/").status_code == 404
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.CONFIRMED


def test_withdraw_only_by_post(client_for, donor_officer, donor_org, open_round):
    pledge = factories.PledgeFactory(donor=donor_org, round=open_round, kind=Pledge.Kind.CASH, cash_usd=Decimal("10"))
    assert client_for(donor_officer).get(f"/donor/pledges/{pledge.pk}/withdraw/").status_code == 405


# --- where it went -------------------------------------------------------------------------------------


def test_where_an_in_kind_pledge_went(client_for, donor_officer, published_small_round):
    pledge = published_small_round.pledges.get()
    response = client_for(donor_officer).get(f"/donor/pledges/{pledge.pk}/")
    assert response.status_code == 200
    b = response.context["b"]
    # 1,000 GPU-hours of H100 shared 600 / 400 between Kenya and Nepal (equal weights, 900 and 600 asked)
    assert b["pledged"]["gpu_hours"] == Decimal("1000")
    assert b["used"]["gpu_hours"] == pytest.approx(Decimal("1000"), abs=Decimal("0.01"))
    assert b["remaining"]["gpu_hours"] == pytest.approx(Decimal("0"), abs=Decimal("0.01"))
    assert [(row["code"], round(row["h100e_hours"])) for row in b["by_country"]] == [("KEN", 600), ("NPL", 400)]
    assert [(row["key"], round(row["h100e_hours"])) for row in b["by_income_group"]] == [("LMIC", 1000)]
    assert [(row["key"], row["requests"]) for row in b["by_sector"]] == [("health", 2)]
    assert (b["requests"], b["states"]) == (2, 2)
    page = response.content.decode()
    assert "where it went" in page and page.count("<svg") >= 3
    assert f"/donor/pledges/{pledge.pk}/statement.csv" in page


def test_income_group_is_the_one_frozen_on_the_line(client_for, donor_officer, published_small_round, state_a):
    state_a.income_group = "UMIC"  # reclassified after the decision
    state_a.save()
    pledge = published_small_round.pledges.get()
    b = client_for(donor_officer).get(f"/donor/pledges/{pledge.pk}/").context["b"]
    assert [row["key"] for row in b["by_income_group"]] == ["LMIC"]


def test_before_publication_the_page_says_when_it_will_know(client_for, donor_officer, small_round):
    pledge = small_round.pledges.get()
    response = client_for(donor_officer).get(f"/donor/pledges/{pledge.pk}/")
    assert response.status_code == 200
    assert "once the secretariat approves the round" in response.content.decode()
    assert client_for(donor_officer).get(f"/donor/pledges/{pledge.pk}/statement.csv").status_code == 404


def test_statement_csv_lists_each_line(client_for, donor_officer, published_small_round):
    pledge = published_small_round.pledges.get()
    response = client_for(donor_officer).get(f"/donor/pledges/{pledge.pk}/statement.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    frame = pd.read_csv(io.BytesIO(response.content))
    assert sorted(frame["country_iso3"]) == ["KEN", "NPL"]
    assert frame["gpu_hours"].sum() == pytest.approx(1000, abs=0.01)
    assert set(frame["income_group"]) == {"LMIC"}
    assert frame.set_index("country_iso3").loc["KEN", "h100e_hours"] == pytest.approx(600, abs=0.01)


def test_statement_xlsx_has_a_heading_block_and_the_lines(client_for, donor_officer, published_small_round):
    pledge = published_small_round.pledges.get()
    response = client_for(donor_officer).get(f"/donor/pledges/{pledge.pk}/statement.xlsx")
    assert response.status_code == 200
    book = pd.read_excel(io.BytesIO(response.content), sheet_name=None, header=None)
    lines_sheet = book["Allocation lines"]
    heading = dict(zip(lines_sheet[0], lines_sheet[1], strict=True))
    assert heading["Donor"] == "Donor Agency"
    assert heading["Round"] == published_small_round.title
    assert heading["Pledged GPU-hours"] == 1000
    header_row = list(lines_sheet[0]).index("round")
    lines = pd.read_excel(io.BytesIO(response.content), sheet_name="Allocation lines", skiprows=header_row)
    assert len(lines) == 2 and lines["gpu_hours"].sum() == pytest.approx(1000, abs=0.01)
    lots = pd.read_excel(io.BytesIO(response.content), sheet_name="Lots")
    assert lots.loc[0, "pledged_gpu_hours"] == 1000


def test_statement_in_an_unknown_format_is_not_found(client_for, donor_officer, published_small_round):
    pledge = published_small_round.pledges.get()
    assert client_for(donor_officer).get(f"/donor/pledges/{pledge.pk}/statement.pdf").status_code == 404


def test_where_a_cash_pledge_went(client_for, donor_officer, cash_round):
    pledge = cash_round.test_pledge
    response = client_for(donor_officer).get(f"/donor/pledges/{pledge.pk}/")
    assert response.status_code == 200
    b = response.context["b"]
    # the pool of US$1,000 bought 300 GPU-hours at US$2.00 = US$600; this pledge is 60 % of the pool
    assert b["share"] == Decimal("0.6")
    assert b["pool_spent_usd"] == Decimal("600.00")
    assert b["used"]["cash_usd"] == Decimal("360.00")
    assert b["used"]["gpu_hours"] == pytest.approx(Decimal("180"), abs=Decimal("0.001"))
    assert b["remaining"]["cash_usd"] == Decimal("240.00")
    assert [(row["code"], round(row["cash_usd"])) for row in b["by_country"]] == [("KEN", 360)]
    assert [row["lot"].price_usd_per_gpu_hour for row in b["lots"]] == [Decimal("2.0000")]
    frame = pd.read_csv(io.BytesIO(client_for(donor_officer).get(
        f"/donor/pledges/{pledge.pk}/statement.csv").content))
    assert frame["cash_usd"].sum() == pytest.approx(360) and frame["gpu_hours"].sum() == pytest.approx(180)


def test_donor_home_counts_what_was_allocated(client_for, donor_officer, cash_round):
    groups = client_for(donor_officer).get("/donor/").context["groups"]
    assert groups[0]["spent_usd"] == Decimal("360.00")
    assert groups[0]["used_h100e_hours"] == pytest.approx(Decimal("180"), abs=Decimal("0.001"))


@pytest.mark.parametrize("path", ["/donor/pledges/{id}/", "/donor/pledges/{id}/statement.csv",
                                  "/donor/pledges/{id}/statement.xlsx"])
def test_outsiders_cannot_read_a_pledge_or_its_statement(client, client_for, other_donor_officer,
                                                         ministry_officer_a, provider_officer, published_small_round,
                                                         path):
    url = path.format(id=published_small_round.pledges.get().pk)
    assert client_for(other_donor_officer).get(url).status_code == 404
    assert client_for(ministry_officer_a).get(url).status_code == 404
    assert client_for(provider_officer).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to sign in
    assert client_for(other_donor_officer).get(path.format(id=999999)).status_code == 404
