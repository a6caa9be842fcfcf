"""Site-wide pages: the home page, the public dashboard, the awards table and the open data (login and logout
are Django's own views). Public pages read published rounds only, through alliance.selectors."""
from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from alliance import opendata, selectors
from alliance.cache import public_figures
from alliance.forms import AwardSearchForm, RoundFilterForm
from members.models import Region, Role

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
        (AreaLink(_("Your pledges"), ("donor-home", "api:pledge-list"), "/donor/"), API_DOCS),
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
        (AreaLink(_("Your offers"), ("provider-home", "api:offer-list"), "/provider/"), API_DOCS),
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
            AreaLink(_("Secretariat"), ("secretariat-home", "admin:index"), "/secretariat/"),
            AreaLink(_("Reviews"), ("reviews-home", "api:review-list"), "/reviews/"),
            AreaLink(_("Secretariat administration"), ("admin:index",), "/admin/"),
        ),
    ),
    RoleArea(
        "public",
        _("Everyone"),
        _("Every decision is published: what was pledged, what was asked for, and who received what."),
        (
            _("Read the public dashboard"),
            _("Download the open data as CSV, JSON or XLSX, or read it through the API"),
        ),
        (
            AreaLink(_("Public dashboard"), ("dashboard",), "/dashboard/"),
            AreaLink(_("Every award, searchable"), ("awards",), "/dashboard/awards/"),
            AreaLink(_("Open data downloads"), ("open-data",), "/open-data/"),
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
              secondary: str | None = None, secondary_label: str | None = None,
              share_label: str | None = None) -> dict:
    """The geometry of a horizontal bar chart drawn by templates/alliance/_bar_chart.html.

    ``rows`` hold ``label`` and ``value``; with ``secondary`` (a key of the rows, e.g. ``"requested"``),
    each bar is drawn over a lighter one of that value, on the same scale, named ``secondary_label``."""
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
        "secondary_label": secondary_label or _("Requested"),
        "share_label": share_label or _("Share of request met"),
        "height": str(max(y, ROW_HEIGHT)),
    }



# --- The region map ----------------------------------------------------------------------------------

# A schematic map of the seven World Bank regions, drawn for the alliance: each region a tile placed
# roughly where it lies on a world map (x, y, width, height in a 640 x 420 box), no borders implied.
REGION_TILES = {
    "NAM": (10, 10, 170, 120),
    "LAC": (88, 142, 130, 268),
    "ECA": (240, 10, 245, 102),
    "MNA": (228, 122, 182, 112),
    "SSA": (250, 244, 150, 166),
    "SAS": (420, 122, 92, 138),
    "EAP": (522, 40, 110, 300),
}
REGION_SHORT = {  # short names that fit a tile, one or two lines; the full name is the tile's title
    "NAM": (pgettext_lazy("map", "North America"),),
    "LAC": (pgettext_lazy("map", "Latin America"), pgettext_lazy("map", "& Caribbean")),
    "ECA": (pgettext_lazy("map", "Europe & Central Asia"),),
    "MNA": (pgettext_lazy("map", "Middle East, North"), pgettext_lazy("map", "Africa, Afghanistan"),
            pgettext_lazy("map", "& Pakistan")),
    "SSA": (pgettext_lazy("map", "Sub-Saharan"), pgettext_lazy("map", "Africa")),
    "SAS": (pgettext_lazy("map", "South Asia"),),
    "EAP": (pgettext_lazy("map", "East Asia"), pgettext_lazy("map", "& Pacific")),
}
MAP_CLASSES = 5  # equal steps from 0 to the largest value


def region_map(rows: list[dict]) -> dict:
    """Tiles of the region map, each shaded by the region's allocation per million inhabitants of its
    requesting states, in ``MAP_CLASSES`` equal steps, with the legend's bounds."""
    by_key = {row["key"]: row for row in rows}
    top = max((row["per_million"] or 0 for row in rows), default=0)
    tiles = []
    for key, (x, y, width, height) in REGION_TILES.items():
        row = by_key.get(key)
        value = row["per_million"] if row else None
        level = None if value is None or not top else min(int(value / top * MAP_CLASSES), MAP_CLASSES - 1)
        lines = REGION_SHORT[key]
        # a block of 20 px label lines and a 26 px value line, centred in the tile (y is a text baseline)
        first_line = y + height / 2 - (20 * len(lines) + 26) / 2 + 15
        tiles.append({
            "key": key,
            "full_label": Region(key).label,
            "row": row,
            "level": level,
            "x": str(x), "y": str(y), "width": str(width), "height": str(height),
            "cx": str(x + width / 2),
            "lines": [{"text": text, "y": f"{first_line + 20 * index:.0f}"} for index, text in enumerate(lines)],
            "value_y": f"{first_line + 20 * (len(lines) - 1) + 26:.0f}",
        })
    step = top / MAP_CLASSES if top else 0
    legend = [{"level": level, "low": step * level, "high": step * (level + 1)} for level in range(MAP_CLASSES)]
    return {"tiles": tiles, "legend": legend if top else [], "max": top}


# --- Dashboard ----------------------------------------------------------------------------------------


def _round_filter(request) -> tuple[RoundFilterForm, int | None]:
    """The round chosen with ``?round=``; a round that is not published is an error shown beside the field,
    and the page shows every published round."""
    form = RoundFilterForm(request.GET if request.GET.get("round") else None)
    return form, form.round_id()


@require_safe
def dashboard(request):
    form, round_id = _round_filter(request)
    figures = public_figures(f"dashboard:{round_id or 'all'}", lambda: selectors.dashboard_figures(round_id=round_id))
    pledged, allocations = figures["pledged"], figures["allocations"]
    unit = _("H100-equivalent hours")
    in_rounds = _("in the chosen round") if round_id else _("in published rounds")
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
            description=_("For each World Bank income group of the requesting states when the round was decided: "
                          "H100-equivalent hours allocated (dark bar) over hours requested (light bar)."),
            unit=unit,
            rows=[{**row, "value": row["allocated"]} for row in allocations["by_income_group"]],
            secondary="requested",
        ),
        "by_region": bar_chart(
            chart_id="chart-region",
            title=_("Requested and allocated, by region"),
            description=_("For each World Bank region of the requesting states when the round was decided: "
                          "H100-equivalent hours allocated (dark bar) over hours requested (light bar)."),
            unit=unit,
            rows=[{**row, "value": row["allocated"]} for row in allocations["by_region"]],
            secondary="requested",
        ),
        "by_sector": bar_chart(
            chart_id="chart-sector",
            title=_("Requested and allocated, by sector"),
            description=_("For each sector of research: H100-equivalent hours allocated (dark bar) over hours "
                          "requested (light bar)."),
            unit=unit,
            rows=[{**row, "value": row["allocated"]} for row in allocations["by_sector"]],
            secondary="requested",
        ),
        "by_hardware": bar_chart(
            chart_id="chart-hardware",
            title=_("Pledged and allocated, by hardware"),
            description=_("For each accelerator model: H100-equivalent hours allocated (dark bar) over hours "
                          "pledged or offered (light bar)."),
            unit=unit,
            rows=[{**row, "value": row["allocated"], "fulfilment": row["used"]} for row in figures["by_hardware"]],
            secondary="pledged",
            secondary_label=_("Pledged"),
            share_label=_("Share allocated"),
        ),
    }
    low_share = allocations["low_income_share"]
    return render(request, "alliance/dashboard.html", {
        **figures,
        "form": form,
        "round_id": round_id,
        "chosen_round": form.cleaned_data.get("round") if round_id else None,
        "in_rounds": in_rounds,
        "charts": charts,
        "region_map": region_map(allocations["by_region"]),
        "low_income_share_pct": None if low_share is None else low_share * 100,
        "fulfilment_pct": None if allocations["fulfilment"] is None else allocations["fulfilment"] * 100,
        "per_people": selectors.PER_PEOPLE,
    })


# --- Awards -------------------------------------------------------------------------------------------

AWARDS_PER_PAGE = 50


@require_safe
def awards(request):
    form = AwardSearchForm(request.GET or None)
    filters = form.filters()  # the valid fields; the others show their error beside them
    page = Paginator(selectors.published_awards(**filters), AWARDS_PER_PAGE).get_page(request.GET.get("page"))
    hardware = selectors.hardware_of_awards(page.object_list)
    rows = [{"award": award, "hardware": hardware.get((award.run_id, award.request_id), [])}
            for award in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "alliance/awards.html", {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "has_published": selectors.published_rounds().exists(),
    })


# --- Open data ----------------------------------------------------------------------------------------

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@require_safe
def open_data(request, download_error: str = ""):
    form, round_id = _round_filter(request)
    return render(request, "alliance/open_data.html", {
        "download_error": download_error,
        "form": form,
        "round_id": round_id,
        "chosen_round": form.cleaned_data.get("round") if round_id else None,
        "tables": opendata.TABLES.values(),
        "formats": FORMATS,
        "licence": opendata.LICENCE,
        "licence_url": opendata.LICENCE_URL,
        "excel_rows": opendata.EXCEL_MAX_ROWS,
        "has_published": selectors.published_rounds().exists(),
    })


@require_safe
def open_data_download(request, table: str, extension: str):
    """One table (or ``everything``, XLSX only) in one format, for every published round or ``?round=``."""
    if extension not in FORMATS or (table != "everything" and opendata.table_get(table) is None):
        raise Http404("No such table or format.")
    if table == "everything" and extension != "xlsx":
        raise Http404("Every table at once comes as a workbook (XLSX) only.")
    form = RoundFilterForm(request.GET if request.GET.get("round") else None)
    round_id = form.round_id()
    if form.is_bound and form.errors:
        raise Http404("No published round with that id.")
    round_ = form.cleaned_data["round"] if round_id else None
    name = opendata.filename(table, round_=round_, extension=extension)
    if extension == "xlsx":
        tables = list(opendata.TABLES.values()) if table == "everything" else [opendata.TABLES[table]]
        try:
            handle = opendata.xlsx_file(tables, round_id=round_id)
        except opendata.TooManyRows as error:
            message = gettext("The %(table)s table has %(rows)s rows, more than a sheet of a workbook holds "
                              "(%(limit)s): download it as CSV or JSON, or choose one round.") % {
                "table": error.table.key, "rows": number_format(error.rows, force_grouping=True),
                "limit": number_format(opendata.EXCEL_MAX_ROWS, force_grouping=True)}
            response = open_data(request, download_error=message)
            response.status_code = 422
            return response
        return FileResponse(handle, as_attachment=True, filename=name, content_type=FORMATS["xlsx"])
    chosen = opendata.TABLES[table]
    chunks = (opendata.csv_chunks(chosen, round_id=round_id) if extension == "csv"
              else opendata.json_chunks(chosen, round_id=round_id, round_=round_))
    response = StreamingHttpResponse(chunks, content_type=FORMATS[extension])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
