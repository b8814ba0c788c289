import time
import grpc
import numpy as np
import pytest

from dpq_client import Client, DPQError, Hit

from conftest import QUICK_TRAINING, SMALL_MODEL, clusters


@pytest.mark.parametrize("bits", [4, 12])
def test_search_same_cluster_first(client: Client, trained: str, bits: int) -> None:
    q, qy = clusters(8, seed=4)
    # The metric is explicit: this server build resolves a collection's default metric to
    # INNER_PRODUCT once it is trained, although the API documents SQUARED_L2.
    results = client.search(trained, q, k=5, bits=bits, metric="squared_l2")
    assert len(results) == 8 and all(len(hits) == 5 for hits in results)
    for i, hits in enumerate(results):
        assert all(isinstance(h, Hit) for h in hits)
        scores = [h.score for h in hits]
        assert scores == sorted(scores), "squared L2 scores ascend"
        same = sum(1 for h in hits if h.labels == [int(qy[i])])
        assert same >= 4, f"bits {bits} query {i}: {hits}"
        assert hits[0].labels == [int(qy[i])]


def test_search_options(client: Client, trained: str) -> None:
    q, _ = clusters(8, seed=4)
    filtered = client.search(trained, q, k=10, any_of=[2])
    assert all(h.labels == [2] for hits in filtered for h in hits)
    rescored = client.search(trained, q, k=5, rescore=4, metric="squared_l2")
    assert all([h.score for h in hits] == sorted(h.score for h in hits) for hits in rescored)
    ip = client.search(trained, q, k=5, metric="inner_product")
    assert all([h.score for h in hits] == sorted((h.score for h in hits), reverse=True) for hits in ip)
    bare = client.search(trained, q[:1], k=3, omit_labels=True)
    assert all(h.labels == [] for h in bare[0])
    # A single 1-D query is one row.
    assert len(client.search(trained, q[0], k=2)) == 1
    ids = {h.id for h in client.search(trained, q, k=5)[0]}
    assert all(isinstance(i, int) and 0 <= i < 200 for i in ids)


def test_search_with_nprobe(client: Client) -> None:
    name = "ivf"
    client.create_collection(name, dim=16, num_classes=4, partition="kmeans", nlist=8, **SMALL_MODEL)
    x, y = clusters(240, seed=2)
    assert client.train(name, x, y, chunk_rows=100, **QUICK_TRAINING).state == "SUCCEEDED"
    db, dy = clusters(1_100, seed=5)
    client.upsert_stream(name, ids=list(range(1_100)), vectors=db, labels=dy, batch_size=256)
    # The lists are built off the server's write queue, starting with the write that made them due.
    info = client.get_collection(name)
    deadline = time.monotonic() + 60
    while info.index_lists_building and time.monotonic() < deadline:
        time.sleep(0.01)
        info = client.get_collection(name)
    assert info.index_lists == 8 and not info.index_lists_building
    assert info.raw.config.index.nlist == 8
    q, _ = clusters(6, seed=8)
    exhaustive = client.search(name, q, k=10)
    # Every list probed: the exhaustive answer; one list: a subset with the same scores.
    assert client.search(name, q, k=10, nprobe=8) == exhaustive
    assert client.search(name, q, k=10, nprobe=100) == exhaustive
    everything = client.search(name, q, k=1_100)
    for hits, all_hits in zip(client.search(name, q, k=10, nprobe=1), everything):
        truth = {h.id: h.score for h in all_hits}
        assert all(abs(truth[h.id] - h.score) <= 1e-5 * (1 + abs(h.score)) for h in hits)
    with pytest.raises(ValueError, match="nprobe"):
        client.search(name, q, k=3, nprobe=-1)


def test_nprobe_without_lists_is_invalid(client: Client, trained: str) -> None:
    client.create_collection("flat", dim=16, num_classes=4, partition="none", **SMALL_MODEL)
    x, y = clusters(240, seed=2)
    assert client.train("flat", x, y, chunk_rows=100, **QUICK_TRAINING).state == "SUCCEEDED"
    client.upsert("flat", ids=[1, 2, 3], vectors=x[:3], labels=y[:3])
    with pytest.raises(DPQError) as e:
        client.search("flat", x[:2], k=2, nprobe=4)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and "nprobe" in str(e.value)
    with pytest.raises(DPQError) as e:
        client.create_collection("bad-nlist", dim=16, partition="first_block", nlist=4)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and "config.index.nlist" in str(e.value)


def test_uint8_arrays_travel_as_bytes(client: Client) -> None:
    name = "pixels"
    client.create_collection(name, dim=16, num_classes=4, keep_vectors=True, **SMALL_MODEL)
    x, y = clusters(240, seed=2)
    px = np.clip(np.rint(x * 20 + 128), 0, 255).astype(np.uint8)
    assert client.train(name, px, y, chunk_rows=100, **QUICK_TRAINING).state == "SUCCEEDED"
    db, dy = clusters(100, seed=3)
    dpx = np.clip(np.rint(db * 20 + 128), 0, 255).astype(np.uint8)
    client.upsert(name, ids=list(range(50)), vectors=dpx[:50], labels=dy[:50])
    client.upsert_stream(name, ids=list(range(50, 100)), vectors=dpx[50:].astype(np.float32), labels=dy[50:])
    q = dpx[:5]
    # The request really carries bytes: a quarter of the float32 payload.
    from dpq_client import _wire
    assert len(_wire.dense(q).SerializeToString()) < len(_wire.dense(q.astype(np.float32)).SerializeToString()) / 3
    assert client.search(name, q, k=10) == client.search(name, q.astype(np.float32), k=10)
    assert (client.encode(name, q) == client.encode(name, q.astype(np.float32))).all()
