"""The plumbing every DPQ operation runs on (see :mod:`dpq_client._ops`): the stubs of a channel,
the steps an operation yields (:class:`Unary`, :class:`ClientStream`, :class:`CollectStream`) and the
blocking and asyncio drivers that execute them, and the conversion of enums and training options.
"""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional, TypeVar, Union, cast

from google.protobuf.message import Message
from grpc_health.v1 import health_pb2_grpc

from dpq_client._proto.dpq.v1 import (
    collections_pb2_grpc,
    common_pb2,
    items_pb2_grpc,
    models_pb2_grpc,
    search_pb2_grpc,
    server_pb2,
    server_pb2_grpc,
    training_pb2,
    training_pb2_grpc,
)

T = TypeVar("T")
MetricLike = Union[None, str, int]
Metadata = Sequence[tuple[str, Union[str, bytes]]]

#: The API package these stubs speak, read from the generated descriptors ("dpq.v1").
API_PACKAGE: str = server_pb2.DESCRIPTOR.package

# ---------------------------------------------------------------------------- channel and stubs

COLLECTIONS, TRAINING, ITEMS, SEARCH, MODELS, INFO, HEALTH = (
    "collections", "training", "items", "search", "models", "info", "health")


def stubs(channel: Any) -> dict[str, Any]:
    """The generated stubs of every service on ``channel``. The generated stub classes take a
    blocking ``grpc.Channel`` or a ``grpc.aio.Channel`` alike (they only call
    ``channel.unary_unary(...)`` and friends), so both clients use them."""
    return {
        COLLECTIONS: collections_pb2_grpc.CollectionServiceStub(channel),
        TRAINING: training_pb2_grpc.TrainingServiceStub(channel),
        ITEMS: items_pb2_grpc.ItemServiceStub(channel),
        SEARCH: search_pb2_grpc.SearchServiceStub(channel),
        MODELS: models_pb2_grpc.ModelServiceStub(channel),
        INFO: server_pb2_grpc.ServerInfoServiceStub(channel),
        HEALTH: health_pb2_grpc.HealthStub(channel),
    }


def channel_options(max_message_bytes: int, options: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The channel arguments of both clients: the caller's ``options``, then the message size limits
    unless ``options`` sets them (gRPC core takes the first of duplicate keys)."""
    given = {key for key, _ in options}
    defaults = [("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes)]
    return [*options, *((key, value) for key, value in defaults if key not in given)]


# Methods that are safe to repeat (reads, searches, and upserts and deletes by id, which are idempotent):
# retried on UNAVAILABLE when a client has several servers. Creating collections, trainings, imports and
# streaming calls are not retried.
_IDEMPOTENT = [
    {"service": "dpq.v1.SearchService"}, {"service": "dpq.v1.ServerInfoService"},
    {"service": "grpc.health.v1.Health", "method": "Check"},
    {"service": "dpq.v1.CollectionService", "method": "GetCollection"},
    {"service": "dpq.v1.CollectionService", "method": "ListCollections"},
    *({"service": "dpq.v1.ItemService", "method": m} for m in ("UpsertItems", "DeleteItems", "GetItems", "CountItems", "ListItems")),
    {"service": "dpq.v1.ModelService", "method": "Encode"}, {"service": "dpq.v1.ModelService", "method": "Decode"},
    {"service": "dpq.v1.TrainingService", "method": "ListTrainingData"},
]


def channel_target(address: str) -> tuple[str, list[tuple[str, Any]]]:
    """The gRPC target and channel arguments for ``address``: one ``host:port`` as it is, or several
    ``ip:port`` separated by commas (nodes of one store), which become one ``ipv4:``/``ipv6:`` target with
    round-robin load balancing and retries of the idempotent calls on UNAVAILABLE (gRPC service config)."""
    parts = [p.strip() for p in address.split(",")]
    if len(parts) == 1:
        return address, []
    versions = set()
    for p in parts:
        host, sep, port = p.rpartition(":")
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            raise ValueError(f"address {p!r}: several addresses must be IP literals with a port (for host names use "
                             "one DNS name with several records)") from None
        if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"address {p!r} is not ip:port")
        versions.add(ip.version)
    if len(versions) > 1:
        raise ValueError(f"address {address!r} mixes IPv4 and IPv6 addresses")
    config = {"loadBalancingConfig": [{"round_robin": {}}],
              "methodConfig": [{"name": _IDEMPOTENT, "retryPolicy": {
                  "maxAttempts": 3, "initialBackoff": "0.05s", "maxBackoff": "1s", "backoffMultiplier": 2,
                  "retryableStatusCodes": ["UNAVAILABLE"]}}]}
    scheme = "ipv4:" if versions == {4} else "ipv6:"
    return scheme + ",".join(parts), [("grpc.service_config", json.dumps(config)), ("grpc.enable_retries", 1)]


# ---------------------------------------------------------------------------- steps and drivers


@dataclass(frozen=True)
class Unary:
    """One unary RPC: ``stubs[service].<method>(request)``; the response message is sent back."""

    service: str
    method: str
    request: Message


@dataclass(frozen=True)
class ClientStream:
    """One client-streaming RPC fed from ``requests``; the response message is sent back."""

    service: str
    method: str
    requests: Iterator[Message]


@dataclass(frozen=True)
class CollectStream:
    """One server-streaming RPC read to its end; the list of response messages is sent back."""

    service: str
    method: str
    request: Message


Step = Union[Unary, ClientStream, CollectStream]
Op = Generator[Step, Any, T]


def run(op: Op[T], execute: Callable[[Step], Any]) -> T:
    """Runs an operation with a blocking ``execute(step) -> response``."""
    try:
        step = next(op)
        while True:
            step = op.send(execute(step))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    finally:
        op.close()


async def run_async(op: Op[T], execute: Callable[[Step], Awaitable[Any]]) -> T:
    """Runs an operation with an asyncio ``await execute(step) -> response``."""
    try:
        step = next(op)
        while True:
            step = op.send(await execute(step))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    finally:
        op.close()


class GuardedRequests:
    """Wraps a request iterator of a client stream and remembers the exception it raised, so a
    client can re-raise the caller's own error (e.g. a ValueError for a bad later chunk) instead of
    gRPC's opaque "Exception iterating requests!" / a cancellation."""

    def __init__(self, requests: Iterator[Message]) -> None:
        self._requests = requests
        self.failure: Optional[BaseException] = None

    def __iter__(self) -> Iterator[Message]:
        try:
            yield from self._requests
        except Exception as e:
            self.failure = e
            raise


# ---------------------------------------------------------------------------- enums and options

_METRICS = {
    "squared_l2": common_pb2.METRIC_SQUARED_L2,
    "l2": common_pb2.METRIC_SQUARED_L2,
    "euclidean": common_pb2.METRIC_SQUARED_L2,
    "inner_product": common_pb2.METRIC_INNER_PRODUCT,
    "ip": common_pb2.METRIC_INNER_PRODUCT,
    "dot": common_pb2.METRIC_INNER_PRODUCT,
}

# TrainingOptions enum fields: field name -> (enum descriptor, value prefix)
_OPTION_ENUMS: dict[str, tuple[Any, str]] = {
    "mode": (training_pb2.TrainingMode, "TRAINING_MODE_"),
    "optimizer": (training_pb2.Optimizer, "OPTIMIZER_"),
    "schedule": (training_pb2.LearningRateSchedule, "LEARNING_RATE_SCHEDULE_"),
    "codebook_init": (training_pb2.CodebookInit, "CODEBOOK_INIT_"),
}
_LOSS_WEIGHTS = ("lambda_cls", "lambda_quantized", "tau", "mu", "nu")


def metric(value: MetricLike) -> common_pb2.Metric:
    if value is None:
        return common_pb2.METRIC_UNSPECIFIED
    if isinstance(value, int):
        return cast(common_pb2.Metric, value)
    key = value.strip().lower().removeprefix("metric_")
    if key not in _METRICS:
        raise ValueError(f"unknown metric {value!r}; use 'squared_l2' or 'inner_product'")
    return _METRICS[key]


def enum_value(enum: Any, prefix: str, value: Union[str, int], what: str) -> Any:
    """The number of an enum value given as an int or a (short, case-insensitive) name."""
    if isinstance(value, int):
        return value
    name = value.strip().upper()
    if not name.startswith(prefix):
        name = prefix + name
    try:
        return int(enum.Value(name))
    except ValueError:
        choices = [n[len(prefix):].lower() for n in enum.keys() if not n.endswith("UNSPECIFIED")]
        raise ValueError(f"{what}: unknown value {value!r}; one of {choices}") from None


def training_options(options: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> training_pb2.TrainingOptions:
    """TrainingOptions from keyword arguments named like the proto fields, e.g.
    ``epochs=3, pretrain_epochs=2, batch_size=64, learning_rate=1e-3, optimizer="sgd", seed=7``.
    Enum fields take short names (mode "end_to_end"/"two_step", optimizer "adam"/"sgd", schedule
    "constant"/"cosine"/"step", codebook_init "residual_kmeans"/"random"). Loss weights may be given
    flat (lambda_cls, lambda_quantized, tau, mu, nu) or as ``loss_weights={...}``. Unset = inherit."""
    merged: dict[str, Any] = dict(options or {})
    merged.update(kwargs)
    msg = training_pb2.TrainingOptions()
    weights: dict[str, Any] = dict(merged.pop("loss_weights", None) or {})
    for key in _LOSS_WEIGHTS:
        if key in merged:
            weights[key] = merged.pop(key)
    fields = training_pb2.TrainingOptions.DESCRIPTOR.fields_by_name
    for key, value in merged.items():
        if value is None:
            continue
        if key in _OPTION_ENUMS:
            enum, prefix = _OPTION_ENUMS[key]
            setattr(msg, key, enum_value(enum, prefix, value, key))
        elif key in fields:
            setattr(msg, key, value)
        else:
            known = sorted(set(fields) - {"loss_weights"} | set(_LOSS_WEIGHTS))
            raise TypeError(f"unknown training option {key!r}; known: {', '.join(known)}")
    for key, value in weights.items():
        if key not in _LOSS_WEIGHTS:
            raise TypeError(f"unknown loss weight {key!r}; known: {', '.join(_LOSS_WEIGHTS)}")
        if value is not None:
            setattr(msg.loss_weights, key, float(value))
    return msg


def _one_of(name: Optional[str], job_id: Optional[str]) -> None:
    if (name is None) == (job_id is None):
        raise ValueError("give exactly one of name and job_id")
