"""Parsing off the event loop: :class:`FeedParser` runs :func:`parse_feed` in worker processes
(or a thread) with a time limit per feed."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from types import TracebackType
from typing import Any

from digests.feeds.model import (
    FeedParseError,
    ParsedFeed,
)
from digests.feeds.parse import parse_feed

ParseFunction = Callable[..., ParsedFeed]


class FeedParser:
    """Runs :func:`parse_feed` in worker processes (or a thread) with a time limit per feed.

    ``processes``: None for one per CPU, 0 for a single worker thread (no process; a feed that
    overruns is abandoned to finish in its thread). At most one feed per worker is in flight, so
    the time limit measures parsing, not waiting. Use as an async context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        *,
        processes: int | None = None,
        timeout: float = 20.0,
        max_entries: int = 100,
        function: ParseFunction = parse_feed,
    ) -> None:
        count = (os.cpu_count() or 1) if processes is None else processes
        self.processes = count
        self.timeout = timeout
        self.max_entries = max_entries
        self._function = function
        self._pool: concurrent.futures.Executor | None = None
        self._slots = asyncio.Semaphore(max(1, count))
        self._generation = 0

    def _executor(self) -> concurrent.futures.Executor:
        if self._pool is None:
            if self.processes == 0:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="feed-parse"
                )
            else:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.processes, mp_context=multiprocessing.get_context("spawn")
                )
            self._generation += 1
        return self._pool

    def _discard_pool(self, generation: int) -> None:
        """Kill the pool of ``generation`` (a worker overran); the next parse starts a new one."""
        pool = self._pool
        if pool is None or generation != self._generation:
            return
        self._pool = None
        if isinstance(pool, concurrent.futures.ProcessPoolExecutor):
            processes: dict[int, Any] = dict(getattr(pool, "_processes", None) or {})
            for process in processes.values():
                with contextlib.suppress(Exception):
                    process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
        else:
            pool.shutdown(wait=False, cancel_futures=True)

    async def parse(
        self,
        content: bytes,
        *,
        url: str,
        content_type: str | None = None,
        charset: str | None = None,
        entry_filter: str | None = None,
    ) -> ParsedFeed:
        """Parse one feed; raises :class:`FeedParseError` (``timeout`` past the limit)."""
        call = partial(
            self._function,
            content,
            url=url,
            content_type=content_type,
            charset=charset,
            entry_filter=entry_filter,
            max_entries=self.max_entries,
        )
        for attempt in range(2):
            async with self._slots:
                executor = self._executor()
                generation = self._generation
                future = asyncio.get_running_loop().run_in_executor(executor, call)
                try:
                    return await asyncio.wait_for(future, self.timeout)
                except TimeoutError:
                    self._discard_pool(generation)
                    raise FeedParseError(
                        "timeout", f"parsing took more than {self.timeout} s"
                    ) from None
                except BrokenProcessPool:
                    # Killed beside a feed that overran (or a worker died): try once more.
                    self._discard_pool(generation)
                    if attempt:
                        raise FeedParseError("parse", "the parsing process died") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> FeedParser:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def parse_many(
    documents: Sequence[tuple[bytes, str]], *, max_entries: int = 100
) -> list[ParsedFeed | FeedParseError]:
    """Parse several ``(content, url)`` synchronously (benchmarks, corpus runs)."""
    results: list[ParsedFeed | FeedParseError] = []
    for content, url in documents:
        try:
            results.append(parse_feed(content, url=url, max_entries=max_entries))
        except FeedParseError as exc:
            results.append(exc)
    return results
