"""Neutral Markdown to Rocket.Chat's flavour, and mass-mention neutralising.

The neutral subset (:mod:`bot.core`): ``**bold**``, ``*italic*``, ``[label](url)``, lists
(``- item``, ``* item``, ``1. item``), line breaks, ``inline code``.

Rocket.Chat's message syntax: ``*bold*``, ``_italic_``, ``~strike~``, `` `code` ``, links as
``[label](url)`` (also ``<url|label>`` in the legacy renderer; the bracket form works in both the
legacy and the current message parser, so it is kept as is), ``- item`` lists. So only emphasis
changes: ``**x**`` becomes ``*x*`` and ``*x*`` becomes ``_x_``. Code spans and link targets are
left untouched.

``@all`` and ``@here`` notify a whole room in Rocket.Chat (``@everyone`` is neutralised too, for
text copied from elsewhere): a zero-width joiner after the ``@`` keeps the text readable and breaks
the mention. What counts as one is decided by :mod:`bot.mentions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot import mentions
from bot.mentions import ZWJ

_PROTECTED = re.compile(r"`[^`\n]+`|\[[^\]\n]*\]\([^)\s]+\)|<[a-z][a-z0-9+.-]*:[^>\s]+>", re.I)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.S)
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])", re.S)
_PLACEHOLDER = "\x00{}\x00"

__all__ = ["ZWJ", "neutralize_mass_mentions", "to_rocketchat"]


def neutralize_mass_mentions(text: str, *, keep: Iterable[str] = ()) -> str:
    """``@all`` -> ``@\\u200dall`` (and every other mass mention :mod:`bot.mentions` knows);
    ``keep``: usernames the reply means to ping."""
    return mentions.neutralize_mass_mentions(text, marker=ZWJ, keep=keep)


def to_rocketchat(text: str) -> str:
    """Convert neutral Markdown to Rocket.Chat's message syntax."""
    kept: list[str] = []

    def _keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return _PLACEHOLDER.format(len(kept) - 1)

    work = _PROTECTED.sub(_keep, text)
    bold: list[str] = []

    def _bold(match: re.Match[str]) -> str:
        bold.append(match.group(1))
        return f"\x01{len(bold) - 1}\x01"

    work = _BOLD.sub(_bold, work)
    work = _ITALIC.sub(lambda m: f"_{m.group(1)}_", work)
    work = re.sub(
        r"\x01(\d+)\x01", lambda m: f"*{_ITALIC.sub(_italic, bold[int(m.group(1))])}*", work
    )
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], work)


def _italic(match: re.Match[str]) -> str:
    return f"_{match.group(1)}_"
