"""A bot process that only delivers the outbox once (the kill test runs it and kills it).

``python -m tests.bot.mail.sender_child DATABASE_URL DATA_DIR SMTP_PORT NOW_ISO``
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.wiring import FAMILIES


async def main(url: str, data_dir: str, port: int, now: str) -> None:
    settings = load_settings(
        None,
        database_url=url,
        environ={},
        overrides={
            "data_dir": data_dir,
            "email": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "sender": "veille@reseau.example.org",
                "messages_per_minute": 100_000,
            },
        },
    )
    app = App(settings, clock=FrozenClock(datetime.fromisoformat(now)), families=FAMILIES)
    await app.start(with_scheduler=False)
    assert app.sender is not None
    await app.sender.deliver_due()
    await app.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
