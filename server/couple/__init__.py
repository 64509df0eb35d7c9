"""The couple: how two accounts become one and stop being one (linking: invites, accepting,
the shared settings, unlinking), the state a phone draws its home screen from (state), the SQL
of couples and partners (couples_sql), and their routes: linking's, and the shared state's
(ops into the log, the state, the log's events, readings and check-ins)."""
