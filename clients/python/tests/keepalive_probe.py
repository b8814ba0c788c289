"""Run by test_keepalive.py in a child process, so gRPC's keepalive tracers can be switched on
(GRPC_TRACE is read when grpc starts). Usage: keepalive_probe.py ADDRESS COLLECTION SECONDS.

Opens two connections with the common client keepalive settings. "idle" makes one call and then none;
"busy" keeps a call in flight the whole time: an UploadTrainingData client stream into COLLECTION
that sends its first chunk, stays quiet for SECONDS, then sends a second chunk and ends. The
connectivity states of both channels are recorded from the start. After SECONDS the probe makes one
call on each connection, ends the stream, and prints a JSON report as its last stdout line.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator

import grpc
import numpy as np

from dpq_client import Client
from dpq_client._proto.dpq.v1 import common_pb2, training_pb2, training_pb2_grpc

KEEPALIVE_OPTIONS = [
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # A subchannel pool of its own: channels with equal arguments would otherwise share a connection.
    ("grpc.use_local_subchannel_pool", 1),
]


def main() -> None:
    address, collection, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    start = time.monotonic()
    states: dict[str, list[tuple[float, str]]] = {"idle": [], "busy": []}
    lock = threading.Lock()

    def recorder(name: str):  # type: ignore[no-untyped-def]
        def on_state(state: grpc.ChannelConnectivity) -> None:
            with lock:
                states[name].append((round(time.monotonic() - start, 2), state.name))
        return on_state

    channels = {}
    for name in ("idle", "busy"):
        channels[name] = grpc.insecure_channel(address, options=KEEPALIVE_OPTIONS)
        channels[name].subscribe(recorder(name), try_to_connect=True)
    idle = Client(address, channel=channels["idle"], timeout=10)
    busy = Client(address, channel=channels["busy"], timeout=10)

    rows = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    release = threading.Event()
    stream_result: dict[str, object] = {}

    def chunks() -> Iterator[training_pb2.UploadTrainingDataRequest]:
        dense = common_pb2.DenseVectors(dimension=4, values=rows[:4].ravel().tolist())
        yield training_pb2.UploadTrainingDataRequest(collection=collection, dataset="keepalive", vectors=dense)
        release.wait()
        yield training_pb2.UploadTrainingDataRequest(
            vectors=common_pb2.DenseVectors(dimension=4, values=rows[4:].ravel().tolist()))

    def upload() -> None:
        try:
            r = training_pb2_grpc.TrainingServiceStub(channels["busy"]).UploadTrainingData(chunks())
            stream_result["rows_received"] = r.rows_received
        except grpc.RpcError as e:
            stream_result["error"] = f"{e.code().name}: {e.details()}"

    report: dict[str, object] = {"idle_first_call": idle.health()}
    uploader = threading.Thread(target=upload, daemon=True)
    uploader.start()
    time.sleep(seconds)
    report["stream_in_flight"] = uploader.is_alive()
    report["idle_last_call"] = idle.health()
    report["busy_last_call"] = busy.health()
    with lock:
        report["states"] = {k: list(v) for k, v in states.items()}
    release.set()
    uploader.join(timeout=20)
    report["stream_result"] = stream_result
    report["seconds"] = round(time.monotonic() - start, 2)
    idle.close()
    busy.close()
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
