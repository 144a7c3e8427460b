"""Session registrations under contention: registrations per second and latency (median, p99).

    python benchmarks/sessions.py [--database URL] [--clients 200] [--registrations 2000]
                                  [--seats 20 2000] [--runs 3] [--pool N] [--processes 1]
                                  [--modes direct registrar burst direct-burst]

Each scenario starts from an empty database (a SQLite file in a temporary directory, or a fresh
PostgreSQL schema that is dropped afterwards) and creates one session with ``seats`` seats and
``registrations`` members. Then, by mode:

- ``direct`` — one transaction per registration (the path before the registrar, kept for
  comparison and still what other processes may use): ``clients`` threads register them all at
  once, each its share of members one after the other (a closed loop: 200 requests are always
  outstanding), each registration in its own transaction:
  :func:`commands.sessions.register_and_notify` (seat or waitlist number, registration row,
  confirmation message in the outbox; reminders are written later, when they fall due) and the
  commit. Clients take a connection
  first come, first served (see :class:`FairGate`).
- ``registrar`` — the same closed loop through :class:`commands.sessions.registrar.Registrar`,
  the path of the bot's commands: ``clients`` asyncio tasks (the bot's handlers are tasks of one
  event loop) await ``Registrar.register``; the worker thread takes everything pending and
  commits it in one transaction per session (group commit), writing exactly what
  ``register_and_notify`` writes.
- ``burst`` — ``clients`` registrations submitted to the registrar at the same instant, once
  (a popular session announced: everybody clicks); ``direct-burst`` is the same burst on the
  direct path (one thread and one transaction each).

Latency includes every wait (for a connection, for the session row, for the batch): every
registration of one session is serialised on that row by design (it is what makes overbooking
impossible), so by Little's law the latency under N outstanding requests is about
N / throughput. ``--clients 1`` gives the latency of one registration alone.

Printed per scenario: the median over the runs of the throughput (registrations per second,
wall clock) and of the latency percentiles, the transactions the registrar committed, and a
check that nothing was overbooked (and, through the registrar, that seats and waiting list
numbers followed the submission order).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from bot.config import normalize_database_url
from bot.i18n import Translators
from bot.storage.engine import make_engine, make_session_factory, migrate
from bot.storage.members import Member
from bot.storage.sessions import Registration, RegistrationStatus, SessionRow
from commands.sessions import (
    Notifier,
    Registrar,
    SessionDraft,
    create_session,
    register_and_notify,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Target:
    """An empty database for one scenario: a SQLite file or a PostgreSQL schema."""

    def __init__(self, database: str | None, tmp: Path) -> None:
        self.admin: Engine | None = None
        self.schema: str | None = None
        if database is None:
            self.url = f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
            return
        base = normalize_database_url(database)
        self.schema = "bench_" + uuid.uuid4().hex[:12]
        self.admin = make_engine(base)
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        self.url = (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={self.schema}"})
            .render_as_string(hide_password=False)
        )

    def close(self) -> None:
        if self.admin is not None:
            with self.admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            self.admin.dispose()


def scenario(
    database: str | None,
    *,
    mode: str,
    clients: int,
    registrations: int,
    seats: int,
    pool: int,
    processes: int,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        target = Target(database, Path(tmp))
        try:
            if mode in ("burst", "direct-burst"):
                registrations = clients
            if mode in ("direct", "direct-burst"):
                return _run(
                    target.url,
                    clients=clients,
                    registrations=registrations,
                    seats=seats,
                    pool=pool,
                    processes=processes,
                )
            return _run_registrar(
                target.url,
                clients=clients,
                registrations=registrations,
                seats=seats,
                burst=mode == "burst",
            )
        finally:
            target.close()


NOTIFIER = Notifier(
    translators=Translators(ZoneInfo("Europe/Paris"), "fr"),
    network_locale="fr",
    network_name="Réseau",
    tz_name="Europe/Paris",
)


def _prepare(url: str, registrations: int, seats: int, prefix: str = "m") -> tuple[int, list[int]]:
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as db:
        members = [
            Member(
                platform="console",
                user_id=f"{prefix}{i}",
                display_name=f"Membre {i}",
                created_at=NOW,
                updated_at=NOW,
            )
            for i in range(registrations)
        ]
        db.add_all(members)
        session = create_session(
            db,
            SessionDraft(
                title="Plénière",
                kind="pleniere",
                starts_at=NOW + timedelta(days=10),
                ends_at=NOW + timedelta(days=10, hours=3),
                capacity=seats,
                location="Salle du conseil",
            ),
            platform="console",
            channel_id="general",
            created_by=None,
            network_name="Réseau",
            now=NOW,
        )
        db.commit()
        result = session.id, [m.id for m in members]
    engine.dispose()
    return result


class FairGate:
    """At most ``slots`` holders; waiters are served first come, first served (no barging).

    SQLAlchemy's pool lets a thread that just gave a connection back take it again before the
    threads already waiting, which starves some clients and measures the benchmark, not the
    database. Clients pass this gate before taking a connection.
    """

    def __init__(self, slots: int) -> None:
        self._lock = threading.Lock()
        self._free = slots
        self._waiting: collections.deque[threading.Event] = collections.deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the slot is handed over by __exit__

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


def _worker(
    url: str,
    session_id: int,
    shares: list[list[int]],
    pool: int,
    barrier: Any,
    results: Any,
) -> None:
    """One process: one thread per client, each registering its share of members."""
    slots = max(1, pool)
    engine = make_engine(url, pool_size=slots, max_overflow=0, pool_timeout=600)
    gate = FairGate(slots)
    latencies: list[list[float]] = [[] for _ in shares]
    errors: list[str] = []
    local = threading.Barrier(len(shares) + 1)

    def client(index: int) -> None:
        try:
            local.wait()
            for member_id in shares[index]:
                start = time.perf_counter()
                with gate, Session(engine, expire_on_commit=False) as db:
                    member = db.get(Member, member_id)
                    assert member is not None
                    register_and_notify(db, NOTIFIER, session_id, member, NOW)
                    db.commit()
                latencies[index].append((time.perf_counter() - start) * 1000)
        except BaseException as exc:  # reported by the parent
            errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(shares))]
    for thread in threads:
        thread.start()
    barrier.wait()  # every process is ready
    local.wait()
    for thread in threads:
        thread.join()
    engine.dispose()
    results.put(([value for values in latencies for value in values], errors))


def _run(
    url: str, *, clients: int, registrations: int, seats: int, pool: int, processes: int
) -> dict[str, Any]:
    session_id, member_ids = _prepare(url, registrations, seats)
    shares = [member_ids[i::clients] for i in range(clients)]
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [
        context.Process(
            target=_worker,
            args=(url, session_id, shares[p::processes], pool // processes, barrier, results),
        )
        for p in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    outcomes = [results.get() for _ in workers]
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    errors = [error for _, errs in outcomes for error in errs]
    if errors:
        raise RuntimeError(errors[0])
    flat = [value for values, _ in outcomes for value in values]
    engine = make_engine(url)
    with Session(engine) as db:
        row = db.get(SessionRow, session_id)
        assert row is not None
        confirmed = db.scalar(
            select(func.count(Registration.id)).where(
                Registration.session_id == session_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        assert row.confirmed == confirmed == min(seats, registrations), "overbooked!"
        assert len(flat) == registrations
    engine.dispose()
    return _figures(registrations, elapsed, flat, confirmed, registrations)


def _figures(
    registrations: int, elapsed: float, latencies: list[float], confirmed: int, transactions: int
) -> dict[str, Any]:
    return {
        "per_second": registrations / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": _percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "transactions": transactions,
        "confirmed": confirmed,
    }


def _run_registrar(
    url: str, *, clients: int, registrations: int, seats: int, burst: bool
) -> dict[str, Any]:
    session_id, member_ids = _prepare(url, registrations, seats)
    engine = make_engine(url)
    registrar = Registrar(make_session_factory(engine), NOTIFIER)
    registrar.start()
    # The bot's registrar is long-lived: warm it up (its connection, statements compiled by
    # SQLAlchemy and prepared by the server) on another session, seats and waiting list.
    warm_session, warm_members = _prepare(url, 10, 5, prefix="warm")
    for member_id in warm_members:
        registrar.submit_register(warm_session, member_id, NOW).result()
    warm_transactions = registrar.transactions
    # Each client's share, in the order they submit: member i is the i-th submission overall
    # in a burst; in the closed loop, submission order is checked on the rows themselves.
    shares = [member_ids[i::clients] for i in range(clients)]
    latencies: list[float] = []

    async def one(member_id: int) -> None:
        start = time.perf_counter()
        await registrar.register(session_id, member_id, NOW)
        latencies.append((time.perf_counter() - start) * 1000)

    async def client(share: list[int]) -> None:
        for member_id in share:
            await one(member_id)

    async def everybody() -> float:
        started = time.perf_counter()
        if burst:
            await asyncio.gather(*(one(member_id) for member_id in member_ids))
        else:
            await asyncio.gather(*(client(share) for share in shares))
        return time.perf_counter() - started

    try:
        elapsed = asyncio.run(everybody())
    finally:
        registrar.close()
    with Session(engine) as db:
        row = db.get(SessionRow, session_id)
        assert row is not None
        rows = db.execute(
            select(Registration.member_id, Registration.status)
            .where(Registration.session_id == session_id)
            .order_by(Registration.arrival)
        ).all()
    engine.dispose()
    confirmed = sum(1 for _, status in rows if status == RegistrationStatus.CONFIRMED)
    assert row.confirmed == confirmed == min(seats, registrations), "overbooked!"
    assert [status for _, status in rows] == sorted(
        (status for _, status in rows), key=lambda status: status != "confirmed"
    ), "a seat went to someone after the waiting list"
    if burst:
        assert [member for member, _ in rows] == member_ids, "not in submission order"
    assert len(latencies) == registrations == len(rows)
    transactions = registrar.transactions - warm_transactions
    return _figures(registrations, elapsed, latencies, confirmed, transactions)


MODES = ("direct", "registrar", "direct-burst", "burst")
_MODE_LABELS = {
    "direct": "one transaction per registration",
    "registrar": "registrar (group commit)",
    "direct-burst": "burst, one transaction each",
    "burst": "burst through the registrar",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--registrations", type=int, default=2000)
    parser.add_argument("--seats", type=int, nargs="+", default=[20, 2000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--pool",
        type=int,
        help="database connections in all, direct path (default: 1 on SQLite, which has one "
        "writer anyway, 8 on PostgreSQL, whose max_connections is finite); the registrar uses "
        "one",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="client processes the direct path's clients are spread over (threads of one "
        "process share a GIL)",
    )
    args = parser.parse_args(argv)
    backend = "postgresql" if args.database else "sqlite"
    if args.pool is None:
        args.pool = 8 if args.database else 1
    print(
        f"{backend}: {args.clients} concurrent clients, {args.registrations} registrations "
        f"(a burst: {args.clients}); direct path: {args.processes} process(es), {args.pool} "
        f"connections; median of {args.runs} runs"
    )
    for seats in args.seats:
        for mode in args.modes:
            runs = [
                scenario(
                    args.database,
                    mode=mode,
                    clients=args.clients,
                    registrations=args.registrations,
                    seats=seats,
                    pool=args.pool,
                    processes=args.processes,
                )
                for _ in range(args.runs)
            ]
            med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            print(
                f"  {seats:>5} seats, {_MODE_LABELS[mode]:<33} {med['per_second']:7.0f} reg/s, "
                f"p50 {med['p50_ms']:7.1f} ms, p99 {med['p99_ms']:7.1f} ms, "
                f"max {med['max_ms']:7.1f} ms, {int(med['transactions']):>5} transactions, "
                f"confirmed {int(med['confirmed'])} (never more)"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
