"""1,000 concurrent calls on one connection (issue 17): every call ends OK or RESOURCE_EXHAUSTED (the
server's documented answer to overload), none UNAVAILABLE (a dropped connection, e.g. a GOAWAY), and
the server stays up. Unary calls through blocking futures and through grpc.aio, and server-streaming
WatchTraining calls through grpc.aio, each on a single channel (one HTTP/2 connection)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import grpc
import numpy as np
import pytest

from dpq_client import AsyncClient, Client, DPQError, TrainingProgress
from dpq_client._proto.dpq.v1 import common_pb2, search_pb2, search_pb2_grpc, server_pb2, server_pb2_grpc

from conftest import Server, clusters

N = 1000
ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
CALL_TIMEOUT = 120.0


def _check(outcomes: Counter, what: str, seconds: float) -> None:
    print(f"\n{what}: {dict((k.name if isinstance(k, grpc.StatusCode) else k, v) for k, v in outcomes.items())}"
          f" in {seconds:.2f} s")
    assert sum(outcomes.values()) == N
    assert set(outcomes) <= ALLOWED, f"{what}: {outcomes}"
    assert outcomes[grpc.StatusCode.OK] > 0


def _server_still_up(server: Server, client: Client) -> None:
    assert server.process.poll() is None, "the server process exited"
    with Client(server.address, timeout=10) as fresh:
        assert fresh.health() == "SERVING"
    assert client.health(timeout=10) == "SERVING"  # the loaded channel too


def _queries() -> np.ndarray:
    q, _ = clusters(2, seed=21)
    return q


def test_1000_concurrent_futures_on_one_channel(server: Server, client: Client, trained: str) -> None:
    channel = client.channel  # the client's one channel
    search = search_pb2_grpc.SearchServiceStub(channel)
    info = server_pb2_grpc.ServerInfoServiceStub(channel)
    q = _queries()
    request = search_pb2.SearchRequest(collection=trained, k=5,
                                       queries=common_pb2.DenseVectors(dimension=16, values=q.ravel().tolist()))
    start = time.monotonic()
    futures = [search.Search.future(request, timeout=CALL_TIMEOUT) if i % 2 == 0 else
               info.GetServerInfo.future(server_pb2.GetServerInfoRequest(), timeout=CALL_TIMEOUT)
               for i in range(N)]
    outcomes: Counter = Counter()
    for f in futures:
        try:
            f.result()
            outcomes[grpc.StatusCode.OK] += 1
        except grpc.RpcError as e:
            outcomes[e.code()] += 1
    _check(outcomes, "blocking futures (Search + GetServerInfo)", time.monotonic() - start)
    _server_still_up(server, client)


async def _gather(coros: list, what: str) -> tuple[Counter, list]:
    start = time.monotonic()
    results = await asyncio.gather(*coros, return_exceptions=True)
    outcomes: Counter = Counter()
    values = []
    for r in results:
        if isinstance(r, DPQError):
            outcomes[r.code] += 1
        elif isinstance(r, BaseException):
            outcomes[f"{type(r).__name__}: {r}"] += 1
        else:
            outcomes[grpc.StatusCode.OK] += 1
            values.append(r)
    _check(outcomes, what, time.monotonic() - start)
    return outcomes, values


@pytest.mark.asyncio
async def test_1000_concurrent_aio_calls_on_one_channel(server: Server, client: Client, trained: str) -> None:
    q = _queries()
    async with AsyncClient(server.address, timeout=CALL_TIMEOUT) as dpq:
        expected = await dpq.search(trained, q, k=5)
        coros = [dpq.search(trained, q, k=5) if i % 2 == 0 else dpq.server_info() for i in range(N)]
        _, values = await _gather(coros, "grpc.aio (search + server_info)")
        assert all(v == expected for v in values if isinstance(v, list))
        assert await dpq.health() == "SERVING"
    _server_still_up(server, client)


@pytest.mark.asyncio
async def test_1000_concurrent_aio_server_streams_on_one_channel(server: Server, client: Client, trained: str) -> None:
    info = client.get_collection(trained)
    assert info.training is not None
    job_id = info.training.job_id

    async with AsyncClient(server.address, timeout=CALL_TIMEOUT) as dpq:
        async def watch() -> list[TrainingProgress]:
            return [p async for p in dpq.watch_training(job_id=job_id, min_interval_ms=50, timeout=CALL_TIMEOUT)]

        _, values = await _gather([watch() for _ in range(N)], "grpc.aio WatchTraining streams")
        assert all(v and v[-1].state == "SUCCEEDED" and v[-1].job_id == job_id for v in values)
    _server_still_up(server, client)
