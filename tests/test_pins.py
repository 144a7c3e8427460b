"""What users and platforms see, pinned: the Discord command payload, /aide for members and
coordinators in French and English, and the catalogs' message ids.

A change of layout must leave these files identical; a deliberate change of behaviour rewrites
them with ``UPDATE_GOLDEN=1`` and shows the difference in review.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.core import Place
from bot.i18n import Translators
from bot.platforms.discord.app_commands import application_commands
from bot.wiring import make_app
from tests.conftest import Database
from tests.support.chat import Chat, text_of
from tests.support.golden import check_golden

GOLDEN = Path(__file__).parent / "golden"
LOCALE = Path(__file__).parent.parent / "bot" / "locale"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HERE = Place("console", "general", "general")


def _app(database: Database, tmp_path: Path) -> App:
    settings = load_settings(
        None, database_url=database.url, environ={}, overrides={"data_dir": str(tmp_path)}
    )
    return make_app(settings, clock=FrozenClock(NOW))


def test_discord_command_payload_is_pinned(tmp_path: Path, database: Database) -> None:
    app = _app(database, tmp_path)
    payload = application_commands(app.registry, Translators(ZoneInfo("Europe/Paris")))
    text = json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    check_golden(GOLDEN / "discord_commands.json", text)


@pytest.mark.asyncio
@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("coordinator", [False, True], ids=["member", "coordinator"])
async def test_help_is_pinned(chat: Chat, locale: str, coordinator: bool) -> None:
    chat.locales["sam"] = locale
    text = text_of(await chat.command("sam", "/aide", coordinator=coordinator))
    role = "coordinator" if coordinator else "member"
    check_golden(GOLDEN / f"help_{role}_{locale}.txt", text + "\n")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_catalog_message_ids_are_pinned(locale: str) -> None:
    with (LOCALE / locale / "LC_MESSAGES" / "tisserand.po").open("rb") as handle:
        catalog = read_po(handle)
    ids = sorted(json.dumps(message.id, ensure_ascii=False) for message in catalog if message.id)
    check_golden(GOLDEN / f"msgids_{locale}.txt", "\n".join(ids) + "\n")


@pytest.mark.asyncio
async def test_stored_names_are_pinned(tmp_path: Path, database: Database) -> None:
    """Button action prefixes, autocompleters, scheduled work, listeners and services: stored in
    the database or on posted buttons, so a move must not rename them."""
    app = _app(database, tmp_path)
    await app.start(with_scheduler=False)
    try:
        lines = [
            "choices: " + ", ".join(sorted(app.registry.choice_handlers)),
            "autocompleters: " + ", ".join(sorted(app.registry.autocompleters)),
            "scheduled work: " + ", ".join(sorted(app.scheduler._work)),
            "listeners: " + ", ".join(sorted(kind for kind, _ in app.listeners)),
            "services: " + ", ".join(sorted(app.services)),
            "commands: " + ", ".join(spec.display_name("fr") for spec in app.registry.specs),
        ]
    finally:
        await app.stop()
    check_golden(GOLDEN / "stored_names.txt", "\n".join(lines) + "\n")
