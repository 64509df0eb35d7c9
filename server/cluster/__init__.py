"""The server nodes as one cluster, in the database they share: which sockets are live on
which node, the nodes' heartbeats and the per-person limit (presence), and what a transaction
tells every node at its commit (notify: a session ended, a person gone, a couple linked,
presence changed). The socket (``server.sync``) acts on both; accounts and the couple only
write them."""
