"""The asyncio client against the real server: the same API and results as the blocking client."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
import numpy as np
import pytest
import pytest_asyncio

from dpq_client import AsyncClient, Client, DPQError, TrainingProgress
from dpq_client.aio import AsyncClient as AsyncClientFromModule

from conftest import QUICK_TRAINING, SMALL_MODEL, Server, clusters


@pytest_asyncio.fixture
async def aclient(server: Server) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.address, timeout=60.0) as c:
        yield c


def test_async_client_mirrors_the_blocking_client() -> None:
    """Every public method of Client exists on AsyncClient with the same parameters; unary methods are
    coroutines, the server streams async generators."""
    assert AsyncClient is AsyncClientFromModule
    streams = {"watch_training", "list_items"}
    public = [n for n, f in inspect.getmembers(Client, inspect.isfunction) if not n.startswith("_")]
    assert len(public) > 20
    for name in public:
        sync, aio = getattr(Client, name), getattr(AsyncClient, name, None)
        assert aio is not None, f"AsyncClient lacks {name}"
        if name in ("close", "with_options"):
            continue
        assert list(inspect.signature(sync).parameters) == list(inspect.signature(aio).parameters), name
        if name in streams:
            assert inspect.isasyncgenfunction(aio), name
        else:
            assert inspect.iscoroutinefunction(aio), name
    assert inspect.iscoroutinefunction(AsyncClient.close)


@pytest.mark.asyncio
async def test_health_info_and_context_manager(server: Server) -> None:
    async with AsyncClient(server.address, timeout=10) as dpq:
        assert await dpq.health() == "SERVING"
        info = await dpq.server_info()
        assert info.api_version == "dpq.v1" and "dpq.v1.SearchService" in info.services
        assert repr(dpq).startswith("AsyncClient(")


@pytest.mark.asyncio
async def test_search_and_reads_match_the_blocking_client(aclient: AsyncClient, client: Client, trained: str) -> None:
    q, _ = clusters(5, seed=11)
    assert await aclient.search(trained, q, k=5, bits=8) == client.search(trained, q, k=5, bits=8)
    assert await aclient.count(trained) == client.count(trained) == 200
    assert await aclient.count(trained, any_of=[1]) == client.count(trained, any_of=[1])
    codes = await aclient.encode(trained, q)
    assert np.array_equal(codes, client.encode(trained, q))
    np.testing.assert_allclose(await aclient.decode(trained, codes), client.decode(trained, codes))
    np.testing.assert_allclose(await aclient.decode(trained, codes[:, :2], bits=8),
                               client.decode(trained, codes[:, :2], bits=8))
    c2, f2 = await aclient.encode_features(trained, q)
    assert np.array_equal(c2, codes) and f2.shape == (5, 8)
    got = await aclient.get_items(trained, [0, 1, 999], with_vectors=True, with_codes=True)
    want = client.get_items(trained, [0, 1, 999], with_vectors=True, with_codes=True)
    assert got.missing_ids == want.missing_ids == [999]
    assert [i.id for i in got.items] == [0, 1]
    for a, b in zip(got.items, want.items):
        assert a.labels == b.labels
        assert np.array_equal(a.code, b.code) and np.array_equal(a.vector, b.vector)
    pages = [page async for page in aclient.list_items(trained, page_size=64, with_codes=True)]
    assert [len(p) for p in pages] == [64, 64, 64, 8]
    assert [i.id for p in pages for i in p] == list(range(200))
    ev = await aclient.evaluate(trained, q, [0, 1, 2, 3, 0], bits=8, precision_at=(5,))
    assert set(ev) == {8} and 0.0 <= ev[8]["map"] <= 1.0
    assert [c.name for c in await aclient.list_collections()] == [c.name for c in client.list_collections()]
    assert (await aclient.get_collection(trained)).state == "READY"


@pytest.mark.asyncio
async def test_collection_lifecycle_training_and_model_round_trip(aclient: AsyncClient) -> None:
    name = "aio-lifecycle"
    info = await aclient.create_collection(name, dim=16, num_classes=4, keep_vectors=True, **SMALL_MODEL)
    assert info.state == "UNTRAINED"
    try:
        x, y = clusters(240, seed=2)
        seen: list[TrainingProgress] = []

        async def on_progress(p: TrainingProgress) -> None:  # a coroutine callback is awaited
            seen.append(p)

        final = await aclient.train(name, x, y, chunk_rows=100, on_progress=on_progress, **QUICK_TRAINING)
        assert final.state == "SUCCEEDED" and seen and seen[-1] is final
        assert await aclient.list_training_data(name) == {"default": 240}

        db, dy = clusters(100, seed=3)
        r = await aclient.upsert(name, ids=range(50), vectors=db[:50], labels=dy[:50])
        assert (r.inserted, r.encoded, r.item_count) == (50, 50, 50)
        r = await aclient.upsert_stream(name, ids=range(50, 100), vectors=db[50:], labels=dy[50:], batch_size=16)
        assert (r.inserted, r.item_count) == (50, 100)
        hits = await aclient.search(name, db[:2], k=3, rescore=True, metric="squared_l2")
        assert len(hits) == 2 and hits[0][0].id == 0
        assert await aclient.delete_items(name, [0, 1, 12345]) == 2

        model = await aclient.export_model(name, chunk_bytes=4096)
        assert model[:8] and len(model) > 4096
        imported = await aclient.import_model("aio-imported", model, create_if_missing=True, chunk_bytes=1000)
        assert imported.created and imported.bytes_received == len(model)
        assert (await aclient.get_collection("aio-imported")).state == "READY"
        assert await aclient.delete_training_data(name) is True
        assert await aclient.delete_training_data(name, allow_missing=True) is False
    finally:
        assert await aclient.delete_collection(name) is True
        await aclient.delete_collection("aio-imported", allow_missing=True)
    assert await aclient.delete_collection(name, allow_missing=True) is False


@pytest.mark.asyncio
async def test_errors_are_dpq_errors(aclient: AsyncClient, trained: str) -> None:
    q, _ = clusters(2)
    for call in (
        aclient.get_collection("no-such"),
        aclient.search("no-such", q, k=3),
        aclient.export_model("no-such"),
        aclient.upload_training_data("no-such", q, [0, 1]),
    ):
        with pytest.raises(DPQError) as e:
            await call
        assert e.value.code == grpc.StatusCode.NOT_FOUND and isinstance(e.value.__cause__, grpc.RpcError)
    with pytest.raises(DPQError) as e:
        [p async for p in aclient.watch_training("no-such")]
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(DPQError) as e:
        await aclient.search(trained, np.zeros((2, 5), dtype=np.float32), k=3)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and "dimension" in e.value.details
    # Client-side input errors keep their type, also when raised inside a client stream.
    with pytest.raises(ValueError):
        await aclient.upsert_stream(trained, ids=[1, 2], vectors=np.zeros((3, 16)))
    with pytest.raises(ValueError):
        [p async for p in aclient.watch_training()]
    assert await aclient.count(trained) == 200  # the channel is still fine


@pytest.mark.asyncio
async def test_deadlines_and_cancelling_a_watch(aclient: AsyncClient) -> None:
    name = "aio-deadline"
    await aclient.create_collection(name, dim=16, num_classes=4, **SMALL_MODEL)
    try:
        x, y = clusters(240, seed=2)
        await aclient.upload_training_data(name, x, y)
        job = await aclient.start_training(name, dataset="default", epochs=10000, pretrain_epochs=0, batch_size=32)
        # A deadline on the (otherwise unbounded) watch: DEADLINE_EXCEEDED, and the job keeps running.
        with pytest.raises(DPQError) as e:
            async for _ in aclient.watch_training(name, min_interval_ms=50, timeout=0.5):
                pass
        assert e.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        # Leaving a watch early cancels the watch only.
        watch = aclient.watch_training(job_id=job.job_id, min_interval_ms=50)
        first = await watch.__anext__()
        await watch.aclose()
        assert first.job_id == job.job_id and not first.done
        assert (await aclient.get_collection(name)).state == "TRAINING"
        # The client's default timeout applies too (with_options: same channel, other defaults).
        short = aclient.with_options(timeout=0.3)
        with pytest.raises(DPQError) as e:
            async for _ in short.watch_training(name, timeout=short.timeout):
                pass
        assert e.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        await short.close()  # does not close the shared channel
        snap = await aclient.cancel_training(job_id=job.job_id)
        assert snap.job_id == job.job_id
        last = [p async for p in aclient.watch_training(name)][-1]
        assert last.state == "CANCELLED"
    finally:
        await aclient.delete_collection(name)


class _RecordMetadata(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        self.seen.append((method, tuple(details.metadata or ())))
        return await continuation(details, request)


@pytest.mark.asyncio
async def test_metadata_options_and_interceptors(server: Server) -> None:
    recorder = _RecordMetadata()
    async with AsyncClient(server.address, metadata=[("x-api-key", "secret")], interceptors=[recorder],
                           options=[("grpc.primary_user_agent", "dpq-test")]) as dpq:
        assert await dpq.health() == "SERVING"
        keyed = dpq.with_options(metadata=[("x-api-key", "other"), ("x-request-id", "7")])
        assert (await keyed.server_info()).api_version == "dpq.v1"
        assert keyed.channel is dpq.channel
    assert recorder.seen[0] == ("/grpc.health.v1.Health/Check", (("x-api-key", "secret"),))
    assert recorder.seen[1] == ("/dpq.v1.ServerInfoService/GetServerInfo",
                                (("x-api-key", "other"), ("x-request-id", "7")))


@pytest.mark.asyncio
async def test_concurrent_calls_on_one_channel(aclient: AsyncClient, trained: str) -> None:
    q, _ = clusters(4, seed=5)
    expected = await aclient.search(trained, q, k=4)
    results = await asyncio.gather(*(aclient.search(trained, q, k=4) for _ in range(50)),
                                   *(aclient.count(trained) for _ in range(50)))
    assert results[:50] == [expected] * 50 and results[50:] == [200] * 50


def test_unreachable_server_is_unavailable() -> None:
    async def probe() -> DPQError:
        async with AsyncClient("127.0.0.1:1", timeout=2) as c:
            with pytest.raises(DPQError) as e:
                await c.health()
            return e.value

    err = asyncio.run(probe())
    assert err.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
