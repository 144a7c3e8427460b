"""Reading what users give the highlights: themes and message references."""

from __future__ import annotations

from commands.gazette.parsing import merge_themes, parse_message_ref, parse_themes


def test_themes_are_cleaned_and_deduplicated() -> None:
    assert parse_themes(" eau, Mobilité ;#climat, EAU,, ") == ["eau", "Mobilité", "climat"]
    assert parse_themes(None) == []
    assert merge_themes(["eau"], ["Eau", "vélo"]) == ["eau", "vélo"]


def test_message_references() -> None:
    assert parse_message_ref("12") == ("12", None)
    assert parse_message_ref("n° 12") == ("12", None)
    assert parse_message_ref("#12") == ("12", None)
    link = "https://discord.com/channels/1/2/1234567890"
    assert parse_message_ref(link) == ("1234567890", link)
    rc = "https://chat.example.org/channel/general?msg=aBc123"
    assert parse_message_ref(rc) == ("aBc123", rc)
    assert parse_message_ref("javascript:alert(1)") is None
    assert parse_message_ref("https://example.org/page") is None
