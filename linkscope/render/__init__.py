"""One pure function per output format: Report in, text out."""

from __future__ import annotations

from enum import Enum


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
