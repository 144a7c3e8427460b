"""Polls with many voters: time to record a vote, and to compute and render the results.

    python benchmarks/polls.py [--voters 5000] [--mode single|multiple|judgment|dates]
                               [--anonymous] [--database URL] [--no-scheduler] [--statements]

Runs the real App (dispatch, member upsert, handler, commit, and the re-arming of the scheduled
work that edits the poll message: the scheduler runs, as in production, unless
``--no-scheduler``) on a fresh SQLite file, or on PostgreSQL
(``--database postgresql://postgres@127.0.0.1:5432/test``: the benchmark works in a schema of
its own and drops it afterwards). ``--statements`` also counts the SQL statements per vote. Each voter is a new member casting one complete
ballot: a button click for single and multiple choice, ``/voter N ...`` with every grade or
answer for majority judgment and date polls (5 options). Then it times the results: the tally
from the database plus the rendering of the poll message (what every throttled edit does), and
the whole ``/sondage resultats N`` command.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.config import load_settings, normalize_database_url
from bot.core import (
    Actor,
    ChoiceEvent,
    CommandEvent,
    Event,
    MessageRef,
    Place,
    Reply,
    Role,
    Target,
)
from bot.platforms.base import EventHandler
from bot.storage.engine import make_engine
from bot.storage.polls import Poll
from bot.wiring import make_app
from commands.polls import poll_results
from commands.polls.render import poll_message

OPTIONS = ("Sobriété", "Mobilités", "Alimentation", "Énergie", "Eau")
DATES = ("lundi 7 décembre 9h", "mardi 8 décembre 9h", "9/12 14h", "10/12", "2026-12-11 10:00")
GRADES = ("excellent", "tres-bien", "bien", "assez-bien", "passable", "insuffisant", "rejeter")
ANSWERS = ("oui", "si-necessaire", "non")


class NullPlatform:
    """Accepts everything, posts nothing: the benchmark measures Tisserand, not a chat."""

    name = "console"

    def __init__(self) -> None:
        self.count = 0

    async def start(self, handler: EventHandler) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        return None

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        self.count += 1
        return MessageRef(self.name, "general", str(self.count))

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        return None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _vote_event(mode: str, i: int, rng: random.Random, now: datetime) -> Event:
    actor = Actor("console", f"voter{i}", f"Voter {i}")
    place = Place("console", "general", "general")
    if mode == "single":
        action = f"poll:1:vote:{rng.randint(1, len(OPTIONS))}"
        return ChoiceEvent(actor=actor, place=place, at=now, action=action)
    if mode == "multiple":
        chosen = sorted(rng.sample(range(1, len(OPTIONS) + 1), rng.randint(1, 3)))
        line = "voter 1 " + " ".join(str(k) for k in chosen)
    elif mode == "judgment":
        line = "voter 1 " + " ".join(rng.choice(GRADES) for _ in OPTIONS)
    else:
        line = "voter 1 " + " ".join(rng.choice(ANSWERS) for _ in DATES)
    return CommandEvent(
        actor=actor, place=place, at=now, text=line, ref=MessageRef("console", "general", str(i))
    )


async def run(
    voters: int,
    mode: str,
    anonymous: bool,
    database: str | None,
    *,
    scheduler: bool = True,
    statements: bool = False,
) -> dict[str, float]:
    schema = None
    admin = None
    with tempfile.TemporaryDirectory() as tmp:
        if database and database.startswith("postgres"):
            base = normalize_database_url(database)
            schema = "bench_polls_" + uuid.uuid4().hex[:10]
            admin = make_engine(base)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = (
                make_url(base)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
        else:
            url = database or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        try:
            return await _measure(url, Path(tmp), voters, mode, anonymous, scheduler, statements)
        finally:
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()


async def _measure(
    url: str,
    data_dir: Path,
    voters: int,
    mode: str,
    anonymous: bool,
    scheduler: bool,
    statements: bool,
) -> dict[str, float]:
    settings = load_settings(
        None, database_url=url, environ={}, overrides={"data_dir": str(data_dir)}
    )
    app = make_app(settings)
    app.add_platform(NullPlatform())
    await app.start(with_scheduler=scheduler)
    executed = [0]

    def count(*_: object) -> None:
        executed[0] += 1

    try:
        coordinator = Actor(
            "console", "camille", "Camille", roles=frozenset({Role.MEMBER, Role.COORDINATOR})
        )
        place = Place("console", "general", "general")
        labels = DATES if mode == "dates" else OPTIONS
        flags = {"single": "", "multiple": " --multiple", "judgment": " --jugement"}.get(
            mode, " --dates"
        )
        line = 'sondage "Quel thème ?" ' + " ".join(f'"{o}"' for o in labels) + flags
        line += " --anonyme" if anonymous else ""
        created = await app.process(
            CommandEvent(actor=coordinator, place=place, at=datetime.now(UTC), text=line)
        )
        assert created.error_id is None and "n° 1" in created.replies[0].text, created

        rng = random.Random(12)
        latencies: list[float] = []
        if statements:
            sa_event.listen(app.engine, "before_cursor_execute", count)
        for i in range(voters):
            event = _vote_event(mode, i, rng, datetime.now(UTC))
            start = time.perf_counter_ns()
            outcome = await app.process(event)
            latencies.append((time.perf_counter_ns() - start) / 1e6)
            assert outcome.error_id is None and outcome.replies[0].text.startswith("Vote"), outcome
            await asyncio.sleep(0)  # between two events, the scheduled edits may run (not timed)
        if statements:
            sa_event.remove(app.engine, "before_cursor_execute", count)

        t = app.translator()
        tally_render: list[float] = []
        for _ in range(20):
            start = time.perf_counter_ns()
            with app.sessions() as db:
                poll = db.get(Poll, 1)
                assert poll is not None
                results = poll_results(db, poll)
                message = poll_message(t, poll, results)
            tally_render.append((time.perf_counter_ns() - start) / 1e6)
            assert results.voters == voters and message.text
        command: list[float] = []
        for _ in range(20):
            event = CommandEvent(
                actor=coordinator, place=place, at=datetime.now(UTC), text="sondage resultats 1"
            )
            start = time.perf_counter_ns()
            outcome = await app.process(event)
            command.append((time.perf_counter_ns() - start) / 1e6)
            assert outcome.error_id is None
    finally:
        await app.stop()
    return {
        "voters": voters,
        "vote_median_ms": statistics.median(latencies),
        "vote_p99_ms": _percentile(latencies, 0.99),
        "vote_max_ms": max(latencies),
        "results_median_ms": statistics.median(tally_render),
        "results_max_ms": max(tally_render),
        "command_median_ms": statistics.median(command),
        "statements_per_vote": executed[0] / voters,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--voters", type=int, default=5000)
    parser.add_argument(
        "--mode", choices=("single", "multiple", "judgment", "dates"), default="single"
    )
    parser.add_argument("--anonymous", action="store_true")
    parser.add_argument("--database")
    parser.add_argument(
        "--no-scheduler",
        action="store_true",
        help="do not start the scheduler (the figures of the first round were measured so)",
    )
    parser.add_argument(
        "--statements", action="store_true", help="count the SQL statements per vote"
    )
    args = parser.parse_args()
    figures = asyncio.run(
        run(
            args.voters,
            args.mode,
            args.anonymous,
            args.database,
            scheduler=not args.no_scheduler,
            statements=args.statements,
        )
    )
    backend = "postgresql" if args.database and args.database.startswith("postgres") else "sqlite"
    kind = args.mode + (" anonymous" if args.anonymous else "")
    scheduled = "without" if args.no_scheduler else "with"
    print(f"poll ({kind}) with {figures['voters']:.0f} voters on {backend}, {scheduled} scheduler:")
    print(
        f"  vote:    median {figures['vote_median_ms']:.2f} ms  p99 {figures['vote_p99_ms']:.2f} ms"
        f"  max {figures['vote_max_ms']:.1f} ms"
        + (
            f"  ({figures['statements_per_vote']:.2f} SQL statements per vote)"
            if args.statements
            else ""
        )
    )
    print(
        f"  results: tally + render median {figures['results_median_ms']:.2f} ms"
        f" (max {figures['results_max_ms']:.1f} ms);"
        f" /sondage resultats median {figures['command_median_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
