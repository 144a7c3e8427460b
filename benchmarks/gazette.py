"""Building a gazette: time, peak memory and file size.

    python benchmarks/gazette.py [--highlights 500] [--images 100] [--runs 3] [--database URL]
                                 [--pdf]

Fills a fresh SQLite file (or the given database) with members, consented highlights over a
month (three themes each at most), images attached to some of them (noisy PNGs, so they do
not compress: about 58 KB each) and a plenary attended by 80 of them, then builds the whole gazette file with
:func:`commands.gazette.build_gazette_file` (database reading, charts, template, base64 images)
``--runs`` times. Prints the median time, the peak of Python allocations (tracemalloc, on a
separate run so that tracing does not slow the timed ones), the process's peak resident size and
the size of the file.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import struct
import tempfile
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import FrozenClock
from bot.config import load_settings
from bot.family import gazette_sources
from bot.storage.engine import make_engine, make_session_factory, migrate
from bot.storage.highlights import Consent, Highlight, HighlightImage
from bot.storage.members import Member
from bot.storage.sessions import Registration, SessionRow
from bot.wiring import FAMILIES
from commands.gazette import build_gazette_file
from digests.pdf import html_to_pdf

NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
THEMES = ("climat", "mobilité", "eau", "énergie", "alimentation", "biodiversité", "élus")


def noisy_png(width: int, height: int, rng: random.Random) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\0" + rng.randbytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


def fill(url: str, highlights: int, images: int) -> None:
    rng = random.Random(6)
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as db:
        members = [
            Member(
                platform="console",
                user_id=f"member{i}",
                display_name=f"Membre {i}",
                created_at=NOW - timedelta(days=rng.randint(0, 120), minutes=i),
                updated_at=NOW,
            )
            for i in range(300)
        ]
        db.add_all(members)
        db.flush()
        with_images = set(rng.sample(range(highlights), images))
        for i in range(highlights):
            author = members[rng.randrange(len(members))]
            row = Highlight(
                platform="console",
                channel_id="general",
                channel_name="general",
                message_id=str(10_000 + i),
                quote=" ".join(
                    rng.choice(("Une belle réussite", "collective", "pour le réseau", "!"))
                    for _ in range(rng.randint(5, 40))
                ),
                author_id=author.id,
                author_name=author.display_name,
                recorded_by_id=members[0].id,
                source="reaction",
                themes=rng.sample(THEMES, rng.randint(0, 3)),
                said_at=NOW - timedelta(minutes=rng.randint(1, 29 * 24 * 60)),
                created_at=NOW,
                consent=rng.choice((Consent.YES, Consent.YES, Consent.ANON)),
                consent_at=NOW,
            )
            if i in with_images:
                row.images.append(
                    HighlightImage(
                        position=0, media_type="image/png", data=noisy_png(160, 120, rng)
                    )
                )
            db.add(row)
        plenary = SessionRow(
            uid="bench-plenary@tisserand",
            title="Plénière de printemps",
            kind="pleniere",
            location="Salle des fêtes",
            starts_at=NOW - timedelta(days=10),
            ends_at=NOW - timedelta(days=10) + timedelta(hours=8),
            capacity=120,
            confirmed=80,
            platform="console",
            channel_id="general",
            created_at=NOW - timedelta(days=40),
            updated_at=NOW - timedelta(days=40),
        )
        db.add(plenary)
        db.flush()
        for arrival, member in enumerate(members[:80], start=1):
            db.add(
                Registration(
                    session_id=plenary.id,
                    member_id=member.id,
                    status="confirmed",
                    arrival=arrival,
                    category=rng.choice(("elu", "agent", "association", "partenaire", None)),
                    registered_at=plenary.created_at,
                    updated_at=plenary.created_at,
                    attended_at=plenary.starts_at,
                    feedback=rng.choice(("useful", "useful", "average", None)),
                )
            )
    engine.dispose()


def run(
    highlights: int, images: int, runs: int, database: str | None, pdf: bool = False
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        fill(url, highlights, images)
        settings = load_settings(None, database_url=url, environ={})
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        out = Path(tmp) / "gazette.html"
        clock = FrozenClock(NOW)
        sources = gazette_sources(FAMILIES)
        since = NOW - timedelta(days=30)
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            result = build_gazette_file(
                sessions, out, since=since, settings=settings, clock=clock, sources=sources
            )
            timings.append(time.perf_counter() - start)
        pdf_s = pdf_mib = 0.0
        if pdf:  # one A4 print by headless Chromium (a separate process: not in the figures above)
            start = time.perf_counter()
            printed = html_to_pdf(out.read_bytes())
            pdf_s, pdf_mib = time.perf_counter() - start, len(printed) / 2**20
        tracemalloc.start()
        build_gazette_file(
            sessions, out, since=since, settings=settings, clock=clock, sources=sources
        )
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        engine.dispose()
        return {
            "highlights": highlights,
            "images": images,
            "items": result.items,
            "median_s": statistics.median(timings),
            "min_s": min(timings),
            "peak_traced_mib": peak / 2**20,
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "file_mib": result.size / 2**20,
            "pdf_s": pdf_s,
            "pdf_mib": pdf_mib,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--highlights", type=int, default=500)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", default=None)
    parser.add_argument("--pdf", action="store_true", help="also time one A4 PDF (Chromium)")
    args = parser.parse_args()
    figures = run(
        args.highlights, min(args.images, args.highlights), args.runs, args.database, args.pdf
    )
    print(
        f"gazette: {figures['highlights']} highlights, {figures['images']} images, "
        f"{figures['items']} items"
    )
    print(
        f"  build time: median {figures['median_s'] * 1000:.0f} ms "
        f"(best {figures['min_s'] * 1000:.0f} ms, {args.runs} runs)"
    )
    print(
        f"  peak memory: {figures['peak_traced_mib']:.1f} MiB traced, "
        f"{figures['max_rss_mib']:.0f} MiB resident (whole process)"
    )
    print(f"  file size: {figures['file_mib']:.2f} MiB")
    if args.pdf:
        print(f"  A4 PDF: {figures['pdf_s'] * 1000:.0f} ms, {figures['pdf_mib']:.2f} MiB")


if __name__ == "__main__":
    main()
