"""The gazette draft as a chat message: a numbered list, with the HTML preview attached."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Context
from bot.core import Attachment, Choice, ChoiceStyle, ExtraEntry, Reply
from bot.storage.highlights import PUBLISHABLE, Consent, Gazette, GazetteItem, Highlight, ItemKind
from bot.storage.members import Member
from commands.gazette.content import network_translator, proper_name, render
from commands.gazette.coordination import deliver
from commands.gazette.draft import (
    EXTRA_KINDS,
    SECTION_TITLES,
    SECTIONS,
    Period,
    current_draft,
    extra_entries,
    ordered_items,
    pending_highlights,
    session_facts,
)
from commands.gazette.errors import NoDraft
from commands.gazette.messages import excerpt

LISTING_EXCERPT = 90


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
        available = extra_entries(ctx.db, network_translator(ctx), period, ctx.gazette_sources)
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
                    proper_name(row.author_name)
                    if row.consent == Consent.YES
                    else ctx._("a member (without their name)")
                )
                text = f"« {excerpt(row.quote, LISTING_EXCERPT)} » — {who}"
                if row.channel_name:
                    text += f" · #{row.channel_name}"
                if row.consent not in PUBLISHABLE:
                    text += " " + ctx._("(consent withdrawn: left out)")
        elif kind is ItemKind.NEWCOMER:
            member = members.get(item.ref_id)
            text = proper_name(member.display_name) if member else "?"
        else:
            entry = extras.get(kind, {}).get(item.ref_id)
            text = entry.title if entry else "?"
            if entry and entry.details:
                text += " — " + entry.details[0]
        described.append((item, text))
    return described


def draft_listing(ctx: Context, gazette: Gazette) -> tuple[str, int]:
    """The draft as text, and how many quotes of its period still wait for their author."""
    period = Period.of(gazette)
    facts = session_facts(ctx.db, gazette.session_id) if gazette.session_id is not None else None
    start, end = ctx.t.date(gazette.since), ctx.t.date(gazette.until)
    lines = [
        ctx._("**Gazette draft** — {date}", date=start)
        if start == end
        else ctx._("**Gazette draft** — from {start} to {end}", start=start, end=end)
    ]
    if facts is not None:
        lines.append(
            ctx._(
                "Gazette of session {number}: {title}.",
                number=ctx.t.ref(facts.id),
                title=facts.title,
            )
        )
    elif gazette.session_id is not None:
        lines.append(ctx._("Gazette of session {number}.", number=ctx.t.ref(gazette.session_id)))
    if gazette.include_published:
        lines.append(ctx._("A review: it also shows what earlier gazettes published."))
    if gazette.editorial:
        lines.append(ctx._("Editorial: « {text} »", text=excerpt(gazette.editorial, 160)))
    else:
        lines.append(ctx._('No editorial yet: /gazette editorial "..."'))
    described = _describe_items(ctx, gazette, period)
    if not described:
        lines.append("")
        lines.append(ctx._("Nothing to publish yet for this period."))
    current: ItemKind | None = None
    for item, text in described:
        kind = ItemKind(item.kind)
        if kind is not current:
            current = kind
            lines.append("")
            lines.append(f"**{ctx._(SECTION_TITLES[kind])}**")
        if item.dropped:
            text = f"{text} " + ctx._("(dropped)")
        lines.append(f"{item.number}. {text}")
    pending = pending_highlights(ctx.db, period)
    if pending:
        lines.append("")
        lines.append(
            ctx.t.ngettext(
                "{n} quote awaits its author's answer, so it is left out for now: {numbers}.",
                "{n} quotes await their author's answer, so they are left out for now: {numbers}.",
                len(pending),
                numbers=", ".join(ctx.t.ref(h.id) for h in pending),
            )
        )
    lines.append("")
    lines.append(
        ctx._(
            "Edit with /gazette drop 3 5-7 (numbers, ranges or a section such as nouveaux), "
            '/gazette restore N, /gazette move N --before M, /gazette editorial "..."; then '
            "/gazette publish."
        )
    )
    return "\n".join(lines), len(pending)


def preview_reply(ctx: Context, gazette: Gazette, prefix: str | None = None) -> Reply:
    """The draft for coordinators only (privately, or in the coordination channel)."""
    html, _content = render(
        ctx.db,
        network_translator(ctx),
        ctx.settings,
        gazette,
        ctx.now(),
        ctx.templates,
        draft=True,
        sources=ctx.gazette_sources,
    )
    text, pending = draft_listing(ctx, gazette)
    if prefix:
        text = prefix + "\n\n" + text
    choices: tuple[Choice, ...] = ()
    if pending:
        choices = (
            Choice(ctx._("Ask once more"), f"gazette:remind:{gazette.id}", ChoiceStyle.PRIMARY),
        )
    return deliver(
        ctx,
        Reply(
            text=text,
            choices=choices,
            attachments=(Attachment("gazette-brouillon.html", "text/html", html),),
        ),
    )


def require_draft(ctx: Context) -> Gazette:
    draft = current_draft(ctx.db)
    if draft is None:
        raise NoDraft(ctx.t)
    return draft
