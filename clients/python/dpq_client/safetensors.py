"""A safetensors reader using numpy alone.

Format: an 8-byte little-endian header length N, N bytes of JSON header
``{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}``
then the raw little-endian tensor bytes (offsets relative to the end of the header).
"""

from __future__ import annotations

import json
import os
import struct
from typing import Union

import numpy as np

__all__ = ["load", "DTYPES"]

DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


def load(source: Union[str, os.PathLike[str], bytes, bytearray, memoryview]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Reads a safetensors file (a path, or its bytes). Returns ``(tensors, metadata)``: each tensor
    as a native-endian numpy array of its shape, and the ``__metadata__`` string map (empty if
    absent). Raises ValueError on a malformed file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        with open(source, "rb") as f:
            data = f.read()
    if len(data) < 8:
        raise ValueError("safetensors: file shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"safetensors: header length {n} exceeds the file size {len(data)}")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"safetensors: header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise ValueError("safetensors: header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n:]
    tensors: dict[str, np.ndarray] = {}
    for name, spec in header.items():
        try:
            dtype = DTYPES[spec["dtype"]]
            shape = tuple(int(d) for d in spec["shape"])
            begin, end = (int(o) for o in spec["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"safetensors: tensor {name!r} has a malformed or unsupported entry {spec!r}") from None
        count = int(np.prod(shape, dtype=np.int64))
        if not (0 <= begin <= end <= len(body)) or end - begin != count * dtype.itemsize:
            raise ValueError(f"safetensors: tensor {name!r} offsets {begin}..{end} do not fit its shape/dtype "
                             f"or the file")
        arr = np.frombuffer(body[begin:end], dtype=dtype, count=count).reshape(shape)
        tensors[name] = arr.astype(dtype.newbyteorder("="), copy=True)
    return tensors, dict(metadata)
