"""What happens on Discord, turned into neutral events.

Slash commands become :class:`~bot.core.CommandEvent` with ``name`` (``"poll vote"`` for a
subcommand) and ``options``; message context menus ("Ajouter à la gazette") the command they run
(:data:`.app_commands.MESSAGE_MENUS`) with the target message's text, author, link and images as
options (:func:`target_message_options`) and ``ref`` pointing at it; clicks on components whose
``custom_id`` starts with ``tis:`` (or a select menu's ``tis|``) :class:`~bot.core.ChoiceEvent`;
autocomplete a call of the injected ``autocomplete`` callback; reactions
:class:`~bot.core.ReactionEvent` (the reacted message's author read from Discord when discord.py
does not have them, so that their name is right). Messages are
:class:`~bot.core.MessageEvent`, or prefix commands (``!sondage ...``) with the Message Content
intent.

Answering interactions
    Discord wants the first answer within 3 seconds. The reply answers with the interaction
    response (see :mod:`.delivery`); when the handler takes longer than ``defer_after`` seconds,
    the adapter defers first (a "thinking" state for commands, a silent acknowledgement for
    components) and the reply then fills the deferred message or comes as a follow-up. A click
    whose handler answers nothing is acknowledged silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

import aiohttp
import discord
from discord import app_commands

from bot.clock import Clock
from bot.core import (
    Actor,
    ChoiceEvent,
    CommandEvent,
    Event,
    MessageEvent,
    MessageRef,
    Place,
    ReactionEvent,
    Role,
)
from bot.i18n import fold
from bot.platforms.discord.app_commands import MESSAGE, menu_command
from bot.platforms.discord.settings import PLATFORM, DiscordSettings
from bot.platforms.discord.state import (
    INTERACTION_TOKEN_LIFETIME,
    Interaction,
    Pending,
    State,
    cancel,
)
from bot.platforms.discord.types import (
    Attachment,
    CommandData,
    CommandDataOption,
    ComponentData,
    Member,
    Message,
    ResolvedData,
    User,
)
from bot.platforms.discord.views import (
    CUSTOM_ID_PREFIX,
    SELECT_PREFIX,
    TEXT_INPUT_ID,
    clip,
    modal_request,
    text_modal,
)

log = logging.getLogger(__name__)

MAX_AUTOCOMPLETE = 25
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")

AutocompleteCallback = Callable[[str, str, str, Actor], Awaitable[list[tuple[str, str]]]]
"""``(command, option, partial text, actor) -> [(label, value), ...]`` (25 at most are shown)."""


class Events:
    """The handlers discord.py calls (through the platform's client)."""

    def __init__(
        self,
        settings: DiscordSettings,
        state: State,
        clock: Clock,
        *,
        autocomplete: AutocompleteCallback | None,
        defer_after: float,
        defer_ephemeral: Callable[[Event], bool] | None,
    ) -> None:
        self.settings = settings
        self._state = state
        self._clock = clock
        self._autocomplete = autocomplete
        self._defer_after = defer_after
        self._defer_ephemeral = defer_ephemeral
        self._coordinator_roles = {fold(r) for r in settings.coordinator_roles}

    # --- interactions ------------------------------------------------------------------------

    async def on_interaction(self, interaction: Interaction) -> None:
        state = self._state
        handler = state.handler
        if handler is None or state.client is None or state.closing:
            return
        state.track()
        if interaction.type is discord.InteractionType.autocomplete:
            await self._answer_autocomplete(interaction)
            return
        if interaction.type is discord.InteractionType.application_command:
            event: Event | None = self._command_event(interaction)
        elif interaction.type is discord.InteractionType.component:
            if await self._open_modal(interaction):
                return
            event = self._choice_event(interaction)
        elif interaction.type is discord.InteractionType.modal_submit:
            event = self._submit_event(interaction)
        else:
            event = None
        if event is None:
            return
        state.prune()
        pending = Pending(event, interaction, time.monotonic() + INTERACTION_TOKEN_LIFETIME)
        state.pending[id(event)] = pending
        pending.timer = asyncio.create_task(self._defer_later(pending))
        try:
            await handler(event)
        except Exception:
            log.exception("the handler failed on a Discord interaction")
        finally:
            await self._settle(pending)

    async def _defer_later(self, pending: Pending) -> None:
        await asyncio.sleep(self._defer_after)
        async with pending.lock:
            if pending.interaction.response.is_done():
                return
            try:
                await self._defer(pending)
            except discord.HTTPException as exc:
                log.warning("could not defer a Discord interaction: %s", exc)

    async def _defer(self, pending: Pending) -> None:
        interaction = pending.interaction
        if pending.is_component:
            await interaction.response.defer()
            return
        ephemeral = bool(self._defer_ephemeral and self._defer_ephemeral(pending.event))
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        pending.deferred_ephemeral = ephemeral
        pending.loading = True

    async def _settle(self, pending: Pending) -> None:
        """After the handler: stop the timer and make sure Discord got an answer."""
        async with pending.lock:
            await cancel(pending.timer)
            pending.timer = None
            interaction = pending.interaction
            try:
                if not interaction.response.is_done():
                    if pending.is_component:
                        await interaction.response.defer()
                    else:
                        log.info("no reply to a Discord command: acknowledging silently")
                        await interaction.response.defer(ephemeral=True, thinking=True)
                        await interaction.delete_original_response()
                elif pending.loading:
                    log.warning("a deferred Discord command got no reply")
                    await interaction.delete_original_response()
                    pending.loading = False
            except discord.HTTPException as exc:
                log.warning("could not acknowledge a Discord interaction: %s", exc)

    def _interaction_context(self, interaction: Interaction) -> tuple[Actor, Place]:
        locale = interaction.locale
        actor = self.actor(interaction.user, str(getattr(locale, "value", locale)))
        channel_id = interaction.channel_id or 0
        place = self._place(interaction.channel, channel_id, direct=interaction.guild_id is None)
        return actor, place

    def _command_event(self, interaction: Interaction) -> CommandEvent:
        data = cast(CommandData, interaction.data or {})
        actor, place = self._interaction_context(interaction)
        name, options = command_path(data)
        ref: MessageRef | None = None
        if data.get("type") == MESSAGE:
            name = menu_command(name) or name
        target_id = data.get("target_id")
        if target_id is not None:
            options["target_id"] = str(target_id)
            resolved: ResolvedData = data.get("resolved") or {}
            target = (resolved.get("messages") or {}).get(str(target_id))
            if isinstance(target, Mapping):
                channel_id = str(target.get("channel_id") or place.channel_id)
                options.update(target_message_options(target, interaction.guild_id, channel_id))
                ref = MessageRef(PLATFORM, channel_id, str(target_id))
        return CommandEvent(
            actor=actor, place=place, at=self._clock.now(), name=name, options=options, ref=ref
        )

    def _choice_event(self, interaction: Interaction) -> ChoiceEvent | None:
        data = cast(ComponentData, interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        values = tuple(str(v) for v in data.get("values") or ())
        if custom_id.startswith(SELECT_PREFIX):
            if not values:
                return None
            action = values[0]
        elif custom_id.startswith(CUSTOM_ID_PREFIX):
            action = custom_id[len(CUSTOM_ID_PREFIX) :]
        else:
            return None
        actor, place = self._interaction_context(interaction)
        message = interaction.message
        ref = None if message is None else MessageRef(PLATFORM, place.channel_id, str(message.id))
        return ChoiceEvent(
            actor=actor, place=place, at=self._clock.now(), action=action, ref=ref, values=values
        )

    async def _open_modal(self, interaction: Interaction) -> bool:
        """A click on a choice that asks for text: answer with its modal, at once."""
        data = cast(ComponentData, interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        values = [str(v) for v in data.get("values") or ()]
        wanted = values[0] if custom_id.startswith(SELECT_PREFIX) and values else custom_id
        request = modal_request(wanted)
        if request is None:
            return False
        action, prompt = request
        title = component_label(interaction.message, wanted) or prompt.label
        try:
            await interaction.response.send_modal(text_modal(action, title, prompt))
        except discord.HTTPException as exc:
            log.warning("could not open a Discord modal: %s", exc)
        return True

    def _submit_event(self, interaction: Interaction) -> ChoiceEvent | None:
        """A modal submitted: the choice's action, the text typed in ``values``."""
        data = cast(Mapping[str, Any], interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(CUSTOM_ID_PREFIX):
            return None
        texts = [
            str(field.get("value") or "")
            for field in submitted_fields(data.get("components") or [])
            if field.get("custom_id") == TEXT_INPUT_ID
        ]
        actor, place = self._interaction_context(interaction)
        message = interaction.message
        ref = None if message is None else MessageRef(PLATFORM, place.channel_id, str(message.id))
        return ChoiceEvent(
            actor=actor,
            place=place,
            at=self._clock.now(),
            action=custom_id[len(CUSTOM_ID_PREFIX) :],
            ref=ref,
            values=tuple(texts[:1]),
        )

    async def _answer_autocomplete(self, interaction: Interaction) -> None:
        data = cast(CommandData, interaction.data or {})
        name, _ = command_path(data)
        focused = _focused_option(data.get("options") or [])
        suggestions: list[tuple[str, str]] = []
        if focused is not None and self._autocomplete is not None:
            actor, _place = self._interaction_context(interaction)
            try:
                suggestions = await self._autocomplete(
                    name, str(focused.get("name")), str(focused.get("value", "")), actor
                )
            except Exception:
                log.exception("the autocomplete callback failed")
        kind = int(focused.get("type", 3)) if focused else 3
        choices: list[app_commands.Choice[Any]] = []
        for label, value in suggestions[:MAX_AUTOCOMPLETE]:
            typed: str | int | float = value[:100]
            with contextlib.suppress(ValueError):
                if kind == 4:
                    typed = int(value)
                elif kind == 10:
                    typed = float(value)
            choices.append(app_commands.Choice(name=clip(label, 100), value=typed))
        try:
            await interaction.response.autocomplete(choices)
        except discord.HTTPException as exc:
            log.warning("could not answer a Discord autocomplete: %s", exc)

    # --- messages and reactions ----------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        state = self._state
        client, handler = state.client, state.handler
        if handler is None or client is None or client.user is None or state.closing:
            return
        if message.author.id == client.user.id or not message.content:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        state.track()
        direct = message.guild is None
        actor = self.actor(message.author)
        place = self._place(message.channel, message.channel.id, direct=direct)
        ref = MessageRef(PLATFORM, str(message.channel.id), str(message.id))
        prefix = self.settings.command_prefix
        text = message.content
        event: Event
        if self.settings.message_content_intent and text.startswith(prefix) and text[len(prefix) :]:
            event = CommandEvent(
                actor=actor, place=place, at=self._clock.now(), text=text[len(prefix) :], ref=ref
            )
        else:
            event = MessageEvent(actor=actor, place=place, text=text, ref=ref, at=self._clock.now())
        try:
            await handler(event)
        except Exception:
            log.exception("the handler failed on a Discord message")

    async def on_reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        state = self._state
        client, handler = state.client, state.handler
        if handler is None or client is None or client.user is None or state.closing:
            return
        if payload.user_id == client.user.id:
            return
        state.track()
        user: discord.abc.User | None = payload.member or client.get_user(payload.user_id)
        if user is not None:
            actor = self.actor(user)
        else:
            actor = Actor(PLATFORM, str(payload.user_id), str(payload.user_id))
        channel = client.get_channel(payload.channel_id)
        place = self._place(channel, payload.channel_id, direct=payload.guild_id is None)
        author: Actor | None = None
        if payload.message_author_id is not None:
            author = await self._author(client, payload.message_author_id)
        event = ReactionEvent(
            actor=actor,
            place=place,
            at=self._clock.now(),
            ref=MessageRef(PLATFORM, str(payload.channel_id), str(payload.message_id)),
            emoji=str(payload.emoji),
            added=added,
            message_author=author,
        )
        try:
            await handler(event)
        except Exception:
            log.exception("the handler failed on a Discord reaction")

    async def _author(self, client: discord.Client, user_id: int) -> Actor:
        """The author of a reacted message. Without the members intent discord.py rarely has
        them in its cache: ask Discord, so that their name (which the app stores) is theirs
        and not their id."""
        known = client.get_user(user_id)
        if known is None:
            try:
                known = await client.fetch_user(user_id)
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                log.warning("could not read the Discord user %s: %s", user_id, exc)
        if known is None:
            return Actor(PLATFORM, str(user_id), str(user_id))
        return self.actor(known)

    # --- who and where -------------------------------------------------------------------------

    def actor(self, user: discord.abc.User, locale: str | None = None) -> Actor:
        roles = {Role.MEMBER}
        if isinstance(user, discord.Member) and self._is_coordinator(user):
            roles.add(Role.COORDINATOR)
        return Actor(
            platform=PLATFORM,
            user_id=str(user.id),
            display_name=user.display_name,
            roles=frozenset(roles),
            locale=locale,
            is_bot=user.bot,
        )

    def _is_coordinator(self, member: discord.Member) -> bool:
        wanted = self._coordinator_roles
        return any(str(role.id) in wanted or fold(role.name) in wanted for role in member.roles)

    def _place(self, channel: Any, channel_id: int, *, direct: bool) -> Place:
        name = getattr(channel, "name", None)
        if not name and direct:
            recipient = getattr(channel, "recipient", None)
            name = getattr(recipient, "name", None)
        return Place(PLATFORM, str(channel_id), str(name or ""), is_direct=direct)


def component_label(message: discord.Message | None, custom_id: str) -> str | None:
    """The label of the button (or select option) ``custom_id`` on ``message``."""
    if message is None:
        return None
    for row in message.components:
        for item in getattr(row, "children", ()):
            if getattr(item, "custom_id", None) == custom_id:
                return getattr(item, "label", None)
            for option in getattr(item, "options", ()) or ():
                if option.value == custom_id:
                    return str(option.label)
    return None


def submitted_fields(components: Any) -> list[Mapping[str, Any]]:
    """The text inputs of a modal submit, inside action rows (type 1) or labels (type 18)."""
    found: list[Mapping[str, Any]] = []
    for component in components if isinstance(components, list) else ():
        if not isinstance(component, Mapping):
            continue
        if component.get("type") == 1:
            found.extend(submitted_fields(component.get("components")))
        elif component.get("type") == 18:
            found.extend(submitted_fields([component.get("component")]))
        elif component.get("type") == 4:
            found.append(component)
    return found


# --- interaction data ------------------------------------------------------------------------


def command_path(data: CommandData) -> tuple[str, dict[str, Any]]:
    """``("poll vote", {"id": 3})`` from an application-command interaction's data."""
    names = [str(data.get("name", ""))]
    options: list[CommandDataOption] = list(data.get("options") or [])
    while options and options[0].get("type") in (1, 2):  # SUB_COMMAND, SUB_COMMAND_GROUP
        names.append(str(options[0].get("name")))
        options = list(options[0].get("options") or [])
    return " ".join(names), {str(o["name"]): o.get("value") for o in options}


def target_message_options(
    message: Message, guild_id: int | None, channel_id: str
) -> dict[str, Any]:
    """What a message context menu tells a command about the message it was opened on (from
    ``data.resolved.messages``; Discord gives its content whatever the intents):

    ``message_text``, ``message_author_id`` and ``message_author_name``, ``message_channel_id``,
    ``message_link``, ``message_at`` (ISO 8601), ``message_images`` (the URLs of its image
    attachments) and ``image`` (the first of them, the option a command takes one image by).
    """
    author: User | dict[str, str] = message.get("author") or {}
    member: Member | dict[str, str] = message.get("member") or {}
    message_id = str(message.get("id", ""))
    images = [
        str(a["url"])
        for a in message.get("attachments") or ()
        if isinstance(a, Mapping) and a.get("url") and _is_image(a)
    ]
    options: dict[str, Any] = {
        "message_text": str(message.get("content") or ""),
        "message_author_id": str(author.get("id", "")),
        "message_author_name": str(
            member.get("nick") or author.get("global_name") or author.get("username") or ""
        ),
        "message_channel_id": channel_id,
        "message_link": (
            f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"
        ),
        "message_images": images,
    }
    if message.get("timestamp"):
        options["message_at"] = str(message["timestamp"])
    if images:
        options["image"] = images[0]
    return options


def _is_image(attachment: Attachment | Mapping[str, Any]) -> bool:
    media_type = str(attachment.get("content_type") or "")
    if media_type:
        return media_type.startswith("image/") and media_type != "image/svg+xml"
    return str(attachment.get("filename") or "").lower().endswith(IMAGE_EXTENSIONS)


def _focused_option(options: Sequence[CommandDataOption]) -> CommandDataOption | None:
    for option in options:
        if option.get("focused"):
            return option
        inner = _focused_option(option.get("options") or [])
        if inner is not None:
            return inner
    return None
