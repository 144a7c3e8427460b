"""Anonymous polls (``--anonyme``): the server secret, the voters' keys and the sealing.

Anonymous ballots live in their own table, keyed by HMAC-SHA256(server secret, poll, member),
with no member column, no timestamp and no rowid (``WITHOUT ROWID`` on SQLite): one ballot per
member, changeable, yet the database alone cannot tell whose it is. The secret is
``TISSERAND_SECRET_KEY`` (or ``TISSERAND_SECRET_KEY_FILE``), else ``<data_dir>/secret.key``,
created with mode 0600 on first use; it is never stored in the database. When the poll closes
its ballots are *sealed*: rewritten in one transaction under random keys, in random order,
and the voters' HMAC keys are kept apart (who voted, without what) so that a reopened poll
still refuses a second ballot. See docs/design.md, "Polls", for what an operator holding both
the key and the database can learn.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from bot.config import Settings, read_secret
from bot.context import Context
from bot.core import InvalidState
from bot.storage.polls import AnyPoll, Poll, PollAnonymousBallot, PollSealedVoter

log = logging.getLogger(__name__)

SECRET_FILE = "secret.key"
SECRET_SERVICE = "polls.secret"
"""Where the server secret is kept once read (``Host.services``): read once, not at every vote."""


def server_secret(settings: Settings) -> bytes:
    """The secret keying anonymous ballots: ``TISSERAND_SECRET_KEY`` (or ``..._FILE``), else
    ``<data_dir>/secret.key``, created atomically with mode 0600 on first use."""
    configured = read_secret("SECRET_KEY")
    if configured:
        return configured.encode("utf-8")
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{SECRET_FILE}.{secrets.token_hex(6)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # atomic: never a half-written key, never two keys
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            temporary.unlink()
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("%s can be read by other users; chmod 600 it", path)
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise InvalidState(f"{path} holds no usable secret (at least 32 characters)")
    return text.encode("ascii")


def voter_key(secret: bytes, poll_id: int, member_id: int) -> str:
    message = f"tisserand-poll-voter:{poll_id}:{member_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def secret_for(ctx: Context, poll: AnyPoll) -> bytes | None:
    """The server secret for an anonymous poll, read once per app (``Host.services``)."""
    if not poll.anonymous:
        return None
    secret: bytes | None = ctx.services.get(SECRET_SERVICE)
    if secret is None:
        secret = server_secret(ctx.settings)
        ctx.services[SECRET_SERVICE] = secret
    return secret


def seal_ballots(db: Session, poll: Poll) -> None:
    """Rewrite an anonymous poll's ballots under random keys, in random order, in one
    transaction; keep the voters' HMAC keys apart (who voted, without what)."""
    rows = db.execute(
        select(
            PollAnonymousBallot.voter_key,
            PollAnonymousBallot.content,
            PollAnonymousBallot.sealed,
        ).where(PollAnonymousBallot.poll_id == poll.id)
    ).all()
    if not rows:
        return
    fresh = sorted(key for key, _, sealed in rows if not sealed)
    contents = [content for _, content, _ in rows]
    db.execute(delete(PollAnonymousBallot).where(PollAnonymousBallot.poll_id == poll.id))
    rekeyed = sorted((secrets.token_hex(32), content) for content in contents)
    db.execute(
        insert(PollAnonymousBallot),
        [
            {"poll_id": poll.id, "voter_key": key, "content": content, "sealed": True}
            for key, content in rekeyed
        ],
    )
    if fresh:
        db.execute(
            insert(PollSealedVoter), [{"poll_id": poll.id, "voter_key": key} for key in fresh]
        )
