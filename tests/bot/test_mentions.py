"""Mass mentions: after neutralising, neither Rocket.Chat's parser (re-implemented here from
``apps/meteor/app/mentions/lib/MentionsParser.ts`` and ``server/Mentions.ts``) nor Discord's
reading finds one, whatever is generated around ``@all``, ``@here``, ``@everyone``,
``@channel``: other names, role and user mentions, look-alikes, zero-width characters, Markdown
links. The mentions the bot means are kept.

The properties run against the neutralisers the bot uses (Rocket.Chat's renderer, the feeds
sanitiser), which existed before :mod:`bot.mentions`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot import mentions
from bot.platforms.rocketchat.markdown import neutralize_mass_mentions, to_rocketchat
from digests.feeds import clean_text, neutralize_mentions, plain_text

# --- Rocket.Chat's parser, faithfully ---------------------------------------------------------

JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
"""JavaScript's ``\\s`` (and what ``String.prototype.trim`` removes)."""
JS_SPACE_CHARS = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
NAME = "[0-9a-zA-Z-_.]+"
"""The default ``UTF8_User_Names_Validation``."""
USER_MENTION = re.compile(rf"(^|[{JS_SPACE}]|>)@({NAME}(@({NAME}))?(:([0-9a-zA-Z-_.]+))?)", re.M)
"""``userMentionRegex``: ``(^|\\s|>)@(P(@(P))?(:([0-9a-zA-Z-_.]+))?)`` with flags ``gm``."""
MD_LINK = re.compile(r"\[[^\]]*\]\([^)]+\)")
"""What ``getUserMentions`` deletes first on recent servers."""
GROUPS = ("all", "here")


def rocketchat_reads(msg: str) -> list[str]:
    """Every name Rocket.Chat reads after an ``@`` in ``msg``: by the server, to notify
    (``getUsersByMentions``), and by the client, to render (``replaceUsers``), on servers that
    delete Markdown links first and on those that do not."""
    names: list[str] = []
    for text in (msg, MD_LINK.sub("", msg)):
        for match in USER_MENTION.finditer(text):
            trimmed = match.group(0).strip(JS_SPACE_CHARS)
            names.append(trimmed if ":" in trimmed else trimmed[1:])  # the server
            names.append(match.group(2))  # the client
    return names


def rocketchat_mass_mentions(msg: str) -> list[str]:
    return [name for name in rocketchat_reads(msg) if name.lower() in GROUPS]


DISCORD_MASS = re.compile(r"@(everyone|here)", re.IGNORECASE)


def live_mass_mentions(msg: str) -> list[str]:
    return rocketchat_mass_mentions(msg) + DISCORD_MASS.findall(msg)


def test_the_reimplemented_parser_reads_what_rocketchat_reads() -> None:
    assert rocketchat_mass_mentions("@all") == ["all", "all"] * 2
    assert rocketchat_mass_mentions("x @allé !") and rocketchat_mass_mentions("@here日本")
    assert rocketchat_mass_mentions("@all\u200bx") and rocketchat_mass_mentions("\u3000@here")
    assert rocketchat_mass_mentions("[a](b)@all") and rocketchat_mass_mentions("@al[x](y)l")
    assert not rocketchat_mass_mentions("@all. @all-x @allison mail@all.org")
    assert not rocketchat_mass_mentions("@a\u200bll ＠all @аll")  # ZWSP, fullwidth, Cyrillic
    assert "alice" in rocketchat_reads("bonjour @alice !")


# --- generated texts --------------------------------------------------------------------------

KEYWORDS = ("all", "here", "everyone", "channel")
SIGNS = ("@", "@", "@", "\uff20", "\ufe6b")
INVISIBLE = (
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u180e",
    "\u202e",
    "\u2066",
    "\U000e0061",
    "\ufe0f",
    "\u034f",
    "\x00",
    "\x1b",
    "\u3164",
)
MARKS = ("\u0301", "\u0308", "\u0323")
LOOKALIKES = ("а", "ｌ", "ａ", "Ａ", "ℓ", "ⅼ", "Ɩ", "е", "һ")
AFTER = (
    "é",
    "日本",
    "ⅼ",
    "x",
    "1",
    ".",
    "-",
    "_",
    ":",
    "@",
    ":x",
    "@srv",
    "!",
    ",",
    " ",
    "\n",
    "\u00a0",
    "\u3000",
    "\r",
    ">",
    "e\u0301",
    "ï",
    "",
)
MARKDOWN = ("[", "]", "(", ")", "[x](y)", "[x](", "](y)", "[@all](y)", "()", "`", "**", "*", "_")
OTHER_MENTIONS = (
    "@alice",
    "@bob.smith",
    "@allison",
    "<@123>",
    "<@!456>",
    "<@&789>",
    "@here-team",
    "@all.in",
    "@everyone2",
    "@&",
    "#general",
)
CONTEXT = (" ", "\n", ">", "\u00a0", "\u3000", "\ufeff", "x", "é", "(", "[", "\\", "<")


@st.composite
def attempts(draw: st.DrawFn) -> str:
    """Something that may or may not be a mass mention once a platform reads it."""
    word = list(draw(st.sampled_from(KEYWORDS)))
    if draw(st.booleans()):
        word = [c.upper() if draw(st.booleans()) else c for c in word]
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(word)))
        word.insert(at, draw(st.sampled_from(INVISIBLE + MARKS + LOOKALIKES + MARKDOWN)))
    before = draw(st.lists(st.sampled_from(INVISIBLE), max_size=2))
    return (
        draw(st.sampled_from(("", *CONTEXT)))
        + draw(st.sampled_from(SIGNS))
        + "".join(before)
        + "".join(word)
        + draw(st.sampled_from(AFTER))
        + draw(st.sampled_from(("", *INVISIBLE, *MARKS)))
    )


fragments = st.one_of(
    attempts(),
    st.sampled_from(OTHER_MENTIONS + MARKDOWN + CONTEXT + INVISIBLE + MARKS + AFTER + SIGNS),
    st.text(max_size=4),
)
texts = st.lists(fragments, max_size=10).map("".join)

NEUTRALISERS: dict[str, Callable[[str], str]] = {
    "rocketchat": neutralize_mass_mentions,
    "rocketchat markdown": lambda text: neutralize_mass_mentions(to_rocketchat(text)),
    "feeds": neutralize_mentions,
    "feeds plain text": clean_text,
    "feeds html": plain_text,
}


@pytest.mark.parametrize("name", NEUTRALISERS)
@settings(max_examples=200, deadline=None)
@given(text=texts)
@example(text="@allé")
@example(text="@here日本")
@example(text="@all\u200b !")
@example(text="[a](b)@all")
@example(text="@al[x](y)l")
@example(text="@here@\u200dall")
def test_no_platform_reads_a_mass_mention_once_neutralised(name: str, text: str) -> None:
    out = NEUTRALISERS[name](text)
    assert live_mass_mentions(out) == [], (text, out)


@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_neutralising_only_inserts_a_marker_after_signs_and_is_idempotent(text: str) -> None:
    for marker in mentions.MARKERS:
        out = mentions.neutralize_mass_mentions(text, marker=marker)
        assert mentions.neutralize_mass_mentions(out, marker=marker) == out
        signs = mentions.mass_mention_signs(text)
        rebuilt = list(text)
        for index in reversed(signs):
            rebuilt.insert(index + 1, marker)
        assert "".join(rebuilt) == out


def _downstream(text: str, nfkc_first: bool, strip_marks: bool) -> str:
    """What a later step that strips invisible characters and folds compatibility forms would
    make of ``text``; a marker right after an ``@`` is kept (the bot relies on it)."""

    def strip(value: str) -> str:
        kept: list[str] = []
        for index, char in enumerate(value):
            category = unicodedata.category(char)
            invisible = (
                category == "Cf"
                or (category == "Cc" and not char.isspace())
                or char in "\u115f\u1160\u3164\uffa0"
                or (strip_marks and category in ("Mn", "Me"))
            )
            if invisible and not (
                char in mentions.MARKERS and index and value[index - 1] in "@\uff20\ufe6b"
            ):
                continue
            kept.append(char)
        return "".join(kept)

    if nfkc_first:
        return strip(unicodedata.normalize("NFKC", text))
    return unicodedata.normalize("NFKC", strip(text))


@settings(max_examples=100, deadline=None)
@given(text=texts, nfkc_first=st.booleans(), strip_marks=st.booleans())
@example(text="@a\u200bll", nfkc_first=False, strip_marks=False)
@example(text="＠ａｌｌ", nfkc_first=True, strip_marks=False)
@example(text="@alle\u200b\u0301", nfkc_first=False, strip_marks=False)
@example(text="@a\u0301ll", nfkc_first=True, strip_marks=True)
def test_no_mass_mention_appears_when_a_later_step_strips_or_folds_characters(
    text: str, nfkc_first: bool, strip_marks: bool
) -> None:
    out = _downstream(mentions.neutralize_mass_mentions(text), nfkc_first, strip_marks)
    assert live_mass_mentions(out) == [], (text, out)


MEANT = ("alice", "bob.smith", "allison", "all.in", "channel_x", "zoe-2", "al")
MEANT_DISCORD_LIKE = ("herehugo", "here-team", "everyone2", "everyones-friend")
SAFE_FILLER = st.text(
    alphabet=st.characters(blacklist_characters="@\uff20\ufe6b[]()"), max_size=8
).map(lambda text: f" {text} ")


@settings(max_examples=100, deadline=None)
@given(
    parts=st.lists(
        st.tuples(SAFE_FILLER, st.sampled_from(MEANT + MEANT_DISCORD_LIKE + tuple(KEYWORDS))),
        min_size=1,
        max_size=6,
    )
)
def test_the_mentions_the_bot_means_are_kept(parts: list[tuple[str, str]]) -> None:
    text = "".join(f"{filler}@{name} " for filler, name in parts)
    out = neutralize_mass_mentions(text, keep=MEANT_DISCORD_LIKE)
    read = rocketchat_reads(out)
    for _, name in parts:
        if name not in KEYWORDS:
            assert name in read, (text, out)
    assert rocketchat_mass_mentions(out) == [], (text, out)


def test_names_starting_like_a_group_are_pinged_only_when_meant() -> None:
    assert neutralize_mass_mentions("@herehugo") == f"@{mentions.ZWJ}herehugo"  # Discord's @here
    assert neutralize_mass_mentions("@herehugo", keep=["herehugo"]) == "@herehugo"
    assert neutralize_mass_mentions("@here", keep=["here"]) == f"@{mentions.ZWJ}here"
    assert neutralize_mass_mentions("@herehugoz", keep=["herehugo"]).startswith(f"@{mentions.ZWJ}")
    assert neutralize_mass_mentions("@all.in @allison mail@all.org") == (
        "@all.in @allison mail@all.org"
    )


def test_markers_and_examples() -> None:
    zwj, zwsp = mentions.ZWJ, mentions.ZWSP
    assert neutralize_mass_mentions("@allé @here日本") == f"@{zwj}allé @{zwj}here日本"
    assert neutralize_mentions("@allé") == f"@{zwsp}allé"
    # Already neutralised by either marker: left as it is.
    assert neutralize_mass_mentions(f"@{zwsp}all @{zwj}here") == f"@{zwsp}all @{zwj}here"
    assert neutralize_mass_mentions("＠ａｌｌ") == f"＠{zwj}ａｌｌ"
    with pytest.raises(ValueError, match="marker"):
        mentions.neutralize_mass_mentions("@all", marker="x")


@settings(max_examples=100, deadline=None)
@given(text=st.lists(st.sampled_from(("[", "]", "(", ")", "x", "@", "\n", "]((")), max_size=30))
def test_markdown_links_are_the_matches_of_rocketchats_expression(text: list[str]) -> None:
    joined = "".join(text)
    assert mentions.markdown_links(joined) == [m.span() for m in MD_LINK.finditer(joined)]


def test_long_hostile_texts_are_neutralised_in_linear_time() -> None:
    # A run of "[" is quadratic for the regular expression; many signs and invisible
    # characters stay proportional to the text.
    text = "[" * 200_000 + "](x" + ("@" + "\u2060" * 50 + "all ") * 2_000
    out = mentions.neutralize_mass_mentions(text)
    assert out.count(f"@{mentions.ZWJ}") == 2_000


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(
            (
                "@",
                "all",
                "here",
                "everyone",
                "channel",
                "ALL",
                "Here",
                ".",
                "-",
                "_",
                ":",
                "x",
                " ",
                "\n",
                "\t",
                "[x](y)",
                "](",
                "1",
                "é",
                "\x00",
                "\u200b",
            )
        ),
        max_size=12,
    ).map("".join)
)
def test_the_one_pass_reading_of_plain_text_is_the_full_reading(text: str) -> None:
    assert mentions.mass_mention_signs(text) == mentions._signs(text, ())
