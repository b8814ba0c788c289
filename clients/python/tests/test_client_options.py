"""Channel-level options of the blocking client: metadata on every call, per-client defaults on a
shared channel, deadlines, and an existing (intercepted) channel."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from dpq_client import Client, DPQError

from conftest import SMALL_MODEL, Server, clusters


class _RecordMetadata(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        self.seen.append((details.method, tuple(details.metadata or ())))
        return continuation(details, request)


def test_metadata_is_sent_with_every_call(server: Server) -> None:
    recorder = _RecordMetadata()
    channel = grpc.intercept_channel(grpc.insecure_channel(server.address), recorder)
    with Client(server.address, channel=channel, metadata=[("x-api-key", "secret")]) as dpq:
        assert dpq.channel is channel
        assert dpq.health() == "SERVING"
        other = dpq.with_options(metadata=[("authorization", "Bearer t")], timeout=5)
        assert other.server_info().api_version == "dpq.v1" and other.timeout == 5 and dpq.timeout == 60.0
        other.close()  # leaves the shared channel open
        assert dpq.list_collections() is not None
    assert recorder.seen == [
        ("/grpc.health.v1.Health/Check", (("x-api-key", "secret"),)),
        ("/dpq.v1.ServerInfoService/GetServerInfo", (("authorization", "Bearer t"),)),
        ("/dpq.v1.CollectionService/ListCollections", (("x-api-key", "secret"),)),
    ]


class _RecordTimeouts(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self) -> None:
        self.timeouts: list[Any] = []

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        self.timeouts.append(details.timeout)
        return continuation(details, request)


def test_deadlines(server: Server, client: Client) -> None:
    recorder = _RecordTimeouts()
    channel = grpc.intercept_channel(grpc.insecure_channel(server.address), recorder)
    with Client(server.address, channel=channel, timeout=30) as dpq:
        dpq.health()                                   # the client's default
        dpq.health(timeout=7)                          # per call
        dpq.with_options(timeout=5).health()           # another default on the same channel
        dpq.with_options(timeout=None).health()        # none
    assert recorder.timeouts == [30, 7, 5, None]

    # An expiring deadline is DEADLINE_EXCEEDED: a watch of a long-running job with a deadline.
    name = "deadline-watch"
    client.create_collection(name, dim=16, num_classes=4, **SMALL_MODEL)
    try:
        x, y = clusters(240, seed=2)
        client.upload_training_data(name, x, y)
        job = client.start_training(name, dataset="default", epochs=10000, pretrain_epochs=0, batch_size=32)
        start = time.monotonic()
        with pytest.raises(DPQError) as e:
            for _ in client.watch_training(name, min_interval_ms=50, timeout=0.5):
                pass
        assert e.value.code == grpc.StatusCode.DEADLINE_EXCEEDED and time.monotonic() - start < 5
        assert client.get_collection(name).state == "TRAINING"  # the job is not affected
        client.cancel_training(job_id=job.job_id)
        assert list(client.watch_training(name))[-1].state == "CANCELLED"
    finally:
        client.delete_collection(name)


def test_channel_options_are_applied(server: Server) -> None:
    # A receive limit below the size of a GetCollection answer fails the call client-side.
    with Client(server.address) as ok:
        ok.create_collection("options-probe", dim=4)
        try:
            with Client(server.address, options=[("grpc.max_receive_message_length", 1)]) as dpq:
                with pytest.raises(DPQError) as e:
                    dpq.get_collection("options-probe")
                assert e.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        finally:
            ok.delete_collection("options-probe")
