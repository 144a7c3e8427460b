"""The annual activity report: plain values in, one self-contained HTML file and a spreadsheet out.

Each command family gives the report one :class:`ReportPart` for the year (``Family.report``);
this library never reads the database. The HTML follows the gazette's rules (no script, a
Content-Security-Policy, styles inline, charts as inline SVG drawn with pygal, printable on
A4); the spreadsheet (openpyxl) has one sheet per part, its figures then its tables, numbers
kept as numbers for those who rework them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

from babel.dates import format_date
from jinja2 import Environment

from bot.i18n import Translator
from digests.gazette import Chart, _config, _pygal, _render_chart, integer_ticks, make_environment

Cell = str | int | float


@dataclass(frozen=True, slots=True)
class Figure:
    """One headline number: ``12`` sessions held."""

    label: str
    value: Cell


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True, slots=True)
class Bars:
    """A bar chart: one bar per label (horizontal when the labels are long)."""

    name: str
    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Quotes:
    """Words of members, without their names (comments, free-text answers)."""

    title: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportPart:
    """What one family says about the year. ``order`` places it in the report."""

    key: str
    title: str
    order: int
    intro: str = ""
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Bars, ...] = ()
    quotes: tuple[Quotes, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.figures or self.tables or self.quotes)


@dataclass(frozen=True, slots=True)
class ReportData:
    network: str
    year: int
    generated: date
    parts: tuple[ReportPart, ...] = field(default=())


def cell_text(t: Translator, value: Cell) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return t.number(value)
    return value


def bars(chart: Bars, t: Translator) -> Chart | None:
    """The SVG of a bar chart (None when it has nothing to show)."""
    if not chart.labels or not any(chart.values):
        return None
    horizontal = len(chart.labels) > 14 or max(len(label) for label in chart.labels) > 12
    kind = _pygal().HorizontalBar if horizontal else _pygal().Bar
    height = max(240, 90 + 34 * len(chart.labels)) if horizontal else 320
    # the report's own width: the gazette's charts are narrower, drawn for phones first
    drawn = kind(**_config(t, print_values=True, width=600, height=height, truncate_label=40))
    drawn.title = chart.title
    drawn.x_labels = list(chart.labels)
    if all(float(v).is_integer() for v in chart.values):
        drawn.y_labels = integer_ticks(int(max(chart.values)))
    drawn.add(chart.title, list(chart.values))
    table = tuple(
        (label, t.number(value)) for label, value in zip(chart.labels, chart.values, strict=True)
    )
    return Chart(chart.name, chart.title, _render_chart(drawn, chart.name, chart.title), table)


_SLUG = re.compile(r"[^a-z0-9]+")


def _anchor(key: str) -> str:
    return _SLUG.sub("-", key.lower()).strip("-") or "part"


def render_report(
    data: ReportData, t: Translator, env: Environment | None = None, *, labels: dict[str, str]
) -> str:
    """The report as one HTML document (``labels``: the words of the page, translated)."""
    environment = env or make_environment()
    template = environment.get_template("report.html.j2")
    parts = []
    for part in sorted(data.parts, key=lambda p: (p.order, p.key)):
        charts = [drawn for chart in part.charts if (drawn := bars(chart, t)) is not None]
        parts.append(
            {
                "anchor": _anchor(part.key),
                "title": part.title,
                "intro": part.intro,
                "figures": [(f.label, cell_text(t, f.value)) for f in part.figures],
                "tables": [
                    {
                        "title": table.title,
                        "columns": table.columns,
                        "rows": [[cell_text(t, c) for c in row] for row in table.rows],
                        "numeric": [
                            bool(table.rows)
                            and all(isinstance(row[i], int | float) for row in table.rows)
                            for i in range(len(table.columns))
                        ],
                    }
                    for table in part.tables
                ],
                "charts": charts,
                "quotes": part.quotes,
                "empty": part.empty,
            }
        )
    generated = format_date(data.generated, "long", locale=t.locale)
    html: str = template.render(
        lang=t.locale,
        network=data.network,
        year=data.year,
        generated=generated,
        parts=parts,
        labels=labels,
    )
    return html


def _sheet_title(title: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Sheet"
    name, n = base, 2
    while name.casefold() in taken:
        name = f"{base[:25]} {n}"
        n += 1
    taken.add(name.casefold())
    return name


def report_workbook(data: ReportData, *, figures_title: str) -> bytes:
    """The figures as an .xlsx workbook: one sheet per part (figures, then each table)."""
    from openpyxl import Workbook  # imported when a spreadsheet is asked for
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    book.remove(first)
    taken: set[str] = set()
    bold = Font(bold=True)
    for part in sorted(data.parts, key=lambda p: (p.order, p.key)):
        sheet = book.create_sheet(_sheet_title(part.title, taken))
        sheet.append([part.title])
        sheet["A1"].font = Font(bold=True, size=14)
        if part.figures:
            sheet.append([])
            sheet.append([figures_title])
            sheet.cell(row=sheet.max_row, column=1).font = bold
            for figure in part.figures:
                sheet.append([figure.label, figure.value])
        for table in part.tables:
            sheet.append([])
            sheet.append([table.title])
            sheet.cell(row=sheet.max_row, column=1).font = bold
            sheet.append(list(table.columns))
            for column in range(1, len(table.columns) + 1):
                sheet.cell(row=sheet.max_row, column=column).font = bold
            for row in table.rows:
                sheet.append(list(row))
        for quotes in part.quotes:
            sheet.append([])
            sheet.append([quotes.title])
            sheet.cell(row=sheet.max_row, column=1).font = bold
            for item in quotes.items:
                sheet.append([item])
        widths: dict[int, int] = {}
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    widths[cell.column] = max(
                        widths.get(cell.column, 8), min(60, len(str(cell.value)))
                    )
        for column, width in widths.items():
            sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = (
                width + 2
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def month_labels(t: Translator, year: int) -> tuple[str, ...]:
    """January … December of ``year``, abbreviated in ``t``'s language."""
    return tuple(format_date(date(year, m, 1), "MMM", locale=t.locale) for m in range(1, 13))


def share(part: float, whole: float) -> float:
    """A rate in percent, one decimal (0 when the whole is 0)."""
    return round(100 * part / whole, 1) if whole else 0.0


__all__ = [
    "Bars",
    "Cell",
    "Figure",
    "Quotes",
    "ReportData",
    "ReportPart",
    "Table",
    "bars",
    "month_labels",
    "render_report",
    "report_workbook",
    "share",
]
