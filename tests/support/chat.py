"""The one chat harness: the real App over an in-memory platform and a clock that tests move.

Tests read like a chat (after errbot's test backend)::

    chat = await Chat.start(database.url, tmp_path)
    await chat.command("camille", '/sondage "Quel thème ?" "Eau" "Énergie"')
    await chat.click("alice", "poll:1:vote:2")
    await chat.move_to(START + timedelta(days=2))
    assert "Eau" in chat.posts()[-1].text

Every action goes through :meth:`bot.app.App.process` (parsing, permissions, the database
transaction, the handler), then runs the scheduled work that fell due, as the running bot would;
what the bot posts (through the outbox) and edits is recorded by :class:`RecordingPlatform`.
An action that crashes a handler fails the test (``expect_error=True`` to check the apology).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.app import App, Outcome
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.core import (
    Actor,
    Attachment,
    ChoiceEvent,
    CommandEvent,
    DirectTarget,
    Event,
    MessageEvent,
    MessageRef,
    Place,
    PlaceTarget,
    ReactionEvent,
    Reply,
    Role,
)
from bot.family import Family
from bot.wiring import FAMILIES
from tests.support.platform import RecordingPlatform

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
"""Monday 23 November 2026, 09:00 in Paris: where the clock of a chat starts by default."""
COORDINATORS = frozenset({"camille", "dominique"})
"""Who is a coordinator unless a test says otherwise."""


def place(channel: str = "general") -> Place:
    """A channel, or ``@user`` for the direct conversation with that user."""
    if channel.startswith("@"):
        return Place("console", channel, channel, is_direct=True)
    return Place("console", channel, channel)


def _is_edit(token: str | None) -> bool:
    return token is not None and token.startswith("edit:")


def only(replies: Sequence[Reply]) -> Reply:
    """The one reply of an action (fails when there are none or several)."""
    assert len(replies) == 1, replies
    return replies[0]


def text_of(replies: Iterable[Reply] | Outcome) -> str:
    """The texts of replies (or of an outcome), one per line."""
    found = replies.replies if isinstance(replies, Outcome) else replies
    return "\n".join(reply.text for reply in found)


@dataclass
class Chat:
    """A running bot, driven event by event (see the module docstring)."""

    app: App
    platform: RecordingPlatform
    clock: FrozenClock
    coordinators: frozenset[str] = COORDINATORS
    channel: str = "general"
    """Where people speak unless an action names another channel."""
    due_work: bool = True
    """Whether the due work runs after each action (else only on :meth:`move_to`)."""
    locales: dict[str, str] = field(default_factory=dict)
    _said: dict[str, tuple[Actor, str]] = field(default_factory=dict)
    _next_message: int = 100

    @classmethod
    async def start(
        cls,
        database_url: str,
        data_dir: Path,
        *,
        start: datetime = START,
        families: Sequence[Family] = FAMILIES,
        coordinators: Iterable[str] = COORDINATORS,
        channel: str = "general",
        due_work: bool = True,
        with_scheduler: bool = False,
        engine: Engine | None = None,
        **overrides: Any,
    ) -> Chat:
        """Start the app on a migrated database (``overrides`` are configuration keys).

        ``with_scheduler`` also starts the real scheduler, as in production (the clock is frozen:
        nothing falls due in real time during a test). ``due_work=False``: the due work runs only
        when the clock is moved with :meth:`move_to` (tests that run it by hand). ``engine``
        replaces the engine built from ``database_url`` (one with other timeouts)."""
        settings = load_settings(
            None,
            database_url=database_url,
            environ={},
            overrides={"data_dir": str(data_dir), **overrides},
        )
        clock = FrozenClock(start)
        app = App(settings, clock=clock, families=families, engine=engine)
        platform = RecordingPlatform()
        app.add_platform(platform)
        await app.start(with_scheduler=with_scheduler)
        return cls(app, platform, clock, frozenset(coordinators), channel, due_work)

    async def stop(self) -> None:
        await self.app.stop()

    # --- who -----------------------------------------------------------------------------------

    def actor(self, user: str, *, coordinator: bool | None = None) -> Actor:
        is_coordinator = user in self.coordinators if coordinator is None else coordinator
        roles = {Role.MEMBER} | ({Role.COORDINATOR} if is_coordinator else set())
        return Actor(
            "console",
            user,
            user.capitalize(),
            roles=frozenset(roles),
            locale=self.locales.get(user),
        )

    # --- what people do -------------------------------------------------------------------------

    async def command(
        self,
        user: str,
        line: str,
        *,
        channel: str | None = None,
        attachments: Sequence[Attachment] = (),
        coordinator: bool | None = None,
        expect_error: bool = False,
    ) -> list[Reply]:
        """``user`` types the command ``line`` (with or without its ``/``) in ``channel``."""
        where = place(channel or self.channel)
        event = CommandEvent(
            actor=self.actor(user, coordinator=coordinator),
            place=where,
            at=self.clock.now(),
            text=line.removeprefix("/"),
            ref=self._ref(where),
            attachments=tuple(attachments),
        )
        return (await self.send(event, expect_error=expect_error)).replies

    async def say(self, user: str, text: str, *, channel: str | None = None) -> MessageRef:
        """``user`` writes a plain message; the reference lets others react to it."""
        where = place(channel or self.channel)
        ref = self._ref(where)
        actor = self.actor(user)
        self._said[ref.message_id] = (actor, text)
        await self.send(MessageEvent(actor, where, text, ref, self.clock.now()))
        return ref

    async def say_private(self, user: str, text: str) -> list[Reply]:
        """``user`` writes ``text`` to the bot in private (the console's ``:dm texte``)."""
        where = place(f"@{user}")
        ref = self._ref(where)
        self._said[ref.message_id] = (self.actor(user), text)
        return (
            await self.send(MessageEvent(self.actor(user), where, text, ref, self.clock.now()))
        ).replies

    async def react(
        self,
        user: str,
        ref: MessageRef,
        emoji: str = "📰",
        *,
        added: bool = True,
        channel: str | None = None,
        without_text: bool = False,
    ) -> list[Reply]:
        """``user`` adds (or removes) ``emoji`` on a message said earlier in this chat (or
        :meth:`remember`-ed); ``without_text``: the platform does not give the message's text
        with the reaction (Discord)."""
        author, said = self._said[ref.message_id]
        event = ReactionEvent(
            self.actor(user),
            place(channel or self.channel),
            self.clock.now(),
            ref,
            emoji,
            added=added,
            message_author=author,
            message_text=None if without_text else said,
        )
        return (await self.send(event)).replies

    def remember(self, ref: MessageRef, author: Actor, text: str) -> None:
        """A message that is in the channel but that the bot did not see said (another bot's,
        or one from before it started): people may react to it."""
        self._said[ref.message_id] = (author, text)

    async def click(
        self,
        user: str,
        action: str,
        *,
        channel: str | None = None,
        expect_error: bool = False,
    ) -> list[Reply]:
        """``user`` presses the button (or picks the choice) whose action is ``action``."""
        where = place(channel or self.channel)
        event = ChoiceEvent(self.actor(user), where, self.clock.now(), action)
        return (await self.send(event, expect_error=expect_error)).replies

    async def send(self, event: Event, *, expect_error: bool = False) -> Outcome:
        """Any event, handled as the platform would hand it over; then the due work runs
        (unless :attr:`due_work` is off)."""
        outcome = await self.app.process(event)
        if expect_error:
            assert outcome.error_id is not None, outcome
        else:
            assert outcome.error_id is None, outcome
        if self.due_work:
            await self.app.scheduler.run_due()
        return outcome

    # --- time ---------------------------------------------------------------------------------

    async def move_to(self, moment: datetime) -> None:
        """The clock jumps to ``moment``; the scheduled work that fell due runs."""
        self.clock.move_to(moment)
        await self.app.scheduler.run_due()

    async def advance(self, delta: timedelta) -> None:
        await self.move_to(self.clock.now() + delta)

    # --- what the bot did -----------------------------------------------------------------------

    def posts(self, channel: str | None = None) -> list[Reply]:
        """Messages the bot posted in channels (all of them, or in ``channel``), oldest first."""
        return [
            reply
            for target, reply, token in self.platform.posted
            if isinstance(target, PlaceTarget)
            and not _is_edit(token)
            and channel in (None, target.channel_id)
        ]

    def direct_messages(self, user: str) -> list[Reply]:
        """Direct messages the bot sent ``user``, oldest first."""
        return [
            reply
            for target, reply, _ in self.platform.posted
            if isinstance(target, DirectTarget) and target.user_id == user
        ]

    def edits(self) -> list[Reply]:
        """Edits of earlier bot messages (live results), oldest first."""
        return [reply for _, reply, token in self.platform.posted if _is_edit(token)]

    def db(self) -> Session:
        """A database session for checks (objects stay readable after it closes)."""
        return Session(self.app.engine, expire_on_commit=False)

    def _ref(self, where: Place) -> MessageRef:
        self._next_message += 1
        return MessageRef("console", where.channel_id, str(self._next_message))
