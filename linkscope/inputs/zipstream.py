"""One zip member as a random-access buffer that is inflated as it is read.

A member is never held whole in memory (one can be a 1 GB library): the view keeps the member's
first bytes (ELF headers and the dynamic tables the loader reads sit there) and a window of the
most recently inflated bytes. A read ahead of the window inflates forward; a read behind it that
neither part holds inflates the member again from its start (the deflate format cannot be entered
in the middle), a bounded number of times. Nothing is decompressed past the furthest byte read.
"""

from __future__ import annotations

import os
import types
import zlib
from collections import deque
from collections.abc import Callable
from typing import Protocol

from linkscope.errors import LimitExceededError, UnsupportedArchiveError


def _bulk_inflate_module() -> types.ModuleType:
    """ISA-L inflates about 2.7 times faster than zlib (its `isal_zlib` has zlib's interface);
    zlib is the fallback where isal has no wheel."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal is a dependency where it has wheels
        return zlib
    return isal_zlib


_inflate_module = _bulk_inflate_module()
# What damaged deflate data raises: zlib.error, and ISA-L's own IsalError (no subclass of it).
INFLATE_ERRORS: tuple[type[Exception], ...] = tuple({zlib.error, _inflate_module.error})
_READ_ERRORS: tuple[type[Exception], ...] = (
    *INFLATE_ERRORS,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
)

HEAD_KEEP = 8 << 20  # the member's first bytes, kept for the whole read
WINDOW = 4 << 20  # the most recently inflated bytes (more while one read needs more)
INPUT_CHUNK = 256 << 10  # compressed bytes read from the zip at a time
FIRST_INPUT_CHUNK = 4 << 10
OUTPUT_CHUNK = 1 << 20  # inflated bytes asked for at a time (a bomb cannot burst past it)
SEARCH_CHUNK = 4 << 20
MAX_RESTARTS = 64  # inflations from the start for one member: hostile offsets cannot loop
STORED, DEFLATED = 0, 8


class Stream(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _RawStream:
    """A stored or deflated member's bytes straight from the zip file (no CRC: linkscope reads
    the member, it does not test the archive)."""

    def __init__(
        self, fd: int, start: int, compressed: int, method: int, *, bulk: bool, first: bytes
    ) -> None:
        self.fd, self.position, self.end = fd, start + len(first), start + compressed
        # ISA-L inflates bulk faster, but zlib stops sooner when only a few bytes are wanted.
        module = _inflate_module if bulk else zlib
        self.inflater = module.decompressobj(-15) if method == DEFLATED else None
        self.pending = first  # the data's first bytes, read with the local header
        self.chunk = FIRST_INPUT_CHUNK  # grows: a 512-byte head needs a few KiB, not 256

    def read(self, size: int) -> bytes:
        if self.inflater is None:
            if self.pending:
                data, self.pending = self.pending[:size], self.pending[size:]
                return data
            data = os.pread(self.fd, min(size, self.end - self.position), self.position)
            self.position += len(data)
            return data
        while True:
            if not self.pending and self.position < self.end:
                self.pending = os.pread(
                    self.fd, min(self.chunk, self.end - self.position), self.position
                )
                self.chunk = min(self.chunk * 4, INPUT_CHUNK)
                self.position += len(self.pending)
                if not self.pending:
                    return b""
            if not self.pending:
                return b"" if self.inflater.eof else bytes(self.inflater.flush())
            inflated: bytes = self.inflater.decompress(self.pending, size)
            self.pending = self.inflater.unconsumed_tail
            if inflated or self.inflater.eof:
                return inflated


class MemberView:
    """The Buffer protocol (len, slices, find) over one zip member, `size` bytes long."""

    def __init__(
        self,
        opener: Callable[[], Stream],
        size: int,
        what: str,
        *,
        head_keep: int | None = None,
        window: int | None = None,
    ) -> None:
        self.opener, self.size, self.what = opener, size, what
        self.head_keep = HEAD_KEEP if head_keep is None else head_keep  # (read when made)
        self.window = WINDOW if window is None else window
        self.head = bytearray()
        self.chunks: deque[tuple[int, bytes]] = deque()  # (offset, bytes) behind `position`
        self.kept = 0  # bytes in self.chunks
        self.stream: Stream | None = None
        self.position = 0  # bytes inflated by the current stream
        self.restarts = 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: slice, /) -> bytes:
        start, stop, step = index.indices(self.size)
        data = self.get(start, stop) if stop > start else b""
        return data if step == 1 else data[::step]

    def find(self, sub: bytes, start: int = 0, end: int | None = None, /) -> int:
        end = self.size if end is None else min(end, self.size)
        position = max(start, 0)
        while position < end:
            stop = min(end, position + SEARCH_CHUNK + len(sub) - 1)
            at = self.get(position, stop).find(sub)
            if at >= 0:
                return position + at
            position += SEARCH_CHUNK
        return -1

    def get(self, start: int, stop: int) -> bytes:
        stop = min(stop, self.size)
        if start >= stop:
            return b""
        if stop <= len(self.head):
            return bytes(self.head[start:stop])
        if not self._holds(start):
            self._restart()
        self._advance(stop, keep_from=start)
        return self._assemble(start, stop)

    def _holds(self, start: int) -> bool:
        if start < len(self.head):
            first = self.chunks[0][0] if self.chunks else self.position
            return first <= len(self.head)
        if start >= self.position:
            return True
        return bool(self.chunks) and self.chunks[0][0] <= start

    def _restart(self) -> None:
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise LimitExceededError(
                f"{self.what}: read out of order more than {MAX_RESTARTS} times (a damaged or "
                "hostile file)"
            )
        self.stream, self.position, self.chunks, self.kept = None, 0, deque(), 0

    def _advance(self, stop: int, keep_from: int) -> None:
        if self.stream is None:
            self.stream = self.opener()
        while self.position < stop:
            data = self._next(min(max(stop - self.position, INPUT_CHUNK), OUTPUT_CHUNK))
            offset = self.position
            self.position += len(data)
            if offset < self.head_keep and len(self.head) == offset:
                self.head += data[: self.head_keep - offset]
            self.chunks.append((offset, data))
            self.kept += len(data)
            while self.chunks and self.kept - len(self.chunks[0][1]) >= self.window:
                first_offset, first = self.chunks[0]
                if first_offset + len(first) > keep_from:
                    break  # still needed by the read under way
                self.chunks.popleft()
                self.kept -= len(first)

    def _next(self, want: int) -> bytes:
        assert self.stream is not None
        try:
            data = self.stream.read(min(want, self.size - self.position))
        except _READ_ERRORS as exc:
            raise UnsupportedArchiveError(f"{self.what}: cannot read member: {exc}") from None
        if not data:
            raise UnsupportedArchiveError(
                f"{self.what}: cannot read member: it ends after {self.position} of the "
                f"{self.size} bytes it declares"
            )
        if self.position + len(data) >= self.size:
            self._check_no_more()
        return data

    def _check_no_more(self) -> None:
        assert self.stream is not None
        try:
            extra = self.stream.read(1)
        except _READ_ERRORS:
            extra = b""
        if extra:
            raise LimitExceededError(f"{self.what}: member is larger than it declares")

    def _assemble(self, start: int, stop: int) -> bytes:
        parts: list[bytes] = []
        position = start
        if position < len(self.head):
            parts.append(bytes(self.head[position : min(stop, len(self.head))]))
            position = min(stop, len(self.head))
        for offset, data in self.chunks:
            if position >= stop:
                break
            if offset + len(data) <= position:
                continue
            parts.append(data[position - offset : stop - offset])
            position = offset + min(len(data), stop - offset)
        return b"".join(parts)


def raw_stream_opener(
    fd: int, start: int, compressed: int, method: int, *, bulk: bool = True, first: bytes = b""
) -> Callable[[], Stream] | None:
    """How to open a stored or deflated member's bytes directly (None for other methods);
    `bulk` when most of the member will be read, not just its first bytes; `first`, its first
    compressed bytes when they were read already."""
    if method not in (STORED, DEFLATED):
        return None
    return lambda: _RawStream(fd, start, compressed, method, bulk=bulk, first=first)
