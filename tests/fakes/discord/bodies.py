"""Request bodies as Discord reads and checks them: JSON or multipart, components, application
command objects and their options."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, cast

from aiohttp import BodyPartReader, web

from bot.platforms.discord.types import (
    ApplicationCommand,
    OptionType,
)
from tests.fakes.discord.model import (
    DiscordHTTPError,
    form_error,
)
from tests.fakes.discord.protocol import (
    COMMAND_MESSAGE,
    COMMAND_USER,
    MAX_BUTTON_LABEL,
    MAX_CUSTOM_ID,
    MAX_SELECT_OPTIONS,
    OPTION_BOOLEAN,
    OPTION_INTEGER,
    OPTION_NUMBER,
    OPTION_STRING,
)


def media_type_of(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {
        "ics": "text/calendar",
        "csv": "text/csv",
        "html": "text/html",
        "txt": "text/plain",
        "png": "image/png",
        "jpg": "image/jpeg",
        "json": "application/json",
    }.get(extension, "application/octet-stream")


async def read_body(request: web.Request) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """The JSON body (or ``payload_json``) and the ``files[n]`` of a multipart body."""
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        payload: Any = None
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            raw = await part.read()
            name = part.name or ""
            if name == "payload_json":
                payload = json.loads(raw)
            elif name.startswith("files["):
                files[name] = (part.filename or name, bytes(raw))
        return payload, files
    if not request.can_read_body:
        return None, files
    text = await request.text()
    if not text:
        return None, files
    try:
        return json.loads(text), files
    except json.JSONDecodeError:
        raise DiscordHTTPError(400, 50109, "The request body contains invalid JSON.") from None


def validate_components(rows: list[Any]) -> None:
    if len(rows) > 5:
        raise form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        if not isinstance(row, dict) or row.get("type") != 1:
            raise form_error(f"components.{r}.type", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "row")
        items = row.get("components") or []
        selects = [i for i in items if i.get("type") in (3, 5, 6, 7, 8)]
        if not items or len(items) > 5 or (selects and len(items) > 1):
            raise form_error(
                f"components.{r}.components", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "too wide"
            )
        for c, item in enumerate(items):
            where = f"components.{r}.components.{c}"
            custom_id = item.get("custom_id")
            if custom_id is not None:
                if not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
                    raise form_error(f"{where}.custom_id", "BASE_TYPE_BAD_LENGTH", "1-100")
                if custom_id in seen:
                    raise form_error(
                        f"{where}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "duplicated"
                    )
                seen.add(custom_id)
            if item.get("type") == 2:
                if item.get("style") != 5 and custom_id is None:
                    raise form_error(f"{where}.custom_id", "BASE_TYPE_REQUIRED", "required")
                if len(item.get("label") or "") > MAX_BUTTON_LABEL:
                    raise form_error(f"{where}.label", "BASE_TYPE_MAX_LENGTH", "80 or fewer")
            if item.get("type") == 3:
                options = item.get("options") or []
                values = [o.get("value") for o in options]
                if not 1 <= len(options) <= MAX_SELECT_OPTIONS:
                    raise form_error(f"{where}.options", "BASE_TYPE_BAD_LENGTH", "1-25")
                if len(set(values)) != len(values):
                    raise form_error(
                        f"{where}.options", "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "dup"
                    )
                for o, option in enumerate(options):
                    if len(option.get("label") or "") > 100 or len(option.get("value") or "") > 100:
                        raise form_error(f"{where}.options.{o}", "BASE_TYPE_MAX_LENGTH", "100")


COMMAND_FIELDS = (
    "type",
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "options",
    "default_member_permissions",
    "dm_permission",
    "nsfw",
    "integration_types",
    "contexts",
)


def command_object(raw: Mapping[str, Any]) -> ApplicationCommand:
    """A stored command as Discord returns it: defaults filled, unknown fields dropped."""
    command = cast(ApplicationCommand, {key: raw[key] for key in COMMAND_FIELDS if key in raw})
    command.setdefault("type", 1)
    command.setdefault("description", "")
    command.setdefault("name_localizations", None)
    command.setdefault("description_localizations", None)
    permissions = command.get("default_member_permissions")
    command["default_member_permissions"] = None if permissions is None else str(permissions)
    command.setdefault("dm_permission", True)
    command.setdefault("nsfw", False)
    command.setdefault("integration_types", [0])
    command.setdefault("contexts", None)
    return command


def valid_command_name(name: Any, kind: int) -> bool:
    """Application command naming (developers/interactions/application-commands)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return False
    if kind in (COMMAND_USER, COMMAND_MESSAGE):
        return bool(name.strip())
    return bool(re.fullmatch(r"[-_'\w]{1,32}", name)) and name == name.lower()


def strip_localizations(command: dict[str, Any]) -> None:
    """Without ``with_localizations``, Discord gives ``name_localized`` instead of the maps."""
    command.pop("name_localizations", None)
    command.pop("description_localizations", None)
    for option in command.get("options") or []:
        strip_localizations(option)
    for choice in command.get("choices") or []:
        choice.pop("name_localizations", None)


def option_type(value: Any, command: ApplicationCommand | None, name: str) -> OptionType:
    for option in (command.get("options") if command else None) or []:
        if option.get("name") == name:
            return cast(OptionType, int(option["type"]))
    if isinstance(value, bool):
        return OPTION_BOOLEAN
    if isinstance(value, int):
        return OPTION_INTEGER
    if isinstance(value, float):
        return OPTION_NUMBER
    return OPTION_STRING
