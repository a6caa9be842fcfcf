"""The secretariat's and a reviewer's journeys in a real browser, on the demo alliance: open a round; check
eligibility, assign a reviewer, who scores; change a weight of round 1, solve with the progress bar, change
another, solve again, compare the two runs, approve one and publish; record a co-financing payment.

Solves started from the page run eagerly in the live server by default, and on a real Celery worker
through Redis in CI's PostgreSQL pass (the ``solver_worker`` fixture)."""
import re
import time

import pytest
from playwright.sync_api import expect

expect.set_options(timeout=30_000)
pytestmark = pytest.mark.django_db(transaction=True)

SOLVE_TIMEOUT_S = 300


@pytest.fixture
def demo_round_one_closed(transactional_db):
    """The demo alliance as loaded: round 1 closed, every request decided and scored, not yet solved;
    round 2 open with submitted requests."""
    from allocation import demo
    from allocation.models import Round

    demo.demo_load()
    return {
        "round1": Round.objects.get(call__title=demo.CALL_TITLE, number=1),
        "round2": Round.objects.get(call__title=demo.CALL_TITLE, number=2),
    }


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def _wait_for_run(round_, count: int):
    """Wait until the round has ``count`` finished runs (the page follows the worker meanwhile)."""
    from allocation.models import AllocationRun

    deadline = time.monotonic() + SOLVE_TIMEOUT_S
    while time.monotonic() < deadline:
        runs = list(AllocationRun.objects.filter(round=round_).order_by("id"))
        if len(runs) >= count and runs[-1].status in (AllocationRun.Status.SUCCEEDED, AllocationRun.Status.FAILED):
            return runs[-1]
        time.sleep(0.3)
    raise AssertionError(f"run {count} of round {round_.pk} did not finish within {SOLVE_TIMEOUT_S} s")


def _solve_from_the_round_page(visit, round_, count: int, screenshot: str | None = None):
    """Press "Solve this round" and follow the run to its end; a screenshot of the progress bar when a worker
    solves (in-process solves finish before the page comes back)."""
    page = visit.page
    visit.go(f"/rounds/{round_.pk}/")
    page.get_by_role("button", name="Solve this round").click(no_wait_after=True)
    page.wait_for_selector("#run-progress-bar, .message--success, .message--error", timeout=SOLVE_TIMEOUT_S * 1000)
    if page.locator("#run-progress-bar").count() and screenshot:  # shown (visible) while a worker solves
        visit.screenshot(screenshot)
    run = _wait_for_run(round_, count)
    assert run.status == "succeeded", run.error
    page.wait_for_load_state()
    visit.go(f"/rounds/{round_.pk}/")
    assert page.locator("#run-progress-bar").count() == 0
    return run


def _set_policy_weight(visit, round_, label: str, value: str):
    page = visit.page
    visit.go(f"/secretariat/rounds/{round_.pk}/policy/")
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    page.get_by_role("button", name="Save the policy").click()
    expect(page.locator(".message--success")).to_contain_text("The policy is saved.")


def test_secretariat_and_reviewer_journeys_on_the_demo_alliance(visit, demo_round_one_closed, solver_worker):
    """One test for both journeys: the demo alliance takes most of the time to build."""
    _open_a_round_check_eligibility_and_a_reviewer_scores(visit, demo_round_one_closed)
    visit.use_language("en")
    _solve_compare_approve_publish_and_record_a_payment(visit, demo_round_one_closed)


def _solve_compare_approve_publish_and_record_a_payment(visit, demo_round_one_closed):
    from allocation.models import AllocationRun, CofinancingObligation, RequestStatus, RoundStatus

    round1 = demo_round_one_closed["round1"]
    page = visit.page
    visit.sign_in_as(_user("secretariat"))

    visit.go("/secretariat/")
    expect(page.get_by_role("heading", level=1, name="Calls and rounds")).to_be_visible()
    expect(page.get_by_role("link", name="Every request is decided and scored: solve the round")).to_be_visible()
    assert page.get_by_role("link", name="Secretariat").first.get_attribute("aria-current") == "page"
    visit.screenshot("secretariat-home-en")

    # A weight of round 1, then a solve with the progress bar.
    _set_policy_weight(visit, round1, "Low income", "3")
    round1.refresh_from_db()
    assert round1.policy["income_weights"]["LIC"] == 3.0
    visit.screenshot("secretariat-policy-en")
    first = _solve_from_the_round_page(visit, round1, 1, screenshot="secretariat-solve-progress-en")
    visit.screenshot("secretariat-round-solved-en")

    # Another weight, another solve.
    _set_policy_weight(visit, round1, "Lower-middle income", "2.5")
    second = _solve_from_the_round_page(visit, round1, 2)
    assert first.scenario["policy"]["income_weights"]["LMIC"] == 1.5
    assert second.scenario["policy"]["income_weights"]["LMIC"] == 2.5

    # The two runs side by side: the policy change and who gained or lost.
    visit.go(f"/secretariat/rounds/{round1.pk}/")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"/compare/\?a=\d+&b=\d+"))
    policy_row = page.locator("tr", has_text="Equity weight: Lower-middle income")
    assert policy_row.locator("td").all_inner_texts() == ["1.5", "2.5"]
    changed = page.locator(".stat-line strong").inner_text()
    count = int(re.match(r"(\d+)", changed).group(1))
    assert count > 0, changed
    first_change = page.locator("#comparison-table tbody tr").first.locator("td").nth(4).inner_text()
    assert first_change not in ("0", "—")
    visit.screenshot("secretariat-compare-en")

    # Sorting by state is a link (works without script) and keeps the runs chosen.
    page.get_by_role("link", name="State", exact=True).click()
    page.wait_for_url(re.compile(r"sort=state"))
    assert page.locator("#comparison-table thead th[aria-sort]").inner_text().strip().startswith("State")

    # Approve the second run, with confirmation.
    page.get_by_role("link", name=f"Approve run {second.pk}").click()
    expect(page.get_by_role("heading", name="Check before approving")).to_be_visible()
    visit.screenshot("secretariat-approve-en")
    page.get_by_role("button", name=f"Yes, approve run {second.pk}").click()
    page.wait_for_url(re.compile(rf"/secretariat/rounds/{round1.pk}/$"))
    second.refresh_from_db()
    assert second.is_approved
    assert not AllocationRun.objects.get(pk=first.pk).is_approved

    # Publish, with confirmation.
    page.get_by_role("link", name="Publish the round", exact=True).click()
    visit.screenshot("secretariat-publish-en")
    page.get_by_role("button", name="Yes, publish the round").click()
    page.wait_for_url(re.compile(rf"/secretariat/rounds/{round1.pk}/$"))
    expect(page.locator(".message--success")).to_contain_text("is published: ministries see their awards")
    round1.refresh_from_db()
    assert round1.status == RoundStatus.PUBLISHED
    assert not round1.requests.filter(status=RequestStatus.SCORED).exists()

    # The ledger: the published decision's obligations, and a payment recorded.
    visit.go("/secretariat/cofinancing/")
    rows = page.locator("table.data-table tbody tr")
    assert rows.count() == CofinancingObligation.objects.filter(run=second).count() > 0
    visit.screenshot("secretariat-ledger-en")
    row = rows.first
    obligation = CofinancingObligation.objects.get(pk=int(row.get_attribute("id").split("-")[1]))
    row.get_by_role("link", name=re.compile("Record a payment")).click()
    page.get_by_label("Amount paid (US$)").fill("999999999")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.locator("#form-errors")).to_be_visible()
    assert "The payment exceeds what is outstanding" in page.locator("#form-errors").inner_text()
    visit.screenshot("secretariat-payment-error-en")
    page.get_by_label("Amount paid (US$)").fill("100")
    page.get_by_role("button", name="Record the payment").click()
    page.wait_for_url(re.compile(r"/secretariat/cofinancing/"))
    obligation.refresh_from_db()
    assert str(obligation.paid_usd) == "100.00"

    # The same pages in Arabic, right to left.
    visit.use_language("ar")
    for path, name in [("/secretariat/", "secretariat-home-ar"),
                       (f"/secretariat/rounds/{round1.pk}/", "secretariat-round-ar"),
                       (f"/secretariat/rounds/{round1.pk}/policy/", "secretariat-policy-ar"),
                       (f"/secretariat/rounds/{round1.pk}/compare/?a={first.pk}&b={second.pk}",
                        "secretariat-compare-ar"),
                       ("/secretariat/cofinancing/", "secretariat-ledger-ar"),
                       (f"/secretariat/cofinancing/{obligation.pk}/payment/", "secretariat-payment-ar")]:
        visit.go(path)
        assert page.locator("html").get_attribute("dir") == "rtl"
        visit.screenshot(name)


def _open_a_round_check_eligibility_and_a_reviewer_scores(visit, demo_round_one_closed):
    from allocation.models import RequestStatus, Review, ReviewAssignment, Round

    round2 = demo_round_one_closed["round2"]
    page = visit.page
    visit.sign_in_as(_user("secretariat"))

    # Open round 3 of the demo call, with round 2's policy.
    visit.go("/secretariat/")
    page.get_by_role("link", name=re.compile("Open a round")).first.click()
    assert page.get_by_label("Round number").input_value() == "3"
    visit.screenshot("secretariat-round-form-en")
    page.get_by_role("button", name="Open the round").click()
    page.wait_for_url(re.compile(r"/secretariat/rounds/\d+/$"))
    round3 = Round.objects.get(call=round2.call, number=3)
    assert round3.status == "open" and round3.policy == round2.policy
    expect(page.get_by_role("button", name="Close the round")).to_be_visible()

    # Eligibility of round 2: one click for eligible; "not eligible" needs a reason.
    visit.go(f"/secretariat/rounds/{round2.pk}/eligibility/?status=submitted")
    submitted = list(round2.requests.filter(status=RequestStatus.SUBMITTED).order_by("submitted_at", "id"))
    assert page.locator(".queue__item").count() == len(submitted) == 4
    visit.screenshot("secretariat-eligibility-en")
    eligible, refused = submitted[0], submitted[1]
    page.get_by_role("button", name=f"Eligible — {eligible.scenario_id}", exact=True).click()
    expect(page.locator(".message--success")).to_have_text(f"{eligible.scenario_id} is eligible.")
    page.get_by_role("button", name=f"Not eligible — {refused.scenario_id}").click()
    expect(page.locator(".message--error")).to_be_visible()
    assert "Say why the request is not eligible" in page.locator(f"#request-{refused.pk} .form__error").inner_text()
    visit.screenshot("secretariat-eligibility-error-en")
    page.get_by_label(f"Reason for {refused.scenario_id}").fill("The same study was funded in round 1.")
    page.get_by_role("button", name=f"Not eligible — {refused.scenario_id}").click()
    expect(page.locator(".message--success")).to_have_text(f"{refused.scenario_id} is not eligible.")
    eligible.refresh_from_db()
    refused.refresh_from_db()
    assert eligible.status == RequestStatus.ELIGIBLE
    assert (refused.status, refused.eligibility_note) == (RequestStatus.INELIGIBLE,
                                                          "The same study was funded in round 1.")

    # Assign reviewer1 to the eligible request.
    visit.go(f"/secretariat/rounds/{round2.pk}/reviews/")
    page.get_by_label(f"Choose {eligible.scenario_id}").check()
    reviewer = _user("reviewer1")
    page.get_by_label("Reviewer", exact=True).select_option(value=str(reviewer.pk))
    page.get_by_role("button", name="Assign the ticked requests").click()
    expect(page.locator(".message--success")).to_contain_text("is assigned 1 request")
    assignment = ReviewAssignment.objects.get(request=eligible)
    assert assignment.reviewer == reviewer
    visit.screenshot("secretariat-reviews-en")

    # The reviewer scores it.
    visit.sign_in_as(reviewer)
    visit.go("/reviews/")
    assert page.get_by_role("link", name="My reviews").get_attribute("aria-current") == "page"
    visit.screenshot("reviews-list-en")
    page.get_by_role("link", name=f"Score {eligible.scenario_id}").click()
    page.get_by_label("Score", exact=True).fill("1.5")
    page.get_by_role("button", name="Submit the score").click()
    assert "The score is between 0 and 1." in page.locator("#form-errors").inner_text()
    visit.screenshot("reviews-score-error-en")
    page.get_by_label("Score", exact=True).fill("0.82")
    page.get_by_label("Comments").fill("Clear plan, local data, open weights.")
    page.get_by_role("button", name="Submit the score").click()
    page.wait_for_url(re.compile(r"/reviews/$"))
    eligible.refresh_from_db()
    assert eligible.status == RequestStatus.SCORED and str(eligible.score) == "0.820"
    assert Review.objects.get(request=eligible, reviewer=reviewer).comments == "Clear plan, local data, open weights."

    # The secretariat sees the score collected.
    visit.sign_in_as(_user("secretariat"))
    visit.go(f"/secretariat/rounds/{round2.pk}/reviews/")
    row = page.locator("tr", has_text=eligible.scenario_id)
    assert "scored 0.82" in row.inner_text()

    visit.use_language("ar")
    for path, name in [(f"/secretariat/rounds/{round2.pk}/eligibility/", "secretariat-eligibility-ar"),
                       (f"/secretariat/rounds/{round2.pk}/reviews/", "secretariat-reviews-ar"),
                       (f"/secretariat/calls/{round2.call_id}/rounds/new/", "secretariat-round-form-ar")]:
        visit.go(path)
        assert page.locator("html").get_attribute("dir") == "rtl"
        visit.screenshot(name)
    visit.sign_in_as(reviewer)
    visit.go("/reviews/")
    visit.screenshot("reviews-list-ar")
    visit.go(f"/reviews/requests/{eligible.pk}/")
    visit.screenshot("reviews-score-ar")


def test_secretariat_pages_fit_a_phone(phone, secretariat_officer, small_round):
    phone.sign_in_as(secretariat_officer)
    for path, name in [("/secretariat/", "secretariat-home-phone-en"),
                       (f"/secretariat/rounds/{small_round.pk}/", "secretariat-round-phone-en"),
                       (f"/secretariat/rounds/{small_round.pk}/eligibility/", "secretariat-eligibility-phone-en"),
                       (f"/secretariat/rounds/{small_round.pk}/reviews/", "secretariat-reviews-phone-en")]:
        phone.go(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px wide)"
        phone.screenshot(name)
