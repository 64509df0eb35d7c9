"""The private growth log, each person's own and never their partner's: which local day an
entry belongs to and the weekly trajectory (entries), its SQL (entries_sql) and its routes.
Its wire contract is ``schemas.growth``."""
