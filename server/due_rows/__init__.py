"""The due rows: when each falls due, planned as pure functions of the shared state (plan:
reminders, alerts, a former couple's erasure), and their SQL with the record of what was
sent (store). Below the log, whose batches plan them; due work (``server.due``) does them."""
