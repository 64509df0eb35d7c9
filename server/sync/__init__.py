"""The ``/v1/sync`` socket: its rules with no I/O (protocol) and the Litestar adapter doing
what they ask (socket); this node's sockets by couple and the fan-out of committed events to
them (hub, subscriber, fanout), the one LISTEN connection that hears other nodes' commits
(listener), and this process as one node of many (node)."""
