"""Rocket.Chat through the fake server: message-to-reply latency and sustained send rate.

    python benchmarks/rocketchat_latency.py [--count 300] [--warmup 20] [--sweep-seconds 2]

One process runs tests/fakes/rocketchat/ (REST + DDP on 127.0.0.1) and the real adapter
(``rocketchat_API`` in worker threads, our DDP client).

1. Latency: a member says ``!ping n``; timed from the moment the fake stores the message (and
   pushes it on the websocket) until it stores the bot's reply: DDP frame, the adapter's
   translation (``users.info`` cached after the first message), a handler that answers at once,
   rendering, ``chat.sendMessage`` through ``requests`` in a worker thread. The handler does no
   work, so this is the platform's own overhead. The bot has the ``bot`` role (it bypasses the
   REST limiter, as recommended) and pacing is off.
2. Sustained rate under the server's *default* limiter (10 calls per 60,000 ms per endpoint and
   client address, for users without ``api-bypass-rate-limit``): how many messages pass before
   the first 429 and the ``retry_after`` the adapter hands to the outbox.
3. Sustained rate with a stricter per-second limiter (10 calls / 1,000 ms): the adapter paced at
   several rates for ``--sweep-seconds`` each; 429s counted (the adapter waits them out).
4. Raw throughput with the ``bot`` role (no limiter) and no pacing, and the default pacing
   (5 messages/s) checked to produce no 429.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform as python_platform
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core import CommandEvent, DeliveryError, Event, PlaceTarget, Reply
from bot.platforms.rocketchat import RocketChatPlatform, RocketChatSettings

if TYPE_CHECKING:
    from tests.fakes.rocketchat import FakeRocketChat

BOT = "tisserand"
PASSWORD = "benchmark"


def _fake_class() -> type[FakeRocketChat]:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.fakes.rocketchat import FakeRocketChat

    return FakeRocketChat


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _server(*, bot_role: bool, **options: Any) -> FakeRocketChat:
    fake = _fake_class()(**options)
    await fake.start()
    fake.add_user(
        BOT, password=PASSWORD, roles=("user", "bot") if bot_role else ("user",), bot=True
    )
    fake.add_user("alice")
    fake.add_room("general", members=[BOT, "alice"])
    return fake


async def _platform(
    fake: FakeRocketChat, rate: float, handler: Any = None, **options: Any
) -> RocketChatPlatform:
    settings = RocketChatSettings(server_url=fake.url, username=BOT, messages_per_second=rate)
    platform = RocketChatPlatform(settings, password=PASSWORD, **options)

    async def _ignore(event: Event) -> None:
        return None

    await platform.start(handler or _ignore)
    return platform


async def latency(count: int, warmup: int) -> list[float]:
    fake = await _server(bot_role=True)
    holder: dict[str, RocketChatPlatform] = {}

    async def answer(event: Event) -> None:
        if isinstance(event, CommandEvent):
            await holder["platform"].respond(event, Reply("pong"))

    platform = await _platform(fake, 10_000.0, answer)
    holder["platform"] = platform
    bot_id = fake.user(BOT).id
    replied = asyncio.Event()
    fake.on_message.append(lambda m: replied.set() if m["u"]["_id"] == bot_id else None)
    room = fake.room("general")
    samples: list[float] = []
    try:
        for i in range(warmup + count):
            replied.clear()
            start = time.perf_counter()
            fake.say("alice", room, f"!ping {i}")
            await asyncio.wait_for(replied.wait(), 10)
            if i >= warmup:
                samples.append((time.perf_counter() - start) * 1000.0)
    finally:
        await platform.stop()
        await fake.close()
    return samples


async def default_limiter() -> tuple[int, float, float]:
    """(messages accepted before the first 429, seconds it took, retry_after given)."""
    fake = await _server(bot_role=False)
    platform = await _platform(fake, 5.0, rate_limit_max_wait=0.0)
    target = PlaceTarget("rocketchat", fake.room("general").id)
    sent = 0
    start = time.perf_counter()
    try:
        while True:
            try:
                await platform.deliver(Reply(f"message {sent}"), target, f"default:{sent}")
            except DeliveryError as exc:
                return sent, time.perf_counter() - start, exc.retry_after or 0.0
            sent += 1
    finally:
        await platform.stop()
        await fake.close()


async def per_second_limiter(rates: list[float], seconds: float) -> list[tuple[float, float, int]]:
    """For each pacing rate: (rate asked, messages/s achieved, 429s met)."""
    results = []
    for rate in rates:
        fake = await _server(bot_role=False, rate_limit_calls=10, rate_limit_window_ms=1000)
        platform = await _platform(fake, rate, rate_limit_max_wait=30.0)
        target = PlaceTarget("rocketchat", fake.room("general").id)
        count = max(1, int(rate * seconds))
        try:
            start = time.perf_counter()
            for i in range(count):
                await platform.deliver(Reply(f"m{i}"), target, f"sweep:{rate}:{i}")
            elapsed = time.perf_counter() - start
            achieved = (count - 1) / elapsed if count > 1 else 0.0
            results.append((rate, achieved, fake.statuses[("chat.sendMessage", 429)]))
        finally:
            await platform.stop()
            await fake.close()
    return results


async def unlimited(count: int, rate: float) -> tuple[float, int]:
    """(messages/s, 429s) for a bot with the bot role, paced at ``rate``."""
    fake = await _server(bot_role=True)
    platform = await _platform(fake, rate)
    target = PlaceTarget("rocketchat", fake.room("general").id)
    try:
        start = time.perf_counter()
        for i in range(count):
            await platform.deliver(Reply(f"m{i}"), target, f"raw:{i}")
        elapsed = time.perf_counter() - start
        return (count - 1) / elapsed, fake.statuses[("chat.sendMessage", 429)]
    finally:
        await platform.stop()
        await fake.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--sweep-seconds", type=float, default=2.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    print(f"Python {python_platform.python_version()} on {python_platform.machine()}")
    samples = await latency(args.count, args.warmup)
    print(
        f"message-to-reply latency over {len(samples)} messages: "
        f"median {statistics.median(samples):.2f} ms, p99 {_percentile(samples, 0.99):.2f} ms, "
        f"max {max(samples):.2f} ms"
    )

    accepted, took, retry_after = await default_limiter()
    print(
        f"server default limiter (10 calls/60 s per endpoint), bot without the bot role: "
        f"{accepted} messages in {took:.2f} s, then 429 with retry_after {retry_after:.1f} s "
        f"-> sustained without a 429: {accepted / 60:.3f} messages/s"
    )

    for rate, achieved, refused in await per_second_limiter(
        [5, 8, 9.5, 12, 20], args.sweep_seconds
    ):
        print(
            f"limiter 10 calls/1 s, paced at {rate:>4} msg/s: {achieved:6.2f} msg/s delivered, "
            f"{refused} x 429 (waited out)"
        )

    raw, refused = await unlimited(args.count, 10_000.0)
    print(f"bot role, no pacing: {raw:.0f} messages/s over {args.count} messages, {refused} x 429")
    paced, refused = await unlimited(15, 5.0)
    print(f"bot role, default pacing 5/s: {paced:.2f} messages/s, {refused} x 429")


if __name__ == "__main__":
    asyncio.run(main())
