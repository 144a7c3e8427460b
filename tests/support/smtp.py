"""A real SMTP server on loopback (aiosmtpd) that records what it receives, and can refuse,
delay or hang on purpose: the email tests talk to it over real sockets."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """The server's handler: what it received and what it is told to answer."""

    received: list[Received] = field(default_factory=list)
    refuse_recipients: dict[str, str] = field(default_factory=dict)
    """Address -> the reply to its RCPT (``550 5.1.1 No such user``)."""
    temporary_failures: dict[str, int] = field(default_factory=dict)
    """Address -> how many times to answer ``451`` to its RCPT before accepting it."""
    refuse_sender: str | None = None
    data_reply: str | None = None
    """Answer DATA with this instead of 250 (after reading the message)."""
    hang_on_data: threading.Event | None = None
    """Set: DATA records the message, signals :attr:`data_seen`, then waits for this event."""
    data_seen: threading.Event = field(default_factory=threading.Event)
    sessions: int = 0
    credentials: tuple[str, str] | None = None
    """Set: AUTH accepts only this user name and password."""

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if self.credentials is None:
            return AuthResult(success=True)
        login, password = self.credentials
        ok = isinstance(data, LoginPassword) and (
            data.login.decode() == login and data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse_sender is not None:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        if self.temporary_failures.get(address, 0) > 0:
            self.temporary_failures[address] -= 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        if self.hang_on_data is not None:
            self.data_seen.set()
            await asyncio.to_thread(self.hang_on_data.wait)
        return "250 2.0.0 Accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.recipients]


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: Recorder

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """The ``[email]`` section that sends to this server."""
        return {
            "host": self.host,
            "port": self.port,
            "security": "none",
            "sender": "veille@reseau.example.org",
            "reply_to": "coordination@reseau.example.org",
            "messages_per_minute": 100_000,
            **overrides,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    recorder = Recorder()
    port = _free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        authenticator=recorder.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, recorder)
    finally:
        if recorder.hang_on_data is not None:
            recorder.hang_on_data.set()
        controller.stop()
