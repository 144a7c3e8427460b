"""URL validation and canonicalisation (digests.urls)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digests.urls import MAX_URL_LENGTH, FetchError, canonical_url, host_address, validate_url

# --- canonical_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM/Path", "http://example.com/Path"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com/a#section-2", "http://example.com/a"),
        ("http://example.com/a?", "http://example.com/a"),
        ("http://example.com/a?utm_source=rss&utm_medium=feed", "http://example.com/a"),
        ("http://example.com/a?UTM_Campaign=x&id=3", "http://example.com/a?id=3"),
        (
            "http://example.com/a?fbclid=1&gclid=2&dclid=3&msclkid=4&mc_cid=5&mc_eid=6&igshid=7"
            "&_hsenc=8&_hsmi=9&yclid=10&ref_src=11&keep=yes",
            "http://example.com/a?keep=yes",
        ),
        ("http://example.com/a?b=2&a=1&c=3", "http://example.com/a?a=1&b=2&c=3"),
        ("http://example.com/a?b=2&a=1&b=1", "http://example.com/a?a=1&b=2&b=1"),
        ("http://example.com/a?flag&x=", "http://example.com/a?flag&x="),
        ("http://example.com/a?&&b=1&", "http://example.com/a?b=1"),
        ("http://example.com/%7euser/%2fx", "http://example.com/~user/%2Fx"),
        ("http://example.com/a%zz", "http://example.com/a%25zz"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a/%2E%2E/c", "http://example.com/c"),
        ("http://example.com/caf\u00e9", "http://example.com/caf%C3%A9"),
        ("http://example.com/caf%c3%a9", "http://example.com/caf%C3%A9"),
        ("http://b\u00fccher.example/", "http://xn--bcher-kva.example/"),
        ("http://B\u00dcCHER.example/", "http://xn--bcher-kva.example/"),
        ("http://example.com./", "http://example.com/"),
        ("http://user:secret@example.com/", "http://example.com/"),
        ("http://127.1/", "http://127.0.0.1/"),
        ("http://0x7f000001/", "http://127.0.0.1/"),
        ("http://2130706433/", "http://127.0.0.1/"),
        ("http://[2001:DB8:0:0::1]:80/", "http://[2001:db8::1]/"),
        ("  http://example.com/a  ", "http://example.com/a"),
        # not http(s), or not a URL: returned stripped, unchanged
        ("mailto:someone@example.com", "mailto:someone@example.com"),
        ("ftp://Example.com/x", "ftp://Example.com/x"),
        ("not a url", "not a url"),
        ("http://exa mple.com/", "http://exa mple.com/"),
        ("http://[::1/", "http://[::1/"),
        ("http://example.com:99999/", "http://example.com:99999/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_makes_spellings_of_one_link_equal() -> None:
    spellings = [
        "https://Example.org/news/article?id=42&utm_source=twitter#comments",
        "https://example.org:443/news/./article?utm_medium=social&id=42",
        "HTTPS://EXAMPLE.ORG/news/x/../article?id=42&fbclid=abc",
    ]
    assert {canonical_url(url) for url in spellings} == {"https://example.org/news/article?id=42"}


_schemes = st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "javascript"])
_hosts = st.one_of(
    st.sampled_from(
        [
            "Example.COM",
            "example.com.",
            "b\u00fccher.example",
            "xn--bcher-kva.example",
            "127.1",
            "0x7f000001",
            "0177.0.0.1",
            "2130706433",
            "1.2.3.256",
            "[::1]",
            "[::FFFF:127.0.0.1]",
            "[2001:DB8::1]",
            "a..b",
            "",
        ]
    ),
    st.from_regex(r"[A-Za-z0-9_-]{1,8}(\.[A-Za-z0-9-]{1,8}){0,2}", fullmatch=True),
    st.text(max_size=6),
)
_ports = st.sampled_from(["", ":80", ":443", ":8080", ":080", ":0", ":99999", ":x"])
_pieces = st.one_of(
    st.sampled_from([".", "..", "%2e", "%2E%2e", "%7e", "%7E", "%2f", "%", "%a", "a b", "\u00e9"]),
    st.text(max_size=8),
)
_paths = st.lists(_pieces, max_size=5).map(lambda parts: "/" + "/".join(parts))
_keys = st.one_of(
    st.sampled_from(["utm_source", "UTM_Medium", "%75tm_x", "fbclid", "a", "b", "q", "", "=x"]),
    st.text(max_size=5),
)
_params = st.lists(st.tuples(_keys, st.sampled_from(["", "=", "=1"]), _pieces), max_size=5)
_queries = _params.map(lambda ps: "&".join(k + s + v for k, s, v in ps))


@st.composite
def _urls(draw: st.DrawFn) -> str:
    url = f"{draw(_schemes)}://{draw(_hosts)}{draw(_ports)}{draw(_paths)}"
    if draw(st.booleans()):
        url += "?" + draw(_queries)
    if draw(st.booleans()):
        url += "#" + draw(st.text(max_size=5))
    return url


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.one_of(_urls(), st.text(max_size=40), st.text(max_size=40).map("http://".__add__)))
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(_urls())
def test_canonical_url_of_a_valid_url_has_no_tracking_and_no_fragment(url: str) -> None:
    try:
        validate_url(url)
    except FetchError:
        return  # an invalid URL comes back unchanged, tested above
    result = canonical_url(url)
    assert result.startswith(("http://", "https://"))
    query = result.partition("?")[2]
    keys = [pair.partition("=")[0] for pair in query.split("&") if pair]
    assert not [key for key in keys if key.lower().startswith("utm_") or key == "fbclid"]
    assert "#" not in result
    assert keys == sorted(keys)


# --- validate_url ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.com/feed.xml", "https://example.com/feed.xml"),
        ("  HTTPS://Example.COM:443/Feed?b=2&a=1#top ", "https://example.com/Feed?b=2&a=1"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("http://example.com/a b?q=caf\u00e9", "http://example.com/a%20b?q=caf%C3%A9"),
        ("http://example.com/keep%2fescapes%7e", "http://example.com/keep%2fescapes%7e"),
        ("http://ex\u00e4mple.de/", "http://xn--exmple-cua.de/"),
        ("http://127.1:8000/", "http://127.0.0.1:8000/"),
        ("http://0x7f000001/", "http://127.0.0.1/"),
        ("http://[::1]:8000/", "http://[::1]:8000/"),
        ("http://my_host.example/", "http://my_host.example/"),
    ],
)
def test_validate_url_accepts_and_normalises(text: str, expected: str) -> None:
    assert validate_url(text) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "invalid_url"),
        ("   ", "invalid_url"),
        ("example.com/feed", "invalid_url"),
        ("ftp://example.com/feed", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme"),
        ("http:/example.com", "invalid_url"),
        ("http://", "invalid_url"),
        ("http://user:secret@example.com/", "invalid_url"),
        ("http://user@example.com/", "invalid_url"),
        ("http://example.com@127.0.0.1/", "invalid_url"),
        ("http://example.com\\@127.0.0.1/", "invalid_url"),
        ("http://exa\nmple.com/", "invalid_url"),
        ("http://exa mple.com/", "invalid_url"),
        ("http://example.com:0/", "invalid_url"),
        ("http://example.com:65536/", "invalid_url"),
        ("http://example.com:http/", "invalid_url"),
        ("http://[::1/", "invalid_url"),
        ("http://[fe80::1%25eth0]/", "invalid_url"),
        ("http://1.2.3.256/", "invalid_url"),
        ("http://a..b/", "invalid_url"),
        ("http://" + "a" * 64 + ".example/", "invalid_url"),
        ("http://example.com/" + "a" * MAX_URL_LENGTH, "invalid_url"),
    ],
)
def test_validate_url_refuses(text: str, kind: str) -> None:
    with pytest.raises(FetchError) as caught:
        validate_url(text)
    assert caught.value.kind == kind


def test_refused_userinfo_never_reaches_the_error_text() -> None:
    with pytest.raises(FetchError) as caught:
        validate_url("https://alice:hunter2@example.com/private.xml")
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in caught.value.url
    assert caught.value.url == "https://example.com/private.xml"


def test_error_url_is_cut_to_the_maximum_length() -> None:
    with pytest.raises(FetchError) as caught:
        validate_url("http://example.com/" + "a" * 10_000)
    assert len(caught.value.url) <= MAX_URL_LENGTH + 1


def test_url_at_the_length_limit_is_accepted() -> None:
    url = "http://example.com/" + "a" * (MAX_URL_LENGTH - len("http://example.com/"))
    assert len(url) == MAX_URL_LENGTH
    assert validate_url(url) == url


# --- host_address ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("169.254.169.254", "169.254.169.254"),
        ("0", "0.0.0.0"),
        ("10.0.0.1.", "10.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
    ],
)
def test_host_address_reads_every_literal_form(host: str, expected: str) -> None:
    assert host_address(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize(
    "host", ["example.com", "1.2.3.256", "4294967296", "1.2.3.4.5", "0x1g", "08.0.0.1", "", "1_0"]
)
def test_host_address_leaves_names_to_the_resolver(host: str) -> None:
    assert host_address(host) is None
