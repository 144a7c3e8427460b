"""Small pieces of the gazette: how a byline spells a member, and how item selections read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.storage.highlights import Consent, Highlight
from bot.storage.members import Member
from commands.gazette.content import byline_of, proper_name
from commands.gazette.selection import split_selection

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nadia", "Nadia"),
        ("jean-pierre_durand", "Jean-Pierre Durand"),
        ("  élodie   martin ", "Élodie Martin"),
        ("Nadia Benali", "Nadia Benali"),
        ("MdB", "MdB"),  # the member's own spelling is kept
    ],
)
def test_proper_name(name: str, expected: str) -> None:
    assert proper_name(name) == expected


def _highlight(consent: Consent) -> Highlight:
    return Highlight(
        quote="q", author_name="nadia", consent=consent, said_at=NOW, platform="console"
    )


def test_byline_prefers_the_members_current_name_and_respects_anonymity() -> None:
    member = Member(platform="console", user_id="nadia", display_name="nadia benali")
    assert byline_of(_highlight(Consent.YES), member) == "Nadia Benali"
    assert byline_of(_highlight(Consent.YES), None) == "Nadia"
    assert byline_of(_highlight(Consent.ANON), member) is None


def test_selections_split_on_commas() -> None:
    assert split_selection(["3,5", "7-9", " nouveaux ", ";"]) == ["3", "5", "7-9", "nouveaux"]
