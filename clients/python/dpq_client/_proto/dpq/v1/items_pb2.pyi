from dpq_client._proto.dpq.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Item(_message.Message):
    __slots__ = ("id", "vector", "labels", "code")
    ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.ItemId
    vector: _common_pb2.Vector
    labels: _containers.RepeatedScalarFieldContainer[int]
    code: bytes
    def __init__(self, id: _Optional[_Union[_common_pb2.ItemId, _Mapping]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., labels: _Optional[_Iterable[int]] = ..., code: _Optional[bytes] = ...) -> None: ...

class ItemColumns(_message.Message):
    __slots__ = ("numeric_ids", "string_ids", "codes", "float32_vectors", "uint8_vectors", "labels", "label_counts")
    NUMERIC_IDS_FIELD_NUMBER: _ClassVar[int]
    STRING_IDS_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    FLOAT32_VECTORS_FIELD_NUMBER: _ClassVar[int]
    UINT8_VECTORS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LABEL_COUNTS_FIELD_NUMBER: _ClassVar[int]
    numeric_ids: _containers.RepeatedScalarFieldContainer[int]
    string_ids: _containers.RepeatedScalarFieldContainer[str]
    codes: bytes
    float32_vectors: bytes
    uint8_vectors: bytes
    labels: _containers.RepeatedScalarFieldContainer[int]
    label_counts: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, numeric_ids: _Optional[_Iterable[int]] = ..., string_ids: _Optional[_Iterable[str]] = ..., codes: _Optional[bytes] = ..., float32_vectors: _Optional[bytes] = ..., uint8_vectors: _Optional[bytes] = ..., labels: _Optional[_Iterable[int]] = ..., label_counts: _Optional[_Iterable[int]] = ...) -> None: ...

class UpsertItemsRequest(_message.Message):
    __slots__ = ("collection", "items", "columns", "model_sha256")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    MODEL_SHA256_FIELD_NUMBER: _ClassVar[int]
    collection: str
    items: _containers.RepeatedCompositeFieldContainer[Item]
    columns: ItemColumns
    model_sha256: str
    def __init__(self, collection: _Optional[str] = ..., items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., columns: _Optional[_Union[ItemColumns, _Mapping]] = ..., model_sha256: _Optional[str] = ...) -> None: ...

class UpsertItemsResponse(_message.Message):
    __slots__ = ("inserted", "replaced", "encoded", "item_count")
    INSERTED_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    ENCODED_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    inserted: int
    replaced: int
    encoded: int
    item_count: int
    def __init__(self, inserted: _Optional[int] = ..., replaced: _Optional[int] = ..., encoded: _Optional[int] = ..., item_count: _Optional[int] = ...) -> None: ...

class GetItemsRequest(_message.Message):
    __slots__ = ("collection", "ids", "with_vectors", "with_codes")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    WITH_VECTORS_FIELD_NUMBER: _ClassVar[int]
    WITH_CODES_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedCompositeFieldContainer[_common_pb2.ItemId]
    with_vectors: bool
    with_codes: bool
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[_Union[_common_pb2.ItemId, _Mapping]]] = ..., with_vectors: _Optional[bool] = ..., with_codes: _Optional[bool] = ...) -> None: ...

class GetItemsResponse(_message.Message):
    __slots__ = ("items", "missing_ids")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MISSING_IDS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Item]
    missing_ids: _containers.RepeatedCompositeFieldContainer[_common_pb2.ItemId]
    def __init__(self, items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., missing_ids: _Optional[_Iterable[_Union[_common_pb2.ItemId, _Mapping]]] = ...) -> None: ...

class DeleteItemsRequest(_message.Message):
    __slots__ = ("collection", "ids")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedCompositeFieldContainer[_common_pb2.ItemId]
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[_Union[_common_pb2.ItemId, _Mapping]]] = ...) -> None: ...

class DeleteItemsResponse(_message.Message):
    __slots__ = ("deleted", "item_count")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    item_count: int
    def __init__(self, deleted: _Optional[int] = ..., item_count: _Optional[int] = ...) -> None: ...

class CountItemsRequest(_message.Message):
    __slots__ = ("collection", "filter")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    collection: str
    filter: _common_pb2.LabelFilter
    def __init__(self, collection: _Optional[str] = ..., filter: _Optional[_Union[_common_pb2.LabelFilter, _Mapping]] = ...) -> None: ...

class CountItemsResponse(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class ListItemsRequest(_message.Message):
    __slots__ = ("collection", "page_size", "page_token", "filter", "with_vectors", "with_codes")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    WITH_VECTORS_FIELD_NUMBER: _ClassVar[int]
    WITH_CODES_FIELD_NUMBER: _ClassVar[int]
    collection: str
    page_size: int
    page_token: str
    filter: _common_pb2.LabelFilter
    with_vectors: bool
    with_codes: bool
    def __init__(self, collection: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[_Union[_common_pb2.LabelFilter, _Mapping]] = ..., with_vectors: _Optional[bool] = ..., with_codes: _Optional[bool] = ...) -> None: ...

class ListItemsResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Item]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
