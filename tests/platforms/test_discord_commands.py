"""The Discord command payload covers every command of the registry, localized in French."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import commands
from bot.core import Role
from bot.i18n import Translators
from bot.platforms.discord_commands import application_commands
from bot.registry import Registry

NAME = re.compile(r"^[-_a-z0-9]{1,32}$")


def test_every_command_is_in_the_payload_with_french_localizations() -> None:
    registry = Registry.build(commands.all_modules())
    payload = application_commands(registry, Translators(ZoneInfo("Europe/Paris")))
    by_name = {c["name"]: c for c in payload}
    for spec in registry.specs:
        if spec.group:
            group = by_name[spec.group_alias or spec.group]
            assert group["name_localizations"] == {"fr": spec.group}
            entry = next(o for o in group["options"] if o["name"] == spec.alias)
            assert entry["type"] == 1
        else:
            entry = by_name[spec.alias]
            assert entry["type"] == 1
            if spec.permission is Role.COORDINATOR:
                assert entry["default_member_permissions"] == "0"
        assert entry["name_localizations"] == {"fr": spec.name}
        assert entry["description"] and entry["description_localizations"]["fr"]
        assert entry["description"] != entry["description_localizations"]["fr"]
        assert [o["name"] for o in entry["options"]] == sorted(
            [o.alias for o in spec.options],
            key=lambda n: not next(o for o in entry["options"] if o["name"] == n)["required"],
        )
    for command in payload:
        assert NAME.match(command["name"])
        assert len(command["description"]) <= 100
        for option in command.get("options", []):
            assert NAME.match(option["name"])
            assert len(option["description"]) <= 100
            assert len(option["description_localizations"]["fr"]) <= 100
    assert by_name["help"]["name_localizations"] == {"fr": "aide"}
    assert by_name["announce"]["options"][0]["type"] == 7  # a channel
    assert application_commands(registry, Translators(ZoneInfo("UTC"))) == payload  # stable
