"""Plain result types returned by :class:`dpq_client.Client`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

import numpy as np

from dpq_client._proto.dpq.v1 import collections_pb2, common_pb2, models_pb2, training_pb2

ItemId = Union[int, str]

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


def enum_name(enum: Any, value: int, prefix: str) -> str:
    """'TRAINING_JOB_STATE_SUCCEEDED' -> 'SUCCEEDED'."""
    try:
        if hasattr(enum, "Name"):  # generated EnumTypeWrapper
            name = str(enum.Name(value))
        else:  # EnumDescriptor
            name = str(enum.values_by_number[value].name)
    except (ValueError, KeyError):
        return str(value)
    return name[len(prefix):] if name.startswith(prefix) else name


def message_fields(msg: Any) -> dict[str, Any]:
    """The set fields of a flat message as a dict (enums as short names, submessages as dicts)."""
    out: dict[str, Any] = {}
    for fd, value in msg.ListFields():
        repeated = _is_repeated(fd)
        if fd.type == fd.TYPE_MESSAGE and not repeated:
            out[fd.name] = message_fields(value)
        elif fd.type == fd.TYPE_ENUM and not repeated:
            prefix = _enum_prefix(fd.enum_type.name)
            out[fd.name] = enum_name(fd.enum_type, value, prefix).lower()
        elif repeated:
            out[fd.name] = list(value)
        else:
            out[fd.name] = value
    return out


def _is_repeated(fd: Any) -> bool:
    flag = getattr(fd, "is_repeated", None)  # protobuf >= 5.29 (``label`` is gone in 7)
    if flag is not None:
        return bool(flag)
    return bool(fd.label == fd.LABEL_REPEATED)  # pragma: no cover


def _enum_prefix(enum_name_: str) -> str:
    # TrainingJobState -> TRAINING_JOB_STATE_
    s = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(enum_name_)).upper()
    return s + "_"


@dataclass(frozen=True)
class Hit:
    """One search result: the item's id, its score (smaller is better for SQUARED_L2, larger for
    INNER_PRODUCT) and its labels."""

    id: ItemId
    score: float
    labels: list[int] = field(default_factory=list)


@dataclass
class Item:
    """A stored item. ``vector`` and ``code`` are set only when requested (and available)."""

    id: ItemId
    labels: list[int]
    vector: Optional[np.ndarray] = None
    code: Optional[np.ndarray] = None


@dataclass
class GetItemsResult:
    items: list[Item]
    missing_ids: list[ItemId]


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    replaced: int
    encoded: int
    item_count: int


@dataclass(frozen=True)
class UploadResult:
    collection: str
    dataset: str
    chunks_received: int
    rows_received: int
    dataset_rows: int


@dataclass(frozen=True)
class StartTrainingResult:
    job_id: str
    training_rows: int
    effective_options: dict[str, Any]


@dataclass(frozen=True)
class ImportModelResult:
    collection: str
    created: bool
    bytes_received: int
    items_encoded: int
    summary: dict[str, Any]


@dataclass(frozen=True)
class TrainingProgress:
    """A snapshot of a training job. ``state`` is one of PENDING, RUNNING, SUCCEEDED, FAILED,
    CANCELLED; ``phase`` one of PREPARING, CLASSIFICATION, CODEBOOK_INIT, JOINT, CODEBOOKS, ENCODING,
    DONE. ``losses`` maps classification, quantized_classification, soft_distortion, hard_distortion,
    match and total to floats."""

    job_id: str
    collection: str
    state: str
    phase: str
    epoch: int
    epochs: int
    step: int
    total_steps: int
    losses: dict[str, float]
    samples_per_second: float
    percent: float
    eta_seconds: float
    elapsed_seconds: float
    gamma: float
    learning_rate: float
    error: str
    training_rows: int

    @property
    def done(self) -> bool:
        """True when the job has ended (SUCCEEDED, FAILED or CANCELLED)."""
        return self.state in TERMINAL_STATES

    @classmethod
    def from_proto(cls, p: training_pb2.TrainingProgress) -> "TrainingProgress":
        l = p.losses
        return cls(
            job_id=p.job_id,
            collection=p.collection,
            state=enum_name(training_pb2.TrainingJobState, p.state, "TRAINING_JOB_STATE_"),
            phase=enum_name(training_pb2.TrainingPhase, p.phase, "TRAINING_PHASE_"),
            epoch=p.epoch,
            epochs=p.epochs,
            step=p.step,
            total_steps=p.total_steps,
            losses={
                "classification": l.classification,
                "quantized_classification": l.quantized_classification,
                "soft_distortion": l.soft_distortion,
                "hard_distortion": l.hard_distortion,
                "match": l.match,
                "total": l.total,
            },
            samples_per_second=p.samples_per_second,
            percent=p.percent,
            eta_seconds=p.eta_seconds,
            elapsed_seconds=p.elapsed_seconds,
            gamma=p.gamma,
            learning_rate=p.learning_rate,
            error=p.error,
            training_rows=p.training_rows,
        )


@dataclass(frozen=True)
class ModelSummary:
    input_dimension: int
    quantized_dimension: int
    blocks: int
    codebook_size: int
    bits_per_block: int
    max_bits: int
    supported_bits: list[int]
    bytes_per_code: int
    parameter_count: int
    trained_by_job: str
    training_rows: int
    sha256: str

    @classmethod
    def from_proto(cls, m: models_pb2.ModelSummary) -> "ModelSummary":
        return cls(
            input_dimension=m.input_dimension,
            quantized_dimension=m.quantized_dimension,
            blocks=m.blocks,
            codebook_size=m.codebook_size,
            bits_per_block=m.bits_per_block,
            max_bits=m.max_bits,
            supported_bits=list(m.supported_bits),
            bytes_per_code=m.bytes_per_code,
            parameter_count=m.parameter_count,
            trained_by_job=m.trained_by_job,
            training_rows=m.training_rows,
            sha256=m.sha256,
        )


@dataclass(frozen=True)
class CollectionInfo:
    """A collection. ``state`` is UNTRAINED, TRAINING, READY or FAILED; ``label_mode`` NONE, SINGLE or
    MULTI; ``metric`` SQUARED_L2 or INNER_PRODUCT. ``model`` is None until a model exists;
    ``training`` is the latest training snapshot, if any job ever ran. ``raw`` is the protobuf message
    for everything else."""

    name: str
    input_dimension: int
    state: str
    has_model: bool
    item_count: int
    pending_items: int
    label_mode: str
    num_classes: int
    blocks: int
    codebook_size: int
    feature_dimension: int
    hidden_sizes: list[int]
    metric: str
    keep_vectors: bool
    model: Optional[ModelSummary]
    training: Optional[TrainingProgress]
    last_error: str
    storage_bytes: int
    datasets: dict[str, int]
    index_lists: int
    index_lists_building: bool
    input_shape: Optional[tuple[int, int, int]]
    trunk: str
    raw: collections_pb2.CollectionInfo = field(repr=False)

    @classmethod
    def from_proto(cls, c: collections_pb2.CollectionInfo) -> "CollectionInfo":
        m = c.config.model
        return cls(
            name=c.name,
            input_dimension=c.config.input_dimension,
            state=enum_name(collections_pb2.CollectionState, c.state, "COLLECTION_STATE_"),
            has_model=c.has_model,
            item_count=c.item_count,
            pending_items=c.pending_items,
            label_mode=enum_name(models_pb2.LabelMode, m.label_mode, "LABEL_MODE_"),
            num_classes=m.num_classes,
            blocks=m.blocks,
            codebook_size=m.codebook_size,
            feature_dimension=m.feature_dimension,
            hidden_sizes=list(m.hidden_sizes.sizes),
            metric=enum_name(common_pb2.Metric, c.config.metric, "METRIC_"),
            keep_vectors=c.config.keep_vectors,
            model=ModelSummary.from_proto(c.model) if c.HasField("model") else None,
            training=TrainingProgress.from_proto(c.training) if c.HasField("training") else None,
            last_error=c.last_error,
            storage_bytes=c.storage_bytes,
            datasets={d.name: d.rows for d in c.datasets},
            index_lists=c.index_lists,
            index_lists_building=c.index_lists_building,
            input_shape=((c.config.input_shape.height, c.config.input_shape.width, c.config.input_shape.channels)
                         if c.config.HasField("input_shape") else None),
            trunk=m.trunk,
            raw=c,
        )


@dataclass(frozen=True)
class ServerInfo:
    version: str
    build_commit: str
    build_time: str
    api_version: str
    services: list[str]
    limits: dict[str, int]
    threads: int
