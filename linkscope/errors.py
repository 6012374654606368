"""One exception hierarchy. Every message is written for the person who ran linkscope."""

from __future__ import annotations


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
