"""The mailing family: the digest, the gazette and session invitations by email
(:mod:`commands.mailing.mailings`), and the coordinators' list of people outside the chat
(``tisserand subscribers``, :mod:`commands.mailing.subscribers`).

Email is on when the configuration has an ``[email]`` section; without it this family does
nothing. Subscribing from the chat is ``/profile email`` (the profile family).
"""

from __future__ import annotations

from datetime import datetime

from bot.family import UNSUBSCRIBE_SERVICE, Family, Host
from bot.i18n import Translator
from bot.mail import TOPIC, subscriber_by_token
from commands.mailing import data, mailings
from commands.mailing.cli import subscribers_group
from commands.mailing.subscribers import (
    SubscriberError,
    add_one,
    import_csv,
    listing,
    remove,
    state,
    unsubscribe,
)

WORK_NAME = "email.mailings"


def setup(host: Host) -> None:
    if host.settings.email is None:
        return
    t = host.translators.get(host.settings.network.locale)

    def next_due() -> datetime | None:
        with host.sessions() as db:
            return mailings.next_due(db, host.clock.now())

    async def run() -> None:
        with host.sessions.begin() as db:
            queued = mailings.mail_due(db, host.settings, t, host.clock.now())
        if queued:
            await host.after_change({"outbox"})

    host.scheduler.add_due_work(WORK_NAME, next_due, run)
    host.services[UNSUBSCRIBE_SERVICE] = WebUnsubscribe(host, t)


class WebUnsubscribe:
    """The one-click unsubscribe of :mod:`bot.web` (a :class:`bot.family.Unsubscriber`): the
    same removal as the mailto request, then the outbox woken for the confirming email."""

    def __init__(self, host: Host, t: Translator) -> None:
        self._host = host
        self._t = t

    def address_of(self, token: str) -> str | None:
        with self._host.sessions() as db:
            row = subscriber_by_token(db, token)
            return row.address if row is not None else None

    async def unsubscribe(self, token: str) -> str | None:
        host = self._host
        with host.sessions.begin() as db:
            address = unsubscribe(db, host.settings, self._t, token, host.clock.now())
        if address is not None:
            await host.after_change({"outbox"})
        return address


FAMILY = Family(
    name="mailing",
    handlers=(),
    setup=setup,
    outbox_topics=(TOPIC,),
    member_data=data.MEMBER_DATA,
)
"""Email deliverables: no chat command (``/profile email`` is the profile's)."""

__all__ = [
    "FAMILY",
    "WORK_NAME",
    "SubscriberError",
    "add_one",
    "import_csv",
    "listing",
    "remove",
    "state",
    "subscribers_group",
    "unsubscribe",
]
