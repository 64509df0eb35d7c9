"""Due work: every node's clock for it (``scheduler``), a claimed batch of due rows decided
(``decide``, pure, with who is told what: ``audience``, by the kinds of ``push.kinds``) and
done (``run``), and a node's other sending processes (``senders``). The rows themselves, and
when each falls due, are ``server.due_rows``."""
