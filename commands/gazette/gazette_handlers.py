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

From the command line, :func:`build_gazette_file` writes the draft (or a fresh compilation of a
period) to a file.

Items are stored with a kind and the id of what they show; the order inside a section is the
items' ``position``. Consent is checked again at every rendering: a withdrawn quote vanishes
from drafts, publications and rebuilt archives without anyone touching the items.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from jinja2 import Environment
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import Context
from bot.core import (
    Actor,
    Attachment,
    ExtraEntry,
    GazetteSource,
    PlaceTarget,
    Reply,
    Role,
    UserError,
)
from bot.i18n import N_, Translator, Translators
from bot.registry import Args, Option, OptionType, autocompleter, command
from bot.storage.highlights import (
    PUBLISHABLE,
    Consent,
    ConsentPreference,
    Gazette,
    GazetteItem,
    GazetteStatus,
    Highlight,
    ItemKind,
)
from bot.storage.members import Member
from digests.gazette import (
    GazetteContent,
    GazetteImage,
    HighlightEntry,
    Newcomer,
    make_environment,
    render_gazette,
    weekly_points,
)

log = logging.getLogger(__name__)

GROUP = "gazette"
GROUP_ALIAS = "gazette"
GROUP_HELP = N_("Compiles, edits and publishes the network's gazette (coordinators).")

SECTIONS: tuple[ItemKind, ...] = (
    ItemKind.HIGHLIGHT,
    ItemKind.SESSION,
    ItemKind.POLL,
    ItemKind.VEILLE,
    ItemKind.NEWCOMER,
)
_SECTION_INDEX = {kind: index for index, kind in enumerate(SECTIONS)}
SECTION_TITLES = {
    ItemKind.HIGHLIGHT: N_("Highlights"),
    ItemKind.SESSION: N_("Sessions held"),
    ItemKind.POLL: N_("Decisions and polls"),
    ItemKind.VEILLE: N_("Worth reading"),
    ItemKind.NEWCOMER: N_("Welcome to the newcomers"),
}
EXTRA_KINDS = (ItemKind.SESSION, ItemKind.POLL, ItemKind.VEILLE)
EXCERPT = 90


# --- what goes in ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime
    session_id: int | None = None


def last_published_until(db: Session) -> datetime | None:
    value: datetime | None = db.scalar(
        select(func.max(Gazette.until)).where(Gazette.status == GazetteStatus.PUBLISHED)
    )
    return value


def default_period(db: Session, settings: Settings, now: datetime) -> Period:
    since = last_published_until(db) or now - timedelta(days=settings.highlights.default_days)
    return Period(since=min(since, now), until=now)


def session_period(db: Session, settings: Settings, now: datetime, session_id: int) -> Period:
    """The period of a session's gazette: from the session (or its first highlight) to now."""
    starts: list[datetime] = []
    first = db.scalar(select(func.min(Highlight.said_at)).where(Highlight.session_id == session_id))
    if first is not None:
        starts.append(first)
    session_start = _session_start(db, session_id)
    if session_start is not None:
        starts.append(session_start)
    if not starts:
        return Period(now - timedelta(days=settings.highlights.default_days), now, session_id)
    return Period(min(min(starts), now), now, session_id)


def _session_start(db: Session, session_id: int) -> datetime | None:
    try:
        from bot.storage.sessions import SessionRow
    except ImportError:
        return None
    row = db.get(SessionRow, session_id)
    return None if row is None else row.starts_at


def publishable_highlights(db: Session, period: Period) -> list[Highlight]:
    """Consented highlights of the period, and older ones whose author answered since."""
    query = select(Highlight).where(Highlight.consent.in_([c.value for c in PUBLISHABLE]))
    if period.session_id is not None:
        query = query.where(Highlight.session_id == period.session_id)
    else:
        query = query.where(
            Highlight.said_at <= period.until,
            or_(Highlight.said_at >= period.since, Highlight.consent_at >= period.since),
        )
    return list(db.scalars(query.order_by(Highlight.said_at, Highlight.id)).all())


def pending_highlights(db: Session, period: Period) -> list[Highlight]:
    query = select(Highlight).where(Highlight.consent == Consent.PENDING)
    if period.session_id is not None:
        query = query.where(Highlight.session_id == period.session_id)
    else:
        query = query.where(Highlight.said_at >= period.since, Highlight.said_at <= period.until)
    return list(db.scalars(query.order_by(Highlight.id)).all())


def joined_members(db: Session, period: Period) -> list[Member]:
    return list(
        db.scalars(
            select(Member)
            .where(Member.created_at >= period.since, Member.created_at <= period.until)
            .order_by(Member.created_at, Member.id)
        ).all()
    )


def opted_out(db: Session) -> set[int]:
    """Members who asked never to be asked: they are not named in the gazette."""
    return set(
        db.scalars(
            select(ConsentPreference.member_id).where(ConsentPreference.never_ask.is_(True))
        ).all()
    )


def named_newcomers(db: Session, settings: Settings, period: Period) -> list[Member]:
    if not settings.highlights.name_newcomers:
        return []
    hidden = opted_out(db)
    return [m for m in joined_members(db, period) if m.id not in hidden]


# --- sections from the other families ------------------------------------------------------------


def extra_entries(
    db: Session, t: Translator, period: Period, sources: Mapping[str, GazetteSource]
) -> dict[ItemKind, list[ExtraEntry]]:
    """The sections the other families offer (:attr:`bot.family.Family.gazette`), by kind."""
    entries: dict[ItemKind, list[ExtraEntry]] = {}
    for kind_name, provider in sources.items():
        kind = ItemKind(kind_name)
        try:
            entries[kind] = list(provider(db, t, period.since, period.until, period.session_id))
        except Exception:  # a broken section must not stop the gazette
            log.exception("the gazette section %s failed; it is left out", kind)
            entries[kind] = []
    return entries


# --- drafts ------------------------------------------------------------------------------------


def current_draft(db: Session) -> Gazette | None:
    return db.scalars(
        select(Gazette)
        .where(Gazette.status == GazetteStatus.DRAFT)
        .order_by(Gazette.id.desc())
        .limit(1)
    ).first()


def ordered_items(gazette: Gazette) -> list[GazetteItem]:
    return sorted(
        gazette.items,
        key=lambda item: (_SECTION_INDEX.get(ItemKind(item.kind), 99), item.position, item.id or 0),
    )


def already_published(db: Session) -> set[tuple[ItemKind, int]]:
    """Items a published gazette shown or dropped: a period's gazette leaves them out."""
    rows = db.execute(
        select(GazetteItem.kind, GazetteItem.ref_id)
        .join(Gazette, Gazette.id == GazetteItem.gazette_id)
        .where(Gazette.status == GazetteStatus.PUBLISHED)
    ).all()
    return {(ItemKind(kind), int(ref_id)) for kind, ref_id in rows}


def candidates(
    db: Session,
    t: Translator,
    settings: Settings,
    period: Period,
    sources: Mapping[str, GazetteSource],
) -> list[tuple[ItemKind, int]]:
    """What the period (or the session) offers, in its natural order.

    A period's gazette leaves out what an earlier gazette published (or dropped); a session's gazette
    (asked for explicitly) shows everything about the session.
    """
    found: list[tuple[ItemKind, int]] = [
        (ItemKind.HIGHLIGHT, h.id) for h in publishable_highlights(db, period)
    ]
    extras = extra_entries(db, t, period, sources)
    for kind in EXTRA_KINDS:
        found.extend((kind, entry.ref_id) for entry in extras.get(kind, []))
    found.extend((ItemKind.NEWCOMER, m.id) for m in named_newcomers(db, settings, period))
    if period.session_id is None:
        published = already_published(db)
        found = [key for key in found if key not in published]
    return found


@dataclass(frozen=True, slots=True)
class RefreshReport:
    added: int
    removed: int


def refresh_items(
    db: Session,
    t: Translator,
    settings: Settings,
    gazette: Gazette,
    sources: Mapping[str, GazetteSource],
) -> RefreshReport:
    """Bring the items in line with what the period offers now; keeps order and drops."""
    period = Period(gazette.since, gazette.until, gazette.session_id)
    wanted = candidates(db, t, settings, period, sources)
    wanted_keys = set(wanted)
    removed = 0
    for item in list(gazette.items):
        if (ItemKind(item.kind), item.ref_id) not in wanted_keys:
            gazette.items.remove(item)
            removed += 1
    known = {(ItemKind(item.kind), item.ref_id) for item in gazette.items}
    position = max((item.position for item in gazette.items), default=0)
    added = 0
    for kind, ref_id in wanted:
        if (kind, ref_id) in known:
            continue
        position += 1
        gazette.items.append(GazetteItem(kind=kind, ref_id=ref_id, position=position))
        known.add((kind, ref_id))
        added += 1
    db.flush()
    return RefreshReport(added=added, removed=removed)


def open_draft(
    db: Session,
    t: Translator,
    settings: Settings,
    period: Period,
    now: datetime,
    creator: Member | None,
    sources: Mapping[str, GazetteSource],
) -> tuple[Gazette, RefreshReport]:
    draft = current_draft(db)
    if draft is None:
        draft = Gazette(
            status=GazetteStatus.DRAFT,
            since=period.since,
            until=period.until,
            session_id=period.session_id,
            created_by_id=creator.id if creator else None,
            created_at=now,
            updated_at=now,
        )
        db.add(draft)
        db.flush()
    else:
        draft.since = period.since
        draft.until = period.until
        draft.session_id = period.session_id
        draft.updated_at = now
    return draft, refresh_items(db, t, settings, draft, sources)


# --- rendering ---------------------------------------------------------------------------------


def _highlight_entry(row: Highlight) -> HighlightEntry:
    return HighlightEntry(
        number=row.id,
        quote=row.quote,
        author=row.author_name if row.consent == Consent.YES else None,
        said_at=row.said_at,
        channel=row.channel_name,
        link=row.link,
        themes=tuple(row.themes or ()),
        images=tuple(
            GazetteImage(image.media_type, image.data, image.filename or "") for image in row.images
        ),
    )


def build_content(
    db: Session,
    t: Translator,
    settings: Settings,
    gazette: Gazette,
    generated_at: datetime,
    *,
    draft: bool,
    sources: Mapping[str, GazetteSource],
) -> GazetteContent:
    """What the gazette shows now: its items that are not dropped and still consented to."""
    period = Period(gazette.since, gazette.until, gazette.session_id)
    items = [item for item in ordered_items(gazette) if not item.dropped]
    by_kind: dict[ItemKind, list[int]] = {kind: [] for kind in SECTIONS}
    for item in items:
        by_kind[ItemKind(item.kind)].append(item.ref_id)
    highlights: list[HighlightEntry] = []
    if by_kind[ItemKind.HIGHLIGHT]:
        rows = {
            row.id: row
            for row in db.scalars(
                select(Highlight).where(Highlight.id.in_(by_kind[ItemKind.HIGHLIGHT]))
            ).all()
        }
        for ref_id in by_kind[ItemKind.HIGHLIGHT]:
            row = rows.get(ref_id)
            if row is not None and row.consent in PUBLISHABLE:
                highlights.append(_highlight_entry(row))
    extras: dict[ItemKind, list[ExtraEntry]] = {}
    if any(by_kind[kind] for kind in EXTRA_KINDS):
        available = extra_entries(db, t, period, sources)
        for kind in EXTRA_KINDS:
            known = {entry.ref_id: entry for entry in available.get(kind, [])}
            extras[kind] = [known[r] for r in by_kind[kind] if r in known]
    hidden = opted_out(db)
    newcomers: list[Newcomer] = []
    if by_kind[ItemKind.NEWCOMER] and settings.highlights.name_newcomers:
        members = {
            m.id: m
            for m in db.scalars(
                select(Member).where(Member.id.in_(by_kind[ItemKind.NEWCOMER]))
            ).all()
        }
        for ref_id in by_kind[ItemKind.NEWCOMER]:
            member = members.get(ref_id)
            if member is not None and member.id not in hidden:
                newcomers.append(Newcomer(member.display_name, member.created_at))
    joined = db.scalars(select(Member.created_at).where(Member.created_at <= period.until)).all()
    newcomer_count = sum(1 for when in joined if when >= period.since)
    return GazetteContent(
        network=settings.network.name,
        since=period.since,
        until=period.until,
        generated_at=generated_at,
        number=None if draft else gazette.id,
        editorial=gazette.editorial,
        highlights=tuple(highlights),
        sessions=tuple(extras.get(ItemKind.SESSION, [])),
        polls=tuple(extras.get(ItemKind.POLL, [])),
        veille=tuple(extras.get(ItemKind.VEILLE, [])),
        newcomers=tuple(newcomers),
        newcomer_count=newcomer_count,
        members_over_time=weekly_points(list(joined), period.until, tz=t.tz),
        draft=draft,
    )


def render(
    db: Session,
    t: Translator,
    settings: Settings,
    gazette: Gazette,
    generated_at: datetime,
    env: Environment | None,
    *,
    draft: bool,
    sources: Mapping[str, GazetteSource],
) -> tuple[bytes, GazetteContent]:
    content = build_content(db, t, settings, gazette, generated_at, draft=draft, sources=sources)
    html = render_gazette(content, t, env)
    return html.encode("utf-8"), content


def _network_translator(ctx: Context) -> Translator:
    return ctx.translators.get(ctx.settings.network.locale)


def rebuild_archive(ctx: Context, gazette: Gazette) -> None:
    assert gazette.status == GazetteStatus.PUBLISHED
    html, content = render(
        ctx.db,
        _network_translator(ctx),
        ctx.settings,
        gazette,
        gazette.published_at or ctx.now(),
        ctx.templates,
        draft=False,
        sources=ctx.gazette_sources,
    )
    gazette.html = html
    gazette.rebuilt_at = ctx.now()
    gazette.published_items = content.item_count


def rebuild_archives_with(ctx: Context, highlight_id: int) -> list[int]:
    """Rebuild every archived gazette that lists ``highlight_id``; returns their numbers."""
    rows = ctx.db.scalars(
        select(Gazette)
        .join(GazetteItem, GazetteItem.gazette_id == Gazette.id)
        .where(
            Gazette.status == GazetteStatus.PUBLISHED,
            GazetteItem.kind == ItemKind.HIGHLIGHT,
            GazetteItem.ref_id == highlight_id,
        )
        .order_by(Gazette.id)
    ).all()
    for gazette in rows:
        rebuild_archive(ctx, gazette)
    return [g.id for g in rows]


# --- the draft as a chat message -----------------------------------------------------------------


def _excerpt(text: str, limit: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _describe_items(
    ctx: Context, gazette: Gazette, period: Period
) -> list[tuple[GazetteItem, str]]:
    items = ordered_items(gazette)
    ids: dict[ItemKind, list[int]] = {kind: [] for kind in SECTIONS}
    for item in items:
        ids[ItemKind(item.kind)].append(item.ref_id)
    highlights = {
        h.id: h
        for h in ctx.db.scalars(
            select(Highlight).where(Highlight.id.in_(ids[ItemKind.HIGHLIGHT] or [-1]))
        ).all()
    }
    members = {
        m.id: m
        for m in ctx.db.scalars(
            select(Member).where(Member.id.in_(ids[ItemKind.NEWCOMER] or [-1]))
        ).all()
    }
    extras: dict[ItemKind, dict[int, ExtraEntry]] = {}
    if any(ids[kind] for kind in EXTRA_KINDS):
        available = extra_entries(ctx.db, _network_translator(ctx), period, ctx.gazette_sources)
        extras = {kind: {e.ref_id: e for e in available.get(kind, [])} for kind in EXTRA_KINDS}
    described: list[tuple[GazetteItem, str]] = []
    for item in items:
        kind = ItemKind(item.kind)
        if kind is ItemKind.HIGHLIGHT:
            row = highlights.get(item.ref_id)
            if row is None:
                text = ctx._("highlight {number} (deleted)", number=ctx.t.ref(item.ref_id))
            else:
                who = (
                    row.author_name
                    if row.consent == Consent.YES
                    else ctx._("a member (without their name)")
                )
                text = f"« {_excerpt(row.quote)} » — {who}"
                if row.channel_name:
                    text += f" · #{row.channel_name}"
                if row.consent not in PUBLISHABLE:
                    text += " " + ctx._("(consent withdrawn: left out)")
        elif kind is ItemKind.NEWCOMER:
            member = members.get(item.ref_id)
            text = member.display_name if member else "?"
        else:
            entry = extras.get(kind, {}).get(item.ref_id)
            text = entry.title if entry else "?"
            if entry and entry.details:
                text += " — " + entry.details[0]
        described.append((item, text))
    return described


def draft_listing(ctx: Context, gazette: Gazette) -> str:
    period = Period(gazette.since, gazette.until, gazette.session_id)
    lines = [
        ctx._(
            "**Gazette draft** — from {start} to {end}",
            start=ctx.t.date(gazette.since),
            end=ctx.t.date(gazette.until),
        )
    ]
    if gazette.session_id is not None:
        lines.append(ctx._("Gazette of session {number}.", number=ctx.t.ref(gazette.session_id)))
    if gazette.editorial:
        lines.append(ctx._("Editorial: « {text} »", text=_excerpt(gazette.editorial, 160)))
    else:
        lines.append(ctx._('No editorial yet: /gazette edito "..."'))
    described = _describe_items(ctx, gazette, period)
    if not described:
        lines.append("")
        lines.append(ctx._("Nothing to publish yet for this period."))
    current: ItemKind | None = None
    for number, (item, text) in enumerate(described, start=1):
        kind = ItemKind(item.kind)
        if kind is not current:
            current = kind
            lines.append("")
            lines.append(f"**{ctx._(SECTION_TITLES[kind])}**")
        if item.dropped:
            text = f"{text} " + ctx._("(dropped)")
        lines.append(f"{number}. {text}")
    pending = pending_highlights(ctx.db, period)
    if pending:
        lines.append("")
        lines.append(
            ctx._(
                "Awaiting their author's answer, so left out for now: {numbers}.",
                numbers=", ".join(ctx.t.ref(h.id) for h in pending),
            )
        )
    lines.append("")
    lines.append(
        ctx._(
            "Edit with /gazette deplacer N --avant M, /gazette retirer N, /gazette remettre N, "
            '/gazette edito "..."; then /gazette publier.'
        )
    )
    return "\n".join(lines)


def preview_reply(ctx: Context, gazette: Gazette, prefix: str | None = None) -> Reply:
    html, _content = render(
        ctx.db,
        _network_translator(ctx),
        ctx.settings,
        gazette,
        ctx.now(),
        ctx.templates,
        draft=True,
        sources=ctx.gazette_sources,
    )
    text = draft_listing(ctx, gazette)
    if prefix:
        text = prefix + "\n\n" + text
    return Reply(
        text=text,
        attachments=(Attachment("gazette-brouillon.html", "text/html", html),),
    )


def require_draft(ctx: Context) -> Gazette:
    draft = current_draft(ctx.db)
    if draft is None:
        raise UserError(ctx._("There is no gazette draft. Start one with /gazette brouillon."))
    return draft


def item_at(ctx: Context, gazette: Gazette, number: int) -> GazetteItem:
    items = ordered_items(gazette)
    if not 1 <= number <= len(items):
        raise UserError(
            ctx.t.ngettext(
                "There is no item {number} in the draft: it has {n} item. Type /gazette to see "
                "the list.",
                "There is no item {number} in the draft: it has {n} items. Type /gazette to see "
                "the list.",
                len(items),
                number=number,
            )
        )
    return items[number - 1]


# --- commands ----------------------------------------------------------------------------------


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
        raise UserError(ctx._("Give either --depuis or --session, not both."))
    if args["session"] is not None:
        period = session_period(ctx.db, ctx.settings, now, args["session"])
    elif args["depuis"]:
        since = _parse_since(ctx, args["depuis"])
        if since >= now:
            raise UserError(
                ctx._(
                    "{date} is not in the past: the gazette tells what happened.",
                    date=ctx.t.datetime(since),
                )
            )
        period = Period(since, now)
    else:
        period = default_period(ctx.db, ctx.settings, now)
    draft, report = open_draft(
        ctx.db, _network_translator(ctx), ctx.settings, period, now, ctx.member, ctx.gazette_sources
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
        raise UserError(ctx._('Give the editorial between quotes: /gazette edito "...".'))
    limit = 4000
    if len(text) > limit:
        raise UserError(
            ctx._(
                "The editorial is too long ({length} characters); keep it under {limit}.",
                length=len(text),
                limit=limit,
            )
        )
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
        raise UserError(ctx._("Say where to put it: --avant M or --apres M."))
    item = item_at(ctx, draft, args["numero"])
    anchor = item_at(ctx, draft, before if before is not None else after)
    if item.kind != anchor.kind:
        raise UserError(
            ctx._(
                "Items {a} and {b} are in different sections; items move within their section.",
                a=args["numero"],
                b=before if before is not None else after,
            )
        )
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


def _summary(t: Translator, content: GazetteContent, gazette: Gazette) -> str:
    parts: list[str] = []
    if content.highlights:
        parts.append(t.ngettext("{n} highlight", "{n} highlights", len(content.highlights)))
    if content.sessions:
        parts.append(t.ngettext("{n} session", "{n} sessions", len(content.sessions)))
    if content.polls:
        parts.append(t.ngettext("{n} decision", "{n} decisions", len(content.polls)))
    if content.veille:
        parts.append(t.ngettext("{n} reading", "{n} readings", len(content.veille)))
    if content.newcomer_count:
        parts.append(t.ngettext("{n} newcomer", "{n} newcomers", content.newcomer_count))
    lines = [
        t.gettext(
            "📰 **{network}: gazette {number} is out!**",
            network=content.network,
            number=t.ref(gazette.id),
        ),
        t.gettext(
            "From {start} to {end}: {contents}.",
            start=t.date(gazette.since),
            end=t.date(gazette.until),
            contents=", ".join(parts),
        ),
    ]
    if content.editorial:
        lines.append("")
        lines.append(f"*{_excerpt(content.editorial, 280)}*")
    lines.append("")
    lines.append(
        t.gettext(
            "Open the attached file: it reads on a phone and prints on A4. Every quote appears "
            "with its author's consent."
        )
    )
    return "\n".join(lines)


def gazette_filename(gazette: Gazette, t: Translator) -> str:
    day = (gazette.published_at or gazette.until).astimezone(t.tz).date().isoformat()
    return f"gazette-{gazette.id}-{day}.html"


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
        raise UserError(
            ctx._("Say in which channel to publish it: /gazette publier --canal #general.")
        )
    else:
        platform, channel_id, channel_name = (
            ctx.place.platform,
            ctx.place.channel_id,
            ctx.place.name,
        )
    now = ctx.now()
    t = _network_translator(ctx)
    draft.status = GazetteStatus.PUBLISHED
    draft.published_at = now
    html, content = render(
        ctx.db, t, ctx.settings, draft, now, ctx.templates, draft=False, sources=ctx.gazette_sources
    )
    if content.item_count == 0:
        raise UserError(
            ctx._(
                "The gazette is empty: no consented highlight, session, poll, reading or "
                "newcomer is left in it. Nothing was published; see /gazette."
            )
        )
    draft.html = html
    draft.platform = platform
    draft.channel_id = channel_id
    draft.published_items = content.item_count
    draft.updated_at = now
    announcement = Reply(
        text=_summary(t, content, draft),
        attachments=(Attachment(gazette_filename(draft, t), "text/html", html),),
    )
    ctx.send_later(
        f"gazette:{draft.id}:publish",
        announcement,
        PlaceTarget(platform=platform, channel_id=channel_id),
        now,
    )
    return Reply(
        text=ctx._(
            "Gazette {number} published in #{channel} and archived ({size}). /gazettes lists "
            "the archive.",
            number=ctx.t.ref(draft.id),
            channel=channel_name,
            size=_size(ctx.t, len(html)),
        ),
        ephemeral=True,
    )


def _size(t: Translator, size: int) -> str:
    from commands.gazette.highlights import size_text

    return size_text(t, size)


def _published(ctx: Context, number: int) -> Gazette:
    row = ctx.db.get(Gazette, number)
    if row is None or row.status != GazetteStatus.PUBLISHED or row.html is None:
        raise UserError(
            ctx._(
                "There is no published gazette {number}. Type /gazettes to see the archive.",
                number=ctx.t.ref(number),
            )
        )
    return row


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
    row = _published(ctx, args["numero"])
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
        row = _published(ctx, args["numero"])
        assert row.html is not None
        return Reply(
            text=ctx._("Gazette {number}.", number=ctx.t.ref(row.id)),
            attachments=(
                Attachment(gazette_filename(row, _network_translator(ctx)), "text/html", row.html),
            ),
            ephemeral=True,
        )
    rows = ctx.db.scalars(
        select(Gazette)
        .where(Gazette.status == GazetteStatus.PUBLISHED)
        .order_by(Gazette.id.desc())
        .limit(50)
    ).all()
    if not rows:
        return Reply(text=ctx._("No gazette has been published yet."))
    lines = [ctx._("**Published gazettes**"), ""]
    for row in rows:
        assert row.published_at is not None
        lines.append(
            "- "
            + ctx.t.ngettext(
                "{number} — published on {date} — {n} item",
                "{number} — published on {date} — {n} items",
                row.published_items,
                number=ctx.t.ref(row.id),
                date=ctx.t.date(row.published_at),
            )
        )
    lines.append("")
    lines.append(ctx._("Type /gazettes N to receive one."))
    return Reply(text="\n".join(lines))


# --- command line ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildResult:
    path: Path
    size: int
    items: int
    from_draft: bool


def build_gazette_file(
    sessions: sessionmaker[Session],
    out: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    session_id: int | None = None,
    settings: Settings,
    clock: Clock | None = None,
    locale: str | None = None,
    env: Environment | None = None,
    sources: Mapping[str, GazetteSource],
) -> BuildResult:
    """Write a gazette to ``out`` (``tisserand gazette build --out FILE``); changes nothing.

    Without ``since`` nor ``session_id``, the current draft is written (editorial, order and
    drops included) when there is one, else the period since the last published gazette. With
    them, a fresh compilation of that period or session. Consents are applied as always.
    """
    now = (clock or SystemClock()).now()
    t = Translators(settings.network.tz, settings.network.locale).get(locale)
    with sessions() as db:
        draft = current_draft(db) if since is None and session_id is None else None
        from_draft = draft is not None
        if draft is None:
            if session_id is not None:
                period = session_period(db, settings, now, session_id)
            elif since is not None:
                period = Period(since, until or now)
            else:
                period = default_period(db, settings, now)
            draft = Gazette(
                status=GazetteStatus.DRAFT,
                since=period.since,
                until=until or period.until,
                session_id=period.session_id,
                created_at=now,
                updated_at=now,
            )
            wanted = candidates(db, t, settings, period, sources)
            for position, (kind, ref_id) in enumerate(wanted, start=1):
                draft.items.append(GazetteItem(kind=kind, ref_id=ref_id, position=position))
        html, content = render(
            db, t, settings, draft, now, env or make_environment(), draft=True, sources=sources
        )
        db.rollback()  # nothing of this is kept
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(html)
    return BuildResult(path=out, size=len(html), items=content.item_count, from_draft=from_draft)


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
