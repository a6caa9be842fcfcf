"""A published result told to the ministry it affects, in plain words: why this amount, what stopped it
and what would have changed it.

The engine's explanation (allocation-v1: ``reason``, ``level``, ``binding`` constraints with their shadow
prices) is read together with the run's frozen scenario and output, so that every sentence can be checked
against the document whose SHA-256 was published. The sentences go through Django's translation machinery;
numbers are localised when they are rendered.
"""
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from allocation.models import HardwareType, RequestResult
from allocation.solver import engine, network
from allocation.solver.model import ScenarioError, parse_scenario
from allocation.solver.rules import admits, compatible
from members.models import Region

SPARE_MIN_GPU_HOURS = 1.0  # capacity left unused below this is noise, not a missed chance
MAX_SUGGESTIONS = 3
MAX_PLACES = 4


@dataclass
class Explanation:
    reason: str
    summary: str
    stopped_by: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    weight: float | None = None
    weight_parts: list[tuple[str, str]] = field(default_factory=list)
    level: float | None = None
    binding: list[dict] = field(default_factory=list)
    engine_text: str = ""


def _number(value: float, places: int, grouping: bool = True) -> str:
    """A localised number rounded half away from zero (Django's number_format cuts extra places off)."""
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number_format(rounded, decimal_pos=places, use_l10n=True, force_grouping=grouping)


def _hours(value: float) -> str:
    return _number(value, 0 if abs(value) >= 10 else 2)


def _money(value: float) -> str:
    return _number(value, 2)


def _pct(fraction: float) -> str:
    percent = 100 * fraction
    return _number(percent, 0 if percent >= 10 or percent == 0 else 1)


def _factor(value: float) -> str:
    return _number(value, 3, grouping=False)


def _region(code: str) -> str:
    try:
        return str(Region(code).label)
    except ValueError:
        return code


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return _("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


class _Context:
    """The request, its country and the round's lots as the engine saw them."""

    def __init__(self, result: RequestResult):
        run = result.run
        self.result = result
        self.scenario = parse_scenario(run.scenario)
        self.request = next(r for r in self.scenario.requests if r.id == result.request.scenario_id)
        self.country = next(c for c in self.scenario.countries if c.iso3 == self.request.country)
        self.lots = {lot.id: lot for lot in self.scenario.lots}
        self.h100e = {hw.id: hw.h100e for hw in self.scenario.hardware}
        output = run.output or {}
        self.used = {lot["id"]: float(lot.get("used_gpu_hours", 0.0)) for lot in output.get("lots", [])}
        cash = output.get("cash", {})
        self.cash_left = float(cash.get("available_usd", 0.0)) - float(cash.get("spent_usd", 0.0))
        keys = {lot.hardware for lot in self.scenario.lots} | set(self.request.hardware)
        self.names = dict(HardwareType.objects.filter(key__in=keys).values_list("key", "name"))

    def hardware_name(self, key: str) -> str:
        return self.names.get(key, key.replace("_", " "))

    def where(self, lot) -> str:
        return _("%(hardware)s in %(region)s") % {"hardware": self.hardware_name(lot.hardware),
                                                  "region": _region(lot.region)}

    def places(self, lots) -> str:
        """The hardware and regions of some lots, grouped by hardware: "H100 (South Asia; Sub-Saharan Africa)"."""
        regions: dict[str, set[str]] = {}
        for lot in lots:
            regions.setdefault(lot.hardware, set()).add(lot.region)
        items = [_("%(hardware)s (%(regions)s)") % {
            "hardware": self.hardware_name(hw), "regions": "; ".join(sorted(_region(r) for r in codes))}
            for hw, codes in sorted(regions.items(), key=lambda item: self.hardware_name(item[0]))]
        if len(items) > MAX_PLACES:
            items = items[:MAX_PLACES] + [_("%(count)s other types") % {"count": len(items) - MAX_PLACES}]
        return _join(items)

    def unused_elsewhere(self) -> list[dict]:
        """Capacity left unused that this request could not use only because of its hardware or its data
        residency (the donors' conditions admitted it), grouped by hardware and region, largest first."""
        groups: dict[tuple[str, str], dict] = {}
        for lot in self.scenario.lots:
            spare = lot.gpu_hours - self.used.get(lot.id, 0.0)
            if spare < SPARE_MIN_GPU_HOURS or compatible(self.request, self.country, lot):
                continue
            if not admits(lot, self.request.sector, self.country):
                continue
            if lot.price_usd_per_gpu_hour is not None and self.cash_left < lot.price_usd_per_gpu_hour:
                continue  # for sale, and the pool has no cash left to buy it
            group = groups.setdefault((lot.hardware, lot.region), {
                "hardware": lot.hardware, "region": lot.region, "h100e_hours": 0.0,
                "needs_hardware": lot.hardware not in self.request.hardware,
                "needs_region": bool(self.request.regions) and lot.region not in self.request.regions,
            })
            group["h100e_hours"] += spare * self.h100e.get(lot.hardware, 1.0)
        return sorted(groups.values(), key=lambda g: (-g["h100e_hours"], g["hardware"], g["region"]))

    def suggestions(self) -> list[str]:
        sentences = []
        for group in self.unused_elsewhere()[:MAX_SUGGESTIONS]:
            words = {"hours": _hours(group["h100e_hours"]), "hardware": self.hardware_name(group["hardware"]),
                     "region": _region(group["region"])}
            if group["needs_hardware"] and group["needs_region"]:
                text = _("%(hours)s h100e-hours of %(hardware)s in %(region)s were left unused: accepting "
                         "%(hardware)s and allowing your data to be processed in %(region)s could have raised "
                         "your allocation.")
            elif group["needs_hardware"]:
                text = _("%(hours)s h100e-hours of %(hardware)s in %(region)s were left unused: accepting "
                         "%(hardware)s could have raised your allocation.")
            else:
                text = _("%(hours)s h100e-hours of %(hardware)s in %(region)s were left unused: allowing your "
                         "data to be processed in %(region)s could have raised your allocation.")
            sentences.append(text % words)
        return sentences

    def weight_parts(self) -> list[tuple[str, str]]:
        policy, request = self.scenario.policy, self.request
        parts = [(_("Review score"), _factor(request.score)),
                 (_("Income group weight (%(group)s)") % {"group": self.country.income_group},
                  _factor(policy.income_weights.get(self.country.income_group, 1.0))),
                 (_("Sector weight"), _factor(policy.sector_weights.get(request.sector, 1.0)))]
        if request.local_language:
            parts.append((_("Local-language bonus"), _factor(policy.local_language_bonus)))
        if request.open_weights:
            parts.append((_("Open-weights bonus"), _factor(policy.open_weights_bonus)))
        if request.params_billion is not None and request.params_billion <= policy.small_model_max_params_billion:
            parts.append((_("Small-model bonus"), _factor(policy.small_model_bonus)))
        return parts


def _binding_rows(context: _Context, binding: list[dict]) -> list[dict]:
    rows = []
    for entry in binding:
        kind = entry.get("constraint")
        if kind == "lot":
            lot = context.lots.get(entry.get("id"))
            what = _("Lot %(lot)s: %(where)s") % {"lot": entry.get("id"), "where": context.where(lot)} if lot else \
                entry.get("id")
            label, unit = _("Capacity of a lot"), _("GPU-hours")
        elif kind == network.COUNTRY_BUDGET:
            what, label, unit = entry.get("id"), _("Co-financing budget of a state"), _("US$")
        else:
            what, label, unit = _("Pooled cash"), _("Cash for buying offered capacity"), _("US$")
        rows.append({"label": label, "what": what, "limit": entry.get("limit"), "unit": unit,
                     "shadow_price": entry.get("shadow_price")})
    return rows


def explain_result(result: RequestResult) -> Explanation:
    """The plain-words explanation of one published result."""
    data = result.explanation or {}
    reason = data.get("reason") or result.reason
    binding = list(data.get("binding") or [])
    try:
        context = _Context(result)
    except (ScenarioError, StopIteration, TypeError, KeyError):
        return Explanation(reason=reason, summary=data.get("text", ""), engine_text=data.get("text", ""))
    request, allocated = context.request, result.allocated_h100e_hours
    words = {
        "got": _hours(allocated), "asked": _hours(request.h100e_hours), "pct": _pct(result.fulfilment),
        "state": result.request.member_state.name, "minimum": _hours(request.min_h100e_hours),
    }
    excluded = (allocated <= 0 and reason in (network.LOT_FULL, network.CASH_POOL, network.COUNTRY_BUDGET)
                and all(entry.get("shadow_price") is None for entry in binding))
    explanation = Explanation(reason=reason, summary="", weight=result.weight, level=data.get("level"),
                              weight_parts=context.weight_parts(), binding=_binding_rows(context, binding),
                              engine_text=data.get("text", ""))
    stopped, changes = explanation.stopped_by, explanation.changes
    rise = _("Raising it further would have taken compute from requests whose weighted share was equal or lower.")
    more_weight = _("A request rises with its weight: a higher review score, or a request for local-language, "
                    "open-weights or small-model work, would have raised its share.")

    if reason == engine.DEMAND_MET:
        explanation.summary = _("Your request received all of the %(asked)s h100e-hours it asked for.") % words
    elif reason == network.NOT_ELIGIBLE:
        explanation.summary = _("Your request was not eligible this round, so it received no compute.")
        note = result.request.eligibility_note
        if note:
            stopped.append(_("The secretariat's note: %(note)s") % {"note": note})
        changes.append(_("A revised request that meets the call's conditions can be submitted in a later round."))
    elif reason == network.NO_COMPATIBLE_LOT:
        explanation.summary = _("No capacity in this round matched your request's hardware, data residency and "
                                "the donors' conditions, so it received no compute.")
        changes.extend(context.suggestions() or [
            _("No capacity of this round was left that other hardware or regions would have opened to your request.")
        ])
    elif reason == engine.BELOW_MINIMUM:
        would = float(data.get("would_have_received_h100e_hours", 0.0))
        explanation.summary = _(
            "Your request was deferred: its fair share, %(would)s h100e-hours (%(would_pct)s%% of what it asked), "
            "was below its minimum useful size of %(minimum)s h100e-hours, so that capacity went to other requests "
            "this round.") % {**words, "would": _hours(would), "would_pct": _pct(would / request.h100e_hours)}
        changes.append(_("A minimum useful size of at most %(would)s h100e-hours would have let it receive its fair "
                         "share.") % {"would": _hours(would)})
    elif excluded:
        explanation.summary = {
            network.LOT_FULL: _("The capacity your request can use had nothing left this round, so it received "
                                "no compute."),
            network.CASH_POOL: _("The capacity your request can use must be bought, and the pool held no cash "
                                 "for it this round, so it received no compute."),
            network.COUNTRY_BUDGET: _("Every lot your request can use needs co-financing, and the "
                                      "co-financing budget of %(state)s for this round was US$0, so it received no "
                                      "compute.")
            % words,
        }[reason]
        if reason == network.COUNTRY_BUDGET:
            changes.append(_("A co-financing budget committed by your state for the round would have let it "
                             "receive compute."))
        else:
            changes.extend(context.suggestions())
    else:
        explanation.summary = _("Your request received %(got)s of the %(asked)s h100e-hours it asked for "
                                "(%(pct)s%%).") % words
        if reason == network.LOT_FULL:
            lots = [context.lots[b["id"]] for b in binding if b.get("constraint") == "lot" and b.get("id")
                    in context.lots]
            stopped.append(_("It could not rise further because the capacity it can use was fully allocated: "
                             "%(places)s.") % {"places": context.places(lots) or _("every compatible lot")})
            stopped.append(rise)
            changes.extend(context.suggestions() or [
                _("No capacity was left unused that other hardware or regions would have opened to your request; "
                  "more capacity on the hardware and in the regions you accept would raise it in a later round.")
            ])
        elif reason == network.COUNTRY_BUDGET:
            budget = context.country.budget_usd or 0.0
            stopped.append(_("It could not rise further because the co-financing budget of %(state)s for this round "
                             "(US$%(budget)s) was fully committed.") % {**words, "budget": _money(budget)})
            stopped.append(rise)
            changes.append(_("A larger co-financing budget committed by your state for the round would have raised "
                             "it."))
        elif reason == network.CASH_POOL:
            stopped.append(_("It could not rise further because the pooled cash for buying offered capacity "
                             "(US$%(cash)s) was fully spent.") % {"cash": _money(context.scenario.cash_usd)})
            stopped.append(rise)
            changes.append(_("More cash pledged by donors, or more capacity donated in kind that your request can "
                             "use, would have raised it."))
            changes.extend(context.suggestions())
        elif reason in (engine.TIME_LIMIT, engine.SOLVER_STOPPED):
            stopped.append(_("The computation stopped at this level before it was finished; the request might "
                             "have risen further."))
        else:  # no_headroom
            stopped.append(_("It could not rise further without lowering requests whose weighted share was equal "
                             "or lower."))
            changes.extend(context.suggestions())
        changes.append(more_weight)
    return explanation
