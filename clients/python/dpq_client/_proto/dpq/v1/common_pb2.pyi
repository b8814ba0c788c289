from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_UNSPECIFIED: _ClassVar[Metric]
    METRIC_INNER_PRODUCT: _ClassVar[Metric]
    METRIC_SQUARED_L2: _ClassVar[Metric]
METRIC_UNSPECIFIED: Metric
METRIC_INNER_PRODUCT: Metric
METRIC_SQUARED_L2: Metric

class Vector(_message.Message):
    __slots__ = ("values", "uint8_values")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    UINT8_VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    uint8_values: bytes
    def __init__(self, values: _Optional[_Iterable[float]] = ..., uint8_values: _Optional[bytes] = ...) -> None: ...

class DenseVectors(_message.Message):
    __slots__ = ("dimension", "values", "uint8_values")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    UINT8_VALUES_FIELD_NUMBER: _ClassVar[int]
    dimension: int
    values: _containers.RepeatedScalarFieldContainer[float]
    uint8_values: bytes
    def __init__(self, dimension: _Optional[int] = ..., values: _Optional[_Iterable[float]] = ..., uint8_values: _Optional[bytes] = ...) -> None: ...

class ItemId(_message.Message):
    __slots__ = ("num", "str")
    NUM_FIELD_NUMBER: _ClassVar[int]
    STR_FIELD_NUMBER: _ClassVar[int]
    num: int
    str: str
    def __init__(self, num: _Optional[int] = ..., str: _Optional[str] = ...) -> None: ...

class LabelSet(_message.Message):
    __slots__ = ("labels",)
    LABELS_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, labels: _Optional[_Iterable[int]] = ...) -> None: ...

class LabelSets(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[LabelSet]
    def __init__(self, rows: _Optional[_Iterable[_Union[LabelSet, _Mapping]]] = ...) -> None: ...

class ClassIds(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, ids: _Optional[_Iterable[int]] = ...) -> None: ...

class RowLabels(_message.Message):
    __slots__ = ("class_ids", "sets")
    CLASS_IDS_FIELD_NUMBER: _ClassVar[int]
    SETS_FIELD_NUMBER: _ClassVar[int]
    class_ids: ClassIds
    sets: LabelSets
    def __init__(self, class_ids: _Optional[_Union[ClassIds, _Mapping]] = ..., sets: _Optional[_Union[LabelSets, _Mapping]] = ...) -> None: ...

class LabelFilter(_message.Message):
    __slots__ = ("any_of",)
    ANY_OF_FIELD_NUMBER: _ClassVar[int]
    any_of: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, any_of: _Optional[_Iterable[int]] = ...) -> None: ...
