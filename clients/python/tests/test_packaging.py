"""Packaging metadata: the version follows the API package of the generated stubs, the installed
distribution carries the typing marker and stubs, and the client reports the API the server serves."""

from __future__ import annotations

import importlib
import importlib.metadata
import re

import dpq_client
from dpq_client import Client

from conftest import REPO

GENERATED = ["collections", "common", "items", "models", "search", "server", "training"]


def test_api_version_comes_from_the_generated_descriptors() -> None:
    packages = {importlib.import_module(f"dpq_client._proto.dpq.v1.{m}_pb2").DESCRIPTOR.package for m in GENERATED}
    assert packages == {dpq_client.API_VERSION} == {"dpq.v1"}
    assert dpq_client.API_MAJOR == 1


def test_generated_stubs_match_the_protos() -> None:
    proto_dir = REPO / "proto" / "dpq" / "v1"
    protos = sorted(p.stem for p in proto_dir.glob("*.proto"))
    assert protos == GENERATED, "proto files and generated stubs differ: run generate.sh"
    for name in protos:
        text = (proto_dir / f"{name}.proto").read_text()
        assert re.search(r"^package\s+([\w.]+);", text, re.M).group(1) == dpq_client.API_VERSION


def test_package_version_major_is_the_api_major() -> None:
    major = int(dpq_client.__version__.split(".")[0])
    assert major == dpq_client.API_MAJOR
    assert re.fullmatch(r"\d+\.\d+\.\d+", dpq_client.__version__)
    assert importlib.metadata.version("dpq-client") == dpq_client.__version__


def test_distribution_metadata() -> None:
    meta = importlib.metadata.metadata("dpq-client")
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Framework :: AsyncIO" in classifiers
    assert meta["Requires-Python"] == ">=3.10"
    assert "dpq.v1" in meta["Summary"]
    assert "## Quick start" in str(meta.json.get("description", ""))
    requires = " ".join(meta.get_all("Requires-Dist") or [])
    for dep in ("grpcio", "grpcio-health-checking", "protobuf", "numpy", "mypy", "pytest-asyncio"):
        assert dep in requires, dep
    files = {str(f) for f in importlib.metadata.files("dpq-client") or []}
    assert "dpq_client/py.typed" in files
    assert "dpq_client/_proto/dpq/v1/search_pb2.pyi" in files
    assert "dpq_client/aio.py" in files


def test_server_serves_the_client_api(client: Client) -> None:
    assert client.server_info().api_version == dpq_client.API_VERSION
