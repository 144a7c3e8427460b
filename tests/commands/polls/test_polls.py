"""Polls through the whole stack (App.process, outbox, scheduler), on SQLite and on PostgreSQL
when configured; the services alone are tested in test_service.py."""

from __future__ import annotations

import csv
import hashlib
import io
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import MetaData, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.core import (
    Actor,
    ChoiceEvent,
    CommandEvent,
    MessageRef,
    Place,
    PlaceTarget,
    Reply,
    Role,
    UserError,
)
from bot.i18n import Translators
from bot.outbox import sent_ref
from bot.storage.members import Member
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.storage.polls import Poll, PollAnonymousBallot, PollMode, PollSealedVoter
from bot.wiring import make_app
from commands.polls import EDIT_THROTTLE, best_date_slot, poll_results, voter_key
from tests.conftest import Database
from tests.support.platform import RecordingPlatform

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 23 November 2026, 09:00 in Paris
COORDINATORS = {"camille"}
FR = Translators(ZoneInfo("Europe/Paris")).get("fr")


# --- a small harness around the real App -------------------------------------------------------


@dataclass
class Bot:
    app: App
    platform: RecordingPlatform
    clock: FrozenClock
    engine: Engine

    @classmethod
    async def start(
        cls, url: str, data_dir: Path, clock: FrozenClock | None = None, **overrides: Any
    ) -> Bot:
        settings = load_settings(
            None, database_url=url, environ={}, overrides={"data_dir": str(data_dir), **overrides}
        )
        clock = clock or FrozenClock(START)
        app = make_app(settings, clock=clock)
        platform = RecordingPlatform()
        app.add_platform(platform)
        await app.start(with_scheduler=False)
        return cls(app, platform, clock, app.engine)

    async def stop(self) -> None:
        await self.app.stop()

    def actor(self, user: str) -> Actor:
        roles = {Role.MEMBER} | ({Role.COORDINATOR} if user in COORDINATORS else set())
        return Actor("console", user, user.capitalize(), roles=frozenset(roles))

    async def say(self, line: str, user: str = "camille", channel: str = "general") -> list[Reply]:
        event = CommandEvent(
            actor=self.actor(user),
            place=Place("console", channel, channel),
            at=self.clock.now(),
            text=line.lstrip("/"),
            ref=MessageRef("console", channel, f"{user}:{line}"),
        )
        outcome = await self.app.process(event)
        assert outcome.error_id is None
        await self.app.scheduler.run_due()
        return outcome.replies

    async def click(self, action: str, user: str = "camille") -> list[Reply]:
        event = ChoiceEvent(
            actor=self.actor(user),
            place=Place("console", "general", "general"),
            at=self.clock.now(),
            action=action,
        )
        outcome = await self.app.process(event)
        assert outcome.error_id is None
        await self.app.scheduler.run_due()
        return outcome.replies

    async def advance(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        await self.app.scheduler.run_due()

    def posts(self) -> list[Reply]:
        return [reply for _, reply, token in self.platform.posted if not _is_edit(token)]

    def edits(self) -> list[Reply]:
        return [reply for _, reply, token in self.platform.posted if _is_edit(token)]


def _is_edit(token: str | None) -> bool:
    return token is not None and token.startswith("edit:")


def only(replies: list[Reply]) -> Reply:
    assert len(replies) == 1, replies
    return replies[0]


@pytest_asyncio.fixture
async def bot(database: Database, tmp_path: Path) -> AsyncIterator[Bot]:
    harness = await Bot.start(database.url, tmp_path)
    try:
        yield harness
    finally:
        await harness.stop()


def dump(engine: Engine, meta: MetaData | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: a picture of everything stored."""
    if meta is None:
        meta = MetaData()
        meta.reflect(engine)
    with engine.connect() as conn:
        return {
            name: sorted((tuple(row) for row in conn.execute(table.select())), key=repr)
            for name, table in meta.tables.items()
        }


def members_by_user(engine: Engine) -> dict[str, int]:
    with Session(engine) as db:
        return {m.user_id: m.id for m in db.scalars(select(Member))}


# --- creating and voting ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_poll_is_posted_through_the_outbox_with_one_button_per_option(bot: Bot) -> None:
    receipt = only(await bot.say('/sondage "Quel thème ?" "Sobriété" "Mobilités" "Eau"'))
    assert receipt.ephemeral
    assert receipt.text.startswith("Le sondage n° 1 est publié. Clôturez-le avec /sondage clore 1")
    (target, message, token) = bot.platform.posted[0]
    assert target == PlaceTarget("console", "general") and token is not None
    assert message.text.startswith("📊 **Sondage n° 1 : Quel thème ?**\n*Choix unique*")
    assert "0 participant·e" in message.text
    assert [c.action for c in message.choices] == [
        "poll:1:vote:1",
        "poll:1:vote:2",
        "poll:1:vote:3",
        "poll:1:withdraw",
    ]
    assert [c.label for c in message.choices][-1] == "Retirer mon vote"
    with Session(bot.engine) as db:
        assert sent_ref(db, "poll:1:message") is not None
        poll = db.get(Poll, 1)
        assert poll is not None and poll.mode == PollMode.SINGLE and poll.n_options == 3


@pytest.mark.asyncio
async def test_votes_change_withdraw_and_edits_are_throttled(bot: Bot) -> None:
    await bot.say('/sondage "Quel thème ?" "Sobriété" "Mobilités" "Eau"')
    voters = [f"v{i}" for i in range(30)]
    for i, voter in enumerate(voters):
        reply = only(await bot.click(f"poll:1:vote:{i % 3 + 1}", user=voter))
        assert reply.ephemeral and reply.text.startswith("Vote enregistré au sondage n° 1 : « ")
    assert bot.edits() == []  # the poll message was posted less than 5 s ago
    await bot.advance(EDIT_THROTTLE.total_seconds())
    assert len(bot.edits()) == 1
    assert "30 participant·es" in bot.edits()[0].text
    assert "**1.** Sobriété — ███░░░░░░░ 10 voix (33 %)" in bot.edits()[0].text
    # v0 changes to Eau, v1 withdraws, v2 votes again for the same option: no edit before 5 s.
    changed = only(await bot.click("poll:1:vote:3", user="v0"))
    assert changed.text == "Vote enregistré au sondage n° 1 : « Eau »."
    withdrawn = only(await bot.click("poll:1:withdraw", user="v1"))
    assert withdrawn.text == "Votre vote au sondage n° 1 est retiré."
    await bot.click("poll:1:vote:3", user="v2")
    await bot.advance(1)
    assert len(bot.edits()) == 1
    await bot.advance(4)
    assert len(bot.edits()) == 2
    last = bot.edits()[-1].text
    assert "29 participant·es" in last
    assert "**1.** Sobriété — ███░░░░░░░ 9 voix (31 %)" in last
    assert "**2.** Mobilités — ███░░░░░░░ 9 voix (31 %)" in last
    assert "**3.** Eau — ████░░░░░░ 11 voix (38 %)" in last
    await bot.advance(60)
    assert len(bot.edits()) == 2  # nothing changed since: no edit


@pytest.mark.asyncio
async def test_votes_do_not_rearm_the_edit_already_armed(
    database: Database, tmp_path: Path
) -> None:
    """With the scheduler running (as in production), the first vote arms the poll message's
    edit; later votes, whose edit is already covered, cost no query for the scheduled work; the
    armed moment is what the database says."""
    settings = load_settings(
        None, database_url=database.url, environ={}, overrides={"data_dir": str(tmp_path)}
    )
    clock = FrozenClock(START)
    app = make_app(settings, clock=clock)
    platform = RecordingPlatform()
    app.add_platform(platform)
    await app.start()  # with the scheduler: nothing falls due in real time during the test
    harness = Bot(app, platform, clock, app.engine)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    work = app.services["polls.work"]
    try:
        event.listen(app.engine, "before_cursor_execute", record)
        await harness.say('/sondage "Quel thème ?" "Sobriété" "Eau"')
        assert work.next_due() is None  # posted and not stale: nothing to do
        for voter, expect_rearm in (("v1", True), ("v2", False), ("v3", False)):
            statements.clear()
            outcome = await app.process(
                ChoiceEvent(
                    actor=harness.actor(voter),
                    place=Place("console", "general", "general"),
                    at=START,
                    action="poll:1:vote:1",
                )
            )
            assert outcome.error_id is None
            rearmed = any("min(polls.deadline)" in sql for sql in statements)
            assert rearmed == expect_rearm, (voter, statements)
        job = app.scheduler._aps.get_job("due:polls") if app.scheduler._aps else None
        assert job is not None
        assert work._next_due() == START + EDIT_THROTTLE == work._armed
        statements.clear()
        await harness.say("/sondage clore 1")  # anything but a vote re-arms from the database
        assert any("min(polls.deadline)" in sql for sql in statements)
    finally:
        event.remove(app.engine, "before_cursor_execute", record)
        await app.stop()
    assert not work.covers(START + timedelta(days=1))  # stopped: nothing is armed


@pytest.mark.asyncio
async def test_multiple_choice_toggles_and_respects_max(bot: Bot) -> None:
    await bot.say('/sondage "Quels ateliers ?" "Compost" "Vélo" "Énergie" --multiple --max 2')
    await bot.click("poll:1:vote:1", user="alice")
    reply = only(await bot.click("poll:1:vote:3", user="alice"))
    assert reply.text == "Vote enregistré au sondage n° 1 : « Compost », « Énergie »."
    refused = only(await bot.click("poll:1:vote:2", user="alice"))
    assert "au plus 2 options" in refused.text
    removed = only(await bot.click("poll:1:vote:1", user="alice"))
    assert removed.text == "Vote enregistré au sondage n° 1 : « Énergie »."
    shown = only(await bot.say("/voter 1", user="alice"))
    assert shown.text == (
        "Votre vote au sondage n° 1 : « Énergie ».\nSondage n° 1 : Quels ateliers ?"
    )
    assert [c.action for c in shown.choices][-1] == "poll:1:withdraw"
    typed = only(await bot.say("/voter 1 1 2", user="bob"))
    assert typed.text == "Vote enregistré au sondage n° 1 : « Compost », « Vélo »."
    too_many = only(await bot.say("/voter 1 1 2 3", user="bob"))
    assert "au plus 2 options" in too_many.text
    with Session(bot.engine) as db:
        poll = db.get(Poll, 1)
        assert poll is not None
        results = poll_results(db, poll)
    assert results.choices is not None
    assert [c.votes for c in results.choices.counts] == [1, 1, 1]
    assert results.voters == 2


# --- majority judgment and dates through the whole stack ---------------------------------------


@pytest.mark.asyncio
async def test_majority_judgment_ranks_with_tie_break_and_perfect_ties(bot: Bot) -> None:
    await bot.say('/sondage "Quel projet soutenir ?" "Jardin" "Vélo" "Compost" "Repair" --jugement')
    # Grades 1 (Excellent) .. 7 (À rejeter), one column per voter.
    grades = {
        1: [1, 1, 5, 6, 7],  # Jardin: majority grade Passable
        2: [3, 3, 3, 3, 3],  # Vélo: Bien
        3: [2, 2, 3, 6, 7],  # Compost: Bien, loses the tie-break to Vélo (then Insuffisant)
        4: [3, 3, 3, 3, 3],  # Repair: the same profile as Vélo: a perfect tie
    }
    for voter in range(5):
        for option, column in grades.items():
            await bot.click(f"poll:1:grade:{option}:{column[voter]}", user=f"v{voter}")
    await bot.say("/sondage clore 1")
    results = next(r.text for r in bot.posts() if "Résultats du sondage n° 1" in r.text)
    lines = results.splitlines()
    ranked = [line for line in lines if line.startswith("**")]
    assert ranked[0].startswith("**1.** Vélo 🏆 — **Bien** ")
    assert ranked[1].startswith("**1.** Repair 🏆 — **Bien** ")
    assert ranked[2].startswith("**3.** Compost — **Bien** ")
    assert ranked[3].startswith("**4.** Jardin — **Passable** ")
    assert "🟢" * 14 in ranked[0]  # five "Bien": the whole profile bar
    assert "Ex aequo : « Vélo », « Repair »" in results
    assert "5 participant·es" in results
    assert "🟦 Excellent · 🟩 Très bien · 🟢 Bien" in results


@pytest.mark.asyncio
async def test_majority_judgment_prompts_chain_and_text_votes(bot: Bot) -> None:
    await bot.say('/sondage "Quel projet ?" "Jardin" "Vélo" "Compost" --jugement')
    message = bot.posts()[0]
    assert [c.action for c in message.choices][:3] == [
        "poll:1:pick:1",
        "poll:1:pick:2",
        "poll:1:pick:3",
    ]
    prompt = only(await bot.click("poll:1:pick:2", user="alice"))
    assert prompt.text == "Sondage n° 1 : quelle mention donnez-vous à « Vélo » ?"
    assert [c.label for c in prompt.choices] == [
        "Excellent",
        "Très bien",
        "Bien",
        "Assez bien",
        "Passable",
        "Insuffisant",
        "À rejeter",
    ]
    graded = only(await bot.click("poll:1:grade:2:2", user="alice"))
    assert graded.text.splitlines() == [
        "Vote enregistré au sondage n° 1 : « Vélo » → Très bien.",
        "Sondage n° 1 : quelle mention donnez-vous à « Compost » ?",
    ]
    assert graded.choices[0].action == "poll:1:grade:3:1"
    typed = only(await bot.say('/voter 1 1=bien 3="assez bien"', user="bob"))
    assert typed.text.splitlines() == [
        "Vote enregistré au sondage n° 1 : « Jardin » → Bien, « Compost » → Assez bien.",
        "Sans mention pour l'instant : « Vélo » ; une option sans mention compte comme "
        "« À rejeter ».",
    ]
    in_order = only(await bot.say("/voter 1 excellent 7 TRES-BIEN", user="carol"))
    assert "« Jardin » → Excellent, « Vélo » → À rejeter, « Compost » → Très bien" in in_order.text
    wrong = only(await bot.say("/voter 1 1=nul", user="carol"))
    assert "« nul » n'est pas une mention" in wrong.text


@pytest.mark.asyncio
async def test_date_poll_finds_the_best_slot(bot: Bot) -> None:
    await bot.say(
        '/sondage "Prochaine journée terrain ?" "2026-12-07 14:00" "jeudi 3 décembre 14h" '
        '"4/12" --dates --fin "vendredi 18h"'
    )
    message = bot.posts()[0]
    # Slots are sorted; a date without a time is a whole day.
    assert [c.label for c in message.choices][:3] == [
        "jeudi 3 décembre à 14h00",
        "vendredi 4 décembre 2026",
        "lundi 7 décembre à 14h00",
    ]
    assert "*Recherche de date · Clôture le vendredi 27 novembre 2026 à 18h00*" in message.text
    prompt = only(await bot.click("poll:1:pick:1", user="alice"))
    assert prompt.text == "Sondage n° 1 : êtes-vous disponible « jeudi 3 décembre à 14h00 » ?"
    assert [c.action for c in prompt.choices] == [
        "poll:1:date:1:yes",
        "poll:1:date:1:ifneedbe",
        "poll:1:date:1:no",
    ]
    chained = only(await bot.click("poll:1:date:1:yes", user="alice"))
    assert chained.choices[0].action == "poll:1:date:2:yes"
    await bot.click("poll:1:date:3:ifneedbe", user="alice")
    await bot.say("/voter 1 oui non ?", user="bob")
    await bot.say("/voter 1 2=oui 3=oui", user="carol")
    with Session(bot.engine) as db:
        assert best_date_slot(db, 1) == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    await bot.say("/sondage clore 1")
    results = next(r.text for r in bot.posts() if "Résultats du sondage n° 1" in r.text)
    assert "**1.** jeudi 3 décembre à 14h00 ⭐ — ✅ 2 · 🤔 0 · ❌ 1" in results
    assert "**2.** vendredi 4 décembre 2026 — ✅ 1 · 🤔 0 · ❌ 2" in results
    assert "**3.** lundi 7 décembre à 14h00 — ✅ 1 · 🤔 2 · ❌ 0" in results
    assert "Meilleur créneau : « jeudi 3 décembre à 14h00 »" in results


@pytest.mark.asyncio
async def test_best_date_slot_refuses_other_polls(bot: Bot) -> None:
    await bot.say('/sondage "Q ?" "A" "B"')
    await bot.say('/sondage "Quand ?" "demain 10h" "mercredi 10h" --dates')
    with Session(bot.engine) as db:
        with pytest.raises(UserError, match="n'est pas une recherche de date"):
            best_date_slot(db, 1)
        with pytest.raises(UserError, match="Il n'y a pas de sondage n° 9"):
            best_date_slot(db, 9)
        with pytest.raises(UserError, match="Personne n'est encore disponible"):
            best_date_slot(db, 2)


# --- anonymity ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_anonymous_ballots_are_linked_to_nobody(
    bot: Bot, database: Database, tmp_path: Path
) -> None:
    await bot.say('/sondage "Quel thème ?" "Sobriété" "Mobilités" "Eau" --anonyme')
    await bot.click("poll:1:vote:1", user="alice")
    await bot.click("poll:1:vote:2", user="bob")
    await bot.click("poll:1:vote:3", user="alice")  # alice changes her vote
    await bot.click("poll:1:vote:1", user="carol")
    await bot.click("poll:1:withdraw", user="carol")
    shown = only(await bot.say("/vote 1", user="alice"))
    assert shown.text.startswith("Votre vote au sondage n° 1 : « Eau ».")
    ids = members_by_user(bot.engine)
    secret_file = tmp_path / "secret.key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    tables = dump(bot.engine)

    assert tables["poll_ballots"] == []  # nothing in the named ballots
    meta = MetaData()
    meta.reflect(bot.engine)
    anonymous = meta.tables["poll_anonymous_ballots"]
    assert set(anonymous.columns.keys()) == {"poll_id", "voter_key", "content", "sealed"}
    assert {fk.column.table.name for fk in anonymous.foreign_keys} == {"polls"}
    rows = tables["poll_anonymous_ballots"]
    assert sorted(row[2] for row in rows) == ["1", "2"]  # bob: Mobilités, alice: Eau
    keys = {row[1] for row in rows}
    for user in ("alice", "bob", "carol"):
        member_id = ids[user]
        plain = {
            hashlib.sha256(f"{1}:{member_id}".encode()).hexdigest(),
            hashlib.sha256(f"tisserand-poll-voter:1:{member_id}".encode()).hexdigest(),
        }
        assert not keys & plain
    assert keys == {voter_key(secret.encode(), 1, ids[u]) for u in ("alice", "bob")}
    # No other table mentions a voter, and the secret is not in the database.
    everything = repr({name: rows for name, rows in tables.items() if name != "members"})
    for user in ("alice", "bob", "carol"):
        assert f"'{user}'" not in everything and user.capitalize() not in everything
    assert secret not in repr(tables)
    if database.kind == "sqlite":
        with bot.engine.connect() as conn, pytest.raises(OperationalError):
            conn.execute(text("SELECT rowid FROM poll_anonymous_ballots"))

    # Closing seals: random keys, voters kept apart; the counts do not change.
    await bot.say("/sondage clore 1")
    with Session(bot.engine) as db:
        sealed = list(db.scalars(select(PollAnonymousBallot)))
        voters = {v.voter_key for v in db.scalars(select(PollSealedVoter))}
    assert sorted(b.content for b in sealed) == ["1", "2"] and all(b.sealed for b in sealed)
    assert not {b.voter_key for b in sealed} & keys
    assert voters == keys
    results = next(r.text for r in bot.posts() if "Résultats du sondage n° 1" in r.text)
    assert "2 participant·es" in results and "**3.** Eau 🏆 — █████░░░░░ 1 voix (50 %)" in results
    # Reopened: alice may not vote twice, dave may vote.
    await bot.say("/sondage rouvrir 1")
    refused = only(await bot.click("poll:1:vote:1", user="alice"))
    assert "a été scellé à la clôture" in refused.text
    sealed_view = only(await bot.say("/voter 1", user="alice"))
    assert sealed_view.text.startswith("Votre vote au sondage n° 1 a été scellé à la clôture")
    accepted = only(await bot.click("poll:1:vote:1", user="dave"))
    assert accepted.text.startswith("Vote enregistré")
    # The export has no participant column.
    export = only(await bot.say("/sondage export 1"))
    data = export.attachments[0].data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(data))) == [
        ["Sobriété", "Mobilités", "Eau"],
        ["x", "", ""],
        ["", "x", ""],
        ["", "", "x"],
    ]


# --- deadlines, closing, reopening --------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_deadline_closes_the_poll_after_a_restart(
    database: Database, tmp_path: Path
) -> None:
    first = await Bot.start(database.url, tmp_path)
    await first.say('/sondage "Quel thème ?" "Sobriété" "Eau" --fin 2j')
    await first.click("poll:1:vote:2", user="alice")
    await first.stop()

    later = FrozenClock(START + timedelta(days=3))
    second = await Bot.start(database.url, tmp_path, clock=later)
    try:
        # A vote after the deadline is refused even before the scheduled close has run.
        late = await second.app.process(
            ChoiceEvent(
                actor=second.actor("bob"),
                place=Place("console", "general", "general"),
                at=later.now(),
                action="poll:1:vote:1",
            )
        )
        assert "Le sondage n° 1 est clos" in only(late.replies).text
        await second.app.scheduler.run_due()  # what fell due while the bot was stopped
        posted = second.posts()
        assert len(posted) == 1
        assert posted[0].text.startswith("📊 **Résultats du sondage n° 1 : Quel thème ?**")
        assert "Option retenue : « Eau »" in posted[0].text
        assert "Clos le mercredi 25 novembre 2026 à 09h00" in posted[0].text
        assert "1 participant·e\n" in posted[0].text
        edited = second.edits()
        assert len(edited) == 1 and edited[0].choices == ()
        with Session(second.engine) as db:
            poll = db.get(Poll, 1)
            assert poll is not None and poll.closed_at == START + timedelta(days=2)
            row = db.scalars(
                select(OutboxMessage).where(OutboxMessage.key == "poll:1:results")
            ).one()
            assert row.status == OutboxStatus.SENT
        # Nothing more is due: no second close, no second post.
        await second.advance(3600)
        assert len(second.posts()) == 1
    finally:
        await second.stop()


@pytest.mark.asyncio
async def test_close_reopen_results_and_list(bot: Bot) -> None:
    await bot.say('/sondage "Quel thème ?" "Sobriété" "Eau" --fin 1h --resultats-caches')
    await bot.say('/sondage "Autre canal ?" "Oui" "Non"', channel="veille")
    await bot.click("poll:1:vote:1", user="alice")
    await bot.click("poll:1:vote:1", user="bob")
    await bot.advance(10)
    live = bot.edits()[-1].text
    assert "voix" not in live and "Les résultats sont cachés jusqu'à la clôture" in live
    assert "2 participant·es" in live
    hidden = only(await bot.say("/sondage resultats 1", user="alice"))
    assert hidden.text == (
        "Les résultats du sondage n° 1 sont cachés jusqu'à sa clôture. "
        "2 participant·es pour l'instant."
    )
    listing = only(await bot.say("/sondages", user="alice"))
    assert "**n° 1** — Quel thème ? (2 participant·es, clôture le" in listing.text
    assert "Autre canal" not in listing.text
    refused = only(await bot.say("/sondage clore 1", user="alice"))
    assert (
        refused.text
        == "Seule la personne qui a créé le sondage n° 1, ou la coordination, peut le clore."
    )
    await bot.advance(3600)  # the deadline closes it
    shown = only(await bot.say("/sondage resultats 1", user="alice"))
    assert shown.text.startswith("📊 **Résultats du sondage n° 1 : Quel thème ?**")
    assert "**1.** Sobriété 🏆 — ██████████ 2 voix (100 %)" in shown.text
    reopened = only(await bot.say("/sondage rouvrir 1"))
    assert reopened.text.splitlines() == [
        "Le sondage n° 1 est de nouveau ouvert.",
        "Son échéance était passée et a été supprimée ; donnez-en une nouvelle avec --fin.",
    ]
    assert bot.edits()[-1].choices  # the buttons are back at once
    await bot.click("poll:1:vote:2", user="carol")
    await bot.say("/sondage clore 1")
    with Session(bot.engine) as db:
        keys = set(db.scalars(select(OutboxMessage.key)))
    assert {"poll:1:results", "poll:1:results:2"} <= keys
    second_results = bot.posts()[-1].text
    assert "3 participant·es" in second_results


@pytest.mark.asyncio
async def test_export_of_a_named_poll(bot: Bot) -> None:
    await bot.say('/sondage "Quand ?" "=lundi" "Mardi" --multiple')
    await bot.click("poll:1:vote:1", user="bob")
    await bot.click("poll:1:vote:2", user="bob")
    await bot.click("poll:1:vote:2", user="alice")
    export = only(await bot.say("/sondage export 1"))
    attachment = export.attachments[0]
    assert attachment.filename == "sondage-1.csv" and attachment.media_type == "text/csv"
    table = list(csv.reader(io.StringIO(attachment.data.decode("utf-8-sig"))))
    assert table == [
        ["Participant·e", "Identifiant", "Date du vote", "'=lundi", "Mardi"],
        ["Alice", "alice", "2026-11-23T09:00+01:00", "", "x"],
        ["Bob", "bob", "2026-11-23T09:00+01:00", "x", "x"],
    ]


@pytest.mark.asyncio
async def test_everyone_may_create_when_configured_and_english_aliases(
    database: Database, tmp_path: Path
) -> None:
    bot = await Bot.start(database.url, tmp_path, polls={"creators": "everyone"})
    try:
        await bot.say("/profil langue en", user="alice")
        receipt = only(
            await bot.say(
                '/poll "Which day?" "Monday" "Tuesday" "Friday" --multiple --max 2 --end 2d '
                "--anonymous --hidden-results",
                user="alice",
            )
        )
        assert receipt.text == (
            "Poll n° 1 is posted. Close it with /poll close 1; see its results with "
            "/poll results 1."
        )
        # The public message is in the network's language.
        assert bot.posts()[0].text.startswith("📊 **Sondage n° 1 : Which day?**")
        with Session(bot.engine) as db:
            poll = db.get(Poll, 1)
            assert poll is not None
            assert (poll.mode, poll.max_choices, poll.anonymous, poll.hidden_results) == (
                "multiple",
                2,
                True,
                True,
            )
            assert poll.deadline == START + timedelta(days=2)
        vote = only(await bot.say("/vote 1 1 3", user="alice"))
        assert vote.text == "Vote recorded on poll n° 1: “Monday”, “Friday”."
        closed = only(await bot.say("/poll close 1", user="alice"))  # the creator may close
        assert closed.text == "Poll n° 1 is closed; its results are posted."
    finally:
        await bot.stop()


# --- bad input changes nothing -----------------------------------------------------------------

LONG_QUESTION = "Q" * 301
LONG_OPTION = "O" * 81
MANY = " ".join(f'"Option {i}"' for i in range(21))
BAD_INPUT = [
    ("camille", '/sondage "Quel thème ?" "Une seule"', "au moins 2 options"),
    ("camille", f'/sondage "Trop ?" {MANY}', "au plus 20 options et vous en avez donné 21"),
    ("camille", '/sondage "Q ?" "Énergie" "energie "', "sont identiques"),
    ("camille", f'/sondage "{LONG_QUESTION}" "A" "B"', "trop longue (301 caractères)"),
    ("camille", f'/sondage "Q ?" "A" "{LONG_OPTION}"', "L'option 2 est trop longue (81"),
    ("camille", '/sondage "Q ?" "A" "B" --fin hier', "est déjà passée"),
    ("camille", '/sondage "Q ?" "A" "B" --fin bientôt', "Je ne sais pas lire l'échéance"),
    (
        "camille",
        '/sondage "Q ?" "jeudi 3 décembre 14h" "le jour de la marmotte" --dates',
        "Je ne sais pas lire la date « le jour de la marmotte » (option 2). Exemples qui "
        "fonctionnent : « 3 décembre 14h »",
    ),
    ("camille", '/sondage "Q ?" "2020-01-01 10:00" "demain 9h" --dates', "est dans le passé"),
    ("camille", '/sondage "Q ?" "demain 9h" "24/11 9h" --dates', "le même créneau"),
    ("camille", '/sondage "Q ?" "A" "B" --multiple --jugement', "un seul type de sondage"),
    ("camille", '/sondage "Q ?" "A" "B" --max 2', "--max va avec --multiple"),
    ("camille", '/sondage "Q ?" "A" "B" --multiple --max 3', "entre 1 et 2"),
    ("alice", '/sondage "Q ?" "A" "B"', "réservée à l'équipe de coordination"),
    ("camille", "/voter 99 1", "Il n'y a pas de sondage n° 99."),
    ("camille", "/sondage clore 99", "Il n'y a pas de sondage n° 99."),
    ("alice", "/sondage clore 1", "Seule la personne qui a créé le sondage n° 1"),
    ("alice", "/sondage rouvrir 2", "Seule la personne qui a créé le sondage n° 2"),
    ("camille", "/sondage rouvrir 1", "Le sondage n° 1 est déjà ouvert."),
    ("camille", "/sondage clore 2", "Le sondage n° 2 est déjà clos."),
    ("camille", "/voter 2 1", "Le sondage n° 2 est clos : les votes ne sont plus acceptés."),
    ("camille", "/voter 1 7", "L'option « 7 » n'existe pas dans le sondage n° 1"),
    ("camille", "/voter 1 1 2", "est à choix unique"),
    ("alice", "/voter 3 1 2", "au plus 1 option dans le sondage n° 3"),
    ("bob", "/voter 1 retirer", "Vous n'avez pas voté au sondage n° 1."),
    ("alice", "/sondage export 1", "réservée à l'équipe de coordination"),
    ("camille", "/voter 4 1=nul", "« nul » n'est pas une mention"),
    ("camille", "/voter 4 bien 2=bien", "sous la forme option=mention"),
    ("camille", "/voter 5 1=bof", "« bof » n'est pas une réponse"),
]
BAD_CLICKS = [
    ("alice", "poll:2:vote:1", "Le sondage n° 2 est clos"),
    ("alice", "poll:1:vote:9", "Ce bouton ne fait plus rien."),
    ("alice", "poll:1:grade:1:1", "Ce bouton ne fait plus rien."),
    ("alice", "poll:3:vote:2", "au plus 1 option"),
    ("bob", "poll:1:withdraw", "Vous n'avez pas voté"),
    ("alice", "poll:77:vote:1", "Il n'y a pas de sondage n° 77."),
]


@pytest.mark.asyncio
async def test_bad_input_is_explained_and_changes_nothing(bot: Bot) -> None:
    await bot.say('/sondage "Ouvert ?" "A" "B"')  # n° 1, open
    await bot.say('/sondage "Fermé ?" "A" "B"')  # n° 2, closed below
    await bot.say('/sondage "Au plus un ?" "A" "B" --multiple --max 1')  # n° 3
    await bot.say('/sondage "Jugement ?" "A" "B" --jugement')  # n° 4
    await bot.say('/sondage "Dates ?" "demain 9h" "mercredi 9h" --dates')  # n° 5
    await bot.say("/sondage clore 2")
    await bot.click("poll:3:vote:1", user="alice")
    for user in ("alice", "bob"):
        await bot.say("/aide", user=user)
    await bot.advance(10)
    meta = MetaData()
    meta.reflect(bot.engine)
    before = dump(bot.engine, meta)
    assert len(before["polls"]) == 5 and before["poll_ballots"]
    for user, line, expected in BAD_INPUT:
        reply = only(await bot.say(line, user=user))
        assert reply.ephemeral, line
        assert expected in reply.text, (line, reply.text)
        assert dump(bot.engine, meta) == before, line
    for user, action, expected in BAD_CLICKS:
        reply = only(await bot.click(action, user=user))
        assert expected in reply.text, (action, reply.text)
        assert dump(bot.engine, meta) == before, action
