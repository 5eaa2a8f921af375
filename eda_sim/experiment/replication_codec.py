"""Finished replications as JSON, exactly: what a checkpoint keeps of a partial point (layer 5).

A sweep interrupted in the middle of a point keeps the replications of that point
that finished (:mod:`eda_sim.experiment.checkpoint`), so that ``--resume`` runs
only the others. The pooled figures of the point are computed from these
replications again (the MSER-5 cut reads their sample paths, the intervals their
records, the percentiles their compacted sketches), so every number must come back
bit for bit: :func:`encode_replication` writes a
:class:`~eda_sim.engine.records.ReplicationResult` as plain JSON values and
:func:`decode_replication` reads it back, ``==`` to the original, field for field.

* Floats are JSON numbers (Python writes them with ``repr``, which reads back to the
  same double); NaN and infinities, which strict JSON has not, are ``{"x": "nan"}``.
* NumPy arrays are their raw bytes in base64 (compressed with zlib from
  :data:`_COMPRESS_FROM` bytes on), with their dtype and shape (numbers, whole
  numbers and booleans only; read back only up to the size their shape gives);
  NumPy scalars their value with their dtype; a tuple of floats (the gaps kept for
  the checks) the bytes of its doubles.
* Tuples, dictionaries with keys other than text, and the records' dataclasses
  are tagged objects; only the dataclasses named in :data:`RECORD_TYPES` are
  built back, and each field must hold what its annotation says (a number where
  a float is, a tuple of whole numbers where one is, ...). Nothing is unpickled:
  a checkpoint is a file a user names, and reading it runs no code of its own.

Decoding raises ``ValueError`` for anything it does not recognise.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import types
import typing
import zlib
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from eda_sim.engine.hops import HopCounts
from eda_sim.engine.latency import LatencyLayout, ReplicationLatency
from eda_sim.engine.records import (
    ClassObservations,
    ReplicationResult,
    SamplePath,
    StationRecord,
    SystemRecord,
    TraceRecord,
)
from eda_sim.stats.chunks import ChunkedSketches

__all__ = ["RECORD_TYPES", "decode_replication", "encode_replication"]

#: The dataclasses a replication is made of, by the name the JSON gives them.
RECORD_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        ReplicationResult,
        StationRecord,
        SystemRecord,
        ClassObservations,
        HopCounts,
        SamplePath,
        ReplicationLatency,
        LatencyLayout,
        ChunkedSketches,
        TraceRecord,
    )
}
#: Array kinds that may be read back: floats, signed and unsigned integers, booleans.
_ARRAY_KINDS = frozenset("fiub")
#: The most dimensions an array may have (the records' have two at most).
_MAX_DIMENSIONS = 4
#: zlib's level for arrays: the fastest (a partial point is written as a Ctrl-C stops
#: the sweep), still about a third of the raw bytes for sample paths.
_ZLIB_LEVEL = 1
#: Arrays smaller than this are not compressed (zlib's own cost would dominate).
_COMPRESS_FROM = 4096


def encode_replication(result: ReplicationResult) -> Any:
    """``result`` as JSON-ready values (``json.dumps(..., allow_nan=False)`` accepts them)."""
    return _encode(result)


def decode_replication(data: Any) -> ReplicationResult:
    """Inverse of :func:`encode_replication`; ``ValueError`` when ``data`` is no replication."""
    result = _decode(data)
    if not isinstance(result, ReplicationResult):
        raise ValueError("not a replication")
    return result


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int) and not isinstance(value, np.integer):
        return value
    if isinstance(value, float) and not isinstance(value, np.floating):
        return value if math.isfinite(value) else {"x": repr(value)}
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    if isinstance(value, np.generic):
        return {"np": value.dtype.str, "v": _encode(value.item())}
    if isinstance(value, tuple):
        if len(value) > 1 and all(type(item) is float for item in value):
            packed = np.array(value, dtype="<f8").tobytes()
            return {"tf": base64.b64encode(packed).decode()}
        return {"t": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {"d": {key: _encode(item) for key, item in value.items()}}
        return {"m": [[_encode(key), _encode(item)] for key, item in value.items()]}
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and RECORD_TYPES.get(name) is type(value):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"c": name, "f": fields}
    raise TypeError(f"cannot keep a {name} in a checkpoint")


def _encode_array(array: np.ndarray) -> dict[str, Any]:
    if array.dtype.kind not in _ARRAY_KINDS:
        raise TypeError(f"cannot keep an array of {array.dtype} in a checkpoint")
    data = np.ascontiguousarray(array).tobytes()
    if len(data) < _COMPRESS_FROM:
        return {"a": array.dtype.str, "s": list(array.shape), "b": base64.b64encode(data).decode()}
    data = zlib.compress(data, _ZLIB_LEVEL)
    return {"a": array.dtype.str, "s": list(array.shape), "z": base64.b64encode(data).decode()}


def _decode(data: Any) -> Any:
    if data is None or isinstance(data, bool | str | int | float):
        return data
    if isinstance(data, list):
        return [_decode(item) for item in data]
    if not isinstance(data, dict) or len(data) not in (1, 2, 3):
        raise ValueError("not a kept value")
    keys = frozenset(data)
    if keys == {"x"} and data["x"] in ("nan", "inf", "-inf"):
        return float(data["x"])
    if keys == {"t"} and isinstance(data["t"], list):
        return tuple(_decode(item) for item in data["t"])
    if keys == {"tf"} and isinstance(data["tf"], str):
        return tuple(_raw(data["tf"], "<f8", -1).tolist())
    if keys == {"d"} and isinstance(data["d"], dict):
        return {key: _decode(item) for key, item in data["d"].items()}
    if keys == {"m"} and isinstance(data["m"], list):
        return dict(_pair(item) for item in data["m"])
    if keys in ({"a", "s", "z"}, {"a", "s", "b"}):
        return _decode_array(data)
    if keys == {"np", "v"}:
        dtype = _dtype(data["np"])
        value = _decode(data["v"])
        if not isinstance(value, bool | int | float):
            raise ValueError("a NumPy scalar that is not a number")
        return dtype.type(value)
    if keys == {"c", "f"} and isinstance(data["f"], dict):
        return _record(data["c"], data["f"])
    raise ValueError("not a kept value")


def _pair(item: Any) -> tuple[Any, Any]:
    if not isinstance(item, list) or len(item) != 2:
        raise ValueError("a mapping entry that is not a pair")
    key = _decode(item[0])
    if isinstance(key, list | dict):
        raise ValueError("a mapping key that cannot be one")
    return key, _decode(item[1])


def _dtype(text: Any) -> np.dtype[Any]:
    if not isinstance(text, str) or len(text) > 8:
        raise ValueError("not an array type")
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise ValueError(f"not an array type: {text!r}") from None
    if dtype.kind not in _ARRAY_KINDS:
        raise ValueError(f"arrays of {text!r} are not kept")
    return dtype


def _decode_array(data: dict[str, Any]) -> np.ndarray:
    dtype = _dtype(data["a"])
    shape = data["s"]
    text = data.get("z", data.get("b"))
    if (
        not isinstance(shape, list)
        or len(shape) > _MAX_DIMENSIONS
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        or not isinstance(text, str)
    ):
        raise ValueError("an array without a shape or data")
    size = math.prod(shape)
    if "z" in data:
        return _unpacked(text, dtype, size).reshape(shape)
    return _raw(text, dtype, size).reshape(shape)


def _raw(text: str, dtype: Any, size: int) -> np.ndarray:
    """The array of ``size`` values (-1: any number) whose bytes ``text`` holds in base64."""
    kind = np.dtype(dtype)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("an array whose data is not base64") from None
    if (size >= 0 and len(raw) != size * kind.itemsize) or len(raw) % kind.itemsize:
        raise ValueError("an array whose data does not fit its shape")
    return np.frombuffer(raw, dtype=kind).copy()


def _unpacked(text: str, dtype: np.dtype[Any], size: int) -> np.ndarray:
    """The array of ``size`` values whose zlib-compressed bytes ``text`` holds in base64."""
    expected = size * dtype.itemsize
    try:
        packed = base64.b64decode(text, validate=True)
        unpacking = zlib.decompressobj()
        raw = unpacking.decompress(packed, expected + 1)  # never more than the shape holds
    except (binascii.Error, ValueError, zlib.error):
        raise ValueError("an array whose data is not compressed base64") from None
    if len(raw) != expected or not unpacking.eof or unpacking.unconsumed_tail:
        raise ValueError("an array whose data does not fit its shape")
    return np.frombuffer(raw, dtype=dtype).copy()


def _record(name: Any, fields: dict[str, Any]) -> Any:
    cls = RECORD_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"not a record type: {name!r}")
    expected = {f.name for f in dataclasses.fields(cls)}
    if set(fields) != expected:
        raise ValueError(f"a {name} with other fields than its own")
    values = {key: _decode(item) for key, item in fields.items()}
    hints = _hints(cls)
    for key, value in values.items():
        if not _conforms(value, hints[key]):
            raise ValueError(f"a {name} whose {key} is not what it holds")
    return cls(**values)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the annotated type ``hint`` (the records' annotations)."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if hint is float:
        return isinstance(value, float | int | np.floating | np.integer) and not isinstance(
            value, bool
        )
    if hint is int:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    if hint is type(None):
        return value is None
    if hint is np.ndarray or origin is np.ndarray:
        return isinstance(value, np.ndarray)
    if origin in (types.UnionType, typing.Union):
        return any(_conforms(value, argument) for argument in arguments)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return all(_conforms(item, arguments[0]) for item in value)
        return len(value) == len(arguments) and all(map(_conforms, value, arguments))
    if origin in (dict, Mapping):
        key_hint, value_hint = arguments
        return isinstance(value, dict) and all(
            _conforms(key, key_hint) and _conforms(item, value_hint) for key, item in value.items()
        )
    if isinstance(hint, type):
        return isinstance(value, hint)
    return False  # an annotation the records do not use
