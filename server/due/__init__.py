"""Work that falls due at an instant: what is planned when (``plan``), who is told what
(``audience``), doing a claimed batch of due rows (``work``), and every node's clock for it
(``scheduler``)."""
