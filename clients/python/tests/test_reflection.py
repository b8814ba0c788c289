"""Server reflection as stock gRPC tooling uses it: grpcio-reflection's ProtoReflectionDescriptorDatabase
(which speaks grpc.reflection.v1alpha) builds a descriptor pool from the server alone, no .proto files and
no generated code, and a method is called through message classes made from that pool."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from conftest import Server


def _unary(channel: grpc.Channel, pool: DescriptorPool, service: str, method: str):  # type: ignore[no-untyped-def]
    m = pool.FindServiceByName(service).FindMethodByName(method)
    request = message_factory.GetMessageClass(m.input_type)
    response = message_factory.GetMessageClass(m.output_type)
    call = channel.unary_unary(f"/{service}/{method}", request_serializer=request.SerializeToString,
                               response_deserializer=response.FromString)
    return request, call


def test_descriptor_pool_from_v1alpha_reflection(server: Server) -> None:
    with grpc.insecure_channel(server.address) as channel:
        db = ProtoReflectionDescriptorDatabase(channel)
        services = set(db.get_services())
        assert {"dpq.v1.CollectionService", "dpq.v1.SearchService", "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection"} <= services
        pool = DescriptorPool(db)

        request, call = _unary(channel, pool, "dpq.v1.ServerInfoService", "GetServerInfo")
        info = call(request(), timeout=30)
        assert info.DESCRIPTOR.full_name == "dpq.v1.GetServerInfoResponse"
        assert info.api_version == "dpq.v1"
        assert "grpc.reflection.v1alpha.ServerReflection" in info.services

        # A request with fields set by name, and the server's error for it.
        request, call = _unary(channel, pool, "dpq.v1.CollectionService", "GetCollection")
        with pytest.raises(grpc.RpcError) as e:
            call(request(name="no-such-collection"), timeout=30)
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
        assert "no-such-collection" in (e.value.details() or "")
