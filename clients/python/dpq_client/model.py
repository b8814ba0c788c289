"""Working with an exported DPQ model (see :meth:`dpq_client.Client.export_model`) using numpy alone.

Tensors of a model file: ``standardizer.mean`` / ``standardizer.deviation`` [Din];
``network.trunk.<l>.weight`` [in, out] / ``.bias`` [out], ``network.feature.*``,
``network.classifier.*`` (absent for unsupervised collections, label mode NONE);
``quantizer.codebooks`` [M, K, D]. Metadata: ``format`` = "dpq-model", ``format_version``, and
``config`` (the model configuration as JSON).
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Union

import numpy as np

from dpq_client import safetensors

__all__ = ["load_model", "model_config", "has_network", "decode_with_codebooks", "features"]


def load_model(source: Union[str, os.PathLike[str], bytes]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Reads a model file (path or bytes): ``(tensors, metadata)``."""
    tensors, metadata = safetensors.load(source)
    if metadata.get("format") not in (None, "dpq-model"):
        raise ValueError(f"not a DPQ model file: format {metadata.get('format')!r}")
    return tensors, metadata


def model_config(metadata: dict[str, str]) -> dict[str, Any]:
    """The model configuration stored in the file's metadata (snake_case keys)."""
    config: dict[str, Any] = json.loads(metadata.get("config", "{}"))
    return config


def has_network(tensors: dict[str, np.ndarray]) -> bool:
    """True for supervised models (label mode SINGLE/MULTI), which quantize the network's feature."""
    return "network.feature.weight" in tensors


def decode_with_codebooks(tensors: dict[str, np.ndarray], codes: Any, bits: int = 0, *,
                          bits_per_block: Optional[int] = None,
                          unstandardize: Optional[bool] = None) -> np.ndarray:
    """Reconstructs ``x_hat = sum_{i<m} C[i, code_i]`` from the codebooks ``quantizer.codebooks``
    [M, K, D] for each row of ``codes`` (a 2-D array of code words, as :meth:`Client.encode` returns,
    or a list of raw code bytes), exactly as the server's Decode does.

    ``bits`` (0 = every column of ``codes``) selects the first m = bits / bits_per_block codes;
    ``bits_per_block`` defaults to log2(K). For an unsupervised model (no network) the input
    standardisation is undone (``x * deviation + mean``), like the server; supervised models decode in
    feature space. ``unstandardize`` overrides that choice."""
    codebooks = np.asarray(tensors["quantizer.codebooks"], dtype=np.float32)
    if codebooks.ndim != 3:
        raise ValueError(f"quantizer.codebooks must be [M, K, D], got shape {codebooks.shape}")
    big_m, k, _ = codebooks.shape
    log2k = int(k).bit_length() - 1
    if bits_per_block is None:
        bits_per_block = log2k
    elif bits_per_block != log2k:
        raise ValueError(f"bits_per_block {bits_per_block} does not match K = {k} (log2 K = {log2k})")

    if isinstance(codes, (list, tuple)) and codes and isinstance(codes[0], (bytes, bytearray)):
        dtype = np.dtype("<u2") if k > 256 else np.dtype(np.uint8)
        words = np.frombuffer(b"".join(bytes(c) for c in codes), dtype=dtype).reshape(len(codes), -1)
    else:
        words = np.asarray(codes)
        if words.ndim == 1:
            words = words.reshape(1, -1)
    words = words.astype(np.int64)
    if words.ndim != 2:
        raise ValueError(f"codes must be 2-D (rows x blocks), got shape {words.shape}")
    m = words.shape[1] if bits == 0 else bits // bits_per_block
    if bits % bits_per_block or m < 1 or m > big_m or m > words.shape[1]:
        raise ValueError(f"bits {bits} must be a positive multiple of {bits_per_block} covering at most "
                         f"{min(big_m, words.shape[1])} blocks")
    words = words[:, :m]
    if words.size and (words.min() < 0 or words.max() >= k):
        raise ValueError(f"code words must be in 0..{k - 1}")
    out = np.zeros((words.shape[0], codebooks.shape[2]), dtype=np.float32)
    for i in range(m):
        out += codebooks[i][words[:, i]]
    if unstandardize is None:
        unstandardize = not has_network(tensors)
    if unstandardize:
        out = out * tensors["standardizer.deviation"].astype(np.float32) + tensors["standardizer.mean"].astype(np.float32)
    return out


def features(tensors: dict[str, np.ndarray], vectors: Any, metadata: Optional[dict[str, str]] = None) -> np.ndarray:
    """The unquantized feature f of input rows, computed locally as the server does: standardise, then
    (supervised models) the ReLU trunk layers and the tanh feature layer (dropout is off at inference).
    ``metadata`` is accepted for symmetry with :func:`load_model` and unused."""
    x: np.ndarray = np.asarray(vectors, dtype=np.float32)
    x = (x - tensors["standardizer.mean"]) / tensors["standardizer.deviation"]
    if not has_network(tensors):
        return x
    l = 0
    while f"network.trunk.{l}.weight" in tensors:
        x = np.maximum(x @ tensors[f"network.trunk.{l}.weight"] + tensors[f"network.trunk.{l}.bias"], 0)
        l += 1
    f: np.ndarray = np.tanh(x @ tensors["network.feature.weight"] + tensors["network.feature.bias"])
    return f
