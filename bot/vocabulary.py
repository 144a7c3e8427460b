"""The words people type for a fixed set of values, in one table per concept.

A family declares each of its vocabularies once (member categories, poll answers, grades) as a
:class:`Vocabulary`: the canonical words (what the help shows and what is stored) and every form
accepted for each, the bot's own labels included. Matching ignores case, accents, spaces, hyphens
and the marks of inclusive writing (``élu·e``, ``élu.e.s``, ``élu(e)s``, ``si-nécessaire``,
``Très bien``); an *inflected* vocabulary (nouns) also accepts plural and feminine forms
(``élus``, ``élue``, ``partenaires``).

Words typed without quotes arrive split (``/voter 1 oui si nécessaire non``):
:func:`merge_phrases` joins back the consecutive words that form one known phrase.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from bot.i18n import fold

__all__ = ["Vocabulary", "merge_phrases", "word_key"]

_NOT_KEY = re.compile(r"[^a-z0-9?]")


def word_key(text: str) -> str:
    """What matching compares: lower case, no accents, only letters, digits and ``?``."""
    return _NOT_KEY.sub("", fold(text))


class Vocabulary:
    """Canonical words and the forms accepted for each (see the module)."""

    def __init__(
        self,
        words: Mapping[str, Iterable[str]],
        *,
        inflected: bool = False,
        typed_canonical: bool = True,
    ) -> None:
        """``typed_canonical`` False: the canonical words are codes, not accepted as typed."""
        self.canonical: tuple[str, ...] = tuple(words)
        self.inflected = inflected
        self._keys: dict[str, str] = {}
        for canonical, forms in words.items():
            for form in (canonical, *forms) if typed_canonical else forms:
                key = word_key(form)
                if key:
                    self._keys.setdefault(key, canonical)

    def get(self, text: str) -> str | None:
        """The canonical word ``text`` is a form of, or None."""
        key = word_key(text)
        if not key:
            return None
        for candidate in self._candidates(key):
            if candidate in self._keys:
                return self._keys[candidate]
        return None

    def _candidates(self, key: str) -> Iterable[str]:
        yield key
        if not self.inflected:
            return
        singular = key[:-1] if len(key) > 3 and key[-1] in "sx" else key
        yield singular
        if len(singular) > 3 and singular.endswith("e"):
            yield singular[:-1]

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.get(text) is not None


def merge_phrases(
    words: Sequence[str], known: Callable[[str], bool], *, longest: int = 3
) -> list[str]:
    """``words`` with each run of up to ``longest`` consecutive words forming one known phrase
    joined by a space (the longest run first). A word ``left=right`` starts a run on its right
    side (``1=très`` ``bien``); a run never swallows a following ``=`` word."""
    merged: list[str] = []
    index = 0
    while index < len(words):
        taken = 1
        for end in range(min(len(words), index + longest), index + 1, -1):
            if any("=" in word for word in words[index + 1 : end]):
                continue
            phrase = " ".join(words[index:end])
            if known(phrase.partition("=")[2] if "=" in words[index] else phrase):
                taken = end - index
                break
        merged.append(" ".join(words[index : index + taken]))
        index += taken
    return merged
