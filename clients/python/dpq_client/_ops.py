"""What every DPQ call sends and how its answer is read, without doing any I/O ("sans-IO").

Both clients, the blocking :class:`dpq_client.Client` and the asyncio
:class:`dpq_client.aio.AsyncClient`, run the same operations from this module. An operation is a
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
    collections_pb2,
    items_pb2,
    models_pb2,
    search_pb2,
    server_pb2,
    training_pb2,
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

from dpq_client._steps import (
    COLLECTIONS, HEALTH, INFO, ITEMS, MODELS, SEARCH, TRAINING, ClientStream, CollectStream, MetricLike, Op, Unary,
    _one_of, enum_value, metric, training_options,
)

# ---------------------------------------------------------------------------- collections


def create_collection(name: str, dim: int, num_classes: int = 0, multi_label: bool = False,
                      blocks: Optional[int] = None, codebook_size: Optional[int] = None,
                      feature_dimension: Optional[int] = None, hidden_sizes: Optional[Sequence[int]] = None,
                      metric_: MetricLike = None, keep_vectors: bool = False, *,
                      dropout: Optional[float] = None, assignment: Optional[str] = None,
                      classifier_input: Optional[str] = None,
                      training_defaults: Optional[Mapping[str, Any]] = None,
                      partition: Optional[str] = None, nlist: Optional[int] = None,
                      input_shape: Optional[Sequence[int]] = None, trunk: Optional[str] = None,
                      vector_precision: Optional[str] = None) -> Op[CollectionInfo]:
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
        model.assignment = enum_value(models_pb2.Assignment, "ASSIGNMENT_", assignment, "assignment")
    if classifier_input is not None:
        model.classifier_input = enum_value(models_pb2.ClassifierInput, "CLASSIFIER_INPUT_",
                                            classifier_input, "classifier_input")
    if trunk is not None:
        model.trunk = trunk
    config = collections_pb2.CollectionConfig(
        input_dimension=int(dim), model=model, metric=metric(metric_), keep_vectors=keep_vectors)
    if vector_precision is not None:
        config.vector_precision = enum_value(collections_pb2.VectorPrecision, "VECTOR_PRECISION_", vector_precision,
                                             "vector_precision")
    if input_shape is not None:
        shape = [int(v) for v in input_shape]
        if len(shape) != 3:
            raise ValueError(f"input_shape must be (height, width, channels), got {tuple(input_shape)}")
        config.input_shape.height, config.input_shape.width, config.input_shape.channels = shape
    if training_defaults:
        config.training_defaults.CopyFrom(training_options(training_defaults))
    if partition is not None or nlist is not None:
        config.index.SetInParent()
        if partition is not None:
            config.index.partition = enum_value(collections_pb2.ListPartition, "LIST_PARTITION_", partition, "partition")
        config.index.nlist = int(nlist or 0)
    r: collections_pb2.CreateCollectionResponse = yield Unary(
        COLLECTIONS, "CreateCollection", collections_pb2.CreateCollectionRequest(name=name, config=config))
    return CollectionInfo.from_proto(r.collection)


def get_collection(name: str) -> Op[CollectionInfo]:
    r: collections_pb2.GetCollectionResponse = yield Unary(
        COLLECTIONS, "GetCollection", collections_pb2.GetCollectionRequest(name=name))
    return CollectionInfo.from_proto(r.collection)


def list_collections() -> Op[list[CollectionInfo]]:
    r: collections_pb2.ListCollectionsResponse = yield Unary(
        COLLECTIONS, "ListCollections", collections_pb2.ListCollectionsRequest())
    return [CollectionInfo.from_proto(c) for c in r.collections]


def delete_collection(widths: dict[str, int], name: str, allow_missing: bool) -> Op[bool]:
    widths.pop(name, None)
    r: collections_pb2.DeleteCollectionResponse = yield Unary(
        COLLECTIONS, "DeleteCollection",
        collections_pb2.DeleteCollectionRequest(name=name, allow_missing=allow_missing))
    return bool(r.deleted)


def code_bytes(widths: dict[str, int], name: str) -> Op[int]:
    """Bytes per code word of the collection's model (cached per client; asks the server once)."""
    if name not in widths:
        info = yield from get_collection(name)
        if info.model is None:
            return 2 if info.codebook_size > 256 else 1
        widths[name] = info.model.bytes_per_code
    return widths[name]


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


# ---------------------------------------------------------------------------- items


def item_messages(ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike) -> list[items_pb2.Item]:
    x = _wire.as_matrix(vectors)
    id_list = list(ids)
    if len(id_list) != x.shape[0]:
        raise ValueError(f"ids has {len(id_list)} entries, vectors has {x.shape[0]} rows")
    lists = _wire.label_lists(labels, x.shape[0])
    out = []
    for i, (id_, row) in enumerate(zip(id_list, x)):
        item = items_pb2.Item(id=_wire.item_id(id_), labels=lists[i] if lists is not None else ())
        item.vector.MergeFrom(_wire.vector(row))
        out.append(item)
    return out


def _upsert_result(r: items_pb2.UpsertItemsResponse) -> UpsertResult:
    return UpsertResult(r.inserted, r.replaced, r.encoded, r.item_count)


def upsert(name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike) -> Op[UpsertResult]:
    req = items_pb2.UpsertItemsRequest(collection=name, items=item_messages(ids, vectors, labels))
    r: items_pb2.UpsertItemsResponse = yield Unary(ITEMS, "UpsertItems", req)
    return _upsert_result(r)


def item_columns(ids: list[ItemIdLike], lists: Optional[list[list[int]]]) -> Optional[items_pb2.ItemColumns]:
    """The ids and labels of a batch as ItemColumns (payload not set), or None when the ids mix ints
    and strs (one id column holds one kind: such a batch goes as Item messages)."""
    cols = items_pb2.ItemColumns()
    numbers = [int(v) for v in ids if isinstance(v, (int, np.integer)) and not isinstance(v, bool)]
    if len(numbers) == len(ids):
        if any(v < 0 for v in numbers):
            raise ValueError("numeric item ids are uint64, got a negative one")
        cols.numeric_ids.extend(numbers)
    else:
        strings = [v for v in ids if isinstance(v, str)]
        if len(strings) != len(ids):
            return None
        cols.string_ids.extend(strings)
    if lists is not None:
        if all(len(row) == 1 for row in lists):
            cols.labels.extend(row[0] for row in lists)
        elif any(lists):
            cols.labels.extend(v for row in lists for v in row)
            cols.label_counts.extend(len(row) for row in lists)
    return cols


def upsert_stream(name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike,
                  batch_size: int) -> Op[UpsertResult]:
    """Batches as ItemColumns (a few arrays each: the server takes them several times faster than
    one Item message per item), or as Item messages when the ids mix ints and strs."""
    x = _wire.as_matrix(vectors)
    id_list = list(ids)
    if len(id_list) != x.shape[0]:
        raise ValueError(f"ids has {len(id_list)} entries, vectors has {x.shape[0]} rows")
    lists = _wire.label_lists(labels, x.shape[0])
    step = max(int(batch_size), 1)

    def requests() -> Iterator[items_pb2.UpsertItemsRequest]:
        for start in range(0, x.shape[0], step):
            end = start + step
            part = lists[start:end] if lists is not None else None
            cols = item_columns(id_list[start:end], part)
            if cols is None:
                yield items_pb2.UpsertItemsRequest(collection=name if start == 0 else "",
                                                   items=item_messages(id_list[start:end], x[start:end], part))
                continue
            rows = x[start:end]
            if rows.dtype == np.uint8:
                cols.uint8_vectors = rows.tobytes()
            else:
                cols.float32_vectors = rows.astype("<f4", copy=False).tobytes()
            yield items_pb2.UpsertItemsRequest(collection=name if start == 0 else "", columns=cols)

    r: items_pb2.UpsertItemsResponse = yield ClientStream(ITEMS, "UpsertItemsStream", requests())
    return _upsert_result(r)


def _wire_codes(widths: dict[str, int], name: str, codes: Any) -> Op[list[bytes]]:
    """Codes as the wire carries them: from a list of bytes as is, from a 2-D uint8/uint16 array of code
    words (as encode returns them) by the collection's bytes per code word."""
    if isinstance(codes, (list, tuple)) and codes and isinstance(codes[0], (bytes, bytearray)):
        return [bytes(c) for c in codes]
    a = np.asarray(codes)
    bpc: Optional[int] = {np.dtype(np.uint8): 1, np.dtype(np.uint16): 2}.get(a.dtype)
    if bpc is None:
        bpc = yield from code_bytes(widths, name)
    return _wire.array_to_codes(a, bpc)


def coded_item_messages(ids: Sequence[ItemIdLike], codes: list[bytes], labels: LabelsLike) -> list[items_pb2.Item]:
    id_list = list(ids)
    if len(id_list) != len(codes):
        raise ValueError(f"ids has {len(id_list)} entries, codes has {len(codes)} rows")
    lists = _wire.label_lists(labels, len(codes))
    return [items_pb2.Item(id=_wire.item_id(id_), code=c, labels=lists[i] if lists is not None else ())
            for i, (id_, c) in enumerate(zip(id_list, codes))]


def upsert_codes(widths: dict[str, int], name: str, ids: Sequence[ItemIdLike], codes: Any, labels: LabelsLike,
                 model_sha256: str, batch_size: Optional[int]) -> Op[UpsertResult]:
    """One UpsertItems call (batch_size None) or one UpsertItemsStream of batch_size-item batches."""
    wire = yield from _wire_codes(widths, name, codes)
    if batch_size is None:
        req = items_pb2.UpsertItemsRequest(collection=name, items=coded_item_messages(ids, wire, labels),
                                           model_sha256=model_sha256)
        r: items_pb2.UpsertItemsResponse = yield Unary(ITEMS, "UpsertItems", req)
        return _upsert_result(r)
    id_list = list(ids)
    if len(id_list) != len(wire):
        raise ValueError(f"ids has {len(id_list)} entries, codes has {len(wire)} rows")
    lists = _wire.label_lists(labels, len(wire))
    step = max(int(batch_size), 1)

    def requests() -> Iterator[items_pb2.UpsertItemsRequest]:
        for start in range(0, len(wire), step):
            end = start + step
            part = lists[start:end] if lists is not None else None
            cols = item_columns(id_list[start:end], part)
            if cols is None:
                batch = coded_item_messages(id_list[start:end], wire[start:end], part)
                yield items_pb2.UpsertItemsRequest(collection=name if start == 0 else "", items=batch, model_sha256=model_sha256)
                continue
            cols.codes = b"".join(wire[start:end])
            yield items_pb2.UpsertItemsRequest(collection=name if start == 0 else "", columns=cols, model_sha256=model_sha256)

    s: items_pb2.UpsertItemsResponse = yield ClientStream(ITEMS, "UpsertItemsStream", requests())
    return _upsert_result(s)


def item(p: items_pb2.Item, bytes_per_code: int) -> Item:
    return Item(
        id=_wire.id_value(p.id),
        labels=list(p.labels),
        vector=_wire.floats_of(p.vector.values) if p.HasField("vector") and len(p.vector.values) else None,
        code=_wire.codes_to_array([p.code], bytes_per_code)[0] if p.code else None,
    )


def get_items(widths: dict[str, int], name: str, ids: Sequence[ItemIdLike], with_vectors: bool,
              with_codes: bool) -> Op[GetItemsResult]:
    req = items_pb2.GetItemsRequest(collection=name, ids=_wire.item_ids(ids), with_vectors=with_vectors,
                                    with_codes=with_codes)
    r: items_pb2.GetItemsResponse = yield Unary(ITEMS, "GetItems", req)
    bpc = (yield from code_bytes(widths, name)) if with_codes and any(i.code for i in r.items) else 1
    return GetItemsResult([item(i, bpc) for i in r.items], [_wire.id_value(m) for m in r.missing_ids])


def delete_items(name: str, ids: Sequence[ItemIdLike]) -> Op[int]:
    r: items_pb2.DeleteItemsResponse = yield Unary(
        ITEMS, "DeleteItems", items_pb2.DeleteItemsRequest(collection=name, ids=_wire.item_ids(ids)))
    return int(r.deleted)


def count(name: str, any_of: Optional[Sequence[int]]) -> Op[int]:
    req = items_pb2.CountItemsRequest(collection=name)
    if any_of is not None:
        req.filter.any_of.extend(int(v) for v in any_of)
    r: items_pb2.CountItemsResponse = yield Unary(ITEMS, "CountItems", req)
    return int(r.count)


def list_items_page(widths: dict[str, int], name: str, token: str, page_size: int,
                    any_of: Optional[Sequence[int]], with_vectors: bool,
                    with_codes: bool) -> Op[tuple[list[Item], str]]:
    """One ListItems page and the next page token ("" after the last page)."""
    bpc = (yield from code_bytes(widths, name)) if with_codes else 1
    req = items_pb2.ListItemsRequest(collection=name, page_size=page_size, page_token=token,
                                     with_vectors=with_vectors, with_codes=with_codes)
    if any_of is not None:
        req.filter.any_of.extend(int(v) for v in any_of)
    r: items_pb2.ListItemsResponse = yield Unary(ITEMS, "ListItems", req)
    return [item(i, bpc) for i in r.items], r.next_page_token


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
