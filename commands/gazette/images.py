"""Images of a highlight: attachments, and addresses downloaded through the project's fetcher.

Each is checked (the media type comes from the bytes; the size) before it is kept; a refused
image never loses the words, the answer says what was left out and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.config import Settings
from bot.core import Attachment
from bot.i18n import Translator
from bot.storage.highlights import Highlight, HighlightImage
from commands.gazette.messages import size_text
from digests.gazette import ImageRejected, ImageTooLarge, check_image
from digests.urls import FetchError

IMAGE_ACCEPT = "image/png, image/jpeg, image/gif, image/webp;q=0.9"
IMAGE_TIMEOUT_SECONDS = 15.0


@dataclass(slots=True)
class ImageOutcome:
    kept: list[tuple[str, bytes, str | None, str | None]] = field(default_factory=list)
    """(media type, bytes, source URL, file name)"""
    problems: list[str] = field(default_factory=list)


def _image_problem(t: Translator, label: str, error: ImageRejected) -> str:
    return t.gettext(error.msgid, image=label, limit=size_text(t, error.limit))


def _fetch_problem(t: Translator, url: str, error: FetchError, limit: int) -> str:
    if error.kind == "too_large":
        return t.gettext(ImageTooLarge.msgid, image=url, limit=size_text(t, limit))
    if error.kind in ("invalid_url", "scheme", "blocked_address"):
        return t.gettext("Image {image}: I may not download from this address.", image=url)
    reason = f"HTTP {error.http_status}" if error.http_status else error.kind
    return t.gettext(
        "Image {image}: could not be downloaded ({reason}), not kept.", image=url, reason=reason
    )


def check_attachments(
    t: Translator, attachments: Sequence[Attachment], max_bytes: int, outcome: ImageOutcome
) -> None:
    for attachment in attachments:
        try:
            media_type = check_image(
                attachment.data, declared=attachment.media_type, max_bytes=max_bytes
            )
        except ImageRejected as error:
            outcome.problems.append(_image_problem(t, attachment.filename, error))
            continue
        outcome.kept.append((media_type, attachment.data, None, attachment.filename[:200]))


async def fetch_images(
    t: Translator, urls: Sequence[str], settings: Settings, outcome: ImageOutcome
) -> None:
    """Download images through the project's fetcher, within the configured limits."""
    if not urls:
        return
    from digests.fetcher import Fetcher, FetchPolicy  # httpx: loaded at the first download

    limit = settings.highlights.max_image_bytes
    policy = FetchPolicy(
        max_bytes=limit,
        total_timeout=IMAGE_TIMEOUT_SECONDS,
        read_timeout=IMAGE_TIMEOUT_SECONDS,
        allow_private_networks=settings.feeds.allow_private_networks,
        max_concurrency=4,
    )
    async with Fetcher(policy) as fetcher:
        for url in urls:
            try:
                result = await fetcher.fetch(url, accept=IMAGE_ACCEPT)
            except FetchError as error:
                outcome.problems.append(_fetch_problem(t, url, error, limit))
                continue
            try:
                media_type = check_image(
                    result.content, declared=result.content_type, max_bytes=limit
                )
            except ImageRejected as error:
                outcome.problems.append(_image_problem(t, url, error))
                continue
            outcome.kept.append((media_type, result.content, url[:2000], None))


def attach_images(row: Highlight, outcome: ImageOutcome, max_images: int) -> int:
    """Add the kept images to ``row`` up to ``max_images`` in all; returns how many were added."""
    known = {image.data for image in row.images}
    added = 0
    for media_type, data, url, filename in outcome.kept:
        if len(row.images) >= max_images:
            break
        if data in known:
            continue
        known.add(data)
        row.images.append(
            HighlightImage(
                position=len(row.images),
                media_type=media_type,
                data=data,
                source_url=url,
                filename=filename,
            )
        )
        added += 1
    return added
