"""Exceptions raised by the DPQ client."""

from __future__ import annotations

from typing import Any, Optional

import grpc


class DPQError(Exception):
    """A failed DPQ call: the gRPC status code and the server's message.

    Every ``grpc.RpcError`` raised by a call is converted into a ``DPQError`` (the original error is
    chained as ``__cause__``).
    """

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code: grpc.StatusCode = code
        self.details: str = details

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "DPQError":
        """The status of a failed call: ``grpc.RpcError`` raised by a blocking call is also a
        ``grpc.Call``, ``grpc.aio.AioRpcError`` has the same ``code()`` / ``details()``."""
        code: Optional[grpc.StatusCode] = None
        details: Optional[str] = None
        code_of, details_of = getattr(error, "code", None), getattr(error, "details", None)
        try:
            if callable(code_of):
                code = code_of()
            if callable(details_of):
                details = details_of()
        except Exception:  # pragma: no cover - defensive
            pass
        return cls(code or grpc.StatusCode.UNKNOWN, details or str(error))


class TrainingFailedError(DPQError):
    """Raised by :meth:`dpq_client.Client.train` when the job ends FAILED (code ABORTED) or CANCELLED
    (code CANCELLED). ``progress`` is the job's final snapshot."""

    def __init__(self, code: grpc.StatusCode, details: str, progress: Any) -> None:
        super().__init__(code, details)
        self.progress = progress
