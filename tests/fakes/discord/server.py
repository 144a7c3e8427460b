"""The fake Discord itself: its life cycle and the simulated users (messages, reactions,
commands, buttons, menus)."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.platforms.discord.types import (
    CommandData,
    CommandDataOption,
    ComponentData,
    Interaction,
    InteractionType,
    ReactionAdd,
)
from tests.fakes.discord.bodies import (
    option_type,
)
from tests.fakes.discord.model import (
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    FakeUser,
)
from tests.fakes.discord.protocol import (
    API_PREFIX,
    ATTACHMENT_SIZE_LIMIT,
    COMMAND_CHAT_INPUT,
    COMMAND_MESSAGE,
    INTENT_DIRECT_MESSAGE_REACTIONS,
    INTENT_GUILD_MESSAGE_REACTIONS,
    INTERACTION_APPLICATION_COMMAND,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_MESSAGE_COMPONENT,
    INTERACTION_MODAL_SUBMIT,
)
from tests.fakes.discord.rest import Rest


class FakeDiscord(Rest):
    """A Discord-compatible server on 127.0.0.1. Use ``async with FakeDiscord() as fake:``."""

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway-resume", self._gateway)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._cdn)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None)
        assert sockets
        self._port = int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        self._gate.set()
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                await connection.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- gateway: simulated users ------------------------------------------------------------

    async def say(
        self,
        user: FakeUser,
        channel: FakeChannel,
        content: str,
        *,
        files: Mapping[str, bytes] | None = None,
    ) -> FakeMessage:
        """``user`` posts ``content`` in ``channel`` (MESSAGE_CREATE), with ``files`` (file name
        -> bytes) as attachments."""
        uploads = {
            f"files[{i}]": (name, data) for i, (name, data) in enumerate((files or {}).items())
        }
        message = self._store_message(channel, user.id, content, files=uploads)
        await self._dispatch_message_create(message)
        return message

    async def message_command(
        self, user: FakeUser, message: FakeMessage, name: str, *, locale: str = "fr"
    ) -> FakeInteraction:
        """``user`` opens ``message``'s menu › Apps › ``name`` (a registered MESSAGE command)."""
        channel = self.channels[message.channel_id]
        command = self._find_command(name, channel, kind=COMMAND_MESSAGE)
        if command is None:
            raise AssertionError(f"no message command {name!r} is registered")
        data: CommandData = {
            "id": str(command["id"]),
            "name": name,
            "type": COMMAND_MESSAGE,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): self._message_payload(message)}},
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._interact(INTERACTION_APPLICATION_COMMAND, user, channel, data, locale)

    async def slash_command(
        self,
        user: FakeUser,
        channel: FakeChannel,
        name: str,
        options: Mapping[str, Any] | list[CommandDataOption] | None = None,
        *,
        locale: str = "fr",
    ) -> FakeInteraction:
        """``user`` runs ``/name`` with ``options`` (a mapping, or raw option objects)."""
        command = self._find_command(name, channel)
        data: CommandData = {
            "id": str(command["id"]) if command else str(self._ids.next()),
            "name": name,
            "type": COMMAND_CHAT_INPUT,
        }
        if isinstance(options, list):
            data["options"] = options
        elif options:
            data["options"] = [
                {"name": key, "type": option_type(value, command, key), "value": value}
                for key, value in options.items()
            ]
        if command and command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._interact(INTERACTION_APPLICATION_COMMAND, user, channel, data, locale)

    async def autocomplete(
        self,
        user: FakeUser,
        channel: FakeChannel,
        name: str,
        option: str,
        partial: str,
        *,
        others: Mapping[str, Any] | None = None,
        locale: str = "fr",
    ) -> FakeInteraction:
        """``user`` is typing ``partial`` into the ``option`` of ``/name``."""
        command = self._find_command(name, channel)
        options: list[CommandDataOption] = [
            {"name": key, "type": option_type(value, command, key), "value": value}
            for key, value in (others or {}).items()
        ]
        options.append(
            {
                "name": option,
                "type": option_type(partial, command, option),
                "value": partial,
                "focused": True,
            }
        )
        data: CommandData = {
            "id": str(command["id"]) if command else str(self._ids.next()),
            "name": name,
            "type": COMMAND_CHAT_INPUT,
            "options": options,
        }
        return await self._interact(INTERACTION_AUTOCOMPLETE, user, channel, data, locale)

    async def click(
        self, user: FakeUser, message: FakeMessage, custom_id: str, *, locale: str = "fr"
    ) -> FakeInteraction:
        """``user`` clicks the button ``custom_id`` of ``message``."""
        if custom_id not in message.custom_ids():
            raise AssertionError(f"no component {custom_id!r} on message {message.id}")
        channel = self.channels[message.channel_id]
        data: ComponentData = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(
            INTERACTION_MESSAGE_COMPONENT, user, channel, data, locale, message=message
        )

    async def select(
        self,
        user: FakeUser,
        message: FakeMessage,
        custom_id: str,
        values: list[str],
        *,
        locale: str = "fr",
    ) -> FakeInteraction:
        """``user`` picks ``values`` in the select menu ``custom_id`` of ``message``."""
        if custom_id not in message.custom_ids():
            raise AssertionError(f"no component {custom_id!r} on message {message.id}")
        channel = self.channels[message.channel_id]
        data: ComponentData = {"custom_id": custom_id, "component_type": 3, "values": values}
        return await self._interact(
            INTERACTION_MESSAGE_COMPONENT, user, channel, data, locale, message=message
        )

    async def submit_modal(
        self, opened: FakeInteraction, texts: Mapping[str, str], *, locale: str = "fr"
    ) -> FakeInteraction:
        """The user who got ``opened``'s modal fills its text inputs with ``texts`` and submits.

        As the Discord client does: only a modal the bot answered with can be submitted, every
        required field is filled and no text is longer than its ``max_length``.
        """
        modal = opened.modal
        if modal is None:
            raise AssertionError(f"interaction {opened.id} opened no modal")
        rows = []
        for row in modal["components"]:
            field = row["components"][0]
            value = texts.get(field["custom_id"], "")
            if field.get("required", True) and not value:
                raise AssertionError(f"the field {field['custom_id']!r} is required")
            if not field.get("min_length", 0) <= len(value) <= field.get("max_length", 4000):
                raise AssertionError(f"the field {field['custom_id']!r} refuses that length")
            rows.append(
                {
                    "type": 1,
                    "components": [{"type": 4, "custom_id": field["custom_id"], "value": value}],
                }
            )
        data: Any = {"custom_id": modal["custom_id"], "components": rows}
        user = self.users[opened.user_id]
        channel = self.channels[opened.channel_id]
        message = None if opened.message_id is None else self.messages[opened.message_id]
        return await self._interact(
            INTERACTION_MODAL_SUBMIT, user, channel, data, locale, message=message
        )

    async def react(self, user: FakeUser, message: FakeMessage, emoji: str) -> None:
        """``user`` adds the unicode ``emoji`` to ``message`` (MESSAGE_REACTION_ADD)."""
        channel = self.channels[message.channel_id]
        data: ReactionAdd = {
            "user_id": str(user.id),
            "channel_id": str(channel.id),
            "message_id": str(message.id),
            "emoji": {"id": None, "name": emoji},
            "message_author_id": str(message.author_id),
            "burst": False,
            "type": 0,
        }
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            data["member"] = self._member_payload(self.guilds[channel.guild_id], user)
            intent = INTENT_GUILD_MESSAGE_REACTIONS
        else:
            intent = INTENT_DIRECT_MESSAGE_REACTIONS
        await self.dispatch("MESSAGE_REACTION_ADD", data, intent=intent)

    async def _interact(
        self,
        kind: InteractionType,
        user: FakeUser,
        channel: FakeChannel,
        data: CommandData | ComponentData,
        locale: str,
        *,
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        interaction = FakeInteraction(
            id=self._ids.next(),
            token="aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            type=kind,
            user_id=user.id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            data=data,
            created=time.monotonic(),
            locale=locale,
            message_id=None if message is None else message.id,
        )
        self.interactions[interaction.id] = interaction
        await self.dispatch("INTERACTION_CREATE", self._interaction_payload(interaction))
        return interaction

    def _interaction_payload(self, interaction: FakeInteraction) -> Interaction:
        channel = self.channels[interaction.channel_id]
        user = self.users[interaction.user_id]
        payload: Interaction = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": interaction.type,
            "data": interaction.data,
            "channel_id": str(channel.id),
            "channel": self._channel_payload(channel),
            "token": interaction.token,
            "version": 1,
            "app_permissions": "2248473465835073",
            "locale": interaction.locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": guild.locale, "features": []}
            payload["guild_locale"] = guild.locale
            member = self._member_payload(guild, user)
            member["permissions"] = "2248473465835073"
            payload["member"] = member
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
            payload["context"] = 0
        else:
            payload["user"] = user.payload()
            payload["authorizing_integration_owners"] = {"0": str(user.id)}
            payload["context"] = 1
        if interaction.message_id is not None:
            payload["message"] = self._message_payload(self.messages[interaction.message_id])
        return payload
