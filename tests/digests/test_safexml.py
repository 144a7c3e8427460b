"""Entity bombs and depth bombs, in every encoding a parser would read, for OPML import and feed
parsing: each is refused at once, with nothing expanded.

The old check looked for ``<!doctype``/``<!entity`` in the raw bytes, where UTF-16 and UTF-32
hide them; a UTF-16 OPML file using one entity many times was imported, and expanded.
"""

from __future__ import annotations

import codecs
import tracemalloc
from collections.abc import Callable

import pytest

from digests.feeds import FeedParseError, parse_feed
from digests.opml import OpmlError, parse_opml

Encode = Callable[[str], bytes]


def _with_declaration(label: str, codec: str, bom: bytes = b"") -> Encode:
    def encode(body: str) -> bytes:
        return bom + f'<?xml version="1.0" encoding="{label}"?>\n{body}'.encode(codec)

    return encode


def _utf7(body: str) -> bytes:
    # The declaration must be readable in ASCII; UTF-7 then spells "<" as "+ADw-".
    return b'<?xml version="1.0" encoding="UTF-7"?>\n' + body.encode("utf-7")


ENCODINGS: dict[str, Encode] = {
    "utf-8": _with_declaration("UTF-8", "utf-8"),
    "utf-8-bom": _with_declaration("UTF-8", "utf-8", codecs.BOM_UTF8),
    "utf-16-le": _with_declaration("UTF-16", "utf-16-le", codecs.BOM_UTF16_LE),
    "utf-16-be": _with_declaration("UTF-16", "utf-16-be", codecs.BOM_UTF16_BE),
    "utf-16-le-no-bom": _with_declaration("UTF-16LE", "utf-16-le"),
    "utf-16-be-no-bom": _with_declaration("UTF-16BE", "utf-16-be"),
    "utf-32-le": _with_declaration("UTF-32", "utf-32-le", codecs.BOM_UTF32_LE),
    "utf-32-be": _with_declaration("UTF-32", "utf-32-be", codecs.BOM_UTF32_BE),
    "utf-7": _utf7,
}

USES = 5_000
"""Under expat's amplification threshold (8 MiB): the old OPML parser expanded it all."""
ONE_ENTITY = '<!DOCTYPE {root} [<!ENTITY a "' + "x" * 1_000 + '">]>'
LAUGHS = (
    '<!DOCTYPE {root} [<!ENTITY a0 "lol">'
    + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)
DTDS = {"one entity, many uses": (ONE_ENTITY, "&a;"), "billion laughs": (LAUGHS, "&a9;")}
DEPTH = 100_000
OPML_DEPTH = 20_000
"""Deep enough for Python's recursion limit, small enough for the 5 MiB of an OPML file."""


def _opml_bomb(dtd: str, use: str) -> str:
    return (
        dtd.format(root="opml")
        + f'<opml version="2.0"><head><title>{use * 10}</title></head><body>'
        + "".join(
            f'<outline type="rss" text="{use}" xmlUrl="https://e.example/{n}"/>'
            for n in range(USES // 10)
        )
        + "</body></opml>"
    )


def _feed_bomb(dtd: str, use: str) -> str:
    return (
        dtd.format(root="rss")
        + '<rss version="2.0"><channel><title>t</title>'
        + f"<item><title>{use * 10}</title><link>https://e.example/1</link>"
        + f"<description>{use * USES}</description></item></channel></rss>"
    )


OPML_DEEP = (
    '<opml version="2.0"><head><title>x</title></head><body>'
    + '<outline text="x">' * OPML_DEPTH
    + '<outline type="rss" text="Au fond" xmlUrl="https://deep.example/rss"/>'
    + "</outline>" * OPML_DEPTH
    + "</body></opml>"
)
FEED_DEEP = (
    '<rss version="2.0"><channel><title>t</title><item><title>x</title>'
    + "<link>https://e.example/1</link><description>"
    + "<div>" * DEPTH
    + "x"
    + "</div>" * DEPTH
    + "</description></item></channel></rss>"
)


def _small_peak(call: Callable[[], object], data: bytes) -> object:
    """Run ``call``, checking that it allocated little more than ``data`` at its peak: nothing
    was expanded (an expanded bomb is 5 MB of text)."""
    tracemalloc.start()
    try:
        result = call()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < len(data) + 2 * 1024 * 1024, f"{peak} bytes at the peak"
    return result


def _refused_opml(data: bytes) -> OpmlError:
    def call() -> OpmlError:
        with pytest.raises(OpmlError) as refused:
            parse_opml(data)
        return refused.value

    error = _small_peak(call, data)
    assert isinstance(error, OpmlError)
    return error


def _refused_feed(data: bytes, charset: str | None = None) -> FeedParseError:
    def call() -> FeedParseError:
        with pytest.raises(FeedParseError) as refused:
            parse_feed(data, url="https://e.example/feed", charset=charset)
        return refused.value

    error = _small_peak(call, data)
    assert isinstance(error, FeedParseError)
    return error


@pytest.mark.parametrize("dtd", DTDS)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_an_opml_entity_bomb_is_refused_in_every_encoding(encoding: str, dtd: str) -> None:
    data = ENCODINGS[encoding](_opml_bomb(*DTDS[dtd]))
    assert _refused_opml(data).code == "unsafe"


@pytest.mark.parametrize("dtd", DTDS)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_feed_entity_bomb_is_refused_in_every_encoding(encoding: str, dtd: str) -> None:
    data = ENCODINGS[encoding](_feed_bomb(*DTDS[dtd]))
    assert _refused_feed(data).code == "unsafe"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-7"])
def test_an_opml_depth_bomb_is_refused(encoding: str) -> None:
    assert _refused_opml(ENCODINGS[encoding](OPML_DEEP)).code == "unsafe"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-7"])
def test_a_feed_depth_bomb_is_refused(encoding: str) -> None:
    assert _refused_feed(ENCODINGS[encoding](FEED_DEEP)).code == "unsafe"


def test_bombs_feedparser_would_read_are_refused_too() -> None:
    # Declared by the HTTP answer only, and hidden from lxml's fast path by its charset.
    body = _feed_bomb(*DTDS["one entity, many uses"])
    assert _refused_feed(body.encode("utf-7"), charset="utf-7").code == "unsafe"
    assert _refused_feed(body.encode("utf-8"), charset="iso-8859-1").code == "unsafe"
    assert _refused_feed(FEED_DEEP.encode(), charset="iso-8859-1").code == "unsafe"
    # An entity declared in a comment before the root: feedparser would declare it again.
    sneaky = '<!-- <!DOCTYPE rss> <!ENTITY a "' + "x" * 1000 + '"> -->' + body.split("]>", 1)[1]
    assert _refused_feed(sneaky.encode()).code == "unsafe"


def test_what_is_legitimate_is_still_read() -> None:
    for encoding in ENCODINGS:
        opml = ENCODINGS[encoding](
            '<opml version="2.0"><body><outline text="Mobilité">'
            '<outline type="rss" text="Un" xmlUrl="https://un.example/rss"/>'
            "</outline></body></opml>"
        )
        outlines, _ = parse_opml(opml)
        assert [(o.url, o.theme) for o in outlines] == [("https://un.example/rss", "Mobilité")]
        feed = ENCODINGS[encoding](
            '<rss version="2.0"><channel><title>Vélo</title><item><title>Été</title>'
            "<link>https://e.example/1</link><description>&lt;p&gt;ok&lt;/p&gt;</description>"
            "</item></channel></rss>"
        )
        parsed = parse_feed(feed, url="https://e.example/feed")
        assert parsed.title == "Vélo" and [e.title for e in parsed.entries] == ["Été"]
    # RSS 0.91's external DOCTYPE is never loaded and declares nothing: still read.
    netscape = (
        '<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        ' "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
        "<title>N</title><item><title>Un</title><link>https://e.example/1</link></item>"
        "</channel></rss>"
    )
    assert [e.title for e in parse_feed(netscape.encode(), url="https://e.example/").entries] == [
        "Un"
    ]
    # An OPML file has no business with a DOCTYPE at all.
    with pytest.raises(OpmlError) as refused:
        parse_opml(b'<!DOCTYPE opml SYSTEM "opml.dtd"><opml><body/></opml>')
    assert refused.value.code == "unsafe"
