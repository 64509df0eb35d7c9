"""Work that falls due at an instant: what is planned when (``plan``), who is told what
(``audience``, by the kinds of ``push.kinds``), what a claimed batch of due rows comes to
(``decide``, pure), doing it (``run``), and every node's clock for it (``scheduler``)."""
