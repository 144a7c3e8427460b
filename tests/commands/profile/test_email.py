"""/profil email: an address confirmed by a code sent to it, choices, removal (real SMTP server
on loopback, SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot import mail
from tests.bot.mail.helpers import email_rows, mail_chat
from tests.conftest import Database
from tests.support.chat import Chat, text_of
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.asyncio
ADDRESS = "alice@mairie.example.fr"


@pytest_asyncio.fixture
async def chat(database: Database, tmp_path: Path, smtp_server: SmtpServer) -> AsyncIterator[Chat]:
    running = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        yield running
    finally:
        await running.stop()


def last_code(server: SmtpServer, address: str = ADDRESS) -> str:
    message = server.recorder.to(address)[-1]
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"confirmer (\d{6})", body.get_content())
    assert found is not None
    return found.group(1)


async def test_subscribing_sends_a_code_and_only_the_code(
    chat: Chat, smtp_server: SmtpServer
) -> None:
    said = text_of(await chat.command("alice", f"/profil email {ADDRESS}"))
    assert ADDRESS in said and "confirmer" in said
    (message,) = smtp_server.recorder.to(ADDRESS)
    assert message["List-Id"] is None
    assert "Alice" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with chat.app.sessions() as db:
        assert mail.recipients(db, "digest") == []  # not confirmed: receives nothing else
    code = last_code(smtp_server)
    said = text_of(await chat.command("alice", f"/profil email confirmer {code}"))
    assert "Confirmed" in said or "Confirmé" in said
    with chat.app.sessions() as db:
        (row,) = mail.recipients(db, "digest")
        assert row.address == ADDRESS
        assert "console member alice" in row.basis
    shown = text_of(await chat.command("alice", "/profil"))
    assert ADDRESS in shown


async def test_a_wrong_code_counts_and_runs_out(chat: Chat, smtp_server: SmtpServer) -> None:
    await chat.command("alice", f"/profil email {ADDRESS}")
    code = last_code(smtp_server)
    wrong = "000000" if code != "000000" else "111111"
    said = text_of(await chat.command("alice", f"/profil email confirmer {wrong}"))
    assert "4" in said
    for _ in range(4):
        said = text_of(await chat.command("alice", f"/profil email confirmer {wrong}"))
    # Spent: even the right code no longer works.
    said = text_of(await chat.command("alice", f"/profil email confirmer {code}"))
    assert "/profil email " + ADDRESS in said
    with chat.app.sessions() as db:
        row = mail.subscriber_of_member(db, 1)
        assert row is not None and row.confirmed_at is None


async def test_a_code_expires(chat: Chat, smtp_server: SmtpServer) -> None:
    await chat.command("alice", f"/profil email {ADDRESS}")
    code = last_code(smtp_server)
    await chat.move_to(chat.clock.now() + mail.CODE_TTL + timedelta(minutes=1))
    said = text_of(await chat.command("alice", f"/profil email confirmer {code}"))
    assert f"/profil email {ADDRESS}" in said
    # A new code works.
    await chat.command("alice", f"/profil email {ADDRESS}")
    assert len(smtp_server.recorder.to(ADDRESS)) == 2
    await chat.command("alice", f"/profil email confirmer {last_code(smtp_server)}")
    with chat.app.sessions() as db:
        assert [r.address for r in mail.recipients(db, "gazette")] == [ADDRESS]


async def test_bad_addresses_are_refused_clearly(chat: Chat, smtp_server: SmtpServer) -> None:
    for typed in ("alice@", "alice@@mairie.fr", "alice@mairie", "<alice@x.fr>\r\nBcc:"):
        said = text_of(await chat.command("alice", f'/profil email "{typed}"'))
        assert "/profil email camille@mairie-exemple.fr" in said
    assert smtp_server.recorder.received == []
    assert email_rows(chat) == []


async def test_choices_and_removal(chat: Chat, smtp_server: SmtpServer) -> None:
    await chat.command("alice", f"/profil email {ADDRESS}")
    await chat.command("alice", f"/profil email confirmer {last_code(smtp_server)}")
    await chat.command("alice", "/profil email gazette sessions")
    with chat.app.sessions() as db:
        assert mail.recipients(db, "digest") == []
        assert len(mail.recipients(db, "gazette")) == 1
    said = text_of(await chat.command("alice", "/profil email aucun"))
    assert ADDRESS in said
    with chat.app.sessions() as db:
        assert mail.recipients(db, "sessions") == []
    said = text_of(await chat.command("alice", "/profil email pizza"))
    assert "pizza" in said
    await chat.command("alice", "/profil email tout")
    said = text_of(await chat.command("alice", "/profil email retirer"))
    assert ADDRESS in said
    with chat.app.sessions() as db:
        assert mail.subscriber_by_address(db, ADDRESS) is None


async def test_someone_elses_address_is_refused(chat: Chat, smtp_server: SmtpServer) -> None:
    await chat.command("alice", f"/profil email {ADDRESS}")
    said = text_of(await chat.command("bob", f"/profil email {ADDRESS.upper()}"))
    assert "coordinat" in said
    assert len(smtp_server.recorder.received) == 1


async def test_french_replies(chat: Chat, smtp_server: SmtpServer) -> None:
    chat.locales["alice"] = "fr"
    await chat.command("alice", "/profil langue fr")
    said = text_of(await chat.command("alice", f"/profil email {ADDRESS}"))
    assert "code" in said and "30 minutes" in said and "envoyé" in said
    message = smtp_server.recorder.to(ADDRESS)[-1]
    assert "confirmation" in message["Subject"]
