"""Compact pickling for the records that cross process boundaries and live in the cache.

A dataclass pickles as its class plus a dict of field names to values, and loads through
pickle's generic state protocol; a warm run loads tens of thousands of them.  `Packed` records
pickle as their class plus a tuple of field values instead, which is about half the size and
loads two to three times faster.
"""

from __future__ import annotations

from typing import Any


def _unpack(cls: type, values: tuple[Any, ...]) -> Any:
    record = object.__new__(cls)
    record.__dict__.update(zip(cls.__dataclass_fields__, values))  # type: ignore[attr-defined]
    return record


class Packed:
    """Mixin for dataclasses: pickle as (class, field values) — no per-record field names."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        values = self.__dict__
        return (_unpack, (type(self), tuple([values[name] for name in self.__dataclass_fields__])))  # type: ignore[attr-defined]
