"""A donor's statement of one pledge: where its capacity (or its share of the pooled cash) went in the published
decision of its round, one row per allocation line, as CSV or as an Excel workbook with a heading block.

Columns keep machine names (``gpu_hours``, ``country_iso3``) so that the file reads the same in every
language and loads straight into pandas or a spreadsheet; the workbook's heading block and sheet names are
translated."""
import io
from decimal import Decimal

import pandas as pd
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl.styles import Font

from allocation import selectors
from allocation.models import Pledge

COLUMNS = [
    "round", "run", "lot", "hardware", "provider", "hardware_region", "request", "country_iso3", "country",
    "sector", "income_group", "gpu_hours", "h100e_hours", "cash_usd",
]
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _frame(pledge: Pledge) -> pd.DataFrame:
    frame = pd.DataFrame(selectors.pledge_statement_rows(pledge), columns=COLUMNS)
    for column, places in (("gpu_hours", 4), ("h100e_hours", 4), ("cash_usd", 2)):
        frame[column] = [round(float(value), places) for value in frame[column]]
    return frame


def _lots_frame(breakdown: dict) -> pd.DataFrame:
    rows = []
    for row in breakdown["lots"]:
        lot = row["lot"]
        rows.append({
            "lot": lot.scenario_id, "hardware": lot.hardware.key, "provider": lot.provider.name,
            "hardware_region": lot.region,
            "pledged_gpu_hours": None if breakdown["is_cash"] else float(lot.gpu_hours),
            "used_gpu_hours": round(float(row["gpu_hours"]), 4),
            "remaining_gpu_hours": None if breakdown["is_cash"] else round(float(row["remaining_gpu_hours"]), 4),
            "h100e_hours": round(float(row["h100e_hours"]), 4),
            "cash_usd": round(float(row["cash_usd"]), 2),
        })
    return pd.DataFrame(rows, columns=["lot", "hardware", "provider", "hardware_region", "pledged_gpu_hours",
                                       "used_gpu_hours", "remaining_gpu_hours", "h100e_hours", "cash_usd"])


def _heading(pledge: Pledge, breakdown: dict) -> list[tuple[str, object]]:
    def number(value):
        return None if value is None else float(value)

    rows = [
        (_("Statement of pledge"), pledge.pk),
        (_("Donor"), pledge.donor.name),
        (_("Call"), pledge.round.call.title),
        (_("Round"), pledge.round.title),
        (_("Published on"), timezone.localtime(pledge.round.published_at).date() if pledge.round.published_at
         else _("not published")),
        (_("Approved run"), breakdown["run"].pk if breakdown["run"] else "—"),
        (_("Kind"), pledge.get_kind_display()),
        (_("Status"), pledge.get_status_display()),
        (_("Generated on"), timezone.localtime().replace(microsecond=0, tzinfo=None)),
    ]
    if breakdown["is_cash"]:
        rows += [
            (_("Pledged (US$)"), number(pledge.cash_usd)),
            (_("Share of the round's cash pool"), number(breakdown["share"])),
            (_("Spent on your share of purchases (US$)"), number(breakdown["used"]["cash_usd"])),
            (_("Remaining (US$)"), number(breakdown["remaining"]["cash_usd"])),
        ]
    else:
        rows += [
            (_("Pledged GPU-hours"), number(breakdown["pledged"]["gpu_hours"])),
            (_("Pledged H100-equivalent hours"), number(breakdown["pledged"]["h100e_hours"])),
            (_("Used GPU-hours"), number(breakdown["used"]["gpu_hours"])),
            (_("Used H100-equivalent hours"), number(breakdown["used"]["h100e_hours"])),
            (_("Remaining GPU-hours"), number(breakdown["remaining"]["gpu_hours"])),
        ]
    rows += [(_("Requests served"), breakdown["requests"]), (_("Member states served"), breakdown["states"])]
    return rows


def pledge_statement_csv(pledge: Pledge) -> bytes:
    return _frame(pledge).to_csv(index=False, lineterminator="\n").encode("utf-8")


def pledge_statement_xlsx(pledge: Pledge) -> bytes:
    """The workbook: a heading block (donor, round, dates, totals) above the lines, and a sheet of lots."""
    breakdown = selectors.pledge_breakdown(pledge)
    heading = _heading(pledge, breakdown)
    buffer = io.BytesIO()
    lines_sheet, lots_sheet = _("Allocation lines")[:31], _("Lots")[:31]
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _frame(pledge).to_excel(writer, sheet_name=lines_sheet, index=False, startrow=len(heading) + 1)
        _lots_frame(breakdown).to_excel(writer, sheet_name=lots_sheet, index=False)
        sheet = writer.sheets[lines_sheet]
        for row_number, (label, value) in enumerate(heading, start=1):
            sheet.cell(row=row_number, column=1, value=str(label)).font = Font(bold=True)
            sheet.cell(row=row_number, column=2, value=value if not isinstance(value, Decimal) else float(value))
        sheet.column_dimensions["A"].width = 38
        for column in "BCDEFGHIJKLMN":
            sheet.column_dimensions[column].width = 16
    return buffer.getvalue()


def pledge_statement_response(pledge: Pledge, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404(f"No statement in the format {fmt!r}.")
    if selectors.decided_run(pledge.round) is None:
        raise Http404("The round is not published yet; its statement comes with the decision.")
    body = pledge_statement_csv(pledge) if fmt == "csv" else pledge_statement_xlsx(pledge)
    response = HttpResponse(body, content_type=FORMATS[fmt])
    name = slugify(f"gacp-pledge-{pledge.pk}-round-{pledge.round.number}-{pledge.donor.name}")[:80]
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
