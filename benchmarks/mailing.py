"""The weekly digest mailed to N subscribers through a real SMTP server on loopback (aiosmtpd).

    python benchmarks/mailing.py [--subscribers 1000] [--database URL] [--entries 20]

A channel with one feed of ``--entries`` entries; N confirmed subscribers; the clock moves to the
digest's slot and the bot does what it does in production: builds the digest, the mailing
provider queues one email per subscriber (``email_bodies`` once, N outbox rows), the outbox
sends them over one SMTP connection. Prints the time to queue, the time to send, emails per
second, and the peak memory (tracemalloc, Python allocations of the whole process, the server
thread included; it keeps only a count) and the peak RSS.

(Not named ``email.py``: run as a script, it would shadow the standard library's ``email``.)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import resource
import socket
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller

from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.core import Place
from bot.mail import new_token
from bot.storage.email import EmailSubscriber
from bot.storage.members import record_place
from bot.wiring import FAMILIES
from commands.mailing import mailings
from commands.veille.store import add_source_row, store_entries
from digests.feeds import ParsedEntry, ParsedFeed, link_hash

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SLOT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 9:00 in Paris


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.octets = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        self.octets += len(envelope.original_content or b"")
        return "250 OK"


def _entry(n: int) -> ParsedEntry:
    title = f"Article {n} : mobilités rurales, énergie locale et eau"
    link = f"https://mobilites.example/{n}"
    summary = "Une étude <b>détaillée</b> des territoires. " * 8
    return ParsedEntry(
        key=hashlib.sha256(title.encode()).hexdigest(),
        link=link,
        link_hash=link_hash(link),
        content_hash=hashlib.sha256(title.encode()).hexdigest(),
        title=title,
        summary=summary,
        summary_html=f"<p>{summary}</p>",
        author=None,
        published_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
    )


async def run(subscribers: int, database_url: str, entries: int) -> None:
    counter = Counter()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    settings = load_settings(
        None,
        database_url=database_url,
        environ={},
        overrides={
            "email": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "sender": "veille@reseau.example.org",
                "messages_per_minute": 100_000,
            },
            "feeds": {"top_per_theme": entries},
        },
    )
    clock = FrozenClock(START)
    app = App(settings, clock=clock, families=FAMILIES)
    await app.start(with_scheduler=False)
    with app.sessions.begin() as db:
        record_place(db, Place("console", "veille", "veille"), START)
        source, _ = add_source_row(
            db,
            platform="console",
            channel_id="veille",
            url="https://mobilites.example/rss",
            now=START,
            title="Mobilités",
            theme="mobilité",
        )
        parsed = ParsedFeed("M", None, "rss20", tuple(_entry(n) for n in range(entries)))
        store_entries(db, source, parsed, START)
        db.add_all(
            EmailSubscriber(
                address=f"abonne{n}@commune{n % 50}.example.fr",
                name=f"Abonné·e {n}",
                confirmed_at=START,
                basis="benchmark",
                unsubscribe_token=new_token(),
                code_attempts=0,
                codes_sent=0,
                bounces=0,
                created_at=START,
                updated_at=START,
            )
            for n in range(subscribers)
        )
    clock.move_to(SLOT + timedelta(seconds=1))
    tracemalloc.start()
    began = time.perf_counter()
    await app.scheduler.run_one("digests")
    digested = time.perf_counter()
    with app.sessions.begin() as db:  # what the provider email.mailings does, without sending
        mailings.mail_due(db, settings, app.translators.get(), clock.now())
    queued = time.perf_counter()
    assert app.sender is not None
    report = await app.sender.deliver_due()
    sent = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await app.stop()
    controller.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{subscribers} subscribers, {entries} entries, {database_url.split(':')[0]}: "
        f"digest {1000 * (digested - began):.0f} ms, queue {1000 * (queued - digested):.0f} ms, "
        f"send {sent - queued:.2f} s "
        f"({report.sent / (sent - queued):.0f} emails/s; {report.sent} sent, "
        f"{counter.count} received, {counter.octets / max(counter.count, 1) / 1024:.1f} KiB each), "
        f"peak traced {peak / 2**20:.1f} MiB, peak RSS {rss:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        asyncio.run(run(args.subscribers, url, args.entries))


if __name__ == "__main__":
    main()
