"""The gazette as one self-contained HTML file: readable on a phone, printable on A4.

:func:`render_gazette` turns a :class:`GazetteContent` (plain data, already filtered by consent)
into HTML. Everything the file needs is inside it: images as ``data:`` URIs, charts as inline SVG
drawn with pygal, styles inline. It carries no script at all, and a Content-Security-Policy that
forbids loading anything from outside, so a gazette forwarded by e-mail stays what it was.

Every visible word comes translated from Python (the template holds no sentence), and the
template escapes everything it prints (``{% autoescape true %}`` whatever the environment says).

Images are checked by their bytes (:func:`sniff_image`): PNG, JPEG, GIF and WebP only; SVG is
refused (it can carry scripts). :func:`check_image` applies the size limit and the declared
content type too; a subclass of :class:`ImageRejected` says why, and its ``msgid`` how to tell
it (the caller translates it).

Charts are deterministic: pygal gives each chart a random id and stamps the day into a comment;
here the id comes from the chart's name and comments and scripts are removed from the tree, and
pygal always serialises with the standard library (not lxml, even when it is installed).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, ClassVar
from urllib.parse import urlsplit

from babel.dates import format_date
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bot.core import ExtraEntry, TisserandError
from bot.i18n import N_, Translator

TEMPLATE = "gazette.html.j2"

SUPPORTED_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")


# --- images ------------------------------------------------------------------------------------


class ImageRejected(TisserandError):
    """An image was refused; the subclass says why.

    ``msgid`` is the text, translated by the caller with ``image`` (how the image is named to
    the user) and ``limit`` (the size limit, written for the user).
    """

    msgid: ClassVar[str]

    def __init__(self, *, size: int = 0, limit: int = 0) -> None:
        super().__init__(f"{type(self).__name__}: {size} bytes (limit {limit})")
        self.size = size
        self.limit = limit


class ImageTooLarge(ImageRejected):
    msgid = N_("Image {image}: larger than {limit}, not kept.")


class ImageEmpty(ImageRejected):
    msgid = N_("Image {image}: empty, not kept.")


class NotAnImage(ImageRejected):
    msgid = N_("Image {image}: not a PNG, JPEG, GIF or WebP image, not kept.")


def sniff_image(data: bytes) -> str | None:
    """The media type the bytes themselves say (magic numbers), or None when not supported."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image(data: bytes, *, declared: str | None, max_bytes: int) -> str:
    """Accept ``data`` as an image and return its real media type, or raise ImageRejected.

    ``declared`` is the Content-Type (or attachment type) given with it, if any: it must be an
    ``image/...`` type (or the generic ``application/octet-stream``); the bytes decide the rest.
    """
    if not data:
        raise ImageEmpty(limit=max_bytes)
    if len(data) > max_bytes:
        raise ImageTooLarge(size=len(data), limit=max_bytes)
    kind = (declared or "").split(";")[0].strip().lower()
    if kind and not kind.startswith("image/") and kind != "application/octet-stream":
        raise NotAnImage(size=len(data), limit=max_bytes)
    sniffed = sniff_image(data)
    if sniffed is None:
        raise NotAnImage(size=len(data), limit=max_bytes)
    return sniffed


def data_uri(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


# --- content -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GazetteImage:
    media_type: str
    data: bytes
    alt: str = ""


@dataclass(frozen=True, slots=True)
class HighlightEntry:
    number: int
    quote: str
    author: str | None
    """None: published without the author's name."""
    said_at: datetime
    channel: str | None = None
    link: str | None = None
    themes: tuple[str, ...] = ()
    images: tuple[GazetteImage, ...] = ()


@dataclass(frozen=True, slots=True)
class Newcomer:
    name: str
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class EventHeader:
    """The event a gazette is about (a session's gazette): its masthead names it."""

    title: str
    facts: str = ""
    """One line already translated: type · moment · place."""


@dataclass(frozen=True, slots=True)
class GazetteContent:
    network: str
    since: datetime
    until: datetime
    generated_at: datetime
    number: int | None = None
    editorial: str | None = None
    highlights: tuple[HighlightEntry, ...] = ()
    sessions: tuple[ExtraEntry, ...] = ()
    polls: tuple[ExtraEntry, ...] = ()
    veille: tuple[ExtraEntry, ...] = ()
    newcomers: tuple[Newcomer, ...] = ()
    newcomer_count: int = 0
    """Everyone who joined (named or not)."""
    participation: tuple[tuple[date, int], ...] = ()
    """(first day of a month, members who took part that month), oldest first: the members
    chart (growth of the network's life, not the day the bot first saw people)."""
    draft: bool = False
    event: EventHeader | None = None

    @property
    def item_count(self) -> int:
        return (
            len(self.highlights)
            + len(self.sessions)
            + len(self.polls)
            + len(self.veille)
            + len(self.newcomers)
        )


# --- charts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    title: str
    svg: Markup
    table: tuple[tuple[str, str], ...] = field(default=())
    """The same figures as text (screen readers, and people who prefer numbers)."""


@cache
def _style() -> Any:
    """The charts' style (pygal is imported when a chart is drawn, not when the bot starts)."""
    from pygal.style import Style  # type: ignore[import-untyped]

    return Style(
        background="transparent",
        plot_background="rgba(255, 255, 255, 0)",
        foreground="#2b2b2b",
        foreground_strong="#111111",
        foreground_subtle="#6b6b6b",
        opacity=".85",
        opacity_hover=".95",
        transition="0ms",
        colors=("#b5452b", "#2f6f73", "#d49a2a", "#5b4e8c", "#6e8b3d"),
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        label_font_size=15,
        major_label_font_size=15,
        value_font_size=15,
        value_label_font_size=15,
        title_font_size=17,
        legend_font_size=15,
        tooltip_font_size=15,
    )


def _strip_tree(title: str) -> Any:
    def strip(root: Any) -> Any:
        for parent in list(root.iter()):
            for child in list(parent):
                tag = child.tag
                if not isinstance(tag, str) or tag.rsplit("}", 1)[-1] == "script":
                    parent.remove(child)  # comments (they carry the day) and scripts
        root.set("role", "img")
        root.set("aria-label", title)
        return root

    return strip


def _pygal() -> Any:
    import pygal  # type: ignore[import-untyped]

    return pygal


def _render_chart(chart: Any, name: str, title: str) -> Markup:
    # pygal serialises with lxml when it is importable, else with the standard library, and the
    # two differ: always use the standard library so the file does not depend on what else is
    # installed.
    from pygal.etree import etree as pygal_etree  # type: ignore[import-untyped]

    pygal_etree.to_etree()
    chart.uuid = name  # pygal's id is random: make it stable
    chart.xml_filters.append(_strip_tree(title))
    svg: str = chart.render(is_unicode=True)
    return Markup(svg)


def _config(t: Translator, **extra: Any) -> dict[str, Any]:
    return {
        "style": _style(),
        "disable_xml_declaration": True,
        "js": [],
        "show_legend": False,
        "explicit_size": False,
        "width": 400,
        "height": 280,
        "margin": 16,
        "spacing": 12,
        "truncate_label": 28,
        "value_formatter": lambda value: t.number(value),
        "print_values": False,
        **extra,
    }


def integer_ticks(largest: int) -> list[int]:
    """At most about six whole-number ticks from 0 to at least ``largest``."""
    step = max(1, -(-largest // 5))
    return list(range(0, max(largest, 1) + step, step))


def members_chart(points: Sequence[tuple[date, int]], t: Translator) -> Chart | None:
    """Members who took part each month (a bar per month)."""
    if len(points) < 2:
        return None
    title = t.gettext("Members who took part, per month")
    chart = _pygal().Bar(
        **_config(t, print_values=len(points) <= 8, x_label_rotation=0, show_minor_x_labels=False)
    )
    chart.title = title
    labels = [format_date(day, "MMM", locale=t.locale) for day, _ in points]
    long_labels = [format_date(day, "MMMM yyyy", locale=t.locale) for day, _ in points]
    chart.x_labels = labels
    step = 1 if len(points) <= 6 else 2
    chart.x_labels_major = labels[::step]
    chart.y_labels = integer_ticks(max(count for _, count in points))
    chart.add(title, [count for _, count in points])
    table = tuple(
        (label, t.number(count)) for label, (_, count) in zip(long_labels, points, strict=True)
    )
    return Chart("members", title, _render_chart(chart, "members", title), table)


def attendance_chart(sessions: Sequence[ExtraEntry], t: Translator) -> Chart | None:
    rows = [s for s in sessions if s.value is not None]
    if not rows:
        return None
    title = t.gettext("Attendance per session")
    chart = _pygal().HorizontalBar(
        **_config(t, print_values=True, height=max(200, 80 + 40 * len(rows)))
    )
    chart.title = title
    chart.x_labels = [s.title for s in rows]
    chart.y_labels = integer_ticks(max(s.value or 0 for s in rows))
    chart.add(title, [s.value for s in rows])
    table = tuple((s.title, t.number(s.value or 0)) for s in rows)
    return Chart("attendance", title, _render_chart(chart, "attendance", title), table)


def themes_chart(highlights: Sequence[HighlightEntry], t: Translator) -> Chart | None:
    counts: dict[str, int] = {}
    for entry in highlights:
        for theme in entry.themes:
            counts[theme] = counts.get(theme, 0) + 1
    if len(counts) < 2:
        return None
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    title = t.gettext("Highlights by theme")
    chart = _pygal().HorizontalBar(
        **_config(t, print_values=True, height=max(200, 80 + 36 * len(ordered)))
    )
    chart.title = title
    chart.x_labels = [name for name, _ in ordered]
    chart.y_labels = integer_ticks(ordered[0][1])
    chart.add(title, [count for _, count in ordered])
    table = tuple((name, t.number(count)) for name, count in ordered)
    return Chart("themes", title, _render_chart(chart, "themes", title), table)


# --- rendering ---------------------------------------------------------------------------------


def make_environment() -> Environment:
    """The environment the app builds (for the command line and benchmarks)."""
    return Environment(
        loader=PackageLoader("digests", "templates"),
        autoescape=select_autoescape(["html", "xml", "ics", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def safe_link(url: str | None) -> str | None:
    """Only http(s) links are printed as links."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def _images(images: Iterable[GazetteImage]) -> list[dict[str, str]]:
    out = []
    for image in images:
        media_type = sniff_image(image.data)
        if media_type is None:  # never trust stored bytes blindly
            continue
        out.append({"src": data_uri(media_type, image.data), "alt": image.alt})
    return out


def _period(t: Translator, since: datetime, until: datetime) -> str:
    """The gazette's period; one day is said once ("Le lundi 18 janvier 2027")."""
    start, end = t.date(since), t.date(until)
    if start == end:
        return t.gettext("On {date}", date=start)
    return t.gettext("From {start} to {end}", start=start, end=end)


def _labels(content: GazetteContent, t: Translator) -> dict[str, str]:
    _ = t.gettext
    title = _("{network} — the gazette", network=content.network)
    event = content.event
    return {
        "title": title,
        "event_title": event.title if event else "",
        "event_facts": event.facts if event else "",
        "issue": _("Issue {number}", number=content.number) if content.number else "",
        "period": _period(t, content.since, content.until),
        "draft": _("Draft: not published yet") if content.draft else "",
        "contents": _("Contents"),
        "editorial": _("Editorial"),
        "highlights": _("Highlights"),
        "sessions": _("Sessions held"),
        "polls": _("Decisions and polls"),
        "veille": _("Worth reading"),
        "newcomers": _("Welcome to the newcomers"),
        "figures": _("The network in figures"),
        "anonymous": _("A member of the network"),
        "see_message": _("See the message"),
        "figures_as_text": _("The figures"),
        "consent": _(
            "Every quote appears with the consent of its author, who may withdraw it at any "
            "time; the archived gazette is then rebuilt without it."
        ),
        "made": _(
            "The gazette of {network}, made with Tisserand on {date}.",
            network=content.network,
            date=t.datetime(content.generated_at),
        ),
        "newcomer_count": t.ngettext(
            "{n} member joined the network during this period.",
            "{n} members joined the network during this period.",
            content.newcomer_count,
        ),
        "empty": _("Nothing to tell this time."),
    }


def render_gazette(content: GazetteContent, t: Translator, env: Environment | None = None) -> str:
    """The gazette as a complete HTML document (a ``str``; encode it as UTF-8)."""
    environment = env or make_environment()
    charts = [
        chart
        for chart in (
            members_chart(content.participation, t),
            attendance_chart(content.sessions, t),
            themes_chart(content.highlights, t),
        )
        if chart is not None
    ]
    highlights = [
        {
            "number": entry.number,
            "quote": entry.quote,
            "author": entry.author,
            "channel": entry.channel,
            "when": t.date(entry.said_at),
            "when_iso": entry.said_at.isoformat(),
            "link": safe_link(entry.link),
            "themes": entry.themes,
            "images": _images(entry.images),
        }
        for entry in content.highlights
    ]

    def extras(entries: Sequence[ExtraEntry]) -> list[dict[str, Any]]:
        return [
            {
                "title": e.title,
                "when": t.date(e.at) if e.at else None,
                "details": e.details,
                "link": safe_link(e.link),
            }
            for e in entries
        ]

    template = environment.get_template(TEMPLATE)
    return template.render(
        lang=t.locale,
        labels=_labels(content, t),
        editorial=content.editorial,
        highlights=highlights,
        sessions=extras(content.sessions),
        polls=extras(content.polls),
        veille=extras(content.veille),
        newcomers=[n.name for n in content.newcomers],
        newcomer_count=content.newcomer_count,
        charts=charts,
    )


def monthly_participation(
    activity: Iterable[tuple[int, datetime]], until: datetime, *, months: int = 12, tz: Any = None
) -> tuple[tuple[date, int], ...]:
    """Distinct members active in each of the last ``months`` months up to ``until``.

    ``activity`` is (member id, moment) pairs: what counts as taking part is the caller's
    choice. Months before the first activity are cut.
    """

    def month_of(moment: datetime) -> date:
        local = moment.astimezone(tz) if tz is not None else moment
        return date(local.year, local.month, 1)

    last = month_of(until)
    firsts: list[date] = []
    year, month = last.year, last.month
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    firsts.reverse()
    active: dict[date, set[int]] = {first: set() for first in firsts}
    for member_id, moment in activity:
        if moment <= until:
            bucket = active.get(month_of(moment))
            if bucket is not None:
                bucket.add(member_id)
    points = [(first, len(active[first])) for first in firsts]
    start = next((i for i, (_, n) in enumerate(points) if n > 0), len(points) - 1)
    return tuple(points[start:])
