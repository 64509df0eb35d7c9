"""The /v1/sync socket, the per-node registry of sockets, and fan-out across nodes."""
