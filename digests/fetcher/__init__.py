"""The one outbound HTTP fetcher of Tisserand (feeds and shared links).

Everything that leaves the bot over HTTP goes through :class:`~digests.fetcher.client.Fetcher`: one ``GET``, at most
:attr:`FetchPolicy.max_redirects` redirects followed by hand (each target validated again), a
body of at most :attr:`FetchPolicy.max_bytes` counted *after* decompression, and an address guard
on every connection.

Design notes
------------

*Where the address guard sits.* The guard is not a check made before handing the URL over: it
is the network backend (:class:`~digests.fetcher.guard.GuardedBackend`) that opens every TCP connection of the
connection pool. For each new connection it resolves the host with the injected resolver (or
reads an IP literal, in every form ``inet_aton`` accepts), refuses the connection if *any*
address is not allowed, and then connects to one of the very addresses it vetted. There is no
second resolution between check and connect, so DNS rebinding cannot slip a private address in,
and no parser difference between the guard and the socket layer can matter: what is checked is
what is connected to. Redirect hops, and connections opened again after a keep-alive expiry,
pass through the same code. A resolution is kept a minute (one refresh pass asks once for the
many feeds of a site), and its addresses are vetted again on every connection all the same.

*Why not rewrite the URL to the IP address* (with a ``Host`` header and an SNI name)? It works,
but the connection pool is then keyed by IP address, so a TLS connection opened and verified for
one host name could be reused for another name served from the same address. With the guard in
the backend, URLs keep their host names: the ``Host`` header, the SNI and the certificate check
use the name, and the pool is keyed by ``(scheme, name, port)``.

*The layers.* httpx gives the models (:class:`httpx.Request`, :class:`httpx.Response`, headers,
URL parsing) and the transport interface; under it, the pool of :mod:`digests.fetcher.pool` keeps HTTP/1.1 keep-alive
connections, speaking the protocol with h11 (the parser httpx itself uses) over plain asyncio
transports (:mod:`digests.fetcher.stream`). It replaces ``httpcore.AsyncConnectionPool`` and its AnyIO backend:
on a refresh pass made of conditional GETs answered 304, their bookkeeping (cancel scopes, locks,
a scan of every connection's state at each request and response) cost more than all the rest
of the request together (benchmarks/feeds.py). httpcore's exception classes are kept, so errors read the same. No
``httpx.AsyncClient`` either: it would only add cookie handling (never wanted here), hooks and a
log line per request. The verifying SSL context is built once per process.

*What is allowed.* With ``allow_private_networks`` off (the default), an address must be public:
not private, loopback, link-local, multicast, reserved, unspecified, shared (carrier-grade NAT,
100.64.0.0/10), documentation or benchmarking space, nor an IPv4-mapped, 6to4, NAT64 or Teredo
form of such an address (see :func:`is_public_address`). :attr:`FetchPolicy.allowed_networks`
lists networks allowed on top of that, the clean seam for a local network that serves a feed, and
for tests: they map a made-up public-looking name such as ``public.test`` to 127.0.0.1 with a
fake resolver and allow only 127.0.0.1/32, so that a redirect to any other loopback or private
address is still refused while no test ever connects outside the machine.

*Bodies.* The raw body is read with ``aiter_raw`` and decoded here, not by httpx: zlib and brotli
are asked for at most 64 KiB of output per call, so a decompression bomb is cut off as soon as
:attr:`FetchPolicy.max_bytes` is passed, without ever holding more than one such chunk beyond the
limit. ``gzip`` and ``deflate`` (zlib or raw) are always accepted; ``br`` only when the ``brotli``
package (1.2 or newer, which can bound its output) is installed. Any other Content-Encoding is an
error (kind ``decoding``): it is never advertised in Accept-Encoding.

*Other choices.* No proxy from the environment (a proxy would resolve names itself, around the
guard), no cookies kept between requests, HTTP/1.1 only. The total time limit starts once the
concurrency semaphore is acquired, so waiting for a slot never counts.

The parts, one concern each: ``policy`` (:class:`FetchPolicy`, :class:`FetchResult`), ``delays``
(backoff, Retry-After, max-age), ``guard`` (which addresses, and the backend that vets every
connection), ``stream`` (asyncio transports as httpcore streams), ``pool`` (keep-alive HTTP/1.1
over h11), ``decoding`` (bounded gzip, deflate, brotli) and ``client`` (the :class:`Fetcher`).
Callers import from this package: its ``__all__`` is the fetcher's public face.
"""

from __future__ import annotations

from digests.fetcher.client import Fetcher
from digests.fetcher.delays import next_retry_delay, parse_max_age, parse_retry_after
from digests.fetcher.guard import Resolver, is_public_address, system_resolver
from digests.fetcher.policy import DEFAULT_ACCEPT, DEFAULT_POLICY, FetchPolicy, FetchResult
from digests.urls import FetchError, FetchErrorKind

__all__ = [
    "DEFAULT_ACCEPT",
    "DEFAULT_POLICY",
    "FetchError",
    "FetchErrorKind",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
    "Resolver",
    "is_public_address",
    "next_retry_delay",
    "parse_max_age",
    "parse_retry_after",
    "system_resolver",
]
