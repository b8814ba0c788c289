from dpq_client import Client


def test_health_and_server_info(client: Client) -> None:
    assert client.health() == "SERVING"
    info = client.server_info()
    assert info.api_version == "dpq.v1"
    assert "dpq.v1.SearchService" in info.services and "grpc.health.v1.Health" in info.services
    assert info.limits["max_batch_rows"] > 0 and info.limits["max_k"] > 0


def test_client_is_a_context_manager(server) -> None:
    with Client(server.address, timeout=10) as c:
        assert c.health() == "SERVING"
