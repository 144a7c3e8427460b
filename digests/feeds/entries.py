"""Entries as read (:class:`RawEntry`, from feedparser or a JSON Feed) and their
normalisation into clean :class:`~digests.feeds.model.ParsedEntry`."""

from __future__ import annotations

import calendar
import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from digests.feeds.model import (
    MAX_CATEGORIES,
    MAX_EXCERPT,
    MAX_SUMMARY_HTML,
    MAX_TITLE,
    FeedParseError,
    ParsedEntry,
)
from digests.feeds.text import (
    clean_text,
    link_hash,
    plain_text,
    safe_link,
    sanitised_text,
    sanitize_html,
    sha,
)
from digests.urls import canonical_url


def _timestamp(parsed: Any) -> datetime | None:
    if parsed is None:
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment if 1990 <= moment.year <= 2200 else None


def iso_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment if 1990 <= moment.year <= 2200 else None


@dataclass(slots=True)
class RawEntry:
    id: str | None
    link: str | None
    title: str
    title_is_html: bool
    summary_html: str
    author: str | None
    published_at: datetime | None
    categories: tuple[str, ...] = ()


def _categories(values: Any) -> tuple[str, ...]:
    found: list[str] = []
    for value in values or ():
        text = clean_text(str(value), 100) if value else ""
        if text and text not in found:
            found.append(text)
        if len(found) >= MAX_CATEGORIES:
            break
    return tuple(found)


def normalise(raw: RawEntry, base: str | None) -> ParsedEntry:
    link = safe_link(raw.link, base, canonical=True)
    title_source = raw.title or ""
    title = (
        plain_text(title_source, MAX_TITLE)
        if raw.title_is_html
        else clean_text(title_source, MAX_TITLE)
    )
    summary_html = sanitize_html(raw.summary_html, base)
    summary = sanitised_text(summary_html, MAX_EXCERPT)
    if len(summary_html) > MAX_SUMMARY_HTML:
        summary_html = "<p>" + html.escape(summary, quote=False) + "</p>"
    if not title:
        title = summary[:80].rstrip() + ("…" if len(summary) > 80 else "") if summary else ""
    if not title and link:
        title = clean_text(link, MAX_TITLE)
    content_hash = sha(f"{title.casefold()}\n{summary.casefold()}")
    entry_id = (raw.id or "").strip()
    if entry_id:
        key = sha("id:" + entry_id)
    elif link:
        key = sha("link:" + canonical_url(link))
    else:
        key = sha("content:" + content_hash)
    author = clean_text(raw.author, 200) if raw.author else None
    return ParsedEntry(
        key=key,
        link=link,
        link_hash=link_hash(link) if link else None,
        content_hash=content_hash,
        title=title,
        summary=summary,
        summary_html=summary_html,
        author=author or None,
        published_at=raw.published_at,
        categories=_categories(raw.categories),
    )


def feedparser_entries(parsed: Any) -> list[RawEntry]:
    raws: list[RawEntry] = []
    for item in parsed.entries:
        content_list = item.get("content") or []
        body = ""
        if content_list and isinstance(content_list[0], dict):
            body = str(content_list[0].get("value") or "")
        summary = str(item.get("summary") or "")
        if len(body) > len(summary):
            summary = body
        detail = item.get("title_detail") or {}
        title_type = str(detail.get("type") or "text/plain") if isinstance(detail, dict) else ""
        published = _timestamp(item.get("published_parsed")) or _timestamp(
            item.get("updated_parsed")
        )
        raws.append(
            RawEntry(
                id=str(item.get("id")) if item.get("id") else None,
                link=item.get("link"),
                title=str(item.get("title") or ""),
                title_is_html="html" in title_type,
                summary_html=summary,
                author=str(item.get("author")) if item.get("author") else None,
                published_at=published,
                categories=tuple(
                    str(tag.get("term") or "")
                    for tag in (item.get("tags") or [])
                    if isinstance(tag, dict)
                ),
            )
        )
    return raws


def read_json_feed(content: bytes) -> tuple[str | None, str | None, list[RawEntry]]:
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FeedParseError("not_a_feed", f"invalid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise FeedParseError("not_a_feed", "JSON without items")
    version = str(document.get("version") or "")
    if version and "jsonfeed.org" not in version:
        raise FeedParseError("not_a_feed", "not a JSON Feed")
    raws: list[RawEntry] = []
    for item in document["items"]:
        if not isinstance(item, dict):
            continue
        body = item.get("content_html")
        if not isinstance(body, str):
            text = item.get("content_text") or item.get("summary") or ""
            body = html.escape(str(text)) if text else ""
        author = item.get("author") or (item.get("authors") or [None])[0]
        author_name = author.get("name") if isinstance(author, dict) else None
        raws.append(
            RawEntry(
                id=str(item["id"]) if item.get("id") is not None else None,
                link=item.get("url") if isinstance(item.get("url"), str) else None,
                title=str(item.get("title") or ""),
                title_is_html=False,
                summary_html=body,
                author=str(author_name) if author_name else None,
                published_at=iso_date(item.get("date_published"))
                or iso_date(item.get("date_modified")),
                categories=tuple(
                    str(tag) for tag in (item.get("tags") or []) if isinstance(tag, str)
                )
                if isinstance(item.get("tags"), list)
                else (),
            )
        )
    title = document.get("title")
    home = document.get("home_page_url")
    return (
        str(title) if title else None,
        home if isinstance(home, str) else None,
        raws,
    )
