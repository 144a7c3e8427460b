"""Publishing a gazette, and its archive.

A published gazette keeps its HTML, rendered again when what it shows changes (a withdrawn
consent, a deleted highlight) or on ``/gazette reconstruire``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select

from bot.context import Context
from bot.core import Attachment, PlaceTarget, Reply
from bot.i18n import Translator
from bot.storage.highlights import Gazette, GazetteItem, GazetteStatus, ItemKind
from commands.gazette.content import network_translator, render
from commands.gazette.errors import EmptyGazette, NoSuchGazette
from commands.gazette.messages import excerpt
from digests.gazette import GazetteContent
from digests.pdf import PdfUnavailable, html_to_pdf

log = logging.getLogger(__name__)


def prepare(ctx: Context, draft: Gazette, at: datetime) -> tuple[bytes, GazetteContent]:
    """The gazette as it would be published at ``at`` (nothing changes)."""
    return render(
        ctx.db,
        network_translator(ctx),
        ctx.settings,
        draft,
        at,
        ctx.templates,
        draft=False,
        sources=ctx.gazette_sources,
    )


def publish(
    ctx: Context,
    draft: Gazette,
    platform: str,
    channel_id: str,
    *,
    at: datetime | None = None,
    printed: tuple[bytes, bytes] | None = None,
) -> bytes:
    """Archive ``draft`` as published and post it in the channel; returns its HTML.

    ``printed`` is (HTML, its PDF) made beforehand (:func:`pdf_of`, outside the transaction):
    the PDF is kept when the HTML rendered now is the same. An empty gazette (nothing left after
    consents and drops) is refused.
    """
    now = at or ctx.now()
    t = network_translator(ctx)
    html, content = prepare(ctx, draft, now)
    if content.item_count == 0:
        raise EmptyGazette(ctx.t)
    draft.status = GazetteStatus.PUBLISHED
    draft.published_at = now
    draft.html = html
    draft.pdf = printed[1] if printed is not None and printed[0] == html else None
    draft.platform = platform
    draft.channel_id = channel_id
    draft.published_items = content.item_count
    draft.updated_at = now
    announcement = Reply(text=_summary(t, content, draft), attachments=gazette_files(draft, t))
    ctx.send_later(
        f"gazette:{draft.id}:publish",
        announcement,
        PlaceTarget(platform=platform, channel_id=channel_id),
        now,
    )
    return html


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
    start, end = t.date(gazette.since), t.date(gazette.until)
    lines = [
        t.gettext(
            "📰 **{network}: gazette {number} is out!**",
            network=content.network,
            number=t.ref(gazette.id),
        ),
        t.gettext("On {date}: {contents}.", date=start, contents=", ".join(parts))
        if start == end
        else t.gettext(
            "From {start} to {end}: {contents}.", start=start, end=end, contents=", ".join(parts)
        ),
    ]
    if content.editorial:
        lines.append("")
        lines.append(f"*{excerpt(content.editorial, 280)}*")
    lines.append("")
    lines.append(
        t.gettext(
            "Open the attached file: it reads on a phone and prints on A4. Every quote appears "
            "with its author's consent."
        )
    )
    return "\n".join(lines)


def gazette_filename(gazette: Gazette, t: Translator, suffix: str = "html") -> str:
    day = (gazette.published_at or gazette.until).astimezone(t.tz).date().isoformat()
    return f"gazette-{gazette.id}-{day}.{suffix}"


def gazette_files(gazette: Gazette, t: Translator) -> tuple[Attachment, ...]:
    """The archived files of a gazette: the HTML, and the A4 PDF beside it when there is one."""
    assert gazette.html is not None
    files = [Attachment(gazette_filename(gazette, t), "text/html", gazette.html)]
    if gazette.pdf:
        files.append(
            Attachment(gazette_filename(gazette, t, "pdf"), "application/pdf", gazette.pdf)
        )
    return tuple(files)


async def pdf_of(ctx: Context, html: bytes) -> bytes | None:
    """The A4 PDF of ``html`` when ``[gazette] pdf`` is on and Chromium can print it.

    Chromium runs in a thread: the event loop goes on meanwhile. The caller commits first, so
    SQLite's write lock is not held during the print. Without Chromium the reason is logged and
    the gazette stays HTML only.
    """
    if not ctx.settings.gazette.pdf:
        return None
    try:
        return await asyncio.to_thread(html_to_pdf, html, chromium=ctx.settings.gazette.chromium)
    except PdfUnavailable as error:
        log.warning("the gazette's PDF was not made: %s", error)
        return None


def published_gazette(ctx: Context, number: int) -> Gazette:
    row = ctx.db.get(Gazette, number)
    if row is None or row.status != GazetteStatus.PUBLISHED or row.html is None:
        raise NoSuchGazette(ctx.t, number)
    return row


def rebuild_archive(ctx: Context, gazette: Gazette) -> None:
    assert gazette.status == GazetteStatus.PUBLISHED
    html, content = render(
        ctx.db,
        network_translator(ctx),
        ctx.settings,
        gazette,
        gazette.published_at or ctx.now(),
        ctx.templates,
        draft=False,
        sources=ctx.gazette_sources,
    )
    gazette.html = html
    gazette.pdf = None  # it may show what was withdrawn; printed again when next asked for
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
