"""Share numbered chunks of work between this process and forked workers (scan.py hands out a
package's members this way).

Work stealing: the chunk numbers sit in a pipe, in the order given (the costliest first), and
every process takes the next one when it is free, two bytes per read. Each chunk is run exactly
once; a worker sends its results back through its own pipe, and this process collects them
between its own steps (`drain`), keyed by chunk number, so the caller can put them back in order
whoever ran them.

fork, not spawn: a worker starts in about a millisecond with the package already open (a zip's
central directory parsed once) and nothing to pickle on the way in; nothing touches the disk.
A worker ignores Ctrl-C (this process handles it and stops the workers) and leaves with
`os._exit`, so it never flushes a copy of this process's buffers or runs its exit handlers.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

R = TypeVar("R")

MAX_CHUNKS = 2048  # their numbers (2 bytes each) fit in one atomic pipe write of 4,096 bytes
PIPE_BYTES = 1 << 20  # a worker writes this much ahead before it waits for this process
_FINISHED, _FAILED = -1, -2
_FRAME = struct.Struct("<I")


def can_fork() -> bool:
    return hasattr(os, "fork")


CPU_MAX = "/sys/fs/cgroup/cpu.max"  # cgroup v2: "<quota> <period>" in microseconds, or "max ..."


def usable_cpus() -> int:
    """The cores this process may run on: its CPU affinity (`taskset`, a CI runner's cpuset) and
    its cgroup's CPU quota (`docker run --cpus 1`), not the machine's count, which
    `os.cpu_count()` gives and which would fork a worker onto a core it cannot have."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    return max(1, min(count, _quota() or count))


def _quota() -> int | None:
    try:
        with open(CPU_MAX, encoding="ascii") as handle:
            quota, period = handle.read(64).split()[:2]
        return max(1, -(-int(quota) // int(period)))  # rounded up: 1.5 CPUs may use 2 cores
    except (OSError, ValueError):
        return None  # "max" (no quota), cgroup v1, or not Linux


class SharedRun(Generic[R]):
    """`workers` forked processes run chunks with the runner `child_setup()` returns in each of
    them; this process takes chunks from `claims()` and runs them itself. `done(chunk, result)`
    is called here for every chunk a worker ran."""

    def __init__(
        self,
        order: Sequence[int],
        *,
        workers: int,
        child_setup: Callable[[], Callable[[int], R]],
        done: Callable[[int, R], None],
    ) -> None:
        if len(order) > MAX_CHUNKS:
            raise ValueError(f"at most {MAX_CHUNKS} chunks, not {len(order)}")
        self._done = done
        self._queue, writer = os.pipe()
        os.write(writer, b"".join(n.to_bytes(2, "little") for n in order))
        os.close(writer)  # once the numbers are read, every process sees the end of the pipe
        self._pipes: dict[int, int] = {}  # result pipe -> worker pid
        self._buffers: dict[int, bytearray] = {}
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # a worker must not hold a copy of unwritten output
        try:
            for _ in range(workers):
                self._fork(child_setup)
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> SharedRun[R]:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is not None:
            self.stop()

    def claims(self) -> Iterator[int]:
        """Chunk numbers for this process, until none is left."""
        while (data := os.read(self._queue, 2)) != b"":
            yield int.from_bytes(data, "little")

    def drain(self) -> None:
        """Collect what the workers have sent so far, without waiting."""
        for pipe in list(self._pipes):
            self._read_from(pipe)

    def finish(self) -> None:
        """Wait for every worker to run its last chunk and leave."""
        try:
            while self._pipes:
                ready, _, _ = select.select(list(self._pipes), [], [])
                for pipe in ready:
                    self._read_from(pipe)
        finally:
            self.stop()

    def stop(self) -> None:
        """End the workers still running (after an error or Ctrl-C here) and close the pipes."""
        for pipe, pid in list(self._pipes.items()):
            _kill(pid)
            self._close(pipe)
        if self._queue >= 0:
            os.close(self._queue)
            self._queue = -1

    # ------------------------------------------------------------------ this process's side

    def _fork(self, child_setup: Callable[[], Callable[[int], R]]) -> None:
        reader, writer = os.pipe()
        with contextlib.suppress(OSError, AttributeError, ImportError):  # Linux only
            import fcntl  # room for many results

            fcntl.fcntl(writer, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the worker, which leaves by os._exit
            os.close(reader)
            for pipe in self._pipes:
                os.close(pipe)
            self._worker(writer, child_setup)
        os.close(writer)
        os.set_blocking(reader, False)
        self._pipes[reader] = pid
        self._buffers[reader] = bytearray()

    def _read_from(self, pipe: int) -> None:
        buffer = self._buffers[pipe]
        ended = False
        while not ended:
            try:
                data = os.read(pipe, 1 << 20)
            except BlockingIOError:
                break
            ended = not data
            buffer += data
        while len(buffer) >= _FRAME.size:
            (size,) = _FRAME.unpack_from(buffer)
            if len(buffer) < _FRAME.size + size:
                break
            chunk, result = pickle.loads(buffer[_FRAME.size : _FRAME.size + size])
            del buffer[: _FRAME.size + size]
            if chunk == _FINISHED:
                _wait(self._pipes[pipe])
                self._close(pipe)
                return
            if chunk == _FAILED:
                raise result
            self._done(chunk, result)
        if ended:
            pid = self._pipes[pipe]
            self._close(pipe)
            _wait(pid)
            raise RuntimeError(f"a scan worker (pid {pid}) stopped before its last results")

    def _close(self, pipe: int) -> None:
        del self._pipes[pipe], self._buffers[pipe]
        os.close(pipe)

    # ------------------------------------------------------------------ the worker's side

    def _worker(  # pragma: no cover - runs in the worker
        self, pipe: int, child_setup: Callable[[], Callable[[int], R]]
    ) -> None:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            run = child_setup()
            for chunk in self.claims():
                _send(pipe, (chunk, run(chunk)))
            _send(pipe, (_FINISHED, None))
            code = 0
        except BaseException as exc:  # reported to the parent, which raises it
            try:
                _send(pipe, (_FAILED, exc))
            except BaseException:  # an exception that does not pickle
                _send(pipe, (_FAILED, RuntimeError(f"{type(exc).__name__}: {exc}")))
        finally:
            os._exit(code)


def _send(pipe: int, message: tuple[int, object]) -> None:  # pragma: no cover - in the worker
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(pipe, view) :]


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait(pid)


def _wait(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
