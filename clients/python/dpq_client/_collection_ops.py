"""Collection operations (create, get, list, delete) and the per-client cache of code widths; see _ops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

from dpq_client import _wire
from dpq_client._proto.dpq.v1 import collections_pb2, models_pb2
from dpq_client.types import CollectionInfo
from dpq_client._steps import COLLECTIONS, MetricLike, Op, Unary, enum_value, metric, training_options

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
