"""What is held about a person, and for how long: ``/v1/me`` read, changed, exported (export)
or erased (erasure, which also erases a former couple on its day), the safety exit in one
step (leaving), and how long records are kept once nothing needs them (retention). Above the
accounts, the couple, its log and practices, which an erasure or a leaving reaches."""
