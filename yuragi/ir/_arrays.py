"""Small helpers for frozen dataclasses: array fields, equality, lookup by name."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, TypeVar

T = TypeVar("T")

import numpy as np


def frozen_array(values: Any, dtype: Any) -> np.ndarray:
    """Return a read-only contiguous copy of ``values`` with ``dtype``."""
    array = np.array(values, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array


def values_equal(a: Any, b: Any) -> bool:
    """Equality that treats numpy arrays by value (shape, dtype kind and elements)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        return a.shape == b.shape and a.dtype.kind == b.dtype.kind and bool(np.array_equal(a, b))
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        return dataclass_equal(a, b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


def dataclass_equal(a: Any, b: Any) -> bool:
    """Field-by-field equality of two dataclass instances of the same type."""
    if type(a) is not type(b):
        return False
    return all(
        values_equal(getattr(a, f.name), getattr(b, f.name))
        for f in dataclasses.fields(a)
        if f.compare
    )


def find_named(items: Iterable[T], name: str) -> T:
    """The first item whose ``.name`` is ``name``; ``KeyError(name)`` if none."""
    for item in items:
        if item.name == name:  # type: ignore[attr-defined]
            return item
    raise KeyError(name)
