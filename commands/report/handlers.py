"""/rapport (/report) for coordinators: the annual activity report, answered privately with the
HTML file and its spreadsheet."""

from __future__ import annotations

from bot.context import Context
from bot.core import Attachment, Reply, Role, UserError
from bot.dates import FIRST_YEAR, LAST_YEAR
from bot.i18n import N_, Translator
from bot.registry import Args, Option, OptionType, command
from commands.report.build import NoActivity, build_report


class ReportYearOutOfRange(UserError):
    msgid = N_("Give a year between {first} and {last}, for example /report {year}.")

    def __init__(self, t: Translator, example: int) -> None:
        super().__init__(t.gettext(self.msgid, first=FIRST_YEAR, last=LAST_YEAR, year=example))


class NothingInYear(UserError):
    msgid = N_(
        "Nothing happened in {year} that a report could show (no session, poll, veille, "
        "gazette, questionnaire or idea): no report was made."
    )

    def __init__(self, t: Translator, year: int) -> None:
        super().__init__(t.gettext(self.msgid, year=year))


def default_year(ctx: Context) -> int:
    """The current year; in January, the one that just ended."""
    today = ctx.now().astimezone(ctx.t.tz)
    return today.year - 1 if today.month == 1 else today.year


@command(
    "rapport",
    "report",
    N_("Makes the annual activity report (HTML and spreadsheet), sent to you privately."),
    options=[
        Option(
            "annee",
            "year",
            N_("The year (without it: the current one; in January, the year just ended)."),
            type=OptionType.INTEGER,
            positional=True,
        )
    ],
    permission=Role.COORDINATOR,
    examples=("/rapport", "/rapport 2027"),
)
def report_command(ctx: Context, args: Args) -> Reply:
    year = args["annee"] if args["annee"] is not None else default_year(ctx)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ReportYearOutOfRange(ctx.t, default_year(ctx))
    public = ctx.translators.get(ctx.settings.network.locale)
    try:
        files = build_report(
            ctx.db,
            public,
            year,
            network=ctx.settings.network.name,
            sources=ctx.report_sources,
            now=ctx.now(),
            env=ctx.templates,
        )
    except NoActivity:
        raise NothingInYear(ctx.t, year) from None
    name = public.gettext("activity-report-{year}", year=year)
    return Reply(
        text=ctx._(
            "The activity report {year}: open the HTML file in a browser (it prints on A4); the "
            "spreadsheet holds the same figures, one sheet per section.",
            year=year,
        ),
        attachments=(
            Attachment(f"{name}.html", "text/html", files.html),
            Attachment(
                f"{name}.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                files.xlsx,
            ),
        ),
        ephemeral=True,
    )
