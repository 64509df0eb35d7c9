"""The couple's log, the one writer of events and ``head``: an op's way on this node (runner:
its person's budget, then the batcher), group commit (batcher), the engine applying the
practices' rules (engine, given them as slices; claims, working, write_back), reading the log
(events), and the words an edit took back (scrub, forget)."""
