"""The numpy-only readers, without a server."""

import json
import struct

import numpy as np
import pytest

from dpq_client import model as dpq_model
from dpq_client import safetensors


def _file(tensors: dict, metadata: dict | None = None) -> bytes:
    header: dict = {}
    body = b""
    names = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("u1"): "U8", np.dtype("<u2"): "U16",
             np.dtype("<i4"): "I32", np.dtype("<i8"): "I64"}
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + body


def test_load_every_dtype(tmp_path) -> None:
    arrays = {
        "f32": np.arange(6, dtype="<f4").reshape(2, 3),
        "f64": np.array([1.5, -2.5], dtype="<f8"),
        "u8": np.array([[0, 255]], dtype="u1"),
        "u16": np.array([65535, 1], dtype="<u2"),
        "i32": np.array([-7], dtype="<i4"),
        "i64": np.array([[2**40]], dtype="<i8"),
    }
    blob = _file(arrays, {"format": "x"})
    for source in (blob, tmp_path / "t.safetensors"):
        if not isinstance(source, bytes):
            source.write_bytes(blob)
        tensors, meta = safetensors.load(source)
        assert meta == {"format": "x"}
        for name, a in arrays.items():
            assert tensors[name].shape == a.shape and np.array_equal(tensors[name], a)
            assert tensors[name].dtype == a.dtype.newbyteorder("=")


def test_malformed_files_raise() -> None:
    with pytest.raises(ValueError):
        safetensors.load(b"\x01")
    with pytest.raises(ValueError):
        safetensors.load(struct.pack("<Q", 100) + b"{}")
    bad = _file({"a": np.zeros(2, "<f4")}).replace(b'"data_offsets": [0, 8]', b'"data_offsets": [0, 9]')
    with pytest.raises(ValueError):
        safetensors.load(bad)


def test_decode_with_codebooks_sums_prefix_codewords() -> None:
    rng = np.random.default_rng(0)
    cb = rng.normal(size=(3, 16, 4)).astype(np.float32)
    tensors = {"quantizer.codebooks": cb, "network.feature.weight": np.zeros((2, 4), np.float32),
               "standardizer.mean": np.zeros(4, np.float32), "standardizer.deviation": np.ones(4, np.float32)}
    codes = np.array([[1, 2, 3], [15, 0, 7]], dtype=np.uint8)
    expect2 = cb[0][codes[:, 0]] + cb[1][codes[:, 1]]
    assert np.allclose(dpq_model.decode_with_codebooks(tensors, codes, bits=8), expect2)
    assert np.allclose(dpq_model.decode_with_codebooks(tensors, codes), expect2 + cb[2][codes[:, 2]])
    assert np.allclose(dpq_model.decode_with_codebooks(tensors, [bytes(r) for r in codes], bits=4), cb[0][codes[:, 0]])
    with pytest.raises(ValueError):
        dpq_model.decode_with_codebooks(tensors, codes, bits=6)
    with pytest.raises(ValueError):
        dpq_model.decode_with_codebooks(tensors, codes, bits_per_block=8)
    # Without a network the standardisation is undone.
    del tensors["network.feature.weight"]
    tensors["standardizer.mean"] = np.full(4, 10, np.float32)
    tensors["standardizer.deviation"] = np.full(4, 2, np.float32)
    assert np.allclose(dpq_model.decode_with_codebooks(tensors, codes, bits=4), cb[0][codes[:, 0]] * 2 + 10)
