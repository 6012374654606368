"""`Record`: the equality, hash and repr of a frozen dataclass, written once for every class.

`@dataclass` compiles each of these methods from source for every class it decorates; creating
the classes of linkscope/model.py was the largest part of importing linkscope (start-up time,
DESIGN section 2). The model and the other dataclasses every command imports are declared as

    @dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
    class Origin(Record): ...

compares, hashes and prints exactly as the dataclass would with `eq=True, repr=True`: equal when
of the same class with equal fields (those with `compare=True`, in order), the hash of the same
tuple, and `Origin(ecosystem='python', ...)` over the fields with `repr=True`
(tests/test_records.py holds them against the dataclass-made methods).
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any

_Getter = Callable[[Any], tuple[Any, ...]]
_FIELDS: dict[type, tuple[_Getter, _Getter, tuple[str, ...]]] = {}


class Record:
    """Base of frozen dataclasses declared with `eq=False, repr=False` (see the module)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = _fields(self.__class__)[0]
        return bool(compared(self) == compared(other))

    def __hash__(self) -> int:
        return hash(_fields(self.__class__)[1](self))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = _fields(self.__class__)[2]
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({values})"


def _fields(cls: type) -> tuple[_Getter, _Getter, tuple[str, ...]]:
    """The class's compared fields, hashed fields and shown fields, read once per class."""
    known = _FIELDS.get(cls)
    if known is None:
        fields = dataclasses.fields(cls)
        compared = [f.name for f in fields if f.compare]
        hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
        known = (_tuple_of(compared), _tuple_of(hashed), tuple(f.name for f in fields if f.repr))
        _FIELDS[cls] = known
    return known


def _tuple_of(names: list[str]) -> _Getter:
    """The fields' values as a tuple, as the dataclass methods build it (one field: a 1-tuple)."""
    if len(names) > 1:
        getter: _Getter = attrgetter(*names)
        return getter
    if names:
        one = attrgetter(names[0])
        return lambda record: (one(record),)
    return lambda record: ()
