"""Polls through the whole stack (App.process, outbox, scheduler), on SQLite and on PostgreSQL
when configured; the services alone are tested in test_service.py."""

from __future__ import annotations

import csv
import hashlib
import io
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import MetaData, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.core import ChoiceEvent, PlaceTarget, Reply, UserError
from bot.i18n import Translators
from bot.outbox import sent_ref
from bot.storage.members import Member
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.storage.polls import Poll, PollAnonymousBallot, PollMode, PollSealedVoter
from commands.polls import EDIT_THROTTLE, best_date_slot, poll_results, voter_key
from tests.conftest import Database
from tests.support.chat import START, Chat, place

FR = Translators(ZoneInfo("Europe/Paris")).get("fr")


def only(replies: list[Reply]) -> Reply:
    assert len(replies) == 1, replies
    return replies[0]


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
async def test_a_poll_is_posted_through_the_outbox_with_one_button_per_option(chat: Chat) -> None:
    receipt = only(
        await chat.command("camille", '/sondage "Quel thème ?" "Sobriété" "Mobilités" "Eau"')
    )
    assert receipt.ephemeral
    assert receipt.text.startswith("Le sondage n° 1 est publié. Clôturez-le avec /sondage clore 1")
    (target, message, token) = chat.platform.posted[0]
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
    with chat.db() as db:
        assert sent_ref(db, "poll:1:message") is not None
        poll = db.get(Poll, 1)
        assert poll is not None and poll.mode == PollMode.SINGLE and poll.n_options == 3


@pytest.mark.asyncio
async def test_votes_change_withdraw_and_edits_are_throttled(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quel thème ?" "Sobriété" "Mobilités" "Eau"')
    voters = [f"v{i}" for i in range(30)]
    for i, voter in enumerate(voters):
        reply = only(await chat.click(voter, f"poll:1:vote:{i % 3 + 1}"))
        assert reply.ephemeral and reply.text.startswith("Vote enregistré au sondage n° 1 : « ")
    assert chat.edits() == []  # the poll message was posted less than 5 s ago
    await chat.advance(EDIT_THROTTLE)
    assert len(chat.edits()) == 1
    assert "30 participant·es" in chat.edits()[0].text
    assert "**1.** Sobriété — ███░░░░░░░ 10 voix (33 %)" in chat.edits()[0].text
    # v0 changes to Eau, v1 withdraws, v2 votes again for the same option: no edit before 5 s.
    changed = only(await chat.click("v0", "poll:1:vote:3"))
    assert changed.text == "Vote enregistré au sondage n° 1 : « Eau »."
    withdrawn = only(await chat.click("v1", "poll:1:withdraw"))
    assert withdrawn.text == "Votre vote au sondage n° 1 est retiré."
    await chat.click("v2", "poll:1:vote:3")
    await chat.advance(timedelta(seconds=1))
    assert len(chat.edits()) == 1
    await chat.advance(timedelta(seconds=4))
    assert len(chat.edits()) == 2
    last = chat.edits()[-1].text
    assert "29 participant·es" in last
    assert "**1.** Sobriété — ███░░░░░░░ 9 voix (31 %)" in last
    assert "**2.** Mobilités — ███░░░░░░░ 9 voix (31 %)" in last
    assert "**3.** Eau — ████░░░░░░ 11 voix (38 %)" in last
    await chat.advance(timedelta(seconds=60))
    assert len(chat.edits()) == 2  # nothing changed since: no edit


@pytest.mark.asyncio
async def test_votes_do_not_rearm_the_edit_already_armed(
    database: Database, tmp_path: Path
) -> None:
    """With the scheduler running (as in production), the first vote arms the poll message's
    edit; later votes, whose edit is already covered, cost no query for the scheduled work; the
    armed moment is what the database says."""
    # With the scheduler: nothing falls due in real time during the test.
    chat = await Chat.start(database.url, tmp_path, with_scheduler=True)
    app = chat.app
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    work = app.services["polls.work"]
    try:
        event.listen(app.engine, "before_cursor_execute", record)
        await chat.command("camille", '/sondage "Quel thème ?" "Sobriété" "Eau"')
        assert work.next_due() is None  # posted and not stale: nothing to do
        for voter, expect_rearm in (("v1", True), ("v2", False), ("v3", False)):
            statements.clear()
            outcome = await app.process(
                ChoiceEvent(
                    actor=chat.actor(voter),
                    place=place(),
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
        # Anything but a vote re-arms from the database.
        await chat.command("camille", "/sondage clore 1")
        assert any("min(polls.deadline)" in sql for sql in statements)
    finally:
        event.remove(app.engine, "before_cursor_execute", record)
        await chat.stop()
    assert not work.covers(START + timedelta(days=1))  # stopped: nothing is armed


@pytest.mark.asyncio
async def test_multiple_choice_toggles_and_respects_max(chat: Chat) -> None:
    await chat.command(
        "camille", '/sondage "Quels ateliers ?" "Compost" "Vélo" "Énergie" --multiple --max 2'
    )
    await chat.click("alice", "poll:1:vote:1")
    reply = only(await chat.click("alice", "poll:1:vote:3"))
    assert reply.text == "Vote enregistré au sondage n° 1 : « Compost », « Énergie »."
    refused = only(await chat.click("alice", "poll:1:vote:2"))
    assert "au plus 2 options" in refused.text
    removed = only(await chat.click("alice", "poll:1:vote:1"))
    assert removed.text == "Vote enregistré au sondage n° 1 : « Énergie »."
    shown = only(await chat.command("alice", "/voter 1"))
    assert shown.text == (
        "Votre vote au sondage n° 1 : « Énergie ».\nSondage n° 1 : Quels ateliers ?"
    )
    assert [c.action for c in shown.choices][-1] == "poll:1:withdraw"
    typed = only(await chat.command("bob", "/voter 1 1 2"))
    assert typed.text == "Vote enregistré au sondage n° 1 : « Compost », « Vélo »."
    too_many = only(await chat.command("bob", "/voter 1 1 2 3"))
    assert "au plus 2 options" in too_many.text
    with chat.db() as db:
        poll = db.get(Poll, 1)
        assert poll is not None
        results = poll_results(db, poll)
    assert results.choices is not None
    assert [c.votes for c in results.choices.counts] == [1, 1, 1]
    assert results.voters == 2


# --- majority judgment and dates through the whole stack ---------------------------------------


@pytest.mark.asyncio
async def test_majority_judgment_ranks_with_tie_break_and_perfect_ties(chat: Chat) -> None:
    await chat.command(
        "camille", '/sondage "Quel projet soutenir ?" "Jardin" "Vélo" "Compost" "Repair" --jugement'
    )
    # Grades 1 (Excellent) .. 7 (À rejeter), one column per voter.
    grades = {
        1: [1, 1, 5, 6, 7],  # Jardin: majority grade Passable
        2: [3, 3, 3, 3, 3],  # Vélo: Bien
        3: [2, 2, 3, 6, 7],  # Compost: Bien, loses the tie-break to Vélo (then Insuffisant)
        4: [3, 3, 3, 3, 3],  # Repair: the same profile as Vélo: a perfect tie
    }
    for voter in range(5):
        for option, column in grades.items():
            await chat.click(f"v{voter}", f"poll:1:grade:{option}:{column[voter]}")
    await chat.command("camille", "/sondage clore 1")
    results = next(r.text for r in chat.posts() if "Résultats du sondage n° 1" in r.text)
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
async def test_majority_judgment_prompts_chain_and_text_votes(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quel projet ?" "Jardin" "Vélo" "Compost" --jugement')
    message = chat.posts()[0]
    assert [c.action for c in message.choices][:3] == [
        "poll:1:pick:1",
        "poll:1:pick:2",
        "poll:1:pick:3",
    ]
    prompt = only(await chat.click("alice", "poll:1:pick:2"))
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
    graded = only(await chat.click("alice", "poll:1:grade:2:2"))
    assert graded.text.splitlines() == [
        "Vote enregistré au sondage n° 1 : « Vélo » → Très bien.",
        "Sondage n° 1 : quelle mention donnez-vous à « Compost » ?",
    ]
    assert graded.choices[0].action == "poll:1:grade:3:1"
    typed = only(await chat.command("bob", '/voter 1 1=bien 3="assez bien"'))
    assert typed.text.splitlines() == [
        "Vote enregistré au sondage n° 1 : « Jardin » → Bien, « Compost » → Assez bien.",
        "Sans mention pour l'instant : « Vélo » ; une option sans mention n'est pas comptée.",
    ]
    in_order = only(await chat.command("carol", "/voter 1 excellent 7 TRES-BIEN"))
    assert "« Jardin » → Excellent, « Vélo » → À rejeter, « Compost » → Très bien" in in_order.text
    wrong = only(await chat.command("carol", "/voter 1 1=nul"))
    assert "« nul » n'est pas une mention" in wrong.text


@pytest.mark.asyncio
async def test_date_poll_finds_the_best_slot(chat: Chat) -> None:
    await chat.command(
        "camille",
        '/sondage "Prochaine journée terrain ?" "2026-12-07 14:00" "jeudi 3 décembre 14h" '
        '"4/12" --dates --fin "vendredi 18h"',
    )
    message = chat.posts()[0]
    # Slots are sorted; a date without a time is a whole day.
    assert [c.label for c in message.choices][:3] == [
        "jeudi 3 décembre à 14h00",
        "vendredi 4 décembre 2026",
        "lundi 7 décembre à 14h00",
    ]
    assert "*Recherche de date · Clôture le vendredi 27 novembre 2026 à 18h00*" in message.text
    prompt = only(await chat.click("alice", "poll:1:pick:1"))
    assert prompt.text == "Sondage n° 1 : êtes-vous disponible « jeudi 3 décembre à 14h00 » ?"
    assert [c.action for c in prompt.choices] == [
        "poll:1:date:1:yes",
        "poll:1:date:1:ifneedbe",
        "poll:1:date:1:no",
    ]
    chained = only(await chat.click("alice", "poll:1:date:1:yes"))
    assert chained.choices[0].action == "poll:1:date:2:yes"
    await chat.click("alice", "poll:1:date:3:ifneedbe")
    await chat.command("bob", "/voter 1 oui non ?")
    await chat.command("carol", "/voter 1 2=oui 3=oui")
    with chat.db() as db:
        assert best_date_slot(db, 1) == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    await chat.command("camille", "/sondage clore 1")
    results = next(r.text for r in chat.posts() if "Résultats du sondage n° 1" in r.text)
    assert "**1.** jeudi 3 décembre à 14h00 ⭐ — ✅ 2 · 🤔 0 · ❌ 0 · ❔ 1" in results
    assert "**2.** vendredi 4 décembre 2026 — ✅ 1 · 🤔 0 · ❌ 1 · ❔ 1" in results
    assert "**3.** lundi 7 décembre à 14h00 — ✅ 1 · 🤔 2 · ❌ 0" in results
    assert "Meilleur créneau : « jeudi 3 décembre à 14h00 »" in results


@pytest.mark.asyncio
async def test_best_date_slot_refuses_other_polls(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Q ?" "A" "B"')
    await chat.command("camille", '/sondage "Quand ?" "demain 10h" "mercredi 10h" --dates')
    with chat.db() as db:
        with pytest.raises(UserError, match="n'est pas une recherche de date"):
            best_date_slot(db, 1)
        with pytest.raises(UserError, match="Il n'y a pas de sondage n° 9"):
            best_date_slot(db, 9)
        with pytest.raises(UserError, match="Personne n'est encore disponible"):
            best_date_slot(db, 2)


# --- anonymity ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_anonymous_ballots_are_linked_to_nobody(
    chat: Chat, database: Database, tmp_path: Path
) -> None:
    await chat.command("camille", '/sondage "Quel thème ?" "Sobriété" "Mobilités" "Eau" --anonyme')
    await chat.click("alice", "poll:1:vote:1")
    await chat.click("bob", "poll:1:vote:2")
    await chat.click("alice", "poll:1:vote:3")  # alice changes her vote
    await chat.click("carol", "poll:1:vote:1")
    await chat.click("carol", "poll:1:withdraw")
    shown = only(await chat.command("alice", "/vote 1"))
    assert shown.text.startswith("Votre vote au sondage n° 1 : « Eau ».")
    ids = members_by_user(chat.app.engine)
    secret_file = tmp_path / "secret.key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    tables = dump(chat.app.engine)

    assert tables["poll_ballots"] == []  # nothing in the named ballots
    meta = MetaData()
    meta.reflect(chat.app.engine)
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
        with chat.app.engine.connect() as conn, pytest.raises(OperationalError):
            conn.execute(text("SELECT rowid FROM poll_anonymous_ballots"))

    # Closing seals: random keys, voters kept apart; the counts do not change.
    await chat.command("camille", "/sondage clore 1")
    with chat.db() as db:
        sealed = list(db.scalars(select(PollAnonymousBallot)))
        voters = {v.voter_key for v in db.scalars(select(PollSealedVoter))}
    assert sorted(b.content for b in sealed) == ["1", "2"] and all(b.sealed for b in sealed)
    assert not {b.voter_key for b in sealed} & keys
    assert voters == keys
    results = next(r.text for r in chat.posts() if "Résultats du sondage n° 1" in r.text)
    assert "2 participant·es" in results and "**3.** Eau 🏆 — █████░░░░░ 1 voix (50 %)" in results
    # Reopened: alice may not vote twice, dave may vote.
    await chat.command("camille", "/sondage rouvrir 1")
    refused = only(await chat.click("alice", "poll:1:vote:1"))
    assert "a été scellé à la clôture" in refused.text
    sealed_view = only(await chat.command("alice", "/voter 1"))
    assert sealed_view.text.startswith("Votre vote au sondage n° 1 a été scellé à la clôture")
    accepted = only(await chat.click("dave", "poll:1:vote:1"))
    assert accepted.text.startswith("Vote enregistré")
    # The export has no participant column.
    export = only(await chat.command("camille", "/sondage export 1"))
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
    first = await Chat.start(database.url, tmp_path)
    await first.command("camille", '/sondage "Quel thème ?" "Sobriété" "Eau" --fin 2j')
    await first.click("alice", "poll:1:vote:2")
    await first.stop()

    later = START + timedelta(days=3)
    second = await Chat.start(database.url, tmp_path, start=later)
    try:
        # A vote after the deadline is refused even before the scheduled close has run.
        late = await second.app.process(
            ChoiceEvent(
                actor=second.actor("bob"),
                place=place(),
                at=later,
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
        with second.db() as db:
            poll = db.get(Poll, 1)
            assert poll is not None and poll.closed_at == START + timedelta(days=2)
            row = db.scalars(
                select(OutboxMessage).where(OutboxMessage.key == "poll:1:results")
            ).one()
            assert row.status == OutboxStatus.SENT
        # Nothing more is due: no second close, no second post.
        await second.advance(timedelta(seconds=3600))
        assert len(second.posts()) == 1
    finally:
        await second.stop()


@pytest.mark.asyncio
async def test_close_reopen_results_and_list(chat: Chat) -> None:
    await chat.command(
        "camille", '/sondage "Quel thème ?" "Sobriété" "Eau" --fin 1h --resultats-caches'
    )
    await chat.command("camille", '/sondage "Autre canal ?" "Oui" "Non"', channel="veille")
    await chat.click("alice", "poll:1:vote:1")
    await chat.click("bob", "poll:1:vote:1")
    await chat.advance(timedelta(seconds=10))
    live = chat.edits()[-1].text
    assert "voix" not in live and "Les résultats sont cachés jusqu'à la clôture" in live
    assert "2 participant·es" in live
    hidden = only(await chat.command("alice", "/sondage resultats 1"))
    assert hidden.text == (
        "Les résultats du sondage n° 1 sont cachés jusqu'à sa clôture. "
        "2 participant·es pour l'instant."
    )
    listing = only(await chat.command("alice", "/sondages"))
    assert "**n° 1** — Quel thème ? (2 participant·es, clôture le" in listing.text
    assert "Autre canal" not in listing.text
    refused = only(await chat.command("alice", "/sondage clore 1"))
    assert (
        refused.text
        == "Seule la personne qui a créé le sondage n° 1, ou la coordination, peut le clore."
    )
    await chat.advance(timedelta(seconds=3600))  # the deadline closes it
    shown = only(await chat.command("alice", "/sondage resultats 1"))
    assert shown.text.startswith("📊 **Résultats du sondage n° 1 : Quel thème ?**")
    assert "**1.** Sobriété 🏆 — ██████████ 2 voix (100 %)" in shown.text
    reopened = only(await chat.command("camille", "/sondage rouvrir 1"))
    assert reopened.text.splitlines() == [
        "Le sondage n° 1 est de nouveau ouvert.",
        "Son échéance était passée et a été supprimée ; donnez-en une nouvelle avec --fin.",
    ]
    assert chat.edits()[-1].choices  # the buttons are back at once
    await chat.click("carol", "poll:1:vote:2")
    await chat.command("camille", "/sondage clore 1")
    with chat.db() as db:
        keys = set(db.scalars(select(OutboxMessage.key)))
    assert {"poll:1:results", "poll:1:results:2"} <= keys
    second_results = chat.posts()[-1].text
    assert "3 participant·es" in second_results


@pytest.mark.asyncio
async def test_export_of_a_named_poll(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Quand ?" "=lundi" "Mardi" --multiple')
    await chat.click("bob", "poll:1:vote:1")
    await chat.click("bob", "poll:1:vote:2")
    await chat.click("alice", "poll:1:vote:2")
    export = only(await chat.command("camille", "/sondage export 1"))
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
    chat = await Chat.start(database.url, tmp_path, polls={"creators": "everyone"})
    try:
        await chat.command("alice", "/profil langue en")
        receipt = only(
            await chat.command(
                "alice",
                '/poll "Which day?" "Monday" "Tuesday" "Friday" --multiple --max 2 --end 2d '
                "--anonymous --hidden-results",
            )
        )
        assert receipt.text == (
            "Poll n° 1 is posted. Close it with /poll close 1; see its results with "
            "/poll results 1."
        )
        # The public message is in the network's language.
        assert chat.posts()[0].text.startswith("📊 **Sondage n° 1 : Which day?**")
        with chat.db() as db:
            poll = db.get(Poll, 1)
            assert poll is not None
            assert (poll.mode, poll.max_choices, poll.anonymous, poll.hidden_results) == (
                "multiple",
                2,
                True,
                True,
            )
            assert poll.deadline == START + timedelta(days=2)
        vote = only(await chat.command("alice", "/vote 1 1 3"))
        assert vote.text == "Vote recorded on poll n° 1: “Monday”, “Friday”."
        closed = only(await chat.command("alice", "/poll close 1"))  # the creator may close
        assert closed.text == "Poll n° 1 is closed; its results are posted."
    finally:
        await chat.stop()


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
    ("alice", '/sondage "Q ?" "A" "B"', "créés par la coordination"),
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
async def test_bad_input_is_explained_and_changes_nothing(chat: Chat) -> None:
    await chat.command("camille", '/sondage "Ouvert ?" "A" "B"')  # n° 1, open
    await chat.command("camille", '/sondage "Fermé ?" "A" "B"')  # n° 2, closed below
    await chat.command("camille", '/sondage "Au plus un ?" "A" "B" --multiple --max 1')  # n° 3
    await chat.command("camille", '/sondage "Jugement ?" "A" "B" --jugement')  # n° 4
    await chat.command("camille", '/sondage "Dates ?" "demain 9h" "mercredi 9h" --dates')  # n° 5
    await chat.command("camille", "/sondage clore 2")
    await chat.click("alice", "poll:3:vote:1")
    for user in ("alice", "bob"):
        await chat.command(user, "/aide")
    await chat.advance(timedelta(seconds=10))
    meta = MetaData()
    meta.reflect(chat.app.engine)
    before = dump(chat.app.engine, meta)
    assert len(before["polls"]) == 5 and before["poll_ballots"]
    for user, line, expected in BAD_INPUT:
        reply = only(await chat.command(user, line))
        assert reply.ephemeral, line
        assert expected in reply.text, (line, reply.text)
        assert dump(chat.app.engine, meta) == before, line
    for user, action, expected in BAD_CLICKS:
        reply = only(await chat.click(user, action))
        assert expected in reply.text, (action, reply.text)
        assert dump(chat.app.engine, meta) == before, action
