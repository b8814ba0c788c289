"""A client of several servers: calls spread round robin, and keep succeeding when one server stops."""
import time

import grpc
import pytest

from dpq_client import Client, DPQError

from conftest import Server, running_server


def test_calls_spread_and_survive_a_stopped_server(server: Server) -> None:
    second = running_server()
    other = next(second)
    try:
        with Client(server.address) as first:
            first.create_collection("only-on-first", dim=4)
        with Client(f"{server.address},{other.address}", timeout=20) as both:
            def spread(calls: int, until: float) -> tuple[int, int]:
                found = missing = 0
                while (calls and found + missing < calls) or (not calls and (found == 0 or missing == 0) and time.monotonic() < until):
                    try:
                        both.get_collection("only-on-first")
                        found += 1
                    except DPQError as e:
                        assert e.code == grpc.StatusCode.NOT_FOUND
                        missing += 1
                    if not calls:
                        time.sleep(0.02)
                return found, missing
            # Round robin picks among connected servers; on a loaded machine the second may take
            # a moment to connect, so call until both have answered (at most 60 s) ...
            found, missing = spread(0, time.monotonic() + 60)
            assert found > 0 and missing > 0, (found, missing)
            # ... and then calls alternate.
            found, missing = spread(20, 0)
            assert found >= 5 and missing >= 5, (found, missing)
            next(second, None)   # stops the second server
            for _ in range(20):
                both.get_collection("only-on-first")
    finally:
        next(second, None)
    with Client(server.address) as first:
        first.delete_collection("only-on-first")


@pytest.mark.parametrize("bad", ["127.0.0.1:1,localhost:2", "127.0.0.1:1,127.0.0.1", "127.0.0.1:1,::1:2"])
def test_bad_address_lists(bad: str) -> None:
    with pytest.raises(ValueError):
        Client(bad)
