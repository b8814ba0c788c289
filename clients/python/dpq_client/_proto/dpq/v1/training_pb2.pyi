from dpq_client._proto.dpq.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrainingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_MODE_UNSPECIFIED: _ClassVar[TrainingMode]
    TRAINING_MODE_END_TO_END: _ClassVar[TrainingMode]
    TRAINING_MODE_TWO_STEP: _ClassVar[TrainingMode]

class Optimizer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPTIMIZER_UNSPECIFIED: _ClassVar[Optimizer]
    OPTIMIZER_ADAM: _ClassVar[Optimizer]
    OPTIMIZER_SGD: _ClassVar[Optimizer]

class LearningRateSchedule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEARNING_RATE_SCHEDULE_UNSPECIFIED: _ClassVar[LearningRateSchedule]
    LEARNING_RATE_SCHEDULE_CONSTANT: _ClassVar[LearningRateSchedule]
    LEARNING_RATE_SCHEDULE_COSINE: _ClassVar[LearningRateSchedule]
    LEARNING_RATE_SCHEDULE_STEP: _ClassVar[LearningRateSchedule]

class CodebookInit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CODEBOOK_INIT_UNSPECIFIED: _ClassVar[CodebookInit]
    CODEBOOK_INIT_RESIDUAL_KMEANS: _ClassVar[CodebookInit]
    CODEBOOK_INIT_RANDOM: _ClassVar[CodebookInit]

class UploadMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UPLOAD_MODE_UNSPECIFIED: _ClassVar[UploadMode]
    UPLOAD_MODE_REPLACE: _ClassVar[UploadMode]
    UPLOAD_MODE_APPEND: _ClassVar[UploadMode]
    UPLOAD_MODE_CREATE: _ClassVar[UploadMode]

class TrainingJobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_JOB_STATE_UNSPECIFIED: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_PENDING: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_RUNNING: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_SUCCEEDED: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_FAILED: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_CANCELLED: _ClassVar[TrainingJobState]

class TrainingPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_PHASE_UNSPECIFIED: _ClassVar[TrainingPhase]
    TRAINING_PHASE_PREPARING: _ClassVar[TrainingPhase]
    TRAINING_PHASE_CLASSIFICATION: _ClassVar[TrainingPhase]
    TRAINING_PHASE_CODEBOOK_INIT: _ClassVar[TrainingPhase]
    TRAINING_PHASE_JOINT: _ClassVar[TrainingPhase]
    TRAINING_PHASE_CODEBOOKS: _ClassVar[TrainingPhase]
    TRAINING_PHASE_ENCODING: _ClassVar[TrainingPhase]
    TRAINING_PHASE_DONE: _ClassVar[TrainingPhase]
TRAINING_MODE_UNSPECIFIED: TrainingMode
TRAINING_MODE_END_TO_END: TrainingMode
TRAINING_MODE_TWO_STEP: TrainingMode
OPTIMIZER_UNSPECIFIED: Optimizer
OPTIMIZER_ADAM: Optimizer
OPTIMIZER_SGD: Optimizer
LEARNING_RATE_SCHEDULE_UNSPECIFIED: LearningRateSchedule
LEARNING_RATE_SCHEDULE_CONSTANT: LearningRateSchedule
LEARNING_RATE_SCHEDULE_COSINE: LearningRateSchedule
LEARNING_RATE_SCHEDULE_STEP: LearningRateSchedule
CODEBOOK_INIT_UNSPECIFIED: CodebookInit
CODEBOOK_INIT_RESIDUAL_KMEANS: CodebookInit
CODEBOOK_INIT_RANDOM: CodebookInit
UPLOAD_MODE_UNSPECIFIED: UploadMode
UPLOAD_MODE_REPLACE: UploadMode
UPLOAD_MODE_APPEND: UploadMode
UPLOAD_MODE_CREATE: UploadMode
TRAINING_JOB_STATE_UNSPECIFIED: TrainingJobState
TRAINING_JOB_STATE_PENDING: TrainingJobState
TRAINING_JOB_STATE_RUNNING: TrainingJobState
TRAINING_JOB_STATE_SUCCEEDED: TrainingJobState
TRAINING_JOB_STATE_FAILED: TrainingJobState
TRAINING_JOB_STATE_CANCELLED: TrainingJobState
TRAINING_PHASE_UNSPECIFIED: TrainingPhase
TRAINING_PHASE_PREPARING: TrainingPhase
TRAINING_PHASE_CLASSIFICATION: TrainingPhase
TRAINING_PHASE_CODEBOOK_INIT: TrainingPhase
TRAINING_PHASE_JOINT: TrainingPhase
TRAINING_PHASE_CODEBOOKS: TrainingPhase
TRAINING_PHASE_ENCODING: TrainingPhase
TRAINING_PHASE_DONE: TrainingPhase

class LossWeights(_message.Message):
    __slots__ = ("lambda_cls", "lambda_quantized", "tau", "mu", "nu")
    LAMBDA_CLS_FIELD_NUMBER: _ClassVar[int]
    LAMBDA_QUANTIZED_FIELD_NUMBER: _ClassVar[int]
    TAU_FIELD_NUMBER: _ClassVar[int]
    MU_FIELD_NUMBER: _ClassVar[int]
    NU_FIELD_NUMBER: _ClassVar[int]
    lambda_cls: float
    lambda_quantized: float
    tau: float
    mu: float
    nu: float
    def __init__(self, lambda_cls: _Optional[float] = ..., lambda_quantized: _Optional[float] = ..., tau: _Optional[float] = ..., mu: _Optional[float] = ..., nu: _Optional[float] = ...) -> None: ...

class TrainingOptions(_message.Message):
    __slots__ = ("mode", "pretrain_epochs", "epochs", "batch_size", "optimizer", "learning_rate", "codebook_learning_rate_scale", "momentum", "weight_decay", "schedule", "seed", "gamma_start", "gamma_end", "loss_weights", "codebook_init", "kmeans_iterations", "stop_gradient_at_feature", "threads")
    MODE_FIELD_NUMBER: _ClassVar[int]
    PRETRAIN_EPOCHS_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    CODEBOOK_LEARNING_RATE_SCALE_FIELD_NUMBER: _ClassVar[int]
    MOMENTUM_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_DECAY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    GAMMA_START_FIELD_NUMBER: _ClassVar[int]
    GAMMA_END_FIELD_NUMBER: _ClassVar[int]
    LOSS_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    CODEBOOK_INIT_FIELD_NUMBER: _ClassVar[int]
    KMEANS_ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    STOP_GRADIENT_AT_FEATURE_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    mode: TrainingMode
    pretrain_epochs: int
    epochs: int
    batch_size: int
    optimizer: Optimizer
    learning_rate: float
    codebook_learning_rate_scale: float
    momentum: float
    weight_decay: float
    schedule: LearningRateSchedule
    seed: int
    gamma_start: float
    gamma_end: float
    loss_weights: LossWeights
    codebook_init: CodebookInit
    kmeans_iterations: int
    stop_gradient_at_feature: bool
    threads: int
    def __init__(self, mode: _Optional[_Union[TrainingMode, str]] = ..., pretrain_epochs: _Optional[int] = ..., epochs: _Optional[int] = ..., batch_size: _Optional[int] = ..., optimizer: _Optional[_Union[Optimizer, str]] = ..., learning_rate: _Optional[float] = ..., codebook_learning_rate_scale: _Optional[float] = ..., momentum: _Optional[float] = ..., weight_decay: _Optional[float] = ..., schedule: _Optional[_Union[LearningRateSchedule, str]] = ..., seed: _Optional[int] = ..., gamma_start: _Optional[float] = ..., gamma_end: _Optional[float] = ..., loss_weights: _Optional[_Union[LossWeights, _Mapping]] = ..., codebook_init: _Optional[_Union[CodebookInit, str]] = ..., kmeans_iterations: _Optional[int] = ..., stop_gradient_at_feature: _Optional[bool] = ..., threads: _Optional[int] = ...) -> None: ...

class UploadTrainingDataRequest(_message.Message):
    __slots__ = ("collection", "dataset", "mode", "vectors", "labels")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    dataset: str
    mode: UploadMode
    vectors: _common_pb2.DenseVectors
    labels: _common_pb2.RowLabels
    def __init__(self, collection: _Optional[str] = ..., dataset: _Optional[str] = ..., mode: _Optional[_Union[UploadMode, str]] = ..., vectors: _Optional[_Union[_common_pb2.DenseVectors, _Mapping]] = ..., labels: _Optional[_Union[_common_pb2.RowLabels, _Mapping]] = ...) -> None: ...

class UploadTrainingDataResponse(_message.Message):
    __slots__ = ("collection", "dataset", "chunks_received", "rows_received", "dataset_rows")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    ROWS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    DATASET_ROWS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    dataset: str
    chunks_received: int
    rows_received: int
    dataset_rows: int
    def __init__(self, collection: _Optional[str] = ..., dataset: _Optional[str] = ..., chunks_received: _Optional[int] = ..., rows_received: _Optional[int] = ..., dataset_rows: _Optional[int] = ...) -> None: ...

class TrainingDataInfo(_message.Message):
    __slots__ = ("name", "rows", "labelled_rows", "size_bytes", "updated_at_unix_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    LABELLED_ROWS_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    rows: int
    labelled_rows: int
    size_bytes: int
    updated_at_unix_ms: int
    def __init__(self, name: _Optional[str] = ..., rows: _Optional[int] = ..., labelled_rows: _Optional[int] = ..., size_bytes: _Optional[int] = ..., updated_at_unix_ms: _Optional[int] = ...) -> None: ...

class ListTrainingDataRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class ListTrainingDataResponse(_message.Message):
    __slots__ = ("datasets",)
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    datasets: _containers.RepeatedCompositeFieldContainer[TrainingDataInfo]
    def __init__(self, datasets: _Optional[_Iterable[_Union[TrainingDataInfo, _Mapping]]] = ...) -> None: ...

class DeleteTrainingDataRequest(_message.Message):
    __slots__ = ("collection", "dataset", "allow_missing")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    collection: str
    dataset: str
    allow_missing: bool
    def __init__(self, collection: _Optional[str] = ..., dataset: _Optional[str] = ..., allow_missing: _Optional[bool] = ...) -> None: ...

class DeleteTrainingDataResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...

class ItemsSource(_message.Message):
    __slots__ = ("filter", "sample_size")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    filter: _common_pb2.LabelFilter
    sample_size: int
    def __init__(self, filter: _Optional[_Union[_common_pb2.LabelFilter, _Mapping]] = ..., sample_size: _Optional[int] = ...) -> None: ...

class StartTrainingRequest(_message.Message):
    __slots__ = ("collection", "dataset", "items", "options")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    dataset: str
    items: ItemsSource
    options: TrainingOptions
    def __init__(self, collection: _Optional[str] = ..., dataset: _Optional[str] = ..., items: _Optional[_Union[ItemsSource, _Mapping]] = ..., options: _Optional[_Union[TrainingOptions, _Mapping]] = ...) -> None: ...

class StartTrainingResponse(_message.Message):
    __slots__ = ("job_id", "effective_options", "training_rows")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_ROWS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    effective_options: TrainingOptions
    training_rows: int
    def __init__(self, job_id: _Optional[str] = ..., effective_options: _Optional[_Union[TrainingOptions, _Mapping]] = ..., training_rows: _Optional[int] = ...) -> None: ...

class LossTerms(_message.Message):
    __slots__ = ("classification", "quantized_classification", "soft_distortion", "hard_distortion", "match", "total")
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    QUANTIZED_CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    SOFT_DISTORTION_FIELD_NUMBER: _ClassVar[int]
    HARD_DISTORTION_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    classification: float
    quantized_classification: float
    soft_distortion: float
    hard_distortion: float
    match: float
    total: float
    def __init__(self, classification: _Optional[float] = ..., quantized_classification: _Optional[float] = ..., soft_distortion: _Optional[float] = ..., hard_distortion: _Optional[float] = ..., match: _Optional[float] = ..., total: _Optional[float] = ...) -> None: ...

class TrainingProgress(_message.Message):
    __slots__ = ("job_id", "collection", "state", "phase", "epoch", "epochs", "step", "total_steps", "losses", "samples_per_second", "percent", "eta_seconds", "elapsed_seconds", "gamma", "learning_rate", "error", "started_at_unix_ms", "updated_at_unix_ms", "finished_at_unix_ms", "training_rows")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_ROWS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    collection: str
    state: TrainingJobState
    phase: TrainingPhase
    epoch: int
    epochs: int
    step: int
    total_steps: int
    losses: LossTerms
    samples_per_second: float
    percent: float
    eta_seconds: float
    elapsed_seconds: float
    gamma: float
    learning_rate: float
    error: str
    started_at_unix_ms: int
    updated_at_unix_ms: int
    finished_at_unix_ms: int
    training_rows: int
    def __init__(self, job_id: _Optional[str] = ..., collection: _Optional[str] = ..., state: _Optional[_Union[TrainingJobState, str]] = ..., phase: _Optional[_Union[TrainingPhase, str]] = ..., epoch: _Optional[int] = ..., epochs: _Optional[int] = ..., step: _Optional[int] = ..., total_steps: _Optional[int] = ..., losses: _Optional[_Union[LossTerms, _Mapping]] = ..., samples_per_second: _Optional[float] = ..., percent: _Optional[float] = ..., eta_seconds: _Optional[float] = ..., elapsed_seconds: _Optional[float] = ..., gamma: _Optional[float] = ..., learning_rate: _Optional[float] = ..., error: _Optional[str] = ..., started_at_unix_ms: _Optional[int] = ..., updated_at_unix_ms: _Optional[int] = ..., finished_at_unix_ms: _Optional[int] = ..., training_rows: _Optional[int] = ...) -> None: ...

class WatchTrainingRequest(_message.Message):
    __slots__ = ("job_id", "collection", "min_interval_ms")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    MIN_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    collection: str
    min_interval_ms: int
    def __init__(self, job_id: _Optional[str] = ..., collection: _Optional[str] = ..., min_interval_ms: _Optional[int] = ...) -> None: ...

class WatchTrainingResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: TrainingProgress
    def __init__(self, progress: _Optional[_Union[TrainingProgress, _Mapping]] = ...) -> None: ...

class CancelTrainingRequest(_message.Message):
    __slots__ = ("job_id", "collection")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    collection: str
    def __init__(self, job_id: _Optional[str] = ..., collection: _Optional[str] = ...) -> None: ...

class CancelTrainingResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: TrainingProgress
    def __init__(self, progress: _Optional[_Union[TrainingProgress, _Mapping]] = ...) -> None: ...
