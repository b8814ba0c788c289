"""Fast conversions between numpy arrays and the protobuf messages of dpq.v1."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Optional, Union

import numpy as np

from dpq_client._proto.dpq.v1 import common_pb2

ItemIdLike = Union[int, str]
LabelsLike = Union[None, Sequence[int], Sequence[Sequence[int]], np.ndarray]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def as_matrix(vectors: Any, name: str = "vectors", dim: Optional[int] = None) -> np.ndarray:
    """A C-contiguous 2-D array (a 1-D array is one row): uint8 when given a uint8 array (8-bit pixels,
    sent as bytes, a quarter of the wire size of float32), float32 otherwise."""
    is_bytes = isinstance(vectors, np.ndarray) and vectors.dtype == np.uint8
    a = np.asarray(vectors, dtype=np.uint8 if is_bytes else np.float32)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows x dimension), got shape {a.shape}")
    if dim is not None and a.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} columns, got {a.shape[1]}")
    return np.ascontiguousarray(a)


def dense(vectors: Any, name: str = "vectors") -> common_pb2.DenseVectors:
    """A DenseVectors message from a 2-D array, built from its wire form (no per-float Python work)."""
    a = as_matrix(vectors, name)
    wire = b"\x08" + _varint(int(a.shape[1]))
    if a.dtype == np.uint8:  # field 3, uint8_values
        payload = a.tobytes()
        if payload:
            wire += b"\x1a" + _varint(len(payload)) + payload
        return common_pb2.DenseVectors.FromString(wire)
    payload = a.astype("<f4", copy=False).tobytes()
    if payload:
        wire += b"\x12" + _varint(len(payload)) + payload
    return common_pb2.DenseVectors.FromString(wire)


def vector(row: np.ndarray) -> common_pb2.Vector:
    """A Vector message from a 1-D array, built from its wire form (uint8 rows as uint8_values)."""
    if row.dtype == np.uint8:
        data = np.ascontiguousarray(row).tobytes()
        return common_pb2.Vector.FromString(b"\x12" + _varint(len(data)) + data) if data else common_pb2.Vector()
    payload = np.ascontiguousarray(row, dtype="<f4").tobytes()
    if not payload:
        return common_pb2.Vector()
    return common_pb2.Vector.FromString(b"\x0a" + _varint(len(payload)) + payload)


def floats_of(values: Any) -> np.ndarray:
    """A float32 1-D array from a repeated float field."""
    return np.fromiter(values, dtype=np.float32, count=len(values))


def matrix_of(d: common_pb2.DenseVectors) -> np.ndarray:
    """A float32 (rows, dimension) array from a DenseVectors message."""
    wire = d.SerializeToString()
    dim = 0
    chunks: list[bytes] = []
    pos = 0
    try:
        while pos < len(wire):
            key, pos = _read_varint(wire, pos)
            field, kind = key >> 3, key & 7
            if kind == 0:
                v, pos = _read_varint(wire, pos)
                if field == 1:
                    dim = v
            elif kind == 2:
                n, pos = _read_varint(wire, pos)
                if field == 2:
                    chunks.append(wire[pos:pos + n])
                pos += n
            elif kind == 5:
                chunks.append(wire[pos:pos + 4])
                pos += 4
            else:  # pragma: no cover - not produced for DenseVectors
                raise ValueError("unexpected wire type")
        flat = np.frombuffer(b"".join(chunks), dtype="<f4").astype(np.float32)
    except (IndexError, ValueError):  # pragma: no cover - fall back to the slow path
        dim = d.dimension
        flat = floats_of(d.values)
    if dim == 0:
        return np.zeros((0, 0), dtype=np.float32)
    return flat.reshape(-1, dim)


def item_id(value: ItemIdLike) -> common_pb2.ItemId:
    if isinstance(value, (bool,)):
        raise TypeError("an item id is an int >= 0 or a non-empty str, not a bool")
    if isinstance(value, (int, np.integer)):
        if value < 0:
            raise ValueError(f"numeric item ids are uint64, got {value}")
        return common_pb2.ItemId(num=int(value))
    if isinstance(value, str):
        return common_pb2.ItemId(str=value)
    raise TypeError(f"an item id is an int or a str, got {type(value).__name__}")


def item_ids(values: Iterable[ItemIdLike]) -> list[common_pb2.ItemId]:
    if isinstance(values, (int, str, np.integer)):
        values = [values]
    return [item_id(v) for v in values]


def id_value(pid: common_pb2.ItemId) -> ItemIdLike:
    return pid.str if pid.WhichOneof("kind") == "str" else int(pid.num)


def label_lists(labels: LabelsLike, rows: int, name: str = "labels") -> Optional[list[list[int]]]:
    """Normalises labels to one list of ints per row (None stays None).

    Accepted: one int per row (a 1-D sequence/array), or one sequence of ints per row.
    """
    if labels is None:
        return None
    if isinstance(labels, np.ndarray):
        if labels.ndim == 1:
            out = [[int(v)] for v in labels]
        else:
            raise ValueError(f"{name}: pass one int per row or one list of ints per row")
    else:
        out = []
        for row in labels:
            if isinstance(row, (int, np.integer)):
                out.append([int(row)])
            else:
                out.append([int(v) for v in row])
    if len(out) != rows:
        raise ValueError(f"{name} has {len(out)} entries, expected one per row ({rows})")
    return out


def row_labels(labels: LabelsLike, rows: int, name: str = "labels") -> Optional[common_pb2.RowLabels]:
    """RowLabels: the compact class_ids form when every row has exactly one label, else sets."""
    lists = label_lists(labels, rows, name)
    if lists is None:
        return None
    if all(len(r) == 1 for r in lists):
        return common_pb2.RowLabels(class_ids=common_pb2.ClassIds(ids=[r[0] for r in lists]))
    return common_pb2.RowLabels(
        sets=common_pb2.LabelSets(rows=[common_pb2.LabelSet(labels=r) for r in lists]))


def codes_to_array(codes: Sequence[bytes], bytes_per_code: int) -> np.ndarray:
    """Code bytes (one bytes object per row) as a (rows, m) uint8 or little-endian-read uint16 array."""
    dtype = np.dtype("<u2") if bytes_per_code == 2 else np.dtype(np.uint8)
    if len(codes) == 0:
        return np.zeros((0, 0), dtype=np.uint16 if bytes_per_code == 2 else np.uint8)
    buf = b"".join(codes)
    arr = np.frombuffer(buf, dtype=dtype).reshape(len(codes), -1)
    return arr.astype(np.uint16 if bytes_per_code == 2 else np.uint8)


def array_to_codes(codes: Any, bytes_per_code: Optional[int]) -> list[bytes]:
    """Rows of code words (2-D integer array, or a list of bytes) as the wire's bytes per row."""
    if isinstance(codes, (list, tuple)) and codes and isinstance(codes[0], (bytes, bytearray)):
        return [bytes(c) for c in codes]
    a = np.asarray(codes)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"codes must be a 2-D array (rows x blocks), got shape {a.shape}")
    if bytes_per_code is None:
        bytes_per_code = 2 if a.dtype == np.uint16 else 1
    if a.size and (a.min() < 0 or a.max() >= (256 if bytes_per_code == 1 else 65536)):
        raise ValueError(f"code words must fit in {bytes_per_code} byte(s)")
    wire = np.ascontiguousarray(a.astype("<u2" if bytes_per_code == 2 else np.uint8))
    return [row.tobytes() for row in wire]
