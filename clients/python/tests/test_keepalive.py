"""Keepalive (issue 17): the settings grpcio and grpc-go clients commonly use - a ping every 10 s,
allowed without calls in flight, no cap on pings without data - keep a connection open.

keepalive_probe.py (a child process, so gRPC's keepalive tracers can be on) holds two connections for
IDLE_SECONDS (> 3 ping intervals): one idle after a first call, one with a quiet call in flight (an
UploadTrainingData client stream that sends nothing in between). The test asserts, per connection:
the pings were really sent and acknowledged (from gRPC's http_keepalive / http2_ping trace), the
channel never left READY once connected (a GOAWAY such as ENHANCE_YOUR_CALM "too_many_pings", or a
closed connection, shows up as a transition to IDLE / TRANSIENT_FAILURE), the call in flight then
completes OK, and a call at the end succeeds. Runs in the normal suite: ~37 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from dpq_client import Client

from conftest import Server

IDLE_SECONDS = 35
PROBE = Path(__file__).with_name("keepalive_probe.py")


def test_keepalive_pings_keep_idle_and_busy_connections_open(server: Server, client: Client) -> None:
    name = "keepalive"
    client.create_collection(name, dim=4)
    try:
        env = dict(os.environ, GRPC_TRACE="http_keepalive,http2_ping", GRPC_VERBOSITY="debug")
        with tempfile.TemporaryFile("w+") as trace:
            probe = subprocess.run([sys.executable, str(PROBE), server.address, name, str(IDLE_SECONDS)],
                                   stdout=subprocess.PIPE, stderr=trace, text=True, env=env,
                                   timeout=IDLE_SECONDS + 60)
            trace.seek(0)
            stderr = trace.read()
        assert probe.returncode == 0, f"probe failed:\n{probe.stdout}\n{stderr[-4000:]}"
        assert client.list_training_data(name) == {"keepalive": 8}
    finally:
        client.delete_collection(name, allow_missing=True)

    report = json.loads(probe.stdout.strip().splitlines()[-1])
    print(f"\nkeepalive probe: {report}")
    for channel, states in report["states"].items():
        names = [s for _, s in states]
        assert "READY" in names, f"{channel} channel never connected: {states}"
        assert set(names[names.index("READY"):]) == {"READY"}, f"{channel} channel left READY: {states}"
    assert report["stream_in_flight"], report
    assert report["stream_result"] == {"rows_received": 8}, report
    assert report["idle_last_call"] == report["busy_last_call"] == "SERVING"

    # The pings really went out and came back on both connections (not a vacuous pass because, say,
    # keepalive was off): >= 3 acknowledged pings per connection, >= 3 keepalive rounds each.
    acks = Counter(re.findall(r"(CLIENT\[0x[0-9a-f]+\]): received ping ack", stderr))
    keepalive_rounds = len(re.findall(r"Finish keepalive ping", stderr))
    print(f"ping acks per connection: {dict(acks)}; keepalive pings finished: {keepalive_rounds}")
    assert len(acks) == 2 and min(acks.values()) >= 3, \
        f"expected 2 connections with >= 3 acknowledged pings each (GRPC_TRACE output): {dict(acks)}"
    assert keepalive_rounds >= 2 * (IDLE_SECONDS // 10), keepalive_rounds
