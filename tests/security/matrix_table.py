"""The permission matrix: for every URL pattern, the status each role gets reading it and writing to it.

Roles: anonymous (the public), ministry_a (Kenya), ministry_b (Nepal), donor, provider, reviewer,
secretariat. ``w`` is the world of ``tests/security/conftest.py``; objects in paths belong to state A,
the donor or the provider unless the name says otherwise. Writes are sent with a valid body, so a
role that may act gets the success code, and a role that may not gets its refusal.
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
    # roles whose write may change the database (default: those expecting 2xx); every other role's write
    # must leave every row as it was
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
}
