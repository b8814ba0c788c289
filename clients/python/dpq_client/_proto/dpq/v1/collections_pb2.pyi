from dpq_client._proto.dpq.v1 import common_pb2 as _common_pb2
from dpq_client._proto.dpq.v1 import models_pb2 as _models_pb2
from dpq_client._proto.dpq.v1 import training_pb2 as _training_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VectorPrecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VECTOR_PRECISION_UNSPECIFIED: _ClassVar[VectorPrecision]
    VECTOR_PRECISION_FLOAT32: _ClassVar[VectorPrecision]
    VECTOR_PRECISION_FLOAT16: _ClassVar[VectorPrecision]

class ListPartition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIST_PARTITION_UNSPECIFIED: _ClassVar[ListPartition]
    LIST_PARTITION_KMEANS: _ClassVar[ListPartition]
    LIST_PARTITION_FIRST_BLOCK: _ClassVar[ListPartition]
    LIST_PARTITION_NONE: _ClassVar[ListPartition]

class CollectionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COLLECTION_STATE_UNSPECIFIED: _ClassVar[CollectionState]
    COLLECTION_STATE_UNTRAINED: _ClassVar[CollectionState]
    COLLECTION_STATE_TRAINING: _ClassVar[CollectionState]
    COLLECTION_STATE_READY: _ClassVar[CollectionState]
    COLLECTION_STATE_FAILED: _ClassVar[CollectionState]
VECTOR_PRECISION_UNSPECIFIED: VectorPrecision
VECTOR_PRECISION_FLOAT32: VectorPrecision
VECTOR_PRECISION_FLOAT16: VectorPrecision
LIST_PARTITION_UNSPECIFIED: ListPartition
LIST_PARTITION_KMEANS: ListPartition
LIST_PARTITION_FIRST_BLOCK: ListPartition
LIST_PARTITION_NONE: ListPartition
COLLECTION_STATE_UNSPECIFIED: CollectionState
COLLECTION_STATE_UNTRAINED: CollectionState
COLLECTION_STATE_TRAINING: CollectionState
COLLECTION_STATE_READY: CollectionState
COLLECTION_STATE_FAILED: CollectionState

class CollectionConfig(_message.Message):
    __slots__ = ("input_dimension", "model", "metric", "keep_vectors", "training_defaults", "input_shape", "index", "vector_precision")
    INPUT_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    KEEP_VECTORS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    INPUT_SHAPE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    VECTOR_PRECISION_FIELD_NUMBER: _ClassVar[int]
    input_dimension: int
    model: _models_pb2.ModelConfig
    metric: _common_pb2.Metric
    keep_vectors: bool
    training_defaults: _training_pb2.TrainingOptions
    input_shape: ImageShape
    index: IndexConfig
    vector_precision: VectorPrecision
    def __init__(self, input_dimension: _Optional[int] = ..., model: _Optional[_Union[_models_pb2.ModelConfig, _Mapping]] = ..., metric: _Optional[_Union[_common_pb2.Metric, str]] = ..., keep_vectors: _Optional[bool] = ..., training_defaults: _Optional[_Union[_training_pb2.TrainingOptions, _Mapping]] = ..., input_shape: _Optional[_Union[ImageShape, _Mapping]] = ..., index: _Optional[_Union[IndexConfig, _Mapping]] = ..., vector_precision: _Optional[_Union[VectorPrecision, str]] = ...) -> None: ...

class IndexConfig(_message.Message):
    __slots__ = ("partition", "nlist")
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    NLIST_FIELD_NUMBER: _ClassVar[int]
    partition: ListPartition
    nlist: int
    def __init__(self, partition: _Optional[_Union[ListPartition, str]] = ..., nlist: _Optional[int] = ...) -> None: ...

class ImageShape(_message.Message):
    __slots__ = ("height", "width", "channels")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    height: int
    width: int
    channels: int
    def __init__(self, height: _Optional[int] = ..., width: _Optional[int] = ..., channels: _Optional[int] = ...) -> None: ...

class CollectionInfo(_message.Message):
    __slots__ = ("name", "config", "state", "has_model", "item_count", "pending_items", "model", "training", "last_error", "storage_bytes", "created_at_unix_ms", "datasets", "index_lists", "index_lists_building")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    HAS_MODEL_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TRAINING_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    STORAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    INDEX_LISTS_FIELD_NUMBER: _ClassVar[int]
    INDEX_LISTS_BUILDING_FIELD_NUMBER: _ClassVar[int]
    name: str
    config: CollectionConfig
    state: CollectionState
    has_model: bool
    item_count: int
    pending_items: int
    model: _models_pb2.ModelSummary
    training: _training_pb2.TrainingProgress
    last_error: str
    storage_bytes: int
    created_at_unix_ms: int
    datasets: _containers.RepeatedCompositeFieldContainer[_training_pb2.TrainingDataInfo]
    index_lists: int
    index_lists_building: bool
    def __init__(self, name: _Optional[str] = ..., config: _Optional[_Union[CollectionConfig, _Mapping]] = ..., state: _Optional[_Union[CollectionState, str]] = ..., has_model: _Optional[bool] = ..., item_count: _Optional[int] = ..., pending_items: _Optional[int] = ..., model: _Optional[_Union[_models_pb2.ModelSummary, _Mapping]] = ..., training: _Optional[_Union[_training_pb2.TrainingProgress, _Mapping]] = ..., last_error: _Optional[str] = ..., storage_bytes: _Optional[int] = ..., created_at_unix_ms: _Optional[int] = ..., datasets: _Optional[_Iterable[_Union[_training_pb2.TrainingDataInfo, _Mapping]]] = ..., index_lists: _Optional[int] = ..., index_lists_building: _Optional[bool] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ("name", "config")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    name: str
    config: CollectionConfig
    def __init__(self, name: _Optional[str] = ..., config: _Optional[_Union[CollectionConfig, _Mapping]] = ...) -> None: ...

class CreateCollectionResponse(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: CollectionInfo
    def __init__(self, collection: _Optional[_Union[CollectionInfo, _Mapping]] = ...) -> None: ...

class GetCollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetCollectionResponse(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: CollectionInfo
    def __init__(self, collection: _Optional[_Union[CollectionInfo, _Mapping]] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[CollectionInfo]
    def __init__(self, collections: _Optional[_Iterable[_Union[CollectionInfo, _Mapping]]] = ...) -> None: ...

class DeleteCollectionRequest(_message.Message):
    __slots__ = ("name", "allow_missing")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    name: str
    allow_missing: bool
    def __init__(self, name: _Optional[str] = ..., allow_missing: _Optional[bool] = ...) -> None: ...

class DeleteCollectionResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...
