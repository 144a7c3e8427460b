"""The digest, the gazette and session invitations by email, end to end: the families post in
the chat, the bot mails the subscribers through a real SMTP server on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import pytest_asyncio

from bot.core import Attachment, PlaceTarget, Reply
from bot.outbox import enqueue
from bot.storage.members import record_place
from commands.veille.store import add_source_row, store_entries
from digests.feeds import ParsedEntry, ParsedFeed, link_hash
from tests.bot.mail.helpers import add_subscriber, email_rows, mail_chat
from tests.conftest import Database
from tests.support.chat import Chat, place
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.asyncio

MONDAY_9 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 30 November, 9:00 in Paris


@pytest_asyncio.fixture
async def chat(database: Database, tmp_path: Path, smtp_server: SmtpServer) -> AsyncIterator[Chat]:
    running = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        yield running
    finally:
        await running.stop()


def _entry(title: str, link: str, day: int) -> ParsedEntry:
    return ParsedEntry(
        key=hashlib.sha256(title.encode()).hexdigest(),
        link=link,
        link_hash=link_hash(link),
        content_hash=hashlib.sha256(title.encode()).hexdigest(),
        title=title,
        summary="Un résumé <b>court</b>.",
        summary_html="<p>Un résumé <b>court</b>.</p>",
        author=None,
        published_at=datetime(2026, 11, day, 9, 0, tzinfo=UTC),
    )


def _watch(chat: Chat) -> None:
    now = chat.clock.now()
    with chat.app.sessions.begin() as db:
        record_place(db, place("veille"), now)
        source, _ = add_source_row(
            db,
            platform="console",
            channel_id="veille",
            url="https://mobilites.example/rss",
            now=now,
            title="Mobilités & territoires",
            theme="mobilité",
        )
        entries = (
            _entry("ZFE : le guide 2026", "https://mobilites.example/zfe", 24),
            _entry("Plan vélo de Lyon", "https://mobilites.example/velo", 25),
        )
        store_entries(db, source, ParsedFeed("M", None, "rss20", entries), now)


async def test_the_weekly_digest_is_mailed_once_to_its_subscribers(
    chat: Chat, smtp_server: SmtpServer
) -> None:
    _watch(chat)
    reader = add_subscriber(chat, "lectrice@mairie.example.fr", "Lectrice")
    add_subscriber(chat, "gazette-seule@asso.example.fr", wants_digest=False)
    add_subscriber(chat, "pas-confirme@asso.example.fr", confirmed=False)
    await chat.move_to(MONDAY_9 + timedelta(minutes=1))
    assert any("ZFE" in post.text for post in chat.posts())  # posted in the chat
    received = smtp_server.recorder.received
    assert [r.recipients for r in received] == [["lectrice@mairie.example.fr"]]
    msg = received[0].message
    assert "49" in msg["Subject"]
    assert msg["List-Id"].endswith("<veille.veille.reseau.example.org>")
    assert "List-Unsubscribe" in msg
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "ZFE : le guide 2026" in plain and "Plan vélo de Lyon" in plain
    assert "ZFE : le guide 2026" in html
    assert "<style" not in html and 'style="' in html  # the CSS is inlined
    # A week later, and after restarts of the provider: still one email for week 49.
    await chat.app.scheduler.run_due()
    await chat.move_to(MONDAY_9 + timedelta(hours=2))
    assert len(smtp_server.recorder.to("lectrice@mairie.example.fr")) == 1
    rows = [r for r in email_rows(chat) if r.target_id == str(reader)]
    assert [r.key for r in rows] == [f"email:digest:console:veille:2026-W49:{reader}"]


async def test_the_gazette_is_mailed_with_its_html_attached(
    chat: Chat, smtp_server: SmtpServer
) -> None:
    add_subscriber(chat, "lectrice@mairie.example.fr")
    add_subscriber(chat, "digest-seul@asso.example.fr", wants_gazette=False)
    page = "<html><body><h1>Gazette n°1</h1></body></html>".encode()
    now = chat.clock.now()
    with chat.app.sessions.begin() as db:
        # What the gazette family writes when a gazette is published (commands/gazette/publish.py).
        enqueue(
            db,
            key="gazette:1:publish",
            reply=Reply(
                text="📰 **Réseau : la gazette n°1 est parue !** 3 pépites, 1 séance.",
                attachments=(Attachment("gazette-1.html", "text/html", page),),
            ),
            target=PlaceTarget("console", "general"),
            due_at=now,
            now=now,
        )
    await chat.move_to(now + timedelta(minutes=1))
    (received,) = smtp_server.recorder.received
    assert received.recipients == ["lectrice@mairie.example.fr"]
    msg = received.message
    assert "gazette" in msg["Subject"]
    assert "3 pépites" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    (attached,) = list(msg.iter_attachments())
    assert attached.get_filename() == "gazette-1.html"
    assert attached.get_payload(decode=True) == page


def _calendar(msg: object) -> icalendar.Calendar:
    from email.message import EmailMessage

    assert isinstance(msg, EmailMessage)
    part = next(p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar")
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return icalendar.Calendar.from_ical(data)


async def test_session_invitations_update_and_cancel_the_same_event(
    chat: Chat, smtp_server: SmtpServer
) -> None:
    add_subscriber(chat, "elue@mairie.example.fr", "Élue Durand")
    add_subscriber(chat, "sans-seances@asso.example.fr", wants_sessions=False)
    await chat.command(
        "camille",
        'session creer "Webinaire mobilités" --quand "jeudi 3 décembre 14h" --duree 2h '
        "--type webinaire --lien https://visio.example.org/m --places 10",
        coordinator=True,
    )
    await chat.move_to(chat.clock.now() + timedelta(minutes=1))
    await chat.command(
        "camille", 'session modifier 1 --quand "vendredi 4 décembre 10h"', coordinator=True
    )
    await chat.move_to(chat.clock.now() + timedelta(minutes=1))
    await chat.command("camille", "session annuler 1", coordinator=True)
    await chat.move_to(chat.clock.now() + timedelta(minutes=1))
    messages = smtp_server.recorder.to("elue@mairie.example.fr")
    assert smtp_server.recorder.to("sans-seances@asso.example.fr") == []
    assert len(messages) == 3
    calendars = [_calendar(m) for m in messages]
    methods = [str(c["METHOD"]) for c in calendars]
    assert methods == ["REQUEST", "REQUEST", "CANCEL"]
    events = [next(iter(c.walk("VEVENT"))) for c in calendars]
    assert len({str(e["UID"]) for e in events}) == 1
    sequences = [int(e["SEQUENCE"]) for e in events]
    assert sequences[0] < sequences[1] < sequences[2]
    assert str(events[0]["ATTENDEE"]) == "mailto:elue@mairie.example.fr"
    assert events[0]["ATTENDEE"].params["RSVP"] == "TRUE"
    assert str(events[0]["ORGANIZER"]) == "mailto:coordination@reseau.example.org"
    assert events[1]["DTSTART"].dt.day == 4
    # The calendar alternative carries the method too (what Outlook reads).
    first = messages[0]
    alternative = [
        p
        for p in first.walk()
        if p.get_content_type() == "text/calendar" and p.get_filename() is None
    ]
    assert alternative and alternative[0].get_param("method") == "REQUEST"
    assert "Invitation" in first["Subject"] and "Webinaire" in first["Subject"]
