"""`json.dumps(value, indent=2)`, byte for byte, at C speed for the leaves.

With `indent`, the standard library encodes in pure Python, one generator step per value: a
report of a thousand libraries (with the symbols behind each version) took longer to print than
to read. Here strings are encoded by the C encoder and lists of strings joined in one call.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring_ascii
from typing import Any

INDENT = "  "


def dumps(value: Any) -> str:
    """The same text as `json.dumps(value, indent=2)` for JSON-shaped data (dicts with string
    keys, lists, tuples, strings, ints, floats, booleans, None); anything else goes to `json`."""
    parts: list[str] = []
    try:
        _write(value, parts, "\n", {})
    except _NotPlain:
        return json.dumps(value, indent=2)
    return "".join(parts)


class _NotPlain(Exception):
    """A value this writer does not cover exactly (left to the json module)."""


# per indentation, per key: the text before the key's value, as the first key and after one
_Heads = dict[str, dict[str, tuple[str, str]]]


def _write(value: Any, out: list[str], newline: str, heads: _Heads) -> None:
    kind = type(value)
    if kind is str:
        out.append(encode_basestring_ascii(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is dict:
        _write_dict(value, out, newline, heads)
    elif kind is list or kind is tuple:
        _write_list(value, out, newline, heads)
    elif kind is float and math.isfinite(value):
        out.append(float.__repr__(value))
    else:
        raise _NotPlain


def _write_dict(value: dict[Any, Any], out: list[str], newline: str, heads: _Heads) -> None:
    if not value:
        out.append("{}")
        return
    inner = newline + INDENT
    known = heads.get(inner)
    if known is None:
        known = heads[inner] = {}
    first = True
    for key, item in value.items():
        pair = known.get(key) or _head(known, key, inner)
        head = pair[0] if first else pair[1]
        first = False
        # The common leaves and lists of strings inline (one append per key, no call per
        # value: a report holds tens of thousands of version requirements); the rest via _write.
        kind = type(item)
        if kind is str:
            out.append(head + encode_basestring_ascii(item))
        elif item is None or item is True or item is False:
            out.append(head + _CONSTANTS[item])
        elif kind is int:
            out.append(head + int.__repr__(item))
        elif (kind is list or kind is tuple) and _strings(item):
            more = inner + INDENT
            strings = ("," + more).join(map(encode_basestring_ascii, item))
            out.append(f"{head}[{more}{strings}{inner}]" if item else head + "[]")
        else:
            out.append(head)
            _write(item, out, inner, heads)
    out.append(newline + "}")


_CONSTANTS = {None: "null", True: "true", False: "false"}


def _head(known: dict[str, tuple[str, str]], key: Any, inner: str) -> tuple[str, str]:
    if type(key) is not str:
        raise _NotPlain
    named = encode_basestring_ascii(key) + ": "
    pair = known[key] = ("{" + inner + named, "," + inner + named)
    return pair


def _strings(items: list[Any] | tuple[Any, ...]) -> bool:
    return set(map(type, items)) <= _STR  # in C: a thousand symbols, one call


_STR = {str}


def _write_list(
    value: list[Any] | tuple[Any, ...], out: list[str], newline: str, heads: _Heads
) -> None:
    if not value:
        out.append("[]")
        return
    inner = newline + INDENT
    if _strings(value):  # symbol lists: one join
        out.append("[" + inner + ("," + inner).join(map(encode_basestring_ascii, value)))
    else:
        separator = "[" + inner
        for item in value:
            out.append(separator)
            if type(item) is dict:
                _write_dict(item, out, inner, heads)
            else:
                _write(item, out, inner, heads)
            separator = "," + inner
    out.append(newline + "]")
