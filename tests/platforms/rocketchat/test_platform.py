"""The Rocket.Chat platform end to end: the real ``rocketchat_API`` client and our DDP client
against the fake server (tests/fakes/rocketchat/) over loopback sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from bot.clock import FrozenClock
from bot.core import (
    Attachment,
    Choice,
    ChoiceEvent,
    CommandEvent,
    ConfigError,
    DeliveryError,
    DirectTarget,
    Event,
    Mention,
    MessageEvent,
    PlaceTarget,
    ReactionEvent,
    Reply,
    TextPrompt,
)
from bot.platforms.rocketchat import RocketChatPlatform, RocketChatSettings, check_online
from bot.platforms.rocketchat.delivery import message_id_for, split_text
from bot.platforms.rocketchat.markdown import ZWJ, neutralize_mass_mentions, to_rocketchat
from bot.platforms.rocketchat.realtime import websocket_url
from tests.bot.test_mentions import rocketchat_mass_mentions, rocketchat_reads
from tests.fakes.rocketchat import FakeRocketChat, FakeRoom

BOT = "tisserand"
PASSWORD = "s3cret"


class Recorder:
    """The event handler: records events and lets tests wait for them."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait(self, count: int, within: float = 5.0) -> list[Event]:
        async def _loop() -> list[Event]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.events) >= count)
                return list(self.events)

        return await asyncio.wait_for(_loop(), within)

    def texts(self) -> list[str]:
        out = []
        for event in self.events:
            if isinstance(event, CommandEvent):
                out.append(f"cmd:{event.text}")
            elif isinstance(event, MessageEvent):
                out.append(f"msg:{event.text}")
            elif isinstance(event, ChoiceEvent):
                out.append(f"choice:{event.action}")
            elif isinstance(event, ReactionEvent):
                out.append(f"reaction:{event.emoji}:{event.added}")
        return out


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeRocketChat]:
    server = FakeRocketChat(full_user_info_roles=("admin", "bot"))
    await server.start()
    server.add_user(BOT, password=PASSWORD, name="Tisserand", roles=("user", "bot"), bot=True)
    server.add_user("alice", password="a", name="Alice")
    server.add_user("bob", password="b", name="Bob")
    server.add_user("camille", password="c", name="Camille", roles=("user", "coordinator"))
    server.add_user("robot", password="r", name="Robot", roles=("bot",), bot=True)
    server.add_room("general", members=[BOT, "alice", "bob", "camille", "robot"])
    server.add_room("bureau", members=[BOT, "camille"], private=True)
    server.add_room("ailleurs", members=["alice"])
    try:
        yield server
    finally:
        await server.close()


Factory = Callable[..., Awaitable[tuple[RocketChatPlatform, Recorder]]]


@pytest_asyncio.fixture
async def connect(fake: FakeRocketChat) -> AsyncIterator[Factory]:
    started: list[RocketChatPlatform] = []

    async def _connect(**options: Any) -> tuple[RocketChatPlatform, Recorder]:
        settings_options = {
            k: options.pop(k)
            for k in list(options)
            if k in RocketChatSettings.model_fields and k not in ("server_url", "username")
        }
        settings = RocketChatSettings(server_url=fake.url, username=BOT, **settings_options)
        if "token" not in options:
            options.setdefault("password", PASSWORD)
        options.setdefault("reconnect_min", 0.05)
        options.setdefault("reconnect_max", 0.2)
        platform = RocketChatPlatform(settings, **options)
        recorder = Recorder()
        await platform.start(recorder)
        started.append(platform)
        return platform, recorder

    yield _connect
    for platform in started:
        await platform.stop()


def general(fake: FakeRocketChat) -> FakeRoom:
    return fake.room("general")


# --- connection -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_login_with_password_then_with_personal_access_token(
    fake: FakeRocketChat, connect: Factory
) -> None:
    with_password, first = await connect()
    token = fake.personal_access_token(BOT)
    with_token, second = await connect(token=token, user_id=fake.user(BOT).id)
    assert with_password.user_id == with_token.user_id == fake.user(BOT).id

    fake.say("alice", general(fake), "!aide")
    await first.wait(1)
    await second.wait(1)
    assert first.texts() == second.texts() == ["cmd:aide"]
    assert fake.ddp_logins == 2


@pytest.mark.asyncio
async def test_refused_password_is_a_config_error(fake: FakeRocketChat, connect: Factory) -> None:
    with pytest.raises(ConfigError) as caught:
        await connect(password="wrong")
    assert caught.value.problems[0][0] == "TISSERAND_ROCKETCHAT_PASSWORD"


@pytest.mark.asyncio
async def test_server_pings_are_answered(connect: Factory) -> None:
    server = FakeRocketChat(ddp_ping_interval=0.05)
    await server.start()
    try:
        server.add_user(BOT, password=PASSWORD, roles=("bot",), bot=True)
        settings = RocketChatSettings(server_url=server.url, username=BOT)
        platform = RocketChatPlatform(settings, password=PASSWORD)
        await platform.start(Recorder())
        try:
            await server.wait_for(lambda: server.pongs_received >= 4, within=5)
            assert server.ddp_connections_opened == 1  # never dropped for a missing pong
        finally:
            await platform.stop()
    finally:
        await server.close()


@pytest.mark.asyncio
async def test_a_skewed_clock_loses_no_first_message(
    fake: FakeRocketChat, connect: Factory
) -> None:
    """The bot's clock runs 30 s ahead of the server's: corrected from the HTTP Date header."""
    _, recorder = await connect(wall_time=lambda: time.time() + 30)
    fake.say("alice", general(fake), "!aide")
    await recorder.wait(1)
    assert recorder.texts() == ["cmd:aide"]


# --- incoming -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_prefix_mention_and_direct_message_are_commands(
    fake: FakeRocketChat, connect: Factory
) -> None:
    _, recorder = await connect()
    room = general(fake)
    dm = fake.direct_room("alice", BOT)
    fake.say("alice", room, '!sondage "Quand ?" mardi jeudi')
    fake.say("alice", room, "@tisserand aide sondage")
    fake.say("alice", room, "@Tisserand: !aide")
    fake.say("alice", dm, "aide")
    fake.say("alice", room, "bonjour à tous")
    fake.say("camille", fake.room("bureau"), "!clore 3")
    events = await recorder.wait(6)
    assert recorder.texts() == [
        'cmd:sondage "Quand ?" mardi jeudi',
        "cmd:aide sondage",
        "cmd:aide",
        "cmd:aide",
        "msg:bonjour à tous",
        "cmd:clore 3",
    ]
    assert events[3].place.is_direct and not events[0].place.is_direct
    assert events[0].place.name == "general"
    assert events[0].actor.display_name == "Alice"
    assert not events[0].actor.is_coordinator
    assert events[5].actor.is_coordinator  # role "coordinator"
    assert events[5].place.name == "bureau"


@pytest.mark.asyncio
async def test_own_messages_and_other_bots_are_ignored(
    fake: FakeRocketChat, connect: Factory
) -> None:
    _, recorder = await connect()
    room = general(fake)
    fake.say(BOT, room, "!aide")
    fake.say("robot", room, "!aide")
    fake.say("alice", room, "!aide", bot_field={"i": "integration"})
    fake.say("alice", room, "!fin")
    await recorder.wait(1)
    fake.say("bob", room, "!encore")  # processed in order: nothing else came before
    await recorder.wait(2)
    assert recorder.texts() == ["cmd:fin", "cmd:encore"]


@pytest.mark.asyncio
async def test_channels_setting_limits_listening_and_joins(
    fake: FakeRocketChat, connect: Factory
) -> None:
    fake.add_room("veille", members=["alice"])
    _, recorder = await connect(channels=["#veille"])
    assert fake.user(BOT).id in fake.room("veille").members  # joined
    fake.say("alice", general(fake), "!ignored")
    fake.say("alice", fake.room("veille"), "!lu")
    fake.say("alice", fake.direct_room("alice", BOT), "direct")
    await recorder.wait(2)
    fake.say("alice", fake.room("veille"), "!fin")
    await recorder.wait(3)
    assert recorder.texts() == ["cmd:lu", "cmd:direct", "cmd:fin"]


@pytest.mark.asyncio
async def test_an_edited_message_never_runs_twice(fake: FakeRocketChat, connect: Factory) -> None:
    _, recorder = await connect()
    room = general(fake)
    said = fake.say("alice", room, "!aide")
    await recorder.wait(1)
    fake.edit("alice", said["_id"], "!aide sondage")
    fake.react("bob", said["_id"], ":thumbsup:")
    fake.say("alice", room, "!fin")
    await recorder.wait(3)
    assert recorder.texts() == ["cmd:aide", "reaction::thumbsup::True", "cmd:fin"]


@pytest.mark.asyncio
async def test_old_message_edited_after_start_does_not_run(
    fake: FakeRocketChat, connect: Factory
) -> None:
    room = general(fake)
    old = fake.say("alice", room, "!aide")
    fake.messages[old["_id"]]["ts"] -= 60_000  # said a minute before the bot started
    _, recorder = await connect()
    fake.edit("alice", old["_id"], "!aide encore")
    fake.say("alice", room, "!fin")
    await recorder.wait(1)
    assert recorder.texts() == ["cmd:fin"]


# --- choices -----------------------------------------------------------------------------------


POLL = Reply(
    "**Quand** se retrouver ?",
    choices=(Choice("Mardi", "poll:1:vote:1"), Choice("Jeudi", "poll:1:vote:2")),
)


@pytest.mark.asyncio
async def test_choices_by_reaction_and_by_button_even_after_a_restart(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, recorder = await connect()
    room = general(fake)
    fake.say("camille", room, "!sondage")
    (command,) = await recorder.wait(1)
    ref = await platform.respond(command, POLL)
    assert ref is not None
    posted = fake.messages_by(BOT)[0]
    assert posted["_id"] == ref.message_id
    assert posted["msg"] == "*Quand* se retrouver ?\n\n:one: Mardi\n:two: Jeudi"
    buttons = posted["attachments"][0]["actions"]
    assert [b["msg"] for b in buttons] == ["!choix poll:1:vote:1", "!choix poll:1:vote:2"]
    assert all(b["type"] == "button" and b["msg_in_chat_window"] for b in buttons)
    await fake.wait_for(
        lambda: set(fake.messages[ref.message_id].get("reactions", {})) == {":one:", ":two:"}
    )

    fake.react("alice", ref.message_id, ":two:")
    fake.say("bob", room, buttons[0]["msg"])  # what a click on the first button posts
    events = await recorder.wait(3)
    assert recorder.texts()[1:] == ["choice:poll:1:vote:2", "choice:poll:1:vote:1"]
    assert events[1].actor.display_name == "Alice"
    assert isinstance(events[1], ChoiceEvent) and events[1].ref == ref
    assert events[2].actor.display_name == "Bob"

    # A new process knows nothing of that message: the action is read back from the message.
    await platform.stop()
    _, fresh = await connect()
    fake.react("bob", ref.message_id, ":one:")
    await fresh.wait(1)
    by_bob = [e for e in fresh.events if e.actor.display_name == "Bob"]
    assert [e.action for e in by_bob if isinstance(e, ChoiceEvent)] == ["poll:1:vote:1"]


@pytest.mark.asyncio
async def test_reaction_removed_and_non_choice_reactions(
    fake: FakeRocketChat, connect: Factory
) -> None:
    _, recorder = await connect()
    said = fake.say("alice", general(fake), "Un beau projet à Lyon")
    await recorder.wait(1)
    fake.react("bob", said["_id"], ":star:")
    fake.react("bob", said["_id"], ":star:", add=False)
    events = await recorder.wait(3)
    assert recorder.texts() == [
        "msg:Un beau projet à Lyon",
        "reaction::star::True",
        "reaction::star::False",
    ]
    reaction = events[1]
    assert isinstance(reaction, ReactionEvent)
    assert reaction.message_author is not None and reaction.message_author.display_name == "Alice"
    assert reaction.message_text == "Un beau projet à Lyon"


@pytest.mark.asyncio
async def test_a_choice_that_asks_for_text_is_left_out(
    fake: FakeRocketChat, connect: Factory
) -> None:
    """No form on Rocket.Chat: the text comes in a direct reply, the other choices stay."""
    platform, _ = await connect()
    target = PlaceTarget("rocketchat", general(fake).id)
    question = Reply(
        "**Une proposition ?**",
        choices=(
            Choice("Répondre", "survey:1:q:0:t", asks_text=TextPrompt("Une proposition ?")),
            Choice("Passer", "survey:1:q:0:skip"),
        ),
    )
    await platform.deliver(question, target, "survey:1:q:0")
    (posted,) = fake.messages_by(BOT)
    assert posted["msg"] == "*Une proposition ?*\n\n:one: Passer"
    buttons = posted["attachments"][0]["actions"]
    assert [b["msg"] for b in buttons] == ["!choix survey:1:q:0:skip"]


# --- outgoing ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_deliver_with_the_same_token_posts_once(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, _ = await connect()
    target = PlaceTarget("rocketchat", general(fake).id)
    first = await platform.deliver(Reply("Digest de la semaine"), target, "digest:general:2025-W10")
    again = await platform.deliver(Reply("Digest de la semaine"), target, "digest:general:2025-W10")
    assert first == again
    assert first.message_id == message_id_for("digest:general:2025-W10")
    assert [m["msg"] for m in fake.messages_by(BOT)] == ["Digest de la semaine"]
    assert fake.statuses[("chat.sendMessage", 400)] == 1  # the server refused the duplicate _id
    assert platform.stats.duplicates_avoided == 1


@pytest.mark.asyncio
async def test_a_lost_answer_then_a_retry_posts_once(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, _ = await connect()
    target = PlaceTarget("rocketchat", general(fake).id)
    fake.fail_next("chat.sendMessage", status=502, processed=True)
    with pytest.raises(DeliveryError) as caught:
        await platform.deliver(Reply("Rappel"), target, "reminder:7")
    assert not caught.value.permanent
    ref = await platform.deliver(Reply("Rappel"), target, "reminder:7")
    assert [m["_id"] for m in fake.messages_by(BOT)] == [ref.message_id]


@pytest.mark.asyncio
async def test_a_429_storm_delivers_every_message_once(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, _ = await connect()
    target = PlaceTarget("rocketchat", general(fake).id)
    fake.fail_next("chat.sendMessage", 5, status=429)
    refs = await asyncio.gather(
        *(platform.deliver(Reply(f"message {i}"), target, f"storm:{i}") for i in range(4))
    )
    assert len({r.message_id for r in refs}) == 4
    assert sorted(m["msg"] for m in fake.messages_by(BOT)) == [f"message {i}" for i in range(4)]
    assert fake.statuses[("chat.sendMessage", 429)] == 5
    assert platform.stats.rate_limited == 5


@pytest.mark.asyncio
async def test_a_long_rate_limit_gives_retry_after(fake: FakeRocketChat, connect: Factory) -> None:
    fake.forced_reset_ms = 3_000
    platform, _ = await connect(rate_limit_max_wait=0.5)
    fake.fail_next("chat.sendMessage", 1, status=429)
    with pytest.raises(DeliveryError) as caught:
        await platform.deliver(Reply("plus tard"), PlaceTarget("rocketchat", general(fake).id), "t")
    assert caught.value.retry_after is not None and 1.0 < caught.value.retry_after <= 3.0
    assert fake.messages_by(BOT) == []


@pytest.mark.asyncio
async def test_server_default_limiter_is_honoured(connect: Factory) -> None:
    """A bot without the bot role meets the server's limiter; it waits for X-RateLimit-Reset."""
    server = FakeRocketChat(rate_limit_calls=3, rate_limit_window_ms=300)
    await server.start()
    try:
        server.add_user(BOT, password=PASSWORD)
        room = server.add_room("general", members=[BOT])
        platform = RocketChatPlatform(
            RocketChatSettings(server_url=server.url, username=BOT, messages_per_second=100),
            password=PASSWORD,
        )
        await platform.start(Recorder())
        try:
            target = PlaceTarget("rocketchat", room.id)
            for i in range(7):
                await platform.deliver(Reply(f"n{i}"), target, f"lim:{i}")
            assert [m["msg"] for m in server.messages_by(BOT)] == [f"n{i}" for i in range(7)]
            assert server.statuses[("chat.sendMessage", 429)] >= 1
            assert platform.stats.rate_limited == server.statuses[("chat.sendMessage", 429)]
        finally:
            await platform.stop()
    finally:
        await server.close()


@pytest.mark.asyncio
async def test_a_500_is_a_delivery_error(fake: FakeRocketChat, connect: Factory) -> None:
    platform, _ = await connect()
    fake.fail_next("chat.sendMessage", status=500)
    with pytest.raises(DeliveryError) as caught:
        await platform.deliver(Reply("x"), PlaceTarget("rocketchat", general(fake).id), "t500")
    assert not caught.value.permanent and caught.value.retry_after is None
    assert fake.messages_by(BOT) == []


@pytest.mark.asyncio
async def test_unknown_room_is_a_permanent_delivery_error(connect: Factory) -> None:
    platform, _ = await connect()
    with pytest.raises(DeliveryError) as caught:
        await platform.deliver(Reply("x"), PlaceTarget("rocketchat", "nope"), "t-nope")
    assert caught.value.permanent


@pytest.mark.asyncio
async def test_attachments_are_uploaded_once(fake: FakeRocketChat, connect: Factory) -> None:
    platform, _ = await connect()
    files = (
        Attachment("atelier.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
        Attachment("inscrits.csv", "text/csv", b"nom;structure\r\nAlice;Lyon\r\n"),
        Attachment("gazette.html", "text/html", b"<h1>Gazette</h1>"),
    )
    target = PlaceTarget("rocketchat", general(fake).id)
    await platform.deliver(Reply("Les fichiers", attachments=files), target, "files:1")
    await platform.deliver(Reply("Les fichiers", attachments=files), target, "files:1")
    uploaded = {u.name: (u.media_type, u.data, u.confirmed) for u in fake.uploads.values()}
    assert uploaded == {f.filename: (f.media_type, f.data, True) for f in files}
    posted = fake.messages_by(BOT)
    assert [m["msg"] for m in posted] == ["Les fichiers", "", "", ""]
    assert [m["file"]["name"] for m in posted[1:]] == [f.filename for f in files]


@pytest.mark.asyncio
async def test_uploads_fall_back_to_rooms_upload(connect: Factory) -> None:
    server = FakeRocketChat(media_endpoints=False)
    await server.start()
    try:
        server.add_user(BOT, password=PASSWORD, roles=("bot",), bot=True)
        room = server.add_room("general", members=[BOT])
        platform = RocketChatPlatform(
            RocketChatSettings(server_url=server.url, username=BOT), password=PASSWORD
        )
        await platform.start(Recorder())
        try:
            reply = Reply("ics", attachments=(Attachment("a.ics", "text/calendar", b"X"),))
            await platform.deliver(reply, PlaceTarget("rocketchat", room.id), "legacy")
            assert [u.name for u in server.uploads.values()] == ["a.ics"]
            assert server.requests["rooms.upload"] == 1
        finally:
            await platform.stop()
    finally:
        await server.close()


@pytest.mark.asyncio
async def test_edit_replaces_the_text(fake: FakeRocketChat, connect: Factory) -> None:
    platform, recorder = await connect()
    fake.say("alice", general(fake), "!sondage")
    (command,) = await recorder.wait(1)
    ref = await platform.respond(command, POLL)
    assert ref is not None
    await platform.edit(ref, Reply("**Résultats** : Mardi 2, Jeudi 1"))
    stored = fake.messages[ref.message_id]
    assert stored["msg"] == "*Résultats* : Mardi 2, Jeudi 1"
    assert stored["editedAt"] and stored["editedBy"]["username"] == BOT
    # The edit comes back through the stream as an update: no event for the bot's own message.
    fake.say("alice", general(fake), "!fin")
    await recorder.wait(2)
    assert recorder.texts() == ["cmd:sondage", "cmd:fin"]


@pytest.mark.asyncio
async def test_mass_mentions_are_neutralised_unless_meant(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, recorder = await connect()
    fake.say("alice", general(fake), "!annonce")
    (command,) = await recorder.wait(1)
    await platform.respond(command, Reply("@all et @here, lisez *ceci* : @everyone"))
    await platform.respond(command, Reply("@here la plénière commence", mentions=True))
    first, second = (m["msg"] for m in fake.messages_by(BOT))
    assert first == f"@{ZWJ}all et @{ZWJ}here, lisez _ceci_ : @{ZWJ}everyone"
    assert second == "@here la plénière commence"


@pytest.mark.asyncio
async def test_a_ping_names_only_that_member_by_username(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, _ = await connect()
    alice = fake.user("alice")
    ping = Mention(alice.id, "Alice Martin")
    stranger = Mention("no-such-user", "Zoé")
    reply = Reply(
        f"{ping.token} et {stranger.token} : vos messages privés sont fermés. @all",
        ping=(ping, stranger),
    )
    await platform.deliver(reply, PlaceTarget("rocketchat", general(fake).id), "dm-closed:1")
    [message] = fake.messages_by(BOT)
    # alice is pinged by her username; an unknown member is named, not pinged; no mass mention.
    assert message["msg"] == f"@alice et Zoé : vos messages privés sont fermés. @{ZWJ}all"


@pytest.mark.asyncio
async def test_direct_and_ephemeral_replies_go_to_a_direct_room(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, recorder = await connect()
    fake.say("alice", general(fake), "!inscription 4")
    (command,) = await recorder.wait(1)
    await platform.respond(command, Reply("Reçu", ephemeral=True))
    alice = fake.user("alice")
    await platform.deliver(Reply("Rappel"), DirectTarget("rocketchat", alice.id), "dm:1")
    dm = fake.direct_room("alice", BOT)
    assert [m["msg"] for m in fake.messages_by(BOT, dm)] == ["Reçu", "Rappel"]
    assert fake.messages_by(BOT, general(fake)) == []


@pytest.mark.asyncio
async def test_thread_commands_are_answered_in_the_thread(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, recorder = await connect()
    parent = fake.say("alice", general(fake), "Un fil")
    fake.say("alice", general(fake), "!aide", tmid=parent["_id"])
    events = await recorder.wait(2)
    await platform.respond(events[1], Reply("Voici l'aide"))
    assert fake.messages_by(BOT)[0]["tmid"] == parent["_id"]


# --- reconnection ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_drop_mid_conversation_loses_nothing_and_repeats_nothing(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, recorder = await connect()
    room = general(fake)
    dm = fake.direct_room("bob", BOT)
    fake.say("alice", room, "!avant")
    await recorder.wait(1)

    assert await fake.drop_websockets(refuse=True) == 1
    fake.say("alice", room, "!un")
    fake.say("bob", room, "deux")
    fake.say("bob", dm, "trois")
    fake.say("camille", fake.room("bureau"), "!quatre")
    fake.accept_websockets()
    await recorder.wait(5)
    fake.say("alice", room, "!apres")
    await recorder.wait(6)
    # In the order they were said, across rooms.
    assert recorder.texts() == [
        "cmd:avant",
        "cmd:un",
        "msg:deux",
        "cmd:trois",
        "cmd:quatre",
        "cmd:apres",
    ]
    assert len(recorder.events) == 6
    assert platform.stats.caught_up == 4
    assert platform.stats.reconnections == 1
    assert len(set(platform.stats.handled_ids)) == len(platform.stats.handled_ids) == 6

    # A drop with an immediate reconnection: what is said around it still arrives exactly once.
    await fake.drop_websockets()
    fake.say("alice", room, "!pendant")
    await recorder.wait(7)
    await fake.wait_for(lambda: platform.stats.reconnections == 2)
    fake.say("alice", room, "!fin")
    await recorder.wait(8)
    assert recorder.texts()[6:] == ["cmd:pendant", "cmd:fin"]
    assert len(recorder.events) == 8


@pytest.mark.asyncio
async def test_a_failed_catch_up_is_tried_again(fake: FakeRocketChat, connect: Factory) -> None:
    platform, recorder = await connect()
    await fake.drop_websockets(refuse=True)
    fake.say("alice", general(fake), "!pendant la coupure")
    fake.fail_next("rooms.get", 1, status=503)
    fake.accept_websockets()
    await recorder.wait(1)
    assert recorder.texts() == ["cmd:pendant la coupure"]
    assert fake.statuses[("rooms.get", 503)] == 1
    assert platform.stats.caught_up == 1


# --- roles ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_roles_are_cached_until_they_expire(fake: FakeRocketChat, connect: Factory) -> None:
    clock = FrozenClock(datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    _, recorder = await connect(clock=clock, role_cache_seconds=300, coordinators=["bob"])
    room = general(fake)
    fake.say("camille", room, "!a")
    await recorder.wait(1)
    fake.set_roles("camille", ["user"])
    fake.say("camille", room, "!b")
    await recorder.wait(2)
    clock.advance(timedelta(seconds=301))
    fake.say("camille", room, "!c")
    fake.say("bob", room, "!d")
    events = await recorder.wait(4)
    assert [e.actor.is_coordinator for e in events] == [True, True, False, True]


@pytest.mark.asyncio
async def test_without_role_visibility_only_listed_usernames_coordinate(connect: Factory) -> None:
    server = FakeRocketChat()  # users.info shows roles to admins only
    await server.start()
    try:
        server.add_user(BOT, password=PASSWORD, roles=("bot",), bot=True)
        server.add_user("camille", roles=("user", "coordinator"))
        server.add_user("bob")
        room = server.add_room("general", members=[BOT, "camille", "bob"])
        platform = RocketChatPlatform(
            RocketChatSettings(server_url=server.url, username=BOT, coordinators=["bob"]),
            password=PASSWORD,
        )
        recorder = Recorder()
        await platform.start(recorder)
        try:
            server.say("camille", room, "!a")
            server.say("bob", room, "!b")
            events = await recorder.wait(2)
            assert [e.actor.is_coordinator for e in events] == [False, True]
        finally:
            await platform.stop()
    finally:
        await server.close()


# --- check-config --online -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_check_online(fake: FakeRocketChat) -> None:
    good = RocketChatSettings(server_url=fake.url, username=BOT, channels=["general"])
    await check_online(good, PASSWORD, None)
    token = fake.personal_access_token(BOT)
    await check_online(good.model_copy(update={"user_id": fake.user(BOT).id}), None, token)

    with pytest.raises(ConfigError) as refused:
        await check_online(good, "wrong", None)
    assert refused.value.problems[0][0] == "TISSERAND_ROCKETCHAT_PASSWORD"

    with pytest.raises(ConfigError) as problems:
        await check_online(
            good.model_copy(
                update={
                    "channels": ["general", "inconnu"],
                    "username": "autre",
                    "user_id": fake.user(BOT).id,
                }
            ),
            None,
            token,
        )
    assert ("rocketchat.channels", "unknown channel: inconnu") in problems.value.problems
    assert any(key == "rocketchat.username" for key, _ in problems.value.problems)

    with pytest.raises(ConfigError) as missing:
        await check_online(good, None, token)
    assert missing.value.problems[0][0] == "rocketchat.user_id"

    with pytest.raises(ConfigError) as unreachable:
        await check_online(good.model_copy(update={"server_url": "http://127.0.0.1:9"}), "x", None)
    assert unreachable.value.problems[0][0] == "rocketchat.server_url"


# --- pure helpers ------------------------------------------------------------------------------


def test_markdown_to_rocketchat() -> None:
    assert to_rocketchat("**gras** et *italique*") == "*gras* et _italique_"
    assert to_rocketchat("**gras avec *italique* dedans**") == "*gras avec _italique_ dedans*"
    assert to_rocketchat("[le *site*](https://ex.org/a_b*c)") == "[le *site*](https://ex.org/a_b*c)"
    assert to_rocketchat("`**code**` **x**") == "`**code**` *x*"
    assert to_rocketchat("* un\n* deux\n- trois\n1. quatre") == "* un\n* deux\n- trois\n1. quatre"
    assert to_rocketchat("2 * 3 * 4") == "2 * 3 * 4"


def test_mass_mentions() -> None:
    assert (
        neutralize_mass_mentions("@all @HERE @everyone") == f"@{ZWJ}all @{ZWJ}HERE @{ZWJ}everyone"
    )
    assert (
        neutralize_mass_mentions("mail@all.org @alice @allison") == "mail@all.org @alice @allison"
    )


def test_helpers() -> None:
    assert message_id_for("a") == message_id_for("a") != message_id_for("b")
    assert len(message_id_for("a")) == 17
    assert websocket_url("https://chat.example.org/rc") == "wss://chat.example.org/rc/websocket"
    assert websocket_url("http://127.0.0.1:3000") == "ws://127.0.0.1:3000/websocket"
    chunks = split_text("\n".join(["x" * 30] * 10), 100)
    assert all(len(c) <= 100 for c in chunks) and "\n".join(chunks) == "\n".join(["x" * 30] * 10)
    assert split_text("y" * 250, 100) == ["y" * 100, "y" * 100, "y" * 50]
    with pytest.raises(ValueError, match="http"):
        RocketChatSettings(server_url="chat.example.org", username="x")
    with pytest.raises(ConfigError):
        RocketChatPlatform(RocketChatSettings(server_url="http://h", username="x"))


# --- mass mentions where a text is cut, pings that look like a group --------------------------


@pytest.mark.asyncio
async def test_names_that_rocketchat_ends_at_a_non_ascii_letter_are_neutralised(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, _ = await connect()
    room = general(fake).id
    text = "Réunion @allé, @here日本 et @all\u200b ! (pas mail@all.org ni @allison)"
    await platform.deliver(Reply(text), PlaceTarget("rocketchat", room), "mass:1")
    [message] = fake.messages_by(BOT)
    assert rocketchat_mass_mentions(message["msg"]) == []
    assert message["msg"] == (
        f"Réunion @{ZWJ}allé, @{ZWJ}here日本 et @{ZWJ}all\u200b ! (pas mail@all.org ni @allison)"
    )


@pytest.mark.asyncio
async def test_a_text_cut_into_messages_leaves_no_mass_mention_at_a_cut(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, _ = await connect(max_message_length=30)
    room = general(fake).id
    # "@allez" is no mention, but cut after "@all" it would be: wherever the cut falls.
    for width in (24, 25, 26, 27):
        text = "x" * (width - 1) + " @allez " + "y" * 30
        await platform.deliver(Reply(text), PlaceTarget("rocketchat", room), f"cut:{width}")
        chunks = [m["msg"] for m in fake.messages_by(BOT)]
        fake.messages.clear()
        assert len(chunks) > 1
        assert all(len(chunk) <= 30 for chunk in chunks)
        assert all(rocketchat_mass_mentions(chunk) == [] for chunk in chunks), chunks
        assert "".join(chunks).replace(ZWJ, "") == text


@pytest.mark.asyncio
async def test_an_edit_cut_at_the_limit_leaves_no_mass_mention(
    fake: FakeRocketChat, connect: Factory
) -> None:
    platform, _ = await connect(max_message_length=30)
    room = general(fake).id
    ref = await platform.deliver(Reply("Résultats"), PlaceTarget("rocketchat", room), "edit:1")
    for width in (24, 25, 26, 27):
        await platform.edit(ref, Reply("x" * (width - 1) + " @allez la suite"))
        stored = fake.messages[ref.message_id]["msg"]
        assert len(stored) <= 30 and rocketchat_mass_mentions(stored) == [], stored


@pytest.mark.asyncio
async def test_a_member_whose_username_starts_like_a_group_is_still_pinged(
    fake: FakeRocketChat, connect: Factory
) -> None:
    hugo = fake.add_user("herehugo", password="h", name="Hugo")
    platform, _ = await connect()
    ping = Mention(hugo.id, "Hugo")
    reply = Reply(f"{ping.token} : à toi ! @here", ping=(ping,))
    await platform.deliver(reply, PlaceTarget("rocketchat", general(fake).id), "ping:1")
    [message] = fake.messages_by(BOT)
    assert message["msg"] == f"@herehugo : à toi ! @{ZWJ}here"
    assert "herehugo" in rocketchat_reads(message["msg"])
    assert rocketchat_mass_mentions(message["msg"]) == []
