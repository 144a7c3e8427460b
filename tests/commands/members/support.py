"""What the members tests share: the network's themes (as the veille would have them)."""

from __future__ import annotations

from bot.storage.veille import FeedSource
from tests.support.chat import START, Chat


def add_themes(chat: Chat, *themes: str) -> None:
    """Feed sources filed under ``themes``: the network's themes the profiles are matched to."""
    with chat.db() as db:
        for number, theme in enumerate(themes):
            url = f"https://example.org/feed/{number}"
            db.add(
                FeedSource(
                    platform="console",
                    channel_id="general",
                    url=url,
                    canonical=url,
                    theme=theme,
                    next_fetch_at=START,
                    created_at=START,
                )
            )
        db.commit()


async def fill_profile(
    chat: Chat,
    user: str,
    *,
    organisation: str | None = None,
    territory: str | None = None,
    interests: str | None = None,
    category: str | None = None,
) -> None:
    """``user`` fills their profile through the commands members type."""
    if organisation:
        await chat.command(user, f'/profil organisation "{organisation}"')
    if territory:
        await chat.command(user, f'/profil territoire "{territory}"')
    if interests:
        await chat.command(user, f'/profil interets "{interests}"')
    if category:
        await chat.command(user, f"/categorie {category}")
