"""REST: application commands, interaction callbacks within their deadline, and webhook
follow-ups."""

from __future__ import annotations

import json
import time
from typing import Any, cast

from aiohttp import web

from bot.platforms.discord.types import (
    ApplicationCommand,
    InteractionCallback,
)
from tests.fakes.discord.bodies import (
    command_object,
    strip_localizations,
    valid_command_name,
)
from tests.fakes.discord.messages import Messages
from tests.fakes.discord.model import (
    Call,
    DiscordHTTPError,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    form_error,
    json_answer,
)
from tests.fakes.discord.protocol import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_UPDATE_MESSAGE,
    CALLBACK_MODAL,
    CALLBACK_UPDATE_MESSAGE,
    COMMAND_CHAT_INPUT,
    COMMAND_MESSAGE,
    COMMAND_USER,
    COMPONENT_ACTION_ROW,
    COMPONENT_TEXT_INPUT,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    INTERACTION_APPLICATION_COMMAND,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_MESSAGE_COMPONENT,
    INTERACTION_MODAL_SUBMIT,
    INTERACTION_TOKEN_LIFETIME,
    MAX_CUSTOM_ID,
    MAX_MODAL_TITLE,
    MAX_TEXT_INPUT,
    MAX_TEXT_INPUT_LABEL,
    MESSAGE_CHAT_INPUT_COMMAND,
    MESSAGE_DEFAULT,
)


class Interactions(Messages):
    """Application commands and interactions on top of the messages."""

    # --- REST: application commands ---------------------------------------------------------------

    def _find_command(
        self, name: str, channel: FakeChannel, *, kind: int = COMMAND_CHAT_INPUT
    ) -> ApplicationCommand | None:
        scopes: list[int | None] = [channel.guild_id, None] if channel.guild_id else [None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == kind:
                    return command
        return None

    async def _get_commands(self, call: Call) -> web.StreamResponse:
        scope = self._command_scope(call)
        with_localizations = call.request.query.get("with_localizations", "").lower() in (
            "true",
            "1",
        )
        result = []
        for command in self.commands.get(scope, []):
            shown = json.loads(json.dumps(command))
            if not with_localizations:
                strip_localizations(shown)
            result.append(shown)
        return json_answer(result)

    async def _put_commands(self, call: Call) -> web.StreamResponse:
        scope = self._command_scope(call)
        if not isinstance(call.body, list):
            raise form_error("_root", "LIST_TYPE_CONVERT", "Must be an array.")
        previous: dict[tuple[str, int], ApplicationCommand] = {
            (c["name"], c.get("type", 1)): c for c in self.commands.get(scope, [])
        }
        stored: list[ApplicationCommand] = []
        seen: set[tuple[str, int]] = set()
        for index, raw in enumerate(call.body):
            if not isinstance(raw, dict):
                raise form_error(str(index), "DICT_TYPE_CONVERT", "Must be an object.")
            kind = int(raw.get("type", 1))
            name = raw.get("name")
            names = [name, *((raw.get("name_localizations") or {}).values())]
            if not all(valid_command_name(n, kind) for n in names):
                raise form_error(f"{index}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid")
            assert isinstance(name, str)
            if kind in (COMMAND_USER, COMMAND_MESSAGE) and (
                raw.get("description") or raw.get("options")
            ):
                raise form_error(
                    f"{index}.description", "APPLICATION_COMMAND_INVALID", "Not allowed"
                )
            if (name, kind) in seen:
                raise DiscordHTTPError(
                    400, 40041, "An application command with that name already exists"
                )
            seen.add((name, kind))
            if kind == 1 and not 1 <= len(str(raw.get("description", ""))) <= 100:
                raise form_error(f"{index}.description", "BASE_TYPE_BAD_LENGTH", "1-100")
            old = previous.get((name, kind))
            command = command_object(raw)
            command["id"] = old["id"] if old else str(self._ids.next())
            command["application_id"] = str(self.application_id)
            command["version"] = str(self._ids.next())
            if scope is not None:
                command["guild_id"] = str(scope)
            stored.append(command)
        self.commands[scope] = stored
        return json_answer(stored)

    def _command_scope(self, call: Call) -> int | None:
        if call.snowflake("app") != self.application_id:
            raise DiscordHTTPError(403, 50001, "Missing Access")
        guild = call.match.groupdict().get("guild")
        if guild is None:
            return None
        if int(guild) not in self.guilds:
            raise DiscordHTTPError(403, 50001, "Missing Access")
        return int(guild)

    # --- REST: interactions -----------------------------------------------------------------------

    def _interaction_by_token(self, token: str) -> FakeInteraction:
        for interaction in self.interactions.values():
            if interaction.token == token:
                if time.monotonic() - interaction.created > INTERACTION_TOKEN_LIFETIME:
                    break
                return interaction
        raise DiscordHTTPError(404, 10015, "Unknown Webhook")

    async def _callback(self, call: Call) -> web.StreamResponse:
        interaction = self.interactions.get(call.snowflake("interaction"))
        if interaction is None or interaction.token != call.arg("token"):
            raise DiscordHTTPError(404, 10062, "Unknown interaction")
        if interaction.acknowledged:
            raise DiscordHTTPError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.created > self.response_deadline:
            raise DiscordHTTPError(404, 10062, "Unknown interaction")
        body = call.body if isinstance(call.body, dict) else {}
        kind = body.get("type")
        data = body.get("data") or {}
        files = call.record.files
        component = interaction.type in (INTERACTION_MESSAGE_COMPONENT, INTERACTION_MODAL_SUBMIT)
        valid = {
            INTERACTION_APPLICATION_COMMAND: {4, 5, 9},
            INTERACTION_MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            INTERACTION_AUTOCOMPLETE: {8},
            # A modal cannot answer a modal; updating needs the message the modal came from.
            INTERACTION_MODAL_SUBMIT: {4, 5, 6, 7} if interaction.message_id else {4, 5},
        }[interaction.type]
        if kind not in valid:
            raise DiscordHTTPError(400, 50035, "Invalid Form Body", errors={"type": {}})
        channel = self.channels[interaction.channel_id]
        message: FakeMessage | None = None
        if kind == CALLBACK_CHANNEL_MESSAGE:
            self._validate_message(data, files)
            if not (data.get("content") or data.get("components") or files):
                raise DiscordHTTPError(400, 50006, "Cannot send an empty message")
            flags = int(data.get("flags") or 0) & FLAG_EPHEMERAL
            message = self._store_message(
                channel,
                self.bot.id,
                str(data.get("content") or ""),
                body=data,
                files=files,
                flags=flags,
                message_type=MESSAGE_DEFAULT if component else MESSAGE_CHAT_INPUT_COMMAND,
                interaction=interaction,
            )
            interaction.original_message_id = message.id
        elif kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            flags = (int(data.get("flags") or 0) & FLAG_EPHEMERAL) | FLAG_LOADING
            message = self._store_message(
                channel,
                self.bot.id,
                "",
                flags=flags,
                message_type=MESSAGE_DEFAULT if component else MESSAGE_CHAT_INPUT_COMMAND,
                interaction=interaction,
            )
            interaction.original_message_id = message.id
            interaction.deferred = kind
        elif kind == CALLBACK_DEFERRED_UPDATE_MESSAGE:
            # For a component, the "original response" is the message it belongs to.
            interaction.deferred = kind
            interaction.original_message_id = interaction.message_id
        elif kind == CALLBACK_UPDATE_MESSAGE:
            assert interaction.message_id is not None
            message = self.messages[interaction.message_id]
            self._edit(message, data, files)
            interaction.original_message_id = message.id
        elif kind == CALLBACK_MODAL:
            interaction.modal = validated_modal(data)
        elif kind == CALLBACK_AUTOCOMPLETE_RESULT:
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) > 25:
                raise form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "25 or fewer")
        interaction.callbacks.append(cast(InteractionCallback, body))
        if message is not None and kind == CALLBACK_CHANNEL_MESSAGE and not message.ephemeral:
            await self._dispatch_message_create(message)
        elif message is not None and kind == CALLBACK_UPDATE_MESSAGE:
            await self._dispatch_message_update(message)
        if call.request.query.get("with_response", "").lower() not in ("true", "1"):
            return web.Response(status=204)
        result: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_id": None if message is None else str(message.id),
                "response_message_loading": bool(message and message.loading),
                "response_message_ephemeral": bool(message and message.ephemeral),
            },
            "resource": {"type": kind},
        }
        if message is not None and kind in (CALLBACK_CHANNEL_MESSAGE, CALLBACK_UPDATE_MESSAGE):
            result["resource"]["message"] = self._message_payload(message)
        return json_answer(result)

    async def _followup(self, call: Call) -> web.StreamResponse:
        if call.snowflake("app") != self.application_id:
            raise DiscordHTTPError(404, 10015, "Unknown Webhook")
        interaction = self._interaction_by_token(call.arg("token"))
        if not interaction.acknowledged:
            raise DiscordHTTPError(404, 10015, "Unknown Webhook")
        body = call.body if isinstance(call.body, dict) else {}
        files = call.record.files
        original = (
            None
            if interaction.original_message_id is None
            else self.messages[interaction.original_message_id]
        )
        if original is not None and original.loading and not original.deleted:
            # Documented backwards compatibility: right after a type 5 defer, a follow-up
            # edits the loading message and keeps its ephemeral state.
            self._edit(original, body, files)
            if not original.ephemeral:
                await self._dispatch_message_create(original)
            return json_answer(self._message_payload(original))
        self._validate_message(body, files)
        if not (body.get("content") or body.get("components") or files):
            raise DiscordHTTPError(400, 50006, "Cannot send an empty message")
        flags = int(body.get("flags") or 0) & FLAG_EPHEMERAL
        message = self._store_message(
            self.channels[interaction.channel_id],
            self.bot.id,
            str(body.get("content") or ""),
            body=body,
            files=files,
            flags=flags,
            interaction=interaction,
        )
        interaction.followup_ids.append(message.id)
        if not message.ephemeral:
            await self._dispatch_message_create(message)
        return json_answer(self._message_payload(message))

    def _webhook_message(self, call: Call) -> tuple[FakeInteraction, FakeMessage]:
        if call.snowflake("app") != self.application_id:
            raise DiscordHTTPError(404, 10015, "Unknown Webhook")
        interaction = self._interaction_by_token(call.arg("token"))
        which = call.arg("message")
        if which == "@original":
            message_id = interaction.original_message_id
        else:
            message_id = int(which)
            if message_id not in interaction.followup_ids:
                message_id = None
        message = None if message_id is None else self.messages.get(message_id)
        if message is None or message.deleted:
            raise DiscordHTTPError(404, 10008, "Unknown Message")
        return interaction, message

    async def _get_webhook_message(self, call: Call) -> web.StreamResponse:
        _, message = self._webhook_message(call)
        return json_answer(self._message_payload(message))

    async def _patch_webhook_message(self, call: Call) -> web.StreamResponse:
        _, message = self._webhook_message(call)
        was_loading = message.loading
        body = call.body if isinstance(call.body, dict) else {}
        self._edit(message, body, call.record.files)
        if was_loading and not message.ephemeral:
            await self._dispatch_message_create(message)
        else:
            await self._dispatch_message_update(message)
        return json_answer(self._message_payload(message))

    async def _delete_webhook_message(self, call: Call) -> web.StreamResponse:
        _, message = self._webhook_message(call)
        message.deleted = True
        return web.Response(status=204)


def validated_modal(data: Any) -> dict[str, Any]:
    """A modal's data checked as Discord's API does, or the 400 it answers.

    ``custom_id`` 1-100, ``title`` 1-45, 1 to 5 action rows (type 1) each holding exactly one
    text input (type 4) with a ``custom_id``, a ``label`` 1-45, a style 1 or 2 and lengths in
    0-4000 (``min_length`` at most ``max_length``).
    """
    if not isinstance(data, dict):
        raise form_error("data", "DICT_TYPE_CONVERT", "Must be an object.")
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
        raise form_error("data.custom_id", "BASE_TYPE_BAD_LENGTH", "1-100")
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_MODAL_TITLE:
        raise form_error("data.title", "BASE_TYPE_BAD_LENGTH", "1-45")
    rows = data.get("components")
    if not isinstance(rows, list) or not 1 <= len(rows) <= 5:
        raise form_error("data.components", "BASE_TYPE_BAD_LENGTH", "1-5")
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where = f"data.components.{index}"
        if not isinstance(row, dict) or row.get("type") != COMPONENT_ACTION_ROW:
            raise form_error(f"{where}.type", "UNION_TYPE_CHOICES", "an action row")
        inner = row.get("components")
        if not isinstance(inner, list) or len(inner) != 1:
            raise form_error(f"{where}.components", "BASE_TYPE_BAD_LENGTH", "exactly 1")
        field = inner[0]
        where = f"{where}.components.0"
        if not isinstance(field, dict) or field.get("type") != COMPONENT_TEXT_INPUT:
            raise form_error(f"{where}.type", "COMPONENT_TYPE_INVALID", "a text input")
        field_id = field.get("custom_id")
        if not isinstance(field_id, str) or not 1 <= len(field_id) <= MAX_CUSTOM_ID:
            raise form_error(f"{where}.custom_id", "BASE_TYPE_BAD_LENGTH", "1-100")
        if field_id in seen:
            raise form_error(f"{where}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "unique")
        seen.add(field_id)
        label = field.get("label")
        if not isinstance(label, str) or not 1 <= len(label) <= MAX_TEXT_INPUT_LABEL:
            raise form_error(f"{where}.label", "BASE_TYPE_BAD_LENGTH", "1-45")
        if field.get("style") not in (1, 2):
            raise form_error(f"{where}.style", "BASE_TYPE_CHOICES", "1 or 2")
        low = field.get("min_length", 0)
        high = field.get("max_length", MAX_TEXT_INPUT)
        if not (isinstance(low, int) and 0 <= low <= MAX_TEXT_INPUT):
            raise form_error(f"{where}.min_length", "NUMBER_TYPE_MAX", "0-4000")
        if not (isinstance(high, int) and 1 <= high <= MAX_TEXT_INPUT and low <= high):
            raise form_error(f"{where}.max_length", "NUMBER_TYPE_MAX", "1-4000")
    return data
