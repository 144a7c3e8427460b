"""One scenario, three platforms: the console, Rocket.Chat and Discord must agree.

The scenario is written once, as data (:data:`CORE_STEPS`, the families' steps, and
:data:`TIME_STEPS`): who does what, and what the bot must then have said in ``#general`` and in
private. An adapter per platform knows how a person runs a command there (``/aide`` typed in the
console, ``!aide`` said in a Rocket.Chat room, the ``help`` slash command on Discord), how a
person picks a choice (``:click``, a numbered reaction or an action button, a Discord button),
and how to read what the bot posted. Each adapter drives the real :class:`bot.app.App` (on
SQLite, and on PostgreSQL when ``TISSERAND_TEST_DATABASE_URL`` is set) with the real platform;
Rocket.Chat and Discord run against their fakes (tests/fakes/) over loopback sockets.

Steps wait on conditions, never on durations: the app below counts the events it has finished
handling (replies sent, outbox delivered), and a step is checked once its event is handled.

Extension points
----------------
A command family adds its steps to :data:`FAMILY_STEPS` (module name -> steps). They run between
the announcements and the clock move, on every platform, as soon as the family is wired into
``commands.all_modules()``. Polls are there; the steps still to write are listed next to
:data:`FAMILY_STEPS`. A step that needs something learnt earlier (a poll number) names it with
``learn=`` and uses it as ``{name}`` in a command text or :class:`Var` in Discord options.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pytest

import commands
from bot.app import App
from bot.clock import MovableClock
from bot.config import Settings, load_settings
from bot.core import Event
from bot.platforms.console import JOURNAL, ConsolePlatform
from bot.platforms.discord import CUSTOM_ID_PREFIX, SELECT_PREFIX, DiscordPlatform, DiscordSettings
from bot.platforms.discord_commands import application_commands
from bot.platforms.rocketchat import (
    CHOICE_KEYWORD,
    NUMBER_EMOJIS,
    RocketChatPlatform,
    RocketChatSettings,
)
from tests.conftest import Database
from tests.fakes.discord import FakeChannel, FakeDiscord, FakeMessage, FakeUser
from tests.fakes.rocketchat import FakeRocketChat, FakeRoom
from tests.platforms.conftest import (
    CHANNEL,
    COORDINATOR_NAME,
    DISCORD_TOKEN,
    MEMBER_NAME,
    RC_BOT,
    RC_PASSWORD,
)

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
"""A Monday morning: the scenario's clock starts here."""
WAIT = 10.0
MEMBER = "member"
COORDINATOR = "coordinator"


# --- the scenario, as data ----------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """A channel option, by name: Discord sends the channel's id, text platforms ``#name``."""

    name: str


@dataclass(frozen=True)
class Var:
    """A value learnt earlier in the scenario (see ``Step.learn``), as an integer."""

    name: str


@dataclass(frozen=True)
class Command:
    """One command, in both forms: ``text`` is the French command line without prefix (console
    and Rocket.Chat), ``slash`` and ``options`` the Discord application command (English base
    names, as Discord sends them). ``{name}`` in texts is replaced by learnt values."""

    text: str
    slash: str
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """``user`` runs ``command`` in #general."""

    user: str
    command: Command


@dataclass(frozen=True)
class Pick:
    """``user`` picks choice number ``choice`` (from 1) of the bot's newest post in #general that
    carries choices, the way the platform offers it."""

    user: str
    choice: int


@dataclass(frozen=True)
class MoveClock:
    """The clock moves forward; the scheduler then runs what fell due."""

    delta: timedelta


@dataclass(frozen=True)
class Restart:
    """The bot stops and starts again on the same database (and the same chat server)."""


Action = Run | Pick | MoveClock | Restart


@dataclass(frozen=True)
class Seen:
    """New bot messages of one kind (in #general, or private to the actor), read as one text.

    ``count`` is the exact number of new messages; None means one or more (a long text may be
    split on platforms with a size limit)."""

    contains: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    starts: str | None = None
    count: int | None = 1


@dataclass(frozen=True)
class Step:
    """One action and what must follow. ``public`` None: nothing new in #general; ``private``
    None: nothing private to anyone. ``learn``: remember under this name the number in the first
    choice of the new public post (``poll:12:vote:1`` -> 12)."""

    title: str
    action: Action
    public: Seen | None = None
    private: Seen | None = None
    learn: str | None = None


LATER = (START + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
"""The scheduled announcement: two days after the start, typed in the network's zone."""

CORE_STEPS: list[Step] = [
    Step(
        "a member asks for help and gets the French listing, without coordinator commands",
        Run(MEMBER, Command("aide", "help")),
        public=Seen(
            contains=("Tisserand — les commandes à votre disposition", "/aide", "/profil"),
            lacks=("/annonce",),
            count=None,
        ),
    ),
    Step(
        "the member chooses English",
        Run(MEMBER, Command("profil langue en", "profile language", {"code": "en"})),
        private=Seen(contains=("I will now write to you in English",)),
    ),
    Step(
        "the member now gets the help in English",
        Run(MEMBER, Command("aide", "help")),
        public=Seen(
            contains=("Tisserand — commands you can use", "/help", "/profile"),
            lacks=("/announce", "les commandes"),
            count=None,
        ),
    ),
    Step(
        "the member tries to announce and is refused privately, in English",
        Run(
            MEMBER,
            Command(
                'annonce #general "Venez tous !"',
                "announce",
                {"channel": Channel(CHANNEL), "text": "Venez tous !"},
            ),
        ),
        private=Seen(contains=("/announce is reserved for the network's coordinators",)),
    ),
    Step(
        "a coordinator announces in #general: one message, through the outbox",
        Run(
            COORDINATOR,
            Command(
                'annonce #general "Bienvenue dans le réseau"',
                "announce",
                {"channel": Channel(CHANNEL), "text": "Bienvenue dans le réseau"},
            ),
        ),
        public=Seen(starts="📣 Bienvenue dans le réseau"),
        private=Seen(contains=("Annonce envoyée dans #general",)),
    ),
    Step(
        "a coordinator schedules an announcement two days ahead: nothing is posted yet",
        Run(
            COORDINATOR,
            Command(
                f'annonce #general "La plénière commence" --quand "{LATER}"',
                "announce",
                {"channel": Channel(CHANNEL), "text": "La plénière commence", "when": LATER},
            ),
        ),
        private=Seen(contains=("Annonce programmée pour",)),
    ),
]


def poll_steps() -> list[Step]:
    """A poll created by a coordinator, two votes through the platform's choices, the results."""
    return [
        Step(
            "a coordinator creates a poll: posted in #general with its choices",
            Run(
                COORDINATOR,
                Command(
                    'sondage "Café ou thé ?" "Café" "Thé"',
                    "poll create",
                    {"question": "Café ou thé ?", "options": '"Café" "Thé"'},
                ),
            ),
            public=Seen(contains=("Café ou thé ?", "Café", "Thé")),
            private=Seen(contains=("est publié",)),
            learn="poll",
        ),
        Step(
            "the member votes for the first option",
            Pick(MEMBER, 1),
            private=Seen(contains=("Vote recorded", "Café")),
        ),
        Step(
            "the coordinator votes for the second option",
            Pick(COORDINATOR, 2),
            private=Seen(contains=("Vote enregistré", "Thé")),
        ),
        Step(
            "the member reads the results",
            Run(
                MEMBER, Command("sondage resultats {poll}", "poll results", {"number": Var("poll")})
            ),
            private=Seen(contains=("Café ou thé ?", "1 vote (50%)", "2 participants")),
        ),
    ]


FAMILY_STEPS: dict[str, Callable[[], list[Step]]] = {
    "commands.polls": poll_steps,
    # Still to write, when each family lands (same shape, same adapters):
    # "commands.sessions": registrations: a coordinator creates a session with one seat; the
    #     member registers through the session message's choice (confirmed, private receipt);
    #     the coordinator registers too and is put on the waiting list.
    # "commands.veille": shared links: the member runs /partager <url> "comment" (private
    #     receipt); the link appears in the next digest posted in #general after a clock move.
    # "commands.highlights": highlights: the member's message gets the 📰 reaction from a
    #     coordinator; the author is asked for consent privately and accepts through a choice;
    #     the highlight is listed for the gazette.
}
"""Steps of each command family, keyed by module name (see the module docstring)."""

TIME_STEPS: list[Step] = [
    Step(
        "two days later the scheduled announcement is delivered, once",
        MoveClock(timedelta(days=2, hours=1)),
        public=Seen(starts="📣 La plénière commence"),
    ),
    Step("after a restart on the same database nothing is posted again", Restart()),
]


def scenario() -> list[Step]:
    wired = {module.__name__ for module in commands.all_modules()}
    steps = list(CORE_STEPS)
    for module, family in FAMILY_STEPS.items():
        if module in wired:
            steps.extend(family())
    return steps + TIME_STEPS


# --- the app, and what every adapter provides -------------------------------------------------


class TracedApp(App):
    """The real app, counting the events it has finished handling (answers sent)."""

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

    async def wait_handled(self, count: int) -> None:
        async def _wait() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self.handled >= count)

        await asyncio.wait_for(_wait(), WAIT)


@dataclass(frozen=True)
class Post:
    """A message of the bot as a platform shows it: its id, text, and the actions of its
    choices."""

    id: str
    text: str
    actions: tuple[str, ...] = ()


class Adapter(Protocol):
    """How the scenario talks to one platform."""

    app: TracedApp
    clock: MovableClock

    async def start(self) -> None:
        """Build the app and the platform, and start both."""

    async def stop(self) -> None:
        """Stop the app (and with it the platform)."""

    async def run(self, user: str, command: Command, values: Mapping[str, str]) -> None:
        """``user`` runs ``command`` in #general; returns once the app has handled it."""

    async def pick(self, user: str, post: Post, choice: int) -> None:
        """``user`` picks choice ``choice`` of ``post``; returns once the app has handled it."""

    def public_posts(self) -> list[Post]:
        """The bot's posts in #general, oldest first."""

    def private_posts(self, user: str) -> list[Post]:
        """What the bot said privately to ``user`` (ephemeral or direct), oldest first."""


def _text_of(command: Command, values: Mapping[str, str]) -> str:
    return command.text.format(**values)


class _Base:
    """What the adapters share: settings, clock, the app's life cycle."""

    def __init__(self, settings: Settings, clock: MovableClock) -> None:
        self.settings = settings
        self.clock = clock
        self.app: TracedApp  # a new one at each start, as after a restart of the process
        self._started = False

    def _platform(self, app: TracedApp) -> Any:
        raise NotImplementedError

    async def start(self) -> None:
        self.app = TracedApp(self.settings, clock=self.clock)
        self.app.add_platform(self._platform(self.app))
        # No wall-clock wake-ups: the scenario moves the clock and runs what is due itself.
        await self.app.start(with_scheduler=False)
        self._started = True

    async def stop(self) -> None:
        if self._started:
            self._started = False
            await self.app.stop()

    async def _handled_after(self, act: Callable[[], object]) -> None:
        """Do ``act`` (what a person does in the chat), then wait until the app has handled the
        event it caused and sent its answers."""
        before = self.app.handled
        result = act()
        if inspect.isawaitable(result):
            await result
        await self.app.wait_handled(before + 1)


# --- console ---------------------------------------------------------------------------------


class ConsoleAdapter(_Base):
    """The real console platform fed lines (``@alice: /aide``, ``:click N K``); the bot's posts are
    read back from its journal (``console-journal.jsonl``), edits included."""

    def __init__(self, settings: Settings, clock: MovableClock, out_dir: Path) -> None:
        super().__init__(settings, clock)
        self.users = {MEMBER: MEMBER_NAME, COORDINATOR: COORDINATOR_NAME}
        self.out_dir = out_dir
        self.out = io.StringIO()
        self.console: ConsolePlatform | None = None

    def _platform(self, app: TracedApp) -> ConsolePlatform:
        self.console = ConsolePlatform(
            out=self.out,
            out_dir=self.out_dir,
            clock=self.clock,
            translator=app.translator(),
            coordinators=self.settings.roles.console.coordinators,
            user=COORDINATOR_NAME,
            channel=CHANNEL,
        )
        return self.console

    async def _feed(self, line: str) -> None:
        assert self.console is not None
        assert await self.console.feed_line(line)

    async def run(self, user: str, command: Command, values: Mapping[str, str]) -> None:
        line = f"@{self.users[user]}: /{_text_of(command, values)}"
        await self._handled_after(lambda: self._feed(line))

    async def pick(self, user: str, post: Post, choice: int) -> None:
        await self._feed(f":as {self.users[user]}")
        await self._handled_after(lambda: self._feed(f":click {post.id} {choice}"))

    def _journal(self) -> list[dict[str, Any]]:
        path = self.out_dir / JOURNAL
        latest: dict[int, dict[str, Any]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            latest[int(record["n"])] = record  # an edit replaces the text it edits
        return [latest[n] for n in sorted(latest) if latest[n]["author"] == "tisserand"]

    @staticmethod
    def _post(record: dict[str, Any]) -> Post:
        actions = tuple(str(c["action"]) for c in record.get("choices", []))
        return Post(str(record["n"]), str(record["text"]), actions)

    def public_posts(self) -> list[Post]:
        return [
            self._post(r)
            for r in self._journal()
            if r["direct_to"] is None and r["channel"] == CHANNEL
        ]

    def private_posts(self, user: str) -> list[Post]:
        return [self._post(r) for r in self._journal() if r["direct_to"] == self.users[user]]


# --- Rocket.Chat -----------------------------------------------------------------------------


class RocketChatAdapter(_Base):
    """Commands are said in the room with the ``!`` prefix. Rocket.Chat offers choices two ways:
    the member votes with the numbered reaction, the coordinator with the action button (which
    makes the user post ``!choix <action>``), so both are covered."""

    def __init__(self, settings: Settings, clock: MovableClock, server: FakeRocketChat) -> None:
        super().__init__(settings, clock)
        self.users = {MEMBER: MEMBER_NAME, COORDINATOR: COORDINATOR_NAME}
        self.server = server
        self.general = server.room(CHANNEL)

    def _platform(self, app: TracedApp) -> RocketChatPlatform:
        # The bot role bypasses the server's limiter: no need to pace writes in a test.
        settings = RocketChatSettings(
            server_url=self.server.url, username=RC_BOT, messages_per_second=100
        )
        return RocketChatPlatform(settings, password=RC_PASSWORD)

    async def run(self, user: str, command: Command, values: Mapping[str, str]) -> None:
        text = "!" + _text_of(command, values)
        await self._handled_after(lambda: self.server.say(self.users[user], self.general, text))

    async def pick(self, user: str, post: Post, choice: int) -> None:
        username = self.users[user]
        if user == MEMBER:
            emoji = NUMBER_EMOJIS[choice - 1]
            await self.server.wait_for(
                lambda: emoji in (self.server.messages[post.id].get("reactions") or {}), WAIT
            )
            await self._handled_after(lambda: self.server.react(username, post.id, emoji))
        else:
            button = f"!{CHOICE_KEYWORD} {post.actions[choice - 1]}"
            await self._handled_after(lambda: self.server.say(username, self.general, button))

    @staticmethod
    def _post(message: dict[str, Any]) -> Post:
        actions: list[str] = []
        for attachment in message.get("attachments") or []:
            for action in attachment.get("actions") or []:
                actions.append(str(action["msg"]).split(f"{CHOICE_KEYWORD} ", 1)[1])
        return Post(str(message["_id"]), str(message["msg"]), tuple(actions))

    def public_posts(self) -> list[Post]:
        return [self._post(m) for m in self.server.messages_by(RC_BOT, self.general)]

    def _direct_room(self, username: str) -> FakeRoom | None:
        wanted = {self.server.user(username).id, self.server.user(RC_BOT).id}
        for room in self.server.rooms.values():
            if room.type == "d" and set(room.members) == wanted:
                return room
        return None

    def private_posts(self, user: str) -> list[Post]:
        room = self._direct_room(self.users[user])
        if room is None:
            return []
        return [self._post(m) for m in self.server.messages_by(RC_BOT, room)]


# --- Discord ---------------------------------------------------------------------------------


class DiscordAdapter(_Base):
    """Commands are slash commands (locale ``fr``) whose option types come from the payload the
    platform synced from the registry; choices are buttons (or a select menu)."""

    def __init__(self, settings: Settings, clock: MovableClock, fake: FakeDiscord) -> None:
        super().__init__(settings, clock)
        self.fake = fake
        self.channel: FakeChannel = next(c for c in fake.channels.values() if c.name == CHANNEL)
        by_name = {u.username: u for u in fake.users.values()}
        self.users: dict[str, FakeUser] = {
            MEMBER: by_name[MEMBER_NAME],
            COORDINATOR: by_name[COORDINATOR_NAME],
        }

    def _platform(self, app: TracedApp) -> DiscordPlatform:
        return DiscordPlatform(
            DiscordSettings(api_base_url=self.fake.base_url),
            DISCORD_TOKEN,
            commands=application_commands(app.registry, app.translators),
            autocomplete=app.autocomplete,
            guild_ready_timeout=0.02,
        )

    def _options(
        self, command: Command, values: Mapping[str, str]
    ) -> tuple[str, list[dict[str, Any]]]:
        """The interaction's ``data.options``, typed as the synced command declares them."""
        path = command.slash.split()
        synced = next(c for c in self.fake.commands[None] if c["name"] == path[0])
        declared: list[dict[str, Any]] = synced.get("options") or []
        if len(path) == 2:
            declared = next(o for o in declared if o["name"] == path[1]).get("options") or []
        types = {o["name"]: o["type"] for o in declared}
        options: list[dict[str, Any]] = []
        for name, value in command.options.items():
            if isinstance(value, Channel):
                value = str(self.channel.id)
            elif isinstance(value, Var):
                value = int(values[value.name])
            options.append({"name": name, "type": types[name], "value": value})
        if len(path) == 2:
            return path[0], [{"type": 1, "name": path[1], "options": options}]
        return path[0], options

    async def run(self, user: str, command: Command, values: Mapping[str, str]) -> None:
        name, options = self._options(command, values)
        who = self.users[user]
        await self._handled_after(
            lambda: self.fake.slash_command(who, self.channel, name, options, locale="fr")
        )

    async def pick(self, user: str, post: Post, choice: int) -> None:
        message = self.fake.messages[int(post.id)]
        custom_ids = message.custom_ids()
        who = self.users[user]
        action = post.actions[choice - 1]
        if custom_ids and custom_ids[0].startswith(SELECT_PREFIX):
            await self._handled_after(
                lambda: self.fake.select(who, message, custom_ids[0], [action])
            )
        else:
            await self._handled_after(
                lambda: self.fake.click(who, message, CUSTOM_ID_PREFIX + action)
            )

    @staticmethod
    def _post(message: FakeMessage) -> Post:
        actions: list[str] = []
        for row in message.components:
            for item in row.get("components", []):
                custom_id = str(item.get("custom_id", ""))
                if custom_id.startswith(CUSTOM_ID_PREFIX):
                    actions.append(custom_id[len(CUSTOM_ID_PREFIX) :])
                elif custom_id.startswith(SELECT_PREFIX):
                    actions.extend(str(o["value"]) for o in item.get("options", []))
        return Post(str(message.id), message.content, tuple(actions))

    def public_posts(self) -> list[Post]:
        return [
            self._post(m)
            for m in self.fake.channel_messages(self.channel)
            if m.author_id == self.fake.bot.id
        ]

    def private_posts(self, user: str) -> list[Post]:
        who = self.users[user]
        dm = self.fake.dm_channel_of(who)
        return [
            self._post(m)
            for m in sorted(self.fake.messages.values(), key=lambda m: m.id)
            if m.author_id == self.fake.bot.id
            and not m.deleted
            and (m.ephemeral_to == who.id or (dm is not None and m.channel_id == dm.id))
        ]


# --- running the scenario -----------------------------------------------------------------------


def _check(seen: Seen | None, posts: list[Post], where: str) -> None:
    texts = [p.text for p in posts]
    if seen is None:
        assert texts == [], f"nothing expected {where}, got {texts}"
        return
    if seen.count is None:
        assert texts, f"a message expected {where}"
    else:
        assert len(texts) == seen.count, f"{seen.count} message(s) expected {where}, got {texts}"
    joined = "\n".join(texts)
    for fragment in seen.contains:
        assert fragment in joined, f"{fragment!r} expected {where} in {joined!r}"
    for fragment in seen.lacks:
        assert fragment not in joined, f"{fragment!r} unexpected {where} in {joined!r}"
    if seen.starts is not None:
        assert texts[0].startswith(seen.starts), f"{where}: {texts[0]!r}"


async def play(adapter: Adapter, steps: list[Step]) -> None:
    values: dict[str, str] = {}
    people = (MEMBER, COORDINATOR)
    for step in steps:
        public_before = {p.id for p in adapter.public_posts()}
        private_before = {
            person: {p.id for p in adapter.private_posts(person)} for person in people
        }
        action = step.action
        actor: str | None = None
        if isinstance(action, Run):
            actor = action.user
            await adapter.run(action.user, action.command, values)
        elif isinstance(action, Pick):
            actor = action.user
            offering = [p for p in adapter.public_posts() if p.actions]
            assert offering, f"{step.title}: no post with choices in #general"
            await adapter.pick(action.user, offering[-1], action.choice)
        elif isinstance(action, MoveClock):
            adapter.clock.advance(action.delta)
            await adapter.app.scheduler.run_due()
        else:
            await adapter.stop()
            await adapter.start()
            await adapter.app.scheduler.run_due()  # what a start does: deliver what is due

        new_public = [p for p in adapter.public_posts() if p.id not in public_before]
        _check(step.public, new_public, f"in #{CHANNEL} after “{step.title}”")
        for person in people:
            new_private = [
                p for p in adapter.private_posts(person) if p.id not in private_before[person]
            ]
            expected = step.private if person == actor else None
            _check(expected, new_private, f"privately to the {person} after “{step.title}”")
        if step.learn is not None:
            actions = new_public[0].actions
            match = re.match(r"^[a-z]+:(\d+):", actions[0] if actions else "")
            assert match, f"{step.title}: no numbered choice in {actions}"
            values[step.learn] = match.group(1)


def _settings(database: Database, tmp_path: Path) -> Settings:
    return load_settings(
        None,
        database_url=database.url,
        environ={},
        overrides={
            "data_dir": str(tmp_path / "data"),
            "roles": {"console": {"coordinators": [COORDINATOR_NAME]}},
        },
    )


@pytest.fixture(params=["console", "rocketchat", "discord"])
def chat(request: pytest.FixtureRequest) -> tuple[str, FakeRocketChat | FakeDiscord | None]:
    """The platform under test and its fake server (started only for that platform)."""
    platform = str(request.param)
    if platform == "rocketchat":
        return platform, request.getfixturevalue("rocketchat_server")
    if platform == "discord":
        return platform, request.getfixturevalue("discord_server")
    return platform, None


@contextlib.asynccontextmanager
async def adapter_for(
    chat: tuple[str, FakeRocketChat | FakeDiscord | None], settings: Settings, tmp_path: Path
) -> AsyncIterator[Adapter]:
    clock = MovableClock(START)
    adapter: ConsoleAdapter | RocketChatAdapter | DiscordAdapter
    _, server = chat
    if isinstance(server, FakeRocketChat):
        adapter = RocketChatAdapter(settings, clock, server)
    elif isinstance(server, FakeDiscord):
        adapter = DiscordAdapter(settings, clock, server)
    else:
        adapter = ConsoleAdapter(settings, clock, tmp_path / "console")
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


@pytest.mark.asyncio
async def test_the_platforms_agree(
    no_leftover_tasks: None,
    chat: tuple[str, FakeRocketChat | FakeDiscord | None],
    database: Database,
    tmp_path: Path,
) -> None:
    steps = scenario()
    async with adapter_for(chat, _settings(database, tmp_path), tmp_path) as adapter:
        await play(adapter, steps)
