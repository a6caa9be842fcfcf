"""Site-wide pages: the home page and the public dashboard (login and logout are Django's own views)."""
from dataclasses import dataclass
from decimal import Decimal

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from alliance import selectors
from members.models import Role

# --- Role areas of the home page --------------------------------------------------------------------

ROLE_AREA = {
    Role.MINISTRY_OFFICER: "ministry",
    Role.DONOR_OFFICER: "donor",
    Role.PROVIDER_OFFICER: "provider",
    Role.SECRETARIAT_OFFICER: "secretariat",
    Role.REVIEWER: "secretariat",
}


@dataclass(frozen=True)
class AreaLink:
    label: str
    url_names: tuple[str, ...]  # tried in order: the first that resolves wins (pages may replace API views)
    fallback: str


@dataclass(frozen=True)
class RoleArea:
    key: str
    title: str
    summary: str
    tasks: tuple[str, ...]
    links: tuple[AreaLink, ...]


API_DOCS = AreaLink(_("API reference"), ("swagger-ui",), "/api/docs/")

ROLE_AREAS = (
    RoleArea(
        "ministry",
        _("Ministry officers"),
        _("Ask for compute for your state's public-interest research and follow each request to its result."),
        (
            _("Prepare and submit requests sized in H100-equivalent hours"),
            _("Follow review and allocation, with the reasons for every decision"),
            _("Accept allocations and see the co-financing your state owes"),
        ),
        (AreaLink(_("Your requests"), ("ministry-home", "api:request-list"), "/ministry/"), API_DOCS),
    ),
    RoleArea(
        "donor",
        _("Donor officers"),
        _("Pledge GPU-hours on real hardware, or cash that buys capacity offered by providers."),
        (
            _("Pledge capacity in kind or in cash to a round"),
            _("Earmark lots for sectors, income groups or countries"),
            _("See where every pledged hour went once a round is published"),
        ),
        (AreaLink(_("Your pledges"), ("api:pledge-list",), "/api/pledges/"), API_DOCS),
    ),
    RoleArea(
        "provider",
        _("Provider officers"),
        _("Offer capacity for sale to the pool, bought with donors' cash at the price you set."),
        (
            _("Publish offers of GPU-hours by hardware, region and window"),
            _("Host capacity that donors pledge in kind"),
            _("See which of your lots were used in published rounds"),
        ),
        (AreaLink(_("Your offers"), ("api:offer-list",), "/api/offers/"), API_DOCS),
    ),
    RoleArea(
        "secretariat",
        _("Secretariat and reviewers"),
        _("Run the calls and rounds, review requests, run and approve the allocation, publish it."),
        (
            _("Open calls and rounds, check eligibility, score requests"),
            _("Run the optimiser, inspect the result, approve and publish"),
            _("Record co-financing payments"),
        ),
        (
            AreaLink(_("Secretariat administration"), ("admin:index",), "/admin/"),
            AreaLink(_("Reviews"), ("api:review-list",), "/api/reviews/"),
        ),
    ),
    RoleArea(
        "public",
        _("Everyone"),
        _("Every decision is published: what was pledged, what was asked for, and who received what."),
        (
            _("Read the public dashboard"),
            _("Download the open data through the API"),
        ),
        (
            AreaLink(_("Public dashboard"), ("dashboard",), "/dashboard/"),
            AreaLink(_("Published allocations (open data)"), ("api:published-allocations",),
                     "/api/published/allocations/"),
            AreaLink(_("API schema"), ("schema",), "/api/schema/"),
        ),
    ),
)


def _resolve(link: AreaLink) -> str:
    for name in link.url_names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return link.fallback


def _role_areas(current: str | None) -> list[dict]:
    areas = []
    for area in ROLE_AREAS:
        links = {}
        for link in area.links:
            links.setdefault(_resolve(link), link.label)  # two links to one place: keep the first
        areas.append({
            "key": area.key,
            "title": area.title,
            "summary": area.summary,
            "tasks": area.tasks,
            "links": [{"label": label, "url": url} for url, label in links.items()],
            "is_current": area.key == current,
        })
    return areas


def _current_area(request) -> str | None:
    if not request.user.is_authenticated:
        return None
    membership = getattr(request.user, "membership", None)
    return ROLE_AREA.get(membership.role) if membership else None


@require_safe
def home(request):
    current_area = _current_area(request)
    return render(request, "alliance/home.html", {
        "figures": selectors.home_figures(),
        "role_areas": _role_areas(current_area),
        "current_area": current_area,
    })


# --- Charts of the dashboard -------------------------------------------------------------------------

ROW_HEIGHT = 50  # px per bar: a line of text above a 16 px bar, and a gap
LINE_HEIGHT = 20  # px of a second line of text, when a row's label and value would not fit on one
NARROW_CHART_PX = 300  # the chart's inner width on a phone
LABEL_CHAR_PX, VALUE_CHAR_PX = 7.4, 7.6  # rough widths of a character of label (14 px) and value (13 px)


def _fits_on_one_line(label: str, value_text: str) -> bool:
    """Whether a row's label and value fit side by side on a phone; if not, the value takes a line of its
    own (SVG text does not wrap)."""
    return len(label) * LABEL_CHAR_PX + len(value_text) * VALUE_CHAR_PX + 16 <= NARROW_CHART_PX


def bar_chart(*, chart_id: str, title: str, description: str, unit: str, rows: list[dict],
              secondary: str | None = None) -> dict:
    """The geometry of a horizontal bar chart drawn by templates/alliance/_bar_chart.html.

    ``rows`` hold ``label`` and ``value``; with ``secondary`` (a key of the rows, e.g. ``"requested"``),
    each bar is drawn over a lighter one of that value, on the same scale."""
    values = [row["value"] for row in rows] + ([row[secondary] for row in rows] if secondary else [])
    top = max(values, default=Decimal(0)) or Decimal(1)

    def percent(value) -> str:
        # Geometry goes out as plain strings, never localised: "63.25", not "63,25" in French.
        return f"{float(value / top) * 100:.2f}"

    bars = []
    y = 0
    for row in rows:
        value_text = f"{row['value']:,.0f}" + (f" / {row[secondary]:,.0f}" if secondary else "")
        extra = 0 if _fits_on_one_line(str(row["label"]), value_text) else LINE_HEIGHT
        bar = {
            "label": row["label"],
            "value": row["value"],
            "pct": percent(row["value"]),
            "offset_pct": percent(top - row["value"]),
            "text_y": str(y + 17),
            "value_y": str(y + 17 + extra),
            "bar_y": str(y + 24 + extra),
        }
        if secondary:
            bar["secondary"] = row[secondary]
            bar["secondary_pct"] = percent(row[secondary])
            bar["secondary_offset_pct"] = percent(top - row[secondary])
            bar["fulfilment"] = row.get("fulfilment")
        bars.append(bar)
        y += ROW_HEIGHT + extra
    return {
        "id": chart_id,
        "title": title,
        "description": description,
        "unit": unit,
        "rows": bars,
        "paired": bool(secondary),
        "height": str(max(y, ROW_HEIGHT)),
    }


@require_safe
def dashboard(request):
    figures = selectors.dashboard_figures()
    pledged, allocations = figures["pledged"], figures["allocations"]
    unit = _("H100-equivalent hours")
    charts = {
        "pledged_by_region": bar_chart(
            chart_id="chart-pledged-region",
            title=_("Pledged capacity by region of the hardware"),
            description=_("H100-equivalent hours pledged in kind or offered for sale, by the region where the "
                          "hardware runs."),
            unit=unit,
            rows=pledged["by_region"],
        ),
        "pledged_by_hardware": bar_chart(
            chart_id="chart-pledged-hardware",
            title=_("Pledged capacity by hardware"),
            description=_("H100-equivalent hours pledged in kind or offered for sale, by accelerator model."),
            unit=unit,
            rows=pledged["by_hardware"],
        ),
        "by_income_group": bar_chart(
            chart_id="chart-income-group",
            title=_("Requested and allocated, by income group"),
            description=_("For each World Bank income group of the requesting states: H100-equivalent hours "
                          "allocated (dark bar) over hours requested (light bar), in published rounds."),
            unit=unit,
            rows=[{**row, "value": row["allocated"]} for row in allocations["by_income_group"]],
            secondary="requested",
        ),
        "by_region": bar_chart(
            chart_id="chart-region",
            title=_("Requested and allocated, by region"),
            description=_("For each World Bank region of the requesting states: H100-equivalent hours "
                          "allocated (dark bar) over hours requested (light bar), in published rounds."),
            unit=unit,
            rows=[{**row, "value": row["allocated"]} for row in allocations["by_region"]],
            secondary="requested",
        ),
    }
    share = allocations["low_income_share"]
    return render(request, "alliance/dashboard.html", {
        **figures,
        "charts": charts,
        "low_income_share_pct": None if share is None else share * 100,
    })
