"""Every exception class a platform module defines descends from TisserandError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import bot.platforms
from bot.core import TisserandError


def test_platform_errors_are_tisserand_errors() -> None:
    found: list[str] = []
    for info in pkgutil.walk_packages(bot.platforms.__path__, "bot.platforms."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found.append(name)
                assert issubclass(value, TisserandError), f"{info.name}.{name}"
    assert {"RestError", "DDPError", "DDPConnectionLost", "RateLimited", "_Status"} <= set(found)


def test_a_lost_realtime_connection_is_still_a_connection_error() -> None:
    from bot.platforms.rocketchat.realtime import DDPConnectionLost

    assert issubclass(DDPConnectionLost, ConnectionError)
