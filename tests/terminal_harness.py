"""Run the real `linkscope` command in a real terminal of a given size, as a person sees it.

`in_pty` starts it on a pseudo-terminal whose size is set with TIOCSWINSZ (so the program asks
the kernel for it, exactly as in a terminal window) and reads what it wrote through pyte, a
terminal emulator, into the screen a person would look at. `in_tmux` does the same in a real
tmux window and reads it back with `capture-pane` (where tmux is installed). `in_pipe` runs it
with stdout a pipe, as a CI log or `| less` would.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shlex
import shutil
import struct
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyte
import pytest

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ROWS = 400  # tall enough that nothing scrolls off the emulated screen
TIMEOUT = 60.0


@dataclass(frozen=True)
class Run:
    code: int
    raw: str  # exactly what the program wrote (escape codes included)
    screen: tuple[str, ...]  # the emulated screen, one string per row, trailing blanks cut
    coloured_cells: int  # cells the emulator drew in a colour other than the default

    @property
    def lines(self) -> list[str]:
        """The lines the program wrote, escape codes removed (the widths it chose)."""
        text = ANSI.sub("", self.raw).replace("\r\n", "\n")
        return [_overlay(line) for line in text.rstrip("\n").split("\n")]


def _overlay(line: str) -> str:
    """A line as it ends up on the screen: each carriage return writes over it from column 0
    (the progress line on stderr is rubbed out that way)."""
    shown = ""
    for segment in line.split("\r"):
        shown = segment + shown[len(segment) :]
    return shown.rstrip()


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    env.update(extra or {})
    return env


def command(argv: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "linkscope", *argv]


def in_pty(
    argv: Sequence[str],
    columns: int,
    *,
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
) -> Run:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, columns, 0, 0))
    process = subprocess.Popen(
        command(argv),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=environment(env),
        close_fds=True,
    )
    os.close(slave)
    raw = _read_all(master)
    os.close(master)
    code = process.wait(timeout=TIMEOUT)
    screen = pyte.Screen(columns, ROWS)
    pyte.ByteStream(screen).feed(raw)
    return Run(
        code=code,
        raw=raw.decode("utf-8", "replace"),
        screen=_rows(screen.display),
        coloured_cells=sum(
            1
            for row in screen.buffer.values()
            for char in row.values()
            if char.fg != "default" or char.bold
        ),
    )


def _read_all(master: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the program closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _rows(display: Sequence[str]) -> tuple[str, ...]:
    rows = [row.rstrip() for row in display]
    while rows and not rows[-1]:
        rows.pop()
    return tuple(rows)


def in_pipe(argv: Sequence[str], *, cwd: Path = ROOT, env: Mapping[str, str] | None = None) -> Run:
    done = subprocess.run(
        command(argv),
        capture_output=True,
        cwd=cwd,
        env=environment(env),
        timeout=TIMEOUT,
        check=False,
    )
    text = done.stdout.decode("utf-8", "replace")
    return Run(code=done.returncode, raw=text, screen=tuple(text.splitlines()), coloured_cells=0)


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


def in_tmux(argv: Sequence[str], columns: int, *, cwd: Path = ROOT) -> Run:
    """The command in a detached tmux window of `columns` x 200, read with capture-pane."""
    socket = f"linkscope-test-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", socket, "-f", os.devnull]
    env = environment()
    script = f"cd {shlex.quote(str(cwd))} && {shlex.join(command(argv))}; echo __exit=$?; sleep 60"
    _start_tmux(
        [*tmux, "new-session", "-d", "-x", str(columns), "-y", "200", "sh", "-c", script], env
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            joined = _capture(tmux, env, "-J", "-e")  # wrapped rows joined: the lines written
            found = re.search(r"^__exit=(\d+)", ANSI.sub("", joined), re.MULTILINE)
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        screen = _capture(tmux, env)
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, env=env, capture_output=True)
    assert found, f"tmux run did not finish:\n{joined}"
    raw = joined[: joined.index("__exit=")]
    return Run(
        code=int(found[1]),
        raw=raw,
        screen=_rows(screen[: screen.index("__exit=")].split("\n")),
        coloured_cells=len(re.findall(r"\x1b\[[0-9;]*(?:3[1-7]|1)m", raw)),
    )


def _start_tmux(argv: list[str], env: Mapping[str, str]) -> None:
    """Start the detached session; a busy machine sometimes loses tmux's first server start,
    so it is tried three times, and a tmux that never starts skips the test (pyte's run of the
    same screens still stands)."""
    error = ""
    for _attempt in range(3):
        started = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        if started.returncode == 0:
            return
        error = (started.stderr or started.stdout).strip()
        time.sleep(0.5)
    pytest.skip(f"tmux could not start a session here: {error or 'no message'}")


def _capture(tmux: list[str], env: Mapping[str, str], *flags: str) -> str:
    return subprocess.run(
        [*tmux, "capture-pane", "-p", *flags, "-S", "0", "-E", "199"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
