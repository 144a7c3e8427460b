"""Sending over SMTP with aiosmtplib: one connection reused for a batch, within the configured
rate, and SMTP replies sorted into what retrying can fix (4xx, a lost connection) and what it
cannot (5xx).

The transaction is split (``MAIL``, ``RCPT``, then ``DATA``) so that the caller can write its
journal between the recipient's acceptance and the message itself: see
:class:`bot.mail.channel.MailChannel`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal

from bot.core import TisserandError

if TYPE_CHECKING:
    import aiosmtplib

    from bot.config import EmailSettings

log = logging.getLogger(__name__)

Stage = Literal["connect", "auth", "tls", "sender", "recipient", "data"]


class MailError(TisserandError):
    """An SMTP failure: ``permanent`` (5xx: retrying cannot help) or not (4xx, no connection).
    ``stage`` says where (``recipient`` refusals count as bounces of that address)."""

    def __init__(
        self, message: str, *, stage: Stage, code: int | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.stage: Stage = stage
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class SmtpOptions:
    host: str
    port: int
    security: Literal["starttls", "tls", "none"]
    username: str | None
    password: str | None
    sender: str
    messages_per_minute: int
    timeout: float
    validate_certs: bool = True

    @classmethod
    def of(cls, settings: EmailSettings, password: str | None) -> SmtpOptions:
        return cls(
            host=settings.host,
            port=settings.port,
            security=settings.security,
            username=settings.username,
            password=password,
            sender=settings.sender,
            messages_per_minute=settings.messages_per_minute,
            timeout=settings.timeout_seconds,
            validate_certs=settings.validate_certs,
        )


def _response_error(exc: aiosmtplib.SMTPResponseException, stage: Stage) -> MailError:
    return MailError(
        f"{stage}: {exc.code} {exc.message}".strip()[:500],
        stage=stage,
        code=exc.code,
        permanent=500 <= exc.code < 600,
    )


class SmtpTransport:
    """One SMTP client, connected on first use and kept for the messages that follow."""

    def __init__(self, options: SmtpOptions, *, tls_context: ssl.SSLContext | None = None) -> None:
        self.options = options
        self._tls_context = tls_context
        self._smtp: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()
        self._last_sent = 0.0
        self.connections = 0
        """How many connections were opened (tests and the benchmark read it)."""

    async def _connect(self) -> aiosmtplib.SMTP:
        import aiosmtplib

        o = self.options
        smtp = aiosmtplib.SMTP(
            hostname=o.host,
            port=o.port,
            use_tls=o.security == "tls",
            start_tls=o.security == "starttls",
            timeout=o.timeout,
            validate_certs=o.validate_certs,
            tls_context=self._tls_context,
        )
        try:
            await smtp.connect()
        except aiosmtplib.SMTPConnectResponseError as exc:
            raise _response_error(exc, "connect") from None
        except aiosmtplib.SMTPException as exc:
            stage: Stage = "tls" if "tls" in str(exc).lower() else "connect"
            raise MailError(f"{stage}: {exc}"[:500], stage=stage) from None
        except (OSError, ssl.SSLError) as exc:
            stage = "tls" if isinstance(exc, ssl.SSLError) else "connect"
            raise MailError(f"{stage}: {exc}"[:500], stage=stage) from None
        if o.username:
            try:
                await smtp.login(o.username, o.password or "")
            except aiosmtplib.SMTPAuthenticationError as exc:
                smtp.close()
                raise MailError(
                    f"auth: {exc.code} {exc.message}"[:500],
                    stage="auth",
                    code=exc.code,
                    permanent=True,
                ) from None
            except aiosmtplib.SMTPException as exc:
                smtp.close()
                raise MailError(f"auth: {exc}"[:500], stage="auth", permanent=True) from None
        self.connections += 1
        return smtp

    async def _throttle(self) -> None:
        interval = 60.0 / self.options.messages_per_minute
        wait = self._last_sent + interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_sent = time.monotonic()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    async def send(
        self,
        message: EmailMessage,
        recipient: str,
        before_data: Callable[[], Callable[[], None]],
    ) -> None:
        """Send ``message`` to ``recipient``. ``before_data`` runs once the server accepted the
        recipient, just before the message is handed over; the function it returns runs if the
        hand-over then fails (the message was not taken). :class:`MailError` on failure."""
        import aiosmtplib

        async with self._lock:
            await self._throttle()
            smtp = await self._ready()
            try:
                try:
                    await smtp.mail(self.options.sender)
                except aiosmtplib.SMTPServerDisconnected:
                    # The server closed an idle connection: one new connection, once.
                    self._drop()
                    smtp = await self._ready()
                    await smtp.mail(self.options.sender)
            except aiosmtplib.SMTPResponseException as exc:
                await self._reset(smtp)
                raise _response_error(exc, "sender") from None
            except (aiosmtplib.SMTPException, OSError) as exc:
                self._drop()
                raise MailError(f"sender: {exc}"[:500], stage="sender") from None
            try:
                await smtp.rcpt(recipient)
            except aiosmtplib.SMTPResponseException as exc:
                await self._reset(smtp)
                raise _response_error(exc, "recipient") from None
            except (aiosmtplib.SMTPException, OSError) as exc:
                self._drop()
                raise MailError(f"recipient: {exc}"[:500], stage="recipient") from None
            undo = before_data()
            try:
                await smtp.data(message.as_bytes())
            except aiosmtplib.SMTPResponseException as exc:
                undo()
                await self._reset(smtp)
                raise _response_error(exc, "data") from None
            except BaseException as exc:
                # Connection lost (or cancelled) during DATA: we are alive to say it was not
                # confirmed, so the message is retried rather than assumed delivered.
                undo()
                self._drop()
                if isinstance(exc, aiosmtplib.SMTPException | OSError):
                    raise MailError(f"data: {exc}"[:500], stage="data") from None
                raise

    async def _ready(self) -> aiosmtplib.SMTP:
        if self._smtp is None or not self._smtp.is_connected:
            self._smtp = await self._connect()
        return self._smtp

    async def _reset(self, smtp: aiosmtplib.SMTP) -> None:
        import aiosmtplib

        try:
            await smtp.rset()
        except (aiosmtplib.SMTPException, OSError):
            self._drop()

    async def check(self) -> None:
        """Connect, log in and have the sender accepted (``check-config --online``); no
        message is sent (the transaction is reset). :class:`MailError` on failure."""
        import aiosmtplib

        smtp = await self._connect()
        try:
            await smtp.mail(self.options.sender)
            await smtp.rset()
        except aiosmtplib.SMTPResponseException as exc:
            raise _response_error(exc, "sender") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailError(f"sender: {exc}"[:500], stage="sender") from None
        finally:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()

    async def close(self) -> None:
        import aiosmtplib

        async with self._lock:
            if self._smtp is None:
                return
            try:
                if self._smtp.is_connected:
                    await self._smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                pass
            finally:
                self._drop()
