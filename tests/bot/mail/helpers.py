"""Shared steps of the email tests: a chat whose bot sends to the loopback SMTP server."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.mail import Mailing, Part, new_token, queue
from bot.outbox import DeliveryReport
from bot.storage.email import EmailSubscriber
from bot.storage.outbox import OutboxMessage
from tests.support.chat import Chat
from tests.support.smtp import SmtpServer


async def mail_chat(database_url: str, tmp_path: Path, server: SmtpServer, **email: Any) -> Chat:
    return await Chat.start(database_url, tmp_path, email=server.settings(**email))


def add_subscriber(
    chat: Chat, address: str, name: str = "Élodie Martin", *, confirmed: bool = True, **extra: Any
) -> int:
    now = chat.clock.now()
    with chat.app.sessions.begin() as db:
        row = EmailSubscriber(
            address=address,
            name=name,
            confirmed_at=now if confirmed else None,
            basis="added by the test",
            unsubscribe_token=new_token(),
            created_at=now,
            updated_at=now,
            **extra,
        )
        db.add(row)
        db.flush()
        return row.id


def send_mailing(
    chat: Chat,
    subscriber_ids: Sequence[int],
    *,
    key: str = "digest:console:general:2026-W48",
    kind: str = "digest",
    subject: str = "La veille de la semaine",
    text: str = "Bonjour, voici la veille.",
    html: str | None = "<html><body><p>Bonjour, voici la veille.</p></body></html>",
    parts: Sequence[Part] = (),
    list_id: str | None = "Veille <veille.reseau.example.org>",
) -> None:
    with chat.app.sessions.begin() as db:
        queue(
            db,
            Mailing(
                key=key,
                kind=kind,  # type: ignore[arg-type]
                subject=subject,
                text=text,
                html=html,
                parts=parts,
                list_id=list_id,
            ),
            subscriber_ids,
            chat.clock.now(),
        )


async def deliver(chat: Chat) -> DeliveryReport:
    assert chat.app.sender is not None
    return await chat.app.sender.deliver_due()


def email_rows(chat: Chat) -> list[OutboxMessage]:
    with chat.app.sessions() as db:
        rows = db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.platform == "email")
            .order_by(OutboxMessage.id)
        ).all()
        db.expunge_all()
        return list(rows)


def subscriber(chat: Chat, subscriber_id: int) -> EmailSubscriber:
    with chat.app.sessions() as db:
        row = db.get(EmailSubscriber, subscriber_id)
        assert row is not None
        db.expunge(row)
        return row
