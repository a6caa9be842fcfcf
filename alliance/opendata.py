"""Open data: the published record as downloadable tables (CSV, JSON, XLSX) with their data dictionary.

Every table reads published rounds only (see ``alliance.selectors``). Rows leave the database in chunks
(``iterator``), become pandas DataFrames of ``CHUNK_ROWS`` rows, and are written out chunk by chunk:
CSV and JSON stream to the client as they are produced, so a million allocation lines never sit in
memory at once; XLSX (openpyxl in write-only mode) is assembled in a temporary file first, since a
workbook is a zip archive that cannot be streamed, and is limited to Excel's 1,048,576 rows a sheet.
"""
import datetime
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from alliance import selectors
from allocation.models import Pledge, Round
from members.models import MemberState

CHUNK_ROWS = 20_000
EXCEL_MAX_ROWS = 1_048_575  # a sheet's 1,048,576 rows, less the header
LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION = (
    "Global Alliance for Computational Power, open data, licensed CC BY 4.0. Income groups, regions, GNI per "
    "capita and population: The World Bank (CLASS, WDI), CC BY 4.0. Accelerator performance and "
    "H100-equivalents: Epoch AI, CC BY 4.0."
)

# Sources named in the dictionary.
PLATFORM = _("the alliance's platform")
ENGINE = _("the allocation engine's decision (approved run)")
WORLD_BANK = _("World Bank CLASS FY2026, as frozen at decision time")
EPOCH = _("Epoch AI machine learning hardware data")


@dataclass(frozen=True)
class Column:
    name: str
    expression: object  # a field path or an ORM expression
    type: str  # integer, decimal, number, text, date, boolean
    unit: str
    meaning: str
    source: object = PLATFORM


@dataclass(frozen=True)
class Table:
    key: str
    title: object
    description: object
    columns: tuple[Column, ...]
    by_round: bool = True

    def rows(self, *, round_id: int | None) -> QuerySet:
        return TABLE_ROWS[self.key](round_id)

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def values(self, *, round_id: int | None) -> QuerySet:
        """The table's rows as tuples in the order of its columns, in a stable order."""
        expressions = {
            f"c{index}": F(column.expression) if isinstance(column.expression, str) else column.expression
            for index, column in enumerate(self.columns)
        }
        return self.rows(round_id=round_id).annotate(**expressions).order_by("pk").values_list(*expressions)


H100E_HOURS = _("H100-equivalent hours")
GPU_HOURS = _("GPU-hours")
USD = _("US dollars")
NONE = ""

TABLES = {
    table.key: table
    for table in (
        Table(
            "allocations",
            _("Allocation lines"),
            _("Every line of the approved run of each published round: GPU-hours of one capacity lot given to "
              "one request."),
            (
                Column("line_id", "id", "integer", NONE, _("Identifier of the allocation line.")),
                Column("round_id", "run__round_id", "integer", NONE, _("Identifier of the published round.")),
                Column("run_id", "run_id", "integer", NONE, _("Identifier of the approved run that decided it.")),
                Column("request_id", "request_id", "integer", NONE, _("Identifier of the compute request.")),
                Column("country_iso3", "request__member_state__iso3", "text", NONE,
                       _("ISO 3166 alpha-3 code of the requesting state.")),
                Column("income_group", selectors.frozen("income_group"), "text", NONE,
                       _("World Bank income group of the state when the round was decided: LIC, LMIC, UMIC, HIC."),
                       WORLD_BANK),
                Column("region", selectors.frozen("region"), "text", NONE,
                       _("World Bank region of the state when the round was decided: EAP, ECA, LAC, MNA, NAM, SAS, "
                         "SSA."), WORLD_BANK),
                Column("sector", "request__sector", "text", NONE, _("Sector of the request.")),
                Column("lot_id", "lot_id", "integer", NONE, _("Identifier of the capacity lot the hours come from.")),
                Column("hardware", "lot__hardware__key", "text", NONE, _("Key of the accelerator model.")),
                Column("hardware_region", "lot__region", "text", NONE,
                       _("World Bank region where the hardware runs.")),
                Column("provider", "lot__provider__name", "text", NONE, _("Provider hosting the hardware.")),
                Column("gpu_hours", "gpu_hours", "decimal", GPU_HOURS, _("GPU-hours allocated."), ENGINE),
                Column("h100e_hours", "h100e_hours", "decimal", H100E_HOURS,
                       _("GPU-hours times the accelerator's H100-equivalent factor."), ENGINE),
                Column("cofinancing_usd", "cofinancing_usd", "decimal", USD,
                       _("Co-financing the state owes for this line."), ENGINE),
                Column("cash_usd", "cash_usd", "decimal", USD,
                       _("Pooled cash spent buying this line's hours, when the lot was offered for sale."), ENGINE),
            ),
        ),
        Table(
            "requests",
            _("Requests and results"),
            _("Every request the approved run of a published round decided on, with what it asked for and what "
              "it received."),
            (
                Column("request_id", "request_id", "integer", NONE, _("Identifier of the compute request.")),
                Column("round_id", "run__round_id", "integer", NONE, _("Identifier of the published round.")),
                Column("round", "run__round__title", "text", NONE, _("Title of the round.")),
                Column("country_iso3", "request__member_state__iso3", "text", NONE,
                       _("ISO 3166 alpha-3 code of the requesting state.")),
                Column("country", "request__member_state__name", "text", NONE, _("Name of the requesting state.")),
                Column("ministry", "request__ministry__name", "text", NONE, _("Ministry that made the request.")),
                Column("title", "request__title", "text", NONE, _("Title of the request.")),
                Column("sector", "request__sector", "text", NONE, _("Sector of the request.")),
                Column("income_group", selectors.frozen("income_group"), "text", NONE,
                       _("World Bank income group of the state when the round was decided."), WORLD_BANK),
                Column("region", selectors.frozen("region"), "text", NONE,
                       _("World Bank region of the state when the round was decided."), WORLD_BANK),
                Column("requested_h100e_hours", "request__h100e_hours", "decimal", H100E_HOURS,
                       _("Compute asked for.")),
                Column("min_h100e_hours", "request__min_h100e_hours", "decimal", H100E_HOURS,
                       _("Smallest allocation the request can use; below it, nothing is given.")),
                Column("allocated_h100e_hours", "allocated_h100e_hours", "number", H100E_HOURS,
                       _("Compute allocated, as the engine decided: the sum of the request's allocation lines, "
                         "which are rounded down to 0.0001."), ENGINE),
                Column("fulfilment", "fulfilment", "number", _("share from 0 to 1"),
                       _("Allocated over requested."), ENGINE),
                Column("deferred", "deferred", "boolean", NONE,
                       _("True when the request was deferred to a later round."), ENGINE),
                Column("reason", "reason", "text", NONE, _("The engine's short reason code for the outcome."),
                       ENGINE),
                Column("weight", "weight", "number", NONE,
                       _("Equity weight of the request in the fair-share optimisation."), ENGINE),
                Column("cofinancing_usd", "cofinancing_usd", "decimal", USD,
                       _("Co-financing the state owes for this request."), ENGINE),
                Column("subsidy_usd", "subsidy_usd", "decimal", USD,
                       _("Value of the compute given beyond the state's co-financing."), ENGINE),
            ),
        ),
        Table(
            "pledges",
            _("Pledges"),
            _("Confirmed pledges of donors to published rounds: cash, or capacity in kind described lot by lot in "
              "the capacity lots table."),
            (
                Column("pledge_id", "id", "integer", NONE, _("Identifier of the pledge.")),
                Column("round_id", "round_id", "integer", NONE, _("Identifier of the published round.")),
                Column("donor", "donor__name", "text", NONE, _("Donor organisation.")),
                Column("kind", "kind", "text", NONE, _("in_kind (capacity) or cash.")),
                Column("cash_usd", "cash_usd", "decimal", USD, _("Cash pledged (0 for a pledge in kind).")),
                Column("lots", Count("lots"), "integer", NONE, _("Number of capacity lots of a pledge in kind.")),
                Column("gpu_hours", Coalesce(Sum("lots__gpu_hours"), 0, output_field=selectors._H100E_FIELD),
                       "decimal", GPU_HOURS, _("GPU-hours pledged in kind.")),
            ),
        ),
        Table(
            "lots",
            _("Capacity lots"),
            _("Capacity put in the pool of published rounds: lots of confirmed pledges (donated in kind) and of "
              "published offers (for sale), each of one accelerator model at one provider and region."),
            (
                Column("lot_id", "id", "integer", NONE, _("Identifier of the capacity lot.")),
                Column("round_id", Coalesce("pledge__round_id", "offer__round_id"), "integer", NONE,
                       _("Identifier of the published round.")),
                Column("pledge_id", "pledge_id", "integer", NONE,
                       _("Pledge the lot belongs to (empty for an offer).")),
                Column("offer_id", "offer_id", "integer", NONE, _("Offer the lot belongs to (empty for a pledge).")),
                Column("contributor", Coalesce("pledge__donor__name", "offer__provider__name"), "text", NONE,
                       _("Donor who pledged the lot, or provider who offered it for sale.")),
                Column("provider", "provider__name", "text", NONE, _("Provider hosting the hardware.")),
                Column("hardware", "hardware__key", "text", NONE, _("Key of the accelerator model.")),
                Column("h100e_factor", "hardware__h100e", "decimal", _("H100-equivalents per GPU"),
                       _("Dense 16-bit tensor throughput of the accelerator relative to an NVIDIA H100."), EPOCH),
                Column("region", "region", "text", NONE, _("World Bank region where the hardware runs.")),
                Column("gpu_hours", "gpu_hours", "decimal", GPU_HOURS, _("GPU-hours in the lot.")),
                Column("h100e_hours", selectors.LOT_H100E_HOURS, "decimal", H100E_HOURS,
                       _("GPU-hours times the H100-equivalent factor.")),
                Column("available_from", "available_from", "date", NONE, _("First day the hours can be used.")),
                Column("available_until", "available_until", "date", NONE, _("Last day the hours can be used.")),
                Column("value_usd_per_gpu_hour", "value_usd_per_gpu_hour", "decimal", _("US dollars per GPU-hour"),
                       _("Market value of one GPU-hour, used for co-financing.")),
                Column("price_usd_per_gpu_hour", "price_usd_per_gpu_hour", "decimal", _("US dollars per GPU-hour"),
                       _("Price asked for one GPU-hour offered for sale (empty for a donated lot).")),
            ),
        ),
        Table(
            "states",
            _("Member states"),
            _("The World Bank economies the alliance knows, with the classification in force today (published "
              "figures use the one frozen when each round was decided), GNI per capita and population."),
            (
                Column("iso3", "iso3", "text", NONE, _("ISO 3166 alpha-3 code (World Bank code for Kosovo: XKX).")),
                Column("name", "name", "text", NONE, _("Name of the economy, as the World Bank writes it.")),
                Column("is_member", "is_member", "boolean", NONE, _("True for a member state of the alliance.")),
                Column("region", "region", "text", NONE, _("World Bank region today."), _("World Bank CLASS FY2026")),
                Column("income_group", "income_group", "text", NONE, _("World Bank income group today."),
                       _("World Bank CLASS FY2026")),
                Column("lending_category", "lending_category", "text", NONE, _("IDA, IBRD, Blend or empty."),
                       _("World Bank CLASS FY2026")),
                Column("gni_per_capita_usd", "gni_per_capita_usd", "decimal", USD,
                       _("GNI per capita, Atlas method, current US$."), _("World Bank WDI NY.GNP.PCAP.CD")),
                Column("gni_per_capita_year", "gni_per_capita_year", "integer", _("year"),
                       _("Year of the GNI per capita figure.")),
                Column("population", "population", "integer", _("persons"), _("Total population."),
                       _("World Bank WDI SP.POP.TOTL")),
                Column("population_year", "population_year", "integer", _("year"),
                       _("Year of the population figure.")),
                Column("cofinancing_phase", "cofinancing_phase", "text", NONE,
                       _("Co-financing phase: initial, preparatory, accelerated or self.")),
            ),
            by_round=False,
        ),
    )
}

TABLE_ROWS = {
    "allocations": lambda round_id: selectors.published_lines_of(round_id=round_id),
    "requests": lambda round_id: selectors.published_results(round_id=round_id),
    "pledges": lambda round_id: Pledge.objects.filter(
        Q(round_id=round_id) if round_id else Q(round__status="published"), status=Pledge.Status.CONFIRMED
    ),
    "lots": lambda round_id: selectors.published_lots(round_id=round_id),
    "states": lambda round_id: MemberState.objects.all(),
}


def table_get(key: str) -> Table | None:
    return TABLES.get(key)


def dictionary_rows(tables=None) -> list[dict]:
    """The data dictionary: one row per column of each table."""
    return [
        {"table": table.key, "column": column.name, "type": column.type, "unit": str(column.unit),
         "meaning": str(column.meaning), "source": str(column.source)}
        for table in (tables or TABLES.values())
        for column in table.columns
    ]


def filename(table_key: str, *, round_: Round | None, extension: str, today: datetime.date | None = None) -> str:
    """``gacp-<table>-<round-N or all-rounds>-<date>.<ext>``: the date a round was published, or today's
    date for every round (the data as it stands on that day)."""
    today = today or timezone.now().date()
    if table_key == "states":  # reference data: not by round
        scope, day = "", today
    elif round_ is not None:
        scope, day = f"round-{round_.pk}", round_.published_at.date()
    else:
        scope, day = "all-rounds", today
    return "-".join(part for part in ("gacp", table_key, scope, day.isoformat()) if part) + f".{extension}"


def frames(table: Table, *, round_id: int | None) -> Iterator[pd.DataFrame]:
    """The table as pandas DataFrames of at most ``CHUNK_ROWS`` rows (one DataFrame, empty, for no rows)."""
    chunk: list[tuple] = []
    produced = False
    for row in table.values(round_id=round_id).iterator(chunk_size=CHUNK_ROWS):
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            yield pd.DataFrame.from_records(chunk, columns=table.names)
            produced, chunk = True, []
    if chunk or not produced:
        yield pd.DataFrame.from_records(chunk, columns=table.names)


def _numbers_as_floats(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Decimal columns as floats for JSON (exact to the 4 decimal places stored, within 15 digits)."""
    for column in table.columns:
        if column.type == "decimal":
            frame[column.name] = pd.to_numeric(frame[column.name], errors="coerce").astype("float64")
    return frame


def csv_chunks(table: Table, *, round_id: int | None) -> Iterator[str]:
    """The table as CSV text, chunk by chunk: a header row, then the rows (decimals exact, dates ISO 8601,
    booleans True/False, empty for none)."""
    for index, frame in enumerate(frames(table, round_id=round_id)):
        yield frame.to_csv(index=False, header=index == 0, lineterminator="\n")


def json_chunks(table: Table, *, round_id: int | None, round_: Round | None = None) -> Iterator[str]:
    """The table as one JSON document, streamed: its licence, its dictionary, then ``rows`` as objects."""
    head = {
        "table": table.key,
        "title": str(table.title),
        "description": str(table.description),
        "round": round_.pk if round_ is not None else None,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "attribution": ATTRIBUTION,
        "columns": [{key: value for key, value in row.items() if key != "table"} for row in dictionary_rows([table])],
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": ['
    first = True
    for frame in frames(table, round_id=round_id):
        if frame.empty:
            continue
        body = _numbers_as_floats(table, frame).to_json(orient="records", date_format="iso", force_ascii=False,
                                                        double_precision=10)
        yield ("" if first else ",") + body[1:-1]
        first = False
    yield "]}"


class TooManyRows(Exception):
    """A table too long for one sheet of a workbook."""

    def __init__(self, table: Table, rows: int):
        super().__init__(f"{table.key}: {rows} rows")
        self.table, self.rows = table, rows


def _header(sheet, names) -> list:
    bold = Font(bold=True)
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    return cells


def _excel_value(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def xlsx_file(tables: list[Table], *, round_id: int | None):
    """A workbook with one sheet per table and a "data dictionary" sheet (with the licence), written by
    openpyxl in write-only mode into a temporary file, returned open at its start."""
    for table in tables:
        count = table.rows(round_id=round_id).count()
        if count > EXCEL_MAX_ROWS:
            raise TooManyRows(table, count)
    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table.key)
        sheet.append(_header(sheet, table.names))
        for frame in frames(table, round_id=round_id):
            for row in frame.itertuples(index=False, name=None):
                sheet.append([_excel_value(value) for value in row])
    dictionary = workbook.create_sheet(title="data dictionary")
    names = ["table", "column", "type", "unit", "meaning", "source"]
    dictionary.append(_header(dictionary, names))
    for row in dictionary_rows(tables):
        dictionary.append([row[name] for name in names])
    dictionary.append([])
    dictionary.append(["licence", LICENCE, LICENCE_URL])
    dictionary.append(["attribution", ATTRIBUTION])
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it once sent
    workbook.save(handle)
    handle.seek(0)
    return handle
