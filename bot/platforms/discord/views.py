"""Choices as components, files, and who a message may ping.

Choices are buttons (``max_buttons`` of them at most, in rows of five) or select menus beyond
that. A button's ``custom_id`` is ``"tis:" + action`` (at most 100 characters), a select
option's value is the action itself. Clicks are read from the raw interaction, not from
discord.py views held in memory, so a click on a message posted before a restart still reaches
the handler. A choice that asks for text (``Choice.asks_text``) is a button whose ``custom_id``
is ``"tim:" + max_length + ":" + action + "\n" + label``: clicking it opens a modal (callback type
9) at once, without the handler, whose ``custom_id`` is the button's ``"tis:" + action``; the
submit (interaction type 5) becomes the :class:`~bot.core.ChoiceEvent` with the text in
``values``. Everything the modal needs is in the ``custom_id``, so a click after a restart still
opens it. ``allowed_mentions`` allows nothing unless ``reply.mentions``, or exactly the
members of ``reply.ping`` (``users=[...]``; never ``@everyone``/``@here``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import discord

from bot.core import Attachment, Choice, ChoiceStyle, DeliveryCode, Reply, TextPrompt
from bot.platforms.discord.transport import DiscordDeliveryError, to_int

CUSTOM_ID_PREFIX = "tis:"
"""Buttons: ``custom_id = CUSTOM_ID_PREFIX + action``."""
SELECT_PREFIX = "tis|"
"""Select menus: ``custom_id = SELECT_PREFIX + index``; the options' values are the actions."""
MODAL_PREFIX = "tim:"
"""A button that opens a modal: ``MODAL_PREFIX + max_length + ":" + action + "\n" + label``."""
TEXT_INPUT_ID = "text"
MAX_CUSTOM_ID = 100
MAX_MODAL_TITLE = 45
MAX_TEXT_LABEL = 45
MAX_TEXT_INPUT = 4000
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
            custom_id = choice_custom_id(choice)
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
                value = choice.action if choice.asks_text is None else choice_custom_id(choice)
                if len(value) > MAX_CUSTOM_ID:
                    raise DiscordDeliveryError(
                        DeliveryCode.REJECTED,
                        f"choice action too long: {choice.action!r}",
                        permanent=True,
                    )
                options.append(
                    discord.SelectOption(
                        label=clip(choice.label, MAX_SELECT_LABEL),
                        value=value,
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


def choice_custom_id(choice: Choice) -> str:
    """A button's ``custom_id``; for a choice that asks for text, all its modal needs."""
    if choice.asks_text is None:
        return CUSTOM_ID_PREFIX + choice.action
    head = f"{MODAL_PREFIX}{min(choice.asks_text.max_length, MAX_TEXT_INPUT)}:{choice.action}\n"
    room = min(MAX_TEXT_LABEL, MAX_CUSTOM_ID - len(head))
    return head + (clip(choice.asks_text.label, room) if room > 0 else "")


def modal_request(custom_id: str) -> tuple[str, TextPrompt] | None:
    """``(action, prompt)`` when ``custom_id`` is a button that opens a modal."""
    if not custom_id.startswith(MODAL_PREFIX):
        return None
    head, _, label = custom_id[len(MODAL_PREFIX) :].partition("\n")
    size, _, action = head.partition(":")
    if not size.isdigit() or not action:
        return None
    return action, TextPrompt(label or action, max(1, min(int(size), MAX_TEXT_INPUT)))


def text_modal(action: str, title: str, prompt: TextPrompt) -> discord.ui.Modal:
    """The modal a text choice opens; submitting it sends ``"tis:" + action``."""
    modal = discord.ui.Modal(
        title=clip(title or prompt.label, MAX_MODAL_TITLE),
        custom_id=CUSTOM_ID_PREFIX + action,
        timeout=None,
    )
    modal.add_item(
        discord.ui.TextInput(
            label=clip(prompt.label, MAX_TEXT_LABEL),
            custom_id=TEXT_INPUT_ID,
            style=discord.TextStyle.paragraph,
            max_length=prompt.max_length,
            required=True,
        )
    )
    # Not kept in discord.py's store: the submit is read from the raw interaction.
    modal.stop()
    return modal


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
