"""`Record` (linkscope/records.py) gives the model classes exactly the equality, hash and repr
that `@dataclass` would compile for them: checked against twins made by dataclasses itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import BIN

from linkscope import api, ecosystems, inputs, model
from linkscope.records import Record
from linkscope.render import layout

MODEL = [
    cls
    for cls in vars(model).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__
]


def _subclasses(cls: type) -> Iterator[type]:
    subclasses: list[type] = cls.__subclasses__()
    for sub in subclasses:
        yield sub
        yield from _subclasses(sub)


# every class declared for Record (eq=False): the start-up path's; a dataclass that subclasses
# one with the defaults (python.PythonPackage) writes its own methods, as any dataclass does
RECORDS = sorted(
    {
        c
        for c in _subclasses(Record)
        if c.__module__.startswith("linkscope") and not c.__dataclass_params__.eq  # type: ignore[attr-defined]
    },
    key=lambda c: (c.__module__, c.__name__),
)


def _twin(cls: type) -> Any:
    """The same fields, with the methods dataclasses writes (eq=True, repr=True)."""
    specs = [
        (f.name, f.type, dataclasses.field(compare=f.compare, repr=f.repr, hash=f.hash))
        for f in dataclasses.fields(cls)
    ]
    twin = dataclasses.make_dataclass(cls.__name__, specs, frozen=True, slots=True, kw_only=True)
    twin.__qualname__ = cls.__qualname__
    return twin


def _as_twin(record: Any) -> Any:
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    return _twin(type(record))(**values)


def test_every_model_dataclass_is_a_record_declared_for_it() -> None:
    assert len(MODEL) > 20 and set(MODEL) <= set(RECORDS)
    assert {layout.Style, layout.Cell, inputs.Member, inputs.Package, ecosystems.Need} <= set(
        RECORDS
    )
    for cls in RECORDS:
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        assert issubclass(cls, Record), cls
        assert (params.frozen, params.eq, params.repr) == (True, False, False), cls
        assert {"__eq__", "__hash__", "__repr__"}.isdisjoint(vars(cls)), cls


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__name__)
def test_made_up_records_behave_as_dataclasses(cls: type) -> None:
    fields = dataclasses.fields(cls)
    record: Any = cls(**{f.name: f"value {i}" for i, f in enumerate(fields)})
    twin = _as_twin(record)
    assert repr(record) == repr(twin)
    assert hash(record) == hash(twin)
    assert record == dataclasses.replace(record)
    assert (record != dataclasses.replace(record)) is False
    assert record.__eq__(twin) is NotImplemented and record != twin
    for f in fields:
        changed = dataclasses.replace(record, **{f.name: "another value"})
        assert (record == changed) is (not f.compare), f.name
        assert (hash(record) == hash(changed)) is (not f.compare), f.name
        assert (repr(record) == repr(changed)) is (not f.repr), f.name


def _records(value: Any) -> Iterator[Any]:
    if isinstance(value, Record):
        yield value
        for f in dataclasses.fields(value):  # type: ignore[arg-type]
            yield from _records(getattr(value, f.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _records(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _records(item)


def test_real_reports_behave_as_dataclasses() -> None:
    """Nested records from real scans: the fixture programs and a check of one of them."""
    values = [
        api.inspect([str(BIN)]),
        api.check([str(BIN / "c_hello_muslgcc_dynamic_x86_64")]),
        *api.scan([str(BIN / "eco")]),
    ]
    seen: set[type] = set()
    for record in (r for value in values for r in _records(value)):
        twin = _as_twin(record)
        assert repr(record) == repr(twin)
        assert hash(record) == hash(twin)
        assert record == dataclasses.replace(record)
        seen.add(type(record))
    assert {model.BinaryFacts, model.Report, model.Finding, model.ScannedPackage} <= seen
