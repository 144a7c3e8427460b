"""/gazette: compile, publish and archive the network's gazette; /gazettes lists them.

Commands (coordinators, except ``/gazettes``; editing is in :mod:`.edit_handlers`):

- ``/gazette brouillon [--depuis DATE | --session N] [--tout]`` (``draft``): compiles the draft
  from highlights whose author said yes (or yes without my name), the sessions held with their
  attendance, closed polls with their results, the best veille items and the members who
  joined. ``--session N`` is an event's gazette: what was said in the network's channels from
  the session's start to ``[gazette] session_window_hours`` after its end, what was tagged with
  it, and the session itself. ``--tout`` makes a review that includes what earlier gazettes
  showed. Without options it refreshes the open draft (editorial, order, drops and numbers
  kept), or starts one where the last published gazette ended. A draft is never replaced
  without a confirmation (buttons ``gazette:replace:...`` / ``gazette:keep:...``).
- ``/gazette`` (``/gazette voir``): the draft as a numbered list, with the HTML preview attached,
  for coordinators only (privately, or in ``[gazette] coordination_channel``); when quotes wait
  for their author, a button asks them once more (``gazette:remind:<id>``).
- ``/gazette publier [--canal #x]`` (``publish``): posts a summary with the gazette attached in
  the channel (outbox ``gazette:<id>:publish``) and archives the HTML (and the PDF with
  ``[gazette] pdf``) in the ``gazettes`` row. An empty gazette is refused.
- ``/gazette reconstruire N`` (``rebuild``): renders archive N again with today's consents
  (done by itself when an author withdraws or a highlight is deleted).
- ``/gazettes [N]``: the archive; with a number, that gazette's file.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Actor, Choice, ChoiceStyle, Reply, Role
from bot.i18n import N_, Translator
from bot.registry import Args, Option, OptionType, autocompleter, command, on_choice
from bot.storage.highlights import Gazette, GazetteStatus
from commands.gazette.consent import ask_pending_again
from commands.gazette.content import network_translator
from commands.gazette.draft import (
    Period,
    current_draft,
    default_period,
    open_draft,
    pending_highlights,
    session_facts,
    session_period,
)
from commands.gazette.errors import (
    ChannelMissing,
    NoDraft,
    NoSuchSession,
    NotForMembers,
    NotInThePast,
    PeriodAndSession,
    SessionCancelled,
    SessionNotEnded,
)
from commands.gazette.messages import size_text
from commands.gazette.preview import preview_reply, require_draft
from commands.gazette.publish import (
    gazette_files,
    pdf_of,
    prepare,
    publish,
    published_gazette,
    rebuild_archive,
)

GROUP = "gazette"
GROUP_ALIAS = "gazette"
GROUP_HELP = N_("Compiles, edits and publishes the network's gazette (coordinators).")


def _parse_since(ctx: Context, text: str) -> datetime:
    return ctx.read_date(text, default_time=time(0, 0), past=True)


@command(
    "brouillon",
    "draft",
    N_("Compiles the gazette draft of a period, or of a session."),
    options=[
        Option(
            "depuis",
            "since",
            N_("Start of the period (default: the end of the last gazette)."),
            type=OptionType.STRING,
        ),
        Option(
            "session",
            "session",
            N_("Compile the gazette of this session."),
            type=OptionType.INTEGER,
            autocomplete="session",
        ),
        Option(
            "tout",
            "all",
            N_("A review: include what earlier gazettes already published."),
            type=OptionType.FLAG,
        ),
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    group_help=GROUP_HELP,
    examples=(
        "/gazette brouillon",
        "/gazette brouillon --session 3",
        '/gazette brouillon --depuis "1 janvier" --tout',
    ),
)
def draft_command(ctx: Context, args: Args) -> Reply:
    now = ctx.now()
    if args["depuis"] and args["session"] is not None:
        raise PeriodAndSession(ctx.t)
    existing = current_draft(ctx.db)
    if args["session"] is not None:
        period = _session_period(ctx, args["session"], now)
    elif args["depuis"]:
        since = _parse_since(ctx, args["depuis"])
        if since >= now:
            raise NotInThePast(ctx.t, since)
        period = Period(since, now, include_published=args["tout"])
    elif existing is not None and existing.session_id is None:
        # refresh: the draft's own period, up to now
        period = Period(
            existing.since, now, include_published=args["tout"] or existing.include_published
        )
    elif existing is not None:
        assert existing.session_id is not None
        period = _session_period(ctx, existing.session_id, now)
    else:
        default = default_period(ctx.db, ctx.settings, now)
        period = Period(default.since, default.until, include_published=args["tout"])
    if existing is not None and _replaces(existing, period):
        return _confirm_replacement(ctx, existing, period)
    return _compile(ctx, period, now)


def _session_period(ctx: Context, number: int, now: datetime) -> Period:
    facts = session_facts(ctx.db, number)
    if facts is None:
        raise NoSuchSession(ctx.t, number)
    if facts.cancelled:
        raise SessionCancelled(ctx.t, number)
    if facts.ends_at > now:
        raise SessionNotEnded(ctx.t, number, facts.ends_at)
    return session_period(ctx.settings, facts, now)


def _replaces(draft: Gazette, period: Period) -> bool:
    """Whether compiling ``period`` would turn ``draft`` into another gazette."""
    if draft.session_id != period.session_id:
        return True
    if period.session_id is None and draft.since != period.since:
        return True
    return bool(draft.include_published) != period.include_published


def _compile(ctx: Context, period: Period, now: datetime) -> Reply:
    draft, report = open_draft(
        ctx.db, network_translator(ctx), ctx.settings, period, now, ctx.member, ctx.gazette_sources
    )
    changes: list[str] = []
    if report.added:
        changes.append(ctx.t.ngettext("{n} new item", "{n} new items", report.added))
    if report.removed:
        changes.append(ctx.t.ngettext("{n} item left out", "{n} items left out", report.removed))
    prefix = ctx._("Draft updated: {changes}.", changes=", ".join(changes)) if changes else None
    return preview_reply(ctx, draft, prefix)


def _period_action(period: Period) -> str:
    """The period, written into a button's action (no storage needed until the click)."""
    if period.session_id is not None:
        return f"s{period.session_id}"
    flag = "a" if period.include_published else "p"
    return f"d{int(period.since.timestamp())}{flag}"


def _describe(ctx: Context, draft: Gazette) -> str:
    if draft.session_id is not None:
        facts = session_facts(ctx.db, draft.session_id)
        if facts is not None:
            return ctx._(
                "the gazette of session {number} ({title})",
                number=ctx.t.ref(facts.id),
                title=facts.title,
            )
    start, end = ctx.t.date(draft.since), ctx.t.date(draft.until)
    if start == end:
        return ctx._("the gazette of {date}", date=start)
    return ctx._("the gazette from {start} to {end}", start=start, end=end)


def _confirm_replacement(ctx: Context, draft: Gazette, period: Period) -> Reply:
    kept = sum(1 for item in draft.items if not item.dropped)
    text = ctx.t.ngettext(
        "A draft is already open: {draft}, with {n} item. Replace it with the new one? Its "
        "editorial is kept; items the new period does not offer are left out.",
        "A draft is already open: {draft}, with {n} items. Replace it with the new one? Its "
        "editorial is kept; items the new period does not offer are left out.",
        kept,
        draft=_describe(ctx, draft),
    )
    action = f"gazette:replace:{draft.id}:{_period_action(period)}"
    return Reply(
        text=text,
        choices=(
            Choice(ctx._("Replace the draft"), action, ChoiceStyle.DANGER),
            Choice(
                ctx._("Keep the current draft"), f"gazette:keep:{draft.id}", ChoiceStyle.SECONDARY
            ),
        ),
        ephemeral=True,
    )


_CHOICE = (
    r"(?:replace:(?P<draft>\d{1,9}):(?:s(?P<session>\d{1,9})|d(?P<since>\d{1,12})(?P<all>[ap]))"
    r"|keep:(?P<kept>\d{1,9})|remind:(?P<remind>\d{1,9}))"
)


@on_choice("gazette", _CHOICE)
def gazette_choice(ctx: Context, match: re.Match[str]) -> Reply:
    """The buttons of drafts: replace or keep a draft, ask pending authors once more."""
    if not ctx.actor.is_coordinator:
        raise NotForMembers(ctx.t)
    if match["kept"]:
        return Reply(
            text=ctx._("The current draft is kept, unchanged. /gazette shows it."), ephemeral=True
        )
    draft = current_draft(ctx.db)
    wanted = int(match["draft"] or match["remind"])
    if draft is None or draft.id != wanted:
        return Reply(
            text=ctx._("That draft is no longer the current one; type /gazette to see it."),
            ephemeral=True,
        )
    now = ctx.now()
    if match["remind"]:
        return _remind(ctx, draft)
    if match["session"]:
        period = _session_period(ctx, int(match["session"]), now)
    else:
        since = datetime.fromtimestamp(int(match["since"]), UTC)
        period = Period(since, now, include_published=match["all"] == "a")
    return _compile(ctx, period, now)


def _remind(ctx: Context, draft: Gazette) -> Reply:
    pending = pending_highlights(ctx.db, Period.of(draft))
    asked = ask_pending_again(ctx, pending)
    return Reply(
        text=ctx.t.ngettext(
            "I asked {n} author once more by direct message; their answer will show in the draft.",
            "I asked {n} authors once more by direct message; their answers will show in the "
            "draft.",
            asked,
        ),
        ephemeral=True,
    )


@command(
    "voir",
    "show",
    N_("Shows the gazette draft as a numbered list, with its preview."),
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    default=True,
    examples=("/gazette",),
)
def show_draft(ctx: Context, args: Args) -> Reply:
    return preview_reply(ctx, require_draft(ctx))


@command(
    "publier",
    "publish",
    N_("Publishes the gazette draft in a channel, with the gazette attached, and archives it."),
    options=[
        Option(
            "canal",
            "channel",
            N_("The channel (default: here)."),
            type=OptionType.CHANNEL,
        )
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/gazette publier", "/gazette publier --canal #general"),
)
async def publish_command(ctx: Context, args: Args) -> Reply:
    draft = require_draft(ctx)
    if args["canal"]:
        place = ctx.find_channel(args["canal"])
        platform, channel_id, channel_name = place.platform, place.channel_id, place.name
    elif ctx.place.is_direct:
        raise ChannelMissing(ctx.t)
    else:
        platform, channel_id, channel_name = (
            ctx.place.platform,
            ctx.place.channel_id,
            ctx.place.name,
        )
    now = ctx.now()
    printed: tuple[bytes, bytes] | None = None
    if ctx.settings.gazette.pdf:
        html, content = prepare(ctx, draft, now)
        if content.item_count:
            number = draft.id
            ctx.db.commit()  # release the database while Chromium prints
            pdf = await pdf_of(ctx, html)
            printed = (html, pdf) if pdf else None
            draft = require_draft(ctx)
            if draft.id != number:  # published meanwhile by someone else
                raise NoDraft(ctx.t)
    pending = len(pending_highlights(ctx.db, Period.of(draft)))
    html = publish(ctx, draft, platform, channel_id, at=now, printed=printed)
    text = ctx._(
        "Gazette {number} published in #{channel} and archived ({size}). /gazettes lists "
        "the archive.",
        number=ctx.t.ref(draft.id),
        channel=channel_name,
        size=size_text(ctx.t, len(html)),
    )
    if ctx.settings.gazette.pdf:
        text += " " + (
            ctx._(
                "The A4 PDF is attached beside it ({size}).", size=size_text(ctx.t, len(draft.pdf))
            )
            if draft.pdf
            else ctx._(
                "The PDF could not be made (is Chromium installed? see [gazette] chromium and "
                "the logs): the HTML file prints on A4 too."
            )
        )
    if pending:
        text += " " + ctx.t.ngettext(
            "{n} quote still awaited its author's answer: it is not in this gazette.",
            "{n} quotes still awaited their author's answer: they are not in this gazette.",
            pending,
        )
    return Reply(text=text, ephemeral=True)


@command(
    "reconstruire",
    "rebuild",
    N_("Renders an archived gazette again with today's consents."),
    options=[
        Option(
            "numero",
            "number",
            N_("The number of the gazette."),
            type=OptionType.INTEGER,
            positional=True,
            required=True,
            autocomplete="gazette",
        )
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/gazette reconstruire 2",),
)
def rebuild_command(ctx: Context, args: Args) -> Reply:
    row = published_gazette(ctx, args["numero"])
    rebuild_archive(ctx, row)
    return Reply(
        text=ctx._("Gazette {number} rebuilt with today's consents.", number=ctx.t.ref(row.id)),
        ephemeral=True,
    )


@command(
    "gazettes",
    "gazettes",
    N_("Lists the published gazettes; with a number, sends that gazette's file."),
    options=[
        Option(
            "numero",
            "number",
            N_("The number of a gazette to receive."),
            type=OptionType.INTEGER,
            positional=True,
            autocomplete="gazette",
        )
    ],
    examples=("/gazettes", "/gazettes 2"),
)
async def archive_command(ctx: Context, args: Args) -> Reply:
    if args["numero"] is not None:
        row = published_gazette(ctx, args["numero"])
        if ctx.settings.gazette.pdf and row.pdf is None and row.html is not None:
            # rebuilt since (a withdrawal): print the PDF again, outside the transaction
            html, number = row.html, row.id
            ctx.db.commit()
            pdf = await pdf_of(ctx, html)
            row = published_gazette(ctx, number)
            if pdf and row.html == html:
                row.pdf = pdf
        return Reply(
            text=ctx._("Gazette {number}.", number=ctx.t.ref(row.id)),
            attachments=gazette_files(row, network_translator(ctx)),
            ephemeral=True,
        )
    rows = ctx.db.scalars(
        select(Gazette)
        .where(Gazette.status == GazetteStatus.PUBLISHED)
        .order_by(Gazette.id.desc())
        .limit(50)
    ).all()
    # The list is posted in the channel: in the network's language, whoever asked.
    public = network_translator(ctx)
    if not rows:
        return Reply(text=public.gettext("No gazette has been published yet."))
    lines = [public.gettext("**Published gazettes**"), ""]
    for row in rows:
        assert row.published_at is not None
        lines.append(
            "- "
            + public.ngettext(
                "{number} — published on {date} — {n} item",
                "{number} — published on {date} — {n} items",
                row.published_items,
                number=public.ref(row.id),
                date=public.date(row.published_at),
            )
        )
    lines.append("")
    lines.append(public.gettext("Type /gazettes N to receive one."))
    return Reply(text="\n".join(lines))


@autocompleter("gazette")
def suggest_gazettes(db: Session, typed: str, actor: Actor, t: Translator) -> list[tuple[str, str]]:
    """Published gazettes, newest first."""
    rows = db.execute(
        select(Gazette.id, Gazette.published_at)
        .where(Gazette.status == GazetteStatus.PUBLISHED)
        .order_by(Gazette.id.desc())
        .limit(25)
    )
    suggestions = []
    for number, published_at in rows:
        label = f"{t.ref(number)} · {t.date(published_at)}" if published_at else t.ref(number)
        if not typed.strip() or typed.strip().lstrip("#") in label:
            suggestions.append((label, str(number)))
    return suggestions
