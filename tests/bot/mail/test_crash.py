"""Killing the sender between the hand-over to the SMTP server and its record sends no
email twice: a real process, killed with SIGKILL while the server holds its DATA reply."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bot.mail.helpers import add_subscriber, deliver, email_rows, mail_chat, send_mailing
from tests.conftest import Database
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[3]


async def test_a_sender_killed_during_data_never_sends_twice(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        first = add_subscriber(chat, "premiere@asso.example.fr")
        second = add_subscriber(chat, "second@asso.example.fr")
        send_mailing(chat, [first, second])
        smtp_server.recorder.hang_on_data = threading.Event()
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bot.mail.sender_child",
            database.url,
            str(tmp_path),
            str(smtp_server.port),
            chat.clock.now().isoformat(),
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            seen = await asyncio.to_thread(smtp_server.recorder.data_seen.wait, 60)
            assert seen, "the child never sent"
            child.send_signal(signal.SIGKILL)
        finally:
            if child.returncode is None:
                child.kill()
            await child.wait()
        smtp_server.recorder.hang_on_data.set()
        smtp_server.recorder.hang_on_data = None
        assert len(smtp_server.recorder.received) == 1  # the server took the first one
        rows = email_rows(chat)
        assert [r.status for r in rows] == ["sending", "pending"]
        # Within the lease nobody takes the row over (its sender might only be slow)...
        await deliver(chat)
        assert [r.status for r in email_rows(chat)] == ["sending", "sent"]
        # ...after it, the next sender finds the journal and records it without sending again.
        await chat.move_to(chat.clock.now() + timedelta(minutes=6))
        await deliver(chat)
    finally:
        await chat.stop()
    assert [r.status for r in email_rows(chat)] == ["sent", "sent"]
    assert sorted(r.recipients[0] for r in smtp_server.recorder.received) == [
        "premiere@asso.example.fr",
        "second@asso.example.fr",
    ]


async def test_a_refusal_during_data_is_retried_not_assumed_delivered(
    database: Database, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    smtp_server.recorder.data_reply = "451 4.3.0 Queue full, try later"
    chat = await mail_chat(database.url, tmp_path, smtp_server)
    try:
        sid = add_subscriber(chat, "premiere@asso.example.fr")
        send_mailing(chat, [sid])
        report = await deliver(chat)
        assert report.retried == 1
        smtp_server.recorder.data_reply = None
        await chat.move_to(chat.clock.now() + timedelta(minutes=5))
        await deliver(chat)
    finally:
        await chat.stop()
    assert [r.status for r in email_rows(chat)] == ["sent"]
    assert len(smtp_server.recorder.received) == 1
