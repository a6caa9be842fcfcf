"""The permission matrix: for every URL pattern, the status each role gets reading it and writing to it.

Roles: anonymous (the public), ministry_a (Kenya), ministry_b (Nepal), donor, provider, reviewer,
secretariat. ``w`` is the world of ``tests/security/conftest.py``; objects in paths belong to state A,
the donor or the provider unless the name says otherwise. Writes are sent with a valid body (JSON to the
API, a form to pages), so a role that may act gets the success code, and a role that may not gets its
refusal.
"""
import datetime
from dataclasses import dataclass, field

from tests.security.matrix_probe import ROLES


def expect(default: int, **roles: int) -> dict[str, int]:
    unknown = set(roles) - set(ROLES)
    assert not unknown, unknown
    return {role: roles.get(role, default) for role in ROLES}


@dataclass(frozen=True)
class Row:
    path: object  # callable(w) -> str
    read: dict[str, int] | None  # GET; None when the view refuses GET for everyone (then 405 is checked)
    writes: dict[str, tuple] = field(default_factory=dict)  # method -> (body(w) or None, {role: status})
    # roles whose write changes the database (default: those expecting 2xx; named, they must change it: a page
    # answers a refusal in a message with the same redirect as a success); every other role's write must
    # leave every row as it was
    changes: frozenset[str] | None = None


PUBLIC = expect(200)
MEMBERS = expect(200, anonymous=404)
NOBODY = expect(405)


def lot(w):
    return {"hardware": w.h100.key, "region": "SSA", "gpu_hours": "10", "available_from": "2026-01-01",
            "available_until": "2026-02-01", "value_usd_per_gpu_hour": "2"}


def policy(w):
    return {**w.open.policy, "open_weights_bonus": 1.3}


def request_body(w):
    return {"round": w.open.pk, "title": "Maize disease detection", "abstract": "Images", "sector": "agriculture",
            "h100e_hours": "100", "acceptable_hardware": [w.h100.key]}


TODAY = datetime.date(2026, 1, 1)

# --- Bodies of the portals' forms (pages take forms; the API takes JSON) --------------------------------


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _later(days: int) -> str:
    """A moment ``days`` from now, as the secretariat's date-and-time fields take it."""
    from django.utils import timezone

    return (timezone.now() + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def request_form(w):
    return {"title": "Maize disease detection", "abstract": "Images", "sector": "agriculture",
            "acceptable_hardware": [w.h100.pk], "size_unit": "h100e", "size": "100"}


def _lots_form(**lot):
    window = {"hardware": lot.pop("hardware"), "region": "SSA", "gpu_hours": "10", "available_from": _today(),
              "available_until": _today() + datetime.timedelta(days=60), **lot}
    return {"lots-TOTAL_FORMS": "1", "lots-INITIAL_FORMS": "0", "lots-MIN_NUM_FORMS": "1",
            "lots-MAX_NUM_FORMS": "20", **{f"lots-0-{key}": value for key, value in window.items()}}


def in_kind_pledge_form(w):
    return {"round": w.open.pk, **_lots_form(hardware=w.h100.pk, provider=w.provider_org.pk,
                                              value_usd_per_gpu_hour="2")}


def offer_form(w):
    return {"round": w.open.pk, **_lots_form(hardware=w.h100.pk, price_usd_per_gpu_hour="3")}


def policy_form(w):
    policy = w.open.policy
    data = {f"income_{group}": weight for group, weight in policy["income_weights"].items()}
    data.update({f"sector_{sector}": weight for sector, weight in policy["sector_weights"].items()})
    for key in ("local_language_bonus", "open_weights_bonus", "small_model_bonus", "small_model_max_params_billion"):
        data[key] = policy[key]
    return {**data, **policy["cofinancing"], "open_weights_bonus": 1.3}


def round_form(w):
    return {"number": 999, "title": "Round 999", "opens_at": _later(0), "submission_deadline": _later(60),
            "policy_from": "default"}


REASONS = "The lots in our region were left partly unused."
ANSWER = {"decision": "rejected", "answer": "The scores and the lots were checked; the decision stands."}

# Who opens the portals: each portal's own officers, everyone else refused, the public sent to sign in.
MINISTRIES = expect(403, anonymous=302, ministry_a=200, ministry_b=200)
STATE_A = expect(403, anonymous=302, ministry_a=200, ministry_b=404)  # state A's object in the ministry portal
STATE_A_WRITE = expect(403, anonymous=302, ministry_a=302, ministry_b=404)
DONOR = expect(403, anonymous=302, donor=200)
PROVIDER = expect(403, anonymous=302, provider=200)
SECRETARIAT = expect(403, anonymous=302, secretariat=200)
SECRETARIAT_WRITE = expect(403, anonymous=302, secretariat=302)
SECRETARIAT_POST_ONLY = expect(403, anonymous=302, secretariat=405)  # GET of a one-click action
SIGNED_IN_POST_ONLY = expect(405, anonymous=302)  # login_required, then require_POST, then the access helper
API_POST_ONLY = expect(405, anonymous=403)


def only(*roles):
    return frozenset(roles)

TABLE: dict[str, Row] = {
    # --- site pages ---------------------------------------------------------------------------------
    "home": Row(lambda w: "/", PUBLIC),
    "dashboard": Row(lambda w: "/dashboard/", PUBLIC),
    "healthz": Row(lambda w: "/healthz", PUBLIC),
    "favicon": Row(lambda w: "/favicon.ico", expect(301)),
    "login": Row(lambda w: "/accounts/login/", PUBLIC,
                 {"POST": (lambda w: {"username": "nobody", "password": "wrong-password"}, expect(200)),
                  "PUT": (lambda w: {"username": "nobody"}, expect(200))},  # Django's form views take PUT as POST
                 changes=frozenset()),
    "logout": Row(lambda w: "/accounts/logout/", NOBODY, {"POST": (None, expect(302))}, changes=frozenset()),
    "set_language": Row(lambda w: "/i18n/setlang/", expect(302), {"POST": (lambda w: {"language": "fr"}, expect(302))},
                        changes=frozenset()),
    "round-detail": Row(lambda w: f"/rounds/{w.open.pk}/", MEMBERS),
    # the page redirects everyone back to the round (the anonymous to sign in); only the secretariat's solve
    # starts, the others are refused in a message
    "round-solve": Row(lambda w: f"/rounds/{w.ready.pk}/solve/", expect(405, anonymous=302),
                       {"POST": (None, expect(302))}, changes=frozenset({"secretariat"})),
    "run-progress": Row(lambda w: f"/runs/{w.solved_run.pk}/progress/", expect(404, secretariat=200),
                        {"POST": (None, NOBODY)}),
    "audit-list": Row(lambda w: "/audit/", PUBLIC),
    "audit-verify": Row(lambda w: "/audit/verify/", PUBLIC, {"POST": (None, NOBODY)}),
    "audit-object": Row(lambda w: f"/audit/allocation.computerequest/{w.draft_a.pk}/",
                        expect(404, ministry_a=200, secretariat=200)),
    # --- API: schema and docs -------------------------------------------------------------------------
    "schema": Row(lambda w: "/api/schema/", PUBLIC),
    "swagger-ui": Row(lambda w: "/api/docs/", PUBLIC),
    "api:redoc": Row(lambda w: "/api/redoc/", PUBLIC),
    "api:not-found": Row(lambda w: f"/api/requests/R{w.draft_a.pk}/", expect(404),  # ids are numbers
                         {"POST": (lambda w: {}, expect(404))}),
    "api:auth-token": Row(lambda w: "/api/auth/token/", expect(405),
                          {"POST": (lambda w: {"username": "nobody", "password": "wrong"}, expect(400))}),
    # --- API: members ---------------------------------------------------------------------------------
    "api:member-state-list": Row(lambda w: "/api/member-states/", PUBLIC),
    "api:member-state-detail": Row(lambda w: "/api/member-states/KEN/", PUBLIC),
    "api:organisation-list": Row(lambda w: "/api/organisations/", expect(200, anonymous=403)),
    "api:organisation-detail": Row(lambda w: f"/api/organisations/{w.donor_org.pk}/", expect(200, anonymous=403)),
    # --- API: hardware, calls, rounds, runs -------------------------------------------------------------
    "api:hardware-list": Row(lambda w: "/api/hardware/", PUBLIC),
    "api:hardware-detail": Row(lambda w: f"/api/hardware/{w.h100.key}/", PUBLIC),
    "api:call-list": Row(lambda w: "/api/calls/", PUBLIC),
    "api:call-detail": Row(lambda w: f"/api/calls/{w.open.call_id}/", MEMBERS),
    "api:round-list": Row(lambda w: "/api/rounds/", PUBLIC),
    "api:round-detail": Row(lambda w: f"/api/rounds/{w.open.pk}/", MEMBERS),
    "api:round-close": Row(lambda w: f"/api/rounds/{w.open.pk}/close/", None,
                           {"POST": (None, expect(403, anonymous=403, secretariat=200))}),
    "api:round-reopen": Row(lambda w: f"/api/rounds/{w.closed.pk}/reopen/", None,
                            {"POST": (None, expect(403, anonymous=403, secretariat=200))}),
    "api:round-solve": Row(lambda w: f"/api/rounds/{w.ready.pk}/solve/", None,
                           {"POST": (None, expect(403, anonymous=403, secretariat=202))}),
    "api:round-publish": Row(lambda w: f"/api/rounds/{w.solved.pk}/publish/", None,
                             {"POST": (None, expect(403, anonymous=403, secretariat=200))}),
    "api:round-policy": Row(lambda w: f"/api/rounds/{w.open.pk}/policy/", None,
                            {"PUT": (policy, expect(403, anonymous=403, secretariat=200))}),
    "api:round-runs": Row(lambda w: f"/api/rounds/{w.published.pk}/runs/", PUBLIC),
    "api:run-detail": Row(lambda w: f"/api/runs/{w.solved_run.pk}/", expect(404, secretariat=200)),
    "api:run-approve": Row(lambda w: f"/api/runs/{w.solved_run.pk}/approve/", None,
                           {"POST": (None, expect(403, anonymous=403, secretariat=200))}),
    # --- API: pledges and offers ------------------------------------------------------------------------
    "api:pledge-list": Row(lambda w: "/api/pledges/", expect(403, anonymous=403, donor=200, secretariat=200),
                           {"POST": (lambda w: {"round": w.open.pk, "kind": "cash", "cash_usd": "50"},
                                     expect(403, anonymous=403, donor=201))}),
    "api:pledge-detail": Row(lambda w: f"/api/pledges/{w.pledge.pk}/",
                             expect(403, anonymous=403, donor=200, secretariat=200)),
    "api:pledge-withdraw": Row(lambda w: f"/api/pledges/{w.pledge.pk}/withdraw/", expect(405, anonymous=403),
                               {"POST": (None, expect(403, anonymous=403, donor=200))}),
    "api:offer-list": Row(lambda w: "/api/offers/", expect(403, anonymous=403, provider=200, secretariat=200),
                          {"POST": (lambda w: {"round": w.open.pk, "lots": [{**lot(w), "price_usd_per_gpu_hour": "3"}]},
                                    expect(403, anonymous=403, provider=201))}),
    "api:offer-detail": Row(lambda w: f"/api/offers/{w.offer.pk}/",
                            expect(403, anonymous=403, provider=200, secretariat=200)),
    "api:offer-withdraw": Row(lambda w: f"/api/offers/{w.offer.pk}/withdraw/", expect(405, anonymous=403),
                              {"POST": (None, expect(403, anonymous=403, provider=200))}),
    # --- API: requests and reviews ----------------------------------------------------------------------
    "api:request-list": Row(lambda w: "/api/requests/", expect(200, anonymous=403, donor=403, provider=403),
                            {"POST": (request_body, expect(403, anonymous=403, ministry_a=201, ministry_b=201))}),
    "api:request-detail": Row(lambda w: f"/api/requests/{w.draft_a.pk}/",
                              expect(404, anonymous=403, donor=403, provider=403, ministry_a=200, secretariat=200),
                              {"PATCH": (lambda w: {"title": "Renamed"},
                                         expect(403, anonymous=403, ministry_a=200, ministry_b=404))}),
    "api:request-submit": Row(lambda w: f"/api/requests/{w.draft_a.pk}/submit/", None,
                              {"POST": (None, expect(403, anonymous=403, ministry_a=200, ministry_b=404))}),
    "api:request-withdraw": Row(lambda w: f"/api/requests/{w.submitted_a.pk}/withdraw/", None,
                                {"POST": (None, expect(403, anonymous=403, ministry_a=200, ministry_b=404))}),
    "api:request-accept": Row(lambda w: f"/api/requests/{w.award_a.pk}/accept/", None,
                              {"POST": (None, expect(403, anonymous=403, ministry_a=200, ministry_b=404))}),
    "api:request-decline": Row(lambda w: f"/api/requests/{w.award_a.pk}/decline/", None,
                               {"POST": (None, expect(403, anonymous=403, ministry_a=200, ministry_b=404))}),
    "api:request-eligibility": Row(lambda w: f"/api/requests/{w.submitted_a.pk}/eligibility/", None,
                                   {"POST": (lambda w: {"eligible": True},
                                             expect(403, anonymous=403, secretariat=200))}),
    "api:review-list": Row(lambda w: "/api/reviews/", expect(403, anonymous=403, reviewer=200, secretariat=200),
                           {"POST": (lambda w: {"request": w.eligible_a.pk, "score": "0.7"},
                                     expect(403, anonymous=403, reviewer=201, secretariat=201))}),
    "api:review-detail": Row(lambda w: f"/api/reviews/{w.review.pk}/",
                             expect(403, anonymous=403, reviewer=200, secretariat=200)),
    # --- API: open data and the audit trail -------------------------------------------------------------
    "api:published-allocations": Row(lambda w: "/api/published/allocations/", PUBLIC),
    "api:published-summary": Row(lambda w: "/api/published/summary/", PUBLIC),
    "api:audit-list": Row(lambda w: f"/api/audit/?object=allocation.computerequest:{w.draft_a.pk}", PUBLIC),
    "api:audit-verify": Row(lambda w: "/api/audit/verify/", PUBLIC, {"POST": (None, expect(405, anonymous=405))}),
    # --- API: appeals -----------------------------------------------------------------------------------
    "api:appeal-list": Row(lambda w: "/api/appeals/",
                           expect(403, ministry_a=200, ministry_b=200, secretariat=200),
                           {"POST": (lambda w: {"request": w.award_a.pk, "reasons": REASONS},
                                     expect(403, ministry_a=201, ministry_b=400))}),  # B: an unknown request
    "api:appeal-detail": Row(lambda w: f"/api/appeals/{w.appeal.pk}/",
                             expect(403, ministry_a=200, ministry_b=404, secretariat=200)),
    "api:appeal-withdraw": Row(lambda w: f"/api/appeals/{w.appeal.pk}/withdraw/", API_POST_ONLY,
                               {"POST": (None, expect(403, ministry_a=200, ministry_b=404))}),
    "api:appeal-review": Row(lambda w: f"/api/appeals/{w.appeal.pk}/review/", API_POST_ONLY,
                             {"POST": (None, expect(403, secretariat=200))}),
    "api:appeal-answer": Row(lambda w: f"/api/appeals/{w.appeal.pk}/answer/", API_POST_ONLY,
                             {"POST": (lambda w: ANSWER, expect(403, secretariat=200))}),
    # --- public pages: awards and open data -------------------------------------------------------------
    "awards": Row(lambda w: "/dashboard/awards/", PUBLIC),
    "open-data": Row(lambda w: "/open-data/", PUBLIC),
    "open-data-download": Row(lambda w: "/open-data/allocations.csv", PUBLIC),
    # --- the ministry portal ----------------------------------------------------------------------------
    "ministry-home": Row(lambda w: "/ministry/", MINISTRIES),
    "ministry-request-new": Row(lambda w: f"/ministry/rounds/{w.open.pk}/requests/new/", MINISTRIES,
                                {"POST": (request_form, expect(403, anonymous=302, ministry_a=302, ministry_b=302))},
                                changes=only("ministry_a", "ministry_b")),  # each drafts for its own state
    "ministry-request-detail": Row(lambda w: f"/ministry/requests/{w.draft_a.pk}/", STATE_A),
    "ministry-request-edit": Row(lambda w: f"/ministry/requests/{w.draft_a.pk}/edit/", STATE_A,
                                 {"POST": (request_form, STATE_A_WRITE)}, changes=only("ministry_a")),
    "ministry-request-submit": Row(lambda w: f"/ministry/requests/{w.draft_a.pk}/submit/", STATE_A,
                                   {"POST": (None, STATE_A_WRITE)}, changes=only("ministry_a")),
    "ministry-request-withdraw": Row(lambda w: f"/ministry/requests/{w.submitted_a.pk}/withdraw/", STATE_A,
                                     {"POST": (None, STATE_A_WRITE)}, changes=only("ministry_a")),
    "ministry-request-accept": Row(lambda w: f"/ministry/requests/{w.award_a.pk}/accept/", STATE_A,
                                   {"POST": (None, STATE_A_WRITE)}, changes=only("ministry_a")),
    "ministry-request-decline": Row(lambda w: f"/ministry/requests/{w.award_a.pk}/decline/", STATE_A,
                                    {"POST": (None, STATE_A_WRITE)}, changes=only("ministry_a")),
    "ministry-appeal-lodge": Row(lambda w: f"/ministry/requests/{w.award_a.pk}/appeal/", SIGNED_IN_POST_ONLY,
                                 {"POST": (lambda w: {"reasons": REASONS}, STATE_A_WRITE)}, changes=only("ministry_a")),
    "ministry-appeal-withdraw": Row(lambda w: f"/ministry/appeals/{w.appeal.pk}/withdraw/", SIGNED_IN_POST_ONLY,
                                    {"POST": (None, STATE_A_WRITE)}, changes=only("ministry_a")),
    # --- the donor's pages ------------------------------------------------------------------------------
    "donor-home": Row(lambda w: "/donor/", DONOR),
    "donor-pledge-in-kind": Row(lambda w: "/donor/pledges/new/in-kind/", DONOR,
                                {"POST": (in_kind_pledge_form, expect(403, anonymous=302, donor=302))},
                                changes=only("donor")),
    "donor-pledge-cash": Row(lambda w: "/donor/pledges/new/cash/", DONOR,
                             {"POST": (lambda w: {"round": w.open.pk, "cash_usd": "50"},
                                       expect(403, anonymous=302, donor=302))}, changes=only("donor")),
    # the secretariat reads every pledge; other roles do not learn that a pledge exists
    "donor-pledge-detail": Row(lambda w: f"/donor/pledges/{w.published_pledge.pk}/",
                               expect(404, anonymous=302, donor=200, secretariat=200)),
    "donor-pledge-statement": Row(lambda w: f"/donor/pledges/{w.published_pledge.pk}/statement.csv",
                                  expect(404, anonymous=302, donor=200, secretariat=200)),
    "donor-pledge-withdraw": Row(lambda w: f"/donor/pledges/{w.pledge.pk}/withdraw/", SIGNED_IN_POST_ONLY,
                                 {"POST": (None, expect(403, anonymous=302, donor=302))}, changes=only("donor")),
    # --- the provider's pages ---------------------------------------------------------------------------
    "provider-home": Row(lambda w: "/provider/", PROVIDER),
    "provider-offer-new": Row(lambda w: "/provider/offers/new/", PROVIDER,
                              {"POST": (offer_form, expect(403, anonymous=302, provider=302))},
                              changes=only("provider")),
    "provider-offer-withdraw": Row(lambda w: f"/provider/offers/{w.offer.pk}/withdraw/", SIGNED_IN_POST_ONLY,
                                   {"POST": (None, expect(403, anonymous=302, provider=302))},
                                   changes=only("provider")),
    "provider-round-lines": Row(lambda w: f"/provider/rounds/{w.published.pk}/lines/", PROVIDER),
    "provider-lines-confirm-all": Row(lambda w: f"/provider/rounds/{w.published.pk}/lines/confirm-all/",
                                      SIGNED_IN_POST_ONLY,
                                      {"POST": (None, expect(403, anonymous=302, provider=302))},
                                      changes=only("provider")),
    "provider-line-confirm": Row(lambda w: f"/provider/lines/{w.line.pk}/confirm/", SIGNED_IN_POST_ONLY,
                                 {"POST": (None, expect(403, anonymous=302, provider=302))},
                                 changes=only("provider")),
    "provider-line-flag": Row(lambda w: f"/provider/lines/{w.line.pk}/flag/", PROVIDER,
                              {"POST": (lambda w: {"note": "The hosts of this lot are down for maintenance."},
                                        expect(403, anonymous=302, provider=302))}, changes=only("provider")),
    # the hosting provider, the secretariat and the receiving state's ministry read a line's feasibility
    "line-detail": Row(lambda w: f"/allocation-lines/{w.line.pk}/",
                       expect(404, anonymous=302, ministry_a=200, provider=200, secretariat=200)),
    # --- the reviewer's pages ---------------------------------------------------------------------------
    "reviews-home": Row(lambda w: "/reviews/", expect(403, anonymous=302, reviewer=200, secretariat=200)),
    # a reviewer reads only what is assigned to them (the secretariat assigns, it is assigned nothing)
    "review-score": Row(lambda w: f"/reviews/requests/{w.eligible_a.pk}/", expect(404, anonymous=302, reviewer=200),
                        {"POST": (lambda w: {"score": "0.7", "comments": "Sound"},
                                  expect(404, anonymous=302, reviewer=302))}, changes=only("reviewer")),
    # --- the secretariat's pages ------------------------------------------------------------------------
    "secretariat-home": Row(lambda w: "/secretariat/", SECRETARIAT),
    "secretariat-call-create": Row(lambda w: "/secretariat/calls/new/", SECRETARIAT,
                                   {"POST": (lambda w: {"title": "Call for 2027"}, SECRETARIAT_WRITE)},
                                   changes=only("secretariat")),
    "secretariat-round-create": Row(lambda w: f"/secretariat/calls/{w.open.call_id}/rounds/new/", SECRETARIAT,
                                    {"POST": (round_form, SECRETARIAT_WRITE)}, changes=only("secretariat")),
    "secretariat-round": Row(lambda w: f"/secretariat/rounds/{w.open.pk}/", SECRETARIAT),
    "secretariat-round-deadline": Row(lambda w: f"/secretariat/rounds/{w.open.pk}/deadline/", SECRETARIAT_POST_ONLY,
                                      {"POST": (lambda w: {"submission_deadline": _later(90)}, SECRETARIAT_WRITE)},
                                      changes=only("secretariat")),
    "secretariat-round-close": Row(lambda w: f"/secretariat/rounds/{w.open.pk}/close/", SECRETARIAT_POST_ONLY,
                                   {"POST": (None, SECRETARIAT_WRITE)}, changes=only("secretariat")),
    "secretariat-round-reopen": Row(lambda w: f"/secretariat/rounds/{w.closed.pk}/reopen/", SECRETARIAT_POST_ONLY,
                                    {"POST": (None, SECRETARIAT_WRITE)}, changes=only("secretariat")),
    "secretariat-eligibility": Row(lambda w: f"/secretariat/rounds/{w.open.pk}/eligibility/", SECRETARIAT),
    "secretariat-eligibility-decide": Row(lambda w: f"/secretariat/requests/{w.submitted_a.pk}/eligibility/",
                                          SECRETARIAT_POST_ONLY,
                                          {"POST": (lambda w: {"decision": "eligible"}, SECRETARIAT_WRITE)},
                                          changes=only("secretariat")),
    "secretariat-reviews": Row(lambda w: f"/secretariat/rounds/{w.open.pk}/reviews/", SECRETARIAT),
    "secretariat-review-assign": Row(lambda w: f"/secretariat/rounds/{w.open.pk}/reviews/assign/",
                                     SECRETARIAT_POST_ONLY,
                                     {"POST": (lambda w: {"requests": [w.unassigned_a.pk], "reviewer": w.reviewer.pk,
                                                          "due_date": _today() + datetime.timedelta(days=14)},
                                               SECRETARIAT_WRITE)}, changes=only("secretariat")),
    "secretariat-review-unassign": Row(lambda w: f"/secretariat/assignments/{w.assignment.pk}/unassign/",
                                       SECRETARIAT_POST_ONLY, {"POST": (None, SECRETARIAT_WRITE)},
                                       changes=only("secretariat")),
    "secretariat-policy": Row(lambda w: f"/secretariat/rounds/{w.open.pk}/policy/", SECRETARIAT,
                              {"POST": (policy_form, SECRETARIAT_WRITE)}, changes=only("secretariat")),
    "secretariat-compare": Row(lambda w: f"/secretariat/rounds/{w.published.pk}/compare/", SECRETARIAT),
    "secretariat-run-approve": Row(lambda w: f"/secretariat/runs/{w.solved_run.pk}/approve/", SECRETARIAT,
                                   {"POST": (None, SECRETARIAT_WRITE)}, changes=only("secretariat")),
    "secretariat-round-publish": Row(lambda w: f"/secretariat/rounds/{w.solved.pk}/publish/", SECRETARIAT,
                                     {"POST": (None, SECRETARIAT_WRITE)}, changes=only("secretariat")),
    "secretariat-cofinancing": Row(lambda w: "/secretariat/cofinancing/", SECRETARIAT),
    "secretariat-payment": Row(lambda w: f"/secretariat/cofinancing/{w.obligation.pk}/payment/", SECRETARIAT,
                               {"POST": (lambda w: {"amount_usd": "1.00", "paid_on": _today()}, SECRETARIAT_WRITE)},
                               changes=only("secretariat")),
    "secretariat-appeals": Row(lambda w: "/secretariat/appeals/", SECRETARIAT),
    "secretariat-appeal-detail": Row(lambda w: f"/secretariat/appeals/{w.appeal.pk}/", SECRETARIAT,
                                     {"POST": (lambda w: ANSWER, SECRETARIAT_WRITE)}, changes=only("secretariat")),
    "secretariat-appeal-review": Row(lambda w: f"/secretariat/appeals/{w.appeal.pk}/review/", SIGNED_IN_POST_ONLY,
                                     {"POST": (None, SECRETARIAT_WRITE)}, changes=only("secretariat")),
}
