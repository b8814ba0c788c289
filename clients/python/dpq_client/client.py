"""The DPQ client: one method per RPC of dpq.v1, numpy arrays in and out."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Callable, Optional, TypeVar, Union

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dpq_client import _wire
from dpq_client._proto.dpq.v1 import (
    collections_pb2,
    collections_pb2_grpc,
    common_pb2,
    items_pb2,
    items_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
    search_pb2,
    search_pb2_grpc,
    server_pb2,
    server_pb2_grpc,
    training_pb2,
    training_pb2_grpc,
)
from dpq_client._wire import ItemIdLike, LabelsLike
from dpq_client.errors import DPQError, TrainingFailedError
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
    message_fields,
)

T = TypeVar("T")
MetricLike = Union[None, str, int]

_METRICS = {
    "squared_l2": common_pb2.METRIC_SQUARED_L2,
    "l2": common_pb2.METRIC_SQUARED_L2,
    "euclidean": common_pb2.METRIC_SQUARED_L2,
    "inner_product": common_pb2.METRIC_INNER_PRODUCT,
    "ip": common_pb2.METRIC_INNER_PRODUCT,
    "dot": common_pb2.METRIC_INNER_PRODUCT,
}

# TrainingOptions enum fields: field name -> (enum descriptor, value prefix)
_OPTION_ENUMS = {
    "mode": (training_pb2.TrainingMode, "TRAINING_MODE_"),
    "optimizer": (training_pb2.Optimizer, "OPTIMIZER_"),
    "schedule": (training_pb2.LearningRateSchedule, "LEARNING_RATE_SCHEDULE_"),
    "codebook_init": (training_pb2.CodebookInit, "CODEBOOK_INIT_"),
}
_LOSS_WEIGHTS = ("lambda_cls", "lambda_quantized", "tau", "mu", "nu")


def _metric(value: MetricLike) -> int:
    if value is None:
        return common_pb2.METRIC_UNSPECIFIED
    if isinstance(value, int):
        return value
    key = value.strip().lower().removeprefix("metric_")
    if key not in _METRICS:
        raise ValueError(f"unknown metric {value!r}; use 'squared_l2' or 'inner_product'")
    return _METRICS[key]


def _enum_value(enum: Any, prefix: str, value: Union[str, int], what: str) -> int:
    if isinstance(value, int):
        return value
    name = value.strip().upper()
    if not name.startswith(prefix):
        name = prefix + name
    try:
        return int(enum.Value(name))
    except ValueError:
        choices = [n[len(prefix):].lower() for n in enum.keys() if not n.endswith("UNSPECIFIED")]
        raise ValueError(f"{what}: unknown value {value!r}; one of {choices}") from None


def training_options(options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> training_pb2.TrainingOptions:
    """TrainingOptions from keyword arguments named like the proto fields, e.g.
    ``epochs=3, pretrain_epochs=2, batch_size=64, learning_rate=1e-3, optimizer="sgd", seed=7``.
    Enum fields take short names (mode "end_to_end"/"two_step", optimizer "adam"/"sgd", schedule
    "constant"/"cosine"/"step", codebook_init "residual_kmeans"/"random"). Loss weights may be given
    flat (lambda_cls, lambda_quantized, tau, mu, nu) or as ``loss_weights={...}``. Unset = inherit."""
    merged: dict[str, Any] = dict(options or {})
    merged.update(kwargs)
    msg = training_pb2.TrainingOptions()
    weights: dict[str, Any] = dict(merged.pop("loss_weights", None) or {})
    for key in _LOSS_WEIGHTS:
        if key in merged:
            weights[key] = merged.pop(key)
    fields = training_pb2.TrainingOptions.DESCRIPTOR.fields_by_name
    for key, value in merged.items():
        if value is None:
            continue
        if key in _OPTION_ENUMS:
            enum, prefix = _OPTION_ENUMS[key]
            setattr(msg, key, _enum_value(enum, prefix, value, key))
        elif key in fields:
            setattr(msg, key, value)
        else:
            known = sorted(set(fields) - {"loss_weights"} | set(_LOSS_WEIGHTS))
            raise TypeError(f"unknown training option {key!r}; known: {', '.join(known)}")
    for key, value in weights.items():
        if key not in _LOSS_WEIGHTS:
            raise TypeError(f"unknown loss weight {key!r}; known: {', '.join(_LOSS_WEIGHTS)}")
        if value is not None:
            setattr(msg.loss_weights, key, float(value))
    return msg


class Client:
    """A connection to a DPQ server.

    >>> with Client("127.0.0.1:50051") as dpq:
    ...     dpq.create_collection("docs", dim=128, num_classes=10)

    ``timeout`` (seconds) is the deadline of every call except :meth:`watch_training`, which has none
    unless one is given. Every failed call raises :class:`DPQError` (``.code``, ``.details``).
    """

    def __init__(self, address: str = "127.0.0.1:50051", timeout: Optional[float] = 60.0,
                 *, max_message_bytes: int = 256 << 20, channel: Optional[grpc.Channel] = None,
                 options: Sequence[tuple[str, Any]] = ()) -> None:
        self.address = address
        self.timeout = timeout
        if channel is None:
            channel = grpc.insecure_channel(address, options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
                *options,
            ])
        self._channel = channel
        self._collections = collections_pb2_grpc.CollectionServiceStub(channel)
        self._training = training_pb2_grpc.TrainingServiceStub(channel)
        self._items = items_pb2_grpc.ItemServiceStub(channel)
        self._search = search_pb2_grpc.SearchServiceStub(channel)
        self._models = models_pb2_grpc.ModelServiceStub(channel)
        self._info = server_pb2_grpc.ServerInfoServiceStub(channel)
        self._health = health_pb2_grpc.HealthStub(channel)
        self._bytes_per_code: dict[str, int] = {}

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.address!r}, timeout={self.timeout!r})"

    def _call(self, method: Callable[..., T], request: Any, timeout: Optional[float] = None) -> T:
        try:
            return method(request, timeout=self.timeout if timeout is None else timeout)
        except grpc.RpcError as e:
            raise DPQError.from_rpc_error(e) from e

    def _stream_call(self, method: Callable[..., T], requests: Iterator[Any], timeout: Optional[float] = None) -> T:
        """A client-streaming call. An exception raised while producing the requests (e.g. bad input
        in a later chunk) cancels the stream and is re-raised as itself, not as gRPC's opaque
        "Exception iterating requests!"."""
        failure: list[BaseException] = []

        def guarded() -> Iterator[Any]:
            try:
                yield from requests
            except Exception as e:
                failure.append(e)
                raise

        try:
            return method(guarded(), timeout=self.timeout if timeout is None else timeout)
        except grpc.RpcError as e:
            if failure:
                raise failure[0] from None
            raise DPQError.from_rpc_error(e) from e

    @staticmethod
    @contextlib.contextmanager
    def _rpc() -> Iterator[None]:
        try:
            yield
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
                          timeout: Optional[float] = None) -> CollectionInfo:
        """Creates an empty UNTRAINED collection of ``dim``-dimensional vectors.

        ``num_classes > 0`` makes a supervised collection (label mode SINGLE, or MULTI with
        ``multi_label``); 0 makes an unsupervised one (residual quantisation of the standardised
        input). ``blocks`` (M), ``codebook_size`` (K), ``feature_dimension`` (D) and ``hidden_sizes``
        (None = server default, [] = no hidden layer) shape the model; None takes the server default.
        ``training_defaults`` takes the keys of :func:`training_options`."""
        model = models_pb2.ModelConfig(
            blocks=blocks or 0,
            codebook_size=codebook_size or 0,
            feature_dimension=feature_dimension or 0,
            num_classes=num_classes,
        )
        if num_classes > 0:
            model.label_mode = models_pb2.LABEL_MODE_MULTI if multi_label else models_pb2.LABEL_MODE_SINGLE
        else:
            model.label_mode = models_pb2.LABEL_MODE_NONE
        if hidden_sizes is not None:
            model.hidden_sizes.SetInParent()
            model.hidden_sizes.sizes.extend(int(h) for h in hidden_sizes)
        if dropout is not None:
            model.dropout = float(dropout)
        if assignment is not None:
            model.assignment = _enum_value(models_pb2.Assignment, "ASSIGNMENT_", assignment, "assignment")
        if classifier_input is not None:
            model.classifier_input = _enum_value(models_pb2.ClassifierInput, "CLASSIFIER_INPUT_",
                                                 classifier_input, "classifier_input")
        config = collections_pb2.CollectionConfig(
            input_dimension=int(dim), model=model, metric=_metric(metric), keep_vectors=keep_vectors)
        if training_defaults:
            config.training_defaults.CopyFrom(training_options(training_defaults))
        r = self._call(self._collections.CreateCollection,
                       collections_pb2.CreateCollectionRequest(name=name, config=config), timeout)
        return CollectionInfo.from_proto(r.collection)

    def get_collection(self, name: str, *, timeout: Optional[float] = None) -> CollectionInfo:
        r = self._call(self._collections.GetCollection, collections_pb2.GetCollectionRequest(name=name), timeout)
        return CollectionInfo.from_proto(r.collection)

    def list_collections(self, *, timeout: Optional[float] = None) -> list[CollectionInfo]:
        r = self._call(self._collections.ListCollections, collections_pb2.ListCollectionsRequest(), timeout)
        return [CollectionInfo.from_proto(c) for c in r.collections]

    def delete_collection(self, name: str, allow_missing: bool = False, *, timeout: Optional[float] = None) -> bool:
        """Deletes a collection with its items, model and datasets; returns whether it existed."""
        self._bytes_per_code.pop(name, None)
        r = self._call(self._collections.DeleteCollection,
                       collections_pb2.DeleteCollectionRequest(name=name, allow_missing=allow_missing), timeout)
        return r.deleted

    # ------------------------------------------------------------------ training

    def upload_training_data(self, name: str, vectors: Any, labels: LabelsLike = None, dataset: str = "default",
                             chunk_rows: int = 4096, *, append: bool = False,
                             timeout: Optional[float] = None) -> UploadResult:
        """Uploads training rows as one client stream of ``chunk_rows``-row chunks. Replaces the
        dataset (or appends to it with ``append=True``); atomic. ``labels``: one int per row, or one
        sequence of ints per row (multi-label)."""
        x = _wire.as_matrix(vectors)
        lists = _wire.label_lists(labels, x.shape[0])
        step = max(int(chunk_rows), 1)
        mode = training_pb2.UPLOAD_MODE_APPEND if append else training_pb2.UPLOAD_MODE_REPLACE

        def requests() -> Iterator[training_pb2.UploadTrainingDataRequest]:
            starts = range(0, x.shape[0], step) if x.shape[0] else [0]
            for start in starts:
                r = training_pb2.UploadTrainingDataRequest(vectors=_wire.dense(x[start:start + step]))
                if start == 0:
                    r.collection, r.dataset, r.mode = name, dataset, mode
                if lists is not None:
                    rl = _wire.row_labels(lists[start:start + step], len(lists[start:start + step]))
                    if rl is not None:
                        r.labels.CopyFrom(rl)
                yield r

        r = self._stream_call(self._training.UploadTrainingData, requests(), timeout)
        return UploadResult(r.collection, r.dataset, r.chunks_received, r.rows_received, r.dataset_rows)

    def list_training_data(self, name: str, *, timeout: Optional[float] = None) -> dict[str, int]:
        """Dataset name -> rows."""
        r = self._call(self._training.ListTrainingData, training_pb2.ListTrainingDataRequest(collection=name), timeout)
        return {d.name: d.rows for d in r.datasets}

    def delete_training_data(self, name: str, dataset: str = "default", allow_missing: bool = False, *,
                             timeout: Optional[float] = None) -> bool:
        r = self._call(self._training.DeleteTrainingData, training_pb2.DeleteTrainingDataRequest(
            collection=name, dataset=dataset, allow_missing=allow_missing), timeout)
        return r.deleted

    def start_training(self, name: str, dataset: Optional[str] = None, *, items_sample_size: int = 0,
                       items_any_of: Optional[Sequence[int]] = None, timeout: Optional[float] = None,
                       **options: Any) -> StartTrainingResult:
        """Starts a background training job on an uploaded ``dataset`` or, with ``dataset=None``, on
        the collection's stored items (optionally a sample / a label-filtered subset). ``options`` are
        :func:`training_options` keywords overriding the collection's training defaults."""
        req = training_pb2.StartTrainingRequest(collection=name, options=training_options(options))
        if dataset is not None:
            req.dataset = dataset
        else:
            req.items.sample_size = items_sample_size
            if items_any_of is not None:
                req.items.filter.any_of.extend(items_any_of)
        r = self._call(self._training.StartTraining, req, timeout)
        return StartTrainingResult(r.job_id, r.training_rows, message_fields(r.effective_options))

    def watch_training(self, name: Optional[str] = None, *, job_id: Optional[str] = None,
                       min_interval_ms: int = 250, timeout: Optional[float] = None) -> Iterator[TrainingProgress]:
        """Yields the progress of the collection's current (or latest) job, or of ``job_id``, until the
        job ends; the last snapshot has a terminal state. No deadline unless ``timeout`` is given.
        Closing the iterator early cancels the watch (not the job)."""
        if (name is None) == (job_id is None):
            raise ValueError("give exactly one of name and job_id")
        req = training_pb2.WatchTrainingRequest(min_interval_ms=min_interval_ms)
        if job_id is not None:
            req.job_id = job_id
        else:
            req.collection = name  # type: ignore[assignment]
        return self._watch(req, timeout)

    def _watch(self, req: training_pb2.WatchTrainingRequest, timeout: Optional[float]) -> Iterator[TrainingProgress]:
        with self._rpc():
            call = self._training.WatchTraining(req, timeout=timeout)
        try:
            with self._rpc():
                for m in call:
                    yield TrainingProgress.from_proto(m.progress)
        finally:
            call.cancel()

    def cancel_training(self, name: Optional[str] = None, *, job_id: Optional[str] = None,
                        timeout: Optional[float] = None) -> TrainingProgress:
        """Asks the running job to stop (cooperative); returns its snapshot at the time of asking."""
        if (name is None) == (job_id is None):
            raise ValueError("give exactly one of name and job_id")
        req = training_pb2.CancelTrainingRequest()
        if job_id is not None:
            req.job_id = job_id
        else:
            req.collection = name  # type: ignore[assignment]
        return TrainingProgress.from_proto(self._call(self._training.CancelTraining, req, timeout).progress)

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
        if last is None or last.state != "SUCCEEDED":
            state = last.state if last else "UNKNOWN"
            code = grpc.StatusCode.CANCELLED if state == "CANCELLED" else grpc.StatusCode.ABORTED
            raise TrainingFailedError(code, f"training job {job.job_id} ended {state}: {last.error if last else ''}",
                                      last)
        self._bytes_per_code.pop(name, None)
        return last

    # ------------------------------------------------------------------ items

    @staticmethod
    def _item_messages(ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike) -> list[items_pb2.Item]:
        x = _wire.as_matrix(vectors)
        ids = list(ids)
        if len(ids) != x.shape[0]:
            raise ValueError(f"ids has {len(ids)} entries, vectors has {x.shape[0]} rows")
        lists = _wire.label_lists(labels, x.shape[0])
        out = []
        for i, (id_, row) in enumerate(zip(ids, x)):
            item = items_pb2.Item(id=_wire.item_id(id_), labels=lists[i] if lists is not None else ())
            item.vector.MergeFrom(_wire.vector(row))
            out.append(item)
        return out

    def upsert(self, name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike = None, *,
               timeout: Optional[float] = None) -> UpsertResult:
        """Inserts or replaces items (one batch, all-or-nothing). ``ids`` are ints (uint64) or strs;
        ``vectors`` a (n, dim) array; ``labels`` one int or one sequence of ints per item."""
        req = items_pb2.UpsertItemsRequest(collection=name, items=self._item_messages(ids, vectors, labels))
        r = self._call(self._items.UpsertItems, req, timeout)
        return UpsertResult(r.inserted, r.replaced, r.encoded, r.item_count)

    def upsert_stream(self, name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike = None,
                      batch_size: int = 1024, *, timeout: Optional[float] = None) -> UpsertResult:
        """Bulk upsert over one client stream of ``batch_size``-item batches. Batches are applied as
        they arrive (on an error the earlier ones stay applied; upserts are idempotent)."""
        x = _wire.as_matrix(vectors)
        ids = list(ids)
        lists = _wire.label_lists(labels, x.shape[0])
        step = max(int(batch_size), 1)

        def requests() -> Iterator[items_pb2.UpsertItemsRequest]:
            for start in range(0, x.shape[0], step):
                end = start + step
                batch = self._item_messages(ids[start:end], x[start:end], lists[start:end] if lists is not None else None)
                yield items_pb2.UpsertItemsRequest(collection=name if start == 0 else "", items=batch)

        r = self._stream_call(self._items.UpsertItemsStream, requests(), timeout)
        return UpsertResult(r.inserted, r.replaced, r.encoded, r.item_count)

    def _item(self, p: items_pb2.Item, bytes_per_code: int) -> Item:
        return Item(
            id=_wire.id_value(p.id),
            labels=list(p.labels),
            vector=_wire.floats_of(p.vector.values) if p.HasField("vector") and len(p.vector.values) else None,
            code=_wire.codes_to_array([p.code], bytes_per_code)[0] if p.code else None,
        )

    def get_items(self, name: str, ids: Sequence[ItemIdLike], with_vectors: bool = False,
                  with_codes: bool = False, *, timeout: Optional[float] = None) -> GetItemsResult:
        """The items with these ids (in request order) and the ids not found."""
        req = items_pb2.GetItemsRequest(collection=name, ids=_wire.item_ids(ids), with_vectors=with_vectors,
                                        with_codes=with_codes)
        r = self._call(self._items.GetItems, req, timeout)
        bpc = self._code_bytes(name) if with_codes and any(i.code for i in r.items) else 1
        return GetItemsResult([self._item(i, bpc) for i in r.items], [_wire.id_value(m) for m in r.missing_ids])

    def delete_items(self, name: str, ids: Sequence[ItemIdLike], *, timeout: Optional[float] = None) -> int:
        """Deletes items by id; returns how many existed. Missing ids are ignored."""
        r = self._call(self._items.DeleteItems,
                       items_pb2.DeleteItemsRequest(collection=name, ids=_wire.item_ids(ids)), timeout)
        return r.deleted

    def count(self, name: str, any_of: Optional[Sequence[int]] = None, *, timeout: Optional[float] = None) -> int:
        """Number of items (with at least one of the labels ``any_of``, when given)."""
        req = items_pb2.CountItemsRequest(collection=name)
        if any_of is not None:
            req.filter.any_of.extend(int(v) for v in any_of)
        return self._call(self._items.CountItems, req, timeout).count

    def list_items(self, name: str, page_size: int = 100, any_of: Optional[Sequence[int]] = None,
                   with_vectors: bool = False, with_codes: bool = False, *,
                   timeout: Optional[float] = None) -> Iterator[list[Item]]:
        """Yields pages (lists of :class:`Item`) in insertion order until the last page."""
        token = ""
        bpc = self._code_bytes(name) if with_codes else 1
        while True:
            req = items_pb2.ListItemsRequest(collection=name, page_size=page_size, page_token=token,
                                             with_vectors=with_vectors, with_codes=with_codes)
            if any_of is not None:
                req.filter.any_of.extend(int(v) for v in any_of)
            r = self._call(self._items.ListItems, req, timeout)
            if r.items:
                yield [self._item(i, bpc) for i in r.items]
            token = r.next_page_token
            if not token:
                return

    # ------------------------------------------------------------------ search

    def search(self, name: str, queries: Any, k: int = 10, bits: int = 0, metric: MetricLike = None,
               any_of: Optional[Sequence[int]] = None, rescore: Union[None, bool, int] = None, *,
               omit_labels: bool = False, timeout: Optional[float] = None) -> list[list[Hit]]:
        """The ``k`` best items for each query row, best first, at code length ``bits`` (0 = full).
        ``any_of`` restricts to items with one of these labels; ``rescore`` (True or an oversampling
        factor) re-ranks candidates with the stored originals (needs keep_vectors)."""
        req = search_pb2.SearchRequest(collection=name, queries=_wire.dense(queries, "queries"), k=k, bits=bits,
                                       metric=_metric(metric), omit_labels=omit_labels)
        if any_of is not None:
            req.filter.any_of.extend(int(v) for v in any_of)
        if rescore is not None and rescore is not False:
            req.rescore.oversampling = 0 if rescore is True else int(rescore)
        r = self._call(self._search.Search, req, timeout)
        return [[Hit(_wire.id_value(h.id), h.score, list(h.labels)) for h in q.hits] for q in r.results]

    def evaluate(self, name: str, queries: Any, labels: LabelsLike, bits: Union[None, int, Sequence[int]] = None,
                 map_r: int = 0, precision_at: Sequence[int] = (), metric: MetricLike = None, *,
                 timeout: Optional[float] = None) -> dict[int, dict[str, Any]]:
        """Retrieval quality of the codes for labelled queries: ``{bits: {"map": mAP@R,
        "precision": {k: precision@k}}}`` for each code length (``bits`` None = every length)."""
        q = _wire.as_matrix(queries, "queries")
        rl = _wire.row_labels(labels, q.shape[0])
        if rl is None:
            raise ValueError("evaluate needs labels for every query")
        if bits is None:
            bits_list: list[int] = []
        elif isinstance(bits, (int, np.integer)):
            bits_list = [int(bits)]
        else:
            bits_list = [int(b) for b in bits]
        req = search_pb2.EvaluateRequest(collection=name, queries=_wire.dense(q), query_labels=rl, bits=bits_list,
                                         map_r=map_r, precision_at_k=[int(k) for k in precision_at],
                                         metric=_metric(metric))
        r = self._call(self._search.Evaluate, req, timeout)
        return {m.bits: {"map": m.map, "precision": {p.k: p.precision for p in m.precision}} for m in r.per_length}

    # ------------------------------------------------------------------ models

    def _code_bytes(self, name: str) -> int:
        if name not in self._bytes_per_code:
            info = self.get_collection(name)
            if info.model is not None:
                self._bytes_per_code[name] = info.model.bytes_per_code
            else:
                return 2 if info.codebook_size > 256 else 1
        return self._bytes_per_code[name]

    def encode(self, name: str, vectors: Any, bits: int = 0, *, timeout: Optional[float] = None) -> np.ndarray:
        """Codes of the rows: a (rows, bits / log2 K) array of code words, uint8 when K <= 256 else
        uint16."""
        r = self._call(self._models.Encode, models_pb2.EncodeRequest(
            collection=name, vectors=_wire.dense(vectors), bits=bits), timeout)
        self._bytes_per_code[name] = r.bytes_per_code
        return _wire.codes_to_array(list(r.codes), r.bytes_per_code)

    def encode_features(self, name: str, vectors: Any, bits: int = 0, *,
                        timeout: Optional[float] = None) -> tuple[np.ndarray, np.ndarray]:
        """Codes and the unquantised features f of the rows (network output, or standardised input)."""
        r = self._call(self._models.Encode, models_pb2.EncodeRequest(
            collection=name, vectors=_wire.dense(vectors), bits=bits, include_features=True), timeout)
        return _wire.codes_to_array(list(r.codes), r.bytes_per_code), _wire.matrix_of(r.features)

    def decode(self, name: str, codes: Any, bits: int = 0, *, timeout: Optional[float] = None) -> np.ndarray:
        """Reconstructions (rows, quantized_dimension) of codes of ``bits`` length (0 = full codes).
        ``codes``: a 2-D uint8/uint16 array of code words (as :meth:`encode` returns) or a list of the
        raw code bytes."""
        a = codes
        if not (isinstance(codes, (list, tuple)) and codes and isinstance(codes[0], (bytes, bytearray))):
            a = np.asarray(codes)
            bpc: Optional[int] = {np.dtype(np.uint8): 1, np.dtype(np.uint16): 2}.get(a.dtype)
            if bpc is None:
                bpc = self._code_bytes(name)
            wire = _wire.array_to_codes(a, bpc)
        else:
            wire = [bytes(c) for c in codes]
        r = self._call(self._models.Decode, models_pb2.DecodeRequest(collection=name, codes=wire, bits=bits), timeout)
        return _wire.matrix_of(r.vectors)

    def export_model(self, name: str, *, chunk_bytes: int = 0, timeout: Optional[float] = None) -> bytes:
        """The collection's model as a safetensors file (see :mod:`dpq_client.safetensors`). The size
        and SHA-256 announced by the server are verified."""
        parts: list[bytes] = []
        header: Optional[models_pb2.ModelFileHeader] = None
        with self._rpc():
            for chunk in self._models.ExportModel(models_pb2.ExportModelRequest(collection=name, chunk_bytes=chunk_bytes),
                                                  timeout=self.timeout if timeout is None else timeout):
                if chunk.HasField("header"):
                    header = chunk.header
                parts.append(chunk.data)
        data = b"".join(parts)
        if header is not None:
            if header.total_bytes and header.total_bytes != len(data):
                raise DPQError(grpc.StatusCode.DATA_LOSS,
                               f"export of {name}: got {len(data)} bytes, header says {header.total_bytes}")
            if header.sha256 and hashlib.sha256(data).hexdigest() != header.sha256.lower():
                raise DPQError(grpc.StatusCode.DATA_LOSS, f"export of {name}: SHA-256 mismatch")
        return data

    def import_model(self, name: str, data: Union[bytes, bytearray, memoryview], create_if_missing: bool = False, *,
                     keep_vectors: bool = False, metric: MetricLike = None, chunk_bytes: int = 1 << 20,
                     timeout: Optional[float] = None) -> ImportModelResult:
        """Uploads a safetensors model (e.g. from :meth:`export_model`) as the collection's model,
        re-encoding its items. With ``create_if_missing`` a missing collection is created from the
        file's configuration (with ``keep_vectors`` and ``metric``)."""
        blob = bytes(data)
        step = max(int(chunk_bytes), 1)

        def requests() -> Iterator[models_pb2.ImportModelRequest]:
            offset = 0
            while True:
                r = models_pb2.ImportModelRequest(data=blob[offset:offset + step])
                if offset == 0:
                    r.collection = name
                    r.create_if_missing = create_if_missing
                    r.keep_vectors = keep_vectors
                    r.metric = _metric(metric)
                    r.total_bytes = len(blob)
                    r.sha256 = hashlib.sha256(blob).hexdigest()
                yield r
                offset += step
                if offset >= len(blob):
                    return

        r = self._stream_call(self._models.ImportModel, requests(), timeout)
        self._bytes_per_code.pop(name, None)
        return ImportModelResult(r.collection, r.created, r.bytes_received, r.items_encoded, message_fields(r.summary))

    # ------------------------------------------------------------------ server

    def server_info(self, *, timeout: Optional[float] = None) -> ServerInfo:
        r = self._call(self._info.GetServerInfo, server_pb2.GetServerInfoRequest(), timeout)
        limits = {f.name: getattr(r.limits, f.name) for f in r.limits.DESCRIPTOR.fields}
        return ServerInfo(r.version, r.build_commit, r.build_time, r.api_version, list(r.services), limits, r.threads)

    def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        """The standard health check: "SERVING", "NOT_SERVING", ... ("" = the whole server)."""
        r = self._call(self._health.Check, health_pb2.HealthCheckRequest(service=service), timeout)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(r.status)
