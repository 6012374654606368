"""A big compressed layer inflated on the other core: a forked process runs the ordinary
in-process LayerStream over the compressed bytes (ISA-L or zstd, the digest, the bomb limit) and
writes the inflated bytes into a pipe, while this process parses the tar and the files in it.
The bytes, the digest and every error message are the in-process stream's own, so the result
does not depend on where the layer was inflated."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import struct
from collections.abc import Callable
from typing import Protocol

from linkscope.errors import InputError, LimitExceededError

PIPE_BYTES = 1 << 20
FRAME = struct.Struct("<I")  # each block the stream inflated, framed: the same blocks here
PIPED_FROM = 16 << 20  # compressed bytes; a smaller layer is inflated faster than a fork pays
MAX_STATUS = 1 << 16


class Stream(Protocol):
    """The in-process stream the forked process runs (a LayerStream, not piped)."""

    def start_hash(self, algorithm: str) -> None: ...

    def next_block(self) -> bytes | bytearray | None: ...

    def finish_hash(self) -> str | None: ...


def can_pipe(compression: str, size: int) -> bool:
    """Whether a layer is worth inflating in another process (and this one may fork)."""
    if compression == "tar" or size < PIPED_FROM or not hasattr(os, "fork"):
        return False
    import threading  # a fork while other threads run could copy a lock they hold

    from linkscope.pool import usable_cpus

    return usable_cpus() > 1 and threading.active_count() == 1


class Inflater:
    """The forked process inflating one layer; `read()` returns its next block."""

    def __init__(self, make: Callable[[], Stream], name: str, algorithm: str | None) -> None:
        self.name = name
        self.digest: str | None = None
        data_read, data_write = os.pipe()
        status_read, status_write = os.pipe()
        with contextlib.suppress(OSError, AttributeError, ImportError):  # Linux only
            import fcntl

            fcntl.fcntl(data_write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the inflating process, which leaves by os._exit
            _keep_only(data_write, status_write)  # no other pipe waits for this process
            _inflate(make, name, algorithm, data_write, status_write)
        os.close(data_write)
        os.close(status_write)
        self.pid: int | None = pid
        self.data, self.status = data_read, status_read

    def read(self) -> bytes | bytearray | None:
        """The next block the stream inflated; None at the end (then the digest is known), or
        the error the inflating process met, raised here as it would have been in this one."""
        if self.pid is None:
            return None
        header = self._exactly(FRAME.size)
        if len(header) < FRAME.size:
            self._finish()
            return None
        (size,) = FRAME.unpack(header)
        block = self._exactly(size)
        if len(block) < size:
            self._finish()
            raise InputError(f"{self.name}: the layer's inflating process stopped")
        return block

    def _exactly(self, size: int) -> bytearray:
        """`size` bytes from the pipe (fewer at its end), into one buffer: a pipe hands them
        over in pieces when this process is ahead."""
        block = bytearray(size)
        view, got = memoryview(block), 0
        while got < size and (count := os.readv(self.data, [view[got:]])):
            got += count
        view.release()
        del block[got:]
        return block

    def _finish(self) -> None:
        status = b""
        while len(status) < MAX_STATUS and (more := os.read(self.status, MAX_STATUS)):
            status += more
        self.close()
        try:
            report = json.loads(status)
        except ValueError:
            raise InputError(f"{self.name}: the layer's inflating process stopped") from None
        if "limit" in report:
            raise LimitExceededError(report["limit"])
        if "error" in report:
            raise InputError(report["error"])
        self.digest = report.get("digest")

    def close(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)  # gone already after its last byte
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self.data)
        os.close(self.status)
        self.pid = None


def _keep_only(first: int, second: int) -> None:  # pragma: no cover - the inflating process
    """Close every inherited descriptor but stdin, stdout, stderr and the two pipes."""
    low, high = sorted((first, second))
    top = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1 << 16
    os.closerange(3, low)
    os.closerange(low + 1, high)
    os.closerange(high + 1, max(top, high + 1))


def _inflate(  # pragma: no cover - runs in the inflating process
    make: Callable[[], Stream], name: str, algorithm: str | None, data: int, status: int
) -> None:
    report: dict[str, str | None] = {}
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stream = make()
        if algorithm is not None:
            stream.start_hash(algorithm)
        while (block := stream.next_block()) is not None:
            view = memoryview(FRAME.pack(len(block)) + block)
            while view:
                view = view[os.write(data, view) :]
        os.close(data)
        report["digest"] = stream.finish_hash()
    except LimitExceededError as exc:
        report = {"limit": str(exc)}
    except InputError as exc:
        report = {"error": str(exc)}
    except BrokenPipeError:
        report = {}  # the reader stopped reading: nothing to say
    except BaseException as exc:  # reported, as the reader would have met it
        report = {"error": f"{name}: cannot inflate the layer: {exc}"}
    with contextlib.suppress(BaseException):
        os.write(status, json.dumps(report).encode())
    os._exit(0)
