"""One file of an image layer as a random-access buffer in bounded memory (the zip reader's
`MemberView`: the file's first 8 MiB and a window of the last bytes read are kept, never the
whole file), over the layer's uncompressed stream.

While a layer is listed, a file is read from the one sequential pass (`once`): the view cannot
go back to the file's start, so a read behind what it keeps marks the view `behind` and fails,
and the scan reads that file again later, from a stream with checkpoints."""

from __future__ import annotations

from linkscope.errors import InputError
from linkscope.inputs.layerstream import LayerStream
from linkscope.inputs.zipstream import MemberView


class BehindError(InputError):
    """A read behind what a one-pass view keeps (the file is read again later)."""


class _Slice:
    """`size` bytes of a layer from `offset`, read forward (the Stream of a MemberView)."""

    def __init__(self, stream: LayerStream, offset: int, size: int) -> None:
        self.stream, self.position, self.end = stream, offset, offset + size

    def read(self, size: int, /) -> bytes:
        size = min(size, self.end - self.position)
        if size <= 0:
            return b""
        self.stream.seek(self.position)
        data = self.stream.read(size)
        self.position += len(data)
        return data


class _Opener:
    """Opens the file's slice, once only for a one-pass view. (Not a method of the view: the
    view would refer to itself, and its megabytes would wait for the cycle collector.)"""

    def __init__(self, stream: LayerStream, offset: int, size: int, what: str, once: bool) -> None:
        self.stream, self.offset, self.size, self.what, self.once = stream, offset, size, what, once
        self.opened = 0
        self.behind = False

    def __call__(self) -> _Slice:
        self.opened += 1
        if self.once and self.opened > 1:
            self.behind = True
            raise BehindError(f"{self.what}: read out of order in the layer's one pass")
        return _Slice(self.stream, self.offset, self.size)


# Less than a zip member's view keeps: a layer's pass also holds the merged tree and the facts
# so far. The loader's tables of the 221 libraries of bench/large.py's function (up to 63 MiB
# each) all lie in their first 4 MiB; a file that needs more is read again after the pass.
HEAD_KEEP = 4 << 20
WINDOW = 2 << 20


class LayerFileView(MemberView):
    """The bytes of one layer file; `behind` tells whether a one-pass view had to give up."""

    def __init__(
        self, stream: LayerStream, offset: int, size: int, what: str, *, once: bool
    ) -> None:
        self.slices = _Opener(stream, offset, size, what, once)
        super().__init__(self.slices, size, what, head_keep=HEAD_KEEP, window=WINDOW)

    @property
    def behind(self) -> bool:
        return self.slices.behind
