"""One image layer as a seekable stream of its uncompressed tar, in bounded memory.

A layer is a tar, a gzip'd tar or a zstd tar (sniffed by magic bytes: docker save media types do
not say). Uncompressed layers are read in place. Compressed ones are inflated as they are read.

Two kinds of stream: the one pass that lists a layer (and reads what the scan needs from each
member as it streams by) inflates gzip with ISA-L, about 2.4 times zlib's speed, and keeps no
checkpoints; a stream for random access (`random_access`, the few reads after that pass) inflates
with zlib, whose state can be copied: a backward seek restarts from the nearest checkpoint, a copy
of the inflater's state (about 40 KB) taken every few megabytes; for zstd (whose decompressor
cannot be copied) from the start of the layer.
"""

from __future__ import annotations

import hashlib
import io
import types
import zlib
from dataclasses import dataclass
from typing import Any

from linkscope.errors import InputError, LimitExceededError
from linkscope.inputs.blobs import Region, RegionReader
from linkscope.inputs.layerpipe import Inflater

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 16 << 10  # compressed bytes fed at a time
BLOCK = 256 << 10  # uncompressed bytes produced at a time
LOOKBACK = 64 << 10  # recent output kept for tarfile's short backward seeks
CHECKPOINT_EVERY = 4 << 20
DRAIN_BYTES = 4 << 20  # read past the tar's end for a piped layer's digest
MAX_CHECKPOINTS = 128  # per layer; beyond it every other one is dropped and the spacing doubles
MAX_READ = (
    64 << 20
)  # one read() call: tar headers (pax, GNU long names) asking for more are hostile


def _fast_gzip() -> types.ModuleType:
    """ISA-L's inflate with zlib's interface; zlib where isal has no wheel."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal is a dependency where it has wheels
        return zlib
    return isal_zlib


FAST_GZIP = _fast_gzip()


def compression_of(region: Region) -> str:
    with RegionReader(region) as reader:
        head = reader.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "tar"


@dataclass(slots=True)
class _Checkpoint:
    raw_pos: int
    inflater: Any
    tail: bytes
    out_pos: int


class LayerStream(io.RawIOBase):
    """The uncompressed bytes of one layer; `limit` bounds them (a decompression bomb stops)."""

    def __init__(
        self,
        region: Region,
        compression: str,
        name: str,
        limit: int,
        *,
        random_access: bool = False,
        piped: bool = False,
    ) -> None:
        super().__init__()
        self.region, self.compression, self.name, self.limit = region, compression, name, limit
        self.random_access = random_access
        # Inflated by a forked process (inputs/layerpipe.py), started at the first read.
        self.piped = piped and not random_access and compression != "tar"
        self._pipe: Inflater | None = None
        self._hash_algorithm: str | None = None
        self._gzip = zlib if random_access else FAST_GZIP
        self.inflations = 0  # passes begun over the compressed bytes (tests count them)
        self.failure: InputError | None = None  # kept: a reader that swallowed it sees it again
        self._raw = RegionReader(region)
        self._zstd_raw: RegionReader | None = None
        self._eof_after = self._eof = False
        self._buf, self._back = bytearray(), bytearray()
        self._off = 0
        self._pos = self._out_pos = self._raw_pos = self._hashed = 0
        self._tail = b""
        self._inflater: Any = None
        self._checkpoints: list[_Checkpoint] = []
        self._spacing = CHECKPOINT_EVERY
        self.hasher: Any = None  # set during the first pass to check the compressed digest
        self.high_water = 0  # furthest uncompressed offset ever produced
        self._restart(None)

    # ---------------------------------------------------------------- io.RawIOBase

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("seek from the end of a compressed layer")
        if self.compression == "tar":
            self._pos = max(0, offset)
            return self._pos
        start = self._buffered_start()
        if offset < start - len(self._back):
            self._rewind(offset)
            start = self._buffered_start()
        if offset < start:  # within the look-back window
            keep = start - offset
            self._buf = self._back[-keep:] + self._buf[self._off :]
            self._off = 0
            del self._back[-keep:]
        else:
            self._skip(offset - start)
        self._pos = offset
        return offset

    def _buffered_start(self) -> int:
        """The output offset of the first byte not yet read from the buffer."""
        return self._out_pos - (len(self._buf) - self._off)

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > MAX_READ:
            raise LimitExceededError(
                f"{self.name}: a tar header asks for {size} bytes at once (hostile layer?)"
            )
        if self.compression == "tar":
            self._raw.seek(self._pos)
            data = self._raw.read(size)
            self._pos += len(data)
            return data
        while len(self._buf) - self._off < size and self._fill():
            pass
        data = bytes(memoryview(self._buf)[self._off : self._off + size])
        self._consume(len(data))
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _piped_digest(self) -> str | None:
        """The inflating process's digest, known once it inflated all: past the tar's end are a
        few KiB, read here (at most DRAIN_BYTES); else the blob is hashed here."""
        if self._hash_algorithm is None:
            return None
        drained = 0
        while self._pipe is not None and not self._eof and drained < DRAIN_BYTES:
            block = self._pipe.read()
            self._eof = block is None
            drained += len(block or b"")
        digest = self._pipe.digest if self._pipe is not None else None
        if self._eof and digest is not None:
            return digest
        self._unpipe()
        return self.finish_hash()

    def close(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
        self._raw.close()
        if self._zstd_raw is not None:
            self._zstd_raw.close()
        # A closed stream stays known (its region, sizes, digest): its buffers go.
        self._buf, self._back, self._inflater, self._checkpoints = (
            bytearray(),
            bytearray(),
            None,
            [],
        )
        super().close()

    # ---------------------------------------------------------------- inflating

    def _new_inflater(self) -> Any:
        self.inflations += 1
        if self.piped:
            return None  # the forked process inflates (started at the first read)
        if self.compression == "gzip":
            return self._gzip.decompressobj(wbits=31)
        if self._zstd_raw is not None:
            self._zstd_raw.close()
        try:
            import zstandard  # optional: only images with zstd layers need it
        except ImportError:
            raise InputError(
                f"{self.name}: a zstd-compressed layer, and the `zstandard` package is not "
                "installed (`pip install zstandard`, or `pip install linkscope[image]`)"
            ) from None
        self._zstd_raw = RegionReader(self.region)
        raw: Any = self._zstd_raw
        return zstandard.ZstdDecompressor().stream_reader(
            raw, read_size=CHUNK, read_across_frames=True
        )

    def _restart(self, checkpoint: _Checkpoint | None) -> None:
        self._buf = bytearray()
        self._back = bytearray()
        self._off = 0
        if checkpoint is None:
            self._raw_pos, self._tail, self._out_pos = 0, b"", 0
            self._inflater = self._new_inflater() if self.compression != "tar" else None
        else:
            self._raw_pos, self._tail = checkpoint.raw_pos, checkpoint.tail
            self._out_pos = checkpoint.out_pos
            self._inflater = checkpoint.inflater.copy()
        self._pos = self._out_pos
        self._eof = self._eof_after = False

    def _rewind(self, offset: int) -> None:
        if self.piped:  # the pass never goes back far; if it does, inflate here from the start
            self._unpipe()
        best = None
        for checkpoint in self._checkpoints:
            if checkpoint.out_pos <= offset:
                best = checkpoint
        self._restart(best)

    def _skip(self, count: int) -> None:
        while count > 0:
            if len(self._buf) == self._off and not self._fill():
                return
            taken = min(count, len(self._buf) - self._off)
            self._consume(taken)
            count -= taken

    def _consume(self, count: int) -> None:
        """Move past `count` buffered bytes, keeping the last LOOKBACK of them."""
        end = self._off + count
        self._back += self._buf[max(self._off, end - LOOKBACK) : end]
        if len(self._back) > LOOKBACK:
            del self._back[: len(self._back) - LOOKBACK]
        self._off = end
        if self._off >= BLOCK or self._off == len(self._buf):
            del self._buf[: self._off]
            self._off = 0

    def _fill(self) -> bool:
        """Inflate the next block into the buffer; False at the end of the layer."""
        out = self.next_block()
        if out is None:
            return False
        self._buf += out
        return True

    def next_block(self) -> bytes | bytearray | None:
        """The next block inflated (the unit of inflation: a piped layer's blocks are these,
        so its offsets and sizes are the same); None at the end of the layer."""
        if self.failure is not None:
            raise self.failure
        if self._eof:
            return None
        self._maybe_checkpoint()
        try:
            out = self._inflate()
            if out is None:
                self._eof = True
                return None
        except InputError as exc:  # the inflating process's own error (piped)
            self.failure = exc
            raise
        except Exception as exc:  # zlib.error, IsalError, zstandard.ZstdError and friends
            self.failure = InputError(f"{self.name}: corrupt {self.compression} data: {exc}")
            raise self.failure from None
        self._out_pos += len(out)
        self.high_water = max(self.high_water, self._out_pos)
        if self._out_pos > self.limit:
            self.failure = LimitExceededError(
                f"{self.name}: inflates to more than {self.limit} bytes (a decompression bomb?); "
                "raise it with --limit total-size=N"
            )
            raise self.failure
        return out

    def _raw_chunk(self) -> bytes:
        self._raw.seek(self._raw_pos)
        data = self._raw.read(CHUNK)
        if self.hasher is not None and self._raw_pos == self._hashed:
            self.hasher.update(data)
            self._hashed += len(data)
        self._raw_pos += len(data)
        return data

    def _inflate(self) -> bytes | bytearray | None:
        """The next block of output, or None at the end of the layer."""
        if self.piped:
            if self._pipe is None:
                region, compression, name, limit = (
                    self.region,
                    self.compression,
                    self.name,
                    self.limit,
                )
                self._pipe = Inflater(
                    lambda: LayerStream(region, compression, name, limit),
                    name,
                    self._hash_algorithm,
                )
            return self._pipe.read()
        if self.compression == "zstd":
            block: bytes = self._inflater.read(BLOCK)  # bounded output, unlike decompressobj
            return block or None
        if self._eof_after:
            return None
        data = self._tail or self._raw_chunk()
        if not data:
            return None
        inflater = self._inflater
        out: bytes = inflater.decompress(data, BLOCK)
        self._tail = inflater.unconsumed_tail
        if inflater.eof:  # a gzip member ends: another may follow (pigz, appended streams)
            rest = inflater.unused_data + self._tail
            if not rest:
                rest = self._raw_chunk()
            if rest.startswith(GZIP_MAGIC):
                self._inflater, self._tail = self._gzip.decompressobj(wbits=31), rest
            else:  # trailing padding after the last member, as gzip(1) ignores it
                self._tail, self._eof_after = b"", True
        return out

    def _maybe_checkpoint(self) -> None:
        if self.compression != "gzip" or not self.random_access:
            return
        last = self._checkpoints[-1].out_pos if self._checkpoints else 0
        if self._out_pos - last < self._spacing or self._out_pos < self.high_water:
            return
        self._checkpoints.append(
            _Checkpoint(self._raw_pos, self._inflater.copy(), self._tail, self._out_pos)
        )
        if len(self._checkpoints) > MAX_CHECKPOINTS:
            self._checkpoints = self._checkpoints[1::2]
            self._spacing *= 2

    def _unpipe(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        self.piped = False
        if self._hash_algorithm is not None:
            self.start_hash(self._hash_algorithm)

    def start_hash(self, algorithm: str) -> None:
        self._hash_algorithm = algorithm
        self.hasher = None if self.piped else hashlib.new(algorithm)
        self._hashed = 0

    def finish_hash(self) -> str | None:
        """The compressed blob's digest, once the first pass has read all of it."""
        if self.piped:
            return self._piped_digest()
        if self.hasher is None:
            return None
        if self.compression == "tar" or self._hashed < self.region.size:
            with RegionReader(self.region) as reader:
                reader.seek(self._hashed)
                while chunk := reader.read(1 << 20):
                    self.hasher.update(chunk)
        digest = f"{self.hasher.name}:{self.hasher.hexdigest()}"
        self.hasher = None
        return digest
