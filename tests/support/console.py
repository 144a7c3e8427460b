"""Drive the real console platform in-process, as a script would through standard input."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.clock import MovableClock
from bot.config import Settings, load_settings
from bot.runner import run_console

DEFAULT_START = datetime.fromisoformat("2026-11-23T09:00:00+01:00")


def console_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(
        None,
        database_url=database_url,
        environ={},
        overrides={"data_dir": str(tmp_path), **overrides},
    )


async def run_script(
    lines: Iterable[str],
    *,
    settings: Settings,
    out_dir: Path,
    start: datetime = DEFAULT_START,
    user: str = "camille",
    channel: str = "general",
) -> str:
    """Run the lines through ``tisserand console`` logic and return the transcript."""
    out = io.StringIO()
    script = list(lines)

    async def source(_prompt: Callable[[], str]) -> AsyncIterator[str]:
        for line in script:
            yield line + "\n"

    await run_console(
        settings,
        clock=MovableClock(start),
        user=user,
        channel=channel,
        out_dir=out_dir,
        lines=source,
        out=out,
        interactive=False,
    )
    return out.getvalue()
