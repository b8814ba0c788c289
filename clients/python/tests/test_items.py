import grpc
import numpy as np
import pytest

from dpq_client import Client, DPQError

from conftest import QUICK_TRAINING, SMALL_MODEL, clusters


def test_upsert_get_list_count_delete(client: Client) -> None:
    name = "items"
    client.create_collection(name, dim=16, num_classes=4, keep_vectors=True, **SMALL_MODEL)
    try:
        x, y = clusters(240, seed=2)
        client.train(name, x, y, **QUICK_TRAINING)
        db, dy = clusters(100, seed=3)
        r = client.upsert(name, ids=list(range(100)), vectors=db, labels=dy)
        assert (r.inserted, r.replaced, r.encoded, r.item_count) == (100, 0, 100, 100)
        # Same ids again: replaced; a string id is a different item from a numeric one.
        r = client.upsert(name, ids=[5], vectors=db[:1], labels=[dy[0]])
        assert (r.inserted, r.replaced, r.item_count) == (0, 1, 100)
        r = client.upsert(name, ids=["doc-a", "5"], vectors=db[1:3], labels=[[1], []])
        assert (r.inserted, r.item_count) == (2, 102)
        s = client.upsert_stream(name, ids=range(100, 150), vectors=db[:50], labels=dy[:50], batch_size=16)
        assert (s.inserted, s.encoded, s.item_count) == (50, 50, 152)

        got = client.get_items(name, [3, 5, "doc-a", 999], with_vectors=True, with_codes=True)
        assert [i.id for i in got.items] == [3, 5, "doc-a"] and got.missing_ids == [999]
        item3 = got.items[0]
        assert item3.labels == [int(dy[3])]
        np.testing.assert_allclose(item3.vector, db[3], rtol=0, atol=0)
        assert item3.code is not None and item3.code.dtype == np.uint8 and item3.code.shape == (3,)
        assert np.array_equal(item3.code, client.encode(name, db[3:4])[0])
        assert np.allclose(got.items[1].vector, db[0])
        plain = client.get_items(name, [3])
        assert plain.items[0].vector is None and plain.items[0].code is None

        pages = list(client.list_items(name, page_size=64))
        assert [len(p) for p in pages] == [64, 64, 24]
        ids = [i.id for p in pages for i in p]
        assert len(ids) == len(set(ids)) == 152 and ids[:3] == [0, 1, 2]

        assert client.count(name) == 152
        assert client.count(name, any_of=[2]) == sum(1 for p in pages for i in p if 2 in i.labels)
        assert all(2 in i.labels for p in client.list_items(name, any_of=[2]) for i in p)

        assert client.delete_items(name, [0, 1, "doc-a", 12345]) == 3
        assert client.count(name) == 149
    finally:
        client.delete_collection(name)


def test_upsert_codes_encoded_elsewhere(client: Client) -> None:
    # Codes from one collection's Encode, upserted into another serving the same (exported) model.
    src, dst = "codes-src", "codes-dst"
    client.create_collection(src, dim=16, num_classes=4, **SMALL_MODEL)
    try:
        x, y = clusters(240, seed=2)
        client.train(src, x, y, **QUICK_TRAINING)
        client.import_model(dst, client.export_model(src), create_if_missing=True)
        db, dy = clusters(100, seed=3)
        client.upsert(src, ids=list(range(100)), vectors=db, labels=dy)
        codes, digest = client.encode_for_upsert(src, db)
        assert codes.shape == (100, 3) and codes.dtype == np.uint8 and len(digest) == 64
        r = client.upsert_codes(dst, ids=list(range(40)), codes=codes[:40], labels=dy[:40], model_sha256=digest)
        assert (r.inserted, r.encoded, r.item_count) == (40, 40, 40)
        s = client.upsert_codes(dst, ids=range(40, 100), codes=[bytes(c) for c in codes[40:]], labels=dy[40:],
                                model_sha256=digest, batch_size=16)
        assert (s.inserted, s.item_count) == (60, 100)
        got = client.get_items(dst, [7], with_codes=True).items[0]
        assert got.code is not None and np.array_equal(got.code, codes[7]) and got.labels == [int(dy[7])]
        q, _ = clusters(5, seed=8)
        assert client.search(dst, q, k=6, bits=12) == client.search(src, q, k=6, bits=12)

        with pytest.raises(DPQError) as e:
            client.upsert_codes(dst, ids=[1], codes=codes[:1], model_sha256="0" * 64)
        assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION and "model_sha256" in e.value.details
        with pytest.raises(DPQError) as e:
            client.upsert_codes(dst, ids=[1], codes=codes[:1, :2], model_sha256=digest)
        assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and "items[0].code" in e.value.details
    finally:
        client.delete_collection(src)
        client.delete_collection(dst)


def test_streams_send_columns_and_store_what_item_messages_store(client: Client) -> None:
    # upsert_stream and streamed upsert_codes send ItemColumns (ids of one kind) or Item messages
    # (mixed ids); either way the items are those of the per-item unary upsert.
    a, b = "columns-a", "columns-b"
    client.create_collection(a, dim=16, num_classes=4, keep_vectors=True, multi_label=True, **SMALL_MODEL)
    try:
        x, y = clusters(240, seed=2)
        client.train(a, x, [[int(v)] for v in y], **QUICK_TRAINING)
        client.import_model(b, client.export_model(a), create_if_missing=True, keep_vectors=True)
        db, _ = clusters(60, seed=3)
        labels = [[i % 4, (i + 1) % 4] if i % 3 else [] for i in range(60)]
        ids: list[int | str] = [f"s{i}" for i in range(20)] + list(range(20, 40)) + [40, "x41"] + list(range(42, 60))
        client.upsert(a, ids=ids, vectors=db, labels=labels)
        # Batches of 20: strings, numbers, then mixed (Item messages) and numbers.
        s = client.upsert_stream(b, ids=ids, vectors=db, labels=labels, batch_size=20)
        assert (s.inserted, s.encoded, s.item_count) == (60, 60, 60)
        got_a = client.get_items(a, ids, with_vectors=True, with_codes=True).items
        got_b = client.get_items(b, ids, with_vectors=True, with_codes=True).items
        assert [(i.id, i.labels) for i in got_a] == [(i.id, i.labels) for i in got_b]
        assert all(np.array_equal(p.code, q.code) and np.array_equal(p.vector, q.vector) for p, q in zip(got_a, got_b))
        assert got_b[1].labels == [1, 2] and got_b[0].labels == []

        # Pixels (uint8) go as uint8_vectors; the server's refusal names the column and the item.
        pixels = (np.arange(3 * 16) % 256).astype(np.uint8).reshape(3, 16)
        r = client.upsert_stream(b, ids=[100, 101, 102], vectors=pixels, labels=[1, 2, 3])
        assert r.inserted == 3
        assert np.array_equal(client.get_items(b, [101], with_vectors=True).items[0].vector, pixels[1].astype(np.float32))
        bad = db[:3].copy()
        bad[1, 4] = np.nan
        with pytest.raises(DPQError) as e:
            client.upsert_stream(b, ids=[200, 201, 202], vectors=bad)
        assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "columns.float32_vectors: item 1, value 4 is nan" in e.value.details, e.value.details
        with pytest.raises(DPQError) as e:
            client.upsert_stream(b, ids=[200, 201, 202], vectors=db[:3], labels=[1, 9, 2])
        assert "columns.labels of item 1: label 9" in e.value.details, e.value.details
        assert client.count(b) == 63
    finally:
        client.delete_collection(a)
        client.delete_collection(b)
