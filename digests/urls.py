"""URL validation and canonicalisation for the outbound fetcher and for de-duplication.

Two jobs, two functions:

- :func:`validate_url` checks a URL before anything is fetched (the one given by a member, and
  every redirect target): only ``http`` and ``https``, no userinfo, at most
  :data:`MAX_URL_LENGTH` characters, a well-formed host. It returns the URL lightly normalised
  (lowercase scheme and host, IDNA host, numeric IPv4 hosts in dotted form, default port and
  fragment dropped, characters not allowed in a URL percent-encoded) and changes nothing else:
  signed query strings keep working.
- :func:`canonical_url` is for comparing links: two URLs naming the same article give the same
  string (tracking parameters removed, query parameters sorted, percent-escapes normalised, dot
  segments removed). It is total: a string that is not an http(s) URL comes back stripped and
  otherwise untouched, and ``canonical_url(canonical_url(u)) == canonical_url(u)`` always.

Hosts are parsed the way browsers (the WHATWG URL standard) and ``inet_aton`` do: ``127.1``,
``2130706433``, ``0x7f000001`` and ``0177.0.0.1`` are all ``127.0.0.1``. :func:`host_address`
exposes that parse so that the fetcher's address guard sees exactly what a socket would connect
to.

:class:`FetchError` lives here (and is re-exported by :mod:`digests.fetcher`) because both modules
raise it and this one must not import the fetcher.
"""

from __future__ import annotations

import ipaddress
import re
import string
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

import idna

from bot.core import InvalidValue, TisserandError

__all__ = [
    "MAX_URL_LENGTH",
    "TRACKING_PARAMETERS",
    "FetchError",
    "FetchErrorKind",
    "canonical_url",
    "host_address",
    "validate_url",
]

MAX_URL_LENGTH = 2000
"""Longest URL accepted, in characters (the usual limit of browsers and servers)."""

TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "_hsenc",
        "_hsmi",
        "yclid",
        "ref_src",
    }
)
"""Query parameters dropped by :func:`canonical_url` (compared lowercase), besides ``utm_*``."""

FetchErrorKind = Literal[
    "invalid_url",
    "scheme",
    "blocked_address",
    "dns",
    "timeout",
    "too_large",
    "too_many_redirects",
    "http_status",
    "gone",
    "rate_limited",
    "connection",
    "tls",
    "decoding",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(TisserandError):
    """A URL was refused or could not be fetched.

    ``kind`` is machine-readable (the caller translates it for people):

    - ``invalid_url``: not a usable URL (empty, too long, no host, userinfo, bad port or host);
    - ``scheme``: a scheme other than http or https;
    - ``blocked_address``: the host is, or resolves to, a non-public address;
    - ``dns``: the host name could not be resolved;
    - ``timeout``: connect, read or total time limit exceeded;
    - ``too_large``: the body (counted after decompression) exceeds the limit;
    - ``too_many_redirects``: more redirects than allowed, or a redirect loop;
    - ``http_status``: an error status (``http_status`` tells which);
    - ``gone``: 410, the resource was removed for good;
    - ``rate_limited``: 429, or 503 with a Retry-After;
    - ``connection``: refused, reset, or an HTTP protocol error;
    - ``tls``: the TLS handshake or the certificate check failed;
    - ``decoding``: a corrupt compressed body or an unsupported Content-Encoding.

    ``url`` is the URL at which the failure happened (the requested one, or a redirect target),
    without userinfo and cut to :data:`MAX_URL_LENGTH` so that it can be logged and stored.
    ``retry_after`` is set when the server said when to come back. ``detail`` is a short English
    explanation for logs, not for users.
    """

    def __init__(
        self,
        kind: FetchErrorKind,
        url: str,
        *,
        http_status: int | None = None,
        retry_after: timedelta | None = None,
        detail: str = "",
    ) -> None:
        self.kind: FetchErrorKind = kind
        self.url = _redact(url)
        self.http_status = http_status
        self.retry_after = retry_after
        self.detail = detail
        text = f"{kind}: {self.url}"
        if http_status is not None:
            text += f" (HTTP {http_status})"
        if detail:
            text += f": {detail}"
        super().__init__(text)


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def _redact(url: str) -> str:
    url = _USERINFO.sub(r"\1", url)
    if len(url) > MAX_URL_LENGTH:
        url = url[:MAX_URL_LENGTH] + "…"
    return url


# --- hosts -------------------------------------------------------------------------------------

_HEX = frozenset(string.hexdigits)
_OCTAL = frozenset("01234567")
_DECIMAL = frozenset(string.digits)
_HOST_CHARS = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")


def _ipv4_number(label: str) -> int | None:
    """One part of a numeric IPv4 host: decimal, ``0x`` hex or ``0``-prefixed octal."""
    if not label:
        return None
    if label[:2] in ("0x", "0X"):
        digits = label[2:]
        if not set(digits) <= _HEX:
            return None
        return int(digits, 16) if digits else 0
    if len(label) > 1 and label[0] == "0":
        digits = label[1:]
        return int(digits, 8) if set(digits) <= _OCTAL else None
    return int(label) if set(label) <= _DECIMAL else None


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse ``host`` as ``inet_aton`` and browsers do (1 to 4 parts, the last fills the rest)."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not 1 <= len(labels) <= 4:
        return None
    numbers: list[int] = []
    for label in labels:
        number = _ipv4_number(label)
        if number is None:
            return None
        numbers.append(number)
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ends_in_number(host: str) -> bool:
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    last = labels[-1]
    if last and set(last) <= _DECIMAL:
        return True
    return last[:2] in ("0x", "0X") and set(last[2:]) <= _HEX


def host_address(host: str) -> IPAddress | None:
    """The IP address that ``host`` denotes literally, or None when it is a name to resolve.

    Accepts IPv6 with or without brackets and every IPv4 form ``inet_aton`` accepts
    (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``), so a literal never reaches a
    resolver that might read it differently.
    """
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    return _numeric_ipv4(text)


def _normalise_host(raw: str) -> str:
    """Lowercase, IDNA-encoded host; IPv4 in dotted form; IPv6 compressed in brackets.

    Raises ValueError for anything that is not a valid host.
    """
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise InvalidValue("unbalanced bracket")
        ipv6 = ipaddress.IPv6Address(raw[1:-1])  # ValueError for garbage
        if ipv6.scope_id is not None:
            raise InvalidValue("zone identifier in IPv6 address")
        return f"[{ipv6.compressed}]"
    if not raw:
        raise InvalidValue("empty host")
    if not raw.isascii():
        raw = idna.encode(raw, uts46=True).decode("ascii")  # IDNAError is a ValueError
    host = raw.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise InvalidValue("empty host")
    if _ends_in_number(host):
        address = _numeric_ipv4(host)
        if address is None:
            raise InvalidValue("invalid IPv4 address")
        return str(address)
    if len(host) > 253 or not _HOST_CHARS.match(host):
        raise InvalidValue("invalid host name")
    if any(len(label) > 63 for label in host.split(".")):
        raise InvalidValue("label too long")
    return host


_DEFAULT_PORTS = {"http": 80, "https": 443}
_PORT = re.compile(r"^[0-9]{1,5}$")


def _split_netloc(netloc: str) -> tuple[str, int | None]:
    """``host[:port]`` -> (raw host, port); raises ValueError."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise InvalidValue("unbalanced bracket")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidValue("garbage after IPv6 address")
        port_text = rest[1:]
    else:
        host, _, port_text = netloc.partition(":")
        if ":" in port_text:
            raise InvalidValue("unbracketed IPv6 address")
    if not port_text:
        return host, None
    if not _PORT.match(port_text) or not 0 < int(port_text) < 65536:
        raise InvalidValue("invalid port")
    return host, int(port_text)


# --- path and query ----------------------------------------------------------------------------

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = frozenset(_UNRESERVED | set(_SUB_DELIMS + ":@/%"))
_QUERY_SAFE = frozenset(_PATH_SAFE | set("?"))
_PARAM_SAFE = frozenset(_QUERY_SAFE - set("&"))


def _percent_encode(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def _normalise_component(text: str, safe: frozenset[str], *, escapes: bool) -> str:
    """Percent-encode what may not appear in a URL component.

    With ``escapes`` the existing escapes are normalised too (uppercase hex, unreserved
    characters decoded, a ``%`` that starts no escape encoded as ``%25``); without it they are
    kept exactly as written. Raises UnicodeEncodeError for lone surrogates.
    """
    out: list[str] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "%":
            pair = text[index + 1 : index + 3]
            if len(pair) == 2 and set(pair) <= _HEX:
                if escapes:
                    decoded = chr(int(pair, 16))
                    out.append(decoded if decoded in _UNRESERVED else "%" + pair.upper())
                else:
                    out.append("%" + pair)
                index += 3
                continue
            out.append("%25" if escapes else "%")
        elif char in safe:
            out.append(char)
        else:
            out.append(_percent_encode(char))
        index += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986, section 5.2.4, on an absolute path."""
    output: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def _is_tracking(key: str) -> bool:
    name = key.lower()
    return name.startswith("utm_") or name in TRACKING_PARAMETERS


# --- public functions --------------------------------------------------------------------------

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")


def validate_url(text: str) -> str:
    """Check that ``text`` is an http(s) URL that may be fetched; return it lightly normalised.

    Raises :class:`FetchError` with kind ``scheme`` for another scheme and ``invalid_url`` for
    everything else (``detail`` says what). Addresses are not checked here: the fetcher checks
    them after DNS resolution, on every hop.
    """
    url = text.strip()
    if not url:
        raise FetchError("invalid_url", text, detail="empty")
    if len(url) > MAX_URL_LENGTH:
        raise FetchError("invalid_url", url, detail=f"longer than {MAX_URL_LENGTH} characters")
    if _FORBIDDEN.search(url):
        raise FetchError("invalid_url", url, detail="control character or backslash")
    match = _SCHEME.match(url)
    if match is None:
        raise FetchError("invalid_url", url, detail="no scheme")
    scheme = match.group(1).lower()
    if scheme not in _DEFAULT_PORTS:
        raise FetchError("scheme", url, detail=f"scheme {scheme!r} is not http or https")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise FetchError("invalid_url", url, detail=str(exc)) from None
    if "@" in parts.netloc:
        raise FetchError("invalid_url", url, detail="userinfo in URL")
    if not parts.netloc:
        raise FetchError("invalid_url", url, detail="no host")
    try:
        raw_host, port = _split_netloc(parts.netloc)
        host = _normalise_host(raw_host)
        path = _normalise_component(parts.path or "/", _PATH_SAFE, escapes=False)
        query = _normalise_component(parts.query, _QUERY_SAFE, escapes=False)
    except ValueError as exc:  # UnicodeError and IDNAError are ValueErrors
        raise FetchError("invalid_url", url, detail=str(exc) or "invalid host") from None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    result = f"{scheme}://{netloc}{path}"
    if query:
        result += f"?{query}"
    if len(result) > MAX_URL_LENGTH:
        raise FetchError("invalid_url", url, detail=f"longer than {MAX_URL_LENGTH} characters")
    return result


def canonical_url(url: str) -> str:
    """The form of ``url`` used to recognise the same link under different spellings.

    Lowercase scheme and host, IDNA host, numeric IPv4 in dotted form, default port, userinfo
    and fragment dropped, percent-escapes normalised, dot segments removed, tracking parameters
    (``utm_*`` and :data:`TRACKING_PARAMETERS`) dropped, the other query parameters sorted by
    name (values of a repeated name keep their order), no trailing ``?``. A string that is not an
    http(s) URL is returned stripped, otherwise unchanged.
    """
    text = url.strip()
    match = _SCHEME.match(text)
    if match is None or match.group(1).lower() not in _DEFAULT_PORTS:
        return text
    scheme = match.group(1).lower()
    try:
        parts = urlsplit(text)
        netloc = parts.netloc.rpartition("@")[2]
        raw_host, port = _split_netloc(netloc)
        host = _normalise_host(raw_host)
        path = _normalise_component(parts.path or "/", _PATH_SAFE, escapes=True)
        path = _remove_dot_segments(path)
        params: list[tuple[str, str]] = []
        for pair in parts.query.split("&"):
            if not pair:
                continue
            key, sep, value = pair.partition("=")
            key = _normalise_component(key, _PARAM_SAFE, escapes=True)
            if _is_tracking(key):
                continue
            value = _normalise_component(value, _PARAM_SAFE, escapes=True)
            params.append((key, f"{key}{sep}{value}"))
    except ValueError:  # includes UnicodeError (lone surrogates) and IDNAError
        return text
    params.sort(key=lambda item: item[0])
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    result = f"{scheme}://{netloc}{path}"
    if params:
        result += "?" + "&".join(param for _, param in params)
    return result
