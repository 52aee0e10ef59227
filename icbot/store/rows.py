"""Journal rows as typed records (`icbot.core.journal`): the only place a SQLite row becomes a Python value.

One conversion serves every record type, driven by the dataclass's fields and their types, so a column added
to a record is read the same way as its neighbours instead of by a ninth hand-written copy. The rules mirror
codec.py's stored forms: instants are ISO text (returned aware), trade dates ``YYYY-MM-DD``, flags 0/1, structured
values JSON, words the journal stores are `StrEnum` members.

Old journals must keep reading, so a stored word an enum does not know becomes that enum's ``UNKNOWN`` member when
it has one (an undocumented IB order status; a fill whose role was never recorded); NULL in a column whose field
has a default reads as the default. Anything else unreadable is a `StoreError` naming the record and column.
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, NamedTuple, TypeVar, Union, get_args, get_origin, get_type_hints

from icbot.errors import StoreError

R = TypeVar("R")
Convert = Callable[[Any], Any]


class _Column(NamedTuple):
    name: str
    convert: Convert
    nullable: bool  # the field's type admits None
    has_default: bool


def record(cls: type[R], row: Mapping[str, Any]) -> R:
    """`row` (a journal row, or a JSON object stored in one) as a `cls` record; unknown keys are ignored."""
    values: dict[str, Any] = {}
    for col in _columns(cls):
        if col.name not in row:
            continue  # a column an older schema lacks: the field's default, or the error below
        value = row[col.name]
        if value is None and col.nullable:
            values[col.name] = None
            continue
        if value is None and col.has_default and not _has_unknown(col.convert):
            continue
        try:
            values[col.name] = col.convert(value)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"cannot read {cls.__name__}.{col.name} = {value!r} from the journal: {exc}") from exc
    try:
        return cls(**values)
    except TypeError as exc:
        raise StoreError(f"cannot read a {cls.__name__} from the journal: {exc}") from exc


def records(cls: type[R], rows: Iterable[Mapping[str, Any]]) -> list[R]:
    return [record(cls, row) for row in rows]


def instant(text: str) -> datetime:
    """Stored ISO text as an aware datetime; a text without a UTC offset is refused (its zone would be a guess)."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return at


def field_types(cls: type[Any]) -> dict[str, Any]:
    """Each field's type with ``| None`` removed (e.g. `datetime` for ``exited_at: datetime | None``)."""
    return {name: _strip_none(tp)[0] for name, tp in get_type_hints(cls).items()}


_COLUMNS: dict[type[Any], tuple[_Column, ...]] = {}


def _columns(cls: type[Any]) -> tuple[_Column, ...]:
    """How to read each field of `cls` (worked out once per record type)."""
    if cls in _COLUMNS:
        return _COLUMNS[cls]
    hints = get_type_hints(cls)
    cols = []
    for f in dataclasses.fields(cls):
        tp, nullable = _strip_none(hints[f.name])
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        cols.append(_Column(f.name, _converter(tp), nullable, has_default))
    _COLUMNS[cls] = tuple(cols)
    return _COLUMNS[cls]


def _strip_none(tp: Any) -> tuple[Any, bool]:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(get_args(tp))
    return tp, False


def _converter(tp: Any) -> Convert:
    origin = get_origin(tp)
    if tp is Any:
        return _same
    if tp is datetime:
        return instant
    if tp is date:
        return date.fromisoformat
    if tp is bool:
        return bool
    if tp in (int, float, str):
        return tp
    if isinstance(tp, type) and issubclass(tp, Enum):
        return _EnumWord(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return lambda value: record(tp, value)
    if origin is tuple:
        item = _converter(get_args(tp)[0])
        return lambda value: tuple(item(x) for x in _json(value))
    if origin in (Mapping, dict):
        return _json
    raise TypeError(f"no journal conversion for {tp!r}")


class _EnumWord:
    """A stored word as its enum member; an unknown word (or NULL) is the ``UNKNOWN`` member if there is one.

    For `OrderStatus` this is exactly `OrderStatus.parse`.
    """

    def __init__(self, cls: type[Enum]) -> None:
        self.cls = cls
        self.unknown = cls.__members__.get("UNKNOWN")

    def __call__(self, value: Any) -> Enum:
        try:
            return self.cls(value)
        except ValueError:
            if self.unknown is None:
                known = ", ".join(str(m.value) for m in self.cls)
                raise ValueError(f"not a {self.cls.__name__} (one of {known})") from None
            return self.unknown


def _has_unknown(convert: Convert) -> bool:
    return isinstance(convert, _EnumWord) and convert.unknown is not None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _same(value: Any) -> Any:
    return value
