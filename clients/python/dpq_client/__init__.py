"""Python client of DPQ, a gRPC similarity-search service (API dpq.v1).

>>> from dpq_client import Client
>>> with Client("127.0.0.1:50051") as dpq:
...     dpq.create_collection("clusters", dim=16, num_classes=4, blocks=3, codebook_size=16)
...     dpq.train("clusters", x_train, y_train, epochs=3)
...     dpq.upsert("clusters", ids=range(len(x)), vectors=x, labels=y)
...     hits = dpq.search("clusters", queries, k=10, bits=8)

:class:`AsyncClient` (``dpq_client.aio``) is the same API on ``grpc.aio``.
"""

from dpq_client._steps import API_PACKAGE as API_VERSION
from dpq_client._version import __version__
from dpq_client.aio import AsyncClient
from dpq_client.client import Client, training_options
from dpq_client.errors import DPQError, TrainingFailedError
from dpq_client.types import (
    CollectionInfo,
    GetItemsResult,
    Hit,
    ImportModelResult,
    Item,
    ModelSummary,
    ServerInfo,
    StartTrainingResult,
    TrainingProgress,
    UploadResult,
    UpsertResult,
)

#: Major version of the API (``API_VERSION`` "dpq.v1" -> 1); the package's major version equals it.
API_MAJOR: int = int(API_VERSION.rsplit(".v", 1)[1])

__all__ = [
    "API_MAJOR",
    "API_VERSION",
    "AsyncClient",
    "Client",
    "CollectionInfo",
    "DPQError",
    "GetItemsResult",
    "Hit",
    "ImportModelResult",
    "Item",
    "ModelSummary",
    "ServerInfo",
    "StartTrainingResult",
    "TrainingFailedError",
    "TrainingProgress",
    "UploadResult",
    "UpsertResult",
    "__version__",
    "training_options",
]
