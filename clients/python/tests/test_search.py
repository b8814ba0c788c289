import numpy as np
import pytest

from dpq_client import Client, Hit

from conftest import clusters


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
