"""The asyncio DPQ client (``grpc.aio``): :class:`AsyncClient` mirrors :class:`dpq_client.Client`
method for method, with ``await`` for unary and client-streaming calls and ``async for`` for the
server streams (:meth:`AsyncClient.watch_training`, :meth:`AsyncClient.list_items`).

>>> async with AsyncClient("127.0.0.1:50051") as dpq:
...     hits = await dpq.search("docs", queries, k=10)
...     async for p in dpq.watch_training("docs"):
...         print(p.state, p.percent)

Requests, response parsing and errors are shared with the blocking client (:mod:`dpq_client._ops`):
the same arguments, the same result types, :class:`DPQError` for every failed call. Create and use an
``AsyncClient`` inside the event loop that runs its calls.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from types import EllipsisType, TracebackType
from typing import Any, Callable, Optional, TypeVar, Union

import grpc
import grpc.aio
import numpy as np

from dpq_client import _collection_ops, _item_ops, _ops, _steps
from dpq_client._steps import Metadata, MetricLike
from dpq_client._wire import ItemIdLike, LabelsLike
from dpq_client.errors import DPQError
from dpq_client.types import (
    CollectionInfo,
    GetItemsResult,
    Hit,
    ImportModelResult,
    Item,
    ServerInfo,
    StartTrainingResult,
    TrainingProgress,
    UploadResult,
    UpsertResult,
)

__all__ = ["AsyncClient"]

T = TypeVar("T")
ProgressCallback = Callable[[TrainingProgress], Union[None, Awaitable[None]]]


class AsyncClient:
    """An asyncio connection to a DPQ server (one ``grpc.aio`` channel; any number of concurrent
    calls). The constructor takes the same arguments as :class:`dpq_client.Client` (``channel`` is a
    ``grpc.aio.Channel``), plus ``interceptors`` for ``grpc.aio`` client interceptors.

    Use it as ``async with AsyncClient(address) as dpq:`` or call ``await dpq.close()``.
    """

    def __init__(self, address: str = "127.0.0.1:50051", timeout: Optional[float] = 60.0,
                 *, max_message_bytes: int = 256 << 20, channel: Optional[grpc.aio.Channel] = None,
                 options: Sequence[tuple[str, Any]] = (), metadata: Metadata = (),
                 credentials: Optional[grpc.ChannelCredentials] = None,
                 interceptors: Optional[Sequence[grpc.aio.ClientInterceptor]] = None) -> None:
        self.address = address
        self.timeout = timeout
        self.metadata: tuple[tuple[str, Union[str, bytes]], ...] = tuple(metadata)
        if channel is None:
            target, cluster = _steps.channel_target(address)
            opts = _steps.channel_options(max_message_bytes, [*options, *cluster])
            if credentials is not None:
                channel = grpc.aio.secure_channel(target, credentials, options=opts, interceptors=interceptors)
            else:
                channel = grpc.aio.insecure_channel(target, options=opts, interceptors=interceptors)
        self._channel: grpc.aio.Channel = channel
        self._owns_channel = True
        self._stubs = _steps.stubs(channel)
        self._bytes_per_code: dict[str, int] = {}

    # ------------------------------------------------------------------ plumbing

    @property
    def channel(self) -> grpc.aio.Channel:
        """The underlying ``grpc.aio.Channel``."""
        return self._channel

    def with_options(self, *, timeout: Union[Optional[float], EllipsisType] = ...,
                     metadata: Optional[Metadata] = None) -> "AsyncClient":
        """A client on the same channel with another default ``timeout`` and/or ``metadata``.
        Closing it does not close the shared channel."""
        other = copy.copy(self)
        if not isinstance(timeout, EllipsisType):
            other.timeout = timeout
        if metadata is not None:
            other.metadata = tuple(metadata)
        other._owns_channel = False
        return other

    async def close(self, grace: Optional[float] = None) -> None:
        """Closes the channel; calls still running get ``grace`` seconds (None = cancelled now)."""
        if self._owns_channel:
            await self._channel.close(grace)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncClient({self.address!r}, timeout={self.timeout!r})"

    async def _run(self, op: _steps.Op[T], timeout: Optional[float]) -> T:
        deadline = self.timeout if timeout is None else timeout
        return await _steps.run_async(op, lambda step: self._execute(step, deadline))

    async def _execute(self, step: _steps.Step, timeout: Optional[float]) -> Any:
        method = getattr(self._stubs[step.service], step.method)
        metadata = self.metadata or None
        if isinstance(step, _steps.ClientStream):
            requests = _steps.GuardedRequests(step.requests)
            try:
                return await method(iter(requests), timeout=timeout, metadata=metadata)
            except (grpc.RpcError, asyncio.CancelledError) as e:
                # grpc.aio cancels the call when the request iterator raises.
                if requests.failure is not None:
                    raise requests.failure from None
                if isinstance(e, grpc.RpcError):
                    raise DPQError.from_rpc_error(e) from e
                raise
        try:
            if isinstance(step, _steps.CollectStream):
                return [m async for m in method(step.request, timeout=timeout, metadata=metadata)]
            return await method(step.request, timeout=timeout, metadata=metadata)
        except grpc.RpcError as e:
            raise DPQError.from_rpc_error(e) from e

    # ------------------------------------------------------------------ collections

    async def create_collection(self, name: str, dim: int, num_classes: int = 0, multi_label: bool = False,
                                blocks: Optional[int] = None, codebook_size: Optional[int] = None,
                                feature_dimension: Optional[int] = None,
                                hidden_sizes: Optional[Sequence[int]] = None, metric: MetricLike = None,
                                keep_vectors: bool = False, *, dropout: Optional[float] = None,
                                assignment: Optional[str] = None, classifier_input: Optional[str] = None,
                                training_defaults: Optional[Mapping[str, Any]] = None,
                                partition: Optional[str] = None, nlist: Optional[int] = None,
                                input_shape: Optional[Sequence[int]] = None, trunk: Optional[str] = None,
                                vector_precision: Optional[str] = None,
                                timeout: Optional[float] = None) -> CollectionInfo:
        """See :meth:`dpq_client.Client.create_collection`."""
        return await self._run(_collection_ops.create_collection(
            name, dim, num_classes, multi_label, blocks, codebook_size, feature_dimension, hidden_sizes, metric,
            keep_vectors, dropout=dropout, assignment=assignment, classifier_input=classifier_input,
            training_defaults=training_defaults, partition=partition, nlist=nlist,
            input_shape=input_shape, trunk=trunk, vector_precision=vector_precision), timeout)

    async def get_collection(self, name: str, *, timeout: Optional[float] = None) -> CollectionInfo:
        return await self._run(_collection_ops.get_collection(name), timeout)

    async def list_collections(self, *, timeout: Optional[float] = None) -> list[CollectionInfo]:
        return await self._run(_collection_ops.list_collections(), timeout)

    async def delete_collection(self, name: str, allow_missing: bool = False, *,
                                timeout: Optional[float] = None) -> bool:
        """See :meth:`dpq_client.Client.delete_collection`."""
        return await self._run(_collection_ops.delete_collection(self._bytes_per_code, name, allow_missing), timeout)

    # ------------------------------------------------------------------ training

    async def upload_training_data(self, name: str, vectors: Any, labels: LabelsLike = None,
                                   dataset: str = "default", chunk_rows: int = 4096, *, append: bool = False,
                                   timeout: Optional[float] = None) -> UploadResult:
        """See :meth:`dpq_client.Client.upload_training_data`."""
        return await self._run(_ops.upload_training_data(name, vectors, labels, dataset, chunk_rows, append),
                               timeout)

    async def list_training_data(self, name: str, *, timeout: Optional[float] = None) -> dict[str, int]:
        return await self._run(_ops.list_training_data(name), timeout)

    async def delete_training_data(self, name: str, dataset: str = "default", allow_missing: bool = False, *,
                                   timeout: Optional[float] = None) -> bool:
        return await self._run(_ops.delete_training_data(name, dataset, allow_missing), timeout)

    async def start_training(self, name: str, dataset: Optional[str] = None, *, items_sample_size: int = 0,
                             items_any_of: Optional[Sequence[int]] = None, timeout: Optional[float] = None,
                             **options: Any) -> StartTrainingResult:
        """See :meth:`dpq_client.Client.start_training`."""
        return await self._run(_ops.start_training(name, dataset, items_sample_size, items_any_of, options),
                               timeout)

    async def watch_training(self, name: Optional[str] = None, *, job_id: Optional[str] = None,
                             min_interval_ms: int = 250,
                             timeout: Optional[float] = None) -> AsyncIterator[TrainingProgress]:
        """``async for`` over the job's progress until it ends (see
        :meth:`dpq_client.Client.watch_training`). Closing the iterator early (``aclose()``, or
        leaving the loop of an ``aclosing`` block) cancels the watch, not the job."""
        req = _ops.watch_request(name, job_id, min_interval_ms)
        try:
            call = self._stubs[_steps.TRAINING].WatchTraining(req, timeout=timeout, metadata=self.metadata or None)
            try:
                async for m in call:
                    yield _ops.watch_progress(m)
            finally:
                call.cancel()
        except grpc.RpcError as e:
            raise DPQError.from_rpc_error(e) from e

    async def cancel_training(self, name: Optional[str] = None, *, job_id: Optional[str] = None,
                              timeout: Optional[float] = None) -> TrainingProgress:
        """See :meth:`dpq_client.Client.cancel_training`."""
        return await self._run(_ops.cancel_training(name, job_id), timeout)

    async def train(self, name: str, vectors: Any, labels: LabelsLike = None, *, dataset: str = "default",
                    chunk_rows: int = 4096, on_progress: Optional[ProgressCallback] = None,
                    min_interval_ms: int = 250, **options: Any) -> TrainingProgress:
        """See :meth:`dpq_client.Client.train`; ``on_progress`` may also be a coroutine function."""
        await self.upload_training_data(name, vectors, labels, dataset=dataset, chunk_rows=chunk_rows)
        job = await self.start_training(name, dataset=dataset, **options)
        last: Optional[TrainingProgress] = None
        async for p in self.watch_training(job_id=job.job_id, min_interval_ms=min_interval_ms):
            last = p
            if on_progress is not None:
                result = on_progress(p)
                if inspect.isawaitable(result):
                    await result
        return _ops.training_outcome(self._bytes_per_code, name, job.job_id, last)

    # ------------------------------------------------------------------ items

    async def upsert(self, name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike = None, *,
                     timeout: Optional[float] = None) -> UpsertResult:
        """See :meth:`dpq_client.Client.upsert`."""
        return await self._run(_item_ops.upsert(name, ids, vectors, labels), timeout)

    async def upsert_stream(self, name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike = None,
                            batch_size: int = 1024, *, timeout: Optional[float] = None) -> UpsertResult:
        """See :meth:`dpq_client.Client.upsert_stream`."""
        return await self._run(_item_ops.upsert_stream(name, ids, vectors, labels, batch_size), timeout)

    async def upsert_codes(self, name: str, ids: Sequence[ItemIdLike], codes: Any, model_sha256: str,
                           labels: LabelsLike = None, batch_size: Optional[int] = None, *,
                           timeout: Optional[float] = None) -> UpsertResult:
        """See :meth:`dpq_client.Client.upsert_codes`."""
        return await self._run(_item_ops.upsert_codes(self._bytes_per_code, name, ids, codes, labels, model_sha256,
                                                 batch_size), timeout)

    async def get_items(self, name: str, ids: Sequence[ItemIdLike], with_vectors: bool = False,
                        with_codes: bool = False, *, timeout: Optional[float] = None) -> GetItemsResult:
        return await self._run(_item_ops.get_items(self._bytes_per_code, name, ids, with_vectors, with_codes), timeout)

    async def delete_items(self, name: str, ids: Sequence[ItemIdLike], *, timeout: Optional[float] = None) -> int:
        return await self._run(_item_ops.delete_items(name, ids), timeout)

    async def count(self, name: str, any_of: Optional[Sequence[int]] = None, *,
                    timeout: Optional[float] = None) -> int:
        return await self._run(_item_ops.count(name, any_of), timeout)

    async def list_items(self, name: str, page_size: int = 100, any_of: Optional[Sequence[int]] = None,
                         with_vectors: bool = False, with_codes: bool = False, *,
                         timeout: Optional[float] = None) -> AsyncIterator[list[Item]]:
        """``async for`` over pages (lists of :class:`Item`) in insertion order."""
        token = ""
        while True:
            page, token = await self._run(_item_ops.list_items_page(
                self._bytes_per_code, name, token, page_size, any_of, with_vectors, with_codes), timeout)
            if page:
                yield page
            if not token:
                return

    # ------------------------------------------------------------------ search

    async def search(self, name: str, queries: Any, k: int = 10, bits: int = 0, metric: MetricLike = None,
                     any_of: Optional[Sequence[int]] = None, rescore: Union[None, bool, int] = None, *,
                     omit_labels: bool = False, nprobe: int = 0, timeout: Optional[float] = None) -> list[list[Hit]]:
        """See :meth:`dpq_client.Client.search`."""
        return await self._run(_ops.search(name, queries, k, bits, metric, any_of, rescore, omit_labels, nprobe), timeout)

    async def evaluate(self, name: str, queries: Any, labels: LabelsLike,
                       bits: Union[None, int, Sequence[int]] = None, map_r: int = 0,
                       precision_at: Sequence[int] = (), metric: MetricLike = None, *,
                       timeout: Optional[float] = None) -> dict[int, dict[str, Any]]:
        """See :meth:`dpq_client.Client.evaluate`."""
        return await self._run(_ops.evaluate(name, queries, labels, bits, map_r, precision_at, metric), timeout)

    # ------------------------------------------------------------------ models

    async def encode(self, name: str, vectors: Any, bits: int = 0, *,
                     timeout: Optional[float] = None) -> np.ndarray:
        return await self._run(_ops.encode(self._bytes_per_code, name, vectors, bits), timeout)

    async def encode_for_upsert(self, name: str, vectors: Any, *, timeout: Optional[float] = None) -> tuple[np.ndarray, str]:
        """See :meth:`dpq_client.Client.encode_for_upsert`."""
        return await self._run(_ops.encode_for_upsert(self._bytes_per_code, name, vectors), timeout)

    async def encode_features(self, name: str, vectors: Any, bits: int = 0, *,
                              timeout: Optional[float] = None) -> tuple[np.ndarray, np.ndarray]:
        return await self._run(_ops.encode_features(name, vectors, bits), timeout)

    async def decode(self, name: str, codes: Any, bits: int = 0, *, timeout: Optional[float] = None) -> np.ndarray:
        return await self._run(_ops.decode(self._bytes_per_code, name, codes, bits), timeout)

    async def export_model(self, name: str, *, chunk_bytes: int = 0, timeout: Optional[float] = None) -> bytes:
        return await self._run(_ops.export_model(name, chunk_bytes), timeout)

    async def import_model(self, name: str, data: Union[bytes, bytearray, memoryview],
                           create_if_missing: bool = False, *, keep_vectors: bool = False,
                           metric: MetricLike = None, chunk_bytes: int = 1 << 20,
                           timeout: Optional[float] = None) -> ImportModelResult:
        """See :meth:`dpq_client.Client.import_model`."""
        return await self._run(_ops.import_model(self._bytes_per_code, name, data, create_if_missing,
                                                 keep_vectors, metric, chunk_bytes), timeout)

    # ------------------------------------------------------------------ server

    async def server_info(self, *, timeout: Optional[float] = None) -> ServerInfo:
        return await self._run(_ops.server_info(), timeout)

    async def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        return await self._run(_ops.health(service), timeout)
