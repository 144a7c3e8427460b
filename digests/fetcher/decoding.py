"""Bounded decoding of response bodies (gzip, deflate, brotli): at most 64 KiB of output per
call, so that a decompression bomb is cut off as soon as the size limit is passed."""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterator
from typing import Any, Protocol

import httpx

from bot.core import TisserandError

_CHUNK = 64 * 1024
"""Largest piece asked of a decompressor at a time."""


class DecodeError(TisserandError):
    pass


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _ZlibDecoder:
    """gzip (several members allowed) or deflate (zlib-wrapped or raw), 64 KiB at a time."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._pending = b""  # input not yet given to a decompressor
        self._obj: Any = None
        self._fed = False
        self._done = False  # end of the data: anything after it is ignored

    def _start(self) -> bool:
        """Open the next stream on the pending bytes; False when it must wait or is done."""
        if self._obj is not None and not self._gzip:
            self._done = True  # deflate carries one stream
            return False
        if len(self._pending) < 2:
            return False
        first, second = self._pending[0], self._pending[1]
        if self._gzip:
            if (first, second) != (0x1F, 0x8B):
                if self._obj is None:
                    raise DecodeError("not gzip data")
                self._done = True  # garbage after the last member, as browsers ignore it
                return False
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            wrapped = first & 0x0F == 8 and ((first << 8) | second) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return True

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._done or not data:
            return
        self._fed = True
        self._pending += data
        try:
            while self._pending and not self._done:
                if (self._obj is None or self._obj.eof) and not self._start():
                    return
                data, self._pending = self._pending, b""
                while True:
                    out = self._obj.decompress(data, _CHUNK)
                    data = self._obj.unconsumed_tail
                    if out:
                        yield out
                    if self._obj.eof:
                        self._pending = self._obj.unused_data
                        break
                    if not data and len(out) < _CHUNK:
                        break
        except zlib.error as exc:
            raise DecodeError(f"corrupt compressed body: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        if self._fed and not self._done and (self._obj is None or not self._obj.eof):
            raise DecodeError("truncated compressed body")
        return iter(())


class _BrotliDecoder:
    def __init__(self, module: Any) -> None:
        self._module = module
        self._obj = module.Decompressor()
        self._fed = False

    def _drain(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._obj.process(data, output_buffer_limit=_CHUNK)
            while out:
                yield out
                out = self._obj.process(b"", output_buffer_limit=_CHUNK)
        except self._module.error as exc:
            raise DecodeError(f"corrupt brotli body: {exc}") from None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            self._fed = True
            yield from self._drain(data)

    def finish(self) -> Iterator[bytes]:
        if self._fed:
            yield from self._drain(b"")
            if not self._obj.is_finished():
                raise DecodeError("truncated brotli body")


def _load_brotli() -> Any:
    """The ``brotli`` module if it can bound its output (1.2 or newer), else None."""
    try:
        module = importlib.import_module("brotli")
    except ImportError:
        return None
    decompressor = module.Decompressor()
    try:
        decompressor.process(b"", output_buffer_limit=_CHUNK)
    except TypeError:  # an older brotli, or brotlicffi: cannot bound a bomb
        return None
    return module


_BROTLI = _load_brotli()
ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI is not None else "gzip, deflate"
_MAX_ENCODINGS = 3


def decoders_for(headers: httpx.Headers) -> list[_Decoder]:
    """Decoders to apply in order (the last Content-Encoding applied is undone first)."""
    names = [
        name.strip().lower() for name in headers.get_list("content-encoding", split_commas=True)
    ]
    names = [name for name in names if name and name != "identity"]
    if len(names) > _MAX_ENCODINGS:
        raise DecodeError("too many content-encodings")
    decoders: list[_Decoder] = []
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            decoders.append(_ZlibDecoder(gzip=True))
        elif name == "deflate":
            decoders.append(_ZlibDecoder(gzip=False))
        elif name == "br" and _BROTLI is not None:
            decoders.append(_BrotliDecoder(_BROTLI))
        else:
            raise DecodeError(f"unsupported content-encoding {name!r}")
    return decoders


def decode(decoders: list[_Decoder], data: bytes) -> Iterator[bytes]:
    if not decoders:
        if data:
            yield data
        return
    for piece in decoders[0].feed(data):
        yield from decode(decoders[1:], piece)


def finish_decoding(decoders: list[_Decoder]) -> Iterator[bytes]:
    for index, decoder in enumerate(decoders):
        for piece in decoder.finish():
            yield from decode(decoders[index + 1 :], piece)
