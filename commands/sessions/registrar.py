"""The registrar: session registrations and cancellations, committed in groups.

Every change of seats for one session locks that session's row until commit (the invariant that
makes overbooking impossible, see :func:`commands.sessions.store.lock_session`), so the
registrations of one session are serial, and with one commit each a session cannot take more
registrations per second than the database can commit transactions. Under 200 outstanding clicks
the latency is then about 200 ÷ that rate (Little's law): seconds, not milliseconds.

The registrar keeps the lock and shares the commit. Handlers submit requests (register, or
unregister) to one worker thread, which takes everything pending at once, groups it by session,
and handles each group in **one** transaction (:class:`~commands.sessions.batch.Batch`): the
session row is locked once, seats and waiting list numbers are handed out in arrival
(submission) order, registrations and cancellations are applied in that order (promotions
included), the direct messages (confirmations, promotions) are written to the outbox exactly as
:func:`commands.sessions.service.register_and_notify` and
:func:`commands.sessions.service.unregister_and_notify` write them (same keys, same texts), and
the counters are written back with a guarded UPDATE; then one commit, and each request's future
gets its own result or its own :class:`~commands.sessions.errors.SessionError`. Reminders are
not written here: they are derived from the registrations when they fall due
(:func:`commands.sessions.work.remind_due`), except those a request made before their moment
still gets when it is handled after it (:func:`commands.sessions.notify.late_reminders`, usually
none).

- A refusal (already registered, session cancelled or started, registrations closed, unknown
  session, not registered...) is that request's answer; the others of the group go on.
- A failure of the transaction (the database is down, a statement fails) fails every request of
  the group with the error: nothing of it was written. An integrity error (a row written by
  someone who does not take the session's lock, such as a walk-in recorded at the very start)
  is retried one request per transaction, so only the request that caused it fails.
- Several processes (another bot, ``tisserand`` commands, the direct functions) stay safe: they
  all lock the session row first.
- :meth:`Registrar.close` refuses new requests, handles those already submitted, stops the
  worker, and fails whatever is left with :class:`RegistrarClosed`: no request is left hanging.

Handlers must commit their own transaction before awaiting a result: the worker needs the
session row (PostgreSQL) or the database (SQLite) that such a transaction could hold, and the
event loop that would finish it is the one waiting.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.core import InvalidValue
from commands.sessions.batch import Batch, Outcome, Request, RequestKind
from commands.sessions.errors import RegistrarClosed
from commands.sessions.notify import Notifier
from commands.sessions.service import RegisterResult, UnregisterResult

log = logging.getLogger(__name__)


REGISTRAR_SERVICE = "sessions.registrar"
"""The name of the :class:`Registrar` in ``Host.services``."""
DEFAULT_MAX_BATCH = 1000


def _settle(requests: Sequence[Request], outcomes: Sequence[Outcome]) -> None:
    """Answer each request; waiters of one event loop are answered with one wake-up."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]] = {}
    for request, outcome in zip(requests, outcomes, strict=True):
        if request.future is not None:
            if isinstance(outcome, BaseException):
                request.future.set_exception(outcome)
            else:
                request.future.set_result(outcome)
        elif request.waiter is not None:
            waiter = request.waiter
            by_loop.setdefault(waiter.get_loop(), []).append((waiter, outcome))
    for loop, answers in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_waiters, answers)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            log.debug("%d session answers for a closed event loop dropped", len(answers))


def _settle_waiters(answers: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for waiter, outcome in answers:
        if waiter.done():  # cancelled meanwhile
            continue
        if isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)


class Registrar:
    """Registrations and cancellations of every session, group-committed by one worker thread.

    ``sessions`` makes the worker's database sessions (the app's factory); ``notifier`` writes
    the messages. :meth:`start` starts the worker; requests submitted before it wait for it.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        notifier: Notifier,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        if max_batch < 1:
            raise InvalidValue("max_batch must be at least 1")
        self._sessions = sessions
        self._notifier = notifier
        self._max_batch = max_batch
        self._condition = threading.Condition()
        self._pending: list[Request] = []
        self._closed = False
        self._thread: threading.Thread | None = None
        self.transactions = 0
        """Transactions committed or attempted so far (one per session and batch)."""
        self.handled = 0
        """Requests answered so far (results and errors)."""

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        with self._condition:
            if self._closed:
                raise RegistrarClosed()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sessions-registrar", daemon=True
                )
                self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout: float | None = 60.0) -> None:
        """Refuse new requests, handle those already submitted, then stop the worker.

        Requests still pending when the worker stops (or when ``timeout`` seconds have passed,
        or when it was never started) fail with :class:`RegistrarClosed`. Idempotent.
        """
        with self._condition:
            self._closed = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the sessions registrar did not stop within %s s", timeout)
        self._fail_pending()

    def _fail_pending(self) -> None:
        with self._condition:
            left, self._pending = self._pending, []
        started = [request for request in left if request.start()]
        _settle(started, [RegistrarClosed() for _ in started])

    # --- submitting -----------------------------------------------------------------------------

    def submit_register(
        self, session_id: int, member_id: int, now: datetime
    ) -> Future[RegisterResult]:
        """Register the member (a seat, or the waiting list); the future has the result or the
        :class:`~commands.sessions.errors.SessionError` that explains the refusal."""
        future: Future[RegisterResult] = Future()
        self._submit(Request(RequestKind.REGISTER, session_id, member_id, now, future=future))
        return future

    def submit_unregister(
        self, session_id: int, member_id: int, now: datetime
    ) -> Future[UnregisterResult]:
        """Cancel the member's registration (promoting the first in line that fits)."""
        future: Future[UnregisterResult] = Future()
        self._submit(Request(RequestKind.UNREGISTER, session_id, member_id, now, future=future))
        return future

    async def register(self, session_id: int, member_id: int, now: datetime) -> RegisterResult:
        """:meth:`submit_register` for a coroutine: raises the refusal, or returns the result.

        The answers of one batch reach the event loop together (one wake-up, not one each).
        """
        waiter: asyncio.Future[RegisterResult] = asyncio.get_running_loop().create_future()
        self._submit(Request(RequestKind.REGISTER, session_id, member_id, now, waiter=waiter))
        return await waiter

    async def unregister(self, session_id: int, member_id: int, now: datetime) -> UnregisterResult:
        waiter: asyncio.Future[UnregisterResult] = asyncio.get_running_loop().create_future()
        self._submit(Request(RequestKind.UNREGISTER, session_id, member_id, now, waiter=waiter))
        return await waiter

    def _submit(self, request: Request) -> None:
        if request.now.tzinfo is None:
            raise InvalidValue("now must be an aware datetime")
        with self._condition:
            if not self._closed:
                self._pending.append(request)
                if len(self._pending) == 1:  # the worker waits only when nothing is pending
                    self._condition.notify()
                return
        if request.future is not None:
            request.future.set_exception(RegistrarClosed())
        else:
            raise RegistrarClosed()

    # --- the worker -----------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self._condition:
                    while not self._pending and not self._closed:
                        self._condition.wait()
                    if not self._pending:
                        return
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                self._handle(batch)
        except BaseException:  # pragma: no cover - _handle answers every error itself
            log.exception("the sessions registrar stopped on an unexpected error")
            raise
        finally:
            with self._condition:
                self._closed = True
            self._fail_pending()

    def _handle(self, batch: Sequence[Request]) -> None:
        groups: dict[int, list[Request]] = {}
        for request in batch:
            if request.start():  # else its caller gave up
                groups.setdefault(request.session_id, []).append(request)
        for session_id, requests in groups.items():
            self._handle_group(session_id, requests)

    def _handle_group(self, session_id: int, requests: list[Request]) -> None:
        try:
            outcomes = self._transaction(session_id, requests)
        except IntegrityError as exc:
            if len(requests) == 1:
                outcomes = [exc]
            else:
                log.warning(
                    "integrity error in a batch of %d requests for session %d; handling them "
                    "one by one: %s",
                    len(requests),
                    session_id,
                    exc.orig,
                )
                for request in requests:
                    self._handle_group(session_id, [request])
                return
        except Exception as exc:
            log.exception(
                "could not handle %d session requests for session %d", len(requests), session_id
            )
            outcomes = [exc] * len(requests)
        self.handled += len(requests)  # before the answers: callers may read it at once
        _settle(requests, outcomes)

    def _transaction(self, session_id: int, requests: list[Request]) -> list[Outcome]:
        self.transactions += 1
        with self._sessions() as db:
            outcomes = Batch(db, self._notifier, session_id).run(requests)
            db.commit()
        return outcomes
