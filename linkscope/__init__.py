"""linkscope: will this binary start on AWS Lambda, and if not, exactly why?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "check", "inspect"]

if TYPE_CHECKING:
    from linkscope.api import check, inspect


def __getattr__(name: str) -> Any:
    # Lazy, so that `python -m linkscope --version` does not import the whole core.
    if name in ("inspect", "check"):
        from linkscope import api

        return getattr(api, name)
    raise AttributeError(name)
