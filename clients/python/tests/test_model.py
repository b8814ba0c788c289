import hashlib

import numpy as np
import pytest

from dpq_client import Client
from dpq_client import model as dpq_model
from dpq_client import safetensors

from conftest import QUICK_TRAINING, clusters


def test_encode_decode(client: Client, trained: str) -> None:
    q, _ = clusters(8, seed=4)
    full = client.encode(trained, q, bits=12)
    short = client.encode(trained, q, bits=4)
    assert full.dtype == np.uint8 and full.shape == (8, 3) and int(full.max()) < 16
    assert short.shape == (8, 1) and np.array_equal(full[:, :1], short)
    assert np.array_equal(client.encode(trained, q), full)  # bits 0 = full code
    dec = client.decode(trained, short, bits=4)
    assert dec.dtype == np.float32 and dec.shape == (8, 8)
    dec_full = client.decode(trained, full)
    assert dec_full.shape == (8, 8) and np.all(np.abs(dec_full) < 10)
    # Raw code bytes are accepted too.
    assert np.allclose(client.decode(trained, [bytes(r) for r in full]), dec_full)
    codes, feats = client.encode_features(trained, q)
    assert np.array_equal(codes, full) and feats.shape == (8, 8)


def test_evaluate(client: Client, trained: str) -> None:
    q, qy = clusters(8, seed=4)
    ev = client.evaluate(trained, q, qy, precision_at=(1, 10))
    assert sorted(ev) == [4, 8, 12]
    for bits, m in ev.items():
        assert m["map"] > 0.8, (bits, m)
        assert set(m["precision"]) == {1, 10} and 0 <= m["precision"][10] <= 1
    one = client.evaluate(trained, q, [[int(v)] for v in qy], bits=8, map_r=50)
    assert list(one) == [8] and one[8]["precision"] == {}


def test_export_reads_with_numpy_and_decodes_like_server(client: Client, trained: str, tmp_path) -> None:
    data = client.export_model(trained)
    info = client.get_collection(trained)
    assert info.model is not None and hashlib.sha256(data).hexdigest() == info.model.sha256
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    tensors, meta = safetensors.load(path)
    assert meta["format"] == "dpq-model"
    assert dpq_model.model_config(meta)["blocks"] == 3
    assert tensors["quantizer.codebooks"].shape == (3, 16, 8)
    assert tensors["quantizer.codebooks"].dtype == np.float32
    assert tensors["standardizer.mean"].shape == (16,)
    assert dpq_model.has_network(tensors)

    q, _ = clusters(20, seed=6)
    codes = client.encode(trained, q)
    for bits in (4, 8, 12):
        server = client.decode(trained, codes[:, : bits // 4], bits=bits)
        local = dpq_model.decode_with_codebooks(tensors, codes, bits=bits, bits_per_block=4)
        assert np.allclose(local, server, atol=1e-5), bits
    # The network forward pass reproduces the server's features too.
    _, feats = client.encode_features(trained, q)
    assert np.allclose(dpq_model.features(tensors, q), feats, atol=1e-4)

    # Import into a new collection: same codes.
    imported = client.import_model("clusters-copy", data, create_if_missing=True)
    try:
        assert imported.created and imported.bytes_received == len(data)
        assert np.array_equal(client.encode("clusters-copy", q), codes)
    finally:
        client.delete_collection("clusters-copy")


def test_unsupervised_decode_undoes_standardisation(client: Client) -> None:
    name = "unsup"
    client.create_collection(name, dim=16, blocks=2, codebook_size=16)
    try:
        x, _ = clusters(240, seed=2)
        x = x * 5 + 20  # far from standardised, so the mean/deviation matter
        assert client.train(name, x, **QUICK_TRAINING).state == "SUCCEEDED"
        tensors, _ = safetensors.load(client.export_model(name))
        assert not dpq_model.has_network(tensors)
        codes = client.encode(name, x[:10])
        for bits in (4, 8):
            server = client.decode(name, codes[:, : bits // 4], bits=bits)
            local = dpq_model.decode_with_codebooks(tensors, codes, bits=bits)
            assert np.allclose(local, server, atol=1e-4), bits
        # The reconstructions live in input space.
        assert np.abs(client.decode(name, codes) - x[:10]).mean() < np.abs(x[:10]).mean()
    finally:
        client.delete_collection(name)
