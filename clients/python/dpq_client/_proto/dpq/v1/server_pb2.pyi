from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Limits(_message.Message):
    __slots__ = ("max_message_bytes", "max_batch_rows", "max_search_queries", "max_k", "max_rescore_oversampling", "max_evaluate_queries", "default_page_size", "max_page_size", "max_input_dimension", "max_collections", "max_items_per_collection", "max_dataset_rows", "max_item_id_bytes", "max_labels_per_item", "max_model_bytes", "max_concurrent_trainings", "max_blocks", "min_codebook_size", "max_codebook_size")
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_ROWS_FIELD_NUMBER: _ClassVar[int]
    MAX_SEARCH_QUERIES_FIELD_NUMBER: _ClassVar[int]
    MAX_K_FIELD_NUMBER: _ClassVar[int]
    MAX_RESCORE_OVERSAMPLING_FIELD_NUMBER: _ClassVar[int]
    MAX_EVALUATE_QUERIES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_INPUT_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    MAX_COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_PER_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    MAX_DATASET_ROWS_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEM_ID_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_LABELS_PER_ITEM_FIELD_NUMBER: _ClassVar[int]
    MAX_MODEL_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_TRAININGS_FIELD_NUMBER: _ClassVar[int]
    MAX_BLOCKS_FIELD_NUMBER: _ClassVar[int]
    MIN_CODEBOOK_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_CODEBOOK_SIZE_FIELD_NUMBER: _ClassVar[int]
    max_message_bytes: int
    max_batch_rows: int
    max_search_queries: int
    max_k: int
    max_rescore_oversampling: int
    max_evaluate_queries: int
    default_page_size: int
    max_page_size: int
    max_input_dimension: int
    max_collections: int
    max_items_per_collection: int
    max_dataset_rows: int
    max_item_id_bytes: int
    max_labels_per_item: int
    max_model_bytes: int
    max_concurrent_trainings: int
    max_blocks: int
    min_codebook_size: int
    max_codebook_size: int
    def __init__(self, max_message_bytes: _Optional[int] = ..., max_batch_rows: _Optional[int] = ..., max_search_queries: _Optional[int] = ..., max_k: _Optional[int] = ..., max_rescore_oversampling: _Optional[int] = ..., max_evaluate_queries: _Optional[int] = ..., default_page_size: _Optional[int] = ..., max_page_size: _Optional[int] = ..., max_input_dimension: _Optional[int] = ..., max_collections: _Optional[int] = ..., max_items_per_collection: _Optional[int] = ..., max_dataset_rows: _Optional[int] = ..., max_item_id_bytes: _Optional[int] = ..., max_labels_per_item: _Optional[int] = ..., max_model_bytes: _Optional[int] = ..., max_concurrent_trainings: _Optional[int] = ..., max_blocks: _Optional[int] = ..., min_codebook_size: _Optional[int] = ..., max_codebook_size: _Optional[int] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetServerInfoResponse(_message.Message):
    __slots__ = ("version", "build_commit", "build_time", "api_version", "services", "limits", "threads", "started_at_unix_ms")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BUILD_COMMIT_FIELD_NUMBER: _ClassVar[int]
    BUILD_TIME_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    version: str
    build_commit: str
    build_time: str
    api_version: str
    services: _containers.RepeatedScalarFieldContainer[str]
    limits: Limits
    threads: int
    started_at_unix_ms: int
    def __init__(self, version: _Optional[str] = ..., build_commit: _Optional[str] = ..., build_time: _Optional[str] = ..., api_version: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., threads: _Optional[int] = ..., started_at_unix_ms: _Optional[int] = ...) -> None: ...
