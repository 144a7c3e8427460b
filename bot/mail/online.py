"""``tisserand check-config --online`` for ``[email]``: connect, upgrade to TLS, log in and have
the sender accepted (no message is sent), and say what is wrong in the reader's language."""

from __future__ import annotations

from bot.config import EmailSettings, Problem, read_secret
from bot.i18n import N_
from bot.mail.transport import MailError, SmtpOptions, SmtpTransport

CANNOT_CONNECT = N_(
    "cannot connect to {host}:{port} ({reason}): check host and port, and that this machine may "
    "reach the server"
)
TLS_FAILED = N_(
    "TLS with {host}:{port} failed ({reason}): check security (starttls on port 587, tls on "
    "port 465) and the server's certificate"
)
AUTH_FAILED = N_(
    "the server refused the user name or the password ({reason}): check username and "
    "TISSERAND_SMTP_PASSWORD"
)
SENDER_REFUSED = N_(
    "the server refuses the sender {sender} ({reason}): use an address this account may send from"
)
NO_PASSWORD = N_("a username is set but TISSERAND_SMTP_PASSWORD (or _FILE) is not")


async def check_online(email: EmailSettings) -> list[tuple[str, str]]:
    """The problems of ``[email]`` found by talking to its server (empty when all is well)."""
    password = read_secret("SMTP_PASSWORD")
    if email.username and not password:
        return [("email.username", Problem(NO_PASSWORD))]
    transport = SmtpTransport(SmtpOptions.of(email, password))
    try:
        await transport.check()
    except MailError as exc:
        reason = str(exc).partition(": ")[2] or str(exc)
        if exc.stage == "tls":
            return [
                (
                    "email.security",
                    Problem(TLS_FAILED, host=email.host, port=email.port, reason=reason),
                )
            ]
        if exc.stage == "auth":
            return [("email.username", Problem(AUTH_FAILED, reason=reason))]
        if exc.stage == "sender":
            return [("email.sender", Problem(SENDER_REFUSED, sender=email.sender, reason=reason))]
        return [
            ("email.host", Problem(CANNOT_CONNECT, host=email.host, port=email.port, reason=reason))
        ]
    return []
