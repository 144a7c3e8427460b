"""One scenario, three platforms: the console, Rocket.Chat and Discord must agree.

The scenario is written once, as data (:data:`CORE_STEPS`, the families' steps, and
:data:`TIME_STEPS`): who does what, and what the bot must then have said in ``#general``, in
private to the actor, and in private to the other person. An adapter per platform knows how a
person runs a command there (``/aide`` typed in the console, ``!aide`` said in a Rocket.Chat room,
the ``help`` slash command on Discord), picks a choice (``:click``, a numbered reaction or an
action button, a Discord button), says something in a channel, proposes a message for the
gazette (the 📰 reaction; on Discord the message menu "Ajouter à la gazette", see
:class:`Highlight`), and how to read what the bot posted. Each adapter drives the real
:class:`bot.app.App` (on SQLite, and on PostgreSQL when ``TISSERAND_TEST_DATABASE_URL`` is set)
with the real platform; Rocket.Chat and Discord run against their fakes (tests/fakes/) over
loopback sockets, and the page a member shares is served on loopback too (``[feeds]
allow_private_networks``).

The story: help in French then in English, a refused and a delivered announcement, a scheduled
one; a poll with two votes and its results; a session with one seat, taken by the member through
the announcement's choice while the coordinator is waitlisted; a digest scheduled for Tuesday, a
page shared with a comment, and the digest that carries it once the clock reaches Tuesday; the
member's words proposed for the gazette by a coordinator, the author's consent asked privately
and given through a choice, the highlight listed with its consent; then the scheduled
announcement two days later, and a restart that posts nothing again.

Steps wait on conditions, never on durations: the app below counts the events it has finished
handling (replies sent, outbox delivered), and a step is checked once its event is handled.

Extension points
----------------
A command family adds its steps to :data:`FAMILY_STEPS` (family name -> steps). They run between
the announcements and the clock move, on every platform, as soon as the family is wired into
``bot.wiring.FAMILIES``. A step that needs something learnt earlier (a poll number) names it
with ``learn=`` and uses it as ``{name}`` in a command text or a text option, or :class:`Var` in
Discord options; values known from the start (``{article}``, the shared page's URL) are given to
:func:`play`. Clock moves are absolute (:class:`MoveClock`), so a family may move the clock
without shifting the steps after it.
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

from bot.app import App
from bot.clock import MovableClock
from bot.config import Settings, load_settings
from bot.core import Event
from bot.platforms.console import JOURNAL, ConsolePlatform
from bot.platforms.discord import DiscordPlatform, DiscordSettings
from bot.platforms.discord.app_commands import MESSAGE_MENUS, application_commands
from bot.platforms.discord.views import CUSTOM_ID_PREFIX, SELECT_PREFIX
from bot.platforms.rocketchat import RocketChatPlatform, RocketChatSettings
from bot.platforms.rocketchat.reactions import CHOICE_KEYWORD, NUMBER_EMOJIS
from bot.wiring import FAMILIES
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
    WebPages,
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
    names, as Discord sends them). ``{name}`` in texts (and in text options) is replaced by
    learnt values."""

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
    """``user`` picks choice number ``choice`` (from 1) of the bot's newest post that carries
    choices, the way the platform offers it: in #general, or (``private``) among the bot's
    private messages to ``user``."""

    user: str
    choice: int
    private: bool = False


@dataclass(frozen=True)
class Say:
    """``user`` says ``text`` in #general (not a command); the message is remembered as
    ``name`` for a later :class:`Highlight`."""

    user: str
    text: str
    name: str


@dataclass(frozen=True)
class Highlight:
    """``user`` proposes the message remembered as ``name`` for the gazette, the platform's way:
    the 📰 reaction on the console and Rocket.Chat, the message menu "Ajouter à la gazette" on
    Discord (without the privileged Message Content intent, which Tisserand does not ask for by
    default, Discord gives a bot neither the text of channel messages nor that of a reacted
    message; the menu's interaction carries it)."""

    user: str
    name: str


@dataclass(frozen=True)
class MoveClock:
    """The clock moves forward to ``to``; the scheduler then runs what fell due. Moments are
    absolute, so a family's clock move does not shift the ones after it."""

    to: datetime


@dataclass(frozen=True)
class Restart:
    """The bot stops and starts again on the same database (and the same chat server)."""


Action = Run | Pick | Say | Highlight | MoveClock | Restart


@dataclass(frozen=True)
class Seen:
    """New bot messages of one kind (in #general, or private to the actor), read as one text.

    ``count`` is the exact number of new messages; None means one or more (a long text may be
    split on platforms with a size limit; Rocket.Chat posts an attached file as a message of its
    own)."""

    contains: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()
    starts: str | None = None
    count: int | None = 1


@dataclass(frozen=True)
class Step:
    """One action and what must follow. ``public`` None: nothing new in #general; ``private``
    None: nothing private to the actor; ``other`` None: nothing private to the other person (the
    member when the coordinator acts, and the other way round; after a clock move or a restart,
    nothing private to anyone). ``learn``: remember under this name the number in the first
    choice of the new public post (``poll:12:vote:1`` -> 12)."""

    title: str
    action: Action
    public: Seen | None = None
    private: Seen | None = None
    other: Seen | None = None
    learn: str | None = None


LATER = (START + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
"""The scheduled announcement: two days after the start, typed in the network's zone."""

CORE_STEPS: list[Step] = [
    Step(
        "a member asks for help and gets the French listing, without coordinator commands",
        Run(MEMBER, Command("aide", "help")),
        private=Seen(  # answered to the asker only (issue 15)
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
        private=Seen(  # answered to the asker only (issue 15)
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
        "the member types /annonce alone: told first it is the coordinators', no usage shown",
        Run(MEMBER, Command("annonce", "announce")),
        private=Seen(
            contains=("/announce is reserved for the network's coordinators",),
            lacks=("Usage", "missing", "<"),
        ),
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
        "French quotes inside a quoted text are kept as typed",
        Run(
            COORDINATOR,
            Command(
                'annonce #general "Le défi « Familles zéro déchet » commence"',
                "announce",
                {"channel": Channel(CHANNEL), "text": "Le défi « Familles zéro déchet » commence"},
            ),
        ),
        public=Seen(starts="📣 Le défi « Familles zéro déchet » commence"),
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


SESSION_TITLE = "Atelier compost"
SESSION_WHEN = "2026-12-10 14:00"
"""Far enough ahead that no reminder falls due during the scenario."""


def session_steps() -> list[Step]:
    """A session with one seat: the member takes it through the announcement's choice, the
    coordinator lands on the waiting list."""
    return [
        Step(
            "a coordinator creates a session with one seat: announced in #general with its choices",
            Run(
                COORDINATOR,
                Command(
                    f'session creer "{SESSION_TITLE}" --quand "{SESSION_WHEN}" --places 1',
                    "session create",
                    {"title": SESSION_TITLE, "when": SESSION_WHEN, "seats": 1},
                ),
            ),
            public=Seen(contains=(SESSION_TITLE, "/inscription"), count=None),  # + the .ics
            private=Seen(contains=("créée et annoncée ici",)),
            learn="session",
        ),
        Step(
            "the member registers through the announcement's choice: confirmed, and the "
            "confirmation with its calendar file comes by direct message",
            Pick(MEMBER, 1),
            private=Seen(
                contains=("Your registration for", SESSION_TITLE),
                count=None,  # the confirmation (and its .ics, a file of its own), alone
            ),
        ),
        Step(
            "the coordinator registers too: the session is full, so the waiting list",
            Pick(COORDINATOR, 1),
            private=Seen(contains=("est complète", "liste d'attente, en position 1")),
        ),
    ]


ARTICLE_TITLE = "Le compost partagé en ville"
ARTICLE_COMMENT = "Un retour d'expérience utile"
ARTICLE_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'>"
    f"<title>{ARTICLE_TITLE}</title>"
    "<meta name='description' content='Trois quartiers racontent leur compost collectif.'>"
    "</head><body><p>Trois quartiers racontent leur compost collectif.</p></body></html>"
)
"""The page the member shares, served on loopback by the test (``{article}`` is its URL)."""
DIGEST_DAY = START + timedelta(days=1, hours=1)
"""Tuesday 10:00: past the digest slot the coordinator chooses (Tuesday 9:00)."""


def veille_steps() -> list[Step]:
    """A shared link, read from a local web page, then the weekly digest that carries it."""
    return [
        Step(
            "a coordinator schedules the digest of #general on Tuesdays at 9:00",
            Run(
                COORDINATOR,
                Command(
                    'digest programmer #general "mardi 9h"',
                    "digest schedule",
                    {"channel": Channel(CHANNEL), "when": "mardi 9h"},
                ),
            ),
            private=Seen(contains=("La veille de #general sera publiée chaque semaine le mardi",)),
        ),
        Step(
            "the member shares a page with a comment: a private thank-you naming its title",
            Run(
                MEMBER,
                Command(
                    f'partager {{article}} "{ARTICLE_COMMENT}"',
                    "share",
                    {"url": "{article}", "comment": ARTICLE_COMMENT},
                ),
            ),
            private=Seen(contains=(f"“{ARTICLE_TITLE}” will be in the digest of #general",)),
        ),
        Step(
            "on Tuesday the digest is posted in #general with the shared page and its comment",
            MoveClock(DIGEST_DAY),
            public=Seen(contains=(ARTICLE_TITLE, ARTICLE_COMMENT), count=None),  # + its HTML
        ),
    ]


WORDS = "Le compost collectif a réduit nos déchets de moitié."


def highlight_steps() -> list[Step]:
    """The member's words proposed by a coordinator, the author's consent asked privately and
    given through a choice, then the highlight listed for the gazette."""
    return [
        Step("the member says something worth keeping in #general", Say(MEMBER, WORDS, "words")),
        Step(
            "a coordinator proposes it for the gazette: recorded, and its author is asked",
            Highlight(COORDINATOR, "words"),
            private=Seen(contains=("enregistrée", "J'ai demandé à")),
            other=Seen(contains=("Your words in #general were chosen", WORDS)),
        ),
        Step(
            "the member accepts through the choice of the private question",
            Pick(MEMBER, 1, private=True),
            private=Seen(contains=("may appear in the gazette with your name",)),
        ),
        Step(
            "the coordinator lists the highlights: the words are there, publishable with the name",
            Run(COORDINATOR, Command("pepite liste", "highlight list")),
            private=Seen(
                contains=("Dernières pépites", "Le compost collectif", "publiable avec le nom")
            ),
        ),
    ]


def idea_steps() -> list[Step]:
    """An idea proposed by the member, supported by the coordinator with its button, listed."""
    return [
        Step(
            "the member proposes an idea: posted in #general with its support buttons",
            Run(
                MEMBER,
                Command(
                    'idee "Un atelier compost"', "idea propose", {"text": "Un atelier compost"}
                ),
            ),
            public=Seen(contains=("Un atelier compost", "Soutenez-la avec le bouton")),
            private=Seen(contains=("Thank you! Your idea is",)),
            learn="idea",
        ),
        Step(
            "the coordinator supports it with the button",
            Pick(COORDINATOR, 1),
            private=Seen(contains=("Vous soutenez l'idée", "2 soutiens")),
        ),
        Step(
            "the member lists the ideas, the most supported first",
            Run(MEMBER, Command("idees", "ideas")),
            private=Seen(contains=("Ideas box", "Un atelier compost", "2 supports")),
        ),
    ]


def questionnaire_steps() -> list[Step]:
    """A questionnaire announced in #general, started with its button, answered privately."""
    return [
        Step(
            "a coordinator creates a questionnaire",
            Run(
                COORDINATOR,
                Command('questionnaire creer "Bilan"', "survey create", {"title": "Bilan"}),
            ),
            private=Seen(contains=("Le questionnaire n° 1 « Bilan » est créé",)),
        ),
        Step(
            "the coordinator adds a choice question",
            Run(
                COORDINATOR,
                Command(
                    'questionnaire question 1 choix "Utile ?" "Oui" "Non"',
                    "survey question",
                    {"number": 1, "kind": "choice", "text": "Utile ?", "choices": '"Oui" "Non"'},
                ),
            ),
            private=Seen(contains=("Question 1 (choix unique) ajoutée",)),
        ),
        Step(
            "the coordinator announces it in #general, with its Answer button",
            Run(
                COORDINATOR,
                Command(
                    "questionnaire lancer 1 --canal #general",
                    "survey launch",
                    {"number": 1, "channel": Channel("general")},
                ),
            ),
            public=Seen(contains=("Questionnaire n° 1 — Bilan",)),
            private=Seen(contains=("est annoncé dans #general",)),
            learn="survey",
        ),
        Step(
            "the member starts it: the first question, privately",
            Pick(MEMBER, 1),
            private=Seen(contains=("Question 1 of 1", "Utile ?")),
        ),
        Step(
            "the member answers with the question's first button",
            Pick(MEMBER, 1, private=True),
            private=Seen(contains=("Thank you! Your answers to questionnaire",)),
        ),
    ]


def member_steps() -> list[Step]:
    """A profile, the directory that shows it, and a round of meetings between the two."""
    return [
        Step(
            "the member gives their organisation: confirmed privately",
            Run(
                MEMBER,
                Command(
                    'profil organisation "Mairie de Lons"',
                    "profile organisation",
                    {"text": "Mairie de Lons"},
                ),
            ),
            private=Seen(contains=("Mairie de Lons",)),
        ),
        Step(
            "the coordinator reads the directory: the member is in it, answered privately",
            Run(COORDINATOR, Command("annuaire", "directory")),
            private=Seen(contains=("Mairie de Lons",)),
        ),
        Step(
            "the member joins the rounds of meetings",
            Run(MEMBER, Command("rencontres rejoindre", "meet join")),
            private=Seen(count=None),
        ),
        Step(
            "the coordinator joins too",
            Run(COORDINATOR, Command("rencontres rejoindre", "meet join")),
            private=Seen(count=None),
        ),
        Step(
            "the round is held; the introduction comes by direct message",
            Run(COORDINATOR, Command("rencontres lancer", "meet run")),
            private=Seen(contains=("Tour n° 1", "Mairie de Lons"), count=None),
            other=Seen(contains=("Meeting round: this time you meet",)),
        ),
    ]


FAMILY_STEPS: dict[str, Callable[[], list[Step]]] = {
    "polls": poll_steps,
    "sessions": session_steps,
    "veille": veille_steps,
    "gazette": highlight_steps,
    "ideas": idea_steps,
    "questionnaires": questionnaire_steps,
    "members": member_steps,
}
"""Steps of each command family, keyed by family name (see the module docstring)."""

TIME_STEPS: list[Step] = [
    Step(
        "two days later the scheduled announcement is delivered, once",
        MoveClock(START + timedelta(days=2, hours=1)),
        public=Seen(starts="📣 La plénière commence"),
    ),
    Step("after a restart on the same database nothing is posted again", Restart()),
]


def scenario() -> list[Step]:
    wired = {family.name for family in FAMILIES}
    unknown = set(FAMILY_STEPS) - wired
    assert not unknown, f"FAMILY_STEPS names families that are not wired: {sorted(unknown)}"
    steps = list(CORE_STEPS)
    for family in FAMILY_STEPS.values():
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
        """``user`` picks choice ``choice`` of ``post`` (in #general or in a private
        conversation); returns once the app has handled it."""

    async def say(self, user: str, text: str) -> str:
        """``user`` says ``text`` in #general; returns the message's id on the platform, once
        the app has handled what the platform gave it (if anything)."""

    async def highlight(self, user: str, message_id: str) -> None:
        """``user`` proposes message ``message_id`` for the gazette (see :class:`Highlight`);
        returns once the app has handled it."""

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
        self.app = TracedApp(self.settings, clock=self.clock, families=FAMILIES)
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

    async def say(self, user: str, text: str) -> str:
        name = self.users[user]
        await self._handled_after(lambda: self._feed(f"@{name}: {text}"))
        said = [r for r in self._records() if r["author"] == name and r["text"] == text]
        return str(said[-1]["n"])

    async def highlight(self, user: str, message_id: str) -> None:
        await self._feed(f":as {self.users[user]}")
        await self._handled_after(lambda: self._feed(f":react {message_id} 📰"))

    def _records(self) -> list[dict[str, Any]]:
        path = self.out_dir / JOURNAL
        latest: dict[int, dict[str, Any]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "n" in record:  # not a "printed" record
                latest[int(record["n"])] = record  # an edit replaces the text it edits
        return [latest[n] for n in sorted(latest)]

    def _journal(self) -> list[dict[str, Any]]:
        return [record for record in self._records() if record["author"] == "tisserand"]

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
            room = self.server.rooms[str(self.server.messages[post.id]["rid"])]
            button = f"!{CHOICE_KEYWORD} {post.actions[choice - 1]}"
            await self._handled_after(lambda: self.server.say(username, room, button))

    async def say(self, user: str, text: str) -> str:
        said: dict[str, Any] = {}
        await self._handled_after(
            lambda: said.update(self.server.say(self.users[user], self.general, text))
        )
        return str(said["_id"])

    async def highlight(self, user: str, message_id: str) -> None:
        username = self.users[user]
        await self._handled_after(lambda: self.server.react(username, message_id, ":newspaper:"))

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
            elif isinstance(value, str):
                value = value.format(**values)
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

    async def say(self, user: str, text: str) -> str:
        # Without the Message Content intent the bot receives the message without its text and
        # ignores it: there is nothing to wait for.
        message = await self.fake.say(self.users[user], self.channel, text)
        return str(message.id)

    async def highlight(self, user: str, message_id: str) -> None:
        message = self.fake.messages[int(message_id)]
        who = self.users[user]
        await self._handled_after(
            lambda: self.fake.message_command(who, message, MESSAGE_MENUS[0].name)
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


async def play(adapter: Adapter, steps: list[Step], known: Mapping[str, str] | None = None) -> None:
    """Run ``steps`` on ``adapter``; ``known`` gives values the commands use from the start
    (``{article}``: the URL of the page the test serves)."""
    values: dict[str, str] = dict(known or {})
    said: dict[str, str] = {}
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
            posts = adapter.private_posts(actor) if action.private else adapter.public_posts()
            offering = [p for p in posts if p.actions]
            where = f"privately to the {actor}" if action.private else f"in #{CHANNEL}"
            assert offering, f"{step.title}: no post with choices {where}"
            await adapter.pick(action.user, offering[-1], action.choice)
        elif isinstance(action, Say):
            actor = action.user
            said[action.name] = await adapter.say(action.user, action.text)
        elif isinstance(action, Highlight):
            actor = action.user
            await adapter.highlight(action.user, said[action.name])
        elif isinstance(action, MoveClock):
            adapter.clock.move_to(action.to)
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
            expected: Seen | None = None  # a clock move or a restart: nothing private
            if actor is not None:
                expected = step.private if person == actor else step.other
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
            "feeds": {"allow_private_networks": True},  # the shared page is on loopback
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
    web_pages: WebPages,
) -> None:
    steps = scenario()
    web_pages.pages["/compost"] = ARTICLE_PAGE
    known = {"article": web_pages.url("/compost")}
    async with adapter_for(chat, _settings(database, tmp_path), tmp_path) as adapter:
        await play(adapter, steps, known)
    if any(isinstance(step.action, Run) and step.action.command.slash == "share" for step in steps):
        assert web_pages.requested == ["/compost"]  # the shared page was read, once
