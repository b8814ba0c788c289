from dpq_client._proto.dpq.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Rescore(_message.Message):
    __slots__ = ("oversampling",)
    OVERSAMPLING_FIELD_NUMBER: _ClassVar[int]
    oversampling: int
    def __init__(self, oversampling: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("collection", "queries", "k", "bits", "metric", "filter", "rescore", "omit_labels", "nprobe")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    RESCORE_FIELD_NUMBER: _ClassVar[int]
    OMIT_LABELS_FIELD_NUMBER: _ClassVar[int]
    NPROBE_FIELD_NUMBER: _ClassVar[int]
    collection: str
    queries: _common_pb2.DenseVectors
    k: int
    bits: int
    metric: _common_pb2.Metric
    filter: _common_pb2.LabelFilter
    rescore: Rescore
    omit_labels: bool
    nprobe: int
    def __init__(self, collection: _Optional[str] = ..., queries: _Optional[_Union[_common_pb2.DenseVectors, _Mapping]] = ..., k: _Optional[int] = ..., bits: _Optional[int] = ..., metric: _Optional[_Union[_common_pb2.Metric, str]] = ..., filter: _Optional[_Union[_common_pb2.LabelFilter, _Mapping]] = ..., rescore: _Optional[_Union[Rescore, _Mapping]] = ..., omit_labels: _Optional[bool] = ..., nprobe: _Optional[int] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("id", "score", "labels")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.ItemId
    score: float
    labels: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, id: _Optional[_Union[_common_pb2.ItemId, _Mapping]] = ..., score: _Optional[float] = ..., labels: _Optional[_Iterable[int]] = ...) -> None: ...

class QueryResult(_message.Message):
    __slots__ = ("hits",)
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("results", "bits", "metric", "searched_items", "nprobe")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    SEARCHED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    NPROBE_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[QueryResult]
    bits: int
    metric: _common_pb2.Metric
    searched_items: int
    nprobe: int
    def __init__(self, results: _Optional[_Iterable[_Union[QueryResult, _Mapping]]] = ..., bits: _Optional[int] = ..., metric: _Optional[_Union[_common_pb2.Metric, str]] = ..., searched_items: _Optional[int] = ..., nprobe: _Optional[int] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("collection", "queries", "query_labels", "bits", "map_r", "precision_at_k", "metric")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    QUERY_LABELS_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    MAP_R_FIELD_NUMBER: _ClassVar[int]
    PRECISION_AT_K_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    collection: str
    queries: _common_pb2.DenseVectors
    query_labels: _common_pb2.RowLabels
    bits: _containers.RepeatedScalarFieldContainer[int]
    map_r: int
    precision_at_k: _containers.RepeatedScalarFieldContainer[int]
    metric: _common_pb2.Metric
    def __init__(self, collection: _Optional[str] = ..., queries: _Optional[_Union[_common_pb2.DenseVectors, _Mapping]] = ..., query_labels: _Optional[_Union[_common_pb2.RowLabels, _Mapping]] = ..., bits: _Optional[_Iterable[int]] = ..., map_r: _Optional[int] = ..., precision_at_k: _Optional[_Iterable[int]] = ..., metric: _Optional[_Union[_common_pb2.Metric, str]] = ...) -> None: ...

class PrecisionAtK(_message.Message):
    __slots__ = ("k", "precision")
    K_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    k: int
    precision: float
    def __init__(self, k: _Optional[int] = ..., precision: _Optional[float] = ...) -> None: ...

class CodeLengthMetrics(_message.Message):
    __slots__ = ("bits", "map", "precision")
    BITS_FIELD_NUMBER: _ClassVar[int]
    MAP_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    bits: int
    map: float
    precision: _containers.RepeatedCompositeFieldContainer[PrecisionAtK]
    def __init__(self, bits: _Optional[int] = ..., map: _Optional[float] = ..., precision: _Optional[_Iterable[_Union[PrecisionAtK, _Mapping]]] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ("per_length", "map_r", "database_items", "queries", "metric", "seconds")
    PER_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAP_R_FIELD_NUMBER: _ClassVar[int]
    DATABASE_ITEMS_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    per_length: _containers.RepeatedCompositeFieldContainer[CodeLengthMetrics]
    map_r: int
    database_items: int
    queries: int
    metric: _common_pb2.Metric
    seconds: float
    def __init__(self, per_length: _Optional[_Iterable[_Union[CodeLengthMetrics, _Mapping]]] = ..., map_r: _Optional[int] = ..., database_items: _Optional[int] = ..., queries: _Optional[int] = ..., metric: _Optional[_Union[_common_pb2.Metric, str]] = ..., seconds: _Optional[float] = ...) -> None: ...
