"""In-process dispatch of commands: latency per command (median, p99) and peak memory.

    python benchmarks/dispatch.py [--count 10000] [--database URL] [--command "/aide"]

Runs the real App (registry, parsing, database session, member upsert, handler, commit) on a
fresh SQLite file (or the given database), without a chat platform, and prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from bot.config import load_settings
from bot.core import Actor, CommandEvent, MessageRef, Place, Role
from bot.wiring import make_app


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(count: int, database: str | None, command: str, trace: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        settings = load_settings(None, database_url=url, environ={})
        app = make_app(settings)
        await app.start(with_scheduler=False)
        actor = Actor(
            "console", "camille", "Camille", roles=frozenset({Role.MEMBER, Role.COORDINATOR})
        )
        place = Place("console", "general", "general")
        latencies: list[float] = []
        if trace:
            tracemalloc.start()
        for i in range(count):
            event = CommandEvent(
                actor=actor,
                place=place,
                at=datetime.now(UTC),
                text=command.lstrip("/"),
                ref=MessageRef("console", "general", str(i)),
            )
            start = time.perf_counter_ns()
            outcome = await app.process(event)
            latencies.append((time.perf_counter_ns() - start) / 1e6)
            assert outcome.replies and outcome.error_id is None
        peak_traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
        if trace:
            tracemalloc.stop()
        await app.stop()
    return {
        "count": count,
        "median_ms": statistics.median(latencies),
        "p99_ms": _percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "throughput_per_s": count / (sum(latencies) / 1000),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_traced_mib": peak_traced,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--database")
    parser.add_argument("--command", default="/aide")
    parser.add_argument(
        "--trace-memory", action="store_true", help="also measure Python allocations (slower)"
    )
    args = parser.parse_args()
    figures = asyncio.run(run(args.count, args.database, args.command, args.trace_memory))
    backend = "postgresql" if args.database and args.database.startswith("postgres") else "sqlite"
    print(f"dispatch {args.command!r} x{figures['count']} on {backend}:")
    print(
        f"  median {figures['median_ms']:.3f} ms  p99 {figures['p99_ms']:.3f} ms  max {figures['max_ms']:.1f} ms"
    )
    print(f"  throughput {figures['throughput_per_s']:.0f} commands/s")
    print(f"  peak RSS {figures['peak_rss_mib']:.1f} MiB", end="")
    if args.trace_memory:
        print(f"  peak Python allocations {figures['peak_traced_mib']:.1f} MiB")
    else:
        print()


if __name__ == "__main__":
    main()
