"""One pure function per output format: Report in, text out."""

# No `from __future__ import annotations` here: it would bind the name `annotations` in this
# package and shadow the `render.annotations` submodule.
from enum import Enum


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
