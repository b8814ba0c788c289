"""Generated protobuf/gRPC stubs of dpq.v1 (see generate.sh)."""
