"""Rendering a channel's weekly digest from plain data: the chat text and the HTML page.

What goes in a digest, and when it is sent, is the veille family's (``commands/veille``): it
gives :func:`render` a :class:`DigestData`.

Templates: ``digest.md.j2`` (chat text, neutral Markdown) and ``digest.html.j2`` (HTML,
autoescaped), looked up first in the ``templates_dir`` given (``[feeds] templates_dir``), then in
``digests/templates``. Every text given to them is plain text already cleaned; the ``md`` filter
escapes Markdown and neutralises mass mentions again, ``clean_html`` sanitises HTML again with
nh3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
)
from markupsafe import Markup

from bot.i18n import Translator
from digests.feeds import neutralize_mentions, sanitize_html

__all__ = [
    "HTML_TEMPLATE",
    "TEXT_TEMPLATE",
    "DigestData",
    "DigestItem",
    "DigestSection",
    "digest_environment",
    "md_escape",
    "md_url",
    "render",
]

TEXT_TEMPLATE = "digest.md.j2"
HTML_TEMPLATE = "digest.html.j2"


@dataclass(frozen=True, slots=True)
class DigestItem:
    id: int
    kind: str
    title: str
    link: str | None
    summary: str
    summary_html: str
    source: str | None
    """The source's title (feed entries) or the shared page's site."""
    theme: str | None
    shared_by: str | None
    comment: str | None
    published_at: datetime | None
    pinned: bool


@dataclass(frozen=True, slots=True)
class DigestSection:
    key: str
    """``shares``, ``theme:<name>`` or ``other``."""
    label: str
    items: tuple[DigestItem, ...]
    left_out: int = 0


@dataclass(frozen=True, slots=True)
class DigestData:
    platform: str
    channel_id: str
    channel_name: str
    period: str
    slot: datetime
    """The scheduled time of this digest (for a preview: the next one)."""
    at: datetime
    sections: tuple[DigestSection, ...]
    considered: tuple[int, ...] = field(default=())
    """Ids of every entry this digest settles (shown, left out, duplicates, dropped)."""

    @property
    def item_count(self) -> int:
        return sum(len(s.items) for s in self.sections)

    @property
    def items(self) -> list[DigestItem]:
        return [item for section in self.sections for item in section.items]


# --- rendering -----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\*_`\[\]~|<>])")


def md_escape(value: object) -> str:
    """Plain text made inert in the neutral Markdown subset (and no mass mention)."""
    text = "" if value is None else str(value)
    return neutralize_mentions(_MD_SPECIAL.sub(r"\\\1", text))


def md_url(value: object) -> str:
    """A URL safe inside ``[label](...)``."""
    text = "" if value is None else str(value)
    return text.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C")


def _clean_html(value: object) -> Markup:
    # Sanitised with nh3 just above: safe to mark as markup.
    return Markup(sanitize_html("" if value is None else str(value)))


def _autoescape(name: str | None) -> bool:
    if name is None:
        return True
    lowered = name.lower().removesuffix(".j2").removesuffix(".jinja")
    return lowered.endswith((".html", ".htm", ".xml"))


def digest_environment(base: Environment | None, templates_dir: Path | None) -> Environment:
    """The app's environment, with ``templates_dir`` searched first and the digest filters.

    HTML templates (``*.html.j2`` too) are autoescaped whatever the base environment says.
    """
    package: BaseLoader = PackageLoader("digests", "templates")
    if base is None:
        base = Environment(loader=package, trim_blocks=True, lstrip_blocks=True)
    loaders: list[BaseLoader] = []
    if templates_dir is not None:
        loaders.append(FileSystemLoader(str(templates_dir)))
    loaders.append(base.loader or package)
    if base.loader is not None and not isinstance(base.loader, PackageLoader):
        loaders.append(package)
    env = base.overlay(loader=ChoiceLoader(loaders), autoescape=_autoescape)
    env.filters = dict(env.filters)
    env.filters.update(md=md_escape, mdurl=md_url, clean_html=_clean_html)
    return env


def _context(data: DigestData, t: Translator, network: str, numbered: bool) -> dict[str, Any]:
    count = data.item_count
    return {
        "lang": t.locale,
        "network": network,
        "channel": data.channel_name,
        "period": data.period,
        "numbered": numbered,
        "sections": data.sections,
        "item_count": count,
        "heading": t.gettext("Weekly watch — {network}", network=network),
        "subtitle": t.ngettext(
            "{date} · {n} link", "{date} · {n} links", count, date=t.date(data.slot, "date")
        ),
        "empty_line": t.gettext("Nothing new in the watch this week."),
        "pinned_label": t.gettext("pinned"),
        "footer": t.gettext(
            "Share a link for the next digest with /share, and see the sources with /watch list."
        ),
        "generated": t.gettext(
            "Digest of #{channel} for {period}, made by Tisserand.",
            channel=data.channel_name,
            period=data.period,
        ),
        "ref": t.ref,
        "shared": lambda item: _shared_line(t, item),
        "left_out": lambda n: t.ngettext(
            "and {n} more link in this theme", "and {n} more links in this theme", n
        ),
        "date": lambda moment: t.date(moment, "date") if moment else "",
    }


def _shared_line(t: Translator, item: DigestItem) -> str:
    name = item.shared_by or t.gettext("a member")
    if item.comment:
        return t.gettext("{name} shared it: “{comment}”", name=name, comment=item.comment)
    return t.gettext("Shared by {name}", name=name)


def render(
    env: Environment,
    data: DigestData,
    t: Translator,
    *,
    network: str,
    templates_dir: Path | None = None,
    numbered: bool = False,
) -> tuple[str, str]:
    """The chat text and the HTML document of a digest.

    ``network`` is the network's name (in the heading); ``templates_dir`` is searched for the
    templates before the built-in ones; ``numbered`` shows each item's number (a preview).
    """
    env = digest_environment(env, templates_dir)
    context = _context(data, t, network, numbered)
    text = env.get_template(TEXT_TEMPLATE).render(context).strip() + "\n"
    html = env.get_template(HTML_TEMPLATE).render(context)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n", html
