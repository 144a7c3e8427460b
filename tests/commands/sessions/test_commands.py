"""Sessions through the real App (commands, choices, outbox, due work) and at service level."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import func, select

from bot.config import load_settings
from bot.core import Place, Reply
from bot.i18n import Translators
from bot.storage.members import Member
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.storage.sessions import Registration, SessionQuota, SessionRow
from commands.sessions import (
    FEEDBACK_DELAY,
    CapacityBelowConfirmed,
    Notifier,
    NotRegistered,
    SessionChanges,
    SessionNotFound,
    configured_reminder_hours,
    register,
    register_and_notify,
    remind_due,
    unregister,
    update_session,
)
from tests.conftest import Database
from tests.support.chat import START as NOW  # Monday 23 November 2026, 09:00 in Paris
from tests.support.chat import Chat, text_of

START = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # Thursday 3 December, 14:00 in Paris
GENERAL = Place("console", "general", "general")
CREATE = (
    'session creer "Webinaire mobilités" --quand "jeudi 3 décembre 14h" --duree 2h '
    "--type webinaire --lien https://visio.example.org/m --places {seats}"
)


async def create(chat: Chat, seats: int = 2, extra: str = "") -> int:
    """Camille creates the session of :data:`CREATE`; its number."""
    await chat.command("camille", CREATE.format(seats=seats) + extra)
    with chat.db() as db:
        session_id = db.scalar(select(func.max(SessionRow.id)))
        assert session_id is not None
        return int(session_id)


def _ics(reply: Reply) -> icalendar.Calendar:
    (attachment,) = [a for a in reply.attachments if a.filename.endswith(".ics")]
    assert attachment.media_type == "text/calendar"
    return icalendar.Calendar.from_ical(attachment.data)


def _statuses(chat: Chat, session_id: int) -> dict[str, str]:
    with chat.db() as db:
        rows = db.execute(
            select(Member.user_id, Registration.status)
            .join(Registration, Registration.member_id == Member.id)
            .where(Registration.session_id == session_id)
        ).all()
    return {str(user): str(status) for user, status in rows}


def _write_due_reminders(chat: Chat) -> None:
    """What the ``sessions`` provider writes at the clock's time, without running the outbox
    (as if the bot stopped, or someone acted, between the two)."""
    with chat.db() as db:
        remind_due(
            db, Notifier.from_settings(chat.app.translators, chat.app.settings), chat.clock.now()
        )
        db.commit()


def _reminders(chat: Chat, user: str) -> list[str]:
    """The reminders ``user`` received (their texts)."""
    return [reply.text for reply in chat.direct_messages(user) if "⏰ Rappel" in reply.text]


def _outbox(chat: Chat, prefix: str) -> list[OutboxMessage]:
    with chat.db() as db:
        return list(
            db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.key.startswith(prefix))
                .order_by(OutboxMessage.id)
            )
        )


# --- creation --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_create_announces_with_choices_and_calendar_file(chat: Chat) -> None:
    session_id = await create(chat, seats=30)
    (announcement,) = chat.posts()
    assert "Webinaire mobilités" in announcement.text
    assert "jeudi 3 décembre 2026 à 14h00" in announcement.text
    assert [c.label for c in announcement.choices] == ["S'inscrire", "Se désinscrire"]
    assert [c.action for c in announcement.choices] == [
        f"session:{session_id}:register",
        f"session:{session_id}:unregister",
    ]
    calendar = _ics(announcement)
    assert calendar["METHOD"] == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(hours=2)
    assert str(event["UID"]) == f"session-{session_id}@reseau-tisserand.tisserand"
    assert event["SEQUENCE"] == 0
    assert [row.key for row in _outbox(chat, f"session:{session_id}:announce")] == [
        f"session:{session_id}:announce"
    ]


BAD_CREATIONS = [
    ('--quand "le jour de la marmotte" --places 3', "Je ne sais pas lire la date"),
    ('--quand "2020-01-01 10:00" --places 3', "est dans le passé"),
    ('--quand "jeudi 3 décembre 14h" --places 0', "entre 1 et"),
    ('--quand "jeudi 3 décembre 14h" --places 3 --duree "un moment"', "la durée"),
    ('--quand "jeudi 3 décembre 14h" --places 3 --duree 0h', "entre une minute"),
    ('--quand "jeudi 3 décembre 14h" --places 3 --lien visio.example.org', "http"),
    ('--quand "jeudi 3 décembre 14h" --places 3 --type concert', "webinaire, pleniere"),
    (
        '--quand "jeudi 3 décembre 14h" --places 3 --inscriptions-jusqu-au "10 décembre"',
        "avant le début",
    ),
    ('--quand "jeudi 3 décembre 14h" --places 3 --quotas "maires=3"', "quotas"),
    ("--places 3", "--quand"),
]


@pytest.mark.asyncio
async def test_bad_creation_input_is_explained_and_creates_nothing(chat: Chat) -> None:
    for options, expected in BAD_CREATIONS:
        text = text_of(await chat.command("camille", f'session creer "Atelier" {options}'))
        assert expected in text, (options, text)
    with chat.db() as db:
        assert db.scalar(select(func.count(SessionRow.id))) == 0
    assert chat.platform.posted == []


@pytest.mark.asyncio
async def test_members_cannot_create_edit_cancel_or_see_participants(chat: Chat) -> None:
    session_id = await create(chat)
    for line in (
        CREATE.format(seats=3),
        f"session modifier {session_id} --places 9",
        f"session annuler {session_id}",
        f"participants {session_id}",
        f"presence {session_id} @alice",
    ):
        assert "réservée à l'équipe de coordination" in text_of(await chat.command("alice", line))
    with chat.db() as db:
        row = db.get(SessionRow, session_id)
        assert row is not None
        assert (row.capacity, row.status, row.sequence) == (2, "scheduled", 0)


# --- registration, waitlist, promotion -----------------------------------------------------


@pytest.mark.asyncio
async def test_registration_confirms_by_direct_message_with_calendar_and_reminders(
    chat: Chat,
) -> None:
    session_id = await create(chat)
    answer = text_of(await chat.click("alice", f"session:{session_id}:register"))
    assert answer == ""  # the confirmation by direct message is the one message (issue 15)
    (dm,) = chat.direct_messages("alice")
    assert "confirmée" in dm.text
    (event,) = _ics(dm).walk("VEVENT")
    assert event.decoded("DTSTART") == START
    again = text_of(await chat.command("alice", f"inscription {session_id}"))
    assert "déjà inscrite" in again or "déjà inscrit" in again
    assert len(chat.direct_messages("alice")) == 1
    # Reminders are written when they fall due, not at registration.
    assert _outbox(chat, f"session:{session_id}:reminder:") == []
    await chat.move_to(START - timedelta(hours=24))
    await chat.move_to(START - timedelta(hours=1))
    reminders = _outbox(chat, f"session:{session_id}:reminder:")
    assert [(r.key.rsplit(":", 1)[1], r.due_at, r.status) for r in reminders] == [
        ("24h", START - timedelta(hours=24), OutboxStatus.SENT),
        ("1h", START - timedelta(hours=1), OutboxStatus.SENT),
    ]
    # Closed direct messages: the receipt and the reminders fall back to the session's channel.
    direct = [r for r in _outbox(chat, f"session:{session_id}:") if r.target_kind == "direct"]
    assert len(direct) == 3
    assert {r.payload.get("fallback_channel_id") for r in direct} == {GENERAL.channel_id}


@pytest.mark.asyncio
async def test_full_session_waitlists_then_promotes_the_first_in_line(chat: Chat) -> None:
    session_id = await create(chat, seats=2)
    for user in ("alice", "bob"):
        await chat.click(user, f"session:{session_id}:register")
    chloe = text_of(await chat.command("chloe", f"inscription {session_id}"))
    david = text_of(await chat.command("david", f"register {session_id}"))
    assert "liste d'attente" in chloe and "position 1" in chloe
    assert "position 2" in david
    assert "position 2" in text_of(await chat.command("david", f"inscription {session_id}"))
    assert chat.direct_messages("chloe") == []
    shown = text_of(await chat.command("david", f"session {session_id}"))
    assert "position 2" in shown
    listing = text_of(await chat.command("erin", "sessions"))
    assert "complet — liste d'attente : 2" in listing

    answer = text_of(await chat.click("bob", f"session:{session_id}:unregister"))
    assert "annulée" in answer
    (promotion,) = chat.direct_messages("chloe")
    assert "Une place s'est libérée" in promotion.text
    assert _ics(promotion)["METHOD"] == "PUBLISH"
    assert _statuses(chat, session_id) == {
        "alice": "confirmed",
        "bob": "cancelled",
        "chloe": "confirmed",
        "david": "waitlisted",
    }
    assert "position 1" in text_of(await chat.command("david", f"session {session_id}"))
    # Leaving the waitlist, and unregistering twice.
    assert "liste d'attente" in text_of(
        await chat.click("david", f"session:{session_id}:unregister")
    )
    assert "pas inscrit" in text_of(await chat.command("david", f"desinscription {session_id}"))
    # The reminder goes to those confirmed when it falls due: Alice and Chloé (promoted before),
    # not Bob (who left) nor David (who was waiting).
    await chat.move_to(START - timedelta(hours=24))
    reminded = {user for user in ("alice", "bob", "chloe", "david") if _reminders(chat, user)}
    assert reminded == {"alice", "chloe"}


@pytest.mark.asyncio
async def test_reminders_are_sent_once_at_their_time_and_never_to_those_who_left(
    chat: Chat,
) -> None:
    session_id = await create(chat, seats=5)
    await chat.click("alice", f"session:{session_id}:register")
    await chat.click("bob", f"session:{session_id}:register")
    await chat.click("bob", f"session:{session_id}:unregister")
    await chat.move_to(START - timedelta(hours=24, minutes=1))
    assert len(chat.direct_messages("alice")) == 1
    await chat.move_to(START - timedelta(hours=24))
    assert (
        "Rappel" in chat.direct_messages("alice")[-1].text
        and "dans 24 heures" in chat.direct_messages("alice")[-1].text
    )
    await chat.move_to(START - timedelta(minutes=30))
    assert "dans 1 heure" in chat.direct_messages("alice")[-1].text
    await chat.app.scheduler.run_due()
    assert len(chat.direct_messages("alice")) == 3
    assert len(chat.direct_messages("bob")) == 1  # the confirmation only


@pytest.mark.asyncio
async def test_reminders_survive_a_restart_and_are_not_sent_twice(
    database: Database, tmp_path: Path
) -> None:
    first = await Chat.start(database.url, tmp_path, start=NOW)
    session_id = await create(first, seats=5)
    await first.click("alice", f"session:{session_id}:register")
    await first.stop()
    for _ in range(2):  # two restarts after the reminder time
        chat = await Chat.start(database.url, tmp_path, start=START - timedelta(hours=23))
        await chat.app.scheduler.run_due()
        await chat.stop()
        texts = [  # not the announcement's edit (its seats), made after the restart
            reply.text
            for _, reply, token in chat.platform.posted
            if not (token or "").startswith("edit:")
        ]
        if _ == 0:
            assert len(texts) == 1 and "dans 24 heures" in texts[0]
        else:
            assert texts == []
        # Materialised once: one row, and the session records how far it went.
        reminders = _outbox(chat, f"session:{session_id}:rem")
        assert [r.key.rsplit(":", 1)[1] for r in reminders] == ["24h"]
        with chat.db() as db:
            row = db.get(SessionRow, session_id)
            assert row is not None
            assert row.reminded_through == START - timedelta(hours=23)


@pytest.mark.asyncio
async def test_reminders_written_but_not_sent_before_a_stop_are_sent_once_after_it(
    database: Database, tmp_path: Path
) -> None:
    """A stop between writing the reminders and sending them: the next start sends them and
    writes none again."""
    posted: list[str] = []
    moment = NOW
    for start in range(2):
        chat = await Chat.start(database.url, tmp_path, start=moment)
        if start == 0:
            session_id = await create(chat, seats=5)
            for user in ("alice", "bob"):
                await chat.click(user, f"session:{session_id}:register")
            moment = START - timedelta(hours=24)
            chat.clock.move_to(moment)
            _write_due_reminders(chat)  # written, the outbox not run yet
            assert len(_outbox(chat, f"session:{session_id}:reminder:")) == 2
        else:
            await chat.app.scheduler.run_due()
            await chat.app.scheduler.run_due()
        posted += [reply.text for _, reply, _ in chat.platform.posted if "⏰ Rappel" in reply.text]
        await chat.stop()
    assert len(posted) == 2 and all("dans 24 heures" in text for text in posted)
    assert len(_outbox(chat, f"session:{session_id}:reminder:")) == 2


@pytest.mark.asyncio
async def test_registering_late_gets_only_the_reminders_still_ahead(chat: Chat) -> None:
    session_id = await create(chat, seats=5)
    await chat.click("bob", f"session:{session_id}:register")
    await chat.move_to(START - timedelta(hours=5))
    await chat.click("alice", f"session:{session_id}:register")
    await chat.move_to(START - timedelta(minutes=30))
    keys = [r.key for r in _outbox(chat, f"session:{session_id}:reminder:")]
    assert sorted(k.rsplit(":", 1)[1] for k in keys) == ["1h", "1h", "24h"]
    assert len(_reminders(chat, "alice")) == 1 and "dans 1 heure" in _reminders(chat, "alice")[0]
    assert len(_reminders(chat, "bob")) == 2


@pytest.mark.asyncio
async def test_a_member_promoted_after_a_reminder_gets_only_the_later_ones(chat: Chat) -> None:
    session_id = await create(chat, seats=1)
    await chat.click("alice", f"session:{session_id}:register")
    await chat.click("bob", f"session:{session_id}:register")  # waiting
    await chat.move_to(START - timedelta(hours=24))
    await chat.click("alice", f"session:{session_id}:unregister")  # Bob promoted: too late
    assert "Une place s'est libérée" in chat.direct_messages("bob")[-1].text
    await chat.move_to(START - timedelta(hours=1))
    assert [("24 heures" in t, "1 heure," in t) for t in _reminders(chat, "alice")] == [
        (True, False)
    ]
    assert [("24 heures" in t, "1 heure," in t) for t in _reminders(chat, "bob")] == [(False, True)]


@pytest.mark.asyncio
async def test_unregistering_withdraws_a_reminder_written_but_not_sent(chat: Chat) -> None:
    session_id = await create(chat, seats=5)
    for user in ("alice", "bob"):
        await chat.click(user, f"session:{session_id}:register")
    chat.clock.move_to(START - timedelta(hours=24))
    _write_due_reminders(chat)  # written, not sent yet
    await chat.click("bob", f"session:{session_id}:unregister")
    await chat.app.scheduler.run_due()
    assert len(_reminders(chat, "alice")) == 1
    assert _reminders(chat, "bob") == []
    with chat.db() as db:
        bob = db.scalar(select(Member.id).where(Member.user_id == "bob"))
    (row,) = _outbox(chat, f"session:{session_id}:reminder:{bob}:")
    assert (row.status, row.last_error) == (
        OutboxStatus.SKIPPED,
        "withdrawn: registration cancelled",
    )


@pytest.mark.asyncio
async def test_a_request_made_before_a_reminder_but_handled_after_it_still_gets_it(
    chat: Chat,
) -> None:
    """The provider wrote the 24-hour reminder; a registration made a moment before that (its
    request waited for the session's lock) is confirmed after: it gets the reminder too."""
    session_id = await create(chat, seats=5)
    await chat.click("alice", f"session:{session_id}:register")
    chat.clock.move_to(START - timedelta(hours=24))
    _write_due_reminders(chat)
    notifier = Notifier.from_settings(chat.app.translators, chat.app.settings)
    before = START - timedelta(hours=24, seconds=1)
    with chat.db() as db:
        bob = Member(platform="console", user_id="bob", display_name="Bob")
        bob.created_at = bob.updated_at = before
        db.add(bob)
        db.flush()
        register_and_notify(db, notifier, session_id, bob, before)
        db.commit()
        bob_id = bob.id
    (row,) = _outbox(chat, f"session:{session_id}:reminder:{bob_id}:")
    assert (row.due_at, row.status) == (START - timedelta(hours=24), OutboxStatus.PENDING)
    await chat.app.scheduler.run_due()
    assert len(_reminders(chat, "alice")) == len(_reminders(chat, "bob")) == 1


@pytest.mark.asyncio
async def test_reminders_missed_while_the_bot_was_down_only_the_nearest_before_the_start(
    chat: Chat,
) -> None:
    first = await create(chat, seats=5)
    second = await create(chat, seats=5)
    for session_id in (first, second):
        await chat.click("alice", f"session:{session_id}:register")
    with chat.db() as db:  # the second one starts an hour later
        row = db.get(SessionRow, second)
        assert row is not None
        row.starts_at += timedelta(hours=1)
        row.ends_at += timedelta(hours=1)
        db.commit()
    # Down from before the 24-hour reminders until after the first session's start.
    await chat.move_to(START + timedelta(minutes=30))
    reminders = _reminders(chat, "alice")
    assert len(reminders) == 1 and "dans 1 heure" in reminders[0]  # the second session's
    assert _outbox(chat, f"session:{first}:reminder:") == []
    assert [r.key.rsplit(":", 1)[1] for r in _outbox(chat, f"session:{second}:reminder:")] == ["1h"]


@pytest.mark.asyncio
async def test_registering_again_after_leaving_revives_reminders_and_goes_to_the_back(
    chat: Chat,
) -> None:
    session_id = await create(chat, seats=1)
    await chat.click("alice", f"session:{session_id}:register")
    await chat.click("bob", f"session:{session_id}:register")
    await chat.click("alice", f"session:{session_id}:unregister")  # Bob promoted
    answer = text_of(await chat.click("alice", f"session:{session_id}:register"))
    assert "position 1" in answer
    await chat.click("bob", f"session:{session_id}:unregister")  # Alice promoted again
    with chat.db() as db:
        alice = db.scalar(select(Member.id).where(Member.user_id == "alice"))
    assert len(chat.direct_messages("alice")) == 2  # the confirmation, then the promotion
    assert _statuses(chat, session_id)["alice"] == "confirmed"
    await chat.move_to(START - timedelta(hours=24))
    assert [r.status for r in _outbox(chat, f"session:{session_id}:reminder:{alice}:")] == [
        OutboxStatus.SENT
    ]
    assert len(_reminders(chat, "alice")) == 1 and _reminders(chat, "bob") == []


@pytest.mark.asyncio
async def test_closed_cancelled_past_and_unknown_sessions_refuse_registration(
    chat: Chat,
) -> None:
    session_id = await create(chat, seats=5, extra=' --inscriptions-jusqu-au "1 décembre"')
    assert "Il n'y a pas de session n° 99" in text_of(await chat.command("alice", "inscription 99"))
    await chat.move_to(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    answer = text_of(await chat.click("alice", f"session:{session_id}:register"))
    assert "sont closes depuis le mardi 1er décembre 2026 à 23h59" in answer
    await chat.move_to(START + timedelta(minutes=5))
    assert "a déjà commencé" in text_of(await chat.command("alice", f"inscription {session_id}"))
    assert "a déjà commencé" in text_of(await chat.command("alice", f"desinscription {session_id}"))
    assert _statuses(chat, session_id) == {}


# --- quotas and categories -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_category_quotas_cap_seats_and_promotion_skips_a_full_category(
    chat: Chat,
) -> None:
    session_id = await create(chat, seats=2, extra=" --quotas elu=1")
    with chat.db() as db:
        quotas = db.scalars(select(SessionQuota)).all()
        assert [(q.category, q.capacity) for q in quotas] == [("elu", 1)]
    assert "élu" in text_of(await chat.command("alice", "categorie élue"))
    await chat.command("bob", "category elected")
    await chat.command("chloe", "categorie agent")
    await chat.command("david", "categorie partenaire")
    assert "Catégorie inconnue" in text_of(await chat.command("erin", "categorie maire"))
    await chat.click("alice", f"session:{session_id}:register")
    bob = text_of(await chat.click("bob", f"session:{session_id}:register"))
    assert "élu·e" in bob and "position 1" in bob
    await chat.click("chloe", f"session:{session_id}:register")  # the second seat
    await chat.click("david", f"session:{session_id}:register")  # full: position 2
    await chat.click("chloe", f"session:{session_id}:unregister")
    # Bob is first in line but his category is full: David gets the seat, Bob keeps his place.
    assert _statuses(chat, session_id)["david"] == "confirmed"
    assert _statuses(chat, session_id)["bob"] == "waitlisted"
    await chat.click("alice", f"session:{session_id}:unregister")
    assert _statuses(chat, session_id)["bob"] == "confirmed"
    with chat.db() as db:
        quota = db.scalars(select(SessionQuota)).one()
        row = db.get(SessionRow, session_id)
        assert row is not None
        assert (quota.confirmed, row.confirmed) == (1, 2)
    assert "plus de catégorie" in text_of(await chat.command("bob", "categorie aucune"))


# --- changes and cancellation ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_edit_tells_registrants_with_a_higher_sequence_and_moves_reminders(
    chat: Chat,
) -> None:
    session_id = await create(chat, seats=1)
    await chat.click("alice", f"session:{session_id}:register")
    await chat.click("bob", f"session:{session_id}:register")
    answer = text_of(
        await chat.command(
            "camille",
            f'session modifier {session_id} --quand "vendredi 4 décembre 10h" --lieu "Salle 3"',
        )
    )
    assert "2 personnes inscrites prévenues" in answer
    new_start = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    alice_dm = chat.direct_messages("alice")[-1]
    assert "a changé" in alice_dm.text and "Salle 3" in alice_dm.text
    (event,) = _ics(alice_dm).walk("VEVENT")
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == new_start
    assert event.decoded("DTEND") == new_start + timedelta(hours=2)
    assert chat.direct_messages("bob")[-1].attachments == ()  # waitlisted: told, no calendar entry
    notice = chat.posts()[-1]
    assert "a changé" in notice.text and _ics(notice).walk("VEVENT")[0]["SEQUENCE"] == 1
    # More seats promote Bob; fewer than taken is refused and changes nothing.
    await chat.command("camille", f"session modifier {session_id} --places 2")
    assert _statuses(chat, session_id)["bob"] == "confirmed"
    assert "Une place s'est libérée" in chat.direct_messages("bob")[-1].text
    refused = text_of(await chat.command("camille", f"session modifier {session_id} --places 1"))
    assert "2 membres ont déjà une place" in refused
    assert "Dites ce qu'il faut changer" in text_of(
        await chat.command("camille", f"session modifier {session_id}")
    )
    with chat.db() as db:
        row = db.get(SessionRow, session_id)
        assert row is not None
        assert (row.capacity, row.confirmed, row.sequence) == (2, 2, 1)
    # The reminders follow the new time (none at the old one).
    await chat.move_to(START - timedelta(hours=24))
    assert _outbox(chat, f"session:{session_id}:reminder:") == []
    await chat.move_to(new_start - timedelta(hours=24))
    reminders = _outbox(chat, f"session:{session_id}:reminder:")
    assert [r.due_at for r in reminders] == [new_start - timedelta(hours=24)] * 2
    for user in ("alice", "bob"):
        (text,) = _reminders(chat, user)
        assert "dans 24 heures" in text and "vendredi 4 décembre" in text


@pytest.mark.asyncio
async def test_a_reminder_written_but_not_sent_moves_with_the_session(chat: Chat) -> None:
    """Postponed after its reminder was written but before it was sent: withdrawn, then
    written again (the same row, revived) at the new moment, with the new date."""
    session_id = await create(chat, seats=5)
    await chat.click("alice", f"session:{session_id}:register")
    chat.clock.move_to(START - timedelta(hours=24))
    _write_due_reminders(chat)  # written, not sent
    await chat.command("camille", f'session modifier {session_id} --quand "samedi 5 décembre 10h"')
    (row,) = _outbox(chat, f"session:{session_id}:reminder:")
    assert (row.status, row.last_error) == (OutboxStatus.SKIPPED, "withdrawn: the session changed")
    await chat.app.scheduler.run_due()
    assert _reminders(chat, "alice") == []
    new_start = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    await chat.move_to(new_start - timedelta(hours=24))
    (text,) = _reminders(chat, "alice")
    assert "samedi 5 décembre" in text
    (row,) = _outbox(chat, f"session:{session_id}:reminder:")
    assert (row.status, row.due_at) == (OutboxStatus.SENT, new_start - timedelta(hours=24))


@pytest.mark.asyncio
async def test_a_session_brought_forward_past_a_reminder_does_not_send_it(chat: Chat) -> None:
    session_id = await create(chat, seats=5)
    await chat.click("alice", f"session:{session_id}:register")
    await chat.move_to(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    await chat.command("camille", f'session modifier {session_id} --quand "mardi 1 décembre 19h"')
    await chat.move_to(datetime(2026, 12, 1, 17, 30, tzinfo=UTC))
    reminders = _reminders(chat, "alice")
    assert len(reminders) == 1 and "dans 1 heure" in reminders[0]


@pytest.mark.asyncio
async def test_cancel_tells_registrants_with_a_cancelling_calendar_file(chat: Chat) -> None:
    session_id = await create(chat, seats=1)
    await chat.click("alice", f"session:{session_id}:register")
    await chat.click("bob", f"session:{session_id}:register")
    answer = text_of(
        await chat.command("camille", f'session annuler {session_id} --raison "Intervenant malade"')
    )
    assert "2 personnes inscrites prévenues" in answer
    cancelled = chat.direct_messages("alice")[-1]
    assert "est annulé" in cancelled.text and "Intervenant malade" in cancelled.text
    calendar = _ics(cancelled)
    assert calendar["METHOD"] == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 1
    assert "est annulé" in chat.direct_messages("bob")[-1].text
    assert "est annulé" in chat.posts()[-1].text
    assert "a été annulée" in text_of(await chat.click("chloe", f"session:{session_id}:register"))
    assert "a été annulée" in text_of(
        await chat.command("camille", f"session annuler {session_id}")
    )
    assert "a été annulée" in text_of(
        await chat.command("camille", f"session modifier {session_id} --places 5")
    )
    await chat.move_to(START - timedelta(hours=1))
    assert len(chat.direct_messages("alice")) == 2  # no reminder after the cancellation
    assert _outbox(chat, f"session:{session_id}:reminder:") == []


@pytest.mark.asyncio
async def test_cancelling_withdraws_reminders_written_but_not_sent(chat: Chat) -> None:
    session_id = await create(chat, seats=5)
    await chat.click("alice", f"session:{session_id}:register")
    chat.clock.move_to(START - timedelta(hours=24))
    _write_due_reminders(chat)
    await chat.command("camille", f"session annuler {session_id}")
    await chat.move_to(START - timedelta(minutes=30))
    assert _reminders(chat, "alice") == []
    (row,) = _outbox(chat, f"session:{session_id}:reminder:")
    assert (row.status, row.last_error) == (OutboxStatus.SKIPPED, "withdrawn: session cancelled")


# --- coordinators: participants, attendance, check-in, feedback --------------------------------


@pytest.mark.asyncio
async def test_participants_list_and_csv(chat: Chat) -> None:
    session_id = await create(chat, seats=1)
    await chat.command("alice", "categorie elu")
    await chat.click("alice", f"session:{session_id}:register")
    await chat.click("=bob", f"session:{session_id}:register")
    await chat.click("chloe", f"session:{session_id}:register")
    await chat.click("chloe", f"session:{session_id}:unregister")
    text = text_of(await chat.command("camille", f"participants {session_id}"))
    assert "1. Alice — élu·e — confirmée" in text
    assert "2. =bob — sans catégorie — liste d'attente, position 1" in text
    assert "1 inscription annulée" in text
    (reply,) = await chat.command("camille", f"participants {session_id} --csv")
    (attachment,) = reply.attachments
    assert attachment.filename == f"participants-session-{session_id}.csv"
    assert attachment.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(attachment.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Statut", "Position en liste d'attente", "Nom"]
    assert [r[2] for r in rows[1:]] == ["Alice", "'=bob", "Chloe"]
    assert [r[0] for r in rows[1:]] == ["confirmée", "liste d'attente", "annulée"]
    assert rows[2][1] == "1"


@pytest.mark.asyncio
async def test_attendance_check_in_closing_and_feedback(chat: Chat) -> None:
    session_id = await create(chat, seats=3)
    for user in ("alice", "bob", "chloe"):
        await chat.click(user, f"session:{session_id}:register")
    await chat.command("david", "aide")  # known to the bot, not registered
    early = text_of(await chat.command("camille", f"presence {session_id} @alice"))
    assert "n'a pas encore commencé" in early
    await chat.move_to(START)
    (checkin,) = [r for r in chat.posts() if r.choices and "checkin" in r.choices[0].action]
    assert checkin.choices[0].label == "Je suis là"
    assert "enregistrée" in text_of(await chat.click("alice", f"session:{session_id}:checkin"))
    assert "déjà enregistrée" in text_of(await chat.click("alice", f"session:{session_id}:checkin"))
    assert "pas sur la liste" in text_of(await chat.click("erin", f"session:{session_id}:checkin"))
    unknown = text_of(await chat.command("camille", f"presence {session_id} @bob @zoe"))
    assert "@zoe" in unknown and "Rien n'a été enregistré" in unknown
    answer = text_of(await chat.command("camille", f"presence {session_id} @bob @david @alice"))
    assert "enregistrée pour Bob, David.\nDéjà enregistrée : Alice." in answer
    await chat.move_to(START + timedelta(hours=2))
    (closed,) = [
        e for e in chat.edits() if "3 personnes présentes" in e.text
    ]  # not the announcement
    assert closed.choices == ()
    assert "n'est ouvert que pendant" in text_of(
        await chat.click("chloe", f"session:{session_id}:checkin")
    )
    await chat.move_to(START + timedelta(hours=2) + FEEDBACK_DELAY)
    asked = [
        u
        for u in ("alice", "bob", "chloe", "david")
        if any(r.choices and "feedback" in r.choices[0].action for r in chat.direct_messages(u))
    ]
    assert asked == ["alice", "bob", "david"]
    feedback = chat.direct_messages("david")[-1]
    assert [c.label for c in feedback.choices] == ["Utile", "Moyen", "Peu utile"]
    assert "Merci" in text_of(await chat.click("david", feedback.choices[0].action))
    assert "participé" in text_of(await chat.click("chloe", feedback.choices[0].action))
    summary = text_of(await chat.command("camille", f"session {session_id}"))
    assert "présences : 3" in summary and "Utile 1" in summary
    await chat.app.scheduler.run_due()
    assert len([r for r in chat.direct_messages("david") if r.choices]) == 1  # asked once


@pytest.mark.asyncio
async def test_a_session_missed_while_the_bot_was_down_gets_no_check_in(chat: Chat) -> None:
    session_id = await create(chat, seats=3)
    await chat.click("alice", f"session:{session_id}:register")
    chat.clock.move_to(START + timedelta(days=10))  # nothing ran meanwhile
    await chat.app.scheduler.run_due()
    assert not [r for r in chat.posts() if r.choices and "checkin" in r.choices[0].action]
    assert not [r for r in chat.direct_messages("alice") if r.choices]
    with chat.db() as db:
        row = db.get(SessionRow, session_id)
        assert row is not None and row.stage == 3


@pytest.mark.asyncio
async def test_choices_that_mean_nothing_are_refused(chat: Chat) -> None:
    assert "ne fait plus rien" in text_of(await chat.click("alice", "session:abc:register"))
    assert "ne fait plus rien" in text_of(await chat.click("alice", "session:1:dance"))
    assert "Il n'y a pas de session n° 1" in text_of(
        await chat.click("alice", "session:1:register")
    )


@pytest.mark.asyncio
async def test_listing_and_details_in_english(chat: Chat) -> None:
    assert "No session is planned" in (
        text_of(await chat.command("alice", "profile language en"))
        + text_of(await chat.command("alice", "sessions"))
    )
    session_id = await create(chat, seats=1)
    await chat.click("bob", f"session:{session_id}:register")
    listing = text_of(await chat.command("alice", "sessions"))
    assert "Webinaire mobilités" in listing and "full, 0 on the waiting list" in listing
    details = text_of(await chat.command("alice", f"session {session_id}"))
    assert "Thursday 3 December 2026 at 14:00 to 16:00" in details
    answer = text_of(await chat.click("alice", f"session:{session_id}:register"))
    assert "is full: you are on the waiting list, in position 1" in answer
    assert "upcoming" in (text_of(await chat.command("alice", "session"))).lower()


# --- services ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_services_refuse_what_would_break_an_invariant(chat: Chat) -> None:
    session_id = await create(chat, seats=1)
    with chat.db() as db:
        alice = Member(
            platform="console", user_id="a", display_name="A", created_at=NOW, updated_at=NOW
        )
        db.add(alice)
        db.flush()
        register(db, session_id, alice, NOW)
        with pytest.raises(CapacityBelowConfirmed) as caught:
            update_session(db, session_id, SessionChanges(capacity=0), NOW)
        assert caught.value.confirmed == 1
        with pytest.raises(SessionNotFound) as not_found:
            unregister(db, session_id + 1, alice, NOW)
        assert not_found.value.number == session_id + 1
        unregister(db, session_id, alice, NOW)
        with pytest.raises(NotRegistered):
            unregister(db, session_id, alice, NOW)
        db.commit()
        row = db.get(SessionRow, session_id)
        assert row is not None and row.confirmed == 0


def test_reminder_hours_follow_the_configuration_when_it_has_them() -> None:
    settings = load_settings(None, environ={})
    assert configured_reminder_hours(settings) == (24, 1)

    class Sessions:
        reminder_hours = (2, 48, 2)

    class WithSessions:
        sessions = Sessions()

    assert configured_reminder_hours(WithSessions()) == (48, 2)  # type: ignore[arg-type]
    notifier = Notifier.from_settings(Translators(settings.network.tz), settings)
    assert notifier.reminder_hours == (24, 1)
    assert notifier.network_name == settings.network.name


@pytest.mark.asyncio
async def test_session_created_from_the_best_slot_of_a_date_poll(chat: Chat) -> None:
    from commands.polls import SetMarks, cast_vote, create_poll

    with chat.db() as db:
        member = Member(
            platform="console",
            user_id="alice",
            display_name="Alice",
            created_at=NOW,
            updated_at=NOW,
        )
        db.add(member)
        db.flush()
        poll = create_poll(
            db,
            creator=member,
            place=GENERAL,
            question="Quand ?",
            options=["jeudi 3 décembre 14h", "vendredi 4 décembre 10h"],
            mode="dates",
            now=NOW,
        )
        cast_vote(db, poll_id=poll.id, member=member, change=SetMarks({1: "y"}), now=NOW)
        db.commit()
        poll_id = poll.id
    answer = text_of(
        await chat.command(
            "camille",
            f'session creer "Journée terrain" --depuis-sondage {poll_id} --places 5 --duree 3h',
        )
    )
    assert "créée" in answer
    with chat.db() as db:
        row = db.scalars(select(SessionRow)).one()
        assert row.starts_at == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
        assert row.ends_at == row.starts_at + timedelta(hours=3)
    both = text_of(
        await chat.command(
            "camille",
            f'session creer "X" --depuis-sondage {poll_id} --quand "demain 9h" --places 5',
        )
    )
    assert "pas les deux" in both
