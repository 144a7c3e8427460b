"""Regular expressions that coordinators give as entry filters (``/veille ajouter --filtre
"/.../"``), run by RE2.

Python's ``re`` backtracks: ``/(a+)+$/`` on a title made of ``a`` takes minutes, and the
interactive path parses in a thread that holds the GIL meanwhile, so the whole bot stops. RE2
(``google-re2``) matches in time linear in the text, whatever the pattern; the price is that it
refuses what cannot be matched that way: backreferences (``\\1``), lookahead and lookbehind
(``(?=…)``, ``(?<!…)``), atomic groups and possessive quantifiers. Such a pattern is refused
with :class:`RegexRefused`, whose ``reason`` says which, so the refusal can tell what to write
instead. Options: case-insensitive (Unicode case folding), no capture (only "does it match" is
asked), at most :data:`MAX_MEMORY` bytes for the compiled program and its DFA cache (a larger
pattern is refused as ``too_large``), errors not logged by RE2 itself.

RE2 classes are ASCII: ``\\w``, ``\\d`` and ``\\b`` know no accented letter (``\\bété\\b``
never matches); ``\\pL`` is any letter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from bot.core import TisserandError

if TYPE_CHECKING:
    from bot.i18n import Translator

__all__ = ["MAX_MEMORY", "RefusalReason", "RegexRefused", "compile_regex", "refusal"]

MAX_MEMORY = 2 * 1024 * 1024
"""Bytes RE2 may use for one filter (program and DFA cache; its default is 8 MiB)."""

RefusalReason = Literal["backreference", "lookaround", "atomic", "too_large", "syntax"]


class RegexRefused(TisserandError, ValueError):
    """A pattern RE2 does not compile; ``reason`` is a :data:`RefusalReason`, ``detail`` RE2's
    own words (English, for logs)."""

    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: RefusalReason = reason
        self.detail = detail


@cache
def _options() -> Any:
    """RE2's options, built when the first filter is compiled: RE2 is imported only then."""
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.never_capture = True
    options.max_mem = MAX_MEMORY
    options.log_errors = False
    return options


_BACKREFERENCE = re.compile(r"\\[1-9]|\\g<|\\k<|\(\?P=")
_LOOKAROUND = re.compile(r"\(\?<?[=!]")
_ATOMIC = re.compile(r"\(\?>|[*+?}]\+")


def _reason(pattern: str, detail: str) -> RefusalReason:
    if "too large" in detail or "repetition size" in detail:
        return "too_large"
    if _LOOKAROUND.search(pattern):
        return "lookaround"
    if _BACKREFERENCE.search(pattern):
        return "backreference"
    if _ATOMIC.search(pattern):
        return "atomic"
    return "syntax"


def compile_regex(pattern: str) -> Callable[[str], bool]:
    """A predicate: does ``pattern`` match somewhere in the text (case-insensitive)?

    Raises :class:`RegexRefused` for a pattern RE2 does not compile.
    """
    import re2

    try:
        compiled = re2.compile(pattern, _options())
    except re2.error as exc:
        raw = exc.args[0] if exc.args else ""
        detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise RegexRefused(_reason(pattern, detail), detail) from None
    search = compiled.search
    return lambda value: search(value) is not None


def refusal(t: Translator, text: str, reason: RefusalReason | None) -> str:
    """The refusal of the filter ``text``, in the reader's language: what is not supported and
    what to write instead (``reason`` None or ``syntax``: how a filter is written)."""
    if reason == "lookaround":
        return t.gettext(
            "The filter “{filter}” uses a lookahead or a lookbehind ((?=…), (?!…), (?<=…), "
            "(?<!…)): filters do not support them, so that no filter can slow the bot down. "
            'Describe what the entries contain instead, for example "/appel (à|a) projets/", '
            'or give words separated by | (for example "vélo|mobilité").',
            filter=text,
        )
    if reason == "backreference":
        return t.gettext(
            "The filter “{filter}” refers back to a group (\\1, (?P=name)): filters do not "
            "support that, so that no filter can slow the bot down. Write the repeated text "
            'out instead, for example "/(vélo|bus) et (vélo|bus)/", or give words separated '
            'by | (for example "vélo|mobilité").',
            filter=text,
        )
    if reason == "atomic":
        return t.gettext(
            "The filter “{filter}” uses an atomic group or a possessive quantifier ((?>…), "
            "a++, a*+): filters do not support them. Write (?:…) and a+ or a* instead.",
            filter=text,
        )
    if reason == "too_large":
        return t.gettext(
            "The filter “{filter}” is too large once compiled (long or nested repetitions): "
            'shorten it, or give words separated by | (for example "vélo|mobilité").',
            filter=text,
        )
    return t.gettext(
        "The filter “{filter}” is not valid. Give words separated by | (for example "
        '"vélo|mobilité") or a regular expression between slashes (for example '
        '"/appel (à|a) projets/").',
        filter=text,
    )
