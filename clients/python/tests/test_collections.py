import grpc
import numpy as np
import pytest

from dpq_client import Client, DPQError

from conftest import SMALL_MODEL


def test_create_get_list_delete(client: Client) -> None:
    info = client.create_collection("coll-a", dim=16, num_classes=4, metric="inner_product", **SMALL_MODEL)
    assert info.name == "coll-a" and info.state == "UNTRAINED" and not info.has_model
    assert (info.input_dimension, info.blocks, info.codebook_size, info.feature_dimension) == (16, 3, 16, 8)
    assert info.hidden_sizes == [32] and info.label_mode == "SINGLE" and info.num_classes == 4
    assert info.metric == "INNER_PRODUCT" and info.model is None

    got = client.get_collection("coll-a")
    assert got.name == "coll-a" and got.item_count == 0
    assert "coll-a" in [c.name for c in client.list_collections()]

    with pytest.raises(DPQError) as e:
        client.create_collection("coll-a", dim=16)
    assert e.value.code == grpc.StatusCode.ALREADY_EXISTS

    assert client.delete_collection("coll-a") is True
    assert "coll-a" not in [c.name for c in client.list_collections()]
    with pytest.raises(DPQError) as e:
        client.delete_collection("coll-a")
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    assert client.delete_collection("coll-a", allow_missing=True) is False


def test_unsupervised_defaults(client: Client) -> None:
    info = client.create_collection("coll-none", dim=8, blocks=2, codebook_size=16)
    try:
        assert info.label_mode == "NONE" and info.num_classes == 0 and info.input_dimension == 8
        assert info.metric in ("SQUARED_L2", "INNER_PRODUCT")
    finally:
        client.delete_collection("coll-none")


def test_image_collection_shape_and_trunk(client: Client) -> None:
    trunk = "conv3x3-4,relu,maxpool2,flatten"
    info = client.create_collection("img-py", dim=0, num_classes=2, input_shape=(6, 6, 1), trunk=trunk,
                                    blocks=2, codebook_size=16, feature_dimension=4)
    assert info.input_shape == (6, 6, 1) and info.input_dimension == 36 and info.trunk == trunk
    got = client.get_collection("img-py")
    assert got.input_shape == (6, 6, 1) and got.trunk == trunk
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(64, 36), dtype=np.uint8)
    y = np.arange(64) % 2
    final = client.train("img-py", x, y, epochs=1, pretrain_epochs=1, batch_size=16, kmeans_iterations=2, seed=1)
    assert final.state == "SUCCEEDED", final
    client.upsert("img-py", ids=list(range(8)), vectors=x[:8], labels=y[:8])
    assert len(client.search("img-py", x[:2], k=3)[0]) == 3
    with pytest.raises(DPQError) as e:
        client.create_collection("img-bad", dim=35, input_shape=(6, 6, 1))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and "input_shape" in str(e.value)
    with pytest.raises(ValueError, match="input_shape"):
        client.create_collection("img-bad2", dim=0, input_shape=(6, 6))


def test_half_precision_vectors(client: Client) -> None:
    from dpq_client._proto.dpq.v1 import collections_pb2
    info = client.create_collection("coll-half", dim=16, num_classes=4, keep_vectors=True,
                                    vector_precision="float16", **SMALL_MODEL)
    try:
        assert info.raw.config.vector_precision == collections_pb2.VECTOR_PRECISION_FLOAT16
        assert client.get_collection("coll-half").raw.config.keep_vectors
    finally:
        client.delete_collection("coll-half")
    with pytest.raises(DPQError) as e:
        client.create_collection("coll-half2", dim=16, vector_precision="float16")
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and "config.vector_precision" in str(e.value)
    with pytest.raises(ValueError):
        client.create_collection("coll-half3", dim=16, keep_vectors=True, vector_precision="float8")
