"""Email as an outbox channel: :class:`MailChannel` delivers the outbox rows of platform
``email`` (one per recipient and item) with the same claims and records as chat messages.

Exactly once across crashes. SMTP servers do not deduplicate, so the token cannot be handed to
them as Rocket.Chat's message ``_id`` is; instead the channel keeps a journal: once the server
has accepted the recipient, the row's token is written to ``email_journal`` and committed, then
the message is handed over (``DATA``). A refusal or a lost connection during ``DATA`` removes the
journal entry (the message was not taken: it is retried). A sender that dies during ``DATA`` or
before recording ``sent`` leaves the entry: after the lease, the next sender finds the token
there and records the row as sent without sending again. Only a crash in the instant between
that commit and the first byte of ``DATA`` can lose an email; none can send one twice.

4xx replies and lost connections are retried by the outbox (its backoff); 5xx are permanent:
the row is ``failed`` with the server's reply, and refusals of the recipient count as bounces of
that address, disabled after ``[email] max_bounces`` in a row (the member sees it in
``/profil``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import EmailSettings, Settings
from bot.core import DeliveryCode, DeliveryError, DirectTarget, Event, MessageRef, Reply, Target
from bot.i18n import N_, Translators
from bot.mail.calendar import invitation
from bot.mail.message import Envelope, Part, build_message
from bot.mail.store import PERSONAL, PLATFORM, unsubscribe_link
from bot.mail.transport import MailError, SmtpOptions, SmtpTransport
from bot.platforms.base import EventHandler
from bot.storage.email import EmailBody, EmailJournal, EmailSubscriber

log = logging.getLogger(__name__)

FOOTER_LIST = N_(
    "You receive this email because your address is subscribed to {network} ({basis}). "
    "To stop: {how}"
)
HOW_MAILTO = N_("reply with the subject “unsubscribe”, or type /profile email remove in the chat.")
HOW_LINK = N_("open {url}")
BASIS_MEMBER = N_("you gave it in the chat and confirmed it")
BASIS_ADDED = N_("added by {who}")


@dataclass(frozen=True, slots=True)
class _Body:
    kind: str
    subject: str
    text: str
    html: str | None
    parts: tuple[Part, ...]
    list_id: str | None
    recipient: str | None


def message_id(token: str, sender: str) -> str:
    return f"<{token}@{sender.rpartition('@')[2]}>"


class MailChannel:
    """Delivers email rows of the outbox (a :class:`~bot.platforms.base.Platform` for the
    sender: ``deliver`` only; email brings no events)."""

    name = PLATFORM

    def __init__(
        self,
        settings: Settings,
        email: EmailSettings,
        password: str | None,
        sessions: sessionmaker[Session],
        clock: Clock,
        translators: Translators,
        transport: SmtpTransport | None = None,
    ) -> None:
        self.settings = settings
        self.email = email
        self._sessions = sessions
        self._clock = clock
        self._translators = translators
        self.transport = transport or SmtpTransport(SmtpOptions.of(email, password))
        self._bodies: dict[str, _Body] = {}

    async def start(self, handler: EventHandler) -> None:
        return None

    async def stop(self) -> None:
        await self.transport.close()

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        return None

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        raise DeliveryError("an email cannot be edited once sent", permanent=True)

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        if not isinstance(target, DirectTarget):
            raise DeliveryError("an email goes to one subscriber", permanent=True)
        key = reply.text
        now = self._clock.now()
        mid = message_id(token, self.email.sender)
        with self._sessions() as db:
            body = self._body(db, key)
            subscriber = db.get(EmailSubscriber, int(target.user_id))
            if body is None:
                raise DeliveryError(f"no email body {key!r}", permanent=True)
            if subscriber is None and body.recipient is not None:
                # A notice that outlives its subscriber (the confirmation of a removal).
                subscriber = EmailSubscriber(
                    id=int(target.user_id),
                    address=body.recipient,
                    name="",
                    bounces=0,
                    confirmed_at=now,
                    unsubscribe_token="",
                )
            if subscriber is None:
                raise DeliveryError(
                    "the address was removed before the email was sent",
                    permanent=True,
                    code=DeliveryCode.UNKNOWN_TARGET,
                )
            if body.kind not in PERSONAL and (
                subscriber.confirmed_at is None or subscriber.disabled_at is not None
            ):
                state = "not confirmed" if subscriber.confirmed_at is None else "disabled"
                raise DeliveryError(
                    f"not sent: the address {subscriber.address} is {state}", permanent=True
                )
            if db.get(EmailJournal, token) is not None:
                log.warning(
                    "email %s to %s: handed to the server by an earlier attempt that did not "
                    "record it; recorded as sent, not sent again",
                    key,
                    subscriber.address,
                )
                return MessageRef(PLATFORM, subscriber.address, mid)
            footer = self._footer_text(subscriber, body)
            message = build_message(
                self._envelope(subscriber, body, mid, now),
                subject=body.subject,
                text=body.text + footer,
                html=_with_footer(body.html, footer),
                parts=[self._part(part, subscriber) for part in body.parts],
            )
            address, subscriber_id = subscriber.address, subscriber.id
            bounced = subscriber.bounces > 0
        try:
            await self.transport.send(message, address, self._journal(token, key, address, mid))
        except MailError as exc:
            if exc.permanent and exc.stage in ("recipient", "data"):
                self._bounce(subscriber_id, str(exc))
            raise DeliveryError(str(exc), permanent=exc.permanent) from None
        if bounced:
            self._delivered(subscriber_id)
        return MessageRef(PLATFORM, address, mid)

    def _body(self, db: Session, key: str) -> _Body | None:
        """A mailing's body, read once for all its recipients (bodies never change)."""
        body = self._bodies.get(key)
        if body is None:
            row = db.get(EmailBody, key)
            if row is None:
                return None
            body = _Body(
                kind=row.kind,
                subject=row.subject,
                text=row.text,
                html=row.html,
                parts=tuple(Part.from_json(raw) for raw in row.attachments or ()),
                list_id=row.list_id,
                recipient=row.recipient,
            )
            if len(self._bodies) >= 8:
                self._bodies.pop(next(iter(self._bodies)))
            self._bodies[key] = body
        return body

    def _part(self, part: Part, subscriber: EmailSubscriber) -> Part:
        """A calendar part becomes this recipient's invitation; other parts go as they are."""
        if part.method is None:
            return part
        data = invitation(
            part.data,
            method=part.method,
            organizer=self.email.reply_to or self.email.sender,
            organizer_name=self.settings.network.name,
            attendee=subscriber.address,
            attendee_name=subscriber.name or subscriber.address,
        )
        return Part(part.filename, part.media_type, data, part.method)

    # --- the journal ---------------------------------------------------------------------------

    def _journal(
        self, token: str, key: str, address: str, mid: str
    ) -> Callable[[], Callable[[], None]]:
        def write() -> Callable[[], None]:
            with self._sessions.begin() as db:
                db.add(
                    EmailJournal(
                        token=token,
                        key=key,
                        address=address,
                        message_id=mid,
                        handed_at=self._clock.now(),
                    )
                )

            def undo() -> None:
                with self._sessions.begin() as db:
                    db.execute(delete(EmailJournal).where(EmailJournal.token == token))

            return undo

        return write

    # --- bounces ------------------------------------------------------------------------------

    def _bounce(self, subscriber_id: int, reason: str) -> None:
        now = self._clock.now()
        with self._sessions.begin() as db:
            subscriber = db.get(EmailSubscriber, subscriber_id)
            if subscriber is None:
                return
            subscriber.bounces += 1
            subscriber.updated_at = now
            if subscriber.bounces >= self.email.max_bounces and subscriber.disabled_at is None:
                subscriber.disabled_at = now
                subscriber.disabled_reason = reason[:1000]
                log.warning(
                    "email address %s disabled after %s refusals: %s",
                    subscriber.address,
                    subscriber.bounces,
                    reason,
                )

    def _delivered(self, subscriber_id: int) -> None:
        with self._sessions.begin() as db:
            subscriber = db.get(EmailSubscriber, subscriber_id)
            if subscriber is not None and subscriber.bounces:
                subscriber.bounces = 0

    # --- headers and footer -------------------------------------------------------------------

    def _envelope(
        self, subscriber: EmailSubscriber, body: _Body, mid: str, now: datetime
    ) -> Envelope:
        listed = body.list_id is not None
        url = self._unsubscribe_url(subscriber) if listed else None
        return Envelope(
            sender=self.email.sender,
            sender_name=self.settings.network.name,
            to=subscriber.address,
            to_name=subscriber.name,
            message_id=mid,
            date=now,
            reply_to=self.email.reply_to,
            list_id=body.list_id,
            unsubscribe_mailto=(self.email.reply_to or self.email.sender) if listed else None,
            unsubscribe_subject=f"unsubscribe {subscriber.unsubscribe_token}",
            unsubscribe_url=url,
        )

    def _unsubscribe_url(self, subscriber: EmailSubscriber) -> str | None:
        return unsubscribe_link(self.settings, subscriber.unsubscribe_token)

    def _footer_text(self, subscriber: EmailSubscriber, body: _Body) -> str:
        if body.list_id is None:
            return ""
        t = self._translators.get(subscriber.locale)
        url = self._unsubscribe_url(subscriber)
        how = t.gettext(HOW_LINK, url=url) if url else t.gettext(HOW_MAILTO)
        if subscriber.member_id is not None:
            basis = t.gettext(BASIS_MEMBER)
        else:
            basis = t.gettext(BASIS_ADDED, who=subscriber.added_by or "?")
        footer = t.gettext(FOOTER_LIST, network=self.settings.network.name, basis=basis, how=how)
        return "\n\n-- \n" + footer + "\n"


def _with_footer(html: str | None, footer: str) -> str | None:
    if html is None or not footer:
        return html
    from markupsafe import escape

    block = (
        '<hr style="border:none;border-top:1px solid #ccc;margin:24px 0 8px">'
        '<p style="font-size:12px;color:#555">' + str(escape(footer.strip("- \n"))) + "</p>"
    )
    marker = html.lower().rfind("</body>")
    if marker < 0:
        return html + block
    return html[:marker] + block + html[marker:]
