"""The HTTP side of a node, knowing nothing of couples: headers read from the scope, which
origins may use the API (CORS, the socket's Origin check), the browser policy's headers, the
outermost layer that logs and counts every request, OPTIONS, the built web app, liveness and
readiness; and what every route is written with: the dependencies the plumbing provides
(deps), the per-address budgets (address_budgets) and their guards (address_guards), how a
route documents its failures (problems), and query parameters with bounds (params)."""
