"""Feed refresh and parsing, side by side with the ``reader`` library and plain feedparser.

    python benchmarks/feeds.py [--feeds 500] [--entries 20] [--runs 3] [--skip-reader]

1. Refresh: ``--feeds`` synthetic RSS feeds (each ``--entries`` items with HTML descriptions,
   ETag support) are served by an aiohttp server on 127.0.0.1 in its own process. Each contender
   runs in a fresh process on a fresh SQLite database: a first pass (every feed new), then a
   second pass where every feed answers 304. Wall time and peak memory of each pass are
   reported, median of ``--runs``. Peak memory is the process's peak resident set during that
   pass (Linux's VmHWM, reset before each pass through ``/proc/self/clear_refs``) plus the
   peaks of its live children (Tisserand's parse workers, read before they stop). The CPU time
   of the 304 pass (the process's, all threads) is printed too: it depends less on the load of
   the machine than wall time does.
   - Tisserand: ``commands.veille.refresh_all`` with the default settings (fetch concurrency
     ``[feeds] concurrency`` = 8, parsing in one worker process per CPU, lxml fast path when
     lxml is installed).
   - reader (https://pypi.org/project/reader/): ``update_feeds(workers=16)``, then ``update_feeds(workers=16, scheduled=False)``. reader is NOT a
     Tisserand dependency: install it in the benchmark's environment only (``pip install reader
     sgmllib3k``: its bundled feedparser imports ``sgmllib``).
2. Parsing throughput (MiB/s, one process): ``digests.feeds.parse_feed`` (feedparser + nh3 +
   normalisation) against ``feedparser.parse`` alone, on the feedparser corpus
   (``../shared/corpora/feedparser`` when present) and on large synthetic feeds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import multiprocessing
import os
import queue
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpora" / "feedparser"
MiB = 1024 * 1024


# --- synthetic feeds -----------------------------------------------------------------------------


def synthetic_feed(number: int, entries: int) -> bytes:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    items = []
    for index in range(entries):
        when = format_datetime(start - timedelta(hours=index * 7 + number % 5), usegmt=True)
        items.append(
            f"<item><title>Actualité {number}-{index} : la transition écologique à "
            f"l'échelle locale</title><link>https://site{number}.example/articles/{index}"
            f"?utm_source=rss</link><guid>https://site{number}.example/a/{index}</guid>"
            f"<pubDate>{when}</pubDate><description><![CDATA[<p>Les collectivités "
            f'<b>{number}</b> engagent des <a href="https://site{number}.example/p/{index}">'
            f"projets</a> de rénovation, de mobilité et d'énergie. "
            + "Un paragraphe de contexte avec des détails utiles. " * 8
            + "</p><ul><li>Un</li><li>Deux</li></ul>]]></description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Site {number}</title><link>https://site{number}.example/</link>"
        f"<description>Feed {number}</description>{''.join(items)}</channel></rss>"
    ).encode()


def _serve(feeds: int, entries: int, ready: Any, stop: Any) -> None:
    from aiohttp import web

    bodies = [synthetic_feed(n, entries) for n in range(feeds)]
    etags = [f'"{hashlib.sha1(b).hexdigest()[:16]}"' for b in bodies]

    async def handler(request: web.Request) -> web.Response:
        number = int(request.match_info["n"])
        if request.headers.get("If-None-Match") == etags[number]:
            return web.Response(status=304, headers={"ETag": etags[number]})
        return web.Response(
            body=bodies[number],
            content_type="application/rss+xml",
            headers={"ETag": etags[number]},
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}.xml", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.put(port)
        # ``stop`` is a multiprocessing Event: wait for it in a thread, not on the loop.
        await asyncio.to_thread(stop.wait)
        await runner.cleanup()

    asyncio.run(main())


# --- contenders (each in its own process) --------------------------------------------------------


def _hwm_mib(pid: int | str = "self") -> float | None:
    """Peak resident set (VmHWM) of a process, in MiB; None where /proc does not tell."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Start measuring this process's peak memory afresh (Linux: ``clear_refs`` 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _peak_mib(children: bool = True) -> float:
    """This process's peak since the last reset, plus that of its live children (the parse
    workers, which run at the same time), in MiB; ru_maxrss when /proc is not there."""
    own = _hwm_mib()
    if own is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for child in multiprocessing.active_children() if children else []:
        if child.pid is not None:
            own += _hwm_mib(child.pid) or 0.0
    return own


def run_tisserand(base: str, feeds: int, out: Any) -> None:
    from bot.clock import SystemClock
    from bot.config import load_settings
    from bot.storage.engine import make_engine, make_session_factory, migrate
    from commands.veille import add_source_row, feed_parser, refresh_all

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        settings = load_settings(
            None,
            database_url=url,
            environ={},
            overrides={"feeds": {"allow_private_networks": True}},
        )
        engine = make_engine(url)
        migrate(engine)

        class Host:
            sessions = make_session_factory(engine)
            clock = SystemClock()

        Host.settings = settings  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        with Host.sessions.begin() as db:
            for n in range(feeds):
                add_source_row(
                    db, platform="console", channel_id="veille", url=f"{base}/feed/{n}.xml", now=now
                )

        async def one_pass() -> tuple[float, float, float, Any]:
            # The parser is given so that its workers' peak can be read before they stop.
            parser = feed_parser(settings)
            _reset_peak()
            start, cpu = time.perf_counter(), time.process_time()
            try:
                report = await refresh_all(Host, force=True, parser=parser)  # type: ignore[arg-type]
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
                peak = _peak_mib()
            finally:
                parser.close()
                for worker in multiprocessing.active_children():  # gone before the next pass
                    await asyncio.to_thread(worker.join, 30)
            return elapsed, cpu, peak, report

        async def passes() -> dict[str, Any]:
            first, _, rss_first, report_first = await one_pass()
            second, cpu_second, rss_second, report_second = await one_pass()
            assert report_first.failed == 0, report_first
            assert report_second.not_modified == feeds, report_second
            return {
                "first": first,
                "second": second,
                "rss_first": rss_first,
                "rss_second": rss_second,
                "cpu_second": cpu_second,
                "entries": report_first.new_entries,
                "entries_second": report_second.new_entries,
            }

        result = asyncio.run(passes())
        engine.dispose()
    out.put(result)


def run_reader(base: str, feeds: int, out: Any) -> None:
    from reader import make_reader

    with tempfile.TemporaryDirectory() as tmp:
        reader = make_reader(str(Path(tmp) / "reader.sqlite"))
        for n in range(feeds):
            reader.add_feed(f"{base}/feed/{n}.xml")
        _reset_peak()
        start = time.perf_counter()
        reader.update_feeds(workers=16)
        first = time.perf_counter() - start
        rss_first = _peak_mib()
        _reset_peak()
        start, cpu = time.perf_counter(), time.process_time()
        reader.update_feeds(workers=16, scheduled=False)
        second, cpu = time.perf_counter() - start, time.process_time() - cpu
        rss_second = _peak_mib()
        entries = reader.get_entry_counts().total
        reader.close()
    out.put(
        {
            "first": first,
            "second": second,
            "rss_first": rss_first,
            "rss_second": rss_second,
            "cpu_second": cpu,
            "entries": entries,
        }
    )


def in_process(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=target, args=(*args, out))
    process.start()
    deadline = time.monotonic() + 600
    while True:
        try:
            result: dict[str, Any] = out.get(timeout=1)
            break
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(
                    f"{getattr(target, '__name__', target)} died (exit code {process.exitcode})"
                ) from None
            if time.monotonic() > deadline:
                process.kill()
                raise TimeoutError(f"{target} took more than 10 minutes") from None
    process.join()
    return result


# --- parsing throughput --------------------------------------------------------------------------


def throughput(documents: list[bytes]) -> tuple[float, float, float]:
    """(MiB, MiB/s with parse_feed, MiB/s with feedparser alone)."""
    import feedparser

    from digests.feeds import FeedParseError, parse_feed

    size = sum(len(d) for d in documents) / MiB
    start = time.perf_counter()
    for document in documents:
        with contextlib.suppress(FeedParseError):
            parse_feed(document, url="https://bench.example/feed", max_entries=100_000)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for document in documents:
        feedparser.parse(io.BytesIO(document))
    plain = time.perf_counter() - start
    return size, size / ours, size / plain


def corpus_documents() -> list[bytes]:
    if not CORPUS.is_dir():
        return []
    return [p.read_bytes() for p in sorted(CORPUS.rglob("*.xml"))]


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-reader", action="store_true")
    options = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    stop = context.Event()
    server = context.Process(target=_serve, args=(options.feeds, options.entries, ready, stop))
    server.start()
    base = f"http://127.0.0.1:{ready.get(timeout=60)}"
    size = sum(len(synthetic_feed(n, options.entries)) for n in range(options.feeds)) / MiB
    print(
        f"Refresh of {options.feeds} feeds x {options.entries} entries ({size:.1f} MiB) on "
        f"loopback, {os.cpu_count()} CPU(s), median of {options.runs} runs"
    )
    contenders = [("tisserand", run_tisserand)]
    if not options.skip_reader:
        contenders.append(("reader", run_reader))
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in contenders}
    try:
        for _ in range(options.runs):
            for name, target in contenders:
                results[name].append(in_process(target, base, options.feeds))
    finally:
        stop.set()
        server.join(timeout=10)
    print(
        f"{'':12}{'first pass':>12}{'peak RSS':>12}{'304 pass':>12}{'(CPU)':>9}{'peak RSS':>12}"
        f"{'entries':>10}"
    )
    medians: dict[str, dict[str, float]] = {}
    for name, runs in results.items():
        keys = ("first", "second", "cpu_second", "rss_first", "rss_second")
        medians[name] = {key: statistics.median(run[key] for run in runs) for key in keys}
        m = medians[name]
        print(
            f"{name:12}{m['first']:>11.2f}s{m['rss_first']:>8.0f} MiB"
            f"{m['second']:>11.2f}s{m['cpu_second']:>8.2f}s{m['rss_second']:>8.0f} MiB"
            f"{runs[0]['entries']:>10}"
        )
        for key in ("first", "second"):
            print(f"{'':12}{key} pass, every run: " + ", ".join(f"{r[key]:.3f}s" for r in runs))
    if "reader" in medians:
        ours, theirs = medians["tisserand"], medians["reader"]
        print(
            f"speed-up over reader: first pass x{theirs['first'] / ours['first']:.2f}, "
            f"304 pass x{theirs['second'] / ours['second']:.2f}"
        )

    print("\nParsing throughput, one process (MiB/s; parse_feed = feedparser + nh3 + normalising)")
    corpus = corpus_documents()
    large = [synthetic_feed(n, 2000) for n in range(3)]
    for label, documents in (("feedparser corpus", corpus), ("large synthetic feeds", large)):
        if not documents:
            print(f"{label:24} (absent)")
            continue
        rates = [throughput(documents) for _ in range(options.runs)]
        mib = rates[0][0]
        rate = statistics.median(r[1] for r in rates)
        plain = statistics.median(r[2] for r in rates)
        print(
            f"{label:24}{len(documents):>6} files {mib:6.1f} MiB   parse_feed {rate:6.2f} MiB/s"
            f"   feedparser alone {plain:6.2f} MiB/s"
        )


if __name__ == "__main__":
    main()
