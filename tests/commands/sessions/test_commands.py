"""Sessions through the real App (commands, choices, outbox, due work) and at service level."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.core import (
    Actor,
    ChoiceEvent,
    CommandEvent,
    DirectTarget,
    MessageRef,
    Place,
    PlaceTarget,
    Reply,
    Role,
)
from bot.i18n import Translators
from bot.storage.members import Member
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.storage.sessions import Registration, SessionQuota, SessionRow
from bot.wiring import make_app
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
from tests.support.platform import RecordingPlatform

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 23 November 2026, 09:00 in Paris
START = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # Thursday 3 December, 14:00 in Paris
GENERAL = Place("console", "general", "general")
CREATE = (
    'session creer "Webinaire mobilités" --quand "jeudi 3 décembre 14h" --duree 2h '
    "--type webinaire --lien https://visio.example.org/m --places {seats}"
)


@dataclass
class Harness:
    app: App
    platform: RecordingPlatform
    clock: FrozenClock

    def actor(self, user: str, coordinator: bool = False) -> Actor:
        roles = {Role.MEMBER} | ({Role.COORDINATOR} if coordinator else set())
        return Actor("console", user, user.capitalize(), roles=frozenset(roles))

    async def cmd(self, user: str, text: str, *, coordinator: bool = False) -> list[Reply]:
        event = CommandEvent(
            actor=self.actor(user, coordinator),
            place=GENERAL,
            at=self.clock.now(),
            text=text,
            ref=MessageRef("console", "general", f"{user}:{text}"),
        )
        outcome = await self.app.process(event)
        assert outcome.error_id is None, outcome.replies
        return outcome.replies

    async def text(self, user: str, text: str, *, coordinator: bool = False) -> str:
        return "\n".join(r.text for r in await self.cmd(user, text, coordinator=coordinator))

    async def click(self, user: str, action: str) -> str:
        event = ChoiceEvent(
            actor=self.actor(user), place=GENERAL, at=self.clock.now(), action=action
        )
        outcome = await self.app.process(event)
        assert outcome.error_id is None
        return "\n".join(r.text for r in outcome.replies)

    async def move_to(self, moment: datetime) -> None:
        self.clock.move_to(moment)
        await self.app.scheduler.run_due()

    def dms(self, user: str) -> list[Reply]:
        return [
            reply
            for target, reply, _ in self.platform.posted
            if isinstance(target, DirectTarget) and target.user_id == user
        ]

    def channel(self) -> list[Reply]:
        return [
            reply for target, reply, _ in self.platform.posted if isinstance(target, PlaceTarget)
        ]

    def edits(self) -> list[Reply]:
        return [reply for target, reply, token in self.platform.posted if target is None]

    def db(self) -> Session:
        return self.app.sessions()

    async def create(self, seats: int = 2, extra: str = "") -> int:
        await self.cmd("camille", CREATE.format(seats=seats) + extra, coordinator=True)
        with self.db() as db:
            session_id = db.scalar(select(func.max(SessionRow.id)))
            assert session_id is not None
            return int(session_id)


@pytest_asyncio.fixture
async def h(database: Database, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = load_settings(
        None, database_url=database.url, environ={}, overrides={"data_dir": str(tmp_path)}
    )
    clock = FrozenClock(NOW)
    app = make_app(settings, clock=clock)
    platform = RecordingPlatform()
    app.add_platform(platform)
    await app.start(with_scheduler=False)
    yield Harness(app, platform, clock)
    await app.stop()


def _ics(reply: Reply) -> icalendar.Calendar:
    (attachment,) = [a for a in reply.attachments if a.filename.endswith(".ics")]
    assert attachment.media_type == "text/calendar"
    return icalendar.Calendar.from_ical(attachment.data)


def _statuses(h: Harness, session_id: int) -> dict[str, str]:
    with h.db() as db:
        rows = db.execute(
            select(Member.user_id, Registration.status)
            .join(Registration, Registration.member_id == Member.id)
            .where(Registration.session_id == session_id)
        ).all()
    return {str(user): str(status) for user, status in rows}


def _write_due_reminders(h: Harness) -> None:
    """What the ``sessions`` provider writes at the clock's time, without running the outbox
    (as if the bot stopped, or someone acted, between the two)."""
    with h.db() as db:
        remind_due(db, Notifier.from_settings(h.app.translators, h.app.settings), h.clock.now())
        db.commit()


def _reminders(h: Harness, user: str) -> list[str]:
    """The reminders ``user`` received (their texts)."""
    return [reply.text for reply in h.dms(user) if "⏰ Rappel" in reply.text]


def _outbox(h: Harness, prefix: str) -> list[OutboxMessage]:
    with h.db() as db:
        return list(
            db.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.key.startswith(prefix))
                .order_by(OutboxMessage.id)
            )
        )


# --- creation --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_create_announces_with_choices_and_calendar_file(h: Harness) -> None:
    session_id = await h.create(seats=30)
    (announcement,) = h.channel()
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
    assert [row.key for row in _outbox(h, f"session:{session_id}:announce")] == [
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
async def test_bad_creation_input_is_explained_and_creates_nothing(h: Harness) -> None:
    for options, expected in BAD_CREATIONS:
        text = await h.text("camille", f'session creer "Atelier" {options}', coordinator=True)
        assert expected in text, (options, text)
    with h.db() as db:
        assert db.scalar(select(func.count(SessionRow.id))) == 0
    assert h.platform.posted == []


@pytest.mark.asyncio
async def test_members_cannot_create_edit_cancel_or_see_participants(h: Harness) -> None:
    session_id = await h.create()
    for line in (
        CREATE.format(seats=3),
        f"session modifier {session_id} --places 9",
        f"session annuler {session_id}",
        f"participants {session_id}",
        f"presence {session_id} @alice",
    ):
        assert "réservée à l'équipe de coordination" in await h.text("alice", line)
    with h.db() as db:
        row = db.get(SessionRow, session_id)
        assert row is not None
        assert (row.capacity, row.status, row.sequence) == (2, "scheduled", 0)


# --- registration, waitlist, promotion -----------------------------------------------------


@pytest.mark.asyncio
async def test_registration_confirms_by_direct_message_with_calendar_and_reminders(
    h: Harness,
) -> None:
    session_id = await h.create()
    answer = await h.click("alice", f"session:{session_id}:register")
    assert answer == ""  # the confirmation by direct message is the one message (issue 15)
    (dm,) = h.dms("alice")
    assert "confirmée" in dm.text
    (event,) = _ics(dm).walk("VEVENT")
    assert event.decoded("DTSTART") == START
    again = await h.text("alice", f"inscription {session_id}")
    assert "déjà inscrite" in again or "déjà inscrit" in again
    assert len(h.dms("alice")) == 1
    # Reminders are written when they fall due, not at registration.
    assert _outbox(h, f"session:{session_id}:reminder:") == []
    await h.move_to(START - timedelta(hours=24))
    await h.move_to(START - timedelta(hours=1))
    reminders = _outbox(h, f"session:{session_id}:reminder:")
    assert [(r.key.rsplit(":", 1)[1], r.due_at, r.status) for r in reminders] == [
        ("24h", START - timedelta(hours=24), OutboxStatus.SENT),
        ("1h", START - timedelta(hours=1), OutboxStatus.SENT),
    ]
    # Closed direct messages: the receipt and the reminders fall back to the session's channel.
    direct = [r for r in _outbox(h, f"session:{session_id}:") if r.target_kind == "direct"]
    assert len(direct) == 3
    assert {r.payload.get("fallback_channel_id") for r in direct} == {GENERAL.channel_id}


@pytest.mark.asyncio
async def test_full_session_waitlists_then_promotes_the_first_in_line(h: Harness) -> None:
    session_id = await h.create(seats=2)
    for user in ("alice", "bob"):
        await h.click(user, f"session:{session_id}:register")
    chloe = await h.text("chloe", f"inscription {session_id}")
    david = await h.text("david", f"register {session_id}")
    assert "liste d'attente" in chloe and "position 1" in chloe
    assert "position 2" in david
    assert "position 2" in await h.text("david", f"inscription {session_id}")
    assert h.dms("chloe") == []
    shown = await h.text("david", f"session {session_id}")
    assert "position 2" in shown
    listing = await h.text("erin", "sessions")
    assert "complet — liste d'attente : 2" in listing

    answer = await h.click("bob", f"session:{session_id}:unregister")
    assert "annulée" in answer
    (promotion,) = h.dms("chloe")
    assert "Une place s'est libérée" in promotion.text
    assert _ics(promotion)["METHOD"] == "PUBLISH"
    assert _statuses(h, session_id) == {
        "alice": "confirmed",
        "bob": "cancelled",
        "chloe": "confirmed",
        "david": "waitlisted",
    }
    assert "position 1" in await h.text("david", f"session {session_id}")
    # Leaving the waitlist, and unregistering twice.
    assert "liste d'attente" in await h.click("david", f"session:{session_id}:unregister")
    assert "pas inscrit" in await h.text("david", f"desinscription {session_id}")
    # The reminder goes to those confirmed when it falls due: Alice and Chloé (promoted before),
    # not Bob (who left) nor David (who was waiting).
    await h.move_to(START - timedelta(hours=24))
    reminded = {user for user in ("alice", "bob", "chloe", "david") if _reminders(h, user)}
    assert reminded == {"alice", "chloe"}


@pytest.mark.asyncio
async def test_reminders_are_sent_once_at_their_time_and_never_to_those_who_left(
    h: Harness,
) -> None:
    session_id = await h.create(seats=5)
    await h.click("alice", f"session:{session_id}:register")
    await h.click("bob", f"session:{session_id}:register")
    await h.click("bob", f"session:{session_id}:unregister")
    await h.move_to(START - timedelta(hours=24, minutes=1))
    assert len(h.dms("alice")) == 1
    await h.move_to(START - timedelta(hours=24))
    assert "Rappel" in h.dms("alice")[-1].text and "dans 24 heures" in h.dms("alice")[-1].text
    await h.move_to(START - timedelta(minutes=30))
    assert "dans 1 heure" in h.dms("alice")[-1].text
    await h.app.scheduler.run_due()
    assert len(h.dms("alice")) == 3
    assert len(h.dms("bob")) == 1  # the confirmation only


@pytest.mark.asyncio
async def test_reminders_survive_a_restart_and_are_not_sent_twice(
    database: Database, tmp_path: Path
) -> None:
    settings = load_settings(
        None, database_url=database.url, environ={}, overrides={"data_dir": str(tmp_path)}
    )
    clock = FrozenClock(NOW)
    first = make_app(settings, clock=clock)
    first.add_platform(RecordingPlatform())
    await first.start(with_scheduler=False)
    h = Harness(first, RecordingPlatform(), clock)
    session_id = await h.create(seats=5)
    await h.click("alice", f"session:{session_id}:register")
    await first.stop()
    for _ in range(2):  # two restarts after the reminder time
        clock.move_to(START - timedelta(hours=23))
        app = make_app(settings, clock=clock)
        platform = RecordingPlatform()
        app.add_platform(platform)
        await app.start(with_scheduler=False)
        await app.scheduler.run_due()
        await app.stop()
        texts = [  # not the announcement's edit (its seats), made after the restart
            reply.text
            for _, reply, token in platform.posted
            if not (token or "").startswith("edit:")
        ]
        if _ == 0:
            assert len(texts) == 1 and "dans 24 heures" in texts[0]
        else:
            assert texts == []
        # Materialised once: one row, and the session records how far it went.
        assert [r.key.rsplit(":", 1)[1] for r in _outbox(h, f"session:{session_id}:rem")] == ["24h"]
        with h.db() as db:
            row = db.get(SessionRow, session_id)
            assert row is not None
            assert row.reminded_through == START - timedelta(hours=23)


@pytest.mark.asyncio
async def test_reminders_written_but_not_sent_before_a_stop_are_sent_once_after_it(
    database: Database, tmp_path: Path
) -> None:
    """A stop between writing the reminders and sending them: the next start sends them and
    writes none again."""
    settings = load_settings(
        None, database_url=database.url, environ={}, overrides={"data_dir": str(tmp_path)}
    )
    clock = FrozenClock(NOW)
    posted: list[str] = []
    for start in range(2):
        app = make_app(settings, clock=clock)
        platform = RecordingPlatform()
        app.add_platform(platform)
        await app.start(with_scheduler=False)
        h = Harness(app, platform, clock)
        if start == 0:
            session_id = await h.create(seats=5)
            for user in ("alice", "bob"):
                await h.click(user, f"session:{session_id}:register")
            clock.move_to(START - timedelta(hours=24))
            _write_due_reminders(h)  # written, the outbox not run yet
            assert len(_outbox(h, f"session:{session_id}:reminder:")) == 2
        else:
            await app.scheduler.run_due()
            await app.scheduler.run_due()
        posted += [reply.text for _, reply, _ in platform.posted if "⏰ Rappel" in reply.text]
        await app.stop()
    assert len(posted) == 2 and all("dans 24 heures" in text for text in posted)
    assert len(_outbox(h, f"session:{session_id}:reminder:")) == 2


@pytest.mark.asyncio
async def test_registering_late_gets_only_the_reminders_still_ahead(h: Harness) -> None:
    session_id = await h.create(seats=5)
    await h.click("bob", f"session:{session_id}:register")
    await h.move_to(START - timedelta(hours=5))
    await h.click("alice", f"session:{session_id}:register")
    await h.move_to(START - timedelta(minutes=30))
    keys = [r.key for r in _outbox(h, f"session:{session_id}:reminder:")]
    assert sorted(k.rsplit(":", 1)[1] for k in keys) == ["1h", "1h", "24h"]
    assert len(_reminders(h, "alice")) == 1 and "dans 1 heure" in _reminders(h, "alice")[0]
    assert len(_reminders(h, "bob")) == 2


@pytest.mark.asyncio
async def test_a_member_promoted_after_a_reminder_gets_only_the_later_ones(h: Harness) -> None:
    session_id = await h.create(seats=1)
    await h.click("alice", f"session:{session_id}:register")
    await h.click("bob", f"session:{session_id}:register")  # waiting
    await h.move_to(START - timedelta(hours=24))
    await h.click("alice", f"session:{session_id}:unregister")  # Bob promoted: too late
    assert "Une place s'est libérée" in h.dms("bob")[-1].text
    await h.move_to(START - timedelta(hours=1))
    assert [("24 heures" in t, "1 heure," in t) for t in _reminders(h, "alice")] == [(True, False)]
    assert [("24 heures" in t, "1 heure," in t) for t in _reminders(h, "bob")] == [(False, True)]


@pytest.mark.asyncio
async def test_unregistering_withdraws_a_reminder_written_but_not_sent(h: Harness) -> None:
    session_id = await h.create(seats=5)
    for user in ("alice", "bob"):
        await h.click(user, f"session:{session_id}:register")
    h.clock.move_to(START - timedelta(hours=24))
    _write_due_reminders(h)  # written, not sent yet
    await h.click("bob", f"session:{session_id}:unregister")
    await h.app.scheduler.run_due()
    assert len(_reminders(h, "alice")) == 1
    assert _reminders(h, "bob") == []
    with h.db() as db:
        bob = db.scalar(select(Member.id).where(Member.user_id == "bob"))
    (row,) = _outbox(h, f"session:{session_id}:reminder:{bob}:")
    assert (row.status, row.last_error) == (
        OutboxStatus.SKIPPED,
        "withdrawn: registration cancelled",
    )


@pytest.mark.asyncio
async def test_a_request_made_before_a_reminder_but_handled_after_it_still_gets_it(
    h: Harness,
) -> None:
    """The provider wrote the 24-hour reminder; a registration made a moment before that (its
    request waited for the session's lock) is confirmed after: it gets the reminder too."""
    session_id = await h.create(seats=5)
    await h.click("alice", f"session:{session_id}:register")
    h.clock.move_to(START - timedelta(hours=24))
    _write_due_reminders(h)
    notifier = Notifier.from_settings(h.app.translators, h.app.settings)
    before = START - timedelta(hours=24, seconds=1)
    with h.db() as db:
        bob = Member(platform="console", user_id="bob", display_name="Bob")
        bob.created_at = bob.updated_at = before
        db.add(bob)
        db.flush()
        register_and_notify(db, notifier, session_id, bob, before)
        db.commit()
        bob_id = bob.id
    (row,) = _outbox(h, f"session:{session_id}:reminder:{bob_id}:")
    assert (row.due_at, row.status) == (START - timedelta(hours=24), OutboxStatus.PENDING)
    await h.app.scheduler.run_due()
    assert len(_reminders(h, "alice")) == len(_reminders(h, "bob")) == 1


@pytest.mark.asyncio
async def test_reminders_missed_while_the_bot_was_down_only_the_nearest_before_the_start(
    h: Harness,
) -> None:
    first = await h.create(seats=5)
    second = await h.create(seats=5)
    for session_id in (first, second):
        await h.click("alice", f"session:{session_id}:register")
    with h.db() as db:  # the second one starts an hour later
        row = db.get(SessionRow, second)
        assert row is not None
        row.starts_at += timedelta(hours=1)
        row.ends_at += timedelta(hours=1)
        db.commit()
    # Down from before the 24-hour reminders until after the first session's start.
    await h.move_to(START + timedelta(minutes=30))
    reminders = _reminders(h, "alice")
    assert len(reminders) == 1 and "dans 1 heure" in reminders[0]  # the second session's
    assert _outbox(h, f"session:{first}:reminder:") == []
    assert [r.key.rsplit(":", 1)[1] for r in _outbox(h, f"session:{second}:reminder:")] == ["1h"]


@pytest.mark.asyncio
async def test_registering_again_after_leaving_revives_reminders_and_goes_to_the_back(
    h: Harness,
) -> None:
    session_id = await h.create(seats=1)
    await h.click("alice", f"session:{session_id}:register")
    await h.click("bob", f"session:{session_id}:register")
    await h.click("alice", f"session:{session_id}:unregister")  # Bob promoted
    answer = await h.click("alice", f"session:{session_id}:register")
    assert "position 1" in answer
    await h.click("bob", f"session:{session_id}:unregister")  # Alice promoted again
    with h.db() as db:
        alice = db.scalar(select(Member.id).where(Member.user_id == "alice"))
    assert len(h.dms("alice")) == 2  # the confirmation, then the promotion
    assert _statuses(h, session_id)["alice"] == "confirmed"
    await h.move_to(START - timedelta(hours=24))
    assert [r.status for r in _outbox(h, f"session:{session_id}:reminder:{alice}:")] == [
        OutboxStatus.SENT
    ]
    assert len(_reminders(h, "alice")) == 1 and _reminders(h, "bob") == []


@pytest.mark.asyncio
async def test_closed_cancelled_past_and_unknown_sessions_refuse_registration(
    h: Harness,
) -> None:
    session_id = await h.create(seats=5, extra=' --inscriptions-jusqu-au "1 décembre"')
    assert "Il n'y a pas de session n° 99" in await h.text("alice", "inscription 99")
    await h.move_to(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    answer = await h.click("alice", f"session:{session_id}:register")
    assert "sont closes depuis le mardi 1 décembre 2026 à 23h59" in answer
    await h.move_to(START + timedelta(minutes=5))
    assert "a déjà commencé" in await h.text("alice", f"inscription {session_id}")
    assert "a déjà commencé" in await h.text("alice", f"desinscription {session_id}")
    assert _statuses(h, session_id) == {}


# --- quotas and categories -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_category_quotas_cap_seats_and_promotion_skips_a_full_category(
    h: Harness,
) -> None:
    session_id = await h.create(seats=2, extra=" --quotas elu=1")
    with h.db() as db:
        quotas = db.scalars(select(SessionQuota)).all()
        assert [(q.category, q.capacity) for q in quotas] == [("elu", 1)]
    assert "élu" in await h.text("alice", "categorie élue")
    await h.text("bob", "category elected")
    await h.text("chloe", "categorie agent")
    await h.text("david", "categorie partenaire")
    assert "Catégorie inconnue" in await h.text("erin", "categorie maire")
    await h.click("alice", f"session:{session_id}:register")
    bob = await h.click("bob", f"session:{session_id}:register")
    assert "élu·e" in bob and "position 1" in bob
    await h.click("chloe", f"session:{session_id}:register")  # the second seat
    await h.click("david", f"session:{session_id}:register")  # full: position 2
    await h.click("chloe", f"session:{session_id}:unregister")
    # Bob is first in line but his category is full: David gets the seat, Bob keeps his place.
    assert _statuses(h, session_id)["david"] == "confirmed"
    assert _statuses(h, session_id)["bob"] == "waitlisted"
    await h.click("alice", f"session:{session_id}:unregister")
    assert _statuses(h, session_id)["bob"] == "confirmed"
    with h.db() as db:
        quota = db.scalars(select(SessionQuota)).one()
        row = db.get(SessionRow, session_id)
        assert row is not None
        assert (quota.confirmed, row.confirmed) == (1, 2)
    assert "plus de catégorie" in await h.text("bob", "categorie aucune")


# --- changes and cancellation ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_edit_tells_registrants_with_a_higher_sequence_and_moves_reminders(
    h: Harness,
) -> None:
    session_id = await h.create(seats=1)
    await h.click("alice", f"session:{session_id}:register")
    await h.click("bob", f"session:{session_id}:register")
    answer = await h.text(
        "camille",
        f'session modifier {session_id} --quand "vendredi 4 décembre 10h" --lieu "Salle 3"',
        coordinator=True,
    )
    assert "2 personnes inscrites prévenues" in answer
    new_start = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    alice_dm = h.dms("alice")[-1]
    assert "a changé" in alice_dm.text and "Salle 3" in alice_dm.text
    (event,) = _ics(alice_dm).walk("VEVENT")
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == new_start
    assert event.decoded("DTEND") == new_start + timedelta(hours=2)
    assert h.dms("bob")[-1].attachments == ()  # waitlisted: told, no calendar entry
    notice = h.channel()[-1]
    assert "a changé" in notice.text and _ics(notice).walk("VEVENT")[0]["SEQUENCE"] == 1
    # More seats promote Bob; fewer than taken is refused and changes nothing.
    await h.text("camille", f"session modifier {session_id} --places 2", coordinator=True)
    assert _statuses(h, session_id)["bob"] == "confirmed"
    assert "Une place s'est libérée" in h.dms("bob")[-1].text
    refused = await h.text("camille", f"session modifier {session_id} --places 1", coordinator=True)
    assert "2 membres ont déjà une place" in refused
    assert "Dites ce qu'il faut changer" in await h.text(
        "camille", f"session modifier {session_id}", coordinator=True
    )
    with h.db() as db:
        row = db.get(SessionRow, session_id)
        assert row is not None
        assert (row.capacity, row.confirmed, row.sequence) == (2, 2, 1)
    # The reminders follow the new time (none at the old one).
    await h.move_to(START - timedelta(hours=24))
    assert _outbox(h, f"session:{session_id}:reminder:") == []
    await h.move_to(new_start - timedelta(hours=24))
    reminders = _outbox(h, f"session:{session_id}:reminder:")
    assert [r.due_at for r in reminders] == [new_start - timedelta(hours=24)] * 2
    for user in ("alice", "bob"):
        (text,) = _reminders(h, user)
        assert "dans 24 heures" in text and "vendredi 4 décembre" in text


@pytest.mark.asyncio
async def test_a_reminder_written_but_not_sent_moves_with_the_session(h: Harness) -> None:
    """Postponed after its reminder was written but before it was sent: withdrawn, then
    written again (the same row, revived) at the new moment, with the new date."""
    session_id = await h.create(seats=5)
    await h.click("alice", f"session:{session_id}:register")
    h.clock.move_to(START - timedelta(hours=24))
    _write_due_reminders(h)  # written, not sent
    await h.text(
        "camille",
        f'session modifier {session_id} --quand "samedi 5 décembre 10h"',
        coordinator=True,
    )
    (row,) = _outbox(h, f"session:{session_id}:reminder:")
    assert (row.status, row.last_error) == (OutboxStatus.SKIPPED, "withdrawn: the session changed")
    await h.app.scheduler.run_due()
    assert _reminders(h, "alice") == []
    new_start = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    await h.move_to(new_start - timedelta(hours=24))
    (text,) = _reminders(h, "alice")
    assert "samedi 5 décembre" in text
    (row,) = _outbox(h, f"session:{session_id}:reminder:")
    assert (row.status, row.due_at) == (OutboxStatus.SENT, new_start - timedelta(hours=24))


@pytest.mark.asyncio
async def test_a_session_brought_forward_past_a_reminder_does_not_send_it(h: Harness) -> None:
    session_id = await h.create(seats=5)
    await h.click("alice", f"session:{session_id}:register")
    await h.move_to(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    await h.text(  # now 10 hours ahead: the 24-hour reminder is too late
        "camille",
        f'session modifier {session_id} --quand "mardi 1 décembre 19h"',
        coordinator=True,
    )
    await h.move_to(datetime(2026, 12, 1, 17, 30, tzinfo=UTC))
    reminders = _reminders(h, "alice")
    assert len(reminders) == 1 and "dans 1 heure" in reminders[0]


@pytest.mark.asyncio
async def test_cancel_tells_registrants_with_a_cancelling_calendar_file(h: Harness) -> None:
    session_id = await h.create(seats=1)
    await h.click("alice", f"session:{session_id}:register")
    await h.click("bob", f"session:{session_id}:register")
    answer = await h.text(
        "camille", f'session annuler {session_id} --raison "Intervenant malade"', coordinator=True
    )
    assert "2 personnes inscrites prévenues" in answer
    cancelled = h.dms("alice")[-1]
    assert "est annulé" in cancelled.text and "Intervenant malade" in cancelled.text
    calendar = _ics(cancelled)
    assert calendar["METHOD"] == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 1
    assert "est annulé" in h.dms("bob")[-1].text
    assert "est annulé" in h.channel()[-1].text
    assert "a été annulée" in await h.click("chloe", f"session:{session_id}:register")
    assert "a été annulée" in await h.text(
        "camille", f"session annuler {session_id}", coordinator=True
    )
    assert "a été annulée" in await h.text(
        "camille", f"session modifier {session_id} --places 5", coordinator=True
    )
    await h.move_to(START - timedelta(hours=1))
    assert len(h.dms("alice")) == 2  # no reminder after the cancellation
    assert _outbox(h, f"session:{session_id}:reminder:") == []


@pytest.mark.asyncio
async def test_cancelling_withdraws_reminders_written_but_not_sent(h: Harness) -> None:
    session_id = await h.create(seats=5)
    await h.click("alice", f"session:{session_id}:register")
    h.clock.move_to(START - timedelta(hours=24))
    _write_due_reminders(h)
    await h.text("camille", f"session annuler {session_id}", coordinator=True)
    await h.move_to(START - timedelta(minutes=30))
    assert _reminders(h, "alice") == []
    (row,) = _outbox(h, f"session:{session_id}:reminder:")
    assert (row.status, row.last_error) == (OutboxStatus.SKIPPED, "withdrawn: session cancelled")


# --- coordinators: participants, attendance, check-in, feedback --------------------------------


@pytest.mark.asyncio
async def test_participants_list_and_csv(h: Harness) -> None:
    session_id = await h.create(seats=1)
    await h.text("alice", "categorie elu")
    await h.click("alice", f"session:{session_id}:register")
    await h.click("=bob", f"session:{session_id}:register")
    await h.click("chloe", f"session:{session_id}:register")
    await h.click("chloe", f"session:{session_id}:unregister")
    text = await h.text("camille", f"participants {session_id}", coordinator=True)
    assert "1. Alice — élu·e — confirmée" in text
    assert "2. =bob — sans catégorie — liste d'attente, position 1" in text
    assert "1 inscription annulée" in text
    (reply,) = await h.cmd("camille", f"participants {session_id} --csv", coordinator=True)
    (attachment,) = reply.attachments
    assert attachment.filename == f"participants-session-{session_id}.csv"
    assert attachment.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(attachment.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Statut", "Position en liste d'attente", "Nom"]
    assert [r[2] for r in rows[1:]] == ["Alice", "'=bob", "Chloe"]
    assert [r[0] for r in rows[1:]] == ["confirmée", "liste d'attente", "annulée"]
    assert rows[2][1] == "1"


@pytest.mark.asyncio
async def test_attendance_check_in_closing_and_feedback(h: Harness) -> None:
    session_id = await h.create(seats=3)
    for user in ("alice", "bob", "chloe"):
        await h.click(user, f"session:{session_id}:register")
    await h.text("david", "aide")  # known to the bot, not registered
    early = await h.text("camille", f"presence {session_id} @alice", coordinator=True)
    assert "n'a pas encore commencé" in early
    await h.move_to(START)
    (checkin,) = [r for r in h.channel() if r.choices and "checkin" in r.choices[0].action]
    assert checkin.choices[0].label == "Je suis là"
    assert "enregistrée" in await h.click("alice", f"session:{session_id}:checkin")
    assert "déjà enregistrée" in await h.click("alice", f"session:{session_id}:checkin")
    assert "pas sur la liste" in await h.click("erin", f"session:{session_id}:checkin")
    unknown = await h.text("camille", f"presence {session_id} @bob @zoe", coordinator=True)
    assert "@zoe" in unknown and "Rien n'a été enregistré" in unknown
    answer = await h.text("camille", f"presence {session_id} @bob @david @alice", coordinator=True)
    assert "enregistrée pour Bob, David.\nDéjà enregistrée : Alice." in answer
    await h.move_to(START + timedelta(hours=2))
    (closed,) = [e for e in h.edits() if "3 personnes présentes" in e.text]  # not the announcement
    assert closed.choices == ()
    assert "n'est ouvert que pendant" in await h.click("chloe", f"session:{session_id}:checkin")
    await h.move_to(START + timedelta(hours=2) + FEEDBACK_DELAY)
    asked = [
        u
        for u in ("alice", "bob", "chloe", "david")
        if any(r.choices and "feedback" in r.choices[0].action for r in h.dms(u))
    ]
    assert asked == ["alice", "bob", "david"]
    feedback = h.dms("david")[-1]
    assert [c.label for c in feedback.choices] == ["Utile", "Moyen", "Peu utile"]
    assert "Merci" in await h.click("david", feedback.choices[0].action)
    assert "participé" in await h.click("chloe", feedback.choices[0].action)
    summary = await h.text("camille", f"session {session_id}", coordinator=True)
    assert "présences : 3" in summary and "Utile 1" in summary
    await h.app.scheduler.run_due()
    assert len([r for r in h.dms("david") if r.choices]) == 1  # asked once


@pytest.mark.asyncio
async def test_a_session_missed_while_the_bot_was_down_gets_no_check_in(h: Harness) -> None:
    session_id = await h.create(seats=3)
    await h.click("alice", f"session:{session_id}:register")
    h.clock.move_to(START + timedelta(days=10))  # nothing ran meanwhile
    await h.app.scheduler.run_due()
    assert not [r for r in h.channel() if r.choices and "checkin" in r.choices[0].action]
    assert not [r for r in h.dms("alice") if r.choices]
    with h.db() as db:
        row = db.get(SessionRow, session_id)
        assert row is not None and row.stage == 3


@pytest.mark.asyncio
async def test_choices_that_mean_nothing_are_refused(h: Harness) -> None:
    assert "ne fait plus rien" in await h.click("alice", "session:abc:register")
    assert "ne fait plus rien" in await h.click("alice", "session:1:dance")
    assert "Il n'y a pas de session n° 1" in await h.click("alice", "session:1:register")


@pytest.mark.asyncio
async def test_listing_and_details_in_english(h: Harness) -> None:
    assert "No session is planned" in (
        await h.text("alice", "profile language en") + await h.text("alice", "sessions")
    )
    session_id = await h.create(seats=1)
    await h.click("bob", f"session:{session_id}:register")
    listing = await h.text("alice", "sessions")
    assert "Webinaire mobilités" in listing and "full, 0 on the waiting list" in listing
    details = await h.text("alice", f"session {session_id}")
    assert "Thursday 3 December 2026 at 14:00 to 16:00" in details
    answer = await h.click("alice", f"session:{session_id}:register")
    assert "is full: you are on the waiting list, in position 1" in answer
    assert "upcoming" in (await h.text("alice", "session")).lower()


# --- services ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_services_refuse_what_would_break_an_invariant(h: Harness) -> None:
    session_id = await h.create(seats=1)
    with h.db() as db:
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
async def test_session_created_from_the_best_slot_of_a_date_poll(h: Harness) -> None:
    from commands.polls import SetMarks, cast_vote, create_poll

    with h.db() as db:
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
    answer = await h.text(
        "camille",
        f'session creer "Journée terrain" --depuis-sondage {poll_id} --places 5 --duree 3h',
        coordinator=True,
    )
    assert "créée" in answer
    with h.db() as db:
        row = db.scalars(select(SessionRow)).one()
        assert row.starts_at == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
        assert row.ends_at == row.starts_at + timedelta(hours=3)
    both = await h.text(
        "camille",
        f'session creer "X" --depuis-sondage {poll_id} --quand "demain 9h" --places 5',
        coordinator=True,
    )
    assert "pas les deux" in both
