"""The README's Python examples run, in order and in one namespace, against the test server (the
address "127.0.0.1:50051" in them is replaced by the server's)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from dpq_client import Client

from conftest import Server

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_examples_run(server: Server, client: Client) -> None:
    blocks = python_blocks(README.read_text())
    assert len(blocks) >= 3
    quick_start = blocks[0].strip().splitlines()
    assert len(quick_start) <= 12, "the quick start stays a ~10-line example"
    before = {c.name for c in client.list_collections()}
    namespace: dict[str, object] = {"__name__": "readme"}
    out = io.StringIO()
    try:
        for i, block in enumerate(blocks):
            code = compile(block.replace("127.0.0.1:50051", server.address), f"README.md[python block {i}]", "exec")
            with contextlib.redirect_stdout(out):
                exec(code, namespace)
    finally:
        for c in client.list_collections():
            if c.name not in before:
                client.delete_collection(c.name)
    printed = out.getvalue()
    assert "NOT_FOUND" in printed  # the tour's error example
    hits = namespace["hits"]
    assert isinstance(hits, list) and len(hits) == 3 and all(len(h) == 5 for h in hits)
