"""Session fixtures: the real DPQ server binary on an ephemeral loopback port, and clients."""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dpq_client import Client

REPO = Path(__file__).resolve().parents[3]
DEFAULT_BIN = REPO / ".build" / "debug" / "dpq"
START_TIMEOUT = 60.0

# A small model: 16 -> 32 -> D 8, M = 3 blocks of K = 16 (bits 4, 8, 12). Training takes well under a
# second. (With the default learning rate 1e-3, 2 + 3 epochs of 64-row batches leave the classifier
# near chance on 240 rows and same-cluster search depends on the data seed; lr 0.01 and a few more
# epochs learn the clusters every time.)
SMALL_MODEL = dict(blocks=3, codebook_size=16, feature_dimension=8, hidden_sizes=[32])
QUICK_TRAINING = dict(epochs=10, pretrain_epochs=5, batch_size=32, learning_rate=0.01, kmeans_iterations=4, seed=7)


@dataclass
class Server:
    address: str
    data_dir: str
    process: subprocess.Popen


def _server_bin() -> Path:
    path = Path(os.environ.get("DPQ_SERVER_BIN", str(DEFAULT_BIN)))
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"DPQ server binary not found or not executable: {path} "
                    f"(build it with `swift build` at the repository root, or set DPQ_SERVER_BIN)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    yield from running_server()


def running_server() -> Iterator[Server]:
    """Starts `dpq serve` on a free port with a fresh data folder; stops it (SIGTERM) when resumed."""
    binary = _server_bin()
    data_dir = tempfile.mkdtemp(prefix="dpq-pytest-")
    log_path = os.path.join(data_dir, "server.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(binary), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", os.path.join(data_dir, "data")],
        stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    address = None
    seen = b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while address is None and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if not sel.select(timeout=0.2):
                continue
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
            m = re.search(rb"listening on (\S+:\d+)", line)
            if m:
                address = m.group(1).decode()
    finally:
        sel.close()
    if address is None:
        proc.kill()
        proc.wait()
        log.close()
        with open(log_path, "rb") as f:
            err = f.read().decode(errors="replace")[-4000:]
        shutil.rmtree(data_dir, ignore_errors=True)
        pytest.fail(f"DPQ server {binary} did not report 'listening on' within {START_TIMEOUT:.0f}s "
                    f"(exit code {proc.returncode}).\nstdout: {seen.decode(errors='replace')}\nstderr: {err}",
                    pytrace=False)

    # Keep draining stdout so the server never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in iter(proc.stdout.readline, b"")], daemon=True).start()
    try:
        yield Server(address=address, data_dir=data_dir, process=proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[Client]:
    with Client(server.address, timeout=60.0) as c:
        yield c


def clusters(n: int, classes: int = 4, dim: int = 16, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Labelled Gaussian clusters: row i in class i % classes (fixed centres, noise seeded)."""
    centres = np.random.default_rng(99).normal(size=(classes, dim)) * 3
    labels = np.arange(n) % classes
    noise = np.random.default_rng(seed).normal(size=(n, dim))
    return (centres[labels] + noise).astype(np.float32), labels.astype(np.uint32)


@pytest.fixture(scope="session")
def trained(client: Client) -> str:
    """A READY supervised collection of 200 clustered items (keep_vectors on)."""
    name = "clusters"
    client.create_collection(name, dim=16, num_classes=4, keep_vectors=True, **SMALL_MODEL)
    x, y = clusters(240, seed=2)
    final = client.train(name, x, y, chunk_rows=100, **QUICK_TRAINING)
    assert final.state == "SUCCEEDED"
    db, dy = clusters(200, seed=3)
    client.upsert_stream(name, ids=list(range(200)), vectors=db, labels=dy, batch_size=64)
    return name
