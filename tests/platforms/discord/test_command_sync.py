"""A command sync that Discord refuses or fails at start (405 from a server that lacks the
route, 403 Missing Access without the ``applications.commands`` scope, 503) does not stop the
platform: it is reported with what to check and retried with backoff while the bot runs, and
the platform stops cleanly with a retry still pending."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.platforms.discord.test_platform import (
    COMMANDS,
    App,
    World,
    no_leftover_tasks,
    running,
    world,
)

__all__ = ["no_leftover_tasks", "world"]  # the fixtures this module uses

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

WAIT = 10.0


async def _until_synced(platform: object) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while getattr(platform, "commands_synced", None) is not True:
        assert asyncio.get_running_loop().time() < deadline, "never synced"
        await asyncio.sleep(0.02)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "status", "code", "message", "check"),
    [
        ("PUT", 405, 0, "405: Method Not Allowed", "discord.api_base_url"),
        ("GET", 403, 50001, "Missing Access", "applications.commands"),
        ("PUT", 503, 0, "upstream connect error", "status page"),
    ],
)
async def test_a_failed_sync_is_reported_and_retried_while_the_platform_runs(
    world: World,
    caplog: pytest.LogCaptureFixture,
    method: str,
    status: int,
    code: int,
    message: str,
    check: str,
) -> None:
    fake = world.fake
    path = rf"/applications/{fake.application_id}/commands"
    fake.fail_next(method, path, status, code, message, times=2)
    caplog.set_level(logging.WARNING, "bot.platforms.discord.platform")
    async with running(world, App(), commands=COMMANDS, sync_retry_base=0.05) as platform:
        assert platform.commands_synced is False  # started anyway
        await _until_synced(platform)
        assert len(fake.requests_to(method, path)) >= 3  # two refused, then accepted
        assert [c["name"] for c in fake.commands[None]] == [c["name"] for c in COMMANDS]
    failures = [r for r in caplog.records if "command sync failed" in r.getMessage()]
    assert len(failures) == 2
    assert all(check in r.getMessage() and r.exc_info is None for r in failures)
    assert "attempt 3" in caplog.text


@pytest.mark.asyncio
async def test_the_platform_stops_cleanly_while_the_sync_is_still_failing(world: World) -> None:
    fake = world.fake
    path = rf"/applications/{fake.application_id}/commands"
    fake.fail_next("PUT", path, 503, 0, "unavailable", times=1000)
    async with running(world, App(), commands=COMMANDS, sync_retry_base=0.02) as platform:
        deadline = asyncio.get_running_loop().time() + WAIT
        while len(fake.requests_to("PUT", path)) < 3:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
        assert platform.commands_synced is False
    puts = len(fake.requests_to("PUT", path))
    await asyncio.sleep(0.1)
    assert len(fake.requests_to("PUT", path)) == puts  # no retry after stop
