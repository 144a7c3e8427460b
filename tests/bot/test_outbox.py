"""The outbox delivers each message exactly once, through retries and crashes."""

from __future__ import annotations

import random
import types
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.context import Context
from bot.core import (
    Actor,
    CommandEvent,
    DeliveryCode,
    DeliveryError,
    DirectTarget,
    Mention,
    MessageRef,
    Place,
    PlaceTarget,
    Reply,
    Target,
)
from bot.family import Family
from bot.i18n import Translators
from bot.outbox import OPEN_DM_HELP, RetryPolicy, Sender, about, enqueue
from bot.registry import Args, command
from bot.storage.engine import make_session_factory
from bot.storage.members import Member
from bot.storage.outbox import OutboxMessage, OutboxStatus
from tests.conftest import Database
from tests.support.platform import RecordingPlatform

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TARGET = PlaceTarget("console", "general")


def _sender(
    engine: Engine,
    platform: RecordingPlatform,
    clock: FrozenClock,
    translators: Translators | None = None,
    **policy: object,
) -> Sender:
    return Sender(
        make_session_factory(engine),
        {platform.name: platform},
        clock,
        RetryPolicy(**policy),  # type: ignore[arg-type]
        rng=random.Random(1),
        translators=translators,
    )


def _add(
    engine: Engine, key: str, due: datetime, text: str = "hello", target: Target = TARGET
) -> bool:
    with Session(engine) as db:
        row = enqueue(db, key=key, reply=Reply(text=text), target=target, due_at=due, now=START)
        db.commit()
        return row is not None


def _rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.asyncio
async def test_same_key_twice_is_one_message(engine: Engine) -> None:
    assert _add(engine, "announce:1", START)
    assert not _add(engine, "announce:1", START, text="again")
    platform = RecordingPlatform()
    report = await _sender(engine, platform, FrozenClock(START)).deliver_due()
    assert report.sent == 1
    assert [reply.text for _, reply, _ in platform.posted] == ["hello"]
    row = _rows(engine)[0]
    assert row.status == OutboxStatus.SENT
    assert row.platform_message_id == "1"


@pytest.mark.asyncio
async def test_future_rows_wait_for_their_time(engine: Engine) -> None:
    _add(engine, "later", START + timedelta(hours=2))
    clock = FrozenClock(START)
    platform = RecordingPlatform()
    sender = _sender(engine, platform, clock)
    assert sender.next_due() == START + timedelta(hours=2)
    assert (await sender.deliver_due()).sent == 0
    clock.advance(timedelta(hours=2))
    assert (await sender.deliver_due()).sent == 1
    assert sender.next_due() is None


@pytest.mark.asyncio
async def test_transient_errors_are_retried_and_honour_retry_after(engine: Engine) -> None:
    _add(engine, "k", START)
    clock = FrozenClock(START)
    platform = RecordingPlatform(
        failures=[DeliveryError("429", retry_after=30), DeliveryError("502")]
    )
    sender = _sender(engine, platform, clock)
    report = await sender.deliver_due()
    assert (report.sent, report.retried) == (0, 1)
    row = _rows(engine)[0]
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at == START + timedelta(seconds=30)
    assert row.last_error == "429"
    clock.advance(timedelta(seconds=30))
    assert (await sender.deliver_due()).retried == 1
    clock.advance(timedelta(hours=2))
    assert (await sender.deliver_due()).sent == 1
    assert len(platform.posted) == 1
    assert _rows(engine)[0].attempts == 3


@pytest.mark.asyncio
async def test_permanent_failure_and_exhausted_attempts_are_recorded(engine: Engine) -> None:
    _add(engine, "closed", START)
    _add(engine, "flaky", START)
    platform = RecordingPlatform(
        failures=[DeliveryError("dm closed", permanent=True)] + [DeliveryError("500")] * 5
    )
    clock = FrozenClock(START)
    sender = _sender(engine, platform, clock, max_attempts=2)
    await sender.deliver_due()
    clock.advance(timedelta(days=1))
    await sender.deliver_due()
    rows = _rows(engine)
    assert [r.status for r in rows] == [OutboxStatus.FAILED, OutboxStatus.FAILED]
    assert rows[0].last_error == "dm closed" and rows[0].attempts == 1
    assert rows[1].attempts == 2
    assert platform.posted == []


@pytest.mark.asyncio
async def test_rows_missed_beyond_the_grace_are_skipped_not_sent(engine: Engine) -> None:
    _add(engine, "old", START - timedelta(days=3))
    _add(engine, "recent", START - timedelta(hours=1))
    platform = RecordingPlatform()
    report = await _sender(
        engine, platform, FrozenClock(START), grace=timedelta(days=1)
    ).deliver_due()
    assert (report.sent, report.skipped) == (1, 1)
    rows = _rows(engine)
    assert rows[0].status == OutboxStatus.SKIPPED and "missed by" in (rows[0].last_error or "")
    assert rows[1].status == OutboxStatus.SENT


@pytest.mark.asyncio
async def test_crash_between_send_and_record_never_duplicates(engine: Engine) -> None:
    for i in range(3):
        _add(engine, f"k{i}", START, text=f"m{i}")
    platform = RecordingPlatform(crash_after_post=1)
    with pytest.raises(KeyboardInterrupt):
        await _sender(engine, platform, FrozenClock(START)).deliver_due()
    assert [r.status for r in _rows(engine)] == ["sending", "pending", "pending"]
    # The bot restarts: a new sender over the same database and the same platform. The row the
    # dead sender was sending stays its own until the lease ends (that sender might be alive).
    clock = FrozenClock(START + timedelta(minutes=1))
    restarted = _sender(engine, platform, clock, lease=timedelta(minutes=5))
    assert (await restarted.deliver_due()).sent == 2
    assert restarted.next_due() == START + timedelta(minutes=5)
    clock.advance(timedelta(minutes=5))
    assert (await restarted.deliver_due()).sent == 1  # again, with the same token
    assert [reply.text for _, reply, _ in platform.posted] == ["m0", "m1", "m2"]
    assert all(r.status == OutboxStatus.SENT for r in _rows(engine))
    assert [r.attempts for r in _rows(engine)] == [2, 1, 1]


# --- closed direct messages ------------------------------------------------------------------


@dataclass
class ClosedDms(RecordingPlatform):
    """Refuses direct messages to the users in ``closed`` as a chat would (code dm_closed)."""

    closed: set[str] = field(default_factory=set)
    refused: list[Target] = field(default_factory=list)
    open_dm_help: str | None = None
    """What the platform tells members to do (the Sender falls back on a generic text)."""

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        if isinstance(target, DirectTarget) and target.user_id in self.closed:
            self.refused.append(target)
            raise DeliveryError(
                "403: Cannot send messages to this user",
                permanent=True,
                code=DeliveryCode.DM_CLOSED,
            )
        return await super().deliver(reply, target, token)


def _member(engine: Engine, user_id: str, name: str, locale: str | None) -> None:
    with Session(engine) as db:
        db.add(
            Member(
                platform="console",
                user_id=user_id,
                display_name=name,
                locale=locale,
                created_at=START,
                updated_at=START,
            )
        )
        db.commit()


def _direct(user_id: str, fallback: str | None = "general") -> DirectTarget:
    return DirectTarget("console", user_id, fallback_channel_id=fallback)


PARIS = Translators(ZoneInfo("Europe/Paris"))


@pytest.mark.asyncio
async def test_closed_dms_are_recorded_and_the_member_told_in_the_channel(engine: Engine) -> None:
    _member(engine, "alice", "Alice Martin", "en")
    _add(engine, "session:4:reminder:7:24h", START, "Secret: room 12", _direct("alice"))
    platform = ClosedDms(closed={"alice"})
    clock = FrozenClock(START)
    sender = _sender(engine, platform, clock, PARIS)
    report = await sender.deliver_due()
    assert (report.failed, report.notices, report.sent, report.retried) == (1, 1, 1, 0)
    [dm, notice_row] = _rows(engine)
    assert dm.status == OutboxStatus.FAILED and dm.attempts == 1
    assert dm.last_error is not None
    assert "direct messages closed by console user alice" in dm.last_error
    assert "notice queued in channel general (dm-closed:console:alice:2026-11-23)" in dm.last_error
    assert notice_row.key == "dm-closed:console:alice:2026-11-23"
    assert notice_row.status == OutboxStatus.SENT
    [(target, notice, _token)] = platform.posted
    assert target == PlaceTarget("console", "general")
    assert notice.ping == (Mention("alice", "Alice Martin"),)
    assert not notice.mentions  # nobody else: no crowd, no roles
    # In the member's language, about what (from the key), never what it said; and how to open.
    assert notice.text == (
        "<@alice> I could not send you a private message (a reminder of a session you "
        "registered for): you do not accept direct messages from me, so it was not delivered. "
        "Check your privacy settings so that I can write to you directly."
    )
    assert "room 12" not in notice.text


@pytest.mark.asyncio
async def test_one_notice_a_day_per_member_and_none_without_a_channel(engine: Engine) -> None:
    _member(engine, "alice", "Alice", "en")
    platform = ClosedDms(closed={"alice", "bob"})
    clock = FrozenClock(datetime(2026, 11, 23, 20, 0, tzinfo=UTC))  # 21:00 in Paris
    sender = _sender(engine, platform, clock, PARIS)
    _add(engine, "consent:1", clock.now(), target=_direct("alice"))
    _add(engine, "consent:2", clock.now(), target=_direct("alice", "veille"))
    _add(engine, "consent:3", clock.now(), target=_direct("bob", None))
    report = await sender.deliver_due()
    assert (report.failed, report.notices, report.sent) == (3, 1, 1)
    assert len(platform.refused) == 3
    rows = {r.key: r for r in _rows(engine)}
    assert "already told today (dm-closed:console:alice:2026-11-23)" in (
        rows["consent:2"].last_error or ""
    )
    assert "no channel known to tell them; only recorded" in (rows["consent:3"].last_error or "")
    assert all(
        rows[k].status == OutboxStatus.FAILED for k in ("consent:1", "consent:2", "consent:3")
    )
    [(_, notice, _)] = platform.posted
    assert "(a question about quoting your words in the gazette)" in notice.text
    # 23:30 UTC is already the next day in the network's time zone: a new notice.
    clock.advance(timedelta(hours=3, minutes=30))
    _add(engine, "feed-disabled:9:x", clock.now(), target=_direct("alice"))
    report = await sender.deliver_due()
    assert (report.failed, report.notices, report.sent) == (1, 1, 1)
    assert [r.key for r in _rows(engine)][-1] == "dm-closed:console:alice:2026-11-24"
    assert "(news about a feed you added to the watch)" in platform.posted[-1][1].text


@pytest.mark.asyncio
async def test_the_notice_follows_the_members_language_and_the_platforms_help(
    engine: Engine,
) -> None:
    _member(engine, "chloe", "Chloé", None)  # no choice: the network's language
    platform = ClosedDms(closed={"chloe"}, open_dm_help="Open the Privacy Settings of this server.")
    translators = Translators(ZoneInfo("Europe/Paris"), default_locale="en")
    _add(engine, "something:else", START, target=_direct("chloe"))
    await _sender(engine, platform, FrozenClock(START), translators).deliver_due()
    [(_, notice, _)] = platform.posted
    assert notice.text.startswith("<@chloe> I could not send you a private message (a message")
    assert notice.text.endswith(" Open the Privacy Settings of this server.")
    assert notice.ping == (Mention("chloe", "Chloé"),)
    assert OPEN_DM_HELP not in notice.text  # the platform's own help replaces the generic one


@pytest.mark.asyncio
async def test_a_broken_notice_never_stops_the_sender(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> tuple[bool, str]:
        raise RuntimeError("boom")

    _add(engine, "consent:1", START, target=_direct("alice"))
    _add(engine, "later", START + timedelta(seconds=1))
    sender = _sender(engine, ClosedDms(closed={"alice"}), FrozenClock(START + timedelta(minutes=1)))
    monkeypatch.setattr(sender, "_queue_notice", broken)
    report = await sender.deliver_due()
    assert (report.failed, report.notices, report.sent) == (1, 0, 1)
    first = _rows(engine)[0]
    assert first.status == OutboxStatus.FAILED
    assert first.last_error == "403: Cannot send messages to this user"


def test_what_a_message_was_about_comes_from_its_key() -> None:
    assert about("consent:12") == "a question about quoting your words in the gazette"
    assert about("consent:12:again:1700000000") == about("consent:12")
    assert about("session:3:reminder:9:1h") == "a reminder of a session you registered for"
    assert about("session:3:feedback:9") == "a question about a session you attended"
    assert about("session:3:cancelled:9") == "news about a session you registered for"
    assert about("poll:3:results") == "a message meant for you only"


@pytest.mark.asyncio
async def test_other_permanent_failures_of_a_direct_message_tell_nobody(engine: Engine) -> None:
    _add(engine, "consent:1", START, target=_direct("alice"))
    platform = RecordingPlatform(
        failures=[DeliveryError("unknown user", permanent=True, code=DeliveryCode.UNKNOWN_TARGET)]
    )
    report = await _sender(engine, platform, FrozenClock(START)).deliver_due()
    assert (report.failed, report.notices) == (1, 0)
    assert platform.posted == []
    assert _rows(engine)[0].last_error == "unknown user"


def test_the_fallback_channel_is_kept_in_the_payload(engine: Engine) -> None:
    _add(engine, "k", START, target=_direct("alice", "general"))
    _add(engine, "k2", START, target=_direct("bob", None))
    from bot.outbox import target_of

    first, second = _rows(engine)
    assert first.payload["fallback_channel_id"] == "general"
    assert target_of(first) == DirectTarget("console", "alice", "general")
    assert "fallback_channel_id" not in second.payload
    assert target_of(second) == DirectTarget("console", "bob")
    assert Reply.from_payload(first.payload) == Reply(text="hello")


def test_a_ping_survives_the_outbox() -> None:
    reply = Reply(text="<@42> hello", ping=(Mention("42", "Zoé"),))
    assert Reply.from_payload(reply.to_payload()) == reply
    assert "ping" not in Reply(text="x").to_payload()


# --- Context.send_later ----------------------------------------------------------------------


NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@command("prive", "private", "Sends the actor a direct message later.")
def private(ctx: Context, args: Args) -> Reply:
    ctx.send_later(
        f"test:private:{ctx.place.channel_id}",
        Reply(text="Just for you"),
        DirectTarget("console", ctx.actor.user_id),
        ctx.now(),
    )
    ctx.send_later(
        f"test:chosen:{ctx.place.channel_id}",
        Reply(text="Just for you, again"),
        DirectTarget("console", ctx.actor.user_id, fallback_channel_id="annonces"),
        ctx.now(),
    )
    return Reply(text="ok", ephemeral=True)


@pytest.mark.asyncio
async def test_send_later_keeps_the_channel_of_the_command_as_fallback(
    database: Database, tmp_path: Path
) -> None:
    module = types.ModuleType("private")
    module.private = private  # type: ignore[attr-defined]
    settings = load_settings(
        None, database_url=database.url, environ={}, overrides={"data_dir": str(tmp_path)}
    )
    app = App(
        settings,
        clock=FrozenClock(NOW),
        families=[Family("test", handlers=(module,))],
    )
    platform = ClosedDms(closed={"alice"})
    app.add_platform(platform)
    await app.start(with_scheduler=False)
    alice = Actor("console", "alice", "Alice")
    try:
        for place in (Place("console", "general", "general"), Place("console", "dm", "", True)):
            await app.process(CommandEvent(alice, place, NOW, text="prive"))
    finally:
        await app.stop()
    engine = database.engine()
    try:
        with Session(engine) as db:
            rows = {r.key: r for r in db.scalars(select(OutboxMessage))}
    finally:
        engine.dispose()
    assert rows["test:private:general"].payload["fallback_channel_id"] == "general"
    assert "fallback_channel_id" not in rows["test:private:dm"].payload  # no channel in private
    assert rows["test:chosen:general"].payload["fallback_channel_id"] == "annonces"
    assert rows["test:chosen:dm"].payload["fallback_channel_id"] == "annonces"
    # The app's sender ran after the command: alice's DMs are closed, one notice (the first
    # one's channel), and every direct message failed with its record.
    notices = [r for r in rows.values() if r.key.startswith("dm-closed:")]
    assert [(r.target_id, r.status) for r in notices] == [("general", OutboxStatus.SENT)]
    assert sorted(r.status for r in rows.values() if r.key.startswith("test:")) == ["failed"] * 4
    assert [t for t, _, _ in platform.posted] == [PlaceTarget("console", "general")]


@pytest.mark.asyncio
async def test_the_console_writes_a_ping_as_its_users_are_named(tmp_path: Path) -> None:
    import io

    from bot.clock import MovableClock
    from bot.platforms.console import ConsolePlatform

    out = io.StringIO()
    console = ConsolePlatform(
        out=out,
        out_dir=tmp_path,
        clock=MovableClock(NOW),
        translator=Translators(ZoneInfo("UTC")).get("en"),
        coordinators=[],
    )
    await console.start(_no_events)
    try:
        reply = Reply(text="<@alice> see <@bob>", ping=(Mention("alice", "Alice"),))
        await console.deliver(reply, PlaceTarget("console", "general"), "notice:1")
    finally:
        await console.stop()
    assert out.getvalue().splitlines()[1] == "@alice see <@bob>"  # bob is not pinged


async def _no_events(event: object) -> None:
    raise AssertionError("no event expected")
