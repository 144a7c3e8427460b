"""Email through the outbox, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.mail import Part
from tests.bot.mail.helpers import (
    add_subscriber,
    deliver,
    email_rows,
    mail_chat,
    send_mailing,
    subscriber,
)
from tests.conftest import Database
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.asyncio


async def test_a_list_email_carries_its_headers_and_both_bodies(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        sid = add_subscriber(chat, "elodie@mairie.example.fr", "Élodie Martin")
        send_mailing(chat, [sid], subject="La veille — semaine 48 : « eau »")
        report = await deliver(chat)
    finally:
        await chat.stop()
    assert report.sent == 1
    (received,) = smtp_server.recorder.received
    assert received.recipients == ["elodie@mairie.example.fr"]
    assert received.sender == "veille@reseau.example.org"
    msg = received.message
    assert msg["Subject"] == "La veille — semaine 48 : « eau »"
    assert msg["To"].addresses[0].display_name == "Élodie Martin"
    assert msg["From"].addresses[0].addr_spec == "veille@reseau.example.org"
    assert msg["Reply-To"].addresses[0].addr_spec == "coordination@reseau.example.org"
    assert msg["Message-ID"].endswith("@reseau.example.org>")
    assert msg["Date"].datetime is not None
    assert msg["List-Id"] == "Veille <veille.reseau.example.org>"
    assert "mailto:coordination@reseau.example.org?subject=unsubscribe" in msg["List-Unsubscribe"]
    assert msg["List-Unsubscribe-Post"] is None  # no HTTPS link configured
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and html is not None
    assert "voici la veille" in plain.get_content()
    assert "/profil email retirer" in plain.get_content()  # how to leave, in the footer
    assert "voici la veille" in html.get_content()
    # Non-ASCII headers travel as encoded words: the raw bytes are 7-bit.
    head = received.data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    (row,) = email_rows(chat)
    assert row.status == "sent"
    assert row.platform_message_id == msg["Message-ID"]


async def test_the_one_click_link_is_offered_when_configured(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    chat = await mail_chat(
        database.url,
        tmp_path,
        smtp_server,
        unsubscribe_url="https://reseau.example.org/desinscription",
    )
    try:
        sid = add_subscriber(chat, "elodie@mairie.example.fr")
        send_mailing(chat, [sid])
        await deliver(chat)
        token = subscriber(chat, sid).unsubscribe_token
    finally:
        await chat.stop()
    msg = smtp_server.recorder.received[0].message
    assert f"<https://reseau.example.org/desinscription/{token}>" in msg["List-Unsubscribe"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_names_and_subjects_cannot_inject_headers(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        sid = add_subscriber(
            chat, "elodie@mairie.example.fr", "Élodie\r\nBcc: victim@evil.example\r\n"
        )
        send_mailing(
            chat,
            [sid],
            subject="Veille\r\nBcc: other@evil.example\nX-Injected: yes\u2028Cc: c@evil.example",
        )
        report = await deliver(chat)
    finally:
        await chat.stop()
    assert report.sent == 1
    (received,) = smtp_server.recorder.received
    assert received.recipients == ["elodie@mairie.example.fr"]
    msg = received.message
    assert msg["Bcc"] is None and msg["Cc"] is None and msg["X-Injected"] is None
    assert "\n" not in msg["Subject"] and "Bcc: other@evil.example" in msg["Subject"]
    assert [a.addr_spec for a in msg["To"].addresses] == ["elodie@mairie.example.fr"]


async def test_one_connection_serves_a_batch(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        ids = [add_subscriber(chat, f"membre{n}@asso.example.fr") for n in range(6)]
        send_mailing(chat, ids)
        report = await deliver(chat)
        channel = chat.app.platforms["email"]
        connections = channel.transport.connections  # type: ignore[attr-defined]
    finally:
        await chat.stop()
    assert report.sent == 6
    assert connections == 1
    assert smtp_server.recorder.sessions == 1
    assert sorted(r.recipients[0] for r in smtp_server.recorder.received) == sorted(
        f"membre{n}@asso.example.fr" for n in range(6)
    )


async def test_queuing_twice_sends_once(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        sid = add_subscriber(chat, "elodie@mairie.example.fr")
        send_mailing(chat, [sid])
        send_mailing(chat, [sid])
        await deliver(chat)
        send_mailing(chat, [sid])
        await deliver(chat)
    finally:
        await chat.stop()
    assert len(smtp_server.recorder.received) == 1


async def test_a_temporary_refusal_is_retried_then_delivered(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.temporary_failures["elodie@mairie.example.fr"] = 1
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        sid = add_subscriber(chat, "elodie@mairie.example.fr")
        send_mailing(chat, [sid])
        first = await deliver(chat)
        (row,) = email_rows(chat)
        assert row.status == "pending" and "451" in (row.last_error or "")
        await chat.move_to(chat.clock.now() + timedelta(minutes=5))
        await deliver(chat)  # move_to delivered it already: nothing more to send
    finally:
        await chat.stop()
    assert (first.retried, first.sent) == (1, 0)
    assert len(smtp_server.recorder.received) == 1
    (row,) = email_rows(chat)
    assert row.status == "sent"


async def test_a_server_that_is_down_loses_nothing(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    live_port = smtp_server.port
    smtp_server.port = live_port + 1 if live_port < 65535 else live_port - 1
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        sid = add_subscriber(chat, "elodie@mairie.example.fr")
        send_mailing(chat, [sid])
        down = await deliver(chat)
        (row,) = email_rows(chat)
        assert row.status == "pending" and "connect" in (row.last_error or "")
        # The server comes back (the same bot, pointed at it).
        channel = chat.app.platforms["email"]
        from dataclasses import replace

        channel.transport.options = replace(  # type: ignore[attr-defined]
            channel.transport.options,  # type: ignore[attr-defined]
            port=live_port,
        )
        await chat.move_to(chat.clock.now() + timedelta(minutes=5))
        await deliver(chat)
    finally:
        await chat.stop()
    assert down.retried == 1
    assert len(smtp_server.recorder.received) == 1


async def test_permanent_refusals_fail_the_row_and_disable_the_address(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.refuse_recipients["parti@ancien.example.fr"] = "550 5.1.1 No such user"
    chat = await mail_chat(database.url, tmp_path, smtp_server, max_bounces=2)
    try:
        gone = add_subscriber(chat, "parti@ancien.example.fr")
        here = add_subscriber(chat, "elodie@mairie.example.fr")
        send_mailing(chat, [gone, here], key="digest:console:general:2026-W48")
        first = await deliver(chat)
        assert subscriber(chat, gone).disabled_at is None
        assert subscriber(chat, gone).bounces == 1
        send_mailing(chat, [gone, here], key="digest:console:general:2026-W49")
        second = await deliver(chat)
        disabled = subscriber(chat, gone)
        send_mailing(chat, [gone, here], key="digest:console:general:2026-W50")
        third = await deliver(chat)
    finally:
        await chat.stop()
    assert (first.sent, first.failed) == (1, 1)
    assert (second.sent, second.failed) == (1, 1)
    assert disabled.disabled_at is not None and "550" in (disabled.disabled_reason or "")
    # Disabled: the third week is not even offered to the server.
    assert (third.sent, third.failed) == (1, 1)
    failed = [r for r in email_rows(chat) if r.status == "failed"]
    assert "550" in (failed[0].last_error or "")
    assert "disabled" in (failed[-1].last_error or "")
    assert len(smtp_server.recorder.to("elodie@mairie.example.fr")) == 3
    assert smtp_server.recorder.to("parti@ancien.example.fr") == []


async def test_a_refused_sender_is_a_recorded_failure(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.refuse_sender = "553 5.7.1 Sender address rejected: not owned by user"
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        sid = add_subscriber(chat, "elodie@mairie.example.fr")
        send_mailing(chat, [sid])
        report = await deliver(chat)
    finally:
        await chat.stop()
    assert report.failed == 1
    (row,) = email_rows(chat)
    assert row.status == "failed" and "553" in (row.last_error or "")
    # The sender's fault is not the address's: no bounce counted.
    assert subscriber(chat, sid).bounces == 0


async def test_nothing_but_a_code_goes_to_an_unconfirmed_address(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        sid = add_subscriber(chat, "nouvelle@asso.example.fr", confirmed=False)
        send_mailing(chat, [sid])
        send_mailing(
            chat,
            [sid],
            key="code:1:1",
            kind="code",
            subject="Votre code",
            text="Code : 123456",
            html=None,
            list_id=None,
        )
        report = await deliver(chat)
    finally:
        await chat.stop()
    assert (report.sent, report.failed) == (1, 1)
    (received,) = smtp_server.recorder.received
    assert received.message["Subject"] == "Votre code"
    assert received.message["List-Id"] is None


async def test_a_calendar_part_is_an_alternative_and_an_attachment(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    ics = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        sid = add_subscriber(chat, "elodie@mairie.example.fr")
        send_mailing(
            chat,
            [sid],
            key="session:1:0",
            kind="session",
            parts=[Part("session.ics", "text/calendar", ics, "REQUEST")],
        )
        await deliver(chat)
    finally:
        await chat.stop()
    msg = smtp_server.recorder.received[0].message
    calendars = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 2
    assert all(p.get_param("method") == "REQUEST" for p in calendars)
    attachment = next(p for p in calendars if p.get_filename() == "session.ics")
    assert attachment.get_payload(decode=True) == ics
