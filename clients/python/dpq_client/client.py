"""The blocking DPQ client: one method per RPC of dpq.v1, numpy arrays in and out.

The requests and the reading of the responses live in :mod:`dpq_client._ops`, shared with the asyncio
client :class:`dpq_client.aio.AsyncClient`; this module only runs them on a blocking channel.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from types import EllipsisType, TracebackType
from typing import Any, Callable, Optional, TypeVar, Union

import grpc
import numpy as np

from dpq_client import _collection_ops, _item_ops, _ops, _steps
from dpq_client._steps import Metadata, MetricLike, training_options
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

__all__ = ["Client", "MetricLike", "training_options"]

T = TypeVar("T")


class Client:
    """A connection to a DPQ server (one gRPC channel; safe to share between threads).

    >>> with Client("127.0.0.1:50051") as dpq:
    ...     dpq.create_collection("docs", dim=128, num_classes=10)

    ``timeout`` (seconds) is the deadline of every call except :meth:`watch_training`, which has none
    unless one is given; every method also takes its own ``timeout=``. ``metadata`` (e.g.
    ``[("x-api-key", "...")]``) is sent with every call; :meth:`with_options` makes a client with other
    defaults on the same channel. ``credentials`` (``grpc.ssl_channel_credentials()``) makes a TLS
    channel; ``options`` are extra gRPC channel arguments (keepalive, ...), and ``channel`` an existing
    ``grpc.Channel`` to use instead. Every failed call raises :class:`DPQError` (``.code``,
    ``.details``). Several servers (nodes of one store): ``address="10.0.0.1:50051,10.0.0.2:50051"``
    spreads calls round robin and retries the idempotent ones (reads, searches, upserts and deletes by
    id) on UNAVAILABLE.
    """

    def __init__(self, address: str = "127.0.0.1:50051", timeout: Optional[float] = 60.0,
                 *, max_message_bytes: int = 256 << 20, channel: Optional[grpc.Channel] = None,
                 options: Sequence[tuple[str, Any]] = (), metadata: Metadata = (),
                 credentials: Optional[grpc.ChannelCredentials] = None) -> None:
        self.address = address
        self.timeout = timeout
        self.metadata: tuple[tuple[str, Union[str, bytes]], ...] = tuple(metadata)
        if channel is None:
            target, cluster = _steps.channel_target(address)
            opts = _steps.channel_options(max_message_bytes, [*options, *cluster])
            if credentials is not None:
                channel = grpc.secure_channel(target, credentials, options=opts)
            else:
                channel = grpc.insecure_channel(target, options=opts)
        self._channel: grpc.Channel = channel
        self._owns_channel = True
        self._stubs = _steps.stubs(channel)
        self._bytes_per_code: dict[str, int] = {}

    # ------------------------------------------------------------------ plumbing

    @property
    def channel(self) -> grpc.Channel:
        """The underlying ``grpc.Channel`` (e.g. for generated stubs of the same API)."""
        return self._channel

    def with_options(self, *, timeout: Union[Optional[float], EllipsisType] = ...,
                     metadata: Optional[Metadata] = None) -> "Client":
        """A client on the same channel with another default ``timeout`` and/or ``metadata``
        (replacing this client's). Closing it does not close the shared channel."""
        other = copy.copy(self)
        if not isinstance(timeout, EllipsisType):
            other.timeout = timeout
        if metadata is not None:
            other.metadata = tuple(metadata)
        other._owns_channel = False
        return other

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.address!r}, timeout={self.timeout!r})"

    def _deadline(self, timeout: Optional[float]) -> Optional[float]:
        return self.timeout if timeout is None else timeout

    def _run(self, op: _steps.Op[T], timeout: Optional[float]) -> T:
        deadline = self._deadline(timeout)
        return _steps.run(op, lambda step: self._execute(step, deadline))

    def _execute(self, step: _steps.Step, timeout: Optional[float]) -> Any:
        method = getattr(self._stubs[step.service], step.method)
        metadata = self.metadata or None
        if isinstance(step, _steps.ClientStream):
            requests = _steps.GuardedRequests(step.requests)
            try:
                return method(iter(requests), timeout=timeout, metadata=metadata)
            except grpc.RpcError as e:
                if requests.failure is not None:
                    raise requests.failure from None
                raise DPQError.from_rpc_error(e) from e
        try:
            if isinstance(step, _steps.CollectStream):
                return list(method(step.request, timeout=timeout, metadata=metadata))
            return method(step.request, timeout=timeout, metadata=metadata)
        except grpc.RpcError as e:
            raise DPQError.from_rpc_error(e) from e

    # ------------------------------------------------------------------ collections

    def create_collection(self, name: str, dim: int, num_classes: int = 0, multi_label: bool = False,
                          blocks: Optional[int] = None, codebook_size: Optional[int] = None,
                          feature_dimension: Optional[int] = None, hidden_sizes: Optional[Sequence[int]] = None,
                          metric: MetricLike = None, keep_vectors: bool = False, *,
                          dropout: Optional[float] = None, assignment: Optional[str] = None,
                          classifier_input: Optional[str] = None,
                          training_defaults: Optional[Mapping[str, Any]] = None,
                          partition: Optional[str] = None, nlist: Optional[int] = None,
                          input_shape: Optional[Sequence[int]] = None, trunk: Optional[str] = None,
                          vector_precision: Optional[str] = None,
                          timeout: Optional[float] = None) -> CollectionInfo:
        """Creates an empty UNTRAINED collection of ``dim``-dimensional vectors.

        ``num_classes > 0`` makes a supervised collection (label mode SINGLE, or MULTI with
        ``multi_label``); 0 makes an unsupervised one (residual quantisation of the standardised
        input). ``blocks`` (M), ``codebook_size`` (K), ``feature_dimension`` (D) and ``hidden_sizes``
        (None = server default, [] = no hidden layer) shape the model; None takes the server default.
        ``training_defaults`` takes the keys of :func:`training_options`. ``partition`` ("kmeans",
        "first_block" or "none") and ``nlist`` (k-means lists, 0 = chosen from the item count) set the
        inverted lists that searches with ``nprobe`` scan (None = k-means, automatic). Image collections:
        ``input_shape`` (height, width, channels), with ``dim`` 0 or their product (rows are pixels in
        H x W x C order; send uint8 arrays to move bytes, not floats), and ``trunk``, a layer spec such as
        ``"conv3x3-32,bn,relu,maxpool2,flatten"`` (see ModelConfig.trunk in models.proto).
        ``vector_precision`` ("float32" or "float16", with ``keep_vectors``): how kept vectors are
        stored; float16 halves the disk and rounds them to about 3 significant digits."""
        return self._run(_collection_ops.create_collection(
            name, dim, num_classes, multi_label, blocks, codebook_size, feature_dimension, hidden_sizes, metric,
            keep_vectors, dropout=dropout, assignment=assignment, classifier_input=classifier_input,
            training_defaults=training_defaults, partition=partition, nlist=nlist,
            input_shape=input_shape, trunk=trunk, vector_precision=vector_precision), timeout)

    def get_collection(self, name: str, *, timeout: Optional[float] = None) -> CollectionInfo:
        return self._run(_collection_ops.get_collection(name), timeout)

    def list_collections(self, *, timeout: Optional[float] = None) -> list[CollectionInfo]:
        return self._run(_collection_ops.list_collections(), timeout)

    def delete_collection(self, name: str, allow_missing: bool = False, *, timeout: Optional[float] = None) -> bool:
        """Deletes a collection with its items, model and datasets; returns whether it existed."""
        return self._run(_collection_ops.delete_collection(self._bytes_per_code, name, allow_missing), timeout)

    # ------------------------------------------------------------------ training

    def upload_training_data(self, name: str, vectors: Any, labels: LabelsLike = None, dataset: str = "default",
                             chunk_rows: int = 4096, *, append: bool = False,
                             timeout: Optional[float] = None) -> UploadResult:
        """Uploads training rows as one client stream of ``chunk_rows``-row chunks. Replaces the
        dataset (or appends to it with ``append=True``); atomic. ``labels``: one int per row, or one
        sequence of ints per row (multi-label)."""
        return self._run(_ops.upload_training_data(name, vectors, labels, dataset, chunk_rows, append), timeout)

    def list_training_data(self, name: str, *, timeout: Optional[float] = None) -> dict[str, int]:
        """Dataset name -> rows."""
        return self._run(_ops.list_training_data(name), timeout)

    def delete_training_data(self, name: str, dataset: str = "default", allow_missing: bool = False, *,
                             timeout: Optional[float] = None) -> bool:
        return self._run(_ops.delete_training_data(name, dataset, allow_missing), timeout)

    def start_training(self, name: str, dataset: Optional[str] = None, *, items_sample_size: int = 0,
                       items_any_of: Optional[Sequence[int]] = None, timeout: Optional[float] = None,
                       **options: Any) -> StartTrainingResult:
        """Starts a background training job on an uploaded ``dataset`` or, with ``dataset=None``, on
        the collection's stored items (optionally a sample / a label-filtered subset). ``options`` are
        :func:`training_options` keywords overriding the collection's training defaults."""
        return self._run(_ops.start_training(name, dataset, items_sample_size, items_any_of, options), timeout)

    def watch_training(self, name: Optional[str] = None, *, job_id: Optional[str] = None,
                       min_interval_ms: int = 250, timeout: Optional[float] = None) -> Iterator[TrainingProgress]:
        """Yields the progress of the collection's current (or latest) job, or of ``job_id``, until the
        job ends; the last snapshot has a terminal state. No deadline unless ``timeout`` is given.
        Closing the iterator early cancels the watch (not the job)."""
        return self._watch(_ops.watch_request(name, job_id, min_interval_ms), timeout)

    def _watch(self, req: Any, timeout: Optional[float]) -> Iterator[TrainingProgress]:
        try:
            call = self._stubs[_steps.TRAINING].WatchTraining(req, timeout=timeout, metadata=self.metadata or None)
            try:
                for m in call:
                    yield _ops.watch_progress(m)
            finally:
                call.cancel()
        except grpc.RpcError as e:
            raise DPQError.from_rpc_error(e) from e

    def cancel_training(self, name: Optional[str] = None, *, job_id: Optional[str] = None,
                        timeout: Optional[float] = None) -> TrainingProgress:
        """Asks the running job to stop (cooperative); returns its snapshot at the time of asking."""
        return self._run(_ops.cancel_training(name, job_id), timeout)

    def train(self, name: str, vectors: Any, labels: LabelsLike = None, *, dataset: str = "default",
              chunk_rows: int = 4096, on_progress: Optional[Callable[[TrainingProgress], None]] = None,
              min_interval_ms: int = 250, **options: Any) -> TrainingProgress:
        """Uploads ``vectors``/``labels`` as ``dataset``, trains on it and waits for the end, calling
        ``on_progress`` with every snapshot. Returns the final snapshot; raises
        :class:`TrainingFailedError` if the job ends FAILED or CANCELLED."""
        self.upload_training_data(name, vectors, labels, dataset=dataset, chunk_rows=chunk_rows)
        job = self.start_training(name, dataset=dataset, **options)
        last: Optional[TrainingProgress] = None
        for p in self.watch_training(job_id=job.job_id, min_interval_ms=min_interval_ms):
            last = p
            if on_progress is not None:
                on_progress(p)
        return _ops.training_outcome(self._bytes_per_code, name, job.job_id, last)

    # ------------------------------------------------------------------ items

    def upsert(self, name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike = None, *,
               timeout: Optional[float] = None) -> UpsertResult:
        """Inserts or replaces items (one batch, all-or-nothing). ``ids`` are ints (uint64) or strs;
        ``vectors`` a (n, dim) array; ``labels`` one int or one sequence of ints per item."""
        return self._run(_item_ops.upsert(name, ids, vectors, labels), timeout)

    def upsert_stream(self, name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike = None,
                      batch_size: int = 1024, *, timeout: Optional[float] = None) -> UpsertResult:
        """Bulk upsert over one client stream of ``batch_size``-item batches. Batches are applied as
        they arrive (on an error the earlier ones stay applied; upserts are idempotent)."""
        return self._run(_item_ops.upsert_stream(name, ids, vectors, labels, batch_size), timeout)

    def upsert_codes(self, name: str, ids: Sequence[ItemIdLike], codes: Any, model_sha256: str,
                     labels: LabelsLike = None, batch_size: Optional[int] = None, *,
                     timeout: Optional[float] = None) -> UpsertResult:
        """Inserts or replaces items given as full codes computed elsewhere with the collection's model
        (:meth:`encode_for_upsert` on any server holding it), for bulk loads; ``model_sha256`` names that
        model and the server refuses the codes (FAILED_PRECONDITION) unless it serves it. The collection
        must keep no vectors. ``codes``: a 2-D uint8/uint16 array of code words or a list of bytes.
        One batch (``batch_size`` None) or a client stream of ``batch_size``-item batches."""
        return self._run(_item_ops.upsert_codes(self._bytes_per_code, name, ids, codes, labels, model_sha256, batch_size),
                         timeout)

    def get_items(self, name: str, ids: Sequence[ItemIdLike], with_vectors: bool = False,
                  with_codes: bool = False, *, timeout: Optional[float] = None) -> GetItemsResult:
        """The items with these ids (in request order) and the ids not found."""
        return self._run(_item_ops.get_items(self._bytes_per_code, name, ids, with_vectors, with_codes), timeout)

    def delete_items(self, name: str, ids: Sequence[ItemIdLike], *, timeout: Optional[float] = None) -> int:
        """Deletes items by id; returns how many existed. Missing ids are ignored."""
        return self._run(_item_ops.delete_items(name, ids), timeout)

    def count(self, name: str, any_of: Optional[Sequence[int]] = None, *, timeout: Optional[float] = None) -> int:
        """Number of items (with at least one of the labels ``any_of``, when given)."""
        return self._run(_item_ops.count(name, any_of), timeout)

    def list_items(self, name: str, page_size: int = 100, any_of: Optional[Sequence[int]] = None,
                   with_vectors: bool = False, with_codes: bool = False, *,
                   timeout: Optional[float] = None) -> Iterator[list[Item]]:
        """Yields pages (lists of :class:`Item`) in insertion order until the last page."""
        token = ""
        while True:
            page, token = self._run(_item_ops.list_items_page(
                self._bytes_per_code, name, token, page_size, any_of, with_vectors, with_codes), timeout)
            if page:
                yield page
            if not token:
                return

    # ------------------------------------------------------------------ search

    def search(self, name: str, queries: Any, k: int = 10, bits: int = 0, metric: MetricLike = None,
               any_of: Optional[Sequence[int]] = None, rescore: Union[None, bool, int] = None, *,
               omit_labels: bool = False, nprobe: int = 0, timeout: Optional[float] = None) -> list[list[Hit]]:
        """The ``k`` best items for each query row, best first, at code length ``bits`` (0 = full).
        ``any_of`` restricts to items with one of these labels; ``rescore`` (True or an oversampling
        factor) re-ranks candidates with the stored originals (needs keep_vectors). ``nprobe`` > 0 scans
        only that many of the collection's inverted lists per query (``CollectionInfo.index_lists``);
        0 scans every item."""
        return self._run(_ops.search(name, queries, k, bits, metric, any_of, rescore, omit_labels, nprobe), timeout)

    def evaluate(self, name: str, queries: Any, labels: LabelsLike, bits: Union[None, int, Sequence[int]] = None,
                 map_r: int = 0, precision_at: Sequence[int] = (), metric: MetricLike = None, *,
                 timeout: Optional[float] = None) -> dict[int, dict[str, Any]]:
        """Retrieval quality of the codes for labelled queries: ``{bits: {"map": mAP@R,
        "precision": {k: precision@k}}}`` for each code length (``bits`` None = every length)."""
        return self._run(_ops.evaluate(name, queries, labels, bits, map_r, precision_at, metric), timeout)

    # ------------------------------------------------------------------ models

    def encode(self, name: str, vectors: Any, bits: int = 0, *, timeout: Optional[float] = None) -> np.ndarray:
        """Codes of the rows: a (rows, bits / log2 K) array of code words, uint8 when K <= 256 else
        uint16."""
        return self._run(_ops.encode(self._bytes_per_code, name, vectors, bits), timeout)

    def encode_for_upsert(self, name: str, vectors: Any, *, timeout: Optional[float] = None) -> tuple[np.ndarray, str]:
        """Full codes of the rows and the sha256 of the model that computed them: what
        :meth:`upsert_codes` needs, on this server or any other serving the same model."""
        return self._run(_ops.encode_for_upsert(self._bytes_per_code, name, vectors), timeout)

    def encode_features(self, name: str, vectors: Any, bits: int = 0, *,
                        timeout: Optional[float] = None) -> tuple[np.ndarray, np.ndarray]:
        """Codes and the unquantised features f of the rows (network output, or standardised input)."""
        return self._run(_ops.encode_features(name, vectors, bits), timeout)

    def decode(self, name: str, codes: Any, bits: int = 0, *, timeout: Optional[float] = None) -> np.ndarray:
        """Reconstructions (rows, quantized_dimension) of codes of ``bits`` length (0 = full codes).
        ``codes``: a 2-D uint8/uint16 array of code words (as :meth:`encode` returns) or a list of the
        raw code bytes."""
        return self._run(_ops.decode(self._bytes_per_code, name, codes, bits), timeout)

    def export_model(self, name: str, *, chunk_bytes: int = 0, timeout: Optional[float] = None) -> bytes:
        """The collection's model as a safetensors file (see :mod:`dpq_client.safetensors`). The size
        and SHA-256 announced by the server are verified."""
        return self._run(_ops.export_model(name, chunk_bytes), timeout)

    def import_model(self, name: str, data: Union[bytes, bytearray, memoryview], create_if_missing: bool = False, *,
                     keep_vectors: bool = False, metric: MetricLike = None, chunk_bytes: int = 1 << 20,
                     timeout: Optional[float] = None) -> ImportModelResult:
        """Uploads a safetensors model (e.g. from :meth:`export_model`) as the collection's model,
        re-encoding its items. With ``create_if_missing`` a missing collection is created from the
        file's configuration (with ``keep_vectors`` and ``metric``)."""
        return self._run(_ops.import_model(self._bytes_per_code, name, data, create_if_missing, keep_vectors,
                                           metric, chunk_bytes), timeout)

    # ------------------------------------------------------------------ server

    def server_info(self, *, timeout: Optional[float] = None) -> ServerInfo:
        return self._run(_ops.server_info(), timeout)

    def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        """The standard health check: "SERVING", "NOT_SERVING", ... ("" = the whole server)."""
        return self._run(_ops.health(service), timeout)
