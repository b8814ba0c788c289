"""Python client of DPQ, a gRPC similarity-search service (API dpq.v1).

>>> from dpq_client import Client
>>> with Client("127.0.0.1:50051") as dpq:
...     dpq.create_collection("clusters", dim=16, num_classes=4, blocks=3, codebook_size=16)
...     dpq.train("clusters", x_train, y_train, epochs=3)
...     dpq.upsert("clusters", ids=range(len(x)), vectors=x, labels=y)
...     hits = dpq.search("clusters", queries, k=10, bits=8)
"""

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

__version__ = "0.1.0"

__all__ = [
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
    "training_options",
]
