"""/gazette: compile, edit, publish and archive the network's gazette; /gazettes lists them.

Commands (coordinators, except ``/gazettes``):

- ``/gazette brouillon [--depuis DATE | --session N]`` (``draft``): compiles the draft from
  highlights whose author said yes (or yes without my name), the sessions held with their
  attendance, closed polls with their results, the best veille items and the members who
  joined. Without options the period starts where the last published gazette ended (or
  ``[highlights] default_days`` ago). Running it again refreshes the draft and keeps the
  editorial, the order and the items dropped.
- ``/gazette`` (``/gazette voir``): the draft as a numbered list, with the HTML preview attached.
- ``/gazette edito "..."`` (``editorial``; ``--effacer`` clears it).
- ``/gazette deplacer N --avant M`` or ``--apres M`` (``move``, ``--before``/``--after``):
  reorders items of one section (numbers as the list shows them).
- ``/gazette retirer N`` (``drop``) and ``/gazette remettre N`` (``restore``).
- ``/gazette publier [--canal #x]`` (``publish``): posts a summary with the gazette attached in
  the channel (outbox ``gazette:<id>:publish``) and archives the HTML in the ``gazettes`` row.
  An empty gazette is refused.
- ``/gazette reconstruire N`` (``rebuild``): renders archive N again with today's consents
  (done by itself when an author withdraws or a highlight is deleted).
- ``/gazettes [N]``: the archive; with a number, that gazette's file.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Actor, Attachment, Reply, Role
from bot.i18n import N_, Translator
from bot.registry import Args, Option, OptionType, autocompleter, command
from bot.storage.highlights import Gazette, GazetteStatus
from commands.gazette.content import network_translator
from commands.gazette.draft import Period, default_period, open_draft, ordered_items, session_period
from commands.gazette.errors import (
    AcrossSections,
    ChannelMissing,
    EditorialMissing,
    EditorialTooLong,
    NotInThePast,
    PeriodAndSession,
    WhereToMove,
)
from commands.gazette.messages import size_text
from commands.gazette.preview import item_at, preview_reply, require_draft
from commands.gazette.publish import gazette_filename, publish, published_gazette, rebuild_archive

GROUP = "gazette"
GROUP_ALIAS = "gazette"
GROUP_HELP = N_("Compiles, edits and publishes the network's gazette (coordinators).")


def _parse_since(ctx: Context, text: str) -> datetime:
    return ctx.read_date(text, default_time=time(0, 0))


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
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    group_help=GROUP_HELP,
    examples=(
        "/gazette brouillon",
        '/gazette brouillon --depuis "1/11"',
        "/gazette brouillon --session 3",
    ),
)
def draft_command(ctx: Context, args: Args) -> Reply:
    now = ctx.now()
    if args["depuis"] and args["session"] is not None:
        raise PeriodAndSession(ctx.t)
    if args["session"] is not None:
        period = session_period(ctx.db, ctx.settings, now, args["session"])
    elif args["depuis"]:
        since = _parse_since(ctx, args["depuis"])
        if since >= now:
            raise NotInThePast(ctx.t, since)
        period = Period(since, now)
    else:
        period = default_period(ctx.db, ctx.settings, now)
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
    "edito",
    "editorial",
    N_("Writes the editorial of the gazette draft."),
    options=[
        Option(
            "texte",
            "text",
            N_("The editorial."),
            type=OptionType.TEXT,
            positional=True,
        ),
        Option("effacer", "clear", N_("Remove the editorial."), type=OptionType.FLAG),
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=('/gazette edito "Un mois riche en rencontres…"', "/gazette edito --effacer"),
)
def editorial_command(ctx: Context, args: Args) -> Reply:
    draft = require_draft(ctx)
    text = (args["texte"] or "").strip()
    if args["effacer"]:
        draft.editorial = None
        draft.updated_at = ctx.now()
        return Reply(text=ctx._("Editorial removed."), ephemeral=True)
    if not text:
        raise EditorialMissing(ctx.t)
    limit = 4000
    if len(text) > limit:
        raise EditorialTooLong(ctx.t, len(text), limit)
    draft.editorial = text
    draft.updated_at = ctx.now()
    return Reply(text=ctx._("Editorial saved."), ephemeral=True)


@command(
    "deplacer",
    "move",
    N_("Moves an item of the draft before or after another one of the same section."),
    options=[
        Option(
            "numero",
            "number",
            N_("The item to move."),
            type=OptionType.INTEGER,
            positional=True,
            required=True,
        ),
        Option("avant", "before", N_("Put it before this item."), type=OptionType.INTEGER),
        Option("apres", "after", N_("Put it after this item."), type=OptionType.INTEGER),
    ],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/gazette deplacer 3 --avant 1", "/gazette deplacer 1 --apres 2"),
)
def move_command(ctx: Context, args: Args) -> Reply:
    draft = require_draft(ctx)
    before, after = args["avant"], args["apres"]
    if (before is None) == (after is None):
        raise WhereToMove(ctx.t)
    item = item_at(ctx, draft, args["numero"])
    anchor = item_at(ctx, draft, before if before is not None else after)
    if item.kind != anchor.kind:
        raise AcrossSections(ctx.t, args["numero"], before if before is not None else after)
    if item is not anchor:
        section = [i for i in ordered_items(draft) if i.kind == item.kind and i is not item]
        index = section.index(anchor) + (0 if before is not None else 1)
        section.insert(index, item)
        positions = sorted(i.position for i in section)
        for entry, position in zip(section, positions, strict=True):
            entry.position = position
        draft.updated_at = ctx.now()
        ctx.db.flush()
    return preview_reply(ctx, draft, ctx._("Moved."))


def _drop(ctx: Context, args: Args, dropped: bool) -> Reply:
    draft = require_draft(ctx)
    item = item_at(ctx, draft, args["numero"])
    item.dropped = dropped
    draft.updated_at = ctx.now()
    ctx.db.flush()
    done = (
        ctx._("Item {number} dropped from the gazette.", number=args["numero"])
        if dropped
        else ctx._("Item {number} is back in the gazette.", number=args["numero"])
    )
    return preview_reply(ctx, draft, done)


_NUMBER = Option(
    "numero",
    "number",
    N_("The number of the item in the draft list."),
    type=OptionType.INTEGER,
    positional=True,
    required=True,
)


@command(
    "retirer",
    "drop",
    N_("Leaves an item out of the gazette draft."),
    options=[_NUMBER],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/gazette retirer 4",),
)
def drop_command(ctx: Context, args: Args) -> Reply:
    return _drop(ctx, args, True)


@command(
    "remettre",
    "restore",
    N_("Puts a dropped item back in the gazette draft."),
    options=[_NUMBER],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/gazette remettre 4",),
)
def restore_command(ctx: Context, args: Args) -> Reply:
    return _drop(ctx, args, False)


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
def publish_command(ctx: Context, args: Args) -> Reply:
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
    html = publish(ctx, draft, platform, channel_id)
    return Reply(
        text=ctx._(
            "Gazette {number} published in #{channel} and archived ({size}). /gazettes lists "
            "the archive.",
            number=ctx.t.ref(draft.id),
            channel=channel_name,
            size=size_text(ctx.t, len(html)),
        ),
        ephemeral=True,
    )


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
def archive_command(ctx: Context, args: Args) -> Reply:
    if args["numero"] is not None:
        row = published_gazette(ctx, args["numero"])
        assert row.html is not None
        return Reply(
            text=ctx._("Gazette {number}.", number=ctx.t.ref(row.id)),
            attachments=(
                Attachment(gazette_filename(row, network_translator(ctx)), "text/html", row.html),
            ),
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
