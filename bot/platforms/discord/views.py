"""Choices as components, files, and who a message may ping.

Choices are buttons (``max_buttons`` of them at most, in rows of five) or select menus beyond
that. A button's ``custom_id`` is ``"tis:" + action`` (at most 100 characters), a select
option's value is the action itself. Clicks are read from the raw interaction, not from
discord.py views held in memory, so a click on a message posted before a restart still reaches
the handler. ``allowed_mentions`` allows nothing unless ``reply.mentions``, or exactly the
members of ``reply.ping`` (``users=[...]``; never ``@everyone``/``@here``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import discord

from bot.core import Attachment, ChoiceStyle, DeliveryCode, Reply
from bot.platforms.discord.transport import DiscordDeliveryError, to_int

CUSTOM_ID_PREFIX = "tis:"
"""Buttons: ``custom_id = CUSTOM_ID_PREFIX + action``."""
SELECT_PREFIX = "tis|"
"""Select menus: ``custom_id = SELECT_PREFIX + index``; the options' values are the actions."""
MAX_CUSTOM_ID = 100
MAX_CONTENT = 2000
MAX_BUTTON_LABEL = 80
MAX_SELECT_LABEL = 100
MAX_SELECT_OPTIONS = 25
MAX_ROWS = 5

_STYLES = {
    ChoiceStyle.PRIMARY: discord.ButtonStyle.primary,
    ChoiceStyle.SECONDARY: discord.ButtonStyle.secondary,
    ChoiceStyle.SUCCESS: discord.ButtonStyle.success,
    ChoiceStyle.DANGER: discord.ButtonStyle.danger,
}


def choice_view(choices: Sequence[Any], max_buttons: int) -> discord.ui.View | None:
    """Buttons (rows of five) up to ``max_buttons`` choices, select menus beyond."""
    if not choices:
        return None
    view = discord.ui.View(timeout=None)
    if len(choices) <= min(max_buttons, MAX_ROWS * 5):
        for index, choice in enumerate(choices):
            custom_id = CUSTOM_ID_PREFIX + choice.action
            if len(custom_id) > MAX_CUSTOM_ID:
                raise DiscordDeliveryError(
                    DeliveryCode.REJECTED,
                    f"choice action too long: {choice.action!r}",
                    permanent=True,
                )
            view.add_item(
                discord.ui.Button(
                    label=clip(choice.label, MAX_BUTTON_LABEL),
                    custom_id=custom_id,
                    style=_STYLES[choice.style],
                    emoji=choice.emoji,
                    row=index // 5,
                )
            )
    else:
        if len(choices) > MAX_ROWS * MAX_SELECT_OPTIONS:
            raise DiscordDeliveryError(
                DeliveryCode.REJECTED, f"too many choices: {len(choices)}", permanent=True
            )
        for row in range(0, len(choices), MAX_SELECT_OPTIONS):
            chunk = choices[row : row + MAX_SELECT_OPTIONS]
            options = []
            for choice in chunk:
                if len(choice.action) > MAX_CUSTOM_ID:
                    raise DiscordDeliveryError(
                        DeliveryCode.REJECTED,
                        f"choice action too long: {choice.action!r}",
                        permanent=True,
                    )
                options.append(
                    discord.SelectOption(
                        label=clip(choice.label, MAX_SELECT_LABEL),
                        value=choice.action,
                        emoji=choice.emoji,
                    )
                )
            view.add_item(
                discord.ui.Select(
                    custom_id=f"{SELECT_PREFIX}{row // MAX_SELECT_OPTIONS}",
                    options=options,
                    row=row // MAX_SELECT_OPTIONS,
                )
            )
    # Not kept in discord.py's view store: clicks are read from the raw interaction.
    view.stop()
    return view


def files(attachments: Sequence[Attachment]) -> list[discord.File]:
    return [discord.File(io.BytesIO(a.data), filename=a.filename) for a in attachments]


def allowed_mentions(reply: Reply) -> discord.AllowedMentions:
    if reply.ping:  # these members, and nobody else
        users = [discord.Object(id=to_int(m.user_id)) for m in reply.ping]
        return discord.AllowedMentions(everyone=False, users=users, roles=False, replied_user=False)
    if reply.mentions:
        return discord.AllowedMentions(everyone=False, users=True, roles=True, replied_user=False)
    return discord.AllowedMentions.none()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
