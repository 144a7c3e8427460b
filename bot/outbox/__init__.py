"""Durable, idempotent outbound messages.

Every scheduled or asynchronous send (announcements, reminders, digests, poll results, direct
messages to other members) is written as an outbox row with an idempotency key in the same
transaction as the change that causes it; writing the same key twice is a no-op. The
:class:`Sender` delivers due rows and records the platform's message id.

Exactly once, between senders: a row is claimed (``sending``, committed) before the platform is
called, by one conditional UPDATE that takes it only if it is ``pending``, or ``sending`` with an
expired lease; the claim names the sender (:attr:`Sender.claimer`) and holds until
``lease_until`` (``RetryPolicy.lease``). Two senders on one database (two instances, thirty
processes) never deliver the same row at once, whatever the platform does with the token; and
the result (sent, retry, failed) is recorded only by the claim still current, so a sender whose
lease ran out and whose row was taken over cannot overwrite the new claimer's state.

Exactly once, across crashes: the platform call is made with a token derived from the row. If the
bot dies after the platform accepted the message but before ``sent`` was committed, the row stays
``sending`` until its lease expires; then a sender takes it and delivers it again with the *same*
token; each platform deduplicates on it (Rocket.Chat message ``_id``, Discord ``nonce`` +
``enforce_nonce``, the console's journal), so the message appears once.

Closed direct messages: when a platform answers a direct message with
:attr:`~bot.core.DeliveryCode.DM_CLOSED`, the row is marked ``failed`` with a ``last_error`` that
says so (the record, also logged), and — when the row knows a channel where the member acts
(``DirectTarget.fallback_channel_id``, kept in the payload) — a short notice is queued there, in
the member's language, mentioning that member only (:attr:`~bot.core.Reply.ping`): a private
message could not be delivered, roughly what it was about (from its key, never its content), and
how to open their direct messages (the platform's ``open_dm_help`` message id when it has one).
At most one notice per member and day (key ``dm-closed:<platform>:<user>:<day>``, the day in the
network's time zone).

This package is the only code that writes the outbox table: :func:`enqueue` (one message, through
the ORM), :func:`enqueue_many` (many in one statement, the hot path of session registrations),
:func:`withdraw` (pending messages that will not be sent), and the :class:`Sender`.

The package is in two parts: :mod:`bot.outbox.writer` (the only code that writes the table's
rows: :func:`enqueue`, :func:`enqueue_many`, :func:`withdraw`) and :mod:`bot.outbox.sender`
(the :class:`Sender`, which claims, delivers and records). A family writes through the writer
only; the app owns the sender.
"""

from __future__ import annotations

from bot.outbox.sender import DeliveryReport, RetryPolicy, Sender
from bot.outbox.writer import (
    DM_CLOSED_NOTICE,
    FALLBACK_CHANNEL,
    OPEN_DM_HELP,
    PG_UNNEST_INSERT,
    Outgoing,
    about,
    enqueue,
    enqueue_many,
    payload_of,
    sent_ref,
    target_of,
    token_of,
    withdraw,
)

__all__ = [
    "DM_CLOSED_NOTICE",
    "FALLBACK_CHANNEL",
    "OPEN_DM_HELP",
    "PG_UNNEST_INSERT",
    "DeliveryReport",
    "Outgoing",
    "RetryPolicy",
    "Sender",
    "about",
    "enqueue",
    "enqueue_many",
    "payload_of",
    "sent_ref",
    "target_of",
    "token_of",
    "withdraw",
]
