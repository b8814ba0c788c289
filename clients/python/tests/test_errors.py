import grpc
import numpy as np
import pytest

from dpq_client import Client, DPQError

from conftest import clusters


def test_bad_dimension_is_invalid_argument(client: Client, trained: str) -> None:
    with pytest.raises(DPQError) as e:
        client.search(trained, np.zeros((2, 5), dtype=np.float32), k=3)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "dimension" in e.value.details and isinstance(e.value.__cause__, grpc.RpcError)
    with pytest.raises(DPQError) as e:
        client.upsert(trained, ids=[1], vectors=np.zeros((1, 7)))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(DPQError) as e:
        client.create_collection("zero-dim", dim=0)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(DPQError) as e:
        client.search(trained, np.zeros((1, 16)), k=3, bits=5)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_collection_is_not_found(client: Client) -> None:
    q, _ = clusters(2)
    calls = [
        lambda: client.get_collection("no-such"),
        lambda: client.search("no-such", q, k=3),
        lambda: client.count("no-such"),
        lambda: client.encode("no-such", q),
        lambda: client.export_model("no-such"),
        lambda: list(client.watch_training("no-such")),
        lambda: client.upload_training_data("no-such", q, [0, 1]),
    ]
    for call in calls:
        with pytest.raises(DPQError) as e:
            call()
        assert e.value.code == grpc.StatusCode.NOT_FOUND, e.value
        assert str(e.value).startswith("NOT_FOUND")


def test_client_side_validation_is_not_swallowed(client: Client, trained: str) -> None:
    with pytest.raises(ValueError):
        client.upsert_stream(trained, ids=[1, 2], vectors=np.zeros((3, 16)))


def test_unreachable_server_is_unavailable() -> None:
    with Client("127.0.0.1:1", timeout=2) as c:
        with pytest.raises(DPQError) as e:
            c.health()
    assert e.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
