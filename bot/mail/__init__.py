"""Email delivery: the digest, the gazette and session invitations for those who read email.

- :mod:`bot.mail.message`: building a message (headers that cannot be injected, inlined CSS).
- :mod:`bot.mail.transport`: SMTP over aiosmtplib (one connection per batch, within the rate).
- :mod:`bot.mail.channel`: the outbox channel of platform ``email`` (exactly once, bounces).
- :mod:`bot.mail.store`: subscribers and mailings (one outbox row per recipient and item).

Families use this package through its ``__init__`` only.
"""

from __future__ import annotations

from bot.mail.channel import MailChannel, message_id
from bot.mail.message import Envelope, Part, build_message, header_text, inline_css
from bot.mail.store import (
    CODE_ATTEMPTS,
    CODE_TTL,
    CODES_PER_ADDRESS,
    PLATFORM,
    TOPIC,
    UNSUBSCRIBE_PATH,
    Choice,
    InvalidAddress,
    Mailing,
    code_matches,
    forget,
    hash_code,
    new_code,
    new_token,
    normalize_address,
    queue,
    recipients,
    subscriber_by_address,
    subscriber_by_token,
    subscriber_of_member,
    unsubscribe_link,
)
from bot.mail.transport import MailError, SmtpOptions, SmtpTransport

__all__ = [
    "CODES_PER_ADDRESS",
    "CODE_ATTEMPTS",
    "CODE_TTL",
    "PLATFORM",
    "TOPIC",
    "UNSUBSCRIBE_PATH",
    "Choice",
    "Envelope",
    "InvalidAddress",
    "MailChannel",
    "MailError",
    "Mailing",
    "Part",
    "SmtpOptions",
    "SmtpTransport",
    "build_message",
    "code_matches",
    "forget",
    "hash_code",
    "header_text",
    "inline_css",
    "message_id",
    "new_code",
    "new_token",
    "normalize_address",
    "queue",
    "recipients",
    "subscriber_by_address",
    "subscriber_by_token",
    "subscriber_of_member",
    "unsubscribe_link",
]
