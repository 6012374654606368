"""One exception hierarchy. Every message is written for the person who ran linkscope."""

from __future__ import annotations

from enum import IntEnum


class LinkscopeError(Exception):
    """Base of every error linkscope raises on purpose."""


class InputError(LinkscopeError):
    """The input cannot be used: exit code 2."""


class NotFoundError(InputError):
    pass


class UnreadableError(InputError):
    pass


class NotElfError(InputError):
    pass


class CorruptElfError(InputError):
    pass


class UnsupportedArchiveError(InputError):
    pass


class LimitExceededError(InputError):
    """A size, count or time bound was hit (zip bombs, absurd tables)."""


class UsageError(LinkscopeError):
    """A bad option or combination of options: exit code 2."""


class ProfileError(LinkscopeError):
    pass


class UnknownProfileError(ProfileError, UsageError):
    pass


class InvalidProfileError(ProfileError):
    pass


class ExitCode(IntEnum):
    """The exit-code contract (README "Exit codes"; a test keeps the two in step)."""

    OK = 0  # compatible; for inspect: every file was read
    INCOMPATIBLE = 1  # findings at or above --fail-on
    USAGE_OR_INPUT_ERROR = 2  # bad option, unknown runtime, missing/unreadable/corrupt input
    INTERNAL_ERROR = 3  # a bug in linkscope: one line, the traceback with --debug
