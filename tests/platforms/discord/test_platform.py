"""The Discord platform end to end: the real discord.py against tests/fakes/discord/ on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from discord.gateway import DiscordWebSocket
from discord.http import Route
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.app import App as Tisserand
from bot.clock import FrozenClock, MovableClock
from bot.config import load_settings
from bot.core import (
    Actor,
    Attachment,
    Choice,
    ChoiceEvent,
    ChoiceStyle,
    CommandEvent,
    ConfigError,
    DeliveryError,
    DirectTarget,
    Event,
    Mention,
    MessageEvent,
    MessageRef,
    PlaceTarget,
    ReactionEvent,
    Reply,
    Role,
)
from bot.i18n import Translators
from bot.outbox import Sender, enqueue
from bot.platforms.base import Platform
from bot.platforms.discord import (
    DiscordDeliveryError,
    DiscordPlatform,
    DiscordSettings,
    check_online,
)
from bot.platforms.discord.app_commands import application_commands, same_commands
from bot.platforms.discord.delivery import message_nonce, split_text
from bot.platforms.discord.views import CUSTOM_ID_PREFIX
from bot.storage.engine import make_session_factory
from bot.storage.highlights import Highlight, HighlightSource
from bot.storage.members import Member
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.wiring import FAMILIES
from tests.conftest import Database
from tests.fakes.discord import (
    FLAG_EPHEMERAL,
    INTENT_DIRECT_MESSAGE_REACTIONS,
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGE_REACTIONS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    PRIVILEGED_INTENTS,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
)

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

TOKEN = "test-bot-token"
WAIT = 5.0

COMMANDS: list[dict[str, Any]] = [
    {
        "name": "poll",
        "description": "Create a poll",
        "name_localizations": {"fr": "sondage"},
        "description_localizations": {"fr": "Créer un sondage"},
        "options": [
            {
                "type": 3,
                "name": "question",
                "description": "The question",
                "name_localizations": {"fr": "question"},
                "description_localizations": {"fr": "La question posée"},
                "required": True,
            },
            {
                "type": 4,
                "name": "days",
                "description": "Days before closing",
                "name_localizations": {"fr": "jours"},
                "description_localizations": {"fr": "Jours avant la clôture"},
                "required": False,
                "min_value": 1,
            },
        ],
    },
    {
        "name": "vote",
        "description": "Vote in a poll",
        "description_localizations": {"fr": "Voter"},
        "options": [
            {
                "type": 4,
                "name": "poll",
                "description": "The poll",
                "description_localizations": {"fr": "Le sondage"},
                "required": True,
                "autocomplete": True,
            }
        ],
    },
    {
        "name": "session",
        "description": "Sessions",
        "options": [
            {
                "type": 1,
                "name": "register",
                "description": "Register for a session",
                "options": [{"type": 4, "name": "id", "description": "Session", "required": True}],
            }
        ],
    },
    {"name": "export", "description": "Export", "default_member_permissions": "32"},
]


# --- the world and the app's side ------------------------------------------------------------


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    channel: FakeChannel
    coordination: FakeRole
    alice: FakeUser
    """A coordinator."""
    bob: FakeUser
    """A member."""


Answer = Callable[[Event], Awaitable[list[Reply]]]


async def _silent(event: Event) -> list[Reply]:
    return []


@dataclass
class App:
    """What the app does with a platform: handle the event, then respond with each reply."""

    answer: Answer = _silent
    platform: DiscordPlatform | None = None
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    refs: list[MessageRef | None] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)

    async def __call__(self, event: Event) -> None:
        assert self.platform is not None
        try:
            for reply in await self.answer(event):
                self.refs.append(await self.platform.respond(event, reply))
        except Exception as exc:
            self.errors.append(exc)
        await self.events.put(event)

    async def next(self) -> Event:
        return await asyncio.wait_for(self.events.get(), WAIT)


@pytest_asyncio.fixture
async def world() -> AsyncIterator[World]:
    async with FakeDiscord(token=TOKEN) as fake:
        guild = fake.add_guild("Réseau ville durable")
        coordination = fake.add_role(guild, "Coordination")
        channel = fake.add_channel(guild, "général")
        alice = fake.add_user("alice", global_name="Alice Martin")
        bob = fake.add_user("bob")
        fake.add_member(guild, alice, [coordination])
        fake.add_member(guild, bob)
        yield World(fake, guild, channel, coordination, alice, bob)
    assert Route.BASE == "https://discord.com/api/v10"
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


@pytest_asyncio.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    yield
    for _ in range(5):
        await asyncio.sleep(0)
    current = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert left == [], f"tasks still pending: {left}"


@contextlib.asynccontextmanager
async def running(
    world: World, app: App, *, settings: dict[str, Any] | None = None, **options: Any
) -> AsyncIterator[DiscordPlatform]:
    config = DiscordSettings(api_base_url=world.fake.base_url, **(settings or {}))
    options.setdefault("guild_ready_timeout", 0.02)
    platform = DiscordPlatform(config, TOKEN, **options)
    app.platform = platform
    await platform.start(app)
    try:
        yield platform
    finally:
        await platform.stop()


def place_of(world: World) -> PlaceTarget:
    return PlaceTarget("discord", str(world.channel.id))


def no_pings(world: World) -> None:
    """Every message the bot wrote went out with ``allowed_mentions: {"parse": []}``."""
    bodies: list[dict[str, Any]] = []
    for request in world.fake.requests:
        body = request.json
        if not isinstance(body, dict):
            continue
        if request.path.endswith("/callback"):
            body = body.get("data") or {}
        if "content" in body or "components" in body:
            bodies.append(body)
    assert bodies, "no message was written"
    for body in bodies:
        assert body.get("allowed_mentions", {}).get("parse") == [], body


async def interaction_answered(world: World, interaction: FakeInteraction) -> None:
    await world.fake.wait_for(lambda: interaction.acknowledged, WAIT)


# --- connection ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_connects_with_hello_identify_ready_and_guild_create(world: World) -> None:
    app = App()
    async with running(world, app) as platform:
        assert isinstance(platform, Platform)
        session = world.fake.session()
        names = [p["t"] for p in session.sent]
        assert names[:2] == ["READY", "GUILD_CREATE"]
        assert [p["s"] for p in session.sent[:2]] == [1, 2]
        expected = (
            INTENT_GUILDS
            | INTENT_GUILD_MESSAGES
            | INTENT_GUILD_MESSAGE_REACTIONS
            | INTENT_DIRECT_MESSAGES
            | INTENT_DIRECT_MESSAGE_REACTIONS
        )
        assert session.intents == expected
        assert not session.intents & PRIVILEGED_INTENTS
        assert world.fake.requests_to("GET", "/gateway/bot")
        assert world.fake.connection_paths == ["/gateway"]
        connection = session.connection
        assert connection is not None
        await world.fake.wait_for(lambda: connection.heartbeats >= 1, WAIT)
        # GUILD_CREATE was understood: channels and roles are known to discord.py.
        channel = platform.client.get_channel(world.channel.id)
        assert channel is not None and getattr(channel, "name", None) == "général"
        assert world.fake.base_url == Route.BASE


@pytest.mark.asyncio
async def test_message_content_intent_is_asked_only_when_configured(world: World) -> None:
    app = App()
    with pytest.raises(ConfigError) as caught:
        async with running(world, app, settings={"message_content_intent": True}):
            pass
    assert caught.value.problems[0][0] == "discord.message_content_intent"

    world.fake.privileged_intents = INTENT_MESSAGE_CONTENT
    async with running(world, app, settings={"message_content_intent": True}):
        assert world.fake.session().intents & INTENT_MESSAGE_CONTENT


@pytest.mark.asyncio
async def test_explicit_gateway_url_and_one_server_per_process(world: World) -> None:
    settings = {"gateway_url": world.fake.gateway_url}
    async with running(world, App(), settings=settings):
        elsewhere = DiscordPlatform(
            DiscordSettings(api_base_url="http://127.0.0.1:9/api/v10"), TOKEN
        )
        with pytest.raises(ConfigError) as caught:
            await elsewhere.start(App())
        assert caught.value.problems[0][0] == "discord.api_base_url"
        await elsewhere.stop()
        assert world.fake.base_url == Route.BASE  # still ours
    assert not world.fake.requests_to("GET", "/gateway/bot")
    assert world.fake.connection_paths == ["/gateway"]


@pytest.mark.asyncio
async def test_bad_token_is_a_config_error(world: World) -> None:
    platform = DiscordPlatform(DiscordSettings(api_base_url=world.fake.base_url), "wrong")
    with pytest.raises(ConfigError) as caught:
        await platform.start(App())
    assert caught.value.problems[0][0] == "TISSERAND_DISCORD_TOKEN"
    await platform.stop()


# --- application commands --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_commands_are_synced_once_and_again_only_when_changed(world: World) -> None:
    fake = world.fake
    commands_path = rf"/applications/{fake.application_id}/commands"
    async with running(world, App(), commands=COMMANDS):
        pass
    puts = fake.requests_to("PUT", commands_path)
    assert len(puts) == 1
    assert puts[0].json == COMMANDS
    sent = {c["name"]: c for c in puts[0].json}
    assert sent["poll"]["name_localizations"] == {"fr": "sondage"}
    assert sent["poll"]["options"][0]["description_localizations"] == {"fr": "La question posée"}
    gets = fake.requests_to("GET", commands_path)
    assert gets[0].query.get("with_localizations") == "true"

    async with running(world, App(), commands=COMMANDS):
        pass
    assert len(fake.requests_to("PUT", commands_path)) == 1
    assert len(fake.requests_to("GET", commands_path)) == 2

    changed = json.loads(json.dumps(COMMANDS))
    changed[0]["description_localizations"]["fr"] = "Lancer un sondage"
    async with running(world, App(), commands=changed):
        pass
    assert len(fake.requests_to("PUT", commands_path)) == 2
    assert fake.commands[None][0]["description_localizations"] == {"fr": "Lancer un sondage"}


@pytest.mark.asyncio
async def test_commands_go_to_the_configured_guilds(world: World) -> None:
    fake = world.fake
    settings = {"guild_ids": [world.guild.id]}
    async with running(world, App(), settings=settings, commands=COMMANDS) as platform:
        assert await platform.sync_commands(COMMANDS) is False
    guild_path = rf"/applications/{fake.application_id}/guilds/{world.guild.id}/commands"
    assert len(fake.requests_to("PUT", guild_path)) == 1
    assert not fake.requests_to("PUT", rf"/applications/{fake.application_id}/commands")
    assert [c["name"] for c in fake.commands[world.guild.id]] == [c["name"] for c in COMMANDS]


def test_command_comparison_ignores_what_discord_adds() -> None:
    existing = [
        dict(c, id="1", application_id="2", version="3", dm_permission=True, nsfw=False)
        | {"integration_types": [0], "contexts": None}
        for c in json.loads(json.dumps(COMMANDS))
    ]
    existing[0]["options"][1]["autocomplete"] = False
    assert same_commands(COMMANDS, existing)
    existing[0]["options"][0]["required"] = False
    assert not same_commands(COMMANDS, existing)
    assert not same_commands(COMMANDS, existing[:2])


# --- interactions ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_slash_command_becomes_a_command_event_and_gets_an_ephemeral_answer(
    world: World,
) -> None:
    async def answer(event: Event) -> list[Reply]:
        return [Reply("Sondage créé.", ephemeral=True)]

    app = App(answer)
    async with running(world, app, commands=COMMANDS):
        interaction = await world.fake.slash_command(
            world.alice, world.channel, "poll", {"question": "Café ?", "days": 3}, locale="fr"
        )
        event = await app.next()
    assert isinstance(event, CommandEvent)
    assert event.name == "poll"
    assert event.options == {"question": "Café ?", "days": 3}
    assert event.text == ""
    assert event.actor.locale == "fr"
    assert event.actor.display_name == "Alice Martin"
    assert event.actor.roles == frozenset({Role.MEMBER, Role.COORDINATOR})
    assert event.place.channel_id == str(world.channel.id)
    assert event.place.name == "général"
    assert not event.place.is_direct
    assert event.at.tzinfo is not None
    assert interaction.callback_types == [4]
    assert interaction.callbacks[0]["data"]["flags"] & FLAG_EPHEMERAL
    original = world.fake.messages[interaction.original_message_id or 0]
    assert original.content == "Sondage créé." and original.ephemeral
    assert world.fake.channel_messages(world.channel) == []
    assert app.refs == [MessageRef("discord", str(world.channel.id), str(original.id))]
    no_pings(world)


@pytest.mark.asyncio
async def test_public_answer_subcommands_and_english_locale(world: World) -> None:
    async def answer(event: Event) -> list[Reply]:
        assert isinstance(event, CommandEvent)
        return [Reply(f"Registered for {event.options}"), Reply("Receipt", ephemeral=True)]

    app = App(answer)
    async with running(world, app, commands=COMMANDS):
        interaction = await world.fake.slash_command(
            world.bob,
            world.channel,
            "session",
            [{"name": "register", "type": 1, "options": [{"name": "id", "type": 4, "value": 7}]}],
            locale="en-US",
        )
        event = await app.next()
    assert isinstance(event, CommandEvent)
    assert event.name == "session register"
    assert event.options == {"id": 7}
    assert event.actor.locale == "en-US"
    assert event.actor.roles == frozenset({Role.MEMBER})
    public = world.fake.channel_messages(world.channel)
    assert [m.content for m in public] == ["Registered for {'id': 7}"]
    assert interaction.callbacks[0]["data"].get("flags", 0) & FLAG_EPHEMERAL == 0
    (followup,) = [world.fake.messages[i] for i in interaction.followup_ids]
    assert followup.content == "Receipt" and followup.ephemeral
    no_pings(world)


@pytest.mark.asyncio
async def test_slow_handler_defers_then_fills_the_deferred_answer(world: World) -> None:
    fake = world.fake

    async def answer(event: Event) -> list[Reply]:
        interaction = list(fake.interactions.values())[-1]
        await fake.wait_for(lambda: interaction.acknowledged, WAIT)  # the adapter deferred
        return [Reply("Export prêt", attachments=(Attachment("a.csv", "text/csv", b"a;b\n"),))]

    app = App(answer)
    async with running(world, app, defer_after=0.01):
        interaction = await fake.slash_command(world.alice, world.channel, "export")
        await app.next()
    assert interaction.callback_types == [5]
    original = fake.messages[interaction.original_message_id or 0]
    assert original.content == "Export prêt"
    assert not original.loading and not original.ephemeral
    assert original.files == {"a.csv": b"a;b\n"}
    assert fake.requests_to("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")
    assert app.errors == []


@pytest.mark.asyncio
async def test_private_answer_after_a_public_defer_replaces_the_thinking_message(
    world: World,
) -> None:
    fake = world.fake

    async def answer(event: Event) -> list[Reply]:
        interaction = list(fake.interactions.values())[-1]
        await fake.wait_for(lambda: interaction.acknowledged, WAIT)
        return [Reply("Pour vous seulement", ephemeral=True)]

    app = App(answer)
    async with running(world, app, defer_after=0.01):
        interaction = await fake.slash_command(world.alice, world.channel, "export")
        await app.next()
    original = fake.messages[interaction.original_message_id or 0]
    assert original.deleted
    (followup,) = [fake.messages[i] for i in interaction.followup_ids]
    assert followup.content == "Pour vous seulement" and followup.ephemeral
    assert app.errors == []


@pytest.mark.asyncio
async def test_button_click_after_a_restart_reaches_the_handler(world: World) -> None:
    fake = world.fake
    choices = (
        Choice("Oui", "poll:12:vote:1", ChoiceStyle.SUCCESS),
        Choice("Non", "poll:12:vote:2", ChoiceStyle.DANGER, emoji="👎"),
    )
    async with running(world, App()) as first:
        ref = await first.deliver(Reply("Café ?", choices=choices), place_of(world), "row-1")
    message = fake.messages[int(ref.message_id)]
    assert message.custom_ids() == [CUSTOM_ID_PREFIX + "poll:12:vote:1", "tis:poll:12:vote:2"]
    assert [b["style"] for b in message.components[0]["components"]] == [3, 4]

    async def answer(event: Event) -> list[Reply]:
        assert isinstance(event, ChoiceEvent) and event.ref is not None
        return [Reply("Café ? (1 vote)", choices=choices, edit=event.ref)]

    app = App(answer)
    async with running(world, app):  # a new discord.Client, nothing in memory
        interaction = await fake.click(world.bob, message, "tis:poll:12:vote:2")
        event = await app.next()
    assert isinstance(event, ChoiceEvent)
    assert event.action == "poll:12:vote:2"
    assert event.ref == ref
    assert event.actor.user_id == str(world.bob.id)
    assert interaction.callback_types == [7]  # UPDATE_MESSAGE: the clicked message is edited
    assert message.content == "Café ? (1 vote)" and message.edits == 1
    assert fake.identifies == 2
    no_pings(world)


@pytest.mark.asyncio
async def test_slow_click_edits_the_clicked_message_through_the_deferred_update(
    world: World,
) -> None:
    fake = world.fake
    choices = (Choice("Je viens", "session:4:register"),)

    async def answer(event: Event) -> list[Reply]:
        assert isinstance(event, ChoiceEvent)
        interaction = list(fake.interactions.values())[-1]
        await fake.wait_for(lambda: interaction.acknowledged, WAIT)  # deferred (type 6)
        return [Reply("Inscrit·e !", edit=event.ref)]

    app = App(answer)
    async with running(world, app, defer_after=0.01) as platform:
        ref = await platform.deliver(Reply("Atelier", choices=choices), place_of(world), "s:4")
        message = fake.messages[int(ref.message_id)]
        interaction = await fake.click(world.alice, message, "tis:session:4:register")
        await app.next()
    assert interaction.callback_types == [6]
    assert message.content == "Inscrit·e !" and message.components == []
    assert fake.requests_to("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")
    assert app.errors == []


@pytest.mark.asyncio
async def test_many_choices_become_a_select_menu(world: World) -> None:
    fake = world.fake
    choices = tuple(Choice(f"Créneau {i}", f"session:3:slot:{i}") for i in range(8))
    app = App()
    async with running(world, app) as platform:
        ref = await platform.deliver(Reply("Quand ?", choices=choices), place_of(world), "t-sel")
        message = fake.messages[int(ref.message_id)]
        (row,) = message.components
        (select,) = row["components"]
        assert select["type"] == 3
        assert [o["value"] for o in select["options"]] == [c.action for c in choices]
        interaction = await fake.select(
            world.alice, message, select["custom_id"], ["session:3:slot:5"]
        )
        event = await app.next()
        await interaction_answered(world, interaction)
    assert isinstance(event, ChoiceEvent)
    assert event.action == "session:3:slot:5"
    assert event.values == ("session:3:slot:5",)
    assert interaction.callback_types == [6]  # nothing to say: acknowledged silently


@pytest.mark.asyncio
async def test_twenty_five_buttons_in_rows_of_five_when_configured(world: World) -> None:
    choices = tuple(Choice(str(i), f"grade:{i}") for i in range(25))
    async with running(world, App(), settings={"max_buttons": 25}) as platform:
        ref = await platform.deliver(Reply("Notes", choices=choices), place_of(world), "t-25")
    message = world.fake.messages[int(ref.message_id)]
    assert [len(row["components"]) for row in message.components] == [5, 5, 5, 5, 5]


@pytest.mark.asyncio
async def test_an_action_too_long_for_a_custom_id_is_refused(world: World) -> None:
    async with running(world, App()) as platform:
        with pytest.raises(DeliveryError) as caught:
            await platform.deliver(
                Reply("x", choices=(Choice("x", "a" * 97),)), place_of(world), "t-long"
            )
    assert caught.value.permanent
    assert not world.fake.requests_to("POST", r"/channels/\d+/messages")


@pytest.mark.asyncio
async def test_autocomplete_calls_the_callback(world: World) -> None:
    calls: list[tuple[str, str, str, Actor]] = []

    async def suggest(
        command: str, option: str, partial: str, actor: Actor
    ) -> list[tuple[str, str]]:
        calls.append((command, option, partial, actor))
        return [(f"Sondage {n} : café", str(n)) for n in (12, 13)]

    app = App()
    async with running(world, app, commands=COMMANDS, autocomplete=suggest):
        interaction = await world.fake.autocomplete(world.alice, world.channel, "vote", "poll", "1")
        await interaction_answered(world, interaction)
    assert interaction.callback_types == [8]
    assert interaction.callbacks[0]["data"]["choices"] == [
        {"name": "Sondage 12 : café", "value": 12},
        {"name": "Sondage 13 : café", "value": 13},
    ]
    ((command, option, partial, actor),) = calls
    assert (command, option, partial) == ("vote", "poll", "1")
    assert actor.user_id == str(world.alice.id) and actor.locale == "fr"
    assert app.events.empty()


@pytest.mark.asyncio
async def test_reaction_becomes_a_reaction_event(world: World) -> None:
    fake = world.fake

    async def answer(event: Event) -> list[Reply]:
        return [Reply("Merci, c'est noté !", ephemeral=True)]

    app = App(answer)
    async with running(world, app) as platform:
        ref = await platform.deliver(Reply("Un beau moment"), place_of(world), "t-r")
        await fake.react(world.bob, fake.messages[int(ref.message_id)], "⭐")
        event = await app.next()
    assert isinstance(event, ReactionEvent)
    assert event.emoji == "⭐" and event.added
    assert event.ref == ref
    assert event.actor.user_id == str(world.bob.id)
    assert event.message_author is not None
    assert event.message_author.user_id == str(fake.bot.id)
    # No interaction to answer privately: the private reply goes by direct message.
    dm = fake.dm_channel_of(world.bob)
    assert dm is not None
    assert [m.content for m in fake.channel_messages(dm)] == ["Merci, c'est noté !"]


@pytest.mark.asyncio
async def test_prefix_commands_only_with_the_message_content_intent(world: World) -> None:
    fake = world.fake
    app = App()
    async with running(world, app):
        await fake.say(world.bob, world.channel, "!sondage Café ?")
        await fake.say(world.bob, fake.open_dm(world.bob), "bonjour")
        event = await app.next()
    assert isinstance(event, MessageEvent)  # only the direct message: no content otherwise
    assert event.text == "bonjour" and event.place.is_direct
    assert app.events.empty()

    fake.privileged_intents = INTENT_MESSAGE_CONTENT
    app = App()
    async with running(world, app, settings={"message_content_intent": True}):
        await fake.say(world.alice, world.channel, "!sondage Café ?")
        event = await app.next()
    assert isinstance(event, CommandEvent)
    assert event.text == "sondage Café ?" and event.name is None
    assert event.actor.is_coordinator


# --- delivery --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_deliver_twice_with_the_same_token_posts_once(world: World) -> None:
    fake = world.fake
    async with running(world, App()) as platform:
        first = await platform.deliver(Reply("Digest S12"), place_of(world), "digest:42")
        again = await platform.deliver(Reply("Digest S12"), place_of(world), "digest:42")
        other = await platform.deliver(Reply("Digest S13"), place_of(world), "digest:43")
    assert first == again != other
    assert [m.content for m in fake.channel_messages(world.channel)] == ["Digest S12", "Digest S13"]
    posts = fake.requests_to("POST", rf"/channels/{world.channel.id}/messages")
    assert len(posts) == 3
    nonce = message_nonce("digest:42")
    assert len(nonce) <= 25
    assert [p.json["nonce"] for p in posts[:2]] == [nonce, nonce]
    assert all(p.json["enforce_nonce"] is True for p in posts)
    no_pings(world)


@pytest.mark.asyncio
async def test_a_429_on_the_first_post_still_delivers_once(world: World) -> None:
    fake = world.fake
    fake.rate_limit_next("POST", r"/channels/\d+/messages", retry_after=0.05)
    async with running(world, App()) as platform:
        ref = await platform.deliver(Reply("Rappel"), place_of(world), "reminder:1")
    posts = fake.requests_to("POST", rf"/channels/{world.channel.id}/messages")
    assert [p.status for p in posts] == [429, 200]
    assert [m.id for m in fake.channel_messages(world.channel)] == [int(ref.message_id)]


@pytest.mark.asyncio
async def test_a_long_rate_limit_goes_back_to_the_outbox(world: World) -> None:
    fake = world.fake
    fake.rate_limit_next("POST", r"/channels/\d+/messages", retry_after=90.0)
    async with running(world, App()) as platform:
        with pytest.raises(DeliveryError) as caught:
            await platform.deliver(Reply("Rappel"), place_of(world), "reminder:2")
        assert caught.value.retry_after == 90.0 and not caught.value.permanent
        fake.fail_next("POST", r"/channels/\d+/messages", 503, 0, "Service Unavailable")
        with pytest.raises(DiscordDeliveryError) as server:
            await platform.deliver(Reply("Rappel"), place_of(world), "reminder:2")
        assert server.value.code == "unreachable" and server.value.reason == "server_error"
        assert not server.value.permanent
        ref = await platform.deliver(Reply("Rappel"), place_of(world), "reminder:2")
    assert [m.id for m in fake.channel_messages(world.channel)] == [int(ref.message_id)]


@pytest.mark.asyncio
async def test_closed_direct_messages_are_a_permanent_error(world: World) -> None:
    fake = world.fake
    fake.close_dms(world.bob)
    async with running(world, App()) as platform:
        with pytest.raises(DiscordDeliveryError) as caught:
            await platform.deliver(
                Reply("Rappel : atelier demain"), DirectTarget("discord", str(world.bob.id)), "dm:1"
            )
        ref = await platform.deliver(
            Reply("Rappel : atelier demain"), DirectTarget("discord", str(world.alice.id)), "dm:2"
        )
    assert isinstance(caught.value, DeliveryError)
    assert caught.value.permanent and caught.value.code == "dm_closed"
    assert caught.value.discord_code == 50007
    assert fake.requests_to("POST", "/users/@me/channels")
    dm = fake.dm_channel_of(world.alice)
    assert dm is not None and ref.channel_id == str(dm.id)
    assert [m.content for m in fake.channel_messages(dm)] == ["Rappel : atelier demain"]


@pytest.mark.asyncio
async def test_long_text_is_split_and_still_idempotent(world: World) -> None:
    text = "\n".join(f"- ligne {i} " + "x" * 60 for i in range(40))
    parts = split_text(text)
    assert len(parts) == 2 and all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts) == text
    async with running(world, App()) as platform:
        first = await platform.deliver(Reply(text), place_of(world), "gazette:1")
        again = await platform.deliver(Reply(text), place_of(world), "gazette:1")
    assert first == again
    assert [m.content for m in world.fake.channel_messages(world.channel)] == parts


# --- gateway resilience ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_gateway_drop_and_resume_replays_the_missed_interaction(world: World) -> None:
    fake = world.fake

    async def answer(event: Event) -> list[Reply]:
        return [Reply("Inscription confirmée", ephemeral=True)]

    app = App(answer)
    async with running(world, app, commands=COMMANDS):
        fake.hold_gateway()
        await fake.drop_gateway()
        interaction = await fake.slash_command(
            world.bob, world.channel, "session", [{"name": "register", "type": 1, "options": []}]
        )
        await fake.wait_for(lambda: len(fake.connection_paths) == 2, WAIT)
        fake.release_gateway()
        event = await app.next()
        await interaction_answered(world, interaction)
        session = fake.session()
        await fake.wait_for(lambda: session.sent[-1]["t"] == "RESUMED", WAIT)
    assert isinstance(event, CommandEvent) and event.name == "session register"
    assert fake.identifies == 1 and session.resumes == 1
    assert fake.connection_paths == ["/gateway", "/gateway-resume"]
    assert [p["t"] for p in session.replayed] == ["INTERACTION_CREATE"]
    assert interaction.callback_types == [4]


@pytest.mark.asyncio
async def test_reconnect_resumes_and_invalid_session_identifies_again(world: World) -> None:
    fake = world.fake
    app = App()
    async with running(world, app, reidentify_delay=0.01):
        await fake.request_reconnect()
        await fake.wait_for(lambda: fake.session().resumes == 1, WAIT)
        await fake.invalidate_sessions()
        await fake.wait_for(lambda: fake.identifies == 2, WAIT)
        await fake.say(world.bob, fake.open_dm(world.bob), "toujours là ?")
        event = await app.next()
    # After INVALID_SESSION, discord.py identifies again (a new session) on its last gateway URL.
    assert len(fake.sessions) == 2 and fake.connection_paths[:2] == ["/gateway", "/gateway-resume"]
    assert isinstance(event, MessageEvent) and event.text == "toujours là ?"


# --- attachments, edits, mentions ----------------------------------------------------------


@pytest.mark.asyncio
async def test_attachments_are_uploaded_as_files(world: World) -> None:
    fake = world.fake
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"

    async def answer(event: Event) -> list[Reply]:
        return [
            Reply("Votre agenda", attachments=(Attachment("atelier.ics", "text/calendar", ics),))
        ]

    app = App(answer)
    async with running(world, app) as platform:
        ref = await platform.deliver(
            Reply("Gazette", attachments=(Attachment("gazette.html", "text/html", b"<h1>G</h1>"),)),
            place_of(world),
            "gazette:7",
        )
        interaction = await fake.slash_command(world.bob, world.channel, "export")
        await app.next()
    posted = fake.messages[int(ref.message_id)]
    assert posted.files == {"gazette.html": b"<h1>G</h1>"}
    assert [a["filename"] for a in posted.attachments] == ["gazette.html"]
    (post,) = fake.requests_to("POST", rf"/channels/{world.channel.id}/messages")
    assert set(post.files) == {"files[0]"} and post.json["nonce"] == message_nonce("gazette:7")
    original = fake.messages[interaction.original_message_id or 0]
    assert original.files == {"atelier.ics": ics}
    no_pings(world)


@pytest.mark.asyncio
async def test_edits_of_the_bots_own_messages(world: World) -> None:
    fake = world.fake

    async def answer(event: Event) -> list[Reply]:
        return [Reply("Résultats : 0 vote", ephemeral=True)]

    app = App(answer)
    async with running(world, app) as platform:
        ref = await platform.deliver(
            Reply("Résultats : 0 vote", choices=(Choice("Voter", "poll:1:open"),)),
            place_of(world),
            "poll:1",
        )
        await platform.edit(ref, Reply("Résultats : 3 votes"))
        await fake.slash_command(world.alice, world.channel, "export")
        await app.next()
        private = app.refs[-1]
        assert private is not None
        await platform.edit(private, Reply("Résultats : 4 votes"))  # ephemeral: via the token
        with pytest.raises(DiscordDeliveryError) as caught:
            await platform.edit(MessageRef("discord", str(world.channel.id), "123"), Reply("x"))
    message = fake.messages[int(ref.message_id)]
    assert message.content == "Résultats : 3 votes" and message.edits == 1
    assert message.components == []
    assert fake.messages[int(private.message_id)].content == "Résultats : 4 votes"
    assert caught.value.code == "unknown_target" and caught.value.reason == "not_found"
    assert caught.value.permanent
    patches = fake.requests_to("PATCH", rf"/channels/{world.channel.id}/messages/{ref.message_id}")
    assert patches[0].json["allowed_mentions"] == {"parse": []}
    no_pings(world)


@pytest.mark.asyncio
async def test_mentions_only_when_the_reply_means_them(world: World) -> None:
    async with running(world, App()) as platform:
        await platform.deliver(
            Reply(f"<@{world.alice.id}> à vous !", mentions=True), place_of(world), "m:1"
        )
    (post,) = world.fake.requests_to("POST", rf"/channels/{world.channel.id}/messages")
    mentions = post.json["allowed_mentions"]
    assert "users" in mentions["parse"] and "everyone" not in mentions["parse"]


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_coordinator_roles_by_name_or_id(world: World) -> None:
    staff = world.fake.add_role(world.guild, "Équipe d'animation")
    world.fake.add_member(world.guild, world.bob, [staff])

    async def answer(event: Event) -> list[Reply]:
        return [Reply("ok", ephemeral=True)]

    app = App(answer)
    settings = {"coordinator_roles": ["equipe D'ANIMATION"]}
    async with running(world, app, settings=settings):
        await world.fake.slash_command(world.bob, world.channel, "export")
        by_name = await app.next()
        await world.fake.slash_command(world.alice, world.channel, "export")
        not_listed = await app.next()
    app = App(answer)
    async with running(world, app, settings={"coordinator_roles": [str(staff.id)]}):
        await world.fake.slash_command(world.bob, world.channel, "export")
        by_id = await app.next()
    assert by_name.actor.is_coordinator and by_id.actor.is_coordinator
    assert not not_listed.actor.is_coordinator


def test_settings_defaults_and_validation() -> None:
    settings = DiscordSettings()
    assert settings.api_base_url == "https://discord.com/api/v10"
    assert settings.gateway_url is None and settings.guild_ids == []
    assert settings.coordinator_roles == ["Coordination"]
    assert not settings.message_content_intent and settings.command_prefix == "!"
    with pytest.raises(ValueError, match="api_base_url"):
        DiscordSettings(api_base_url="discord.com")
    with pytest.raises(ValueError, match="gateway_url"):
        DiscordSettings(gateway_url="https://gateway.discord.gg")


@pytest.mark.asyncio
async def test_check_online(world: World) -> None:
    fake = world.fake
    good = DiscordSettings(
        api_base_url=fake.base_url, application_id=fake.application_id, guild_ids=[world.guild.id]
    )
    await check_online(good, TOKEN)

    with pytest.raises(ConfigError) as token:
        await check_online(good, "wrong")
    assert [k for k, _ in token.value.problems] == ["TISSERAND_DISCORD_TOKEN"]

    bad = DiscordSettings(
        api_base_url=fake.base_url,
        application_id=1,
        guild_ids=[world.guild.id, 2],
        message_content_intent=True,
    )
    with pytest.raises(ConfigError) as problems:
        await check_online(bad, TOKEN)
    assert [k for k, _ in problems.value.problems] == [
        "discord.application_id",
        "discord.guild_ids",
        "discord.message_content_intent",
    ]

    with pytest.raises(ConfigError) as unreachable:
        await check_online(DiscordSettings(api_base_url="http://127.0.0.1:9/api/v10"), TOKEN)
    assert unreachable.value.problems[0][0] == "discord.api_base_url"


# --- closed direct messages: the outbox's notice -----------------------------------------------

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _bot_messages(world: World, channel: FakeChannel) -> list[FakeMessage]:
    return [m for m in world.fake.channel_messages(channel) if m.author_id == world.fake.bot.id]


def _pinged(body: Any) -> list[str]:
    """The users a message request allows to be notified (and checks nothing else is)."""
    mentions = body["allowed_mentions"]
    assert mentions["parse"] == [], mentions
    assert not mentions.get("roles") and not mentions.get("replied_user"), mentions
    return [str(user) for user in mentions.get("users", [])]


@pytest.mark.asyncio
async def test_closed_direct_messages_end_failed_and_one_notice_pings_only_that_member(
    world: World, engine: Engine
) -> None:
    fake = world.fake
    fake.close_dms(world.bob)
    bob, channel = str(world.bob.id), str(world.channel.id)
    with Session(engine) as db:
        for key, text in (
            ("session:4:reminder:9:24h", "Rappel : atelier demain à 9h, salle 12"),
            ("consent:3", "Puis-je publier « 300 arbres » dans la gazette ?"),
        ):
            enqueue(
                db,
                key=key,
                reply=Reply(text),
                target=DirectTarget("discord", bob, fallback_channel_id=channel),
                due_at=START,
                now=START,
            )
        db.commit()
    translators = Translators(ZoneInfo("Europe/Paris"), default_locale="en")
    async with running(world, App()) as platform:
        sender = Sender(
            make_session_factory(engine),
            {"discord": platform},
            FrozenClock(START),
            translators=translators,
        )
        report = await sender.deliver_due()
    assert (report.failed, report.notices, report.sent, report.retried) == (2, 1, 1, 0)
    with Session(engine) as db:
        rows = {r.key: r for r in db.scalars(select(OutboxMessage))}
    for key in ("session:4:reminder:9:24h", "consent:3"):
        assert rows[key].status == OutboxStatus.FAILED and rows[key].attempts == 1
        assert "direct messages closed" in (rows[key].last_error or "")
        assert "(code 50007)" in (rows[key].last_error or "")
    assert f"notice queued in channel {channel}" in (
        rows["session:4:reminder:9:24h"].last_error or ""
    )
    assert "already told today" in (rows["consent:3"].last_error or "")
    # Discord was asked for both direct messages and refused them with 50007.
    dm = fake.dm_channel_of(world.bob)
    assert dm is not None
    assert [r.status for r in fake.requests_to("POST", rf"/channels/{dm.id}/messages")] == [403] * 2
    assert fake.channel_messages(dm) == []
    # One notice in the channel, naming the member, saying what about and how, never what.
    [notice] = _bot_messages(world, world.channel)
    assert notice.content.startswith(f"<@{bob}> I could not send you a private message (")
    assert "(a reminder of a session you registered for)" in notice.content
    assert notice.content.endswith(translators.get("en").gettext(DiscordPlatform.open_dm_help))
    assert "salle 12" not in notice.content and "arbres" not in notice.content
    [post] = fake.requests_to("POST", rf"/channels/{channel}/messages")
    assert _pinged(post.json) == [bob]
    assert post.json["nonce"]  # still idempotent, like every outbox message


@pytest.mark.asyncio
async def test_a_ping_lists_its_users_and_nothing_else(world: World) -> None:
    async with running(world, App()) as platform:
        ref = await platform.deliver(
            Reply(
                f"<@{world.bob.id}> à vous ! (et pas <@{world.alice.id}>, ni @everyone)",
                ping=(Mention(str(world.bob.id), "bob"),),
            ),
            place_of(world),
            "ping:1",
        )
        await platform.edit(
            ref, Reply(f"<@{world.bob.id}> c'est fait", ping=(Mention(str(world.bob.id), "bob"),))
        )
    (post,) = world.fake.requests_to("POST", rf"/channels/{world.channel.id}/messages")
    assert _pinged(post.json) == [str(world.bob.id)]
    (patch,) = world.fake.requests_to("PATCH", rf"/channels/{world.channel.id}/messages/\d+")
    assert _pinged(patch.json) == [str(world.bob.id)]


# --- with the real app: the gazette's context menu, reactions, closed DMs --------------------

T = TypeVar("T")


class TracedApp(Tisserand):
    """The real app, counting the events it finished handling (answers sent)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handled = 0
        self._progress = asyncio.Condition()

    async def handle(self, event: Event) -> None:
        try:
            await super().handle(event)
        finally:
            async with self._progress:
                self.handled += 1
                self._progress.notify_all()

    async def after(self, act: Awaitable[T]) -> T:
        """Do ``act`` (what someone does in the chat) and wait until its event was handled."""
        before = self.handled
        result = await act

        async def handled() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self.handled > before)

        await asyncio.wait_for(handled(), WAIT)
        return result


def _png() -> bytes:
    """A 1x1 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x2e\x8b\x57")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@contextlib.asynccontextmanager
async def tisserand(
    world: World,
    database: Database,
    tmp_path: Path,
    clock: MovableClock,
    *,
    settings: dict[str, Any] | None = None,
) -> AsyncIterator[TracedApp]:
    config = load_settings(
        None,
        database_url=database.url,
        environ={},
        overrides={"data_dir": str(tmp_path / "data"), "feeds": {"allow_private_networks": True}},
    )
    app = TracedApp(config, clock=clock, families=FAMILIES)
    app.add_platform(
        DiscordPlatform(
            DiscordSettings(api_base_url=world.fake.base_url, **(settings or {})),
            TOKEN,
            commands=application_commands(app.registry, app.translators),
            autocomplete=app.autocomplete,
            clock=clock,
            guild_ready_timeout=0.02,
        )
    )
    await app.start(with_scheduler=False)
    try:
        yield app
    finally:
        await app.stop()


def _highlights(app: Tisserand) -> list[tuple[Highlight, Member | None]]:
    with Session(app.engine) as db:
        rows = db.scalars(select(Highlight).order_by(Highlight.id)).all()
        return [(row, db.get(Member, row.author_id) if row.author_id else None) for row in rows]


def _outbox(app: Tisserand) -> dict[str, OutboxMessage]:
    with Session(app.engine) as db:
        return {r.key: r for r in db.scalars(select(OutboxMessage))}


def _answer(world: World, interaction: FakeInteraction) -> FakeMessage:
    """The interaction's answer: its original response (or its only follow-up)."""
    ids = [interaction.original_message_id, *interaction.followup_ids]
    answers = [world.fake.messages[i] for i in ids if i is not None]
    shown = [m for m in answers if not m.deleted and not m.loading]
    assert len(shown) == 1, [m.content for m in answers]
    return shown[0]


@pytest.mark.asyncio
async def test_the_gazette_menu_records_the_message_as_a_highlight(
    world: World, database: Database, tmp_path: Path
) -> None:
    fake = world.fake
    image = _png()
    said = await fake.say(
        world.bob, world.channel, "On a planté 300 arbres !", files={"arbres.png": image}
    )
    async with tisserand(world, database, tmp_path, MovableClock(START)) as app:
        # The menu is registered with the other commands, in French too.
        [menu] = [c for c in fake.commands[None] if c["type"] == 3]
        assert (menu["name"], menu["name_localizations"]) == (
            "Add to gazette",
            {"fr": "Ajouter à la gazette"},
        )
        assert menu["description"] == "" and menu["default_member_permissions"] is None
        interaction = await app.after(fake.message_command(world.alice, said, "Add to gazette"))
        answer = _answer(world, interaction)
        [(row, author)] = _highlights(app)
        outbox = _outbox(app)
    assert answer.ephemeral and answer.ephemeral_to == world.alice.id
    assert "n° 1" in answer.content
    assert (row.quote, row.message_id, row.channel_id, row.source) == (
        "On a planté 300 arbres !",
        str(said.id),
        str(world.channel.id),
        HighlightSource.MENU,
    )
    assert author is not None and author.user_id == str(world.bob.id)
    assert author.display_name == "bob"  # the message author's name, not their numeric id
    assert row.link is not None and row.link.endswith(f"/{world.channel.id}/{said.id}")
    # When bob said it (the fake's real clock), not when the menu was used (the app's clock).
    assert abs(row.said_at - said.created_at) < timedelta(seconds=1)
    assert row.said_at != START
    assert [img.data for img in row.images] == [image]  # downloaded from the message's file
    # The author is asked by direct message, with the consent buttons.
    consent = outbox[f"consent:{row.id}"]
    assert consent.status == OutboxStatus.SENT
    assert consent.payload["fallback_channel_id"] == str(world.channel.id)
    dm = fake.dm_channel_of(world.bob)
    assert dm is not None
    [question] = fake.channel_messages(dm)
    assert f"tis:consent:{row.id}:yes" in question.custom_ids()
    assert _bot_messages(world, world.channel) == []  # nothing public
    no_pings(world)


@pytest.mark.asyncio
async def test_the_gazette_menu_when_the_authors_dms_are_closed(
    world: World, database: Database, tmp_path: Path
) -> None:
    fake = world.fake
    fake.close_dms(world.bob)
    clock = MovableClock(START)
    first = await fake.say(world.bob, world.channel, "La fresque du climat a réuni 40 élus")
    second = await fake.say(world.bob, world.channel, "Et 12 communes ont signé la charte")
    async with tisserand(world, database, tmp_path, clock) as app:
        for message in (first, second):
            interaction = await app.after(
                fake.message_command(world.alice, message, "Add to gazette", locale="en-US")
            )
            assert _answer(world, interaction).ephemeral
        assert len(_highlights(app)) == 2
        outbox = _outbox(app)
        # The next day, a third refusal tells the member again.
        clock.advance(timedelta(days=1))
        third = await fake.say(world.bob, world.channel, "Le marché bio ouvre samedi")
        await app.after(fake.message_command(world.alice, third, "Add to gazette"))
        later = _outbox(app)
    for key in ("consent:1", "consent:2"):
        assert outbox[key].status == OutboxStatus.FAILED
        assert "direct messages closed" in (outbox[key].last_error or "")
    assert "notice queued" in (outbox["consent:1"].last_error or "")
    assert "already told today" in (outbox["consent:2"].last_error or "")
    assert later["consent:3"].status == OutboxStatus.FAILED
    assert "notice queued" in (later["consent:3"].last_error or "")
    notices = _bot_messages(world, world.channel)
    assert len(notices) == 2
    for notice in notices:
        assert notice.content.startswith(f"<@{world.bob.id}> ")
        assert "40 élus" not in notice.content and "charte" not in notice.content
        assert _pinged({"allowed_mentions": notice.allowed_mentions}) == [str(world.bob.id)]
    assert sorted(k for k in later if k.startswith("dm-closed:")) == [
        f"dm-closed:discord:{world.bob.id}:2026-11-23",
        f"dm-closed:discord:{world.bob.id}:2026-11-24",
    ]


@pytest.mark.asyncio
async def test_a_member_using_the_menu_proposes_the_message(
    world: World, database: Database, tmp_path: Path
) -> None:
    fake = world.fake
    said = await fake.say(world.alice, world.channel, "Bravo à toutes les communes !")
    async with tisserand(world, database, tmp_path, MovableClock(START)) as app:
        interaction = await app.after(fake.message_command(world.bob, said, "Add to gazette"))
        answer = _answer(world, interaction)
        assert _highlights(app) == []
    assert answer.ephemeral and "(1" in answer.content  # one proposal of the threshold
    assert fake.dm_channel_of(world.alice) is None  # nobody asked yet


@pytest.mark.asyncio
async def test_the_gazette_reaction_records_a_message_read_with_the_content_intent(
    world: World, database: Database, tmp_path: Path
) -> None:
    fake = world.fake
    fake.privileged_intents = INTENT_MESSAGE_CONTENT
    clock = MovableClock(START)
    settings = {"message_content_intent": True}
    async with tisserand(world, database, tmp_path, clock, settings=settings) as app:
        said = await app.after(fake.say(world.bob, world.channel, "40 élus à la fresque !"))
        await app.after(fake.react(world.alice, said, "📰"))
        [(row, author)] = _highlights(app)
    assert (row.quote, row.message_id, row.source) == (
        "40 élus à la fresque !",
        str(said.id),
        HighlightSource.REACTION,
    )
    assert author is not None and (author.user_id, author.display_name) == (
        str(world.bob.id),
        "bob",
    )
    # The coordinator who reacted is told privately (no interaction: a direct message).
    alice_dm = fake.dm_channel_of(world.alice)
    assert alice_dm is not None
    assert any("n° 1" in m.content for m in fake.channel_messages(alice_dm))


@pytest.mark.asyncio
async def test_the_gazette_reaction_without_the_message_text_says_how_to_record_it(
    world: World, database: Database, tmp_path: Path
) -> None:
    fake = world.fake
    said = await fake.say(world.bob, world.channel, "Un message que le bot ne lit pas")
    async with tisserand(world, database, tmp_path, MovableClock(START)) as app:
        await app.after(fake.react(world.alice, said, "📰"))
        assert _highlights(app) == []
    alice_dm = fake.dm_channel_of(world.alice)
    assert alice_dm is not None
    [refusal] = fake.channel_messages(alice_dm)
    assert "/pepite" in refusal.content


@pytest.mark.asyncio
async def test_a_reaction_names_the_author_of_the_message_even_out_of_cache(world: World) -> None:
    fake = world.fake
    carole = fake.add_user("carole", global_name="Carole Dupont")  # not in discord.py's cache
    said = await fake.say(carole, world.channel, "Merci pour l'atelier")
    app = App()
    async with running(world, app):
        await fake.react(world.bob, said, "📰")
        event = await app.next()
    assert isinstance(event, ReactionEvent)
    assert event.emoji == "📰" and event.added
    assert event.ref == MessageRef("discord", str(world.channel.id), str(said.id))
    assert event.message_author is not None
    assert (event.message_author.user_id, event.message_author.display_name) == (
        str(carole.id),
        "Carole Dupont",
    )
    assert fake.requests_to("GET", rf"/users/{carole.id}")
    assert not event.place.is_direct and event.actor.user_id == str(world.bob.id)


@pytest.mark.asyncio
async def test_the_menu_interaction_becomes_the_highlight_command(world: World) -> None:
    fake = world.fake
    commands = [
        *COMMANDS,
        {"type": 3, "name": "Add to gazette", "name_localizations": {"fr": "Ajouter à la gazette"}},
    ]
    said = await fake.say(
        world.bob, world.channel, "Le compost collectif", files={"compost.png": _png()}
    )

    async def answer(event: Event) -> list[Reply]:
        return [Reply("Noté", ephemeral=True)]

    app = App(answer)
    async with running(world, app, commands=commands):
        interaction = await fake.message_command(world.alice, said, "Add to gazette")
        event = await app.next()
        await interaction_answered(world, interaction)
    assert isinstance(event, CommandEvent)
    assert event.name == "highlight" and event.text == ""
    assert event.ref == MessageRef("discord", str(world.channel.id), str(said.id))
    options = event.options or {}
    [url] = options["message_images"]
    assert url.startswith(fake.root_url) and url.endswith("/compost.png")
    assert options == {
        "target_id": str(said.id),
        "message_text": "Le compost collectif",
        "message_author_id": str(world.bob.id),
        "message_author_name": "bob",
        "message_channel_id": str(world.channel.id),
        "message_link": (
            f"https://discord.com/channels/{world.guild.id}/{world.channel.id}/{said.id}"
        ),
        "message_at": options["message_at"],
        "message_images": [url],
        "image": url,
    }
    assert datetime.fromisoformat(options["message_at"]).tzinfo is not None
    assert interaction.callbacks[0]["data"]["flags"] & FLAG_EPHEMERAL
    # Registered once: a second start with the same payload does not sync again.
    async with running(world, App(), commands=commands):
        pass
    assert len(fake.requests_to("PUT", rf"/applications/{fake.application_id}/commands")) == 1
