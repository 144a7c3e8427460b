"""A round of meetings for many members: the pairing alone, and a whole round.

    python benchmarks/meetings.py [--members 2000] [--database URL] [--runs 3]

"Pairing" is :func:`commands.members.pairing.group_members` on the pool, with the history of the
rounds before (categories, territories and interests drawn with a fixed seed). "Round" is
:func:`commands.members.rounds.hold_round` on a migrated database (a fresh SQLite file unless
``--database`` is given): reading the pool, the history and the trios, pairing, storing the
groups and writing one introduction per member to the outbox, then the commit. Each run is the
next round on the same database, so the history grows as it would. Prints each run and the
median.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.i18n import Translators
from bot.storage.engine import make_engine, migrate
from bot.storage.meetings import MeetingParticipant
from bot.storage.members import Member
from bot.storage.profiles import MemberProfile
from commands.members.pairing import Candidate, add_to_history, group_members, repeats
from commands.members.rounds import hold_round

CATEGORIES = ("elu", "agent", "association", "partenaire", None)
THEMES = ("mobilité", "alimentation", "énergie", "eau", "habitat", "numérique", "culture")
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _people(count: int) -> list[tuple[str | None, str, list[str]]]:
    rng = random.Random(2026)
    return [
        (rng.choice(CATEGORIES), f"Commune {rng.randrange(60)}", rng.sample(THEMES, 2))
        for _ in range(count)
    ]


def pairing(count: int, runs: int) -> list[float]:
    people = _people(count)
    pool = [
        Candidate(i + 1, cat, territory.casefold(), frozenset(themes))
        for i, (cat, territory, themes) in enumerate(people)
    ]
    history: dict[frozenset[int], int] = {}
    times = []
    for run in range(runs):
        start = time.perf_counter()
        groups = group_members(pool, history, seed=run)
        times.append((time.perf_counter() - start) * 1000)
        assert repeats(groups, history) == 0
        add_to_history(history, groups)
    return times


def _fresh_schema(url: str) -> tuple[str, str | None]:
    """A PostgreSQL URL is given a schema of its own (dropped at the end): runs never collide."""
    if not url.startswith("postgresql"):
        return url, None
    schema = f"bench_meetings_{os.getpid()}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), schema


def _drop_schema(url: str, schema: str | None) -> None:
    if schema is None:
        return
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def whole_round(count: int, runs: int, base_url: str) -> list[float]:
    url, schema = _fresh_schema(base_url)
    try:
        return _whole_round(count, runs, url)
    finally:
        _drop_schema(base_url, schema)


def _whole_round(count: int, runs: int, url: str) -> list[float]:
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as db:
        for i, (category, territory, themes) in enumerate(_people(count)):
            member = Member(
                platform="console",
                user_id=f"m{i}",
                display_name=f"Membre {i}",
                category=category,
                created_at=START,
                updated_at=START,
            )
            db.add(member)
            db.flush()
            db.add(
                MemberProfile(
                    member_id=member.id,
                    organisation=f"Structure {i}",
                    territory=territory,
                    interests=themes,
                    updated_at=START,
                )
            )
            db.add(MeetingParticipant(member_id=member.id, platform="console", joined_at=START))
        db.commit()
    translators = Translators(ZoneInfo("Europe/Paris"))
    times = []
    for run in range(runs):
        with Session(engine) as db:
            start = time.perf_counter()
            held = hold_round(db, "console", START + timedelta(weeks=2 * run), translators, "fr")
            db.commit()
            times.append((time.perf_counter() - start) * 1000)
            assert held is not None and sum(len(g) for g in held.groups) == count
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database")
    args = parser.parse_args()
    times = pairing(args.members, args.runs)
    print(
        f"pairing of {args.members}: "
        + ", ".join(f"{t:.0f}" for t in times)
        + f" ms; median {statistics.median(times):.0f} ms"
    )
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'meetings.sqlite3'}"
        times = whole_round(args.members, args.runs, url)
    kind = url.split(":", 1)[0]
    print(
        f"round of {args.members} ({kind}): "
        + ", ".join(f"{t:.0f}" for t in times)
        + f" ms; median {statistics.median(times):.0f} ms"
    )


if __name__ == "__main__":
    main()
