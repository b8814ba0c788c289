"""What every DPQ call sends and how its answer is read, without doing any I/O ("sans-IO").

Both clients, the blocking :class:`dpq_client.Client` and the asyncio
:class:`dpq_client.aio.AsyncClient`, run the same operations from this module (training, search, models,
server) and its siblings ``_collection_ops`` (collections) and ``_item_ops`` (items). An operation is a
generator: it builds the request(s), ``yield``s one :class:`Unary`, :class:`ClientStream` or
:class:`CollectStream` step per RPC, receives the response message back (the blocking driver by
calling the stub, the asyncio driver by awaiting it) and ``return``s the client-facing result. An
operation may make more than one RPC (e.g. ``get_items`` asks for the collection's code width once).

The two open-ended server streams (WatchTraining, and the ListItems paging loop) cannot be one
generator value; for them this module has the request builders and parsers and each client keeps its
own short ``for`` / ``async for`` loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Optional, Union

import grpc
import numpy as np
from grpc_health.v1 import health_pb2

from dpq_client import _wire
from dpq_client._proto.dpq.v1 import (
    models_pb2,
    search_pb2,
    server_pb2,
    training_pb2,
)
from dpq_client._wire import LabelsLike
from dpq_client.errors import DPQError, TrainingFailedError
from dpq_client.types import (
    Hit,
    ImportModelResult,
    ServerInfo,
    StartTrainingResult,
    TrainingProgress,
    UploadResult,
    message_fields,
)

from dpq_client._item_ops import _wire_codes
from dpq_client._steps import (
    HEALTH, INFO, MODELS, SEARCH, TRAINING, ClientStream, CollectStream, MetricLike, Op, Unary,
    _one_of, metric, training_options,
)

# ---------------------------------------------------------------------------- training


def upload_training_data(name: str, vectors: Any, labels: LabelsLike, dataset: str, chunk_rows: int,
                         append: bool) -> Op[UploadResult]:
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

    r: training_pb2.UploadTrainingDataResponse = yield ClientStream(TRAINING, "UploadTrainingData", requests())
    return UploadResult(r.collection, r.dataset, r.chunks_received, r.rows_received, r.dataset_rows)


def list_training_data(name: str) -> Op[dict[str, int]]:
    r: training_pb2.ListTrainingDataResponse = yield Unary(
        TRAINING, "ListTrainingData", training_pb2.ListTrainingDataRequest(collection=name))
    return {d.name: d.rows for d in r.datasets}


def delete_training_data(name: str, dataset: str, allow_missing: bool) -> Op[bool]:
    r: training_pb2.DeleteTrainingDataResponse = yield Unary(TRAINING, "DeleteTrainingData", training_pb2.DeleteTrainingDataRequest(
        collection=name, dataset=dataset, allow_missing=allow_missing))
    return bool(r.deleted)


def start_training(name: str, dataset: Optional[str], items_sample_size: int,
                   items_any_of: Optional[Sequence[int]], options: Mapping[str, Any]) -> Op[StartTrainingResult]:
    req = training_pb2.StartTrainingRequest(collection=name, options=training_options(options))
    if dataset is not None:
        req.dataset = dataset
    else:
        req.items.sample_size = items_sample_size
        if items_any_of is not None:
            req.items.filter.any_of.extend(items_any_of)
    r: training_pb2.StartTrainingResponse = yield Unary(TRAINING, "StartTraining", req)
    return StartTrainingResult(r.job_id, r.training_rows, message_fields(r.effective_options))


def watch_request(name: Optional[str], job_id: Optional[str], min_interval_ms: int) -> training_pb2.WatchTrainingRequest:
    """The WatchTraining request; each streamed message is read with :func:`watch_progress`."""
    _one_of(name, job_id)
    req = training_pb2.WatchTrainingRequest(min_interval_ms=min_interval_ms)
    if job_id is not None:
        req.job_id = job_id
    else:
        assert name is not None
        req.collection = name
    return req


def watch_progress(message: training_pb2.WatchTrainingResponse) -> TrainingProgress:
    return TrainingProgress.from_proto(message.progress)


def cancel_training(name: Optional[str], job_id: Optional[str]) -> Op[TrainingProgress]:
    _one_of(name, job_id)
    req = training_pb2.CancelTrainingRequest()
    if job_id is not None:
        req.job_id = job_id
    else:
        assert name is not None
        req.collection = name
    r: training_pb2.CancelTrainingResponse = yield Unary(TRAINING, "CancelTraining", req)
    return TrainingProgress.from_proto(r.progress)


def training_outcome(widths: dict[str, int], name: str, job_id: str,
                     last: Optional[TrainingProgress]) -> TrainingProgress:
    """The final snapshot of a watched job, or :class:`TrainingFailedError` unless it SUCCEEDED."""
    if last is None or last.state != "SUCCEEDED":
        state = last.state if last else "UNKNOWN"
        code = grpc.StatusCode.CANCELLED if state == "CANCELLED" else grpc.StatusCode.ABORTED
        raise TrainingFailedError(code, f"training job {job_id} ended {state}: {last.error if last else ''}", last)
    widths.pop(name, None)
    return last


# ---------------------------------------------------------------------------- search


def search(name: str, queries: Any, k: int, bits: int, metric_: MetricLike, any_of: Optional[Sequence[int]],
           rescore: Union[None, bool, int], omit_labels: bool, nprobe: int = 0) -> Op[list[list[Hit]]]:
    if nprobe < 0:
        raise ValueError(f"nprobe must be >= 0, got {nprobe}")
    req = search_pb2.SearchRequest(collection=name, queries=_wire.dense(queries, "queries"), k=k, bits=bits,
                                   metric=metric(metric_), omit_labels=omit_labels, nprobe=nprobe)
    if any_of is not None:
        req.filter.any_of.extend(int(v) for v in any_of)
    if rescore is not None and rescore is not False:
        req.rescore.oversampling = 0 if rescore is True else int(rescore)
    r: search_pb2.SearchResponse = yield Unary(SEARCH, "Search", req)
    return [[Hit(_wire.id_value(h.id), h.score, list(h.labels)) for h in q.hits] for q in r.results]


def evaluate(name: str, queries: Any, labels: LabelsLike, bits: Union[None, int, Sequence[int]], map_r: int,
             precision_at: Sequence[int], metric_: MetricLike) -> Op[dict[int, dict[str, Any]]]:
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
                                     metric=metric(metric_))
    r: search_pb2.EvaluateResponse = yield Unary(SEARCH, "Evaluate", req)
    return {m.bits: {"map": m.map, "precision": {p.k: p.precision for p in m.precision}} for m in r.per_length}


# ---------------------------------------------------------------------------- models


def encode(widths: dict[str, int], name: str, vectors: Any, bits: int) -> Op[np.ndarray]:
    r: models_pb2.EncodeResponse = yield Unary(MODELS, "Encode", models_pb2.EncodeRequest(
        collection=name, vectors=_wire.dense(vectors), bits=bits))
    widths[name] = r.bytes_per_code
    return _wire.codes_to_array(list(r.codes), r.bytes_per_code)


def encode_for_upsert(widths: dict[str, int], name: str, vectors: Any) -> Op[tuple[np.ndarray, str]]:
    r: models_pb2.EncodeResponse = yield Unary(MODELS, "Encode", models_pb2.EncodeRequest(
        collection=name, vectors=_wire.dense(vectors)))
    widths[name] = r.bytes_per_code
    return _wire.codes_to_array(list(r.codes), r.bytes_per_code), r.model_sha256


def encode_features(name: str, vectors: Any, bits: int) -> Op[tuple[np.ndarray, np.ndarray]]:
    r: models_pb2.EncodeResponse = yield Unary(MODELS, "Encode", models_pb2.EncodeRequest(
        collection=name, vectors=_wire.dense(vectors), bits=bits, include_features=True))
    return _wire.codes_to_array(list(r.codes), r.bytes_per_code), _wire.matrix_of(r.features)


def decode(widths: dict[str, int], name: str, codes: Any, bits: int) -> Op[np.ndarray]:
    wire = yield from _wire_codes(widths, name, codes)
    r: models_pb2.DecodeResponse = yield Unary(
        MODELS, "Decode", models_pb2.DecodeRequest(collection=name, codes=wire, bits=bits))
    return _wire.matrix_of(r.vectors)


def export_model(name: str, chunk_bytes: int) -> Op[bytes]:
    chunks: list[models_pb2.ExportModelResponse] = yield CollectStream(
        MODELS, "ExportModel", models_pb2.ExportModelRequest(collection=name, chunk_bytes=chunk_bytes))
    header: Optional[models_pb2.ModelFileHeader] = None
    for chunk in chunks:
        if chunk.HasField("header"):
            header = chunk.header
    data = b"".join(chunk.data for chunk in chunks)
    if header is not None:
        if header.total_bytes and header.total_bytes != len(data):
            raise DPQError(grpc.StatusCode.DATA_LOSS,
                           f"export of {name}: got {len(data)} bytes, header says {header.total_bytes}")
        if header.sha256 and hashlib.sha256(data).hexdigest() != header.sha256.lower():
            raise DPQError(grpc.StatusCode.DATA_LOSS, f"export of {name}: SHA-256 mismatch")
    return data


def import_model(widths: dict[str, int], name: str, data: Union[bytes, bytearray, memoryview],
                 create_if_missing: bool, keep_vectors: bool, metric_: MetricLike,
                 chunk_bytes: int) -> Op[ImportModelResult]:
    blob = bytes(data)
    step = max(int(chunk_bytes), 1)
    metric_value = metric(metric_)

    def requests() -> Iterator[models_pb2.ImportModelRequest]:
        offset = 0
        while True:
            r = models_pb2.ImportModelRequest(data=blob[offset:offset + step])
            if offset == 0:
                r.collection = name
                r.create_if_missing = create_if_missing
                r.keep_vectors = keep_vectors
                r.metric = metric_value
                r.total_bytes = len(blob)
                r.sha256 = hashlib.sha256(blob).hexdigest()
            yield r
            offset += step
            if offset >= len(blob):
                return

    r: models_pb2.ImportModelResponse = yield ClientStream(MODELS, "ImportModel", requests())
    widths.pop(name, None)
    return ImportModelResult(r.collection, r.created, r.bytes_received, r.items_encoded, message_fields(r.summary))


# ---------------------------------------------------------------------------- server


def server_info() -> Op[ServerInfo]:
    r: server_pb2.GetServerInfoResponse = yield Unary(INFO, "GetServerInfo", server_pb2.GetServerInfoRequest())
    limits = {f.name: getattr(r.limits, f.name) for f in r.limits.DESCRIPTOR.fields}
    return ServerInfo(r.version, r.build_commit, r.build_time, r.api_version, list(r.services), limits, r.threads)


def health(service: str) -> Op[str]:
    r: Any = yield Unary(HEALTH, "Check", health_pb2.HealthCheckRequest(service=service))
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(r.status))
