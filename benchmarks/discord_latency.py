"""Interaction-to-response latency on Discord, through the fake: median and p99.

    python benchmarks/discord_latency.py [--count 500] [--warmup 20]

One process runs tests/fakes/discord/ (REST + gateway on 127.0.0.1) and the real Discord
adapter (discord.py). Each sample is timed from the moment the fake sends INTERACTION_CREATE on
the gateway until it has received the interaction callback over REST: gateway frame (zlib
stream), discord.py parsing, the adapter's translation to a neutral event, a handler that
answers at once, rendering, and the HTTP callback. Two kinds: a slash command answered with an
ephemeral message (callback type 4) and a button click answered by editing the clicked message
(type 7). The handler does no work, so this is the platform's own overhead, not the app's.
"""

from __future__ import annotations

import argparse
import asyncio
import platform as python_platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from bot.core import Choice, ChoiceEvent, Event, PlaceTarget, Reply
from bot.platforms.discord import DiscordPlatform, DiscordSettings

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord, FakeInteraction

TOKEN = "benchmark-token"


def _fake_class() -> type[FakeDiscord]:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.fakes.discord import FakeDiscord

    return FakeDiscord


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _measure(
    fake: FakeDiscord, act: Callable[[], Awaitable[FakeInteraction]], count: int
) -> list[float]:
    samples: list[float] = []
    for _ in range(count):
        start = time.perf_counter()
        await _answered(fake, await act())
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


async def _answered(fake: FakeDiscord, interaction: FakeInteraction) -> None:
    await fake.wait_for(lambda: interaction.acknowledged, 10.0)


def _report(name: str, samples: list[float]) -> None:
    print(
        f"{name:<28} n={len(samples):<5} median={statistics.median(samples):6.2f} ms  "
        f"p99={_percentile(samples, 0.99):6.2f} ms  max={max(samples):6.2f} ms"
    )


async def main(count: int, warmup: int) -> None:
    fake_class = _fake_class()
    async with fake_class(token=TOKEN, route_limit=1_000_000) as fake:
        guild = fake.add_guild("Benchmark")
        channel = fake.add_channel(guild, "général")
        user = fake.add_user("alice")
        fake.add_member(guild, user)
        platform: DiscordPlatform | None = None

        async def handler(event: Event) -> None:
            assert platform is not None
            if isinstance(event, ChoiceEvent):
                reply = Reply("Vote enregistré", edit=event.ref, choices=choices)
            else:
                reply = Reply("C'est noté.", ephemeral=True)
            await platform.respond(event, reply)

        choices = (Choice("Oui", "poll:1:vote:1"), Choice("Non", "poll:1:vote:2"))
        platform = DiscordPlatform(
            DiscordSettings(api_base_url=fake.base_url), TOKEN, guild_ready_timeout=0.01
        )
        await platform.start(handler)
        try:
            ref = await platform.deliver(
                Reply("Café ?", choices=choices), PlaceTarget("discord", str(channel.id)), "b"
            )
            message = fake.messages[int(ref.message_id)]

            async def command() -> FakeInteraction:
                return await fake.slash_command(user, channel, "poll", {"question": "Café ?"})

            async def click() -> FakeInteraction:
                return await fake.click(user, message, "tis:poll:1:vote:1")

            await _measure(fake, command, warmup)
            commands = await _measure(fake, command, count)
            await _measure(fake, click, warmup)
            clicks = await _measure(fake, click, count)
        finally:
            await platform.stop()
    print(
        f"Python {python_platform.python_version()}, discord.py {discord.__version__}, "
        f"{count} samples each after {warmup} warm-up"
    )
    _report("slash command -> type 4", commands)
    _report("button click -> type 7", clicks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, arguments.warmup))
