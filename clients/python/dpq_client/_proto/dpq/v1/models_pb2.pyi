from dpq_client._proto.dpq.v1 import common_pb2 as _common_pb2
from dpq_client._proto.dpq.v1 import training_pb2 as _training_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LabelMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LABEL_MODE_UNSPECIFIED: _ClassVar[LabelMode]
    LABEL_MODE_NONE: _ClassVar[LabelMode]
    LABEL_MODE_SINGLE: _ClassVar[LabelMode]
    LABEL_MODE_MULTI: _ClassVar[LabelMode]

class Assignment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSIGNMENT_UNSPECIFIED: _ClassVar[Assignment]
    ASSIGNMENT_EUCLIDEAN: _ClassVar[Assignment]
    ASSIGNMENT_COSINE: _ClassVar[Assignment]

class ClassifierInput(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLASSIFIER_INPUT_UNSPECIFIED: _ClassVar[ClassifierInput]
    CLASSIFIER_INPUT_TRUNK: _ClassVar[ClassifierInput]
    CLASSIFIER_INPUT_FEATURE: _ClassVar[ClassifierInput]
LABEL_MODE_UNSPECIFIED: LabelMode
LABEL_MODE_NONE: LabelMode
LABEL_MODE_SINGLE: LabelMode
LABEL_MODE_MULTI: LabelMode
ASSIGNMENT_UNSPECIFIED: Assignment
ASSIGNMENT_EUCLIDEAN: Assignment
ASSIGNMENT_COSINE: Assignment
CLASSIFIER_INPUT_UNSPECIFIED: ClassifierInput
CLASSIFIER_INPUT_TRUNK: ClassifierInput
CLASSIFIER_INPUT_FEATURE: ClassifierInput

class HiddenSizes(_message.Message):
    __slots__ = ("sizes",)
    SIZES_FIELD_NUMBER: _ClassVar[int]
    sizes: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, sizes: _Optional[_Iterable[int]] = ...) -> None: ...

class ModelConfig(_message.Message):
    __slots__ = ("hidden_sizes", "feature_dimension", "blocks", "codebook_size", "assignment", "label_mode", "num_classes", "classifier_input", "dropout", "input_dropout", "trunk")
    HIDDEN_SIZES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    CODEBOOK_SIZE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    LABEL_MODE_FIELD_NUMBER: _ClassVar[int]
    NUM_CLASSES_FIELD_NUMBER: _ClassVar[int]
    CLASSIFIER_INPUT_FIELD_NUMBER: _ClassVar[int]
    DROPOUT_FIELD_NUMBER: _ClassVar[int]
    INPUT_DROPOUT_FIELD_NUMBER: _ClassVar[int]
    TRUNK_FIELD_NUMBER: _ClassVar[int]
    hidden_sizes: HiddenSizes
    feature_dimension: int
    blocks: int
    codebook_size: int
    assignment: Assignment
    label_mode: LabelMode
    num_classes: int
    classifier_input: ClassifierInput
    dropout: float
    input_dropout: float
    trunk: str
    def __init__(self, hidden_sizes: _Optional[_Union[HiddenSizes, _Mapping]] = ..., feature_dimension: _Optional[int] = ..., blocks: _Optional[int] = ..., codebook_size: _Optional[int] = ..., assignment: _Optional[_Union[Assignment, str]] = ..., label_mode: _Optional[_Union[LabelMode, str]] = ..., num_classes: _Optional[int] = ..., classifier_input: _Optional[_Union[ClassifierInput, str]] = ..., dropout: _Optional[float] = ..., input_dropout: _Optional[float] = ..., trunk: _Optional[str] = ...) -> None: ...

class ModelSummary(_message.Message):
    __slots__ = ("input_dimension", "quantized_dimension", "blocks", "codebook_size", "bits_per_block", "max_bits", "supported_bits", "bytes_per_code", "parameter_count", "trained_by_job", "trained_at_unix_ms", "training_rows", "trained_with", "final_losses", "sha256", "config")
    INPUT_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    QUANTIZED_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    CODEBOOK_SIZE_FIELD_NUMBER: _ClassVar[int]
    BITS_PER_BLOCK_FIELD_NUMBER: _ClassVar[int]
    MAX_BITS_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_BITS_FIELD_NUMBER: _ClassVar[int]
    BYTES_PER_CODE_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRAINED_BY_JOB_FIELD_NUMBER: _ClassVar[int]
    TRAINED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_ROWS_FIELD_NUMBER: _ClassVar[int]
    TRAINED_WITH_FIELD_NUMBER: _ClassVar[int]
    FINAL_LOSSES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    input_dimension: int
    quantized_dimension: int
    blocks: int
    codebook_size: int
    bits_per_block: int
    max_bits: int
    supported_bits: _containers.RepeatedScalarFieldContainer[int]
    bytes_per_code: int
    parameter_count: int
    trained_by_job: str
    trained_at_unix_ms: int
    training_rows: int
    trained_with: _training_pb2.TrainingOptions
    final_losses: _training_pb2.LossTerms
    sha256: str
    config: ModelConfig
    def __init__(self, input_dimension: _Optional[int] = ..., quantized_dimension: _Optional[int] = ..., blocks: _Optional[int] = ..., codebook_size: _Optional[int] = ..., bits_per_block: _Optional[int] = ..., max_bits: _Optional[int] = ..., supported_bits: _Optional[_Iterable[int]] = ..., bytes_per_code: _Optional[int] = ..., parameter_count: _Optional[int] = ..., trained_by_job: _Optional[str] = ..., trained_at_unix_ms: _Optional[int] = ..., training_rows: _Optional[int] = ..., trained_with: _Optional[_Union[_training_pb2.TrainingOptions, _Mapping]] = ..., final_losses: _Optional[_Union[_training_pb2.LossTerms, _Mapping]] = ..., sha256: _Optional[str] = ..., config: _Optional[_Union[ModelConfig, _Mapping]] = ...) -> None: ...

class EncodeRequest(_message.Message):
    __slots__ = ("collection", "vectors", "bits", "include_features")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_FEATURES_FIELD_NUMBER: _ClassVar[int]
    collection: str
    vectors: _common_pb2.DenseVectors
    bits: int
    include_features: bool
    def __init__(self, collection: _Optional[str] = ..., vectors: _Optional[_Union[_common_pb2.DenseVectors, _Mapping]] = ..., bits: _Optional[int] = ..., include_features: _Optional[bool] = ...) -> None: ...

class EncodeResponse(_message.Message):
    __slots__ = ("bits", "bytes_per_code", "codes", "features", "model_sha256")
    BITS_FIELD_NUMBER: _ClassVar[int]
    BYTES_PER_CODE_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    MODEL_SHA256_FIELD_NUMBER: _ClassVar[int]
    bits: int
    bytes_per_code: int
    codes: _containers.RepeatedScalarFieldContainer[bytes]
    features: _common_pb2.DenseVectors
    model_sha256: str
    def __init__(self, bits: _Optional[int] = ..., bytes_per_code: _Optional[int] = ..., codes: _Optional[_Iterable[bytes]] = ..., features: _Optional[_Union[_common_pb2.DenseVectors, _Mapping]] = ..., model_sha256: _Optional[str] = ...) -> None: ...

class DecodeRequest(_message.Message):
    __slots__ = ("collection", "codes", "bits")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    codes: _containers.RepeatedScalarFieldContainer[bytes]
    bits: int
    def __init__(self, collection: _Optional[str] = ..., codes: _Optional[_Iterable[bytes]] = ..., bits: _Optional[int] = ...) -> None: ...

class DecodeResponse(_message.Message):
    __slots__ = ("bits", "vectors")
    BITS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    bits: int
    vectors: _common_pb2.DenseVectors
    def __init__(self, bits: _Optional[int] = ..., vectors: _Optional[_Union[_common_pb2.DenseVectors, _Mapping]] = ...) -> None: ...

class ExportModelRequest(_message.Message):
    __slots__ = ("collection", "chunk_bytes")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    collection: str
    chunk_bytes: int
    def __init__(self, collection: _Optional[str] = ..., chunk_bytes: _Optional[int] = ...) -> None: ...

class ModelFileHeader(_message.Message):
    __slots__ = ("format", "total_bytes", "sha256", "summary")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    format: str
    total_bytes: int
    sha256: str
    summary: ModelSummary
    def __init__(self, format: _Optional[str] = ..., total_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., summary: _Optional[_Union[ModelSummary, _Mapping]] = ...) -> None: ...

class ExportModelResponse(_message.Message):
    __slots__ = ("header", "offset", "data")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: ModelFileHeader
    offset: int
    data: bytes
    def __init__(self, header: _Optional[_Union[ModelFileHeader, _Mapping]] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class ImportModelRequest(_message.Message):
    __slots__ = ("collection", "create_if_missing", "keep_vectors", "metric", "total_bytes", "sha256", "data")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CREATE_IF_MISSING_FIELD_NUMBER: _ClassVar[int]
    KEEP_VECTORS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    collection: str
    create_if_missing: bool
    keep_vectors: bool
    metric: _common_pb2.Metric
    total_bytes: int
    sha256: str
    data: bytes
    def __init__(self, collection: _Optional[str] = ..., create_if_missing: _Optional[bool] = ..., keep_vectors: _Optional[bool] = ..., metric: _Optional[_Union[_common_pb2.Metric, str]] = ..., total_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class ImportModelResponse(_message.Message):
    __slots__ = ("collection", "created", "bytes_received", "summary", "items_encoded")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ITEMS_ENCODED_FIELD_NUMBER: _ClassVar[int]
    collection: str
    created: bool
    bytes_received: int
    summary: ModelSummary
    items_encoded: int
    def __init__(self, collection: _Optional[str] = ..., created: _Optional[bool] = ..., bytes_received: _Optional[int] = ..., summary: _Optional[_Union[ModelSummary, _Mapping]] = ..., items_encoded: _Optional[int] = ...) -> None: ...
