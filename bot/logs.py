"""Logging of the command line: plain text (the default) or JSON lines (``--log-format json``,
with python-json-logger: one object per line, a traceback inside its ``exc_info`` string), on
standard error. Secrets never appear: every value read by :func:`bot.config.read_secret` (the
platforms' passwords and tokens) is replaced by ``***`` in each record, whatever the format."""

from __future__ import annotations

import logging
import sys
from typing import Literal

from bot.config import known_secrets

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "***"


class RedactSecrets(logging.Filter):
    """Replace every known secret in a record's message, arguments and traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [s for s in known_secrets() if len(s) >= 4]
        if not secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = _redact(message, secrets)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_text:
            # Formatters (python-json-logger's too) use exc_text when exc_info is gone.
            record.exc_text = _redact(record.exc_text, secrets)
            record.exc_info = None
        return True


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def setup_logging(verbose: bool, log_format: LogFormat = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_tisserand", False):
            root.removeHandler(old)
    handler._tisserand = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
