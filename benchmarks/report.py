"""Building the annual activity report: time, peak memory and file sizes.

    python benchmarks/report.py [--members 500] [--sessions 100] [--polls 200] [--entries 10000]
                                [--runs 3] [--database URL]

Fills a fresh SQLite file (or the given database) with a year of a network: members in four
categories, sessions with registrations, attendance and feedback (and a comment form), closed
polls with named ballots, feed sources, entries and shares, digests, consented highlights and a
gazette, an anonymous questionnaire answered by half the members, and ideas with supports (the
defaults are the issue's: 500 members, 100 sessions, 200 polls, 10,000 feed entries). Then builds
the whole report (every family's section, the charts, the HTML and the spreadsheet) with
:func:`commands.report.build_report` ``--runs`` times. Prints the median time, the peak of Python
allocations (tracemalloc, on a separate run), the process's peak resident size, the sizes.
"""

from __future__ import annotations

import argparse
import random
import resource
import secrets
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bot.family import report_sources
from bot.i18n import Translators
from bot.storage.engine import make_engine, make_session_factory, migrate
from bot.storage.highlights import Consent, Gazette, GazetteStatus, Highlight
from bot.storage.ideas import Idea, IdeaSupport
from bot.storage.members import Member, PlaceRow
from bot.storage.polls import Poll, PollBallot, PollOption
from bot.storage.questionnaires import (
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireQuestion,
    QuestionnaireRecipient,
)
from bot.storage.sessions import Registration, SessionRow
from bot.storage.veille import DigestArchive, FeedEntry, FeedSource
from bot.wiring import FAMILIES
from commands.report import build_report

YEAR = 2027
START = datetime(YEAR, 1, 1, 9, 0, tzinfo=UTC)
NOW = datetime(YEAR + 1, 1, 5, 9, 0, tzinfo=UTC)
CATEGORIES = ("elu", "agent", "association", "partenaire", None)
THEMES = ("climat", "mobilité", "eau", "énergie", "alimentation", "biodiversité")
KINDS = ("webinaire", "pleniere", "rencontre", "formation", "visite")


def _at(rng: random.Random) -> datetime:
    return START + timedelta(days=rng.randint(0, 360), hours=rng.randint(0, 8))


def fill(url: str, members: int, sessions: int, polls: int, entries: int) -> None:
    rng = random.Random(17)
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    with factory.begin() as db:
        db.execute(
            insert(Member),
            [
                {
                    "platform": "console",
                    "user_id": f"m{i}",
                    "display_name": f"Membre {i}",
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "created_at": START - timedelta(days=400) + timedelta(days=rng.randint(0, 700)),
                    "updated_at": START,
                }
                for i in range(members)
            ],
        )
        ids = list(range(1, members + 1))
        db.add(PlaceRow(platform="console", channel_id="general", name="general", created_at=START))
        db.flush()
        registrations = []
        for s in range(1, sessions + 1):
            starts = _at(rng)
            db.add(
                SessionRow(
                    id=s,
                    uid=f"session-{s}@bench",
                    title=f"Session {s}",
                    kind=KINDS[s % len(KINDS)],
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    capacity=60,
                    confirmed=0,
                    platform="console",
                    channel_id="general",
                    created_at=starts - timedelta(days=20),
                    updated_at=starts,
                )
            )
            for arrival, member in enumerate(rng.sample(ids, rng.randint(10, 40)), 1):
                present = rng.random() < 0.75
                registrations.append(
                    {
                        "session_id": s,
                        "member_id": member,
                        "status": "confirmed",
                        "arrival": arrival,
                        "category": CATEGORIES[(member - 1) % len(CATEGORIES)],
                        "registered_at": starts - timedelta(days=5),
                        "updated_at": starts,
                        "attended_at": starts if present else None,
                        "feedback": rng.choice(("useful", "average", "poor", None))
                        if present
                        else None,
                    }
                )
        db.flush()
        db.execute(insert(Registration), registrations)
        ballots = []
        for p in range(1, polls + 1):
            closed = _at(rng)
            db.add(
                Poll(
                    id=p,
                    place_id=1,
                    creator_id=1,
                    question=f"Question {p} ?",
                    mode="single",
                    n_options=3,
                    created_at=closed - timedelta(days=3),
                    closed_at=closed,
                    close_count=1,
                    rendered_at=closed,
                )
            )
            for position in range(3):
                db.add(PollOption(poll_id=p, position=position, label=f"Option {position + 1}"))
            for member in rng.sample(ids, rng.randint(5, 60)):
                ballots.append(
                    {
                        "poll_id": p,
                        "member_id": member,
                        "content": str(rng.randrange(3)),
                        "created_at": closed,
                        "updated_at": closed,
                    }
                )
        db.flush()
        db.execute(insert(PollBallot), ballots)
        for n in range(1, 41):
            db.add(
                FeedSource(
                    platform="console",
                    channel_id="general",
                    url=f"https://veille.example.org/{n}.xml",
                    canonical=f"https://veille.example.org/{n}.xml",
                    title=f"Source {n}",
                    theme=THEMES[n % len(THEMES)],
                    next_fetch_at=NOW,
                    created_at=START - timedelta(days=n),
                )
            )
        db.flush()
        db.execute(
            insert(FeedEntry),
            [
                {
                    "kind": "share" if i % 25 == 0 else "feed",
                    "platform": "console",
                    "channel_id": "general",
                    "source_id": None if i % 25 == 0 else 1 + i % 40,
                    "entry_key": f"e{i}",
                    "content_hash": f"h{i}",
                    "title": f"Article {i}",
                    "theme": THEMES[i % len(THEMES)],
                    "created_at": _at(rng),
                    "shared_by": 1 + i % members if i % 25 == 0 else None,
                }
                for i in range(entries)
            ],
        )
        db.execute(
            insert(DigestArchive),
            [
                {
                    "platform": "console",
                    "channel_id": "general",
                    "period": f"{YEAR}-W{w:02d}",
                    "slot_at": START + timedelta(weeks=w),
                    "item_count": 12,
                    "created_at": START + timedelta(weeks=w),
                }
                for w in range(1, 52)
            ],
        )
        for h in range(200):
            db.add(
                Highlight(
                    platform="console",
                    quote=f"Une pépite {h}",
                    author_name=f"Membre {h}",
                    source="command",
                    themes=[THEMES[h % len(THEMES)]],
                    said_at=_at(rng),
                    created_at=START,
                    consent=Consent.YES if h % 3 else Consent.PENDING,
                )
            )
        for g in range(1, 13):
            db.add(
                Gazette(
                    status=GazetteStatus.PUBLISHED,
                    since=START + timedelta(days=30 * (g - 1)),
                    until=START + timedelta(days=30 * g),
                    created_at=START,
                    updated_at=START,
                    published_at=START + timedelta(days=30 * g),
                    published_items=20,
                )
            )
        survey = Questionnaire(
            title="Bilan de l'année",
            anonymous=True,
            status="closed",
            platform="console",
            channel_id="general",
            audience="everyone",
            launched_at=START + timedelta(days=330),
            closed_at=START + timedelta(days=350),
            created_at=START,
            updated_at=START,
        )
        db.add(survey)
        db.flush()
        kinds = (("scale", ""), ("single", "Webinaire\nVisite\nPlénière"), ("text", ""))
        questions = []
        for position, (kind, choices) in enumerate(kinds):
            question = QuestionnaireQuestion(
                questionnaire_id=survey.id,
                position=position,
                kind=kind,
                text=f"Question {position + 1}",
                choices=choices,
            )
            db.add(question)
            questions.append(question)
        db.flush()
        answering = rng.sample(ids, members // 2)
        db.execute(
            insert(QuestionnaireRecipient),
            [
                {
                    "questionnaire_id": survey.id,
                    "member_id": m,
                    "answered": 3 if m in answering else 0,
                    "invited_at": START,
                    "reminded": 0,
                }
                for m in ids
            ],
        )
        values = {"scale": lambda: str(rng.randint(1, 5)), "single": lambda: str(rng.randint(1, 3))}
        db.execute(
            insert(QuestionnaireAnswer),
            [
                {
                    "key": secrets.token_hex(16),
                    "questionnaire_id": survey.id,
                    "question_id": q.id,
                    "member_id": None,
                    "value": values[q.kind]() if q.kind in values else f"Une proposition {m}",
                }
                for m in answering
                for q in questions
            ],
        )
        for i in range(1, 61):
            db.add(
                Idea(
                    author_id=1 + i % members,
                    text=f"Idée {i}",
                    platform="console",
                    channel_id="general",
                    status=("proposed", "accepted", "in_progress", "done", "declined")[i % 5],
                    supports=0,
                    status_changes=0,
                    created_at=_at(rng),
                    updated_at=START,
                )
            )
        db.flush()
        supports = {(1 + rng.randrange(60), rng.choice(ids)) for _ in range(900)}
        db.execute(
            insert(IdeaSupport),
            [{"idea_id": i, "member_id": m, "created_at": START} for i, m in supports],
        )
    engine.dispose()


def build_once(url: str) -> tuple[float, int, int]:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    t = Translators(ZoneInfo("Europe/Paris"), "fr").get("fr")
    began = time.perf_counter()
    with factory() as db:
        files = build_report(
            db, t, YEAR, network="Réseau de référence", sources=report_sources(FAMILIES), now=NOW
        )
    elapsed = time.perf_counter() - began
    engine.dispose()
    return elapsed, len(files.html), len(files.xlsx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'report.sqlite3'}"
        began = time.perf_counter()
        fill(url, args.members, args.sessions, args.polls, args.entries)
        print(f"filled in {time.perf_counter() - began:.1f} s")
        times = []
        for _ in range(args.runs):
            elapsed, html, xlsx = build_once(url)
            times.append(elapsed)
        tracemalloc.start()
        build_once(url)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"report: median {statistics.median(times) * 1000:.0f} ms over {args.runs} runs "
            f"(best {min(times) * 1000:.0f} ms), peak Python allocations {peak / 2**20:.1f} MiB, "
            f"process RSS {rss:.0f} MiB, HTML {html / 1024:.0f} KiB, spreadsheet {xlsx / 1024:.0f} KiB"
        )


if __name__ == "__main__":
    main()
