"""The ministry officer's journey in a real browser, on the demo alliance (round 1 published, round 2 open):
draft a request in round 2 watching its size computed, submit it, read and accept a round-1 award, appeal
another decision; the secretariat answers the appeal; the ministry reads the answer. Screenshots of each main
page in English and Arabic, and of the request form on a phone."""
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from allocation.models import Appeal, ComputeRequest, HardwareType, RequestStatus, Round

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Kiswahili speech recognition for county clinics"
REASONS = "The review did not take into account the clinical pilot results we attached to this request."
ANSWER = "The pilot results were missed in review; the request will be reconsidered in round 2."


def user(username):
    return get_user_model().objects.get(username=username)


def round_one_requests_of_kenya():
    return ComputeRequest.objects.filter(member_state__iso3="KEN", round__number=1, results__run__is_approved=True)


def draft_a_request(visit, round_two, a100):
    page = visit.page
    visit.go("/ministry/")
    page.locator(f'a[href="/ministry/rounds/{round_two.pk}/requests/new/"]').click()
    page.wait_for_url(re.compile(r"/requests/new/$"))
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("What the compute is for").fill("Speech recognition for nurses' notes in Kiswahili and Sheng.")
    page.get_by_label("Sector").select_option("health")
    page.get_by_label("NVIDIA H100 SXM5 80GB (factor").check()
    page.get_by_label("NVIDIA A100 SXM4 80 GB (factor").check()
    page.get_by_label("Size given in").select_option(str(a100.pk))
    page.get_by_label("Size requested").press_sequentially("2000")


def test_ministry_officer_journey_and_the_secretariat_answer(visit, phone, demo_alliance):
    page = visit.page
    round_two = Round.objects.get(number=2)
    a100 = HardwareType.objects.get(key="NVIDIA_A100_SXM4_80GB")
    expected = (Decimal("2000") * a100.h100e).quantize(Decimal("0.01"))

    # The ministry's home: its requests by round, the open round, awards to answer, co-financing.
    visit.sign_in_as(user("ministry-ken"))
    visit.go("/ministry/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your state's requests"
    assert page.get_by_role("heading", name="Awards waiting for your answer").is_visible()
    assert page.get_by_role("heading", name="Co-financing").is_visible()
    assert page.locator('nav.site-nav a[aria-current="page"]').inner_text() == "My requests"
    visit.screenshot("ministry-home-en")

    # Draft in round 2: the total in h100e-hours appears as the officer types.
    draft_a_request(visit, round_two, a100)
    total = page.locator("#size-total")
    assert total.inner_text() == f"{expected.normalize():,f} h100e-hours"
    assert "GPU-hours of NVIDIA A100" in page.locator("#size-equivalents").inner_text()
    page.get_by_label("Size requested").fill("")
    assert total.inner_text() == "Enter a size to see the total."
    page.get_by_label("Size requested").press_sequentially("2000")
    visit.screenshot("ministry-request-form-en")
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_url(re.compile(r"/ministry/requests/\d+/$"))
    request = ComputeRequest.objects.get(title=TITLE)
    assert request.status == RequestStatus.DRAFT and request.round == round_two
    assert request.h100e_hours == expected  # recomputed by the server: 2,000 GPU-hours x A100's factor
    assert {h.key for h in request.acceptable_hardware.all()} == {"NVIDIA_H100_SXM5_80GB", "NVIDIA_A100_SXM4_80GB"}

    # Submit it, after the confirmation page.
    page.get_by_role("link", name="Submit").click()
    page.get_by_role("button", name="Submit the request").click()
    page.wait_for_url(re.compile(rf"/ministry/requests/{request.pk}/$"))
    assert page.locator("#request-status").inner_text() == "Submitted"
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED and request.submitted_at is not None

    # A round-1 award: the explanation in plain words, then accept it.
    award = round_one_requests_of_kenya().filter(status=RequestStatus.ALLOCATED).order_by("id").first()
    visit.go(f"/ministry/requests/{award.pk}/")
    summary = page.locator(".explanation__summary").inner_text()
    assert summary.startswith("Your request received")
    assert page.get_by_role("heading", name="Why this amount").is_visible()
    assert page.locator("#award-hours").inner_text() != "0"
    visit.screenshot("ministry-award-en")
    page.get_by_role("link", name="Accept the award").click()
    page.get_by_role("button", name="Accept the award").click()
    page.wait_for_url(re.compile(rf"/ministry/requests/{award.pk}/$"))
    assert "The award is accepted." in page.locator(".messages").inner_text()
    award.refresh_from_db()
    assert award.status == RequestStatus.ACCEPTED

    # Appeal another decision of round 1.
    other = round_one_requests_of_kenya().exclude(pk=award.pk).order_by("id").first()
    visit.go(f"/ministry/requests/{other.pk}/")
    page.get_by_label("Why the decision should be reconsidered").fill(REASONS)
    page.get_by_role("button", name="Lodge the appeal").click()
    page.wait_for_url(re.compile(rf"/ministry/requests/{other.pk}/"))
    assert "Your appeal is lodged." in page.locator(".messages").inner_text()
    appeal = Appeal.objects.get(request=other)
    assert appeal.status == Appeal.Status.LODGED and appeal.reasons == REASONS

    # The secretariat answers it from its queue.
    visit.sign_in_as(user("secretariat"))
    visit.go("/")
    page.locator("nav.site-nav").get_by_role("link", name="Appeals").click()
    page.wait_for_url(re.compile(r"/secretariat/appeals/$"))
    visit.screenshot("secretariat-appeals-en")
    page.get_by_role("link", name=other.title).click()
    page.wait_for_url(re.compile(rf"/secretariat/appeals/{appeal.pk}/$"))
    page.get_by_role("button", name="Take under review").click()
    page.wait_for_url(re.compile(rf"/secretariat/appeals/{appeal.pk}/$"))
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.UNDER_REVIEW
    page.get_by_label("Uphold the appeal").check()
    page.get_by_label("What the secretariat will do (if upheld)").select_option("reconsider_next_round")
    page.get_by_label("Answer to the ministry").fill(ANSWER)
    visit.screenshot("secretariat-appeal-answer-en")
    page.get_by_role("button", name="Record the answer").click()
    page.wait_for_url(re.compile(r"/secretariat/appeals/$"))
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.UPHELD and appeal.answer == ANSWER
    assert appeal.remedy == Appeal.Remedy.RECONSIDER_NEXT_ROUND and appeal.answered_by == user("secretariat")

    # The ministry reads the answer on its request's page.
    visit.sign_in_as(user("ministry-ken"))
    visit.go(f"/ministry/requests/{other.pk}/")
    appeals = page.locator("#appeals")
    assert ANSWER in appeals.inner_text() and "Reconsideration in the next round" in appeals.inner_text()
    assert "Upheld" in appeals.inner_text()
    visit.screenshot("ministry-appeal-answered-en")

    # The main pages in Arabic, right to left.
    visit.use_language("ar")
    pages = (("/ministry/", "ministry-home-ar"),
             (f"/ministry/rounds/{round_two.pk}/requests/new/", "ministry-request-form-ar"),
             (f"/ministry/requests/{award.pk}/", "ministry-award-ar"),
             (f"/ministry/requests/{other.pk}/", "ministry-appeal-answered-ar"))
    for path, name in pages:
        assert visit.go(path).status == 200
        assert page.locator("html").get_attribute("dir") == "rtl"
        visit.screenshot(name)
    visit.sign_in_as(user("secretariat"))
    for path, name in (("/secretariat/appeals/?status=all", "secretariat-appeals-ar"),
                       (f"/secretariat/appeals/{appeal.pk}/", "secretariat-appeal-answer-ar")):
        assert visit.go(path).status == 200
        assert page.locator("html").get_attribute("dir") == "rtl"
        visit.screenshot(name)

    # The request form on a phone: no sideways scrolling, and the total still computed as one types.
    phone.sign_in_as(user("ministry-ken"))
    draft_a_request(phone, round_two, a100)
    assert phone.page.locator("#size-total").inner_text().endswith("h100e-hours")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the request form scrolls sideways on a phone ({width}px wide)"
    phone.screenshot("ministry-request-form-phone-en")
